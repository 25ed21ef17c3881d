"""Degrees of freedom next to an atom at zero (pitfall P19): the remainder's
curve for algebraic laws, eta(u) for free products without a curve, and the
exact subordination slope, each against an independent route."""

import numpy as np
import pytest

import freeprob as fp
from freeprob.errors import NumericalError
from freeprob.laws._near import near_values
from freeprob.laws._product_s import product_df_values
from freeprob.laws._subordination import eta_values

LAWS = {
    "wishart-product": lambda: fp.WishartProduct([2, 3]),
    "wishart-product scaled": lambda: fp.WishartProduct([3, 2], scale=2),
    "product with atoms": lambda: fp.free_mul(fp.MarchenkoPastur(2), fp.Discrete([1, 2])),
    "sum of rank-deficient": lambda: fp.free_add(fp.MarchenkoPastur(2), fp.MarchenkoPastur(3)),
    "float-weight product": lambda: fp.free_mul(fp.Discrete([0, 1], [0.7, 0.3]), fp.MarchenkoPastur(0.5)),
    "curveless product": lambda: fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20)),
}
TINY = np.array([1e-14, 1e-30, 1e-100, 1e-250, 1e-300])


def _g_route(law, lam):
    """df1, df2 from g and a 5-point central difference of g (independent of
    the remainder curve, eta, and the exact slope)."""
    z = -np.asarray(lam, dtype=float) + 0j
    g = law.stieltjes_numeric(z)
    h = 1e-3 * np.abs(z)
    gp = (8 * (law.stieltjes_numeric(z + h) - law.stieltjes_numeric(z - h))
          - (law.stieltjes_numeric(z + 2 * h) - law.stieltjes_numeric(z - 2 * h))) / (12 * h)
    df1 = 1 + lam * g
    return df1.real, (df1 + lam * (g - lam * gp)).real   # df2 = 1 + 2 lam g - lam^2 g' [C6]


@pytest.mark.parametrize("name", sorted(LAWS))
def test_tiny_ridge_gives_the_rank_and_a_linear_gap(name):
    """Below every scale of the law, df1 and df2 are the rank 1 - w0 to an
    ulp, df1 >= df2, the complements are w0; the slope (df1 - df2)/lam (the
    negative moment of the nonzero part) matches the g route to O(lam)."""
    law = LAWS[name]()
    w0 = float(sum(m for loc, m in law.atoms() if loc == 0))
    assert w0 > 0
    d1, d2 = law.df1_numeric(TINY), law.df2_numeric(TINY)
    c1, c2 = law.df_complement_numeric(TINY, 1), law.df_complement_numeric(TINY, 2)
    assert np.all(np.isfinite(d1)) and np.all(np.isfinite(d2))
    # lam m_{-1} is below an ulp from lam = 1e-30 on
    np.testing.assert_allclose(d1[1:], 1 - w0, rtol=4.5e-16, atol=0)
    np.testing.assert_allclose(d2[1:], 1 - w0, rtol=4.5e-16, atol=0)
    np.testing.assert_allclose(c1[1:], w0, rtol=2.3e-16)
    np.testing.assert_allclose(c2[1:], w0, rtol=2.3e-16)
    assert np.all(d1 >= d2)
    # the slope: (df1 - df2)/lam at lam = 1e-8 (8 digits survive the
    # difference) against the g route at 1e-4 of the smallest nonzero support
    # point e (where it keeps 10 digits), to O(lam/e)
    e = min([a for a, _ in law._ac_intervals()] + [float(x) for x, _ in law.atoms() if x != 0])
    e = e if e > 0 else 1e-3    # a curveless law knows only a bound on its support
    lo, ref_lam = np.array([1e-8]), np.array([1e-4 * e])
    gap = (law.df1_numeric(lo) - law.df2_numeric(lo))[0] / lo[0]
    r1, r2 = _g_route(law, ref_lam)
    ref = (r1 - r2)[0] / ref_lam[0]
    assert abs(gap - ref) <= 1e-3 * abs(ref), (gap, ref)


@pytest.mark.parametrize("name", sorted(LAWS))
def test_both_routes_agree_where_both_work(name):
    """At ridges the g route handles well (1e-5 to 1e-2 of the support), the
    near-zero route equals it."""
    law = LAWS[name]()
    lam = np.array([1e-5, 1e-4, 1e-3, 1e-2])
    r1, r2 = _g_route(law, lam)
    np.testing.assert_allclose(law.df1_numeric(lam), r1, rtol=1e-9)
    np.testing.assert_allclose(law.df2_numeric(lam), r2, rtol=1e-7)


def test_which_route_is_certified():
    """The remainder curve serves algebraic laws with an atom at 0 below
    lam = e/16, and nothing else; the eta route serves products without a curve."""
    lam = np.array([1.0, 1e-3, 1e-250])
    mask, _ = near_values(fp.WishartProduct([2, 3]), "df1", lam)
    assert mask.tolist() == [False, True, True]
    for law in (fp.MarchenkoPastur(0.5), fp.free_add(fp.Semicircle(1), fp.Semicircle(2)),
                fp.free_mul(fp.MarchenkoPastur(0.5), fp.Discrete([1, 2]))):      # no atom at 0
        assert not near_values(law, "df1", lam)[0].any()
    # a product without a curve: eta away from its rank, the operands'
    # inverse df1 (S_ab = S_a S_b) within 1e-6 of it
    law = LAWS["curveless product"]()
    assert law.curve() is None
    np.testing.assert_allclose(eta_values(law, "df1", lam[:2]), law.df1_numeric(lam[:2]), rtol=0)
    np.testing.assert_allclose(product_df_values(law, "df1", lam[2:]), law.df1_numeric(lam[2:]), rtol=0)


@pytest.mark.parametrize("law", [fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20)),
                                 fp.free_add(fp.PowerLaw(1.5, 20), fp.Semicircle(1))],
                         ids=["product", "sum"])
def test_exact_subordination_slope(law):
    """g' by implicit differentiation of the fixed point equals a Richardson
    difference of g at complex points and on the negative axis."""
    from freeprob.laws._subordination import slope_of

    assert law.curve() is None
    z = np.array([-0.3 + 0.2j, 1.0 + 0.5j, 3.0 - 1e-1j, -2.0 + 1e-3j])
    if law._kind == "mul":
        z = np.append(z, [-1e-3, -0.5])
    h = 1e-3 * np.minimum(np.abs(z.imag) + (z.imag == 0) * np.abs(z), 1.0)
    fd = (8 * (law.stieltjes_numeric(z + h) - law.stieltjes_numeric(z - h))
          - (law.stieltjes_numeric(z + 2 * h) - law.stieltjes_numeric(z - 2 * h))) / (12 * h)
    np.testing.assert_allclose(slope_of(law, z), fd, rtol=1e-7)


