"""Correlated samples: the AR(1) law, CorrelatedRidge against LinearRidge, its
two symbolic/numeric routes, Monte Carlo, and the (un)biasedness of GCV and
CorrGCV [C17], [R22]."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob import (
    AR1,
    CorrelatedRidge,
    Discrete,
    Identity,
    LinearRidge,
    MarchenkoPastur,
    PowerLaw,
    Semicircle,
    SourceTarget,
    free_mul,
)
from freeprob import conventions as C
from freeprob.errors import ParameterError
from freeprob.numeric.compile import compile_expr

HALF = sp.Rational(1, 2)


# ------------------------------------------------------------------ the AR(1) law
def _symbol_moment(rho, k):
    """``(1/pi) int_0^pi f(theta)^k d theta`` of the Toeplitz symbol, 30 digits."""
    rho = mpmath.mpf(rho)
    with mpmath.workdps(30):
        f = lambda th: (1 - rho**2) / (1 - 2 * rho * mpmath.cos(th) + rho**2)  # noqa: E731
        return mpmath.quad(lambda th: f(th) ** k, [0, mpmath.pi]) / mpmath.pi


@pytest.mark.parametrize("rho", [HALF, sp.Rational(9, 10), sp.Rational(-7, 10)])
def test_ar1_moments_by_the_symbol_and_by_a_sampled_toeplitz_matrix(rho):
    law = AR1(rho)
    exact = [float(m) for m in law.moments(5)]
    # route 1: quadrature of the Toeplitz symbol (Szego), 30 digits
    for k, m in enumerate(exact, start=1):
        assert abs(m - float(_symbol_moment(rho, k))) <= 1e-12 * m
    # route 2: traces of powers of the 2000 x 2000 matrix rho^|t - s|; the
    # finite-P (boundary) correction is O(k xi/P) relative, xi = 1/(1 - |rho|)
    p = 2000
    ev = np.linalg.eigvalsh(law.toeplitz(p))
    for k, m in enumerate(exact, start=1):
        allowance = k / ((1 - abs(float(rho))) * p)
        assert abs(np.mean(ev**k) - m) <= allowance * m, (k, np.mean(ev**k), m)


@pytest.mark.parametrize("rho", [HALF, sp.Rational(-9, 10)])
def test_ar1_stieltjes_by_quadrature_of_the_symbol(rho):
    law = AR1(rho)
    r = mpmath.mpf(rho)
    zs = [3j, 1 + 0.5j, -0.5, 0.0, -20.0, 25.0, 0.5 - 2j]
    got = law.stieltjes_numeric(np.array(zs, dtype=complex))
    with mpmath.workdps(30):
        f = lambda th: (1 - r**2) / (1 - 2 * r * mpmath.cos(th) + r**2)  # noqa: E731
        for z, g in zip(zs, got):
            ref = mpmath.quad(lambda th: 1 / (mpmath.mpc(z) - f(th)), [0, mpmath.pi]) / mpmath.pi
            assert abs(complex(ref) - g) <= 1e-12 * abs(complex(ref)), (z, g, ref)


def test_ar1_closed_forms_agree_with_the_general_relations():
    law = AR1(sp.Rational(3, 5))
    lam = sp.Symbol("lam", positive=True)
    # df1 closed form = 1 + lam g(-lam) [C6]
    gen = C.df1_from_stieltjes(law.stieltjes(C.z), C.z, lam)
    for v in (sp.Rational(1, 10), 1, 7):
        assert abs(complex(sp.N((gen - law.df1(lam)).subs(lam, v), 30))) < 1e-25
    # S(df) closed form against S = (1 - df)/(df nu) at df = df1(nu) [C17]
    s_df = law.s_transform(C.df, convention="df")
    for v in (sp.Rational(1, 10), 2):
        d = law.df1(v)
        assert abs(complex(sp.N(s_df.subs(C.df, d) - C.s_from_renormalized_ridge(d, v), 30))) < 1e-25
    # no atom, support [a, 1/a], and rho = 0 is the point mass at 1
    assert law.atoms() == [] and law.support() == sp.Interval(sp.Rational(1, 4), 4)
    assert AR1(0).atoms() == [(1, 1)] and AR1(0.0).support() == sp.FiniteSet(1)
    assert abs(float(law.cdf_numeric(4.5)[()]) - 1) < 1e-12


@pytest.mark.parametrize("bad", [1, -1, 1.5, -2, sp.oo, "0.5"])
def test_ar1_refuses_a_correlation_outside_the_open_interval(bad):
    with pytest.raises(ParameterError, match="rho"):
        AR1(bad)


# ------------------------------------------------------- reduction to LinearRidge
RIDGES = np.array([0.0, 1e-6, 1e-3, 0.1, 1.0, 1e3])


@pytest.mark.parametrize("pop, dim", [(Identity(1), 100), (MarchenkoPastur(HALF), 100),
                                      (Discrete([0, 1, 3], [0.2, 0.3, 0.5]), None), (PowerLaw(1.5, 400), None)])
@pytest.mark.parametrize("p", [50, 200, 400])
@pytest.mark.parametrize("noise_correlation", [None, "data"])
def test_identity_sample_correlation_reduces_to_linear_ridge_for_every_key(pop, dim, p, noise_correlation):
    m = CorrelatedRidge(pop, Identity(1), noise_correlation=noise_correlation, noise=0.3, samples=p, dimension=dim)
    out = m.evaluate(ridge=RIDGES)
    ref = LinearRidge(pop, noise=0.3, samples=p, dimension=dim).evaluate(ridge=RIDGES)
    for key in freeprob.models.KEYS:
        a, b = out[key], ref[key]
        assert np.array_equal(np.isinf(a), np.isinf(b)), key
        fin = np.isfinite(b)
        assert np.allclose(a[fin], b[fin], rtol=1e-12, atol=1e-15), (key, a, b)
    # K = I: GCV and CorrGCV both estimate E_g + sigma^2 without bias
    for key in ("gcv", "corr_gcv"):
        fin = np.isfinite(out[key])
        assert np.allclose(out[key][fin], out["Eg"][fin] + 0.3, rtol=1e-12)


def test_identity_sample_correlation_reduces_symbolically():
    q, s2 = C.q, C.sigma2
    m = CorrelatedRidge(Identity(1), Identity(1), samples=sp.Symbol("P", positive=True),
                        dimension=sp.Symbol("N", positive=True))
    lin = LinearRidge(Identity(1), samples=sp.Symbol("P", positive=True), dimension=sp.Symbol("N", positive=True))
    ours, ref = m.quantities(), lin.quantities()
    for key in ("gamma", "S", "bias2", "var_X", "var_X_noise", "Eg", "Etr"):
        assert sp.simplify(ours[key] - ref[key]) == 0, key
    assert sp.simplify(ours["gcv"] - (ref["Eg"] + s2)) == 0
    assert sp.simplify(ours["corr_gcv"] - (ref["Eg"] + s2)) == 0
    # the kappa equation is LinearRidge's: kappa = lam/(1 - q df1)
    eq = m.kappa_equation()
    assert sp.simplify(eq.rhs - C.lam / (1 - q * Identity(1).df1(C.kappa))) == 0


# ---------------------------------------------------- two routes to every key
@pytest.mark.parametrize("rho", [HALF, sp.Rational(9, 10), sp.Rational(-3, 10)])
@pytest.mark.parametrize("pop, n", [(Identity(1), 200), (Discrete([sp.Rational(1, 2), 1, 3]), 3)])
@pytest.mark.parametrize("ratio", [HALF, 2])
@pytest.mark.parametrize("noise_correlation", [None, "data"])
def test_s_transform_route_equals_the_renormalized_ridge_route(rho, pop, n, ratio, noise_correlation):
    """``quantities()`` writes the sample side through ``S_K`` and its slope
    (sympy); ``evaluate()`` solves ``(kappa, nu)`` and takes the sample-side
    means from the law's evaluators: the two agree at the solved kappa."""
    p = int(n / ratio) if n > 3 else 3 if ratio == 2 else 6
    dim = None if pop.finite_spectrum is not None else n
    m = CorrelatedRidge(pop, AR1(rho), noise_correlation=noise_correlation, noise=0.3, samples=p, dimension=dim)
    lams = np.array([1e-3, 0.1, 1.0, 10.0])
    out = m.evaluate(ridge=lams)
    qv = float(m.ratio)
    # the defining relations of the pair
    assert np.allclose(out["kappa"] * out["nu"] * out["df1_K"], lams, rtol=1e-13)
    assert np.allclose(qv * out["df1"], out["df1_K"], rtol=1e-13)
    qs = m.quantities()
    for key in ("nu", "df2_K", "gamma", "bias2", "var_X_noise", "Eg", "Etr", "gcv", "corr_gcv"):
        f = compile_expr(qs[key], (C.kappa, C.q, C.sigma2))
        ref = np.asarray(f(out["kappa"], qv, 0.3, finite=False), dtype=complex)
        assert np.all(np.abs(ref.imag) <= 1e-12 * np.abs(ref.real))
        assert np.allclose(out[key], ref.real, rtol=1e-9), (key, out[key], ref.real)


