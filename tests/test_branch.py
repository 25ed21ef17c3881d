"""The physical branch: closed forms and the numeric evaluator against an
mpmath root chosen by continuation from infinity (an independent route,
freeprob.laws._branch), at z = -lam for lam in [1e-8, 1e6], far out, and just
above the support."""

import mpmath
import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob.errors import BranchError
from freeprob.laws._branch import certify, continuation_root

LAWS = [
    freeprob.MarchenkoPastur(sp.Rational(1, 2)),
    freeprob.MarchenkoPastur(1),
    freeprob.MarchenkoPastur(3),
    freeprob.MarchenkoPastur(sp.Rational(3, 10), 2),
    freeprob.Semicircle(1, 3),
    freeprob.Semicircle(sp.Rational(1, 4), -1),
    freeprob.MarchenkoPastur(2).shifted(1),
    freeprob.Discrete([1, 2, 5]),
]


def points(law):
    lo = min([a for a, _ in law._ac_intervals()] + list(np.real(law._atom_points())))
    lam = np.logspace(-8, 6, 15)
    neg = lo - lam if lo > -np.inf else -lam
    inside = [0.5 * (a + b) + 1e-12j for a, b in law._ac_intervals()]
    inside += [a + 0.1 * (b - a) + 1e-12j for a, b in law._ac_intervals()]
    far = [1e7 * (1 + 1j), -1e7 + 0j, 1e7 + 1e-3j]
    return np.concatenate([neg.astype(complex), inside, far])


@pytest.mark.parametrize("law", LAWS, ids=repr)
def test_numeric_and_mpmath_agree_with_continuation(law):
    zs = points(law)
    cont = law.stieltjes_numeric(zs, method="continuation", dps=40)
    mp = law.stieltjes_numeric(zs, dps=40)
    fl = law.stieltjes_numeric(zs)
    # derivative by a symmetric step along the imaginary direction (never
    # crosses the cut), at 40 digits
    h = 1e-20
    gp = (law.stieltjes_numeric(zs + 1j * h, dps=40) - law.stieltjes_numeric(zs - 1j * h, dps=40)) / (2j * h)
    radius = law._numeric_radius()
    for z, c, m, f, d in zip(zs, cont, mp, fl, gp):
        # 40-digit closed form vs 40-digit continuation: 1e-35 relative
        assert abs(m - c) <= mpmath.mpf(10) ** -35 * abs(c), z
        # float64: the inputs (z and the edges, of size |z| + radius) carry a
        # rounding of eps (|z| + radius), amplified by |g'/g| (large next to a
        # square-root edge); 8 ulps of that plus 1e-14 for the evaluation
        cond = (abs(z) + radius) * abs(complex(d)) / abs(complex(c))
        assert abs(complex(c) - f) <= (1e-14 + 8 * 2.2e-16 * cond) * abs(complex(c)), z


def test_fifty_digits():
    law = freeprob.MarchenkoPastur(sp.Rational(1, 2))
    z = np.array([-2.0, 1 + 1j])
    a = law.stieltjes_numeric(z, dps=50)
    b = law.stieltjes_numeric(z, dps=60)
    assert all(abs(x - y) <= mpmath.mpf(10) ** -49 * abs(y) for x, y in zip(a, b))
    d = law.df1_numeric(np.array([1e-3, 1.0, 1e5]), dps=50)
    e = law.df1_numeric(np.array([1e-3, 1.0, 1e5]), dps=60)
    assert all(abs(x - y) <= mpmath.mpf(10) ** -49 * abs(y) for x, y in zip(d, e))


def test_negative_axis_is_negative_and_df1_positive():
    law = freeprob.MarchenkoPastur(3)
    lam = np.logspace(-8, 6, 50)
    g = law.stieltjes_numeric(-lam + 0j)
    assert np.all(g.real < 0) and np.all(g.imag == 0)
    df1 = 1 + lam * g.real
    assert np.all((df1 > 0) & (df1 <= 1))


def test_naive_square_root_of_product_is_caught():
    # sqrt((z - a)(z - b)) has a spurious cut on Re z = (a + b)/2 and gives the
    # non-Herglotz root on half the plane; the certificate rejects it.
    a, b = (1 - np.sqrt(0.5)) ** 2, (1 + np.sqrt(0.5)) ** 2
    z = np.array([0.2 + 5j, -3.0 + 0j])
    naive = (z + 0.5 - 1 - np.sqrt((z - a) * (z - b))) / (2 * 0.5 * z)
    with pytest.raises(BranchError):
        certify(z[:1], naive[:1])
    good = freeprob.MarchenkoPastur(0.5).stieltjes_numeric(z)
    assert not np.allclose(naive, good)


def test_signed_zero_does_not_flip_the_branch():
    # -(2+0j) - 4 = -6-0j: numpy's sqrt would take the lower lip; freeprob's
    # evaluator reads -0.0 as +0.0 and stays on the physical branch.
    law = freeprob.Semicircle(1, 3)
    g = law.stieltjes_numeric(np.array([complex(-1.0, -0.0), complex(-1.0, 0.0)]))
    assert g[0] == g[1] and g[0].real < 0


def test_continuation_root_matches_closed_form_semicircle():
    coeffs = lambda zz: [mpmath.mpf(1), -zz, mpmath.mpf(1)]
    for zv in (-1e-6 - 2, -3.0, 2.5, 1 + 1e-12j):
        g = continuation_root(coeffs, zv, radius=2, dps=30)
        with mpmath.workdps(30):
            zm = mpmath.mpmathify(zv)
            closed = (zm - mpmath.sqrt(zm - 2) * mpmath.sqrt(zm + 2)) / 2
            assert abs(g - closed) < mpmath.mpf(10) ** -25