def test_random_features_at_full_width_on_a_rank_deficient_law():
    """The case that stalled for minutes (the width bottleneck probes
    df at kappa ~ 1e-250 next to the atom): P = D = 100 on a product of rank
    1/2 returns finite values at once; with N above the rank and no ridge the
    target is learned exactly (E_g = 0), as for an atomic population of the
    same rank."""
    law = fp.free_mul(fp.MarchenkoPastur(2), fp.Discrete([1, 2]))
    out = fp.RandomFeatureRidge(law, widths=[100], samples=200, dimension=100, ridge=1e-3).evaluate()
    assert all(np.isfinite(v) for v in out.values())
    assert 0 < float(out["Eg"]) < 1e-3
    out0 = fp.RandomFeatureRidge(law, widths=[100], samples=200, dimension=100, ridge=0).evaluate()
    assert float(out0["Eg"]) == 0.0 and float(out0["Etr"]) == 0.0
    atomic = fp.Discrete([0] * 50 + [1] * 25 + [2] * 25)
    assert float(fp.RandomFeatureRidge(atomic, widths=[100], samples=200, ridge=0).evaluate()["Eg"]) == 0.0


@pytest.mark.montecarlo
def test_random_features_full_width_against_monte_carlo():
    """P = D on a product with mass 1/2 at 0, N above the rank, small ridge:
    theory against simulate within 4 s.e. plus 3% finite size (pitfall P10)
    plus 1% of E_g for the small components."""
    law = fp.free_mul(fp.MarchenkoPastur(2), fp.Discrete([1, 2]))
    model = fp.RandomFeatureRidge(law, widths=200, samples=300, noise=0.1, dimension=200, ridge=1e-3)
    sim = fp.simulate(model, seeds=(10, 10), rng=np.random.default_rng(11))
    rows = fp.compare(model, sim, allowance=0.03, floor=0.01, out=lambda *_: None)
    assert not [r for r in rows if not r["ok"]]


# --------------------------------------------------- support without a curve
CURVELESS = {
    "product with atom": lambda: fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20)),
    "narrow product": lambda: fp.free_mul(fp.MarchenkoPastur(0.05), fp.PowerLaw(1.5, 20)),
    "sum": lambda: fp.free_add(fp.PowerLaw(1.5, 20), fp.Semicircle(1)),
    # rho ~ x^-1/2 at 0: its mass had come out 0.99699 on one quadrature piece next to 0 (ConvergenceError)
    "hard edge": lambda: fp.free_mul(fp.MarchenkoPastur(1), fp.PowerLaw(1.5, 30)),
}


@pytest.mark.parametrize("name", sorted(CURVELESS))
def test_curveless_support_is_computed_and_holds_a_haar_sample(name):
    """A law known only through subordination gets its support from the
    density (verified by the mass), not the bound: total mass 1, intervals
    strictly inside the bound, and a Haar sample (N = 1000) lies in them up to
    a finite-size allowance of 2% of the width (edge fluctuations ~N^-2/3)."""
    from freeprob.montecarlo.sampling import sample_eigenvalues

    law = CURVELESS[name]()
    assert law.curve() is None
    ac = law._ac_intervals()
    (lo, hi), = law._bound_interval()
    assert ac and all(lo <= a < b <= hi for a, b in ac)
    assert (ac[0][0], ac[-1][1]) != (lo, hi)
    assert float(law.cdf_numeric(hi + 1.0)) == pytest.approx(1.0, abs=1e-4)
    eig = sample_eigenvalues(law, 1000, np.random.default_rng(5))
    atoms = [float(c) for c, _ in law.atoms()]
    eig = eig[[not any(abs(e - c) < 1e-8 for c in atoms) for e in eig]]
    slack = 0.02 * (hi - lo)
    inside = np.zeros(eig.shape, dtype=bool)
    for a, b in ac:
        inside |= (eig >= a - slack) & (eig <= b + slack)
    assert inside.all(), eig[~inside]
    # the extreme eigenvalues reach the outer edges (up to the same allowance)
    assert abs(eig.max() - ac[-1][1]) <= slack and abs(eig.min() - ac[0][0]) <= slack


def test_curveless_atom_does_not_leak_into_the_density():
    """free_mul(MP(2), PowerLaw(1.5, 20)): mass 1/2 at 0, a gap above it, so
    the density is exactly 0 at 0 (it was 2.3e10: the atom seen at height
    1e-12), and g is real in the gap, equal to its limit from above."""
    law = CURVELESS["product with atom"]()
    assert [(c, float(w)) for c, w in law.atoms()] == [(0, 0.5)]
    first = law._ac_intervals()[0][0]
    assert first > 1e-3
    np.testing.assert_array_equal(law.density_numeric(np.array([0.0, 1e-8, first / 2])), 0.0)
    x = first / 2
    g = law.stieltjes_numeric(np.array([x + 0j]))[0]
    assert g.imag == 0
    eta = 1e-7
    above = law.stieltjes_numeric(np.array([x + 1j * eta]))[0] - 0.5 / (x + 1j * eta) + 0.5 / x
    assert abs(g - above) <= 1e-4 * abs(g)


# ------------------------------------ kappa_2 -> 0 for laws that are not inline
@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_random_features_threshold_at_the_rank_of_a_continuous_law(noise):
    """N = 50 samples on a product of rank 1/2 at D = 100 (P = D): the
    interpolation threshold at lam = 0.  The limit kappa_2 -> 0 is taken in
    mpmath with df from the remainder's curve (it was NaN): Var_XF = 0, E_g = 0
    without noise and +oo with it, as for an atomic population of the same
    rank; the ridge sequence 1e-6, 1e-9, 1e-12 approaches it (like lam^1/2)."""
    law = fp.free_mul(fp.MarchenkoPastur(2), fp.Discrete([1, 2]))
    model = fp.RandomFeatureRidge(law, widths=[100], samples=50, dimension=100, noise=noise)
    out = model.evaluate(ridge=np.array([0.0, 1e-12, 1e-9, 1e-6]))
    assert out["var_XF"][0] == 0.0 and out["gamma1"][0] == 1.0
    assert np.all(np.diff(out["var_XF"]) > 0) and out["var_XF"][1] < 1e-6
    if noise == 0:
        assert out["Eg"][0] == 0.0 and out["Eg"][1] < 2e-6
    else:
        assert out["Eg"][0] == np.inf and out["Eg"][1] > 1e4
    atomic = fp.Discrete([0] * 50 + [1] * 25 + [2] * 25)
    ref = fp.RandomFeatureRidge(atomic, widths=[100], samples=50, noise=noise, ridge=0).evaluate()
    assert float(ref["Eg"]) == out["Eg"][0] and float(ref["var_XF"]) == 0.0


