"""Additive feature noise and nonlinear features by Gaussian equivalence [R19].

Feature noise ``z = F^T x + xi`` enters the nested renormalization as an
extra ridge at the feature level.  Nonlinear features ``phi(F^T x)`` reduce to
it with the Gaussian-equivalence coefficients ``mu_0``, ``mu_1``, ``mu_*``,
derived by exact integrals (relu) and by quadrature, and checked against
simulations of real relu features.
"""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

from . import _notation as N
from ._checks import agree, agree_stats, within

NAME = "feature-noise"
TITLE = "Additive feature noise and nonlinear features"

_D, _NW, _P, _SXI = 300, 200, 150, 0.3


def _noise_identity(rng):
    # (1/D) Tr[(F^T Sigma F + s)(F^T Sigma F + s + kappa_1)^-1] against
    # df1(kappa_2) + s/kappa_2 (s = sigma_xi^2) over 6 draws of F, at the
    # model's kappa_1 and kappa_2; allowance 2/D (P10)
    pop = freeprob.PowerLaw(1.5, _D)
    model = freeprob.RandomFeatureRidge(pop, widths=_NW, samples=_P, feature_noise=_SXI)
    lam = np.array([1e-2, 0.3])
    out = model.evaluate(ridge=lam)
    sigma, _ = pop.spectrum.numeric_atoms()
    draws = []
    for _ in range(6):
        f = rng.normal(0, 1 / np.sqrt(_D), (_D, _NW))
        mu = np.linalg.eigvalsh(f.T @ (sigma[:, None] * f)) + _SXI
        draws.append([np.sum(mu / (mu + k1)) / _D for k1 in out["kappa1"]])
    th = pop.df1_numeric(out["kappa2"]) + _SXI / out["kappa2"]
    return agree(draws, th, allowance=2 / _D, what="D-normalized df of F^T Sigma F + sigma_xi^2 at kappa_1, 2 ridges")


def _implicit_ridge(rng):
    # lambda = 0 with P < N: dfbar1 = P/D, so kappa_2 (P/D - df1(kappa_2)) =
    # sigma_xi^2 exactly, and kappa_2 -> D sigma_xi^2/P for large noise (within
    # 5% at P = 1000 and decreasing in P; the parameters of figure F21: D =
    # 1e4, N = 5000, sigma_xi = 2.5/sqrt(D))
    d, st = 10**4, 2.5
    pop = freeprob.PowerLaw(1.8, d)
    m = freeprob.RandomFeatureRidge(pop, widths=5000, samples=100, ridge=0.0, feature_noise=st**2 / d,
                                    target=freeprob.SourceTarget(0.4))
    p = np.array([100, 1000])
    k2 = m.evaluate(samples=p)["kappa2"]
    ok1, res1, _ = within(k2 * (p / d - pop.df1_numeric(k2)), np.full(2, st**2 / d), 1e-10, "")
    ratio = k2 * p / st**2
    ok = ok1 and abs(ratio[-1] - 1) < 0.05 and ratio[-1] < ratio[0]
    return ok, res1, (f"kappa_2 (P/D - df1) against sigma_xi^2: {res1:.1e}; kappa_2 P/(D sigma_xi^2) = "
                      f"{ratio[0]:.3f}, {ratio[-1]:.3f} at P = 100, 1000")


def _quadrature(rng):
    # the relu coefficients by mpmath quadrature (30 digits) against the exact
    # integrals, both rounded to float64: tolerance 1e-10
    relu = freeprob.activation("relu")
    nu = 1.3
    exact = np.array([float(v) for v in relu.coefficients(nu, method="exact")])
    quad = np.array([float(v) for v in relu.coefficients(nu, method="quad")])
    return within(quad, exact, 1e-10, "(mu_0, mu_1, mu_*) of relu at nu = 1.3, quadrature against exact")


def _monte_carlo(model_factory, what, seeds=(10, 10)):
    # theory against crossed X/F draws: 4 s.e. + 5% (P10 and the finite-size
    # error of Gaussian equivalence at D = 200)
    def check(rng):
        model = model_factory()
        sim = freeprob.simulate(model, seeds=seeds, rng=rng)
        th = float(model.evaluate()["Eg"])
        mean, se = (float(v[0]) for v in sim["Eg"])
        return agree_stats(mean, se, th, allowance=0.05 * th, what=what)

    return check


def _noisy_model():
    return freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 200), widths=100, samples=120, ridge=1e-2, noise=0.05,
                                       feature_noise=0.2, target=freeprob.SourceTarget(0.7))


def _relu_model():
    return freeprob.NonlinearRandomFeatureRidge(freeprob.Identity(1), widths=160, samples=100, noise=0.2, dimension=200,
                                                activation="relu", ridge=1e-2)


