"""The edges of the sample spectrum for the contour routes of
:mod:`freeprob.models.spectral` [C6]: each edge is ``-lam(kappa)`` at a
critical point of the ridge map ``lam(kappa) = kappa (1 - q D(kappa))``, found
from the population's degrees of freedom at real ``kappa`` off its spectrum
(bisection on ``df2`` for atomic spectra; for a law known by its Stieltjes
transform, the laws layer's separation of ``MP(q)`` times the law), each a
certified bound on the side that keeps a contour outside the spectrum."""

from __future__ import annotations

import numpy as np

from freeprob.errors import (
    ConvergenceError,
    NumericalError,
)
from freeprob.laws._separation_bulk import sample_edges

__all__ = ["sample_upper_edge", "sample_lower_edge", "population_floor", "gram_lower_edge", "bulk_lower_edge",
           "bulk_upper_edge"]


def sample_upper_edge(means, q, x_max):
    """The upper edge of the sample spectrum: ``-lam(kappa*)`` at the root
    ``kappa* < -x_max`` of ``q df2(kappa) = 1`` (``df2`` decreases from
    ``+oo`` to 0 there for an atomic top), by bisection in ``log(-kappa -
    x_max)``; ``means(k) -> (D, D')`` at real ``k`` (``df2 = D + k D'``)."""
    def qdf2(k):
        d, dd = means(np.array([k], dtype=complex))
        return float(q * (d[0] + k * dd[0]).real)

    lo, hi = np.log(1e-14 * x_max), np.log(1e6 * x_max * (1 + q))
    if qdf2(-x_max - np.exp(lo)) < 1:
        k = -x_max   # the density vanishes at the top: the edge is the population's top
    else:
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if qdf2(-x_max - np.exp(mid)) > 1:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1e-13:
                break
        k = -x_max - np.exp(hi)
    d, _ = means(np.array([k], dtype=complex))
    return float(-k * (1 - q * d[0].real))


def population_floor(population) -> float:
    """The population's lowest nonzero eigenvalue (0 when it has an atom at
    0 or a spectrum that reaches 0): the bulk of the sample spectrum lies
    above ``floor (1 - sqrt q)^2`` (the product of the two lowest edges of
    the free multiplicative convolution)."""
    if population.catalogue_name == "powerlaw":
        return float(population.n) ** (-float(population.alpha)) * float(getattr(population, "scale", 1))
    try:
        floor = float(population.support().inf)
    except (TypeError, ValueError, AttributeError, NotImplementedError, ConvergenceError):
        # no numeric support (a symbolic law, or a support without a curve
        # that did not verify): 0 is still a valid floor of a positive
        # semidefinite population, only a wider contour
        return 0.0
    return max(floor, 0.0) if np.isfinite(floor) else 0.0


def sample_lower_edge(df2, q, x_min):
    """The lower edge of the bulk of the sample spectrum (its nonzero part):
    ``-lam(kappa*)`` at the root ``kappa* > -x_min`` of ``q df2(kappa) = 1``
    (``df2`` decreases from ``+oo`` at ``-x_min``, an atom, to 0), by
    bisection; ``df2(k)`` at real ``k``, ``x_min`` the lowest nonzero atom.
    Returns ``(edge, kappa*)``."""
    lo, hi = -x_min * (1 - 1e-15), 1.0
    while q * df2(hi)[0] > 1:
        hi *= 4
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if q * df2(mid)[0] > 1:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 4e-16 * max(abs(hi), abs(lo)):
            break
    return hi


def bulk_lower_edge(population, q):
    """A lower bound of the lower edge of the nonzero sample eigenvalues at
    ratio ``q`` for a population known only through its Stieltjes transform
    (a continuous law, a free sum or product): the laws layer's
    :func:`~freeprob.laws._separation_bulk.sample_edges` (the root of ``h =
    q df2 = 1`` of the Silverstein-Choi map ``x(u) = -lam(-u)``, [C6]:
    below the population's lowest nonzero point ``floor`` while ``q (1 -
    m_0) < 1``, ``m_0`` its mass at 0; the Gram's edge above 0 with fewer
    samples than its rank), within twice the law's resolution of
    it.  Without a numeric support: ``floor (1 - sqrt q)^2`` where the
    population stays above ``floor > 0`` (:func:`population_floor`), else 0.

    >>> import freeprob
    >>> round(bulk_lower_edge(freeprob.MarchenkoPastur(0.5), 0.5), 10)     # MP(1/2) x MP(1/2)
    0.0283501364
    """
    edges = sample_edges(population, q)
    if edges is not None:
        return edges[0]
    floor = population_floor(population)
    return floor * (1 - np.sqrt(q)) ** 2 if floor > 0 else 0.0


def bulk_upper_edge(population, q):
    """An upper bound of the upper edge of the sample spectrum at ratio
    ``q`` for a population known only through its Stieltjes transform (the
    mirror of :func:`bulk_lower_edge`), and never above ``x_max (1 + sqrt
    q)^2``, ``x_max`` the population's spectral radius.

    >>> import freeprob
    >>> round(bulk_upper_edge(freeprob.MarchenkoPastur(0.5), 0.5), 9)     # the radius bound was 8.49
    4.409149864
    """
    bound = float(population._numeric_radius()) * (1 + np.sqrt(q)) ** 2
    edges = sample_edges(population, q)
    return bound if edges is None else min(edges[1], bound)


def gram_lower_edge(df1, df2, q, scale):
    """A lower bound, within ``1e-6`` relative, of the lower edge of the
    nonzero sample eigenvalues when the samples are fewer than the
    population's rank (``q (1 - m_0) > 1``, ``m_0`` its mass at 0), for a
    population that reaches 0 (a hard edge, or an atom at 0); 0 otherwise.

    The edge is ``-lam(kappa*) = max_{kappa > 0} kappa (q df1(kappa) - 1)``
    [C6]: ``lam(kappa) = kappa (1 - q df1)`` falls from 0 to its minimum at
    the root ``kappa*`` of ``lam' = 1 - q df2 = 0``, and every ``kappa``
    gives a lower bound of the edge, so a bracket of ``kappa*`` to ``1e-8``
    (bisection in ``log kappa``, ``df2`` decreasing) loses only ``1e-16`` of
    it; the result is lowered by ``1e-6`` relative for the accuracy of
    ``df1`` of a law known by subordination.  ``df1``, ``df2`` take arrays
    of real ``kappa > 0``; ``scale`` is the population's spectral radius.
    """
    if not (np.isfinite(q) and q > 1):
        return 0.0
    def qdf2(k):  # noqa: E306
        return q * float(np.asarray(df2(np.array([k])), dtype=float).ravel()[0])

    lo, hi = 1e-10 * scale, scale
    if qdf2(lo) <= 1:
        return 0.0   # no gap, or one below 1e-10 of the spectrum's scale
    for _ in range(200):
        if qdf2(hi) <= 1:
            break
        hi *= 4
    for _ in range(200):
        if hi <= lo * (1 + 1e-8):
            break
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if qdf2(mid) > 1 else (lo, mid)
    edge = max(k * (q * float(np.asarray(df1(np.array([k])), dtype=float).ravel()[0]) - 1) for k in (lo, hi))
    if not np.isfinite(edge):   # never turned into the bound 0
        raise NumericalError(f"the lower edge of the nonzero sample spectrum is not finite ({edge}) at q = {q}")
    return max(0.0, edge * (1 - 1e-6))
