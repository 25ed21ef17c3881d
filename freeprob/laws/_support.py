r"""The support of a convolved law without a curve, computed and verified [P19].

A free sum or product whose operands have no algebraic curve of workable
degree (a power law with irrational atoms, a nested convolution) is known
only through subordination.  Where one operand is a Marchenko-Pastur law and
the other has finitely many atoms (a sample covariance of a power-law or
float-weighted population), the support is exact: the edges are roots of
Silverstein and Choi's ``x'(u) = 0`` (:mod:`freeprob.laws._separation`), and
the mass of the intervals is verified as below (16 Fejer nodes on each piece
between the density's dips and the grid points).  A power law beyond the
numeric layer's atom limit, whose clusters of mass ``1/n`` are below any
mass check and may number tens of thousands, is checked instead by the
density at the middles of at most ``CHECKED`` intervals and gaps
(:func:`_checked_bulk`).  Where the other operand is
any law known by its Stieltjes transform (a continuous law, a nested
product), the same theorem gives the edges from that law's ``g`` off its
support (:mod:`freeprob.laws._separation_bulk`), checked against the
subordination density at the middle of each interval and of each gap.  A law
with a curve takes the consecutive real roots of its discriminant where the
density between them is positive (:func:`curve_support`).  Otherwise the
support is found numerically:

1. **Where the density lives.** On a grid over a bound ``[lo, hi]`` of the
   support (uniform, plus geometric towards ``lo`` for a law on ``[0, oo)``,
   whose clusters shrink like its smallest eigenvalues, extended down by
   decades while its lowest point is inside; real points are solved at the
   heights of :func:`~freeprob.laws._subordination.axis_height`), the density of the
   absolutely continuous part is ``-Im g(x + i eps)/pi`` minus the Poisson
   kernel ``w eps/(pi((x - c)^2 + eps^2))`` of each atom ``(c, w)``, known
   exactly by theorem: the atom's own contribution at that height, so that it
   does not leak into the continuous part.  A point is inside where this
   exceeds ``1e-7`` of the largest value away from the ends of the bound (a
   hard edge with an ``x^-1/2`` density there would set the level above the
   rest of the law).
2. **Edges.** Each change between neighbouring grid points is narrowed to
   ``1e-7`` of the bound's width (for a product of positive laws, also to
   ``1e-5`` of the edge's own size), all edges at once, by 31 interior
   points per bracket and round (a factor 32 per round).  Next to an edge the
   subordination fixed point turns neutral; where it stops converging, the
   edges are kept to the brackets reached so far.
3. **Verification.** The mass of the intervals (Fejer's rule in the
   substitution of ``cdf_numeric``, which absorbs square-root edges) plus the atoms must be
   ``1`` to ``1e-5`` (256 nodes per interval; if that fails, 8 nodes on
   each piece between the grid points inside an interval, which follows
   merged clusters and near-gaps); otherwise the grid is refined 4 times,
   then 16 times, and then :class:`~freeprob.errors.ConvergenceError` is
   raised.  The support is never replaced by the bound.  Isolated clusters
   that are narrower than the grid spacing and carry less than ``1e-5`` in
   all can be missed.  ``PowerLaw(1.5, 10^6)`` times MP(2) shows why the
   check is this tight: its clusters ``k = 2..40`` (mass ``1/n`` each) are
   narrower than the geometric grid's factor ``1.04``, and on 2048 points 13
   of them, ``9e-5`` of mass, were lost; the 8192 points that the check
   now asks for find them (248 intervals, 80 s).

An edge is where the density crosses the level: for a density ``c sqrt(d)``
it sits ``(level/c)^2`` inside the true edge; raising the level from
``1e-7`` to ``1e-5`` moves the edges of the laws in the tests by at most
``3e-7`` of the width (below ``1e-9`` the level reaches the noise of the
gaps).  Gaps narrower than the grid spacing (``(hi - lo)/512``, or a factor
``1.04`` on the geometric part) are not resolved; the density inside them is
still zero to rounding, so masses and the cdf are unaffected.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob.errors import ConvergenceError
from freeprob.numeric.cache import cached

__all__ = ["curve_support", "interval_masses", "numeric_support", "minus_atoms", "union"]

#: points of the uniform grid (and of the geometric one on [0, oo))
GRID = 512
#: a grid point is inside the support where the density exceeds this fraction of its maximum
LEVEL = 1e-7
#: edges are narrowed to this fraction of the bound's width (the level itself
#: places them to ~3e-7; next to an edge each subordination solve slows down)
EDGE_TOL = 1e-7
#: edges of a law spread over decades (heights relative to x) are narrowed to
#: this fraction of their own size too; 1e-7 of it took 12 s more for the
#: cluster edges of PowerLaw(1.5, 2e4) times MP(2), where subordination slows
EDGE_REL = 1e-5
#: interior points per bracket and round of the edge search
SPLIT = 31
#: the most intervals (and as many gaps) at whose middles the support of MP
#: times a power law summed by Euler-Maclaurin is checked (by subordination)
CHECKED = 512
#: points per subordination batch of that check
BATCH = 2048
#: the mass of intervals plus atoms must be 1 to this (1e-4 let 13 clusters
#: of PowerLaw(1.5, 10^6) x MP(2), 9e-5 of mass, go unnoticed)
MASS_TOL = 1e-5


#: the subordination solves resolve ``g`` to about 1e-12 relative (their
#: tolerance): a continuous density below RESOLVED |g|/pi is not resolved
#: from 0 (next to an atom |g| ~ w/|x - c| is large) and does not place an edge
RESOLVED = 1e-10


def _ac_density(law, x, atoms, eps, *, resolved=False):
    """The continuous part's density at real points: ``-Im g(x + i y)/pi``
    minus each atom's Poisson kernel at the height ``y`` at which
    ``law._physical`` reached each point (``eps``, or 0 on an exact curve
    root); with ``resolved=True``, 0 where it is below the resolution
    ``RESOLVED |g|/pi`` (the edge search: a 4e-7 floor of rounding next to an
    atom of mass 0.68 had placed an edge at 8e-6 below a bulk starting near 1e-4)."""
    x = np.asarray(x, dtype=float)
    gv, y = law._physical(x + 0j, with_height=True)
    dens = minus_atoms(-gv.imag / np.pi, x, y, atoms)
    if resolved:
        dens = np.where(dens > RESOLVED * np.abs(gv) / np.pi, dens, 0.0)
        # below an edge, -Im g(x + i y)/pi is the Poisson tail of the bulk,
        # proportional to y; a density is independent of it: the small values
        # are measured again at 2y and dropped where they doubled
        low = np.flatnonzero((dens > 0) & (dens < 1e-3 * np.max(dens, initial=0.0)) & (y > 0))
        if low.size:
            g2, y2 = law._physical(x[low] + 2j * y[low], with_height=True)
            tail = minus_atoms(-g2.imag / np.pi, x[low], y2, atoms) > 1.5 * dens[low]
            dens[low[tail]] = 0.0
    return dens


def minus_atoms(dens, x, y, atoms):
    """``dens`` less each atom's Poisson kernel at the heights ``y``."""
    for c, w in atoms:
        dens = dens - w * y / (np.pi * ((x - c) ** 2 + y**2))
    return dens


