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
from freeprob.sampling import population_wishart_eigenvalues


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
        for n in (10, 1000, 100000):
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
        freeprob.deterministic_equivalent(freeprob.Identity(1), freeprob.Semicircle(1, 3)).solve(np.array([1.0]))
    with pytest.raises(ParameterError, match="population"):
        freeprob.deterministic_equivalent("identity")
