"""The exact support of MP times a law of finitely many atoms
(``freeprob.laws._separation``), against independent routes: the algebraic
curve's discriminant for rational atoms, a brute-force scan of ``x'(u)``
written here, and the subordination density integrated over each interval
(the exact separation of clusters: each cluster above the lowest carries
the weights of its atoms)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import freeprob as fp
from freeprob.laws import _separation, _support

R = sp.Rational

#: rational atoms: the curve route gives the edges exactly
CURVED = {
    "three atoms, q = 1/20": (R(1, 20), 1, [1, 3, 10], None),
    "an atom at 0": (R(1, 2), 1, [0, 1], [R(7, 10), R(3, 10)]),
    "q = 2": (2, 1, [1, 2], None),
    "scale 2, q = 3/2": (R(3, 2), 2, [1, 4], [R(1, 4), R(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(CURVED))
def test_edges_equal_the_curve_route(name):
    q, s, vals, wts = CURVED[name]
    law = fp.free_mul(fp.MarchenkoPastur(q, s), fp.Discrete(vals, wts))
    assert law.curve() is not None
    ref = _support.curve_support(law, law.curve())
    got = _separation.mp_product_support(law)
    assert len(got) == len(ref), (got, ref)
    for (a, b), (c, d) in zip(got, ref):
        assert abs(a - float(c)) <= 1e-10 * float(d) and abs(b - float(d)) <= 1e-10 * float(d), (got, ref)


def _scan(t, w, q, points=20001):
    """The gap segments by brute force: ``x'(u) = 1 - q sum w t^2/(u - t)^2``
    sampled densely between neighbouring atoms (an increasing stretch is a
    gap)."""
    gaps = []
    for k in range(t.size - 1):
        u = np.linspace(t[k], t[k + 1], points)[1:-1]
        dx = 1 - q * np.sum(w * t**2 / (u[:, None] - t) ** 2, axis=1)
        if np.any(dx > 0):
            gaps.append(k)
    return gaps


def _catalogue():
    rng = np.random.default_rng(11)
    out = []
    for i in range(8):
        n = int(rng.integers(3, 40))
        vals = rng.lognormal(sigma=1.5, size=n)
        if i % 3 == 0:
            vals[0] = 0.0
        out.append((float(np.exp(rng.uniform(np.log(0.05), np.log(5)))), vals, rng.dirichlet(np.ones(n))))
    return out


@pytest.mark.parametrize("case", range(8))
def test_float_weighted_catalogue_against_a_scan_and_the_subordination_mass(case):
    """Random float-weighted atoms (one in three with an atom at 0), ``q``
    from 0.05 to 5: the gaps are the segments where a dense scan of ``x'``
    finds it positive; each cluster above the lowest carries the weights of
    its atoms (the subordination density integrated, 2048 nodes), and the
    density vanishes inside every gap and is positive inside every
    interval."""
    q, vals, wts = _catalogue()[case]
    law = fp.free_mul(fp.MarchenkoPastur(q), fp.Discrete(vals, wts))
    intervals = _support.numeric_support(law)
    _, atoms = _separation._operands(law)
    t, w = atoms.t, atoms.w
    gaps = _scan(t, w, q)
    assert len(intervals) == len(gaps) + 1, (len(intervals), gaps)
    groups = np.split(w, np.array(gaps) + 1)
    atoms = [(float(c), float(m)) for c, m in law.atoms()]
    eps = 1e-12 * (1 + law._numeric_radius())
    masses = [_support._mass(law, [ab], atoms, eps, 2048) for ab in intervals]
    np.testing.assert_allclose(masses[1:], [g.sum() for g in groups[1:]], rtol=1e-5, atol=1e-7)
    assert abs(sum(masses) + sum(m for _, m in atoms) - 1) <= 1e-5
    mids = np.array([0.5 * (a + b) for a, b in intervals])
    assert np.all(law.density_numeric(mids) > 0)
    holes = np.array([0.5 * (b + c) for (_, b), (c, _) in zip(intervals[:-1], intervals[1:])])
    if holes.size:
        dens = _support._ac_density(law, holes, atoms, eps, resolved=True)
        assert np.all(dens <= 1e-6 * np.max(law.density_numeric(mids))), dens


def test_gaps_narrower_than_any_grid():
    """A gap that the general route's grid (512 points, whose intervals
    passed the mass check) merged: ``MP(0.1) x PowerLaw(1.5, 20)`` opens one
    of width 1.7e-4 at 0.0605.  Inside it the subordination density is
    zero, next to it positive."""
    law = fp.free_mul(fp.MarchenkoPastur(0.1), fp.PowerLaw(1.5, 20))
    iv = _support.numeric_support(law)
    (a, b), = [(b0, a1) for (_, b0), (a1, _) in zip(iv[:-1], iv[1:]) if 0.06 < b0 < 0.061]
    assert 1e-4 < b - a < 3e-4
    atoms = [(float(c), float(m)) for c, m in law.atoms()]
    eps = 1e-12 * (1 + law._numeric_radius())
    inside = _support._ac_density(law, np.linspace(a, b, 7)[1:-1], atoms, eps, resolved=True)
    outside = law.density_numeric(np.array([a - 1e-4, b + 1e-4]))
    assert np.all(inside <= 1e-6 * outside.min()) and np.all(outside > 0.1), (inside, outside)
    # the general route's grid merged the two clusters
    merged = _support._support_on_grid(law, 512)
    assert len(merged) == len(iv) - 1


def test_the_route_is_taken_only_for_mp_times_finitely_many_atoms():
    assert _separation.separation(fp.free_mul(fp.MarchenkoPastur(2), fp.Semicircle(1, 3))) is None
    assert _separation.separation(fp.free_add(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20))) is None
    assert _separation.separation(fp.free_mul(fp.PowerLaw(1.2, 8), fp.PowerLaw(1.5, 20))) is None
    # either order of the operands
    a = _separation.mp_product_support(fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20)))
    b = _separation.mp_product_support(fp.free_mul(fp.PowerLaw(1.5, 20), fp.MarchenkoPastur(2)))
    assert a == b and len(a) == 2


def _s_transform_support(ratios, atoms, scan=600):
    """The support of ``MP(c_1) x ... x MP(c_k) x Discrete(atoms)`` (equal
    weights) by the S-transform in 40 digits, a route that shares nothing
    with :mod:`freeprob.laws._separation_bulk`: the S-transforms multiply
    [C9], so off the spectrum ``x = prod_i (1 + c_i w)/z`` with ``w = psi(z)
    = <e z/(1 - e z)>``, and the edges are the values of ``x`` where ``dx/dz
    = 0`` on the segments of real ``z`` between 0 and the poles ``1/e`` (and
    on ``z < 0``, which holds the lower edge when the samples outnumber the
    rank): sign changes of ``dx/dz`` on ``scan`` points per segment
    (clustered at its ends), then bisection to 40 digits."""
    with mpmath.workdps(40):
        e = [mpmath.mpf(a) for a in atoms]
        cs = [mpmath.mpf(c) for c in ratios]

        def x(z):
            w = sum(a * z / (1 - a * z) for a in e) / len(e)
            return mpmath.fprod(1 + c * w for c in cs) / z

        def dx(z):
            w = sum(a * z / (1 - a * z) for a in e) / len(e)
            dw = sum(a / (1 - a * z) ** 2 for a in e) / len(e)
            dprod = sum(c * mpmath.fprod(1 + d * w for j, d in enumerate(cs) if j != i) for i, c in enumerate(cs))
            return (dprod * dw * z - mpmath.fprod(1 + c * w for c in cs)) / z**2

        poles = sorted(1 / a for a in set(e))
        th = [mpmath.pi * (k + mpmath.mpf(1) / 2) / scan for k in range(scan)]
        pieces = [[lo + (hi - lo) * (1 - mpmath.cos(t)) / 2 for t in th]
                  for lo, hi in zip([mpmath.mpf(0)] + poles[:-1], poles)]
        pieces.append([poles[-1] * (1 + mpmath.mpf(10) ** (-8 + 16 * (k + 0.5) / scan)) for k in range(scan)])
        pieces.append([-mpmath.mpf(10) ** (-8 + 16 * (k + 0.5) / scan) for k in range(scan)][::-1])
        edges = []
        for pts in pieces:
            vals = [dx(z) for z in pts]
            for (a, fa), (b, fb) in zip(zip(pts, vals), zip(pts[1:], vals[1:])):
                if fa * fb < 0:
                    for _ in range(140):
                        m = (a + b) / 2
                        a, b = (m, b) if dx(m) * fa > 0 else (a, m)
                    edges.append(float(x((a + b) / 2)))
    # on z < 0 far out the terms cancel to 40 digits' rounding (spurious
    # roots below 1e-70): an odd count left means the bulk reaches 0
    edges = sorted(v for v in edges if v > 1e-30 * max(edges))
    edges = [0.0] * (len(edges) % 2) + edges
    return list(zip(edges[::2], edges[1::2]))


#: (c, atoms, q) of MP(c) x Discrete(atoms) x MP(q): two clusters kept apart,
#: merged, three atoms, and q > 1 (the lower edge from kappa > 0)
NESTED = [(0.05, [1, 4], 0.05), (0.5, [1, 2], 0.25), (0.2, [1, 3, 10], 0.1), (0.5, [1, 2], 2.0)]


@pytest.mark.parametrize("c, atoms, q", NESTED)
def test_the_bulk_route_against_the_s_transform_in_40_digits(c, atoms, q):
    """Silverstein and Choi on a population known by its Stieltjes transform
    (``MP(c) x Discrete``, itself a free product): every interval of
    ``MP(q)`` times it equals the 40-digit S-transform's to ``1e-13``
    relative (measured: 3e-16), gaps included; its own curve's discriminant agrees too."""
    from freeprob.laws._separation_bulk import bulk_separation

    pop = fp.free_mul(fp.MarchenkoPastur(c), fp.Discrete(atoms))
    law = fp.free_mul(pop, fp.MarchenkoPastur(q))
    got, _ = bulk_separation(law)
    ref = _s_transform_support([c, q], atoms)
    assert len(got) == len(ref), (got, ref)
    np.testing.assert_allclose(np.ravel(got), np.ravel(ref), rtol=1e-13)
    if law.curve() is not None:
        np.testing.assert_allclose(np.ravel(got), np.ravel(_support.curve_support(law, law.curve())), rtol=1e-9)


