"""Power-law scaling of linear ridge regression [R11], [R21].

Continuum constants come out of the Mellin transform
(:func:`freeprob.scaling.mellin_leading`), spectral sums out of their
continuum forms (checked against exact Euler-Maclaurin sums), and exponents
and prefactors out of the model's own expressions by dominant balance
(:func:`freeprob.scaling.leading_term`); the slopes of the numeric evaluator
and a gapped spectrum (multiple descent) close the loop.
"""

import mpmath
import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq
from freeprob.scaling import (
    ALPHA,
    ELL,
    C_alpha,
    R,
    continuum_forms,
    exponent,
    leading_term,
    mellin_leading,
    verify,
)

from . import _notation as N

NAME = "power-law-scaling"
TITLE = "Power-law scaling of linear ridge regression"


def _c_table(rng):
    # C_alpha by mpmath quadrature against the Mellin closed form, and the
    # value quoted in [R11a] (six digits)
    with mpmath.workdps(30):
        quad = mpmath.quad(lambda u: 1 / (1 + u ** mpmath.mpf(1.5)), [0, 1, mpmath.inf])
        closed = sp.N(C_alpha(sp.Rational(3, 2)), 30)
        res = float(abs(mpmath.mpf(str(closed)) - quad) / quad)
    ok = res < 1e-15 and abs(float(closed) - 2.418399) < 5e-7
    return ok, res, f"C_(3/2) = {float(closed):.7f} against 30-digit quadrature (table 2.418399)"


def _continuum_vs_exact(key):
    # the leading form against the exact infinite sum (Euler-Maclaurin) at
    # kappa = 1e-10, for two capacities: the next term is O(1) against
    # kappa^(-1/alpha), relative 1e-4 at most
    def check(rng):
        worst = 0.0
        for alpha in (1.5, 2.5):
            forms = continuum_forms(freeprob.PowerLaw(alpha, sp.oo))
            kap = 1e-10
            exact = float(forms.exact(key, kap)[0])
            lead = float(forms.leading(key).subs(C.kappa, kap))
            worst = max(worst, abs(lead / exact - 1))
        return worst < 1e-3, worst, f"{key}: leading form against the exact sum at kappa = 1e-10, alpha = 1.5, 2.5"

    return check


def _kappa_constant(rng):
    # the solver at lambda = 0 (P = 1000, n = 1e7, alpha = 1.5) against
    # (C_alpha/P)^alpha.  At finite P and n the sum sum_k eta/(eta + kappa)
    # is C kappa^(-1/alpha) - 1/2 (the discrete zeta(0) term) - n^(1 - alpha)/((alpha
    # - 1) kappa) (the truncated tail), so kappa moves by the relative amount
    # delta = -alpha (1/2 + tail)/P to first order.  The check: the solver's
    # deviation equals that prediction within 10% of it.
    alpha, p, n = 1.5, 1000, 10**7
    pop = freeprob.PowerLaw(alpha, n)
    kappa = float(freeprob.deterministic_equivalent(pop, ratio=n / p).solve(np.array([0.0]))[0])
    k0 = float(C_alpha(alpha) / p) ** alpha
    predicted = -alpha * (0.5 + n ** (1 - alpha) / ((alpha - 1) * k0)) / p
    observed = kappa / k0 - 1
    res = abs(observed / predicted - 1)
    return res < 0.1, res, (f"kappa/(C_alpha/P)^alpha - 1 = {observed:.3e}, the first finite-size correction "
                            f"predicts {predicted:.3e}")


def _slope(rng):
    m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 10**6), target=freeprob.SourceTarget(0.4), ridge=0)
    v = verify(m, "Eg", start=30, decades=3)
    return v.error < 0.06, v.error, f"fitted over three decades: {v} (tolerance 0.06, P14)"


