r"""The numerics of :class:`~freeprob.CorrelatedRidge` (private): the
sample-side means from a law's certified evaluators and the solver of the
pair ``(kappa, nu)`` [C17], [R22].

``df1_K(nu) = q df1_Sigma(kappa) = u`` and ``lam = kappa nu u``: each map is
monotone, so every root is bracketed and found by the safeguarded Newton of
:func:`~freeprob.numeric.solve.invert_increasing`; a large sweep starts a
Newton iteration on the pair from bracketed anchors and certifies its
residuals.  The formulas themselves live in :mod:`freeprob.models.correlated`.
"""

from __future__ import annotations

import numpy as np

from freeprob.numeric.solve import expand_upper, invert_increasing

__all__ = ["sample_side", "solve_pair", "inner_nu"]


def _lower_edge(law) -> float:
    """The smallest point of the support (positive for a positive definite law)."""
    lows = [law._numeric_hull()[0]]
    if law.finite_spectrum is not None:
        vals, _ = law.finite_spectrum.numeric_atoms()
        lows.append(float(np.min(vals)))
    return float(min(lows))


_CIRCLE = 64  # nodes of the trapezoid rule on the circle (error ~ 2^-64)


def sample_side(law, nu):
    """``u = df1_K(nu)``, ``a = <1/(k + nu)>``, ``t = <k/(k + nu)^2>`` and
    ``c = <1/(k + nu)^2>`` at ``nu >= 0`` from the law's certified
    evaluators: ``a = -g(-nu)``; ``c = -g'(-nu)`` by the trapezoid rule on a
    circle of radius ``(nu + k_min)/2`` around ``-nu`` (Cauchy's formula;
    ``g`` is analytic in the disc of radius ``nu + k_min``, so the error is
    ``2^-64`` plus rounding); ``t = a - nu c`` where ``u > 1/2`` and
    ``(u - df2_K)/nu`` elsewhere (each without cancellation in its regime)."""
    nu = np.asarray(nu, dtype=float)
    u = law.df1_numeric(nu)
    a = -np.real(np.asarray(law.stieltjes_numeric(-nu.astype(complex)), dtype=complex))
    radius = 0.5 * (nu + _lower_edge(law))
    theta = 2 * np.pi * (np.arange(_CIRCLE) + 0.5) / _CIRCLE
    ring = np.exp(1j * theta)
    pts = -nu[:, None] + radius[:, None] * ring[None, :]
    gv = np.asarray(law.stieltjes_numeric(pts.ravel()), dtype=complex).reshape(pts.shape)
    c = -np.real(np.mean(gv / ring[None, :], axis=1)) / radius
    big = u <= 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        t_far = np.where(big, (u - law.df2_numeric(np.where(big, nu, 1.0))) / np.where(big, nu, 1.0), 0.0)
    t = np.where(big, t_far, a - nu * c)
    return {"u": u, "a": a, "t": t, "c": c}


def solve_pair(population, K, lam, q):
    """``(kappa, nu)`` at every ``(lam, q)`` (1-d arrays), see :meth:`freeprob.CorrelatedRidge.evaluate`.

    Up to 32 points, or when ``q`` varies: the nested bracketed solve of
    :func:`_solve_nested` at every point.  A larger sweep solves that way at
    24 anchor ridges, starts every other point from the anchors' ``log
    kappa``, ``log nu`` interpolated in ``log lam``, and runs Newton on the
    pair (:func:`_joint_newton`, one evaluation of each law per step);
    a point whose residuals are not certified falls back to the nested solve."""
    pos = lam > 0
    if np.count_nonzero(pos) <= 32 or np.ptp(q) > 0:
        return _solve_nested(population, K, lam, q)
    kappa, nu = np.zeros(lam.size), np.zeros(lam.size)
    zero = np.flatnonzero(~pos)
    if zero.size:
        kappa[zero], nu[zero] = _solve_nested(population, K, lam[zero], q[zero])
    idx = np.flatnonzero(pos)
    order = idx[np.argsort(lam[idx])]
    anchors = np.unique(order[np.linspace(0, order.size - 1, 24).round().astype(int)])
    ka, na = _solve_nested(population, K, lam[anchors], q[anchors])
    la = np.log(lam[anchors])
    rest = np.setdiff1d(idx, anchors)
    kappa[anchors], nu[anchors] = ka, na
    if rest.size:
        lr = np.log(lam[rest])
        k0 = np.exp(np.interp(lr, la, np.log(ka)))
        n0 = np.exp(np.interp(lr, la, np.log(na)))
        k1, n1, ok = _joint_newton(population, K, lam[rest], q[rest], k0, n0)
        kappa[rest], nu[rest] = k1, n1
        if not np.all(ok):
            bad = rest[~ok]
            kappa[bad], nu[bad] = _solve_nested(population, K, lam[bad], q[bad])
    return kappa, nu


