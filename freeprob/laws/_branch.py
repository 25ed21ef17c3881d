r"""Branch selection and branch certificates for Stieltjes transforms.

The physical branch of ``g(z) = tr (z - A)^{-1}`` [C4] is characterised by

1. ``g(z) ~ 1/z`` as ``|z| -> oo`` (the moment expansion);
2. the Herglotz sign: ``Im g(z) < 0`` when ``Im z > 0`` (and ``g(conj z) = conj g(z)``);
3. on the real axis off the support, ``g`` is real; on the negative axis of a
   positive law ``g(-lam) < 0`` and ``df1 = 1 + lam g(-lam)`` lies in ``[0, 1]``.

The rule "take the root with positive imaginary part" is undefined on the real
axis (at ``z = -lam`` every root of the curve is typically real).  freeprob
therefore selects roots by **continuation from infinity**: start at
``z0 = Re z + i Y`` with ``Y`` far above the spectrum, where rule 1 singles out
one root, and follow it down the vertical line to ``z``.  The path never
touches the real axis before its end, so it never crosses a cut, and the end
point may be any point off the support, including ``z = -lam`` and
``x + 1e-12 i`` inside the support.

:func:`certify` checks rules 2-3 on every numeric value returned to users.
"""

from __future__ import annotations

import math

import numpy as np

from freeprob.errors import BranchError, ConvergenceError

__all__ = ["certify", "continuation_root"]


def certify(zs: np.ndarray, gs: np.ndarray, *, rtol: float = 1e-9) -> None:
    """Raise :class:`BranchError` unless ``gs`` satisfies the Herglotz sign
    and is real at real ``zs``.

    >>> certify(np.array([1j, -2.0]), np.array([-1j/1.0, -0.5]))
    >>> certify(np.array([1j]), np.array([1j]))
    Traceback (most recent call last):
    ...
    freeprob.errors.BranchError: Herglotz sign violated at z = 1j: g = 1j (Im g must be <= 0 for Im z > 0)
    """
    zs = np.asarray(zs, dtype=complex).ravel()
    gs = np.asarray(gs, dtype=complex).ravel()
    if not np.all(np.isfinite(gs)):
        i = int(np.flatnonzero(~np.isfinite(gs))[0])
        raise BranchError(f"non-finite Stieltjes value at z = {zs[i]}: g = {gs[i]}")
    scale = np.abs(gs) * rtol + 1e-300
    up = (zs.imag > 0) & (gs.imag > scale)
    down = (zs.imag < 0) & (gs.imag < -scale)
    bad = np.flatnonzero(up | down)
    if bad.size:
        i = int(bad[0])
        raise BranchError(
            f"Herglotz sign violated at z = {zs[i]}: g = {gs[i]} "
            f"(Im g must be {'<=' if zs[i].imag > 0 else '>='} 0 for Im z {'>' if zs[i].imag > 0 else '<'} 0)")
    real = (zs.imag == 0) & (np.abs(gs.imag) > 1e3 * scale)
    bad = np.flatnonzero(real)
    if bad.size:
        i = int(bad[0])
        raise BranchError(f"Stieltjes value not real at real z = {zs[i]} off the support: g = {gs[i]}")


