"""The spectra used in the figures [R20]: the Wigner semicircle (F1) and the
power-law population with its empirical covariance (F3)."""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq
from freeprob.montecarlo.sampling import (
    ks_distance,
    population_wishart_eigenvalues,
    wigner,
)

from ._checks import ks_rigid_tolerance

NAME = "figure-spectra"
TITLE = "Spectra used in the figures"


def _wigner_ks(rng):
    # F1: a GOE matrix of size 2000 with entries N(0, 1/N) against the
    # semicircle of radius 2; tolerance log(n)/n (rigidity, see _checks)
    e = wigner(2000, rng)
    ks, tol = ks_distance(e, freeprob.Semicircle(1)), ks_rigid_tolerance(e.size)
    return ks < tol, ks, f"Kolmogorov distance {ks:.4f} at N = 2000 (tolerance {tol:.3f})"


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
    return worst <= 1 + 1e-9, worst, "max |count - continuum count| <= 1 over 600 random eta, 3 spectra"


def _empirical_covariance(rng):
    # F3: the sample covariance of a power-law population (eta_k = k^-1.2,
    # N = 400, P = 800) against the free product PowerLaw boxtimes MP(1/2)
    # by subordination; Kolmogorov distance, tolerance log(n)/n
    pop = freeprob.PowerLaw(1.2, 400)
    law = freeprob.free_mul(pop, freeprob.MarchenkoPastur(0.5))
    e = population_wishart_eigenvalues(pop.spectrum.numeric_atoms()[0], 800, rng)
    ks, tol = ks_distance(e, law), ks_rigid_tolerance(e.size)
    return ks < tol, ks, f"Kolmogorov distance {ks:.4f} at N = 400, P = 800 (tolerance {tol:.3f})"


def build() -> Derivation:
    sigma = sp.Symbol("sigma", positive=True)
    x, z, w = sp.Symbol("x", real=True), C.z, sp.Symbol("w")
    wig = freeprob.Semicircle(sigma**2)
    alpha, n, eta = sp.Symbol("alpha", positive=True), sp.Symbol("N", positive=True), sp.Symbol("eta", positive=True)
    rho = eta ** (-1 - 1 / alpha) / (alpha * n)
    g = sp.Function("g")(z)
    r_w = sp.Function("R")(g)
    zero_plus = sp.Symbol("0^+", positive=True)
    g_edge = sp.Function("g")(x + sp.I * zero_plus)
    count = sp.Symbol(r"\#\{k : \eta_k \geq \eta\}")
    rho_sym = sp.Function(r"\rho")(eta)
    steps = (
        DerivationStep(Eq(sp.Function("R")(w), sigma**2 * w),
                       "Wigner: only the second free cumulant is nonzero (R from the algebraic curve)", "[R20], [C8]",
                       "symbolic", "Wigner R", where=((sp.Function("R")(w), wig.r_transform(w, method="curve")),),
                       source="Semicircle(sigma^2).r_transform(w, method='curve')"),
        DerivationStep(Eq(r_w + 1 / g, z),
                       "the closed form $g = (z - \\sqrt{z - 2\\sigma}\\sqrt{z + 2\\sigma})/(2\\sigma^2)$ (branch-safe, "
                       "$g \\sim 1/z$) inverts $R$", "[R20], [C4], [C8]", "numeric", "Wigner g",
                       where=((r_w, wig.r_transform(w).subs(w, wig.stieltjes(z))), (g, wig.stieltjes(z))),
                       ranges=((sigma, 0.2, 2.0), (z, 4.5, 9.0)), source="Semicircle(sigma^2).stieltjes(z)"),
        DerivationStep(Eq(-sp.im(g_edge) / sp.pi, sp.sqrt(4 * sigma**2 - x**2) / (2 * sp.pi * sigma**2)),
                       "the density from the Stieltjes transform just above the real axis ($x + 10^{-22} i$)",
                       "[R20], [C4]", "numeric", "Wigner density",
                       where=((g_edge, wig.stieltjes(z).subs(z, x + sp.I * sp.Float("1e-22"))),),
                       ranges=((sigma, 1.0, 2.0), (x, -1.9, 1.9))),
        DerivationStep(Eq(sp.Symbol(r"\rho_{\mathrm{GOE}}"), sp.Symbol(r"\rho_{\mathrm{SC}}")),
                       "figure F1: a sampled GOE spectrum against the semicircle", "[R20]", "montecarlo",
                       "GOE spectrum", approx=True, checker=_wigner_ks),
        DerivationStep(Eq(sp.Integral(n * rho_sym, (eta, n ** (-alpha), 1)), n - 1),
                       "the continuum density $\\rho(\\eta) = \\frac{1}{\\alpha N}\\eta^{-1-1/\\alpha}$ of "
                       "$\\eta_k = k^{-\\alpha}$ carries $N - 1$ of the $N$ eigenvalues on $[N^{-\\alpha}, 1]$", "[R20]",
                       "symbolic", "power-law mass", where=((rho_sym, rho),)),
        DerivationStep(Eq(count, eta ** (-1 / alpha) - 1),
                       "the continuum count of eigenvalues above $\\eta$ is within one eigenvalue of the true count",
                       "[R20]", "numeric", "power-law counting", approx=True, checker=_power_law_counting),
        DerivationStep(Eq(sp.Symbol(r"\rho_{\hat\Sigma}"), sp.Symbol(r"\rho_{\Sigma \boxtimes \mathrm{MP}}")),
                       "figure F3: the sample covariance of a power-law population against the free product "
                       "(the authors compared with the population density only)", "[R20], [R2a]", "montecarlo",
                       "empirical covariance", approx=True, checker=_empirical_covariance),
    )
    return Derivation(NAME, TITLE, steps,
                      results=(("$\\rho(\\eta)$", rho), ("$g_{\\mathrm{SC}}(z)$", wig.stieltjes(z))),
                      assumptions=("$\\eta_k = k^{-\\alpha}$, $k = 1, \\dots, N$",
                                   "Wigner entries of variance $\\sigma^2/N$"),
                      summary="The semicircle law of F1 and the power-law spectra of F3, derived from the library's "
                              "laws and checked against sampled matrices.")
