"""Random features with spectral estimators [C18]: the contour route on the
feature-space linear problem (``freeprob.models._features_spectral``),
checked against the ridge closed forms [R13], [R14] (an independent route:
the nested maps in ``kappa_2`` against conditioning on ``F``), the
isotropic width-limited error, Monte Carlo by spectral filtering of the
feature Gram and by literal gradient descent, and a large draw's spectrum."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import freeprob as fp
from freeprob.errors import ParameterError
from freeprob.models._features_spectral import FEATURE_SPECTRAL_KEYS, FeatureLaw
from freeprob.montecarlo._features import _approx, _draw_f
from freeprob.montecarlo.simulate import simulate_descent

PL = fp.PowerLaw(1.5, 200)
RNG = np.random.default_rng(5)

#: a catalogue of random-feature models beyond the paper's: width- and
#: data-limited, feature noise, deep chains (both variances), continuous,
#: convolved and float-weighted populations, a source target
CATALOGUE = {
    "N<D<P": dict(population=PL, widths=80, samples=300, ridge=0.05, noise=0.2),
    "P<N<D": dict(population=PL, widths=80, samples=50, ridge=0.05, noise=0.2),
    "N=P": dict(population=PL, widths=150, samples=150, ridge=1e-2, noise=0.2),
    "wide": dict(population=PL, widths=600, samples=150, ridge=1e-2, noise=0.2),
    "feature noise": dict(population=PL, widths=80, samples=150, ridge=0.05, noise=0.2, feature_noise=0.3),
    "deep": dict(population=fp.PowerLaw(1.2, 200), widths=[300, 120], samples=150, ridge=0.05, noise=0.1),
    "deep fan-in": dict(population=fp.PowerLaw(1.2, 200), widths=[300, 120], samples=150, ridge=0.05,
                        noise=0.1, layer_variance="fan_in"),
    "source": dict(population=PL, widths=80, samples=150, ridge=0.05, noise=0.2, target=fp.SourceTarget(0.4)),
    "Marchenko-Pastur": dict(population=fp.MarchenkoPastur(0.5), widths=80, samples=150, ridge=0.05, noise=0.2,
                             dimension=200),
    "float weights": dict(population=fp.Discrete(RNG.lognormal(size=300), RNG.dirichlet(np.ones(300))),
                          widths=100, samples=200, ridge=0.01, noise=0.1),
    "identity": dict(population=fp.Identity(1), widths=300, samples=100, ridge=0.1, dimension=200, noise=0.3),
    # anisotropic weights F = G Sigma_F^(1/2)/sqrt(D): kappa_F in each node's state
    "anisotropic": dict(population=PL, widths=80, samples=300, ridge=0.05, noise=0.2,
                        feature_covariance=fp.Discrete(np.linspace(0.5, 2.0, 80))),
    "anisotropic P<N": dict(population=PL, widths=80, samples=50, ridge=0.05, noise=0.2,
                            feature_covariance=fp.Discrete(np.linspace(0.5, 2.0, 80))),
    "anisotropic power law, feature noise": dict(population=PL, widths=150, samples=150, ridge=1e-2, noise=0.2,
                                                 feature_noise=0.3, feature_covariance=fp.PowerLaw(1.2, 150)),
    "anisotropic rank-deficient": dict(population=PL, widths=80, samples=300, ridge=0.05, noise=0.2,
                                       feature_covariance=fp.Discrete([0.0] * 20 + [1.0] * 40 + [2.0] * 20)),
    "anisotropic continuous, wide": dict(population=PL, widths=600, samples=150, ridge=1e-2, noise=0.2,
                                         feature_covariance=fp.MarchenkoPastur(0.3)),
    # a population known by subordination only (no curve)
    "free product": dict(population=fp.free_mul(fp.MarchenkoPastur(0.5), fp.PowerLaw(1.2, 50)), dimension=200,
                         widths=120, samples=150, ridge=0.05, noise=0.2),
}


def _aggregates(r):
    """The ridge model's components under the spectral keys (see the module)."""
    return {"bias2": r["bias2"], "var_F": r["var_F"], "var_X": r["var_X"], "var_XF": r["var_XF"],
            "var_X_noise": r["var_X_noise"], "var_XF_noise": r["var_XF_noise"], "Eg": r["Eg"], "Etr": r["Etr"]}


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_ridge_through_the_contour_equals_the_nested_closed_forms(name):
    m = fp.RandomFeatureRidge(**CATALOGUE[name])
    closed = m.evaluate()
    contour = m.evaluate(method="contour")
    assert set(contour) == set(FEATURE_SPECTRAL_KEYS)
    for key, ref in _aggregates(closed).items():
        assert abs(float(contour[key]) - float(ref)) <= 1e-12 * abs(float(ref)) + 1e-15 * float(closed["Eg"]), \
            (name, key, float(contour[key]), float(ref))
    # tr h/D at a ridge is dfbar1 = phi (1 - lam/kappa_1) [R12]
    phi = float(m.samples) / float(m.dimension)
    assert abs(float(contour["dfbar1"]) - phi * (1 - float(m.ridge) / float(closed["kappa1"]))) <= 1e-12