def _multiple_descent(rng):
    # figure F11's three-block population: E_g(P) has a local maximum next
    # to each block edge N_1 = 10 and N_1 + N_2 = 110 (within 30%)
    sizes, vals, wts = (10, 100, 10_000), (1.0, 1e-2, 1e-5), (1.0, 10.0, 100.0)
    eta, wbar = np.repeat(vals, sizes), np.repeat(wts, sizes)
    wbar *= 100 / np.linalg.norm(wbar)
    model = freeprob.LinearRidge(freeprob.Discrete(eta), target=wbar, ridge=1e-8)
    ps = np.unique(np.logspace(0.3, 3.5, 200).astype(int))
    eg = model.evaluate(samples=ps)["Eg"]
    peaks = ps[1:-1][(eg[1:-1] > eg[:-2]) & (eg[1:-1] > eg[2:])]
    dist = [min(abs(np.log(peaks / edge))) if peaks.size else np.inf for edge in (10, 110)]
    return max(dist) < np.log(1.3), float(max(dist)), f"local maxima of E_g at P = {[int(v) for v in peaks]} (edges 10, 110)"


def build() -> Derivation:
    k, u, n, df, p = C.kappa, sp.Symbol("u", positive=True), sp.Symbol("N", positive=True), C.df, \
        sp.Symbol("P", positive=True)
    cont, _ = mellin_leading(0, 0, 1, ALPHA)
    c_a = sp.Symbol(r"C_\alpha")
    forms = continuum_forms(freeprob.PowerLaw(ALPHA, sp.oo), freeprob.SourceTarget(R))
    sum1, sum2 = sp.Symbol(r"\sum_k \frac{\eta_k}{\eta_k + \kappa}"), sp.Symbol(r"\sum_k \frac{\eta_k^2}{(\eta_k + \kappa)^2}")
    bias = sp.Symbol(r"\kappa^2 \sum_k \frac{\eta_k \bar w_k^2}{(\eta_k + \kappa)^2}")
    src = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 1000), target=freeprob.SourceTarget(0.5), ridge=0)
    noisy = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 1000), target=freeprob.SourceTarget(0.5), ridge=0, noise=0.1)
    ridge = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 1000), target=freeprob.SourceTarget(0.5), ridge=1e-3,
                                 noise=0.1)
    kc, ke, _ = leading_term(src, "kappa", "samples", R < 1)
    ec, ee, _ = leading_term(src, "Eg", "samples", R < 1)
    nc, ne, _ = leading_term(noisy, "var_X_noise", "samples", R < 1)
    reg = sp.And(ELL < ALPHA, R < 1)
    # [R21]: invert the continuum df1 = C_alpha kappa^(-1/alpha)/N for kappa, then S(df) by [C10]
    kap_of_df = sp.solve(sp.Eq(c_a * k ** (-1 / ALPHA) / n, df), k)[0]
    s_sigma = (1 - df) / (df * kap_of_df)
    r_a = ((ALPHA, 1.2, 3.0), (R, 0.05, 0.45))
    sig2 = sp.Symbol(r"\sigma^2")
    steps = (
        DerivationStep(Eq(sp.Integral(1 / (1 + u**ALPHA), (u, 0, sp.oo)), sp.pi / ALPHA / sp.sin(sp.pi / ALPHA)),
                       "the Mellin transform of $1/(1 + u)$ gives the resolution constant $C_\\alpha$", "[R11a], [R21]",
                       "symbolic", "C_alpha", where=((sp.Integral(1 / (1 + u**ALPHA), (u, 0, sp.oo)), cont.coefficient),),
                       source="scaling.mellin_leading(0, 0, 1, alpha)"),
        DerivationStep(Eq(sp.Symbol(r"C_{3/2}"), sp.Float("2.418399", 7)), "quadrature and the quoted value",
                       "[R11a]", "numeric", "C_3/2", checker=_c_table),
        DerivationStep(Eq(sum1, c_a * k ** (-1 / ALPHA)),
                       "continuum approximation of the (unnormalized) df sum, $\\eta_k = k^{-\\alpha}$", "[R11b]",
                       "numeric", "df1 continuum form", where=((sum1, forms.leading("df1")), (c_a, C_alpha(ALPHA))),
                       ranges=r_a + ((k, 1e-6, 1e-2),), source="scaling.continuum_forms(PowerLaw(alpha, oo)).leading('df1')"),
        DerivationStep(Eq(sum1, sp.Symbol(r"\sum_k^{\mathrm{exact}}")), "the continuum form against the exact sum",
                       "[R11b], P14", "numeric", "df1 against the exact sum", checker=_continuum_vs_exact("df1")),
        DerivationStep(Eq(sum2, (1 - 1 / ALPHA) * c_a * k ** (-1 / ALPHA)), "the same for $\\mathrm{df}^2$",
                       "[R11b]", "numeric", "df2 continuum form", where=((sum2, forms.leading("df2")), (c_a, C_alpha(ALPHA))),
                       ranges=r_a + ((k, 1e-6, 1e-2),)),
        DerivationStep(Eq(sum2, sp.Symbol(r"\sum_k^{\mathrm{exact}}")), "the continuum form against the exact sum",
                       "[R11b], P14", "numeric", "df2 against the exact sum", checker=_continuum_vs_exact("df2")),
        DerivationStep(Eq(sp.Symbol(r"\kappa\, P^{\alpha}"), c_a**ALPHA),
                       "resolution at $\\lambda = 0$ by dominant balance in $q\\,\\mathrm{df}^1(\\kappa) = 1$: "
                       "$\\kappa \\simeq (C_\\alpha/P)^\\alpha$ (Murphy's law: $\\kappa \\sim \\max(\\lambda, P^{-\\alpha})$)",
                       "[R11a]", "symbolic", "kappa ~ P^-alpha",
                       where=((sp.Symbol(r"\kappa\, P^{\alpha}"), kc), (c_a, C_alpha(ALPHA))),
                       source="scaling.leading_term(model, 'kappa', 'samples')"),
        DerivationStep(Eq(sp.Symbol(r"\kappa(\lambda = 0)"), (c_a / p) ** ALPHA),
                       "the numeric solver at $\\lambda = 0$, $P = 10^3$, $n = 10^7$, $\\alpha = 1.5$, up to its "
                       "first finite-size correction", "[R11a]",
                       "numeric", "kappa constant, solver", checker=_kappa_constant),
        DerivationStep(Eq(sp.Symbol(r"\beta_\kappa"), ALPHA), "its exponent", "[R11a]", "symbolic",
                       "exponent of kappa", where=((sp.Symbol(r"\beta_\kappa"), ke),)),
        DerivationStep(Eq(sp.Symbol(r"\lim_{P\to\infty}\mathrm{Var}_{X\epsilon}"), sig2 * (ALPHA - 1)),
                       "$\\gamma \\to 1 - 1/\\alpha$ at $\\lambda = 0$: a noise floor that does not decay "
                       "($\\sigma^2 = 0.1$)", "[R11b]", "symbolic", "noise floor",
                       where=((sp.Symbol(r"\lim_{P\to\infty}\mathrm{Var}_{X\epsilon}"), nc), (sig2, sp.Float("0.1"))),
                       source="scaling.leading_term(noisy, 'var_X_noise', 'samples')"),
        DerivationStep(Eq(bias, k ** (2 * R) * sp.pi * (1 - 2 * R) / (ALPHA * sp.sin(2 * sp.pi * R))),
                       "the source-limited bias, $0 < r < 1$", "[R11c]", "numeric", "bias continuum form",
                       where=((bias, k**2 * forms.leading("tf1p")),), ranges=r_a + ((k, 1e-6, 1e-2),)),
        DerivationStep(Eq(sp.Symbol(r"E_g\, P^{2\alpha r}"),
                          sp.pi * (1 - 2 * R) / sp.sin(2 * sp.pi * R) * c_a ** (2 * ALPHA * R)),
                       "ridgeless and noiseless: the prefactor of $E_g \\approx \\frac{\\pi(1 - 2r)}{\\sin 2\\pi r}"
                       "(C_\\alpha/P)^{2\\alpha r}$", "[R11c]", "numeric", "E_g prefactor",
                       where=((sp.Symbol(r"E_g\, P^{2\alpha r}"), ec), (c_a, C_alpha(ALPHA))), ranges=r_a),
        DerivationStep(Eq(N.exponent_of("E_g"), 2 * ALPHA * R), "source-limited ($r < 1$): $E_g \\sim \\kappa^{2r}$",
                       "[R11c]", "symbolic", "E_g, r < 1", where=((N.exponent_of("E_g"), ee),)),
        DerivationStep(Eq(N.exponent_of("E_g"), 2 * ALPHA), "capacity-limited ($r > 1$): $E_g \\sim \\kappa^2$",
                       "[R11c]", "symbolic", "E_g, r > 1",
                       where=((N.exponent_of("E_g"), exponent(src, "Eg", "samples", R > 1)),)),
        DerivationStep(Eq(N.exponent_of("E_g"), sp.Symbol(r"\beta_{\mathrm{fit}}")),
                       "the derived exponent against the slope of the numeric evaluator ($r = 0.4$, $n = 10^6$)",
                       "[R11c], P14", "numeric", "slope fit", checker=_slope),
        DerivationStep(Eq(N.exponent_of(r"\mathrm{Bias}^2"), 2 * ELL * R),
                       "ridge-limited, $\\lambda = P^{-\\ell}$ with $\\ell < \\alpha$: $\\kappa \\sim P^{-\\ell}$",
                       "[R11d]", "symbolic", "ridge-limited signal",
                       where=((N.exponent_of(r"\mathrm{Bias}^2"), exponent(ridge, "bias2", "samples", reg)),)),
        DerivationStep(Eq(N.exponent_of(r"\mathrm{Var}_{X\epsilon}"), 1 - ELL / ALPHA),
                       "ridge-limited noise: $\\gamma \\sim \\kappa^{-1/\\alpha}/P$ (the noiseless-to-noisy crossover)",
                       "[R11d]", "symbolic", "ridge-limited noise",
                       where=((N.exponent_of(r"\mathrm{Var}_{X\epsilon}"), exponent(ridge, "var_X_noise", "samples", reg)),)),
        DerivationStep(Eq(N.S_Sigma(df), (1 - df) * (n * df) ** ALPHA / (df * c_a**ALPHA)),
                       "the power-law S-transform: invert the continuum $\\mathrm{df}^1 \\approx C_\\alpha "
                       "\\kappa^{-1/\\alpha}/N$ and apply [C10], valid for $N^{-\\alpha} \\ll \\kappa \\ll 1$", "[R21]",
                       "numeric", "power-law S-transform", where=((N.S_Sigma(df), s_sigma),),
                       ranges=((ALPHA, 1.2, 3.0), (df, 0.01, 0.5), (n, 10.0, 1000.0), (c_a, 1.0, 4.0))),
        DerivationStep(Eq(sp.Symbol(r"\#\,\mathrm{peaks\ of\ }E_g(P)"), sp.Symbol(r"\#\,\mathrm{block\ edges}")),
                       "a gapped (block) spectrum: one descent each time $P$ crosses a block edge (figure F11)",
                       "[R11e]", "numeric", "multiple descent", checker=_multiple_descent),
    )
    return Derivation(NAME, TITLE, steps,
                      results=(("$\\kappa P^\\alpha$", kc), ("$E_g P^{2\\alpha r}$", ec)),
                      assumptions=("$\\eta_k = k^{-\\alpha}$, $\\alpha > 1$ (P13)",
                                   "target power $\\eta_k \\bar w_k^2 = k^{-(1 + 2\\alpha r)}$", "$N \\gg P$"),
                      summary="Resolution, error exponents and prefactors of linear ridge regression on power laws, "
                              "derived by dominant balance from the model's own expressions.")
