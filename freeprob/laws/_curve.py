r"""Numerics on an algebraic curve ``P(g, z) = sum_k c_k(z) g^k = 0``.

The curve is the exact representation of an algebraic law; numerically it
serves to *refine* and *check*, never to choose a branch on its own:

* :meth:`Curve.newton` polishes a value of the physical branch supplied by
  subordination (which is physical by construction) to an exact root, with a
  backward-error stopping rule;
* :meth:`Curve.derivative` gives ``g' = -P_z/P_g`` on the curve;
* :meth:`Curve.candidate_edges` isolates the real roots of the discriminant
  ``Disc_g P(z)`` exactly (flint ball arithmetic, or sympy), the candidate
  support edges;
* :meth:`Curve.residual` checks values against the curve.

Branch selection by continuation from infinity lives in
:func:`freeprob.laws._branch.continuation_root` (mpmath, an independent route).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

__all__ = ["Curve", "nearest_root", "pole_roots"]


class Curve:
    """A numeric algebraic curve (numeric coefficients only)."""

    def __init__(self, expr, g, z):
        poly = sp.Poly(sp.expand(expr), g, z)
        dg, dz = poly.degree(g), poly.degree(z)
        coef = np.zeros((dg + 1, dz + 1), dtype=complex)
        for (i, j), c in poly.terms():
            coef[i, j] = complex(c)
        # c_k(z) as numpy polynomial coefficient arrays (highest power first)
        self.deg = dg
        self.coef = coef
        self._c = [coef[k, ::-1] for k in range(dg + 1)]
        self._dc = [np.polyder(c) if c.size > 1 else np.zeros(1) for c in self._c]
        self.expr, self.g, self.z = poly.as_expr(), g, z
        scale = np.max(np.abs(coef))
        self._coef_scale = scale if scale > 0 else 1.0

    # -- evaluation -----------------------------------------------------------
    def coeffs_at(self, z):
        return np.array([np.polyval(c, z) for c in self._c])  # (deg+1, npts)

    def residual(self, gv, z):
        cs = self.coeffs_at(z)
        p = np.zeros_like(gv)
        for k in range(self.deg, -1, -1):
            p = p * gv + cs[k]
        return p

    def _p_and_dp(self, gv, cs):
        p = np.zeros_like(gv)
        dp = np.zeros_like(gv)
        for k in range(self.deg, -1, -1):
            dp = dp * gv + p
            p = p * gv + cs[k]
        return p, dp

    def derivative(self, gv, z, *, times_z=False):
        """``g'(z) = -P_z / P_g`` on the curve (``z g'(z)`` with ``times_z``).

        Both sums are scaled by ``s^d`` and ``s^(d-1)``, ``s = max(1, |g|)``,
        so that they stay finite next to an atom, where ``g ~ w/(z - a)`` is
        huge (``g' ~ -w/(z - a)^2`` is finite while ``g^d`` overflows).
        ``times_z`` multiplies ``P_z`` by ``z`` before the division: next to
        a hard edge at 0 (``g ~ z^(-1/2)``) ``g'`` overflows at ``|z| ~
        1e-300`` while ``z g'`` is of the size of ``g``."""
        cs = self.coeffs_at(z)
        dcs = np.array([np.polyval(c, z) for c in self._dc])
        gv = np.asarray(gv, dtype=complex)
        s = np.maximum(1.0, np.abs(gv))
        u = gv / s
        d = self.deg
        num = sum(dcs[k] * u**k * s ** float(k - d) for k in range(d + 1))
        if times_z:
            num = num * np.asarray(z)
        den = sum(k * cs[k] * u ** (k - 1) * s ** float(k - d) for k in range(1, d + 1))
        return -s * num / den

    def newton(self, g0, z, iters=60, rtol=1e-15):
        """Vectorized Newton polish at fixed ``z``; returns (g, converged).

        Converged means a small step (``rtol``) or a backward error at the
        rounding floor, ``|P(g)| <= 64 eps sum_k |c_k(z)| |g|^k``, which is
        all float64 can certify for an ill-conditioned high-degree curve."""
        gv = np.array(g0, dtype=complex)
        cs = self.coeffs_at(z)
        acs = np.abs(cs)
        done = np.zeros(gv.shape, dtype=bool)
        for _ in range(iters):
            p, dp = self._p_and_dp(gv, cs)
            bound = np.zeros(gv.shape)
            ag = np.abs(gv)
            for k in range(self.deg, -1, -1):
                bound = bound * ag + acs[k]
            floor = np.abs(p) <= 64 * 2.2e-16 * bound
            with np.errstate(divide="ignore", invalid="ignore"):
                step = np.where(done | (dp == 0), 0, p / dp)
            gv = gv - step
            done |= (np.abs(step) <= rtol * np.abs(gv) + 1e-300) | floor
            if done.all():
                break
        return gv, done

    def candidate_edges(self):
        """Real roots of the discriminant of ``P`` in ``g`` (sorted).

        The discriminant of a high-degree curve has huge integer
        coefficients, so its real roots are isolated exactly: flint's
        ball-arithmetic ``complex_roots`` when available, sympy's
        ``real_roots`` otherwise."""
        from freeprob.laws._algebra import backend, integral

        gens = (self.g, self.z)
        poly = integral(self.expr, gens)
        if poly is not None and backend() == "flint":
            import flint

            from freeprob.laws._algebra import _ctx, _to_flint

            fp = _to_flint(poly, _ctx(gens))
            disc = fp.discriminant(str(self.g))
            coeffs = {int(m[1]): int(c) for m, c in disc.to_dict().items()}
            if not coeffs or max(coeffs) == 0:
                return np.array([])
            up = flint.fmpz_poly([coeffs.get(k, 0) for k in range(max(coeffs) + 1)])
            roots = []
            for fac, _ in up.factor()[1]:
                for r in fac.complex_roots():
                    rr = r[0] if isinstance(r, tuple) else r
                    if abs(float(rr.imag.mid())) <= 1e-12 * (1 + abs(float(rr.real.mid()))) and rr.imag.contains(0):
                        roots.append(float(rr.real.mid()))
            return np.unique(np.round(np.array(roots, dtype=float), 12))
        disc = sp.Poly(sp.discriminant(self.expr, self.g), self.z)
        if disc.degree() <= 0:
            return np.array([])
        return np.unique(np.round(np.array([float(r) for r in disc.real_roots()], dtype=float), 12))


def nearest_root(cv, gv, z, g1, keep):
    """For the points not yet kept: the root of the curve at ``z`` nearest
    to the approximate value ``gv``, accepted when it lies within 1e-2 of it
    and every other root is at least 10 times farther (an unambiguous
    choice); returns updated ``(g1, keep)``."""
    g1, keep = g1.copy(), keep.copy()
    cs = cv.coeffs_at(z[~keep])
    for j, i in enumerate(np.flatnonzero(~keep)):
        poly = cs[::-1, j]
        nz = np.flatnonzero(poly != 0)
        if nz.size == 0 or nz[0] == poly.size - 1:
            continue
        roots = np.roots(poly[nz[0]:])
        d = np.abs(roots - gv[i])
        order = np.argsort(d)
        near = d[order[0]]
        second = d[order[1]] if roots.size > 1 else np.inf
        if near <= 1e-2 * (1 + abs(gv[i])) and second >= 10 * near:
            polished, ok = cv.newton(roots[order[:1]], z[i:i + 1], iters=5)
            g1[i], keep[i] = polished[0], True
    return g1, keep


def pole_roots(cv, atoms, z, scale):
    """Real points ``z`` within ``1e-4 scale`` of an atom ``(a, w)`` (``z !=
    a``): the root of the curve with the pole ``w/(z - a)`` of that atom [P19],
    where subordination (evaluated above the axis) only sees the atom's
    ``w/(z - a + i y)``; returns ``(found, g)``.

    The root is taken only when it is unambiguous (:func:`nearest_root`:
    within 1e-2 of ``w/(z - a)``, every other root 10 times farther), which
    holds near the atom because the other roots stay bounded while this one
    grows like ``1/(z - a)``."""
    z = np.asarray(z, dtype=complex)
    est = np.zeros(z.shape, dtype=complex)
    near = np.zeros(z.shape, dtype=bool)
    for a, w in atoms:
        d = z.real - a
        hit = (z.imag == 0) & (d != 0) & (np.abs(d) <= 1e-4 * scale) & ~near
        est = np.where(hit, w / np.where(hit, d, 1.0), est)
        near |= hit
    if not near.any():
        return near, est
    g, keep = nearest_root(cv, est, z, est.copy(), ~near)
    return keep & near, g