@pytest.mark.parametrize("q", [0.5, 2.0, (0.5, 0.3)])
def test_a_nested_power_law_product_has_its_support_exact(q):
    """``MP(2) x PowerLaw(1.5, 20) x MP(q)`` has no curve: its support came
    from a density grid, 1e-7 to 1e-5 off, and at ``q = 2`` (``q (1 - m_0)
    = 1``: the continuous part reaches 0) did not finish in 10 minutes.  Now
    the edges equal the 40-digit S-transform's to ``1e-13`` (4e-16 measured); the atom at 0
    keeps its mass 1/2.  Nested once more (``x MP(1/2) x MP(0.3)``), each
    level's support comes from the one below it."""
    law = fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20))
    for c in np.atleast_1d(q):
        law = fp.free_mul(law, fp.MarchenkoPastur(float(c)))
    assert law.curve() is None
    sup = law.support()
    parts = sup.args if isinstance(sup, sp.Union) else (sup,)
    got = [(float(p.start), float(p.end)) for p in parts if isinstance(p, sp.Interval)]
    ref = _s_transform_support([2, *np.atleast_1d(q)], [k ** -1.5 for k in range(1, 21)])
    if np.ndim(q):
        # with three MP factors x(z) has more real critical points than
        # edges (pairs inside the support, where the real branch is not the
        # physical one; a product with MP cannot open a gap its operand does
        # not have): the outermost are the edges, and the density
        # (subordination) is positive between the others
        np.testing.assert_allclose([got[0][0], got[-1][1]], [ref[0][0], ref[-1][1]], rtol=1e-13)
        inner = np.array([0.5 * (b + c) for (_, b), (c, _) in zip(ref[:-1], ref[1:])])
        assert np.all(law.density_numeric(inner) > 0.1)
        return
    assert len(got) == len(ref), (got, ref)
    np.testing.assert_allclose(np.ravel(got), np.ravel(ref), rtol=1e-13)
    assert law.atoms() == [(0, R(1, 2))]


