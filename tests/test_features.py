"""Random-feature ridge regression [R12]-[R19]: derived equations, closed
forms, limits, conventions and Monte Carlo with crossed seeds."""

import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.errors import ParameterError
from freeprob.models.features import RF_KEYS


def test_keys_and_derivation_steps():
    m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 200), widths=100, samples=50, ridge=1e-2)
    out = m.evaluate()
    assert tuple(out) == RF_KEYS
    # lists broadcast like arrays
    assert m.evaluate(ridge=[0.0, 1e-2])["Eg"].shape == (2,)
    steps = m.steps()
    assert [s.reference for s in steps[:2]] == ["[R1]", "[R12]"]
    # the S-transform of F F^T is derived from the free product of the layers
    psi = C.width_ratio(1)
    assert sp.simplify(m.s_features(C.df) - 1 / (psi - C.df)) == 0
    deep = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=[30, 20], samples=10, dimension=40)
    psi2 = C.width_ratio(2)
    assert sp.simplify(deep.s_features(C.df) - 1 / ((psi - C.df) * (psi2 - C.df))) == 0  # [R17]
    fan = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=[30, 20], samples=10, dimension=40,
                                      layer_variance="fan_in")
    # layer 2 variance 1/N_1: (N_2/D - df) -> (N_2/D - df) D/N_1 [R17]
    assert sp.simplify(fan.s_features(C.df) - psi / ((psi - C.df) * (psi2 - C.df))) == 0
    aniso = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=30, samples=10, dimension=40,
                                        feature_covariance=freeprob.PowerLaw(0.5, 30))
    u = C.df
    assert sp.simplify(aniso.s_features(u) - 1 / (u * C.kappa_F(u / psi))) == 0  # [R18]


def test_rho_and_gamma1_match_the_paper_forms():
    # rho and gamma_1 are derived as derivatives of the explicit map; the
    # paper writes them through s_F [R13]: rho = [1 + (df1 - df2)/df1 s_F]^-1,
    # gamma_1 = (df1 - (df1 - df2) rho)/phi, s_F = sum_l df1/(psi_l - df1)
    m = freeprob.RandomFeatureRidge(freeprob.Discrete([0.5, 1, 3]), widths=[2, 5], samples=7)
    qs = m.quantities()
    df1, df2 = qs["df1"], qs["df2"]
    s_f = sum(df1 / (p - df1) for p in m.psis)
    rho_paper = 1 / (1 + (df1 - df2) / df1 * s_f)
    g1_paper = (df1 - (df1 - df2) * rho_paper) / C.phi
    from freeprob.numeric.compile import compile_expr

    args = (C.kappa2, C.phi, *m.psis, C.sigma2, C.sigma_xi2)
    pts = [np.array([0.05, 0.7, 4.0]), np.array([0.5, 2.0, 3.0]), np.array([1.5, 0.9, 2.0]),
           np.array([2.5, 1.2, 0.7]), np.zeros(3), np.zeros(3)]
    for ours, paper in ((qs["rho"], rho_paper), (qs["gamma1"], g1_paper)):
        a = compile_expr(ours, args)(*pts)
        b = compile_expr(paper, args)(*pts)
        assert np.allclose(a, b, rtol=1e-12, atol=0)
    # Appendix A.4: kappa2 tf1 - rho kappa2 tf2 = rho kappa2^2 (-tf1') + (1 - rho) kappa2 tf1
    k = C.kappa2
    tf1p = (df1 - df2) / k
    lhs = k * df1 - qs["rho"] * k * df2
    rhs = qs["rho"] * k**2 * tf1p + (1 - qs["rho"]) * k * df1
    assert np.allclose(compile_expr(lhs - rhs, args)(*pts), 0, atol=1e-13)