def test_an_estimator_model_is_the_ridge_model_at_its_ridge():
    m = fp.RandomFeatureRidge(**CATALOGUE["N<D<P"])
    e = m.replace(estimator=fp.Ridge(0.05))
    assert e.ridge == m.ridge and hash(e) != hash(m)
    np.testing.assert_allclose(e.evaluate()["Eg"], m.evaluate()["Eg"], rtol=0)   # the closed forms
    with pytest.raises(ParameterError, match="ridge"):
        fp.RandomFeatureRidge(PL, widths=80, samples=100, ridge=0.1, estimator=fp.GradientFlow(time=1.0))


@pytest.mark.parametrize("psi", [0.2, 0.5, 0.9])
def test_isotropic_approximation_error_is_the_unexplained_fraction(psi):
    # Sigma = I, N < D: the best readout of N features explains N/D of ||wbar||^2
    d = 200
    m = fp.RandomFeatureRidge(fp.Identity(1), widths=int(psi * d), samples=300, dimension=d,
                              estimator=fp.GradientFlow(time=1.0))
    out = m.evaluate(time=np.array([1.0, 10.0]))
    np.testing.assert_allclose(out["approx"], 1 - psi, rtol=1e-12)
    # and with feature noise it grows: the noise hides part of the signal
    noisy = m.replace(feature_noise=0.5).evaluate(time=np.array([1.0]))
    assert noisy["approx"][0] > 1 - psi


def test_approximation_error_against_exact_per_draw_values():
    # sigma_e^2 of each F draw computed exactly (an SVD), averaged over draws
    m = fp.RandomFeatureRidge(PL, widths=120, samples=300, feature_noise=0.2, estimator=fp.GradientFlow(time=1.0))
    law = FeatureLaw(m, 1.5, [0.6], 0.2)
    sigma = PL.spectrum.numeric_atoms()[0]
    wbar = np.full(200, 1 / np.sqrt(200))
    seeds = np.random.SeedSequence(3).spawn(40)
    ap = np.array([_approx(_draw_f(200, (120,), "input", None, s), sigma, wbar, 0.2) for s in seeds])
    se = ap.std(ddof=1) / np.sqrt(ap.size)
    assert abs(ap.mean() - law.approx) <= 4 * se + 0.03 * law.approx, (ap.mean(), law.approx, se)


def test_gradient_flow_reaches_the_ridgeless_model_and_the_ridge_switch_is_continuous():
    m = fp.RandomFeatureRidge(PL, widths=80, samples=150, noise=0.2, estimator=fp.GradientFlow(time=1.0))
    late = m.evaluate(time=np.array([1e6, 1e8]))
    ridgeless = _aggregates(m.replace(estimator=None, ridge=0).evaluate())
    for key, ref in ridgeless.items():
        np.testing.assert_allclose(late[key], float(ref), rtol=1e-7, err_msg=key)
    # with a ridge, times past the slowest scale are the ridge model's closed
    # forms: the contour just before the switch agrees with them
    r = m.replace(estimator=fp.GradientFlow(time=1.0, ridge=0.1))
    law = FeatureLaw(r, 0.75, [0.4], 0.0)
    lower = law.lower_edge(0.4 / 0.75)
    t_switch = 60 * np.log(2) / (lower + 0.1)
    out = r.evaluate(time=np.array([0.999 * t_switch, 1.001 * t_switch]))
    for key in ("Eg", "Etr", "bias2", "var_F", "var_X", "var_X_noise", "dfbar1"):
        np.testing.assert_allclose(out[key][0], out[key][1], rtol=1e-10, err_msg=key)
    # Var_XFeps is the noise total minus Var_Xeps, each certified to 1e-10 of itself
    total = out["var_X_noise"][1] + out["var_XF_noise"][1]
    np.testing.assert_allclose(out["var_XF_noise"][0], out["var_XF_noise"][1], rtol=0, atol=1e-10 * total)


@pytest.mark.parametrize("kw", [dict(widths=80, samples=150), dict(widths=300, samples=150, feature_noise=0.2),
                                dict(widths=[120, 80], samples=150)])