def test_random_features_ridgeless_on_a_law_touching_zero():
    """MP(1) (density ~ x^-1/2 at 0) with D = P = 100 < N = 200 at lam = 0:
    kappa_1 ~ kappa_2^(3/2), a fractional exponent, certified by a third
    point (it was NaN); gamma_1 = P/N = 1/2 and E_g = sigma^2 (P/N)/(1 - P/N)
    = 0.1, which the ridge sequence approaches."""
    model = fp.RandomFeatureRidge(fp.MarchenkoPastur(1), widths=[100], samples=200, dimension=100, noise=0.1)
    out = model.evaluate(ridge=np.array([0.0, 1e-14, 1e-12]))
    assert out["kappa1"][0] == 0.0
    assert out["gamma1"][0] == pytest.approx(0.5, abs=1e-11)
    assert out["Eg"][0] == pytest.approx(0.1, abs=1e-11)
    assert abs(out["Eg"][1] - out["Eg"][0]) < abs(out["Eg"][2] - out["Eg"][0]) < 1e-4


def test_df_in_mpmath_from_the_remainder_curve():
    """df1_numeric(dps=40) of an algebraic product with an atom at 0 (no
    closed form) equals the float route where that is accurate and keeps
    the digits of 1/2 - lam m_(-1) at lam = 1e-30."""
    import mpmath

    law = fp.free_mul(fp.MarchenkoPastur(2), fp.Discrete([1, 2]))
    lam = np.array([1e-3, 1e-8])
    for which in (1, 2):
        mp = getattr(law, f"df{which}_numeric")(lam, dps=40)
        fl = getattr(law, f"df{which}_numeric")(lam)
        np.testing.assert_allclose([float(v) for v in mp], fl, rtol=1e-13)
    # a float weight 0.7 is the rational 7/10 of the curve (rational_twin), to every digit
    fw = fp.free_mul(fp.Discrete([0, 1], [0.7, 0.3]), fp.MarchenkoPastur(0.5))
    with mpmath.workdps(40):
        assert abs(fw.df1_numeric(np.array([1e-45]), dps=40)[0] - mpmath.mpf(3) / 10) < mpmath.mpf(10) ** -38
    tiny = law.df1_numeric(np.array([1e-30]), dps=40)[0]
    slope = (law.df1_numeric(np.array([1e-8]), dps=40)[0] - mpmath.mpf("0.5")) / mpmath.mpf(1e-8)
    with mpmath.workdps(40):
        assert abs((tiny - mpmath.mpf("0.5")) / mpmath.mpf(1e-30) - slope) < 1e-6 * abs(slope)


def test_closed_form_with_a_support_touching_zero_keeps_lam():
    """A semicircle shifted onto [0, 4]: in its closed form -lam - c + 2 sqrt(v)
    evaluated left to right lost lam when c = 2 sqrt(v) (NaN below lam ~
    1e-16); the parameter sum is now formed first.  Float route against the
    30-digit route, and 1 - df1 = lam m_(-1) (m_(-1) = -g(0) = 1)."""
    law = fp.Semicircle(1).shifted(2)
    lam = np.array([1e-3, 1e-8, 1e-20, 1e-100, 1e-250])
    for which in (1, 2):
        fl = getattr(law, f"df{which}_numeric")(lam)
        mp = getattr(law, f"df{which}_numeric")(lam, dps=30)
        np.testing.assert_allclose(fl, [float(v.real) for v in mp], rtol=1e-14)
    np.testing.assert_allclose(law.df_complement_numeric(lam[2:]), lam[2:], rtol=1e-9)
    # random features at P = D < N, lam = 0 (a NumericalError before): the
    # limit gamma_1 = P/N = 1/2, E_g = sigma^2, which the ridge sequence approaches
    model = fp.RandomFeatureRidge(law, widths=[100], samples=200, dimension=100, noise=0.1)
    out = model.evaluate(ridge=np.array([0.0, 1e-12, 1e-9]))
    assert out["gamma1"][0] == pytest.approx(0.5, abs=1e-12) and out["Eg"][0] == pytest.approx(0.1, abs=1e-12)
    assert abs(out["Eg"][1] - 0.1) < abs(out["Eg"][2] - 0.1) < 1e-3


def test_curveless_products_with_two_atoms_at_zero():
    """Both operands with mass at 0 and no curve: the multiplicative fixed
    point turns neutral as lam -> 0 and the iteration stopped short of it
    (df1 = 0.3596 at lam = 1e-30, above the rank 1/3; refused before), and
    near the rank it stopped 1e-10 off while below it (PowerLaw(1.2, 1000) x
    MP(3) at lam = 1e-12: (rank - df1)/lam = 65 instead of 189.5).  The
    operands' inverse df1 takes over within 1e-6 of the rank.  Checks: eta
    where it converges (1e-2 to 1e-6, an independent route); below, the two
    limits of the negative moment, (rank - df1)/lam and (df1 - df2)/lam,
    computed from different forms, agree; with equal masses (no gap) both
    gaps go as sqrt(lam), (rank - df1) = 2 (df1 - df2)."""
    for law, w0 in ((fp.free_mul(fp.MarchenkoPastur(2), fp.free_mul(fp.MarchenkoPastur(3), fp.PowerLaw(1.5, 20))), 2 / 3),
                    (fp.free_mul(fp.PowerLaw(1.2, 1000), fp.MarchenkoPastur(3)), 2 / 3)):
        assert law.curve() is None and [(c, float(w)) for c, w in law.atoms()] == [(0, w0)]
        mid = np.array([1e-2, 1e-4, 1e-6])
        np.testing.assert_allclose(law.df1_numeric(mid), eta_values(law, "df1", mid), rtol=0, atol=3e-16)
        tiny = np.array([1e-10, 1e-12, 1e-30, 1e-300])
        d1, d2 = law.df1_numeric(tiny), law.df2_numeric(tiny)
        rank = law._trace_rank()
        assert np.all(d1 <= rank + 1.2e-16) and abs(d1[-1] - rank) <= 1.2e-16   # an ulp of 1/3: 5.6e-17
        a, b = (rank - d1[:2]) / tiny[:2], (d1[:2] - d2[:2]) / tiny[:2]
        # both tend to m_(-1); they differ by O(lam m_(-2)/m_(-1)) ~ 1e-8 at lam = 1e-10,
        # and each carries eps/lam ~ 1e-6 of rounding from differences near 1/3
        np.testing.assert_allclose(a, b, rtol=1e-4)
    law = fp.free_mul(fp.MarchenkoPastur(2), fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20)))
    lam = np.array([1e-8, 1e-14])
    d1, d2 = law.df1_numeric(lam), law.df2_numeric(lam)
    # a sqrt(lam) gap: (rank - df1) = c sqrt(lam), df1 - df2 = -lam df1' = c sqrt(lam)/2, up to the
    # next order, O(sqrt(lam)) relative (measured 1e-3 at lam = 1e-8), or eps/(c sqrt(lam)) = 2e-9 at 1e-14
    np.testing.assert_allclose((0.5 - d1), 2 * (d1 - d2), rtol=2e-3)


