"""The edges of the sample spectrum for the contour routes of
:mod:`freeprob.models.spectral` [C6]: each edge is ``-lam(kappa)`` at a
critical point of the ridge map ``lam(kappa) = kappa (1 - q D(kappa))``, found
from the population's degrees of freedom at real ``kappa`` off its spectrum
(bisection on ``df2`` for atomic spectra, golden section on ``D`` alone for a
law known by its Stieltjes transform), each a certified bound on the side
that keeps a contour outside the spectrum."""

from __future__ import annotations

import numpy as np

from freeprob.errors import (
    BranchError,
    ConvergenceError,
    NumericalError,
    SupportError,
)

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


def bulk_lower_edge(dfun, q, floor, rtol=1e-10, m0=0.0):
    """The lower edge of the sample spectrum at ``q < 1`` for a population
    whose spectrum starts at ``floor > 0`` and whose ``D`` is known only
    through its Stieltjes transform (a continuous law, a free sum or
    product): a lower bound, below the edge by about ``10 rtol floor``.

    On ``-floor < kappa < 0`` the ridge of ``kappa`` is ``lam(kappa) = kappa
    (1 - q D(kappa))`` [C6], with ``lam' = 1 - q df2`` increasing; the edge is
    ``-lam`` at its minimum, so ``phi(kappa) = kappa (q D(kappa) - 1)`` is
    concave there and every ``kappa`` gives a lower bound of the edge
    (:func:`gram_lower_edge` is the same argument at ``q > 1``).  Golden
    section on ``phi`` (36 steps: ``kappa`` to ``3e-8`` of ``floor``, where
    ``phi`` is flat to second order), each value lowered by ``10 rtol q
    |kappa D|`` for the relative accuracy ``rtol`` of ``D``; a spectrum whose ``df2`` stays below
    ``1/q`` up to ``-floor`` (a hard edge) gets its maximum at that end.
    A point where ``D`` is not real to ``10 rtol`` (a law known by
    subordination, within ``1e-6`` of its floor) gives no bound and counts
    as ``-oo``.  ``dfun`` takes an array of real ``kappa`` and returns
    ``D`` (:meth:`_Law.d_real`).

    A population with an atom at 0 of mass ``m0`` (``floor`` its lowest
    nonzero point) keeps the gap while ``q (1 - m0) < 1``: the atom adds 0
    to ``D`` and the same search holds.  Returns the bound ``floor (1 -
    sqrt(q (1 - m0)))^2`` on the nonzero sample eigenvalues (the nonzero
    part of the population has rank fraction ``1 - m0``) where that is
    higher, and alone at ``q (1 - m0) >= 1``.

    >>> import freeprob
    >>> from freeprob.models._spectral_numeric import _Law
    >>> law = _Law(freeprob.MarchenkoPastur(0.5), None)         # floor (1 - sqrt(1/2))^2
    >>> round(bulk_lower_edge(law.d_real, 0.5, (1 - 0.5**0.5) ** 2, law.rtol), 10)   # MP(1/2) x MP(1/2)
    0.0283501364
    """
    qe = q * (1 - m0)
    base = floor * (1 - np.sqrt(qe)) ** 2 if floor > 0 else 0.0
    if not (0 < qe < 1 and floor > 0):
        return base

    def phi(k):
        try:
            d = complex(np.asarray(dfun(np.array([k]))).ravel()[0])
        except (ConvergenceError, NumericalError, SupportError, BranchError):
            return -np.inf
        if not (np.isfinite(d.real) and abs(d.imag) <= 10 * rtol * abs(d)):
            return -np.inf      # not resolved next to the floor: no bound from here
        return k * (q * d.real - 1) - 10 * rtol * q * abs(k * d.real)

    return float(max(base, _golden_max(phi, -floor * (1 - 1e-6), 0.0, 36), phi(-floor * (1 - 1e-6))))


def bulk_upper_edge(dfun, q, x_max, rtol=1e-10):
    """The upper edge of the sample spectrum for a population known only
    through its Stieltjes transform, top ``x_max``: an upper bound, above the
    edge by about ``10 rtol`` of it, never below.

    On ``kappa < -x_max`` the ridge of ``kappa`` is ``lam(kappa) = kappa (1 -
    q D(kappa))`` [C6], concave there (``lam' = 1 - q df2`` with ``df2``
    increasing toward ``-x_max``); the edge is ``-lam`` at its critical
    point, so ``psi = -lam`` is convex and every ``kappa`` gives an upper
    bound (the mirror of :func:`bulk_lower_edge`).  Golden section in ``v =
    log(-kappa - x_max)`` over ``[log(1e-10 x_max), log(1e6 x_max (1 +
    q))]`` (60 steps), each value raised by ``10 rtol q |kappa D|``; a point
    where ``D`` is not real to ``10 rtol`` counts as ``+oo``.  Returns the
    bound ``x_max (1 + sqrt q)^2`` where that is lower (a density that
    vanishes fast at the top puts the edge at ``-lam(-x_max)``, which the
    search reaches to ``1e-10 x_max``).

    >>> import freeprob
    >>> from freeprob.models._spectral_numeric import _Law
    >>> law = _Law(freeprob.MarchenkoPastur(0.5), None)         # top (1 + sqrt(1/2))^2
    >>> round(bulk_upper_edge(law.d_real, 0.5, (1 + 0.5**0.5) ** 2, law.rtol), 9)   # the bound was 8.49
    4.409149864
    """
    bound = x_max * (1 + np.sqrt(q)) ** 2
    if not (q > 0 and x_max > 0 and np.isfinite(x_max)):
        return bound

    def psi(v):
        k = -x_max - np.exp(v)
        try:
            d = complex(np.asarray(dfun(np.array([k]))).ravel()[0])
        except (ConvergenceError, NumericalError, SupportError, BranchError):
            return np.inf
        if not (np.isfinite(d.real) and abs(d.imag) <= 10 * rtol * abs(d)):
            return np.inf
        return -k * (1 - q * d.real) + 10 * rtol * q * abs(k * d.real)

    return float(min(bound, -_golden_max(lambda v: -psi(v), np.log(1e-10 * x_max), np.log(1e6 * x_max * (1 + q)), 60)))


def _golden_max(f, lo, hi, steps):
    """The largest value of ``f`` seen by golden section for the maximum of a
    unimodal ``f`` on ``[lo, hi]`` (``steps`` shrinkings by 0.618; a value
    ``-oo`` marks a point where ``f`` is not defined)."""
    golden = 0.5 * (np.sqrt(5.0) - 1)
    a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
    fa, fb = f(a), f(b)
    for _ in range(steps):
        if fa >= fb:
            hi, b, fb = b, a, fa
            a = hi - golden * (hi - lo)
            fa = f(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + golden * (hi - lo)
            fb = f(b)
    return max(fa, fb)


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