def test_kappa_equation_is_the_free_multiplicative_composition():
    m = CorrelatedRidge(Identity(1), AR1(HALF), samples=100, dimension=50)
    eq = m.kappa_equation()
    out = m.evaluate(ridge=np.array([0.01, 0.5]))
    f = compile_expr(eq.rhs, (C.kappa, C.lam, C.q))
    rhs = np.asarray(f(out["kappa"], np.array([0.01, 0.5]), 0.5), dtype=complex).real
    assert np.allclose(rhs, out["kappa"], rtol=1e-12)


# ---------------------------------------------------------- CorrGCV and GCV
@pytest.mark.parametrize("K", [AR1(0.5), AR1(-0.95), Discrete([0.5, 1.5]), MarchenkoPastur(0.3),
                               free_mul(MarchenkoPastur(0.3), Discrete([1, 2]))])
@pytest.mark.parametrize("pop, dim", [(Identity(1), 100), (PowerLaw(1.5, 300), None)])
def test_corr_gcv_is_unbiased_with_data_correlated_noise(K, pop, dim):
    lams = np.array([0.0, 1e-3, 0.1, 10.0])
    for p in (50, 600):
        m = CorrelatedRidge(pop, K, noise_correlation="data", noise=0.4, samples=p, dimension=dim)
        out = m.evaluate(ridge=lams)
        assert np.allclose(out["corr_gcv"], out["Eg"] + 0.4, rtol=1e-12)
        # S = +oo and E_tr = 0 at lam = 0 exactly when nu = 0 (more features than samples)
        assert (out["nu"][0] == 0) == np.isinf(out["S"][0]) == (out["Etr"][0] == 0)