def _classify(law, x, live, atoms, eps, level):
    """``(inside, stuck)`` at the points ``x[live]``: inside where the
    continuous density exceeds ``level``.  Where subordination does not
    converge (next to an edge, where its fixed point turns neutral) every
    live point is stuck: its edge is located to the current bracket."""
    inside = np.zeros(x.shape, dtype=bool)
    stuck = np.zeros(x.shape, dtype=bool)
    idx = np.flatnonzero(live)
    try:
        inside[idx] = _ac_density(law, x[idx], atoms, eps, resolved=True) > level[idx]
    except ConvergenceError:
        stuck[idx] = True
    return inside, stuck


@cached(maxsize=64)
def numeric_support(law):
    """The support intervals of a convolved law without a curve, as a tuple of
    ``(a, b)`` (see the module); raises :class:`~freeprob.errors.ConvergenceError`
    if the intervals and the atoms do not carry mass 1.

    >>> import freeprob
    >>> law = freeprob.free_mul(freeprob.MarchenkoPastur(2), freeprob.PowerLaw(1.5, 20))
    >>> [round(a, 4) for a in numeric_support(law)[0]][0] > 0    # a gap above the atom at 0
    True
    """
    from freeprob.laws._separation import separation
    from freeprob.laws._separation_bulk import bulk_separation

    exact = separation(law)
    if exact is None and (bulk := bulk_separation(law)) is not None:
        return _checked_bulk(law, bulk[0])
    if exact is not None:
        if not exact.intervals:
            return ()
        if exact.listed:
            return _separated_support(law, exact.intervals, exact.dips)
        return _checked_bulk(law, exact.intervals, spread=CHECKED)
    # a narrow cluster (one atom of a power law beside MP) can fall between
    # grid points: when the mass is short, the grid is refined 4x, then 16x
    for refine in (1, 4, 16):
        try:
            return _support_on_grid(law, GRID * refine)
        except _MassShort as short:
            err = short
    raise ConvergenceError(str(err))


