"""GCV from data and the Monte Carlo harness for linear ridge [R3], [R8]."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import freeprob
from freeprob.errors import ParameterError


def brute_gcv(X, y, lam):
    # the definitions with explicit matrices: kappa_hat = 1/tr_P (K + lam)^-1,
    # GCV = E_tr / (1 - Tr Sigma_hat (Sigma_hat + lam)^-1 / P)^2  [R8]
    p, n = X.shape
    K = X @ X.T / p
    R = np.linalg.inv(K + lam * np.eye(p))
    kappa = 1 / np.mean(np.diag(R))
    w = np.linalg.solve(X.T @ X / p + lam * np.eye(n), X.T @ y / p)
    etr = np.mean((y - X @ w) ** 2)
    sh = X.T @ X / p
    df = np.trace(sh @ np.linalg.inv(sh + lam * np.eye(n)))
    return etr / (1 - df / p) ** 2, kappa


@pytest.mark.parametrize("p,n", [(120, 40), (40, 120)])
def test_gcv_matches_the_matrix_definitions(p, n, rng):
    X = rng.normal(size=(p, n)) * np.linspace(0.2, 1.5, n)
    y = X @ rng.normal(size=n) / np.sqrt(n) + 0.3 * rng.normal(size=p)
    lam = np.array([1e-3, 0.1, 2.0])
    out = freeprob.gcv(X, y, lam)
    for i, l in enumerate(lam):
        g, k = brute_gcv(X, y, l)
        # one SVD vs explicit inverses: agreement to rounding amplified by the
        # conditioning of K + lam (lam = 1e-3): 1e-8
        assert out["gcv"][i] == pytest.approx(g, rel=1e-8)
        assert out["kappa_hat"][i] == pytest.approx(k, rel=1e-8)
    # the lam = 0 limit is the limit of small lam on both sides of P = N
    z, small = freeprob.gcv(X, y, [0.0, 1e-9])["gcv"]
    assert z == pytest.approx(small, rel=1e-5)


@pytest.mark.montecarlo
@pytest.mark.parametrize("case", ["isotropic-under", "isotropic-over", "powerlaw-source"])
def test_simulation_against_theory(case, rng):
    if case == "isotropic-under":
        model = freeprob.LinearRidge(freeprob.Identity(1), noise=0.25, samples=300, ridge=1e-2, dimension=150)
    elif case == "isotropic-over":
        model = freeprob.LinearRidge(freeprob.Identity(1), noise=0.25, samples=100, ridge=1e-2, dimension=200)
    else:
        model = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 300), target=freeprob.SourceTarget(0.7), noise=0.1,
                                     samples=150, ridge=1e-2)
    ridge = [0.0, 1e-2, 0.3]
    sim = freeprob.simulate(model, seeds=40, rng=rng, ridge=ridge)
    # every component within 4 s.e. plus a 3% finite-size allowance at
    # N ~ 200 (pitfall P10; ridgeless points deviate most)
    rows = freeprob.compare(model, sim, ridge=ridge, allowance=0.03, out=lambda s: None)
    bad = [r for r in rows if not r["ok"]]
    assert not bad, bad


def test_executor_gives_the_same_result():
    model = freeprob.LinearRidge(freeprob.Identity(1), noise=0.1, samples=60, ridge=0.1, dimension=30)
    a = freeprob.simulate(model, seeds=6, rng=np.random.default_rng(5))
    with ThreadPoolExecutor(2) as ex:
        b = freeprob.simulate(model, seeds=6, rng=np.random.default_rng(5), executor=ex)
    for key in a:
        assert np.array_equal(a[key][0], b[key][0])


def test_bad_input(rng):
    with pytest.raises(ParameterError, match="ridge"):
        freeprob.gcv(np.ones((5, 2)), np.ones(5), -1.0)
    with pytest.raises(ParameterError, match="X, y"):
        freeprob.gcv(np.ones((5, 2)), np.ones(4), 1.0)
    model = freeprob.LinearRidge(freeprob.Identity(1), samples=10, ridge=0.1, dimension=5)
    with pytest.raises(ParameterError, match="rng"):
        freeprob.simulate(model, seeds=4, rng=3)
    with pytest.raises(ParameterError, match="seeds"):
        freeprob.simulate(model, seeds=1, rng=rng)


def test_two_draws_are_refused_rather_than_a_nan_standard_error():
    # the bias/variance split's standard error is a jackknife that leaves one
    # draw out: with two draws (per axis of the RF grid) it was NaN

    rng = np.random.default_rng(0)
    lin = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 50), noise=0.1, samples=40, ridge=1e-2)
    rf = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 50), widths=30, noise=0.1, samples=40, ridge=1e-2)
    for model, seeds in ((lin, 2), (rf, (2, 5)), (rf, (5, 2)), (lin.replace(estimator=freeprob.GradientFlow(2.0)), 2)):
        with pytest.raises(ParameterError, match="seeds"):
            freeprob.simulate(model, seeds=seeds, rng=rng)
    out = freeprob.simulate(lin, seeds=3, rng=rng)
    assert all(np.all(np.isfinite(v)) for pair in out.values() for v in pair)


def test_nonlinear_features_take_the_dimension_their_population_fixes():
    nl = freeprob.NonlinearRandomFeatureRidge(freeprob.PowerLaw(1.5, 50), widths=30, noise=0.1, samples=40,
                                              ridge=1e-2)
    assert nl.dimension == 50
    out = freeprob.simulate(nl, seeds=(3, 3), rng=np.random.default_rng(0))  # an AttributeError before
    assert all(np.all(np.isfinite(v)) for pair in out.values() for v in pair)
