r"""The effective ridge of a spectral estimator on power-law data [C18].

Training for a time ``t`` acts like a ridge ``lambda_eff(t)``.  On a power-law
spectrum ``eta_k = k^{-alpha}`` the degrees of freedom of any hat filter
``h`` [C18] have the continuum form

.. math::
    \sum_k h(k^{-\alpha}) \simeq \int_0^\infty h(u^{-\alpha})\,du
    = \alpha\int_0^\infty h'(v)\,v^{-1/\alpha}\,dv
    = \alpha\,\mathcal{M}[h'](1 - 1/\alpha)

(``v = u^{-alpha}`` and one integration by parts, ``h(0) = 0``), a Mellin
transform of the filter's derivative, which sympy evaluates.  Equating the
estimator's with ridge's, ``pi lambda^{-1/alpha}/sin(pi/alpha)``, gives
``lambda_eff``; for gradient flow ``lambda_eff t = (pi/(alpha sin(pi/alpha)
Gamma(1 - 1/alpha)))^alpha = Gamma(1 + 1/alpha)^alpha``.
"""

from __future__ import annotations

import sympy as sp

from freeprob import conventions as C
from freeprob.errors import NoClosedFormError, ParameterError
from freeprob.parameters import instance
from freeprob.scaling._asymptotic import ALPHA

__all__ = ["continuum_df", "effective_ridge"]

_V, _S = sp.symbols("v s", positive=True)


def continuum_df(estimator, alpha=ALPHA) -> sp.Expr:
    r"""``int_0^oo h(u^{-alpha}) du`` for the estimator's hat filter ``h`` [C18]:
    ``alpha M[h'](1 - 1/alpha)`` (see the module), the leading degrees of
    freedom ``sum_k h(k^{-alpha})`` on a power-law spectrum when the filter's
    scale lies inside the spectrum.

    >>> import sympy as sp, freeprob
    >>> t = sp.Symbol("t", positive=True)
    >>> continuum_df(freeprob.GradientFlow(time=t), sp.Integer(2))
    2*sqrt(pi)*sqrt(t)

    Parameters
    ----------
    estimator : a spectral estimator (its parameters may be symbols)
    alpha : the capacity exponent (``alpha > 1``)
    """
    from freeprob.models.filters import SpectralEstimator

    instance("estimator", estimator, SpectralEstimator, "a spectral estimator (Ridge, GradientFlow, ...)")
    alpha = C.as_expr(alpha, "alpha")
    if alpha.is_number and not alpha > 1:
        raise ParameterError("alpha", alpha, "(1, oo)", "the sum of k^-alpha must converge")
    h = estimator.hat().xreplace({C.x: _V})
    if sp.simplify(h.subs(_V, 0)) != 0:
        raise ParameterError("estimator", repr(estimator), "a filter with h(0) = 0")
    # the integral over (0, oo) needs a filter that settles at large v (a
    # polynomial filter, gradient descent's, is bounded only on its spectrum)
    if not estimator.BOUNDED_HAT:
        raise NoClosedFormError(f"the continuum degrees of freedom of {type(estimator).__name__} need a hat filter "
                                "bounded on (0, oo)")
    transform = sp.mellin_transform(sp.diff(h, _V), _V, _S, simplify=True)
    if isinstance(transform, sp.MellinTransform) or transform[0].has(sp.MellinTransform):
        raise NoClosedFormError(f"no Mellin transform of the derivative of {h}")
    value, (lo, hi), _ = transform
    s0 = 1 - 1 / alpha
    if alpha.is_number and not (sp.sympify(lo) < s0 < sp.sympify(hi)):
        raise ParameterError("alpha", alpha, f"1 - 1/alpha in the strip ({lo}, {hi}) of the Mellin transform")
    return sp.simplify(alpha * value.subs(_S, s0))


def effective_ridge(estimator, alpha=ALPHA) -> sp.Expr:
    r"""The ridge ``lambda_eff`` whose continuum degrees of freedom equal the
    estimator's (see the module) [C18].

    >>> import sympy as sp, freeprob
    >>> t = sp.Symbol("t", positive=True)
    >>> sp.gammasimp(effective_ridge(freeprob.GradientFlow(time=t), sp.Integer(2)) * t)
    pi/4

    (``Gamma(3/2)^2 = pi/4``.)
    """
    from freeprob.models.filters import Ridge

    lam = sp.Symbol("lambda_eff", positive=True)
    target = continuum_df(estimator, alpha)
    ridge = continuum_df(Ridge(lam), alpha)
    sol = sp.solve(sp.Eq(ridge, target), lam)
    if len(sol) != 1:
        raise NoClosedFormError(f"lambda_eff of {estimator!r}: {len(sol)} roots of the degrees-of-freedom match")
    return sp.simplify(sol[0])
