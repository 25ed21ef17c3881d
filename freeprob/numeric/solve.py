r"""Bracketed, safeguarded inversion of explicit monotone maps (private).

Every renormalized ridge of freeprob (``kappa``, ``kappa_1``, ``kappa_2``,
``kappa_F``) is defined implicitly, but the *inverse* map -- ridge as a
function of the renormalized ridge -- is explicit and increasing on the
physical branch ([R3], [R12], [R18]).  :func:`invert_increasing` inverts such
a map at many points at once:

* every point carries a bracket ``[lo, hi]`` with ``f(lo) <= target <= f(hi)``;
* a Newton step (with the exact derivative compiled from sympy) is taken
  when it lands strictly inside the bracket, otherwise the bracket is
  bisected -- geometrically when it spans decades (renormalized ridges range
  over 300 orders of magnitude), arithmetically otherwise;
* a point is converged when its bracket is narrower than ``rtol`` relative
  (plus ``atol``), when a Newton step inside the bracket is below that (Newton
  converges quadratically there), or when ``|f - target| <= ftol``;
* failure raises :class:`~freeprob.errors.ConvergenceError` naming a point;
  the last iterate is never returned.

>>> import numpy as np
>>> f = lambda k, idx: (k**3, 3 * k**2)
>>> invert_increasing(f, np.array([8.0, 1e-30]), np.zeros(2), np.full(2, 10.0)).round(12)
array([2.e+00, 1.e-10])
"""

from __future__ import annotations

import numpy as np

from freeprob.errors import ConvergenceError

__all__ = ["expand_lower", "invert_increasing", "expand_upper", "hermite", "polish"]


