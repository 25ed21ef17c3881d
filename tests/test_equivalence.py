"""Deterministic equivalence [R3], [R4], [R9]: the derived kappa equation and
its solver, each checked by an independent route (closed forms at 40 digits,
subordination, Monte Carlo, the symbolic derivative identity)."""

import mpmath
import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.errors import ParameterError
from freeprob.montecarlo.sampling import population_wishart_eigenvalues


def iso_kappa(lam, q):
    # [R9] kappa = ((q + lam - 1) + sqrt((q + lam - 1)^2 + 4 lam))/2, at 40 digits
    with mpmath.workdps(40):
        lam, q = mpmath.mpf(lam), mpmath.mpf(q)
        b = q + lam - 1
        return float((b + mpmath.sqrt(b * b + 4 * lam)) / 2)


def test_isotropic_closed_form_over_the_whole_range():
    lam = np.logspace(-8, 6, 57)
    q = np.logspace(-3, 3, 25)
    L, Q = np.meshgrid(lam, q)
    kappa = freeprob.deterministic_equivalent(freeprob.Identity(1), ratio=1).solve(L, Q)
    ref = np.vectorize(iso_kappa)(L, Q)
    # df1 is evaluated to ~1 ulp and amplified by 1/(1 - gamma) <= 1/(2 sqrt(lam))
    # at the q = 1 peak: 1e-12 relative covers lam down to 1e-8
    assert np.max(np.abs(kappa - ref) / ref) < 1e-12


def test_ridgeless_limits_and_the_peak():
    deq = freeprob.deterministic_equivalent(freeprob.Identity(1), ratio=1)
    q = np.array([0.25, 0.5, 1.0, 2.0, 10.0])
    k0 = deq.solve(np.zeros(5), q)
    # [R9]: kappa -> 0 for q <= 1 and q - 1 for q > 1
    assert np.allclose(k0, np.maximum(q - 1, 0), rtol=1e-13, atol=0)
    # q = 1: kappa = (lam + sqrt(lam^2 + 4 lam))/2 ~ sqrt(lam)
    lam = np.logspace(-10, -2, 9)
    assert np.allclose(deq.solve(lam, 1.0), (lam + np.sqrt(lam**2 + 4 * lam)) / 2, rtol=1e-11, atol=0)


def test_kappa_zero_of_a_power_law():
    pop = freeprob.PowerLaw(1.5, 2000)
    q = np.array([1.5, 3.0, 40.0])
    k0 = freeprob.deterministic_equivalent(pop, ratio=1).solve(np.zeros(3), q)
    # the nonzero root of q df1(kappa_0) = 1 [C11]
    assert np.allclose(q * pop.df1_numeric(k0), 1.0, rtol=1e-12, atol=0)


def test_no_failures_over_the_parameter_range():
    lam = np.concatenate([[0.0], np.logspace(-8, 6, 29)])
    q = np.logspace(-3, 3, 13)
    L, Q = np.meshgrid(lam, q)
    for alpha in (1.01, 1.5, 3.0, 5.0):
        for n in (10, 1000, 10**6):  # the range: n up to 10^6 (about 3 s per alpha)
            pop = freeprob.PowerLaw(alpha, n)
            kappa = freeprob.deterministic_equivalent(pop, ratio=1).solve(L, Q)
            assert np.all(np.isfinite(kappa)) and np.all(kappa >= L)
            # the equation holds: residual of kappa (1 - q df1) = lam, relative
            resid = kappa * (1 - Q * pop.df1_numeric(kappa)) - L
            pos = L > 0
            assert np.all(np.abs(resid[pos]) <= 1e-10 * kappa[pos]), (alpha, n)