@cached(maxsize=64)
def curve_support(law, cv):
    """Support intervals: consecutive real roots of the discriminant, kept when
    the density at their midpoint is positive."""
    edges = cv.candidate_edges()
    edges = edges[np.abs(edges) <= 1e6 * (1 + law._numeric_radius())]
    if edges.size < 2:
        return ()
    mids = 0.5 * (edges[:-1] + edges[1:])
    dens = law._density_raw(mids)
    intervals = []
    for (a, b), d in zip(zip(edges[:-1], edges[1:]), dens):
        if d > 1e-9:
            if intervals and abs(intervals[-1][1] - a) <= 1e-12 * (1 + abs(a)):
                intervals[-1] = (intervals[-1][0], b)
            else:
                intervals.append((a, b))
    return tuple(intervals)


#: above this many parts a support is an unevaluated sympy Union of its
#: sorted disjoint parts: sympy's own simplification is quadratic in them
#: (0.19 s for 32 intervals, 18 s for 300; a power law of 10^9 atoms times
#: MP(1/2) has 21,353)
UNION_PARTS = 32


def union(intervals, atoms):
    """The support: the disjoint intervals ``(a, b)`` (increasing) and the
    atoms as a sympy set, evaluated by sympy up to ``UNION_PARTS`` parts.

    >>> import sympy as sp
    >>> union([(0.0, 1.0), (2.0, 3.0)], [sp.Integer(5)])
    Union({5}, Interval(0.0, 1.00000000000000), Interval(2.00000000000000, 3.00000000000000))
    >>> big = union([(2.0 * k, 2.0 * k + 1) for k in range(40)], [sp.Integer(-1), sp.Integer(4)])
    >>> len(big.args), big.contains(4), big.contains(sp.Float(5.5)), big.inf, big.sup
    (41, True, False, -1, 79.0000000000000)
    >>> touching = union([(2.0 * k, 2.0 * k + 1) for k in range(40)] + [(79.0, 80.0)], [])
    >>> len(touching.args), touching.args[-1]
    (40, Interval(78.0000000000000, 80.0000000000000))
    """
    if len(intervals) + len(atoms) <= UNION_PARTS:
        parts = [sp.Interval(sp.Float(a), sp.Float(b)) for a, b in intervals]
        return sp.Union(*parts, *[sp.FiniteSet(loc) for loc in atoms])
    ab = np.array(intervals, dtype=float).reshape(-1, 2)
    ab = ab[np.argsort(ab[:, 0], kind="stable")]
    # a gap narrower than the floats' spacing (a minimum of h within 1e-12 of
    # 1 opens one of relative width ~1e-18) leaves touching ends: merged
    # into one closed interval, as sympy's Union would
    start = np.concatenate([[True], ab[1:, 0] > np.maximum.accumulate(ab[:-1, 1])])
    ab = np.stack([ab[start, 0], np.maximum.reduceat(ab[:, 1], np.flatnonzero(start))], axis=1)
    # closed intervals of floats, ordered and disjoint: sympy's own
    # constructor compares their ends symbolically (0.3 ms an interval)
    parts = [sp.Basic.__new__(sp.Interval, sp.Float(a), sp.Float(b), sp.false, sp.false) if a < b
             else sp.FiniteSet(sp.Float(a)) for a, b in ab]
    # an atom inside an interval adds nothing to the set
    alone = [loc for loc in atoms if not np.any((ab[:, 0] <= float(loc)) & (float(loc) <= ab[:, 1]))]
    if alone:
        parts.insert(0, sp.FiniteSet(*alone))
    return sp.Union(*parts, evaluate=False)