def test_isotropic_ridgeless_closed_forms():
    n_sym = sp.Symbol("N", positive=True)
    m = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=n_sym, dimension=sp.Symbol("D", positive=True))
    cf = m.isotropic_ridgeless_closed_forms()
    phi, psi, s2 = C.phi, C.width_ratio(1), C.sigma2
    # [R15] as stated there (m = min(N, P)/D, kappa_2 = (1 - m)/m)
    assert sp.simplify(cf["signal_width_limited"] - (1 - psi) * phi / (phi - psi)) == 0
    assert sp.simplify(cf["noise_width_limited"] - s2 * psi / (phi - psi)) == 0
    assert sp.simplify(cf["signal_data_limited"] - (1 - phi) * psi / (psi - phi)) == 0
    assert sp.simplify(cf["noise_data_limited"]
                       - s2 * phi * (1 + psi - 2 * phi) / ((1 - phi) * (psi - phi))) == 0
    assert sp.simplify(cf["kappa2_width_limited"] - (1 - psi) / psi) == 0
    # N <-> P duality of the noiseless ridgeless error, symbolically: swapping
    # phi and psi maps the width-limited signal onto the data-limited one
    swapped = cf["signal_width_limited"].subs({phi: psi, psi: phi}, simultaneous=True)
    assert sp.simplify(swapped - cf["signal_data_limited"]) == 0
    # the numeric solver at lam = 0 against the same closed forms, both sides
    num = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=200, samples=100, ridge=0.0, dimension=400,
                                      noise=0.5)
    for n, p in ((120, 300), (300, 120), (50, 100), (100, 50)):
        out = num.evaluate(widths=n, samples=p)
        mm = min(n, p) / 400
        ph, ps = p / 400, n / 400
        noise = 0.5 * (ps / (ph - ps) if n < p else ph * (1 + ps - 2 * ph) / ((1 - ph) * (ps - ph)))
        # float64 solve of the bottleneck: 1e-11
        assert float(out["kappa2"]) == pytest.approx((1 - mm) / mm, rel=1e-11)
        assert float(out["Eg"]) == pytest.approx((1 - mm) * max(n, p) / abs(n - p) + noise, rel=1e-10)
    # P = infinity, lam -> 0, ||wbar|| = 1: E_g = 1 - N/D (projection) [R13]
    big = num.evaluate(widths=100, samples=10**12, noise=0.0)
    assert float(big["Eg"]) == pytest.approx(1 - 100 / 400, rel=1e-9)


def test_duality_n_p_for_an_input_isotropic_target():
    # [R15]: ridgeless, noiseless, target isotropic in input space (constant
    # coefficients): E_g(N, P) = E_g(P, N) for any Sigma; broken by a
    # generic anisotropic target
    pop = freeprob.PowerLaw(1.3, 500)
    m = freeprob.RandomFeatureRidge(pop, widths=100, samples=100, ridge=0.0)
    for n, p in ((120, 300), (80, 400), (450, 200)):
        a = float(m.evaluate(widths=n, samples=p)["Eg"])
        b = float(m.evaluate(widths=p, samples=n)["Eg"])
        assert a == pytest.approx(b, rel=1e-9)
    src = freeprob.RandomFeatureRidge(pop, widths=100, samples=100, ridge=0.0, target=freeprob.SourceTarget(0.3))
    a = float(src.evaluate(widths=120, samples=300)["Eg"])
    b = float(src.evaluate(widths=300, samples=120)["Eg"])
    assert abs(a - b) > 1e-3 * a


def test_linear_ridge_is_the_infinite_width_limit():
    # N -> oo with the effective ridge lam D/N (P2: S_F(0) = D/N): kappa_2 and
    # every error tend to LinearRidge at ridge lam (q = D/P) with O(D/N)
    # corrections; psi = 1e9 leaves ~1e-8
    pop = freeprob.PowerLaw(1.5, 300)
    lin = freeprob.LinearRidge(pop, target=freeprob.SourceTarget(0.6), noise=0.2, samples=150)
    rf = freeprob.RandomFeatureRidge(pop, widths=300 * 10**9, samples=150, target=freeprob.SourceTarget(0.6),
                                     noise=0.2)
    lam = np.array([0.0, 1e-3, 0.1])
    a = lin.evaluate(ridge=lam)
    b = rf.evaluate(ridge=lam * 1e9)
    assert np.allclose(b["kappa2"], a["kappa"], rtol=1e-7)
    for key in ("bias2", "var_X", "var_X_noise", "Eg", "Etr"):
        assert np.allclose(b[key], a[key], rtol=1e-6, atol=1e-12), key
    assert np.all(np.abs(b["var_F"]) < 1e-7) and np.all(np.abs(b["rho"] - 1) < 1e-7)