def test_symbolic_equation_and_derivative_identity():
    q = C.q
    deq = freeprob.deterministic_equivalent(freeprob.Identity(1), ratio=q)
    eq = deq.kappa_equation()
    # the isotropic quadratic of [R9]: kappa^2 + (1 - q - lam) kappa - lam = 0
    quad = sp.numer(sp.together(eq.lhs - eq.rhs))
    assert sp.expand(quad + (C.kappa**2 + (1 - q - C.lam) * C.kappa - C.lam)) == 0 or \
        sp.expand(quad - (C.kappa**2 + (1 - q - C.lam) * C.kappa - C.lam)) == 0
    # d lam/d kappa = 1 - gamma [R4], for closed, atomic and symbolic-size populations
    a, n = sp.Symbol("alpha", positive=True), sp.Symbol("n", integer=True, positive=True)
    for pop in (freeprob.Identity(1), freeprob.Discrete([1, 3]), freeprob.PowerLaw(a, n)):
        assert freeprob.deterministic_equivalent(pop, ratio=q).derivative_identity() == 0
    # the steps end with the equation and start from multiplicativity
    steps = deq.steps()
    assert steps[0].reference == "[R2a]" and steps[-1].relation == eq


def test_agrees_with_free_multiplication_by_subordination():
    # independent route: df1 of Sigma boxtimes MP(q) at lam (subordination on
    # the negative axis) equals df1_Sigma(kappa) [R3]
    for pop in (freeprob.PowerLaw(1.5, 500), freeprob.Discrete([0.5, 1, 4])):
        for q in (0.3, 2.0):
            lam = np.logspace(-3, 1, 9)
            kappa = freeprob.deterministic_equivalent(pop, ratio=q).solve(lam)
            direct = freeprob.free_mul(pop, freeprob.MarchenkoPastur(q)).df1_numeric(lam)
            assert np.allclose(direct, pop.df1_numeric(kappa), rtol=1e-9, atol=0)


GENERAL_NOISE = {
    "wishart-product": freeprob.WishartProduct([2, 3]),
    "atomic": freeprob.Discrete([0.5, 1.5]),
    "composition": freeprob.free_mul(freeprob.MarchenkoPastur(0.5), freeprob.Discrete([0.5, 1.5])),
    "shifted-semicircle": freeprob.Semicircle(1, 3),
}


@pytest.mark.parametrize("name", sorted(GENERAL_NOISE))
def test_general_noise_law_agrees_with_subordination(name):
    # route 1: kappa from the explicit map lam(kappa) = kappa/S_W(df1(kappa));
    # route 2: df1 of the free product Sigma boxtimes W by subordination.
    # [R3]: df1_{Sigma_hat}(lam) = df1_Sigma(kappa).  Both are float64 with
    # well-conditioned inversions away from the threshold: 1e-9.
    W = GENERAL_NOISE[name]
    for pop in (freeprob.PowerLaw(1.5, 400), freeprob.Discrete([0, 1, 3])):
        lam = np.logspace(-3, 2, 6)
        kappa = freeprob.deterministic_equivalent(pop, W).solve(lam)
        assert np.all(kappa >= lam / float(W.moments(1)[0]) * (1 - 1e-12))
        direct = freeprob.free_mul(pop, W).df1_numeric(lam)
        assert np.allclose(direct, pop.df1_numeric(kappa), rtol=1e-9, atol=1e-12), (name, pop)


def test_general_noise_ridgeless_bottleneck():
    # Sigma_hat = Sigma^1/2 W1 W2 Sigma^1/2 with rank W = 1/3 < rank Sigma:
    # kappa_0 solves df1_Sigma(kappa_0) = 1/3 (the narrowest bottleneck, [R17])
    pop = freeprob.PowerLaw(1.2, 2000)
    k0 = freeprob.deterministic_equivalent(pop, freeprob.WishartProduct([2, 3])).solve([0.0, 1e-12])
    assert pop.df1_numeric(k0[:1])[0] == pytest.approx(1 / 3, rel=1e-13)
    # kappa(1e-12) - kappa_0 ~ 1e-12/lam'(kappa_0), lam' = O(1e-3) here
    assert k0[1] >= k0[0] and k0[1] == pytest.approx(k0[0], rel=1e-7)
    # rank Sigma <= rank W: no threshold
    assert freeprob.deterministic_equivalent(freeprob.Discrete([0, 0, 1]),
                                             freeprob.WishartProduct([2, 3])).solve([0.0])[0] == 0.0


