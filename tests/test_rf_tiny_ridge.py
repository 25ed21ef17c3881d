"""Random features at the interpolation threshold P = D with N > D, at tiny
ridge, on laws that the models do not sum atom by atom: kappa_2 and every
key against the same maps solved and evaluated in mpmath with enough digits
(an independent arithmetic and a plain bisection), and the complement form
of the maps against the form in df (an exact rewrite)."""

import mpmath
import numpy as np
import pytest
import sympy as sp

import freeprob as fp
from freeprob.models._features_maps import RF_KEYS, _maps, _quantities, stable_form
from freeprob.models._features_refine import _df_mp
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.stable import complement_form


def _reference(model, ridge):
    """Every key at ``ridge`` with ``60 + 2 |log10 ridge|`` digits: ``kappa_2``
    by bisection in ``log kappa_2`` of the compiled ``lam`` map (df1, df2 from
    the law's mpmath route; ``1 - df1`` keeps its digits at that precision)."""
    dps = int(60 + 2 * abs(np.log10(ridge)))
    m, q = _maps(model), _quantities(model)
    dim = float(model.dimension)
    with mpmath.workdps(dps):
        pars = ([mpmath.mpf(model.samples) / dim - 1] + [mpmath.mpf(w) / dim - 1 for w in model.widths]
                + [mpmath.mpf(float(model.noise)), mpmath.mpf(float(model.feature_noise))])
        flam = compile_expr(*stable_form(model, (m["lam"],)), backend="mpmath")
        fq = compile_expr(*stable_form(model, [q[k] for k in RF_KEYS]), backend="mpmath")

        def excess(logk):
            k = mpmath.exp(logk)
            val = mpmath.re(flam(k, *pars, *_df_mp(model, k, dps), dps=dps)[0][()])
            return mpmath.log(val) - mpmath.log(ridge)

        lo, hi = mpmath.log(ridge) / 2 - 5, mpmath.log(ridge) / 2 + 5
        while excess(lo) > 0:
            lo -= 5
        while excess(hi) < 0:
            hi += 5
        while hi - lo > mpmath.mpf(10) ** -30:
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if excess(mid) > 0 else (mid, hi)
        k = mpmath.exp((lo + hi) / 2)
        vals = fq(k, *pars, *_df_mp(model, k, dps), dps=dps)
        return {key: float(mpmath.re(v[()])) for key, v in zip(RF_KEYS, vals)}


POPULATIONS = {"identity": lambda: fp.Identity(1), "mp-full-rank": lambda: fp.MarchenkoPastur(0.5),
               "mp-hard-edge": lambda: fp.MarchenkoPastur(1),
               # inline means (one fused pass over the atoms)
               "two-atoms": lambda: fp.Discrete([1, 2]), "power-law": lambda: fp.PowerLaw(1.5, 100)}


@pytest.mark.parametrize("name", sorted(POPULATIONS))
@pytest.mark.parametrize("ridge", [1e-2, 1e-6, 1e-20, 1e-38, 1e-100, 1e-250, 1e-300])
def test_threshold_at_tiny_ridge_matches_mpmath(name, ridge):
    """Every key to 1e-12 where ``1 - df1`` is far below rounding.  Before the
    maps took the complements, kappa_2 of the identity was 2.6e-7 off at
    1e-20, 6% at 1e-30, saturated at 1.1e-16 from 1e-60, and var_X was NaN
    at 1e-34; Var_F, Var_XF and Var_XF,e (differences of terms ~ 1/(1 -
    df1)) were 1e-6 off at 1e-20 and wrong in sign or 0 from 1e-38, for
    inline means too."""
    model = fp.RandomFeatureRidge(POPULATIONS[name](), widths=300, samples=100, dimension=100, noise=0.1)
    got = model.evaluate(ridge=ridge)
    ref = _reference(model, ridge)
    for key in RF_KEYS:
        assert float(got[key]) == pytest.approx(ref[key], rel=1e-12, abs=0), key