def test_fan_in_is_a_rescaled_ridge():
    # [R17]: entry variances 1/N_{l-1} = rescaling lam -> lam prod_{l<L} N_l/D
    pop = freeprob.PowerLaw(1.4, 300)
    a = freeprob.RandomFeatureRidge(pop, widths=[250, 200, 150], samples=120, layer_variance="fan_in")
    b = freeprob.RandomFeatureRidge(pop, widths=[250, 200, 150], samples=120)
    lam = np.array([0.0, 1e-3, 0.2])
    ea, eb = a.evaluate(ridge=lam), b.evaluate(ridge=lam * (250 / 300) * (200 / 300))
    for key in ("kappa2", "Eg", "bias2", "var_F", "Etr"):
        assert np.allclose(ea[key], eb[key], rtol=1e-10, atol=1e-15), key
    # the narrowest layer sets the ridgeless resolution: df1(kappa_2) = 120/300 (P)
    assert pop.df1_numeric(ea["kappa2"][:1])[0] == pytest.approx(120 / 300, rel=1e-12)
    c = freeprob.RandomFeatureRidge(pop, widths=[250, 90, 150], samples=120, ridge=0.0)
    assert pop.df1_numeric(np.atleast_1d(c.evaluate()["kappa2"]))[0] == pytest.approx(90 / 300, rel=1e-12)


def test_isotropic_feature_covariance_reduces_to_white():
    # alpha_F = 0: Sigma_F = I, so the kappa_F route must equal the white one
    pop = freeprob.PowerLaw(1.5, 300)
    lam = np.array([0.0, 1e-3, 0.3])
    for n, p in ((200, 150), (100, 150)):
        white = freeprob.RandomFeatureRidge(pop, widths=n, samples=p, noise=0.1).evaluate(ridge=lam)
        aniso = freeprob.RandomFeatureRidge(pop, widths=n, samples=p, noise=0.1,
                                            feature_covariance=freeprob.Discrete(np.ones(n))).evaluate(ridge=lam)
        for key in RF_KEYS:
            # inner inversion of df1_{Sigma_F} at 1e-15 relative, amplified by
            # the outer derivatives: 1e-9
            assert np.allclose(aniso[key], white[key], rtol=1e-9, atol=1e-14), (key, n, p)


def test_feature_noise_is_an_extra_ridge():
    # [R19]: kappa_1 + sigma_xi^2 = kappa_2 (N/D - df1(kappa_2))
    pop = freeprob.PowerLaw(1.5, 300)
    m = freeprob.RandomFeatureRidge(pop, widths=200, samples=150, feature_noise=0.3)
    out = m.evaluate(ridge=np.array([0.0, 1e-2, 1.0]))
    lhs = out["kappa1"] + 0.3
    rhs = out["kappa2"] * (200 / 300 - pop.df1_numeric(out["kappa2"]))
    assert np.allclose(lhs, rhs, rtol=1e-12)
    # ridgeless with feature noise: dfbar1 = P/D (the data bottleneck, N > P)
    dfbar = pop.df1_numeric(out["kappa2"][:1]) + 0.3 / out["kappa2"][:1]
    assert dfbar[0] == pytest.approx(150 / 300, rel=1e-12)


