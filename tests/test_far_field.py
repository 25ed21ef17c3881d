"""Far from the support and next to an atom (issue 14).

* ``df1``, ``df2``, ``df1 - df2`` and ``g`` at ``lam`` from 20 R to 1e300:
  the certified moment series against a 30-term series in 50-digit mpmath
  (exact moments) and, where it reaches, the curve's root followed from
  infinity (an independent route that uses no moment);
* linear ridge and random features at ridge 1e160 and 1e300 for radical,
  convolved, atomic and kernel populations: finite, at their limits;
* random features in the far field: ``gamma_1`` and the finite-width
  variances, which fall like ``1/kappa_2^2``, keep relative digits
  (against the difference forms in 90-digit mpmath);
* a free sum with an atom at 0 inside linear ridge: ``g`` next to the atom
  against the continuation route, and ``kappa`` against the kappa equation
  evaluated with 30-digit ``df1``.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import freeprob as fp

HALF = sp.Rational(1, 2)
LAWS = [fp.MarchenkoPastur(HALF), fp.Semicircle(1, 3), fp.AR1(HALF),
        fp.free_add(fp.MarchenkoPastur(2), fp.MarchenkoPastur(3)),
        fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20)), fp.WishartProduct([2, 3])]
FACTORS = np.array([20.0, 40.0, 1e3, 1e6, 1e100, 1e300])


def _series(law, lam, terms=30):
    """``df1``, ``df2`` from ``terms`` exact moments in 50-digit mpmath (at
    ``lam >= 20 R`` the tail is below ``20^-30``)."""
    ms = [sp.Integer(1)] + law.moments(terms)
    with mpmath.workdps(50):
        w = 1 / mpmath.mpf(lam)
        mk = [mpmath.mpf(sp.N(m, 60)) for m in ms]
        d1 = sum((-1) ** (k + 1) * mk[k] * w**k for k in range(1, terms + 1))
        d2 = sum((-1) ** k * (k - 1) * mk[k] * w**k for k in range(2, terms + 1))
        return d1, d2


def _has_cheap_curve(law):
    # the product with a 20-atom law has a curve of high degree (the
    # continuation route would take minutes): the moment series checks it
    return getattr(law, "curve", lambda: True)() is not None


def _rel(a, b):
    with mpmath.workdps(50):
        return float(abs(mpmath.mpf(float(a)) / b - 1)) if b != 0 else abs(float(a))


@pytest.mark.parametrize("law", LAWS, ids=repr)
def test_df_far_from_the_support(law):
    radius = law._numeric_radius()
    lams = np.minimum(radius * FACTORS, 1e300)
    d1, d2 = law.df1_numeric(lams), law.df2_numeric(lams)
    for lam, a, b in zip(lams, d1, d2):
        t1, t2 = _series(law, lam)
        assert np.isfinite(a) and np.isfinite(b)
        assert _rel(a, t1) < 4e-15, (lam, a, t1)
        assert _rel(a - b, t1 - t2) < 4e-15, (lam, a - b, t1 - t2)
        if t2 > 1e-300:  # df2 ~ m_2/lam^2: representable
            assert _rel(b, t2) < 2e-13, (lam, b, t2)
        else:
            assert b <= 1e-300
        if lam <= 1e9 * radius and _has_cheap_curve(law):  # the independent route: the curve, no moments
            with mpmath.workdps(40):
                g = law.stieltjes_numeric(complex(-lam), method="continuation", dps=40)[()]
                assert abs((1 + mpmath.mpf(lam) * g) / t1 - 1) < 1e-25


@pytest.mark.parametrize("law", LAWS, ids=repr)
def test_stieltjes_far_from_the_support(law):
    radius = law._numeric_radius()
    z = radius * np.array([30 + 40j, -1e5, 1e8j, 1e250 * (1 - 1j)])
    g = law.stieltjes_numeric(z)
    m1 = float(sp.N(law.moments(1)[0]))
    assert np.all(np.isfinite(g)) and np.all(g[[0, 2]].imag < 0) and g[3].imag > 0
    assert abs(z[3] * g[3] - 1) < 1e-15
    ms = [sp.Integer(1)] + law.moments(30)
    for zz, gv in zip(z[:3], g[:3]):
        with mpmath.workdps(50):
            w = 1 / mpmath.mpc(zz)
            ref = complex(sum(mpmath.mpf(sp.N(m, 60)) * w ** (k + 1) for k, m in enumerate(ms)))
        assert abs(gv / ref - 1) < 1e-14, (zz, gv, ref)
        if _has_cheap_curve(law):
            alt = complex(law.stieltjes_numeric(zz, method="continuation", dps=30)[()])
            assert abs(gv / alt - 1) < 1e-14, (zz, gv, alt)
    assert abs(z[1] * g[1] - 1 - m1 / z[1]) < 1e-9


@pytest.mark.parametrize("pop", [fp.MarchenkoPastur(0.5), fp.Semicircle(1, 3), fp.AR1(0.3),
                                 fp.WishartProduct([2, 3])], ids=repr)
def test_linear_ridge_at_huge_ridges_reaches_the_null_risk(pop):
    # a null predictor: E_g -> tr Sigma = m_1 (isotropic target), E_tr -> m_1 + sigma^2;
    # before, df2 = df1 + lam df1' at 1e300 gave df1 - df2 = 0 and E_g = 0
    m1 = float(sp.N(pop.moments(1)[0]))
    model = fp.LinearRidge(pop, samples=4, dimension=8, noise=0.1)
    out = model.evaluate(ridge=np.array([1e160, 1e300]))
    assert np.allclose(out["Eg"], m1, rtol=1e-13, atol=0)
    assert np.allclose(out["Etr"], m1 + 0.1, rtol=1e-13, atol=0)
    assert np.all(out["df2"] <= out["df1"])


@pytest.mark.parametrize("pop,target", [(fp.Discrete([1, 2]), None), (fp.PowerLaw(1.5, 100), None),
                                        (fp.MarchenkoPastur(0.5), None),
                                        (fp.PowerLaw(1.5, sp.oo), fp.SourceTarget(0.6))], ids=repr)
def test_random_features_at_huge_ridges(pop, target):
    # kappa_2^2 <x/(x + kappa_2)^2> and kappa_2^2/(x + kappa_2) overflowed
    # (inf * 0 = NaN, or no upper bracket for kappa_2): the powers now move
    # into the mean and pair with the denominator
    dim = 100 if pop.finite_spectrum is None and target is None else None
    kw = dict(widths=[50], samples=40, noise=0.1, dimension=dim, target=target)
    model = fp.RandomFeatureRidge(pop, **kw)
    out = model.evaluate(ridge=np.array([1e10, 1e160, 1e300]))
    lin = fp.LinearRidge(pop, samples=40, noise=0.1, dimension=dim, target=target).evaluate(ridge=1e300)
    for key in ("Eg", "Etr", "kappa2"):
        assert np.all(np.isfinite(out[key])), key
    # the null risk, as linear ridge; kappa_2 proportional to the ridge
    assert np.allclose(out["Eg"][1:], float(lin["Eg"]), rtol=1e-12, atol=0)
    assert np.allclose(out["Etr"][1:], float(lin["Eg"]) + 0.1, rtol=1e-12, atol=0)
    assert out["kappa2"][2] / out["kappa2"][1] == pytest.approx(1e140, rel=1e-12)


def _keys_in_mpmath(model, k2, keys, dps=90):
    """``keys`` at the solved ``kappa_2`` in the forms of ``_quantities``
    (``gamma_1 = 1 - lam'/kappa_1'``, ``Var_XF = E_inf/(1 - gamma_1) - ...``)
    with ``dps`` digits: the differences lose ``2 log10 kappa_2`` of them,
    far fewer than ``dps`` here."""
    from freeprob.models._feature_covariance import kappa_f_mp
    from freeprob.models._features_maps import _quantities, stable_form
    from freeprob.models._features_refine import _df_mp
    from freeprob.numeric.compile import compile_expr

    qs = _quantities(model)
    f = compile_expr(*stable_form(model, [qs[k] for k in keys]), backend="mpmath")
    dim = model.dimension
    with mpmath.workdps(dps):
        k = mpmath.mpf(float(k2))
        pars = [mpmath.mpf(model.samples) / dim - 1, *(mpmath.mpf(w) / dim - 1 for w in model.widths),
                mpmath.mpf(float(model.noise)), mpmath.mpf(float(model.feature_noise))]
        extra = ()
        if model.feature_covariance is not None:
            d1 = mpmath.re(model.population.df1_numeric(np.array([float(k2)]), dps=dps)[0])
            extra = kappa_f_mp(model.feature_covariance, d1 * dim / model.widths[0], dps)
        extra += _df_mp(model, k, dps)  # df1, df2 of a law that is not inline, at these digits
        return [mpmath.re(v[()]) for v in f(k, *pars, *extra, dps=dps)]


FAR_MODELS = {
    "one white layer": (dict(population=fp.Discrete([1, 2]), widths=[50], samples=40, dimension=100), 1e-13),
    "two layers": (dict(population=fp.Discrete([1, 2]), widths=[50, 80], samples=40, dimension=100), 1e-13),
    "closed-form law, two layers": (dict(population=fp.MarchenkoPastur(HALF), widths=[50, 80], samples=40,
                                         dimension=100), 1e-12),
    "structured target": (dict(population=fp.PowerLaw(1.5, 100), widths=[50], samples=40,
                               target=fp.SourceTarget(0.6)), 1e-13),
    # kappa_F + t kappa_F' cancelled its leading 1/t (t = df1/psi -> 0): the
    # loss grew like kappa_2 (3e-10 at 1e4, 5e-6 at 1e8) until the forms took
    # (t kappa_F)' = kappa_F' df2_F(kappa_F) as a value
    "anisotropic weights": (dict(population=fp.PowerLaw(1.5, 60), widths=[60], samples=80, dimension=60,
                                 feature_covariance=fp.PowerLaw(0.7, 60)), 1e-13),
    "anisotropic weights, closed-form law": (dict(population=fp.MarchenkoPastur(HALF), widths=[50], samples=40,
                                                  dimension=100, feature_covariance=fp.Discrete([1, 3])), 1e-13),
    # P, N << D: phi = 1 + (phi - 1) kept 1e-16/phi of phi (1e-12 lost here,
    # gamma_1 wrong by 1.0 and E_g by 3e6 relative at D = 1e10); now phi and
    # psi enter as themselves where all are below 1/2
    "anisotropic weights, P, N << D": (dict(population=fp.PowerLaw(1.2, 10**4), widths=[100], samples=80,
                                            target=fp.SourceTarget(0.6),
                                            feature_covariance=fp.PowerLaw(0.7, 100)), 1e-13),
    # one ratio far below 1/2 and the other above it: each enters as itself
    # or shifted by 1 on its own (both shifted kept 1e-16/psi of psi = 8e-7:
    # 1e-10 lost here)
    "N << D < 2P": (dict(population=fp.Discrete([1, 2]), widths=[80], samples=8 * 10**7, dimension=10**8), 1e-13),
    "P << D < 2N": (dict(population=fp.Discrete([1, 2]), widths=[8 * 10**7], samples=80, dimension=10**8), 1e-13),
}


@pytest.mark.parametrize("name", sorted(FAR_MODELS))
def test_random_features_keep_relative_digits_in_the_far_field(name):
    """``gamma_1``, ``Var_F``, ``Var_XF``, ``Var_XF,e`` fall like
    ``1/kappa_2^2`` as differences of ``O(1)`` terms: float64 lost 1e-8 of
    ``Var_XF`` at ridge 1e4 (two layers), 2% at 1e8 (one white layer), and
    gave it the wrong sign at 1e8 (anisotropic weights).  The far-field forms
    against the difference forms in 90-digit mpmath, at the same
    ``kappa_2``."""
    kw, bar = FAR_MODELS[name]
    kw = dict(kw, noise=0.1, feature_noise=0.01)
    model = fp.RandomFeatureRidge(kw.pop("population"), **kw)
    ridges = np.array([1.0, 1e2, 1e4, 1e6, 1e8])
    out = model.evaluate(ridge=ridges)
    keys = ["gamma1", "rho", "var_F", "var_XF", "var_XF_noise", "Eg"]
    for i in range(ridges.size):
        ref = _keys_in_mpmath(model, out["kappa2"][i], keys)
        for key, v in zip(keys, ref):
            assert _rel(out[key][i], v) < bar, (key, ridges[i], out[key][i], float(v))


@pytest.mark.parametrize("kw", [dict(population=fp.Discrete([1, 2]), widths=[50, 80], samples=40, dimension=100),
                                dict(population=fp.PowerLaw(1.5, 60), widths=[60], samples=80, dimension=60,
                                     feature_covariance=fp.PowerLaw(0.7, 60))], ids=["two layers", "anisotropic"])
def test_random_feature_components_fall_like_the_inverse_square_ridge(kw):
    """At ``kappa_2 = 1e50`` and ``1e100`` (the last beyond any difference
    form: its terms are 1e200 times the keys) ``kappa_2^2 gamma_1`` and the
    like agree to 1e-13: the next order is ``1e-50`` of the leading one.  At
    1e200 and 1e300 they are ``~1e-400``: 0 in float64, with ``E_g`` at
    the null risk (anisotropic weights had ``kappa_F' ~ -kappa_F/t``
    overflow there, and gave ``gamma_1 < 0`` at 1e100)."""
    kw = dict(kw, noise=0.1, feature_noise=0.01)
    model = fp.RandomFeatureRidge(kw.pop("population"), **kw)
    out = model.evaluate(ridge=np.array([1e50, 1e100, 1e200, 1e300]))
    for key in ("gamma1", "var_F", "var_XF", "var_XF_noise"):
        scaled = out[key][:2] * out["kappa2"][:2] ** 2
        assert scaled[0] > 0 and scaled[1] == pytest.approx(scaled[0], rel=1e-13), key
        assert np.all(out[key][2:] == 0.0), key
    assert np.all(out["Eg"][1:] == pytest.approx(out["Eg"][0], rel=1e-14))


def test_continuation_keeps_the_branch_that_agrees_at_infinity():
    # AR(1): the branches (1 +- 1/r)/z agree to 1/z + O(1/z^2); the
    # continuation from infinity followed the wrong one beyond |z| ~ 100 (an
    # Euler step in g misses by more than the branches' distance there)
    law = fp.AR1(HALF)
    z = np.array([-120.0, -1e3, -3e5, 50 + 900j])
    g = law.stieltjes_numeric(z)
    for zz, gv in zip(z, g):
        alt = complex(law.stieltjes_numeric(zz, method="continuation", dps=30)[()])
        assert abs(gv / alt - 1) < 1e-14, (zz, gv, alt)
        assert abs(zz * gv - 1 - 1 / zz) < 5 / abs(zz) ** 2      # m_1 = 1, m_2 = 5/3


FREE_SUM = fp.free_add(fp.MarchenkoPastur(2), fp.MarchenkoPastur(3))   # atom 1/6 at 0


def test_stieltjes_next_to_an_atom():
    # subordination works above the axis and saw only w/(z + iy); the curve's
    # root with the atom's pole is taken instead (unambiguous there)
    assert FREE_SUM.atoms() == [(0, sp.Rational(1, 6))]
    xs = np.array([-1e-3, -1e-6, -1e-8, -1e-20, -1e-100, -4e-150])
    g = FREE_SUM.stieltjes_numeric(xs)
    assert np.all(g.imag == 0)
    for x, gv in zip(xs[:4], g[:4]):
        ref = complex(FREE_SUM.stieltjes_numeric(complex(x), method="continuation", dps=30)[()])
        assert abs(gv / ref - 1) < 1e-13, (x, gv, ref)
    assert np.allclose(xs[3:] * g[3:], 1 / 6, rtol=1e-12, atol=0)   # the atom's mass


def test_linear_ridge_with_an_atom_at_zero():
    # before: BranchError (the kappa_0 solve probes kappa ~ 1e-150)
    model = fp.LinearRidge(FREE_SUM, samples=4, dimension=8, noise=0.1)
    out = model.evaluate(ridge=np.array([0.0, 1e-3, 1.0]))
    q = 8 / 4
    for lam, kappa in zip([0.0, 1e-3, 1.0], out["kappa"]):
        # the kappa equation lam = kappa (1 - q df1(kappa)) [R3], df1 by the continuation route
        with mpmath.workdps(30):
            g = FREE_SUM.stieltjes_numeric(complex(-kappa), method="continuation", dps=30)[()]
            df1 = 1 + mpmath.mpf(kappa) * mpmath.re(g)
            assert abs(float(kappa * (1 - q * df1)) - lam) < 1e-12 * (1 + kappa)
    assert out["df1"][0] == pytest.approx(0.5, abs=1e-14)     # q df1 = 1 in the ridgeless limit
    for key, val in out.items():
        if key == "S":  # kappa/lam: +oo at ridge 0 (the convention), finite elsewhere
            assert out["S"][0] == np.inf and np.all(np.isfinite(val[1:]))
        else:
            assert np.all(np.isfinite(val)), key


@pytest.mark.parametrize("law", [fp.MarchenkoPastur(sp.Rational(3, 10)), fp.Semicircle(1, 3), fp.AR1(HALF)], ids=repr)
def test_means_at_complex_ridges_far_away(law):
    """``D = df1`` and ``D'`` at complex ridges far from the spectrum (the
    contour route's means of a law known through its Stieltjes transform):
    the moment series, certified per point.  Second route: 50-digit
    moments summed in mpmath, and for real ridges the closed form in
    mpmath with ``D' = -(df1 - df2)/kappa`` [C6]."""
    from freeprob.models._spectral_numeric import _Law

    r = law._numeric_radius()
    kap = np.array([40 * r * (1 + 1j), 1e3 * r * 1j, -1e6 * r + 1e5j * r, 1e10 * r, 1e150 * r], dtype=complex)
    d, dd = _Law(law, None).means(kap)
    ms = [mpmath.mpf(sp.N(m, 60)) for m in [sp.Integer(1)] + law.moments(40)]
    with mpmath.workdps(50):
        for k, a, b in zip(kap, d, dd):
            w = 1 / mpmath.mpc(k)
            t1 = sum((-1) ** (j + 1) * ms[j] * w**j for j in range(1, 41))
            t1p = sum((-1) ** j * j * ms[j] * w ** (j + 1) for j in range(1, 41))
            assert abs(mpmath.mpc(a) / t1 - 1) < 1e-14 and abs(mpmath.mpc(b) / t1p - 1) < 1e-13, k
        k = mpmath.mpf(1e10 * r)
        d1, d2 = (mpmath.mpf(f(k, dps=40)[()]) for f in (law.df1_numeric, law.df2_numeric))
        assert abs(mpmath.mpf(dd[3].real) / (-(d1 - d2) / k) - 1) < 1e-13