#: continuous and mixed populations with a curve, for the catalogue check
CURVED_POPULATIONS = {
    "Semicircle(1, 3)": lambda: fp.Semicircle(1, 3),
    "AR1(1/2)": lambda: fp.laws.AR1(R(1, 2)),
    "WishartProduct([2, 3])": lambda: fp.laws.WishartProduct([2, 3]),
    "MP(1/2) + 1": lambda: fp.MarchenkoPastur(R(1, 2)).shifted(1),
    "MP(3) (an atom at 0)": lambda: fp.MarchenkoPastur(3),
    "MP(1/2) boxplus Discrete([1, 3])": lambda: fp.free_add(fp.MarchenkoPastur(R(1, 2)), fp.Discrete([1, 3])),
    "MP(1/2) x float weights": lambda: fp.free_mul(fp.MarchenkoPastur(0.5), fp.Discrete([0.0, 1.0], [0.3, 0.7])),
}


@pytest.mark.parametrize("q", [0.1, 0.5, 2.0])
@pytest.mark.parametrize("name", sorted(CURVED_POPULATIONS))
def test_the_bulk_route_across_populations_with_a_curve(name, q):
    """The bulk route on every kind of population the catalogue has (a
    continuous law, a Toeplitz law, a Wishart product, a shifted law, an
    atom at 0, a free sum with atoms, float weights) equals the
    discriminant route of the product's own curve to ``1e-10`` (measured
    9e-12 at most; the 40-digit route above puts the bulk route's own error
    at 4e-16)."""
    from freeprob.laws._separation_bulk import bulk_separation

    law = fp.free_mul(CURVED_POPULATIONS[name](), fp.MarchenkoPastur(q))
    cv = law.curve()
    assert cv is not None
    got, _ = bulk_separation(law)
    ref = _support.curve_support(law, cv)
    assert len(got) == len(ref), (got, ref)
    np.testing.assert_allclose(np.ravel(got), np.ravel(ref).astype(float), rtol=1e-10)