def test_noise_variance_of_the_feature_averaged_predictor_at_short_times(kw):
    # Second route: at t -> 0 gradient flow is f = t, E_F[F F^T] = (N/D) I [R12],
    # so the feature-averaged predictor is t (N/D) X^T eps/P and Var_Xeps ->
    # sigma^2 t^2 (N/D)^2 Tr Sigma^2/P exactly (deep chains: the product of the
    # ratios N_l/D; feature noise xi is independent of F and averages out).
    # The next order is O(t): the extrapolation 2 r(t) - r(2t) removes it.
    m = fp.RandomFeatureRidge(PL, noise=0.3, estimator=fp.GradientFlow(time=1.0), **kw)
    sigma = PL.spectrum.numeric_atoms()[0]
    d, p = sigma.size, kw["samples"]
    c = np.prod(np.atleast_1d(kw["widths"]) / d)     # every layer N(0, 1/D) [R17]
    ts = np.array([1e-4, 2e-4])
    out = m.evaluate(time=ts)
    ratio = out["var_X_noise"] / (0.3 * ts**2 * c**2 * np.sum(sigma**2) / p)
    assert abs(2 * ratio[0] - ratio[1] - 1) < 1e-6, ratio
    assert np.all(out["var_XF_noise"] > 0)


def test_learning_curve_shapes_and_sweeps():
    m = fp.RandomFeatureRidge(PL, widths=80, samples=150, noise=0.2, estimator=fp.GradientFlow(time=1.0))
    out = m.evaluate(time=np.geomspace(0.1, 100, 6).reshape(2, 3), noise=np.array([[0.0], [0.2]]))
    assert all(v.shape == (2, 3) for v in out.values())
    assert np.all(np.diff(out["Etr"][1]) < 0)            # training error falls with time
    # two sample sizes at once, each its own feature-space problem
    two = m.evaluate(time=np.array([1.0, 1.0]), samples=np.array([100, 300]))
    one = m.replace(samples=300).evaluate(time=np.array([1.0]))
    np.testing.assert_allclose(two["Eg"][1], one["Eg"][0], rtol=1e-13)


@pytest.mark.parametrize("sx, sigma_f", [(0.3, None), (0.3, "geometric"), (0.0, "geometric")])
def test_edges_of_the_feature_gram_against_a_large_draw(sx, sigma_f):
    rng = np.random.default_rng(0)
    d, n, p = 1000, 400, 750
    sf = np.ones(n) if sigma_f is None else np.geomspace(0.3, 3.0, n)
    m = fp.RandomFeatureRidge(fp.PowerLaw(1.5, d), widths=n, samples=p, feature_noise=sx, ridge=0.1,
                              feature_covariance=None if sigma_f is None else fp.Discrete(sf))
    law = FeatureLaw(m, p / d, [n / d], sx)
    lower, upper = law.lower_edge(n / p), law.upper_edge()
    eta = np.arange(1, d + 1) ** -1.5
    f = rng.normal(size=(d, n)) * np.sqrt(sf) / np.sqrt(d)
    z = (rng.normal(size=(p, d)) * np.sqrt(eta)) @ f + rng.normal(size=(p, n)) * np.sqrt(sx)
    ev = np.linalg.eigvalsh(z.T @ z / p)
    # edges of the limit law: the draw's extreme eigenvalues within finite-size
    # (Tracy-Widom, ~n^(-2/3)) margins; the top is an upper bound of the bulk
    assert abs(ev[0] - lower) <= 0.06 * lower, (ev[0], lower)
    assert ev[-1] <= upper * 1.02 and ev[-1] >= 0.8 * upper, (ev[-1], upper)
    if sigma_f is not None:
        # kappa_F on the real axis solves df1_F(kappa_F) = t on the branch of t -> 0 (both signs of t)
        t = np.array([-3.0, -0.2, 0.1, 0.9, 1.5])
        kf, slope = law.kappa_f_real(t)
        np.testing.assert_allclose([np.mean(sf / (sf + k)) for k in kf], t, rtol=1e-12)
        assert np.all(kf[:2] < -sf.max()) and np.all(kf[2:] > -sf.min()) and np.all(slope < 0)


@pytest.mark.parametrize("kw", [dict(widths=80, samples=300), dict(widths=300, samples=100),
                                dict(widths=150, samples=100, feature_noise=0.2),
                                dict(widths=80, samples=300, feature_covariance=fp.Discrete(np.geomspace(0.3, 2, 80)))])
