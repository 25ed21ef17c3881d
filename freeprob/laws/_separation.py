r"""The exact support of ``MP(q, s)`` times a law of finitely many atoms [P19].

A sample covariance ``Sigma^{1/2} W Sigma^{1/2}`` with ``W`` white Wishart
(``S = 1/(s(1 + q t))``, [C9]) and ``Sigma`` of atoms ``eta_k`` with weights
``w_k`` has a Stieltjes transform known only by subordination, but its
support is known exactly (Silverstein and Choi, 1995).  With ``t_k = s
eta_k`` the companion transform ``m`` of the ``P x P`` Gram inverts as

.. math:: x(u) = u\Bigl(1 + q\sum_k \frac{w_k t_k}{u - t_k}\Bigr),\qquad
          u = -1/m,

and a real ``x`` lies outside the support of the continuous part exactly
when it is ``x(u)`` at a real ``u`` (not an atom ``t_k``, not 0) where ``x``
increases:

.. math:: x'(u) = 1 - h(u),\qquad h(u) = q\sum_k \frac{w_k t_k^2}{(u - t_k)^2}.

``h`` is a sum of convex functions, so on each segment ``(t_k, t_{k+1})``
between neighbouring atoms it has one minimum: a gap opens there iff that
minimum is below 1, and its edges are ``x`` at the two roots of ``h = 1``.
Below the smallest atom ``h`` increases from 0 and above the largest it
decreases to 0: one root each, the lowest and highest edges.  Every edge is
a root of a monotone or convex function, found by Newton inside a bracket
(bisection where a step leaves it); ``x' = 0`` there, so the edge's error is
quadratic in the root's.

The sums run over every atom, which costs ``n`` per point.  Most segments of
a spectrum of ``10^6`` atoms have no gap; that is certified without the full
sums, because every partial sum of ``h`` is a lower bound of it:

1. the two atoms of the segment bound ``h`` below by ``(a_k^{1/3} +
   a_{k+1}^{1/3})^3/(t_{k+1} - t_k)^2`` (``a_k = q w_k t_k^2``), in closed
   form;
2. the minimum of the 64 atoms nearest on each side, found by Newton;
3. the full sums for the segments left.

For ``PowerLaw(1.5, 10^6)`` times ``MP(2)`` the first bound leaves about 400
segments of 10^6, most of them real gaps (338 intervals, 16 s).  Nothing is
sampled or gridded: the narrowest isolated cluster is found as surely as the
widest.  Laws of more than ``ATOM_LIMIT`` atoms keep the general route's
grid (:mod:`freeprob.laws._support`).
"""

from __future__ import annotations

import numpy as np

from freeprob.errors import ConvergenceError
from freeprob.numeric.cache import cached

__all__ = ["mp_product_support", "separation"]

#: atoms on each side of a segment in the windowed lower bound of h
WINDOW = 64
#: a minimum of h within this of 1 is a touching pair of clusters (no gap)
TOUCH = 1e-12
#: the most atoms taken by this route: the full sums cost (segments left) x
#: (atoms) per Newton step, and the segments left grow like sqrt(n) for a
#: power law (16 s at 10^6); larger laws keep the grid of the general route
ATOM_LIMIT = 2 * 10**6
#: elements per block of the full sums (points x atoms)
_BLOCK = 2**22


def _operands(law):
    """``(q, s, t, w)`` when ``law`` is ``MP(q, s)`` times a numeric law of
    finitely many atoms, else None; ``t`` the distinct positive atoms in
    increasing order, ``w`` their weights (the atom at 0 does not enter)."""
    from freeprob.laws._classical import MarchenkoPastur

    if getattr(law, "_kind", None) != "mul":
        return None
    ops = law._operands()
    mp = [o for o in ops if isinstance(o, MarchenkoPastur)]
    other = [o for o in ops if not isinstance(o, MarchenkoPastur)]
    if len(mp) != 1 or len(other) != 1 or other[0].finite_spectrum is None:
        return None
    try:
        if int(other[0].finite_spectrum.size) > ATOM_LIMIT:
            return None
        q, s = float(mp[0].ratio), float(mp[0].scale)
        vals, wts = other[0].finite_spectrum.numeric_atoms()
    except (TypeError, ValueError):
        return None
    vals = np.asarray(vals, dtype=float)
    wts = np.full(vals.size, 1.0 / vals.size) if wts is None else np.asarray(wts, dtype=float)
    if not (np.all(np.isfinite(vals)) and np.all(vals >= 0) and q > 0 and s > 0):
        return None
    t, inv = np.unique(vals[vals > 0] * s, return_inverse=True)
    w = np.bincount(inv, weights=wts[vals > 0] / wts.sum(), minlength=t.size)
    return q, s, t, w


