"""Ridge regression with correlated samples [C17], [R22].

The data ``X = K^{1/2} Z Sigma^{1/2}`` have a sample-sample correlation
``K`` (an AR(1) time series here).  Free multiplicative composition puts
``S_K`` into the renormalized ridge; each side of the data gets its own
renormalized ridge (``kappa``, ``nu``); GCV stops estimating the
out-of-sample risk, and CorrGCV does, exactly, when the noise has the
correlations of the data.  Every step is computed by the library and checked
against an independent route: the AR(1) law's own curve, the white model
``LinearRidge``, and Monte Carlo of the Toeplitz-correlated data.
"""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

from ._checks import agree, agree_stats, within

NAME = "correlated-samples"
TITLE = "Ridge regression with correlated samples"

_RHO = sp.Rational(1, 2)


def _symbol_moments(rng):
    # m_k = P_{k-1}(c0) against the trapezoid rule on the Toeplitz symbol
    # (Szego): the symbol is smooth and periodic, so 4000 nodes give ~1e-15
    law = freeprob.AR1(_RHO)
    rho = float(_RHO)
    th = np.linspace(0, np.pi, 4001)
    f = (1 - rho**2) / (1 - 2 * rho * np.cos(th) + rho**2)
    w = np.full(th.size, th[1] - th[0])
    w[[0, -1]] /= 2
    quad = [float(np.sum(w * f**k) / np.pi) for k in range(1, 7)]
    return within([float(m) for m in law.moments(6)], quad, 1e-12, "m_1..m_6 of AR(1/2): Legendre against the symbol")


def _one_point(rng):
    # tr lam (Sigma_hat + lam)^-1 / N over 6 draws of Toeplitz-correlated data
    # against kappa/(1 + kappa) (Sigma = I) at the model's kappa; allowance
    # 3/P (P10 and the O(xi/P) boundary of the Toeplitz matrix, xi = 2)
    n, p = 200, 400
    m = freeprob.CorrelatedRidge(freeprob.Identity(1), freeprob.AR1(_RHO), samples=p, dimension=n)
    lam = np.array([0.05, 0.5])
    kappa = m.evaluate(ridge=lam)["kappa"]
    chol = np.linalg.cholesky(freeprob.AR1(_RHO).toeplitz(p))
    draws = []
    for _ in range(6):
        x = chol @ rng.normal(size=(p, n))
        ev = np.linalg.eigvalsh(x.T @ x / p)
        draws.append([np.mean(lm / (ev + lm)) for lm in lam])
    return agree(draws, kappa / (1 + kappa), allowance=3 / p, what="tr lam (Sigma_hat + lam)^-1 against kappa/(1+kappa)")


def _two_routes(rng):
    # every key (df1, df2 on both sides, gamma, the components, E_g, E_tr,
    # GCV, CorrGCV) by the S-transform route of quantities() (sympy, S_K and
    # its slope at u) against the renormalized-ridge route of evaluate()
    # (the laws' evaluators at the solved kappa, nu), both noise models
    from freeprob.numeric.compile import compile_expr

    worst = 0.0
    lams = np.array([1e-3, 0.1, 1.0])
    for nc in (None, "data"):
        for rho, p in ((_RHO, 400), (sp.Rational(9, 10), 100)):
            m = freeprob.CorrelatedRidge(freeprob.Identity(1), freeprob.AR1(rho), noise_correlation=nc, noise=0.3,
                                         samples=p, dimension=200)
            out, qs = m.evaluate(ridge=lams), m.quantities()
            for key in ("df1", "df2", "df1_K", "df2_K", "nu", "gamma", "bias2", "var_X", "var_X_noise", "Eg", "Etr",
                        "gcv", "corr_gcv"):
                ref = np.asarray(compile_expr(qs[key], (C.kappa, C.q, C.sigma2))(out["kappa"], 200 / p, 0.3,
                                                                                finite=False), dtype=complex).real
                worst = max(worst, float(np.max(np.abs(out[key] - ref) / np.maximum(np.abs(ref), 1e-300))))
    return worst <= 1e-9, worst, f"13 keys, 2 noise models, 2 laws of K, 3 ridges: worst relative difference {worst:.1e}"


