"""The spectra used in the figures [R20]: the Wigner semicircle and the
continuum density of a power-law population."""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "figure-spectra"


def _power_law_counting(rng):
    """#{k <= N : k^-alpha >= eta} = floor(eta^(-1/alpha)) against the
    continuum count N int_eta^1 rho = eta^(-1/alpha) - 1: they differ by at
    most 1 for every eta in [N^-alpha, 1], for the library's atoms."""
    worst = 0.0
    for alpha, n in ((1.2, 1000), (2.0, 500), (1.5, 10**4)):
        vals, _ = freeprob.PowerLaw(alpha, n).spectrum.numeric_atoms()
        eta = np.exp(rng.uniform(np.log(float(n) ** -alpha), 0.0, 200))
        count = np.array([(vals >= e).sum() for e in eta])
        diff = count - (eta ** (-1 / alpha) - 1)  # floor(u) - (u - 1) lies in (0, 1]
        worst = max(worst, float(np.max(np.abs(diff))))
    return worst <= 1 + 1e-9, worst, "max |count - continuum count| <= 1 over 600 random eta"


def build() -> Derivation:
    sigma = sp.Symbol("sigma", positive=True)
    x, z = sp.Symbol("x", real=True), C.z
    wig = freeprob.Semicircle(sigma**2)
    w = sp.Symbol("w")
    alpha, n, eta = sp.Symbol("alpha", positive=True), sp.Symbol("N", positive=True), sp.Symbol("eta", positive=True)
    rho = eta ** (-1 - 1 / alpha) / (alpha * n)
    steps = (
        DerivationStep(Eq(wig.r_transform(w), sigma**2 * w), "Wigner: R(w) = sigma^2 w (only the second free "
                       "cumulant)", "[R20]", "symbolic", "Wigner R"),
        DerivationStep(Eq(wig.r_transform(w).subs(w, wig.stieltjes(z)) + 1 / wig.stieltjes(z), z),
                       "the closed form g = (z - sqrt(z - 2 sigma) sqrt(z + 2 sigma))/(2 sigma^2) (branch-safe, "
                       "g ~ 1/z at infinity) inverts R: R(g) + 1/g = z", "[R20], [C4], [C8]", "numeric",
                       "Wigner g", ranges=((sigma, 0.2, 2.0), (z, 4.5, 9.0))),
        DerivationStep(Eq(wig.density(x).args[0][0], sp.sqrt(4 * sigma**2 - x**2) / (2 * sp.pi * sigma**2)),
                       "density -Im g(x + i0)/pi on [-2 sigma, 2 sigma]", "[R20]", "numeric", "Wigner density",
                       ranges=((sigma, 1.0, 2.0), (x, -1.9, 1.9))),
        DerivationStep(Eq(sp.integrate(n * rho, (eta, n ** (-alpha), 1)), n - 1),
                       "the continuum power-law density carries N - 1 of the N eigenvalues on [N^-alpha, 1]",
                       "[R20]", "symbolic", "power-law mass"),
        DerivationStep(Eq(sp.Symbol("count(eta)"), eta ** (-1 / alpha) - 1),
                       "eigenvalues eta_k = k^-alpha above eta: the continuum count within one eigenvalue",
                       "[R20]", "montecarlo", "power-law counting", checker=_power_law_counting),
    )
    return Derivation(NAME, "Spectra used in the figures", steps,
                      results=(("rho(eta)", rho), ("g_Wigner(z)", wig.stieltjes(z))),
                      assumptions=("eta_k = k^-alpha, k = 1..N", "Wigner entries of variance sigma^2/N"),
                      summary="The semicircle law of F1 and the continuum density of the power-law population "
                              "of F3, derived from the library's laws and checked.")
