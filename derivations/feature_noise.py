"""Additive feature noise and nonlinear features by Gaussian equivalence [R19]."""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "feature-noise"


def _extra_ridge(rng):
    pop = freeprob.PowerLaw(1.5, 300)
    out = freeprob.RandomFeatureRidge(pop, widths=200, samples=150, feature_noise=0.3).evaluate(
        ridge=np.array([1e-2, 1.0]))
    res = float(np.max(np.abs(out["kappa1"] + 0.3 - out["kappa2"] * (200 / 300 - pop.df1_numeric(out["kappa2"])))))
    return res < 1e-12, res, "kappa_1 + sigma_xi^2 - kappa_2 (N/D - df1)"


def _relu_mc(rng):
    m = freeprob.NonlinearRandomFeatureRidge(freeprob.Identity(1), widths=160, samples=100, noise=0.2, dimension=200,
                                             activation="relu", ridge=1e-2)
    sim = freeprob.simulate(m, seeds=(8, 8), rng=rng)
    th = float(m.evaluate()["Eg"])
    mean, se = (float(v[0]) for v in sim["Eg"])
    return abs(mean - th) <= 4 * se + 0.05 * th, abs(mean - th) / th, f"theory {th:.4g}, relu features {mean:.4g}"


def build() -> Derivation:
    relu = freeprob.activation("relu")
    nu = sp.Symbol("nu", positive=True)
    mu0, mu1, ms = relu.coefficients(nu, method="exact")
    steps = (
        DerivationStep(Eq(C.kappa1 + C.sigma_xi2, C.kappa2 * (sp.Symbol("N") / sp.Symbol("D") - sp.Symbol("df_1"))),
                       "feature noise is an extra ridge at the feature level", "[R19]", "montecarlo",
                       "extra ridge", checker=_extra_ridge),
        DerivationStep(Eq(mu1, sp.Rational(1, 2)), "relu: E phi'(h) = 1/2", "[R19]", "symbolic", "mu_1 relu"),
        DerivationStep(Eq(ms**2, nu * (sp.Rational(1, 4) - 1 / (2 * sp.pi))), "relu: E phi^2 - mu_0^2 - nu mu_1^2",
                       "[R19]", "symbolic", "mu_* relu"),
        DerivationStep(Eq(sp.Symbol("E_g^{relu}"), sp.Symbol("E_g^{Gaussian equivalent}")),
                       "real relu features vs the additive-noise model", "[R19]", "montecarlo", "relu Monte Carlo",
                       checker=_relu_mc),
    )
    return Derivation(NAME, "Additive feature noise and nonlinear features", steps,
                      results=(("mu_0 (relu)", mu0),), assumptions=("h ~ N(0, nu), nu = tr Sigma",))