def test_a_cutoff_below_the_bulk_is_the_ridgeless_readout(kw):
    # principal components of the features above a threshold in the gap: f =
    # 1/x on every nonzero eigenvalue, the ridgeless readout (N < P or N > P)
    m = fp.RandomFeatureRidge(PL, noise=0.2, estimator=fp.SpectralCutoff(1e-6), **kw)
    out = m.evaluate(threshold=np.array([1e-7, 1e-6]))
    ridgeless = _aggregates(m.replace(estimator=None, ridge=0).evaluate())
    for key, ref in ridgeless.items():
        # E_tr = 0 when N > P (interpolation): the closed form's rounding
        # (~1e-32) is no digit to match, hence the floor 1e-15 E_g
        np.testing.assert_allclose(out[key], float(ref), rtol=1e-13, atol=1e-15 * float(ridgeless["Eg"]),
                                   err_msg=key)
    # tr h/D = rank/D: min(N, P)/D
    np.testing.assert_allclose(out["dfbar1"], min(kw["widths"], kw["samples"]) / 200, rtol=1e-12)


@pytest.mark.parametrize("d, n, p, sx", [(1000, 1200, 600, 0.3), (1000, 800, 500, 0.0)])
def test_the_gap_below_the_nonzero_bulk_against_a_large_draw(d, n, p, sx):
    # N > P: N - P zero eigenvalues; the bottom of the nonzero bulk is the
    # minimum of the map between its two zeros (features' and data's bottleneck)
    rng = np.random.default_rng(0)
    m = fp.RandomFeatureRidge(fp.PowerLaw(1.5, d), widths=n, samples=p, feature_noise=sx,
                              estimator=fp.SpectralCutoff(1e-9))
    law = FeatureLaw(m, p / d, [n / d], sx)
    edge = law.gap_edge(n / p, float(m.replace(estimator=None, ridge=0).evaluate()["kappa2"]))
    f = rng.normal(size=(d, n)) / np.sqrt(d)
    z = (rng.normal(size=(p, d)) * np.sqrt(np.arange(1, d + 1) ** -1.5)) @ f + rng.normal(size=(p, n)) * np.sqrt(sx)
    ev = np.linalg.eigvalsh(z @ z.T / p)                      # the P nonzero eigenvalues
    assert abs(ev[0] - edge) <= 0.04 * edge, (ev[0], edge)    # Tracy-Widom scale ~ p^(-2/3)
    # just above the edge the cutoff drops a sliver of the bulk: the fraction
    # of eigenvalues in [edge, 1.01 edge] is O(0.01^(3/2)) at a square-root edge
    out = m.evaluate(threshold=np.array([0.5 * edge, 1.01 * edge]))
    assert 0 < out["dfbar1"][0] - out["dfbar1"][1] < 1e-2 * out["dfbar1"][0], out["dfbar1"]


@pytest.mark.parametrize("n, p", [(300, 600), (600, 300)], ids=["N<P", "N>P"])
def test_late_gradient_flow_on_a_population_reaching_zero_is_the_ridgeless_readout(n, p):
    # a hard edge at 0 (WishartProduct: density ~ x^(-2/3)) behind a width
    # bottleneck N < D: the features' covariance, and so the nonzero bulk of
    # the feature Gram, keep a gap above 0; past t edge = 60 ln 2 gradient
    # flow is the ridgeless readout (before: contours that failed to converge
    # for N < P, and a minute for N > P)
    d, pop = 1800, fp.WishartProduct([1, 1])
    m = fp.RandomFeatureRidge(pop, widths=n // 6, samples=p // 6, ridge=0, noise=0.1, dimension=d // 6,
                              estimator=fp.GradientFlow(time=1e6))
    law = FeatureLaw(m, p / d, [n / d], 0.0)
    ridgeless = m.replace(estimator=None).evaluate()
    edge = law.lower_edge(n / p) if n < p else law.gap_edge(n / p, float(ridgeless["kappa2"]))
    out = m.evaluate()
    for key in FEATURE_SPECTRAL_KEYS:
        if key in ridgeless:
            assert out[key] == pytest.approx(float(ridgeless[key]), rel=1e-12, abs=1e-15), key
    # the edge against a draw six times larger (Sigma = A A^T, A a product of
    # two square Gaussians); the draw's bottom sits above the limit's edge by
    # a finite-size shift that falls slowly next to a hard edge (N < P,
    # measured: 14-19% at D = 900, 1-10% at 1800, 4-5% at 3600): 15% allowed
    rng = np.random.default_rng(3)
    a = rng.normal(size=(d, d)) @ rng.normal(size=(d, d)) / d
    f = rng.normal(size=(d, n)) / np.sqrt(d)
    z = rng.normal(size=(p, d)) @ a.T @ f
    ev = np.linalg.eigvalsh(z @ z.T / p if n > p else z.T @ z / p)
    assert abs(ev[0] - edge) <= 0.15 * edge, (ev[0], edge)