def invert_increasing(fmap, target, lo, hi, *, rtol: float = 1e-14, ftol=0.0, atol=0.0, maxiter: int = 2000,
                      what: str = "kappa", start=None):
    """Solve ``f(k) = target`` for ``f`` increasing on each bracket ``[lo, hi]``.

    ``fmap(k, idx)`` returns ``(f(k), f'(k))`` for the points ``idx`` (an
    index array into ``target``).  ``lo``, ``hi`` and ``target`` are 1-d
    arrays of one length; the brackets must satisfy ``f(lo) <= target <=
    f(hi)`` (not re-checked at ``lo``, where ``f`` may be a limit).

    ``atol`` (a scalar or one value per point) is an absolute resolution of
    the bracket variable added to ``rtol k``: a variable that is a shift
    ``k = k' - c`` of the quantity evaluated (a root ``1e-9`` from a pole at
    ``c ~ 1``) is resolved only to ``eps |c|``, which no relative tolerance
    in ``k`` can express.  ``start`` (inside the brackets) is the first
    iterate instead of ``hi``: a warm start from a nearby solve.

    >>> f = lambda u, idx: (-1.0 / (3.0 - (3.0 - u)) + 0 * u, 1.0 / u**2)   # rounded through 3 - u
    >>> u = invert_increasing(f, np.array([-1e9]), np.array([1e-12]), np.array([1.0]), atol=8.9e-16)
    >>> bool(abs(u[0] - 1e-9) < 1e-15)
    True"""
    target = np.asarray(target, dtype=float)
    lo = np.array(lo, dtype=float, copy=True)
    hi = np.array(hi, dtype=float, copy=True)
    ftol = np.broadcast_to(np.asarray(ftol, dtype=float), target.shape)
    atol = np.broadcast_to(np.asarray(atol, dtype=float), target.shape)
    k = hi.copy() if start is None else np.clip(np.asarray(start, dtype=float), lo, hi)
    out = np.full(target.size, np.nan)
    active = np.ones(target.size, dtype=bool)
    for _ in range(maxiter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            return out
        kk = k[idx]
        f, df = fmap(kk, idx)
        r = f - target[idx]
        lo[idx] = np.where(r < 0, kk, lo[idx])
        hi[idx] = np.where(r > 0, kk, hi[idx])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = kk - r / df
        inside = np.isfinite(newton) & (newton > lo[idx]) & (newton < hi[idx])
        l, h = lo[idx], hi[idx]
        narrow = h - l <= rtol * h + atol[idx]
        small_step = inside & (np.abs(newton - kk) <= rtol * kk + atol[idx])
        exact = np.abs(r) <= ftol[idx]
        done = narrow | small_step | exact
        with np.errstate(divide="ignore", invalid="ignore"):
            bisect = np.where((l > 0) & (h > 4 * l), np.sqrt(l) * np.sqrt(h), 0.5 * l + 0.5 * h)
        nxt = np.where(inside, newton, bisect)
        out[idx[done]] = np.where(small_step, newton, np.where(exact, kk, 0.5 * l + 0.5 * h))[done]
        k[idx] = nxt
        active[idx[done]] = False
    i = np.flatnonzero(active)[0]
    raise ConvergenceError(f"{what} did not converge at {np.count_nonzero(active)} point(s) "
                           f"(e.g. target {target[i]!r}, bracket [{lo[i]!r}, {hi[i]!r}]) "
                           f"after {maxiter} safeguarded Newton steps")


def expand_upper(fmap, target, start, *, what: str = "kappa", limit: int = 2100, accelerate: bool = False,
                 lower: bool = False):
    """Smallest ``start * 2**j`` with ``f >= target`` (vectorized): the
    upper end of a bracket for :func:`invert_increasing`.  With ``lower``
    also the last point tried below it (``f < target``; nan where ``start``
    already reaches the target): a positive lower end, which lets the
    bisection of :func:`invert_increasing` go geometrically.

    ``accelerate`` squares the factor each round instead (``start * 2,
    * 4, * 16, * 256, ...``): ``O(log log)`` rounds where the root may be
    hundreds of decades above ``start`` (the operand ridge ``~ sqrt(lam)``
    of a product with ``MP(1)`` at ``lam = 1e-300``: 450 doublings, each a
    nested solve), at the price of a looser bracket, which the geometric
    bisection of :func:`invert_increasing` closes in ``log2`` of its decades.

    >>> import numpy as np
    >>> f = lambda k, idx: (np.log(k), None)
    >>> bool(expand_upper(f, np.array([600.0]), np.array([1e-300]), accelerate=True)[0] >= np.exp(600))
    True
    >>> hi, lo = expand_upper(f, np.array([600.0]), np.array([1e-300]), accelerate=True, lower=True)
    >>> bool(np.log(lo[0]) < 600 <= np.log(hi[0]))
    True"""
    k = np.array(start, dtype=float, copy=True)
    below = np.full(k.size, np.nan)
    active = np.ones(k.size, dtype=bool)
    factor = np.full(k.size, 2.0)
    for _ in range(limit):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            return (k, below) if lower else k
        f, _ = fmap(k[idx], idx)
        low = ~(f >= target[idx])
        grow = idx[low]
        below[grow] = k[grow]
        with np.errstate(over="ignore"):
            # a squared factor stops at 1e300 (then doubles on): no jump past a finite root to inf
            k[grow] = np.minimum(k[grow] * factor[grow], np.maximum(2.0 * k[grow], 1e300))
        if accelerate:
            factor[grow] = np.minimum(factor[grow], 1e150) ** 2     # up to 1e300, no overflow
        active[idx[~low]] = False
        if not np.all(np.isfinite(k[idx])):
            break
    i = np.flatnonzero(active)[0]
    raise ConvergenceError(f"no upper bracket for {what} at target {target[i]!r}: the map stays below it")


def expand_lower(fmap, target, start, *, what: str = "kappa", factor: float = 1e-4, floor: float = 1e-300):
    """Largest ``start * factor**j`` (``j >= 0``) with ``f < target``
    (vectorized): the lower end of a bracket for :func:`invert_increasing`,
    found by stepping down instead of assumed (a map such as the kernel sums
    of [C16] is defined for every positive argument but costs more, and
    diverges, as it approaches 0).

    >>> import numpy as np
    >>> expand_lower(lambda k, idx: (np.log(k), None), np.array([-20.0]), np.array([1.0]))
    array([1.e-12])
    """
    k = np.array(start, dtype=float, copy=True)
    active = np.ones(k.size, dtype=bool)
    while True:
        idx = np.flatnonzero(active)
        if idx.size == 0:
            return k
        f, _ = fmap(k[idx], idx)
        high = ~(f < target[idx])
        active[idx[~high]] = False
        step = idx[high]
        if step.size and np.any(k[step] * factor < floor):
            i = step[np.argmin(k[step])]
            raise ConvergenceError(f"no lower bracket for {what} above {floor:g} at target {target[i]!r}")
        k[step] *= factor


def hermite(xs, ys, ms, x):
    """Cubic Hermite interpolation of nodes ``(xs, ys)`` (``xs`` increasing)
    with slopes ``ms`` at ``x`` (clamped to the node range): error ``O(h^4)``."""
    x = np.clip(x, xs[0], xs[-1])
    i = np.clip(np.searchsorted(xs, x) - 1, 0, xs.size - 2)
    h = xs[i + 1] - xs[i]
    t = (x - xs[i]) / h
    t2, t3 = t * t, t * t * t
    return ((2 * t3 - 3 * t2 + 1) * ys[i] + (t3 - 2 * t2 + t) * h * ms[i]
            + (-2 * t3 + 3 * t2) * ys[i + 1] + (t3 - t2) * h * ms[i + 1])


def polish(fmap, target, k, lo, *, rtol: float, steps: int = 1, with_slope: bool = False):
    """Newton steps from interpolated starts ``k``; returns the new values
    and a mask of accepted points (and, ``with_slope``, the derivative at
    each point's last start: within ``~1e-8`` relative of the derivative at
    an accepted value, good for a caller's Newton derivative, not for a
    result).  A point is accepted only if its last step is below ``0.1
    sqrt(rtol) k`` (quadratic convergence then leaves an error below
    ``rtol``) and stays above ``lo``.  With ``steps = 2`` a point whose first
    step is small but not that small (``<= 1e-3 k``: a start that a coarse
    table resolved to ``~1e-7``) takes a second step, on those points alone;
    the others must be solved by :func:`invert_increasing`.

    >>> import numpy as np
    >>> new, ok = polish(lambda k, idx: (k**3, 3 * k**2), np.array([8.0, 8.0]),
    ...                  np.array([2 + 1e-6, 2.5]), 0.0, rtol=1e-14, steps=2)
    >>> float(new[0]), ok.tolist()
    (2.0, [True, False])
    """
    k = np.asarray(k, dtype=float)
    new = k.copy()
    ok = np.zeros(k.size, dtype=bool)
    todo = np.arange(k.size)
    slope = np.full(k.size, np.nan)
    for _ in range(steps):
        kk = new[todo]
        f, df = fmap(kk, todo)
        slope[todo] = df
        with np.errstate(divide="ignore", invalid="ignore"):
            step = (f - target[todo]) / df
        nxt = kk - step
        fine = (df > 0) & np.isfinite(step) & (nxt > lo if np.ndim(lo) == 0 else nxt > np.asarray(lo)[todo])
        new[todo] = np.where(fine, nxt, kk)
        ok[todo] = fine & (np.abs(step) <= 0.1 * np.sqrt(rtol) * kk)
        todo = todo[~ok[todo] & fine & (np.abs(step) <= 1e-3 * kk)]
        if todo.size == 0:
            break
    return (new, ok, slope) if with_slope else (new, ok)
