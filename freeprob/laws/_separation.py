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
widest.

**A power law of any size.**  For ``eta_k = k^-alpha`` with weights ``1/n``
the two-atom bound of segment ``k`` (between ``eta_{k+1}`` and ``eta_k``) is

.. math:: \frac{q}{n}\,\frac{(1 + \rho^{2\alpha/3})^3}{(1 - \rho^{\alpha})^2},
          \qquad \rho = \frac{k}{k+1},

independent of the scale ``s`` and increasing in ``k`` (``rho`` increases).
So only the segments ``k < K``, with ``K`` the first where the bound reaches
``1``, can hold a gap; ``K`` grows like ``alpha sqrt(n/(8q))``.  The atoms
``k <= K`` (and a window beyond) are listed, and the full sums over all
``n`` atoms, ``n = 10^9`` included, are the power-law sums of
:mod:`freeprob.numeric.powersum` (an exact head, the atoms next to the pole
``u`` one by one, Euler-Maclaurin between), compiled from the summands
``q t^2/(u - t)^m``.  A law whose ``K`` exceeds ``ATOM_LIMIT`` (``q`` below
about ``alpha^2/(8n)``) and other laws of more than ``ATOM_LIMIT`` atoms keep
the general route's grid (:mod:`freeprob.laws._support`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import sympy as sp

from freeprob.errors import ConvergenceError
from freeprob.numeric.cache import cached

__all__ = ["Separation", "mp_product_support", "separation"]

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
    """``(q, atoms)`` when ``law`` is ``MP(q, s)`` times a numeric law of
    finitely many atoms, else None; ``atoms`` an :class:`_Atoms` of the
    distinct positive atoms ``t = s eta`` (the atom at 0 does not enter)."""
    from freeprob.laws._classical import MarchenkoPastur
    from freeprob.numeric.spectrum import PowerLawSpectrum

    if getattr(law, "_kind", None) != "mul":
        return None
    ops = law._operands()
    mp = [o for o in ops if isinstance(o, MarchenkoPastur)]
    other = [o for o in ops if not isinstance(o, MarchenkoPastur)]
    if len(mp) != 1 or len(other) != 1 or other[0].finite_spectrum is None:
        return None
    spec = other[0].finite_spectrum
    try:
        q, s = float(mp[0].ratio), float(mp[0].scale)
        if not (q > 0 and s > 0):
            return None
        if isinstance(spec, PowerLawSpectrum) and spec.beta == 0 and spec.uses_sums():
            atoms = _PowerAtoms.of(q, s, float(spec.alpha), spec.n)
            return None if atoms is None else (q, atoms)
        if int(spec.size) > ATOM_LIMIT:
            return None
        vals, wts = spec.numeric_atoms()
    except (TypeError, ValueError):
        return None
    vals = np.asarray(vals, dtype=float)
    wts = np.full(vals.size, 1.0 / vals.size) if wts is None else np.asarray(wts, dtype=float)
    if not (np.all(np.isfinite(vals)) and np.all(vals >= 0)):
        return None
    t, inv = np.unique(vals[vals > 0] * s, return_inverse=True)
    w = np.bincount(inv, weights=wts[vals > 0] / wts.sum(), minlength=t.size)
    return q, _Atoms(q, t, w)


class _Atoms:
    """The positive atoms ``t`` (increasing) of the scaled operand, their
    weights ``w``, ``a_k = q w_k t_k^2`` (the terms of ``h``) and ``b_k = q w_k t_k``
    (those of ``x``): every atom listed, the full sums taken term by term.
    ``low`` is the smallest atom and its ``a``, ``total`` the sum of ``a``."""

    def __init__(self, q, t, w):
        self.t, self.w, self.a, self.b = t, w, q * w * t**2, q * w * t
        self.low = (float(t[0]), float(self.a[0])) if t.size else None
        self.total = float(np.sum(self.a))
        #: the mass of the positive atoms, ``1 - m_0``: ``h(0) = q (1 - m_0)``
        self.mass = float(np.sum(w))

    def full(self, u, orders):
        """``{m: sum_k a_k/(u - t_k)^m}`` over all atoms."""
        return _sums(u, self.t, self.a, orders)

    def x(self, u):
        """``x(u) = u (1 + sum_k b_k/(u - t_k))``."""
        return u * (1 + _sums(u, self.t, self.b, (1,))[1])


