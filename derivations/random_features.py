"""Linear random features: nested renormalization, errors, the fine-grained
decomposition, ridgeless closed forms and scaling [R12]-[R16].

The kappa_1/kappa_2 equations of :class:`freeprob.RandomFeatureRidge` come
from the S-transforms of the data noise and of the feature Gram; every
relation is checked against the paper's form, and the two renormalized
ridges and the error components against sampled features (crossed X/F
seeds, unbiased estimators, pitfall P11).
"""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq
from freeprob.scaling import ALPHA, ELL, Q, R, exponent, leading_term, phase_diagram

from . import _notation as N
from ._checks import agree, agree_stats, sample_covariance, within

NAME = "random-features"
TITLE = "Linear random features: nested renormalization"

# the Monte Carlo model: D = 200, N = 100, P = 150, power-law data, noisy labels
_D, _NW, _P = 200, 100, 150


def _mc_model():
    return freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, _D), widths=_NW, samples=_P, ridge=1e-2, noise=0.05,
                                       target=freeprob.SourceTarget(0.7))


def _mc_component(key):
    # 10 x 10 crossed X/F draws, unbiased two-way ANOVA estimators (P11),
    # jackknife standard errors; allowance 4% of the component and 0.5% of
    # E_g for finite size at D = 200 (P10)
    def check(rng):
        model = _mc_model()
        sim = freeprob.simulate(model, seeds=(10, 10), rng=rng)
        th = model.evaluate()
        mean, se = (float(v[0]) for v in sim[key])
        t = float(th[key])
        return agree_stats(mean, se, t, allowance=0.04 * abs(t) + 0.005 * float(th["Eg"]), what=key)

    return check


def _kappa2_matrix(rng):
    # df1 (normalized by D) of the readout Gram F^T Sigma_hat F at the ridge
    # lam against df1_Sigma(kappa_2): 6 draws of (X, F); allowance 2/D (P10)
    model = _mc_model()
    sigma, _ = model.population.spectrum.numeric_atoms()
    lam = np.array([1e-2, 1e-1])
    k2 = model.evaluate(ridge=lam)["kappa2"]
    draws = []
    for _ in range(6):
        f = rng.normal(0, 1 / np.sqrt(_D), (_D, _NW))
        mu = np.linalg.eigvalsh(f.T @ sample_covariance(sigma, _P, rng) @ f)
        draws.append([np.sum(mu / (mu + x)) / _D for x in lam])
    return agree(draws, model.population.df1_numeric(k2), allowance=2 / _D, what="df1 of F^T Sigma_hat F, 2 ridges")


def _duality(rng):
    # ridgeless, noiseless, target isotropic in input space: E_g(N, P) = E_g(P, N)
    # for an anisotropic Sigma (power law, D = 400); two bottleneck solves at
    # ~1e-14 relative: tolerance 1e-9
    pop = freeprob.PowerLaw(1.4, 400)
    a = freeprob.RandomFeatureRidge(pop, widths=120, samples=250, ridge=0.0).evaluate()["Eg"]
    b = freeprob.RandomFeatureRidge(pop, widths=250, samples=120, ridge=0.0).evaluate()["Eg"]
    return within(a, b, 1e-9, "E_g(N = 120, P = 250) against E_g(N = 250, P = 120), power-law Sigma")


def _phase_vs_engine(rng):
    # [R16e] beta(ell, q) against the exponent derived from the model (c = 1)
    pd = phase_diagram(1.5, 0.8, c=1.0, noisy=True)
    model = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 1000), widths=100, samples=100,
                                        target=freeprob.SourceTarget(0.8), ridge=1e-3, noise=0.1)
    worst = 0.0
    for ell, q in ((0.5, 2.5), (1.2, 1.6), (3.0, 0.45)):
        pt = {ALPHA: 1.5, R: 0.8, ELL: ell, Q: q}
        _, e, _ = leading_term(model, "Eg", "samples", ridge="power", points=[pt])
        worst = max(worst, abs(float(e.subs(pt)) - float(pd.beta(ell, q))))
    return worst < 1e-12, worst, "the phase diagram against exponents derived from the model at 3 (ell, q) points"