def test_bad_input():
    pop = freeprob.PowerLaw(1.5, 50)
    with pytest.raises(ParameterError, match="widths"):
        freeprob.RandomFeatureRidge(pop, widths=0)
    with pytest.raises(ParameterError, match="widths"):
        freeprob.RandomFeatureRidge(pop, widths=[10, 2.5])
    with pytest.raises(ParameterError, match="samples"):
        freeprob.RandomFeatureRidge(pop, widths=10, samples=-3)
    with pytest.raises(ParameterError, match="feature_noise"):
        freeprob.RandomFeatureRidge(pop, widths=10, feature_noise=-0.1)
    with pytest.raises(ParameterError, match="feature_covariance"):
        freeprob.RandomFeatureRidge(pop, widths=10, feature_covariance=freeprob.PowerLaw(1.0, 11))
    with pytest.raises(ParameterError, match="feature_covariance"):
        freeprob.RandomFeatureRidge(pop, widths=[10, 5], feature_covariance=freeprob.PowerLaw(1.0, 10))
    with pytest.raises(ParameterError, match="layer_variance"):
        freeprob.RandomFeatureRidge(pop, widths=10, layer_variance="xavier")
    m = freeprob.RandomFeatureRidge(pop, widths=10, samples=20, ridge=0.1)
    with pytest.raises(ParameterError, match="ridge"):
        m.evaluate(ridge=-1.0)
    with pytest.raises(ParameterError, match="widths"):
        m.evaluate(widths=[10, 10])
    aniso = freeprob.RandomFeatureRidge(pop, widths=10, samples=20, ridge=0.1,
                                        feature_covariance=freeprob.PowerLaw(0.5, 10))
    with pytest.raises(ParameterError, match="widths"):  # Sigma_F has 10 eigenvalues
        aniso.evaluate(widths=20)
    with pytest.raises(ParameterError, match="samples"):
        m.evaluate(samples=np.array([10.5]))


VARIANTS = {
    "isotropic": dict(population=freeprob.Identity(1), widths=200, dimension=300),
    "powerlaw-source": dict(population=freeprob.PowerLaw(1.5, 300), widths=200, target=freeprob.SourceTarget(0.7)),
    "deep": dict(population=freeprob.PowerLaw(1.5, 300), widths=[250, 200]),
    "deep-fan-in": dict(population=freeprob.PowerLaw(1.5, 300), widths=[250, 200], layer_variance="fan_in"),
    "anisotropic": dict(population=freeprob.PowerLaw(1.5, 300), widths=200,
                        feature_covariance=freeprob.PowerLaw(0.7, 200)),
    "feature-noise": dict(population=freeprob.PowerLaw(1.5, 300), widths=200, feature_noise=0.3),
    "overparameterized": dict(population=freeprob.PowerLaw(1.5, 300), widths=400),
}


@pytest.mark.montecarlo
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_theory_vs_crossed_seed_monte_carlo(name, rng):
    # D = 300, P = 150, a 12 x 12 grid of (X, F) draws.  Each component must
    # lie within 4 standard errors (row-plus-column jackknife) plus the
    # finite-size allowance of pitfall P10: 5% of the component and 1% of
    # E_g (small components carry the same O(1/P) corrections as E_g itself).
    # kappa_1-hat has an O(1/P) bias (P10), inside the 5%.
    m = freeprob.RandomFeatureRidge(samples=150, noise=0.2, **VARIANTS[name])
    ridge = [0.0, 1e-2, 0.3]
    sim = freeprob.simulate(m, seeds=(12, 12), rng=rng, ridge=ridge)
    assert set(sim) == {"kappa1", "bias2", "var_X", "var_F", "var_XF", "var_X_noise", "var_XF_noise", "Eg",
                        "Etr", "gcv"}
    rows = freeprob.compare(m, sim, ridge=ridge, allowance=0.05, floor=0.01, out=lambda s: None)
    bad = [r for r in rows if not r["ok"]]
    assert not bad, bad


