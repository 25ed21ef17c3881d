"""Free additive and multiplicative convolution (issue: free convolution).

Independent routes: closed forms and known tables (Fuss-Catalan, arcsine,
semicircle), the algebraic route (resultants, factor selection) against
numeric subordination, both exact-algebra backends against each other, and
Monte Carlo below (tests/test_montecarlo_convolution.py).
"""

import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.errors import ParameterError

g, z = sp.symbols("g z")


def test_semicircle_plus_semicircle():
    law = freeprob.free_add(freeprob.Semicircle(1), freeprob.Semicircle(2))
    assert law == freeprob.Semicircle(3)
    # and through the generic machinery: R-transforms add, density matches
    generic = freeprob.laws.FreeSum(freeprob.Semicircle(1), freeprob.Semicircle(2))
    assert sp.simplify(generic.r_transform(C.w) - 3 * C.w) == 0
    x = np.linspace(-3.4, 3.4, 41)
    # subordination + curve polish vs the closed semicircle density: 1e-9
    assert np.allclose(generic.density_numeric(x), freeprob.Semicircle(3).density_numeric(x), atol=1e-9, rtol=0)


def test_fuss_catalan_moments_of_mp_times_mp():
    law = freeprob.free_mul(freeprob.MarchenkoPastur(1), freeprob.MarchenkoPastur(1))
    assert law.moments(5) == [1, 3, 12, 55, 273]
    # the generic product route (S-series) gives the same
    assert freeprob.laws.FreeProduct(freeprob.MarchenkoPastur(1), freeprob.MarchenkoPastur(1)).moments(5) \
        == [1, 3, 12, 55, 273]
    # Fuss-Catalan numbers binom(3n, n)/(2n + 1)
    assert [sp.binomial(3 * n, n) / (2 * n + 1) for n in range(1, 6)] == [1, 3, 12, 55, 273]


def test_arcsine_from_two_atoms():
    pm = freeprob.Discrete([-1, 1])
    law = freeprob.free_add(pm, pm)
    assert sp.factor(law.algebraic_equation(g, z) - (g**2 * z**2 - 4 * g**2 - 1)) == 0
    x = np.linspace(-1.99, 1.99, 101)
    # arcsine density 1/(pi sqrt(4 - x^2)); subordination + exact polish: 1e-9
    assert np.allclose(law.density_numeric(x), 1 / (np.pi * np.sqrt(4 - x**2)), rtol=1e-9, atol=0)
    assert law.atoms() == []
    assert [(float(i.start), float(i.end)) for i in [law.support()]] == [(-2.0, 2.0)]


def test_semicircle_squared_is_marchenko_pastur_one():
    # x^2 with x ~ SC(1): moments m_k(x^2) = m_2k(x) = Catalan(k) = m_k(MP(1))
    sc = freeprob.Semicircle().moments(16)
    assert [sc[2 * k - 1] for k in range(1, 9)] == freeprob.MarchenkoPastur(1).moments(8)


def test_wishart_product_matches_generic_product():
    q1, q2 = sp.Rational(1, 2), sp.Rational(3, 2)
    wp = freeprob.WishartProduct([q1, q2])
    generic = freeprob.laws.FreeProduct(freeprob.MarchenkoPastur(q1), freeprob.MarchenkoPastur(q2))
    assert wp.moments(6) == generic.moments(6)
    assert freeprob.free_mul(freeprob.MarchenkoPastur(q1), freeprob.MarchenkoPastur(q2)) == wp
    # the paper's curve z t = (1 + t) prod (1 + c t), t = z g - 1  [R2d]
    t = z * g - 1
    assert sp.expand(wp.algebraic_equation(g, z) - (g * (1 + q1 * t) * (1 + q2 * t) - t)) == 0
    # rank: the atom at 0 has mass max(1 - 1/c)
    assert abs(float(freeprob.WishartProduct([2, 3]).atoms()[0][1]) - 2 / 3) < 1e-8
    assert freeprob.WishartProduct([1, 1]).atoms() == []


def test_s_and_r_calculus_with_symbols():
    q, s = sp.Symbol("q", positive=True), sp.Symbol("s", positive=True)
    prod = freeprob.laws.FreeProduct(freeprob.MarchenkoPastur(q), freeprob.Identity(s))
    assert sp.simplify(prod.s_transform(C.df, "df") - 1 / (s * (1 - q * C.df))) == 0
    summ = freeprob.laws.FreeSum(freeprob.MarchenkoPastur(q), freeprob.Semicircle())
    assert sp.simplify(summ.r_transform(C.w) - (1 / (1 - q * C.w) + C.w)) == 0
    # its curve is found with symbolic q and admits the moment expansion
    assert summ.moments(4, method="curve") == summ.moments(4)