def test_gcv_is_over_optimistic_under_positive_correlation():
    m = CorrelatedRidge(Identity(1), AR1(0.9), noise_correlation="data", noise=0.5, samples=1000, dimension=500)
    out = m.evaluate(ridge=np.array([1e-3, 0.1, 1.0]))
    assert np.all(out["gcv"] < 0.5 * (out["Eg"] + 0.5))


# ------------------------------------------------------------- Monte Carlo
MC_RIDGES = [1e-3, 1e-1]


@pytest.mark.parametrize("rho", [0.5, 0.9])
@pytest.mark.parametrize("pop", [Identity(1), PowerLaw(1.5, 500)], ids=["white", "powerlaw"])
@pytest.mark.parametrize("ratio", [0.5, 2.0])
@pytest.mark.parametrize("noise_correlation", ["data", None])
def test_theory_against_monte_carlo(rho, pop, ratio, noise_correlation):
    """E_g, E_tr, GCV, CorrGCV and tr(hat)/P within 4 s.e. plus a 3%
    finite-size allowance (N = 500: boundary effects of the Toeplitz matrix
    at P = 250 are O(xi/P), xi = 1/(1 - rho))."""
    p = int(500 / ratio)
    m = CorrelatedRidge(pop, AR1(rho), noise_correlation=noise_correlation, noise=0.5, samples=p, dimension=500)
    sim = freeprob.simulate(m, seeds=8, rng=np.random.default_rng(2), ridge=MC_RIDGES)
    rows = freeprob.compare(m, sim, ridge=MC_RIDGES, allowance=0.03, out=lambda *a: None)
    assert {r["key"] for r in rows} == {"Eg", "Etr", "gcv", "corr_gcv", "df1_K"}
    bad = [r for r in rows if not r["ok"]]
    assert not bad, bad


