"""Monte Carlo: eigenvalues of sampled matrices against the laws.

Tolerances.  One draw of N eigenvalues of a Wigner or Wishart matrix is far
more rigid than N i.i.d. samples (bulk fluctuations O(log N / N)), so the
i.i.d. 99% Kolmogorov critical value 1.63/sqrt(N) is a conservative bound;
we also require the distance to shrink from N to 4N (averaged over 3 draws:
an i.i.d. sample would shrink by 1/2, rigid eigenvalues by about 1/3; we ask
for a factor 0.7).  The empirical Stieltjes transform at Im z ~ 1 has
seed-to-seed standard error SE and an O(1/N) finite-size bias: tolerance
4 SE + 2/N.
"""

import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob.montecarlo.sampling import (
    empirical_stieltjes,
    ks_distance,
    ks_tolerance,
    sample_eigenvalues,
    white_wishart,
    wigner,
)

pytestmark = pytest.mark.montecarlo

CASES = [
    ("wigner", freeprob.Semicircle(), lambda n, rng: wigner(n, rng)),
    ("wigner v=2", freeprob.Semicircle(2), lambda n, rng: wigner(n, rng, 2.0)),
    ("wishart q=1/2", freeprob.MarchenkoPastur(sp.Rational(1, 2)), lambda n, rng: white_wishart(n, 2 * n, rng)),
    ("wishart q=1", freeprob.MarchenkoPastur(1), lambda n, rng: white_wishart(n, n, rng)),
    ("wishart q=2 (atom)", freeprob.MarchenkoPastur(2), lambda n, rng: white_wishart(n, n // 2, rng)),
    ("wishart scale 3", freeprob.MarchenkoPastur(sp.Rational(1, 4), 3), lambda n, rng: white_wishart(n, 4 * n, rng, 3.0)),
]


@pytest.mark.parametrize("name,law,sampler", CASES, ids=[c[0] for c in CASES])
def test_kolmogorov_distance(name, law, sampler, rng):
    n = 400
    d_small = np.mean([ks_distance(sampler(n, rng), law) for _ in range(3)])
    d_large = np.mean([ks_distance(sampler(4 * n, rng), law) for _ in range(3)])
    assert d_small < ks_tolerance(n)
    assert d_large < ks_tolerance(4 * n)
    assert d_large < 0.7 * d_small


@pytest.mark.parametrize("name,law,sampler", CASES, ids=[c[0] for c in CASES])
def test_empirical_stieltjes(name, law, sampler, rng):
    n = 300
    radius = law._numeric_radius()
    z = np.array([1j, 0.5 * radius + 1j, -1.0 - 1.5 * radius])
    mean, se = empirical_stieltjes([sampler(n, rng) for _ in range(20)], z)
    exact = law.stieltjes_numeric(z)
    assert np.all(np.abs(mean - exact) <= 4 * se + 2.0 / n)


def test_sample_eigenvalues_dispatch(rng):
    for law in (freeprob.PowerLaw(1.5, 200), freeprob.Semicircle(1).scaled(-2).shifted(7), freeprob.Identity(2)):
        eig = sample_eigenvalues(law, 1000, rng)
        # a resample of the atoms (i.i.d.): the i.i.d. Kolmogorov bound applies
        assert ks_distance(eig, law) < ks_tolerance(1000)


@pytest.mark.montecarlo
@pytest.mark.parametrize("kind", ["linear", "features"])
@pytest.mark.parametrize("law", [freeprob.MarchenkoPastur(0.5),
                                 freeprob.free_mul(freeprob.MarchenkoPastur(0.5), freeprob.Discrete([1, 2]))],
                         ids=["MP", "free product"])
def test_continuous_population_against_monte_carlo(kind, law):
    """A Marchenko-Pastur population (Sigma itself a sample covariance) and a
    free product known only through its curve: the simulation uses the law's
    mid-quantile eigenvalues (never its mean), and the theory of the
    continuous law (kappa solved from the law's certified df1, df2) agrees
    within 4 s.e. plus 3% (finite size, pitfall P10) plus 1% of E_g for the
    small components."""
    if kind == "linear":
        model = freeprob.LinearRidge(law, samples=150, noise=0.1, dimension=300, ridge=1e-2)
        sim = freeprob.simulate(model, seeds=60, rng=np.random.default_rng(11))
    else:
        model = freeprob.RandomFeatureRidge(law, widths=200, samples=150, noise=0.1, dimension=300, ridge=1e-2)
        sim = freeprob.simulate(model, seeds=(10, 10), rng=np.random.default_rng(11))
    rows = freeprob.compare(model, sim, allowance=0.03, floor=0.01, out=lambda *_: None)
    bad = [r for r in rows if not r["ok"]]
    assert not bad, bad
    # the population really is the law: its spectrum, not Sigma = I
    from freeprob.montecarlo.sampling import ks_distance, population_spectrum

    assert ks_distance(population_spectrum(law, 300), law) < 1 / 300 + 1e-9


def test_weighted_discrete_population_at_any_dimension():
    """A weighted ``Discrete`` law is a spectral distribution: at ``D = 200``
    its atoms have multiplicities 40, 60, 100; the simulation samples exactly
    them, and theory agrees with it (4 s.e. plus 2 % of E_g)."""
    from freeprob.montecarlo.sampling import population_spectrum

    pop = freeprob.Discrete([0.5, 1, 2], [0.2, 0.3, 0.5])
    ev = population_spectrum(pop, 200)
    assert [int(np.sum(ev == v)) for v in (0.5, 1.0, 2.0)] == [40, 60, 100]
    # at D = number of atoms, equal weights keep the law's own atoms
    assert population_spectrum(freeprob.Discrete([3, 1, 2]), 3).tolist() == [3.0, 1.0, 2.0]
    for model in (freeprob.LinearRidge(pop, samples=100, ridge=0.1, noise=0.1, dimension=200),
                  freeprob.RandomFeatureRidge(pop, widths=150, samples=100, ridge=0.1, noise=0.1, dimension=200)):
        th = model.evaluate()
        sim = freeprob.simulate(model, seeds=60 if isinstance(model, freeprob.LinearRidge) else (8, 8),
                                rng=np.random.default_rng(3))
        assert abs(float(th["Eg"]) - sim["Eg"][0][0]) <= 4 * sim["Eg"][1][0] + 0.02 * float(th["Eg"])
    with pytest.raises(freeprob.errors.ParameterError, match="target"):
        freeprob.LinearRidge(pop, samples=100, target=[1.0, 0.0, 0.0])
    with pytest.raises(freeprob.errors.ParameterError, match="target"):
        freeprob.LinearRidge(freeprob.Discrete([1, 2]), samples=100, dimension=10, target=[1.0, 0.0])


def test_weighted_feature_covariance_at_any_width():
    """``Sigma_F = Discrete([0.5, 2], [1/4, 3/4])`` at width 120: 30 and 90
    eigenvalues of each in the simulation; theory against 8 x 8 crossed
    draws (4 s.e. plus 2 % of E_g), and a sweep over widths is the same law."""
    fc = freeprob.Discrete([0.5, 2.0], [0.25, 0.75])
    m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 200), widths=120, feature_covariance=fc, samples=150,
                                    ridge=1e-2, noise=0.1)
    th = m.evaluate()
    sim = freeprob.simulate(m, seeds=(8, 8), rng=np.random.default_rng(0))
    for key in ("Eg", "var_F", "var_XF"):
        assert abs(float(th[key]) - sim[key][0][0]) <= 4 * sim[key][1][0] + 0.02 * float(th["Eg"]), key
    sweep = m.evaluate(widths=np.array([60.0, 120.0]))["Eg"]
    assert abs(sweep[1] - float(th["Eg"])) <= 1e-13 * float(th["Eg"])
    other = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 200), widths=60, feature_covariance=fc, samples=150,
                                        ridge=1e-2, noise=0.1).evaluate()["Eg"]
    assert abs(sweep[0] - float(other)) <= 1e-13 * float(other)


