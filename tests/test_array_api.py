"""The linear Monte Carlo in any array namespace (freeprob.montecarlo._xp):
under array_api_strict, which refuses every numpy-only call, the draws give
numpy's results to float tolerance."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import freeprob
from freeprob.errors import ParameterError
from freeprob.laws import Affine

xps = pytest.importorskip("array_api_strict")


# array_api_strict runs numpy underneath; 1e-12 is the allowance for a
# library that orders its reductions differently (float64 sums over at most a
# few hundred terms, with cancellation in Var_X).  A value that is the
# rounding of terms of the size of E_g (E_tr = 0 at ridge 0 below the
# interpolation threshold: 2.8e-31 under both, from different roundings with
# array_api_strict 2.6) is compared on that scale, 1e-14 E_g
def _max_rel(a, b):
    out = 0.0
    floor = 1e-14 * float(np.max(np.abs(np.asarray(a["Eg"][0], float)))) if "Eg" in a else 1e-300
    for k in a:
        x, y = np.asarray(a[k][0], float), np.asarray(b[k][0], float)
        assert np.array_equal(np.isfinite(x), np.isfinite(y)), k
        fin = np.isfinite(x)
        out = max(out, float(np.max(np.abs(x[fin] - y[fin]) / np.maximum(np.abs(x[fin]), floor), initial=0.0)))
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


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("widths, samples", [(30, 40), (50, 20)])
def test_nonlinear_features_under_array_api_strict(activation, widths, samples):
    # relu is compiled for the namespace (Piecewise as where); erf, outside
    # the standard, is applied on the host; the exact kernels in the namespace
    nl = freeprob.NonlinearRandomFeatureRidge(freeprob.PowerLaw(1.5, 60), widths=widths, samples=samples,
                                              ridge=1e-2, noise=0.1, target=freeprob.SourceTarget(0.7),
                                              activation=activation)
    lam = np.array([1e-3, 1e-2, 1.0])
    a = freeprob.simulate(nl, seeds=(3, 4), rng=np.random.default_rng(7), ridge=lam)
    b = freeprob.simulate(nl, seeds=(3, 4), rng=np.random.default_rng(7), ridge=lam, xp=xps)
    assert set(a) == set(b) and {"Eg", "Etr", "gcv"} <= set(a)
    assert _max_rel(a, b) <= 1e-12


def test_elementwise_activation_is_the_sympy_expression_in_the_namespace():
    # a second route: sympy's numpy lambdify on the same points
    import sympy as sp

    from freeprob.numeric.elementwise import compile_elementwise

    h = sp.Symbol("h", real=True)
    x = np.linspace(-3, 3, 13)
    for expr in (sp.Piecewise((h, h > 0), (h / 10, h > -1), (0, True)), sp.tanh(h) * sp.exp(-h**2 / 2),
                 sp.Max(h, 0) ** 2 + sp.atan(h) + sp.Abs(h), sp.Integer(2)):
        got = np.asarray(compile_elementwise(expr, h, xps)(xps.asarray(x)))
        want = np.broadcast_to(sp.lambdify(h, expr, "numpy")(x), x.shape)
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)
    with pytest.raises(ParameterError, match="erf"):
        compile_elementwise(sp.erf(h), h, xps)
    with pytest.raises(ParameterError, match="expr"):
        compile_elementwise(h * sp.Symbol("c"), h, xps)


def test_bad_namespaces_are_refused():
    lin = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 60), samples=40, ridge=1e-2)
    with pytest.raises(ParameterError, match="xp"):
        freeprob.simulate(lin, seeds=3, rng=np.random.default_rng(0), xp=object())
    import math

    with pytest.raises(ParameterError, match="xp"):
        freeprob.simulate(lin, seeds=3, rng=np.random.default_rng(0), xp=math)


SAMPLED_LAWS = [freeprob.Semicircle(1), freeprob.MarchenkoPastur(0.5), freeprob.MarchenkoPastur(2),
                freeprob.free_add(freeprob.MarchenkoPastur(0.5), freeprob.Semicircle(1)),
                freeprob.free_mul(freeprob.MarchenkoPastur(0.5), freeprob.Discrete([1, 3])),
                freeprob.AR1(0.5), freeprob.PowerLaw(1.5, 200), freeprob.WishartProduct([0.5, 2]),
                Affine(freeprob.MarchenkoPastur(2), 2, 1)]


@pytest.mark.parametrize("law", SAMPLED_LAWS, ids=lambda law: type(law).__name__)
def test_samplers_under_array_api_strict(law):
    # Haar rotations, Wigner and Wishart draws, their products and eigvalsh in
    # the namespace: numpy's eigenvalues to rounding, and the law's spectrum
    # (Kolmogorov distance within the i.i.d. 99% bound, conservative for
    # rigid eigenvalues)
    from freeprob.montecarlo import sampling
    from freeprob.montecarlo._xp import to_numpy

    a = sampling.sample_eigenvalues(law, 200, np.random.default_rng(0))
    b = sampling.sample_eigenvalues(law, 200, np.random.default_rng(0), xp=xps)
    assert type(b).__module__.startswith("array_api_strict")
    b = to_numpy(b)
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * max(1.0, float(np.abs(a).max())))
    assert sampling.ks_distance(b, law) < sampling.ks_tolerance(200)


def test_haar_rotation_and_population_wishart_under_array_api_strict():
    from freeprob.montecarlo import sampling
    from freeprob.montecarlo._xp import to_numpy

    q = to_numpy(sampling.haar_orthogonal(60, np.random.default_rng(1), xp=xps))
    np.testing.assert_allclose(q @ q.T, np.eye(60), atol=1e-13)
    np.testing.assert_array_equal(q, sampling.haar_orthogonal(60, np.random.default_rng(1)))
    sig = np.repeat([1.0, 2.0, 4.0], 30)
    for p in (40, 200):   # the P x P Gram with its zeros, and the N x N one
        a = sampling.population_wishart_eigenvalues(sig, p, np.random.default_rng(2))
        b = to_numpy(sampling.population_wishart_eigenvalues(sig, p, np.random.default_rng(2), xp=xps))
        np.testing.assert_allclose(b, a, atol=1e-12)


def test_a_numpy_only_sampler_is_moved_to_the_namespace():
    from dataclasses import dataclass

    from freeprob.montecarlo import sampling

    @dataclass(frozen=True)
    class Twice:
        def _require_numeric(self, name):
            return None

    # (a class local to this test: its registration reaches nothing else)
    sampling.register_sampler(Twice)(lambda law, n, rng: np.full(n, 2.0))
    out = sampling.sample_eigenvalues(Twice(), 5, np.random.default_rng(0), xp=xps)
    assert type(out).__module__.startswith("array_api_strict") and float(xps.sum(out)) == 10.0
