"""Generic checks over the catalogue table (freeprob.laws._catalogue).

Every law with typical parameters must pass every identity check of
freeprob.app.check (each states its own tolerance and why), satisfy the
Herglotz sign at random points of the upper half plane (Hypothesis), and have
df1 monotone in [0, 1] on lam > 0 when it is a positive law.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import freeprob
from freeprob.app.check import run_checks
from freeprob.laws._catalogue import examples

LAWS = examples()
IDS = [label for label, _ in LAWS]


@pytest.mark.parametrize("label,law", LAWS, ids=IDS)
def test_identity_checks(label, law):
    results = run_checks(law, seed=7)
    failed = [r.row() for r in results if r.status == "FAIL"]
    assert not failed, "\n".join(failed)
    # a skipped check is reported as such, never as a pass, and every law has
    # at least one comparison with an independent route
    assert all(not r.passed for r in results if r.skipped)
    assert any(not r.skipped and r.check != "df1 monotone in [0, 1]" for r in results)


@pytest.mark.parametrize("label,law", LAWS, ids=IDS)
@given(re=st.floats(-6, 6), im=st.floats(1e-6, 6))
def test_herglotz_sign(label, law, re, im):
    radius = max(law._numeric_radius(), 1.0)
    z = np.array([complex(re * radius, im * radius)])
    g = law.stieltjes_numeric(z)
    assert g.imag[0] < 0 or (g.imag[0] == 0 and np.isfinite(g.real[0]))
    # conjugation symmetry g(conj z) = conj g(z)
    assert np.allclose(law.stieltjes_numeric(np.conj(z)), np.conj(g), rtol=1e-13, atol=0)


@pytest.mark.parametrize("label,law", LAWS, ids=IDS)
def test_asymptotics_at_infinity(label, law):
    # g ~ 1/z + m1/z^2: at |z| = 1e6 R the relative correction is ~1e-6
    radius = max(law._numeric_radius(), 1.0)
    z = 1e6 * radius * np.exp(1j * np.linspace(0.1, 3.0, 5))
    g = law.stieltjes_numeric(z)
    m1 = complex(law.moments(1)[0])
    assert np.allclose(z * g, 1 + m1 / z, rtol=1e-10, atol=0)


@pytest.mark.parametrize("label,law", [(lb, lw) for lb, lw in LAWS if min(
    [a for a, _ in lw._ac_intervals()] + list(np.real(lw._atom_points()))) >= 0], ids=lambda v: v if isinstance(v, str) else "")
def test_df1_monotone_in_unit_interval(label, law):
    lam = np.concatenate([[0.0], np.logspace(-8, 6, 300)])
    d1, d2 = law.df1_numeric(lam), law.df2_numeric(lam)
    assert d1[0] == pytest.approx(1 - law._mass_at_zero(), abs=1e-15)
    assert np.all(np.diff(d1) <= 1e-15) and np.all((d1 >= 0) & (d1 <= 1))
    # df2 <= df1 since eta^2/(eta+lam)^2 <= eta/(eta+lam) on eta >= 0
    assert np.all(d2 <= d1 + 1e-15)
    # the solvers' df1_with_slope compiles df1 and df2 together (one pass
    # over an atomic law's spectrum): the same values as each on its own,
    # to the rounding of a different common-subexpression order (1e-13:
    # a few hundred ulp of a sum of up to 1e5 atoms)
    p1, slope, p2 = law.df1_with_slope(lam[1:], df2=True)
    assert np.allclose(p1, d1[1:], rtol=1e-13, atol=0) and np.allclose(p2, d2[1:], rtol=1e-13, atol=1e-300)
    assert np.all(slope < 0)
    if law.finite_spectrum is not None:
        assert law._df_pair(lam[1:]) is not None


def test_atoms_of_marchenko_pastur():
    # [R1]: an atom of mass 1 - 1/q at 0 exactly when q > 1
    q = freeprob.conventions.q
    assert freeprob.MarchenkoPastur(4).atoms() == [(0, sp.Rational(3, 4))]
    assert freeprob.MarchenkoPastur(sp.Rational(1, 2)).atoms() == []
    assert freeprob.MarchenkoPastur(q).atoms() == [(0, sp.Max(0, 1 - 1 / q))]
    # the residue of g at 0 is the atom mass
    z = sp.Symbol("z")
    assert sp.limit(z * freeprob.MarchenkoPastur(4).stieltjes(z), z, 0) == sp.Rational(3, 4)
