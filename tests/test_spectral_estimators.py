"""Spectral estimators [C18]: ridge, gradient flow and descent, cutoffs and
any filter, on LinearRidge, by contour integrals of the deterministic
equivalents; checked against the ridge closed forms, quadrature of the
Marchenko-Pastur law, Monte Carlo by spectral filtering and by literal
gradient descent."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from freeprob.derivations._checks import mp_integral

import freeprob as fp
from freeprob import conventions as C
from freeprob.errors import ConvergenceError, ParameterError
from freeprob.models import _spectral_numeric as N
from freeprob.models import spectral as S
from freeprob.montecarlo.simulate import simulate_descent

# ---------------------------------------------------------------- the objects


def test_estimators_are_frozen_hashable_and_write_their_filter_once():
    gf = fp.GradientFlow(time=2, ridge=sp.Rational(1, 2))
    same = fp.GradientFlow(time=2, ridge=sp.Rational(1, 2))
    assert gf == same and hash(gf) == hash(same) and len({gf, same, gf.replace(time=3)}) == 2
    assert gf != fp.GradientFlow(time=2, ridge=sp.Rational(1, 3)) and gf != fp.GradientDescent(step=1, steps=2)
    with pytest.raises(AttributeError):
        gf.time = 3
    assert gf.replace(time=5).time == 5
    x = C.x
    assert sp.simplify(gf.filter() - (1 - sp.exp(-2 * (x + sp.Rational(1, 2)))) / (x + sp.Rational(1, 2))) == 0
    assert sp.simplify(gf.residual() - (1 - x * gf.filter())) == 0
    gd = fp.GradientDescent(step=sp.Rational(1, 4), steps=3)
    # the recursion w <- w + eta (Sigma_hat (wbar - w) ...) on the filter: f_{k+1} = eta + (1 - eta x) f_k
    f = 0
    for _ in range(3):
        f = sp.Rational(1, 4) + (1 - sp.Rational(1, 4) * x) * f
    assert sp.expand(gd.filter() - f) == 0
    assert sp.simplify(fp.Ridge(0.1).filter() - 1 / (x + 0.1)) == 0
    t = sp.Symbol("t", positive=True)
    assert fp.GradientFlow(time=t).filter().has(t)        # symbolic times stay symbolic


@pytest.mark.parametrize("make, name", [
    (lambda: fp.GradientFlow(time=-1), "time"),
    (lambda: fp.GradientFlow(time=sp.oo), "time"),
    (lambda: fp.GradientDescent(step=0, steps=2), "step"),
    (lambda: fp.GradientDescent(step=0.1, steps=2.5), "steps"),
    (lambda: fp.GradientDescent(step=0.1, steps=-1), "steps"),
    (lambda: fp.Ridge(-0.1), "ridge"),
    (lambda: fp.SpectralCutoff(0), "threshold"),
    (lambda: fp.SpectralFilter(sp.Abs(C.x), C.x), "expr"),
    (lambda: fp.SpectralFilter(sp.sqrt(C.x), C.x), "expr"),
    (lambda: fp.SpectralFilter(sp.log(1 + C.x), C.x), "expr"),
    (lambda: fp.SpectralFilter("1/x", C.x), "expr"),
    (lambda: fp.SpectralFilter(1 / C.x, sp.Symbol("y")), "x"),
    (lambda: fp.LinearRidge(fp.Identity(1), samples=10, dimension=5, ridge=0.3,
                            estimator=fp.GradientFlow(time=1, ridge=0.1)), "ridge"),
    (lambda: fp.LinearRidge(fp.Identity(1), samples=10, dimension=5, estimator="gradient flow"), "estimator"),
])
def test_bad_estimators_name_their_parameter(make, name):
    with pytest.raises(ParameterError) as info:
        make()
    assert info.value.name == name


def _model(pop=None, **kw):
    pop = pop if pop is not None else fp.Identity(1)
    kw.setdefault("samples", 200)
    kw.setdefault("noise", 0.25)
    if pop.finite_spectrum is None and pop.catalogue_name != "powerlaw":
        kw.setdefault("dimension", 100)
    return fp.LinearRidge(pop, **kw)


@pytest.mark.parametrize("sweep, value", [("time", -1.0), ("time", np.nan), ("steps", 1.5), ("ridge", -0.1)])
def test_bad_sweeps_are_refused(sweep, value):
    est = fp.GradientDescent(step=0.1, steps=3) if sweep == "steps" else fp.GradientFlow(time=1)
    m = _model(estimator=est)
    with pytest.raises(ParameterError):
        m.evaluate(**{sweep: np.array([1.0, value])})


def test_unknown_sweep_and_dps_are_refused():
    m = _model(estimator=fp.GradientFlow(time=1))
    with pytest.raises(ParameterError):
        m.evaluate(steps=3)
    with pytest.raises(ParameterError):
        m.evaluate(dps=30)


def test_descent_above_the_stability_limit_is_refused():
    # Identity(1) at q = 1/2: the sample spectrum ends at (1 + sqrt(1/2))^2 = 2.914...
    m = _model(samples=200, dimension=100, estimator=fp.GradientDescent(step=0.5, steps=10))
    assert np.isfinite(m.evaluate()["Eg"])                    # 0.5 * 2.914 < 2
    with pytest.raises(ParameterError) as info:
        m.evaluate(step=np.array([0.5, 0.7]))                  # 0.7 * 2.914 > 2
    assert info.value.name == "step" and "stability" in str(info.value)
    # the exact upper edge of an atomic population's sample spectrum: the MP edge for one atom
    edge = S.sample_upper_edge(N._Law(fp.Discrete([2.0, 2.0]), None).means, 0.5, 2.0)
    assert edge == pytest.approx(2 * (1 + np.sqrt(0.5)) ** 2, rel=1e-12)
    m = fp.LinearRidge(fp.PowerLaw(1.5, 400), samples=200, estimator=fp.GradientDescent(step=0.1, steps=5))
    top = S.sample_upper_edge(N._Law(m.population, None).means, 2.0, 1.0)
    m.evaluate(step=1.99 / top)
    with pytest.raises(ParameterError):
        m.evaluate(step=2.01 / top)


def test_a_pole_on_the_spectrum_is_refused():
    x, a = sp.symbols("x a")
    m = _model(estimator=fp.SpectralFilter(1 / (x - a), x, {a: 1.0}))
    with pytest.raises(ParameterError):
        m.evaluate()


def test_cutoff_in_the_gap_is_the_ridgeless_estimator():
    pop = fp.PowerLaw(1.5, 400)
    for p in (200, 800):
        m = fp.LinearRidge(pop, samples=p, noise=0.1, estimator=fp.SpectralCutoff(1e-7))
        ref = m.replace(estimator=None, ridge=0).evaluate()
        out = m.evaluate()
        for key in S.SPECTRAL_KEYS:
            assert out[key] == pytest.approx(ref[key], rel=1e-14)
    # and Monte Carlo of PCR (the filter on each draw) agrees
    m = fp.LinearRidge(pop, samples=800, noise=0.1, estimator=fp.SpectralCutoff(1e-7))
    sim = fp.simulate(m, seeds=8, rng=np.random.default_rng(3))
    mu, se = sim["Eg"]
    assert abs(mu - m.evaluate()["Eg"]) < 4 * se + 0.03 * m.evaluate()["Eg"]


@pytest.mark.parametrize("q", [0.5, 2.0])
def test_cutoff_inside_the_bulk_of_the_isotropic_model_is_a_marchenko_pastur_integral(q):
    # Sigma = I: the sample spectrum is MP(q), E r(Sigma_hat) = mu([0, theta]) I by
    # rotation invariance, so with ||wbar|| = 1 and r = 1{x <= theta} (r^2 = r):
    # Bias^2 = mu([0, theta])^2, Var_X = mu([0, theta]) - Bias^2, Var_Xeps =
    # sigma^2 q int_theta 1/x dmu, E_tr = int_0^theta x dmu + sigma^2 (1 - q mu(x >
    # theta)); the second route types the MP density itself (30-digit quadrature)
    n, s2 = 200, 0.1
    m = fp.LinearRidge(fp.Identity(1), samples=int(n / q), dimension=n, noise=s2, estimator=fp.SpectralCutoff(0.1))
    thetas = np.array([0.3, 1.0, 2.5])
    out = m.evaluate(threshold=thetas)
    for i, th in enumerate(thetas):
        below = mp_integral(q, lambda x: 1, 1, hi=th)
        ref = {"df1": 1 - below, "bias2": below**2, "var_X": below - below**2,
               "var_X_noise": s2 * q * mp_integral(q, lambda x: 1 / x, 0, lo=th),
               "Etr": mp_integral(q, lambda x: x, 0, hi=th) + s2 * (1 - q * (1 - below))}
        ref["Eg"] = ref["bias2"] + ref["var_X"] + ref["var_X_noise"]
        for key, v in ref.items():
            # the contour quadrature is certified to 1e-10 of each key
            assert out[key][i] == pytest.approx(v, rel=1e-9, abs=1e-13), (q, th, key)


def test_cutoff_contours_in_gaps_and_above_the_spectrum():
    # the route through theta also serves thresholds where the filter is
    # analytic: (a) below the bulk, where it must equal the ridgeless closed
    # forms; (b) between the islands that the top atoms of a power law make at
    # q = 1/2, where exactly 7 of the 200 sample eigenvalues lie above 0.05;
    # (c) above the spectrum, the zero predictor: E_g = E_tr - sigma^2 = wbar^T Sigma wbar
    from freeprob.models._spectral_cutoff import cutoff_keys
    from freeprob.models.design import target_spectrum

    pop = fp.PowerLaw(1.5, 200)
    m = fp.LinearRidge(pop, samples=400, noise=0.1, estimator=fp.SpectralCutoff(0.05))
    law = N._Law(pop, target_spectrum(pop, m.target, m.dimension))
    lower, upper = N.sample_hull(m, 0.5)
    ref = m.replace(estimator=None, ridge=0).evaluate()
    out = cutoff_keys(law, np.array([0.5 * lower, 0.05, 1.5 * upper]), 0.5, np.full(3, 0.1), upper)
    for key in S.SPECTRAL_KEYS:
        # (a): the contour Gamma^+ passes 0.5 lower from the bulk's edge: 1e-9
        assert out[key][0] == pytest.approx(float(ref[key]), rel=1e-9, abs=1e-12), key
    assert out["df1"][1] == pytest.approx(7 / 200, abs=1e-12)
    top = float(m.replace(estimator=None).evaluate(ridge=1e12)["Eg"])     # wbar^T Sigma wbar (lam -> oo)
    assert out["Eg"][2] == pytest.approx(top, rel=1e-10) and out["bias2"][2] == pytest.approx(top, rel=1e-10)
    assert out["Etr"][2] == pytest.approx(top + 0.1, rel=1e-10) and abs(out["df1"][2]) < 1e-12


@pytest.mark.montecarlo
def test_cutoff_inside_the_bulk_against_monte_carlo():
    # principal-component regression on a power law: every key against the
    # filter applied to each draw's spectrum, 4 s.e. plus 3% (N = 200, P = 150:
    # O(1/N) finite-size terms; measured within 2.5 s.e.)
    m = fp.LinearRidge(fp.PowerLaw(1.5, 200), samples=150, noise=0.2, target=fp.SourceTarget(0.5),
                       estimator=fp.SpectralCutoff(1e-3))
    thetas = np.array([3e-3, 0.01, 0.05, 0.2])
    th = m.evaluate(threshold=thetas)
    sim = fp.simulate(m, 40, np.random.default_rng(1), sweep={"threshold": thetas})
    for key in S.SPECTRAL_KEYS:
        mu, se = sim[key]
        assert np.all(np.abs(mu - th[key]) <= 4 * se + 0.03 * np.abs(th[key])), (key, mu, th[key], se)


# ------------------------------------------------------- ridge through the contour

CATALOGUE = [
    (fp.Identity(1), None, 100),
    (fp.MarchenkoPastur(0.5), None, 100),
    (fp.Discrete([0, 1, 3], [sp.Rational(1, 5), sp.Rational(3, 10), sp.Rational(1, 2)]), None, None),
    (fp.Discrete([0.5, 1.0, 3.0]), np.array([1.0, 0.5, 0.2]), None),
    (fp.PowerLaw(1.5, 1000), fp.SourceTarget(1.0), None),
    (fp.free_mul(fp.MarchenkoPastur(sp.Rational(1, 2)), fp.Discrete([1, 2])), None, 100),
]


@pytest.mark.parametrize("pop, target, dim", CATALOGUE, ids=lambda v: repr(v)[:40])
def test_ridge_through_the_contour_equals_the_closed_forms(pop, target, dim):
    n = dim or (3 if isinstance(pop, fp.laws.Discrete) else 1000)
    # a convolved population is evaluated through its subordination at every node: one ridge
    ridges = (1.0,) if pop.finite_spectrum is None and pop.catalogue_name is None else (0.1, 1.0)
    for p in (max(1, n // 2), 4 * n):                  # q = 2 (an atom at 0) and q = 1/4
        for lam in ridges:
            m = fp.LinearRidge(pop, target=target, noise=0.25, samples=p, dimension=dim, ridge=lam)
            ref, out = m.evaluate(), m.evaluate(method="contour")
            for key in S.SPECTRAL_KEYS:
                assert out[key] == pytest.approx(ref[key], rel=1e-12, abs=1e-15), (key, p, lam)


def test_ridge_estimator_is_todays_model():
    a = fp.LinearRidge(fp.PowerLaw(1.5, 300), noise=0.1, samples=100, ridge=0.05)
    b = fp.LinearRidge(fp.PowerLaw(1.5, 300), noise=0.1, samples=100, estimator=fp.Ridge(0.05))
    ra, rb = a.evaluate(ridge=np.array([0.0, 0.05, 1.0])), b.evaluate(ridge=np.array([0.0, 0.05, 1.0]))
    for key in ra:
        np.testing.assert_array_equal(ra[key], rb[key])


def test_two_point_integrand_on_the_diagonal_is_the_ridge_equivalent():
    # kappa' -> kappa: the sandwich/(1 - gamma12) of the contour integrand is
    # <x/(x + kappa)^2>_w/(1 - q df2) of [R5], here for Sigma = diag(1, 3)
    k, k2, q = sp.symbols("kappa kappa2 q", positive=True)
    mean = lambda s: (s.subs(S._X, 1) + s.subs(S._X, 3)) / 2   # noqa: E731
    msub = {S.D(k): mean(S._X / (S._X + k)), S.D(k2): mean(S._X / (S._X + k2)),
            S.DW(k): mean(S._X / (S._X + k)), S.DW(k2): mean(S._X / (S._X + k2)), S.W2: 1}
    ints = S.integrands()
    total = (ints["bias2"] + ints["var_X"]).xreplace({S.R1: 1, S.R2: 1, S.Z1: k, S.Z2: k2})  # res -> 1
    total = total.xreplace({S.K1: k, S.K2: k2}).xreplace(msub).subs(C.q, q)
    diag = sp.limit(sp.cancel(total), k2, k)
    df2 = mean(S._X**2 / (S._X + k) ** 2)
    assert sp.simplify(diag - mean(S._X / (S._X + k) ** 2) / (1 - q * df2)) == 0


def test_isotropic_two_point_is_the_resolvent_identity():
    # Sigma = I: (z - S)^-1 (z' - S)^-1 = [(z - S)^-1 - (z' - S)^-1]/(z' - z), so
    # the two-point integrand must equal the divided difference of the
    # one-point g(z) = (kappa/z) M(kappa): the derivation of the isotropic
    # closed forms (a double contour collapses to one) [C18]
    k1, k2, q = sp.symbols("k1 k2 q", positive=True)
    zof = lambda k: -k * (1 - q / (1 + k))               # noqa: E731  kappa (1 - q df1) = -z, df1 = 1/(1 + k)
    m = lambda k: 1 / (1 + k)                             # noqa: E731
    ints = S.integrands()
    two = (ints["bias2"] + ints["var_X"]).xreplace({S.R1: 1, S.R2: 1})
    two = two.xreplace({S.D(S.K1): m(k1), S.D(S.K2): m(k2), S.DW(S.K1): m(k1), S.DW(S.K2): m(k2), S.W2: 1})
    two = two.xreplace({S.K1: k1, S.K2: k2}).subs({S.Z1: zof(k1), S.Z2: zof(k2), C.q: q})
    g = lambda k: k / zof(k) * m(k)                       # noqa: E731
    assert sp.simplify(two - (g(k1) - g(k2)) / (zof(k2) - zof(k1))) == 0


# ------------------------------------------------------- isotropic closed forms


@pytest.mark.parametrize("q", [0.5, 2.0])
def test_isotropic_gradient_flow_against_quadrature_of_the_mp_law(q):
    # bias(t) = int e^{-2tx} dmu_MP, variance(t) = sigma^2 q int (1 - e^{-tx})^2/x dmu_MP (Advani & Saxe)
    times = np.array([0.1, 1.0, 10.0, 100.0])
    p = 200
    m = fp.LinearRidge(fp.Identity(1), noise=1.0, samples=p, dimension=int(q * p),
                       estimator=fp.GradientFlow(time=1.0))
    out = m.evaluate(time=times)
    for i, t in enumerate(times):
        t = mp.mpf(t)
        bias = mp_integral(q, lambda x: mp.exp(-2 * t * x), 1)
        var = mp_integral(q, lambda x: q * (1 - mp.exp(-t * x)) ** 2 / x, 0)
        assert out["bias2"][i] + out["var_X"][i] == pytest.approx(bias, rel=1e-8)
        assert out["var_X_noise"][i] == pytest.approx(var, rel=1e-8)


def test_gradient_flow_limits():
    m = _model(pop=fp.PowerLaw(1.5, 300), target=fp.SourceTarget(1.0), samples=150,
               estimator=fp.GradientFlow(time=1.0, ridge=0.1))
    ridge = m.replace(estimator=None, ridge=0.1).evaluate()
    late = m.evaluate(time=1e4)                      # t -> oo is ridge
    for key in S.SPECTRAL_KEYS:
        assert late[key] == pytest.approx(ridge[key], rel=1e-10)
    start = m.evaluate(time=0.0)                     # w = 0: E_g = wbar^T Sigma wbar, E_tr = that + sigma^2
    signal = float(np.sum(m._weights[0] * m._weights[1]))
    assert start["Eg"] == pytest.approx(signal, rel=1e-12)
    assert start["Etr"] == pytest.approx(signal + 0.25, rel=1e-12)
    assert start["df1"] == pytest.approx(0.0, abs=1e-15)


def test_past_the_slowest_time_scale_the_estimator_is_its_ridge_limit():
    # t (lower edge + lam) >= 60 ln 2: e^{-t(x + lam)} < 2^-60 on the whole sample spectrum
    m = fp.LinearRidge(fp.PowerLaw(1.5, 1000), target=fp.SourceTarget(1.0), noise=0.1, samples=500,
                       estimator=fp.GradientFlow(time=1.0))
    ridgeless = m.replace(estimator=None, ridge=0).evaluate()
    out = m.evaluate(time=np.array([1e8, 1e300]))
    for key in S.SPECTRAL_KEYS:
        np.testing.assert_allclose(out[key], ridgeless[key], rtol=1e-14)
    gd = m.replace(estimator=fp.GradientDescent(step=1.0, steps=10, ridge=0.1))
    assert gd.ridge == 0.1                                    # replace brings the new estimator's ridge
    late = gd.evaluate(steps=np.array([10**6, 10**12]))
    ridge = m.replace(estimator=None, ridge=0.1).evaluate()
    np.testing.assert_allclose(late["Eg"], ridge["Eg"], rtol=1e-14)
    # between the spectrum's scale and the limit (t = 1e4 ... 1e7 here): the
    # parabolic contours of the split route, continuous into the ridge limit
    mid = m.evaluate(time=np.array([1e4, 1e6, 1e7]))
    np.testing.assert_allclose(mid["Eg"][1:], ridgeless["Eg"], rtol=1e-6)
    assert np.all(np.diff(mid["Etr"]) <= 1e-15)


@pytest.mark.parametrize("target", [None, fp.SourceTarget(1.0)])
def test_a_billion_dimensions(target):
    # PowerLaw(1.5, 10^9): the resolvent means at complex kappa by head plus
    # Laurent tail (Hurwitz zeta); q = 2.5e7, where 1 - df1 would lose 7 digits
    m = fp.LinearRidge(fp.PowerLaw(1.5, 10**9), target=target, noise=0.2, samples=40,
                       estimator=fp.GradientFlow(time=1.0))
    ridge = m.replace(estimator=fp.Ridge(0.1))
    via, closed = ridge.evaluate(method="contour"), ridge.evaluate()
    for key in S.SPECTRAL_KEYS:
        assert via[key] == pytest.approx(closed[key], rel=1e-10), key
    out = m.evaluate(time=np.array([0.5, 5.0, 1e30]))
    assert all(np.all(np.isfinite(out[k])) for k in S.SPECTRAL_KEYS)
    assert out["Eg"][2] == pytest.approx(m.replace(estimator=None, ridge=0).evaluate()["Eg"], rel=1e-14)
    assert np.all(np.diff(out["Etr"]) < 0) and np.all(np.diff(out["var_X_noise"]) > 0)
    law = N._PowerLawResolvent(1.5, 2e5, 0.5, 1.0)          # against the direct sum at n = 2e5
    kk = np.array([0.01 + 0.02j, 1e-3 - 1e-3j, -0.3 + 0.1j])
    d, dd = law(kk)
    k = np.arange(1, 200001.0)
    w = k**-0.5 / np.sum(k**-0.5)
    eta = k**-1.5
    # (the reference is a plain float sum of 2e5 terms: ~1e-12 near the spectrum's bottom)
    np.testing.assert_allclose(d, [np.sum(w * eta / (eta + v)) for v in kk], rtol=1e-12)
    np.testing.assert_allclose(dd, [-np.sum(w * eta / (eta + v) ** 2) for v in kk], rtol=1e-11)


@pytest.mark.parametrize("r", [0.7, 1.2])
def test_the_kernel_limit(r):
    # PowerLaw(1.5, oo) [C16]: unnormalized sums, q = 1/P; the contour route
    # (head plus a Hurwitz-zeta Laurent tail at complex kappa) against the
    # closed forms, the closed forms against their mpmath route, and gradient
    # flow against a 10^7-dimensional power law (the limit's finite-n error is
    # O(n^(1 - 1/alpha)/P)-small, measured 4e-3)
    m = fp.LinearRidge(fp.PowerLaw(1.5, sp.oo), target=fp.SourceTarget(r), samples=300, noise=0.1,
                       estimator=fp.GradientFlow(time=1.0))
    ridge = m.replace(estimator=fp.Ridge(0.01))
    via, closed = ridge.evaluate(method="contour"), ridge.evaluate()
    for key in S.SPECTRAL_KEYS:
        assert via[key] == pytest.approx(closed[key], rel=1e-12), key
    hi = m.replace(estimator=None, ridge=0.01).evaluate(dps=30)
    for key in ("bias2", "var_X", "Eg"):
        assert float(closed[key]) == pytest.approx(float(hi[key]), rel=1e-10), key
    times = np.array([1.0, 100.0, 1e4, 1e6])
    out = m.evaluate(time=times)
    big = m.replace(population=fp.PowerLaw(1.5, 10**7), dimension=None).evaluate(time=times)
    np.testing.assert_allclose(out["Eg"], big["Eg"], rtol=1e-2)
    assert out["df1"][-1] == pytest.approx(300, rel=1e-6)     # tr h -> rank P (unnormalized) as t -> oo


def test_edges_of_the_sample_spectrum():
    for q in (0.5, 2.0):
        law = N._Law(fp.Discrete([1.0, 1.0]), None)
        assert law.lower_edge(q) == pytest.approx((1 - np.sqrt(q)) ** 2, rel=1e-12)
        assert S.sample_upper_edge(law.means, q, 1.0) == pytest.approx((1 + np.sqrt(q)) ** 2, rel=1e-12)
    # a power-law population against sampled spectra (N = 1000, P = 500): the
    # extreme eigenvalues fluctuate by O(P^-2/3) relative
    law, rng = N._Law(fp.PowerLaw(1.5, 1000), None), np.random.default_rng(0)
    lo, hi = law.lower_edge(2.0), S.sample_upper_edge(law.means, 2.0, 1.0)
    x = rng.normal(size=(500, 1000)) * np.arange(1, 1001) ** -0.75
    ev = np.linalg.eigvalsh(x @ x.T / 500)
    assert ev.min() == pytest.approx(lo, rel=0.1) and ev.max() == pytest.approx(hi, rel=0.1)


@pytest.mark.parametrize("pop, dim, samples", [
    (fp.WishartProduct([1, 1, 1]), 300, 50),                 # a hard edge, density ~ x^(-3/4) at 0
    (fp.Discrete([0.0, 1.0, 3.0], [0.2, 0.3, 0.5]), None, 1),  # an atom at 0, float weights
    # a floor above 0, where the bound x_min (1 - sqrt q)^2 = 1.70 is 3x below the edge 5.01
    (fp.free_add(fp.Discrete([0.5, 2.0], [0.3, 0.7]), fp.MarchenkoPastur(0.5)), 300, 50),
], ids=["hard edge", "atom at 0", "free sum"])
def test_the_gap_above_zero_with_fewer_samples_than_the_rank(pop, dim, samples):
    # fewer samples than the population's rank: the nonzero sample eigenvalues
    # keep a gap above 0, even when the population reaches 0; the independent
    # route is the support of the free product pop x MP(q), from its curve
    m = fp.LinearRidge(pop, samples=samples, ridge=0, dimension=dim, noise=0.1)
    q = (dim or 3) / samples
    lower, upper = N.sample_hull(m, q)
    edge = float(fp.free_mul(pop, fp.MarchenkoPastur(q)).support().args[1].inf)
    assert edge * (1 - 2e-6) <= lower <= edge
    # past t edge = 60 ln 2 gradient flow is the ridgeless estimator, and a
    # cutoff in the gap keeps every nonzero eigenvalue: both the closed forms
    ridgeless = m.evaluate()
    flow = m.replace(estimator=fp.GradientFlow(time=1e6)).evaluate()
    cut = m.replace(estimator=fp.SpectralCutoff(0.9 * edge)).evaluate()
    for key in S.SPECTRAL_KEYS:
        assert flow[key] == ridgeless[key] and cut[key] == ridgeless[key]
    # as many samples as dimensions: no gap (the hard edge of MP(1)); the
    # samples above the rank (q (1 - m_0) = 0.88 < 1): 0 joins the bulk
    assert N.gram_lower_edge(pop.df1_numeric, pop.df2_numeric, 1.0, 1.0) == 0.0
    atom = fp.Discrete([0.0, 1.0, 3.0], [0.2, 0.3, 0.5])
    assert N.gram_lower_edge(atom.df1_numeric, atom.df2_numeric, 1.1, 3.0) == 0.0


def test_descent_with_small_steps_approaches_the_flow():
    m = _model(pop=fp.PowerLaw(1.5, 200), samples=100)
    flow = m.replace(estimator=fp.GradientFlow(time=2.0)).evaluate()
    errs = []
    for eta in (0.02, 0.01):
        gd = m.replace(estimator=fp.GradientDescent(step=eta, steps=int(round(2.0 / eta)))).evaluate()
        errs.append(abs(gd["Eg"] - flow["Eg"]))
    assert errs[1] < 0.6 * errs[0] and errs[1] < 0.05 * flow["Eg"]    # O(eta)


def test_any_filter_equals_the_named_estimator():
    x, t = sp.symbols("x t")
    m = _model(pop=fp.PowerLaw(1.5, 200), samples=100)
    named = m.replace(estimator=fp.GradientFlow(time=3.0)).evaluate(time=np.array([1.0, 3.0]))
    free = m.replace(estimator=fp.SpectralFilter((1 - sp.exp(-t * x)) / x, x, {t: 3.0})).evaluate(
        t=np.array([1.0, 3.0]))
    for key in S.SPECTRAL_KEYS:
        np.testing.assert_allclose(free[key], named[key], rtol=1e-12)


def test_learning_curve_keeps_the_shape_of_the_sweep():
    m = _model(estimator=fp.GradientFlow(time=1.0))
    out = m.evaluate(time=np.array([[0.5], [5.0]]), noise=np.array([0.0, 0.1, 1.0]))
    assert all(out[k].shape == (2, 3) for k in S.SPECTRAL_KEYS)
    assert out["var_X_noise"][:, 0] == pytest.approx([0.0, 0.0])
    np.testing.assert_allclose(out["var_X_noise"][:, 2], 10 * out["var_X_noise"][:, 1], rtol=1e-12)


def test_quantities_are_the_contour_integrands():
    m = _model(estimator=fp.GradientFlow(time=2.0))
    qs = m.quantities()
    assert set(qs) == set(S.integrands())
    assert qs["df1"].has(sp.exp) and qs["bias2"].has(C.z2)


# ----------------------------------------------------------------- Monte Carlo


@pytest.mark.montecarlo
@pytest.mark.parametrize("target", [None, fp.SourceTarget(1.0)])
def test_gradient_flow_against_monte_carlo(target):
    times = np.array([1.0, 10.0, 100.0, 1000.0])
    m = fp.LinearRidge(fp.PowerLaw(1.5, 400), target=target, noise=0.1, samples=200,
                       estimator=fp.GradientFlow(time=1.0))
    th = m.evaluate(time=times)
    sim = fp.simulate(m, seeds=40, rng=np.random.default_rng(11), sweep={"time": times})
    for key in S.SPECTRAL_KEYS:
        mu, se = sim[key]
        # 4 standard errors plus 5% for N = 400, P = 200 (finite-size terms O(1/P))
        assert np.all(np.abs(mu - th[key]) <= 4 * se + 0.05 * np.abs(th[key])), (key, mu, th[key], se)


@pytest.mark.montecarlo
def test_literal_descent_against_theory_and_filtering():
    steps = np.array([1, 10, 100, 1000])
    m = fp.LinearRidge(fp.PowerLaw(1.5, 300), target=fp.SourceTarget(1.0), noise=0.1, samples=200,
                       estimator=fp.GradientDescent(step=0.5, steps=10))
    th = m.evaluate(steps=steps)
    lit = simulate_descent(m, seeds=30, rng=np.random.default_rng(1), steps=steps)
    filt = fp.simulate(m, seeds=30, rng=np.random.default_rng(1), sweep={"steps": steps})
    # the same draws: the iterations are the filter, to rounding
    np.testing.assert_allclose(lit["Etr"][0], filt["Etr"][0], rtol=1e-9)
    for key in ("Eg", "Etr"):
        mu, se = lit[key]
        assert np.all(np.abs(mu - th[key]) <= 4 * se + 0.05 * th[key]), (key, mu, th[key], se)


def test_simulate_refuses_a_sweep_without_a_spectral_estimator():
    m = fp.LinearRidge(fp.Identity(1), samples=20, dimension=10, ridge=0.1)
    with pytest.raises(ParameterError):
        fp.simulate(m, seeds=2, rng=np.random.default_rng(0), sweep={"time": [1.0]})
    with pytest.raises(ParameterError):
        simulate_descent(m, seeds=2, rng=np.random.default_rng(0))


# -------------------------------------------------------- the effective ridge


def test_effective_ridge_of_gradient_flow():
    from freeprob.errors import NoClosedFormError
    from freeprob.scaling import ALPHA, effective_ridge

    t = sp.Symbol("t", positive=True)
    lam = effective_ridge(fp.GradientFlow(time=t))          # symbolic alpha
    for a in (1.5, 2.0, 2.5, 4.0):
        # lambda_eff t = Gamma(1 + 1/alpha)^alpha (the reflection formula of the derived form)
        assert float((lam * t).subs(ALPHA, a)) == pytest.approx(mp.gamma(1 + 1 / a) ** a, rel=1e-14)
    # against the degrees of freedom summed over 10^7 eigenvalues: the continuum
    # form is exact as the filter's scale 1/t moves inside the spectrum
    # (finite-n corrections t n^(1 - alpha) for alpha = 1.5)
    k = np.arange(1, 10**7 + 1.0)
    for a, tol in ((1.5, 2e-3), (2.5, 1e-5)):
        x = k**-a
        for tv in (1e2, 1e3):
            le = float(lam.subs({ALPHA: a, t: tv}))
            assert np.mean(-np.expm1(-tv * x)) == pytest.approx(np.mean(x / (x + le)), rel=tol)
    with pytest.raises(NoClosedFormError):
        effective_ridge(fp.GradientDescent(step=0.1, steps=sp.Symbol("k", positive=True, integer=True)))
    with pytest.raises(ParameterError):
        effective_ridge(fp.GradientFlow(time=t), 0.5)


#: populations of the split route's tests: (population, samples, ridge)
SPLIT_CASES = [
    (fp.PowerLaw(1.5, 1000), 500, 0.0),        # q = 2: the atom at 0 inside the parabola
    (fp.PowerLaw(1.5, 1000), 2000, 0.0),       # q = 1/2: a gap below the bulk
    (fp.PowerLaw(2.5, 300), 100, 0.01),        # a ridge: the split pole at -lam
    (fp.Discrete([0.5, 1.0, 3.0], [0.2, 0.5, 0.3]), 150, 0.3),
    (fp.MarchenkoPastur(0.5), 300, 0.0),       # a continuous population
]


def _descent_routes_agree(monkeypatch, pop, samples, ridge, fracs, steps):
    """Gradient descent by the split route against the single ellipse
    (``exponential_split`` off), at steps ``frac/(upper + lam)``."""
    kw = {} if hasattr(pop, "n") or getattr(pop, "catalogue_name", "") == "discrete" else {"dimension": 100}
    target = fp.SourceTarget(0.4) if hasattr(pop, "n") else None
    m = fp.LinearRidge(pop, target=target, samples=samples, noise=0.5,
                       estimator=fp.GradientDescent(step=0.1, steps=10, ridge=ridge), **kw)
    _, upper = N.sample_hull(m, float(m.ratio))
    for frac in fracs:
        eta = frac / (upper * (1 + 1e-6) + ridge)
        split = m.evaluate(steps=steps, step=eta)
        with monkeypatch.context() as mp_:
            mp_.setattr(fp.GradientDescent, "exponential_split", lambda self: None)
            ellipse = m.evaluate(steps=steps, step=eta)
        for key in S.SPECTRAL_KEYS:
            scale = np.max(np.abs(ellipse["Eg"])) if key != "df1" else 1.0
            # both routes are certified to 1e-10 relative (the evaluators' tol);
            # they met within 2e-12
            np.testing.assert_allclose(split[key], ellipse[key], rtol=1e-10, atol=1e-13 * scale, err_msg=(frac, key))


@pytest.mark.parametrize("pop, samples, ridge", SPLIT_CASES)
def test_gradient_descent_on_mapped_parabolas_equals_the_ellipse_route(monkeypatch, pop, samples, ridge):
    """Gradient descent's (1 - eta(z + lam))^k = e^{-k s} on parabolas in s
    carried to z, against the single ellipse, at step counts both reach, with
    a step at 0.6 and 0.99 of 1/(upper + lam) (one loop while eta (upper +
    lam) < 1; the stability limit is twice that).  From 64 steps on the
    parabolas; at 2 steps and a step of 0.99 of the map's reach, parabolas of
    the first octave had reached 2 pi in Im s."""
    _descent_routes_agree(monkeypatch, pop, samples, ridge, (0.6, 0.99), np.array([2, 63, 64, 200, 1500]))


@pytest.mark.parametrize("pop, samples, ridge", SPLIT_CASES)
def test_a_step_past_the_maps_reach_on_two_loops_equals_the_ellipse_route(monkeypatch, pop, samples, ridge):
    """``1 <= eta (upper + lam) < 2`` (the step 1/lambda_max among them): the
    spectrum above ``1/eta - lam`` gets its own loop, where ``E = (-1)^k
    e^{-k s'}``; odd and even step counts (the sign), against the single
    ellipse, at 1.0, 1.3 and 1.9 of the map's reach.  Dropping the sign
    fails 4 of the 5 populations."""
    _descent_routes_agree(monkeypatch, pop, samples, ridge, (1.0, 1.3, 1.9), np.array([64, 65, 201, 600]))


@pytest.mark.parametrize("pop, samples, ridge", SPLIT_CASES)
def test_the_split_route_equals_the_ellipse_route(monkeypatch, pop, samples, ridge):
    """Gradient flow's exponential on parabolas (one contour per octave of t)
    against the single-ellipse route, at times both reach."""
    kw = {} if hasattr(pop, "n") or getattr(pop, "catalogue_name", "") == "discrete" else {"dimension": 100}
    target = fp.SourceTarget(0.4) if hasattr(pop, "n") else None
    m = fp.LinearRidge(pop, target=target, samples=samples, noise=0.5,
                       estimator=fp.GradientFlow(time=1.0, ridge=ridge), **kw)
    times = np.array([0.7, 3.0, 10.0, 50.0, 200.0])
    split = m.evaluate(time=times)
    monkeypatch.setattr(fp.GradientFlow, "exponential_split", lambda self: None)
    ellipse = m.evaluate(time=times)
    for key in S.SPECTRAL_KEYS:
        scale = np.max(np.abs(ellipse["Eg"])) if key != "df1" else 1.0
        np.testing.assert_allclose(split[key], ellipse[key], rtol=1e-11, atol=1e-13 * scale, err_msg=key)


@pytest.mark.parametrize("pop, noise", [(fp.Identity(1), 0.0), (fp.Discrete([0.5, 2.0], [0.3, 0.7]), 0.1)])
def test_late_flow_at_a_tiny_ridge_leaves_the_pole_outside(monkeypatch, pop, noise):
    """At ``lam = 1e-9`` and ``t = 60`` (q = 1/10) the bias and, without
    noise, the training error are ``lam^2``-small (1e-18) while the terms of
    contours around ``-lam`` are of order one: that route refused the bias
    and gave ``E_tr = -1.7e-16``.  With ``-lam`` outside every contour (the
    ridge's parts from a circle around it, the cross parts from the kernel
    at ``-lam``) the split route equals the single ellipse, which still
    reaches t = 60 here, to 1e-12 (measured 9e-15)."""
    m = fp.LinearRidge(pop, samples=1000, dimension=100, noise=noise,
                       estimator=fp.GradientFlow(time=1.0, ridge=1e-9))
    times = np.array([20.0, 60.0])
    split = m.evaluate(time=times)
    assert split["bias2"][1] < 2e-18
    real = S._split_kernels
    with monkeypatch.context() as mp_:
        mp_.setattr(S, "_split_kernels", lambda r0, r1: real(r0, r1)[:5] + (None,))     # every part around -lam
        with pytest.raises(ConvergenceError, match="rounding floor"):
            m.evaluate(time=times)
    monkeypatch.setattr(fp.GradientFlow, "exponential_split", lambda self: None)
    ellipse = m.evaluate(time=times)
    for key in S.SPECTRAL_KEYS:
        np.testing.assert_allclose(split[key], ellipse[key], rtol=1e-12, atol=0, err_msg=key)


def test_late_flow_falls_back_to_the_route_around_the_pole(monkeypatch):
    """Where the contours that leave ``-lam`` outside do not settle, the
    route around ``-lam`` answers, certified to the floor of its terms: at
    ``lam = 1e-3`` (values ``1e-6``, far above that floor) the two agree to
    the evaluators' tolerance."""
    from freeprob.models import _spectral_quad as Q

    m = fp.LinearRidge(fp.Identity(1), samples=1000, dimension=100, noise=0.1,
                       estimator=fp.GradientFlow(time=1.0, ridge=1e-3))
    times = np.array([20.0, 60.0, 150.0])
    apart = m.evaluate(time=times)

    def stalled(*args, **kw):
        raise ConvergenceError("stalled")

    monkeypatch.setattr(Q, "_apart", stalled)
    around = m.evaluate(time=times)
    for key in S.SPECTRAL_KEYS:
        np.testing.assert_allclose(around[key], apart[key], rtol=1e-10, atol=0, err_msg=key)


@pytest.mark.parametrize("lam", [0.0, 1e-9])
def test_late_flow_with_null_directions_is_the_flow_on_the_rest(lam):
    """A population's null directions carry no error: ``Discrete([0, 1],
    [3/10, 7/10])`` in ``P = 1000`` is 7/10 of ``Identity`` in ``P = 700``
    at the same ``N`` and no noise, at every time.  Late at a ridge
    (``bias2`` down to 2e-18, the ridge's ``lam^2`` part) the first goes
    around its bulk and leaves ``-lam`` and the sample atom at 0 beside it,
    the second has no atom; they agree to 1e-11 (measured 7e-13)."""
    times = np.array([20.0, 60.0, 150.0])
    a = fp.LinearRidge(fp.Discrete([0, 1], [0.3, 0.7]), samples=2000, dimension=1000,
                       estimator=fp.GradientFlow(time=1.0, ridge=lam)).evaluate(time=times)
    b = fp.LinearRidge(fp.Identity(1), samples=2000, dimension=700,
                       estimator=fp.GradientFlow(time=1.0, ridge=lam)).evaluate(time=times)
    for key in ("bias2", "var_X", "Etr", "df1"):
        np.testing.assert_allclose(a[key], 0.7 * b[key], rtol=1e-11, atol=0, err_msg=key)


def test_the_split_route_reaches_any_time_with_few_nodes():
    """Past the spectrum's scale the node count does not grow with t: ten
    decades of times, continuous into the ridgeless limit."""
    m = fp.LinearRidge(fp.PowerLaw(1.5, 1000), target=fp.SourceTarget(0.4), samples=500, noise=0.1,
                       estimator=fp.GradientFlow(time=1.0))
    times = np.geomspace(10.0, 1e10, 11)
    out = m.evaluate(time=times)
    ridgeless = m.replace(estimator=None, ridge=0).evaluate()
    assert np.all(np.diff(out["Etr"]) <= 1e-15)           # the training error falls monotonically
    np.testing.assert_allclose(out["Eg"][-4:], ridgeless["Eg"], rtol=1e-9)
    assert out["df1"][-1] == pytest.approx(ridgeless["df1"], rel=1e-9)


@pytest.mark.slow
def test_gradient_flow_on_mp_times_a_power_law():
    """``MP(2) x PowerLaw(1.5, n)``, a population known by subordination
    only whose spectrum spans decades: the time-independent contour sums
    cancel to 0 over ``|terms|`` of 1e-4 to 1e-6 and wandered at 1e-11 of
    them (where the routes to ``D`` meet), so the doubling test at 64 eps
    never settled ("did not reach 1e-10 with 8192 nodes") for n = 10^3 to
    10^5.  The floor is now the law's resolution (``_Law.sum_floor``).
    Three routes: late times are the ridgeless closed forms, a ridge through
    the contour is the ridge closed forms, and the learning curve is that of
    the eigenvalues of a Haar draw of the product at 3000 (finite size
    ~20/n measured on E_g; allowance 40/n)."""
    from freeprob.montecarlo.sampling import free_product_eigenvalues

    a, b = fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 1000)
    pop = fp.free_mul(a, b)
    kw = dict(samples=150, dimension=200, noise=0.1)
    gf = fp.LinearRidge(pop, **kw, estimator=fp.GradientFlow(5.0))
    times = np.array([1.0, 30.0, 1000.0, 1e9])
    curve = gf.evaluate(time=times)
    keys = ("df1", "bias2", "var_X", "var_X_noise", "Eg", "Etr")
    ridgeless = fp.LinearRidge(pop, **kw, ridge=0).evaluate()
    for key in keys:
        assert abs(curve[key][-1] - float(ridgeless[key])) <= 1e-10 * float(ridgeless["Eg"]), key
    ridge = fp.LinearRidge(pop, **kw, ridge=3e-2)
    closed, contour = ridge.evaluate(), ridge.evaluate(method="contour")
    for key in keys:
        assert abs(float(contour[key]) - float(closed[key])) <= 1e-12 * abs(float(closed[key])) + 1e-15, key
    n = 3000
    ev = free_product_eigenvalues(a, b, n, np.random.default_rng(1))
    ref = gf.replace(population=fp.Discrete(np.sort(np.maximum(ev, 0.0)))).evaluate(time=times[:-1])
    for key in keys:
        # a small component (var_X ~ 1e-3 E_g) carries the draw's fluctuation
        # at E_g's scale: 40/n of itself plus 40/n of a tenth of E_g
        tol = 40 / n * (np.abs(ref[key]) + 0.1 * ref["Eg"])
        assert np.all(np.abs(curve[key][:-1] - ref[key]) <= tol), (key, curve[key], ref[key])