def _reduction(rng):
    # K = I: every key of LinearRidge, four populations, both noise models
    worst = 0.0
    for pop, dim in ((freeprob.Identity(1), 100), (freeprob.PowerLaw(1.5, 300), None),
                     (freeprob.MarchenkoPastur(0.5), 100)):
        for nc in (None, "data"):
            lams = np.array([0.0, 1e-3, 0.1, 10.0])
            a = freeprob.CorrelatedRidge(pop, freeprob.Identity(1), noise_correlation=nc, noise=0.3, samples=150,
                                         dimension=dim).evaluate(ridge=lams)
            b = freeprob.LinearRidge(pop, noise=0.3, samples=150, dimension=dim).evaluate(ridge=lams)
            for key in freeprob.models.KEYS:
                fin = np.isfinite(b[key])
                worst = max(worst, float(np.max(np.abs(a[key][fin] - b[key][fin]) / np.maximum(np.abs(b[key][fin]), 1))))
    return worst <= 1e-12, worst, f"K = I against LinearRidge, every key: worst relative difference {worst:.1e}"


def _unbiased(rng):
    # CorrGCV = E_g + sigma^2 at every ridge (including 0) for several laws of K
    worst = 0.0
    for K in (freeprob.AR1(0.9), freeprob.Discrete([0.5, 1.5]), freeprob.MarchenkoPastur(0.3)):
        for p in (60, 600):
            m = freeprob.CorrelatedRidge(freeprob.PowerLaw(1.5, 300), K, noise_correlation="data", noise=0.4, samples=p)
            out = m.evaluate(ridge=np.array([0.0, 1e-3, 1.0]))
            worst = max(worst, float(np.max(np.abs(out["corr_gcv"] - out["Eg"] - 0.4) / (out["Eg"] + 0.4))))
    return worst <= 1e-12, worst, f"CorrGCV - (E_g + sigma^2), relative: {worst:.1e}"


def _model():
    return freeprob.CorrelatedRidge(freeprob.Identity(1), freeprob.AR1(0.9), noise_correlation="data", noise=0.5,
                                    samples=1000, dimension=500)


def _monte_carlo(rng):
    # theory against Toeplitz-correlated draws (AR(1), rho = 0.9, N = 500,
    # P = 1000, noise with the data's correlations): E_g, E_tr, the GCV and
    # CorrGCV limits, each within 4 s.e. + 3% (P10 and the O(xi/P) boundary
    # of the Toeplitz matrix, xi = 10)
    m, lams = _model(), [1e-3, 1e-1]
    sim = freeprob.simulate(m, seeds=6, rng=rng, ridge=lams)
    th = m.evaluate(ridge=np.array(lams))
    keys = ("Eg", "Etr", "gcv", "corr_gcv")
    ok, res, details = True, 0.0, []
    for key in keys:
        o, r, d = agree_stats(sim[key][0], sim[key][1], th[key], allowance=0.03 * th[key], what=key)
        ok, res = ok and o, max(res, r)
        details.append(d)
    return ok, res, "; ".join(details)


def _gcv_bias(rng):
    # GCV - (E_g + sigma^2) draw by draw has |z| > 5, CorrGCV's |z| < 4
    sim = freeprob.simulate(_model(), seeds=6, rng=rng, ridge=[1e-3, 1e-1])
    z_gcv = sim["gcv_bias"][0] / sim["gcv_bias"][1]
    z_corr = sim["corr_gcv_bias"][0] / sim["corr_gcv_bias"][1]
    ok = bool(np.all(z_gcv < -5) and np.all(np.abs(z_corr) < 4))
    return ok, float(np.max(np.abs(z_corr))), (f"z-scores of the biases: GCV {np.round(z_gcv, 1).tolist()}, "
                                               f"CorrGCV {np.round(z_corr, 1).tolist()}")


def _forecast(rng):
    # the risk at the next step of the series, c_t = rho^(P + 1 - t), against
    # Monte Carlo with the exact expectation over the test point given the
    # training data (Gaussian conditioning), 40 draws: 4 s.e. + 5% (the
    # point sits at the boundary of the Toeplitz matrix)
    n, p, rho, s2 = 200, 400, 0.9, 0.5
    m = freeprob.CorrelatedRidge(freeprob.Identity(1), freeprob.AR1(rho), noise_correlation="data", noise=s2,
                                 samples=p, dimension=n)
    lams = np.array([1e-2, 0.3])
    c = rho ** np.arange(p, 0, -1)
    th = m.test_point_risk(c, ridge=lams)
    kmat = freeprob.AR1(rho).toeplitz(p)
    chol = np.linalg.cholesky(kmat)
    a = np.linalg.solve(kmat, c)
    s = 1 - c @ a
    wbar = np.full(n, 1 / np.sqrt(n))
    draws = []
    for _ in range(40):
        x = chol @ rng.normal(size=(p, n))
        eps = chol @ (np.sqrt(s2) * rng.normal(size=p))
        y = x @ wbar + eps
        row = []
        for lam in lams:
            d = wbar - np.linalg.solve(x.T @ x / p + lam * np.eye(n), x.T @ y / p)
            row.append((a @ (x @ d) + a @ eps) ** 2 + s * (d @ d + s2))
        draws.append(row)
    return agree(draws, th, allowance=0.05 * th, what="risk at the next step of an AR(0.9) series")


