r"""The support of ``MP(q, s)`` times a law known by its Stieltjes transform [P19].

:mod:`freeprob.laws._separation` finds the support of a sample covariance
whose population has finitely many atoms.  The same theorem (Silverstein and
Choi, 1995) holds for any population law ``a`` on ``[0, oo)``: with ``u =
-1/m`` (``m`` the companion transform of the ``P x P`` Gram) and ``g`` the
Stieltjes transform of ``a`` (``g(z) = <1/(z - t)>``, [C4]),

.. math:: x(u) = u\bigl(1 - q + q\,u\,g(u)\bigr),\qquad
          x'(u) = 1 - h(u),\qquad
          h(u) = q\Bigl\langle \frac{t^2}{(u - t)^2}\Bigr\rangle
               = q\bigl(1 - 2u\,g(u) - u^2 g'(u)\bigr),

for real ``u`` off the support of ``a``, and ``x`` lies outside the support of
the product's continuous part exactly when it is ``x(u)`` where ``x``
increases.  In the ridge language of [C6], ``u = -kappa`` and ``x =
-lam(kappa)``, ``h = q df2(kappa)``: at ``u <= 0`` both come from the
population's certified ``df1`` and ``df2`` at ``kappa = -u >= 0``.

``h`` is an average of the convex functions ``t^2/(u - t)^2``, so on each
segment of the real line off the support of ``a``:

* **below its lowest nonzero point** ``f`` (``u < f``, with ``u <= 0``
  included: the atom at 0 adds nothing to ``h``), ``h`` increases from 0;
  the lower edge is ``x`` at the root of ``h = 1`` (bisection in ``log
  kappa`` at ``u < 0``, where the samples outnumber the population's rank,
  ``q (1 - m_0) > 1``; in ``log(f - u)`` above 0), or ``x(f)`` where ``h``
  stays below 1 up to ``f`` (a hard edge); ``0`` where ``h(0) = q (1 -
  m_0) <= 1`` and ``f = 0``;
* **above its top** ``h`` decreases to 0: the upper edge, by bisection in
  ``log(u - top)``;
* **in a gap** ``(c, d)`` of the support of ``a``, ``h`` is convex: a grid
  kept to the neighbours of its smallest value finds its minimum, and a gap
  of the product opens where that is below ``1 - TOUCH``, between ``x`` at
  the two roots of ``h = 1`` (bisection on each side).

Each search evaluates ``SPLIT`` points of its bracket at once (one batched
call of the operand per round, a factor 32), as the grid route of
:mod:`freeprob.laws._support` does.

``g`` and ``g'`` at real ``u > 0`` come from the law's own certified
Stieltjes values at ``u + i e`` and ``u + 2i e``, ``e = 1e-4`` of the
distance to the support (real points next to an edge cost an mpmath
continuation each): Richardson's combinations ``(4 Re g_1 - Re g_2)/3`` and
``(8 Im g_1 - Im g_2)/(6e)`` are exact to ``(e/dist)^4 ~ 1e-16``, and
rounding leaves ``g'`` to ``eps dist/e ~ 2e-12``.  Only the sign of ``1 -
h`` is used, and ``x' = 0`` at an edge, so an edge's error is quadratic in
its root's.  Where ``Im g`` is not linear in the height (``Im g_2 != 2 Im
g_1`` to ``1e-3``: a point inside the true support of a law whose own
support is known numerically, where it tends to ``-pi rho``), ``h = +oo``.
Every segment is found from the support of ``a``: a nested product (``MP x
PowerLaw x MP``) costs a few dozen batched evaluations of its operand (1.5
s) instead of a density grid next to edges where subordination turns
neutral (which had not finished in 10 minutes).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob.errors import (
    BranchError,
    ConvergenceError,
    NoClosedFormError,
    NumericalError,
    SupportError,
)
from freeprob.numeric.cache import cached

__all__ = ["bulk_separation", "sample_edges", "resolution"]

#: a minimum of h within this of 1 is a touching pair of clusters (no gap)
TOUCH = 1e-10
#: interior points per bracket and round of the searches (one batched
#: evaluation of the operand: a factor 32 per round)
SPLIT = 31
#: rounds of the minimum's search (16^12 ~ 3e14 of the first bracket)
ROUNDS = 12
#: the searches start this far (relative) from an end of the operand's support
NEAR = 1e-6
#: complex step of g' as a fraction of the distance to the support
STEP = 1e-4

_ERRORS = (BranchError, ConvergenceError, NoClosedFormError, NumericalError, SupportError)


def _operands(law):
    """``(q, s, a)`` when ``law`` is ``MP(q, s)`` times a numeric law ``a``
    without a finite spectrum (that is :mod:`freeprob.laws._separation`'s),
    else None."""
    from freeprob.laws._classical import MarchenkoPastur

    if getattr(law, "_kind", None) != "mul" or law.free_symbols:
        return None
    ops = law._operands()
    mp = [o for o in ops if isinstance(o, MarchenkoPastur)]
    if len(ops) != 2 or not mp:
        return None
    other = ops[1] if ops[0] is mp[0] else ops[0]
    if other.finite_spectrum is not None:
        return None
    try:
        q, s = float(mp[0].ratio), float(mp[0].scale)
    except (TypeError, ValueError):
        return None
    return (q, s, other) if q > 0 and s > 0 and np.isfinite(q * s) else None


def _components(a):
    """The support of ``a`` without the point 0 as sorted ``(lo, hi)``
    floats (an isolated atom as ``(c, c)``), merged where they touch; None
    where ``a`` has no numeric support."""
    try:
        sup = a.support()
    except (*_ERRORS, NotImplementedError):     # no numeric support: the grid route's to try
        return None
    parts = sup.args if isinstance(sup, sp.Union) else (sup,)
    comps = []
    for p in parts:
        if isinstance(p, sp.Interval):
            comps.append((float(p.start), float(p.end)))
        elif isinstance(p, sp.FiniteSet):
            comps += [(float(c), float(c)) for c in p.args]
        else:
            return None
    comps = sorted(c for c in comps if c[1] > 0)
    if not comps or not all(np.isfinite(c[0]) and np.isfinite(c[1]) and c[0] >= 0 for c in comps):
        return None
    merged = [comps[0]]
    for lo, hi in comps[1:]:
        if lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


class _Map:
    """``x(u)`` and ``h(u)`` of ``MP(q)`` times ``a`` at arrays of real
    ``u`` (scale 1) off the support ``comps`` of ``a`` (see the module):
    one batched evaluation of ``a`` per call."""

    def __init__(self, a, q, comps):
        self.a, self.q, self.comps = a, q, comps
        self.ends = np.array([e for c in comps for e in c] + [0.0])

    def _g(self, z):
        """``g`` of ``a`` at the points ``z`` (a batch; point by point where
        the batch fails, each failing point marked False)."""
        try:
            return np.asarray(self.a.stieltjes_numeric(z), dtype=complex).ravel(), np.ones(z.size, dtype=bool)
        except _ERRORS:
            if z.size == 1:
                return np.zeros(1, dtype=complex), np.zeros(1, dtype=bool)
        parts = [self._g(z[i:i + 1]) for i in range(z.size)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _values(self, u):
        """``(x, h, ok)`` at the points ``u``; ``ok`` False where ``g`` is
        not analytic (inside the support: ``h = +oo`` there)."""
        u = np.asarray(u, dtype=float).ravel()
        x, h, ok = np.zeros(u.shape), np.full(u.shape, np.inf), np.ones(u.shape, dtype=bool)
        neg = u <= 0
        if neg.any():
            k = -u[neg]
            x[neg] = u[neg] * (1 - self.q * np.asarray(self.a.df1_numeric(k), dtype=float).ravel())
            h[neg] = self.q * np.asarray(self.a.df2_numeric(k), dtype=float).ravel()
        pos = np.flatnonzero(~neg)
        if pos.size:
            up = u[pos]
            e = STEP * np.min(np.abs(self.ends[None, :] - up[:, None]), axis=1)
            g, good = self._g(np.concatenate([up + 1j * e, up + 2j * e]))
            g1, g2 = g[:pos.size], g[pos.size:]
            good = good[:pos.size] & good[pos.size:] & np.isfinite(g1) & np.isfinite(g2)
            g1, g2 = np.where(good, g1, 0.0), np.where(good, g2, 0.0)   # no inf - inf below
            # analytic at u: Im g linear in the height to (e/dist)^2 (on the
            # support it tends to -pi rho instead)
            good &= (np.abs(g2.imag - 2 * g1.imag) <= 1e-3 * np.abs(g2.imag)) & (e > 0)
            gr = (4 * g1.real - g2.real) / 3                 # g and g' to (e/dist)^4
            dg = (8 * g1.imag - g2.imag) / (6 * np.where(good, e, 1.0))
            x[pos] = np.where(good, up * (1 - self.q + self.q * up * gr), 0.0)
            h[pos] = np.where(good, self.q * (1 - 2 * up * gr - up * up * dg), np.inf)
            ok[pos] = good
        return x, h, ok

    def x(self, u):
        """``(x, ok)`` at the points ``u``."""
        return self._values(u)[0::2]

    def h(self, u):
        """``h`` at the points ``u`` (``+oo`` inside the support)."""
        return self._values(u)[1]


def _bracket(f, lo, hi, rising, split=SPLIT):
    """``(lo, hi)`` bracketing the root of ``f(v) = 1`` for ``f``
    increasing (``rising``) or decreasing on ``[lo, hi]``, where ``f - 1``
    has opposite signs at the two ends (checked by the caller): ``split``
    interior points per round, until the bracket is at rounding."""
    for _ in range(int(np.ceil(50 * np.log(2) / np.log(split + 1)))):
        pts = lo + (hi - lo) * np.arange(1, split + 1) / (split + 1)
        past = (f(pts) > 1) == rising             # the root lies below these points
        i = int(np.argmax(past)) if past.any() else split
        lo, hi = (pts[i - 1] if i > 0 else lo), (pts[i] if i < split else hi)
        if not hi - lo > 4e-16 * max(abs(lo), abs(hi)):
            break
    return lo, hi


def _minimum(f, lo, hi):
    """``(v, f(v))`` at the minimum of the convex ``f`` on ``[lo, hi]``:
    ``SPLIT + 2`` points per round, kept to the neighbours of the smallest."""
    best = (lo, np.inf)
    for _ in range(ROUNDS):
        pts = np.linspace(lo, hi, SPLIT + 2)
        vals = f(pts)
        i = int(np.argmin(vals))
        if vals[i] <= best[1]:
            best = (pts[i], vals[i])
        lo, hi = pts[max(i - 1, 0)], pts[min(i + 1, SPLIT + 1)]
    return best


def _edge(m, ends, pick):
    """``pick`` (max or min) of ``x`` over the bracket ``ends`` (points
    inside the support left out)."""
    x, ok = m.x(np.array(ends))
    if not ok.any():
        raise ConvergenceError(f"an edge of MP x {m.a!r} was not reached off its support")
    return float(pick(x[ok]))


def _away(m, end, sign, far, scale):
    """The bracket ``[u, u']`` of the root of ``h = 1`` at ``u = end + sign
    exp(v)``, ``v`` up to ``log far``, on a side of an end of the support
    of ``a`` where ``h`` falls with the distance (``h(far) <= 1``, checked
    by the caller); one point ``[u]`` at ``1e-14 scale`` from the end where
    ``h`` stays below 1 up to there (a hard edge).  The brackets start at
    ``NEAR scale``, with ``SPLIT`` points per round; closer to the end (a
    root there, or a hard edge), 3 points per round: subordination next to
    an edge can stall, and one stalled point hands its whole batch to an
    mpmath continuation (0.4 s a point)."""
    near, split = NEAR * scale, SPLIT
    lo = np.log(near)
    if not m.h(end + sign * near)[0] > 1:
        if not m.h(end + sign * 1e-14 * scale)[0] > 1:
            return [end + sign * 1e-14 * scale]
        lo, far, split = np.log(1e-14 * scale), near, 3
    a, b = _bracket(lambda v: m.h(end + sign * np.exp(v)), lo, np.log(far), rising=False, split=split)
    return [end + sign * np.exp(a), end + sign * np.exp(b)]


def _lower_ends(m, floor, radius):
    """The bracket of the root of ``h = 1`` below the support of ``a``
    (see the module), or None where the lower edge is 0."""
    if m.h(0.0)[0] > 1:      # the root is at kappa = -u > 0: bisection in log kappa
        big = _far(m, -1, 0.0, radius * (1 + m.q))
        lo, hi = _bracket(lambda v: m.h(-np.exp(v)), np.log(1e-30 * radius), np.log(big), rising=False)
        return [-np.exp(lo), -np.exp(hi)]
    return _away(m, floor, -1, floor, floor) if floor > 0 else None


def _lower_edge(m, floor, radius):
    """The lower edge of the product's continuous part (see the module)."""
    ends = _lower_ends(m, floor, radius)
    return 0.0 if ends is None else max(_edge(m, ends, max), 0.0)


def _upper_ends(m, top):
    """The bracket of the root of ``h = 1`` above the support of ``a``."""
    return _away(m, top, 1, _far(m, 1, top, top * (1 + m.q)), top)


def _upper_edge(m, top):
    """The upper edge of the product (see the module)."""
    return _edge(m, _upper_ends(m, top), min)


def _far(m, sign, end, big):
    """A distance ``big * 4^j`` from ``end`` at which ``h < 1`` (``h`` falls
    like ``q m_2/u^2`` far out); :class:`~freeprob.errors.ConvergenceError`
    where 60 quadruplings do not reach it (``g`` not evaluable there)."""
    for _ in range(60):
        if m.h(end + sign * big)[0] < 1:
            return big
        big *= 4
    raise ConvergenceError(f"h = 1 was not crossed far from the support of {m.a!r}")


def _gap(m, c, d):
    """``(x_left, x_right, x_dip, h_min)`` for the gap ``(c, d)`` of the
    support of ``a``: the product's gap ``(x_left, x_right)`` where ``h``
    dips below ``1 - TOUCH`` (else both None), and ``x`` at the minimum of
    ``h`` (where the density dips when the clusters merge).  The minimum is
    searched from ``NEAR d`` inside the gap: a gap of the operand narrower
    than ``2 NEAR d`` counts as closed."""
    lo, hi = c + NEAR * d, d - NEAR * d
    if not lo < hi:
        return None, None, None, np.inf
    um, hm = _minimum(m.h, lo, hi)
    x, ok = m.x(np.array([um]))
    dip = float(x[0]) if ok[0] else None
    if not hm < 1 - TOUCH:
        return None, None, dip, hm
    left = _edge(m, _away(m, c, 1, um - c, d), min)
    right = _edge(m, _away(m, d, -1, d - um, d), max)
    return left, right, dip, hm


@cached(maxsize=64)
def bulk_separation(law):
    """``(intervals, dips)`` of ``MP(q, s)`` times a law known by its
    Stieltjes transform (see the module), or None for another law: the
    support intervals of the continuous part and the points ``x`` at the
    minima of ``h`` in the gaps of the operand's support where it is below
    4 (dips of the density, cuts for the quadrature that verifies the mass).

    >>> import freeprob
    >>> law = freeprob.free_mul(freeprob.MarchenkoPastur(0.5), freeprob.MarchenkoPastur(0.5).scaled(2))
    >>> [tuple(round(v, 8) for v in ab) for ab in bulk_separation(law)[0]]   # 2 MP(1/2) x MP(1/2)
    [(0.05670027, 8.81829973)]
    """
    ops = _operands(law)
    if ops is None:
        return None
    q, s, a = ops
    comps = _components(a)
    if comps is None:
        return None
    m = _Map(a, q, comps)
    radius = comps[-1][1]
    try:
        lower = _lower_edge(m, comps[0][0], radius)
        upper = _upper_edge(m, radius)
        gaps = [_gap(m, c[1], d[0]) for c, d in zip(comps[:-1], comps[1:])]
    except _ERRORS:
        return None
    starts, ends, dips = [lower], [], []
    for left, right, dip, hm in gaps:
        if left is not None:
            ends.append(left)
            starts.append(right)
        if dip is not None and hm < 4:
            dips.append(dip)
    ends.append(upper)
    intervals = tuple((s * float(x0), s * float(x1)) for x0, x1 in zip(starts, ends) if x1 > x0)
    return intervals, s * np.array(dips, dtype=float)



def resolution(a):
    """The relative accuracy of ``a``'s numeric Stieltjes transform and
    degrees of freedom: ``1e-10`` for a law without an algebraic curve
    (known by subordination only, which reaches real points off its support
    at a height of ``1e-12 (1 + R)``), else ``1e-12``."""
    curve = getattr(a, "curve", None)
    return 1e-10 if curve is not None and curve() is None else 1e-12


def _bound(m, ends, pick, sign, rtol):
    """:func:`_edge` moved outward (``sign``) by ``2 rtol`` of the part of
    ``x`` that carries the error of ``g`` (``q u^2 g`` above 0, ``q u
    df1`` below: at most ``max(|x - u|, |x - u (1 - q)|)``) and by the
    rounding of ``x``."""
    u = np.asarray(ends, dtype=float)
    x, ok = m.x(u)
    if not ok.any():
        raise ConvergenceError(f"an edge of MP x {m.a!r} was not reached off its support")
    i = np.flatnonzero(ok)[int(np.argmax(x[ok]) if pick is max else np.argmin(x[ok]))]
    slack = 2 * rtol * max(abs(x[i] - u[i]), abs(x[i] - u[i] * (1 - m.q))) + 4 * np.finfo(float).eps * abs(x[i])
    return float(x[i] + sign * slack)


@cached(maxsize=128)
def sample_edges(a, q):
    """``(lower, upper)``: bounds of the edges of the nonzero part of
    ``MP(q)`` times ``a`` (a law on ``[0, oo)`` known by its Stieltjes
    transform, ``q > 0``), the spectrum of the sample covariance of a
    population ``a`` with ``q`` dimensions per sample (see the module).
    ``lower`` is ``x`` at an end of the bracket of the root of ``h = 1``,
    where ``x`` has its maximum, so a lower bound; ``upper`` likewise an
    upper bound; each moved outward by twice the law's :func:`resolution`
    (itself a bound with room) of the part of ``x`` that carries it.  ``lower`` is 0
    where ``h(0) = q (1 - m_0) <= 1`` and ``a`` reaches 0 (``m_0`` its mass
    at 0); with fewer samples than the population's rank (``h(0) > 1``) it
    is the Gram's lower edge, above 0.  None where ``a`` has no numeric
    support or an edge is not reached.

    >>> import freeprob
    >>> lo, hi = sample_edges(freeprob.MarchenkoPastur(0.5), 0.5)      # MP(1/2) x MP(1/2)
    >>> round(lo, 10), round(hi, 9)
    (0.0283501364, 4.409149864)
    """
    comps = _components(a)
    if comps is None or not q > 0:
        return None
    m, rtol = _Map(a, float(q), comps), resolution(a)
    try:
        ends = _lower_ends(m, comps[0][0], comps[-1][1])
        lower = 0.0 if ends is None else max(_bound(m, ends, max, -1, rtol), 0.0)
        upper = _bound(m, _upper_ends(m, comps[-1][1]), min, 1, rtol)
    except _ERRORS:
        return None
    return lower, upper