def test_gcv_is_biased_and_corr_gcv_is_not_in_monte_carlo():
    """AR(1) with rho = 0.9, N = 500, P = 1000, noise with the data's
    correlations: GCV - (E_g + sigma^2) has a z-score beyond 5 in magnitude,
    CorrGCV - (E_g + sigma^2) stays within 4 s.e., draw by draw."""
    m = CorrelatedRidge(Identity(1), AR1(0.9), noise_correlation="data", noise=0.5, samples=1000, dimension=500)
    sim = freeprob.simulate(m, seeds=10, rng=np.random.default_rng(7), ridge=MC_RIDGES)
    z_gcv = sim["gcv_bias"][0] / sim["gcv_bias"][1]
    z_corr = sim["corr_gcv_bias"][0] / sim["corr_gcv_bias"][1]
    assert np.all(z_gcv < -5), z_gcv
    assert np.all(np.abs(z_corr) < 4), z_corr


def test_ridgeless_monte_carlo_on_both_sides_of_the_threshold():
    for p in (1000, 250):
        m = CorrelatedRidge(Identity(1), AR1(0.5), noise_correlation="data", noise=0.5, samples=p, dimension=500)
        sim = freeprob.simulate(m, seeds=6, rng=np.random.default_rng(3), ridge=[0.0])
        rows = freeprob.compare(m, sim, ridge=[0.0], allowance=0.03, out=lambda *a: None)
        assert all(r["ok"] for r in rows), rows


def test_simulation_does_not_depend_on_the_executor():
    from concurrent.futures import ThreadPoolExecutor

    m = CorrelatedRidge(Identity(1), AR1(0.5), noise=0.2, samples=120, dimension=60, ridge=0.1)
    a = freeprob.simulate(m, seeds=3, rng=np.random.default_rng(5))
    with ThreadPoolExecutor(2) as ex:
        b = freeprob.simulate(m, seeds=3, rng=np.random.default_rng(5), executor=ex)
    for key in a:
        assert np.array_equal(a[key][0], b[key][0]), key


# ------------------------------------------------------------- the estimator
def test_corr_gcv_estimator_with_a_law_and_with_the_matrix():
    rng = np.random.default_rng(0)
    law = AR1(0.6)
    kmat = law.toeplitz(300)
    chol = np.linalg.cholesky(kmat)
    X = chol @ rng.normal(size=(300, 150))
    y = X @ (np.ones(150) / np.sqrt(150)) + 0.5 * chol @ rng.normal(size=300)
    lams = [0.0, 1e-2, 1.0]
    by_law = freeprob.corr_gcv(X, y, lams, law)
    by_matrix = freeprob.corr_gcv(X, y, lams, kmat)
    # the matrix's spectrum is the law's up to O(xi/P)
    assert np.allclose(by_law["corr_gcv"], by_matrix["corr_gcv"], rtol=0.05)
    # K = I: CorrGCV is GCV
    plain = freeprob.corr_gcv(X, y, lams, Identity(1))
    assert np.allclose(plain["corr_gcv"], freeprob.gcv(X, y, lams)["gcv"], rtol=1e-10)
    # lam = 0 with N < P: u = N/P exactly
    assert by_law["df1_K"][0] == 0.5
    X2 = X[:100]
    at0 = freeprob.corr_gcv(X2, y[:100], [0.0, 1e-9], law.toeplitz(100))
    assert at0["nu_hat"][0] == 0 and np.isclose(at0["corr_gcv"][0], at0["corr_gcv"][1], rtol=1e-5)


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize("K, match", [
    (Semicircle(1), "sample_correlation"),
    (Discrete([0, 1]), "sample_correlation"),
    (np.eye(3), "sample_correlation"),
    (AR1(sp.Symbol("r", real=True)), "sample_correlation"),
])
def test_improper_sample_correlation_is_refused(K, match):
    with pytest.raises(ParameterError, match=match):
        CorrelatedRidge(Identity(1), K, samples=10, dimension=5)


@pytest.mark.parametrize("noise_correlation", ["white", Discrete([1, 2]), AR1(0.3), 1])
def test_uncovered_noise_correlation_is_refused(noise_correlation):
    with pytest.raises(ParameterError, match="noise_correlation"):
        CorrelatedRidge(Identity(1), AR1(0.5), noise_correlation=noise_correlation, samples=10, dimension=5)


