r"""Spectral figures F1-F5: Wigner, Marchenko-Pastur, the empirical spectrum
of a power-law population, the deep white Wishart, and the variance-component
diagrams.  Theory densities come from the laws' branch-certified numeric
densities; histograms from :mod:`freeprob.montecarlo.sampling` or direct matrix draws."""

from __future__ import annotations

import numpy as np

from freeprob.figures._base import Figure, Panel, Series
from freeprob.laws import (
    MarchenkoPastur,
    PowerLaw,
    Semicircle,
    WishartProduct,
    free_mul,
)
from freeprob.montecarlo.sampling import (
    population_wishart_eigenvalues,
    white_wishart,
    wigner,
)


def _hist(eigs, bins, n_total):
    """Bin edges and densities normalized by the matrix dimension
    ``n_total`` (so an atom at 0 left out of the bins shows as missing mass,
    as in the law's density)."""
    counts, edges = np.histogram(eigs, bins=bins)
    return edges, counts / (n_total * np.diff(edges))


def f1(fast, rng, executor=None):
    n = 400 if fast else 2000
    eigs = wigner(n, rng)
    law = Semicircle(1)
    x = np.linspace(-2.2, 2.2, 301)
    edges, dens = _hist(eigs, np.linspace(-2.2, 2.2, 45), n)
    panel = Panel("GOE spectrum vs semicircle", r"$\lambda$", r"$\rho(\lambda)$", (
        Series(f"eigenvalues, N={n}", edges, dens, "histogram"),
        Series(r"semicircle $\sigma^2=1$ [R20]", x, law.density_numeric(x), key="Eg")))
    return Figure("F1", "wigner", (
        f"Eigenvalues of a {n}x{n} GOE matrix with entries N(0, 1/N) (symmetric part) against the "
        "semicircle density sqrt(4 - x^2)/(2 pi) of radius 2 [R20]."), (panel,), (("N", n),))


def f2(fast, rng, executor=None):
    n = 300 if fast else 3000
    series, x_all = [], []
    for i, q in enumerate(np.logspace(-1, 1, 5)):
        p = int(round(n / q))
        q_eff = n / p
        eigs = white_wishart(n, p, rng)
        law = MarchenkoPastur(q_eff)
        (lo, hi), = law._ac_intervals()  # the edges (1 -+ sqrt q)^2, from the law [R1]
        x = np.linspace(lo, hi, 400)[1:-1]
        edges, dens = _hist(eigs[eigs > 1e-9], np.linspace(lo, hi, 40), n)
        series += [Series(f"q={q_eff:.3g} sampled", edges, dens, "histogram", key=f"q{i}"),
                   Series(f"q={q_eff:.3g} MP [R1]", x, law.density_numeric(x), key=f"q{i}")]
        x_all.append(q_eff)
    panel = Panel("Marchenko-Pastur", r"$\lambda$", r"$\rho(\lambda)$", tuple(series), "linear", "log", (1e-3, 10))
    return Figure("F2", "white_wishart", (
        f"Spectra of white Wishart matrices X X^T/P (N={n}, P=N/q) against the Marchenko-Pastur density [R1]; "
        "for q>1 the atom 1-1/q at zero is not drawn, both histogram and density are normalized by N."),
        (panel,), (("N", n), ("q", tuple(x_all))))


def f3(fast, rng, executor=None):
    n = 200 if fast else 1000
    alpha = 1.2
    pop = PowerLaw(alpha, n)
    eta = np.arange(1, n + 1, dtype=float) ** -alpha
    series = []
    for i, q in enumerate(np.logspace(-1, 1, 5)):
        p = int(round(n / q))
        q_eff = n / p
        eigs = population_wishart_eigenvalues(eta, p, rng)
        eigs = eigs[eigs > 1e-12]
        bins = np.logspace(np.log10(eigs.min()) - 0.05, np.log10(eigs.max()) + 0.05, 36)
        edges, dens = _hist(eigs, bins, n)
        # the theory grid covers the support beyond the sampled range (edge tails)
        x = np.logspace(np.log10(edges[0]) - 1.5, np.log10(edges[-1]) + 0.5, 240)
        law = free_mul(pop, MarchenkoPastur(q_eff))
        series += [Series(f"q={q_eff:.3g} sampled", edges, dens, "histogram", key=f"q{i}"),
                   Series(f"q={q_eff:.3g} free product [R2a]", x, law.density_numeric(x), key=f"q{i}")]
    x = np.logspace(-alpha * np.log10(n), 0, 50)
    series.append(Series(r"population $\frac{1}{\alpha (N-1)}\eta^{-1-1/\alpha}$ [R20]", x,
                         x ** (-1 - 1 / alpha) / (alpha * (n - 1)), "guide"))
    panel = Panel(r"sample covariance of $\eta_k=k^{-1.2}$", r"$\lambda$", r"$\rho(\lambda)$", tuple(series),
                  "log", "log", (1e-3, None))
    return Figure("F3", "colored_wishart", (
        f"Spectrum of the sample covariance of a power-law population eta_k = k^-1.2 (N={n}, P=N/q). "
        "The authors compare with the population density only; here each histogram is also compared with "
        "the density of the free multiplicative convolution Sigma x MP(q) [R2a], computed by subordination."),
        (panel,), (("N", n), ("alpha", alpha)))


