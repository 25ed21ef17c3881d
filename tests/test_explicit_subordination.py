"""The explicit subordination of a free product whose factors have a
polynomial ``1/S`` but one (issue: right answers off the catalogue, nested
curveless products).

Independent route: the Belinschi-Bercovici map of the same two operands
(``mul_plan`` switched off), whose fixed point is unique in the domain; and
for the nested product, the generic map of the nested operands, which solves
the inner product's own subordination at every step.
"""

import numpy as np
import pytest

import freeprob as fp
import freeprob.laws._subordination as S
from freeprob.laws import Discrete, MarchenkoPastur, PowerLaw, WishartProduct, free_mul

RNG_ATOMS = np.random.default_rng(7).lognormal(0.0, 0.8, 12)

CASES = {
    "MP(0.5) x power law": free_mul(MarchenkoPastur(0.5), PowerLaw(1.2, 30)),
    "MP(2) x power law": free_mul(MarchenkoPastur(2), PowerLaw(1.5, 20)),
    "float atoms with 0 x MP(0.7)": free_mul(Discrete([0.0, 1.3, 2.7], [0.2, 0.5, 0.3]), MarchenkoPastur(0.7)),
    "MP(0.5) x (MP(0.3) x power law)": free_mul(MarchenkoPastur(0.5), free_mul(MarchenkoPastur(0.3),
                                                                              PowerLaw(1.2, 30))),
    # two factors with q > 1: the explicit equation has a second root on the negative axis
    "MP(2) x (MP(3) x power law)": free_mul(MarchenkoPastur(2), free_mul(MarchenkoPastur(3), PowerLaw(1.5, 20))),
    "Wishart(2, 0.5, scale 2) x log-normal atoms": free_mul(WishartProduct([2, 0.5], scale=2),
                                                            Discrete(list(RNG_ATOMS))),
}

Z = np.array([-30.0, -3.0, -0.5, -1e-3, -1e-7, 0.3 + 1e-3j, 1 + 0.5j, 2 - 1e-6j, 5 + 2j, 0.01 + 1e-4j,
              40 + 1j, 0.2 + 1e-9j])


def _generic(monkeypatch, fn):
    fp.clear_caches()
    with monkeypatch.context() as m:
        m.setattr(S, "_mul_plan_cached", lambda law: None)
        out = fn()
    fp.clear_caches()
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_explicit_subordination_equals_the_belinschi_bercovici_map(name, monkeypatch):
    law = CASES[name]
    assert S.mul_plan(law) is not None
    ga, ha, dha, hb, dhb, tail = S.operand_funs(law)
    explicit = S.free_multiplicative(ga, ha, dha, hb, dhb, Z, tail=tail, return_omega=True)
    generic = S.free_multiplicative(ga, ha, dha, hb, dhb, Z, return_omega=True)
    # the same fixed point in the same variable (omega of the subordinated factor)
    np.testing.assert_allclose(explicit[1], generic[1], rtol=1e-10)
    np.testing.assert_allclose(explicit[0], generic[0], rtol=1e-10)
    # and through the law's public numerics against the plain operands' map
    lam = np.array([1e-6, 1e-3, 0.1, 1.0, 30.0])
    zs = np.array([1 + 0.5j, 0.3 + 1e-3j, 5 + 2j])
    new = (law.df1_numeric(lam), law.df2_numeric(lam), law.stieltjes_numeric(zs))
    old = _generic(monkeypatch, lambda: (law.df1_numeric(lam), law.df2_numeric(lam), law.stieltjes_numeric(zs)))
    for a, b in zip(new, old):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-15)
    # the slopes by implicit differentiation of either equation
    om = explicit[1][Z.imag != 0]
    zz = Z[Z.imag != 0]
    np.testing.assert_allclose(S.subordination_slope("mul", ga, ha, dha, hb, dhb, zz, om, tail=tail),
                               S.subordination_slope("mul", ga, ha, dha, hb, dhb, zz, om), rtol=1e-8)


