"""Isotropic linear regression: closed forms, ridgeless limits, the
double-descent peak and the optimal ridge [R9].

Every closed form comes out of :meth:`freeprob.LinearRidge.isotropic_closed_forms`,
which solves the model's own kappa equation and minimizes its own E_g; the
steps compare them with the paper's statements, check the branch, and check
the limits and the optimum against the numeric evaluator and Monte Carlo.
"""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

from . import _notation as N
from ._checks import agree_stats, within

NAME = "isotropic-ridge"
TITLE = "Isotropic linear regression: closed forms and limits"


def _monte_carlo(rng):
    # E_g from the evaluator against 30 draws (N = 150, P = 300): 4 s.e. + 3% (P10)
    m = freeprob.LinearRidge(freeprob.Identity(1), noise=0.25, samples=300, ridge=1e-2, dimension=150)
    sim = freeprob.simulate(m, seeds=30, rng=rng)
    th = float(m.evaluate()["Eg"])
    mean, se = (float(v[0]) for v in sim["Eg"])
    return agree_stats(mean, se, th, allowance=0.03 * th, what="E_g at q = 1/2, lambda = 1e-2")


def _bayes_optimal(rng):
    # lam* = q sigma^2 minimizes E_g: the evaluator at lam* (1 +- 1e-2) is not below E_g(lam*)
    m = freeprob.LinearRidge(freeprob.Identity(1), noise=0.3, samples=100, dimension=150)
    lam_star = 1.5 * 0.3
    eg = m.evaluate(ridge=np.array([lam_star * 0.99, lam_star, lam_star * 1.01]))["Eg"]
    worst = float(eg[1] - min(eg[0], eg[2]))
    return worst <= 1e-15, max(worst, 0.0), f"E_g at lambda* and lambda*(1 +- 1e-2): {eg[1]:.6g} <= {min(eg[0], eg[2]):.6g}"


def _general_sigma(rng):
    # an anisotropic Sigma with the isotropic prior (||wbar||^2 = s = 1): at
    # lam* = q sigma^2, E_g = s kappa* df1_Sigma(kappa*): an exact identity of
    # the evaluator's expressions, float64 rounding only: tolerance 1e-12
    pop = freeprob.PowerLaw(1.4, 400)
    q, s2 = 400 / 250, 0.2
    m = freeprob.LinearRidge(pop, noise=s2, samples=250, ridge=q * s2)
    out = m.evaluate()
    return within(out["Eg"], out["kappa"] * pop.df1_numeric(out["kappa"]), 1e-12,
                  "E_g at lambda* against kappa* df1(kappa*), power-law Sigma")