def test_gaussian_equivalence_coefficients_two_routes():
    # exact sympy integrals vs 30-digit mpmath quadrature, and relu's known
    # values mu_0 = sqrt(nu/(2 pi)), mu_1 = 1/2, mu_*^2 = nu (1/4 - 1/(2 pi))
    relu = freeprob.activation("relu")
    for nu in (sp.Rational(1, 3), sp.Integer(2)):
        ex = relu.coefficients(nu, method="exact")
        qu = relu.coefficients(nu, method="quad")
        assert np.allclose([float(v) for v in ex], qu, rtol=1e-14)
        assert float(ex[0]) == pytest.approx(float(sp.sqrt(nu / (2 * sp.pi))), rel=1e-15)
        assert ex[1] == sp.Rational(1, 2)
        assert float(ex[2]) ** 2 == pytest.approx(float(nu * (sp.Rational(1, 4) - 1 / (2 * sp.pi))), rel=1e-14)
    # erf: mu_1 = E erf'(h) = (2/sqrt(pi))/sqrt(1 + 2 nu); E erf(h)^2 = (2/pi) asin(2nu/(1 + 2nu))
    mu0, mu1, ms = freeprob.activation("erf").coefficients(0.5)
    assert mu0 == pytest.approx(0, abs=1e-15)
    assert mu1 == pytest.approx(2 / np.sqrt(np.pi) / np.sqrt(2), rel=1e-14)
    assert ms**2 + 0.5 * mu1**2 == pytest.approx(2 / np.pi * np.arcsin(0.5), rel=1e-13)
    # a user expression: a polynomial is integrated exactly (E h^3 = 0, E h^4 = 3 nu^2)
    h = sp.Symbol("u", real=True)
    c = freeprob.activation(h + h**3).coefficients(1)
    assert c == (0, 4, sp.sqrt(6))  # mu_1 = E[1 + 3h^2] = 4; E(h + h^3)^2 - 16 = 1 + 6 + 15 - 16


def test_nonlinear_bad_input():
    pop = freeprob.Identity(1)
    x, y = sp.symbols("x y", real=True)
    with pytest.raises(ParameterError, match="activation"):
        freeprob.NonlinearRandomFeatureRidge(pop, widths=10, dimension=20, activation=x * y)
    with pytest.raises(ParameterError, match="activation"):
        freeprob.NonlinearRandomFeatureRidge(pop, widths=10, dimension=20, activation="gelu")
    with pytest.raises(ParameterError, match="activation"):  # even: no linear part
        freeprob.NonlinearRandomFeatureRidge(pop, widths=10, dimension=20, activation=x**2)
    with pytest.raises(ParameterError, match="widths"):
        freeprob.NonlinearRandomFeatureRidge(pop, widths=[10, 5], dimension=20)


@pytest.mark.montecarlo
@pytest.mark.parametrize("act,width", [("relu", 200), ("erf", 400)])
def test_nonlinear_features_monte_carlo(act, width, rng):
    # real features phi(X F) with the exact test error (arc-cosine / arcsine
    # kernels) against the Gaussian-equivalent theory; D = 300, P = 150,
    # 12 x 12 draws, tolerance as for the linear variants.  Isotropic inputs:
    # Gaussian equivalence with one preactivation variance needs the
    # variances F_j^T Sigma F_j to concentrate (effective rank >> 1).
    m = freeprob.NonlinearRandomFeatureRidge(freeprob.Identity(1), widths=width, samples=150, noise=0.2,
                                             dimension=300, activation=act)
    ridge = [0.0, 1e-2, 0.3]
    sim = freeprob.simulate(m, seeds=(12, 12), rng=rng, ridge=ridge)
    rows = freeprob.compare(m, sim, ridge=ridge, allowance=0.05, floor=0.01, out=lambda s: None)
    bad = [r for r in rows if not r["ok"]]
    assert not bad, bad


def test_executor_gives_the_same_grid():
    from concurrent.futures import ThreadPoolExecutor

    m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 60), widths=40, samples=30, noise=0.1, ridge=0.1)
    a = freeprob.simulate(m, seeds=(3, 4), rng=np.random.default_rng(5))
    with ThreadPoolExecutor(2) as ex:
        b = freeprob.simulate(m, seeds=(3, 4), rng=np.random.default_rng(5), executor=ex)
    for key in a:
        assert np.array_equal(a[key][0], b[key][0]), key
    with pytest.raises(ParameterError, match="seeds"):
        freeprob.simulate(m, seeds=(1, 4), rng=np.random.default_rng(5))


