"""A property sweep over the catalogue of populations crossed with the models
(issue 14).

Every call either returns finite values that satisfy the invariants, or
raises a freeprob error; the only infinities allowed are the derived exact
ones at ``lambda = 0`` (``S = kappa/lambda`` in the overparameterized
regime, the variance at the interpolation threshold with noise).  The
invariants: ``E_g >= 0``, ``0 <= gamma <= 1`` (``gamma = 1`` only at the
threshold), ``df2 <= df1``, the gap identity ``E_g + sigma^2 = S^2 E_tr``,
and at ``lambda = 0`` with ``q > 1`` (more effective dimensions than
samples) ``E_tr = 0``.  The linear model is swept exhaustively; random
features are sampled by Hypothesis.  Each test records how many cases ran
and how many raised (``record_property``), and fails if too few evaluated.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import freeprob as fp
from freeprob.errors import FreeprobError

RIDGES = np.array([0.0, 1e-12, 1e-3, 1.0, 1e6])
RATIOS = (0.1, 1.0, 10.0)
NOISES = (0.0, 0.1)

POPULATIONS = {
    "MP q<1": (fp.MarchenkoPastur(0.5), 200),
    "MP q=1": (fp.MarchenkoPastur(1), 200),
    "MP q>1": (fp.MarchenkoPastur(2), 200),
    "semicircle shifted": (fp.Semicircle(1, 3), 200),
    "discrete exact": (fp.Discrete([1, 2, 4]), None),
    "discrete float, atom at 0": (fp.Discrete([0.0, 1.0, 3.0], [0.25, 0.5, 0.25]), None),
    "powerlaw 1e3": (fp.PowerLaw(1.5, 1000), None),
    "powerlaw 1e9": (fp.PowerLaw(1.5, 10**9), None),
    "powerlaw oo": (fp.PowerLaw(1.5, sp.oo), None),
    "free sum": (fp.free_add(fp.MarchenkoPastur(0.5), fp.Semicircle(1, 5)), 200),
    "free product": (fp.free_mul(fp.MarchenkoPastur(0.5), fp.Discrete([1, 2])), 200),
    "Wishart product": (fp.WishartProduct([2, 3]), 300),
    # an atom at 0 known by subordination only, and a density ~ x^(-3/4) at 0 without an atom
    "curveless product, atom at 0": (fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 30)), 200),
    "hard edge, no atom": (fp.WishartProduct([1, 1, 1]), 300),
    "affine MP": (fp.MarchenkoPastur(0.5).scaled(2).shifted(1), 200),
}


def _target(law):
    return fp.SourceTarget(0.75) if law.catalogue_name == "powerlaw" else None


def _samples(law, dim, q):
    n = 1 if dim is None and law.catalogue_name == "powerlaw" and law.n is sp.oo else None
    size = dim if dim is not None else (law.finite_spectrum.size if n is None else None)
    if size is None:          # the kernel limit: q = 1/P [C16]
        return max(1, int(round(1 / q * 100)))
    return max(1, int(round(float(size) / q)))


def _check(out, lam, noise, kernel=False):
    eg, etr, s, gamma = out["Eg"], out["Etr"], out["S"], out["gamma"]
    d1, d2 = out["df1"], out["df2"]
    ridgeless = lam == 0
    thresh = ridgeless & (gamma == 1.0)
    for key, val in out.items():
        bad = ~np.isfinite(val)
        if key == "S":
            bad &= ~(ridgeless & (val == np.inf))
        if key in ("var_X_noise", "Eg"):
            bad &= ~(thresh & (val == np.inf) & (noise > 0))
        assert not np.any(bad), (key, val)
    # E_g = Bias^2 + ... with Bias^2 = kappa (df1 - df2) for the isotropic
    # target: df1 and df2 of a continuous law come from separate closed forms,
    # so near kappa = 0 the difference carries ~eps of df1 (allowed: 8 eps)
    tol = 8 * np.finfo(float).eps * np.maximum(1.0, np.abs(d1))
    assert np.all(eg >= -tol) and np.all(etr >= -tol), (eg, etr)
    assert np.all((gamma >= 0) & ((gamma < 1) | thresh))
    assert np.all(d2 <= d1 * (1 + 1e-12) + 1e-300)
    fin = np.isfinite(s) & np.isfinite(eg)
    np.testing.assert_allclose((eg + noise)[fin], s[fin] ** 2 * etr[fin], rtol=1e-8)
    assert np.all(etr[ridgeless & ~np.isfinite(s)] == 0)


def test_linear_ridge_over_the_catalogue(record_property):
    ran = raised = 0
    for name, (law, dim) in POPULATIONS.items():
        for q in RATIOS:
            for noise in NOISES:
                p = _samples(law, dim, q)
                try:
                    m = fp.LinearRidge(law, target=_target(law), samples=p, noise=noise, dimension=dim)
                    out = m.evaluate(ridge=RIDGES)
                except FreeprobError:
                    raised += 1
                    continue
                finally:
                    ran += 1
                _check(out, RIDGES, noise)
    record_property("linear_cases", ran * RIDGES.size)
    record_property("linear_raised", raised)
    print(f"linear ridge: {ran} models x {RIDGES.size} ridges, {raised} raised a freeprob error")
    assert ran == len(POPULATIONS) * len(RATIOS) * len(NOISES) and raised == 0


_RF_OUTCOMES: list = []  # (population, variant, outcome) of every case the sweep ran
RF_VARIANTS = ("white", "deep", "anisotropic", "feature noise", "nonlinear")
# a representative subset (each kind of law once); 1e9 is covered by the kernel case
RF_POPULATIONS = ["MP q<1", "MP q>1", "discrete float, atom at 0", "powerlaw 1e3", "powerlaw oo", "free product",
                  "Wishart product", "affine MP", "curveless product, atom at 0", "hard edge, no atom"]


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(RF_POPULATIONS), variant=st.sampled_from(RF_VARIANTS), q=st.sampled_from(RATIOS),
       noise=st.sampled_from(NOISES), width_ratio=st.sampled_from([0.5, 2.0]))
def test_random_features_over_the_catalogue(name, variant, q, noise, width_ratio):
    law, dim = POPULATIONS[name]
    p = _samples(law, dim, q)
    width = max(2, int(p * width_ratio))
    kw = dict(target=_target(law), samples=p, noise=noise, dimension=dim, ridge=0)
    try:
        if variant == "nonlinear":
            m = fp.NonlinearRandomFeatureRidge(law, [width], activation="relu", **kw)
        elif variant == "deep":
            m = fp.RandomFeatureRidge(law, [width, max(2, width // 2)], **kw)
        elif variant == "anisotropic":
            m = fp.RandomFeatureRidge(law, [width], feature_covariance=fp.MarchenkoPastur(0.5), **kw)
        elif variant == "feature noise":
            m = fp.RandomFeatureRidge(law, [width], feature_noise=0.1, **kw)
        else:
            m = fp.RandomFeatureRidge(law, [width], **kw)
        out = m.evaluate(ridge=RIDGES)
    except FreeprobError as exc:
        _RF_OUTCOMES.append((name, variant, type(exc).__name__))
        return   # a clear, typed refusal is an allowed outcome
    _RF_OUTCOMES.append((name, variant, "ok"))
    for key, val in out.items():
        # (var_XF at the random-feature peak P = min N_l, with or without noise)
        bad = ~np.isfinite(val) & ~((RIDGES == 0) & (val == np.inf) &
                                    (key in ("var_X_noise", "var_XF", "var_XF_noise", "Eg")))
        assert not np.any(bad), (name, variant, key, val)
    # kappa_2 = 0 is evaluated at 1e-150, where every expression equals its
    # limit to rounding: allow the same 8 eps as the linear sweep
    assert np.all(out["Eg"] >= -8 * np.finfo(float).eps), (name, variant, out["Eg"])
    assert np.all(out["df2"] <= out["df1"] * (1 + 1e-12) + 1e-300)


def test_random_features_sweep_mostly_evaluates(record_property):
    """Runs after the sweep above (file order): the refusals are few and typed."""
    if not _RF_OUTCOMES:
        pytest.skip("the sweep did not run in this session")
    ok = sum(o == "ok" for *_, o in _RF_OUTCOMES)
    record_property("rf_cases", len(_RF_OUTCOMES) * RIDGES.size)
    record_property("rf_raised", len(_RF_OUTCOMES) - ok)
    print(f"random features: {len(_RF_OUTCOMES)} models x {RIDGES.size} ridges, "
          f"{len(_RF_OUTCOMES) - ok} raised: {[t for t in _RF_OUTCOMES if t[2] != 'ok']}")
    assert ok >= 0.75 * len(_RF_OUTCOMES)
