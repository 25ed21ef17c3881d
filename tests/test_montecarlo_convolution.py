"""Monte Carlo for free convolutions: sampled spectra of A + Q B Q^T,
A^(1/2) Q B Q^T A^(1/2), products of Wisharts and Sigma^(1/2) W Sigma^(1/2)
against the computed laws.

Tolerances: one draw of N eigenvalues of a unitarily invariant model is rigid
(bulk fluctuations O(log N / N)); the i.i.d. 99% Kolmogorov value 1.63/sqrt(N)
is a conservative bound.  The operands' spectra are deterministic quantiles
(freeprob.sampling.atomic_spectrum), so no i.i.d. noise enters through them.
The Wasserstein distance of a rigid spectrum is O(1/N) in the bulk; we allow
2/sqrt(N) times the spectral width.
"""

import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob.montecarlo.sampling import (
    free_product_eigenvalues,
    free_sum_eigenvalues,
    ks_distance,
    ks_tolerance,
    population_wishart_eigenvalues,
    sample_eigenvalues,
    wasserstein_distance,
)

pytestmark = pytest.mark.montecarlo
half = sp.Rational(1, 2)

CASES = [
    ("(+-3) + SC", freeprob.Discrete([-3, 3]), freeprob.Semicircle(), "add"),
    ("arcsine", freeprob.Discrete([-1, 1]), freeprob.Discrete([-1, 1]), "add"),
    ("atoms x MP(1/2)", freeprob.Discrete([1, 2]), freeprob.MarchenkoPastur(half), "mul"),
    ("MP(2) x MP(3)", freeprob.MarchenkoPastur(2), freeprob.MarchenkoPastur(3), "mul"),
]


@pytest.mark.parametrize("name,a,b,op", CASES, ids=[c[0] for c in CASES])
def test_sampled_spectrum_matches_law(name, a, b, op, rng):
    n = 800
    law = freeprob.free_add(a, b) if op == "add" else freeprob.free_mul(a, b)
    sampler = free_sum_eigenvalues if op == "add" else free_product_eigenvalues
    eig = sampler(a, b, n, rng)
    assert ks_distance(eig, law) < ks_tolerance(n)
    lo = min([x for x, _ in law._ac_intervals()] + list(np.real(law._atom_points())))
    hi = max([y for _, y in law._ac_intervals()] + list(np.real(law._atom_points())))
    assert wasserstein_distance(eig, law) < 2 / np.sqrt(n) * (hi - lo)


def test_wishart_product_sampler(rng):
    law = freeprob.WishartProduct([sp.Rational(1, 5), 1])
    eig = sample_eigenvalues(law, 600, rng)
    assert ks_distance(eig, law) < ks_tolerance(600)


def test_population_wishart_is_free_multiplication(rng):
    # Sigma^(1/2) W Sigma^(1/2) with a power-law Sigma (not algebraic: the
    # numeric subordination route) [R2a]
    n, p = 600, 1200
    sigma = freeprob.PowerLaw(1.2, n)
    law = freeprob.free_mul(sigma, freeprob.MarchenkoPastur(sp.Rational(n, p)))
    eig = population_wishart_eigenvalues(sigma.spectrum.numeric_atoms()[0], p, rng)
    # compare Stieltjes transforms at complex points (the law has no exact
    # support for a KS test): one draw, O(1/N) fluctuation and bias
    z = np.array([-0.01, 0.05 + 0.05j, 0.3 + 0.1j])
    emp = np.mean(1 / (z[:, None] - eig[None, :]), axis=1)
    exact = law.stieltjes_numeric(z)
    assert np.all(np.abs(emp - exact) <= 10.0 / n * np.abs(exact) + 1e-3)
