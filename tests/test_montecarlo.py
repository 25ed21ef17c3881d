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
