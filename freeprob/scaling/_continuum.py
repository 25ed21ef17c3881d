r"""Power-law spectral sums: Mellin asymptotics and fast exact finite-n sums.

Every spectral sum of the models on ``eta_k = k^{-alpha}`` with target power
``eta_k wbar_k^2 ~ k^{-(1 + 2 alpha r)}`` [C12] has the form

.. math::
    \Sigma(\kappa) = \sum_{k=1}^{n} k^{-\beta}\,h(\kappa k^\alpha),\qquad h(u) = \frac{u^a}{(1+u)^m},

(write ``x = eta_k = kappa/u``; a summand homogeneous of degree ``d`` in
``(x, kappa)`` becomes ``kappa^d g(u)`` and ``g`` is split into such ``h``).
Its small-``kappa`` behaviour for ``n = oo`` follows from the Mellin transform
of ``h``:

* the **continuum** term ``(1/alpha) B(s + a, m - s - a) kappa^{-s}``,
  ``s = (1 - beta)/alpha``, when ``0 < s + a < m``;
* the **discrete** term ``zeta(beta - alpha a) kappa^a`` (the first Taylor term of
  ``h`` summed exactly), when ``beta - alpha a > 1``;

exactly one of them leads (they exchange at ``beta = 1 + alpha a``, where a
logarithm appears).  ``m - s - a <= 0`` means the sum diverges with ``n`` (a
non-normalizable spectrum, pitfall P13).  For ``df1``: ``beta = 0, a = 0,
m = 1`` gives ``C_alpha kappa^{-1/alpha}`` with ``C_alpha = (pi/alpha)/sin(pi/alpha)``
[R11], [R21].

:func:`power_law_sum` evaluates the exact sum for any ``n``, infinity
included, through the numeric layer's power-law sums (the ones the models
use); ``method="mpmath"`` is the independent high-precision route
(``mpmath.nsum`` with Euler-Maclaurin).

>>> from freeprob.scaling import mellin_leading
>>> import sympy as sp
>>> a = sp.Symbol("alpha", positive=True)
>>> mellin_leading(0, 0, 1, a)[0]     # df1: C_alpha kappa^(-1/alpha), normalizable iff alpha > 1
MellinTerm(coefficient=pi/(alpha*sin(pi/alpha)), kappa_power=-1/alpha, condition=(alpha - 1)/alpha > 0, kind='continuum')
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from freeprob.errors import ParameterError
from freeprob.models.design import source_weight_exponent
from freeprob.numeric.cache import cached
from freeprob.parameters import (
    digits,
    instance,
    positive,
    positive_integer,
    real,
    real_array,
    real_number,
)

__all__ = ["MellinTerm", "mellin_leading", "split_summand", "power_law_sum", "C_alpha", "ContinuumForms",
           "continuum_forms"]


def C_alpha(alpha):
    r"""``C_alpha = (pi/alpha)/sin(pi/alpha) = int_0^oo du/(1 + u^alpha)`` [R11]."""
    alpha = positive("alpha", alpha)
    return (sp.pi / alpha) / sp.sin(sp.pi / alpha)


@dataclass(frozen=True)
class MellinTerm:
    """``coefficient * kappa^kappa_power``, valid where ``condition`` holds."""

    coefficient: sp.Expr
    kappa_power: sp.Expr
    condition: sp.Basic
    kind: str


@cached(maxsize=256)
def mellin_leading(beta, a, m, alpha) -> tuple:
    r"""The candidate leading terms of ``sum_{k>=1} k^-beta h(kappa k^alpha)``,
    ``h(u) = u^a/(1 + u)^m``, as ``kappa -> 0`` (see the module): the
    continuum and the discrete term, each with its condition.  Exactly one
    condition holds away from the boundary ``beta = 1 + alpha a``."""
    beta, a, m = (real(k, v) for k, v in (("beta", beta), ("a", a), ("m", m)))
    alpha = positive("alpha", alpha)
    s = (1 - beta) / alpha
    cont = sp.gamma(s + a) * sp.gamma(m - s - a) / sp.gamma(m) / alpha
    cont = sp.simplify(sp.gammasimp(cont))
    cond_c = sp.And(s + a > 0, m - s - a > 0)
    disc = sp.zeta(beta - alpha * a)
    cond_d = sp.And(beta - alpha * a > 1, m - s - a > 0)
    return (MellinTerm(cont, -s, sp.simplify(cond_c), "continuum"),
            MellinTerm(disc, a, sp.simplify(cond_d), "discrete"))


@cached(maxsize=256)
def split_summand(summand, x, kappa):
    r"""``summand(x, kappa)`` (rational, homogeneous in ``(x, kappa)``) as
    ``kappa^d sum_i c_i u^{a_i}/(1 + u)^{m_i}`` with ``u = kappa/x``:
    returns ``(d, [(c_i, a_i, m_i)])``."""
    summand = instance("summand", summand, sp.Expr, "sympy expressions")
    x = instance("x", x, sp.Symbol, "sympy symbols")
    kappa = instance("kappa", kappa, sp.Symbol, "sympy symbols")
    u = sp.Dummy("u", positive=True)
    lam = sp.Dummy("t", positive=True)
    scaled = sp.simplify(summand.subs({x: lam * x, kappa: lam * kappa}, simultaneous=True) / summand)
    d = sp.simplify(sp.log(scaled) / sp.log(lam)) if scaled != 1 else sp.Integer(0)
    if d.has(lam) or d.has(x) or d.has(kappa):
        raise ParameterError("summand", summand, "a summand homogeneous in (x, kappa)")
    g = sp.factor(sp.cancel(summand.subs(x, kappa / u) / kappa**d))
    if g.has(kappa):
        raise ParameterError("summand", summand, "a summand homogeneous in (x, kappa)")
    num, den = sp.fraction(sp.together(g))
    den_poly = sp.Poly(den, u)
    m = den_poly.degree()
    lead = den_poly.LC()
    if sp.expand(den - lead * (1 + u) ** m) != 0:
        raise ParameterError("summand", summand, "denominators that are powers of (x + kappa)")
    terms = []
    for (a,), c in sp.Poly(sp.expand(num), u).terms():
        terms.append((sp.simplify(c / lead), sp.Integer(a), sp.Integer(m)))
    return sp.Integer(d), terms


# ------------------------------------------------------------ exact sums
@cached(maxsize=64)
def _sum_evaluator(beta, a, m, alpha, n):
    """``sum_k k^-beta (kappa k^alpha)^a/(1 + kappa k^alpha)^m`` as a compiled
    function of ``kappa``: ``Z <kappa^a x^(m-a)/(x + kappa)^m>`` over the
    power-law spectrum ``x = k^-alpha`` with weights ``k^-beta/Z`` (the
    numeric layer's sums, :mod:`freeprob.numeric.powersum`: atom by atom, or
    exact head plus Euler-Maclaurin tail), ``Z`` its normalization."""
    from freeprob.numeric.compile import compile_expr
    from freeprob.numeric.powersum import normalization
    from freeprob.numeric.spectrum import PowerLawSpectrum, SpectralMean

    x, kap = sp.Dummy("x", positive=True), sp.Dummy("kappa", positive=True)
    ea, em = (sp.Integer(int(v)) if float(v).is_integer() else sp.nsimplify(v) for v in (a, m))
    mean = SpectralMean(kap**ea * x ** (em - ea) / (x + kap) ** em, x, PowerLawSpectrum(alpha, n, beta))
    return compile_expr(mean, (kap,)), normalization(alpha, n, beta)


def power_law_sum(kappa, beta, a, m, alpha, n, *, method: str = "em", dps: int = 30):
    r"""``sum_{k=1}^n k^-beta (kappa k^alpha)^a/(1 + kappa k^alpha)^m`` at an
    array of ``kappa > 0`` (``n`` may be ``numpy.inf`` or ``sympy.oo`` when
    the sum converges).

    ``method="em"``: the numeric layer's power-law sums (atom by atom up to
    ``10^5`` terms; beyond, and for ``n = oo``, an exact head plus an
    Euler-Maclaurin tail), the same sums the models evaluate: relative error
    ~1e-15.  ``method="mpmath"``: ``mpmath.nsum`` (Euler-Maclaurin) at
    ``dps`` digits (slow, independent).

    >>> import numpy as np
    >>> s = power_law_sum(np.array([1e-3]), 0, 0, 1, 1.5, 10**9)   # df1 summed over 10^9 atoms
    >>> bool(abs(s[0] / (C_alpha(1.5) * 1e-3 ** (-1 / 1.5)) - 1) < 1e-2)
    True
    """
    kappa = np.atleast_1d(real_array("kappa", kappa))
    if np.any(~(kappa > 0)):
        raise ParameterError("kappa", kappa[~(kappa > 0)][0], "(0, oo)")
    beta, a, m = (real_number(k, v) for k, v in (("beta", beta), ("a", a), ("m", m)))
    alpha = real_number("alpha", positive("alpha", alpha))
    n_inf = (isinstance(n, (float, np.floating)) and n == np.inf) or (isinstance(n, sp.Basic) and n == sp.oo)
    if not n_inf:
        n = positive_integer("n", n, "integers >= 1, numpy.inf or sympy.oo")
    dps = digits("dps", dps)
    if n_inf and not (beta - alpha * (a - m) > 1):
        raise ParameterError("alpha", alpha, "values making the n = oo sum converge (beta - alpha (a - m) > 1)",
                             "the power-law sum diverges (pitfall P13)")
    if method == "mpmath":
        with mpmath.workdps(dps):
            out = []
            for kv in kappa:
                kv = mpmath.mpf(kv)
                f = lambda k: k ** (-beta) * (kv * k**alpha) ** a / (1 + kv * k**alpha) ** m  # noqa: E731
                # Euler-Maclaurin: the default Richardson/Shanks extrapolation is wrong for
                # algebraically converging sums such as these
                out.append(float(mpmath.nsum(f, [1, mpmath.inf if n_inf else int(n)], method="euler-maclaurin")))
        return np.array(out)
    if method != "em":
        raise ParameterError("method", method, "'em' or 'mpmath'")
    mean, z = _sum_evaluator(beta, a, m, alpha, sp.oo if n_inf else int(n))
    return np.asarray(mean(kappa), dtype=float) * z


# ------------------------------------------------------------ model sums
_SUMMANDS = {"df1": (1, 1), "df2": (2, 2), "tf1": (1, 1), "tf2": (2, 2), "tf1p": (1, 2)}  # x^p/(x + kappa)^m


@dataclass(frozen=True)
class ContinuumForms:
    r"""The spectral sums of the models on a power law, with their leading
    forms (Mellin) and exact values (Euler-Maclaurin).

    ``df1, df2`` are ``(1/n) sum_k eta^p/(eta + kappa)^m`` for finite ``n``
    and the unnormalized kernel sums ``sum_k ...`` for ``n = oo`` (the
    paper's ``q df = (1/P) sum``, [R11b]); ``tf1, tf2, tf1p`` (``-tf1'``) are
    weighted by the unnormalized source target ``wbar_k^2 = k^{-(1 + 2 alpha
    r)}/eta_k`` [C7], [C12]."""

    alpha: sp.Expr
    n: object
    r: object = None

    def _parts(self, key):
        x, k = sp.Symbol("x", positive=True), sp.Symbol("kappa", positive=True)
        p, m = _SUMMANDS[key]
        d, parts = split_summand(x**p / (x + k) ** m, x, k)
        if key.startswith("tf"):
            if self.r is None:
                raise ParameterError("target", None, "a SourceTarget(r) for target functionals")
            beta = source_weight_exponent(self.alpha, sp.sympify(self.r))
        else:
            beta = sp.Integer(0)
        return d, parts, beta

    def leading(self, key, kappa=None):
        """Leading small-``kappa`` form: a sympy ``Piecewise`` over the
        continuum and discrete terms of each part (``n = oo``; for finite ``n``
        valid while ``kappa n^alpha >> 1``)."""
        from freeprob.conventions import kappa as kappa_symbol

        kappa = kappa if kappa is not None else kappa_symbol
        d, parts, beta = self._parts(key)
        total = sp.Integer(0)
        for c, a, m in parts:
            cont, disc = mellin_leading(beta, a, m, self.alpha)
            if cont.condition is sp.false and disc.condition is sp.false:
                raise ParameterError("alpha", self.alpha, "a normalizable power law (alpha > 1, pitfall P13)",
                                     f"the n = oo sum of {key} diverges")
            total += c * sp.Piecewise((cont.coefficient * kappa ** (d + cont.kappa_power), cont.condition),
                                      (disc.coefficient * kappa ** (d + disc.kappa_power), disc.condition),
                                      (sp.nan, True))
        norm = 1 if self.n is sp.oo else sp.Integer(1) / self.n
        return norm * total

    def exact(self, key, kappa, **kw):
        """Exact value at an array of ``kappa`` (:func:`power_law_sum`)."""
        d, parts, beta = self._parts(key)
        kappa = np.atleast_1d(np.asarray(kappa, dtype=float))
        n = np.inf if self.n is sp.oo else int(self.n)
        out = sum(float(c) * power_law_sum(kappa, float(beta), float(a), float(m), float(self.alpha), n, **kw)
                  for c, a, m in parts) * kappa ** float(d)
        return out if self.n is sp.oo else out / n


def continuum_forms(population, target=None) -> ContinuumForms:
    """:class:`ContinuumForms` of a ``PowerLaw(alpha, n)`` population (``n``
    may be ``sympy.oo``: the infinite-dimensional kernel case) and an
    optional :class:`~freeprob.SourceTarget`.

    >>> import freeprob, sympy as sp
    >>> from freeprob.scaling import continuum_forms
    >>> f = continuum_forms(freeprob.PowerLaw(sp.Rational(3, 2), sp.oo))
    >>> f.leading("df1")                          # C_{3/2} kappa^(-2/3) [R11b]
    4*sqrt(3)*pi/(9*kappa**(2/3))
    >>> from freeprob.conventions import kappa
    >>> round(float(f.exact("df1", 1e-6)[0] - f.leading("df1").subs(kappa, 1e-6)), 3)   # the discrete term zeta(0)
    -0.5
    """
    from freeprob.laws import PowerLaw
    from freeprob.models.linear import SourceTarget

    if not isinstance(population, PowerLaw):
        raise ParameterError("population", repr(population), "a PowerLaw(alpha, n)")
    r = None
    if target is not None:
        if not isinstance(target, SourceTarget):
            raise ParameterError("target", repr(target), "None or SourceTarget(r)")
        r = target.r
    return ContinuumForms(population.alpha, population.n, r)
