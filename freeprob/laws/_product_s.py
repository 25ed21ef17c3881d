r"""Degrees of freedom of a free product from those of its operands [C6], [C9], [C10], [C17].

For laws on ``[0, oo)`` the S-transform multiplies: ``S_ab = S_a S_b`` [C9].
Read off each law's own ridge at a common value ``t`` of the degrees of
freedom [C17], ``S(t) = (1 - t)/(t lam(t))`` with ``df1(lam(t)) = t``, so the
product reaches ``df1 = t`` at

.. math:: \lambda(t) = \frac{t}{1 - t}\,\lambda_a(t)\,\lambda_b(t),

where ``lam_i(t)`` inverts operand ``i``'s ``df1`` (derived below from
:func:`~freeprob.conventions.s_from_renormalized_ridge`, not typed).  No
``g``, no ``eta``, no fixed point: two monotone inversions of certified
maps.  In the complement ``c = 1 - t`` (the variable the operands resolve
near their rank), with ``x`` the operand evaluated in the outer loop and
``y`` the other:

* the outer unknown is ``lam_x``; ``c = 1 - df1_x(lam_x)`` is explicit,
  ``lam_y`` solves ``1 - df1_y(lam_y) = c`` (inner bracketed solve), and
  ``log lam`` increases with ``lam_x`` (bracketed solve on it);
* ``d log lam/dc = d_c log(t/(1 - t)) + 1/Delta_x + 1/Delta_y`` with
  ``Delta_i = df1_i - df2_i`` at ``lam_i`` (``d log lam_i/dc``, [C6]), and
  ``df2 = t + (dt/dc)/(d log lam/dc)`` ([C6]: ``df2 = df1 + lam d df1/d lam``);
  the forms take ``rho_i = Delta_i/c``, of order 1 where ``c`` and the
  ``Delta_i`` vanish together (a full-rank product as ``lam -> 0``).

As ``lam -> 0``, ``t`` tends to the product's rank ``min(r_a, r_b)`` while
the operand of smaller rank has ``lam_i -> 0``: both stay certified (the
operands' complements carry their atoms at 0 exactly), where the
subordination fixed point turns neutral and stalls.  Accuracy: ``df1``,
``df2`` to about ``eps`` absolute, at any ``lam > 0``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ConvergenceError, NumericalError
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.solve import expand_upper, invert_increasing

__all__ = ["at_rank", "curveless_complements", "curveless_mp", "curveless_values", "product_df_mp",
           "product_df_values"]

_C, _LX, _LY, _DX, _DY = sp.symbols("c lam_x lam_y Delta_x Delta_y", positive=True)
#: the forms take rho_i = Delta_i/c (of order 1 where c and Delta_i ~ lam
#: underflow together: a full-rank product at lam = 1e-300)
_RX, _RY = sp.symbols("rho_x rho_y", positive=True)
#: the smallest ridge an operand is asked for: the smallest normal float
#: (times the operand's radius when above 1); a full-rank product at ``lam``
#: needs operand ridges of order ``lam`` (1e-300 relative had left ``1 - df1``
#: at that floor: 5e4 times too large at ``lam = 1e-305``)
_TINY = float(np.finfo(float).tiny)
#: ridges below this fraction of the spectral radius are next to the rank:
#: the S route, without ``g`` or ``eta`` (see :func:`curveless_values`)
NEAR_RANK = 1e-8


@cached(maxsize=1)
def _derived():
    """``(log lam, d log lam/d lam_x, {kind: expr})`` of the product in ``(c,
    lam_x, lam_y, rho_x, rho_y)`` for the kinds ``df1``, ``df2``, ``cdf1``,
    ``cdf2``, derived from [C17] and [C6]: put over a common denominator, so
    that ``Delta_x -> 0`` (the outer ridge at 0) leaves no ``1/Delta``, and
    the complements without a ``1 -``."""
    t, lam = 1 - _C, sp.Symbol("lam", positive=True)
    s = C.s_from_renormalized_ridge
    (lam_t,) = sp.solve(sp.Eq(s(t, lam), s(t, _LX) * s(t, _LY)), lam)
    # d log lam_i/dc = 1/Delta_i: c = 1 - df1_i(lam_i), d df1_i/d lam = -Delta_i/lam [C6]
    dlog = sp.diff(sp.log(lam_t.subs({_LX: 1, _LY: 1})), _C) + 1 / _DX + 1 / _DY
    scaled = {_DX: _RX * _C, _DY: _RY * _C}
    slope = sp.factor(sp.together((dlog * _DX / _LX).subs(scaled)))          # dc/d lam_x = Delta_x/lam_x
    df2 = (t + sp.diff(t, _C) / dlog).subs(scaled)
    kinds = {"df1": t, "df2": sp.factor(sp.together(df2)), "cdf1": sp.expand(1 - t),
             "cdf2": sp.factor(sp.together(sp.expand(1 - df2)))}
    return sp.expand_log(sp.log(lam_t), force=True), slope, kinds


@cached(maxsize=2)
def _forms(backend: str = "numpy"):
    """:func:`_derived` compiled (float, or ``backend="mpmath"``)."""
    args = (_C, _LX, _LY, _RX, _RY)
    opts = {"dtype": float} if backend == "numpy" else {"backend": backend}
    log_lam, slope, kinds = _derived()
    return (compile_expr(log_lam, args, **opts), compile_expr(slope, args, **opts),
            {k: compile_expr(v, args, **opts) for k, v in kinds.items()})


def _complement(law, lam):
    """``(1 - df1, df1 - df2)`` of an operand at ``lam > 0`` [C6], each
    without a difference of two numbers near 1."""
    c1, c2 = law._complements_numeric(lam)
    return c1, c2 - c1


@cached(maxsize=32)
def _closed_inverse(law):
    """``lam(c)`` and ``Delta(c) = df1 - df2`` at ``df1 = 1 - c`` of a law with
    a closed-form S-transform [C10], from [C17] (``S(t) = (1 - t)/(t lam)``)
    and ``d log lam/dc = 1/Delta`` [C6]; None without one."""
    from freeprob.errors import FreeprobError

    t = sp.Symbol("t")
    try:
        st = law.s_transform(t, convention="df", method="closed")
    except FreeprobError:
        return None
    if st is None or st.free_symbols - {t}:
        return None
    lam = sp.Symbol("lam", positive=True)
    (lam_t,) = sp.solve(sp.Eq(C.s_from_renormalized_ridge(t, lam), st), lam)
    lam_c = sp.cancel(lam_t.subs(t, 1 - _C))
    delta = sp.cancel(1 / sp.diff(sp.log(lam_c), _C))
    return compile_expr(lam_c, (_C,), dtype=float), compile_expr(delta, (_C,), dtype=float)


def _inverse(law, c, scale, warm=None):
    """``lam`` with ``1 - df1(lam) = c`` (``c`` above the law's mass at 0),
    and ``Delta = df1 - df2`` there: explicit for a closed-form S-transform,
    else a bracketed solve in ``lam`` (from ``warm``, a nearby solution)."""
    closed = _closed_inverse(law)
    if closed is not None:
        return closed[0](c), closed[1](c)

    def fmap(k, idx):
        c1, delta = _complement(law, k)
        return c1, delta / k                   # d(1 - df1)/d lam = (df1 - df2)/lam [C6]

    lo = np.full(c.shape, _TINY * max(scale, 1.0))
    first = np.full(c.shape, scale) if warm is None else warm
    hi = expand_upper(fmap, c, first, what="an operand's ridge")
    k = invert_increasing(fmap, c, lo, hi, what="an operand's ridge", start=None if warm is None else first)
    return k, _complement(law, k)[1]


def product_df_values(law, kinds, lam):
    """``{kind: values}`` for the ``kinds`` among ``"df1"``, ``"df2"``,
    ``"cdf1"``, ``"cdf2"`` (a string: that kind's values) of the free
    product ``law`` at ``lam > 0``, by its operands' inverse ``df1`` (see
    the module).

    >>> import freeprob, numpy as np
    >>> law = freeprob.free_mul(freeprob.MarchenkoPastur(3), freeprob.PowerLaw(1.2, 50))
    >>> round(float(product_df_values(law, "df1", np.array([1e-300]))[0]), 15)   # the rank 1/3
    0.333333333333333
    """
    if isinstance(kinds, str):
        return product_df_values(law, (kinds,), lam)[kinds]
    vals, _ = _solve(law, kinds, lam)
    return vals


def _roles(law):
    """``(x, y)``: the outer unknown is the ridge of the operand with the
    larger mass at 0 (as lam -> 0 that ridge -> 0 and resolves lam, while
    ``c``, its complement, tends to its mass exactly); the other is inverted
    at ``c`` (explicit with a closed-form S-transform, else warm-started
    solves); a tie goes to the operand without a closed form outside."""
    a, b = law._operands()
    wa, wb = float(a._mass_at_zero()), float(b._mass_at_zero())
    if wa != wb:
        return (a, b) if wa > wb else (b, a)
    return (a, b) if _closed_inverse(b) is not None or _closed_inverse(a) is None else (b, a)


def _solve(law, kinds, lam):
    """``({kind: values}, (lam_x, lam_y))`` at float ``lam`` (see :func:`product_df_values`)."""
    lam = np.asarray(lam, dtype=float)
    x, y = _roles(law)
    wa, wb = float(x._mass_at_zero()), float(y._mass_at_zero())
    sx = max(float(x._numeric_radius()), 1e-300)
    sy = max(float(y._numeric_radius()), 1e-300)
    log_lam, slope, forms = _forms()
    flat = lam.ravel()
    warm = np.full(flat.shape, np.nan)

    def state(kx, idx):
        cx, dx = _complement(x, kx)
        w = warm[idx]
        ly, dy = _inverse(y, cx, sy, None if np.isnan(w).any() else w)
        warm[idx] = ly
        return cx, dx, ly, dy

    def fmap(kx, idx):
        # a probe may sit where the inner ridge is 0 in floats (equal masses
        # at 0: c rounds to both): log lam = -oo there, below any target,
        # which the bracket handles; the solution itself is certified below
        cx, dx, ly, dy = state(kx, idx)
        return (log_lam(cx, kx, ly, dx / cx, dy / cx, finite=False),
                slope(cx, kx, ly, dx / cx, dy / cx, finite=False))

    lo = np.full(flat.shape, _TINY * max(sx, 1.0))
    target = np.log(flat)
    every = np.arange(flat.size)
    # a start from a few Newton steps in log lam_x (log lam ~ log lam_x at
    # both ends), steps capped at a factor e^4; the bracketed solve follows
    kx = np.clip(flat, lo, 1e300)
    for _ in range(8):
        f, df = fmap(kx, every)
        if np.all(np.abs(f - target) < 1e-4):
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            step = -(f - target) / (df * kx)
        step = np.where(np.isfinite(step), step, np.where(f < target, 4.0, -4.0))
        kx = np.clip(kx * np.exp(np.clip(step, -4.0, 4.0)), lo * 2, 1e300)
    hi = expand_upper(lambda k, idx: fmap(k, every[idx]), target, kx * (1 + 1e-9), what="a product's ridge",
                      accelerate=True)
    kx = invert_increasing(fmap, target, lo, hi, what="a product's ridge", start=kx)
    cx, dx, ly, dy = state(kx, every)
    args = (cx, kx, ly, dx / cx, dy / cx)
    floor = (kx <= lo * (1 + 1e-9)) & (log_lam(*args, finite=False) > target + 1e-9 * np.abs(target))
    if floor.any() and any(k.startswith("c") for k in kinds):
        # the bracket's floor holds a point whose operand ridge lies below the
        # normal floats (a full-rank product at lam ~ 1e-310): its complements
        # are refused, not clamped (df1 and df2 there are 1 - c with c below
        # their rounding, exact)
        raise NumericalError(f"the S-transform route of {law!r} at lam = {float(flat[floor][0])!r} needs an "
                             "operand ridge below the normal float64 range")
    vals = {k: np.asarray(forms[k](*args), dtype=float).reshape(lam.shape) for k in kinds}
    rank = 1 - max(wa, wb)
    d1 = forms["df1"](*args)
    if np.any(d1 > rank * (1 + 1e-12)) or not all(np.all(np.isfinite(v)) for v in vals.values()):
        raise ConvergenceError(f"the S-transform route of {law!r} left [0, rank] at lam = {flat[0]!r}")
    return vals, (kx.reshape(lam.shape), ly.reshape(lam.shape))


def product_df_mp(law, kind: str, lam, dps: int):
    """``kind`` (``"df1"`` or ``"df2"``) of the free product ``law`` at one
    mpmath point ``lam > 0`` to ``dps`` digits: the float solution of
    :func:`product_df_values` polished by Newton in mpmath (operands' df
    with ``dps + 40`` digits, whose differences ``df1 - df2 ~ lam`` lose
    up to 30), certified by the residual of ``log lam``; None where an
    operand has no mpmath route.

    >>> import freeprob, mpmath
    >>> law = freeprob.free_mul(freeprob.MarchenkoPastur(3), freeprob.PowerLaw(1.2, 50))
    >>> with mpmath.workdps(40):
    ...     v = product_df_mp(law, "df1", mpmath.mpf("1e-30"), 40)
    ...     mpmath.nstr((mpmath.mpf(1) / 3 - v) / mpmath.mpf("1e-30"), 12)   # the negative moment m_(-1)
    '5.45439408893'
    """
    import mpmath

    from freeprob.errors import FreeprobError

    x, y = _roles(law)
    log_lam, slope, forms = _forms("mpmath")
    work = dps + 40
    with mpmath.workdps(work):
        lam = mpmath.mpf(lam)
        start = float(lam) if float(lam) > 0 else 1e-300
        _, (kx0, ly0) = _solve(law, ("df1",), np.array([start]))
        kx, ly = mpmath.mpf(float(kx0[0])), mpmath.mpf(float(ly0[0]))

        def comp(law_i, k):
            d1 = mpmath.mpf(law_i.df1_numeric(k, dps=work)[()])
            d2 = mpmath.mpf(law_i.df2_numeric(k, dps=work)[()])
            return 1 - d1, d1 - d2

        def inner(c, k):
            # 1 - df1_y(k) = c by Newton from the float root (d/dk = Delta/k); c = 1 - df1 is known to
            # 10^-work absolute, so the step stops at 10^(5 - work) relative or the residual at 10^(5 - work)
            # absolute (MP(1) at k = 5e-24: c = 2e-12 holds 12 digits fewer than k could, and the steps stalled)
            eps = mpmath.mpf(10) ** (-work + 5)
            for _ in range(60):
                cy, dy = comp(y, k)
                step = (cy - c) * k / dy
                if not (0 < k - step):
                    raise ConvergenceError(f"an operand's ridge of {law!r} left (0, oo) in mpmath at lam = {lam}")
                k = k - step
                if abs(step) <= eps * abs(k) or abs(cy - c) <= eps:
                    return k, comp(y, k)[1]
            raise ConvergenceError(f"an operand's ridge of {law!r} did not converge in mpmath at lam = {lam}")

        tol = mpmath.mpf(10) ** (-dps - 5)
        target = mpmath.log(lam)
        try:
            for _ in range(60):
                c, dx = comp(x, kx)
                ly, dy = inner(c, ly)
                f = log_lam(c, kx, ly, dx / c, dy / c, dps=work)[()] - target
                step = f / slope(c, kx, ly, dx / c, dy / c, dps=work)[()]
                if not (0 < kx - step):
                    raise ConvergenceError(f"a Newton step of {law!r} left (0, oo) in mpmath at lam = {lam}")
                kx = kx - step
                if abs(f) <= tol:
                    break
            else:
                raise ConvergenceError(f"the mpmath polish of {law!r} did not converge at lam = {lam}")
        except ConvergenceError:
            raise
        except FreeprobError:
            return None                        # an operand without an mpmath route
        c, dx = comp(x, kx)
        ly, dy = inner(c, ly)
        val = forms[kind](c, kx, ly, dx / c, dy / c, dps=work)[()]
    with mpmath.workdps(dps):
        return +val


def curveless_values(law, kinds, lam):
    """``{kind: values}`` of a free product without a curve at ``lam > 0``:
    ``eta(u)`` and ``u eta'(u)`` of the multiplicative subordination (``g``
    and ``g'`` blow up next to an atom at 0, ``eta`` does not); within
    ``1e-6`` of the rank, where the fixed point turns neutral and its
    iteration stops short (``df1`` 4e-10 off at ``lam = 1e-12`` for
    ``PowerLaw(1.2, 1000) x MP(3)``), :func:`product_df_values`."""
    from freeprob.laws._subordination import eta_values

    shape = np.shape(lam)
    lam = np.atleast_1d(np.asarray(lam, dtype=float))
    out = {kind: np.empty(lam.shape) for kind in kinds}
    # ridges below 1e-8 of the spectral radius are next to the rank: the S
    # route directly (eta at u = -1/lam overflows there in its operands' means)
    near = lam < NEAR_RANK * max(float(law._numeric_radius()), 1e-300)
    rest = np.flatnonzero(~near)
    if rest.size:
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise"):
                for kind in kinds:
                    out[kind][rest], df1 = eta_values(law, kind, lam[rest], with_df1=True)
            rank = law._trace_rank()
            near[rest[rank - df1 < 1e-6 * rank]] = True
        except (ConvergenceError, FloatingPointError):
            near[:] = True
    if near.any():
        fix = product_df_values(law, kinds, lam[near])
        for kind in kinds:
            out[kind][near] = fix[kind]
    return {kind: v.reshape(shape) for kind, v in out.items()}


def _curveless(law):
    return law._kind == "mul" and law._numeric_only()


def curveless_df_and_complements(law, lam, default):
    """``(df1, df2, 1 - df1, 1 - df2)`` of a free product without a curve:
    next to its rank (:data:`NEAR_RANK`) all four from one S-transform solve
    (:func:`product_df_values`) instead of three; ``default(lam)`` elsewhere
    and for other laws."""
    lam = np.asarray(lam, dtype=float)
    near = lam < NEAR_RANK * max(float(law._numeric_radius()), 1e-300)
    if not _curveless(law) or not near.any():
        return default(lam)
    kinds = ("df1", "df2", "cdf1", "cdf2")
    out = [np.empty(lam.shape) for _ in kinds]
    vals = curveless_values(law, kinds, lam[near])
    for o, kind in zip(out, kinds):
        o[near] = vals[kind]
    if (~near).any():
        for o, v in zip(out, default(lam[~near])):
            o[~near] = v
    return tuple(out)


def curveless_complements(law, lam, default=None):
    """``(1 - df1, 1 - df2)`` of a free product without a curve in one pass
    (one fixed point, one S-transform solve next to the rank); the moment
    series far from the support; ``default(lam)`` for other laws."""
    from freeprob.laws._far import far_values

    if default is not None and not _curveless(law):
        return default(lam)
    lam = np.asarray(lam, dtype=float)
    far1, fv1 = far_values(law, "cdf1", lam)
    far2, fv2 = far_values(law, "cdf2", lam)
    far = far1 & far2
    c1, c2 = np.empty(lam.shape), np.empty(lam.shape)
    if far.any():
        c1[far], c2[far] = fv1[far], fv2[far]
    if (~far).any():
        out = curveless_values(law, ("cdf1", "cdf2"), lam[~far])
        c1[~far], c2[~far] = out["cdf1"], out["cdf2"]
    return c1, c2


def curveless_mp(law, kind, lam, dps):
    """:func:`product_df_mp` at each point of ``lam``; None if one has no route."""
    out = [product_df_mp(law, kind, v, dps) for v in lam]
    return None if any(v is None for v in out) else out


@cached(maxsize=1)
def _g_forms():
    """``g(-lam)`` and ``z g'(z)`` at ``z = -lam`` in ``(lam, c1, c2)``, the
    complements ``c_i = 1 - df_i`` there: derived from
    :func:`~freeprob.conventions.stieltjes_from_df1` and
    :func:`~freeprob.conventions.df1_slope_from_df2` [C6]."""
    lam, z = C.lam, C.z
    c, c1, c2 = sp.Function("c"), sp.Symbol("c1"), sp.Symbol("c2")
    g = C.stieltjes_from_df1(1 - c(lam), lam, z).subs(z, -lam)       # g(-lam)
    zdg = lam * sp.diff(g, lam)                                         # z g'(z) = lam d g(-lam)/d lam
    slope = C.df1_slope_from_df2(1 - c1, 1 - c2, lam)                   # d df1/d lam
    zdg = zdg.subs(sp.Derivative(c(lam), lam), -slope).subs(c(lam), c1)
    args = (lam, c1, c2)
    return compile_expr(g.subs(c(lam), c1), args, dtype=float), compile_expr(sp.cancel(zdg), args, dtype=float)


def at_rank(law, z, route, times_z=None):
    """``g`` (``times_z=None``), or ``g'`` or ``z g'`` (``times_z`` False or
    True) of a law at ``z``: on the negative axis within :data:`NEAR_RANK`
    of ``0`` (relative to the spectral radius) for a free product without a
    curve, from the complements of its degrees of freedom (the S route of
    :func:`product_df_values`), with ``g(-lam) = -(1 - df1)/lam`` and ``z g'
    = (2 (1 - df1) - (1 - df2))/lam`` [C6]; elsewhere ``route(mask)``, the
    values at ``z[mask]``.  Subordination's ``eta(u)`` at ``u = -1/lam``
    loses the digits there: 6e-3 of ``g`` at ``lam = 1e-30`` on ``MP(1) x``
    a power law, then no convergence.  The derivative keeps the other route
    where ``2 (1 - df1) - (1 - df2) = int lam^2/(x + lam)^2`` cancels to
    below ``1e-3`` of ``1 - df1`` (a law without mass or a density that
    diverges at 0, whose ``z g'`` is of order ``lam``)."""
    shape = np.shape(z)
    z = np.asarray(z, dtype=complex).ravel()     # route(mask) takes the mask in the shape of z
    near = np.zeros(z.shape, dtype=bool)
    if law._kind == "mul" and law._numeric_only():
        near = (z.imag == 0) & (z.real < 0) & (-z.real < NEAR_RANK * max(float(law._numeric_radius()), 1e-300))
    out = np.empty(z.shape, dtype=complex)
    if not near.any():
        return route(~near.reshape(shape))
    idx, lam = np.flatnonzero(near), -z.real[near]
    c1, c2 = curveless_complements(law, lam)
    gf, zdgf = _g_forms()
    g = gf(lam, c1, c2)
    keep = np.full(lam.shape, True)
    if times_z is not None:
        with np.errstate(over="ignore"):
            zdg = zdgf(lam, c1, c2)
        # lam z g' = 2 c1 - c2 where it keeps its digits (a relative error eps c1/|lam z g'|); else the other route
        keep = np.abs(zdg * lam) >= 1e-3 * c1
    with np.errstate(over="ignore"):
        vals = g[keep] if times_z is None else zdg[keep] / (1 if times_z else -lam[keep])
    if not np.isfinite(vals).all():
        # beyond float64: g' ~ z g'/z (1e450 at lam = 1e-300 next to a diverging density)
        what = {None: "g", True: "z g'", False: "g'"}[times_z]
        raise NumericalError(f"{what} of {law!r} is not finite in float64 at z = "
                             f"{-float(lam[keep][~np.isfinite(vals)][0])!r}"
                             + (" (z g', with times_z=True, may be)" if times_z is False else ""))
    out[idx[keep]] = vals
    near[idx[~keep]] = False
    if not near.all():
        out[~near] = route(~near.reshape(shape))
    if not keep.all():
        # the other route certified: 0 < lam g^2 <= z g' = lam int dmu/(x + lam)^2 <= |g| (Cauchy-Schwarz)
        zdg = out[idx[~keep]] * (1 if times_z else -lam[~keep])
        gb = np.abs(g[~keep])
        if np.any((zdg.real < lam[~keep] * gb**2 * (1 - 1e-9)) | (zdg.real > gb * (1 + 1e-9))):
            raise NumericalError(f"z g' of {law!r} left its bounds lam g^2 <= z g' <= |g| at z = "
                                 f"{-float(lam[~keep][0])!r}: subordination's slope lost its digits there")
    return out.reshape(shape)