def interval_masses(law, intervals):
    """The mass of each of ``intervals`` (the law's support intervals) where a
    theorem gives it, else None: for ``MP`` times a law of finitely many
    atoms, every interval above the lowest carries the weights of its atoms
    (:class:`~freeprob.laws._separation.Separation`).

    >>> import freeprob
    >>> law = freeprob.free_mul(freeprob.MarchenkoPastur(0.5), freeprob.PowerLaw(1.5, 1000))
    >>> m = interval_masses(law, law._ac_intervals())
    >>> len(m), m[0], round(m[-1], 12)
    (21, None, 0.001)
    """
    from freeprob.laws._separation import separation

    sep = separation(law)
    if sep is None or len(sep.intervals) != len(intervals):
        return [None] * len(intervals)
    return [None, *sep.masses]


class _MassShort(ConvergenceError):
    """The intervals found do not carry mass 1 (internal: retried on a finer grid)."""


def _grid(law, lo, hi, points, bottom, atoms):
    """The uniform grid on ``[lo, hi]``, with, for a law on ``[0, oo)``, a
    geometric one from ``bottom`` up to ``hi``; the neighbourhood of each
    atom (100 evaluation heights, :func:`~freeprob.laws._subordination.axis_height`)
    is left out, where subtracting its kernel cancels (not a fraction of the
    width, which hid the bulk of a wide power law times MP(2) next to 0)."""
    from freeprob.laws._subordination import axis_height

    grid = np.linspace(lo, hi, points + 1)
    if lo >= 0 and hi > 0:
        grid = np.union1d(grid, hi * np.geomspace(bottom, 1, points))
    keep = np.ones(grid.shape, dtype=bool)
    for c, _ in atoms:
        keep &= np.abs(grid - c) > 1e2 * axis_height(law, grid)
    return grid[keep]