def build() -> Derivation:
    k, q, lam, s2 = C.kappa, C.q, C.lam, C.sigma2
    model = freeprob.LinearRidge(freeprob.Identity(1), samples=sp.Symbol("P", positive=True),
                                 dimension=sp.Symbol("N", positive=True))
    cf = model.isotropic_closed_forms()
    qs = model.quantities()
    kap = sp.Symbol(r"\kappa(\lambda)")
    k0, kpk, kst, eg_st = sp.Symbol(r"\kappa_0"), sp.Symbol(r"\kappa\vert_{q=1}"), sp.Symbol(r"\kappa^*"), \
        sp.Symbol(r"E_g^*")
    lam_st = sp.Symbol(r"\lambda^*")
    eg_under, etr_under = sp.Symbol(r"E_g\vert_{\lambda=0,\,q<1}"), sp.Symbol(r"E_{tr}\vert_{\lambda=0,\,q<1}")
    eg_over = sp.Symbol(r"E_g\vert_{\lambda=0,\,q>1}")
    eg_k = sp.Function("E_g")(k)
    lk = N.lam_of_kappa(k)
    steps = (
        DerivationStep(Eq(N.gamma, q / (1 + k) ** 2),
                       "for $\\Sigma = I$: $\\mathrm{df}^1 = 1/(1 + \\kappa)$, $\\mathrm{df}^2 = 1/(1 + \\kappa)^2$",
                       "[R9], [C6]", "symbolic", "gamma", where=((N.gamma, qs["gamma"]),)),
        DerivationStep(Eq(kap**2 + (1 - q - lam) * kap - lam, 0),
                       "the kappa equation [R3] of $\\Sigma = I$ is a quadratic; the library solves it", "[R9]",
                       "symbolic", "isotropic quadratic", where=((kap, cf["kappa"]),),
                       source="LinearRidge(Identity(1)).isotropic_closed_forms()['kappa']"),
        DerivationStep(Eq(kap, sp.Mul(sp.Rational(1, 2), (q + lam - 1) + sp.sqrt((q + lam - 1) ** 2 + 4 * lam),
                                      evaluate=False)),
                       "the root the library keeps (positive, the physical one) is the $+$ root", "[R9], P5",
                       "symbolic", "the + root", where=((kap, cf["kappa"]),)),
        DerivationStep(sp.GreaterThan(kap, lam), "$\\kappa \\geq \\lambda$ on the physical branch (a root "
                       "$\\kappa < \\lambda$ signals a mixed-up S convention)", "[C11], P4", "numeric",
                       "kappa >= lambda", where=((kap, cf["kappa"]),), ranges=((q, 0.01, 10.0), (lam, 1e-6, 10.0))),
        DerivationStep(Eq(eg_k, (k**2 + q * s2) / ((1 + k) ** 2 - q)),
                       "[R6] with $\\Sigma = I$, $\\Vert\\bar w\\Vert = 1$", "[R9]", "symbolic", "E_g",
                       where=((eg_k, cf["Eg"]),)),
        DerivationStep(Eq(lk / k, 1 - q / (1 + k)), "the gap factor $\\lambda/\\kappa$", "[R9], [R8]", "symbolic",
                       "lambda/kappa", where=((lk, model.equivalent().ridge_of_kappa(k)),)),
        DerivationStep(Eq(eg_under, s2 * q / (1 - q)), "ridgeless, $q < 1$: $\\kappa \\to 0$", "[R9]", "symbolic",
                       "ridgeless E_g, q < 1", where=((eg_under, cf["Eg_ridgeless_under"]),)),
        DerivationStep(Eq(etr_under, s2 * (1 - q)), "ridgeless, $q < 1$: the training error", "[R9]", "symbolic",
                       "ridgeless E_tr, q < 1", where=((etr_under, cf["Etr_ridgeless_under"]),)),
        DerivationStep(Eq(k0, q - 1), "ridgeless, $q > 1$: $q\\,\\mathrm{df}^1(\\kappa_0) = 1$ (implicit "
                       "regularization)", "[R9], P5", "symbolic", "kappa_0", where=((k0, cf["kappa0_over"]),)),
        DerivationStep(Eq(eg_over, (1 - 1 / q) + s2 / (q - 1)), "ridgeless, $q > 1$, where $E_{tr} = 0$", "[R9]",
                       "symbolic", "ridgeless E_g, q > 1", where=((eg_over, cf["Eg_ridgeless_over"]),)),
        DerivationStep(Eq(kpk, (lam + sp.sqrt(lam**2 + 4 * lam)) / 2), "at the double-descent peak $q = 1$",
                       "[R9]", "symbolic", "kappa at the peak", where=((kpk, cf["kappa_peak"]),)),
        DerivationStep(Eq(sp.Limit(sp.sqrt(lam) * sp.Symbol(r"E_g\vert_{q=1}"), lam, 0), s2 / 2),
                       "$1 - \\gamma \\approx 2\\sqrt\\lambda$ at the peak: $E_g \\approx \\sigma^2/(2\\sqrt\\lambda)$ "
                       "diverges as $\\lambda \\to 0$", "[R9]", "symbolic", "divergence at the peak",
                       where=((sp.Symbol(r"E_g\vert_{q=1}"), cf["Eg"].subs(q, 1).subs(k, cf["kappa_peak"])),)),
        DerivationStep(Eq(lam_st, q * s2), "the stationary point of $E_g$ in $\\kappa$, mapped to the ridge "
                       "($s = \\Vert\\bar w\\Vert^2 = 1$)", "[R9]", "symbolic", "optimal ridge",
                       where=((lam_st, cf["optimal_ridge"]),)),
        DerivationStep(Eq(eg_st, kst / (1 + kst)), "the optimal error", "[R9]", "symbolic", "optimal E_g",
                       where=((eg_st, cf["Eg_optimal"]), (kst, cf["kappa_optimal"]))),
        DerivationStep(sp.LessThan(sp.Function("E_g")(lam_st), sp.Function("E_g")(lam_st * (1 + sp.Symbol(r"\pm 0.01")))),
                       "$\\lambda^*$ is a minimum of the numeric evaluator", "[R9]", "numeric", "Bayes optimality",
                       checker=_bayes_optimal),
        DerivationStep(Eq(eg_st, kst * N.df1_Sigma(kst)),
                       "for a general $\\Sigma$ with the isotropic prior $\\mathbb E\\,\\bar w\\bar w^\\top = \\frac sN I$ "
                       "the same $\\lambda^*$ gives $E_g^* = s\\,\\kappa^*\\mathrm{df}^1_\\Sigma(\\kappa^*)$", "[R9]",
                       "numeric", "general Sigma", checker=_general_sigma),
        DerivationStep(Eq(N.E_g, sp.Symbol(r"E_g^{\mathrm{MC}}")), "theory against simulation, $q = 1/2$",
                       "[R9], [R6]", "montecarlo", "Monte Carlo", approx=True, checker=_monte_carlo),
    )
    return Derivation(NAME, TITLE, steps,
                      results=(("$\\kappa$", cf["kappa"]), ("$E_g$", cf["Eg"]), ("optimal ridge $\\lambda^*$", cf["optimal_ridge"])),
                      assumptions=("$\\Sigma = I_N$, $\\Vert\\bar w\\Vert^2 = s = 1$", "$q = N/P$"),
                      summary="The closed forms of isotropic ridge regression, derived by the library from its own "
                              "kappa equation and error, with the limits that make double descent.")
