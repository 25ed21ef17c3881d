"""Right answers off the catalogue (issue 14): derived limits instead of
NaN/inf, typed errors at the numeric boundary, power laws of any size up to
the kernel limit.  Each value is checked against an independent route
(mpmath, the atom-by-atom sum, a limit, a closed form)."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

import freeprob as fp
from freeprob.errors import NumericalError, ParameterError, SupportError
from freeprob.numeric import powersum
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.spectrum import PowerLawSpectrum, SpectralMean


# ------------------------------------------------------------ the boundary
def test_non_finite_value_at_a_finite_point_raises_and_names_the_point():
    x = sp.Symbol("x")
    f = compile_expr((x - 1) / (x**2 - 1), (x,))
    with pytest.raises(NumericalError, match="x = np.float64\\(1.0\\)"):
        f(np.array([0.5, 1.0]))
    out = f(np.array([0.5, 1.0]), finite=False)      # for callers that apply derived limits
    assert np.isnan(out[1]) and out[0] == pytest.approx(1 / 1.5, rel=1e-15)


def test_ratio_powers_do_not_overflow():
    # kappa^2 x/(x + kappa)^2 = x (kappa/(x + kappa))^2 -> x at kappa = 1e300
    x, k = sp.symbols("x kappa", positive=True)
    f = compile_expr(k**2 * x / (x + k) ** 2, (x, k))
    assert float(f(2.0, 1e300)) == pytest.approx(2.0, rel=1e-15)


# ------------------------------------------------------------ derived limits
def test_square_noiseless_ridgeless_model_fits_exactly():
    # q = 1, lam = 0, sigma^2 = 0: X is square and invertible, E_g = 0 (was inf)
    m = fp.LinearRidge(fp.Identity(1), samples=100, ridge=0, dimension=100, noise=0)
    out = m.evaluate()
    assert float(out["Eg"]) == 0.0 and float(out["var_X_noise"]) == 0.0 and float(out["Etr"]) == 0.0
    assert float(out["S"]) == np.inf and float(out["gamma"]) == 1.0
    # the limit lam -> 0+ along the curve: E_g(lam) decreases to 0
    small = m.evaluate(ridge=np.array([1e-4, 1e-6, 1e-8]))["Eg"]
    assert np.all(np.diff(small) < 0) and small[-1] < 1e-3
    mp = m.evaluate(dps=20)
    assert mp["Eg"][()] == 0 and mp["S"][()] == np.inf


def test_interpolation_threshold_with_noise_diverges_exactly():
    m = fp.LinearRidge(fp.Identity(1), samples=100, ridge=0, dimension=100, noise=0.1)
    out = m.evaluate(samples=np.array([50, 100, 200]))
    # q = 2: sigma^2/(q - 1) + (1 - 1/q) [R9]; q = 1: +oo; q = 1/2: sigma^2 q/(1 - q)
    assert out["Eg"] == pytest.approx([0.1 / 1 + 0.5, np.inf, 0.1], rel=1e-13)
    assert out["Etr"] == pytest.approx([0.0, 0.0, 0.1 * 0.5], abs=1e-15)
    with pytest.raises(ParameterError):
        m.evaluate(dps="30")
    with pytest.raises(ParameterError):
        m.evaluate(dps=-5)


def test_singular_population_at_ridge_zero_has_the_rank_fraction():
    m = fp.LinearRidge(fp.Discrete([0.0, 1.0]), samples=4, ridge=0)
    out = m.evaluate()
    assert float(out["df1"]) == 0.5 and float(out["df2"]) == 0.5   # rank fraction, not NaN
    near = m.evaluate(ridge=1e-12)                                   # the limit lam -> 0+
    assert float(near["df1"]) == pytest.approx(0.5, rel=1e-9)
    big = fp.LinearRidge(fp.Discrete(np.r_[np.zeros(300), np.ones(300)]), samples=4, ridge=0).evaluate()
    assert float(big["S"]) == np.inf and float(big["Etr"]) == 0.0 and np.isfinite(big["Eg"])


@pytest.mark.parametrize("law", [fp.Discrete([1.0, 2.0]), fp.PowerLaw(1.5, 50)])
def test_huge_ridge_gives_the_null_predictor(law):
    # lam -> oo: w_hat -> 0, so E_g -> ||wbar||_Sigma^2 = tr Sigma (isotropic, ||wbar|| = 1)
    out = fp.LinearRidge(law, samples=4, ridge=1e300).evaluate()
    assert float(out["Eg"]) == pytest.approx(float(sp.N(law.moments(1)[0])), rel=1e-12)
    assert float(out["Etr"]) == pytest.approx(float(out["Eg"]), rel=1e-12)


# ------------------------------------------------------------ power laws of any size
@pytest.mark.parametrize("alpha,beta", [(1.5, 0), (3.0, 2.2), (1.5, 0.5)])
def test_euler_maclaurin_sums_equal_the_atom_by_atom_sums(alpha, beta):
    x, k = sp.Dummy("x"), sp.Symbol("kappa", positive=True)
    summands = [x / (x + k), k**2 * x / (x + k) ** 2, x**2 / (x + k) ** 2]
    spec = PowerLawSpectrum(alpha, powersum.ATOM_LIMIT + 1, beta)
    kappas = np.logspace(-8, 1, 40)
    em = powersum.PowerLawSums(summands, x, (k,), spec, "numpy", None).means([kappas], kappas.size, np.dtype(float))
    vals, w = spec.numeric_atoms()
    w = np.full(vals.size, 1 / vals.size) if w is None else w
    for s, got in zip(summands, em):
        f = sp.lambdify([x, k], s, "numpy")
        # the reference summed exactly rounded (fsum): a BLAS dot of 10^5
        # terms may itself be off by ~1e-14 depending on the CPU's kernel
        direct = np.array([math.fsum(w * f(vals, kv)) for kv in kappas])
        assert np.max(np.abs(got / direct - 1)) < 2e-14


@pytest.mark.parametrize("n", [10**9, sp.oo])
def test_large_and_infinite_power_laws_in_linear_ridge_match_mpmath(n):
    m = fp.LinearRidge(fp.PowerLaw(1.5, n), target=fp.SourceTarget(0.6), samples=100, noise=0.1)
    lams = np.array([1e-5, 1e-2, 0.0])
    fast = m.evaluate(ridge=lams)
    slow = m.evaluate(ridge=lams, dps=20)       # head + mpmath.sumem, Newton at 30 digits
    for key, v in fast.items():
        ref = np.array([float(s) for s in slow[key]])
        fin = np.isfinite(ref)
        assert np.array_equal(np.isfinite(v), fin), key
        assert np.allclose(v[fin], ref[fin], rtol=1e-12, atol=0), key


def test_kernel_limit_is_the_limit_of_growing_dimension():
    # kappa = lam + (kappa/P) sum_k eta_k/(eta_k + kappa) [C16]: E_g(n) -> E_g(oo)
    # with an O(n^-(alpha - 1)) correction
    def eg(n):
        return float(fp.LinearRidge(fp.PowerLaw(2, n), target=fp.SourceTarget(0.8), samples=50,
                                    ridge=1e-3, noise=0.0).evaluate()["Eg"])

    inf = eg(sp.oo)
    errs = [abs(eg(n) - inf) for n in (10**6, 10**9, 10**12)]
    assert errs[0] > errs[1] > errs[2] and errs[1] < 1e-6 * inf
    with pytest.raises(ParameterError, match="target"):
        fp.LinearRidge(fp.PowerLaw(2, sp.oo), samples=50)          # isotropic target: infinite norm
    with pytest.raises(ParameterError, match="r > 1/2"):
        fp.LinearRidge(fp.PowerLaw(2, sp.oo), target=fp.SourceTarget(0.25), samples=50)


# ------------------------------------------------------------ atoms, support, closed forms
def test_free_product_keeps_its_atom_at_zero_as_a_haar_sample_does(rng):
    law = fp.free_mul(fp.MarchenkoPastur(0.5), fp.Discrete([0, 1], [0.7, 0.3]))
    (loc, mass), = law.atoms()                                # Belinschi: max of the operands' masses at 0
    assert loc == 0 and float(mass) == pytest.approx(0.7, abs=1e-15)
    from freeprob.montecarlo.sampling import free_product_eigenvalues

    eig = free_product_eigenvalues(fp.MarchenkoPastur(0.5), fp.Discrete([0, 1], [0.7, 0.3]), 400, rng)
    assert np.mean(np.abs(eig) < 1e-9) == pytest.approx(0.7, abs=1 / 400)
    # the continuous part lies between the curve's edges (1 -+ sqrt(...)) of the
    # rational-weight law, and the cdf reaches 1 (atoms included)
    sup = law.support()
    assert sp.FiniteSet(0).is_subset(sup)
    ac = [s for s in sup.args if isinstance(s, sp.Interval)]
    assert len(ac) == 1 and float(ac[0].start) == pytest.approx(0.3754, abs=1e-4) \
        and float(ac[0].end) == pytest.approx(1.9246, abs=1e-4)
    assert float(law.cdf_numeric(10.0)) == pytest.approx(1.0, abs=1e-6)
    assert float(fp.free_mul(fp.MarchenkoPastur(0.5), fp.Discrete([0, 1])).cdf_numeric(10.0)) == \
        pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("law,atoms", [
    (fp.free_mul(fp.MarchenkoPastur(2), fp.Discrete([0, 1])), [(0, 0.5)]),
    (fp.WishartProduct([2, 3]), [(0, 2 / 3)]),
    (fp.free_add(fp.Discrete([0, 1], [sp.Rational(7, 10), sp.Rational(3, 10)]),
                 fp.Discrete([0, 5], [sp.Rational(6, 10), sp.Rational(4, 10)])), [(0, 0.3), (5, 0.1)]),
])
def test_atoms_from_the_operands_match_a_haar_sample(law, atoms, rng):
    got = [v for a, m in law.atoms() for v in (float(a), float(m))]
    assert got == pytest.approx([v for pair in atoms for v in pair], abs=1e-14)
    if all(not (a <= 0.0 <= b) for a, b in law._ac_intervals()):
        assert float(law.density_numeric(0.0)) == 0.0   # the atom does not leak into the density
    # the independent route: a Haar sample at n = 300, where an atom of mass m
    # is an eigenvalue of multiplicity m n exactly (dimension counting)
    from freeprob.montecarlo import sampling

    n = 300
    if isinstance(law, fp.WishartProduct):
        eig = sampling.wishart_product_eigenvalues([2, 3], n, rng)
    elif isinstance(law, fp.laws.FreeSum):
        eig = sampling.free_sum_eigenvalues(law.a, law.b, n, rng)
    else:
        eig = sampling.free_product_eigenvalues(law.a, law.b, n, rng)
    for loc, mass in atoms:
        assert np.sum(np.abs(eig - loc) < 1e-8) == pytest.approx(mass * n, abs=1.0)


def test_float_weights_give_the_support_of_the_rational_law():
    flt = fp.free_add(fp.Discrete([0, 1], [0.7, 0.3]), fp.Semicircle(1))
    exact = fp.free_add(fp.Discrete([0, 1], [sp.Rational(7, 10), sp.Rational(3, 10)]), fp.Semicircle(1))
    s1, s2 = flt.support(), exact.support()
    assert float(s1.start) == pytest.approx(float(s2.start), abs=1e-12) and float(s1.start) == pytest.approx(-1.835, abs=1e-3)
    assert complex(flt.stieltjes_numeric(-1.9)) == pytest.approx(complex(exact.stieltjes_numeric(-1.9)), rel=1e-12)


@pytest.mark.parametrize("law", [fp.MarchenkoPastur(0.5), fp.Discrete([0, 1], [0.7, 0.3]), fp.PowerLaw(1.5, 100),
                                 fp.free_add(fp.Discrete([0, 1], [0.7, 0.3]), fp.Semicircle(1))], ids=repr)
def test_numeric_transforms_keep_the_shape_of_their_points(law):
    # a scalar gives a 0-d array, a (2, 1) array a (2, 1) array, near and far points alike
    for method, pts in (("stieltjes_numeric", [[-1.9], [-1e40]]), ("df1_numeric", [[1.9], [1e40]]),
                        ("df2_numeric", [[1.9], [1e40]])):
        f = getattr(law, method)
        assert np.shape(f(pts[0][0])) == ()
        out = f(np.array(pts))
        assert out.shape == (2, 1)
        assert out[0, 0] == pytest.approx(complex(f(pts[0][0])), rel=1e-13)


def test_arcsine_law_from_its_degree_two_curve():
    law = fp.free_add(fp.Discrete([-1, 1]), fp.Discrete([-1, 1]))
    z, x = sp.symbols("z x")
    g = law.stieltjes(z)
    assert sp.simplify(g**2 * (z**2 - 4) - 1) == 0                 # on the curve
    dens = law.density(x)
    for v in (sp.Rational(-19, 10), 0, sp.Rational(1, 3), sp.Rational(3, 2)):
        assert sp.simplify(dens.subs(x, v) - 1 / (sp.pi * sp.sqrt(4 - v**2))) == 0
    assert dens.subs(x, 3) == 0
    # the branch against the continuation route, across the cut and on the negative axis
    pts = np.array([-3.0, -2.5 + 1e-3j, 1j, 0.5 + 0.5j, 1.999 + 1e-6j])
    ours = compile_expr(g, (z,), dtype=complex)(pts.astype(complex))
    ref = law.stieltjes_numeric(pts, method="continuation")
    assert np.allclose(ours, ref.astype(complex), rtol=1e-10, atol=0)


# ------------------------------------------------------------ refusals
@pytest.mark.parametrize("make,name", [
    (lambda: fp.Discrete([1, 2], weights=1), "weights"),
    (lambda: fp.Discrete([1, 2], [sp.Symbol("p"), sp.Symbol("p")]), "weights"),
    (lambda: fp.Discrete([1, 2], [sp.Symbol("p"), 1 - sp.Symbol("p")]).subs(p=2), "weights"),
    (lambda: fp.LinearRidge(fp.Discrete([-1, 1]), samples=10, ridge=0.1), "population"),
    (lambda: fp.LinearRidge(fp.Semicircle(1, 0), dimension=10), "population"),
    (lambda: fp.free_mul(fp.Semicircle(1, 0), fp.MarchenkoPastur(0.5)), "a"),
    (lambda: fp.free_mul(fp.MarchenkoPastur(2), fp.Semicircle(sp.Symbol("v"))), "b"),
    (lambda: fp.LinearRidge(fp.Identity(1), samples=4, dimension=10).evaluate(ridge=1j), "ridge"),
    (lambda: fp.LinearRidge(fp.Identity(1), samples=4, dimension=10).evaluate(ridge=[1, 2, 3], samples=[1, 2]),
     "ridge and samples"),
    (lambda: fp.MarchenkoPastur(0.5).density_numeric(np.nan), "x"),
    (lambda: fp.MarchenkoPastur(0.5).cdf_numeric(np.nan), "x"),
    (lambda: fp.MarchenkoPastur(0.5).moments(2**70), "n"),
    (lambda: fp.gcv(np.full((5, 3), np.nan), np.ones(5), 1.0), "X"),
    (lambda: fp.gcv(np.zeros((0, 3)), np.ones(0), 1.0), "X"),
    (lambda: fp.gcv(np.ones((5, 3)), np.full(5, np.nan), 1.0), "y"),
])
def test_bad_input_is_a_parameter_error_naming_it(make, name):
    with pytest.raises(ParameterError) as info:
        make()
    assert info.value.name.startswith(name)


def test_substitutions_reach_atoms_and_weights():
    q = sp.Symbol("q", positive=True)
    assert fp.Discrete([q, 2]).subs(q=1).values == (1, 2)
    assert fp.Discrete([q, 2]).subs({"q": 3}).values == (3, 2)
    with pytest.raises(ParameterError):
        fp.Discrete([q, 2]).subs(qq=1)


def test_moments_are_fast_and_exact_to_the_stated_order():
    # Narayana closed form against the cumulant route, and the order limit
    m = fp.MarchenkoPastur(sp.Rational(1, 2))
    assert m.moments(40) == m.moments(40, method="cumulants")
    assert len(fp.MarchenkoPastur(0.5).moments(100)) == 100
    huge = fp.PowerLaw(2, 10**9).df1_numeric(np.array([1e-3]))
    assert 0 < float(huge[0]) < 1
    assert fp.gcv(np.eye(3), np.ones(3), 1e300)["gcv"] == pytest.approx([1.0], rel=1e-12)  # the null predictor


def test_gcv_at_a_huge_ridge_is_the_null_predictor(rng):
    X, y = rng.normal(size=(20, 5)), rng.normal(size=20)
    out = fp.gcv(X, y, [1e300])
    assert float(out["gcv"][0]) == pytest.approx(float(np.mean(y**2)), rel=1e-12)


def _atom_sum(terms):
    """An atom-by-atom sum and the sum of its magnitudes (the scale of its rounding)."""
    return complex(math.fsum(terms.real), math.fsum(terms.imag)), math.fsum(np.abs(terms))


@pytest.mark.parametrize("alpha", [0.7, 1.5, 3.0])
def test_power_law_stieltjes_next_to_its_atoms_equals_the_atom_sum(alpha):
    # n above the atom limit: the Euler-Maclaurin route, with the atoms next to
    # the pole k_s = z^(-1/alpha) summed one by one; before the windows a pole
    # 1e-8 i off the axis among atoms k ~ 10^4 was off by 3e-4 (n = 10^9)
    n = 5 * 10**5
    law = fp.PowerLaw(alpha, n)
    vals = np.arange(1, n + 1, dtype=float) ** -alpha
    zs, where = [], []
    for kc in (2100.3, 40000.7, 4.99e5):
        x, gap = kc ** -alpha, alpha * kc ** (-alpha - 1)        # the atoms' spacing at k_c
        zs += [x + 1j * gap * e for e in (1e-3, 1.0, 1e3)]
        zs.append((kc + 0.5) ** -alpha)                          # real, between two atoms
        where += [kc] * 4
    zs += [0.5 * n ** -alpha, 1e-3 * (1 + 1j), -0.3]             # beyond the smallest atom, far, negative
    where += [1.0] * 3
    got = law.stieltjes_numeric(np.array(zs))
    for z, kc, g in zip(zs, where, got):
        ref, scale = _atom_sum(1.0 / (z - vals))
        # the stated accuracy: 1e-14 of the sum of magnitudes (a real point
        # between atoms cancels), and the rounding of k^-alpha next to the
        # window's edge, amplified by x/|z - x| ~ k_s/WINDOW (measured: at
        # most 0.6 of this bound, at k_s = 2.99e6 of n = 3e6)
        bound = 1e-14 * scale / n + 4 * np.finfo(float).eps * max(1.0, kc / powersum.WINDOW) * abs(ref / n)
        assert abs(g - ref / n) <= bound, (z, g, ref / n)


def test_power_law_sums_with_two_close_poles_and_the_kernel_limit_at_complex_ridge():
    x, a, b = sp.Dummy("x"), sp.Symbol("a"), sp.Symbol("b")
    n, alpha = 10**6, 1.5
    spec = PowerLawSpectrum(alpha, n)
    vals = np.arange(1, n + 1, dtype=float) ** -alpha
    f = compile_expr(SpectralMean(1 / ((x - a) * (x - b)), x, spec), (a, b), dtype=complex)
    x0 = 5e4 ** -alpha
    pts = [(x0 * (1 + 1e-9j), x0 * (1 + 2e-9j)), (x0 * (1 + 1e-7j), (5e4 + 700.0) ** -alpha * (1 - 1e-7j)),
           (x0 * (1 + 1e-7j), x0 * 1e-3 * (1 + 1e-7j))]                # one window, overlapping, apart
    for za, zb in pts:
        ref, scale = _atom_sum(1.0 / ((vals - za) * (vals - zb)))
        got = complex(f(za, zb))
        assert abs(got - ref / n) <= 1e-14 * scale / n, (za, zb)
    # n = oo at a complex ridge whose pole -kappa sits among the summed atoms:
    # sum_{k <= N} exactly, and the rest as sum_j (-1)^(j-1) zeta(alpha j, N + 1)/kappa^j
    kappa = -1e-8 * (1 + 1e-3j)
    law = fp.PowerLaw(alpha, sp.oo)
    lam = sp.Symbol("lam")
    df1 = compile_expr(law.df1(lam), (lam,), dtype=complex)
    big = 10**6
    head, _ = _atom_sum((xs := np.arange(1, big + 1, dtype=float) ** -alpha) / (xs + kappa))
    with mpmath.workdps(30):
        rest = mpmath.fsum((-1) ** (j - 1) * mpmath.zeta(alpha * j, big + 1) / mpmath.mpc(kappa) ** j
                           for j in range(1, 30))
    ref = head + complex(rest)
    assert abs(complex(df1(kappa)) - ref) <= 1e-13 * abs(ref)


def test_power_law_cdf_and_atoms_without_a_list_of_atoms():
    for n, alpha in ((7, 0.5), (1000, 1.5), (12345, 3.0)):
        law = fp.PowerLaw(alpha, n)
        vals = np.arange(1, n + 1, dtype=float) ** -alpha       # the atoms, as the law computes them
        xs = np.concatenate([vals, np.nextafter(vals, 0), np.nextafter(vals, 2), np.logspace(-12, 1, 50), [0.0, -1.0]])
        assert np.array_equal(law.cdf_numeric(xs), np.searchsorted(np.sort(vals), xs, side="right") / n)
    big = fp.PowerLaw(1.5, 10**9)
    # k^-1.5 <= 1e-12 for k >= 10^8; the smallest atom is 10^-13.5
    assert big.cdf_numeric([1e-12, 10**-13.5, 0.5, 1.0]).tolist() == [0.900000001, 1e-9, 0.999999999, 1.0]
    with pytest.raises(SupportError, match="k = 2"):
        big.stieltjes_numeric(2 ** -1.5)                              # an atom: a pole of g
    assert big.stieltjes_numeric(-0.1).real == pytest.approx(-9.99999989272783, rel=1e-14)  # atom sum, 10^9 terms
    with pytest.raises(ParameterError, match="n = 1000000000"):
        big.atoms()                                                   # 10^9 sympy pairs: refused, not an OOM


@pytest.mark.parametrize("n", [10**4, 10**9])
def test_free_product_of_a_large_power_law_with_mp_matches_the_s_transform_fixed_point(n):
    # Sigma = A boxtimes MP(2): df1_Sigma(lam) = d with d = df1_A(lam/(1 - 2 d)), since
    # S_MP(2)(t) = 1/(1 - 2t) in the df convention [C6]; solved here by bisection on
    # the power law's own df1 (atom by atom at 10^4, Euler-Maclaurin at 10^9).
    # Before: refused at construction (n = 10^9: its atoms were listed for the
    # positivity check) or in the model (n = 10^4: the product's support was computed
    # to decide positivity, and a power law over 6 decades was not resolved)
    a = fp.PowerLaw(1.5, n)
    law = fp.free_mul(a, fp.MarchenkoPastur(2))
    assert law.atoms() == [(0, sp.Rational(1, 2))]          # Belinschi: max(0, 1/2); no atom of mass 1/n counts
    lam = np.logspace(-12, 1, 14)
    lo, hi = np.zeros_like(lam), np.full_like(lam, 0.5)
    for _ in range(140):                                       # to the last bit of the smallest d ~ 2e-10
        mid = 0.5 * (lo + hi)
        up = mid - a.df1_numeric(lam / (1 - 2 * mid)) > 0
        lo, hi = np.where(up, lo, mid), np.where(up, mid, hi)
    # the product's eta route iterates multiplicative subordination to ~1e-12
    # (measured: 2.2e-12 at lam = 1e-8 for n = 10^9, at most 2e-16 for n = 10^4)
    assert np.allclose(law.df1_numeric(lam), 0.5 * (lo + hi), rtol=1e-11, atol=0)
    out = fp.LinearRidge(law, samples=100, dimension=1000, noise=0.1).evaluate(ridge=np.array([0.0, 1e-3, 1.0]))
    for key, v in out.items():
        assert np.all(np.isfinite(v[1:])), key
    assert np.all(out["Eg"] >= 0) and np.all(out["df2"] <= out["df1"]) and np.all(out["gamma"] < 1)


def test_power_law_over_five_decades_times_mp_has_the_spectrum_of_a_wishart_sample(rng):
    # PowerLaw(1.5, 4000) spans 5.4 decades; times MP(2) its continuous part
    # reaches down to 2e-6 next to the atom at 0 of mass 1/2.  Before, the
    # support search left out every grid point within 1e-6 of the width of that
    # atom (6e-6 here) and found the intervals short of their mass, so the
    # law's support, density and cdf raised ConvergenceError; the points are now
    # left out only within 100 evaluation heights (6.8e-10).
    n = 4000
    law = fp.free_mul(fp.PowerLaw(1.5, n), fp.MarchenkoPastur(2))
    eta = np.arange(1, n + 1, dtype=float) ** -1.5
    z = rng.standard_normal((n // 2, n))
    ev = np.sort(np.concatenate([np.linalg.eigvalsh((z * eta) @ z.T / (n // 2)), np.zeros(n - n // 2)]))
    xs = np.array([1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0])
    emp = np.searchsorted(ev, xs, side="right") / n
    # a Wishart spectrum's counting function fluctuates by O(1/n) (rigidity),
    # and its finite-size bias is O(1/n): 8/n = 2e-3 (measured: 2.1e-4)
    assert np.max(np.abs(law.cdf_numeric(xs) - emp)) < 8 / n


def test_kernel_limit_power_law_is_refused_as_a_free_convolution_operand():
    # its normalized law is a point mass at 0: a free sum or product with it is
    # degenerate, and is refused when built (the models take it as a kernel)
    inf = fp.PowerLaw(1.5, sp.oo)
    for build in (lambda: fp.free_mul(inf, fp.MarchenkoPastur(2)), lambda: fp.free_add(fp.Semicircle(1), inf)):
        with pytest.raises(ParameterError, match="n = oo"):
            build()
    assert fp.laws.is_positive_law(inf) is True                  # k^-alpha > 0 at any n


@pytest.mark.slow
def test_the_isolated_clusters_of_a_power_law_of_a_million_times_mp():
    """``PowerLaw(1.5, 10^6)`` boxtimes MP(2): its top clusters, of mass
    ``1/n`` each by exact separation (Bai-Silverstein: one atom of Sigma per
    cluster), are narrower (0.6%) than the general route's geometric grid
    (4%).  On 2048 points 13 of the clusters ``k = 2..40`` fell between the
    points, 9e-5 of mass, within the 1e-4 check of the total mass of before;
    the support now comes from the exact separation of the clusters
    (:mod:`freeprob.laws._separation`, 338 intervals, where the grid refined
    to 8192 points found 248).  Two routes: each of the top 40 intervals
    carries ``1/n`` by the subordination density (to 1e-5 of itself), and
    the k-th of them holds ``eta_k``."""
    from freeprob.laws import _support

    n = 10**6
    law = fp.free_mul(fp.PowerLaw(1.5, n), fp.MarchenkoPastur(2))
    intervals = _support.numeric_support(law)
    atoms = [(float(c), float(w)) for c, w in law.atoms()]
    eps = 1e-12 * (1 + law._numeric_radius())
    top = [_support._mass(law, [ab], atoms, eps, 256) for ab in intervals[-40:]]
    np.testing.assert_allclose(np.array(top) * n, 1.0, rtol=1e-5)
    # and they are the clusters of k = 1..40: the k-th from the top holds eta_k
    # (each cluster lies within 0.6% of its atom at this separation)
    for k, (a, b) in enumerate(intervals[::-1][:40], start=1):
        assert a < k**-1.5 < b, (k, a, b)


def _silverstein(eta, ratio):
    """The companion of ``Sigma boxtimes MP(ratio)`` (``ratio = D/P > 1``) by
    Silverstein and Choi: ``x(m) = -1/m + ratio mean(eta/(1 + eta m))``; the
    lower edge is ``x`` at the zero of ``x'`` on ``m > 0``, and between the
    poles ``-1/eta_k``, ``-1/eta_(k+1)`` an increasing stretch of ``x(m)`` is
    the gap above the ``k``-th cluster (exact separation: each cluster above
    it holds the mass ``1/n`` of its atom)."""
    def x(m):
        return -1 / m + ratio * np.mean(eta / (1 + eta * m))

    def dx(m):
        return 1 / m**2 - ratio * np.mean(eta**2 / (1 + eta * m) ** 2)

    a, b = 1e-3, 1e3 / eta[-1]
    for _ in range(300):   # bisection in log m: dx > 0 below the root
        c = np.sqrt(a * b)
        a, b = (c, b) if dx(c) > 0 else (a, c)
    gaps = {}
    for k in (1, 3, 10):
        ms = np.linspace(-1 / eta[k], -1 / eta[k - 1], 4002)[1:-1]
        inc = ms[np.array([dx(m) for m in ms]) > 0]
        gaps[k] = 0.5 * (x(inc.min()) + x(inc.max()))
    return x(a), gaps


def test_power_law_times_mp_over_decades():
    """PowerLaw(1.5, n) boxtimes MP(2) spreads over 5 decades.  Two routes:
    the lower edge of the support against Silverstein-Choi's critical point
    (to 2e-5, EDGE_REL; with evaluation heights 1e-12 (1 + R) and edges to
    1e-7 of the width it had been 0.4% low at n = 2e4 and 8% at n = 1e5),
    and the cdf inside the gaps between the top clusters against exact
    separation, ``1 - k/n``, which checks the integral over everything below
    (measured: 1e-7 at n = 2e4, 3e-9 at n = 1e5)."""
    n = 10_000
    law = fp.free_mul(fp.PowerLaw(1.5, n), fp.MarchenkoPastur(2))
    edge, gaps = _silverstein(np.arange(1, n + 1) ** -1.5, 2.0)
    bottom = law._ac_intervals()[0][0]
    assert abs(bottom - edge) <= 2e-5 * edge, (bottom, edge)
    ks = sorted(gaps)
    np.testing.assert_allclose(law.cdf_numeric([gaps[k] for k in ks]), [1 - k / n for k in ks], rtol=0, atol=1e-6)
