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

__all__ = ["POLISH_DEGREE", "Curve", "nearest_root", "pole_roots", "scaled_roots", "scaled_roots_mp"]

#: the highest degree in ``g`` whose float64 Newton polish is trusted; above
#: it the integer coefficients are huge and the polish cancels (the physical
#: value then comes from subordination; the slope ``g' = -P_z/P_g`` is
#: judged point by point, :meth:`Curve.slope_trusted`)
POLISH_DEGREE = 12


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
        ``times_z``: ``z g' = -g (sum_ij j T_ij)/(sum_ij i T_ij)`` over the
        monomials ``T_ij = a_ij g^i z^j``, scaled by the largest one through
        exact powers of 2 (:meth:`_monomials`): next to a hard edge at 0
        (``g ~ z^(-1/2)`` or ``z^(-2/3)``) ``g'`` overflows at ``|z| ~
        1e-300`` and the powers of ``g`` and ``z`` under- and overflow apart,
        while ``z g'`` is of the size of ``g`` (``g, z != 0``)."""
        if times_z:
            return self._z_derivative(gv, z)
        cs = self.coeffs_at(z)
        dcs = np.array([np.polyval(c, z) for c in self._dc])
        gv = np.asarray(gv, dtype=complex)
        s = np.maximum(1.0, np.abs(gv))
        u = gv / s
        d = self.deg
        num = sum(dcs[k] * u**k * s ** float(k - d) for k in range(d + 1))
        den = sum(k * cs[k] * u ** (k - 1) * s ** float(k - d) for k in range(1, d + 1))
        return -s * num / den

    def slope_trusted(self, gv, z):
        """Where ``g' = -P_z/P_g`` is good to ``1e-10`` of ``g/z`` in float64:
        the rounding of the scaled monomials ``T_ij`` (:meth:`_monomials`),
        ``eps (sum |i T| + sum |j T|)``, against ``|sum i T|`` (a curve of
        degree 25 with huge integer coefficients cancelled to garbage)."""
        gv = np.asarray(gv, dtype=complex)
        z = np.broadcast_to(np.asarray(z, dtype=complex), gv.shape)
        if np.any((gv == 0) | (z == 0)) or not np.all(np.isfinite(gv)):
            return np.zeros(gv.shape, dtype=bool)
        terms, i, j = self._monomials(gv, z)
        den = np.abs((i * terms).sum(axis=0))
        err = np.finfo(float).eps * (np.abs(i * terms).sum(axis=0) + np.abs(j * terms).sum(axis=0))
        return (err <= 1e-10 * den).reshape(gv.shape)

    def _z_derivative(self, gv, z):
        gv = np.asarray(gv, dtype=complex)
        z = np.broadcast_to(np.asarray(z, dtype=complex), gv.shape)
        terms, i, j = self._monomials(gv, z)
        num, den = (j * terms).sum(axis=0), (i * terms).sum(axis=0)
        return (-gv.ravel() * num / den).reshape(gv.shape)

    def coeffs_scaled_at(self, z):
        """``c_k(z) = m_k 2^e_k`` at points ``z != 0`` without under- or
        overflow (``m``, ``e``: arrays ``(deg + 1, npts)``, ``e`` integer):
        each ``z^j`` as ``z'^j 2^(j E)`` with ``z = z' 2^E``, ``|z'| ~ 1``,
        and each ``c_k`` scaled by its largest term."""
        z = np.atleast_1d(np.asarray(z, dtype=complex))
        ez = np.frexp(np.abs(z))[1]
        zm = np.ldexp(z.real, -ez) + 1j * np.ldexp(z.imag, -ez)
        mant = np.zeros((self.deg + 1, z.size), dtype=complex)
        exps = np.zeros((self.deg + 1, z.size), dtype=np.int64)
        for k in range(self.deg + 1):
            js = np.flatnonzero(self.coef[k])
            if js.size == 0:
                continue
            with np.errstate(divide="ignore"):
                lead = np.max(np.log2(np.abs(self.coef[k, js]))[:, None] + js[:, None] * ez[None, :], axis=0)
            ref = np.floor(lead).astype(np.int64)
            tot = np.zeros(z.size, dtype=complex)
            for j in js:
                t = self.coef[k, j] * zm**j
                sh = j * ez - ref
                tot = tot + (np.ldexp(t.real, sh) + 1j * np.ldexp(t.imag, sh))
            mant[k], exps[k] = tot, ref
        return mant, exps

    def _monomials(self, gv, z):
        """``a_ij g^i z^j`` scaled by the largest at each point, with ``i``, ``j``."""
        i, j = np.nonzero(self.coef)
        a = self.coef[i, j][:, None]
        i, j = i[:, None], j[:, None]
        # g = g' 2^eg, z = z' 2^ez with |g'|, |z'| in [1/2, 1): the powers of
        # 2 are exact, so each term keeps (i + j + 1) eps, whatever its size
        gv, z = gv.ravel(), z.ravel()
        eg, ez = np.frexp(np.abs(gv))[1], np.frexp(np.abs(z))[1]
        gm = np.ldexp(gv.real, -eg) + 1j * np.ldexp(gv.imag, -eg)
        zm = np.ldexp(z.real, -ez) + 1j * np.ldexp(z.imag, -ez)
        t = a * gm[None, :] ** i * zm[None, :] ** j                     # (monomials, points)
        e = i * eg[None, :] + j * ez[None, :] + np.frexp(np.abs(t))[1]
        sh = i * eg[None, :] + j * ez[None, :] - np.max(np.where(t != 0, e, np.iinfo(np.int64).min), axis=0)
        return np.ldexp(t.real, sh) + 1j * np.ldexp(t.imag, sh), i, j

    def newton_scaled(self, g0, z, iters=60, rtol=1e-15):
        """:meth:`newton` on the monomials ``a_ij g^i z^j`` scaled at each
        step by the largest (``g``, ``z != 0``): no power of ``g`` or ``z``
        under- or overflows, whatever their size (``g ~ 1e200`` at ``z ~
        1e-300``); the step is ``g sum T/sum i T``.  Returns ``(g, converged)``."""
        gv = np.array(g0, dtype=complex).ravel()
        z = np.broadcast_to(np.asarray(z, dtype=complex), gv.shape).ravel()
        done = np.zeros(gv.shape, dtype=bool)
        for _ in range(iters):
            idx = np.flatnonzero(~done)
            if idx.size == 0:
                break
            t, i, _j = self._monomials(gv[idx], z[idx])
            p, dp = t.sum(axis=0), (i * t).sum(axis=0)
            floor = np.abs(p) <= 64 * 2.2e-16 * np.abs(t).sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = np.where(dp == 0, 0, gv[idx] * p / dp)
            gv[idx] = gv[idx] - step
            done[idx] = (np.abs(step) <= rtol * np.abs(gv[idx])) | floor
        return gv, done

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