@pytest.mark.montecarlo
@pytest.mark.parametrize("case", ["wide, feature noise", "narrow", "anisotropic"])
def test_a_cutoff_of_random_features_against_monte_carlo(case):
    # thresholds below the nonzero bulk (the ridgeless readout) and inside it
    # (the contours through theta)
    kw = {"wide, feature noise": dict(widths=300, samples=120, feature_noise=0.2),
          "narrow": dict(widths=120, samples=200),
          "anisotropic": dict(widths=120, samples=200, feature_covariance=fp.Discrete(np.geomspace(0.2, 3, 120)))}
    m = fp.RandomFeatureRidge(fp.PowerLaw(1.5, 300), noise=0.2, target=fp.SourceTarget(0.5),
                              estimator=fp.SpectralCutoff(1e-7), **kw[case])
    thetas = np.array([1e-7, 0.03, 0.3])
    th = m.evaluate(threshold=thetas)
    sim = fp.simulate(m, (10, 10), np.random.default_rng(3), sweep={"threshold": thetas})
    for key in FEATURE_SPECTRAL_KEYS:
        mu, se = sim[key]
        tol = 4 * se + 0.04 * np.abs(th[key]) + 0.01 * th["Eg"]
        assert np.all(np.abs(mu - th[key]) <= tol), (key, mu, th[key], se)


@pytest.mark.parametrize("kw", [dict(widths=80, samples=150), dict(widths=300, samples=150, feature_noise=0.2)])
def test_a_cutoff_in_the_gap_through_the_contours_is_the_ridgeless_readout(kw):
    # two routes below the nonzero bulk: the closed forms at ridge 0 and the
    # contours through theta (for the feature-space problem and its input view)
    from freeprob.models._features_spectral import InputSpaceView, _from_linear
    from freeprob.models._spectral_cutoff import cutoff_keys

    m = fp.RandomFeatureRidge(PL, noise=0.2, estimator=fp.SpectralCutoff(1e-7), **kw)
    ref = m.evaluate()
    phi, psi = kw["samples"] / 200, kw["widths"] / 200
    law = FeatureLaw(m, phi, [psi], kw.get("feature_noise", 0.0))
    q = psi / phi
    k2 = float(m.replace(estimator=None, ridge=0).evaluate()["kappa2"])
    edge, upper = law.gap_edge(q, k2), law.upper_edge()
    theta, noise = np.array([0.5 * edge]), np.array([0.2])
    lin = cutoff_keys(law, theta, q, noise + law.approx, upper)
    view = cutoff_keys(InputSpaceView(law), theta, 1 / phi, np.zeros(1), upper)
    out = _from_linear(lin, law, noise, noise + law.approx, view)
    for key in FEATURE_SPECTRAL_KEYS:
        # the contour Gamma^+ passes 0.5 edge from the bulk: 1e-9 of E_g
        assert abs(out[key][0] - float(ref[key])) <= 1e-9 * float(ref["Eg"]), (key, out[key], ref[key])


@pytest.mark.montecarlo
@pytest.mark.parametrize("case", ["white", "deep with feature noise", "anisotropic", "anisotropic continuous"])
def test_gradient_flow_against_monte_carlo(case):
    times = np.array([0.3, 3.0, 30.0, 300.0])
    if case == "white":
        m = fp.RandomFeatureRidge(fp.PowerLaw(1.5, 300), widths=120, samples=200, noise=0.2,
                                  target=fp.SourceTarget(0.5), estimator=fp.GradientFlow(time=1.0))
    elif case == "anisotropic":
        m = fp.RandomFeatureRidge(fp.PowerLaw(1.5, 300), widths=120, samples=200, noise=0.2,
                                  target=fp.SourceTarget(0.5), feature_covariance=fp.Discrete(np.geomspace(0.2, 3, 120)),
                                  estimator=fp.GradientFlow(time=1.0))
    elif case == "anisotropic continuous":
        # Sigma_F a Marchenko-Pastur law (the simulation draws its N eigenvalues)
        m = fp.RandomFeatureRidge(fp.PowerLaw(1.3, 300), widths=400, samples=200, noise=0.1, feature_noise=0.1,
                                  feature_covariance=fp.MarchenkoPastur(0.25), estimator=fp.GradientFlow(time=1.0))
    else:
        m = fp.RandomFeatureRidge(fp.PowerLaw(1.3, 300), widths=[400, 150], samples=200, noise=0.1,
                                  feature_noise=0.1, estimator=fp.GradientFlow(time=1.0))
    th = m.evaluate(time=times)
    sim = fp.simulate(m, (10, 10), np.random.default_rng(7), sweep={"time": times})
    for key in FEATURE_SPECTRAL_KEYS:
        mu, se = sim[key]
        # 4 standard errors plus 4% for D = 300, N, P ~ 200 (finite-size terms
        # O(1/P)), and 1% of E_g for the small data-variance components
        tol = 4 * se + 0.04 * np.abs(th[key]) + 0.01 * th["Eg"]
        assert np.all(np.abs(mu - th[key]) <= tol), (case, key, mu, th[key], se)