@pytest.mark.montecarlo
def test_monte_carlo_general_noise(rng):
    # Sigma^1/2 Z1^T Z1/P1 ... Sigma^1/2 at N = 600 (P_l = N/c_l), one draw:
    # df1_hat is a linear spectral statistic, O(1/N) fluctuation; tolerance 5/N
    n = 600
    pop = freeprob.PowerLaw(1.2, n)
    sig = np.sqrt(pop.spectrum.numeric_atoms()[0])
    z1 = rng.normal(size=(2 * n, n)) / np.sqrt(2 * n)   # ratio c1 = N/P1 = 1/2
    z2 = rng.normal(size=(n // 3, n)) / np.sqrt(n // 3)  # ratio c2 = 3
    w = (z1.T @ z1) @ (z2.T @ z2)
    eig = np.real(np.linalg.eigvals(sig[:, None] * w * sig[None, :]))
    lam = np.logspace(-3, 0, 5)
    emp = np.array([np.mean(eig / (eig + l)) for l in lam])
    kappa = freeprob.deterministic_equivalent(pop, freeprob.WishartProduct([0.5, 3])).solve(lam)
    assert np.all(np.abs(emp - pop.df1_numeric(kappa)) < 5 / n)


@pytest.mark.montecarlo
def test_monte_carlo_degrees_of_freedom(rng):
    # df1 of the sample covariance at lam vs df1_Sigma(kappa): one draw at
    # N = 600, P = 400; df1_hat is a linear spectral statistic with O(1/N)
    # fluctuations and bias; tolerance 5/N
    n, p = 600, 400
    pop = freeprob.PowerLaw(1.2, n)
    eig = population_wishart_eigenvalues(pop.spectrum.numeric_atoms()[0], p, rng)
    lam = np.logspace(-3, 0, 7)
    emp = np.array([np.mean(eig / (eig + l)) for l in lam])
    kappa = freeprob.deterministic_equivalent(pop, ratio=n / p).solve(lam)
    assert np.all(np.abs(emp - pop.df1_numeric(kappa)) < 5 / n)


def test_bad_input():
    deq = freeprob.deterministic_equivalent(freeprob.Identity(1), ratio=2)
    with pytest.raises(ParameterError, match="lam"):
        deq.solve(np.array([-1.0]))
    with pytest.raises(ParameterError, match="ratio"):
        deq.solve(np.array([1.0]), ratio=0)
    with pytest.raises(ParameterError, match="noise"):
        # Semicircle(1, 0) has support [-2, 2]: not a covariance noise
        freeprob.deterministic_equivalent(freeprob.Identity(1), freeprob.Semicircle(1, 0)).solve(np.array([1.0]))
    with pytest.raises(ParameterError, match="noise"):
        freeprob.deterministic_equivalent(freeprob.Identity(1), freeprob.WishartProduct([C.q, 2])).solve([1.0])
    with pytest.raises(ParameterError, match="ratio"):
        freeprob.deterministic_equivalent(freeprob.Identity(1), freeprob.WishartProduct([2, 3])).solve([1.0], 2.0)
    with pytest.raises(ParameterError, match="population"):
        freeprob.deterministic_equivalent("identity")


def test_two_point_trace_identities():
    # route 2 for the "derivative" form: d/d lam of the one-point equivalent
    # tr_N[B Sigma_hat (Sigma_hat + lam)^-1] ~ <b x/(x + kappa)> with
    # d kappa/d lam = 1/(1 - gamma) [R4]; and "trace" at A = Sigma is
    # gamma/(1 - gamma) [R5].  Both sides are sympy expressions, compared at
    # three points to 1e-12 (sympy's simplify is too slow on the radicals).
    x, k, q = C.x, C.kappa, C.q
    for pop in (freeprob.Identity(2), freeprob.MarchenkoPastur(sp.Rational(1, 3)), freeprob.Discrete([1, 4])):
        deq = freeprob.deterministic_equivalent(pop, ratio=q)
        gamma = q * pop.df2(k)
        one_point = pop.df1(k)  # b = 1
        lhs = deq.two_point_trace("derivative")
        assert _num_zero(lhs + sp.diff(one_point, k) / (1 - gamma))
        assert _num_zero(deq.two_point_trace("trace", a=x) - gamma / (1 - gamma))
    steps = freeprob.deterministic_equivalent(freeprob.Identity(1)).two_point_equivalents()
    assert len(steps) == 3 and all(s.reference == "[R5]" for s in steps)
    with pytest.raises(ParameterError, match="kind"):
        freeprob.deterministic_equivalent(freeprob.Identity(1)).two_point_trace("cross")
    with pytest.raises(ParameterError, match="a, b"):
        freeprob.deterministic_equivalent(freeprob.Identity(1)).two_point_trace("trace", a=sp.sqrt(x))


def _num_zero(expr):
    # numeric spot check at rational points (q < 1 keeps 1 - gamma > 0)
    from freeprob.numeric.compile import compile_expr

    f = compile_expr(expr, (C.kappa, C.q), dtype=complex)
    vals = f(np.array([0.1, 1.0, 7.0]), np.array([0.3, 0.5, 0.9]))
    return np.allclose(np.asarray(vals, dtype=complex), 0, atol=1e-12)


@pytest.mark.montecarlo
@pytest.mark.parametrize("kind,a,b", [("sandwich", "x", "1"), ("sandwich", "1", "x"), ("trace", "x**2", "1"),
                                      ("derivative", "1", "x")])
def test_two_point_monte_carlo(kind, a, b, rng):
    # N = 400, P = 300, 8 draws of Sigma_hat = Sigma^1/2 Z^T Z Sigma^1/2 / P:
    # tolerance 4 standard errors of the draw mean + 3% finite-size allowance
    # (second-order equivalents carry O(1/N) corrections, pitfall P10)
    n, p, lam = 400, 300, 0.05
    vals = np.repeat([0.5, 1.0, 3.0], [n // 4, n // 2, n - n // 4 - n // 2]).astype(float)
    pop = freeprob.Discrete([0.5, 1.0, 3.0], [0.25, 0.5, 0.25])
    x = C.x
    fa, fb = (sp.lambdify(x, sp.sympify(e, locals={"x": x})) for e in (a, b))
    A, B = (np.diag(np.broadcast_to(f(vals), vals.shape).astype(float)) for f in (fa, fb))
    est = []
    for _ in range(8):
        z = rng.normal(size=(p, n)) * np.sqrt(vals)
        sh = z.T @ z / p
        r = np.linalg.inv(sh + lam * np.eye(n))
        if kind == "sandwich":
            est.append(np.trace(B @ (lam**2 * r @ A @ r)) / n)
        elif kind == "trace":
            est.append(np.trace(sh @ r @ A @ r) / p)
        else:
            est.append(np.trace(B @ sh @ r @ r) / n)
    deq = freeprob.deterministic_equivalent(pop, ratio=n / p)
    kappa = deq.solve([lam])
    from freeprob.numeric.compile import compile_expr

    theory = compile_expr(deq.two_point_trace(kind, a=sp.sympify(a, locals={"x": x}),
                                              b=sp.sympify(b, locals={"x": x})), (C.kappa, C.q))(kappa, n / p)
    theory = float(np.asarray(theory)[0])
    m, se = np.mean(est), np.std(est, ddof=1) / np.sqrt(len(est))
    assert abs(m - theory) <= 4 * se + 0.03 * abs(theory), (m, se, theory)
