"""Power-law scaling of linear ridge regression [R11], [R21]: exponents derived by dominant balance."""

import sympy as sp

import freeprob
from freeprob.derivation import Derivation, DerivationStep, Eq
from freeprob.scaling import ALPHA, ELL, R, C_alpha, exponent, mellin_leading, verify

NAME = "power-law-scaling"


def _slope(rng):
    m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 10**6), target=freeprob.SourceTarget(0.4), ridge=0)
    v = verify(m, "Eg", start=30, decades=3)
    return v.error < 0.06, v.error, str(v)


def build() -> Derivation:
    src = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 1000), target=freeprob.SourceTarget(0.5), ridge=0)
    ridge = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 1000), target=freeprob.SourceTarget(0.5), ridge=1e-3,
                                 noise=0.1)
    cont, _ = mellin_leading(0, 0, 1, ALPHA)
    reg = sp.And(ELL < ALPHA, R < 1)
    steps = (
        DerivationStep(Eq(cont.coefficient, C_alpha(ALPHA)), "Mellin transform of 1/(1 + u)", "[R11a], [R21]",
                       "symbolic", "C_alpha"),
        DerivationStep(Eq(exponent(src, "kappa", "samples", R < 1), ALPHA), "dominant balance q df1 = 1",
                       "[R11a]", "symbolic", "kappa ~ P^-alpha"),
        DerivationStep(Eq(exponent(src, "Eg", "samples", R < 1), 2 * ALPHA * R), "source-limited", "[R11c]",
                       "symbolic", "E_g, r < 1"),
        DerivationStep(Eq(exponent(src, "Eg", "samples", R > 1), 2 * ALPHA), "capacity-limited", "[R11c]",
                       "symbolic", "E_g, r > 1"),
        DerivationStep(Eq(exponent(ridge, "var_X_noise", "samples", reg), 1 - ELL / ALPHA),
                       "ridge-limited noise: gamma ~ kappa^(-1/alpha)/P", "[R11d]", "symbolic", "noise exponent"),
        DerivationStep(Eq(sp.Symbol("beta_fit"), 2 * ALPHA * R), "slope of the evaluator over three decades",
                       "[R11c], P14", "montecarlo", "slope fit", checker=_slope),
    )
    return Derivation(NAME, "Power-law scaling of linear ridge regression", steps,
                      assumptions=("eta_k = k^-alpha, alpha > 1", "target power k^-(1 + 2 alpha r)", "N >> P"))
