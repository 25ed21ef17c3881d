"""Deep linear random-feature chains and anisotropic weights [R17], [R18]."""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "deep-and-anisotropic"


def _fan_in(rng):
    pop = freeprob.PowerLaw(1.4, 300)
    a = freeprob.RandomFeatureRidge(pop, widths=[250, 200], samples=120, layer_variance="fan_in")
    b = freeprob.RandomFeatureRidge(pop, widths=[250, 200], samples=120)
    lam = np.array([1e-3, 0.2])
    ea, eb = a.evaluate(ridge=lam)["Eg"], b.evaluate(ridge=lam * 250 / 300)["Eg"]
    res = float(np.max(np.abs(ea / eb - 1)))
    return res < 1e-10, res, "fan_in at lambda vs input at lambda N_1/D"


def _finite_width(rng):
    from freeprob.scaling import finite_width_curve

    pop = freeprob.PowerLaw(1.5, 10**4)
    _, _, local = finite_width_curve(pop, 10, 0.7, np.array([5000, 10**4]))
    res = abs(local[-1] - 2 * (1 - 0.7))
    return res < 0.05, res, f"local exponent {local[-1]:.3f} vs 2(1 - alpha_F) = 0.6"


def build() -> Derivation:
    deep = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=[30, 20, 10], samples=10, dimension=40)
    p1, p2, p3 = (C.width_ratio(i) for i in (1, 2, 3))
    df = C.df
    aniso = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=30, samples=10, dimension=40,
                                        feature_covariance=freeprob.PowerLaw(0.5, 30))
    steps = (
        DerivationStep(Eq(deep.s_features(df), 1 / ((p1 - df) * (p2 - df) * (p3 - df))),
                       "free product of the layers' Wishart laws", "[R17]", "symbolic", "S_F of a chain"),
        DerivationStep(Eq(sp.Symbol("E_g^{fan-in}(lambda)"), sp.Symbol("E_g^{input}(lambda N_1/D)")),
                       "variances 1/N_{l-1} rescale the ridge", "[R17], P7", "montecarlo", "fan-in", checker=_fan_in),
        DerivationStep(Eq(aniso.s_features(df), 1 / (df * C.kappa_F(df / p1))),
                       "dimension change of Sigma_F boxtimes MP(N/D)", "[R18]", "symbolic", "S_F anisotropic"),
        DerivationStep(Eq(sp.Symbol("c"), 2 * (1 - sp.Symbol("alpha_F"))), "finite-width exponent crossover",
                       "[R18]", "montecarlo", "c(alpha_F)", checker=_finite_width),
    )
    return Derivation(NAME, "Deep chains and anisotropic feature weights", steps,
                      assumptions=("all layers N(0, 1/D) unless stated", "F = G Sigma_F^(1/2)/sqrt(D)"))