def test_rf_threshold_of_a_law_known_by_subordination():
    """N = rank D at lam = 0 on MP(2) x PowerLaw (no curve): kappa_2 -> 0 is a
    0/0 whose certified limit needs df in mpmath, which the law gets from
    its operands' inverse df1 polished in mpmath (refused before).  Second
    route: the ridge sequence 1e-6, 1e-8, 1e-10 extrapolated to 0 in
    sqrt(lam) (the gaps fall 10x per 100x in lam: 2.8e-3, 2.9e-4, 2.9e-5)."""
    pop = fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20))
    m = fp.RandomFeatureRidge(pop, widths=[50], samples=100, dimension=100, ridge=0.0, noise=0.1)
    lim = m.evaluate()
    lam = np.array([1e-6, 1e-8, 1e-10])
    out = m.evaluate(ridge=lam)
    for key in ("Eg", "Etr", "gamma1", "var_XF", "var_X_noise"):
        # a + b sqrt(lam) + c lam through the three points, at lam = 0
        ext = np.linalg.solve(np.vander(np.sqrt(lam), 3, increasing=True), out[key])[0]
        assert abs(float(lim[key]) - ext) < 5e-8, (key, float(lim[key]), ext)   # the lam^(3/2) term
    assert float(lim["Eg"]) == pytest.approx(0.1, abs=1e-12)   # sigma^2 gamma/(1 - gamma), gamma = 1/2


def test_free_product_with_an_atom_has_no_leak_below_its_bulk():
    """``PowerLaw(1.2, 1000) x MP(1000/316)``: an atom of mass 0.684 at 0 and a
    bulk from about 4.4e-4.  Subordination reaches real points at height
    ``y ~ 1e-11``, where the atom is the Poisson kernel ``w y/(pi x^2)`` (0.02
    at x = 1e-5, reported as density before) and the bulk's own tail leaks
    below its edge.  Second route: the smallest nonzero eigenvalue of Wishart
    draws at N = 1000, P = 316 (4.45e-4 to 4.65e-4 over 5 draws)."""
    from freeprob.montecarlo.sampling import population_wishart_eigenvalues

    law = fp.free_mul(fp.PowerLaw(1.2, 1000), fp.MarchenkoPastur(1000 / 316))
    assert float(law.density_numeric(1e-5)) < 1e-6
    edge = law._ac_intervals()[0][0]
    eta = np.arange(1, 1001) ** -1.2
    mins = [np.min(ev[ev > 1e-10]) for ev in (population_wishart_eigenvalues(eta, 316, np.random.default_rng(s))
                                               for s in range(3))]
    # the finite-N smallest eigenvalue sits within a few % above the edge
    assert 0.85 * min(mins) < edge < min(mins)
    assert float(law.density_numeric(1.05 * edge)) > 1.0


def test_atom_at_zero_on_a_hard_edge():
    """``MP(2) x Bernoulli(1/2)``: mass 1/2 at 0 and a continuous part
    ``sqrt((4 - x)/x)/(4 pi)`` on (0, 4] that reaches 0 (no gap).  Its curve's
    two branches share the pole ``1/(2z)`` and meet at 0, so ``g'`` from the
    curve cancelled to nothing: df2 was 0.4017 at lam = 1e-60 (true 1/2 -
    O(1e-30)), NaN at 1e-100, and the continuation stalled at 1e-30.  The
    remainder ``s = g - 1/(2z) ~ lam^(-1/2)`` has well separated roots.
    Second route: mpmath quadrature of the density (40 digits)."""
    import mpmath
    import sympy

    for weights in ([sympy.Rational(1, 2)] * 2, [0.5, 0.5]):
        law = fp.free_mul(fp.MarchenkoPastur(2), fp.Discrete([0, 1], weights))
        lam = np.array([1e-300, 1e-100, 1e-60, 1e-30, 1e-20, 1e-12, 1e-6, 1e-3, 0.3, 1.0, 10.0])
        got = {1: law.df1_numeric(lam), 2: law.df2_numeric(lam)}
        with mpmath.workdps(40):
            rho = lambda x: mpmath.sqrt((4 - x) / x) / (4 * mpmath.pi)  # noqa: E731
            for i, lv in enumerate(lam):
                m = mpmath.mpf(lv)
                cuts = [0] + [c for c in (m, mpmath.mpf(1e-20), mpmath.mpf(1e-10), 1) if c < 4] + [4]
                for which in (1, 2):
                    ref = mpmath.quad(lambda x: (x / (x + m)) ** which * rho(x), sorted(set(cuts)))
                    assert abs(got[which][i] - float(ref)) < 4e-16, (weights, lv, which)
    with mpmath.workdps(50):
        m = mpmath.mpf("1e-40")
        ref = mpmath.quad(lambda x: (x / (x + m)) ** 2 * rho(x), [0, m, 1e-30, 1e-20, 1e-10, 1, 4])
        assert abs(law.df2_numeric(m, dps=40)[()] - ref) < mpmath.mpf(10) ** -38
    # random features on it at lam = 0: the feature design has rank D/2 = 100
    # < P = 150 < N, so the fit is underparameterized in rank: Var_X_eps =
    # sigma^2 r/(P - r) = 0.2, E_tr = sigma^2 (1 - r/P), the rest 0
    model = fp.RandomFeatureRidge(law, widths=[140], samples=150, dimension=200, ridge=0, noise=0.1,
                                  feature_covariance=fp.PowerLaw(0.7, 140))
    out = model.evaluate()
    assert float(out["var_X_noise"]) == pytest.approx(0.2, rel=1e-12)
    assert float(out["Etr"]) == pytest.approx(0.1 / 3, rel=1e-12)
    assert float(out["bias2"]) == float(out["var_X"]) == float(out["var_XF"]) == 0.0