def test_threshold_on_a_curveless_product_follows_its_power_law():
    """``MP(1) x PowerLaw(1.5, 30)`` (no curve, density ~ x^-1/2 at 0): at P =
    D, ``lam = kappa_2 (psi - df1)(1 - df1)`` [R12] with ``1 - df1 ~ a
    kappa_2^(1/2)``, so kappa_2 ~ lam^(2/3) and E_g ~ lam^(-1/3).  The map
    is checked against the law's own complement, and the exponents over 200
    decades.  E_g saturated at 9e14 from 1e-100 before, and Var_XF,e
    (a difference of terms ~ 1/(1 - df1)) was 0 or 9e45."""
    pop = fp.free_mul(fp.MarchenkoPastur(1), fp.PowerLaw(1.5, 30))
    model = fp.RandomFeatureRidge(pop, widths=300, samples=100, dimension=100, noise=0.1)
    ridges = np.array([1e-60, 1e-160, 1e-260])
    out = model.evaluate(ridge=ridges)
    k2 = out["kappa2"]
    c1 = pop.df_complement_numeric(k2)
    np.testing.assert_allclose(k2 * (2 + c1) * c1, ridges, rtol=1e-12)
    slopes = np.diff(np.log(k2)) / np.diff(np.log(ridges))
    np.testing.assert_allclose(slopes, 2 / 3, rtol=1e-9)
    slopes = np.diff(np.log(out["Eg"])) / np.diff(np.log(ridges))
    np.testing.assert_allclose(slopes, -1 / 3, rtol=1e-9)
    # the finite limits of differences of divergent terms (as single ratios):
    # Var_XF,e tends to a constant, Var_XF ~ kappa_2
    np.testing.assert_allclose(out["var_XF_noise"], out["var_XF_noise"][0], rtol=1e-12)
    assert 0 < out["var_XF_noise"][0] < 0.01
    np.testing.assert_allclose(out["var_XF"] / k2, out["var_XF"][0] / k2[0], rtol=1e-10)
    assert np.all(out["var_F"] > 0) and np.all(out["var_XF"] > 0)


def test_complement_form_is_the_same_function():
    """The rewrite in ``c = 1 - d`` is exact, and the sum ``1 - d/phi`` at
    ``phi = 1`` keeps ``c`` where the form in ``d`` rounds it away; two
    terms in one coefficient (``-k c/(1 + e)`` twice) are summed, not taken
    apart."""
    d1, d2, c1, c2, e, f, k = sp.symbols("d1 d2 c1 c2 e f k")
    expr = ((1 + f - d1) * (1 - d1 / (1 + e) - 1 / (k * (1 + e)))
            + (d1 - d2) * (-k * (1 - d1 / (1 + e)) - k * (1 + f - d1) / (1 + e)) / k)
    out = complement_form(expr, [(d1, c1), (d2, c2)], [k])
    rng = np.random.default_rng(7)
    for _ in range(20):
        vals = dict(zip((c1, c2, e, f, k), rng.uniform(0.1, 2, 5)))
        vals.update({d1: 1 - vals[c1], d2: 1 - vals[c2]})
        assert float(out.subs(vals)) == pytest.approx(float(expr.subs(vals)), rel=1e-12)
    lam = sp.lambdify((c1, e), complement_form(1 - d1 / (1 + e), [(d1, c1)]))
    assert lam(1e-30, 0.0) == 1e-30
    assert 1 - (1 - 1e-30) / (1 + 0.0) == 0.0      # the form in d