def test_simulation_does_not_depend_on_the_loop_order_or_executor():
    """The crossed-seed simulation keeps the feature draws, or takes blocks of
    data draws that fit the memory budget (one row, two rows) with the
    feature draws outer, or runs under an executor: every path draws the same
    matrices from the same seeds and adds the cells in the same order, so the
    results are identical (the training feature noise is seeded by the
    cell's pair of seeds, not by advancing a seed sequence)."""
    from concurrent.futures import ThreadPoolExecutor

    from freeprob.montecarlo import _features as _rf_sim

    m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 120), widths=[80, 200], samples=70, ridge=1e-2,
                                    noise=0.05, feature_noise=0.2, target=freeprob.SourceTarget(0.7))

    def run(budget=None, executor=None):
        old = _rf_sim._CACHE_BYTES
        _rf_sim._CACHE_BYTES = old if budget is None else budget
        try:
            return freeprob.simulate(m, seeds=(5, 4), rng=np.random.default_rng(3), ridge=np.array([1e-3, 0.1]),
                               executor=executor)
        finally:
            _rf_sim._CACHE_BYTES = old

    kept = run()
    with ThreadPoolExecutor(2) as ex:
        per_row = 8 * (70 * 120 + (120 + 200) * 2 * 64)     # one X_i and its U-statistic sums
        assert 2 * per_row < 8 * 4 * (120 + 200) * 200      # the F_j and their Grams do not fit
        others = {"blocks of one row": run(budget=0), "blocks of two rows": run(budget=2 * per_row + 1),
                  "threads": run(executor=ex)}
    # the feature-outer path, called directly on the same seeds
    seq = np.random.default_rng(3).bit_generator.seed_seq
    xs, fs = seq.spawn(5), seq.spawn(4)
    sigma = m.population.spectrum.numeric_atoms()[0].astype(float)
    wbar = np.sqrt(m._weights[1])
    lam = np.array([1e-3, 0.1])
    ctx = (sigma, wbar, 70, lam, 0.05, 0.2, None, np.concatenate([sigma, np.ones(200)]), "numpy", None, _rf_sim.PROBES)
    outer = _rf_sim._rows_feature_outer(ctx, 120, (80, 200), "input", None, xs, fs)
    feats = [_rf_sim._feature(120, (80, 200), "input", None, f, ctx) for f in fs]
    inner = [_rf_sim._row_task((ctx, 120, (80, 200), "input", None, x, fs, feats)) for x in xs]
    for key in outer[0]:
        assert all(np.array_equal(o[key], i[key]) for o, i in zip(outer, inner)), key
    for name, other in others.items():
        for key in kept:
            assert np.array_equal(np.asarray(kept[key][0]), np.asarray(other[key][0])), (name, key)


def test_training_feature_noise_is_fresh_per_cell():
    """[R19]: the training feature noise is independent across cells (X_i, F_j):
    two cells that share X or F do not share it, and it has variance sigma_xi^2."""
    from freeprob.montecarlo import _features as _rf_sim

    seq = np.random.default_rng(0).bit_generator.seed_seq
    x1, x2, f1, f2 = seq.spawn(4)
    a, b, c = (_rf_sim._xi(x, f, 200, 50, 0.3) for x, f in ((x1, f1), (x1, f2), (x2, f1)))
    assert np.array_equal(a, _rf_sim._xi(x1, f1, 200, 50, 0.3))  # reproducible from the pair
    for u, v in ((a, b), (a, c)):
        assert abs(np.corrcoef(u.ravel(), v.ravel())[0, 1]) < 4 / np.sqrt(u.size)
    assert a.var() == pytest.approx(0.3, rel=4 * np.sqrt(2 / a.size))


def _quantile_atoms(law, n):
    """``n`` atoms at the mid-quantiles of a law (from its cdf): a finite
    spectrum whose traces approach the law's as ``n`` grows, an independent
    route for the continuous population."""
    (lo, hi), = law._ac_intervals()
    grid = np.linspace(lo, hi, 200001)
    cdf = law.cdf_numeric(grid)
    u = (np.arange(n) + 0.5) / n
    return np.interp(u, cdf, grid)