def _joint_newton(population, K, lam, q, kappa, nu, *, steps=40):
    """Newton on ``(log kappa, log nu)`` for ``F1 = q df1_Sigma(kappa) - df1_K(nu)``
    and ``F2 = log(kappa nu df1_K(nu)/lam)`` from a start near the root (steps
    limited to a factor ``e`` per iteration).  Returns ``(kappa, nu, ok)``:
    ``ok`` where the last step was below ``1e-13`` relative and the residuals
    are ``|F1| <= 1e-13 df1_K`` and ``|F2| <= 1e-13``."""
    a, b = np.log(kappa), np.log(nu)
    ok = np.zeros(lam.size, dtype=bool)
    for _ in range(steps):
        k, v = np.exp(a), np.exp(b)
        d1, d2 = population.df1_numeric(k), population.df2_numeric(k)
        u, slope = K.df1_with_slope(v)
        t = -slope
        f1 = q * d1 - u
        f2 = np.log(k) + np.log(v) + np.log(u) - np.log(lam)
        j11, j12 = -q * (d1 - d2), v * t
        j21, j22 = 1.0, 1.0 - v * t / u
        det = j11 * j22 - j12 * j21
        with np.errstate(divide="ignore", invalid="ignore"):
            da = (f1 * j22 - j12 * f2) / det
            db = (j11 * f2 - j21 * f1) / det
        if not (np.all(np.isfinite(da)) and np.all(np.isfinite(db))):
            break
        a, b = a - np.clip(da, -1, 1), b - np.clip(db, -1, 1)
        ok = (np.abs(da) < 1e-13) & (np.abs(db) < 1e-13) & (np.abs(f1) <= 1e-13 * u) & (np.abs(f2) <= 1e-13)
        if np.all(ok):
            break
    return np.exp(a), np.exp(b), ok


def _solve_nested(population, K, lam, q):
    """The nested bracketed solve at every point (see :func:`_solve_branch`)."""
    rank = 1.0 - population._mass_at_zero() if population._trace_rank() != np.inf else np.inf
    kappa, nu = np.zeros(lam.size), np.zeros(lam.size)
    under = q * rank < 1
    for sel, outer_is_kappa in ((under, True), (~under, False)):
        idx = np.flatnonzero(sel)
        if idx.size == 0:
            continue
        k_i, n_i = _solve_branch(population, K, lam[idx], q[idx], outer_is_kappa)
        kappa[idx], nu[idx] = k_i, n_i
    return kappa, nu


def _root(fmap, target, start, what):
    """The root of the increasing ``fmap`` at ``target``, bracketed from a
    positive ``start`` (a warm start from the previous outer step, or 1): the
    bracket is ``[start, 2^j start]`` or ``[2^-j start, start]``, so a warm
    start close to the root makes every inner solve a few Newton steps."""
    from freeprob.numeric.solve import expand_lower

    f0, _ = fmap(start, np.arange(start.size))
    above = f0 >= target
    lo, hi = start.copy(), start.copy()
    if np.any(above):
        i = np.flatnonzero(above)
        lo[i] = expand_lower(lambda k, idx: fmap(k, i[idx]), target[i], start[i], what=what, factor=0.5)
    if np.any(~above):
        i = np.flatnonzero(~above)
        hi[i] = expand_upper(lambda k, idx: fmap(k, i[idx]), target[i], start[i], what=what)
    return invert_increasing(fmap, target, lo, hi, what=what)


