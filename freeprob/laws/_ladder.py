"""The ladder of heights on which subordination descends to the real axis
(:mod:`freeprob.laws._subordination`): each rung warm-starts the next, and
a point that stalls is reported, not guessed."""

from __future__ import annotations

import numpy as np

from freeprob.errors import ConvergenceError

__all__ = ["ladder", "ladder_omega"]


def ladder(solve, x, y_target, top, *, ratio=1e-3, stride=16, status=False):
    """Solve at ``x + i y`` for ``y = top, top*ratio, ...`` down to
    ``y_target`` (> 0), warm-starting each rung from the previous
    subordination point: near the real axis the fixed point converges slowly
    from a cold start, but one rung above is an excellent Newton start.

    On large grids the ladder runs on every ``stride``-th point of the sorted
    grid; the other points start from the interpolated subordination point
    and are solved directly at their target height (points that do not
    converge from there get their own ladder).  A point that stalls at a
    rung (next to an edge the fixed point turns neutral) stops there: with
    ``status`` the result is ``(g, done)`` and its ``g`` is not a value, so
    that the caller can solve it another way; otherwise
    :class:`~freeprob.errors.ConvergenceError`."""
    x = np.asarray(x, dtype=float).ravel()
    yt = np.broadcast_to(np.asarray(y_target, dtype=float), x.shape).copy()
    if x.size > 4 * stride:
        order = np.argsort(x, kind="stable")
        coarse = order[::stride]
        if coarse[-1] != order[-1]:
            coarse = np.append(coarse, order[-1])
        _, om_c, ok = _ladder_all(solve, x[coarse], yt[coarse], top, ratio)
        if ok.sum() >= 2:
            xs_c, om_c = x[coarse][ok], om_c[ok]
            start = _interp(x, xs_c, om_c)
            g, om, done = solve(x + 1j * yt, start, status=True, maxiter=200)
            # not converged from the interpolated start, or ended on the real
            # axis (uniqueness, Denjoy-Wolff, holds in the open half plane: a
            # boundary fixed point may be spurious): own ladder of warm starts
            redo = ~done | (np.abs(om.imag) <= 1e-10 * np.abs(om))
            if redo.any():
                g, done = g.copy(), done.copy()
                g[redo], _, done[redo] = _ladder_all(solve, x[redo], yt[redo], top, ratio)
            return _settled(g, done, x, status)
    g, _, done = _ladder_all(solve, x, yt, top, ratio)
    return _settled(g, done, x, status)


def _interp(x, xs, ys):
    """``ys`` (complex, at the increasing ``xs``) interpolated linearly at
    ``x``, constant beyond the ends, as the convex combination ``(1 - th)
    y_0 + th y_1``: ``numpy.interp`` forms the slope ``(y_1 - y_0)/(x_1 -
    x_0)``, which overflows where a subordination point is huge (``|omega|
    = 4e299`` at ``x = 0`` beside ``9e-12`` for a product with a power law of
    ``10^9`` atoms).

    >>> _interp(np.array([-1.0, 0.5, 3.0]), np.array([0.0, 1.0]), np.array([1e300j, 2.0]))
    array([0.+1.e+300j, 1.+5.e+299j, 2.+0.e+000j])
    """
    hi = np.clip(np.searchsorted(xs, x, side="right"), 1, xs.size - 1)
    lo = hi - 1
    span = xs[hi] - xs[lo]
    th = np.clip(np.divide(x - xs[lo], span, out=np.zeros(x.shape), where=span > 0), 0.0, 1.0)
    mid = (1 - th) * ys[lo] + th * ys[hi]
    return np.where(x <= xs[0], ys[0], np.where(x >= xs[-1], ys[-1], mid))


def _settled(g, done, x, status):
    if status:
        return g, done
    if not done.all():
        bad = np.flatnonzero(~done)
        raise ConvergenceError(f"subordination did not converge at {bad.size} point(s), e.g. x = {x[bad[0]]!r}; "
                               "move the point away from the support or raise maxiter")
    return g


def _ladder_all(solve, x, yt, top, ratio):
    """``(g, omega, done)`` down the rungs; a point stops at a rung where it
    does not converge (``done`` False) after every retry the solver has
    (``retry``: the multiplicative explicit iteration's points solved again
    by the Belinschi-Bercovici map)."""
    y = np.maximum(np.full(x.shape, float(top)), yt)
    g, omega, done = (np.array(v) for v in solve(x + 1j * y, None, status=True, retry=True))
    while (idx := np.flatnonzero(done & (y > yt))).size:
        y[idx] = np.maximum(yt[idx], y[idx] * ratio)
        g[idx], omega[idx], done[idx] = solve(x[idx] + 1j * y[idx], omega[idx], status=True, retry=True)
    return g, omega, done


def ladder_omega(solve, x, y_target, top, ratio=1e-3):
    """The subordination points at ``x + i y_target`` down one ladder of all
    points (no stride); :class:`~freeprob.errors.ConvergenceError` where one
    stalls."""
    x = np.asarray(x, dtype=float).ravel()
    g, omega, done = _ladder_all(solve, x, np.broadcast_to(np.asarray(y_target, dtype=float), x.shape).copy(),
                                 top, ratio)
    _settled(g, done, x, False)
    return omega