@pytest.mark.parametrize("law", [freeprob.MarchenkoPastur(0.5), freeprob.Semicircle(1, 3)], ids=repr)
def test_continuous_population_in_random_features(law):
    """A closed-form population (df1, df2 from the law's certified
    evaluators) against the same model on the law's mid-quantile atoms."""
    d, n, p = 2000, 1600, 1200
    lams = np.array([0.0, 1e-3, 1.0, 1e9])
    cont = freeprob.RandomFeatureRidge(law, widths=n, samples=p, dimension=d, noise=0.1).evaluate(ridge=lams)
    atoms = freeprob.Discrete(_quantile_atoms(law, d))
    disc = freeprob.RandomFeatureRidge(atoms, widths=n, samples=p, noise=0.1).evaluate(ridge=lams)
    for key in ("kappa1", "kappa2", "df1", "df2", "bias2", "var_F", "Eg", "Etr"):
        assert np.all(np.isfinite(cont[key])), key
        # quantile atoms approximate the traces to ~1e-4 at this size (square-root edges)
        np.testing.assert_allclose(cont[key], disc[key], rtol=2e-3, atol=1e-6, err_msg=key)
    assert cont["Eg"][-1] == pytest.approx(float(sp.N(law.moments(1)[0])), rel=1e-6)  # E_g -> tr Sigma


def test_label_noise_control_variate_removes_an_error_the_cells_norms_share():
    """The probed ``Var_Xeps`` is a ratio estimator with the cells' exact
    noise norms as control variate.  Two routes: when the probes scale a
    row's U-statistic and its probed norm by the same factor, the estimate
    is the mean of the true statistics, which the plain mean of the probed
    ones misses; without probes (no ``dd``) it is that plain mean, with its
    standard error."""
    from freeprob.montecarlo._features import _noise_statistic

    rng = np.random.default_rng(5)
    norms = rng.uniform(1.0, 2.0, size=(7, 4, 3))            # n_x x n_f x nl cell noise norms
    d = norms.mean(axis=1)
    true = 0.3 * d                                             # U-statistics proportional to the norms
    err = 1 + 0.2 * rng.standard_normal(size=(7, 3))           # the probes' error, shared
    data = {"aa": true * err, "dd": d * err, "noise": norms}
    est, se = _noise_statistic(data)
    np.testing.assert_allclose(est, true.mean(axis=0), rtol=1e-13)
    plain = (true * err).mean(axis=0)
    assert np.all(np.abs(plain - true.mean(axis=0)) > 1e3 * np.abs(est - true.mean(axis=0)))
    # the jackknife of the ratio of row means of 0.3 d to d: 0.3 mean(d) has the spread of d
    loo = np.array([0.3 * np.delete(d, i, axis=0).mean(axis=0) for i in range(7)])
    np.testing.assert_allclose(se, np.sqrt(6 / 7 * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0)), rtol=1e-10)
    # a filter that is 0 (gradient flow at t = 0): every norm and statistic is 0, and so is the estimate
    zero = {"aa": np.zeros((7, 3)), "dd": np.zeros((7, 3)), "noise": np.zeros((7, 4, 3))}
    assert [np.array_equal(v, np.zeros(3)) for v in _noise_statistic(zero)] == [True, True]
    m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 200), widths=100, samples=100, noise=0.1,
                                    estimator=freeprob.GradientFlow(time=1.0))          # P = 100: probed
    sim = freeprob.simulate(m, seeds=(3, 3), rng=np.random.default_rng(0), sweep={"time": np.array([0.0, 1.0])})
    for key in ("var_X_noise", "var_XF_noise"):
        assert sim[key][0][0] == 0 and sim[key][1][0] == 0 and np.all(np.isfinite(sim[key][0])), key
    est0, se0 = _noise_statistic({"aa": true, "noise": norms})
    np.testing.assert_array_equal(est0, true.mean(axis=0))
    np.testing.assert_allclose(se0, true.std(axis=0, ddof=1) / np.sqrt(7), rtol=1e-14)