@pytest.mark.parametrize("name", ["identity", "two-atoms"])
@pytest.mark.parametrize("ridge", [1e-12, 1e-20, 1e-100])
def test_two_layers_at_the_threshold_are_certified(name, ridge):
    """Two layers keep Var_F, Var_XF, Var_XF,e as differences; where they
    would lose more than 1e-8 (the terms 4.5e7 times the key) the keys are
    evaluated in mpmath.  Before, they were 1e-6 off at 1e-20 and 170% at
    1e-100, and the inline maps of two layers (a sum with a term that is not
    affine in the means, left unabsorbed) put kappa_2 1e34 off at 1e-100."""
    model = fp.RandomFeatureRidge(POPULATIONS[name](), widths=[300, 200], samples=100, dimension=100, noise=0.1)
    got = model.evaluate(ridge=ridge)
    ref = _reference(model, ridge)
    for key in RF_KEYS:
        assert float(got[key]) == pytest.approx(ref[key], rel=1e-8, abs=0), key
    for key in ("kappa2", "df1", "Eg", "Etr"):
        assert float(got[key]) == pytest.approx(ref[key], rel=1e-12, abs=0), key


@pytest.mark.parametrize("law", [fp.free_mul(fp.MarchenkoPastur(1), fp.PowerLaw(1.5, 30)), fp.MarchenkoPastur(1),
                                 fp.free_mul(fp.MarchenkoPastur(2), fp.Discrete([1, 2]))],
                         ids=["curveless", "closed form", "atom at 0"])
def test_df_and_complements_in_one_pass_match_the_separate_routes(law):
    """The four values the random-feature maps take (one S-transform solve
    for a product without a curve next to its rank) equal df1, df2 and the
    complements computed one by one."""
    lam = np.array([1e-250, 1e-60, 1e-12, 1e-3, 0.5, 30.0])
    d1, d2, c1, c2 = law._df_and_complements(lam)
    np.testing.assert_allclose(d1, law.df1_numeric(lam), rtol=2e-15)
    np.testing.assert_allclose(d2, law.df2_numeric(lam), rtol=2e-15)
    near = d1 > 0.5
    np.testing.assert_allclose(c1[near], law.df_complement_numeric(lam[near], 1), rtol=2e-15)
    np.testing.assert_allclose(c2[near], law.df_complement_numeric(lam[near], 2), rtol=2e-15)
    np.testing.assert_allclose(c1[~near], 1 - d1[~near], rtol=0)
    # no point: empty float arrays (a curveless product returned None and an object array)
    empty = np.array([])
    for values in (law._df_and_complements(empty), (law.df1_numeric(empty), law.df_complement_numeric(empty, 2))):
        assert all(v.dtype == float and v.shape == (0,) for v in values)


@pytest.mark.parametrize("name", ["identity", "mp-hard-edge", "two-atoms"])
@pytest.mark.parametrize("shape", [dict(widths=100, samples=300), dict(widths=100, samples=100)],
                         ids=["width N = D", "P = N = D"])
@pytest.mark.parametrize("ridge", [1e-20, 1e-100])
def test_width_threshold_and_double_threshold_match_mpmath(name, shape, ridge):
    """The width bottleneck ``N = D < P`` (``psi - df1 = e_1 + c_1``) and
    the double threshold ``P = N = D``: every key to 1e-12."""
    model = fp.RandomFeatureRidge(POPULATIONS[name](), dimension=100, noise=0.1, **shape)
    got = model.evaluate(ridge=ridge)
    ref = _reference(model, ridge)
    for key in RF_KEYS:
        assert float(got[key]) == pytest.approx(ref[key], rel=1e-12, abs=0), key