def test_the_bulk_route_is_taken_only_for_mp_times_a_law_without_finite_spectrum():
    from freeprob.laws._separation_bulk import bulk_separation

    q = sp.Symbol("q", positive=True)
    assert bulk_separation(fp.free_mul(fp.MarchenkoPastur(2), fp.PowerLaw(1.5, 20))) is None   # the atom route's
    assert bulk_separation(fp.free_mul(fp.PowerLaw(1.2, 8), fp.Semicircle(1, 3))) is None
    assert bulk_separation(fp.free_add(fp.MarchenkoPastur(2), fp.Semicircle(1, 3))) is None
    assert bulk_separation(fp.free_mul(fp.MarchenkoPastur(q), fp.Semicircle(1, 3))) is None
    a = bulk_separation(fp.free_mul(fp.MarchenkoPastur(2), fp.Semicircle(1, 3)))[0]
    b = bulk_separation(fp.free_mul(fp.Semicircle(1, 3), fp.MarchenkoPastur(2)))[0]
    assert a == b and len(a) == 1


# ------------------------------------------------ a power law of any size
def _power_sums(alpha, n, head=600, terms=60):
    """``S(u, p, m) = (1/n) sum_k t_k^p/(u - t_k)^m`` over ``t_k = k^-alpha``
    in 30 digits, for ``u`` above ``t_head``: the first ``head`` atoms one by
    one, the rest as the series ``sum_j binom(m + j - 1, j) u^-(m + j)
    sum_{k > head} t_k^(p + j)`` of Hurwitz zeta values (no Euler-Maclaurin,
    no float); its ratio is ``t_head/u``, at most ``(301/600)^1.5 = 0.35``
    for the segments tested (60 terms: ``1e-27``)."""
    a, size = mpmath.mpf(alpha), mpmath.mpf(n)
    t = [mpmath.mpf(k) ** -a for k in range(1, head + 1)]
    zeta = {}

    def z(s):
        if s not in zeta:
            zeta[s] = mpmath.zeta(s, head + 1) - mpmath.zeta(s, size + 1)
        return zeta[s]

    def sums(u, p, m):
        tail = mpmath.fsum(mpmath.binomial(m + j - 1, j) * u ** -(m + j) * z(a * (p + j)) for j in range(terms))
        return (mpmath.fsum(tk**p / (u - tk) ** m for tk in t) + tail) / size

    return t, sums


