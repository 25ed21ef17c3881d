"""The conjugate rewrite is exact and removes cancellation."""

import mpmath
import numpy as np
import sympy as sp

import freeprob
from freeprob.conventions import lam, q, z
from freeprob.numeric.stable import rationalize


def test_rewrite_is_the_same_function():
    for law in (freeprob.MarchenkoPastur(q), freeprob.Semicircle(sp.Symbol("v", positive=True), 2)):
        for expr, var in ((law.df1(lam), lam), (law.stieltjes(z), z)):
            r = rationalize(expr)
            for pt in (sp.Rational(7, 3), sp.Rational(1, 50), 40):
                subs = {var: -pt if var is z else pt, q: sp.Rational(3, 2), sp.Symbol("v", positive=True): 2}
                assert abs(complex(sp.N((expr - r).subs(subs), 30))) < 1e-25


def test_df1_accurate_at_huge_ridge():
    # the naive 1 + lam g(-lam) loses log10(lam) digits; the rewrite keeps them
    for law in (freeprob.MarchenkoPastur(0.5), freeprob.MarchenkoPastur(2), freeprob.Semicircle(1, 3)):
        lams = np.array([1e3, 1e6, 1e9])
        fast = law.df1_numeric(lams)
        ref = law.df1_numeric(lams, dps=40)
        assert all(abs(f - complex(r).real) <= 4e-16 * abs(complex(r).real) for f, r in zip(fast, ref))


def test_near_the_atom():
    # q > 1: the rewritten form cancels near z = 0, the original does not; the
    # Piecewise picks the stable one
    law = freeprob.MarchenkoPastur(2)
    zs = np.array([-1e-10, -1e-6, 1e-9j])
    fast = law.stieltjes_numeric(zs)
    ref = law.stieltjes_numeric(zs, dps=40)
    assert all(abs(f - complex(r)) <= 1e-15 * abs(complex(r)) for f, r in zip(fast, ref))
    with mpmath.workdps(15):
        pass
