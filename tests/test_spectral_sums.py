"""Spectral sums of atomic laws: unevaluated symbolically, blockwise numerically."""

import tracemalloc

import mpmath
import numpy as np
import sympy as sp

import freeprob
from freeprob.conventions import lam
from freeprob.numeric.spectrum import SpectralMean


def test_large_discrete_stays_unevaluated():
    law = freeprob.Discrete(np.linspace(0.01, 1, 10**6))
    expr = law.df1(lam)
    assert isinstance(expr, SpectralMean) and expr.free_symbols == {lam}
    # derivatives pass through the mean
    assert isinstance(sp.diff(expr, lam), SpectralMean)


def test_blockwise_sum_matches_direct_sum(rng):
    v = rng.uniform(0, 2, 5000)
    w = rng.uniform(0, 1, 5000)
    w /= w.sum()
    law = freeprob.Discrete(v, w)
    lams = np.logspace(-3, 3, 37)
    direct = np.array([np.sum(w * v / (v + l)) for l in lams])
    # float64 sums of 5000 terms in two orders: ~1e-15 relative
    assert np.allclose(law.df1_numeric(lams), direct, rtol=1e-13, atol=0)
    direct2 = np.array([np.sum(w * v**2 / (v + l) ** 2) for l in lams])
    assert np.allclose(law.df2_numeric(lams), direct2, rtol=1e-13, atol=0)


def test_no_points_by_atoms_temporary():
    # a 1000 x 100000 float64 temporary would be 800 MB; blocks are 2**15
    law = freeprob.Discrete(np.linspace(0.01, 1, 10**5))
    lams = np.logspace(-3, 2, 1000)
    law.df1_numeric(lams[:2])
    tracemalloc.start()
    law.df1_numeric(lams)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MB"


def test_mpmath_path_of_a_discrete_law():
    law = freeprob.Discrete([sp.Rational(1, 3), 2, 7])
    val = law.df1_numeric(np.array([0.1]), dps=50)[0]
    with mpmath.workdps(60):
        lam0 = mpmath.mpf(0.1)  # the binary float the caller passed, exactly
        exact = sum(v / (v + lam0) for v in (mpmath.mpf(1) / 3, mpmath.mpf(2), mpmath.mpf(7))) / 3
    assert abs(val - exact) < mpmath.mpf(10) ** -48


def test_powerlaw_symbolic_sum_and_latex():
    a, n = sp.Symbol("alpha", positive=True), sp.Symbol("n", integer=True, positive=True)
    expr = freeprob.PowerLaw(a, n).df1(lam)
    tex = freeprob.latex(expr)
    assert r"\sum_{k=1}^{n}" in tex and r"\lambda" in tex
    # substituting numbers and expanding gives the explicit finite sum
    explicit = expr.subs({a: 2, n: 3}).doit()
    assert sp.simplify(explicit - sum(sp.Integer(k) ** -2 / (sp.Integer(k) ** -2 + lam) for k in (1, 2, 3)) / 3) == 0