def test_the_plan_solves_the_one_factor_without_a_polynomial_inverse_s():
    nested = CASES["MP(0.5) x (MP(0.3) x power law)"]
    a, b, _ = S.mul_plan(nested)
    assert a == PowerLaw(1.2, 30)
    assert b.moments(2) == free_mul(MarchenkoPastur(0.5), MarchenkoPastur(0.3)).moments(2)
    a, b, tail = S.mul_plan(CASES["Wishart(2, 0.5, scale 2) x log-normal atoms"])
    assert a == Discrete(list(RNG_ATOMS))
    # P(eta) = 1/S(eta/(1 - eta)) [C9]: S = 1/(2 (1 + 2t)(1 + t/2)); P(0) = m1 = 2
    eta = np.array([0.0, 0.25 + 0.1j])
    t = eta / (1 - eta)
    np.testing.assert_allclose(tail(eta)[0], 2 * (1 + 2 * t) * (1 + t / 2), rtol=1e-14)
    # no plan: every factor explicit (the generic map and the curve), or two without
    assert S.mul_plan(free_mul(MarchenkoPastur(2), MarchenkoPastur(3))) is None
    assert S.mul_plan(free_mul(Discrete([1.0, 2.0]), free_mul(Discrete([1.5, 3.0]), MarchenkoPastur(2)))) is None


def test_gradient_flow_on_a_nested_curveless_product():
    """The model the issue timed (38 s through the nested map, 8-14 s now):
    second route, the population replaced by the eigenvalues of a Haar draw
    of the nested product at n = 3000 (inner product first, 100 copies of
    each atom); the learning curves differ by O(1/n): 1.9/n to 7.9/n over
    seeds 0-5 for the worst key, allowance 16/n."""
    from freeprob.montecarlo.sampling import free_product_eigenvalues

    law = CASES["MP(0.5) x (MP(0.3) x power law)"]
    model = fp.LinearRidge(law, samples=150, dimension=200, estimator=fp.GradientFlow(5))
    times = np.array([1.0, 5.0, 100.0])
    out = model.evaluate(time=times)
    n, rng = 3000, np.random.default_rng(3)
    inner = free_product_eigenvalues(MarchenkoPastur(0.3), PowerLaw(1.2, 30), n, rng)
    ev = free_product_eigenvalues(MarchenkoPastur(0.5), Discrete(np.sort(inner)), n, rng)
    ref = model.replace(population=Discrete(np.sort(ev))).evaluate(time=times)
    for key in ("Eg", "bias2", "var_X", "df1", "Etr"):
        np.testing.assert_allclose(out[key], ref[key], rtol=16 / n, err_msg=key)


def test_df2_of_a_product_whose_curve_is_too_high_for_float64():
    """The curve of a Wishart product times 12 log-normal atoms has degree 25
    in g: its float64 slope ``-P_z/P_g`` cancelled, and df2 came out -0.458
    at lam = 1e-6 and 0.358 at 1e-3 (rank 1/2).  Now g' comes from the
    implicit derivative of subordination there.  Independent route:
    ``df2 = df1 + lam df1'`` with ``df1'`` by a central difference of df1
    (step 1e-4 lam: truncation 1e-8 relative, rounding 1e-9)."""
    law = CASES["Wishart(2, 0.5, scale 2) x log-normal atoms"]
    assert law.curve().deg > 12
    lam = np.array([1e-6, 1e-3, 0.1, 1.0, 30.0])
    d1, d2 = law.df1_numeric(lam), law.df2_numeric(lam)
    h = 1e-4 * lam
    slope = (law.df1_numeric(lam + h) - law.df1_numeric(lam - h)) / (2 * h)
    np.testing.assert_allclose(d2, d1 + lam * slope, rtol=1e-7, atol=1e-12)
    assert np.all((0 <= d2) & (d2 <= d1) & (d1 <= 0.5))


