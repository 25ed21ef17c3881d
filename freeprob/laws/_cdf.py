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
x^(-1/2)`` for Marchenko-Pastur with ``q = 1`` times a law, ``x^(-3/4)`` for
three square Wisharts) gets the decades ``[b/10, b]``, ``[b/100, b/10]``,
... down to where the mass below, extrapolated geometrically from the last
two decades, is under ``1e-9``, and one piece from 0 below them: in one
piece over ``[0, b]`` the first node sat at ``1e-8 b``, below which the
linear interpolation from 0 put ``F ~ x`` for ``F ~ sqrt(x)`` (half the mass
at ``x = 1e-8``, 2.7e-4 absolute).  The tables are computed once per law and
node count (laws are frozen and hashable).
"""

from __future__ import annotations

import numpy as np

from freeprob.numeric.cache import cached

__all__ = ["cdf_tables", "decade_pieces"]

#: the absolute error allowed to each decade below the bulk of ``[0, b]``
ERR = 1e-7
#: a cluster of at most this mass, known by theorem, is linear across (the
#: accuracy of ``cdf_numeric``)
LINE_MASS = 1e-6


def decade_pieces(a: float, b: float) -> list[tuple[float, float]]:
    """``[a, b]`` itself, or, for ``b > 100 a > 0``, its pieces between the
    powers of 10 inside it (no piece narrower than a factor 2).

    >>> decade_pieces(0.5, 3.0)
    [(0.5, 3.0)]
    >>> decade_pieces(2e-3, 5.0)
    [(0.002, 0.01), (0.01, 0.1), (0.1, 1.0), (1.0, 5.0)]
    """
    if not (a > 0 and b > 100 * a):
        return [(a, b)]
    cuts = 10.0 ** np.arange(np.ceil(np.log10(a)), np.floor(np.log10(b)) + 1)
    edges = [float(a), *(float(c) for c in cuts if 2 * a <= c <= b / 2), float(b)]
    return list(zip(edges[:-1], edges[1:]))


def _piece(law, lo, hi, th, mid):
    """``(x, F)`` on ``[lo, hi]``: the midpoint rule in ``th`` of ``x = lo +
    (hi - lo)(1 - cos th)/2``.  The density is needed inside the interval
    only (not at the edges, where it may be singular or the subordination
    stalls); with a 1/sqrt edge (arcsine, AR(1)) the integrand tends to a
    nonzero limit there, which a trapezoid with zero end values would miss."""
    xm = lo + (hi - lo) * (1 - np.cos(mid)) / 2
    dens = law.density_numeric(xm) * (hi - lo) * np.sin(mid) / 2
    grid = lo + (hi - lo) * (1 - np.cos(th)) / 2
    cum = np.concatenate([[0.0], np.cumsum(dens * np.diff(th))])
    grid.setflags(write=False)
    cum.setflags(write=False)
    return grid, cum


def _down_to_zero(law, b, nodes, tail=1e-9, decades=300):
    """The pieces of ``[0, b]``: decades ``[d/10, d]`` from ``d = b`` down,
    each with nodes for an error of :data:`ERR` (the midpoint rule's
    ``(pi/n)^2/24`` relative, times the mass of the decade above), until the
    mass below ``d``, ``F(d) = m r/(1 - r)`` with ``m`` the last decade's
    mass and ``r`` its ratio to the one above (exact for ``F ~ x^p``), is

    * under ``tail``: ``[0, d]`` in one piece, whose error cannot show; or
    * under ``1e-5`` with ``r`` steady to ``1e-3`` over three decades (the
      density a power of ``x``): ``F(x) = F(d) (x/d)^p``, ``p = -log10 r``,
      tabulated 16 points per decade (the density next to 0 costs most to
      evaluate: 50 ms a point at ``1e-20`` for three Wisharts, whose ``F ~
      x^(1/4)`` would need 36 decades to reach ``tail``)."""
    out, hi, n, ratios = [], float(b), nodes, []
    for _ in range(decades):
        out.append(_piece(law, hi / 10, hi, *_nodes(n)))
        m = out[-1][1][-1]
        n = int(np.clip(np.pi * np.sqrt(m / (24 * ERR)), 64, nodes))
        hi /= 10
        if len(out) < 2:
            continue
        up = out[-2][1][-1]
        if m == 0 or (m < up and m * m / (up - m) < tail):
            break
        ratios.append(m / up)
        r = ratios[-1]
        if r < 1 and len(ratios) >= 3 and max(abs(v / r - 1) for v in ratios[-3:]) < 1e-3 and m * r / (1 - r) < 1e-5:
            return out + [_power_tail(hi, m * r / (1 - r), -np.log10(r))]
    out.append(_piece(law, 0.0, hi, *_nodes(64)))
    return out


def _power_tail(d, fd, p):
    """``(x, F)`` of ``F(x) = fd (x/d)^p`` on ``[0, d]``: 16 points per
    decade down to where ``F`` or ``x`` leaves the floats, then 0."""
    k = int(min(300, np.log10(d / 1e-300), 300 / p))
    grid = np.concatenate([[0.0], d * 10.0 ** np.linspace(-k, 0, 16 * k + 1)])
    cum = np.concatenate([[0.0], fd * (grid[1:] / d) ** p])
    grid.setflags(write=False)
    cum.setflags(write=False)
    return grid, cum


def _nodes(n):
    """``(th, mid)``: ``n + 1`` equispaced angles on ``[0, pi]`` and their midpoints."""
    th = np.linspace(0, np.pi, n + 1)
    return th, (th[1:] + th[:-1]) / 2


@cached(maxsize=32)
def cdf_tables(law, nodes: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """``(x, F)`` per support piece: the nodes' points and the continuous
    mass of the piece below each (read-only arrays), ``nodes`` per piece (a
    quarter of them per decade left a product of a power law of ``10^4``
    atoms with MP(2) ``1e-6`` short, in the decade where its clusters merge).

    Where the mass ``m`` of an interval is known by theorem (a cluster of
    Marchenko-Pastur times atoms, ``law._interval_masses``),
    its pieces get the nodes for an error of :data:`ERR`, ``pi sqrt(m/(24
    ERR))`` (64 at least), and a cluster of ``m <= LINE_MASS`` is linear
    across (no density evaluated): ``PowerLaw(1.5, 10^7)`` times MP(1/2) has
    2,134 clusters of mass ``1e-7``, each of which cost 4,000 subordination
    solves."""
    tables = []
    intervals = law._ac_intervals()
    for (a, b), m in zip(intervals, law._interval_masses(intervals)):
        if a == 0 < b:
            tables += _down_to_zero(law, b, nodes)
        elif m is not None and m <= LINE_MASS:
            tables.append(_line(a, b, m))
        else:
            n = nodes if m is None else int(np.clip(np.pi * np.sqrt(m / (24 * ERR)), 64, nodes))
            tables += [_piece(law, lo, hi, *_nodes(n)) for lo, hi in decade_pieces(a, b)]
    return tuple(tables)


def _line(a, b, m):
    """``(x, F)`` of a cluster of mass ``m <= LINE_MASS`` known by theorem, linear
    from 0 to ``m`` across it (off by at most ``m``, inside it only)."""
    grid, cum = np.array([a, b], dtype=float), np.array([0.0, m])
    grid.setflags(write=False)
    cum.setflags(write=False)
    return grid, cum