def test_product_of_three_wisharts_at_ridges_down_to_1e_300():
    """``MP(4) x MP(4) x MP(4)``: mass 3/4 at 0 and a continuous part that
    reaches 0 with ``s ~ lam^(-2/3)``.  In float64 the remainder curve's
    coefficients ``64 z^3``, ``48 z^2`` underflow below lam ~ 1e-160, which
    left the spurious root ``-1/(4z)`` at the end of the bracket: df1 was 0
    (the rank is 1/4).  Coefficients as mantissa times 2^e, roots by the
    Newton polygon, Newton on scaled monomials.  Second route: the same
    curve in 30-digit mpmath (its own roots, ``mpmath.polyroots`` per group)."""
    import mpmath

    law = fp.free_mul(fp.free_mul(fp.MarchenkoPastur(4), fp.MarchenkoPastur(4)), fp.MarchenkoPastur(4))
    lam = np.logspace(-300, -4, 13)
    for which, fl in ((1, law.df1_numeric(lam)), (2, law.df2_numeric(lam))):
        ref = [getattr(law, f"df{which}_numeric")(mpmath.mpf(v), dps=30)[()] for v in lam]
        np.testing.assert_allclose(fl, [float(r) for r in ref], rtol=4e-16, atol=0)
    assert law.df1_numeric(np.array([1e-300]))[0] == 0.25


def test_scaled_roots_across_hundreds_of_decades():
    """Roots of polynomials whose roots span 10^-250..10^250, against the
    roots they were built from (float64, and 40-digit mpmath)."""
    import mpmath

    from freeprob.laws._curve import scaled_roots, scaled_roots_mp

    rng = np.random.default_rng(3)
    for _ in range(20):
        mags = 10.0 ** rng.uniform(-250, 250, size=4) * np.exp(2j * np.pi * rng.uniform(size=4))
        with mpmath.workdps(40):
            poly = [mpmath.mpf(1)]
            for r in mags:
                poly = [a - mpmath.mpc(r) * b for a, b in zip(poly + [0], [0] + poly)]
            got_mp = sorted(scaled_roots_mp(poly), key=abs)
            want = sorted(mags, key=abs)
            assert all(abs(g / complex(w) - 1) < 1e-30 for g, w in zip(got_mp, want))
            exps = [int(mpmath.floor(mpmath.log(abs(c), 2))) if c != 0 else 0 for c in poly]
            mant = [complex(c * mpmath.ldexp(1, -e)) for c, e in zip(poly, exps)]
        got = sorted(scaled_roots(mant, exps), key=abs)
        # well separated roots (a factor of 10 at least): each to its own relative precision
        if np.all(np.diff(np.log10(np.abs(want))) > 1):
            np.testing.assert_allclose(np.abs(np.array(got) / np.array(want) - 1), 0, atol=1e-12)


def test_arcsine_on_a_hard_edge_down_to_1e_300():
    """``(Discrete([-1, 1]) + Discrete([-1, 1])) + 2``: the arcsine law on
    [0, 4], ``1 - df1 = sqrt(lam/(lam + 4))``.  Its closed form divided by
    ``(2 + lam)^2 - 4``, 0 in floats below lam ~ 1e-16 (inf), and its df2
    squares lam (underflow below 1e-160, NaN).  The parameters hidden in the
    power now join one derived parameter (``4 lam + lam^2``), and points
    where the compiled form still under- or overflows take the same formula
    in mpmath.  Second route: the exact expression in 40-digit mpmath."""
    import mpmath

    law = fp.free_add(fp.Discrete([-1, 1]), fp.Discrete([-1, 1])).shifted(2)
    lam = np.array([1e-300, 1e-200, 1e-160, 1e-100, 1e-40, 1e-20, 1e-10, 1e-5, 1.0, 30.0])
    d1, d2 = law.df1_numeric(lam), law.df2_numeric(lam)
    c1, c2 = law.df_complement_numeric(lam, 1), law.df_complement_numeric(lam, 2)
    with mpmath.workdps(40):
        for i, lv in enumerate(lam):
            m = mpmath.mpf(lv)
            u = mpmath.sqrt(m / (m + 4))
            t1, t2 = 1 - u, 1 - u - 2 * m / ((m + 4) ** 2 * u)
            assert abs(d1[i] - t1) <= 4.5e-16 and abs(d2[i] - t2) <= 4.5e-16, lv   # 2 ulps of 1
            u2 = u + 2 * m / ((m + 4) ** 2 * u)          # 1 - df2, formed without the 1
            assert abs(c1[i] / u - 1) < 1e-14 and abs(c2[i] / u2 - 1) < 1e-14, lv


@pytest.mark.parametrize("make", [
    lambda: fp.free_mul(fp.PowerLaw(1.5, 100), fp.PowerLaw(0.8, 50)),
    lambda: fp.free_mul(fp.PowerLaw(1.5, 100), fp.Discrete([0, 1, 2], [0.25, 0.25, 0.5])),
    lambda: fp.free_mul(fp.free_mul(fp.PowerLaw(1.5, 40), fp.MarchenkoPastur(2)), fp.MarchenkoPastur(3)),
], ids=["full rank", "an atom at 0", "nested"])
def test_curveless_products_over_the_whole_ridge_axis(make):
    """Free products without a curve at ridges 1e-300 to 1e4: eta's means
    overflowed at u = -1/lam (RuntimeWarnings, errors under this suite) and
    a full-rank product's forms underflowed (c ~ Delta ~ lam: NaN).  Checks:
    0 <= df2 <= df1 <= rank, both decrease, the complements add to 1, and
    d df1/d log lam = df2 - df1 [C6] by a central difference where it
    resolves (an independent use of df1 alone)."""
    law = make()
    assert law.curve() is None
    lam = np.logspace(-300, 4, 77)
    d1, d2 = law.df1_numeric(lam), law.df2_numeric(lam)
    c1, c2 = law.df_complement_numeric(lam, 1), law.df_complement_numeric(lam, 2)
    rank = law._trace_rank()
    assert np.all(np.isfinite(d1)) and np.all(np.isfinite(d2))
    assert np.all(d2 >= -1e-16) and np.all(d2 <= d1 + 2.3e-16) and np.all(d1 <= rank + 2.3e-16)
    assert np.all(np.diff(d1) <= 1e-16) and np.all(np.diff(d2) <= 1e-16)
    np.testing.assert_allclose(c1 + d1, 1, atol=3.4e-16)
    np.testing.assert_allclose(c2 + d2, 1, atol=3.4e-16)
    mid = np.logspace(-6, 2, 9)
    h = 1e-3
    f = [law.df1_numeric(mid * np.exp(s * h)) for s in (-2, -1, 1, 2)]
    slope = (8 * (f[2] - f[1]) - (f[3] - f[0])) / (12 * h)
    # a 4th-order difference: truncation ~h^4 = 1e-12, rounding ~eps/h = 2e-13 (absolute, df ~ 1)
    np.testing.assert_allclose(slope, law.df2_numeric(mid) - law.df1_numeric(mid), rtol=1e-8, atol=1e-11)


