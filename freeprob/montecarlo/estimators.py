r"""Estimators from sampled matrices: the thin SVD every simulation uses, GCV/KARE
from data, observable ``gamma`` and ``S``, and the standard errors of the
crossed-seed designs (jackknife, two-way random-effects ANOVA).

:func:`gcv` estimates ``E_g + sigma^2`` from training data alone [R8]:

.. math::
    \hat\kappa = \frac{1}{\mathrm{tr}_P (\hat K + \lambda)^{-1}},\qquad
    \widehat{E_g + \sigma^2} = \frac{E_{tr}}{\big(1 - \frac1P\mathrm{Tr}\,\hat\Sigma(\hat\Sigma+\lambda)^{-1}\big)^2}
    = \hat\kappa^2\,\frac1P\, y^\top(\hat K + \lambda)^{-2} y .

One thin SVD of ``X/sqrt(P)`` (the cheaper of primal and dual, pitfall P15)
serves every ridge value; the ``lam = 0`` limits are taken explicitly on both
sides of ``P = N``.
"""

from __future__ import annotations

import numpy as np

from freeprob.errors import ParameterError

__all__ = ["gcv", "thin_svd", "ridges", "gamma_s_hat", "jackknife", "mean_se", "anova", "crossed_se"]


def ridges(ridge):
    lam = np.atleast_1d(np.asarray(ridge, dtype=float))
    if lam.ndim != 1 or np.any(~np.isfinite(lam)) or np.any(lam < 0):
        raise ParameterError("ridge", ridge, "a number or 1-d array in [0, oo)")
    return lam

def gcv(X, y, ridge) -> dict:
    """GCV/KARE estimate of ``E_g + sigma^2`` and ``kappa_hat`` from data.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 100)); y = X @ (np.ones(100) / 10) + 0.5 * rng.normal(size=400)
    >>> out = gcv(X, y, [1e-2, 1.0])
    >>> sorted(out), out["gcv"].shape
    (['gcv', 'kappa_hat'], (2,))
    """
    X, y = _data(X, y)
    lam = ridges(ridge)
    p = X.shape[0]
    u, s, _ = thin_svd(X / np.sqrt(p))
    return gcv_from_svd(u, s, y, lam)

def _data(X, y):
    """``X`` (P x N) and ``y`` (P) as finite float arrays, or a ParameterError."""
    try:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError("X, y", "non-numeric data", "real arrays X of shape (P, N) and y of shape (P,)") from None
    if X.ndim != 2 or y.ndim != 1 or y.size != X.shape[0]:
        raise ParameterError("X, y", f"shapes {X.shape}, {y.shape}", "X of shape (P, N) and y of shape (P,)")
    if X.size == 0:
        raise ParameterError("X", f"shape {X.shape}", "at least one sample and one feature")
    for name, a in (("X", X), ("y", y)):
        if not np.all(np.isfinite(a)):
            raise ParameterError(name, "NaN or inf entries", "finite real numbers")
    return X, y


