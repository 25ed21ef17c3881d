r"""``kappa_F``: the inverse of ``df1`` of anisotropic feature weights (private).

Anisotropic weights ``F = Sigma_F^(1/2) G`` enter the random-feature maps
through ``kappa_F(t)``, the solution of ``df1_{Sigma_F}(kappa_F) = t`` (the
``N``-normalized ``df1`` [C6]) with ``t = df1(kappa_2)/psi``, and its slope
``kappa_F' = 1/df1_F'(kappa_F) = -kappa_F/(df1_F - df2_F)``.  ``df1_F``
decreases from ``rank Sigma_F`` to 0, so ``kappa_F = 0`` at and beyond ``t =
rank Sigma_F`` (the width bottleneck).

* :func:`kappa_f`: float64 at many points (a cached table, Hermite starts,
  certified Newton polish, the bracketed solver for the rest);
* :func:`kappa_f_mp`: one point in mpmath to ``dps`` digits, for the certified
  ridgeless limits.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ConvergenceError, ParameterError
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.solve import hermite, invert_increasing, polish

__all__ = ["kappa_f", "kappa_f_mp", "product_slope"]

#: the lower end of the brackets (a positive stand-in for 0)
_TINY = 1e-250


def kappa_f(law, t, *, rtol=1e-15, probe=False, df2=False):
    """``(kappa_F(t), kappa_F'(t))``: the inverse of ``df1`` of the feature
    covariance (``N``-normalized) and its slope ``-kappa_F/(df1_F - df2_F)``;
    ``kappa_F = 0`` at and beyond ``t = rank Sigma_F`` (the bottleneck).
    With ``probe`` (a solver's probe, where the slope only enters a Newton
    derivative) the slope of a polished point is the one at its last Newton
    start, ``~1e-8`` relative from the exact one, which saves a pass.  With
    ``df2`` (not a probe), ``df2_F(kappa_F)`` from the slope's pass as a
    third value (for :func:`product_slope`).

    A cached table of ``df1_F`` on a log grid (for many points, or any
    number when ``Sigma_F`` is a finite spectrum) gives a cubic Hermite
    start in ``(log t, log kappa)`` good to about ``1e-7``; one or two
    Newton steps polish it (:func:`~freeprob.numeric.solve.polish`), and
    points they do not certify go to the bracketed
    :func:`~freeprob.numeric.solve.invert_increasing`.

    >>> import freeprob
    >>> k, slope = kappa_f(freeprob.Discrete([1, 3]), [0.5, 1.0])
    >>> round(float(k[0]), 12), float(k[1])   # (1/(1 + k) + 3/(3 + k))/2 = 1/2 at k = sqrt(3)
    (1.732050807569, 0.0)
    """
    if probe and df2:
        raise ParameterError("df2", df2, "False for a probe", "a probe's slope comes without df2_F")
    t = np.asarray(t, dtype=float)
    rank = law._trace_rank()
    kf = np.zeros(t.size)
    inside = np.flatnonzero(t < rank * (1 - 1e-15))
    if inside.size:
        tt = t[inside]
        m1 = law._trace_mean()

        def fmap(k, idx):  # -df1_F increases [C6]
            d1, slope = law.df1_with_slope(k)
            return -d1, -slope

        est = np.full(tt.size, np.nan)
        est_slope = np.full(tt.size, np.nan)
        # the table costs 1200 evaluations of df1_F once per law: worth it for
        # a sweep, or for every call when the law's means are cheap sums (the
        # kappa_2 solve probes one point at a time before its own table)
        table = _df1_table(law) if (tt.size >= 16 or law.finite_spectrum is not None) else None
        if table is not None:
            xs, ys, ms = table
            lt = np.log(tt)
            ok = (lt > xs[0]) & (lt < xs[-1])
            est[ok] = np.exp(hermite(xs, ys, ms, lt[ok]))
            sel = np.flatnonzero(ok)
            if sel.size:
                new, good, sl = polish(lambda k, idx: fmap(k, sel[idx]), -tt[sel], est[sel], 0.0, rtol=rtol,
                                       steps=2, with_slope=True)
                est[sel] = np.where(good, new, np.nan)
                est_slope[sel] = np.where(good, -sl, np.nan)
        rest = np.flatnonzero(~np.isfinite(est))
        if rest.size:
            hi = m1 / tt[rest] * (1 + 1e-12)  # df1_F(k) <= m1/k
            est[rest] = invert_increasing(lambda k, idx: fmap(k, rest[idx]), -tt[rest], np.full(rest.size, _TINY),
                                          hi, rtol=rtol, ftol=4e-16 * tt[rest],
                                          what="kappa_F (df1_{Sigma_F}(kappa_F) = t)")
        kf[inside] = est
    d1_slope = np.full(t.size, np.nan)
    if probe and inside.size:
        d1_slope[inside] = est_slope
    again = np.flatnonzero(~np.isfinite(d1_slope))
    d2f = np.full(t.size, np.nan)
    if again.size:
        d1_slope[again], d2f[again] = law.df1_with_slope(np.maximum(kf[again], _TINY), df2=True)[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(kf > 0, 1 / d1_slope, -np.inf)  # kappa_F' = 1/df1_F'(kappa_F)
    return (kf, slope, d2f) if df2 else (kf, slope)


def product_slope(law, kf, slope, df2=None):
    """``(t kappa_F)' = kappa_F + t kappa_F' = kappa_F' df2_F(kappa_F)`` (from
    ``kappa_F' = -kappa_F/(df1_F - df2_F)`` [C6]): without the cancellation
    of ``kappa_F ~ 1/t`` against ``t kappa_F'`` as ``t -> 0``; NaN at the
    bottleneck ``kappa_F = 0``, where the far-field forms that take it are
    not used.

    Beyond ``kappa_F = 1e100 m_2/m_1`` (moments of ``Sigma_F``) it is the
    limit ``-m_2/m_1``: ``t kappa_F = m_1 - (m_2/m_1) t + O(t^2)`` with
    ``t ~ m_1/kappa_F``, so the rest is of order ``1e-100`` of it (times
    the spectrum's top over ``m_2/m_1``), while ``df2_F ~ m_2/kappa_F^2``
    underflows and ``kappa_F' ~ -kappa_F/t`` overflows from ``kappa_F ~
    1e154``.  ``df2`` (optional) holds ``df2_F`` at ``kf`` where it is positive.

    >>> import freeprob, numpy as np
    >>> law = freeprob.Discrete([1, 3])
    >>> k, s = kappa_f(law, np.array([1e-6]))
    >>> bool(abs(product_slope(law, k, s)[0] / (k[0] + 1e-6 * s[0]) - 1) < 1e-9)
    True
    """
    kf, slope = np.asarray(kf, dtype=float), np.asarray(slope, dtype=float)
    out = np.full(kf.shape, np.nan)
    pos = kf > 0
    m1 = law._trace_mean()
    # m_2/m_1 >= m_1: the moments are computed only where the limit may be needed
    far = pos & (kf > 1e100 * _second_moment(law) / m1) if np.any(kf > 1e100 * m1) else np.zeros(kf.shape, bool)
    near = pos & ~far
    d2 = np.real(law.df2_numeric(kf[near])) if df2 is None else np.asarray(df2, dtype=float)[near]
    out[near] = slope[near] * d2
    out[far] = -_second_moment(law) / m1
    return out


@cached(maxsize=16)
def _second_moment(law) -> float:
    """``m_2 = tr Sigma_F^2`` (normalized) as a float."""
    return float(law.moments(2)[1])


@cached(maxsize=16)
def _df1_table(law):
    """``(log t, log kappa, d log kappa/d log t)`` on a log grid of ``kappa``
    where ``df1`` decreases strictly and ``df1 - df2`` is resolved."""
    m1 = law._trace_mean()
    k = np.geomspace(m1 * 1e-14, m1 * 1e10, 1200 if law.finite_spectrum is None else 4800)
    d1, slope = law.df1_with_slope(k)
    good = (-k * slope > 1e-10 * d1) & (d1 > 0)
    k, d1, slope = k[good], d1[good], slope[good]
    if k.size < 4 or np.any(np.diff(d1) >= 0):
        return None
    # d log kappa/d log t at t = df1(kappa): df1/(kappa df1')
    xs, ys, ms = np.log(d1[::-1]), np.log(k[::-1]), (d1 / (k * slope))[::-1]
    return xs, ys, ms


def kappa_f_mp(law, t, dps: int):
    """``(kappa_F(t), kappa_F'(t))`` in mpmath with ``dps`` digits at one point
    ``t < rank Sigma_F`` (an mpmath number): Newton on ``df1_F`` evaluated at
    that precision, from the float64 value (or, where ``t`` is within
    rounding of the rank and float64 gives 0, from the tangent of ``df1_F``
    at a tiny ``kappa``); quadratic convergence takes 3-6 steps to a step of
    ``10^-(dps - 5)`` relative, or to a residual ``|df1_F - t|`` of
    ``10^-(dps - 5) t``, the rounding of ``t`` itself (else
    :class:`~freeprob.errors.ConvergenceError`).  The second test matters
    where ``t`` is next to the rank: there ``kappa_F`` is small and its
    condition number ``t/(kappa_F |df1_F'|)`` large (``1e12`` at
    ``t = 1 - 6.5e-13``), so the last Newton steps hop between neighbours
    of the root ``1e-101`` apart relative at 112 digits, the rounding of
    ``df1_F`` amplified, and never reach ``1e-107``.

    >>> import mpmath, freeprob
    >>> k, dk = kappa_f_mp(freeprob.Discrete([1, 3]), mpmath.mpf(1) / 2, 30)
    >>> mpmath.nstr(k, 20)       # (1/(1 + k) + 3/(3 + k))/2 = 1/2 at k = sqrt(3)
    '1.7320508075688772935'
    """
    import mpmath

    def dfs(k):
        return law.df1_numeric(k, dps=dps)[()], law.df2_numeric(k, dps=dps)[()]

    def slope(d1, d2, k):  # df1' from df1, df2 [C6], the conventions' one formula
        return _slope_mp()(k, d1, d2, dps=dps)[()]

    with mpmath.workdps(dps):
        k = mpmath.mpf(float(kappa_f(law, np.array([float(t)]))[0][0]))
        if not k > 0:
            # t within rounding of rank Sigma_F (the ridgeless double limit):
            # the tangent at a tiny kappa, df1_F = rank - kappa <1/x> + ...
            ks = mpmath.mpf(law._trace_mean()) * mpmath.mpf(10) ** (-dps // 2)
            d1, d2 = dfs(ks)
            k = ks - (d1 - t) / slope(d1, d2, ks)
            if not k > 0:
                raise ConvergenceError(f"kappa_F at t = {mpmath.nstr(t, 17)}: t is not below rank Sigma_F")
        tol = mpmath.mpf(10) ** (5 - dps)
        for _ in range(12):
            d1, d2 = dfs(k)
            if abs(d1 - t) <= tol * abs(t):  # residual at rounding: k is as exact as t allows
                return k, 1 / slope(d1, d2, k)
            step = (d1 - t) / slope(d1, d2, k)
            k -= step
            if not k > 0:  # df1_F is convex: from a start this close, Newton does not leave (0, oo)
                raise ConvergenceError(f"kappa_F at t = {mpmath.nstr(t, 17)}: a Newton step left (0, oo)")
            if abs(step) <= k * tol:
                d1, d2 = dfs(k)
                return k, 1 / slope(d1, d2, k)  # kappa_F' = 1/df1_F'(kappa_F)
    raise ConvergenceError(f"kappa_F at t = {mpmath.nstr(t, 17)} did not converge in mpmath ({dps} digits)")


_D1, _D2 = sp.symbols("d_1 d_2")


@cached(maxsize=1)
def _slope_mp():
    """``d df1/d lam`` from ``df1``, ``df2`` [C6] for mpmath arguments."""
    return compile_expr(C.df1_slope_from_df2(_D1, _D2, C.lam), (C.lam, _D1, _D2), backend="mpmath")
