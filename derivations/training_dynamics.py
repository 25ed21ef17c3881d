"""Training dynamics: spectral estimators as contour integrals [C18].

Gradient flow and gradient descent on the square loss are spectral
estimators ``w_hat = f(Sigma_hat) X^T y/P``.  Their filters solve the training
dynamics; every matrix function of ``Sigma_hat`` is a contour integral of
resolvents, and each resolvent at ``z`` is the ridge resolvent at ``lambda = -z``,
whose deterministic equivalent is the renormalized ridge ``kappa(-z)``.  The
steps check the filters, the one-point equivalent at complex ``z`` against
sampled matrices, the two-point integrand against the ridge result [R5] and
the resolvent identity, the reduction of the whole route to the ridge closed
forms, the isotropic closed forms of Advani and Saxe, and Monte Carlo of the
learning curve by spectral filtering and by the iterations themselves.  The
last steps scale: the contour integrals collapse to the population at
``q -> 0``, the time exponent follows by Mellin dominant balance (no
saturation at ``r = 1``, checked against a slope fit), and balancing the
bottlenecks gives the compute-optimal allocation (the asymmetric rule for
random features; the linear model's checked by numeric minimisation).
"""

import mpmath as mp
import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq
from freeprob.models import _contour_nodes as K
from freeprob.models import _spectral_numeric as N
from freeprob.models import spectral as S

from ._checks import agree, agree_stats, mp_integral, sample_covariance, within

NAME = "training-dynamics"
TITLE = "Training dynamics: gradient flow and descent as spectral estimators"


def _one_point_complex(rng):
    # tr_N (z - Sigma_hat)^-1 on sampled matrices at complex z (and z < 0)
    # against (kappa/z) tr(Sigma + kappa)^-1 = (1 - df1(kappa))/z with kappa(-z)
    # solved on the contour's branch;
    # power-law population, N = 300, P = 600, 6 draws, allowance 2/P (P10)
    pop = freeprob.PowerLaw(1.5, 300)
    n, p = 300, 600
    z = np.array([0.05 + 0.05j, 0.5 - 0.2j, 1.5 + 0.5j, -0.1 + 0j])
    law = N._Law(pop, None)
    _, d, _ = K._solve_kappa(law, n / p, z)
    theory = (1 - d) / z
    sigma = np.arange(1, n + 1) ** -1.5
    draws = []
    for _ in range(6):
        ev = np.linalg.eigvalsh(sample_covariance(sigma, p, rng))
        g = np.array([np.mean(1 / (zz - ev)) for zz in z])
        draws.append(np.concatenate([g.real, g.imag]))
    return agree(draws, np.concatenate([theory.real, theory.imag]), allowance=2 / p,
                 what="tr (z - Sigma_hat)^-1 against (1 - df1(kappa))/z at 4 complex points")


def _ridge_reduction(rng):
    worst = 0.0
    for pop, tgt in ((freeprob.PowerLaw(1.5, 500), freeprob.SourceTarget(1.0)), (freeprob.Discrete([0.5, 1, 3]), None)):
        n = 500 if tgt is not None else 3
        for p in (n // 2 or 1, 4 * n):
            m = freeprob.LinearRidge(pop, target=tgt, noise=0.25, samples=p, ridge=0.3)
            ref, out = m.evaluate(), m.evaluate(method="contour")
            worst = max(worst, max(abs(out[k] / ref[k] - 1) for k in S.SPECTRAL_KEYS if ref[k] != 0))
    return worst <= 1e-11, worst, f"every key, 2 populations, q < 1 and q > 1: worst relative difference {worst:.1e}"


def _feature_reduction(rng):
    """Random features: conditioning on ``F`` (the contour route on the
    features' linear problem) against the nested closed forms in ``kappa_2``."""
    worst = 0.0
    for kw in (dict(widths=80, samples=300), dict(widths=600, samples=150), dict(widths=[300, 120], samples=150),
               dict(widths=80, samples=150, feature_noise=0.3),
               dict(widths=80, samples=300, feature_covariance=freeprob.Discrete(np.linspace(0.5, 2.0, 80)))):
        m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 200), ridge=0.05, noise=0.2, **kw)
        ref, out = m.evaluate(), m.evaluate(method="contour")
        agg = {k: ref[k] for k in ("bias2", "var_F", "var_X", "var_XF", "var_X_noise", "var_XF_noise", "Eg", "Etr")}
        # relative to E_g: Var_F comes from a difference
        worst = max(worst, max(abs(float(out[k]) - float(v)) / float(ref["Eg"]) for k, v in agg.items()))
    return worst <= 1e-11, worst, f"8 keys, 5 random-feature models: worst difference {worst:.1e} of E_g"