def _bisect(f, lo, hi, steps=80):
    """The root of ``f`` in ``(lo, hi)``, where it changes sign, by bisection
    (``2^-80`` of the bracket)."""
    flo = f(lo) > 0
    for _ in range(steps):
        mid = (lo + hi) / 2
        if (f(mid) > 0) == flo:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _segment_edges(alpha, n, q, k):
    """The gap of ``MP(q) x PowerLaw(alpha, n)`` between the clusters of the
    atoms ``k + 1`` and ``k`` in 30 digits: ``h = q S(u, 2, 2)`` has its
    minimum where ``S(u, 2, 3) = 0`` and equals 1 on either side; the edges
    are ``x = u (1 + q S(u, 1, 1))`` there (None when ``min h >= 1``)."""
    with mpmath.workdps(30):
        t, sums = _power_sums(alpha, n)
        lo, hi = t[k], t[k - 1]
        pad = (hi - lo) * mpmath.mpf(10) ** -25
        star = _bisect(lambda u: sums(u, 2, 3), lo + pad, hi - pad)
        if q * sums(star, 2, 2) >= 1:
            return None
        roots = [_bisect(lambda u: q * sums(u, 2, 2) - 1, a, b) for a, b in ((lo + pad, star), (star, hi - pad))]
        return tuple(float(u * (1 + q * sums(u, 1, 1))) for u in roots)


def _top_edge(alpha, n, q):
    with mpmath.workdps(30):
        _, sums = _power_sums(alpha, n)
        u = _bisect(lambda u: q * sums(u, 2, 2) - 1, 1 + mpmath.sqrt(mpmath.mpf(q) / n), 1 + 2 * mpmath.sqrt(q))
        return float(u * (1 + q * sums(u, 1, 1)))


@pytest.mark.parametrize("q, scale", [(0.5, 1.0), (3.0, 0.25)])
def test_a_power_law_summed_by_euler_maclaurin_equals_its_listed_atoms(q, scale):
    """``PowerLaw(1.5, 2e5)`` is beyond the numeric layer's atom limit: its
    full sums are Euler-Maclaurin's, and only the atoms up to the first
    segment whose two-atom bound reaches 4 are listed.  Its ``to_discrete``
    lists all 2e5 atoms and sums them one by one: the same intervals (302 at
    q = 1/2) to 1e-14 of the largest edge, the same cluster masses, with the
    Marchenko-Pastur scale too."""
    mp = fp.MarchenkoPastur(q, scale)
    power = _separation.separation(fp.free_mul(fp.PowerLaw(1.5, 2 * 10**5), mp))
    listed = _separation.separation(fp.free_mul(fp.PowerLaw(1.5, 2 * 10**5).to_discrete(), mp))
    assert not power.listed and listed.listed
    assert len(power.intervals) == len(listed.intervals) > 100
    np.testing.assert_allclose(power.intervals, listed.intervals, rtol=0, atol=1e-14 * listed.intervals[-1][1])
    np.testing.assert_allclose(power.masses, listed.masses, rtol=1e-13, atol=0)


def test_a_power_law_of_1e8_atoms_keeps_every_cluster():
    """``PowerLaw(1.5, 10^8)`` times ``MP(1/2)`` had gone to the density
    grid, whose mass check cannot see clusters of mass ``1e-8``: it returned
    21 intervals, all below 6e-4, with the cluster of the atom 1 missing.
    The separation finds 6,752 intervals.  Against 30 digits (the head's
    atoms one by one, the tail by Hurwitz zeta values): the top edge and the
    gaps between the clusters of atoms 2-3, 40-41 and 300-301 to 1e-13;
    no gap beyond the first segment whose two-atom bound reaches 1."""
    law = fp.free_mul(fp.PowerLaw(1.5, 10**8), fp.MarchenkoPastur(0.5))
    iv = np.array(_support.numeric_support(law))
    assert 6000 < len(iv) <= _separation._first_segment(0.5, 1.5, 10**8, 1.0)
    assert abs(iv[-1, 1] - _top_edge(1.5, 10**8, 0.5)) <= 1e-13
    assert iv[-1, 0] < 1 < iv[-1, 1] and 0 < iv[0, 0] < 1e-12     # below the smallest atom, 1e-12
    for k in (2, 40, 300):
        b, c = _segment_edges(1.5, 10**8, 0.5, k)
        gap = np.flatnonzero(np.isclose(iv[1:, 0], c, rtol=1e-6))
        assert gap.size == 1, (k, b, c)
        np.testing.assert_allclose([iv[gap[0], 1], iv[gap[0] + 1, 0]], [b, c], rtol=1e-13)
    # the sympy set, built without sympy's quadratic simplification
    sup = law.support()
    assert len(sup.args) == len(iv) and float(sup.sup) == iv[-1, 1]