def gcv_from_svd(u, s, y, lam):
    p = u.shape[0]
    s2 = s * s
    c = u.T @ y
    m = s2.size
    # part of y outside the column space of X: exactly 0 when U spans R^P
    # (P <= N); rounding there would be amplified by 1/lam^2
    r2 = 0.0 if m == p else max(float(y @ y - c @ c), 0.0)
    lam_ = lam[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        # tr_P (K + lam)^-1: m eigenvalues s^2, P - m zeros
        tr_inv = (np.sum(1 / (s2 + lam_), axis=1) + (p - m) / lam) / p
        kappa_hat = np.where(lam > 0, 1 / tr_inv, 0.0 if p > m else 1 / np.mean(1 / s2))
        # kappa^2 y^T (K + lam)^-2 y / P with the ratios kappa/(s^2 + lam) and
        # kappa/lam formed first (no overflow of kappa^2 at lam ~ 1e300)
        kap = kappa_hat[:, None]
        quad = np.sum(c * c * (kap / (s2 + lam_)) ** 2, axis=1) / p
        est = quad + np.where(lam > 0, (kappa_hat / np.where(lam > 0, lam, 1.0)) ** 2 * r2 / p, 0.0)
    # lam = 0, P > N: kappa_hat ~ lam P/(P - N) and the r^2 term tends to
    # r^2 P / (P - N)^2; the column-space part vanishes
    zero = lam == 0
    if np.any(zero) and p > m:
        est = np.where(zero, r2 * p / (p - m) ** 2, est)
    return {"gcv": est, "kappa_hat": kappa_hat}

def thin_svd(a):
    """Thin SVD ``a = U diag(s) V^T`` through the smaller Gram matrix; singular
    values below ``1e-12 s_max`` are set to 0 (minimum-norm solution)."""
    p, n = a.shape
    if p >= n:
        ev, v = np.linalg.eigh(a.T @ a)
        ev, v = ev[::-1].clip(min=0), v[:, ::-1]
        s = np.sqrt(ev)
        keep = s > 1e-12 * s[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(keep[None, :], (a @ v) / np.where(keep, s, 1.0)[None, :], 0.0)
        return u, np.where(keep, s, 0.0), v.T
    ev, u = np.linalg.eigh(a @ a.T)
    ev, u = ev[::-1].clip(min=0), u[:, ::-1]
    s = np.sqrt(ev)
    keep = s > 1e-12 * s[0]
    vt = np.where(keep[:, None], (u.T @ a) / np.where(keep, s, 1.0)[:, None], 0.0)
    return u, np.where(keep, s, 0.0), vt

def gamma_s_hat(s_2, p, lam, kappa_hat, rank):
    r"""Observable ``gamma`` and ``S`` [R4], [R8]: ``S_hat = kappa_hat/lam`` and
    ``gamma_hat = 1 - 1/(d kappa_hat/d lam)`` with ``d kappa_hat/d lam =
    kappa_hat^2 tr_P (K + lam)^-2`` (``kappa_hat = 1/tr_P (K + lam)^-1``).
    At ``lam = 0``: for ``P > rank``, ``kappa_hat ~ lam P/(P - rank)`` so
    ``S = P/(P - rank)`` and ``gamma = rank/P``; otherwise ``S = oo`` and
    ``gamma = 1 - <1/s^2>^2/<1/s^4>`` over the nonzero ``s^2``."""
    m = s_2.size
    lam_ = lam[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        tr2 = (np.sum(1 / (s_2[None, :] + lam_) ** 2, axis=1) + (p - m) / lam**2) / p
        gamma = 1 - 1 / (kappa_hat**2 * tr2)
        S = kappa_hat / lam
    zero = lam == 0
    if np.any(zero):
        if p > rank:
            g0, s0 = rank / p, p / (p - rank)
        else:
            inv = 1 / s_2[s_2 > 0]
            g0, s0 = 1 - np.mean(inv) ** 2 / np.mean(inv * inv), np.inf
        gamma, S = np.where(zero, g0, gamma), np.where(zero, s0, S)
    return gamma, S

def jackknife(values, stat):
    n = values.shape[0]
    full = stat(values)
    loo = np.array([stat(np.delete(values, i, axis=0)) for i in range(n)])
    return full, np.sqrt((n - 1) / n * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))

def mean_se(arr):
    """Mean and standard error over draws; an infinite column (``S`` at
    ``lam = 0``, ``q > 1``) has mean oo and standard error 0."""
    with np.errstate(invalid="ignore"):
        mean = arr.mean(axis=0)
        se = arr.std(axis=0, ddof=1) / np.sqrt(arr.shape[0])
    return mean, np.where(np.isinf(mean), 0.0, se)

def anova(w, sigma, wbar):
    """Bias^2, Var_X, Var_F, Var_XF from cell weights ``w`` (n_x, n_f, n_lam, D)."""
    nx, nf = w.shape[:2]
    sq = (lambda a: np.sum(sigma * a * a, axis=-1)) if sigma is not None else None
    grand = w.mean(axis=(0, 1))
    rows = w.mean(axis=1)
    cols = w.mean(axis=0)
    ms_a = nf * np.sum(sq(rows - grand[None]), axis=0) / (nx - 1)
    ms_b = nx * np.sum(sq(cols - grand[None]), axis=0) / (nf - 1)
    inter = w - rows[:, None] - cols[None, :] + grand[None, None]
    ms_ab = np.sum(sq(inter), axis=(0, 1)) / ((nx - 1) * (nf - 1))
    var_x = (ms_a - ms_ab) / nf
    var_f = (ms_b - ms_ab) / nx
    var_xf = ms_ab
    bias2 = sq(grand - wbar) - var_x / nx - var_f / nf - var_xf / (nx * nf)
    return bias2, var_x, var_f, var_xf

def crossed_se(data, stat):
    """Row-plus-column jackknife standard error of ``stat(data)`` where every
    array in ``data`` has the crossed axes (n_x, n_f) first."""
    nx, nf = next(iter(data.values())).shape[:2]
    full = stat(data)
    rows = [stat({k: np.delete(v, i, axis=0) for k, v in data.items()}) for i in range(nx)]
    cols = [stat({k: np.delete(v, j, axis=1) for k, v in data.items()}) for j in range(nf)]
    var = sum((n - 1) / n * np.sum((np.array(r) - np.mean(r, axis=0)) ** 2, axis=0)
              for n, r in ((nx, rows), (nf, cols)))
    return full, np.sqrt(var)
