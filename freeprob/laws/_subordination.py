r"""Numeric free convolution by subordination (Belinschi-Bercovici).

Additive, ``mu_a boxplus mu_b`` at ``z`` in the upper half plane.  With
``F = 1/g`` and ``h(w) = F(w) - w``, the subordination function ``omega``
(``g(z) = g_a(omega)``) is the attracting fixed point of

.. math:: \omega \mapsto z + h_b\big(z + h_a(\omega)\big),

an analytic self-map of ``C+`` (Denjoy-Wolff), so the iteration lands on the
physical branch by construction.

Multiplicative, ``mu_a boxtimes mu_b`` for laws on ``[0, oo)``, in the
variable ``u = 1/z`` on ``C \ [0, oo)`` (which contains the negative spectral
axis ``z = -lam``).  With ``eta(u) = 1 - u/g(1/u)`` and ``h(u) = eta(u)/u``:

.. math:: \omega \mapsto u\, h_b\big(u\, h_a(\omega)\big),\qquad
          \eta(u) = \eta_a(\omega),\qquad g(1/u) = \frac{u}{1 - \eta(u)}.

Both iterations are accelerated by safeguarded Newton steps (a step is taken
only if it stays in the domain and lowers the residual; otherwise the plain
fixed-point step is taken).  Points that do not converge raise
:class:`~freeprob.errors.ConvergenceError` naming them; the last iterate is
never returned.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ConvergenceError, NoClosedFormError
from freeprob.laws._numeric import _symbolic_twin
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.spectrum import SpectralMean, absorb_means
from freeprob.numeric.stable import rationalize

__all__ = ["free_additive", "free_multiplicative", "ladder"]


def _solve(phi, dphi, omega0, in_domain, *, tol, maxiter, what, scale=None, status=False):
    """Safeguarded Newton / fixed-point iteration; converged when a step is
    below ``tol (|omega| + scale)`` (``scale``: the natural size, |z|)."""
    omega = omega0.copy()
    scale = np.abs(omega0) if scale is None else np.asarray(scale, dtype=float)
    done = np.zeros(omega.shape, dtype=bool)
    res = np.full(omega.shape, np.inf)
    for _ in range(maxiter):
        idx = np.flatnonzero(~done)
        if idx.size == 0:
            break
        w = omega[idx]
        f = phi(w, idx)
        r = np.abs(w - f)
        d = dphi(w, idx)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = w - (w - f) / (1 - d)
        # safeguard without a second evaluation: a Newton step must stay in
        # the domain and not be wildly longer than the plain fixed-point step
        # (the fixed point in the open domain is unique, Denjoy-Wolff, so a
        # converging Newton sequence that stays inside cannot pick a wrong one)
        ok = np.isfinite(newton) & in_domain(newton, idx)
        cand = np.where(ok, newton, f)
        # a Newton step much longer than the plain step (|1 - phi'| small: a
        # slow contraction, where Newton matters most) is kept only if it
        # lowers the residual; only those points pay a second evaluation
        long = np.flatnonzero(ok & (np.abs(newton - w) > 10 * r))
        if long.size:
            sub = idx[long]
            r_new = np.abs(newton[long] - phi(newton[long], sub))
            worse = ~(r_new < r[long])
            cand[long[worse]] = f[long[worse]]
        step = np.abs(cand - w)
        omega[idx] = cand
        size = np.abs(cand) + scale[idx] + 1e-300
        # converged: a small step, or a step at the rounding floor (below
        # 1e-11 relative, h being cancellation-free) that stopped decreasing;
        # a slowly crawling iteration is NOT converged
        floor = (step <= 1e-11 * size) & (step >= 0.5 * res[idx])
        res[idx] = step
        done[idx] = (step <= tol * size) | floor
    if status:
        return omega, done
    if not done.all():
        bad = np.flatnonzero(~done)
        raise ConvergenceError(
            f"{what} subordination did not converge at {bad.size} point(s), e.g. index {bad[0]} "
            f"(last step {res[bad[0]]:.2e}); move the point away from the support or raise maxiter")
    return omega


def ladder(solve, x, y_target, top, *, ratio=1e-3, stride=16):
    """Solve at ``x + i y`` for ``y = top, top*ratio, ...`` down to
    ``y_target`` (> 0), warm-starting each rung from the previous
    subordination point: near the real axis the fixed point converges slowly
    from a cold start, but one rung above is an excellent Newton start.

    On large grids the ladder runs on every ``stride``-th point of the sorted
    grid; the other points start from the interpolated subordination point
    and are solved directly at their target height (points that do not
    converge from there get their own ladder)."""
    x = np.asarray(x, dtype=float).ravel()
    yt = np.broadcast_to(np.asarray(y_target, dtype=float), x.shape).copy()
    if x.size > 4 * stride:
        order = np.argsort(x, kind="stable")
        coarse = order[::stride]
        if coarse[-1] != order[-1]:
            coarse = np.append(coarse, order[-1])
        _, om_c = _ladder_all(solve, x[coarse], yt[coarse], top, ratio)
        if om_c is not None:
            xs_c = x[coarse]
            start = np.interp(x, xs_c, om_c.real) + 1j * np.interp(x, xs_c, om_c.imag)
            g, om, done = solve(x + 1j * yt, start, status=True, maxiter=200)
            # not converged from the interpolated start, or ended on the real
            # axis (uniqueness, Denjoy-Wolff, holds in the open half plane: a
            # boundary fixed point may be spurious): own ladder of warm starts
            redo = ~done | (np.abs(om.imag) <= 1e-10 * np.abs(om))
            if redo.any():
                g = g.copy()
                g[redo], _ = _ladder_all(solve, x[redo], yt[redo], top, ratio)
            return g
    g, _ = _ladder_all(solve, x, yt, top, ratio)
    return g


def _ladder_all(solve, x, yt, top, ratio):
    y = np.full(x.shape, float(top))
    y = np.maximum(y, yt)
    g, omega = solve(x + 1j * y, None)
    while np.any(y > yt):
        y = np.maximum(yt, y * ratio)
        g, omega = solve(x + 1j * y, omega)
    return g, omega


def free_additive(ga, ha, dha, hb, dhb, z, *, tol=1e-12, maxiter=2000, omega0=None, return_omega=False,
                  status=False):
    """``g_{a boxplus b}(z)`` for ``Im z > 0`` (arrays).

    ``ga`` evaluates the Stieltjes transform of ``a``; ``ha``/``dha`` and
    ``hb``/``dhb`` evaluate ``h = F - w`` and ``h'`` of each law (computed
    without cancellation, see :func:`freeprob.laws._subordination.gfuns`)."""
    z = np.asarray(z, dtype=complex).ravel()
    if np.any(z.imag <= 0):
        raise ValueError("additive subordination needs Im z > 0")

    def phi(w, idx):
        return z[idx] + hb(z[idx] + ha(w))

    def dphi(w, idx):
        return dhb(z[idx] + ha(w)) * dha(w)

    start = z.copy() if omega0 is None else np.asarray(omega0, dtype=complex).ravel().copy()
    # omega maps C+ into C+; in a gap of the support omega(x + i0) is real, so
    # Newton steps onto the closure (Im >= -1e-14 |omega|) are allowed
    omega = _solve(phi, dphi, start, lambda w, idx: w.imag >= -1e-14 * np.abs(w), tol=tol, maxiter=maxiter,
                   what="additive", scale=np.abs(z), status=status)
    if status:
        omega, done = omega
        return ga(omega), omega, done
    return (ga(omega), omega) if return_omega else ga(omega)


def free_multiplicative(ga, ha, dha, hb, dhb, z, *, tol=1e-12, maxiter=2000, omega0=None, return_omega=False,
                        status=False):
    """``g_{a boxtimes b}(z)`` for laws on ``[0, oo)`` at ``z`` off
    ``[0, oo)`` (arrays): ``Im z != 0`` or ``z < 0``.

    In ``u = 1/z`` the multiplicative ``h(v) = eta(v)/v = 1/v - 1/g(1/v)`` is
    ``-h_add(1/v)`` with the additive ``h_add = F - w``."""
    z = np.asarray(z, dtype=complex).ravel()
    if np.any((z.imag == 0) & (z.real >= 0)):
        raise ValueError("multiplicative subordination needs z off [0, oo)")
    u = 1 / z

    def hh(hfun, v):
        return -hfun(1 / v)

    def dhh(dhfun, v):
        return dhfun(1 / v) / v**2

    def phi(w, idx):
        return u[idx] * hh(hb, u[idx] * hh(ha, w))

    def dphi(w, idx):
        # a Newton slope: overflow (|z| ~ 1e-250 solver probes) gives a
        # non-finite step, which the safeguard in _solve refuses
        with np.errstate(over="ignore", invalid="ignore"):
            w2 = u[idx] * hh(ha, w)
            return u[idx] ** 2 * dhh(dhb, w2) * dhh(dha, w)

    def in_domain(w, idx):
        # Belinschi-Bercovici: omega maps each half plane into itself (and
        # the negative axis into itself).  A Newton step that crosses to the
        # other half plane may find a spurious fixed point of the extended
        # map: refuse it (the plain fixed-point step is taken instead).
        ui = u[idx].imag
        same = np.sign(w.imag) == np.sign(ui)
        real_neg = (ui == 0) & (np.abs(w.imag) <= 1e-14 * np.abs(w)) & (w.real < 0)
        return np.where(ui == 0, real_neg, same & (w.imag != 0))

    start = u.copy() if omega0 is None else np.asarray(omega0, dtype=complex).ravel().copy()
    omega = _solve(phi, dphi, start, in_domain, tol=tol, maxiter=maxiter, what="multiplicative",
                   scale=np.abs(u), status=status)
    done = None
    if status:
        omega, done = omega
    # eta(u) = eta_a(omega) = 1 - omega/g_a(1/omega); g(1/u) = u/(1 - eta)
    eta = 1 - omega / ga(1 / omega)
    if status:
        return u / (1 - eta), omega, done
    return (u / (1 - eta), omega) if return_omega else u / (1 - eta)


def law_range(law):
    lows = [a for a, _ in law._ac_intervals()] + list(np.real(law._atom_points()))
    highs = [b for _, b in law._ac_intervals()] + list(np.real(law._atom_points()))
    return float(min(lows)), float(max(highs))


def gfuns(law):
    """Numeric ``(g, h, h')`` of a law on complex arrays, for subordination,
    with ``h(w) = F(w) - w = 1/g(w) - w = -t(w)/g(w)``.

    ``1/g - w`` cancels catastrophically at large ``|w|`` (both terms ~ w);
    ``-t/g`` with the T-transform ``t`` in its cancellation-free form (the
    conjugate-rewritten closed form, or the absorbed spectral mean
    ``<x/(w - x)>`` of an atomic law) does not."""
    return _gfuns_cached(law)


@cached(maxsize=128)
def _gfuns_cached(law):
    twin, syms, vals = _symbolic_twin(law)
    try:
        gexpr = twin.stieltjes(C.z)
    except NoClosedFormError:
        fb = law._stieltjes_fallback

        def h(w):
            return 1 / fb(w) - w

        def dh(w):
            gv = fb(w)
            return -law._dstieltjes_fallback(w, gv) / gv**2 - 1

        return fb, h, dh
    texpr = C.t_from_stieltjes(gexpr, C.z)
    if texpr.atoms(SpectralMean):
        texpr = absorb_means(texpr)
    else:
        texpr = rationalize(texpr)
        gexpr = rationalize(gexpr)
    hexpr = -texpr / gexpr
    dhexpr = sp.diff(hexpr, C.z)
    args = (C.z,) + syms
    fg = compile_expr(gexpr, args, dtype=complex)
    # h and h' are always needed together: one fused pass over the atoms
    fhdh = compile_expr((hexpr, dhexpr), args, dtype=complex)
    cv = [complex(v) for v in vals]
    last = {}

    def hdh(w):
        # phi and phi' are evaluated at the same points (fresh arrays with
        # equal content): one fused evaluation serves both
        w = np.asarray(w)
        prev = last.get("w")
        if prev is None or prev.shape != w.shape or not np.array_equal(prev, w):
            last.update(w=np.array(w, copy=True), val=fhdh(w, *cv, finite=False))
        return last["val"]

    return (lambda w: fg(w, *cv, finite=False)), (lambda w: hdh(w)[0]), (lambda w: hdh(w)[1])