def test_ridgeless_random_features_on_a_population_with_a_high_degree_curve():
    """The same population (rank 1/2 in D = 300) under N = 150 random
    features and P = 200 samples at ridge 0: the features span the signal's
    150 dimensions, so the model is least squares in 150 dimensions, whose
    noise variance is ``sigma^2 p/(n - p - 1)`` to ``O(1/n)`` and
    ``sigma^2 p/(n - p)`` in the proportional limit (0.3 at sigma^2 = 0.1),
    with no bias.  It came out E_g = 0.2587 while the slope took the
    degree-25 curve."""
    pop = CASES["Wishart(2, 0.5, scale 2) x log-normal atoms"]
    out = fp.RandomFeatureRidge(pop, widths=150, samples=200, ridge=0.0, noise=0.1, dimension=300).evaluate()
    assert float(out["bias2"]) == 0.0 and float(out["kappa2"]) == 0.0
    np.testing.assert_allclose(float(out["var_X_noise"]), 0.1 * 150 / 50, rtol=1e-12)
    np.testing.assert_allclose(float(out["Eg"]), 0.3, rtol=1e-12)


def test_df_next_to_a_density_that_diverges_at_zero():
    """``WishartProduct([1, 1, 1])`` (Fuss-Catalan, ``z g = 1 + z^3 g^4``) has
    ``g(-lam) ~ -lam^(-3/4)``: ``1 - df1 = lam^(1/4) (1 + O(lam^(1/4)))`` and
    ``1 - df2 = (5/4) lam^(1/4) (...)``.  At lam = 1e-200 the subordination
    overflowed into a nan that crashed the curve's continuation (ValueError),
    the continuation's finite-difference step was absolute (1e-20 at |z| =
    1e-30) and its last height 1e-32 (another point than -1e-200), and
    ``g' ~ 1e350`` overflowed in df2 (nan)."""
    law = WishartProduct([1, 1, 1])
    lam = np.array([1e-200])
    np.testing.assert_allclose(law.df_complement_numeric(lam, 1), lam**0.25, rtol=1e-14)
    np.testing.assert_allclose(law.df_complement_numeric(lam, 2), 1.25 * lam**0.25, rtol=1e-14)


@pytest.mark.parametrize("law", [free_mul(MarchenkoPastur(2), PowerLaw(1.5, 30)),
                                 free_mul(MarchenkoPastur(3), Discrete(list(RNG_ATOMS[:5])))], ids=repr)
def test_atom_at_zero_next_to_zero(law, monkeypatch):
    # the plan solves for the factor without an atom; its omega stays finite
    # as u = 1/z -> oo, and a tolerance relative to |u| accepted omega =
    # -47.78 for -46.96 at z = -1e-16 (z g = 0.4966 for 0.5).  Two routes:
    # the generic map with the atom in the first operand (omega ~ u), and
    # z g = m0 + O(z) with m0 = 1 - 1/q, the mass of the atom at 0
    z = -np.logspace(-8, -60, 14) + 0j
    ours = law.stieltjes_numeric(z) * z
    generic = _generic(monkeypatch, lambda: law.stieltjes_numeric(z) * z)
    fp.clear_caches()
    np.testing.assert_allclose(ours, generic, rtol=1e-11, atol=0)
    m0 = 1 - 1 / law.a.ratio
    assert np.all(np.abs(ours - float(m0)) <= 1e3 * np.abs(z) + 1e-15)


def test_float_weight_atom_at_zero_at_the_bottom_of_float64():
    # g ~ 0.3/z at z = -1e-160: the curve's leading coefficient underflowed
    # in numpy's companion matrix (LinAlgError); the operand's -1/omega^2
    # overflowed in the slope (nan); g' = -0.3/z^2 itself overflows float64
    law = free_mul(MarchenkoPastur(0.5), Discrete([0.0, 1.0], [0.3, 0.7]))
    z = np.array([-1e-160, -1e-230, -1e-300]) + 0j
    np.testing.assert_allclose(law.stieltjes_numeric(z) * z, 0.3, rtol=1e-13)
    np.testing.assert_allclose(S.slope_of(law, z, times_z=True) * z, -0.3, rtol=1e-12)
    np.testing.assert_allclose(S.slope_of(law, np.array([-1e-100 + 0j])) * 1e-200, -0.3, rtol=1e-12)
    with pytest.raises(fp.errors.NumericalError, match="times_z"):
        S.slope_of(law, z[:1])
