r"""Spectra of atomic laws and the unevaluated spectral mean.

A population spectrum with ``10^6`` numeric atoms must never be expanded into
a sympy ``Add`` of a million terms.  Instead transforms of atomic laws are
written with :class:`SpectralMean`, the node

.. math:: \langle f \rangle = \sum_k p_k\, f(\eta_k), \qquad \sum_k p_k = 1,

which stays unevaluated, differentiates and substitutes through its summand,
prints as a sum in LaTeX, and is evaluated vectorized in chunks by
:mod:`freeprob.numeric.compile` (the only place numeric evaluators are built).

Three kinds of spectrum exist:

* :class:`ExactSpectrum` -- a handful of atoms kept as sympy numbers or
  symbols (exact algebra, ``doit()`` expands the sum);
* :class:`ArraySpectrum` -- numeric atoms held as float64 arrays, hashed by
  content;
* :class:`PowerLawSpectrum` -- ``eta_k = k^{-alpha}``, ``k = 1..n`` with
  weights ``k^{-beta}/Z`` (equal weights for ``beta = 0``); ``n`` and
  ``alpha`` may be symbols and the sum stays a ``Sum``; numerically, ``n``
  may be as large as ``10^12`` or infinite (:mod:`freeprob.numeric.powersum`).
"""

from __future__ import annotations

import hashlib

import numpy as np
import sympy as sp

from freeprob.numeric.cache import cached

__all__ = ["SpectralMean", "ExactSpectrum", "ArraySpectrum", "PowerLawSpectrum", "absorb_means", "absorb_sums"]

_MAX_POWERLAW_ATOMS = 10**8


