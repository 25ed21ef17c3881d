r"""Exponents in training time, derived by dominant balance [C18].

With many more samples than dimensions (``q = N/P -> 0``), the contour
integrals of a spectral estimator collapse to means of its filter over the
population (:func:`freeprob.models.spectral.population_limit`): ``Bias^2 =
<x r(x)^2>_wbar``, ``df1 = <h(x)>``, and at order ``q`` the noise variance
``sigma^2 q <x^2 f(x)^2>``.  On a power law ``eta_k = k^{-alpha}`` each is a
sum ``sum_k k^{-beta} phi(eta_k)`` with ``beta = 0`` (population) or the
target's ``1 + alpha(2r - 1)`` [C12].  For gradient flow at zero ridge the
summand is homogeneous in ``(x, t)``: ``phi(x/c; c t) = c^{-d} phi(x; t)``,
so with ``u = 1/(t x)``

.. math::
    \sum_k k^{-\beta}\phi(\eta_k) = t^{-d}\sum_k k^{-\beta} g(k^\alpha/t),
    \qquad g(u) = \phi(1/u; 1),

and as ``t -> oo`` the sum is led by one of two terms (the Mellin argument
of :mod:`freeprob.scaling._continuum` with ``kappa = 1/t``):

* the **continuum** ``(1/alpha) M[g](s) t^{s - d}``, ``s = (1 - beta)/alpha``,
  when ``s`` lies in the strip ``(-a_0, a_oo)`` (``g ~ u^{a_0}`` at 0,
  ``~ u^{-a_oo}`` at infinity);
* the **discrete** ``c_0 zeta(beta - alpha a_0) t^{-d - a_0}`` (the first modes,
  fully learnt) when ``beta - alpha a_0 > 1``.

Gradient flow's residual ``e^{-t x}`` is flat at ``u = 0`` (``a_0 = oo``), so
the continuum always leads: ``Bias^2 ~ Gamma(2r) (2t)^{-2r}/alpha``, the
source-limited decay ``t^{-2r}`` at every ``r`` (ridge saturates at
``lambda^2``, gradient flow does not).  These exponents hold while ``t <<
P^alpha`` (the effective ridge ``1/t`` above the sample spectrum's floor);
beyond, the flow reaches the ridgeless plateau of :func:`time_limit`.
"""

from __future__ import annotations

import sympy as sp

from freeprob import conventions as C
from freeprob.errors import NoClosedFormError, ParameterError
from freeprob.models.base import AbstractModel
from freeprob.models.design import source_weight_exponent
from freeprob.numeric.cache import cached
from freeprob.parameters import instance
from freeprob.scaling._asymptotic import (
    ALPHA,
    AmbiguousRegimeError,
    Context,
    R,
    sample_points,
)

__all__ = ["time_terms", "time_exponent", "time_limit", "TIME_KEYS"]

#: the keys with a time exponent: their leading order in ``q`` (0 or 1)
TIME_KEYS = ("Eg", "bias2", "Etr_bias", "df1", "var_X_noise")

_U = sp.Symbol("u", positive=True)
_S = sp.Symbol("s")
_T = sp.Symbol("t", positive=True)


def _estimator(model):
    """The model's gradient-flow-like estimator at zero ridge: its filter
    template in ``x`` and the time symbol."""
    from freeprob.laws import PowerLaw
    from freeprob.models.linear import LinearRidge

    if not isinstance(model, LinearRidge):
        raise ParameterError("model", type(model).__name__, "a LinearRidge with a time-dependent estimator")
    if not isinstance(model.population, PowerLaw):
        raise ParameterError("population", repr(model.population), "a PowerLaw population")
    est = model.estimator
    if est is None or "time" not in est.PARAMETERS:
        raise ParameterError("estimator", repr(est), "an estimator with a training time (GradientFlow)")
    others = {est.symbols[n]: getattr(est, n) for n in est.PARAMETERS if n != "time"}
    if any(not sp.sympify(v).is_zero for k, v in others.items() if k == C.lam):
        raise ParameterError("ridge", est.ridge, "0 for a time exponent",
                             "a fixed ridge stops the flow at the ridge plateau (time exponent 0)")
    return est.template().xreplace(others).xreplace({C.time: _T})


