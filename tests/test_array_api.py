"""The linear Monte Carlo in any array namespace (freeprob.montecarlo._xp):
under array_api_strict, which refuses every numpy-only call, the draws give
numpy's results to float tolerance."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import freeprob
from freeprob.errors import ParameterError

xps = pytest.importorskip("array_api_strict")


# array_api_strict runs numpy underneath, so the results agree exactly here;
# 1e-12 is the allowance for a library that orders its reductions differently
# (float64 sums over at most a few hundred terms, with cancellation in Var_X)
def _max_rel(a, b):
    out = 0.0
    for k in a:
        x, y = np.asarray(a[k][0], float), np.asarray(b[k][0], float)
        assert np.array_equal(np.isfinite(x), np.isfinite(y)), k
        fin = np.isfinite(x)
        out = max(out, float(np.max(np.abs(x[fin] - y[fin]) / np.maximum(np.abs(x[fin]), 1e-300), initial=0.0)))
    return out


@pytest.mark.parametrize("samples", [150, 400])
def test_ridge_sweep_under_array_api_strict(samples):
    # P < N and P > N (both branches of the thin SVD), the ridgeless point included
    m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 200), samples=samples, noise=0.1,
                             target=freeprob.SourceTarget(0.7))
    lam = np.array([0.0, 1e-3, 0.1, 10.0])
    a = freeprob.simulate(m, seeds=4, rng=np.random.default_rng(1), ridge=lam)
    b = freeprob.simulate(m, seeds=4, rng=np.random.default_rng(1), ridge=lam, xp=xps)
    assert set(a) == set(b)
    assert _max_rel(a, b) <= 1e-12


def test_gradient_flow_sweep_under_array_api_strict():
    m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 120), samples=90, noise=0.2,
                             estimator=freeprob.GradientFlow(time=1.0))
    kw = dict(seeds=3, sweep={"time": np.array([0.5, 5.0, 50.0])})
    a = freeprob.simulate(m, rng=np.random.default_rng(2), **kw)
    b = freeprob.simulate(m, rng=np.random.default_rng(2), xp=xps, **kw)
    assert _max_rel(a, b) <= 1e-12


def test_namespace_travels_to_executors_by_name():
    m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 80), samples=60, noise=0.1, ridge=1e-2)
    a = freeprob.simulate(m, seeds=4, rng=np.random.default_rng(3), xp=xps)
    with ThreadPoolExecutor(2) as ex:
        b = freeprob.simulate(m, seeds=4, rng=np.random.default_rng(3), xp=xps, executor=ex)
    assert _max_rel(a, b) == 0.0


@pytest.mark.parametrize("kw", [dict(widths=60, samples=80, feature_noise=0.05),       # white, feature noise
                                dict(widths=[70, 50], samples=40),                     # a deep chain
                                dict(widths=60, samples=80, feature_covariance=freeprob.PowerLaw(0.7, 60)),
                                dict(widths=200, samples=5)])                          # features in the outer loop
def test_random_features_under_array_api_strict(kw):
    # the crossed grid, every path of the grid loop, the ANOVA components
    m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 100), noise=0.1, target=freeprob.SourceTarget(0.7), **kw)
    lam = np.array([0.0, 1e-3, 0.1])
    a = freeprob.simulate(m, seeds=(3, 3), rng=np.random.default_rng(1), ridge=lam)
    b = freeprob.simulate(m, seeds=(3, 3), rng=np.random.default_rng(1), ridge=lam, xp=xps)
    assert set(a) == set(b)
    assert _max_rel(a, b) <= 1e-12
    with ThreadPoolExecutor(2) as ex:  # one task per data draw
        c = freeprob.simulate(m, seeds=(3, 3), rng=np.random.default_rng(1), ridge=lam, xp=xps, executor=ex)
    assert _max_rel(a, c) <= 1e-12


@pytest.mark.parametrize("noise_correlation", [None, "data"])
@pytest.mark.parametrize("sample_correlation", [freeprob.AR1(0.5), freeprob.MarchenkoPastur(0.5)])
def test_correlated_samples_under_array_api_strict(noise_correlation, sample_correlation):
    # AR(1) in time order (a Toeplitz Cholesky factor) and a law's quantiles;
    # white and data-correlated noise (the Hadamard-product noise term)
    m = freeprob.CorrelatedRidge(freeprob.PowerLaw(1.5, 60), sample_correlation, samples=40, noise=0.1,
                                 noise_correlation=noise_correlation)
    lam = np.array([0.0, 1e-3, 0.1, 10.0])
    a = freeprob.simulate(m, seeds=3, rng=np.random.default_rng(5), ridge=lam)
    b = freeprob.simulate(m, seeds=3, rng=np.random.default_rng(5), ridge=lam, xp=xps)
    assert set(a) == set(b)
    assert _max_rel(a, b) <= 1e-12


def test_other_models_and_bad_namespaces_are_refused():
    nl = freeprob.NonlinearRandomFeatureRidge(freeprob.PowerLaw(1.5, 60), widths=30, samples=40, ridge=1e-2,
                                              activation="relu")
    with pytest.raises(ParameterError, match="xp"):
        freeprob.simulate(nl, seeds=3, rng=np.random.default_rng(0), xp=xps)
    lin = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 60), samples=40, ridge=1e-2)
    with pytest.raises(ParameterError, match="xp"):
        freeprob.simulate(lin, seeds=3, rng=np.random.default_rng(0), xp=object())
    import math

    with pytest.raises(ParameterError, match="xp"):
        freeprob.simulate(lin, seeds=3, rng=np.random.default_rng(0), xp=math)