@pytest.mark.montecarlo
@pytest.mark.parametrize("anisotropic", [False, True])
def test_literal_descent_on_the_readout_against_theory(anisotropic):
    steps = np.array([1, 10, 50, 200])
    m = fp.RandomFeatureRidge(fp.PowerLaw(1.5, 100), widths=60, samples=120, noise=0.2, feature_noise=0.1,
                              feature_covariance=fp.Discrete(np.geomspace(0.3, 2.0, 60)) if anisotropic else None,
                              estimator=fp.GradientDescent(step=1.0, steps=10))
    th = m.evaluate(steps=steps)
    lit = simulate_descent(m, seeds=40, rng=np.random.default_rng(2), steps=steps)
    for key in ("Eg", "Etr"):
        mu, se = lit[key]
        assert np.all(np.abs(mu - th[key]) <= 4 * se + 0.04 * th[key]), (key, mu, th[key], se)


@pytest.mark.parametrize("anisotropic", [False, True])
def test_descent_on_mapped_parabolas_equals_the_ellipse_route(anisotropic, monkeypatch):
    """Gradient descent on the readout by the split route (parabolas in s =
    -log(1 - eta(z + lam)), carried to z) against the single ellipse, with
    feature noise and label noise (the feature-averaged predictor's noise
    kernel), at step counts both reach; at 10^4 steps the ellipse needed more
    than 8192 nodes before.  Step 1.5 puts the top of the features' sample
    spectrum past the map's reach (``eta upper`` = 1.51 white, 1.42
    anisotropic): the second loop, odd and even step counts."""
    m = fp.RandomFeatureRidge(fp.PowerLaw(1.5, 100), widths=60, samples=120, noise=0.2, feature_noise=0.1,
                              feature_covariance=fp.Discrete(np.geomspace(0.3, 2.0, 60)) if anisotropic else None,
                              estimator=fp.GradientDescent(step=0.3, steps=10))
    for step, steps in ((0.3, np.array([40, 300])), (1.5, np.array([64, 65, 200]))):
        split = m.evaluate(steps=steps, step=step)
        with monkeypatch.context() as mp_:
            mp_.setattr(fp.GradientDescent, "exponential_split", lambda self: None)
            ellipse = m.evaluate(steps=steps, step=step)
        for key in split:
            scale = np.max(np.abs(ellipse["Eg"]))
            # each contour certified to 1e-10; a random-feature key combines the
            # features' and the input space's evaluations (1.1e-12 measured at
            # 10^3 steps on a larger model; 1.8e-13 at step 1.5)
            np.testing.assert_allclose(split[key], ellipse[key], rtol=1e-9, atol=1e-12 * scale, err_msg=(step, key))


def test_bad_input_names_its_parameter():
    m = fp.RandomFeatureRidge(PL, widths=80, samples=150, estimator=fp.GradientDescent(step=1.0, steps=10))
    with pytest.raises(ParameterError, match="step"):
        m.evaluate(step=np.array([100.0]))              # above the stability limit 2/lambda_max
    with pytest.raises(ParameterError, match="steps"):
        m.evaluate(steps=np.array([-1]))
    with pytest.raises(ParameterError, match="time"):
        m.replace(estimator=fp.GradientFlow(time=1.0)).evaluate(time=np.array([-1.0]))
    with pytest.raises(ParameterError, match="bogus"):
        m.evaluate(bogus=1.0)
    with pytest.raises(ParameterError, match="dimension"):
        fp.RandomFeatureRidge(fp.PowerLaw(1.5, sp.oo), widths=200, samples=300, target=fp.SourceTarget(0.8),
                              estimator=fp.GradientFlow(time=1.0)).evaluate()
    with pytest.raises(ParameterError, match="method"):
        m.evaluate(method="closed")
    with pytest.raises(ParameterError, match="sweep"):
        fp.simulate(m.replace(estimator=None, ridge=0.1), (3, 3), np.random.default_rng(0), sweep={"time": [1.0]})