def test_the_far_field_is_not_refined(monkeypatch):
    # at huge ridges Var_XF is a difference of terms equal to the null risk
    # (ratio inf where it rounds to 0), but no threshold is near: refining it
    # took mpmath at 300+ digits per point (minutes for a power law's
    # Euler-Maclaurin sums); only df1, gamma_1 or gamma_2 above 1/2 qualify
    import freeprob.models._features_refine as refine

    calls = []

    def counted(*args, **kw):
        calls.append(kw.get("backend"))
        return compile_expr(*args, **kw)

    monkeypatch.setattr(refine, "compile_expr", counted)
    model = fp.RandomFeatureRidge(fp.PowerLaw(1.5, sp.oo), widths=[50], samples=40, noise=0.1,
                                  target=fp.SourceTarget(0.6))
    out = model.evaluate(ridge=np.array([1e10, 1e160, 1e300]))
    ratios = refine.term_ratios(out)
    assert np.max(ratios["var_XF"]) > refine.MAX_RATIO      # the terms do cancel there
    assert np.all(out["gamma1"] < 0.5) and np.all(out["df1"] < 0.5)
    assert calls == []
    # the threshold side still is: two layers at P = D, N_l > D, ridge 1e-20
    near = fp.RandomFeatureRidge(fp.Identity(), widths=[300, 200], samples=100, dimension=100, noise=0.1)
    near.evaluate(ridge=1e-20)
    assert calls == ["mpmath"]


@pytest.mark.parametrize("pop", [fp.MarchenkoPastur(sp.Rational(1, 2)), fp.Discrete([1, 2])], ids=repr)
def test_a_bottleneck_before_a_wider_layer(pop):
    """White layers commute (S_F is a product over the layers), so the
    chain N = (50, 80) equals (80, 50); the noise term sigma_xi^2/(kappa_2
    (df1 - psi_1)) of the first was 0 * oo where df1 rounds to psi_1 = 1/2
    (ridge below 1e-16, and the ridgeless limit): NumericalError.  Without
    feature noise it is 0 exactly; the points with noise keep it."""
    kw = dict(samples=100, dimension=100, noise=0.1)
    first, last = (fp.RandomFeatureRidge(pop, widths=w, **kw) for w in ([50, 80], [80, 50]))
    ridge = np.array([1e-8, 1e-20, 1e-100, 0.0])
    a, b = first.evaluate(ridge=ridge), last.evaluate(ridge=ridge)
    for key in RF_KEYS:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=0, err_msg=key)
    assert np.allclose(a["Eg"][1:], a["Eg"][-1], rtol=1e-13, atol=0)   # the limit, to rounding
    # a sweep mixing feature noise 0 and > 0 equals its points one by one
    xi = np.array([0.0, 0.1, 0.0, 0.3])
    mixed = first.evaluate(ridge=1e-3, feature_noise=xi)
    for j, v in enumerate(xi):
        one = first.evaluate(ridge=1e-3, feature_noise=float(v))
        for key in RF_KEYS:
            assert mixed[key][j] == pytest.approx(float(one[key]), rel=1e-14, abs=0), key


@pytest.mark.parametrize("n", [10**4, 10**6])
def test_the_data_bottleneck_behind_anisotropic_weights_with_feature_noise(n):
    """N > P with anisotropic weights and feature noise: the ridgeless
    kappa_2 is the zero of 1 - dfbar1/phi, above kappa_1's.  Its sign was
    read 2^-50 above the width bottleneck, where kappa_F is that small and
    the map is 0 * oo to rounding (+8e6 for -3.7e5 at n = 1e6), so the zero
    was missed: kappa_2 = 4757 at ridge 0 against 5946 at ridge 1e-300,
    gamma_1 = 1.25 and E_g = -1.68.  Ridge 0 is the limit of ridge -> 0+."""
    m = fp.RandomFeatureRidge(fp.PowerLaw(1.2, n), widths=100, samples=80, noise=0.1, feature_noise=0.05,
                              feature_covariance=fp.PowerLaw(0.7, 100), target=fp.SourceTarget(0.6))
    out = m.evaluate(ridge=np.array([0.0, 1e-300, 1e-100, 1e-30]))
    for key in RF_KEYS:   # E_tr ~ ridge^2 -> 0: to 1e-14 of E_g
        np.testing.assert_allclose(out[key][0], out[key][1:], rtol=1e-10, atol=1e-14 * out["Eg"][0], err_msg=key)
    assert 0 < out["gamma1"][0] < 1 and out["Eg"][0] > 0