@pytest.mark.parametrize("law", [fp.PowerLaw(0.7, 60), fp.Discrete([1, 3], [HALF / 2, 3 * HALF / 2])], ids=repr)
def test_the_product_slope_of_kappa_f_reaches_its_limit(law):
    """``(t kappa_F)' = kappa_F' df2_F(kappa_F)`` for the far-field forms of
    anisotropic weights: beyond ``kappa_F = 1e100 m_2/m_1`` it is the limit
    ``-m_2/m_1``.  At ``kappa_F = 1e120`` and ``1e140`` both are computable:
    the limit equals ``kappa_F' df2_F`` from the law's own means to 1e-14;
    at 1e200 (where ``kappa_F'`` overflows) it is finite and the same."""
    from freeprob.models._feature_covariance import product_slope

    m1, m2 = (float(m) for m in law.moments(2))
    kf = np.array([1e120, 1e140, 1e200])
    slope = np.empty(3)
    with np.errstate(divide="ignore"):
        slope[:2] = 1 / law.df1_with_slope(kf[:2])[1]
    slope[2] = -np.inf
    direct = slope[:2] * law.df2_numeric(kf[:2])
    got = product_slope(law, kf, slope)
    assert np.allclose(direct, -m2 / m1, rtol=1e-14, atol=0)
    assert np.allclose(got, -m2 / m1, rtol=1e-15, atol=0)
    # below the switch it is kappa_F' df2_F itself
    k = np.array([1e3, 1e50])
    s = 1 / law.df1_with_slope(k)[1]
    assert np.array_equal(product_slope(law, k, s), s * law.df2_numeric(k))