def test_cli_features_with_an_estimator(capsys):
    from freeprob.app.cli import main

    args = ["features", "--population", "powerlaw:alpha=1.5,n=200", "--widths", "80", "--samples", "150",
            "--noise", "0.2", "--estimator", "gradient-flow", "--time", "1,10", "--format", "json"]
    assert main(args) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    th = fp.RandomFeatureRidge(PL, widths=80, samples=150, noise=0.2,
                               estimator=fp.GradientFlow(time=1.0)).evaluate(time=np.array([1.0, 10.0]))
    np.testing.assert_allclose(out["Eg"], th["Eg"], rtol=1e-12)
    # anisotropic weights from a law spec
    assert main(args + ["--feature-covariance", "powerlaw:alpha=0.7,n=80"]) == 0
    out = json.loads(capsys.readouterr().out)
    th = fp.RandomFeatureRidge(PL, widths=80, samples=150, noise=0.2, feature_covariance=fp.PowerLaw(0.7, 80),
                               estimator=fp.GradientFlow(time=1.0)).evaluate(time=np.array([1.0, 10.0]))
    np.testing.assert_allclose(out["Eg"], th["Eg"], rtol=1e-12)
    # principal components of the features below the bulk: the ridgeless readout
    assert main(args[:9] + ["--estimator", "cutoff", "--threshold", "1e-7", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    th = fp.RandomFeatureRidge(PL, widths=80, samples=150, noise=0.2).evaluate(ridge=0)
    np.testing.assert_allclose(out["Eg"], float(th["Eg"]), rtol=1e-12)
    for bad in (["--estimator", "cutoff"], ["--estimator", "cutoff", "--threshold", "1e-7", "--ridge", "0.1"],
                ["--estimator", "gradient-flow", "--time", "1", "--threshold", "1e-7"],
                ["--time", "1", "--estimator", "gradient-descent", "--step", "0.1", "--steps", "3"],
                ["--estimator", "gradient-flow"], ["--estimator", "gradient-flow", "--time", "1",
                                                    "--activation", "relu"]):
        assert main(["features", "--population", "powerlaw:alpha=1.5,n=200", "--widths", "80", "--samples",
                     "150"] + bad) == 2


def test_kappa_f_on_the_real_axis_next_to_the_pole_and_far_away():
    """kappa_F(t) from the shared bracketed solver (an absolute resolution
    eps |x_edge| in the distance to the pole): at t = -3e8 the root sits
    2e-10 from -x_max, where a tolerance relative to that distance stalled
    (2000 steps, then an error); float64 resolves df1_F there to 3e-6 only,
    so the point is NaN (no certified root), as the edge scans expect.
    A continuous Sigma_F (MP(0.3), means through its Stieltjes transform) far
    out, t ~ 1e-11: df1_F' from the moment series (a central difference of
    1 + kappa g(-kappa) was noise there, 0 at one point).  Second route: the
    closed-form df1 of MP(0.3) in mpmath (30 digits) and its slope -(df1 -
    df2)/kappa [C6]."""
    import mpmath

    sf = np.geomspace(0.3, 3.0, 50)
    m = fp.RandomFeatureRidge(PL, widths=50, samples=100, ridge=0.1, feature_covariance=fp.Discrete(sf))
    law = FeatureLaw(m, 0.5, [0.25], 0.0)
    t = np.array([-3e8, -1e4, -2.0, 1e-9, 0.5, 0.999])
    kf, slope = law.kappa_f_real(t)
    assert np.isnan(kf[0]) and np.isnan(slope[0])
    got = np.array([np.mean(sf / (sf + k)) for k in kf[1:]])
    np.testing.assert_allclose(got, t[1:], rtol=1e-10)
    assert -3.0 - 1e-5 < kf[1] < -3.0 and np.all(slope[1:] < 0)
    mp = fp.MarchenkoPastur(0.3)
    m2 = fp.RandomFeatureRidge(PL, widths=600, samples=150, ridge=1e-2, feature_covariance=mp)
    law2 = FeatureLaw(m2, 0.75, [3.0], 0.0)
    t = np.array([1e-12, 2e-11, 1e-8, 1e-3, 0.5])
    kf, slope = law2.kappa_f_real(t)
    with mpmath.workdps(30):
        for k, s, tv in zip(kf, slope, t):
            d1 = mpmath.mpf(mp.df1_numeric(mpmath.mpf(k), dps=30)[()])
            d2 = mpmath.mpf(mp.df2_numeric(mpmath.mpf(k), dps=30)[()])
            assert abs(d1 / tv - 1) < 1e-12, (tv, k)
            assert abs(s / (-(d1 - d2) / k) - 1) < 1e-10, (tv, k, s)


def test_gradient_flow_with_a_feature_covariance_known_by_subordination():
    """Sigma_F = MP(1/2) x PowerLaw(1, 8), a free product without a curve:
    its g at real points off the support (where kappa_F sits on the real
    axis) is good to ~1e-11 only, below the 1e-12 that the contour's
    certificate asked, so every evaluation was refused ("kappa_F did not
    converge on the contour").  Second route: the same model with Sigma_F
    replaced by the eigenvalues of one Haar draw of the product at n = 3000;
    their learning curves differ by O(1/n) (allowance 3/n)."""
    from freeprob.montecarlo.sampling import free_product_eigenvalues

    fc = fp.free_mul(fp.MarchenkoPastur(0.5), fp.PowerLaw(1.0, 8))
    m = fp.RandomFeatureRidge(fp.PowerLaw(1.5, 100), widths=[40], samples=80, noise=0.1, feature_covariance=fc,
                              estimator=fp.GradientFlow(10.0))
    out = m.evaluate(time=np.array([10.0]))
    n = 3000
    ev = free_product_eigenvalues(fp.MarchenkoPastur(0.5), fp.PowerLaw(1.0, 8), n, np.random.default_rng(1))
    ref = m.replace(feature_covariance=fp.Discrete(np.sort(ev))).evaluate(time=np.array([10.0]))
    for key in ("Eg", "bias2", "var_X", "var_X_noise", "Etr"):
        np.testing.assert_allclose(out[key], ref[key], rtol=3 / n, err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("fcov", [None, fp.MarchenkoPastur(0.3)], ids=["white", "anisotropic MP"])
def test_gradient_flow_with_a_population_known_by_subordination(fcov):
    """The population MP(1/2) x PowerLaw(1.2, 50), a free product without a
    curve, resolves D(kappa) to ~1e-11 only (``_Law.rtol``); the contour's
    node certificate asked 1e-12 of the population's terms and refused every
    evaluation ("kappa(-z) did not converge", residual 1.1e-12 white, 2.8e-11
    with Sigma_F = MP(0.3)).  It now takes the population's resolution.
    Second route: the population replaced by the eigenvalues of one Haar draw
    of the product at n = 1000; the learning curves differ by O(1/n) (4e-3
    at n = 1000 and 1.2e-3 at n = 3000 for the largest key; allowance 6/n)."""
    from freeprob.montecarlo.sampling import free_product_eigenvalues

    pop = fp.free_mul(fp.MarchenkoPastur(0.5), fp.PowerLaw(1.2, 50))
    m = fp.RandomFeatureRidge(pop, dimension=200, widths=120, samples=150, noise=0.2, feature_covariance=fcov,
                              estimator=fp.GradientFlow(10.0))
    times = np.array([1.0, 30.0])
    out = m.evaluate(time=times)
    n = 1000
    ev = free_product_eigenvalues(fp.MarchenkoPastur(0.5), fp.PowerLaw(1.2, 50), n, np.random.default_rng(1))
    ref = m.replace(population=fp.Discrete(np.sort(ev))).evaluate(time=times)
    for key in ("Eg", "bias2", "var_F", "var_X", "var_XF", "var_X_noise", "Etr"):
        np.testing.assert_allclose(out[key], ref[key], rtol=6 / n, err_msg=key)


@pytest.mark.parametrize("name", ["N<D<P", "P<N<D", "anisotropic", "anisotropic P<N",
                                  "anisotropic power law, feature noise", "anisotropic continuous, wide"])
def test_contours_seeded_from_solved_nodes_equal_the_far_field_continuations(name, monkeypatch):
    """A new contour starts from the nearest nodes solved before, and the
    nodes that a far-field ladder lost from their certified neighbours
    (``_continue_from``); the input-space view reuses the features' nodes
    (``FeatureLaw.solved``).  Without any of it (every contour continued
    from the far field, every ladder on every node) the learning curve is
    the same to the contour's tolerance, and the shortcuts were taken."""
    from freeprob.models import _contour_nodes as sn

    kw = {k: v for k, v in CATALOGUE[name].items() if k != "ridge"}
    m = fp.RandomFeatureRidge(**kw, estimator=fp.GradientFlow(time=1.0))
    times = np.geomspace(0.1, 1e4, 9)
    calls = []
    original = sn._continue_from

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(sn, "_continue_from", counted)
    fast = m.evaluate(time=times)
    assert calls

    def refuse(*args, **kwargs):
        raise fp.errors.ConvergenceError("no shortcut")

    monkeypatch.setattr(sn, "_continue_from", refuse)
    init = FeatureLaw.__init__

    def no_memo(self, *args):
        init(self, *args)
        self.solved = None

    monkeypatch.setattr(FeatureLaw, "__init__", no_memo)
    slow = m.evaluate(time=times)
    for key in FEATURE_SPECTRAL_KEYS:
        scale = np.max(np.abs(slow[key])) + np.max(np.abs(slow["Eg"]))
        np.testing.assert_allclose(fast[key], slow[key], rtol=0, atol=1e-9 * scale, err_msg=key)