@pytest.mark.parametrize("a,b,op", [
    (freeprob.Discrete([-3, 3]), freeprob.Semicircle(), "add"),
    (freeprob.Discrete([1, 2, 4], [sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 4)]), freeprob.Semicircle(sp.Rational(1, 4)), "add"),
    (freeprob.Discrete([1, 2]), freeprob.MarchenkoPastur(sp.Rational(1, 2)), "mul"),
    (freeprob.Discrete([1, 3, 5]), freeprob.MarchenkoPastur(sp.Rational(3, 10)), "mul"),
])
def test_subordination_agrees_with_algebraic_route(a, b, op):
    law = freeprob.free_add(a, b) if op == "add" else freeprob.free_mul(a, b)
    cv = law.curve()
    assert cv is not None
    lo, hi = law._ac_intervals()[0][0], law._ac_intervals()[-1][1]
    x = np.linspace(lo, hi, 201)[1:-1]
    dens = law.density_numeric(x)
    # independent route: subordination alone (warm-started ladder of heights
    # down to x + 1e-9 i; the O(1e-9) height is the bias allowed)
    from freeprob.laws._subordination import ladder

    sub = np.maximum(0, -ladder(law._subordinate_from, x, 1e-9, 1e-3 * (1 + law._numeric_radius())).imag / np.pi)
    assert np.max(np.abs(dens - sub)) < 1e-8
    # the algebraic values are roots of the exact curve
    zs = np.array([-1.0, 0.5 + 1j, hi + 1.0])
    gv = law.stieltjes_numeric(zs)
    assert np.all(np.abs(cv.residual(gv, zs)) <= 1e-10 * np.abs(cv.coeffs_at(zs)).sum(axis=0))
    # total mass of the density and the atoms is 1 (trapezoid on a fine grid)
    xx = np.linspace(lo, hi, 20001)
    mass = np.trapezoid(law.density_numeric(xx), xx) + sum(float(m) for _, m in law.atoms())
    assert abs(mass - 1) < 2e-3  # square-root edges: trapezoid error ~ h^1.5


def test_flint_and_sympy_backends_agree():
    pytest.importorskip("flint")
    from freeprob.laws._algebra import eliminate

    a = freeprob.Discrete([1, 2, 4])
    b = freeprob.Discrete([sp.Rational(1, 2), 3])
    w, r, R = sp.symbols("w r R")
    qa = freeprob.laws._relations.r_equation_from_curve(a.algebraic_equation(g, z), g, z, r, w)
    qb = sp.expand(freeprob.laws._relations.r_equation_from_curve(b.algebraic_equation(g, z), g, z, r, w).subs(r, R - r))
    f1 = eliminate(qa, qb, r, R, w, z * g - 1, g, g, (), (g, z), prefer="flint")
    f2 = eliminate(qa, qb, r, R, w, z * g - 1, g, g, (), (g, z), prefer="sympy")
    norm = lambda fs: sorted(sp.srepr(sp.Poly.from_dict(f, g, z).monic().as_expr()) for f in fs)
    assert norm(f1) == norm(f2)


def test_non_algebraic_inputs_use_subordination():
    sigma = freeprob.PowerLaw(1.5, 500)
    law = freeprob.free_mul(sigma, freeprob.MarchenkoPastur(sp.Rational(1, 2)))
    assert law.curve() is None
    lam = np.logspace(-4, 1, 20)
    d = law.df1_numeric(lam)
    # S-transform calculus [R3]: df1 of Sigma W at lam equals df1 of Sigma at
    # kappa, with kappa = lam / (1 - q df1): check the fixed point directly
    kappa = lam / (1 - 0.5 * d)
    assert np.allclose(sigma.df1_numeric(kappa), d, rtol=1e-10, atol=0)
    assert np.all(np.diff(d) < 0) and np.all((d > 0) & (d < 1))


def test_bad_input():
    with pytest.raises(ParameterError, match="b ="):
        freeprob.free_mul(freeprob.MarchenkoPastur(2), freeprob.Semicircle())
    with pytest.raises(ParameterError, match="ratios"):
        freeprob.WishartProduct([])
    with pytest.raises(ParameterError, match=r"ratios\[1\]"):
        freeprob.WishartProduct([1, -2])
    with pytest.raises(ParameterError, match="a ="):
        freeprob.free_add("semicircle", freeprob.Semicircle())


def test_affine_image_of_a_free_sum_without_closed_form():
    """``-2 (Discrete([0, 1], [7/10, 3/10]) + Semicircle(1/10)) + 3`` has no
    closed form (nor has the sum): its Stieltjes transform, density, df and
    cdf come from the sum's numeric routes at ``(z - 3)/(-2)`` (they raised
    "no numeric Stieltjes route" before).  Second route: eigenvalues of ``-2
    (A + Q B Q^T) + 3`` at n = 3000, Haar Q; the cdf within the
    Kolmogorov-Smirnov bound, the sample mean of ``x/(x + lam)`` within 5
    standard errors plus a 1/n finite-size allowance."""
    from freeprob.laws._affine import affine
    from freeprob.montecarlo.sampling import free_sum_eigenvalues

    half = sp.Rational
    base = freeprob.free_add(freeprob.Discrete([0, 1], [half(7, 10), half(3, 10)]), freeprob.Semicircle(half(1, 10)))
    law = affine(base, -2, 3)
    z = np.array([1 + 1j, 0.5 - 0.2j, -3 + 0j, 10j])
    np.testing.assert_allclose(law.stieltjes_numeric(z), base.stieltjes_numeric((z - 3) / -2) / -2, rtol=1e-14)
    n = 3000
    ev = -2 * free_sum_eigenvalues(base.a, base.b, n, np.random.default_rng(5)) + 3
    xs = np.array([0.5, 1.0, 1.5, 2.5, 3.0, 3.8])
    emp = np.searchsorted(np.sort(ev), xs) / n
    # the 1% Kolmogorov-Smirnov bound, plus 1e-3 for cdf_numeric's own quadrature (accurate to ~1e-6)
    # and the O(1/n) bias of one Haar draw's eigenvalues (3e-4 at n = 3000)
    assert np.max(np.abs(law.cdf_numeric(xs) - emp)) < 1.63 / np.sqrt(n) + 1e-3
    lam = np.array([1e-300, 0.01, 0.3, 3.0])
    d1 = law.df1_numeric(lam)
    for lv, dv in zip(lam, d1):
        r = ev / (ev + lv)
        assert abs(dv - r.mean()) < 5 * r.std() / np.sqrt(n) + 1.0 / n, (lv, dv, r.mean())