def _support_on_grid(law, points):
    from freeprob.laws._subordination import axis_height

    (lo, hi), = law._bound_interval()
    atoms = [(float(c), float(w)) for c, w in law.atoms()]
    eps = 1e-12 * (1 + law._numeric_radius())
    # the geometric part reaches down to 100 evaluation heights (or 1e-9 of
    # hi); with heights relative to x (a product of positive laws) it starts
    # at 1e-9 of hi and goes down by 3 decades at a time while its lowest
    # point is inside the support, at the same density of points per decade
    relative = lo >= 0 and hi > 0 and float(axis_height(law, 1e-6 * hi)) < float(axis_height(law, hi))
    bottom = 1e-9 if relative else min(1e-9, 1e2 * eps / hi) if hi > 0 else 1.0
    width = hi - lo
    grid = _grid(law, lo, hi, points, bottom, atoms)
    dens = _ac_density(law, grid, atoms, eps, resolved=True)
    while relative and bottom > 1e-200 and dens[np.argmax(grid > 0)] > 0:
        bottom *= 1e-3
        grid = _grid(law, lo, hi, int(points * -np.log10(bottom) / 9), bottom, atoms)
        dens = _ac_density(law, grid, atoms, eps, resolved=True)
    if not np.max(dens) > 0:
        raise ConvergenceError(f"no continuous part found on [{lo}, {hi}] for {law!r}")
    # the level: LEVEL times the largest density away from the ends of the
    # bound (two grid steps), where a hard edge (x^-1/2 at lo = 0, a product
    # with MP(1)) would set it above the density of the rest of the law
    step = 2 * width / points
    body = (grid >= lo + step) & (grid <= hi - step)
    levels = np.full(grid.shape, LEVEL * float(np.max(dens[body] if body.any() else dens)))
    inside = dens > levels
    change = np.flatnonzero(inside[1:] != inside[:-1])
    a, b = grid[change], grid[change + 1]
    level = np.maximum(levels[change], levels[change + 1])
    rising = ~inside[change]                   # out at a, in at b: a left edge
    # all brackets at once, SPLIT interior points each per round (a ladder
    # from a cold start costs about the same for 2 points as for 200)
    # edges to EDGE_TOL of the width; on the decades of a law with heights
    # relative to x, also to EDGE_REL of their own size (an edge at 1.7e-8 had
    # been left 8% off)
    tol = np.minimum(EDGE_TOL * width, EDGE_REL * np.abs(b)) if relative else EDGE_TOL * width
    for _ in range(12):
        live = b - a > tol
        if not live.any():
            break
        frac = np.arange(1, SPLIT + 1) / (SPLIT + 1)
        pts = a[:, None] + (b - a)[:, None] * frac[None, :]
        m_in, stuck = _classify(law, pts.ravel(), np.repeat(live, SPLIT), atoms, eps, np.repeat(level, SPLIT))
        if stuck.any():   # next to an edge the fixed point turns neutral: keep the brackets reached
            break
        m_in = m_in.reshape(pts.shape)
        # the first interior point on the far side of the edge (or b itself)
        far = np.where(rising[:, None], m_in, ~m_in)
        first = np.where(far.any(axis=1), np.argmax(far, axis=1), SPLIT)
        new_b = np.where(first < SPLIT, pts[np.arange(len(a)), np.minimum(first, SPLIT - 1)], b)
        new_a = np.where(first > 0, pts[np.arange(len(a)), np.maximum(first - 1, 0)], a)
        a, b = np.where(live, new_a, a), np.where(live, new_b, b)
    edges = np.where(rising, a, b)             # the last point outside, within EDGE_TOL of the width
    starts = list(edges[rising])
    ends = list(edges[~rising])
    if inside[0]:
        starts.insert(0, float(grid[0]))
    if inside[-1]:
        ends.append(float(grid[-1]))
    intervals = tuple((float(s), float(e)) for s, e in zip(starts, ends) if e > s)
    mass = _total_mass(law, intervals, grid, atoms, eps)
    if abs(mass - 1) > MASS_TOL:
        raise _MassShort(f"the numeric support of {law!r} carries mass {mass:.8f}, not 1: "
                         f"a part of the spectrum was not resolved on {points} grid points")
    return intervals


def _total_mass(law, intervals, cuts, atoms, eps, nodes=8):
    """The mass of the intervals plus the atoms: Fejer's rule with 256 nodes
    on each interval; where that is not 1 to ``MASS_TOL`` (structure inside
    an interval: merged clusters of a power law, near-gaps), ``nodes`` nodes
    on each piece between the points of ``cuts`` that it contains."""
    mass = _mass(law, intervals, atoms, eps, 256) + sum(w for _, w in atoms)
    if abs(mass - 1) > MASS_TOL:
        pieces = []
        for a, b in intervals:
            cut = cuts[(cuts > a) & (cuts < b)]
            pieces += list(zip(np.concatenate([[a], cut]), np.concatenate([cut, [b]])))
        mass = _mass(law, pieces, atoms, eps, nodes) + sum(w for _, w in atoms)
    return mass


def _separated_support(law, intervals, dips):
    """The exact support of ``MP`` times a law of finitely many atoms
    (:mod:`freeprob.laws._separation`), verified by its mass; the second
    rule cuts the intervals at the density's dips between merged clusters
    and at the points of a uniform grid of ``GRID`` points and a geometric
    one of ``GRID`` points per 9 decades (a bulk spread over decades), 16
    nodes on each piece."""
    atoms = [(float(c), float(w)) for c, w in law.atoms()]
    eps = 1e-12 * (1 + law._numeric_radius())
    lo, hi = intervals[0][0], intervals[-1][1]
    cuts = np.union1d(np.linspace(lo, hi, GRID + 1), dips)
    if lo > 0:
        cuts = np.union1d(cuts, np.geomspace(lo, hi, int(GRID * max(np.log10(hi / lo), 1.0) / 9) + 2))
    elif lo == 0 < hi:
        # a hard edge at 0 (MP(1) times a law: rho ~ x^-1/2): geometric pieces down to 1e-18 of hi, each smooth
        # for the rule (one piece [0, hi/GRID] had missed 3e-3 of the mass), the rest ~ sqrt(1e-18) below
        cuts = np.union1d(cuts, hi * np.geomspace(1e-18, 1, 2 * GRID + 1))
    mass = _total_mass(law, intervals, cuts, atoms, eps, 16)
    if abs(mass - 1) > MASS_TOL:
        raise ConvergenceError(f"the support of {law!r} from the separation of its clusters carries mass "
                               f"{mass:.8f}, not 1")
    return intervals


