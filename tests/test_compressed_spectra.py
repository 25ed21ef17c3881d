"""Compressed spectra (freeprob.numeric.compress): the Chebyshev cluster rule
against exactly rounded sums, and every key of the models against the atom-by-
atom evaluation (the compression switched off)."""

import math

import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob.numeric import compile as compile_mod
from freeprob.numeric.cache import clear_caches
from freeprob.numeric.compress import (
    NODES,
    compressed_atoms,
    compressed_rule,
    far_clusters,
    pole_shifts,
)
from freeprob.numeric.spectrum import ArraySpectrum


def _catalogue():
    rng = np.random.default_rng(0)
    n = 30000
    return {
        "uniform": (rng.uniform(0.01, 1, n), None),
        "power law over 8 decades": (np.arange(1, n + 1) ** -1.8, None),
        "lognormal, random weights": (rng.lognormal(0, 3, n), rng.dirichlet(np.ones(n))),
        "30% atoms at zero": (np.concatenate([np.zeros(n // 3), rng.exponential(1, n - n // 3)]), None),
        "ties": (np.repeat(rng.uniform(0.1, 2, 30), 1000), None),
        "two narrow clusters": (np.concatenate([1 + 1e-9 * rng.standard_normal(n // 2),
                                                3 + rng.uniform(0, 1e-3, n // 2)]), None),
        "tiny and huge": (np.concatenate([rng.uniform(1e-300, 1e-290, n // 2), rng.uniform(1e200, 1e201, n // 2)]),
                          None),
    }


_SUMMANDS = {
    "x/(x+k)": lambda x, k: x / (x + k),
    "x^2/(x+k)^2": lambda x, k: x * x / (x + k) ** 2,
    "k x/(x+k)^2": lambda x, k: k * x / (x + k) ** 2,
    "k^3/(x+k)^3": lambda x, k: (k / (x + k)) ** 3,
    "x^2/(x+k)": lambda x, k: x * x / (x + k),
}


@pytest.mark.parametrize("name", sorted(_catalogue()))
def test_compressed_rule_equals_the_exactly_rounded_sum(name):
    # the rule's error bound (module docstring) is below 1e-16 max|f| per
    # cluster; measured against math.fsum of the atoms, 4e-15 of sum p|f|
    # covers the rounding of the node sums themselves
    v, w = _catalogue()[name]
    rule = compressed_atoms(ArraySpectrum(v, w))
    assert rule is not None
    nodes, weights = rule
    assert nodes.size * 4 <= v.size
    p = np.full(v.size, 1.0 / v.size) if w is None else w
    scale = float(np.max(v))
    for label, f in _SUMMANDS.items():
        for k in np.concatenate([[0.0], scale * np.logspace(-14, 6, 41)]):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
                fv, fn = f(v, k), f(nodes, k)
            # the atom at 0: the summand's limit x -> 0+ at this k (0 if k = 0)
            lim = 0.0 if k == 0 else (1.0 if label == "k^3/(x+k)^3" else 0.0)
            fv, fn = np.where(v == 0, lim, fv), np.where(nodes == 0, lim, fn)
            exact = math.fsum(p * fv)
            size = math.fsum(p * np.abs(fv))
            if size == 0 or not np.isfinite(size):
                continue
            got = float(weights @ fn)
            assert abs(got - exact) <= 4e-15 * size, (label, k, got, exact)


def test_compressed_rule_is_exact_for_low_degree_polynomials():
    v = np.random.default_rng(3).uniform(0.5, 50.0, 20000)
    nodes, weights = compressed_atoms(ArraySpectrum(v, None))
    for d in range(NODES):
        ref = math.fsum((v / 50.0) ** d) / v.size
        assert abs(weights @ (nodes / 50.0) ** d - ref) <= 1e-14 * ref, d


def test_compression_declines_where_it_does_not_apply():
    rng = np.random.default_rng(1)
    assert compressed_atoms(ArraySpectrum(rng.uniform(0.1, 1, 500), None)) is None       # too few atoms
    assert compressed_atoms(ArraySpectrum(rng.uniform(-1, 1, 10**4), None)) is None      # negative atoms
    assert compressed_atoms(ArraySpectrum(np.geomspace(1e-300, 1e300, 10**4), None)) is None  # no gain


def test_pole_shifts_classify_the_summands():
    x, k, t = sp.symbols("x k t")
    assert pole_shifts([x / (x + k), k * x / (x + k) ** 2], x) == (k,)
    assert pole_shifts([x**2 + 1], x) == ()
    assert pole_shifts([sp.exp(-t * x)], x) is None             # a filter: summed atom by atom
    assert pole_shifts([1 / (x**2 + k)], x) is None             # a pole off the negative axis
    assert pole_shifts([x**5 / (x + k)], x) is None             # polynomial growth beyond the bound
    assert pole_shifts([1 / (x + k) ** 5], x) is None           # a pole of order above 4


def _without_compression(monkeypatch, fn):
    clear_caches()
    monkeypatch.setattr(compile_mod, "compressed_rule", lambda spec: None)
    try:
        return fn()
    finally:
        monkeypatch.undo()
        clear_caches()


def _models():
    rng = np.random.default_rng(7)
    v = rng.uniform(0.01, 1.0, 20000) ** 2
    eta = np.arange(1, 20001) ** -1.5
    pop = freeprob.Discrete(v)
    return {
        "linear, q = 2": freeprob.LinearRidge(pop, samples=10000, noise=0.1),
        "linear, q = 1/2, zero atoms": freeprob.LinearRidge(freeprob.Discrete(np.concatenate([v, np.zeros(5000)])),
                                                            samples=50000, noise=0.2),
        "linear, source target": freeprob.LinearRidge(freeprob.PowerLaw(1.5, 20000),
                                                      target=freeprob.SourceTarget(0.6), samples=3000, noise=0.05),
        "random features": freeprob.RandomFeatureRidge(pop, widths=6000, samples=10000, noise=0.1),
        "random features, anisotropic": freeprob.RandomFeatureRidge(
            freeprob.Discrete(eta), widths=5000, samples=3000, noise=0.1,
            feature_covariance=freeprob.PowerLaw(0.7, 5000)),
    }


def _term_scale(out, model):
    """The size of the terms each key is computed from: a key evaluated as a
    difference (``1 - gamma_1``-type fractions, ``Var_XF`` as the remainder
    of ``E_inf``, ``kappa_1 = kappa_2 (psi - df1)``) keeps absolute, not
    relative, accuracy in either evaluation."""
    errors = np.abs(out["Eg"]) + float(model.noise)
    scale = {key: errors for key in out}
    for key in ("df1", "df2", "gamma", "gamma1", "gamma2", "rho"):
        scale[key] = np.ones_like(errors)
    scale["kappa"] = scale["kappa2"] = np.zeros_like(errors)
    if "kappa1" in out:
        scale["kappa1"] = out["kappa2"] * float(model.widths[0]) / float(model.dimension)
    scale["S"] = np.zeros_like(errors)
    return scale


@pytest.mark.parametrize("name", sorted(_models()))
def test_every_key_equals_the_atom_by_atom_evaluation(name, monkeypatch):
    # the bar: the fused, compressed evaluation equals the unfused
    # atom-by-atom one to 1e-13 for every key -- relative, or 2e-15 of the
    # terms a key is computed from where it is a difference (_term_scale):
    # a few ulp of each O(1) term (rho of random features at ridge 1.7e-5,
    # 4.2e-4 as a difference of O(1) terms, measured 1.25e-15 = 5.6 ulp of 1
    # with numpy 2.4; gamma_1 = 1 - lam'/kappa_1' of anisotropic random
    # features at ridge 1e2, 1.6e-13, measured 2.55e-15 = 11.5 ulp of 1 with
    # the maps at sigma_xi^2 = 0, whose separable means sum in another order)
    model = _models()[name]
    ridge = np.logspace(-6, 2, 60)
    fast = model.evaluate(ridge=ridge)
    slow = _without_compression(monkeypatch, lambda: model.evaluate(ridge=ridge))
    scale = _term_scale(slow, model)
    for key in fast:
        a, b = np.asarray(fast[key]), np.asarray(slow[key])
        assert np.all(np.isfinite(a)), key
        assert np.all(np.abs(a - b) <= 1e-13 * np.abs(b) + 4e-15 * scale[key]), (key, np.max(np.abs(a - b)))


@pytest.mark.parametrize("spec", ["uniform", "power law over 8 decades", "30% atoms at zero"])
def test_complex_poles_split_near_and_far_clusters(spec):
    # kappa off the real axis (the contour route): a cluster's nodes stand
    # for its atoms only where the pole is outside its Bernstein ellipse of
    # parameter RHO_FAR; next to the spectrum its atoms are summed.  Against
    # the exactly rounded sums, 4e-15 of sum p|f| as for real kappa
    v, w = _catalogue()[spec]
    p = np.full(v.size, 1.0 / v.size) if w is None else w
    law = freeprob.Discrete(v) if w is None else freeprob.Discrete(v, w)
    top = float(np.max(v))
    # poles -kappa next to, inside and far from the spectrum, both half planes
    kap = np.concatenate([top * np.geomspace(1e-9, 10, 12)[:, None] * np.array([1j, -1j, 1 + 1j, -0.5 + 1e-3j,
                                                                                -1 - 1e-6j])]).ravel()
    from freeprob import conventions as C
    from freeprob.numeric.compile import compile_expr
    from freeprob.numeric.spectrum import SpectralMean

    x = sp.Dummy("x")
    spec_ = law.spectrum
    exprs = (SpectralMean(x / (x + C.kappa), x, spec_), SpectralMean(C.kappa * x / (x + C.kappa) ** 2, x, spec_))
    fast = compile_expr(exprs, (C.kappa,), dtype=complex)(kap)
    for j, f in enumerate((lambda t, k: t / (t + k), lambda t, k: k * t / (t + k) ** 2)):
        for i, k in enumerate(kap):
            fv = np.where(v == 0, 0.0, f(v, k))
            exact = complex(math.fsum((p * fv).real), math.fsum((p * fv).imag))
            size = math.fsum(p * np.abs(fv))
            assert abs(fast[j][i] - exact) <= 4e-15 * size, (j, k, fast[j][i], exact)
    # both sides of the split were exercised
    far = far_clusters(compressed_rule(spec_), [kap])
    assert far.any() and (~far).any()


def test_peak_memory_of_a_million_eigenvalues():
    # blockwise and compressed: every key on 1000 ridges over 10^6
    # eigenvalues stays far below 100 MB (the dense temporary would be 8 GB)
    import tracemalloc

    v = np.random.default_rng(5).uniform(0.01, 1.0, 10**6)
    model = freeprob.LinearRidge(freeprob.Discrete(v), samples=5 * 10**5, noise=0.1)
    model.evaluate(ridge=np.array([0.1]))
    tracemalloc.start()
    out = model.evaluate(ridge=np.logspace(-6, 2, 1000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert np.all(np.isfinite(out["Eg"]))
    assert peak < 100 * 2**20, peak / 2**20