def build() -> Derivation:
    q, lam, k, df = C.q, C.lam, C.kappa, C.df
    K = freeprob.AR1(_RHO)
    S_K, S_F, S_W = sp.Function("S_K"), sp.Function("S_F"), sp.Function("S_W")
    u = sp.Symbol("u", positive=True)
    c0, c1 = (1 + _RHO**2) / (1 - _RHO**2), 2 * _RHO / (1 - _RHO**2)
    model = freeprob.CorrelatedRidge(freeprob.Identity(1), K, samples=sp.Symbol("P", positive=True),
                                     dimension=sp.Symbol("N", positive=True))
    white = freeprob.CorrelatedRidge(freeprob.Identity(1), freeprob.Identity(1), samples=sp.Symbol("P", positive=True),
                                     dimension=sp.Symbol("N", positive=True))
    linear = freeprob.LinearRidge(freeprob.Identity(1), samples=sp.Symbol("P", positive=True),
                                  dimension=sp.Symbol("N", positive=True))
    eq = model.kappa_equation()
    d1 = freeprob.Identity(1).df1(k)
    nu = C.nu
    E_g, E_tr, gcv, cgcv = sp.symbols(r"E_g E_{tr} \mathrm{GCV} \mathrm{CorrGCV}")
    s_closed = K.s_transform(df, convention="df")
    steps = (
        DerivationStep(Eq(S_K(df), (c0 * df + sp.sqrt(1 + c1**2 * df**2)) / (1 + df)),
                       "the S-transform of the AR(1) law ($\\rho = 1/2$) from its algebraic curve, eliminated "
                       "independently of the closed form", "[C10], [C17]", "symbolic", "S_K of AR(1)",
                       where=((S_K(df), C.s_df_from_voiculescu(K.s_transform(C.t, method="curve"), C.t, df)),),
                       source="AR1(rho).s_transform(t, method='curve')"),
        DerivationStep(Eq(sp.Symbol("m_k"), sp.Symbol("P_{k-1}(c_0)")),
                       "moments are Legendre polynomials at $c_0 = (1+\\rho^2)/(1-\\rho^2)$, against the Toeplitz "
                       "symbol $f(\\theta) = (1-\\rho^2)/(1 - 2\\rho\\cos\\theta + \\rho^2)$", "[C17]", "numeric",
                       "AR(1) moments", checker=_symbol_moments),
        DerivationStep(Eq(S_F(df), S_K(q * df) * S_W(df)),
                       "$\\hat\\Sigma = \\Sigma^{1/2}F\\Sigma^{1/2}$, $F = Z^\\top K Z/P$; the S-transform of "
                       "$Z^\\top K Z/P$ is that of $K$ at $q\\,\\mathrm{df}$ times the white Wishart $S_W$",
                       "[C9], [C10], [R22]", "symbolic", "free composition",
                       where=((S_F(df), s_closed.subs(df, q * df) / (1 - q * df)), (S_K(q * df), s_closed.subs(df, q * df)),
                              (S_W(df), freeprob.MarchenkoPastur(q).s_transform(df, convention="df")))),
        DerivationStep(Eq(S_F(d1), S_K(q * d1) / (1 - q * d1)),
                       "the renormalized ridge $\\kappa = \\lambda S_F(\\mathrm{df}_1)$: the library's kappa equation "
                       "divided by $\\lambda$", "[C11], [R22]", "symbolic", "kappa equation",
                       where=((S_F(d1), eq.rhs / lam), (S_K(q * d1), s_closed.subs(df, q * d1))),
                       source="CorrelatedRidge(...).kappa_equation()"),
        DerivationStep(Eq(lam, k * nu * u), "with $\\mathrm{df}^1_K(\\nu) = u = q\\,\\mathrm{df}^1_\\Sigma(\\kappa)$ and "
                       "$S_K(u) = (1-u)/(u\\nu)$ the two sides are symmetric", "[C17]", "symbolic", "two ridges",
                       where=((lam, k * (1 - u) / s_closed.subs(df, u)),
                              (nu, (1 - u) / (u * s_closed.subs(df, u))))),
        DerivationStep(Eq(sp.Symbol(r"\tfrac1N\mathrm{Tr}\,\lambda(\hat\Sigma+\lambda)^{-1}"), k / (1 + k)),
                       "the one-point equivalent on sampled Toeplitz-correlated data ($N = 200$, $P = 400$)",
                       "[R22]", "montecarlo", "one-point equivalent", approx=True, checker=_one_point),
        DerivationStep(Eq(sp.Symbol(r"\mathrm{keys}_{S_K}"), sp.Symbol(r"\mathrm{keys}_{\nu}")),
                       "$\\gamma = e_2 q d_2/u^2$, $\\mathrm{Var}_{X\\epsilon}$, $E_g$, $E_{tr} = \\nu^2(t\\,\\mathrm{Bias}^2/(1-\\gamma) "
                       "+ W)$, GCV $= E_{tr}/(1-u)^2$ and CorrGCV $= E_{tr}/(\\nu^2 t)$: written once in the values of "
                       "both sides, through $S_K$ and $S_K'$ at $u$ (sympy) and through the laws' evaluators at the "
                       "solved $(\\kappa, \\nu)$", "[R22]", "numeric", "two routes, every key", checker=_two_routes),
        DerivationStep(Eq(E_g, sp.Symbol(r"E_g^{\mathrm{white}}")),
                       "$K = I$ reduces every quantity to linear ridge [R7], [R8] (symbolically, $\\Sigma = I$)",
                       "[R22]", "symbolic", "K = I, E_g", where=((E_g, white.quantities()["Eg"]),
                                                                 (sp.Symbol(r"E_g^{\mathrm{white}}"), linear.quantities()["Eg"]))),
        DerivationStep(Eq(E_tr, sp.Symbol(r"E_{tr}^{\mathrm{white}}")), "and the training error", "[R22]", "symbolic",
                       "K = I, E_tr", where=((E_tr, white.quantities()["Etr"]),
                                             (sp.Symbol(r"E_{tr}^{\mathrm{white}}"), linear.quantities()["Etr"]))),
        DerivationStep(Eq(sp.Symbol(r"\mathrm{keys}(K = I)"), sp.Symbol(r"\mathrm{keys}(\mathrm{LinearRidge})")),
                       "numerically, for every key, population and noise model, $\\lambda$ from 0 to 10",
                       "[R22]", "numeric", "K = I, every key", checker=_reduction),
        DerivationStep(Eq(cgcv, E_g + C.sigma2),
                       "with noise of covariance $\\sigma^2 K$, $E_{tr}/(\\nu^2\\langle k/(k+\\nu)^2\\rangle_K)$ is "
                       "exactly the out-of-sample risk", "[R22]", "numeric", "CorrGCV is unbiased", checker=_unbiased),
        DerivationStep(Eq(sp.Symbol(r"(E_g, E_{tr}, \mathrm{GCV}, \mathrm{CorrGCV})"),
                          sp.Symbol(r"(E_g, E_{tr}, \mathrm{GCV}, \mathrm{CorrGCV})^{\mathrm{MC}}")),
                       "Monte Carlo, AR(1) with $\\rho = 0.9$, $N = 500$, $P = 1000$, $\\lambda = 10^{-3}, 0.1$",
                       "[R22]", "montecarlo", "Monte Carlo", approx=True, checker=_monte_carlo),
        DerivationStep(Eq(sp.Symbol("R(c)"), (E_g + C.sigma2) * (1 - sp.Symbol(r"c^\top (K + 2\nu)(K+\nu)^{-2} c"))),
                       "a test point with correlations $c$ to the training rows (the next step of the series): "
                       "condition it on the training rows, then differentiate the sample-side equivalent "
                       "$\\lambda(G+\\lambda)^{-1} \\simeq \\nu(K+\\nu)^{-1}$ in sources added to $\\Sigma$ and $K$",
                       "[R22]", "montecarlo", "correlated test point", approx=True, checker=_forecast),
        DerivationStep(sp.StrictLessThan(gcv, E_g + C.sigma2),
                       "GCV fails under correlation: its bias has a z-score beyond 5 on the draws, CorrGCV's does not",
                       "[R22]", "montecarlo", "GCV is biased", checker=_gcv_bias),
    )
    return Derivation(NAME, TITLE, steps, results=(("$S_K$ of AR(1/2)", s_closed),),
                      assumptions=("$X = K^{1/2}Z\\Sigma^{1/2}$ with $Z$ i.i.d. standard Gaussian, $K$ positive definite",
                                   "test points independent of the training set, with $K_{**} = 1$"),
                      summary="Correlated samples enter through $S_K$: two renormalized ridges, GCV biased, "
                              "CorrGCV exact for noise with the data's correlations.")