def _roots_at(poly, s):
    """All roots of ``poly`` (a curve's coefficients in ``g`` at one point,
    highest power first) as ``s u`` with ``u`` the roots of the polynomial
    in ``u = g/s``, its coefficients ``c_k s^k`` formed through their base-2
    logarithms and scaled by the largest (next to an atom at 0, ``g ~ w/z``
    at ``z ~ 1e-160``, the leading ``c_k`` underflows and ``c_k g^k``
    overflows, and numpy's companion matrix of the raw coefficients held
    inf); None for a constant or non-finite polynomial."""
    nz = np.flatnonzero(poly != 0)
    if nz.size == 0 or nz[0] == poly.size - 1 or not np.all(np.isfinite(poly)):
        return None
    k = np.arange(poly.size - 1, -1, -1)
    with np.errstate(divide="ignore"):   # log2(0) = -inf: a zero coefficient stays 0
        lg = np.log2(np.abs(poly)) + k * np.log2(s)
    ap = np.where(poly != 0, np.abs(poly), 1.0)   # the phase, exactly +-1 for a real coefficient
    unit = poly.real / ap + 1j * (poly.imag / ap)   # (real divisions: no overflow at subnormal |c_k|)
    scaled = np.where(poly != 0, np.exp2(lg - lg[nz].max()), 0.0) * unit
    return s * np.roots(scaled[nz[0]:])


def arc_root(cv, x, g0, steps=128):
    """The physical root at ``x + i0`` (``x > 0``) of a law on ``[0, oo)``
    whose value at ``-x`` (off its support) is ``g0``: continued along ``z =
    x e^(i th)``, ``th`` from ``pi`` to ``0``, in the upper half plane where
    ``g`` is analytic; each step takes the root nearest to the last one,
    which must be isolated (every other root 3 times farther), else None.
    Certified: the path never meets the support, and no step can pass to
    another root.  (Next to a hard edge at 0, ``g ~ c z^-p``, the roots of
    the curve at ``|z| = x`` keep their angles apart at every scale.)"""
    g = complex(g0)
    for th in np.linspace(np.pi, 0.0, steps + 1)[1:]:
        z = complex(x) if th == 0 else x * np.exp(1j * th)
        roots = _roots_at(cv.coeffs_at(np.array([z]))[::-1, 0], max(1.0, abs(g)))
        if roots is None or roots.size == 0:
            return None
        d = np.abs(roots - g)
        order = np.argsort(d)
        if roots.size > 1 and d[order[1]] < 3 * d[order[0]]:
            return None
        g = roots[order[0]]
    polished, ok = cv.newton_scaled(np.array([g]), np.array([complex(x)]), iters=5)
    return polished[0] if ok[0] else g     # the polish refines a root already found, or is not taken