OFF_CATALOGUE = {
    "atom on a hard edge": lambda: fp.free_mul(fp.MarchenkoPastur(2), fp.Discrete([0, 1], [0.5, 0.5])),
    "arcsine on [0, 4]": lambda: fp.free_add(fp.Discrete([-1, 1]), fp.Discrete([-1, 1])).shifted(2),
    "three Wisharts": lambda: fp.free_mul(fp.free_mul(fp.MarchenkoPastur(4), fp.MarchenkoPastur(4)),
                                          fp.MarchenkoPastur(4)),
    "curveless product": lambda: fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20)),
}


@pytest.mark.parametrize("name", sorted(OFF_CATALOGUE))
def test_models_on_populations_off_the_catalogue_at_ridge_zero(name):
    """Every key of linear and random-feature models (P above and below the
    rank, N above and below P, anisotropic weights) on populations whose df
    were wrong or refused near 0 before this was built: finite (S = +oo
    only where a linear model interpolates, a genuine value), no negative
    error component, and the ridgeless limit approached by the ridges 1e-12
    and 1e-18 (a second route: values at positive ridges; next to a hard
    edge the gap falls like lam^(1/2) or lam^(1/3), so at least by 50x per
    1e6 in lam, down to rounding)."""
    law = OFF_CATALOGUE[name]()
    models = [fp.LinearRidge(law, samples=150, dimension=100, noise=0.1),
              fp.LinearRidge(law, samples=60, dimension=100, noise=0.1),
              fp.RandomFeatureRidge(law, widths=[40], samples=150, dimension=100, noise=0.1),
              fp.RandomFeatureRidge(law, widths=[140], samples=60, dimension=100, noise=0.1),
              fp.RandomFeatureRidge(law, widths=[80], samples=150, dimension=100, noise=0.1,
                                    feature_covariance=fp.PowerLaw(0.7, 80))]
    for m in models:
        out = m.evaluate(ridge=np.array([0.0, 1e-12, 1e-18]))
        for key, v in out.items():
            v = np.asarray(v)
            if key == "S":
                assert not np.any(np.isnan(v)) and np.all(v > 0), (m, key, v)
                continue
            assert np.all(np.isfinite(v)), (m, key, v)
            if key.startswith(("var", "bias", "E")):
                assert np.all(v >= -1e-12), (m, key, v)
        eg = np.asarray(out["Eg"])
        near, nearer = abs(eg[1] - eg[0]), abs(eg[2] - eg[0])
        assert near <= 1e-3 * eg[0] and nearer <= max(2e-2 * near, 1e-13 * eg[0]), (m, eg)


@pytest.mark.parametrize("law", [fp.WishartProduct([1, 1, 1]), fp.WishartProduct([1, 0.5], scale=2),
                                 fp.free_mul(fp.MarchenkoPastur(1), fp.Discrete([1, 2]))], ids=repr)
def test_hard_edge_without_an_atom_takes_the_certified_root(law):
    """No atom at 0, a density that diverges there (``g(-lam) ~ -lam^(-1/2)``
    or ``-lam^(-3/4)``): the root of the curve in ``[-1/lam, -1/(lam + R)]``,
    certified as the only one there, serves ``lam <= R/16``.  The g route
    (the curve's root followed from infinity) took 38 s at lam = 1e-40 and
    240 s at 1e-300.  Second route: that g route where it is quick
    (lam >= 1e-20), to 1e-14; below, the Puiseux leading term
    ``1 - df1 = c lam^p``, whose ratio must be constant across 200 decades."""
    lam = np.logspace(-1.5, -20, 9)
    zneg = -lam + 0j
    gv = law.stieltjes_numeric(zneg)
    dgv = law._dstieltjes_fallback(zneg, gv, times_z=True)
    for which in (1, 2):
        mask, vals = near_values(law, f"cdf{which}", lam)
        assert mask.all()
        ref = (-lam * gv if which == 1 else -2 * lam * gv - lam * dgv).real   # 1 - df [C6], dgv = z g'
        np.testing.assert_allclose(vals, ref, rtol=1e-13)
    tiny = np.array([1e-100, 1e-200, 1e-300])
    c = law.df_complement_numeric(tiny, 1)
    p = np.log(c[2] / c[1]) / np.log(tiny[2] / tiny[1])
    assert p in (pytest.approx(0.25, abs=1e-12), pytest.approx(0.5, abs=1e-12))
    np.testing.assert_allclose(c / tiny**p, c[0] / tiny[0] ** p, rtol=1e-12)


def _silverstein(q, atoms, lam, dps=420):
    """``g(-lam)`` and ``z g'(z)`` at ``z = -lam`` of ``MP(q) x H`` (``H =
    sum_k w_k delta_{x_k}``) from the Silverstein equation of the companion
    ``n x n`` Gram, ``lam = 1/m - q sum_k w_k x_k/(1 + x_k m)``, in mpmath: the
    physical ``m`` is the first root up from ``m = 0+`` (where ``lam(m) ~
    1/m``), and ``g = -(m + (q - 1)/lam)/q`` (its ``q - 1`` cancels 300
    digits at ``lam = 1e-300`` for ``q < 1``, hence the precision).  No
    S-transform, no subordination."""
    import mpmath
    import sympy as sp

    with mpmath.workdps(dps):
        xw = [(mpmath.mpf(str(sp.N(x, dps))), mpmath.mpf(str(sp.N(w, dps)))) for x, w in atoms]
        lam, q = mpmath.mpf(lam), mpmath.mpf(q)

        def lam_of(m):
            return 1 / m - q * mpmath.fsum(w * x / (1 + x * m) for x, w in xw)

        hi = mpmath.mpf("1e-3")
        while lam_of(hi) > lam:
            hi *= 10
        m = mpmath.findroot(lambda v: lam_of(v) - lam, (hi / 10, hi), solver="anderson")
        slope = -1 / m**2 + q * mpmath.fsum(w * x**2 / (1 + x * m) ** 2 for x, w in xw)   # d lam/d m
        g = -(m + (q - 1) / lam) / q
        zdg = -(lam / slope - (q - 1) / lam) / q                                       # lam d g(-lam)/d lam
        return complex(g), complex(zdg)