def continuation_root(coeffs, z, *, first_moment=0, radius=1.0, dps=30, max_halvings=60, moments=None,
                      dcoeffs=None):
    r"""The physical root of ``sum_i c_i(z) g^i = 0`` at one point ``z``,
    by continuation from ``z0 = Re z + i Y`` down the vertical line (mpmath).

    Parameters
    ----------
    coeffs : callable ``z -> [c_0(z), c_1(z), ..., c_d(z)]`` (mpmath numbers)
    z : target point (complex); if ``Im z < 0`` the conjugate is used and the
        result conjugated (``g(conj z) = conj g(z)``)
    first_moment : ``m_1``, used for the starting guess ``1/z0 + m_1/z0^2``
    moments : ``[m_1, m_2, ...]`` for the guess ``sum_k m_k z0^{-k-1}``
        instead (branches that agree to ``1/z + m_1/z^2``, such as the
        AR(1) law's ``(1 +- 1/r)/z``, differ at a later moment)
    radius : a bound on the spectral radius (sets the starting height)
    dps : working precision (digits), set with ``mpmath.workdps`` only
    dcoeffs : callable ``z -> [c_0'(z), ..., c_d'(z)]`` (optional): the
        predictor's ``P_z`` exactly instead of by a central difference, whose
        error (``1e-17`` of ``g'`` at ``|z| = 1e-43``) exceeds the distance
        between roots that meet at 0 (``sqrt |z|`` relative)

    >>> import mpmath
    >>> semicircle = lambda z: [mpmath.mpf(1), -z, mpmath.mpf(1)]   # g^2 - z g + 1
    >>> g = continuation_root(semicircle, -3, radius=2, dps=30)
    >>> mpmath.nstr(g.real, 15), g.imag == 0
    ('-0.381966011250105', True)
    """
    import mpmath

    # the curve's coefficients grow like |z|^deg while its terms cancel to
    # O(1) along the physical root, so far from the support digits go to the
    # cancellation (Newton's P and the predictor's P_z): add 3 per decade of |z|
    extra = 3 * int(math.log10(2 + abs(complex(z)) + radius))
    # next to 0, where an atom at 0 of two factors gives roots (m0 +- c sqrt z)/z
    # that meet there, a root is conditioned like 1/|z| and the predictor must
    # be good to |z|^(3/2) (roots sqrt |z| apart, P_z and P_g cancelled to |z|
    # of their terms): two digits per decade of (1 + radius)/|z| (the path
    # never comes closer to 0 than its end)
    if 0 < abs(complex(z)) < 1 + radius:
        extra += 2 * int(math.log10((1 + radius) / abs(complex(z))))
    with mpmath.workdps(dps + 10 + extra):
        z = mpmath.mpc(z)
        flip = z.imag < 0
        if flip:
            z = mpmath.conj(z)
        x, y_end = z.real, z.imag
        Y = 16 * (1 + abs(z) + radius)
        tol = mpmath.mpf(10) ** (-(dps + 5))

        def newton(g, zz, rtol=None):
            rtol = tol if rtol is None else rtol
            for _ in range(100):
                cs = coeffs(zz)
                p = mpmath.mpf(0)
                dp = mpmath.mpf(0)
                for c in reversed(cs):
                    dp = dp * g + p
                    p = p * g + c
                if dp == 0:
                    return None
                step = p / dp
                g = g - step
                if abs(step) <= rtol * (abs(g) + tol):
                    return g
            return None

        def separation(gg, zz):
            # 2 |P_g/P_gg|: about the distance to the nearest other root where
            # two roots are close (the branches of a curve near infinity)
            p = dp = ddp = mpmath.mpf(0)
            for c in reversed(coeffs(zz)):
                ddp = ddp * gg + 2 * dp
                dp = dp * gg + p
                p = p * gg + c
            return mpmath.inf if ddp == 0 else 2 * abs(dp / ddp)

        z0 = mpmath.mpc(x, Y)
        ms = [mpmath.mpmathify(m) for m in (moments if moments is not None else [first_moment])]
        g = newton(1 / z0 + sum(m / z0 ** (k + 2) for k, m in enumerate(ms)), z0)
        if g is None or abs(g * z0 - 1) > mpmath.mpf("0.5"):
            raise ConvergenceError(f"no root near 1/z at the starting point {z0}")
        # geometric descent of the imaginary part, with step halving
        y = Y
        # the last height is negligible against |x| (not against 1: at x =
        # -1e-300 next to a density that diverges at 0, 1e-32 i is another point)
        floor = max(y_end, mpmath.mpf(10) ** (-(dps + 2)) * (abs(x) if x != 0 else 1))
        factor = mpmath.mpf("0.7")
        failures = 0
        h = mpmath.mpf(10) ** (-(dps // 2 + 5))
        rel = min(mpmath.mpf(10) ** (-(mpmath.mp.dps // 3)), mpmath.mpf("1e-3"))

        def poly(gg, zz):
            p = mpmath.mpf(0)
            for c in reversed(coeffs(zz)):
                p = p * gg + c
            return p

        while y > floor:
            y_new = max(floor, y * factor)
            z_old, z_new = mpmath.mpc(x, y), mpmath.mpc(x, y_new)
            # predictor: Euler step along g' = -P_z/P_g (P_z by a central
            # difference); corrector: Newton,
            # accepted only if it moved little compared with the predictor
            # relative steps, and never beyond 10^(-digits/3) |z| (at z =
            # -1e-300 next to a density that diverges at 0 the step 1e-20
            # straddled 0; next to roots that meet at 0 the differences at a
            # step 1e-20 left g' 5e-6 off at |z| = 2e-12, more than the roots
            # are apart; the digits added per decade below 1 keep the rounding
            # of the small relative step at 1e-18 next to a regular point)
            hz = min(h * (1 + abs(z_old)), abs(z_old) * rel)
            if dcoeffs is None:
                pz = (poly(g, z_old + hz) - poly(g, z_old - hz)) / (2 * hz)
            else:
                pz = mpmath.mpf(0)
                for c in reversed(dcoeffs(z_old)):
                    pz = pz * g + c
            # P_g by Horner, exact: a difference step in g must be small against
            # the distance to the next root, which is 1e-16 |g| next to 0 where
            # the roots (m0 +- c sqrt z)/z meet
            cs = coeffs(z_old)
            pg = mpmath.mpf(0)
            for k in range(len(cs) - 1, 0, -1):
                pg = pg * g + k * cs[k]
            dg = -pz / pg
            far = abs(z_old) > 2 * radius or abs(z_old) < radius / 100
            if far:
                # far out every branch is ~1/z: predict u = z g (u' = g + z g'),
                # whose error is not common to the branches there (an Euler
                # step in g misses by ~dz^2/z^3, more than their 2/z^2 apart);
                # next to 0 likewise where an atom at 0 gives every branch
                # its pole m0/z (the roots ~ (m0 +- c sqrt z)/z of a product
                # whose factors both have an atom at 0 of the same mass)
                g_pred = (z_old * g + (g + z_old * dg) * (z_new - z_old)) / z_new
            else:
                g_pred = g + dg * (z_new - z_old)
            g_new = newton(g_pred, z_new)
            # far out (and next to 0) the corrector must also stay well inside
            # the root's own basin (a tenth of the distance to the next root),
            # or the path may jump to a branch that shares the pole
            if g_new is None or abs(g_new - g_pred) > abs(g_pred - g) / 10 + tol * abs(g_new) \
                    or (far and abs(g_new - g_pred) > separation(g_new, z_new) / 10):
                factor = mpmath.sqrt(factor)
                failures += 1
                if failures > max_halvings:
                    raise ConvergenceError(f"continuation stalled at z = {x} + {y}i")
                continue
            g, y = g_new, y_new
            failures = 0
            factor = max(mpmath.mpf("0.25"), factor ** mpmath.mpf("1.5"))
        if y_end == 0:
            zr = mpmath.mpc(x, 0)
            # from the path's end x + i y: u = z g carries over next to 0, where
            # the common pole m0/z moves g by y/x of itself, more than the roots
            # are apart (sqrt |x| of |g|); the end must lie in the root's basin
            far = x != 0 and (abs(x) > 2 * radius or abs(x) < radius / 100)
            g0 = mpmath.mpc(x, y) * g / zr if far else g
            g_new = newton(g0, zr)
            if g_new is None or (far and abs(g_new - g0) > separation(g_new, zr) / 10 + tol * abs(g_new)):
                raise ConvergenceError(f"Newton failed at the real point {x}")
            # off the support the root is real (its imaginary part is rounding,
            # of the root's condition, 1/|z| next to 0); on the support it is
            # the boundary value g(x + i0), polished to tol of Im g, which is
            # sqrt |x| of |g| next to a hard edge at 0 (1e-50 at x = 1e-100)
            if abs(g_new.imag) <= mpmath.mpf(10) ** (-(dps + 5 + extra // 2)) * abs(g_new):
                g = mpmath.mpc(g_new.real, 0)
            else:
                g = newton(g_new, mpmath.mpc(x, 0), rtol=tol * abs(g_new.imag) / abs(g_new))
                if g is None:
                    raise ConvergenceError(f"Newton failed at the real point {x}")
        elif y != y_end:  # pragma: no cover - floor equals y_end when y_end > 0
            g = newton(g, z)
        if flip:
            g = mpmath.conj(g)
        return +g