def test_the_cdf_of_a_huge_power_law_product_integrates_to_the_cluster_masses():
    """``PowerLaw(1.5, 3e6)`` times ``MP(1/2)``: 1,169 clusters of mass
    ``1/n`` above the bulk, each linear across in the cdf's table; the bulk
    is integrated by subordination.  The cdf in the gaps equals the exact
    separation's count of the atoms below to 1e-6 (the cdf's accuracy)."""
    law = fp.free_mul(fp.PowerLaw(1.5, 3 * 10**6), fp.MarchenkoPastur(0.5))
    iv = law._ac_intervals()
    masses = np.array(_separation.separation(law).masses)
    assert len(iv) == masses.size + 1 > 1000
    picks = [0, 1, 100, len(iv) - 2]
    gaps = np.array([0.5 * (iv[i][1] + iv[i + 1][0]) for i in picks])
    expected = [1 - masses[i:].sum() for i in picks]
    np.testing.assert_allclose(law.cdf_numeric(gaps), expected, rtol=0, atol=1e-6)


def test_the_ladders_interpolation_is_numpys_without_its_overflow():
    """The ladder warm-starts its points from the subordination points of
    every 16th, interpolated.  ``numpy.interp`` forms slopes, which overflowed
    beside ``|omega| = 4e299`` at ``x = 0`` (``PowerLaw(1.5, 10^9)`` times a
    shifted semicircle) and made the start NaN; the convex combination equals
    it to rounding elsewhere, constant beyond the ends, repeated points
    included."""
    from freeprob.laws._ladder import _interp

    rng = np.random.default_rng(5)
    for _ in range(20):
        xs = np.sort(np.round(rng.uniform(0, 1, 40), 2))          # with repeats
        ys = rng.normal(size=40) + 1j * rng.normal(size=40)
        x = rng.uniform(-0.5, 1.5, 500)
        ref = np.interp(x, xs, ys.real) + 1j * np.interp(x, xs, ys.imag)
        np.testing.assert_allclose(_interp(x, xs, ys), ref, rtol=0, atol=1e-14)
    with np.errstate(all="raise"):
        start = _interp(np.linspace(0, 2e-11, 9), np.array([0.0, 9.2e-12, 1.8e-11]),
                        np.array([-2e12 - 4.4e299j, 3.3e11 - 3.6e9j, 1.7e11 - 1.2e9j]))
    assert np.all(np.isfinite(start)) and start[-1] == 1.7e11 - 1.2e9j


@pytest.mark.parametrize("n", [6, 20, 21, 30, 40, 31])
def test_a_rank_critical_product_reaches_zero_whatever_the_rounding(n):
    """``MP(1)`` times atoms: ``h(0) = q (1 - m_0) = 1``, a hard edge at 0
    with ``rho ~ x^-1/2``.  The weights ``1/n`` sum to 1 within a rounding
    either way, and where below, the root of ``h = 1`` landed a rounding
    away from ``u = 0``: for these ``n`` (31 is not among them) the support
    began at ``~1e-36`` and the density below it was 0 (with numpy 2.4's
    sums).  Rank-critical to rounding, the edge is 0."""
    law = fp.free_mul(fp.MarchenkoPastur(1), fp.PowerLaw(1.5, n))
    assert float(law.support().inf) == 0.0
    x = np.array([1e-40, 1e-20])
    rho = law.density_numeric(x)
    assert rho[0] > 0
    np.testing.assert_allclose(rho * np.sqrt(x), rho[0] * np.sqrt(x[0]), rtol=1e-6)   # a/(pi sqrt x)