def _fitted_feature_rule(r, tol, note=""):
    """The random-feature rule under online training (C = N t) at source
    exponent ``r`` against numeric minimisation of its learning curve."""
    from freeprob.scaling import verify_compute_optimal

    t, n = sp.symbols("t N", positive=True)
    rf = freeprob.RandomFeatureRidge(freeprob.PowerLaw(sp.Rational(3, 2), 10**5), widths=n, samples=10**9, ridge=0,
                                     target=freeprob.SourceTarget(r))
    v = verify_compute_optimal(rf, n * t, np.geomspace(1e4, 1e6, 3), points=11, spread=10)
    res = max(v.errors().values())
    detail = ", ".join(f"{k}: derived {v.derived[k]:.3f}, fitted {v.fitted[k]:.3f}" for k in v.derived)
    return res <= tol, res, f"r = {r}, C = N t over C = 1e4..1e6 ({detail}{note})"


def _feature_compute_optimal(rng):
    """The asymmetric rule against numeric minimisation of the random-feature learning curve."""
    return _fitted_feature_rule(sp.Rational(1, 5), 0.03)


def _cross_compute_optimal(rng):
    """The cross-term rule (r = 4/5) against numeric minimisation."""
    return _fitted_feature_rule(sp.Rational(4, 5), 0.02, "; the width term is subleading by C^-0.13")


def _isotropic(rng):
    worst = 0.0
    times = np.array([0.1, 1.0, 10.0, 100.0])
    for q in (0.5, 2.0):
        m = freeprob.LinearRidge(freeprob.Identity(1), noise=1.0, samples=200, dimension=int(200 * q),
                                 estimator=freeprob.GradientFlow(time=1.0))
        out = m.evaluate(time=times)
        for i, t in enumerate(times):
            t = mp.mpf(t)
            b = mp_integral(q, lambda x: mp.exp(-2 * t * x), 1)
            v = mp_integral(q, lambda x: q * (1 - mp.exp(-t * x)) ** 2 / x, 0)
            worst = max(worst, abs((out["bias2"][i] + out["var_X"][i]) / b - 1), abs(out["var_X_noise"][i] / v - 1))
    return worst <= 1e-8, worst, f"q in (1/2, 2), t in (0.1, 1, 10, 100): worst relative difference {worst:.1e}"


def _model():
    return freeprob.LinearRidge(freeprob.PowerLaw(1.5, 400), target=freeprob.SourceTarget(1.0), noise=0.1,
                                samples=200, estimator=freeprob.GradientFlow(time=1.0))


def _monte_carlo(rng):
    times = np.array([1.0, 10.0, 100.0, 1000.0])
    m = _model()
    th = m.evaluate(time=times)
    sim = freeprob.simulate(m, seeds=30, rng=rng, sweep={"time": times})
    keys = ("Eg", "Etr", "bias2", "var_X_noise")
    mean = np.concatenate([sim[k][0] for k in keys])
    se = np.concatenate([sim[k][1] for k in keys])
    ref = np.concatenate([th[k] for k in keys])
    # allowance 5% (N = 400, P = 200: O(1/P) finite-size terms)
    return agree_stats(mean, se, ref, allowance=0.05 * np.abs(ref), what="E_g, E_tr, Bias^2, Var_Xe at 4 times")


