"""Compile sympy expressions into numeric evaluators: the ONLY place ``lambdify``
is called (house rule 2: formulas are written once, as sympy).

:func:`compile_expr` returns a :class:`Compiled` evaluator that

* broadcasts its arguments (numpy arrays or scalars),
* evaluates every :class:`~freeprob.numeric.spectrum.SpectralMean` in the expression
  by a chunked, cache-friendly loop: blocks of about ``2**16`` (points x atoms)
  are formed, the summand is evaluated on the block and reduced with a
  matrix-vector product, so a ``10^3 x 10^6`` temporary is never allocated,
* has an mpmath backend that runs inside ``mpmath.workdps(dps)`` only.

Compiled evaluators are cached by ``(expression, arguments, backend, dtype)``
in an explicit cache cleared by :func:`freeprob.clear_caches`.

>>> import numpy as np, sympy as sp
>>> a = sp.Symbol("a")
>>> f = compile_expr(a**2 + 1, (a,))
>>> f(np.array([1.0, 2.0]))
array([2., 5.])
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob.errors import BranchError, FreeprobError, NumericalError, ParameterError
from freeprob.numeric.cache import cached
from freeprob.numeric.compress import compressed_rule, far_clusters, pole_shifts
from freeprob.numeric.powersum import PowerLawSums
from freeprob.numeric.separable import Separable
from freeprob.numeric.spectrum import PowerLawSpectrum, SpectralMean
from freeprob.numeric.stable import rationalize

__all__ = ["compile_expr", "Compiled", "BLOCK_ELEMENTS", "needs_complex"]

#: number of (point, atom) pairs evaluated per block of a spectral mean;
#: 2**15 complex or 2**16 real doubles keep a block in the L2 cache.
BLOCK_ELEMENTS = 2**15


from sympy.printing.numpy import NumPyPrinter  # noqa: E402


class _FastPowPrinter(NumPyPrinter):
    """NumPy printer writing small integer powers as products.

    sympy prints ``x**-1`` as ``x**(-1.0)``; for complex arrays numpy's
    ``power`` with a float exponent goes through exp/log (~50 ns an element),
    while ``1/x`` and ``x*x`` are single arithmetic operations."""

    def _print_Pow(self, expr, rational=False):
        e = expr.exp
        if e.is_Integer and 1 <= abs(int(e)) <= 4:
            base = self.parenthesize(expr.base, 1000)
            # always parenthesized: inside a Mul sympy prints b**-2 as a
            # denominator Pow(b, 2) and relies on Pow's precedence
            prod = "*".join([base] * abs(int(e)))
            return f"({prod})" if e > 0 else f"(1/({prod}))"
        return super()._print_Pow(expr, rational=rational)


class _RatioPow(sp.Function):
    """``(a/b)**n`` kept as one ratio for the printers (see :func:`_pair_powers`)."""

    nargs = 3

    def _numpycode(self, printer):
        a, b = (printer._print(x) for x in self.args[:2])
        n = int(self.args[2])
        ratio = f"(({a})/({b}))"
        # small powers as products: numpy's power on complex arrays goes
        # through exp/log (the reason for _FastPowPrinter)
        return "(" + "*".join([ratio] * n) + ")" if n <= 4 else f"{ratio}**{n}"

    def _mpmathcode(self, printer):
        a, b, n = (printer._print(x) for x in self.args)
        return f"(({a})/({b}))**{n}"

    def _eval_rewrite_as_Pow(self, a, b, n, **kwargs):
        return (a / b) ** n


def _pair_powers(expr):
    """Rewrite ``a**m * b**-n`` (integers, ``max(m, n) >= 2``) as ``(a/b)**k``
    times the rest (``k = min(m, n)``), highest powers first.

    The ratio stays in floating-point range where ``a**m`` and ``b**n``
    overflow: ``kappa**2 x/(x + kappa)**2`` at ``kappa = 1e300`` is ``x
    (kappa/(x + kappa))**2``, not inf/inf, and ``kappa**2/(x + kappa)`` at
    ``kappa = 1e160`` is ``kappa (kappa/(x + kappa))``.  The pair is held in
    an unevaluated :class:`_RatioPow` so that ``cse`` cannot split it again.

    >>> import sympy as sp
    >>> x, k = sp.symbols("x kappa")
    >>> _pair_powers(x*k**2/(x + k)**2)
    x*_RatioPow(kappa, kappa + x, 2)
    >>> _pair_powers(k**2/(x + k))
    kappa*_RatioPow(kappa, kappa + x, 1)
    >>> y = sp.Dummy("y")
    >>> _pair_powers(y**2*k**2/(y + k)**2)
    _y**2*_RatioPow(kappa, _y + kappa, 2)
    """
    if expr.is_Atom or not expr.args:
        return expr
    args = [_pair_powers(a) for a in expr.args]
    if not expr.is_Mul:
        return expr.func(*args) if args != list(expr.args) else expr
    ups, downs, rest = [], [], []
    for f in args:
        if f.is_Pow and f.exp.is_Integer and f.exp != 0:
            (ups if f.exp > 0 else downs).append((f.base, abs(int(f.exp))))
        elif f.is_Symbol:
            ups.append((f, 1))
        else:
            rest.append(f)
    # among equal powers a parameter pairs before a Dummy (a summation
    # variable): x^2 kappa^2/(x + kappa)^2 is x^2 (kappa/(x + kappa))^2, finite
    # at kappa = 1e160 where (x/(x + kappa))^2 kappa^2 overflowed
    order = lambda item: (-item[1], isinstance(item[0], sp.Dummy), sp.default_sort_key(item[0]))  # noqa: E731
    ups.sort(key=order)
    downs.sort(key=order)
    while ups and downs and max(ups[0][1], downs[0][1]) >= 2:
        (a, m), (b, n) = ups.pop(0), downs.pop(0)
        k = min(m, n)
        rest.append(_RatioPow(a, b, sp.Integer(k)))
        if m > k:
            ups.append((a, m - k))
            ups.sort(key=order)
        if n > k:
            downs.append((b, n - k))
            downs.sort(key=order)
    rest.extend(a**m for a, m in ups)
    rest.extend(b ** (-n) for b, n in downs)
    return sp.Mul(*rest)


def _erf_real(u):
    """Elementwise ``erf`` for real arrays (numpy has none; scipy is not a
    dependency): ``math.erf``, correctly rounded to ~1 ulp."""
    import math

    return np.frompyfunc(math.erf, 1, 1)(np.asarray(u, dtype=float)).astype(float)


def _sqrt_upper(u):
    """Principal square root with exact zeros of the imaginary part read as
    ``+0``.

    IEEE arithmetic produces ``-0.0`` imaginary parts (``-(2+0j) - 4 = -6-0j``),
    and numpy's ``sqrt`` then takes the *lower* lip of its cut, flipping the
    sign of ``sqrt(z - a) sqrt(z - b)`` at real ``z``.  Adding ``+0j`` maps
    ``-0.0`` to ``+0.0``, so every factor is approached from above, which is
    the lip mpmath (no signed zeros) takes and the limit ``z + i0`` of the
    physical branch [C4].

    >>> import numpy as np
    >>> complex(_sqrt_upper(np.complex128(complex(-4, -0.0))))
    2j
    """
    return np.sqrt(np.asarray(u) + 0j)


class Compiled:
    """A numeric evaluator of one sympy expression, or of a tuple of them
    evaluated together (see :func:`compile_expr`)."""

    def __init__(self, expr, args: tuple, backend: str, dtype):
        self.multi = isinstance(expr, tuple)
        exprs = expr if self.multi else (expr,)
        #: "auto": real inputs and real results; radicals are evaluated in
        #: complex arithmetic after the stable rewrite, and the result is
        #: certified real before it is returned
        self.real_result = dtype == "auto"
        if self.real_result and backend == "numpy":
            cplx = any(needs_complex(e, real_arguments=True) for e in exprs)
            if cplx:
                exprs = tuple(rationalize(e) if not e.atoms(SpectralMean) else e for e in exprs)
                expr = exprs if self.multi else exprs[0]
            dtype = complex if cplx else float
        self.expr = expr
        self.args = args
        self.backend = backend
        self.dtype = np.dtype(dtype) if backend == "numpy" else None
        free = set().union(*[e.free_symbols for e in exprs]) - set(args)
        if free:
            raise ParameterError(
                "expression", sorted(map(str, free)), "numeric values for every symbol",
                "substitute numbers (law.subs(...)) or pass them as arguments",
            )
        means = sorted(set().union(*[e.atoms(SpectralMean) for e in exprs]), key=sp.default_sort_key)
        dummies = [sp.Dummy(f"mean{i}") for i in range(len(means))]
        repl = dict(zip(means, dummies))
        if backend == "mpmath":
            modules = "mpmath"
        elif self.dtype.kind == "c":
            modules = [{"sqrt": _sqrt_upper}, "numpy"]
        else:
            modules = [{"erf": _erf_real}, "numpy"]
        printer = None if backend == "mpmath" else _FastPowPrinter(
            {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
             "user_functions": {}})
        # mpmath evaluates one point at a time: a Piecewise keeps its pieces
        # lazy there (common subexpressions hoisted out of the pieces would
        # evaluate a formula at a point of another piece, where it may divide
        # by zero)
        self._outer = [sp.lambdify(list(args) + dummies, _pair_powers(e.xreplace(repl)), modules=modules,
                                   cse=not (backend == "mpmath" and e.has(sp.Piecewise)), printer=printer)
                       for e in exprs]
        # means over the same spectrum are summed in ONE pass: a single
        # lambdified function returns all their summands (common
        # subexpressions such as 1/(w - x) computed once per element)
        self._groups = []
        self._poles: dict = {}
        #: per group: its summands as matrix products (freeprob.numeric.separable)
        self._separable: dict = {}
        by_spec: dict = {}
        for i, m in enumerate(means):
            if m.summand.atoms(SpectralMean):
                raise FreeprobError("a spectral mean inside another spectral mean's summand cannot be "
                                    "compiled; expand the inner law (law.subs / doit) first")
            by_spec.setdefault(m.spectrum, []).append((i, m))
        for spec, items in by_spec.items():
            x = sp.Dummy("x")
            summands = [m.summand.xreplace({m.var: x}) for _, m in items]
            f = sp.lambdify([x] + list(args), [_pair_powers(e) for e in summands], modules=modules, cse=True,
                            printer=printer)
            if isinstance(spec, PowerLawSpectrum) and spec.uses_sums():
                sums = PowerLawSums(summands, x, args, spec, modules, printer, _pair_powers)
                self._groups.append(([i for i, _ in items], (f, sums), spec))
                continue
            # atoms at exactly 0 take the summand at x = 0 simplified exactly
            # (x/(x + kappa) -> 0): its value for kappa > 0 and its limit at
            # kappa -> 0+, where the floating-point 0/0 would be NaN
            f0 = sp.lambdify(list(args), [sp.sympify(e.subs(x, 0)) for e in summands], modules=modules,
                             printer=printer)
            # summands of the compressible class (freeprob.numeric.compress):
            # the positions -s of their poles, checked at every call
            shifts = pole_shifts(summands, x) if backend == "numpy" else None
            if shifts is not None:
                self._poles[len(self._groups)] = sp.lambdify(list(args), list(shifts), modules=modules,
                                                              printer=printer)
            if backend == "numpy":
                sep = Separable.build(summands, x, args, modules, printer)
                if sep is not None:
                    self._separable[len(self._groups)] = sep
            self._groups.append(([i for i, _ in items], (f, f0), spec))
        self._nmeans = len(means)

    # -- numpy ----------------------------------------------------------------
    def __call__(self, *values, dps: int | None = None, finite: bool = True):
        """Evaluate at broadcast argument arrays.

        ``finite=True`` (the default) certifies the result: a NaN or inf at a
        point where every argument is finite raises
        :class:`~freeprob.errors.NumericalError` naming the quantity and the
        point.  ``finite=False`` returns non-finite values to a caller that
        replaces them by derived limits and certifies what it returns."""
        if len(values) != len(self.args):
            raise TypeError(f"expected {len(self.args)} arguments {self.args}, got {len(values)}")
        if self.backend == "mpmath":
            return self._call_mpmath(values, dps or 50)
        arrays = [np.asarray(v, dtype=self.dtype) for v in values]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        npts = int(np.prod(shape)) if shape else 1
        if not self._groups:
            # no spectral mean: the arguments broadcast inside the expression,
            # so a subexpression of the (N, 1) arguments is computed N times,
            # not N x M times
            outs = []
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                for outer in self._outer:
                    out = outer(*arrays)
                    out = np.asarray(out, dtype=np.result_type(out, self.dtype))
                    outs.append(np.broadcast_to(out, shape).copy())
            return self._finish(outs, arrays, shape, finite)
        flat = [np.broadcast_to(a, shape).ravel() for a in arrays]
        means = [None] * self._nmeans
        for g, (idx, (f, f0), spec) in enumerate(self._groups):
            if isinstance(f0, PowerLawSums):
                vals = f0.means(flat, npts, self.dtype)
            else:
                plan = self._compressed(g, spec, flat, npts)
                f = (f, self._separable.get(g))
                if plan is None:
                    vals = _chunked_means(f, f0, len(idx), spec.numeric_atoms(), flat, npts, self.dtype)
                elif plan[1] is None:  # every pole at -s, s >= 0: the rule throughout
                    vals = _chunked_means(f, f0, len(idx), plan[0][:2], flat, npts, self.dtype)
                else:
                    vals = _split_means(f, f0, len(idx), plan[0], plan[1], flat, npts, self.dtype)
            for i, val in zip(idx, vals):
                means[i] = val
        outs = []
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for outer in self._outer:
                out = outer(*flat, *means)
                out = np.asarray(out, dtype=np.result_type(out, self.dtype))
                outs.append(np.broadcast_to(out, (npts,)).reshape(shape).copy())
        return self._finish(outs, arrays, shape, finite)

    def _compressed(self, g, spec, flat, npts):
        """How group ``g`` uses the compressed rule of ``spec``
        (:mod:`freeprob.numeric.compress`): ``(rule, None)`` when every pole
        of its summands is at ``x = -s`` with ``s`` real, finite and ``>= 0``
        at every point (the rule throughout); ``(rule, far)`` for finite
        complex ``s``, with ``far[point, cluster]`` where a cluster's nodes
        may stand for its atoms; ``None`` (every atom) otherwise."""
        poles = self._poles.get(g)
        if poles is None:
            return None
        rule = compressed_rule(spec)
        if rule is None:
            return None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            shifts = [np.broadcast_to(np.asarray(s), (npts,)) for s in poles(*flat)]
        if not all(np.all(np.isfinite(s)) for s in shifts):
            return None
        if all(not np.iscomplexobj(s) or np.all(s.imag == 0) for s in shifts) and \
                all(np.all(np.real(s) >= 0) for s in shifts):
            return rule, None
        return rule, far_clusters(rule, shifts)

    def _finish(self, outs, arrays, shape, finite):
        """Certify the outputs (real where the quantity is real, finite at
        finite points) and return one array or the tuple."""
        if self.real_result and self.dtype.kind == "c":
            outs = [self._certified_real(o, k) for k, o in enumerate(outs)]
        if finite:
            valid = np.ones(shape, dtype=bool)
            for a in arrays:
                valid &= np.broadcast_to(np.isfinite(a), shape)
            for k, o in enumerate(outs):
                self._certify_finite(o, k, valid, arrays, shape)
        return tuple(outs) if self.multi else outs[0]

    def _certify_finite(self, out, k, valid, arrays, shape):
        bad = ~np.isfinite(out) & valid
        if np.any(bad):
            idx = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), shape) if shape else ()
            point = ", ".join(f"{s} = {np.broadcast_to(a, shape)[idx]!r}" for s, a in zip(self.args, arrays))
            exprs = self.expr if self.multi else (self.expr,)
            raise NumericalError(f"{str(exprs[k])[:80]} is {out[idx]!r} at the finite point {point}")

    def _certified_real(self, out, k):
        """The real part of a complex evaluation of a real quantity, after
        checking that the imaginary part is rounding (a real quantity off its
        branch cut); otherwise :class:`~freeprob.errors.BranchError`."""
        re, im = out.real, out.imag
        # rounding leaves ~1e-16 |terms| in the imaginary part; 1e-9 relative
        # tolerates terms up to 1e7 times the result (cancellation), while a
        # point off the branch gives an imaginary part of the result's size
        bad = np.abs(im) > 1e-9 * np.abs(re) + 1e-300
        bad &= np.isfinite(out)
        if np.any(bad):
            i = int(np.flatnonzero(bad.ravel())[0])
            exprs = self.expr if self.multi else (self.expr,)
            raise BranchError(f"the real quantity {str(exprs[k])[:80]} left the real axis "
                              f"(imaginary part {im.ravel()[i]:.3g} at point {i}): an argument outside its domain")
        return re.copy()

    # -- mpmath ---------------------------------------------------------------
    def _call_mpmath(self, values, dps):
        import mpmath

        arrays = [np.asarray(v, dtype=object) for v in values]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        flat = [np.broadcast_to(a, shape).ravel() for a in arrays]
        npts = int(np.prod(shape)) if shape else 1
        outs = [np.empty(npts, dtype=object) for _ in self._outer]
        with mpmath.workdps(dps):
            atoms = [None if isinstance(f0, PowerLawSums) else spec.mp_atoms() for _, (_, f0), spec in self._groups]
            for i in range(npts):
                pt = [mpmath.mpmathify(a[i]) for a in flat]
                ms = [None] * self._nmeans
                for (idx, (f, f0), _), at in zip(self._groups, atoms):
                    if at is None:
                        for k, v in zip(idx, f0.mp_means(f, pt, len(idx))):
                            ms[k] = v
                        continue
                    vals, wts = at
                    terms = [f0(*pt) if v == 0 else f(v, *pt) for v in vals]
                    for j, k in enumerate(idx):
                        ms[k] = mpmath.fsum(p * t[j] for p, t in zip(wts, terms))
                for out, outer in zip(outs, self._outer):
                    out[i] = outer(*pt, *ms)
        res = [o.reshape(shape) for o in outs]
        return tuple(res) if self.multi else res[0]


def needs_complex(expr, *, real_arguments: bool = False) -> bool:
    """True when ``expr`` contains radicals, logs or ``I`` (real inputs may
    leave the real axis in intermediate steps: evaluate in complex128).

    With ``real_arguments=True`` (the ``"auto"`` mode of :func:`compile_expr`)
    a radical or logarithm whose argument sympy proves nonnegative (positive)
    from the symbols' assumptions stays real and does not count.

    >>> import sympy as sp
    >>> a, p = sp.Symbol("a"), sp.Symbol("p", positive=True)
    >>> needs_complex(a/(a + 1)), needs_complex(sp.sqrt(a - 1)), needs_complex(p**1.5, real_arguments=True)
    (False, True, False)
    """
    # strict: a string is refused, never parsed (house rule: no eval of input)
    try:
        expr = sp.sympify(expr, strict=True)
    except sp.SympifyError:
        raise ParameterError("expr", type(expr).__name__, "a sympy expression or a number") from None
    return _needs_complex(expr, bool(real_arguments))


@cached(maxsize=4096)
def _needs_complex(expr, real_arguments):
    """:func:`needs_complex`, cached on the (frozen) expression: the laws ask
    it at every numeric call, and the tree walk costs more than a small
    evaluation."""
    for p in sp.preorder_traversal(expr):
        if isinstance(p, sp.Pow) and not p.exp.is_Integer:
            if not (real_arguments and p.base.is_nonnegative and p.exp.is_real):
                return True
        if p is sp.I or isinstance(p, (sp.asin, sp.acos, sp.atan)):
            return True
        if isinstance(p, sp.log) and not (real_arguments and p.args[0].is_positive):
            return True
        if isinstance(p, SpectralMean) and needs_complex(p.summand, real_arguments=real_arguments):
            return True
    return False


def _split_means(f, f0, count, rule, far, flat_args, npts, dtype):
    """The means over a compressed ``rule`` where a cluster's nodes stand
    for its atoms only at the points where it is far from every pole
    (``far``, points x clusters); at the other points that cluster's atoms
    are summed."""
    keep = np.concatenate([far, np.ones((npts, 1), dtype=bool)], axis=1)
    owner = np.where(rule.owner < 0, far.shape[1], rule.owner)
    outs = _chunked_means(f, f0, count, (rule.nodes, rule.weights), flat_args, npts, dtype, keep=(keep, owner))
    for k, atoms in enumerate(rule.atoms):
        idx = np.flatnonzero(~far[:, k])
        if idx.size:
            near = _chunked_means(f, f0, count, atoms, [a[idx] for a in flat_args], idx.size, dtype)
            for out, v in zip(outs, near):
                out[idx] += v
    return outs


def _chunked_means(f, f0, count, atoms, flat_args, npts, dtype, keep=None):
    """``sum_k p_k f_j(eta_k, args)`` for every point and every summand ``j``
    of ``f = (summands, separable)`` (``summands`` returns ``count`` values;
    ``separable`` is their :class:`~freeprob.numeric.separable.Separable`
    form or ``None``) over ``atoms = (eta, p)`` (``p = None``: equal
    weights), in L2-sized blocks; atoms at 0 use ``f0``, the summands
    simplified exactly at ``eta = 0``.  ``keep = (mask, owner)`` drops atom
    ``k`` at point ``i`` unless ``mask[i, owner[k]]`` (the split of
    :func:`_split_means`).  With a separable form the other atoms are summed
    as matrix products (one division per element for all the means); without
    one, each block of summands is evaluated and reduced."""
    f, sep = f
    vals, wts = atoms
    owner = None if keep is None else keep[1]
    n = vals.size
    outs = [np.zeros(npts, dtype=np.result_type(dtype, float)) for _ in range(count)]
    zero = vals == 0
    if np.any(zero):
        mass = (np.count_nonzero(zero) / n) if wts is None else float(np.sum(wts[zero]))
        vals, wts = vals[~zero], (None if wts is None else wts[~zero])
        owner = None if owner is None else owner[~zero]
        at0 = f0(*flat_args)
        for out, v in zip(outs, at0):
            out += mass * np.broadcast_to(v, (npts,))
        if wts is None:
            wts = np.full(vals.size, 1.0 / n)
        n = vals.size
        if n == 0:
            return outs
    if sep is not None:
        for out, v in zip(outs, sep.means((vals, wts), flat_args, npts, dtype,
                                          keep=None if keep is None else (keep[0], owner), block=BLOCK_ELEMENTS)):
            out += v
        return outs
    equal = wts is None
    ca = min(n, BLOCK_ELEMENTS)
    cp = max(1, BLOCK_ELEMENTS // ca)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for p0 in range(0, npts, cp):
            p1 = min(npts, p0 + cp)
            cols = [a[p0:p1, None] for a in flat_args]
            for a0 in range(0, n, ca):
                a1 = min(n, a0 + ca)
                blocks = f(vals[None, a0:a1], *cols)
                for out, blk in zip(outs, blocks):
                    if np.ndim(blk) < 2 or blk.shape != (p1 - p0, a1 - a0):
                        blk = np.broadcast_to(blk, (p1 - p0, a1 - a0))
                    if keep is not None:
                        out[p0:p1] += (blk * (wts[a0:a1] * keep[0][p0:p1][:, owner[a0:a1]])).sum(axis=1)
                    elif equal:
                        out[p0:p1] += blk.sum(axis=1)
                    else:
                        out[p0:p1] += blk @ wts[a0:a1]
    if equal:
        for out in outs:
            out /= n
    return outs


@cached(maxsize=1024)
def _compile_cached(expr, args, backend, dtype_name):
    expr = tuple(_algebraic_constants(e) for e in expr) if isinstance(expr, tuple) else _algebraic_constants(expr)
    return Compiled(expr, args, backend, dtype_name)


#: digits of the constants that stand for exact real algebraic numbers (roots
#: of polynomials, ``CRootOf``) in compiled code: beyond float64 and beyond the
#: mpmath backend's default 50 digits
ALGEBRAIC_DIGITS = 80


def _algebraic_constants(expr):
    """``expr`` with each real ``CRootOf`` (an exact algebraic number, e.g. a
    support edge of a cubic curve's closed forms) replaced by its value to
    :data:`ALGEBRAIC_DIGITS` digits, which neither numpy nor mpmath code can
    name."""
    roots = expr.atoms(sp.CRootOf) if isinstance(expr, sp.Basic) else set()
    return expr.xreplace({r: r.evalf(ALGEBRAIC_DIGITS) for r in roots if r.is_real}) if roots else expr


def compile_expr(expr, args, *, backend: str = "numpy", dtype="auto") -> Compiled:
    """Compile ``expr`` as a function of the symbols ``args``.

    Parameters
    ----------
    expr : sympy expression (may contain spectral means), or a tuple of them:
        the evaluator then returns a tuple and sums all spectral means over
        the same spectrum in one fused pass
    args : tuple of symbols, the positional arguments of the evaluator
    backend : ``"numpy"`` (vectorized, float64/complex128) or ``"mpmath"``
        (arbitrary precision; call with ``dps=``)
    dtype : ``"auto"`` (the default: real arguments, real results; an
        expression with radicals or logarithms is rewritten without
        cancellation (:func:`~freeprob.numeric.stable.rationalize`), evaluated
        in complex128 and certified real, else
        :class:`~freeprob.errors.BranchError`), or the numpy dtype of the
        arguments and results (``float`` or ``complex``)
    """
    if backend not in ("numpy", "mpmath"):
        raise ParameterError("backend", backend, "{'numpy', 'mpmath'}")
    expr = tuple(sp.sympify(e) for e in expr) if isinstance(expr, (tuple, list)) else sp.sympify(expr)
    name = "auto" if isinstance(dtype, str) and dtype == "auto" else np.dtype(dtype).name
    return _compile_cached(expr, tuple(args), backend, name)