def test_label_noise_probes_are_unbiased_and_touch_nothing_else():
    """Above ``PROBES`` samples the label-noise U-statistic is taken of ``A_j
    E``, with the cells' noise norms as control variate.  Two routes on the
    same draws: the exact statistic
    (``E = I``) and the probes.  Every other key is the same array, but for
    ``E_g``, whose noise norms the exact route takes from its own products
    (equal to rounding); ``Var_Xeps`` agrees within 4 of the probes'
    standard errors; and the probes satisfy ``E[E E^T | X] = I`` (their
    deflated block is ``X``'s top columns, exactly)."""
    from freeprob.montecarlo import _features as rf

    m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 200), widths=150, samples=120, noise=0.3,
                                    feature_noise=0.1, ridge=1e-3)
    probed = freeprob.simulate(m, seeds=(6, 6), rng=np.random.default_rng(2), ridge=[1e-3, 0.1])
    # probes=P: the exact statistic (E = I)
    exact = freeprob.simulate(m, seeds=(6, 6), rng=np.random.default_rng(2), ridge=[1e-3, 0.1], probes=120)
    assert rf.PROBES < 120
    for key in exact:
        if key in ("var_X_noise", "var_XF_noise"):
            assert np.all(np.abs(probed[key][0] - exact[key][0]) <= 4 * probed[key][1]), key
            assert not np.array_equal(probed[key][0], exact[key][0]), key    # the probes did act
        elif key == "Eg":
            np.testing.assert_allclose(probed[key][0], exact[key][0], rtol=1e-13, atol=0)
            np.testing.assert_allclose(probed[key][1], exact[key][1], rtol=1e-9, atol=0)
        else:
            assert np.array_equal(probed[key][0], exact[key][0]), key
    rng = np.random.default_rng(0)
    sigma = np.arange(1, 31) ** -1.5
    x = rng.normal(size=(20, 30)) * np.sqrt(sigma)
    draws = [rf._probes(rng, x, sigma, 20, 8) for _ in range(4000)]
    e = draws[0]
    q1 = np.linalg.qr(x[:, :4])[0]
    np.testing.assert_allclose(np.abs(q1.T @ e[:, :4]), np.eye(4), atol=1e-12)   # the top block, exactly
    np.testing.assert_allclose(q1.T @ e[:, 4:], 0, atol=1e-12)                   # the rest is orthogonal to it
    np.testing.assert_allclose(e[:, 4:].T @ e[:, 4:], (20 - 4) / 4 * np.eye(4), atol=1e-12)
    mean = np.mean([d @ d.T for d in draws], axis=0)
    # entries of E E^T on the complement: spread ~ (16/4) * 0.25 per draw; 4000 draws
    assert np.abs(mean - np.eye(20)).max() < 5 * 1.0 / np.sqrt(4000), np.abs(mean - np.eye(20)).max()


def test_probes_argument_is_validated_and_reaches_the_statistic():
    """``simulate(..., probes=k)``: ``k`` probe columns (the seeds draw the
    same data and features, so every key but the two noise parts is the
    same); a count that is not an integer >= 1, or a model without the
    statistic, is refused naming ``probes``."""
    m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 120), widths=60, samples=80, noise=0.3, ridge=1e-2)
    few = freeprob.simulate(m, seeds=(3, 3), rng=np.random.default_rng(5), probes=8)
    many = freeprob.simulate(m, seeds=(3, 3), rng=np.random.default_rng(5), probes=40)
    assert np.array_equal(few["bias2"][0], many["bias2"][0])
    assert not np.array_equal(few["var_X_noise"][0], many["var_X_noise"][0])
    for bad in (0, -3, 2.5, True, "64"):
        with pytest.raises(ParameterError, match="probes"):
            freeprob.simulate(m, seeds=3, rng=np.random.default_rng(0), probes=bad)
    lin = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 40), samples=30, noise=0.1, ridge=0.1)
    with pytest.raises(ParameterError, match="probes"):
        freeprob.simulate(lin, seeds=3, rng=np.random.default_rng(0), probes=8)