def nearest_root(cv, gv, z, g1, keep, anchor=None):
    """For the points not yet kept: the root of the curve at ``z`` nearest
    to the approximate value ``gv``, accepted when it lies within 1e-2 of it
    and every other root is at least 10 times farther (an unambiguous
    choice); at a real point on the support (``Im gv < -1e-3 |gv|``), the
    only root below the real axis when there is one (the physical boundary
    value has ``Im g < 0``, the other roots of a real curve come in
    conjugate pairs), else, with ``anchor`` (``g`` at points off ``[0,
    oo)``, for a law on ``[0, oo)``), :func:`arc_root` from ``-x``.  Three
    Wisharts at ``x = 1e-22``, where subordination is solved at a height no
    longer small against ``x``, had been 20% off.  Returns updated ``(g1,
    keep)``; the roots are those of :func:`_roots_at`."""
    g1, keep = g1.copy(), keep.copy()
    cs = cv.coeffs_at(z[~keep])
    for j, i in enumerate(np.flatnonzero(~keep)):
        roots = _roots_at(cs[::-1, j], max(1.0, abs(gv[i])))
        if roots is None:
            continue
        d = np.abs(roots - gv[i])
        order = np.argsort(d)
        near = d[order[0]]
        second = d[order[1]] if roots.size > 1 else np.inf
        pick = order[:1] if near <= 1e-2 * (1 + abs(gv[i])) and second >= 10 * near else None
        support = z[i].imag == 0 and gv[i].imag < -1e-3 * abs(gv[i])
        if pick is None and support:
            below = np.flatnonzero(roots.imag < -1e-6 * np.abs(roots))
            pick = below if below.size == 1 else None
        if pick is not None:
            polished, ok = cv.newton_scaled(roots[pick], z[i:i + 1], iters=5)
            g1[i], keep[i] = polished[0], True
        elif support and anchor is not None and z[i].real > 0:
            g = arc_root(cv, z[i].real, complex(np.ravel(anchor(np.array([-z[i].real])))[0]))
            if g is not None:
                g1[i], keep[i] = g, True
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


def scaled_roots(coeffs, exps=None):
    """All roots of a polynomial (coefficients highest power first, each
    ``coeffs[k] * 2**exps[k]`` when ``exps`` is given, so that coefficients
    beyond the float range are exact) whose roots differ by hundreds of
    orders of magnitude.

    The upper convex hull of ``(k, log|c_k|)`` (the Newton polygon) gives
    the magnitude ``r`` of each group of roots (its edge's slope) and the
    group's size (the edge's length).  Each group is found by
    :func:`numpy.roots` on ``p(r u)`` with ``r`` a power of 2 (the scaling
    is exact, ``ldexp``; ``r^k`` itself would overflow), where that group
    has ``|u| ~ 1``: the roots of ``u`` nearest to 1 in ``|log |u||`` are
    kept, so every root comes with a relative error of its own
    conditioning, never ``eps`` times the largest root.

    >>> import numpy as np
    >>> r = scaled_roots([1.0, -(1e200 + 1e-200), 1.0])      # roots 1e200 and 1e-200
    >>> bool(np.allclose(sorted(np.abs(r)), [1e-200, 1e200], rtol=1e-14, atol=0))
    True
    """
    c = np.asarray(coeffs, dtype=complex)
    ex = np.zeros(c.shape, dtype=np.int64) if exps is None else np.asarray(exps, dtype=np.int64)
    nzi = np.flatnonzero(c != 0)
    if nzi.size == 0:
        raise ValueError("the zero polynomial has no roots")
    c, ex = c[nzi[0]:], ex[nzi[0]:]                 # leading zeros: a lower degree
    n = c.size - 1
    zeros = n - np.flatnonzero(c != 0)[-1]          # trailing zeros: roots at 0
    c, ex = c[:c.size - zeros], ex[:ex.size - zeros]
    deg = np.arange(c.size - 1, -1, -1)             # the power of each coefficient
    keep = c != 0
    logs = np.log(np.abs(c[keep])) + ex[keep] * np.log(2)
    hull = _newton_polygon(zip(deg[keep].tolist(), logs.tolist()))
    out = [np.zeros(zeros, dtype=complex)]
    expo = np.frexp(np.abs(c))[1] + ex              # |c_k 2^ex_k| < 2^expo
    for (k0, l0), (k1, l1) in zip(hull, hull[1:]):
        # the group's root magnitude as a power of 2: p(2^E u) is then scaled
        # exactly (ldexp), so every root keeps its own conditioning
        big = int(round(-(l1 - l0) / (k1 - k0) / np.log(2)))
        shift = deg * big + ex
        top = int(np.max(np.where(c != 0, expo + deg * big, np.iinfo(np.int64).min)))
        scaled = np.ldexp(c.real, shift - top) + 1j * np.ldexp(c.imag, shift - top)
        # the group's coefficients (powers k0..k1) and any other within 1e-12
        # of the largest; the rest belong to roots 12 decades away, which move
        # these by ~1e-12 relative (Newton polishes afterwards) but would
        # swamp them in the companion matrix
        big_enough = np.flatnonzero((np.abs(scaled) >= 1e-12) | ((deg >= k0) & (deg <= k1)))
        u = np.roots(scaled[big_enough[0]:big_enough[-1] + 1])
        with np.errstate(divide="ignore"):
            u = u[np.argsort(np.abs(np.log(np.abs(u))))][:k1 - k0] if u.size else u
        out.append(np.ldexp(u.real, big) + 1j * np.ldexp(u.imag, big))
    return np.concatenate(out)