def _literal(rng):
    from freeprob.montecarlo.simulate import simulate_descent

    steps = np.array([1, 10, 100])
    m = _model().replace(estimator=freeprob.GradientDescent(step=0.5, steps=10))
    seed = int(rng.integers(0, 2**31))
    lit = simulate_descent(m, seeds=6, rng=np.random.default_rng(seed), steps=steps)
    filt = freeprob.simulate(m, seeds=6, rng=np.random.default_rng(seed), sweep={"steps": steps})
    return within(lit["Etr"][0], filt["Etr"][0], 1e-9, "E_tr of 100 literal descent steps against the filter, same draws")


def _time_exponent(rng):
    """The derived time exponent against a slope fit of the contour
    evaluator over two decades, at r = 1.5 where ridge saturates."""
    from freeprob.scaling import time_exponent

    m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 2000), target=freeprob.SourceTarget(1.5), samples=10**7,
                             estimator=freeprob.GradientFlow(time=1.0))
    times = np.geomspace(10.0, 1000.0, 9)
    slope = -np.polyfit(np.log(times), np.log(m.evaluate(time=times)["Eg"]), 1)[0]
    derived = float(time_exponent(m.replace(estimator=freeprob.GradientFlow(time=sp.Symbol("t", positive=True)))))
    res = abs(slope - derived)
    return res <= 0.05, res, f"E_g ~ t^-2r at r = 1.5: derived {derived:g}, fitted {slope:.4f} over t = 10..1000"


def _compute_optimal(rng):
    """The compute-optimal allocation against numeric minimisation."""
    from freeprob.scaling import verify_compute_optimal

    t, p = sp.symbols("t P", positive=True)
    m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 10**4), target=freeprob.SourceTarget(0.4),
                             estimator=freeprob.GradientFlow(time=t))
    v = verify_compute_optimal(m, p * t, np.geomspace(1e2, 1e4, 3), points=13, spread=6)
    res = max(v.errors().values())
    detail = ", ".join(f"{k}: derived {v.derived[k]:.3f}, fitted {v.fitted[k]:.3f}" for k in v.derived)
    return res <= 0.04, res, f"C = P t over C = 1e2..1e4 ({detail})"


