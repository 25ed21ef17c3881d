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

Both are accelerated by safeguarded Newton steps (taken only if they stay in
the domain and lower the residual; else the plain fixed-point step).  Points
that do not converge raise :class:`~freeprob.errors.ConvergenceError` naming
them; the last iterate is never returned."""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import (
    ConvergenceError,
    NoClosedFormError,
    NumericalError,
    TransformNotDefinedError,
)
from freeprob.laws._base import operation
from freeprob.laws._forms import _symbolic_twin
from freeprob.laws._ladder import ladder, ladder_omega
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.spectrum import SpectralMean, absorb_means
from freeprob.numeric.stable import rationalize

__all__ = ["free_additive", "free_multiplicative", "eta_values", "ladder", "mul_plan", "operand_funs", "slope_of",
           "subordination_slope"]


def _solve(phi, dphi, omega0, in_domain, *, tol, maxiter, what, scale=None, status=False, plain=None):
    """Safeguarded Newton / fixed-point iteration; converged when a step is
    below ``tol (|omega| + scale)`` (``scale``: the natural size, |z|).
    Newton runs on ``omega = phi(omega)``; where its step is refused, the
    plain step is ``phi`` itself, or ``plain`` when given (a self-map with
    the same fixed point, for a ``phi`` that is not one)."""
    omega = omega0.copy()
    scale = np.abs(omega0) if scale is None else np.asarray(scale, dtype=float)
    done = np.zeros(omega.shape, dtype=bool)
    res = np.full(omega.shape, np.inf)
    for _ in range(maxiter):
        idx = np.flatnonzero(~done)
        if idx.size == 0:
            break
        w = omega[idx]
        # an operand may overflow at an iterate (-1/omega^2 next to an atom at 0): refused below
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            f = phi(w, idx)
            r = np.abs(w - f)
            d = dphi(w, idx)
            newton = w - (w - f) / (1 - d)
        # safeguard without a second evaluation: a Newton step must stay in
        # the domain and not be wildly longer than the plain fixed-point step
        # (the fixed point in the open domain is unique, Denjoy-Wolff, so a
        # converging Newton sequence that stays inside cannot pick a wrong one)
        ok = np.isfinite(newton) & in_domain(newton, idx)
        # a Newton step much longer than the plain step (|1 - phi'| small: a
        # slow contraction, where Newton matters most) is kept only if it
        # lowers the residual; only those points pay a second evaluation
        long = np.flatnonzero(ok & (np.abs(newton - w) > 10 * r))
        if long.size:
            r_new = np.abs(newton[long] - phi(newton[long], idx[long]))
            ok[long[~(r_new < r[long])]] = False
        cand = np.where(ok, newton, f)
        if plain is not None and not ok.all():
            cand[~ok] = plain(w[~ok], idx[~ok])
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
                        status=False, tail=None, retry=None):
    """``g_{a boxtimes b}(z)`` for laws on ``[0, oo)`` at ``z`` off
    ``[0, oo)`` (arrays): ``Im z != 0`` or ``z < 0``.

    In ``u = 1/z`` the multiplicative ``h(v) = eta(v)/v = 1/v - 1/g(1/v)`` is
    ``-h_add(1/v)`` with the additive ``h_add = F - w``.

    ``tail``, when ``b`` has a polynomial ``1/S_b`` [C9] (see
    :func:`mul_plan`): ``eta -> (P(eta), P'(eta))`` with ``P(eta) =
    1/S_b(eta/(1 - eta))``.  Newton then runs on the explicit equation
    ``omega = u P(eta_a(omega))`` (``eta = eta_a(omega)`` on both sides:
    ``chi_eta = t Sigma(t)`` and ``Sigma_{ab} = Sigma_a Sigma_b``), which
    needs neither ``h_b`` nor ``h_b'``; the Belinschi-Bercovici map, which
    has the same fixed point and is a self-map, takes the plain steps
    where a Newton step is refused.  A point where the explicit iteration
    does not converge is solved again by that map when ``retry`` (by
    default when the caller does not take the ``status``)."""
    z = np.asarray(z, dtype=complex).ravel()
    if np.any((z.imag == 0) & (z.real >= 0)):
        raise ValueError("multiplicative subordination needs z off [0, oo)")
    u = 1 / z

    def hh(hfun, v):
        good = np.isfinite(v) & (v != 0)
        if good.all():
            return -hfun(1 / v)
        # points where the map left the representable numbers (u = 1/z at |z|
        # ~ 1e-50 next to a density that diverges at 0) stay nan, never handed
        # to an operand (whose own solver would take it for a point); they do
        # not converge and are reported so
        out = np.full(np.shape(v), np.nan + 0j)
        if good.any():
            out[good] = -hfun(1 / v[good])
        return out

    def dhh(dhfun, v):
        return dhfun(1 / v) / v**2

    def bb(w, idx):
        return u[idx] * hh(hb, u[idx] * hh(ha, w))

    def dbb(w, idx):
        # a Newton slope: overflow (|z| ~ 1e-250 solver probes) gives a
        # non-finite step, which the safeguard in _solve refuses
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            w2 = u[idx] * hh(ha, w)
            return u[idx] ** 2 * dhh(dhb, w2) * dhh(dha, w)

    def explicit(w, idx):
        return u[idx] * tail(w * hh(ha, w))[0]

    def dexplicit(w, idx):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            av = hh(ha, w)
            return u[idx] * tail(w * av)[1] * (av + dha(1 / w) / w)

    phi, dphi = (bb, dbb) if tail is None else (explicit, dexplicit)

    def in_domain(w, idx):
        # Belinschi-Bercovici: omega maps each half plane into itself (and
        # the negative axis into itself).  A Newton step that crosses to the
        # other half plane may find a spurious fixed point of the extended
        # map: refuse it (the plain fixed-point step is taken instead).
        ui = u[idx].imag
        same = np.sign(w.imag) == np.sign(ui)
        real_neg = (ui == 0) & (np.abs(w.imag) <= 1e-14 * np.abs(w)) & (w.real < 0)
        return np.where(ui == 0, real_neg, same & (w.imag != 0))

    if omega0 is not None:
        start = np.asarray(omega0, dtype=complex).ravel().copy()
    else:  # omega ~ u m1(b) = u P(0) as u -> 0
        start = u.copy() if tail is None else u * tail(np.zeros(1, dtype=complex))[0]
    # relative to |omega| alone: finite as u -> oo when b has an atom at 0 (|u| let -47.78 pass for -46.96)
    kw = dict(tol=tol, maxiter=maxiter, what="multiplicative", scale=np.zeros(u.shape), status=True)
    omega, done = _solve(phi, dphi, start, in_domain, plain=None if tail is None else bb, **kw)
    if tail is not None:
        # the explicit equation can have roots besides the physical one (two
        # factors with q > 1 on the negative axis: df1 = 0.998 above the rank
        # 1/3); the Belinschi-Bercovici map has one fixed point in the domain
        # (Denjoy-Wolff): a root that is not its fixed point is solved again by
        # it, and so is a point where the explicit iteration did not converge
        # unless the caller takes the status (a ladder's own warm starts)
        every = np.arange(u.size)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            off = np.abs(omega - bb(omega, every))
        wrong = done & ~(off <= 1e-8 * np.abs(omega))   # not |u|: at |z| = 1e-12, 5e-6 off passed
        idx = np.flatnonzero(wrong | ~done if (not status if retry is None else retry) else wrong)
        if idx.size:
            kw["scale"] = np.zeros(idx.size)
            omega[idx], done[idx] = _solve(lambda w, i: bb(w, idx[i]), lambda w, i: dbb(w, idx[i]), start[idx],
                                           lambda w, i: in_domain(w, idx[i]), **kw)
    if not status and not done.all():
        bad = np.flatnonzero(~done)
        raise ConvergenceError(f"multiplicative subordination did not converge at {bad.size} point(s), e.g. "
                               f"z = {complex(z[bad[0]])!r}; move the point away from the support or raise maxiter")
    # eta(u) = eta_a(omega) = 1 - omega/g_a(1/omega); g(1/u) = u/(1 - eta)
    eta = 1 - omega / ga(1 / omega)
    if status:
        return u / (1 - eta), omega, done
    return (u / (1 - eta), omega) if return_omega else u / (1 - eta)


def subordination_slope(kind, ga, ha, dha, hb, dhb, z, omega, *, eta_only=False, tail=None):
    r"""``g'(z)`` of a free convolution at points where subordination
    converged to ``omega``, by implicit differentiation of the fixed point
    (no finite differences: exact up to the accuracy of ``omega``).

    Additive: ``omega = Psi(omega, z) = z + h_b(z + h_a(omega))`` and
    ``g = g_a(omega)``, so ``omega' = Psi_z/(1 - Psi_omega)`` and
    ``g' = -(1 + h_a'(omega)) g_a(omega)^2 omega'`` (``F_a = 1/g_a = w + h_a``).

    Multiplicative, in ``u = 1/z``: ``omega = Phi(omega, u) = u B(u A(omega))``
    with ``A(v) = -h_a(1/v)``, ``B(v) = -h_b(1/v)``; ``eta(u) = omega A(omega)``
    and ``g = u/(1 - eta)``, so ``dg/dz = -u^2 (1/(1 - eta) + u eta'/(1 - eta)^2)``;
    ``eta_only`` returns ``(eta, u d eta/du)`` instead, which stay finite where
    ``g' ~ w0/z^2`` overflows (``z -> 0`` next to an atom at 0).  With
    ``tail`` (:func:`free_multiplicative`), ``omega = u P(eta)``:
    ``u eta' = E omega/(1 - u P'(eta) E)`` with ``E = d eta_a/d omega``."""
    z = np.asarray(z, dtype=complex).ravel()
    omega = np.asarray(omega, dtype=complex).ravel()
    if kind == "add":
        w2 = z + ha(omega)
        dpsi_w = dhb(w2) * dha(omega)
        dpsi_z = 1 + dhb(w2)
        d_omega = dpsi_z / (1 - dpsi_w)
        gv = ga(omega)
        return -(1 + dha(omega)) * gv**2 * d_omega
    # the same derivatives in products that stay finite as z -> 0 next to an
    # atom at 0 (u, omega ~ 1e250 there): Phi_omega = h_b'(1/w2) h_a'(1/omega)/eta^2
    # with w2 = u A(omega) and eta = omega A(omega), u Phi_u = u B(w2) + h_b'(1/w2)/A(omega)
    u = 1 / z
    a_val = -ha(1 / omega)
    eta = omega * a_val
    if tail is not None:
        e_slope = a_val + dha(1 / omega) / omega
        u_d_eta = e_slope * omega / (1 - u * tail(eta)[1] * e_slope)
        if eta_only:
            return eta, u_d_eta
        return -u**2 * (1 / (1 - eta) + u_d_eta / (1 - eta) ** 2)
    w2 = u * a_val
    dhb_w2 = dhb(1 / w2)
    dha_w = dha(1 / omega)
    dphi_w = dhb_w2 * dha_w / eta**2
    u_dphi_u = -u * hb(1 / w2) + dhb_w2 / a_val
    u_d_eta = (a_val + dha_w / omega) * u_dphi_u / (1 - dphi_w)
    if eta_only:
        return eta, u_d_eta
    return -u**2 * (1 / (1 - eta) + u_d_eta / (1 - eta) ** 2)


def slope_of(law, z, *, times_z=False, gv=None):
    """``g'`` off the support by implicit differentiation of the fixed point
    (:func:`~freeprob.laws._subordination.subordination_slope`), the fixed
    point found as ``law._physical`` finds it: from a cold start high above
    the axis (or on the negative axis of a product), by a ladder of warm
    starts below, real points just above the axis (:func:`axis_height`).
    ``times_z``: ``z g'(z)``, for a product ``-g (1 + u eta'/(1 - eta))``
    from ``eta`` and ``u eta'`` (finite where ``g' ~ g/z`` overflows, next
    to a density that diverges at 0).  With ``gv = g(z)``, the law's curve
    gives ``-P_z/P_g`` where its float64 rounding allows
    (:meth:`~freeprob.laws._curve.Curve.slope_trusted`; at degree 25 it
    cancelled to df2 = -0.458 at lam = 1e-6), subordination elsewhere."""
    cv = None if gv is None else law.curve()
    if cv is not None:
        gv = np.broadcast_to(np.asarray(gv, dtype=complex), z.shape)
        ok = cv.slope_trusted(gv, z)
        out = np.empty(z.shape, dtype=complex)
        if ok.any():
            out[ok] = cv.derivative(gv[ok], z[ok], times_z=times_z)
        if not ok.all():
            out[~ok] = slope_of(law, z[~ok], times_z=times_z)
        return out
    flat = z.ravel()
    flip = flat.imag < 0
    zz = np.where(flip, np.conj(flat), flat)
    omega = np.empty(zz.shape, dtype=complex)
    # the points law._physical solves from a cold start, the others by a
    # ladder of warm starts down to their height (at least axis_height)
    scale = 1 + law._numeric_radius()
    low = ~((zz.imag >= 1e-3 * scale) | ((zz.imag == 0) & (not law._offset_real) & (zz.real < 0)))
    if low.any():
        zz[low] = zz[low].real + 1j * np.maximum(zz[low].imag, axis_height(law, zz[low].real))
        omega[low] = ladder_omega(law._subordinate_from, zz[low].real, zz[low].imag, 1e-3 * scale)
    if (~low).any():
        omega[~low] = law._subordinate_from(zz[~low], None)[1]
    ga, ha, dha, hb, dhb, tail = operand_funs(law)
    # an operand's slope overflows next to an atom at 0 (-1/omega^2), and g' ~ g/z where z g' does not:
    # every non-finite value is taken from the curve's scaled monomials where trusted, else refused
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if law._kind == "mul":
            eta, u_d_eta = subordination_slope("mul", ga, ha, dha, hb, dhb, zz, omega, eta_only=True, tail=tail)
            out = -(1 / (zz * (1 - eta))) * (1 + u_d_eta / (1 - eta))
            out = out if times_z else out / zz
        else:
            out = subordination_slope("add", ga, ha, dha, hb, dhb, zz, omega)
            out = zz * out if times_z else out
        bad, cv = ~np.isfinite(out), law.curve()
        if bad.any() and cv is not None:
            gb = law._physical(zz[bad])
            ok = cv.slope_trusted(gb, zz[bad])
            out[np.flatnonzero(bad)[ok]] = cv.derivative(gb[ok], zz[bad][ok], times_z=times_z)
            bad = ~np.isfinite(out)
    if bad.any():
        raise NumericalError(f"{'z g' if times_z else 'g'}' of {law!r} is not finite in float64 at z = "
                             f"{complex(np.where(flip, np.conj(zz), zz)[bad][0])!r}"
                             + ("" if times_z else " (z g', with times_z=True, may be)"))
    return np.where(flip, np.conj(out), out).reshape(z.shape)


def axis_height(law, x):
    """The height ``y`` at which a real point ``x`` is solved (subordination
    is a strict contraction only off the axis): ``1e-12 (1 + R)``, for a
    law of radius ``R``.  A product of positive laws spreads its spectrum
    over decades towards 0 (a power law of ``10^6`` atoms with exponent 1.5
    times Marchenko-Pastur reaches ``5e-10``), so there it is ``1e-10 |x|``
    where lower, down to ``1e-24 (1 + R)`` with a curve (whose roots take
    over below, :func:`~freeprob.laws._curve.nearest_root`), ``1e-300 (1 +
    R)`` without (``rho ~ x^-1/2`` was 3e-4 of itself at ``x = 1e-30``): the
    Poisson kernel at ``y`` blurs the density by ``1e-10`` relative at every
    scale, where ``1e-12 (1 + R)`` was 1% of ``x = 5e-10``.  Not lower than
    ``1e-10 |x|``: next to an edge the fixed point turns neutral, and at
    ``1e-12 |x|`` subordination stalled at the edges of the clusters of that
    law near ``x = 7e-3``."""
    scale = 1 + law._numeric_radius()
    x = np.abs(np.asarray(x, dtype=float))
    if law._kind == "mul" and law.positive_by_construction:
        return np.clip(1e-10 * x, (1e-300 if law._numeric_only() else 1e-24) * scale, 1e-12 * scale)
    return np.full(x.shape, 1e-12 * scale)


def operand_funs(law):
    """``(ga, ha, dha, hb, dhb, tail)`` for the subordination of the
    convolved ``law`` (:func:`gfuns` of its operands; ``tail`` None, or the
    explicit map of :func:`mul_plan`)."""
    return _operand_funs_cached(law)


@cached(maxsize=128)
def _operand_funs_cached(law):
    plan = mul_plan(law) if law._kind == "mul" else None
    a, b = law._operands() if plan is None else plan[:2]
    ga, ha, dha = gfuns(a)
    _, hb, dhb = gfuns(b)
    return ga, ha, dha, hb, dhb, None if plan is None else plan[2]


_ETA = sp.Dummy("eta")


def _leaves(law):
    """The factors of a free product, nested products flattened."""
    if getattr(law, "_kind", None) != "mul":
        return [law]
    return [leaf for op in law._operands() for leaf in _leaves(op)]


def _inverse_s(law):
    """``P(eta) = 1/S(eta/(1 - eta))`` [C9] when ``1/S`` is a polynomial with
    numeric coefficients (Marchenko-Pastur, a scaled identity, their
    scalings), else None."""
    t = sp.Dummy("t")
    try:
        s = law._s_closed(t)
    except (NoClosedFormError, TransformNotDefinedError):
        return None
    if s is None:
        return None
    inv = sp.cancel(1 / s)
    if inv.free_symbols - {t} or not inv.is_polynomial(t):
        return None
    return sp.cancel(inv.subs(t, _ETA / (1 - _ETA)))


def mul_plan(law):
    r"""``(a, b, tail)`` for a free product whose flattened factors all have
    a polynomial ``1/S`` [C9] but one, ``a`` (the factor solved by
    subordination); ``b`` is the product of the others and ``tail`` the
    compiled ``eta -> (P, P')`` with ``P(eta) = prod_j 1/S_j(eta/(1 - eta))``
    (:func:`free_multiplicative`).  None otherwise (the generic map).

    A nested product such as ``MP boxtimes (MP boxtimes Discrete)`` then
    costs one scalar fixed point on the atoms, where the generic map solved
    the inner product's own subordination at every outer step.

    >>> import freeprob
    >>> law = freeprob.free_mul(freeprob.MarchenkoPastur(0.5), freeprob.free_mul(
    ...     freeprob.MarchenkoPastur(0.3), freeprob.PowerLaw(1.2, 30)))
    >>> mul_plan(law)[0]
    PowerLaw(alpha=1.20000000000000, n=30)
    """
    return _mul_plan_cached(law)


@cached(maxsize=128)
def _mul_plan_cached(law):
    leaves = _leaves(law)
    polys = [_inverse_s(leaf) for leaf in leaves]
    rest = [leaf for leaf, p in zip(leaves, polys) if p is None]
    if len(rest) != 1 or len(leaves) < 2:
        return None
    explicit = [leaf for leaf, p in zip(leaves, polys) if p is not None]
    b = explicit[0]
    for leaf in explicit[1:]:
        b = operation("mul")(b, leaf)
    poly = sp.cancel(sp.Mul(*[p for p in polys if p is not None]))
    fn = compile_expr((poly, sp.diff(poly, _ETA)), (_ETA,), dtype=complex)
    return rest[0], b, lambda eta: fn(np.asarray(eta, dtype=complex), finite=False)


def law_range(law):
    return law._numeric_hull()


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
        def fb(w):
            # an outer map that overflowed (1/v at v = 0) hands over inf or
            # nan: refused here, typed (the caller may continue on a curve)
            if not np.all(np.isfinite(w)):
                raise ConvergenceError(f"subordination reached a non-finite point of {law!r} (an overflow of "
                                       "the outer map, next to 0 or infinity)")
            return law._stieltjes_fallback(w)

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


_E, _DE, _U = sp.symbols("eta deta u")


@cached(maxsize=8)
def _df_from_eta(kind: str):
    """``kind`` in terms of ``eta = eta(u)``, ``deta = u eta'(u)`` at
    ``u = 1/z = -1/lam``, derived from [C6] with ``g(z) = u/(1 - eta(u))``
    (multiplicative subordination, :mod:`freeprob.laws._subordination`)."""
    lam = C.lam
    ef = sp.Function("eta")
    g = (1 / C.z) / (1 - ef(1 / C.z))
    df1 = C.df1_from_stieltjes(g, C.z, lam)
    df2 = C.df2_from_df1(df1, lam)
    expr = {"df1": df1, "df2": df2, "cdf1": 1 - df1, "cdf2": 1 - df2}[kind]
    expr = expr.replace(lambda e: isinstance(e, sp.Subs) and e.expr.has(ef), lambda e: _DE / _U)
    expr = sp.factor(sp.together(expr.subs(ef(-1 / lam), _E).subs(lam, -1 / _U)))
    if expr.has(ef) or expr.free_symbols - {_E, _DE, _U}:
        raise AssertionError(f"the {kind} form in eta did not reduce: {expr}")
    return compile_expr(expr, (_E, _DE, _U), dtype=complex)


def eta_values(law, kind: str, lam, *, with_df1: bool = False):
    """``kind`` at ``lam > 0`` for a free product without a curve, from the
    multiplicative subordination's ``eta(u)`` and its exact slope at
    ``u = -1/lam`` (no ``g``, no ``g'``: both blow up as ``lam -> 0`` next to an
    atom at 0, while ``eta`` tends to ``1 - 1/w0`` and ``u eta' -> 0``); real
    values certified.

    >>> import freeprob, numpy as np
    >>> law = freeprob.free_mul(freeprob.MarchenkoPastur(2), freeprob.PowerLaw(1.5, 20))
    >>> float(eta_values(law, "df1", np.array([1e-250]))[0])   # the rank 1/2
    0.5
    """
    from freeprob.errors import BranchError

    lam = np.asarray(lam, dtype=float)
    u = -1 / lam.ravel()
    ga, ha, dha, hb, dhb, tail = operand_funs(law)
    _, omega = law._subordinate_from(1 / u + 0j, None)
    eta, deta = subordination_slope("mul", ga, ha, dha, hb, dhb, 1 / u + 0j, omega, eta_only=True, tail=tail)
    vals = np.asarray(_df_from_eta(kind)(eta, deta, u + 0j))
    if np.any(np.abs(vals.imag) > 1e-9 * (np.abs(vals.real) + 1e-300)):
        raise BranchError(f"{kind} left the real axis on the negative axis of {law!r}")
    # certified against the bound df1(lam) < 1 - w0 (the rank): when both
    # operands carry an atom at 0 the fixed point turns neutral as lam -> 0
    # and the iteration can stop short of it, far above the rank
    df1 = np.asarray(_df_from_eta("df1")(eta, deta, u + 0j)).real
    rank = 1 - float(sum(m for loc, m in law.atoms() if loc == 0))
    bad = np.flatnonzero(df1 > rank * (1 + 1e-12))
    if bad.size:
        raise ConvergenceError(f"multiplicative subordination stalled at lam = {lam.ravel()[bad[0]]:.3g} for "
                               f"{law!r}: df1 = {df1[bad[0]]!r} exceeds the rank {rank!r}")
    if with_df1:
        return vals.real.reshape(lam.shape), df1.reshape(lam.shape)
    return vals.real.reshape(lam.shape)