def test_noise_correlation_laws_that_the_theory_covers_are_named_as_such():
    K = AR1(0.5)
    assert CorrelatedRidge(Identity(1), K, noise_correlation=Identity(1), samples=10,
                           dimension=5).noise_correlation is None
    assert CorrelatedRidge(Identity(1), K, noise_correlation=AR1(0.5), samples=10,
                           dimension=5).noise_correlation == "data"


@pytest.mark.parametrize("bad", [np.ones((3, 4)), -np.eye(300), "K", np.full((300, 300), np.nan)])
def test_corr_gcv_refuses_a_bad_matrix(bad):
    X = np.random.default_rng(0).normal(size=(300, 10))
    with pytest.raises(ParameterError, match="sample_correlation"):
        freeprob.corr_gcv(X, X[:, 0], 0.1, bad)


def test_threshold_and_noise_limits():
    # P = N, lam = 0: kappa = nu = 0; noise gives +oo, no noise gives 0
    m = CorrelatedRidge(Identity(1), AR1(0.5), samples=100, dimension=100, ridge=0.0)
    out = m.evaluate(noise=np.array([0.0, 0.3]))
    assert out["Eg"][0] == 0 and np.isinf(out["Eg"][1]) and np.all(out["gamma"] == 1)
    assert np.all(out["Etr"] == 0)
    # huge ridge: the predictor is 0, E_g -> ||wbar||^2 = 1
    big = CorrelatedRidge(Identity(1), AR1(0.5), samples=100, dimension=50, ridge=1e8).evaluate()
    assert abs(float(big["Eg"]) - 1) < 1e-6 and abs(float(big["bias2"]) - 1) < 1e-6


def test_kernel_limit_population():
    m = CorrelatedRidge(PowerLaw(1.5, sp.oo), AR1(0.5), target=SourceTarget(1), noise=0.1, samples=200)
    out = m.evaluate(ridge=np.array([0.0, 1e-4, 1e-2]))
    for key in freeprob.models.CORRELATED_KEYS:
        assert np.all(np.isfinite(out[key]) | (np.isinf(out[key]) & (out[key] > 0))), key
    assert np.allclose(out["corr_gcv"][1:], out["gcv"][1:] * (1 - out["df1_K"][1:]) ** 2
                       / (out["nu"][1:] ** 2 * (out["df1_K"][1:] - out["df2_K"][1:]) / out["nu"][1:]), rtol=1e-8)


# ------------------------------------------------- a test point correlated with the training set
def _conditional_risk_mc(m, c, lams, seeds, rng):
    """Monte Carlo of the risk at a test point with correlations ``c`` to the
    training rows: per draw, the expectation over the test point given the
    training data is exact (Gaussian conditioning, ``x_* = X^T a + sqrt(s) g``,
    and for data-correlated noise ``eps_* = a^T eps + sqrt(s) sigma xi``)."""
    p, n = int(m.samples), int(m.dimension)
    kmat = m.sample_correlation.toeplitz(p)
    chol = np.linalg.cholesky(kmat)
    sigma = freeprob.sampling.population_spectrum(m.population, n)
    wbar, s2 = np.full(n, 1 / np.sqrt(n)), float(m.noise)
    a = np.linalg.solve(kmat, c)
    s = 1 - c @ a
    out = []
    for _ in range(seeds):
        x = chol @ (rng.normal(size=(p, n)) * np.sqrt(sigma))
        xi = rng.normal(size=p) * np.sqrt(s2)
        eps = chol @ xi if m.noise_correlation == "data" else xi
        y = x @ wbar + eps
        row = []
        for lam in lams:
            d = wbar - np.linalg.solve(x.T @ x / p + lam * np.eye(n), x.T @ y / p)
            eg = d @ (sigma * d)
            if m.noise_correlation == "data":
                row.append((a @ (x @ d) + a @ eps) ** 2 + s * (eg + s2))
            else:
                row.append((a @ (x @ d)) ** 2 + s * eg + s2)
        out.append(row)
    out = np.array(out)
    return out.mean(axis=0), out.std(axis=0, ddof=1) / np.sqrt(seeds)