def _sums(u, t, a, orders, sel=None):
    """``{m: sum_k a_k/(u - t_k)^m}`` at the points ``u`` for each order
    ``m`` in ``orders`` (increasing), over all atoms, or over the rows
    ``sel`` (an index array of shape ``(len(u), width)``) of them;
    blockwise in the atoms."""
    out = {m: np.zeros(u.shape) for m in orders}

    def add(r, coef):
        p, done = r, 1
        for m in orders:
            while done < m:
                p, done = p * r, done + 1
            out[m] += np.sum(coef * p, axis=1) if coef.ndim == 2 else p @ coef

    if sel is not None:
        add(1.0 / (u[:, None] - t[sel]), a[sel])
        return out
    step = max(1, _BLOCK // max(u.size, 1))
    for lo in range(0, t.size, step):
        add(1.0 / (u[:, None] - t[None, lo:lo + step]), a[lo:lo + step])
    return out


def _newton(f, lo, hi, x0, *, rising, iters=200):
    """A root of each of the monotone functions ``f(x, idx) -> (value,
    slope)`` (increasing if ``rising``) in its bracket ``(lo, hi)``:
    Newton from ``x0``, bisection where a step leaves the bracket; stops
    when the bracket or the step is below ``1e-15`` of the point (plus
    ``1e-15`` of the first bracket)."""
    x, lo, hi = x0.copy(), lo.copy(), hi.copy()
    atol = 1e-15 * (hi - lo)        # a root at 0 (h(0) = 1 below the smallest atom)
    todo = np.arange(x.size)
    for _ in range(iters):
        if not todo.size:
            return x
        v, d = f(x[todo], todo)
        up = (v > 0) if rising else (v < 0)        # the root lies below x
        hi[todo] = np.where(up, x[todo], hi[todo])
        lo[todo] = np.where(up, lo[todo], x[todo])
        with np.errstate(divide="ignore", invalid="ignore"):
            new = np.where(v == 0, x[todo], x[todo] - v / d)
        bad = ~((new >= lo[todo]) & (new <= hi[todo]))
        new = np.where(bad, 0.5 * (lo[todo] + hi[todo]), new)
        tol = 1e-15 * np.abs(x[todo]) + atol[todo]
        done = (np.abs(new - x[todo]) <= tol) | (hi[todo] - lo[todo] <= tol)
        done |= v == 0
        x[todo] = new
        todo = todo[~done]
    raise ConvergenceError(f"an edge of the support did not converge ({todo.size} roots of h = 1 left)")


def _minimum(t, a, k, sel=None, u0=None):
    """``(u*, h(u*))``: the minimum of ``h`` on each segment ``(t_k,
    t_{k+1})`` (over the atoms ``sel`` of each, or all), a root of the
    increasing ``h'`` by Newton (``h'' > 0``) from ``u0`` (by default the
    two-atom minimizer)."""
    lo, hi = t[k], t[k + 1]

    def dh(u, idx):
        s = _sums(u, t, a, (3, 4), None if sel is None else sel[idx])
        return -2 * s[3], 6 * s[4]

    if u0 is None:
        c0, c1 = np.cbrt(a[k]), np.cbrt(a[k + 1])
        u0 = lo + (hi - lo) * c0 / (c0 + c1)
    u = _newton(dh, lo, hi, u0, rising=True)
    return u, _sums(u, t, a, (2,), sel)[2]


def _roots(t, a, lo, hi, *, rising, sel=None, x0=None):
    """The root of ``h = 1`` in each bracket ``(lo, hi)`` on which ``h``
    is monotone (increasing if ``rising``), over the atoms ``sel`` or all;
    Newton from ``x0`` (by default the middle of the bracket)."""
    def f(u, idx):
        s = _sums(u, t, a, (2, 3), None if sel is None else sel[idx])
        return s[2] - 1, -2 * s[3]

    return _newton(f, lo, hi, 0.5 * (lo + hi) if x0 is None else x0, rising=rising)


def mp_product_support(law):
    """The support intervals ``((a, b), ...)`` of the continuous part of
    ``MP(q, s)`` times a law of finitely many atoms (see the module), or None
    for another law.

    >>> import freeprob
    >>> law = freeprob.free_mul(freeprob.MarchenkoPastur(0.5), freeprob.Discrete([0.0, 1.0], [0.7, 0.3]))
    >>> [tuple(round(v, 4) for v in ab) for ab in mp_product_support(law)]
    [(0.3754, 1.9246)]
    """
    out = separation(law)
    return None if out is None else out[0]


@cached(maxsize=64)
def separation(law):
    """``(intervals, dips)`` of ``MP(q, s)`` times a law of finitely many
    atoms, or None for another law: the support intervals (see the module)
    and the points ``x(u)`` at the two-atom minimizers of the segments whose
    two-atom bound of ``h`` is below 4, where merged clusters leave a dip in
    the density (cuts for the quadrature that verifies the mass)."""
    ops = _operands(law)
    if ops is None:
        return None
    q, _, t, w = ops
    if not t.size:
        return (), np.empty(0)
    a = q * w * t**2
    total = float(np.sum(a))
    one = np.ones(1)
    # below the smallest atom h rises from 0: h = 1 between t_1 - sqrt(sum a)
    # and t_1 - sqrt(a_1); above the largest it falls, between t_n + sqrt(a_n)
    # and t_n + sqrt(sum a)
    u_lo = _roots(t, a, (t[0] - np.sqrt(total)) * one, (t[0] - np.sqrt(a[0])) * one, rising=True)
    u_hi = _roots(t, a, (t[-1] + np.sqrt(a[-1])) * one, (t[-1] + np.sqrt(total)) * one, rising=False)
    # segments that may hold a gap: the two-atom bound (closed form)
    k = np.arange(t.size - 1)
    two = (np.cbrt(a[k]) + np.cbrt(a[k + 1])) ** 3 / (t[k + 1] - t[k]) ** 2
    # x at the two-atom minimizers of near-gaps: where the density dips
    near = k[two < 4]
    c0, c1 = np.cbrt(a[near]), np.cbrt(a[near + 1])
    dips = t[near] + (t[near + 1] - t[near]) * c0 / (c0 + c1)
    k = k[two < 1 + TOUCH]
    lo, hi, u0 = t[k], t[k + 1], None
    if k.size and t.size > 2 * WINDOW:
        # the window's h, a lower bound: no gap where its minimum is >= 1;
        # elsewhere its roots bracket the full ones from outside
        base = np.clip(k - WINDOW + 1, 0, t.size - 2 * WINDOW)
        sel = base[:, None] + np.arange(2 * WINDOW)[None, :]
        u0, hw = _minimum(t, a, k, sel)
        keep = hw < 1 + TOUCH
        k, u0, sel = k[keep], u0[keep], sel[keep]
        lo, hi = t[k], t[k + 1]
        opened = hw[keep] < 1
        if opened.any():
            lo[opened] = _roots(t, a, t[k[opened]], u0[opened], rising=False, sel=sel[opened])
            hi[opened] = _roots(t, a, u0[opened], t[k[opened] + 1], rising=True, sel=sel[opened])
    edges_lo, edges_hi = [], []
    if k.size:
        u_star, h_star = _minimum(t, a, k, u0=u0)
        gap = h_star < 1 - TOUCH
        k, u_star, lo, hi = k[gap], u_star[gap], lo[gap], hi[gap]
    if k.size:
        # h = 1 on each side of the minimum: h falls on (lo, u*), rises on (u*, hi)
        # from the window's roots, just outside the full ones, where there are
        edges_hi = list(_roots(t, a, lo, u_star, rising=False, x0=None if u0 is None else lo))
        edges_lo = list(_roots(t, a, u_star, hi, rising=True, x0=None if u0 is None else hi))
    starts = np.array([u_lo[0]] + edges_lo)
    ends = np.array(edges_hi + [u_hi[0]])
    # x(u) = u (1 + sum_k b_k/(u - t_k)), b_k = q w_k t_k
    b = q * w * t
    xs = starts * (1 + _sums(starts, t, b, (1,))[1])
    xe = ends * (1 + _sums(ends, t, b, (1,))[1])
    dips = dips * (1 + _sums(dips, t, b, (1,))[1])
    return tuple((max(float(s), 0.0), float(e)) for s, e in zip(xs, xe)), dips