@cached(maxsize=64)
def time_terms(template, weights, order_key, alpha, r):
    r"""The candidate leading terms of ``sum_k k^{-beta} phi(eta_k)`` as
    ``t -> oo`` (see the module) for the population-limit summand of
    ``order_key`` under the filter ``template`` (a sympy ``f`` in ``x`` and
    ``t``): a tuple of ``(coefficient, decay exponent, condition, kind)``.

    >>> import sympy as sp
    >>> f = (1 - sp.exp(-sp.Symbol("t", positive=True) * C.x)) / C.x
    >>> [(e, str(k)) for _, e, _, k in time_terms(f, "tgt", "bias2", ALPHA, R)]
    [(2*r, 'continuum')]
    """
    phi = _summand(template, order_key)
    c = sp.Symbol("c", positive=True)
    ratio = sp.simplify(sp.powsimp(phi.xreplace({C.x: C.x / c, _T: _T * c}) / phi, force=True))
    d = sp.simplify(-sp.expand_log(sp.log(ratio), force=True) / sp.log(c))
    if d.has(c) or d.has(C.x) or d.has(_T):
        raise ParameterError("estimator", template, "a filter of t x alone (at zero ridge)",
                             f"the summand {phi} is not homogeneous in (x, t)")
    g = sp.simplify(phi.xreplace({C.x: 1 / _U, _T: 1}))
    beta = sp.Integer(0) if weights == "pop" else source_weight_exponent(alpha, r)
    s0 = (1 - beta) / alpha
    c0, a0 = _order_at_zero(g)
    ainf = _decay_at_infinity(g)
    terms = []
    mellin = _mellin(g, s0)
    cond_c = sp.And(s0 < ainf, s0 > -a0) if a0 is not sp.oo else (s0 < ainf)
    terms.append((mellin / alpha, sp.simplify(d - s0), sp.simplify(cond_c), "continuum"))
    if a0 is not sp.oo:
        terms.append((c0 * sp.zeta(beta - alpha * a0), d + a0, sp.simplify(sp.And(beta - alpha * a0 > 1, s0 < ainf)),
                      "discrete"))
    return tuple(terms)


def _summand(template, key):
    """``phi(x; t)`` of the population limit of ``key`` (with ``q`` and
    ``sigma2`` divided out)."""
    from freeprob.models.filters import SpectralFilter
    from freeprob.models.spectral import population_limit

    limits = population_limit(SpectralFilter(template, C.x))
    order, weights, phi = limits["bias2" if key == "Eg" else key]
    return sp.simplify(phi / C.sigma2) if phi.has(C.sigma2) else phi


def _order_at_zero(g):
    """``(c_0, a_0)`` with ``g ~ c_0 u^{a_0}`` as ``u -> 0+``; ``(0, oo)``
    when ``g`` vanishes faster than ``u^40`` (flat, as ``e^{-c/u}``: a discrete
    term of that order would need ``beta > 1 + 40 alpha``, outside any
    normalizable target)."""
    at_zero = sp.limit(g, _U, 0, "+")
    if at_zero.is_finite and not at_zero.is_zero:
        return at_zero, sp.Integer(0)
    if at_zero.is_zero and sp.limit(g / _U**40, _U, 0, "+") == 0:
        return sp.Integer(0), sp.oo
    lt = sp.series(g, _U, 0, 4).removeO().as_leading_term(_U)
    c0, a0 = lt.as_coeff_exponent(_U)
    if c0 == 0 or a0.has(_U):
        raise NoClosedFormError(f"no power-law leading term of {g} at u = 0")
    return c0, a0


def _decay_at_infinity(g):
    """``a_oo`` with ``g ~ u^{-a_oo}`` as ``u -> oo``."""
    v = sp.Symbol("v", positive=True)
    h = g.xreplace({_U: 1 / v})
    at_zero = sp.limit(h, v, 0, "+")
    if at_zero.is_finite and not at_zero.is_zero:
        return sp.Integer(0)
    if at_zero.is_zero and sp.limit(h / v**40, v, 0, "+") == 0:
        return sp.oo
    lt = sp.series(h, v, 0, 4).removeO().as_leading_term(v)
    c, a = lt.as_coeff_exponent(v)
    if c == 0 or a.has(v):
        raise NoClosedFormError(f"no power-law decay of {g} at u = oo")
    return a