@pytest.mark.parametrize("noise_correlation", ["data", None])
@pytest.mark.parametrize("rho", [0.5, 0.9])
@pytest.mark.parametrize("pop", [Identity(1), PowerLaw(1.5, 200)], ids=["white", "powerlaw"])
def test_risk_at_the_next_step_of_the_series_against_monte_carlo(noise_correlation, rho, pop):
    """The forecast point ``c_t = rho^(P + 1 - t)``: theory within 4 s.e. +
    5% (N = 200, P = 400; the boundary of the Toeplitz matrix is where this
    point lives, so the allowance is larger than in the bulk)."""
    p = 400
    m = CorrelatedRidge(pop, AR1(rho), noise_correlation=noise_correlation, noise=0.5, samples=p, dimension=200)
    lams = np.array([1e-2, 0.3])
    c = rho ** np.arange(p, 0, -1)
    th = m.test_point_risk(c, ridge=lams)
    mean, se = _conditional_risk_mc(m, c, lams, 40, np.random.default_rng(11))
    assert np.all(np.abs(mean - th) <= 4 * se + 0.05 * th), (th, mean, se)


def test_test_point_risk_limits():
    p = 300
    m = CorrelatedRidge(Identity(1), AR1(0.7), noise_correlation="data", noise=0.4, samples=p, dimension=150)
    lams = np.array([1e-3, 0.1, 1.0])
    out = m.evaluate(ridge=lams)
    # an uncorrelated test point: the out-of-sample risk
    assert np.allclose(m.test_point_risk(np.zeros(p), ridge=lams), out["Eg"] + 0.4, rtol=1e-13)
    # the training points themselves (c = K e_i) average to E_tr, up to the O(xi/P) boundary
    kmat = AR1(0.7).toeplitz(p)
    at_train = m.test_point_risk(kmat.T, ridge=lams).mean(axis=0)
    assert np.allclose(at_train, out["Etr"], rtol=0.02)
    # a forecast is more optimistic than a fresh point, and closer to the past is better
    c1, c5 = 0.7 ** np.arange(p, 0, -1), 0.7 ** np.arange(p + 4, 4, -1)
    r = m.test_point_risk(np.vstack([c1, c5]), ridge=lams)
    assert np.all(r[0] < r[1]) and np.all(r[1] < out["Eg"] + 0.4)
    with pytest.raises(ParameterError, match="correlation"):
        m.test_point_risk(np.ones(p), ridge=lams)            # c^T K^-1 c > 1: no joint covariance
    with pytest.raises(ParameterError, match="correlation"):
        m.test_point_risk(np.ones(p + 1), ridge=lams)
    disc = CorrelatedRidge(Identity(1), Discrete([0.5, 1.5]), samples=10, dimension=5)
    with pytest.raises(ParameterError, match="sample_matrix"):
        disc.test_point_risk(np.zeros(10))


# ------------------------------------------------- K unknown but stationary
@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_estimated_correlation_serves_corr_gcv(rho):
    p, n = 1000, 500
    kmat = AR1(rho).toeplitz(p)
    chol = np.linalg.cholesky(kmat)
    rng = np.random.default_rng(3)
    X = chol @ rng.normal(size=(p, n))
    y = X @ np.full(n, 1 / np.sqrt(n)) + np.sqrt(0.5) * chol @ rng.normal(size=p)
    k_hat = freeprob.estimate_correlation(X)
    assert np.allclose(k_hat[0, :4], rho ** np.arange(4), atol=0.02)
    assert np.linalg.eigvalsh(k_hat)[0] > 0
    lams = [1e-3, 0.1]
    est = freeprob.corr_gcv(X, y, lams, k_hat)["corr_gcv"]
    true = freeprob.corr_gcv(X, y, lams, kmat)["corr_gcv"]
    assert np.allclose(est, true, rtol=0.02)
    with pytest.raises(ParameterError, match="max_lag"):
        freeprob.estimate_correlation(X, max_lag=0)
    with pytest.raises(ParameterError, match="X"):
        freeprob.estimate_correlation(np.zeros((5, 3)))


def test_symbolic_results_export_to_latex():
    m = CorrelatedRidge(Identity(1), AR1(HALF), noise_correlation="data", samples=sp.Symbol("P", positive=True),
                        dimension=sp.Symbol("N", positive=True))
    qs = m.quantities()
    for key in ("Eg", "Etr", "gcv", "corr_gcv", "nu"):
        tex = freeprob.latex(qs[key])
        assert isinstance(tex, str) and "kappa" in tex, key
    assert r"\kappa" in freeprob.latex(m.kappa_equation())