def test_rank_deficient_population_at_ridge_zero():
    """``MarchenkoPastur(2)`` has half its eigenvalues at 0: a draw's Gram
    has rank min(P, N/2) exactly, and its noise-level eigenvalues (1e-16
    relative, singular values 1e-8) are not rank.  At ``lam = 0`` the
    observables are then exact: df1 = rank/N, S = P/(P - rank), and theory
    (S = 3, gamma = 2/3) agrees, with no 0/0 formed (warnings are errors here)."""
    m = freeprob.LinearRidge(freeprob.MarchenkoPastur(2), ridge=0.0, samples=150, noise=0.1, dimension=200)
    th = m.evaluate()
    sim = freeprob.simulate(m, seeds=10, rng=np.random.default_rng(0), ridge=np.array([0.0, 1e-3]))
    assert sim["df1"][0][0] == 0.5 and sim["S"][0][0] == pytest.approx(3.0, rel=1e-12)
    assert float(th["S"]) == pytest.approx(3.0, rel=1e-12)
    assert sim["gamma"][0][0] == pytest.approx(float(th["gamma"]), rel=1e-12)
    assert abs(sim["Eg"][0][0] - float(th["Eg"])) <= 4 * sim["Eg"][1][0] + 0.02 * float(th["Eg"])
