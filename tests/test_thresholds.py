"""Interpolation thresholds and deep chains (issue 14).

* the complements ``1 - df`` of every kind of law against 60-digit mpmath;
* linear ridge at ``q = 1`` down to ``lam = 1e-30``, where ``1 - q df1`` and
  ``1 - gamma`` round to 0 unless formed directly, against ``evaluate(dps=30)``;
* random features at ``lam = 0`` with ``N_l = D`` or ``P = D`` (thresholds of
  the deep chain): the certified limits ``kappa_2 -> 0+`` against the
  ordinary least squares formulas (square invertible features) and against
  the values at small ridges;
* the symbolic maps of a deep chain grow linearly in the number of layers.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import freeprob as fp
from freeprob.models._features_maps import _maps

LAMS = np.array([1e-30, 1e-12, 1e-3, 1.0, 1e3])


@pytest.mark.parametrize("law", [fp.MarchenkoPastur(0.5), fp.MarchenkoPastur(1), fp.MarchenkoPastur(2),
                                 fp.Discrete([1, 2]), fp.Identity(2), fp.Semicircle(1, 3), fp.PowerLaw(1.5, 200)],
                         ids=repr)
def test_complements_of_df_keep_their_digits(law):
    for which, df in ((1, law.df1_numeric), (2, law.df2_numeric)):
        c = law.df_complement_numeric(LAMS, which)
        with mpmath.workdps(60):
            ref = df(LAMS.astype(object), dps=60)
            err = max(abs(float((1 - mpmath.re(r)) / mpmath.mpf(v) - 1)) for v, r in zip(c, ref))
        assert err < 2e-15, (which, err)


def test_complement_of_a_law_without_closed_form():
    # free sum: -lam g(-lam) from the certified Stieltjes transform; at
    # lam -> 0 it is lam <1/x>, with <1/x> from the same values at 1e-8
    law = fp.free_add(fp.MarchenkoPastur(0.5), fp.Discrete([1, 3]))
    c = law.df_complement_numeric(np.array([1e-30, 1e-20]))
    assert c[0] > 0 and c[0] * 1e10 == pytest.approx(c[1], rel=1e-12)
    g = complex(law.stieltjes_numeric(np.array([-1e-8 + 0j]))[0])
    assert c[0] / 1e-30 == pytest.approx(-g.real, rel=1e-7)


@pytest.mark.parametrize("law", [fp.MarchenkoPastur(0.5), fp.Semicircle(1, 3), fp.PowerLaw(1.5, 1000),
                                 fp.Identity(1)], ids=repr)
@pytest.mark.parametrize("samples", [1000, 2000])
def test_linear_ridge_at_q_one_and_tiny_ridge(law, samples):
    # q = N/P = 1: kappa ~ sqrt(lam), 1 - q df1 ~ kappa; the float path keeps
    # every digit that the 30-digit evaluation has
    m = fp.LinearRidge(law, samples=samples, dimension=1000, noise=0.1)
    lams = np.geomspace(1e-30, 1, 7)
    a, b = m.evaluate(ridge=lams), m.evaluate(ridge=lams, dps=30)
    for key in ("kappa", "df1", "gamma", "bias2", "var_X", "Eg"):
        np.testing.assert_allclose(a[key], b[key].astype(float), rtol=5e-14, err_msg=key)


def test_q_one_identity_at_a_subnormal_ridge():
    # kappa^2/(1 + kappa) = lam at q = 1: kappa = 3.7e-23 at lam = 1.4e-45
    out = fp.LinearRidge(fp.Identity(1), samples=10, dimension=10, ridge=1.401298464324817e-45).evaluate()
    k = float(out["kappa"])
    assert k * k / (1 + k) == pytest.approx(1.401298464324817e-45, rel=1e-14)
    # bias2 = kappa^2/(1 + kappa)^2, var_X = kappa/((1 + kappa)^2 (2 + kappa)): E_g = kappa/2 + O(kappa^2)
    assert float(out["Eg"]) == pytest.approx(k / 2, rel=1e-10)


# ------------------------------------------------------------ random features at thresholds
POP = fp.PowerLaw(1.5, 100)


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_square_features_reduce_to_least_squares(layers, noise):
    # N_l = D < P: F is square and invertible, the ridgeless predictor is
    # ordinary least squares in D dimensions: E_g = s2 D/(P - D - ...) ->
    # s2 gamma/(1 - gamma) with gamma = D/P, E_tr = s2 (1 - D/P)
    m = fp.RandomFeatureRidge(POP, widths=[100] * layers, samples=200, ridge=0, noise=noise)
    out = {k: float(v) for k, v in m.evaluate().items()}
    g = 100 / 200
    assert out["Eg"] == pytest.approx(noise * g / (1 - g), abs=1e-15)
    assert out["Etr"] == pytest.approx(noise * (1 - g), abs=1e-15)
    assert out["bias2"] == 0 and out["var_F"] == 0 and out["kappa2"] == 0


@pytest.mark.parametrize("layers", [1, 2])
def test_threshold_limit_is_the_small_ridge_limit(layers):
    # P = N = D, no noise: the limit lam -> 0+ of the deterministic
    # equivalent is finite and nonzero (var_XF); the values at small ridges
    # approach it monotonically, with error O(kappa_2)
    m = fp.RandomFeatureRidge(POP, widths=[100] * layers, samples=100, ridge=0)
    out = m.evaluate()
    # no bottleneck binds (P = N_l = D, no feature noise): kappa_2 is exactly
    # 0 and the value is the certified limit, not a rounding-sized root
    assert float(out["kappa2"]) == 0.0
    lim = float(out["Eg"])
    vals = m.evaluate(ridge=np.array([1e-8, 1e-12, 1e-16]))
    errs = np.abs(vals["Eg"] - lim)
    assert lim > 0 and np.all(np.diff(errs) < 0) and errs[-1] < 1e-3 * lim


def test_threshold_with_noise_is_infinite_and_only_there():
    m = fp.RandomFeatureRidge(POP, widths=[100], samples=100, ridge=0, noise=0.1)
    out = {k: float(v) for k, v in m.evaluate().items()}
    assert out["Eg"] == np.inf and out["var_X_noise"] == np.inf and out["var_XF_noise"] == np.inf
    assert np.isfinite(out["var_XF"]) and out["Etr"] == 0.0
    assert float(m.evaluate(ridge=1e-12)["Eg"]) > 10  # the divergence, seen from lam > 0


def test_deep_chain_at_width_equal_dimension():
    # N_l = D for every layer, P < D: the chain's kappa_1 ~ kappa_2^(L+1)
    # underflows near 0; the bottleneck search starts where the map is a number
    prev = 0.0
    for layers in (1, 2, 4, 8):
        out = fp.RandomFeatureRidge(POP, widths=[100] * layers, samples=50, ridge=1e-2).evaluate()
        eg = float(out["Eg"])
        assert np.isfinite(eg) and eg > prev  # each square layer adds variance
        prev = eg


def test_deep_chain_maps_grow_polynomially_in_depth():
    # the chain rule through a product of L factors gives L terms of L - 1
    # factors: quadratic symbolic size at most (it was exponential: the
    # S-transform's series and a multivariate factorization of the product)
    def size(layers):
        m = fp.RandomFeatureRidge(POP, widths=[100] * layers, samples=50, ridge=1e-2)
        return sum(sp.count_ops(v) for v in _maps(m).values())

    s4, s8, s16 = size(4), size(8), size(16)
    assert s16 / s8 <= 4.2 and s8 / s4 <= 4.2, (s4, s8, s16)


def test_wishart_product_moments_by_recurrence_equal_the_series():
    from freeprob import conventions as C
    from freeprob.laws._relations import moments_from_s_series, series_coefficients

    c1, c2 = sp.symbols("c1 c2", positive=True)
    w = fp.WishartProduct([c1, c2, sp.Rational(3, 2)], 2)
    ref = moments_from_s_series(series_coefficients(w._s_closed(C.t), C.t, 5), 5)
    assert all(sp.simplify(a - b) == 0 for a, b in zip(w.moments(5), ref))


@pytest.mark.parametrize("samples", [300, 200, 180, 140])
def test_anisotropic_width_bottleneck_with_a_continuous_population(samples):
    """Anisotropic weights of rank N = 3D/4 on a Marchenko-Pastur population
    (rank 1): ridgeless, kappa_2 sits at the width bottleneck df1 = N/D
    (kappa_F = 0) whenever P/D >= 3/4.  At P >= D the data cannot bind
    (this stopped a bracket at the 0 * oo of kappa_F = 0 before); every key
    is finite and equals its limit from positive ridges."""
    m = fp.RandomFeatureRidge(fp.MarchenkoPastur(1), widths=150, feature_covariance=fp.PowerLaw(0.7, 150),
                              samples=samples, noise=0.1, dimension=200)
    out = m.evaluate(ridge=np.array([0.0, 1e-13, 1e-11]))
    for key, v in out.items():
        assert np.all(np.isfinite(v)), key
        if key in ("kappa1", "kappa2", "gamma1", "gamma2"):
            continue
        scale = max(abs(float(v[0])), 1e-3)
        slope = (v[2] - v[1]) / (1e-11 - 1e-13)
        # the values at 1e-13 extrapolated linearly to 0 (second route):
        # measured within 3e-11 (kappa_2 held to 1e-14 relative, started
        # 2^-50 above the bottleneck, the slope from two solves); 1e-9
        assert abs(v[0] - (v[1] - slope * 1e-13)) <= 1e-9 * scale, key
    if samples >= 150:    # the width binds (kappa_1 -> 0); at P = 140 < N the data bind first
        assert out["kappa1"][0] < 1e-12 * out["kappa2"][0]
    else:
        assert out["kappa1"][0] > 1e-4 and abs(out["df1"][0] - samples / 200) < 1e-12


def test_anisotropic_width_bottleneck_against_monte_carlo():
    # ridgeless least squares on 150 anisotropic features of a 200-dimensional
    # Marchenko-Pastur population (quantiles), 8 x 8 crossed draws: 4 s.e. plus
    # 3 % of E_g for finite size
    m = fp.RandomFeatureRidge(fp.MarchenkoPastur(1), widths=150, feature_covariance=fp.PowerLaw(0.7, 150),
                              samples=300, ridge=0.0, noise=0.1, dimension=200)
    th = m.evaluate()
    sim = fp.simulate(m, seeds=(8, 8), rng=np.random.default_rng(1))
    for key in ("Eg", "bias2", "var_X", "var_F", "var_XF"):
        mean, se = sim[key][0][0], sim[key][1][0]
        assert abs(float(th[key]) - mean) <= 4 * se + 0.03 * float(th["Eg"]), key


def test_double_limit_of_a_full_rank_population_with_anisotropic_weights():
    # N = D, P > D, full-rank Sigma and Sigma_F: kappa_F -> 0 with kappa_2
    # (refused as a double limit before); the certified limit against a
    # quadratic fit in kappa_2 of the values at ridges 1e-10, 1e-12, 1e-14
    # (measured within 1.2e-9 absolute, var_X_noise)
    m = fp.RandomFeatureRidge(fp.PowerLaw(1.5, 200), widths=200, feature_covariance=fp.PowerLaw(0.7, 200),
                              samples=300, ridge=0.0, noise=0.1)
    out = m.evaluate(ridge=np.array([0.0, 1e-10, 1e-12, 1e-14]))
    assert out["kappa2"][0] == 0.0 and out["Eg"][0] == pytest.approx(0.2, rel=1e-12)
    for key, v in out.items():
        assert abs(v[0] - np.polyfit(out["kappa2"][1:], v[1:], 2)[-1]) <= 5e-9, key


_R = sp.Rational


@pytest.mark.parametrize("population", [
    fp.Discrete([0, 1], [_R(3, 10), _R(7, 10)]),
    fp.free_mul(fp.MarchenkoPastur(0.5), fp.Discrete([0, 1], [0.3, 0.7])),
], ids=["atom at 0", "free product with an atom at 0"])
def test_anisotropic_ridgeless_limit_without_a_bottleneck(population):
    """rank Sigma = 0.7 < psi rank Sigma_F = 0.8 and P/D = 0.75: no bottleneck
    binds, kappa_2 -> 0 at ridge 0 and kappa_F -> kappa_F(0.7/0.8) > 0.  The
    certified limit (kappa_F solved in mpmath) against the values at ridges
    1e-13 and 1e-11 extrapolated linearly to 0 (kappa_2 ~ lam here).  It was
    a 0/0 refused as a double limit."""
    m = fp.RandomFeatureRidge(population, widths=160, feature_covariance=fp.PowerLaw(0.7, 160),
                              samples=150, noise=0.1, dimension=200)
    out = m.evaluate(ridge=np.array([0.0, 1e-13, 1e-11]))
    assert out["kappa2"][0] == 0.0
    for key, v in out.items():
        assert np.all(np.isfinite(v)), key
        if key == "kappa2":
            continue
        slope = (v[2] - v[1]) / (1e-11 - 1e-13)
        # measured within 3e-12 relative: curvature and the 1e-14 kappa_2 solve
        assert abs(v[0] - (v[1] - slope * 1e-13)) <= 1e-9 * max(abs(float(v[0])), 1e-3), key


def test_anisotropic_double_limit_at_equal_ranks():
    """P = N = D with full-rank Sigma and Sigma_F: kappa_F -> 0 with kappa_2
    (lam ~ kappa_2^3).  Every key is analytic in kappa_2 there; the limit
    against a quadratic fit in kappa_2 of the values at ridges 1e-10, 1e-12,
    1e-14 (measured within 2e-10 absolute; every key is O(1) or 0 there).  With noise the noise variances diverge
    (an interpolation threshold), exactly."""
    pop = fp.Discrete([_R(1, 2), 1], [_R(3, 10), _R(7, 10)])
    m = fp.RandomFeatureRidge(pop, widths=200, feature_covariance=fp.PowerLaw(0.7, 200), samples=200,
                              noise=0.1, dimension=200)
    out = m.evaluate(ridge=np.array([0.0, 1e-10, 1e-12, 1e-14]))
    k2 = out["kappa2"][1:]
    assert out["kappa2"][0] == 0.0 and out["var_XF"][0] == pytest.approx(10 / 39, rel=1e-12)
    for key, v in out.items():
        if key in ("Eg", "var_X_noise", "var_XF_noise"):
            assert v[0] == np.inf and np.all(np.diff(v[1:]) > 0), key
            continue
        fit = np.polyfit(k2, v[1:], 2)[-1]
        assert abs(v[0] - fit) <= 1e-9, key


def test_anisotropic_data_bottleneck_where_kappa_f_vanishes_below_it():
    # rank Sigma = psi rank Sigma_F = 0.7, P/D = 0.5: the data bind at
    # df1 = 1/2; below kappa_2 ~ 1e-16 kappa_F = 0 and the maps were NaN,
    # which held the bracket of the data bottleneck (2000 steps, then an error)
    pop = fp.free_mul(fp.MarchenkoPastur(0.5), fp.Discrete([0, 1], [0.3, 0.7]))
    m = fp.RandomFeatureRidge(pop, widths=140, feature_covariance=fp.PowerLaw(0.7, 140), samples=100,
                              dimension=200)
    out = m.evaluate(ridge=np.array([0.0, 1e-10]))
    assert out["df1"][0] == pytest.approx(0.5, abs=1e-13)
    assert all(np.all(np.isfinite(v)) for v in out.values())
    assert abs(out["Eg"][1] - out["Eg"][0]) < 1e-7


@pytest.mark.parametrize("law", [fp.PowerLaw(0.7, 200), fp.Discrete([1, 3]),
                                 fp.Discrete([0, 1, 2], [sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 4)]),
                                 fp.MarchenkoPastur(sp.Rational(1, 2))], ids=repr)
@pytest.mark.parametrize("gap", [3, 13, 25, 60])
def test_kappa_f_next_to_the_rank_converges(law, gap):
    # t = rank (1 - 6.5 10^-gap): kappa_F ~ 10^-gap has condition number ~ 10^gap,
    # so Newton at 112 digits ends hopping between neighbours 10^(gap-112)
    # apart (it raised at gap 13 on some machines); the residual is the test,
    # checked here at 40 more digits, with the tangent df1_F ~ rank - k <1/x>
    from freeprob.models._feature_covariance import kappa_f_mp

    dps = 112
    with mpmath.workdps(dps + 40):
        rank = mpmath.mpf(law._trace_rank())
        t = rank * (1 - mpmath.mpf("6.5") * mpmath.mpf(10) ** -gap)
        k, dk = kappa_f_mp(law, t, dps)
        assert k > 0 and dk < 0
        res = law.df1_numeric(k, dps=dps + 40)[()] - t
        assert abs(res) <= mpmath.mpf(10) ** (6 - dps) * t
        h = k * mpmath.mpf(10) ** -30
        slope = (law.df1_numeric(k + h, dps=dps + 40)[()] - law.df1_numeric(k - h, dps=dps + 40)[()]) / (2 * h)
        assert abs(dk * slope - 1) <= 1e-20
        if gap >= 13 and law._trace_rank() == 1:  # no atom at 0: df1_F = 1 - k <1/x> + O(k^2)
            inv_mean = -slope
            assert abs(k * inv_mean / (rank - t) - 1) <= 1e-9