class _PowerAtoms(_Atoms):
    """``t_k = s k^-alpha``, ``k = 1..n``, weights ``1/n`` (see the module):
    the atoms ``k <= K + WINDOW`` listed (``K`` the first segment whose
    two-atom bound reaches 4, so that the dips of the near-gaps are listed
    too), the full sums by the power-law sums of the numeric layer."""

    @classmethod
    def of(cls, q, s, alpha, n):
        n = int(n)
        head = _first_segment(q, alpha, n, 4.0)
        return None if head is None else cls(q, s, alpha, n, min(n, head + WINDOW))

    def __init__(self, q, s, alpha, n, head):
        from freeprob.numeric.powersum import normalization

        t = s * np.arange(head, 0, -1, dtype=float) ** -alpha
        super().__init__(q, t, np.full(head, 1.0 / n))
        self.q, self.s, self.alpha, self.n = q, s, alpha, n
        tn = s * float(n) ** -alpha
        self.low = (tn, q * tn**2 / n)
        self.total = q * s**2 * normalization(alpha, n, 2 * alpha) / n
        self.mass = 1.0

    def full(self, u, orders):
        vals = _power_sums(self.alpha, self.n, tuple(orders), 2)(u, self.s)
        return {m: self.q * np.asarray(v, dtype=float) for m, v in zip(orders, vals)}

    def x(self, u):
        v, = _power_sums(self.alpha, self.n, (1,), 1)(u, self.s)
        return u * (1 + self.q * np.asarray(v, dtype=float))


def _first_segment(q, alpha, n, level):
    """The first ``k`` in ``1..n-1`` whose two-atom bound (increasing in
    ``k``, see the module) reaches ``level``, by bisection on the closed
    form; ``n`` when none does and ``n - 1 <= ATOM_LIMIT`` (every atom is
    listed), None when none does up to ``ATOM_LIMIT`` (too many to list).

    >>> _first_segment(0.5, 1.5, 10**9, 1.0), _first_segment(1e-12, 1.5, 10**9, 1.0)
    (23717, None)
    """
    def bound(k):
        lr = np.log(k / (k + 1.0))
        return q / n * (1 + np.exp(2 * alpha / 3 * lr)) ** 3 / np.expm1(alpha * lr) ** 2

    top = min(n - 1, ATOM_LIMIT)
    if bound(float(top)) < level:
        return None if top < n - 1 else n
    lo, hi = 0, top                  # bound(hi) >= level; lo = 0 or bound(lo) < level
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if bound(float(mid)) >= level else (mid, hi)
    return hi


@cached(maxsize=32)
def _power_sums(alpha, n, orders, power):
    """The compiled means ``<(s eta)^power/(u - s eta)^m>`` over
    ``eta = k^-alpha``, ``k = 1..n`` (Euler-Maclaurin beyond the atom limit),
    one for each ``m`` in ``orders``, as a function of ``(u, s)``."""
    from freeprob.numeric.compile import compile_expr
    from freeprob.numeric.spectrum import PowerLawSpectrum, SpectralMean

    x = sp.Dummy("x", positive=True)
    u, s = sp.Symbol("u", real=True), sp.Symbol("s", positive=True)
    spec = PowerLawSpectrum(sp.Float(alpha), int(n))
    means = tuple(SpectralMean((s * x) ** power / (u - s * x) ** m, x, spec) for m in orders)
    return compile_expr(means, (u, s), dtype=float)


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


def _part(at, u, orders, sel):
    """The sums of ``h`` over the atoms ``sel`` (rows of indices), or all."""
    return at.full(u, orders) if sel is None else _sums(u, at.t, at.a, orders, sel)


def _minimum(at, k, sel=None, u0=None):
    """``(u*, h(u*))``: the minimum of ``h`` on each segment ``(t_k,
    t_{k+1})`` (over the atoms ``sel`` of each, or all), a root of the
    increasing ``h'`` by Newton (``h'' > 0``) from ``u0`` (by default the
    two-atom minimizer)."""
    t, a = at.t, at.a
    lo, hi = t[k], t[k + 1]

    def dh(u, idx):
        s = _part(at, u, (3, 4), None if sel is None else sel[idx])
        return -2 * s[3], 6 * s[4]

    if u0 is None:
        c0, c1 = np.cbrt(a[k]), np.cbrt(a[k + 1])
        u0 = lo + (hi - lo) * c0 / (c0 + c1)
    u = _newton(dh, lo, hi, u0, rising=True)
    return u, _part(at, u, (2,), sel)[2]


