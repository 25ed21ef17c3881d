"""Two-point (second-order) deterministic equivalents [R5].

The three matrix relations of
:meth:`freeprob.models.equivalence.DeterministicEquivalent.two_point_equivalents`
are checked against sampled covariance matrices through the library's
scalar traces (:meth:`~freeprob.models.equivalence.DeterministicEquivalent.two_point_trace`);
the trace form is checked at ``A = Sigma`` and the derivative form against
the chain rule through the explicit map ``lambda(kappa)``.
"""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep
from freeprob.numeric.compile import compile_expr

from . import _notation as N
from ._checks import agree, sample_covariance

NAME = "two-point"
TITLE = "Second-order deterministic equivalents"

_POP = freeprob.Discrete([1, 4])
_N, _P, _LAM = 400, 300, np.array([0.05, 0.5])


def _sampled(rng, stat, draws=6):
    """``stat(Sigma, Sigma_hat, lam)`` over ``draws`` sample covariances of
    ``Sigma = diag(1 x 200, 4 x 200)`` with ``P = 300`` rows."""
    sigma = np.repeat([1.0, 4.0], _N // 2)
    out = []
    for _ in range(draws):
        sh = sample_covariance(sigma, _P, rng)
        out.append([stat(sigma, sh, lam) for lam in _LAM])
    return out


def _theory(kind, **ab):
    q = _N / _P
    deq = freeprob.deterministic_equivalent(_POP, ratio=C.q)
    kappa = freeprob.deterministic_equivalent(_POP, ratio=q).solve(_LAM)
    f = compile_expr(deq.two_point_trace(kind, **ab), (C.kappa, C.q))
    return np.asarray(f(kappa, q), dtype=float)


def _resolvent(sh, lam):
    return np.linalg.inv(sh + lam * np.eye(sh.shape[0]))


# tolerance of the three matrix checks: 4 s.e. over 6 draws plus a 2% allowance
# for the O(1/N) finite-size bias at N = 400, P = 300 (P10)
def _sandwich(rng):
    # tr_N[B lam^2 (Sigma_hat+lam)^-1 A (Sigma_hat+lam)^-1] with A = Sigma, B = I
    def stat(sigma, sh, lam):
        r = _resolvent(sh, lam)
        return lam**2 * np.trace(r @ (sigma[:, None] * r)) / sigma.size

    th = _theory("sandwich", a=C.x, b=1)
    return agree(_sampled(rng, stat), th, allowance=0.02 * th, what="sandwich trace, A = Sigma, B = I, 2 ridges")


def _trace(rng):
    # Tr[Sigma_hat (Sigma_hat+lam)^-1 A (Sigma_hat+lam)^-1]/P with A = Sigma
    def stat(sigma, sh, lam):
        r = _resolvent(sh, lam)
        return np.trace(sh @ r @ (sigma[:, None] * r)) / _P

    th = _theory("trace", a=C.x)
    return agree(_sampled(rng, stat), th, allowance=0.02 * th, what="trace form, A = Sigma, 2 ridges")


def _derivative(rng):
    # tr_N[B Sigma_hat (Sigma_hat+lam)^-2] with B = Sigma
    def stat(sigma, sh, lam):
        r = _resolvent(sh, lam)
        return np.trace((sigma[:, None] * sh) @ r @ r) / sigma.size

    th = _theory("derivative", b=C.x)
    return agree(_sampled(rng, stat), th, allowance=0.02 * th, what="derivative form, B = Sigma, 2 ridges")


def build() -> Derivation:
    q, k, x = C.q, C.kappa, C.x
    deq = freeprob.deterministic_equivalent(_POP, ratio=q)
    rel = deq.two_point_equivalents()
    gam = sp.Symbol(r"\gamma")
    t_sig = sp.Symbol(r"\tfrac1P \mathrm{Tr}\big[\hat\Sigma(\hat\Sigma+\lambda)^{-1}\Sigma(\hat\Sigma+\lambda)^{-1}\big]")
    t_der = sp.Symbol(r"\mathrm{tr}\,\hat\Sigma(\hat\Sigma+\lambda)^{-2}")
    d1, lk = N.df1_Sigma(k), N.lam_of_kappa(k)
    rng_ = ((q, 0.1, 0.9), (k, 0.05, 5.0))
    steps = (
        DerivationStep(rel[0].relation, "differentiate the one-point equivalent with respect to a source added to "
                       "$\\Sigma$, with $\\partial\\kappa/\\partial\\lambda = 1/(1 - \\gamma)$; traced against "
                       "$B = I$ for $A = \\Sigma$", "[R5]", "montecarlo", "sandwich", approx=True, checker=_sandwich,
                       source="deq.two_point_trace('sandwich', a=x, b=1)"),
        DerivationStep(rel[1].relation, "trace of the first relation against $\\hat\\Sigma/\\lambda^2$; $A = \\Sigma$",
                       "[R5]", "montecarlo", "trace form", approx=True, checker=_trace,
                       source="deq.two_point_trace('trace', a=x)"),
        DerivationStep(rel[2].relation, "$\\partial_\\lambda$ of $\\hat\\Sigma(\\hat\\Sigma + \\lambda)^{-1} \\simeq "
                       "\\Sigma(\\Sigma + \\kappa)^{-1}$ [R3], [R4]; traced against $B = \\Sigma$", "[R5]", "montecarlo",
                       "derivative form", approx=True, checker=_derivative,
                       source="deq.two_point_trace('derivative', b=x)"),
        DerivationStep(sp.Eq(t_sig, gam / (1 - gam), evaluate=False),
                       "the trace form at $A = \\Sigma$, with $\\gamma = q\\,\\mathrm{df}^2_\\Sigma(\\kappa)$", "[R5]",
                       "numeric", "trace at A = Sigma",
                       where=((t_sig, deq.two_point_trace("trace", a=x)), (gam, q * _POP.df2(k))), ranges=rng_),
        DerivationStep(sp.Eq(t_der, -sp.Derivative(d1, k) / sp.Derivative(lk, k), evaluate=False),
                       "the derivative form again by the chain rule, $\\mathrm{tr}\\,\\hat\\Sigma(\\hat\\Sigma + "
                       "\\lambda)^{-2} = -\\partial_\\lambda \\mathrm{df}^1_{\\hat\\Sigma}$, through the explicit map "
                       "$\\lambda(\\kappa)$ instead of $1/(1 - \\gamma)$", "[R4], [R5]", "numeric", "chain rule",
                       where=((t_der, deq.two_point_trace("derivative")), (d1, _POP.df1(k)),
                              (lk, deq.ridge_of_kappa(k))), ranges=rng_, source="deq.two_point_trace('derivative')"),
    )
    return Derivation(NAME, TITLE, steps,
                      assumptions=("$A$, $B$ functions of $\\Sigma$",
                                   "$\\Sigma = \\frac12(\\delta_1 + \\delta_4)$; $N = 400$, $P = 300$ in the Monte Carlo "
                                   "checks"),
                      summary="The second-order equivalents that give the variance terms of the errors, checked "
                              "as matrices (through traces) on sampled covariances.")