def build() -> Derivation:
    psi_s, d_s = sp.Symbol("N", positive=True), sp.Symbol("D", positive=True)
    m = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=psi_s, dimension=d_s)
    cf = m.isotropic_ridgeless_closed_forms()
    qs = {k: v.subs(C.sigma_xi2, 0) for k, v in m.quantities().items()}
    maps = {k: v.subs(C.sigma_xi2, 0) for k, v in m.maps().items()}
    d, k1, k2, lam, s2 = C.df, C.kappa1, C.kappa2, C.lam, C.sigma2
    phi, psi = C.phi, C.width_ratio(1)
    d1, d2 = N.df1_Sigma(k2), N.df2_Sigma(k2)
    tf_1, tf_2, tf_1p = sp.symbols(r"\mathrm{tf}_1 \mathrm{tf}_2 -\mathrm{tf}_1'")
    named = ((N.E_g, qs["Eg"]), (N.E_tr, qs["Etr"]), (N.rho, qs["rho"]), (N.gamma1, qs["gamma1"]),
             (N.gamma2, qs["gamma2"]), (N.Bias2, qs["bias2"]), (N.Var_X, qs["var_X"]), (N.Var_F, qs["var_F"]),
             (N.Var_XF, qs["var_XF"]), (N.Var_Xe, qs["var_X_noise"]), (N.Var_XFe, qs["var_XF_noise"]),
             # isotropic target, ||wbar|| = 1, Sigma = I: the target functionals are the normalized traces [C7]
             (tf_1, qs["df1"]), (tf_2, qs["df2"]), (tf_1p, (qs["df1"] - qs["df2"]) / k2),
             (d1, qs["df1"]), (d2, qs["df2"]), (k1, maps["kappa1"]), (lam, maps["lam"]))
    rng_ = ((phi, 0.2, 3.0), (psi, 0.2, 3.0), (k2, 0.05, 3.0), (s2, 0.0, 1.0))
    src = "RandomFeatureRidge(Identity(1), widths=N).quantities()"
    s_f = d1 / (psi - d1)  # d log S_F/d log df for one white layer [R13]
    pd = phase_diagram(1.5, 0.8, c=1.0, noisy=True)
    beta = sp.Min(*pd.terms().values())
    rf_pl = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 1000), widths=100, samples=100,
                                        target=freeprob.SourceTarget(0.8), ridge=0)
    e_sig_w, e_sig_d = sp.Symbol(r"E_g^{\mathrm{signal}}\vert_{N<P}"), sp.Symbol(r"E_g^{\mathrm{signal}}\vert_{P<N}")
    e_noise_w, e_noise_d = sp.Symbol(r"E_g^{\mathrm{noise}}\vert_{N<P}"), sp.Symbol(r"E_g^{\mathrm{noise}}\vert_{P<N}")
    k2_w = sp.Symbol(r"\kappa_2\vert_{N<P}")
    steps = (
        DerivationStep(Eq(N.S_W(d), 1 / (1 - d / phi)),
                       "the data noise is white Wishart with ratio $D/P = 1/\\phi$ (dfs normalized by $D$)",
                       "[R1], [R12], P1", "symbolic", "S_W",
                       where=((N.S_W(d), freeprob.MarchenkoPastur(1 / phi).s_transform(d, convention="df")),)),
        DerivationStep(Eq(N.S_F(d), 1 / (psi - d)),
                       "$F F^\\top = \\frac ND W_F$ with $W_F$ white Wishart of ratio $D/N$", "[R12]", "symbolic",
                       "S_F", where=((N.S_F(d), m.s_features(d)),), source="RandomFeatureRidge.s_features(df)"),
        DerivationStep(Eq(k1, lam * N.S_W(d1)),
                       "averaging over the data at fixed $F$: $\\lambda(F^\\top\\hat\\Sigma F + \\lambda)^{-1} \\simeq "
                       "\\kappa_1(F^\\top \\Sigma F + \\kappa_1)^{-1}$", "[R12]", "symbolic", "kappa_1",
                       where=((k1, maps["kappa1"]), (lam, maps["lam"]),
                              (N.S_W(d1), freeprob.MarchenkoPastur(1 / phi).s_transform(d, convention="df")
                               .subs(d, qs["df1"])), (d1, qs["df1"]))),
        DerivationStep(Eq(N.kappa_hat, k1),
                       "$\\kappa_1$ is observable: $\\hat\\kappa_1 = 1/\\mathrm{tr}_P(\\frac1P Z Z^\\top + \\lambda)^{-1}$; "
                       "$D = 200$, $N = 100$, $P = 150$, power-law data", "[R12]", "montecarlo", "observable kappa_1",
                       approx=True, checker=_mc_component("kappa1")),
        DerivationStep(Eq(k2, k1 * N.S_F(d1)),
                       "averaging over $F$ too: $F(F^\\top\\Sigma F + \\kappa_1)^{-1}F^\\top \\simeq (\\Sigma + \\kappa_2)^{-1}$",
                       "[R12]", "symbolic", "kappa_2", where=((k1, maps["kappa1"]), (N.S_F(d1), m.s_features(d).subs(d, qs["df1"])),
                                                              (d1, qs["df1"]))),
        DerivationStep(Eq(N.df1_hat(lam), d1),
                       "the $D$-normalized df of the readout Gram $F^\\top\\hat\\Sigma F$ at $\\lambda$ is "
                       "$\\mathrm{df}^1_\\Sigma(\\kappa_2)$ (a free product of $F F^\\top$, $W$ and $\\Sigma$)", "[R12]",
                       "montecarlo", "kappa_2 at the matrix level", approx=True, checker=_kappa2_matrix),
        DerivationStep(Eq(lam, k2 * (1 - d1 / phi) * (psi - d1)),
                       "the explicit map $\\kappa_2 \\mapsto \\lambda$ (the solver inverts it above the bottleneck)",
                       "[R12]", "symbolic", "explicit map", where=named, source="RandomFeatureRidge.maps()['lam']"),
        DerivationStep(Eq(N.rho, 1 / (1 + (d1 - d2) / d1 * s_f)),
                       "$\\rho = d\\log\\kappa_2/d\\log\\kappa_1$ with $s_F = d\\log S_F/d\\log\\mathrm{df}$ ($\\rho \\leq 1$)",
                       "[R13], P9", "numeric", "rho", where=named, ranges=rng_, source=src),
        DerivationStep(Eq(N.gamma1, (d1 - (d1 - d2) * N.rho) / phi), "$\\gamma_1 = 1 - \\partial\\lambda/\\partial\\kappa_1$",
                       "[R13]", "numeric", "gamma_1", where=named, ranges=rng_),
        DerivationStep(Eq(N.E_g, (k2 * tf_1 - N.rho * k2 * tf_2 + N.gamma1 * s2) / (1 - N.gamma1)),
                       "linear regression on $z = F^\\top x$ at fixed $F$ [R6], averaged over $F$", "[R13]", "numeric",
                       "generalization error", where=named, ranges=rng_, source=src),
        DerivationStep(Eq(k2 * tf_1 - N.rho * k2 * tf_2, N.rho * k2**2 * tf_1p + (1 - N.rho) * k2 * tf_1),
                       "the second form, by $\\mathrm{tf}_1 - \\mathrm{tf}_2 = -\\kappa\\,\\mathrm{tf}_1'$", "[R13], [C7]",
                       "symbolic", "second form", where=((tf_1p, (tf_1 - tf_2) / k2),)),
        DerivationStep(Eq(N.E_tr, (lam / k1) ** 2 * (N.E_g + s2)),
                       "the train-test gap is again an S-transform, $(\\kappa_1/\\lambda)^2 = S_W^2$", "[R13], [R8]",
                       "numeric", "training error", where=named, ranges=rng_),
        DerivationStep(Eq(N.E_g, N.Bias2 + N.Var_X + N.Var_F + N.Var_XF + N.Var_Xe + N.Var_XFe),
                       "the fine-grained decomposition; $\\mathrm{Var}_\\epsilon = \\mathrm{Var}_{F\\epsilon} = 0$",
                       "[R14], [C15]", "numeric", "decomposition", where=named, ranges=rng_),
        DerivationStep(Eq(N.Bias2, sp.Symbol(r"\mathrm{Bias}^2_{\mathrm{MC}}")), "$\\mathrm{Bias}^2 = \\kappa_2^2(-\\mathrm{tf}_1')$",
                       "[R14], P11", "montecarlo", "bias", approx=True, checker=_mc_component("bias2")),
        DerivationStep(Eq(N.Var_F, (1 - N.rho) * k2 * tf_2), "the variance over the features",
                       "[R14], P9", "montecarlo", "Var_F", approx=True, checker=_mc_component("var_F")),
        DerivationStep(Eq(N.Var_XF, sp.Symbol(r"\mathrm{Var}_{XF}^{\mathrm{MC}}")),
                       "the interaction of data and features", "[R14]", "montecarlo", "Var_XF", approx=True,
                       checker=_mc_component("var_XF")),
        DerivationStep(Eq(N.Var_XFe, s2 * (N.gamma1 / (1 - N.gamma1) - N.gamma2 / (1 - N.gamma2))),
                       "the noise carried by the features", "[R14]", "montecarlo", "Var_XFe", approx=True,
                       checker=_mc_component("var_XF_noise")),
        DerivationStep(Eq(sp.Limit(e_sig_w, phi, sp.oo), 1 - psi),
                       "$P = \\infty$, $\\lambda \\to 0$: projection onto a random $N$-dimensional subspace", "[R13]",
                       "symbolic", "P = oo", where=((e_sig_w, cf["signal_width_limited"]),)),
        DerivationStep(Eq(k2_w, (1 - psi) / psi), "ridgeless, $N < P$: $\\kappa_1 = 0$, $\\mathrm{df}_1(\\kappa_2) = N/D$",
                       "[R15]", "symbolic", "kappa_2, N < P", where=((k2_w, cf["kappa2_width_limited"]),)),
        DerivationStep(Eq(e_sig_w, (1 - psi) * phi / (phi - psi)),
                       "$E_g^{\\mathrm{signal}} = (1 - m)\\max(N, P)/\\vert N - P\\vert$ with $m = \\min(N, P)/D$", "[R15]",
                       "symbolic", "signal, N < P", where=((e_sig_w, cf["signal_width_limited"]),)),
        DerivationStep(Eq(e_sig_d, (1 - phi) * psi / (psi - phi)), "the same for $P < N$", "[R15]", "symbolic",
                       "signal, P < N", where=((e_sig_d, cf["signal_data_limited"]),)),
        DerivationStep(Eq(e_noise_w, s2 * psi / (phi - psi)), "noise, $N < P$: $\\sigma^2 N/(P - N)$", "[R15]",
                       "symbolic", "noise, N < P", where=((e_noise_w, cf["noise_width_limited"]),)),
        DerivationStep(Eq(e_noise_d, s2 * phi * (1 + psi - 2 * phi) / ((1 - phi) * (psi - phi))), "noise, $P < N$",
                       "[R15]", "symbolic", "noise, P < N", where=((e_noise_d, cf["noise_data_limited"]),)),
        DerivationStep(Eq(e_sig_w.subs({phi: psi, psi: phi}, simultaneous=True), e_sig_d),
                       "the $N \\leftrightarrow P$ duality of the ridgeless, noiseless error", "[R15]", "symbolic",
                       "duality", where=((e_sig_w, cf["signal_width_limited"].subs({phi: psi, psi: phi}, simultaneous=True)),
                                         (e_sig_d, cf["signal_data_limited"]))),
        DerivationStep(Eq(sp.Function("E_g")(psi_s, sp.Symbol("P")), sp.Function("E_g")(sp.Symbol("P"), psi_s)),
                       "the duality for any $\\Sigma$ when the target is isotropic in input space", "[R15]", "numeric",
                       "duality, anisotropic Sigma", checker=_duality),
        DerivationStep(Eq(N.exponent_of(r"\kappa_2"), ALPHA), "data-limited ($N \\gg P$, $\\lambda \\to 0$): $\\kappa_2 "
                       "\\sim P^{-\\alpha}$ ($N = P^q$, $q > 1$)", "[R16a]", "symbolic", "kappa_2, data-limited",
                       where=((N.exponent_of(r"\kappa_2"), exponent(rf_pl, "kappa2", "samples", Q > 1)),)),
        DerivationStep(Eq(N.exponent_of(r"\mathrm{Var}_F"), ALPHA - 1 + Q),
                       "the finite-width variance when overparameterized, $\\mathrm{Var}_F \\sim P^{1 - \\alpha}/N$ "
                       "($r > 1/2$)", "[R16b]", "symbolic", "Var_F, overparameterized",
                       where=((N.exponent_of(r"\mathrm{Var}_F"), exponent(rf_pl, "var_F", "samples",
                                                                          sp.And(Q > 1, R > sp.Rational(1, 2)))),)),
        DerivationStep(Eq(N.exponent_of(r"\kappa_2"), ALPHA * Q), "width-limited ($N = P^q$, $q < 1$): $\\kappa_2 "
                       "\\sim N^{-\\alpha}$", "[R16d]", "symbolic", "kappa_2, width-limited",
                       where=((N.exponent_of(r"\kappa_2"), exponent(rf_pl, "kappa2", "samples", Q < 1)),)),
        DerivationStep(Eq(sp.Symbol(r"\beta(\ell, q)"), beta),
                       "the phase diagram ($\\alpha = 1.5$, $r = 0.8$, $c = 1$, noisy, with $r$ in the signal term "
                       "as P17 corrects) against exponents derived from the model", "[R16e], P17", "numeric",
                       "phase diagram", checker=_phase_vs_engine),
    )
    return Derivation(NAME, TITLE, steps,
                      results=(("$\\kappa_2$ ($N < P$)", cf["kappa2_width_limited"]),),
                      assumptions=("$F_{ij} \\sim \\mathcal N(0, 1/D)$", "$\\phi = P/D$, $\\psi = N/D$, dfs normalized "
                                   "by $D$ (P1, P3)", "$\\Sigma = I$, $\\Vert\\bar w\\Vert = 1$ for the symbolic steps"),
                      summary="$\\kappa_1$ and $\\kappa_2$ from the S-transforms of the data noise and of $F F^\\top$, "
                              "the errors of random-feature ridge regression and their scaling.")
