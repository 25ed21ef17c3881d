r"""Numerics on an algebraic curve ``P(g, z) = sum_k c_k(z) g^k = 0``.

The physical root is selected with the branch rules of :mod:`freeprob._branch`:

* :meth:`Curve.continue_from_infinity` -- vectorized continuation: start at
  ``Re z + iY`` on the root ``~ 1/z`` and follow it down the vertical line
  with safeguarded Newton steps; valid at every point off the support,
  including the negative real axis where all roots are real;
* :meth:`Curve.density` -- fast path for real grids: all roots at once
  (batched companion eigenvalues); inside the support exactly one root has
  ``Im g < 0`` (Herglotz, ``z = x + i0``); ambiguous points fall back to
  continuation;
* support edges: real roots of the discriminant ``Disc_g P(z)``, kept when the
  density changes from zero to positive across them;
* atoms: real zeros ``z0`` of the leading coefficient ``c_d`` (a root
  ``g -> oo``), mass ``-c_{d-1}(z0)/c_d'(z0)`` (balance of the two dominant
  terms), validated against ``-eps Im g(z0 + i eps)``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import BranchError, ConvergenceError

__all__ = ["Curve"]


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

    def derivative(self, gv, z):
        """``g'(z) = -P_z / P_g`` on the curve."""
        cs = self.coeffs_at(z)
        dcs = np.array([np.polyval(c, z) for c in self._dc])
        _, pg = self._p_and_dp(gv, cs)
        pz = np.zeros_like(gv)
        for k in range(self.deg, -1, -1):
            pz = pz * gv + dcs[k]
        return -pz / pg

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

    def roots_at(self, z):
        """All roots in ``g`` at each point (batched companion eigenvalues),
        shape ``(npts, deg)``."""
        z = np.atleast_1d(np.asarray(z, dtype=complex))
        cs = self.coeffs_at(z)  # (deg+1, n)
        lead = cs[self.deg]
        n, d = z.size, self.deg
        comp = np.zeros((n, d, d), dtype=complex)
        comp[:, 1:, :-1] = np.eye(d - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            comp[:, :, -1] = -(cs[:d] / lead).T
        return np.linalg.eigvals(comp)

    # -- the physical branch ----------------------------------------------------
    def continue_from_infinity(self, z, *, first_moment=0.0, radius=1.0):
        """Physical root at each ``z`` (array) by vertical continuation."""
        z = np.asarray(z, dtype=complex)
        shape = z.shape
        z = z.ravel()
        flip = z.imag < 0
        zt = np.where(flip, np.conj(z), z)
        x, yt = zt.real, zt.imag
        Y = 16 * (1 + np.abs(zt) + radius)
        z0 = x + 1j * Y
        gv, ok = self.newton(1 / z0 + first_moment / z0**2, z0)
        if not ok.all() or np.any(np.abs(gv * z0 - 1) > 0.5):
            raise ConvergenceError("no root near 1/z at the start of the continuation")
        g_fin = self.follow_down(gv, x, Y, yt)
        g_fin = np.where(flip, np.conj(g_fin), g_fin)
        return g_fin.reshape(shape)

    def follow_down(self, g0, x, y0, y_target):
        """Follow roots ``g0`` at ``x + i y0`` down the vertical lines to
        ``x + i y_target`` (arrays; ``y_target >= 0``, exactly 0 allowed):
        Euler predictor along ``g' = -P_z/P_g``, Newton corrector, a step
        accepted only if the corrector stayed close to the prediction."""
        x = np.asarray(x, dtype=float).ravel()
        gv = np.array(g0, dtype=complex).ravel()
        y = np.broadcast_to(np.asarray(y0, dtype=float), x.shape).copy()
        yt = np.broadcast_to(np.asarray(y_target, dtype=float), x.shape)
        floor = np.maximum(yt, 1e-14 * (1 + np.abs(x)))
        factor = np.full(x.size, 0.7)
        for _ in range(20000):
            active = y > floor
            if not active.any():
                break
            idx = np.flatnonzero(active)
            y_new = np.maximum(floor[idx], y[idx] * factor[idx])
            z_old, z_new = x[idx] + 1j * y[idx], x[idx] + 1j * y_new
            g_pred = gv[idx] + self.derivative(gv[idx], z_old) * (z_new - z_old)
            g_new, conv = self.newton(g_pred, z_new, iters=12)
            move = np.abs(g_pred - gv[idx])
            # 1e-9 |g|: the float64 noise floor of a high-degree curve
            good = conv & np.isfinite(g_new) & (np.abs(g_new - g_pred) <= 0.25 * move + 1e-9 * np.abs(g_new))
            acc = idx[good]
            gv[acc], y[acc] = g_new[good], y_new[good]
            factor[acc] = np.maximum(0.25, factor[acc] ** 1.25)
            rej = idx[~good]
            factor[rej] = np.sqrt(factor[rej])
            stalled = rej[factor[rej] > 1 - 1e-9]
            if stalled.size:
                # next to a branch point (an edge) two roots coalesce and the
                # step test cannot separate them: jump to the target by Newton
                # from the last accepted root; accept a converged root with
                # the Herglotz sign, else give up with a typed error
                near = y[stalled] <= 1e-4 * (1 + np.abs(x[stalled]))
                gj, cj = self.newton(gv[stalled], x[stalled] + 1j * yt[stalled], iters=80)
                ok = near & cj & (gj.imag <= 1e-8 * np.abs(gj))
                if not ok.all():
                    bad = stalled[~ok][0]
                    raise ConvergenceError(f"continuation on the curve stalled at z = {x[bad]} + {y[bad]}i "
                                           "(roots too close)")
                gv[stalled], y[stalled] = gj, yt[stalled]
        else:  # pragma: no cover - far beyond any schedule
            raise ConvergenceError("continuation on the curve did not reach its targets")
        zt = x + 1j * yt
        g_fin, conv = self.newton(gv, zt, iters=60)
        if not conv.all():
            raise ConvergenceError("Newton failed at the end of the continuation")
        real_target = yt == 0
        return np.where(real_target & (np.abs(g_fin.imag) <= 1e-12 * np.abs(g_fin)), g_fin.real + 0j, g_fin)

    def density(self, x, *, first_moment=0.0, radius=1.0, check: int = 3):
        """``-Im g(x + i0)/pi`` at real points (array).

        All roots at ``x + i eta`` (``eta = 1e-11 (1 + R)``) come from batched
        companion eigenvalues; walking the sorted grid, each point takes the
        Herglotz root (``Im g <= 0``) nearest the previous point's root, the
        walk starting from a vertical continuation.  Other sheets of a
        high-degree curve also carry complex roots, so "the unique root with
        ``Im g < 0``" is not a rule; nearest-root tracking plus the Herglotz
        sign is.  The choice is polished by Newton and checked against
        vertical continuation at ``check`` random points (a mismatch switches
        to continuation everywhere)."""
        x = np.asarray(x, dtype=float)
        shape = x.shape
        xf = x.ravel()
        if xf.size == 0:
            return np.zeros(shape)
        order = np.argsort(xf, kind="stable")
        xs = xf[order]
        eta = 1e-11 * (1 + radius)
        zs = xs + 1j * eta
        roots = self.roots_at(zs)
        start = self.continue_from_infinity(zs[:1], first_moment=first_moment, radius=radius)[0]
        chosen = np.empty(xs.size, dtype=complex)
        prev = start
        herg = roots.imag <= 1e-7 * (1 + np.abs(roots))
        for i in range(xs.size):
            cand = roots[i]
            dist = np.abs(cand - prev) + np.where(herg[i], 0.0, np.inf)
            k = int(np.argmin(dist))
            if not np.isfinite(dist[k]):
                k = int(np.argmin(np.abs(cand - prev)))
            prev = chosen[i] = cand[k]
        gv, _ = self.newton(chosen, zs, iters=8)
        if check and xs.size > 1:
            rng = np.random.default_rng(xs.size)
            idx = rng.choice(xs.size, size=min(check, xs.size), replace=False)
            ref = self.continue_from_infinity(zs[idx], first_moment=first_moment, radius=radius)
            if np.any(np.abs(ref - gv[idx]) > 1e-6 * (1 + np.abs(ref))):
                gv = self.continue_from_infinity(zs, first_moment=first_moment, radius=radius)
        out = np.empty(xs.size)
        out[order] = np.maximum(0.0, -gv.imag / np.pi)
        return out.reshape(shape)

    def candidate_edges(self):
        """Real roots of the discriminant of ``P`` in ``g`` (sorted).

        The discriminant of a high-degree curve has huge integer
        coefficients, so its real roots are isolated exactly: flint's
        ball-arithmetic ``complex_roots`` when available, sympy's
        ``real_roots`` otherwise."""
        from .._algebra import backend, integral

        gens = (self.g, self.z)
        poly = integral(self.expr, gens)
        if poly is not None and backend() == "flint":
            import flint

            from .._algebra import _ctx, _to_flint

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

    def atoms(self, *, first_moment=0.0, radius=1.0):
        """``[(z0, mass)]`` at the real zeros of the leading coefficient."""
        lead = self._c[self.deg]
        if lead.size <= 1:
            return []
        out = []
        seen = []
        for r in np.roots(lead):
            if abs(r.imag) > 1e-6 * (1 + abs(r)):
                continue
            z0 = float(r.real)
            if any(abs(z0 - s0) <= 1e-6 * (1 + abs(s0)) for s0 in seen):
                continue  # multiple root of the leading coefficient
            seen.append(z0)
            z0 = round(z0, 12)
            # an atom gives -eps Im g(z0 + i eps) -> mass, independent of eps;
            # a power singularity at an edge (g ~ (z - z0)^(-p), p < 1) gives
            # eps^(1-p) -> 0.  Compare two scales.
            eps = np.array([1e-6, 1e-8]) * (1 + radius)
            gv = self.continue_from_infinity(z0 + 1j * eps, first_moment=first_moment, radius=radius)
            est = -eps * gv.imag
            if est[1] <= 1e-10 or abs(est[0] - est[1]) > 1e-3 * est[1] + 1e-9:
                continue
            num = -np.polyval(self._c[self.deg - 1], z0)
            den = np.polyval(np.polyder(lead), z0)
            mass = float(np.real(num / den)) if den != 0 else float("nan")
            if not (np.isfinite(mass) and abs(mass - est[1]) <= 1e-5):
                mass = float(est[1])  # multiple root of c_d: keep the numeric residue
            if mass > 1 + 1e-9:
                raise BranchError(f"atom at {z0} with mass {mass} > 1: inconsistent curve")
            out.append((z0, mass))
        return out

    def support_intervals(self, *, first_moment=0.0, radius=1.0, atoms=()):
        """Intervals where the density is positive, from the discriminant."""
        edges = self.candidate_edges()
        edges = edges[np.abs(edges) <= 1e6 * (1 + radius)]
        if edges.size < 2:
            return []
        mids = 0.5 * (edges[:-1] + edges[1:])
        dens = self.density(mids, first_moment=first_moment, radius=radius)
        intervals = []
        for (a, b), d in zip(zip(edges[:-1], edges[1:]), dens):
            if d > 1e-10:
                if intervals and abs(intervals[-1][1] - a) <= 1e-12 * (1 + abs(a)):
                    intervals[-1] = (intervals[-1][0], b)
                else:
                    intervals.append((a, b))
        return intervals