@pytest.mark.parametrize("q", [1, 2, 0.5], ids=["square", "atom at 0", "full rank"])
def test_curveless_product_stieltjes_next_to_zero(q):
    """``g`` and ``z g'`` of ``MP(q) x PowerLaw(1.5, 30)`` (no curve) on the
    negative axis down to ``-1e-300``, against the Silverstein equation in
    mpmath.  Subordination lost the digits there: ``g`` 2e-8 off at ``z =
    -1e-20`` for ``q = 1`` (``g ~ -8.28/sqrt(lam)``), 6e-3 at ``-1e-30``, then
    ConvergenceError; the S route of ``1 - df1`` keeps them."""
    pop = fp.PowerLaw(1.5, 30)
    law = fp.free_mul(fp.MarchenkoPastur(q), pop)
    assert law.curve() is None
    lam = np.array([1e-2, 1e-6, 1e-9, 1e-12, 1e-20, 1e-30, 1e-40, 1e-100, 1e-300])
    z = -lam + 0j
    g = law.stieltjes_numeric(z)
    ref = np.array([_silverstein(q, pop.atoms(), v) for v in lam])
    np.testing.assert_allclose(g, ref[:, 0], rtol=1e-13, atol=0)
    zdg = law._dstieltjes_fallback(z[lam >= 1e-12], g[lam >= 1e-12], times_z=True)
    if q < 1:
        # g is analytic at 0 and z g' = lam int dmu/(x + lam)^2 ~ 5e-8 lam: 2 (1 - df1) - (1 - df2) cancels
        # to it, and subordination's slope resolves it only to eps |g| (1e-15 |g| here)
        np.testing.assert_allclose(zdg, ref[lam >= 1e-12, 1], rtol=1e-11, atol=1e-15 * abs(g[0]))
        # operand ridges of order lam: 1 - df1 = -lam g at 1e-305 (it stopped at 1e-300 relative: 5e4 times
        # too large), refused where they leave the normal floats; df1 = 1 - c there is exact
        c_ref = -1e-305 * _silverstein(q, pop.atoms(), 1e-305)[0].real
        np.testing.assert_allclose(law.df_complement_numeric(1e-305, 1), c_ref, rtol=1e-13)
        with pytest.raises(NumericalError, match="normal float64"):
            law.df_complement_numeric(1e-310, 1)
        assert law.df1_numeric(1e-310) == 1.0
        # further down it is refused by its bounds lam g^2 <= z g' <= |g|, not returned (0, then 6e17)
        for v in (1e-40, 1e-250):
            with pytest.raises(NumericalError):
                law._dstieltjes_fallback(np.array([-v + 0j]), law.stieltjes_numeric(np.array([-v])), times_z=True)
    else:
        np.testing.assert_allclose(law._dstieltjes_fallback(z, g, times_z=True), ref[:, 1], rtol=1e-11, atol=0)
    if q == 1:
        # g' ~ 4.1/lam^1.5 is beyond float64 at 1e-300: a typed error, not inf
        with pytest.raises(NumericalError, match="times_z"):
            law._dstieltjes_fallback(z[-1:], g[-1:])


def test_accelerated_upper_bracket_takes_log_log_rounds():
    """The S route's upper bracket for an operand ridge hundreds of decades
    above its start (``~ sqrt(lam)`` with ``MP(1)``): squared factors take a
    handful of evaluations where doubling took ~450 (each a nested solve),
    and the bisection closes the looser bracket to the same root."""
    from freeprob.numeric.solve import expand_upper, invert_increasing

    calls = []

    def f(k, idx):
        calls.append(k.size)
        return np.log(k), 1 / k

    target = np.array([-690.0, -345.0, 0.0, 300.0, 690.0])
    start = np.full(target.size, 1e-300)
    hi = expand_upper(f, target, start, accelerate=True)
    assert len(calls) <= 13 and np.all(np.log(hi) >= target) and np.all(np.isfinite(hi))
    root = invert_increasing(f, target, np.full(target.size, 1e-305), hi)
    np.testing.assert_allclose(np.log(root), target, rtol=0, atol=1e-12)
    calls.clear()
    expand_upper(f, target, start)
    assert len(calls) > 400


def test_nested_product_with_a_hard_edge_over_the_ridge_axis():
    """``MP(1) x MP(1/2) x PowerLaw(1.5, 30)`` nested three ways, each a
    different S route (an inner hard edge with operand ridges ``~ sqrt(lam)``,
    an inner full-rank product, an inner product with a curve): ``1 - df1``
    and ``1 - df2`` agree to 1e-12 across 300 decades (free multiplicative
    convolution is associative), ``1 - df1 ~ lam^(1/2)`` below the bulk,
    and ``E_g`` of a linear model is finite there.  The first nesting took
    28 s for 16 ridges (450 doublings of its upper bracket), 5 s now."""
    mp1, mph, pl = fp.MarchenkoPastur(1), fp.MarchenkoPastur(0.5), fp.PowerLaw(1.5, 30)
    laws = [fp.free_mul(fp.free_mul(mp1, pl), mph), fp.free_mul(mp1, fp.free_mul(mph, pl)),
            fp.free_mul(fp.free_mul(mp1, mph), pl)]
    lam = np.logspace(-300, 2, 31)
    ref = [laws[0].df_complement_numeric(lam, k) for k in (1, 2)]
    for law in laws[1:]:
        for k in (1, 2):
            np.testing.assert_allclose(law.df_complement_numeric(lam, k), ref[k - 1], rtol=1e-12)
    slope = np.diff(np.log(ref[0])) / np.diff(np.log(lam))
    np.testing.assert_allclose(slope[:20], 0.5, rtol=1e-8)
    eg = fp.LinearRidge(laws[0], samples=200, dimension=100, noise=0.1).evaluate(ridge=lam[::2])["Eg"]
    assert np.all(np.isfinite(eg))