def _newton_polygon(points):
    """The upper convex hull of ``(power, log|c|)`` points, by increasing
    power: edge ``(k0, l0) -> (k1, l1)`` holds ``k1 - k0`` roots of log
    magnitude ``-(l1 - l0)/(k1 - k0)``."""
    hull = []
    for p in sorted(points):
        while len(hull) >= 2 and ((hull[-1][1] - hull[-2][1]) * (p[0] - hull[-2][0])
                                  <= (p[1] - hull[-2][1]) * (hull[-1][0] - hull[-2][0])):
            hull.pop()
        hull.append(p)
    return hull


def scaled_roots_mp(coeffs, *, steps=8):
    """:func:`scaled_roots` in mpmath at the working precision (coefficients
    highest power first, ``mpf``/``mpc``): each group of the Newton polygon
    by ``mpmath.polyroots`` on its own coefficients scaled by ``2^E``
    (Durand-Kerner stalls on roots spread over hundreds of decades), then
    ``steps`` Newton steps on the whole polynomial.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     r = scaled_roots_mp([mpmath.mpf(1), -(mpmath.mpf('1e200') + mpmath.mpf('1e-200')), mpmath.mpf(1)])
    ...     [mpmath.nstr(abs(x), 20) for x in sorted(r, key=abs)]
    ['1.0e-200', '1.0e+200']
    """
    import mpmath

    c = [mpmath.mpmathify(v) for v in coeffs]
    while c and c[0] == 0:
        c = c[1:]
    zeros = 0
    while c and c[-1] == 0:
        c, zeros = c[:-1], zeros + 1
    n = len(c) - 1
    hull = _newton_polygon((n - i, float(mpmath.log(abs(v)))) for i, v in enumerate(c) if v != 0)
    floor = mpmath.mpf(2) ** (-2 * mpmath.mp.prec)
    out = [mpmath.mpc(0)] * zeros
    for (k0, l0), (k1, l1) in zip(hull, hull[1:]):
        big = int(round(-(l1 - l0) / (k1 - k0) / np.log(2)))
        sc = [mpmath.ldexp(mpmath.mpf(1), (n - i) * big) * v for i, v in enumerate(c)]
        top = max(abs(v) for v in sc)
        idx = [i for i, v in enumerate(sc) if abs(v) >= floor * top or k0 <= n - i <= k1]
        u = mpmath.polyroots([v / top for v in sc[idx[0]:idx[-1] + 1]], maxsteps=400, extraprec=2 * mpmath.mp.prec)
        u = sorted(u, key=lambda x: abs(mpmath.log(abs(x))) if x != 0 else mpmath.inf)[:k1 - k0]
        for x in u:
            r = x * mpmath.ldexp(mpmath.mpf(1), big)
            for _ in range(steps):
                p, dp = mpmath.mpc(0), mpmath.mpc(0)
                for v in c:
                    p, dp = p * r + v, dp * r + p
                if dp == 0:
                    break
                r = r - p / dp
            out.append(r)
    return out
