r"""The cumulative distribution function of a law's continuous part (private).

On each support interval ``[a, b]`` the density is integrated in the
substitution ``x = a + (b - a)(1 - cos th)/2`` (which absorbs square-root and
``1/sqrt`` edges) by the midpoint rule in ``th``; the cumulative mass at the
nodes is interpolated linearly in ``x``.  An interval of a law on ``[0, oo)``
that spans decades (``b > 100 a > 0``: a wide power law times
Marchenko-Pastur reaches from ``5e-10`` to ``2e-4``) is cut at the powers of
10 and each piece gets its own nodes: in one piece, the nodes next to ``a``
are spaced like ``sqrt((b - a)(x - a))``, which is coarser than ``x``
itself a few decades up.  An interval ``[0, b]`` (a hard edge at 0: ``rho ~
x^(-1/2)`` for Marchenko-Pastur with ``q = 1`` times a law) is cut at ``b
10^-6, ..., b/10``: in one piece its first node sat at ``1e-8 b``, below which
the linear interpolation from 0 put ``F ~ x`` for ``F ~ sqrt(x)`` (half the
mass at ``x = 1e-8``, 2.7e-4 absolute); the bottom piece's first node is at
``1e-14 b``.  The tables are computed once per law and node count (laws are
frozen and hashable).
"""

from __future__ import annotations

import numpy as np

from freeprob.numeric.cache import cached

__all__ = ["cdf_tables", "decade_pieces"]


def decade_pieces(a: float, b: float) -> list[tuple[float, float]]:
    """``[a, b]`` itself, or, for ``b > 100 a > 0``, its pieces between the
    powers of 10 inside it (no piece narrower than a factor 2); for ``a = 0
    < b``, the pieces cut at ``b 10^-k``, ``k = 6, ..., 1``.

    >>> decade_pieces(0.5, 3.0)
    [(0.5, 3.0)]
    >>> decade_pieces(2e-3, 5.0)
    [(0.002, 0.01), (0.01, 0.1), (0.1, 1.0), (1.0, 5.0)]
    >>> [round(hi / 2, 12) for _, hi in decade_pieces(0.0, 2.0)]
    [1e-06, 1e-05, 0.0001, 0.001, 0.01, 0.1, 1.0]
    """
    if a == 0 < b:
        edges = [0.0, *(b * 10.0**-k for k in range(6, 0, -1)), float(b)]
        return list(zip(edges[:-1], edges[1:]))
    if not (a > 0 and b > 100 * a):
        return [(a, b)]
    cuts = 10.0 ** np.arange(np.ceil(np.log10(a)), np.floor(np.log10(b)) + 1)
    edges = [float(a), *(float(c) for c in cuts if 2 * a <= c <= b / 2), float(b)]
    return list(zip(edges[:-1], edges[1:]))


@cached(maxsize=32)
def cdf_tables(law, nodes: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """``(x, F)`` per support piece: the nodes' points and the continuous
    mass of the piece below each (read-only arrays), ``nodes`` per piece (a
    quarter of them per decade left a product of a power law of ``10^4``
    atoms with MP(2) ``1e-6`` short, in the decade where its clusters merge)."""
    tables = []
    th = np.linspace(0, np.pi, nodes + 1)
    mid = (th[1:] + th[:-1]) / 2
    for a, b in law._ac_intervals():
        for lo, hi in decade_pieces(a, b):
            # the midpoint rule in th: the density is needed inside the
            # interval only (not at the edges, where it may be singular or the
            # subordination stalls); with a 1/sqrt edge (arcsine, AR(1)) the
            # integrand tends to a nonzero limit there, which a trapezoid
            # with zero end values would miss
            xm = lo + (hi - lo) * (1 - np.cos(mid)) / 2
            dens = law.density_numeric(xm) * (hi - lo) * np.sin(mid) / 2
            grid = lo + (hi - lo) * (1 - np.cos(th)) / 2
            cum = np.concatenate([[0.0], np.cumsum(dens * np.diff(th))])
            grid.setflags(write=False)
            cum.setflags(write=False)
            tables.append((grid, cum))
    return tuple(tables)
