"""Moments and free cumulants against independent tables (house rule 5).

Tables are computed here from their combinatorial definitions, not from
freeprob: Catalan numbers (semicircle), Narayana polynomials (Marchenko-Pastur),
generalized harmonic numbers (power law).  Exact equality: no tolerance.
"""

import sympy as sp

import freeprob
from freeprob.conventions import q


def narayana_moment(n, ratio):
    # m_n = sum_k N(n, k) q^(k-1),  N(n, k) = C(n, k) C(n, k-1) / n
    return sp.expand(sum(sp.binomial(n, k) * sp.binomial(n, k - 1) / n * ratio ** (k - 1) for k in range(1, n + 1)))


def test_semicircle_moments_are_catalan():
    m = freeprob.Semicircle().moments(12)
    for k in range(1, 13):
        expected = sp.catalan(k // 2) if k % 2 == 0 else 0
        assert m[k - 1] == expected


def test_semicircle_moments_by_every_route():
    law = freeprob.Semicircle()
    assert law.moments(10, method="cumulants") == law.moments(10, method="curve")


def test_marchenko_pastur_moments_are_narayana_polynomials():
    law = freeprob.MarchenkoPastur(q)
    for route in ("cumulants", "curve"):
        m = law.moments(8, method=route)
        for n in range(1, 9):
            assert sp.expand(m[n - 1] - narayana_moment(n, q)) == 0, (route, n)


def test_scaled_marchenko_pastur_moments():
    s = sp.Symbol("s", positive=True)
    m = freeprob.MarchenkoPastur(q, s).moments(5)
    assert all(sp.expand(m[n - 1] - s**n * narayana_moment(n, q)) == 0 for n in range(1, 6))


def test_semicircle_free_cumulants_vanish_beyond_two():
    v, c = sp.symbols("v c", positive=True)
    kap = freeprob.Semicircle(v, c).free_cumulants(8)
    assert kap[:2] == [c, v] and all(k == 0 for k in kap[2:])
    # and through the moments (inverse moment-cumulant formula)
    assert freeprob.Semicircle(v, c).free_cumulants(8, method="moments") == kap


def test_marchenko_pastur_free_cumulants_are_powers_of_q():
    kap = freeprob.MarchenkoPastur(q).free_cumulants(7)
    assert kap == [q ** (n - 1) for n in range(1, 8)]
    assert freeprob.MarchenkoPastur(q).free_cumulants(7, method="moments") == kap


def test_powerlaw_moments_are_generalized_harmonic_numbers():
    law = freeprob.PowerLaw(2, 7)
    direct = [sp.Rational(sum(sp.Rational(1, k ** (2 * j)) for k in range(1, 8)), 7) for j in range(1, 5)]
    assert law.moments(4) == direct
    assert law.moments(4, method="mean") == direct


def test_powerlaw_symbolic_size_keeps_the_sum():
    n = sp.Symbol("n", integer=True, positive=True)
    law = freeprob.PowerLaw(2, n)
    assert law.moments(1)[0] == sp.harmonic(n, 2) / n
    # at n = 5 the symbolic form and the explicit sum agree
    assert law.moments(1)[0].subs(n, 5) == freeprob.PowerLaw(2, 5).moments(1)[0]


def test_large_powerlaw_moments_hurwitz_vs_spectral_sum():
    # Hurwitz-zeta closed route (30 digits) vs the blockwise float64 sum:
    # float64 summation of 1e5 terms is accurate to ~1e-13 relative.
    law = freeprob.PowerLaw(1.5, 10**5)
    a = law.moments(3)
    b = law.moments(3, method="mean")
    assert all(abs(float(x) - float(y)) <= 1e-13 * abs(float(x)) for x, y in zip(a, b))


def test_identity_and_discrete_tables():
    assert freeprob.Identity(3).moments(4) == [3, 9, 27, 81]
    assert freeprob.Discrete([1, 3]).moments(3) == [2, 5, 14]
    assert freeprob.Discrete([1, 3]).moments(3, method="curve") == [2, 5, 14]