def _mellin(g, s0):
    """``M[g](s0) = int_0^oo u^{s0 - 1} g(u) du``: sympy's table, for ``g(u)``
    or for ``g(1/v)`` at ``-s0``, else the integral unevaluated (exact,
    numerically evaluable)."""
    v = sp.Symbol("v", positive=True)
    for expr, var, arg in ((g, _U, s0), (g.xreplace({_U: 1 / v}), v, -s0)):
        try:
            res = sp.mellin_transform(expr, var, _S, simplify=True)
        except (NotImplementedError, ValueError, TypeError):   # sympy has no table entry: next form
            continue
        if not (isinstance(res, sp.MellinTransform) or res[0].has(sp.MellinTransform)):
            return sp.gammasimp(res[0].subs(_S, arg))
    return sp.Integral(_U ** (s0 - 1) * g, (_U, 0, sp.oo))


def time_exponent(model, quantity="Eg", regime=None, *, coefficient=False):
    r"""The decay exponent ``e`` of ``quantity ~ c t^{-e}`` in training time
    (``t << P^alpha``; see the module), derived from the model's own contour
    integrands: a sympy expression in ``alpha`` and ``r`` under ``regime``
    (sympy relations), or a number when the model's exponents are numbers.

    >>> import freeprob, sympy as sp
    >>> t = sp.Symbol("t", positive=True)
    >>> m = freeprob.LinearRidge(freeprob.PowerLaw(sp.Rational(3, 2), 10**6), target=freeprob.SourceTarget(2),
    ...                          estimator=freeprob.GradientFlow(time=t))
    >>> time_exponent(m, "Eg")          # source-limited at every r: no saturation at r = 1
    4
    >>> time_exponent(m, "var_X_noise") # the noise variance grows as t^(1/alpha)/P
    -2/3

    Parameters
    ----------
    model : a ``LinearRidge`` on a ``PowerLaw`` with a ``GradientFlow`` estimator (ridge 0)
    quantity : one of :data:`TIME_KEYS`
    regime : sympy relations in ``alpha``, ``r`` (the symbolic exponent of that regime)
    coefficient : also return the leading coefficient (``(c, e)``)
    """
    from freeprob.models.linear import SourceTarget

    if quantity not in TIME_KEYS:
        raise ParameterError("quantity", quantity, f"one of {TIME_KEYS}")
    template = _estimator(model)
    weights = "pop" if quantity in ("df1", "var_X_noise") else "tgt"
    has_r = isinstance(model.target, SourceTarget)
    if weights == "tgt" and not has_r:
        raise ParameterError("target", repr(model.target), "a SourceTarget(r) for the time exponent of a target sum")
    terms = time_terms(template, weights, quantity, ALPHA, R)
    free = {ALPHA} | ({R} if has_r else set())
    concrete = {ALPHA: sp.sympify(model.population.alpha)}
    if has_r:
        concrete[R] = sp.sympify(model.target.r)
    numeric = regime is None and all(v.is_number for v in concrete.values())
    ctx = Context([{k: float(v) for k, v in concrete.items()}] if numeric else sample_points(regime, free))
    chosen = [t for t in terms if ctx.holds(t[2])]
    if not chosen:
        raise ParameterError("regime", regime, "a normalizable target (r > 0, alpha > 1)",
                             f"no leading term of {quantity} converges there")
    if len(chosen) > 1:
        raise AmbiguousRegimeError(f"two leading terms of {quantity} hold in the regime {regime}")
    coef, e = chosen[0][0], chosen[0][1]
    if numeric:
        coef, e = coef.subs(concrete), sp.nsimplify(sp.sympify(e).subs(concrete), rational=True)
    return (coef, e) if coefficient else e


def time_limit(model):
    """The model at ``t -> oo``: the estimator replaced by ridge at its own
    ridge (gradient flow converges to the ridge, or minimum-norm,
    interpolator [C18]) -- its ``exponent(..., "samples")`` is the
    data-limited plateau.

    >>> import freeprob
    >>> time_limit(freeprob.LinearRidge(freeprob.PowerLaw(1.5, 100), estimator=freeprob.GradientFlow(time=3.0))).ridge
    0
    """
    instance("model", model, AbstractModel, "a freeprob model (LinearRidge, RandomFeatureRidge, ...)")
    est = model.estimator
    if est is None or "time" not in est.PARAMETERS:
        raise ParameterError("estimator", repr(est), "an estimator with a training time (GradientFlow)")
    return model.replace(estimator=None, ridge=est.ridge)