def test_cdf_next_to_a_hard_edge_at_zero():
    """``cdf_numeric`` (documented to about 1e-6) where the density is
    ``~ x^(-1/2)`` at 0: ``MP(1)`` against mpmath's quadrature of its closed
    density, and ``MP(1) x PowerLaw(1.5, 30)`` against ``F ~ 2 a sqrt(x)/pi``
    with ``a^2 = <1/x>`` of the power law (the Silverstein equation as ``lam
    -> 0``: ``g(-lam) ~ -a/sqrt(lam)``).  One quadrature piece over ``[0,
    b]`` had its first node at ``1e-8 b`` and interpolated ``F ~ x`` below:
    2.7e-4 short at ``x = 1e-8``."""
    import mpmath

    xs = [1e-14, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0, 3.9]
    with mpmath.workdps(30):
        ref = [float(mpmath.quad(lambda t: mpmath.sqrt((4 - t) * t) / (2 * mpmath.pi * t), [0, x])) for x in xs]
    np.testing.assert_allclose(fp.MarchenkoPastur(1).cdf_numeric(xs), ref, rtol=0, atol=1e-6)
    pop = fp.PowerLaw(1.5, 30)
    a = np.sqrt(sum(float(w) / float(x) for x, w in pop.atoms()))
    law = fp.free_mul(fp.MarchenkoPastur(1), pop)
    small = np.array(xs[:4])
    np.testing.assert_allclose(law.cdf_numeric(small), 2 * a * np.sqrt(small) / np.pi, rtol=0, atol=1e-6)
    # and its density a/(pi sqrt(x)), where subordination's floor of 1e-24 (1 + R) under the axis height
    # had blurred it away (0.34 of itself at 1e-24, 3e-4 at 1e-30)
    tiny = np.array([1e-24, 1e-30, 1e-60, 1e-280])
    np.testing.assert_allclose(law.density_numeric(tiny) * np.pi * np.sqrt(tiny) / a, 1, rtol=1e-9)


@pytest.mark.parametrize("s, xs", [(2, [1e-24, 1e-30, 1e-60, 1e-100]), (3, [1e-24, 1e-60])])
def test_fuss_catalan_density_next_to_zero(s, xs):
    """The product of ``s`` square Wisharts has ``rho(x) ~ sin(pi/(s + 1))/pi
    x^(-s/(s + 1))`` at 0 (the Fuss-Catalan law), with a relative correction
    of order ``x^(1/(s + 1))``, under 1e-8 here.  Subordination is solved at
    a height of at least ``1e-24 (1 + R)``, no longer small against these
    ``x``: the density came out 20% high at 1e-22, 94% low at 1e-24 and 0
    below; the curve's only root below the axis (s = 2: one conjugate pair)
    or the root continued from ``-x`` along ``|z| = x`` (s = 3: two pairs)
    holds the constant."""
    law = fp.WishartProduct([1] * s)
    x = np.array(xs)
    c = np.sin(np.pi / (s + 1)) / np.pi
    np.testing.assert_allclose(law.density_numeric(x) * x ** (s / (s + 1)), c, rtol=1e-6)
    if s == 2:
        # and F ~ (s + 1) c x^(1/(s + 1)) from cdf_numeric, whose decades below the bulk end in that power law
        small = np.array([1e-40, 1e-20, 1e-16])
        np.testing.assert_allclose(law.cdf_numeric(small), 3 * c * small ** (1 / 3), rtol=0, atol=1e-6)


def test_random_features_ridgeless_on_a_curveless_hard_edge():
    """Random features wider than the data (``N = 300 > D = 100``) on ``MP(1)
    x PowerLaw(1.5, 30)`` with ``P = 400``: ridgeless, the linear model on
    ``D`` directions, ``E_g = sigma^2 D/(P - D)`` (a linear target is
    learned exactly), the same at ridges 1e-200 and 1e-100 (the correction
    is of order ``sqrt(kappa)``, 1e-5 at ridge 1e-12).  The mpmath limit's inner Newton (``1 - df1`` of ``MP(1)`` at an
    operand ridge of 5e-24, 12 digits fewer than the step test asked for)
    had raised ConvergenceError."""
    pop = fp.free_mul(fp.MarchenkoPastur(1), fp.PowerLaw(1.5, 30))
    m = fp.RandomFeatureRidge(pop, widths=300, samples=400, dimension=100, noise=0.1)
    eg = m.evaluate(ridge=np.array([0.0, 1e-200, 1e-100]))["Eg"]
    np.testing.assert_allclose(eg, 0.1 * 100 / 300, rtol=1e-8)


def test_density_where_three_roots_meet_at_a_hard_edge_with_an_atom():
    """``MP(2) x Discrete([0, 1, 2], [1/2, 3/10, 1/5])``: both factors put
    mass 1/2 at 0, so the product's atom at 0 has mass 1/2 and its curve, in
    ``u = z g``, is ``10 (2u - 1)^3 = O(z)`` there: the roots ``(1/2 +- i
    sqrt(x/5))/x`` and ``(1/2 + 5x/16)/x`` lie ``sqrt x`` of ``|g|`` apart,
    and ``rho(x) = 1/(pi sqrt(5x))`` with a relative correction of order
    ``sqrt x``.  Below ``x = 1e-16`` the continuation from infinity stalled
    (ConvergenceError after 45 s; its ``g'`` by differences in ``g`` was 5e-6
    off where the roots are 5e-7 apart), then the curve's coefficients at 40
    digits and the final step onto the axis took the real root (density 0).
    The density against the root below the axis from mpmath's ``polyroots``
    (in ``u``) at ``80 + 2 log10(1/x)`` digits, and against the leading law."""
    import mpmath

    law = fp.free_mul(fp.MarchenkoPastur(2), fp.Discrete([0, 1, 2], [0.5, 0.3, 0.2]))
    xs = [1e-20, 1e-40, 1e-100]
    got = law.density_numeric(np.array(xs))
    for x, rho in zip(xs, got):
        with mpmath.workdps(80 + 2 * int(-np.log10(x))):
            z = mpmath.mpf(x)
            # in u = z g (coefficients of order 1)
            roots = mpmath.polyroots([80, -60 * z - 120, 10 * z**2 + 76 * z + 60, -10 * z**2 - 23 * z - 10],
                                     maxsteps=400, extraprec=2000)
            below = [r for r in roots if mpmath.im(r) < -mpmath.mpf(10) ** -60]
            assert len(below) == 1
            ref = float(-mpmath.im(below[0] / z) / mpmath.pi)
        assert rho == pytest.approx(ref, rel=1e-12)
        assert rho * np.pi * np.sqrt(5 * x) == pytest.approx(1, rel=1e-9)
    # the curve is the law's own (not retyped wrongly above)
    import sympy as sp
    g, z = sp.symbols("g z")
    assert sp.expand(law.algebraic_equation(g, z)
                     - (80 * g**3 * z**3 - 60 * g**2 * z**3 - 120 * g**2 * z**2 + 10 * g * z**3
                        + 76 * g * z**2 + 60 * g * z - 10 * z**2 - 23 * z - 10)) == 0
