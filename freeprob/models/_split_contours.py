"""The contours of the split route of
:mod:`freeprob.models._spectral_quad` [C18]: gradient flow's parabola with
its ``E = e^{-t (z + lam)}`` (:class:`_Flow`), gradient descent's parabola
drawn in ``s = -log(1 - eta (z + lam))`` and carried to ``z``
(:class:`_Mapped`), the circle around the split's pole (:class:`_Circle`),
and the accurate ``log(1 + z)`` and ``e^z - 1`` they
need near 0."""

from __future__ import annotations

import numpy as np

__all__ = ["_exponent", "_factors", "_Flow", "_join", "_Mapped", "_Circle"]


def _log1p(z):
    """``log(1 + z)`` for complex ``z``, the principal branch, to a few ulps of
    ``|z|`` also near 0 (numpy's complex ``log1p`` loses 4 digits at ``|z| =
    1e-2``): ``Re = log1p(x (2 + x) + y^2)/2``, ``Im = atan2(y, 1 + x)`` for
    ``|z| < 1/2``; ``log(1 + z)`` itself further out, where ``x (2 + x)``
    would cancel (to ``-1`` next to ``z = -1``)."""
    z = np.asarray(z, dtype=complex)
    near = np.abs(z) < 0.5
    out = np.atleast_1d(np.log(np.where(near, 1.0, 1 + z)))
    x, y = z.real[near], z.imag[near]
    out[np.atleast_1d(near)] = 0.5 * np.log1p(x * (2 + x) + y * y) + 1j * np.arctan2(y, 1 + x)
    return out.reshape(z.shape)


def _expm1(z):
    """``e^z - 1`` for complex ``z`` to a few ulps of ``|z|`` near 0:
    ``Re = expm1(x) cos y - 2 sin^2(y/2)``, ``Im = e^x sin y``."""
    z = np.asarray(z, dtype=complex)
    x, y = z.real, z.imag
    return np.expm1(x) * np.cos(y) - 2 * np.sin(y / 2) ** 2 + 1j * np.exp(x) * np.sin(y)


def _exponent(z, lam, eta):
    """``s(z)`` of ``E = e^{-rate s}``: ``z + lam`` (``eta = 0``, gradient
    flow), ``-log(1 - eta (z + lam))`` (gradient descent; the principal
    branch, which is the parabola's: its nodes keep ``|Im s| < pi``)."""
    return z + lam if eta == 0 else -_log1p(-eta * (z + lam))


def _factors(loops, count, ts):
    """``E`` on ``count`` nodes of each contour of ``loops`` (concatenated),
    one row per rate in the column ``ts`` (see :meth:`_Flow.factor`,
    :meth:`_Mapped.factor`)."""
    return np.concatenate([loop.factor(count, ts) for loop in loops], axis=1)


class _Flow:
    """Gradient flow's parabola: the nodes of ``inner``, and ``E = e^{-t (z +
    lam)}`` at them."""

    def __init__(self, inner, lam):
        self.inner, self.lam, self.closed, self.key = inner, float(lam), inner.closed, inner.key

    def nodes(self, count):
        return self.inner.nodes(count)

    def factor(self, count, ts):
        return np.exp(-ts * (self.inner.nodes(count)[0] + self.lam)[None, :])


def _join(nodes):
    """The node arrays ``(z, w, kappa, D, D_w)`` of the contours of one loop
    set, concatenated."""
    return tuple(np.concatenate(parts) for parts in zip(*nodes))


class _Mapped:
    """A contour in the variable ``s`` of :func:`_exponent` carried to the
    ``z``-plane: ``z = (1 - e^{-s})/eta - lam``, ``dz = e^{-s} ds/eta``.  The
    map is entire, and sends the half-line ``s > s(c)`` onto ``(c, 1/eta -
    lam)``, which holds the spectrum while ``eta (hi + lam) < 1``; the other
    preimages of the spectrum sit at ``Im s = 2 pi m``, beyond the
    parabola's strip.  The parabola's truncated ends close at ``Re s ->
    oo``, where ``z -> 1/eta - lam`` and ``E -> 0``.

    A larger step (``1 <= eta (hi + lam) < 2``) puts the spectrum's top
    where ``u = 1 - eta (z + lam) < 0``: ``upper=True`` carries the parabola
    by ``z = (1 + e^{-s})/eta - lam`` (``u = -e^{-s}``, ``dz = -e^{-s}
    ds/eta``), which sends ``s > s(hi)`` onto ``(1/eta - lam, hi)``.  The two
    loops meet at ``1/eta - lam``, where ``E = u^k`` vanishes to order ``k``;
    together they are a contour around the spectrum (conformal maps keep
    the parabola's counter-clockwise sense)."""

    #: kept out of the law's memo of solved nodes (see ``_solve_kappa``)
    shared = False

    def __init__(self, inner, lam, eta, upper=False):
        self.inner, self.lam, self.eta, self.upper = inner, float(lam), float(eta), bool(upper)
        self.closed = inner.closed

    @property
    def key(self):
        return ("mapped", self.lam, self.eta, self.upper) + self.inner.key

    def factor(self, count, ts):
        """``E = u^k`` at the nodes from the parabola's own ``s``: ``e^{-k s}``,
        times ``(-1)^k`` on the upper loop.  Computed again from the rounded
        node ``z``, ``s`` would carry ``eta |z| eps/|u|``, which ``k``
        multiplies (``4e-13`` at 2000 steps of ``eta (hi + lam) = 1.95``,
        and ``bias2`` wandered at 1e-9 between node counts)."""
        e = np.exp(-ts * self.inner.nodes(count)[0][None, :])
        return np.where(np.mod(ts, 2) == 1, -e, e) if self.upper else e

    def nodes(self, count):
        s, w = self.inner.nodes(count)
        if self.upper:
            return (2 + _expm1(-s)) / self.eta - self.lam, -w * np.exp(-s) / self.eta
        return -_expm1(-s) / self.eta - self.lam, w * np.exp(-s) / self.eta


class _Circle:
    """The circle ``z = c + r e^{i theta}``, counter-clockwise, nodes at
    ``theta_j = 2 pi j/N`` with the weights of ``(1/2 pi i) oint``: for ``f``
    analytic on the disc of radius ``R > r``, ``sum_j w_j f(z_j)/(z_j - c)``
    is the mean of ``f`` on the circle, ``f(c)`` up to ``(r/R)^N``."""

    closed = True

    def __init__(self, centre, radius):
        self.c, self.r = float(centre), float(radius)
        self.key = ("circle", self.c, self.r)

    def nodes(self, count):
        e = np.exp(2j * np.pi * np.arange(count) / count)
        return self.c + self.r * e, self.r * e / count