def build() -> Derivation:
    x, lam, t, q = C.x, C.lam, sp.Symbol("t", positive=True), C.q
    eta, k = sp.Symbol("eta", positive=True), sp.Symbol("k", integer=True, nonnegative=True)
    f_t, f_k, f_k1 = sp.Function("f_t")(x), sp.Function("f_k")(x), sp.Function("f_{k+1}")(x)
    gf = freeprob.GradientFlow(time=t, ridge=lam)
    gd, gd1 = freeprob.GradientDescent(step=eta, steps=k, ridge=lam), freeprob.GradientDescent(step=eta, steps=k + 1,
                                                                                                ridge=lam)
    ints = S.integrands()
    k1, k2 = sp.symbols("kappa kappa'", positive=True)
    mean = lambda s: (s.subs(S._X, 1) + s.subs(S._X, 3)) / 2   # noqa: E731  Sigma = diag(1, 3)
    msub = {S.D(k1): mean(S._X / (S._X + k1)), S.D(k2): mean(S._X / (S._X + k2)),
            S.DW(k1): mean(S._X / (S._X + k1)), S.DW(k2): mean(S._X / (S._X + k2)), S.W2: 1}
    kernel = (ints["bias2"] + ints["var_X"]).xreplace({S.R1: 1, S.R2: 1, S.Z1: k1, S.Z2: k2})
    kernel = kernel.xreplace({S.K1: k1, S.K2: k2}).xreplace(msub)
    two_pt = sp.Symbol(r"\mathcal{K}(\kappa,\kappa)")
    diag = sp.limit(sp.cancel(kernel), k2, k1)
    zof = lambda kk: -kk * (1 - q / (1 + kk))                   # noqa: E731  Sigma = I
    iso = (ints["bias2"] + ints["var_X"]).xreplace({S.R1: 1, S.R2: 1}).xreplace(
        {S.D(S.K1): 1 / (1 + k1), S.D(S.K2): 1 / (1 + k2), S.DW(S.K1): 1 / (1 + k1), S.DW(S.K2): 1 / (1 + k2), S.W2: 1})
    iso = iso.xreplace({S.K1: k1, S.K2: k2}).subs({S.Z1: zof(k1), S.Z2: zof(k2)})
    g = lambda kk: kk / zof(kk) / (1 + kk)                      # noqa: E731
    iso_name = sp.Symbol(r"\bar w^\top (z-\hat\Sigma)^{-1}(z'-\hat\Sigma)^{-1}\bar w")
    E_g, bias, var = sp.symbols(r"E_g \mathrm{Bias}^2(t) \mathrm{Var}(t)")
    from freeprob.scaling import ALPHA, R, compute_optimal, time_exponent

    alpha_s, r_s = ALPHA, R
    flow0 = freeprob.GradientFlow(time=t)
    collapse = sp.Symbol(r"\mathrm{Bias}^2_{q\to 0}")
    pl = freeprob.LinearRidge(freeprob.PowerLaw(alpha_s, 10**6), target=freeprob.SourceTarget(r_s), estimator=flow0)
    e_t = sp.Symbol("e_t")
    n_w = sp.Symbol("N", positive=True)
    rf = freeprob.RandomFeatureRidge(freeprob.PowerLaw(alpha_s, 10**6), widths=n_w, samples=10**9, ridge=0,
                                     target=freeprob.SourceTarget(r_s))
    opt = compute_optimal(rf, n_w * t, r_s < sp.Rational(1, 2))
    cross = compute_optimal(rf, n_w * t, r_s > sp.Rational(1, 2))
    feat = sp.Symbol(r"\mathrm{Var}_F")
    f_term = dict(dict(cross.terms)["features"])
    a_n, a_t, ell = sp.symbols("a_N a_t ell_C")
    steps = (
        DerivationStep(Eq(sp.Derivative(f_t, t), 1 - (x + lam) * f_t),
                       "gradient flow $\\dot w = X^\\top(y - Xw)/P - \\lambda w$ from $w = 0$ acts on each eigenvalue "
                       "of $\\hat\\Sigma$; its filter solves the flow", "[C18]", "symbolic", "gradient-flow filter",
                       where=((f_t, gf.filter()),), source="GradientFlow(time, ridge).filter()"),
        DerivationStep(Eq(f_k1, eta + (1 - eta * (x + lam)) * f_k),
                       "one descent step on each eigenvalue: the filter recursion", "[C18]", "symbolic",
                       "gradient-descent filter", where=((f_k1, gd1.filter()), (f_k, gd.filter()))),
        DerivationStep(Eq(sp.Symbol(r"\mathrm{tr}(z-\hat\Sigma)^{-1}"),
                          sp.Symbol(r"\tfrac{\kappa}{z}\mathrm{tr}(\Sigma+\kappa)^{-1}")),
                       "the ridge resolvent at $\\lambda = -z$, $\\kappa(-z)$ continued from $\\kappa \\sim -z$ at "
                       "infinity, on sampled power-law data at complex $z$ and on the negative axis",
                       "[C18], [R3]", "montecarlo", "one-point equivalent at complex z", approx=True,
                       checker=_one_point_complex),
        DerivationStep(Eq(two_pt, mean(S._X / (S._X + k1) ** 2) / (1 - q * mean(S._X**2 / (S._X + k1) ** 2))),
                       "at $\\kappa' = \\kappa$ the two-point integrand (partial fractions of "
                       "$x/((x+\\kappa)(x+\\kappa'))$ over $1 - q\\,\\mathrm{tr}\\,\\Sigma^2(\\Sigma+\\kappa)^{-1}"
                       "(\\Sigma+\\kappa')^{-1}$) is the ridge two-point equivalent ($\\Sigma = \\mathrm{diag}(1, 3)$)",
                       "[R5], [C18]", "symbolic", "two-point diagonal", where=((two_pt, diag),)),
        DerivationStep(Eq(iso_name, (g(k1) - g(k2)) / (zof(k2) - zof(k1))),
                       "for $\\Sigma = I$ the two-point integrand is the resolvent identity's divided difference: "
                       "the double contour collapses to one", "[C18]", "symbolic", "resolvent identity",
                       where=((iso_name, iso),)),
        DerivationStep(Eq(sp.Symbol(r"\mathrm{keys}_{\oint}(\mathrm{Ridge})"), sp.Symbol(r"\mathrm{keys}(R6\text{-}R8)")),
                       "the contour route with the resolvent filter $1/(x+\\lambda)$ reproduces the ridge closed forms",
                       "[R6], [R7], [R8], [C18]", "numeric", "reduction to ridge", checker=_ridge_reduction),
        DerivationStep(Eq(sp.Symbol(r"\mathrm{keys}_{\oint}(\mathrm{RF}\mid F)"),
                          sp.Symbol(r"\mathrm{keys}(R13\text{-}R14)")),
                       "random features: for a fixed $F$ the readout is linear regression on the features, with "
                       "covariance $\\Sigma_z = F^\\top\\Sigma F + \\sigma_\\xi^2 I$ and noise "
                       "$\\sigma^2 + \\sigma_e^2$; the mean predictor is "
                       "$\\bar w - \\oint r(z)\\,(\\kappa_2/z)(\\Sigma+\\kappa_2)^{-1}\\bar w$, so its "
                       "$\\mathrm{Bias}^2$ is the linear route's on the nodes' $\\kappa_2$, and the predictor "
                       "averaged over $F$ at fixed data is the input-space linear problem at the argument whose "
                       "$\\kappa$ is $\\kappa_2(z)$, so $\\mathrm{Var}_X$ is that route's two-point term on the "
                       "same nodes with $q = D/P$, and its label-noise variance $\\mathrm{Var}_{X\\epsilon}$ a double "
                       "integral of $f(z)f(z')$ against the divided difference of $\\kappa_2\\mathrm{df}_1(\\kappa_2)$ "
                       "in $w(z)$; at a ridge these equal "
                       "the nested closed forms in $\\kappa_2$ ($\\mathrm{Bias}^2$, $\\mathrm{Var}_F$, "
                       "$\\mathrm{Var}_X$, $\\mathrm{Var}_{XF}$ and the noise terms; white, deep and anisotropic)",
                       "[R13], [R14], [C18]", "numeric", "random features by conditioning", checker=_feature_reduction),
        DerivationStep(Eq(bias, sp.Symbol(r"\int e^{-2tx}d\mu_{MP}")),
                       "isotropic gradient flow: the signal error and the noise variance $\\sigma^2 q\\int(1-e^{-tx})^2/x\\,"
                       "d\\mu_{MP}$ (Advani and Saxe) against 30-digit quadrature of the Marchenko-Pastur law",
                       "[C18]", "numeric", "isotropic closed forms", checker=_isotropic),
        DerivationStep(Eq(E_g, sp.Symbol(r"E_g^{\mathrm{MC}}")),
                       "the learning curve against Monte Carlo by spectral filtering of sampled data",
                       "[C18]", "montecarlo", "learning curve", approx=True, checker=_monte_carlo),
        DerivationStep(Eq(sp.Symbol(r"E_{tr}^{\mathrm{GD}}"), sp.Symbol(r"E_{tr}^{\mathrm{filter}}")),
                       "literal gradient-descent iterations equal the filter on the same draws", "[C18]", "numeric",
                       "descent is the filter", checker=_literal),
        DerivationStep(Eq(collapse, x * sp.exp(-2 * t * x)),
                       "with many more samples than dimensions ($q \\to 0$) $\\kappa(-z) = -z$ and each contour "
                       "integral is the residue at $z = x$: the bias is the residual filter squared on the "
                       "population, $\\langle x\\,r(x)^2\\rangle_{\\bar w}$", "[C18]", "symbolic",
                       "population limit", where=((collapse, S.population_limit(flow0)["bias2"][2]),),
                       source="spectral.population_limit(GradientFlow(t))"),
        DerivationStep(Eq(e_t, 2 * r_s),
                       "on $\\eta_k = k^{-\\alpha}$ the collapsed bias is $t^{-d}\\sum_k k^{-\\beta}g(k^\\alpha/t)$ "
                       "with $g(u) = e^{-2/u}/u$ flat at 0: the Mellin continuum always leads, "
                       "$E_g \\sim \\Gamma(2r)(2t)^{-2r}/\\alpha$, with no saturation at $r = 1$",
                       "[C18], [R11]", "symbolic", "time exponent", where=((e_t, time_exponent(pl, "Eg", r_s > 0)),)),
        DerivationStep(Eq(sp.Symbol(r"e_t^{\mathrm{fit}}"), sp.Symbol(r"e_t^{\mathrm{derived}}")),
                       "the time exponent against a slope fit of the contour evaluator (ridge would give 2 here)",
                       "[C18]", "numeric", "time exponent, fitted", checker=_time_exponent),
        DerivationStep(Eq(sp.Tuple(a_n, a_t, ell), sp.Tuple(1 / (1 + alpha_s), alpha_s / (1 + alpha_s),
                                                            2 * alpha_s * r_s / (1 + alpha_s))),
                       "random features trained online ($C = Nt$), $r < 1/2$: balancing the time bottleneck "
                       "$t^{-2r}$ against the width bottleneck $N^{-2\\alpha r}$ gives $t^* \\sim C^{\\alpha/(1+\\alpha)}$, "
                       "faster than $N^*$ (the asymmetric rule of Bordelon, Atanasov and Pehlevan)",
                       "[C18]", "symbolic", "compute-optimal allocation",
                       where=((a_n, opt.allocation[n_w]), (a_t, opt.allocation[t]), (ell, opt.loss_exponent))),
        DerivationStep(Eq(sp.Symbol(r"a^{\mathrm{fit}}"), sp.Symbol(r"a^{\mathrm{derived}}")),
                       "the linear model with data reuse ($C = Pt$): the derived allocation against the argmin "
                       "of the learning curve at each budget", "[C18]", "numeric", "compute-optimal, fitted",
                       checker=_compute_optimal),
        DerivationStep(Eq(sp.Symbol(r"a_N^{\mathrm{fit}}"), sp.Symbol(r"a_N^{\mathrm{derived}}")),
                       "random features trained online ($C = Nt$, $P = 10^9$): the asymmetric allocation against "
                       "the argmin over widths of the finite-data learning curve under gradient flow, timed for "
                       "features at the data's scale ($t D/N$ in the model's units)", "[C18]", "numeric",
                       "asymmetric rule, fitted", checker=_feature_compute_optimal),
        DerivationStep(Eq(feat, n_w ** -1 * t ** -(1 - 1 / alpha_s)),
                       "for $r > 1/2$ the variance over feature draws, at a ridge $N^{-\\ell}$ above the features' "
                       "resolution ($\\ell < \\alpha$), is $N^{-1}\\kappa^{1 - 1/\\alpha}$ by dominant balance; "
                       "gradient flow acts as the ridge $1/t$, so the loss gains a term in both resources",
                       "[C18]", "symbolic", "the cross term of random features",
                       where=((feat, n_w ** -f_term[n_w] * t ** -f_term[t]),)),
        DerivationStep(Eq(sp.Tuple(a_n, a_t, ell),
                          sp.Tuple((2 * alpha_s * r_s - alpha_s + 1) / (2 * alpha_s * r_s + 1),
                                   alpha_s / (2 * alpha_s * r_s + 1), 2 * alpha_s * r_s / (2 * alpha_s * r_s + 1))),
                       "$r > 1/2$: the linear program of the three terms $t^{-2r}$, $N^{-\\alpha}$ and "
                       "$N^{-1}t^{-(1-1/\\alpha)}$ under $C = Nt$ binds time and the cross term; the width term "
                       "stays below them because $(2r - 1)(\\alpha - 1) > 0$",
                       "[C18]", "symbolic", "compute-optimal allocation, cross term",
                       where=((a_n, cross.allocation[n_w]), (a_t, cross.allocation[t]), (ell, cross.loss_exponent))),
        DerivationStep(Eq(sp.Symbol(r"a_N^{\mathrm{fit}}"), sp.Symbol(r"a_N^{\mathrm{derived}}")),
                       "the cross-term rule at $r = 4/5$ against the argmin over widths of the finite-data "
                       "learning curve", "[C18]", "numeric", "cross-term rule, fitted", checker=_cross_compute_optimal),
    )
    return Derivation(NAME, TITLE, steps)