def build() -> Derivation:
    k1, k2, phi, sx, lam = C.kappa1, C.kappa2, C.phi, C.sigma_xi2, C.lam
    m = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=sp.Symbol("N", positive=True),
                                    dimension=sp.Symbol("D", positive=True))
    maps = m.maps()
    psi = m.psis[0]
    d1 = N.df1_Sigma(k2)
    dfbar = sp.Symbol(r"\overline{\mathrm{df}}_1")
    bind = ((dfbar, maps["dfbar1"]), (d1, m.population.df1(k2)), (k1, maps["kappa1"]), (lam, maps["lam"]))
    relu = freeprob.activation("relu")
    nu = sp.Symbol("nu", positive=True)
    mu0, mu1, ms = relu.coefficients(nu, method="exact")
    m0, m1, m2 = sp.symbols(r"\mu_0 \mu_1 \mu_*^2")
    steps = (
        DerivationStep(Eq(dfbar, d1 + sx / k2),
                       "the $D$-normalized df of $F^\\top\\Sigma F + \\sigma_\\xi^2$ at $\\kappa_1$, per feature",
                       "[R19], P8", "symbolic", "dfbar_1", where=bind, source="RandomFeatureRidge(feature_noise=...).maps()"),
        DerivationStep(Eq(k1 + sx, k2 * (psi - d1)),
                       "additive noise acts as an extra ridge at the feature level", "[R19]", "symbolic",
                       "extra ridge", where=bind),
        DerivationStep(Eq(k1, k2 * (psi - dfbar)), "equivalently, with $\\overline{\\mathrm{df}}_1$", "[R19]",
                       "symbolic", "kappa_1", where=bind),
        DerivationStep(Eq(lam, k1 * (1 - dfbar / phi)),
                       "$\\overline{\\mathrm{df}}_1$ replaces $\\mathrm{df}_1$ in $S_W$ (and in $s_F$, $\\rho$, $\\gamma_1$; "
                       "not in $\\mathrm{df}_2$, $\\mathrm{tf}$, $\\gamma_2$)", "[R19], P8", "symbolic", "the ridge",
                       where=bind),
        DerivationStep(Eq(sp.Symbol(r"\tfrac1D \mathrm{Tr}\big[(F^\top\Sigma F + \sigma_\xi^2)(F^\top\Sigma F + "
                                    r"\sigma_\xi^2 + \kappa_1)^{-1}\big]"), d1 + sx / k2),
                       "the additive-noise identity on sampled $F$ ($D = 300$, $N = 200$, $\\sigma_\\xi^2 = 0.3$)",
                       "[R19]", "montecarlo", "additive-noise identity", approx=True, checker=_noise_identity),
        DerivationStep(Eq(N.E_g, sp.Symbol(r"E_g^{\mathrm{MC}}")),
                       "with noisy test features $E_g$ includes $\\sigma_\\xi^2\\Vert\\hat v\\Vert^2$ (P6); crossed "
                       "$10 \\times 10$ draws", "[R19], P6", "montecarlo", "Monte Carlo, feature noise", approx=True,
                       checker=_monte_carlo(_noisy_model, "E_g with feature noise")),
        DerivationStep(Eq(k2, sp.Symbol("D") * sx / (sp.Symbol("P") - sp.Symbol("D") * d1)),
                       "$\\lambda \\to 0$, $P < N$: $\\overline{\\mathrm{df}}_1 = P/D$, an implicit ridge "
                       "$\\kappa_2 \\approx D\\sigma_\\xi^2/P$ for large noise ($\\ell = 1$)", "[R19]", "numeric",
                       "implicit ridge", checker=_implicit_ridge),
        DerivationStep(Eq(m1, sp.Rational(1, 2)), "Gaussian equivalence $\\varphi(h) \\approx \\mu_0 + \\mu_1 h + "
                       "\\mu_*\\xi$, $h \\sim \\mathcal N(0, \\nu)$: $\\mu_1 = \\mathbb E\\,\\varphi'(h)$ for relu", "[R19]",
                       "symbolic", "mu_1 of relu", where=((m1, mu1),), source="activation('relu').coefficients(nu)"),
        DerivationStep(Eq(m0, sp.sqrt(nu / (2 * sp.pi))), "$\\mu_0 = \\mathbb E\\,\\varphi(h)$", "[R19]", "symbolic",
                       "mu_0 of relu", where=((m0, mu0),)),
        DerivationStep(Eq(m2, nu * (sp.Rational(1, 4) - 1 / (2 * sp.pi))),
                       "$\\mu_*^2 = \\mathbb E\\,\\varphi^2 - \\mu_0^2 - \\nu\\mu_1^2$", "[R19]", "symbolic", "mu_* of relu",
                       where=((m2, ms**2),)),
        DerivationStep(Eq(sp.Symbol(r"(\mu_0, \mu_1, \mu_*)_{\mathrm{quad}}"), sp.Symbol(r"(\mu_0, \mu_1, \mu_*)_{\mathrm{exact}}")),
                       "the quadrature route used for activations without closed forms (tanh, erf, any expression)",
                       "[R19]", "numeric", "quadrature route", checker=_quadrature),
        DerivationStep(Eq(sp.Symbol(r"E_g^{\mathrm{relu}}"), sp.Symbol(r"E_g^{\mathrm{GE}}")),
                       "real relu features against the Gaussian-equivalent feature-noise model ($D = 200$, $N = 160$, "
                       "$P = 100$, $8 \\times 8$ draws)", "[R19]", "montecarlo", "relu Monte Carlo", approx=True,
                       checker=_monte_carlo(_relu_model, "E_g of relu features", seeds=(8, 8))),
    )
    return Derivation(NAME, TITLE, steps, results=(("$\\mu_0$ (relu)", mu0), ("$\\mu_*^2$ (relu)", ms**2)),
                      assumptions=("$z = F^\\top x + \\xi$, $\\xi \\sim \\mathcal N(0, \\sigma_\\xi^2 I_N)$ drawn "
                                   "independently for every training and test point",
                                   "for nonlinear features, $h = F^\\top x$ with $\\nu = \\mathrm{tr}\\,\\Sigma$"),
                      summary="Feature noise is an extra ridge at the feature level; nonlinear random features are "
                              "linear features plus such noise (Gaussian equivalence).")
