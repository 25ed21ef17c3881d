"""The edges of the feature Gram's sample spectrum on the real axis (private
to :mod:`freeprob.models`): a mixin of
:class:`freeprob.models._features_spectral.FeatureLaw`, which supplies the
real-axis map ``_maps(kappa_2, real=True)`` (``[lam, dlam/dkappa_2, ...]``),
the model, the population's solver ``pop``, the features' bottleneck ``k20``
and the feature noise ``sx``.  The contour of the spectral route [C18]
encloses ``[lower, upper]``; each edge is ``-lam`` at a real critical point of
the map, found by a log-grid scan and bisection (or golden-section search).
"""

from __future__ import annotations

import numpy as np

from freeprob.errors import ConvergenceError
from freeprob.models._spectral_numeric import population_floor

__all__ = ["FeatureEdges"]


class FeatureEdges:
    """``upper_edge``, ``lower_edge`` and ``gap_edge`` of the feature Gram
    ``Z^T Z/P`` (see the module)."""

    def upper_edge(self):
        """The top of the feature Gram's sample spectrum: ``-lam(kappa_2*)``
        at the outermost real critical point ``kappa_2* < -x_max`` of the map
        (scanned from far away on a log grid, then bisected); the top of the
        population's support when the map has none there.  The scan stops
        ``1e-4 x_max`` short of ``-x_max`` for a law evaluated through its
        Stieltjes transform (a finite difference gives its slope): the map
        increases up to its critical point, so the value there bounds the
        edge from above, which is all the contour needs."""
        x_top = float(self.model.population._numeric_radius())
        near = 1e-13 if self.pop._pop is not None or self.pop._huge is not None else 1e-4
        u = np.linspace(np.log(1e7 * (1 + x_top)), np.log(near * x_top), 600)
        k = -x_top - np.exp(u)
        lam, dlam, *_ = self._maps(k.astype(complex), True)
        neg = np.flatnonzero(~(dlam.real > 0))
        if not neg.size:
            edge = -lam[-1].real
        else:
            i = neg[0]
            lo, hi = u[i], u[i - 1]      # dlam <= 0 at lo, > 0 at hi
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                if self._maps(np.array([-x_top - np.exp(mid)], dtype=complex), True)[1][0].real > 0:
                    hi = mid
                else:
                    lo = mid
                if hi - lo < 1e-13:
                    break
            edge = -self._maps(np.array([-x_top - np.exp(hi)], dtype=complex), True)[0][0].real
        if not np.isfinite(edge) or edge <= 0:
            raise ConvergenceError(f"the top of the features' sample spectrum is not a positive number ({edge})")
        return float(edge)

    def lower_edge(self, q):
        """The bottom of the bulk of the feature Gram's sample spectrum for
        ``q = N/P < 1`` (0 otherwise): ``-lam(kappa_2*)`` at the first real
        critical point of the map below ``kappa_2^0`` (where ``lam = 0``),
        scanned toward the population's lowest eigenvalue ``-x_min`` on a
        log grid of ``kappa_2 + x_min``, then bisected.  Where the scan finds
        none (it stops ``1e-4 x_min`` short of ``-x_min`` for a law evaluated
        through its Stieltjes transform), the value at its last point, a lower
        bound of the edge (the map increases up to its critical point);
        never below the bound ``sigma_xi^2 (1 - sqrt q)^2`` of ``Sigma_z >=
        sigma_xi^2 I``.  A population that reaches 0 (``x_min = 0``) has a
        critical point only behind a width bottleneck (``kappa_2^0 > 0``);
        the scan then runs over ``(1e-12, 1) kappa_2^0``."""
        if q >= 1:
            return 0.0
        bound = self.sx * (1 - np.sqrt(q)) ** 2
        floor = population_floor(self.model.population)
        if floor <= 0 and self.k20 <= 0:
            return bound
        if floor <= 0:
            # a population that reaches 0 behind a width bottleneck (N < D):
            # the features' covariance keeps a gap, and the map's critical
            # point lies in (0, kappa_2^0), where it is evaluated at real
            # kappa_2 > 0 (no Stieltjes transform next to the spectrum)
            d = self.k20 * np.geomspace(1 - 1e-6, 1e-12, 600)
        else:
            near = 1e-13 if self.pop._pop is not None or self.pop._huge is not None else 1e-4
            # from just below kappa_2^0 (at kappa_2^0 = 0 the maps are 0/0)
            d = (self.k20 + floor) * np.geomspace(1 - 1e-6, near * floor / (self.k20 + floor), 600)
        lam, dlam, *_ = self._maps((d - floor).astype(complex), True)
        neg = np.flatnonzero(~(dlam.real > 0))
        if not neg.size:
            edge = -lam[-1].real
        else:
            i = neg[0]
            if i == 0:
                return bound
            lo, hi = np.log(d[i]), np.log(d[i - 1])     # dlam <= 0 at lo, > 0 at hi
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                if self._maps(np.array([np.exp(mid) - floor], dtype=complex), True)[1][0].real > 0:
                    hi = mid
                else:
                    lo = mid
                if hi - lo < 1e-13:
                    break
            edge = -self._maps(np.array([np.exp(hi) - floor], dtype=complex), True)[0][0].real
        return float(max(edge, bound)) if np.isfinite(edge) else bound


    def gap_edge(self, q, k2_data):
        """The bottom of the bulk of nonzero sample eigenvalues: :meth:`lower_edge`
        for ``q = N/P < 1``; for ``q >= 1`` (``N - P`` zero eigenvalues)
        ``-lam(kappa_2*)`` at the minimum ``kappa_2*`` of the map between its
        two real zeros, ``kappa_2^0`` (the features' bottleneck) and
        ``k2_data`` (the data's, the ridgeless ``kappa_2``), where ``lam < 0``:
        a log grid, then golden-section search to ``1e-8`` relative."""
        if q < 1:
            return self.lower_edge(q)
        lo, hi = max(self.k20, 1e-300), float(k2_data)
        if not hi > lo:
            return 0.0
        lam = lambda k: self._maps(np.atleast_1d(k).astype(complex), True)[0].real  # noqa: E731
        grid = lo + (hi - lo) * np.geomspace(1e-9, 1 - 1e-9, 400) if lo == 1e-300 else \
            np.exp(np.linspace(np.log(lo), np.log(hi), 402)[1:-1])
        vals = lam(grid)
        i = int(np.argmin(vals))
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        # golden section, one new point per step: lam is stationary at its
        # minimum, so a bracket of 1e-8 loses about its square (1e-16) of the edge, and
        # every point's -lam is a lower bound of it
        g = (np.sqrt(5) - 1) / 2
        c, d = b - g * (b - a), a + g * (b - a)
        fc, fd = lam(c)[0], lam(d)[0]
        for _ in range(200):
            if b - a <= 1e-8 * b:
                break
            if fc < fd:
                b, d, fd = d, c, fc
                c = b - g * (b - a)
                fc = lam(c)[0]
            else:
                a, c, fc = c, d, fd
                d = a + g * (b - a)
                fd = lam(d)[0]
        edge = -float(min(fc, fd))
        if not np.isfinite(edge):
            raise ConvergenceError(f"the bottom of the features' nonzero sample spectrum is not finite ({edge})")
        return max(edge, 0.0)
