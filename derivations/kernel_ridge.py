"""Kernel ridge regression through Gaussian universality [R10]."""

import numpy as np
import sympy as sp

import freeprob
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "kernel-ridge"


def _non_gaussian_features(rng):
    # Gaussian universality for non-Gaussian data: Mercer coordinates with
    # i.i.d. Rademacher signs (+-1) times sqrt(eta_k), eta_k = k^-alpha; the
    # exact test error is sum_k eta_k (w_k - wbar_k)^2.  Theory: LinearRidge
    # on the Mercer spectrum.  20 draws: 4 s.e. + 5% (P10).  (Structured
    # features such as Fourier modes at uniform points on the circle deviate
    # by ~25% at P = 200: universality is asymptotic and needs generic data.)
    n_feat, p, lam, alpha, noise = 300, 200, 1e-3, 1.5, 0.05
    k = np.arange(1, n_feat + 1, dtype=float)
    eta = k**-alpha
    wbar = k ** (-(1 + alpha * (2 * 0.6 - 1)) / 2)
    wbar /= np.linalg.norm(wbar)
    errs = []
    for _ in range(20):
        xs = rng.choice([-1.0, 1.0], size=(p, n_feat)) * np.sqrt(eta)
        y = xs @ wbar + np.sqrt(noise) * rng.normal(size=p)
        w = np.linalg.solve(xs.T @ xs / p + lam * np.eye(n_feat), xs.T @ y / p)
        errs.append(float(np.sum(eta * (w - wbar) ** 2)))
    model = freeprob.LinearRidge(freeprob.Discrete(eta), target=wbar, noise=noise, samples=p, ridge=lam)
    th = float(model.evaluate()["Eg"])
    mean, se = np.mean(errs), np.std(errs, ddof=1) / np.sqrt(len(errs))
    return abs(mean - th) <= 4 * se + 0.05 * th, abs(mean - th) / th, f"theory {th:.4g}, Rademacher data {mean:.4g}"


def build() -> Derivation:
    lam, p = sp.symbols("lambda P", positive=True)
    steps = (
        DerivationStep(Eq(sp.Symbol(r"(K + \lambda P)^{-1}"), sp.Symbol(r"(\hat K + \lambda)^{-1}/P")),
                       "KRR with the 1/P loss: ridge lambda P on the raw Gram matrix", "[R10], P2", "cited",
                       "ridge normalization"),
        DerivationStep(Eq(sp.Symbol("E_g^{KRR}"), sp.Symbol("E_g^{linear}(Mercer spectrum)")),
                       "Gaussian universality: KRR = linear ridge on the Mercer features", "[R10]", "montecarlo",
                       "non-Gaussian data", checker=_non_gaussian_features),
    )
    return Derivation(NAME, "Kernel ridge regression via Gaussian universality", steps,
                      assumptions=("Mercer features orthonormal in L2(x)", "target in the span of the features"))