def f4(fast, rng, executor=None):
    widths = (40, 200, 1200) if fast else (200, 1000, 6000)
    n0, n1, n2 = widths
    f1m = rng.normal(0.0, 1 / np.sqrt(n0), (n0, n1))
    f2m = rng.normal(0.0, 1 / np.sqrt(n1), (n1, n2))
    a = f1m @ f2m  # C = a^T a (n2 x n2) has rank n0: its nonzero spectrum is that of a a^T
    nonzero = np.linalg.eigvalsh(a @ a.T)
    law = WishartProduct([n2 / n0, n2 / n1])
    hi = nonzero.max() * 1.05
    x = np.linspace(hi / 2000, hi, 400)
    th = law.density_numeric(x)
    edges, dens = _hist(nonzero, np.linspace(0, hi, 40), n2)
    lin = Panel("linear density", r"$\lambda$", r"$\rho(\lambda)$", (
        Series("eigenvalues (atom at 0 omitted)", edges, dens, "histogram"),
        Series(r"$zt=(1+t)(1+c_1t)(1+c_2t)$ [R2d]", x, th, key="Eg")))
    lbins = np.logspace(np.log10(nonzero.min()) - 0.05, np.log10(hi), 36)
    ledges, ldens = _hist(nonzero, lbins, n2)
    xl = np.logspace(np.log10(lbins[0]), np.log10(hi), 300)
    log = Panel("log density", r"$\lambda$", r"$\rho(\lambda)$", (
        Series("eigenvalues", ledges, ldens, "histogram"),
        Series("WishartProduct density [R2d]", xl, law.density_numeric(xl), key="Eg")), "log", "log")
    return Figure("F4", "deep_white_wishart", (
        f"Spectrum of C = F2^T F1^T F1 F2 with widths {list(widths)} and entry variances 1/N_(l-1) against the "
        f"density of WishartProduct([{n2 // n0}, {n2 // n1}]) from zt = (1+t)(1+c1 t)(1+c2 t), the physical root "
        f"(pitfall P16); the atom of mass 1 - {n0}/{n2} at zero is omitted from both."),
        (lin, log), (("widths", widths),))


def f5(fast, rng, executor=None):
    lr = Panel("linear regression", extra=(
        ("venn", ("X", "eps")),
        ("regions", (((-0.65, 0.0), "Var_X"), ((0.0, 0.0), "Var_Xeps"), ((0.0, -1.05), "Bias^2 (outside)"))),
    ))
    lrf = Panel("linear random features", extra=(
        ("venn", ("X", "F", "eps")),
        ("regions", (((-0.6, 0.4), "Var_X"), ((0.6, 0.4), "Var_F"), ((0.0, 0.45), "Var_XF"),
                     ((-0.35, -0.3), "Var_Xeps"), ((0.0, -0.05), "Var_XFeps"), ((0.0, -1.2), "Bias^2 (outside)"))),
    ))
    return Figure("F5", "variance_components", (
        "Variance components [C15] as regions of a Venn diagram: each is the variance of the predictor explained "
        "by exactly the marked sources of randomness (data X, features F, label noise eps). The estimators used "
        "by freeprob.simulate are the unbiased crossed-seed ANOVA versions (pitfall P11). Var_F has no eps part: "
        "noise enters only through X."), (lr, lrf))