def _roots(at, lo, hi, *, rising, sel=None, x0=None):
    """The root of ``h = 1`` in each bracket ``(lo, hi)`` on which ``h``
    is monotone (increasing if ``rising``), over the atoms ``sel`` or all;
    Newton from ``x0`` (by default the middle of the bracket)."""
    def f(u, idx):
        s = _part(at, u, (2, 3), None if sel is None else sel[idx])
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


class Separation(NamedTuple):
    """The support of ``MP`` times a law of finitely many atoms."""

    #: the support intervals ``(a, b)`` of the continuous part, increasing (see the module)
    intervals: tuple
    #: ``x(u)`` at the two-atom minimizers of the segments whose two-atom bound
    #: of ``h`` is below 4, where merged clusters leave a dip in the density
    #: (cuts for the quadrature that verifies the mass)
    dips: np.ndarray
    #: whether every atom was listed (False for a power law summed by Euler-Maclaurin)
    listed: bool
    #: the mass of each interval above the lowest: the weights of the atoms
    #: between its two gaps in ``u`` (the lowest carries the rest)
    masses: tuple


@cached(maxsize=64)
def separation(law):
    """The :class:`Separation` of ``MP(q, s)`` times a law of finitely many
    atoms, or None for another law."""
    ops = _operands(law)
    if ops is None:
        return None
    q, at = ops
    t, a = at.t, at.a
    if not t.size:
        return Separation((), np.empty(0), True, ())
    (t0, a0), total = at.low, at.total
    one = np.ones(1)
    # below the smallest atom h rises from 0: h = 1 between t_1 - sqrt(sum a)
    # and t_1 - sqrt(a_1); above the largest it falls, between t_n + sqrt(a_n)
    # and t_n + sqrt(sum a)
    u_lo = _roots(at, (t0 - np.sqrt(total)) * one, (t0 - np.sqrt(a0)) * one, rising=True)
    u_hi = _roots(at, (t[-1] + np.sqrt(a[-1])) * one, (t[-1] + np.sqrt(total)) * one, rising=False)
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
        u0, hw = _minimum(at, k, sel)
        keep = hw < 1 + TOUCH
        k, u0, sel = k[keep], u0[keep], sel[keep]
        lo, hi = t[k], t[k + 1]
        opened = hw[keep] < 1
        if opened.any():
            lo[opened] = _roots(at, t[k[opened]], u0[opened], rising=False, sel=sel[opened])
            hi[opened] = _roots(at, u0[opened], t[k[opened] + 1], rising=True, sel=sel[opened])
    edges_lo, edges_hi = [], []
    if k.size:
        u_star, h_star = _minimum(at, k, u0=u0)
        gap = h_star < 1 - TOUCH
        k, u_star, lo, hi = k[gap], u_star[gap], lo[gap], hi[gap]
    if k.size:
        # h = 1 on each side of the minimum: h falls on (lo, u*), rises on (u*, hi)
        # from the window's roots, just outside the full ones, where there are
        edges_hi = list(_roots(at, lo, u_star, rising=False, x0=None if u0 is None else lo))
        edges_lo = list(_roots(at, u_star, hi, rising=True, x0=None if u0 is None else hi))
    xs = at.x(np.array([u_lo[0]] + edges_lo))
    xe = at.x(np.array(edges_hi + [u_hi[0]]))
    if abs(q * at.mass - 1) <= 64 * np.finfo(float).eps:
        # rank-critical to rounding, h(0) = q (1 - m_0) = 1: a hard edge at
        # 0, where the bisection lands a rounding away from the root u = 0
        # and x there is ~1e-36 (the support began above the density's x^-1/2)
        xs[0] = 0.0
    intervals = tuple((max(float(a_), 0.0), float(e)) for a_, e in zip(xs, xe))
    # each interval above the lowest carries the weights of its atoms (the
    # exact separation of Bai and Silverstein): those between its two gaps
    masses = np.add.reduceat(at.w, k + 1) if k.size else np.empty(0)
    return Separation(intervals, at.x(dips), not isinstance(at, _PowerAtoms), tuple(float(m) for m in masses))