def _checked_bulk(law, intervals, spread=None):
    """The support of ``MP`` times a law known by its Stieltjes transform
    (:mod:`freeprob.laws._separation_bulk`), or times a power law summed by
    Euler-Maclaurin (:mod:`freeprob.laws._separation`), checked against the
    subordination density: positive at the middle of each interval, zero (to
    ``1e-6`` of the largest of those) at the middle of each gap wider than
    ``1e4`` evaluation heights (:func:`~freeprob.laws._subordination.axis_height`;
    a narrower gap is below the resolution of the density: the last gaps
    before a power law's clusters merge are ``1e-8`` of their position).
    With ``spread``, at most that many intervals and gaps, evenly spread by
    index from the lowest to the highest (a power law of ``10^9`` atoms times
    ``MP(1/2)`` has 21,353 intervals, and each middle costs a subordination
    solve).  The mass check of :func:`_separated_support` is left out: for a
    nested product it integrates a subordination whose operand is itself
    solved by subordination next to its edges, minutes where this takes a
    second; for the power law, a cluster's mass ``1/n`` is below its
    tolerance."""
    from freeprob.laws._subordination import axis_height

    atoms = [(float(c), float(w)) for c, w in law.atoms()]
    eps = 1e-12 * (1 + law._numeric_radius())
    ab = np.array(intervals, dtype=float).reshape(-1, 2)
    mids = ab.mean(axis=1)
    holes = 0.5 * (ab[:-1, 1] + ab[1:, 0])
    holes = holes[ab[1:, 0] - ab[:-1, 1] > 1e4 * axis_height(law, holes)]
    if spread is not None:
        mids, holes = (v[np.unique(np.linspace(0, v.size - 1, spread).round().astype(int))] if v.size > spread
                       else v for v in (mids, holes))
    pts = np.concatenate([mids, holes])
    dens = np.concatenate([_ac_density(law, c, atoms, eps, resolved=True)
                           for c in np.array_split(pts, max(1, -(-pts.size // BATCH)))])
    body, gaps = dens[:mids.size], dens[mids.size:]
    if not (np.all(body > 0) and np.all(gaps <= 1e-6 * np.max(body, initial=0.0))):
        raise ConvergenceError(f"the support of {law!r} from the separation of its clusters disagrees with its "
                               f"density (inside {body}, in the gaps {gaps})")
    return intervals


def _mass(law, intervals, atoms, eps, nodes):
    """``int rho`` over the intervals by Fejer's first rule in
    ``x = a + (b - a)(1 - cos th)/2`` (the nodes of ``cdf_numeric``)."""
    th = (np.arange(nodes) + 0.5) * np.pi / nodes
    j = np.arange(1, nodes // 2 + 1)
    # Fejer's first rule on [-1, 1] (nodes cos th_k): spectral for smooth
    # densities, ~n^-3 with square-root edges (the plain midpoint rule in th
    # with the weight sin th is only O(n^-2))
    weights = 2 / nodes * (1 - 2 * np.sum(np.cos(2 * np.outer(th, j)) / (4 * j**2 - 1), axis=1))
    ab = np.array(intervals, dtype=float).reshape(-1, 2)
    a, b = ab[:, :1], ab[:, 1:]
    xm = a + (b - a) * (1 - np.cos(th)) / 2                  # one batch: (pieces, nodes)
    dens = _ac_density(law, xm.ravel(), atoms, eps).reshape(xm.shape)
    return float(np.sum(dens * weights * (b - a) / 2))