class AbstractSpectrum(sp.Basic):
    """Interface shared by the three spectrum kinds."""

    @property
    def size(self) -> sp.Expr:  # number of atoms
        raise NotImplementedError

    def numeric_atoms(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(values, weights) as float64 arrays; weights ``None`` means equal."""
        raise NotImplementedError

    def mp_atoms(self):
        """(values, weights) as lists of mpmath numbers at the current precision."""
        raise NotImplementedError

    def explicit_sum(self, summand: sp.Expr, var: sp.Symbol) -> sp.Expr:
        raise NotImplementedError

    def latex_sum(self, printer, summand: sp.Expr, var: sp.Symbol) -> str:
        raise NotImplementedError


class ExactSpectrum(AbstractSpectrum):
    """A few atoms with exact (sympy) values and weights."""

    def __new__(cls, values, weights):
        return sp.Basic.__new__(cls, sp.Tuple(*values), sp.Tuple(*weights))

    @property
    def values(self):
        return self.args[0]

    @property
    def weights(self):
        return self.args[1]

    @property
    def size(self):
        return sp.Integer(len(self.args[0]))

    def numeric_atoms(self):
        return _exact_numeric_atoms(self)

    def mp_atoms(self):
        import mpmath

        vals = [mpmath.mpmathify(sp.N(v, mpmath.mp.dps + 5)) for v in self.values]
        wts = [mpmath.mpmathify(sp.N(p, mpmath.mp.dps + 5)) for p in self.weights]
        return vals, wts

    def explicit_sum(self, summand, var):
        return sp.Add(*[p * summand.subs(var, v) for v, p in zip(self.values, self.weights)])

    def latex_sum(self, printer, summand, var):
        eta = sp.Symbol(r"\eta_k")
        body = printer._print(summand.subs(var, eta))
        return r"\sum_{k=1}^{%d} p_k \left(%s\right)" % (len(self.values), body)

    def _sympystr(self, printer):
        return "atoms(%s)" % ", ".join(f"{v}:{p}" for v, p in zip(self.values, self.weights))


@cached(maxsize=64)
def _exact_numeric_atoms(spec: ExactSpectrum):
    try:
        vals = np.array([float(v) for v in spec.values], dtype=float)
        wts = np.array([float(p) for p in spec.weights], dtype=float)
    except TypeError:
        from freeprob.errors import ParameterError

        raise ParameterError("values", spec.values, "numbers", "substitute symbolic atoms first") from None
    return vals, wts


class ArraySpectrum(sp.Atom):
    """Numeric atoms held as float64 arrays, hashed by their bytes."""

    def __new__(cls, values: np.ndarray, weights: np.ndarray | None):
        obj = sp.Atom.__new__(cls)
        vals = np.ascontiguousarray(values, dtype=float)
        vals.setflags(write=False)
        h = hashlib.sha1(vals.tobytes())
        if weights is not None:
            wts = np.ascontiguousarray(weights, dtype=float)
            wts.setflags(write=False)
            h.update(b"w" + wts.tobytes())
        else:
            wts = None
        obj._values = vals
        obj._weights = wts
        obj._digest = h.hexdigest()
        return obj

    def _hashable_content(self):
        return (self._digest,)

    def __getnewargs__(self):
        return (self._values, self._weights)

    @property
    def size(self):
        return sp.Integer(self._values.size)

    def numeric_atoms(self):
        return self._values, self._weights

    def mp_atoms(self):
        import mpmath

        vals = [mpmath.mpf(float(v)) for v in self._values]
        if self._weights is None:
            n = len(vals)
            wts = [mpmath.mpf(1) / n] * n
        else:
            wts = [mpmath.mpf(float(p)) for p in self._weights]
        return vals, wts

    def explicit_sum(self, summand, var):
        vals, wts = self.numeric_atoms()
        if wts is None:
            wts = np.full(vals.size, 1.0 / vals.size)
        return sp.Add(*[sp.Float(p) * summand.subs(var, sp.Float(v)) for v, p in zip(vals, wts)])

    def latex_sum(self, printer, summand, var):
        eta = sp.Symbol(r"\eta_k")
        body = printer._print(summand.subs(var, eta))
        n = self._values.size
        if self._weights is None:
            return r"\frac{1}{%d}\sum_{k=1}^{%d} %s" % (n, n, _paren(body))
        return r"\sum_{k=1}^{%d} p_k %s" % (n, _paren(body))

    def _sympystr(self, printer):
        return f"spectrum[{self._values.size} atoms, {self._digest[:8]}]"


class PowerLawSpectrum(AbstractSpectrum):
    r"""``eta_k = k^{-alpha}``, ``k = 1..n``, weights ``p_k = k^{-beta}/Z`` [C12].

    ``Z = sum_{k <= n} k^{-beta}`` (so ``beta = 0`` is the uniform law,
    ``p_k = 1/n``); for ``n = oo`` with ``beta <= 1`` the sum diverges and
    ``Z = 1``: the mean is then the unnormalized kernel sum [C16].  Numeric
    means beyond :data:`~freeprob.numeric.powersum.ATOM_LIMIT` atoms use the
    exact head plus Euler-Maclaurin tail of :mod:`freeprob.numeric.powersum`.
    """

    def __new__(cls, alpha, n, beta=0):
        beta = sp.sympify(beta)
        if beta == 0:  # the uniform law keeps its two-argument form
            return sp.Basic.__new__(cls, sp.sympify(alpha), sp.sympify(n))
        return sp.Basic.__new__(cls, sp.sympify(alpha), sp.sympify(n), beta)

    @property
    def alpha(self):
        return self.args[0]

    @property
    def n(self):
        return self.args[1]

    @property
    def beta(self):
        return self.args[2] if len(self.args) > 2 else sp.Integer(0)

    @property
    def size(self):
        return self.n

    def uses_sums(self) -> bool:
        """True when numeric means take the Euler-Maclaurin route (``n`` above
        the atom limit, or infinite)."""
        from freeprob.numeric.powersum import ATOM_LIMIT

        self._require_numbers()
        return self.n is sp.oo or int(self.n) > ATOM_LIMIT

    def _require_numbers(self):
        from freeprob.errors import ParameterError

        if not (self.alpha.is_number and self.n.is_number):
            raise ParameterError(
                "PowerLaw", (self.alpha, self.n), "numeric alpha and n",
                "substitute numbers for the symbols before numeric evaluation",
            )
        if not self.beta.is_number:
            # weights k^-beta: a source target's exponent r enters beta [C12]
            raise ParameterError(
                "target", f"weights k^-({self.beta})", "numeric exponents",
                "give the target's exponent (SourceTarget(r)) a number before numeric evaluation",
            )

    def numeric_atoms(self):
        from freeprob.errors import ParameterError

        self._require_numbers()
        if self.n is sp.oo or int(self.n) > _MAX_POWERLAW_ATOMS:
            raise ParameterError("n", self.n, f"[1, {_MAX_POWERLAW_ATOMS}] for a list of atoms",
                                 "spectral means of larger power laws are evaluated by compile_expr")
        vals = _powerlaw_atoms(float(self.alpha), int(self.n))
        if self.beta == 0:
            return vals, None
        w = np.arange(1, vals.size + 1, dtype=float) ** (-float(self.beta))
        return vals, w / w.sum()

    def mp_atoms(self):
        import mpmath

        n = int(self.n)
        a = mpmath.mpmathify(sp.N(self.alpha, mpmath.mp.dps + 5))
        b = mpmath.mpmathify(sp.N(self.beta, mpmath.mp.dps + 5))
        vals = [mpmath.mpf(k) ** (-a) for k in range(1, n + 1)]
        w = [mpmath.mpf(k) ** (-b) for k in range(1, n + 1)]
        z = mpmath.fsum(w)
        return vals, [v / z for v in w]

    def _weight_norm(self, k):
        if self.beta == 0:
            return 1, self.n
        return k ** (-self.beta), sp.Sum(k ** (-self.beta), (k, 1, self.n))

    def explicit_sum(self, summand, var):
        k = sp.Dummy("k", integer=True, positive=True)
        w, z = self._weight_norm(k)
        s = sp.Sum(w * summand.subs(var, k ** (-self.alpha)), (k, 1, self.n)) / z
        return s.doit() if self.n.is_number and self.n <= 64 else s

    def latex_sum(self, printer, summand, var):
        k = sp.Symbol("k")
        body = printer._print(summand.subs(var, k ** (-self.alpha)))
        n = printer._print(self.n)
        if self.beta != 0:
            return r"\frac{\sum_{k=1}^{%s} k^{-%s} %s}{\sum_{k=1}^{%s} k^{-%s}}" % (
                n, printer._print(self.beta), _paren(body), n, printer._print(self.beta))
        if self.n is sp.oo:
            return r"\sum_{k=1}^{\infty} %s" % _paren(body)
        return r"\frac{1}{%s}\sum_{k=1}^{%s} %s" % (n, n, _paren(body))


@cached(maxsize=8)
def _powerlaw_atoms(alpha: float, n: int) -> np.ndarray:
    vals = np.arange(1, n + 1, dtype=float) ** (-alpha)
    vals.setflags(write=False)
    return vals


def _paren(body: str) -> str:
    return r"\left(%s\right)" % body


class SpectralMean(sp.Expr):
    r"""Unevaluated spectral mean ``sum_k p_k f(eta_k)`` of ``summand`` in ``var``.

    >>> import sympy as sp
    >>> from freeprob.numeric.spectrum import SpectralMean, ExactSpectrum
    >>> x, lam = sp.Dummy("x"), sp.Symbol("lambda", positive=True)
    >>> m = SpectralMean(x/(x + lam), x, ExactSpectrum([1, 3], [sp.S.Half, sp.S.Half]))
    >>> sp.simplify(m.doit().subs(lam, 1))
    5/8
    >>> sp.diff(m, lam).doit().subs(lam, 1)
    -7/32
    """

    is_commutative = True

    def __new__(cls, summand, var, spectrum):
        summand = sp.sympify(summand)
        if not summand.has(var):
            return summand  # weights sum to one
        return sp.Expr.__new__(cls, summand, var, spectrum)

    @property
    def summand(self):
        return self.args[0]

    @property
    def var(self):
        return self.args[1]

    @property
    def spectrum(self):
        return self.args[2]

    @property
    def free_symbols(self):
        return (self.summand.free_symbols - {self.var}) | self.spectrum.free_symbols

    def _eval_derivative(self, s):
        if s in self.spectrum.free_symbols:
            return sp.Derivative(self.doit(), s)
        return SpectralMean(sp.diff(self.summand, s), self.var, self.spectrum)

    def _eval_subs(self, old, new):
        if old == self.var:
            return self
        return None

    def doit(self, **hints):
        summand = self.summand.doit(**hints) if hints.get("deep", True) else self.summand
        return self.spectrum.explicit_sum(summand, self.var)

    def _latex(self, printer):
        return self.spectrum.latex_sum(printer, self.summand, self.var)

    def _sympystr(self, printer):
        return "SpectralMean(%s, %s, %s)" % (
            printer._print(self.summand), printer._print(self.var), printer._print(self.spectrum))


def absorb_means(expr: sp.Expr) -> sp.Expr:
    r"""Rewrite ``c + a <f>`` as ``<c + a f>`` (weights sum to one) and cancel.

    This turns ``1 + lam <1/(-lam - x)>`` into ``<x/(x + lam)>``: the same
    number, but without the catastrophic cancellation of ``1 - lam <...>`` at
    large ``lam``.  Expressions that are not affine in a single kind of spectral
    mean are returned unchanged.

    >>> import sympy as sp
    >>> from freeprob.numeric.spectrum import SpectralMean, ExactSpectrum, absorb_means
    >>> x, lam = sp.Dummy("x"), sp.Symbol("lambda", positive=True)
    >>> spec = ExactSpectrum([1, 3], [sp.S.Half, sp.S.Half])
    >>> absorb_means(1 + lam*SpectralMean(1/(-lam - x), x, spec)).summand
    _x/(_x + lambda)
    """
    means = expr.atoms(SpectralMean)
    if not means:
        return expr
    keys = {(m.var, m.spectrum) for m in means}
    if len(keys) != 1:
        return expr
    var, spectrum = next(iter(keys))
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr, deep=False, mul=True, multinomial=False,
                                           power_exp=False, power_base=False, log=False)):
        coeff, rest = term.as_independent(SpectralMean, as_Add=False)
        if rest == 1:
            total += coeff
        elif isinstance(rest, SpectralMean):
            total += coeff * rest.summand
        else:
            return expr
    return SpectralMean(sp.factor(sp.cancel(total)), var, spectrum)


def _affine_term(term) -> bool:
    """A term ``c`` or ``c <f>`` with ``c`` free of means (checked without expanding)."""
    _, rest = term.as_independent(SpectralMean, as_Add=False)
    return rest == 1 or isinstance(rest, SpectralMean)


def absorb_sums(expr: sp.Expr) -> sp.Expr:
    r"""Apply :func:`absorb_means` to every sum inside ``expr`` that is affine
    in the means of one spectrum, innermost first.

    ``1 - q <x^2/(x + k)^2>`` at ``q = 1 + e`` becomes the single mean
    ``<(k (2x + k) - e x^2)/(x + k)^2>``, which keeps its digits where
    ``1 - gamma`` would round to 0 (``q = 1``, ``k -> 0``).

    >>> import sympy as sp
    >>> x, k, e = sp.Dummy("x"), sp.Symbol("kappa", positive=True), sp.Symbol("e")
    >>> spec = ExactSpectrum([1, 3], [sp.S.Half, sp.S.Half])
    >>> absorb_sums(2/(1 - (1 + e)*SpectralMean(x/(x + k), x, spec)))
    2/SpectralMean(-_x*e/(_x + kappa) + kappa/(_x + kappa), _x, atoms(1:1/2, 3:1/2))

    The affine terms of a sum are absorbed also when the sum has others
    (``1 - <f>/phi + s/<g>`` of a two-layer random-feature map):

    >>> m = SpectralMean(x/(x + k), x, spec)
    >>> absorb_sums(1 - m + e/m)
    e/SpectralMean(_x/(_x + kappa), _x, atoms(1:1/2, 3:1/2)) + SpectralMean(kappa/(_x + kappa), _x, atoms(1:1/2, 3:1/2))
    """
    return _absorb(sp.sympify(expr), {})


def _absorb(expr, memo):
    """:func:`absorb_sums` with a memo: the maps of a deep chain repeat the
    same factor sums many times (the derivative of a product)."""
    if not expr.args or not expr.has(SpectralMean) or isinstance(expr, SpectralMean):
        return expr
    if expr in memo:
        return memo[expr]
    args = [_absorb(a, memo) for a in expr.args]
    new = expr.func(*args) if args != list(expr.args) else expr
    out = _absorb_powers(new) if new.is_Mul else new
    affine = [t for t in new.args if _affine_term(t)] if new.is_Add else []
    if len(affine) >= 2 and any(t.has(SpectralMean) for t in affine):
        # relative to the first mean's coefficient c, the terms whose ratio to
        # c is free of the means' parameters go inside <...> and c stays
        # outside: kappa_2 <f> - sigma_xi^2 is left alone (kappa_2 inside the
        # summand overflows at 1e200, sigma_xi^2/kappa_2 at 1e-200), while
        # 1 - (1 + e)<f> and (<f> - <g>)/kappa become one mean, where the
        # cancellation happens symbolically; terms that are not affine in the
        # means (1 - <f>/phi + s/<g> of a deep chain) stay outside too
        params = set().union(*(m.free_symbols for m in new.atoms(SpectralMean)))
        coeffs = [t.as_independent(SpectralMean, as_Add=False)[0] for t in affine]
        ref = sp.S.One if not set().union(*(c.free_symbols for c in coeffs)) & params else \
            next(c for c, t in zip(coeffs, affine) if t.has(SpectralMean))
        inside = [t for t in affine if not ((t / ref).as_independent(SpectralMean, as_Add=False)[0].free_symbols
                                            & params)]
        if len(inside) >= 2:
            outside = [t for t in new.args if t not in inside]
            out = ref * _absorb_add(sp.Add(*[t / ref for t in inside])) + sp.Add(*outside)
    memo[expr] = out
    return out


def absorb_powers(expr: sp.Expr) -> sp.Expr:
    r"""Apply :func:`_absorb_powers` to every product in ``expr``: the part of
    :func:`absorb_sums` that holds for sums that are not means (the kernel
    sums of [C16], whose weights do not sum to one), since it is linear.

    >>> import sympy as sp
    >>> x, k = sp.Dummy("x"), sp.Symbol("kappa", positive=True)
    >>> spec = ExactSpectrum([1, 3], [sp.S.Half, sp.S.Half])
    >>> absorb_powers(k**2*SpectralMean(x/(x + k)**2, x, spec)).summand
    _x*kappa**2/(_x + kappa)**2
    """
    expr = sp.sympify(expr)
    if not expr.args or not expr.has(SpectralMean) or isinstance(expr, SpectralMean):
        return expr
    new = expr.func(*[absorb_powers(a) for a in expr.args])
    return _absorb_powers(new) if new.is_Mul else new


def _absorb_powers(mul):
    r"""Move ``s^n`` into the one mean of a product when the summand's
    denominator has degree ``>= n`` in ``s``: ``kappa^2 <x/(x + kappa)^2>``
    becomes ``<kappa^2 x/(x + kappa)^2>``, which the compiler pairs into ``x
    (kappa/(x + kappa))^2`` (finite at ``kappa = 1e200``, where ``kappa^2``
    overflows and the bare mean underflows: inf * 0)."""
    means = [f for f in mul.args if isinstance(f, SpectralMean)]
    if len(means) != 1:
        return mul
    (mean,) = means
    den = sp.fraction(sp.together(mean.summand))[1]
    inside, outside = [], []
    for f in mul.args:
        base, n = f.as_base_exp()
        if (f is not mean and base.is_Symbol and base in mean.free_symbols and n.is_Integer and n > 0
                and sp.degree(den, base) >= n):
            inside.append(f)
        elif f is not mean:
            outside.append(f)
    if not inside:
        return mul
    return sp.Mul(*outside) * SpectralMean(sp.Mul(*inside) * mean.summand, mean.var, mean.spectrum)


@cached(maxsize=4096)
def _absorb_add(add):
    mean = absorb_means(add)
    if not isinstance(mean, SpectralMean):
        return add
    # one term per monomial of the numerator over the denominator:
    # kappa^2/(x + kappa)^2 + 2 x kappa/(x + kappa)^2 pairs into bounded
    # ratios (the compiler's (a/b)^n), where the single fraction overflows
    # at kappa ~ 1e300
    num, den = sp.fraction(mean.summand)
    if den == 1:
        return mean
    return SpectralMean(sp.Add(*[t / den for t in sp.Add.make_args(sp.expand(num))]), mean.var, mean.spectrum)