def _inner_kappa(population, u, q, start=None):
    """``kappa`` with ``q df1_Sigma(kappa) = u`` (``0 < u <= q rank``; ``kappa
    = 0`` at ``u = q rank``, the interpolation threshold at ``lam = 0``)."""
    out = np.zeros(u.size)
    rank = np.inf if population._trace_rank() == np.inf else 1.0 - population._mass_at_zero()
    need = np.flatnonzero(u < q * rank)

    def fmap(k, idx):
        d1, slope = population.df1_with_slope(k)
        return -q[need[idx]] * d1, -q[need[idx]] * slope

    if need.size:
        out[need] = _root(fmap, -u[need], np.ones(need.size) if start is None else start[need], "kappa")
    return out


def inner_nu(K, u, start=None):
    """``nu`` with ``df1_K(nu) = u`` (``0 < u <= 1``; ``nu = 0`` at ``u = 1``)."""
    out = np.zeros(u.size)
    need = u < 1.0

    def fmap(v, idx):
        d1, slope = K.df1_with_slope(v)
        return -d1, -slope

    if np.any(need):
        out[need] = _root(fmap, -u[need], np.ones(int(need.sum())) if start is None else start[need], "nu")
    return out


def _solve_branch(population, K, lam, q, outer_is_kappa):
    """The outer safeguarded Newton on ``lam(x) = kappa nu u`` (increasing in
    ``x``), with ``d lam/d kappa = (u^2 - e2 q d2)/t`` and ``d lam/d nu =
    kappa (u^2 - e2 q d2)/(q (d1 - d2))`` along the constraint; each inner
    solve starts from the previous step's root at that point."""
    pos = lam > 0
    out_k, out_n = np.zeros(lam.size), np.zeros(lam.size)
    if outer_is_kappa:
        # lam = 0: kappa = 0, nu = nu_K(q rank)
        out_n[~pos] = inner_nu(K, q[~pos] * population.df1_numeric(np.zeros(int((~pos).sum()))))
    elif np.any(~pos):
        out_k[~pos] = _inner_kappa(population, np.ones(int((~pos).sum())), q[~pos])
    if not np.any(pos):
        return out_k, out_n
    lp, qp = lam[pos], q[pos]
    warm = np.ones(lp.size)  # the last inner root at each point

    def pair(x, idx):
        qq = qp[idx]
        if outer_is_kappa:
            k = x
            d1, d2 = population.df1_numeric(k), population.df2_numeric(k)
            u = qq * d1
            v = inner_nu(K, u, start=np.where(warm[idx] > 0, warm[idx], 1.0))
            warm[idx] = v
        else:
            v = x
            u = K.df1_numeric(v)
            k = _inner_kappa(population, u, qq, start=warm[idx])
            warm[idx] = k
            d1, d2 = population.df1_numeric(k), population.df2_numeric(k)
        return k, v, u, d1, d2, qq

    def fmap(x, idx):
        k, v, u, d1, d2, qq = pair(x, idx)
        _, slope = K.df1_with_slope(np.where(v > 0, v, 1e-300))
        t = -slope
        e2 = u - v * t
        gap = u**2 - e2 * qq * d2
        with np.errstate(divide="ignore", invalid="ignore"):
            deriv = gap / t if outer_is_kappa else k * gap / (qq * (d1 - d2))
        return k * v * u, deriv

    hi = expand_upper(fmap, lp, np.ones(lp.size), what="kappa" if outer_is_kappa else "nu")
    x = invert_increasing(fmap, lp, np.zeros(lp.size), hi, what="kappa" if outer_is_kappa else "nu")
    k, v, *_ = pair(x, np.arange(lp.size))
    out_k[pos], out_n[pos] = k, v
    return out_k, out_n
