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

__all__ = ["gcv", "corr_gcv", "corr_gcv_from_svd", "estimate_correlation", "ridge_filter", "thin_svd", "ridges", "gamma_s_hat", "jackknife", "mean_se", "anova", "crossed_se"]


def ridges(ridge):
    """The ridge values as a 1-d float array, or a ParameterError naming ``ridge``."""
    if isinstance(ridge, (str, bytes)):
        raise ParameterError("ridge", repr(ridge)[:60], "a number or 1-d array in [0, oo)")
    try:
        lam = np.atleast_1d(np.asarray(ridge, dtype=float))
    except (TypeError, ValueError):
        raise ParameterError("ridge", repr(ridge)[:60], "a number or 1-d array in [0, oo)") from None
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

def corr_gcv(X, y, ridge, sample_correlation) -> dict:
    r"""CorrGCV: the estimate of ``E_g + sigma^2`` from training data whose
    samples are correlated by ``K`` [R22], unbiased when the label noise has
    the correlations of the data.

    With ``u = tr(hat matrix)/P = (1/P) sum_i s_i^2/(s_i^2 + lam)`` (``s_i`` the
    singular values of ``X/sqrt(P)``) and ``nu`` the root of ``df1_K(nu) =
    u``, the estimate is

    .. math::
        \mathrm{CorrGCV} = \frac{E_{tr}}{\nu^2\,\langle k/(k + \nu)^2\rangle_K},

    which is GCV, ``E_tr/(1 - u)^2``, when ``K = I``.  At ``lam = 0`` with
    ``N >= P`` (``u = 1``, ``nu = 0``) the ratio is taken in its limit
    ``<1/k> (y^T G^-2 y/P)/(tr G^-1/P)^2``, ``G = X X^T/P``.

    Parameters
    ----------
    X : array (P, N), the training inputs (rows in time order when ``K`` is a matrix)
    y : array (P,), the labels
    ridge : number or 1-d array, ``lam >= 0`` with the ``1/P`` loss
    sample_correlation : the law of ``K`` (``freeprob.AR1(rho)``, ...), or the
        ``P x P`` correlation matrix itself (its eigenvalues are used)

    Returns ``{"corr_gcv", "gcv", "nu_hat", "df1_K"}`` (arrays over ``ridge``).

    >>> import numpy as np, freeprob
    >>> rng = np.random.default_rng(0)
    >>> K = freeprob.AR1(0.5)
    >>> L = np.linalg.cholesky(K.toeplitz(400))
    >>> X = L @ rng.normal(size=(400, 100)); y = X @ (np.ones(100) / 10) + 0.5 * L @ rng.normal(size=400)
    >>> out = corr_gcv(X, y, [0.1, 1.0], K)
    >>> sorted(out), bool(np.all(out["corr_gcv"] > out["gcv"]))
    (['corr_gcv', 'df1_K', 'gcv', 'nu_hat'], True)
    """
    from freeprob.laws import Discrete, SpectralLaw

    X, y = _data(X, y)
    lam = ridges(ridge)
    p = X.shape[0]
    if isinstance(sample_correlation, SpectralLaw):
        law = sample_correlation
    else:
        try:
            kmat = np.asarray(sample_correlation, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError("sample_correlation", type(sample_correlation).__name__,
                                 "a freeprob law or a P x P correlation matrix") from None
        if kmat.shape != (p, p) or not np.all(np.isfinite(kmat)) or not np.allclose(kmat, kmat.T):
            raise ParameterError("sample_correlation", f"an array of shape {kmat.shape}",
                                 f"a finite symmetric {p} x {p} matrix")
        ev = np.linalg.eigvalsh(kmat)
        if ev[0] <= 0:
            raise ParameterError("sample_correlation", f"a matrix with smallest eigenvalue {ev[0]:.3g}",
                                 "a positive definite correlation matrix")
        law = Discrete(ev)
    u_, s, _ = thin_svd(X / np.sqrt(p))
    return corr_gcv_from_svd(u_, s, y, lam, law)


def estimate_correlation(X, *, max_lag=None):
    r"""A stationary sample correlation ``K_hat`` (``P x P`` Toeplitz) from the
    training inputs alone, for :func:`corr_gcv` when ``K`` is unknown.

    For ``X = K^{1/2} Z Sigma^{1/2}``, ``E[x_t . x_s] = tr(Sigma) K_ts``; for
    stationary ``K`` (``K_ts = c(t - s)``, ``c(0) = 1``) the lag-``tau``
    average of the row products, divided by the mean squared row norm,

    .. math::
        \hat c(\tau) = \frac{\frac{1}{P - \tau}\sum_t x_t\cdot x_{t+\tau}}{\frac1P\sum_t \Vert x_t\Vert^2},

    is consistent as ``N, P -> oo`` (each entry averages ``N (P - tau)``
    products).  Lags beyond ``max_lag`` are set to 0; by default
    ``max_lag`` is the first lag where ``|c_hat|`` falls below three times
    its noise level ``1/sqrt(N_eff (P - tau))``, with ``N_eff = (tr S)^2/tr S^2``
    the effective dimension of ``S = X^T X/P``.  The matrix is made positive
    definite by raising its eigenvalues to at least ``1e-6`` of the largest.
    This is a standard time-series estimate, stated here with its
    assumptions (stationarity, ``K_tt = 1``, rows in time order).

    >>> import numpy as np, freeprob
    >>> L = np.linalg.cholesky(freeprob.AR1(0.5).toeplitz(600))
    >>> X = L @ np.random.default_rng(1).normal(size=(600, 300))
    >>> K_hat = estimate_correlation(X)
    >>> bool(np.allclose(K_hat[0, :3], [1, 0.5, 0.25], atol=0.02))
    True
    """
    from freeprob.parameters import positive_integer

    X, _ = _data(X, np.zeros(np.shape(X)[0] if np.ndim(X) == 2 else 1))
    p, n = X.shape
    if p < 2:
        raise ParameterError("X", f"shape {X.shape}", "at least two samples (rows in time order)")
    gram = X @ X.T
    scale = np.trace(gram) / p
    if scale <= 0:
        raise ParameterError("X", "all-zero rows", "data with a nonzero variance")
    c = np.array([np.trace(gram, offset=tau) / (p - tau) for tau in range(p)]) / scale
    if max_lag is None:
        n_eff = np.trace(gram) ** 2 / np.sum(gram * gram)
        noise = 1 / np.sqrt(n_eff * (p - np.arange(p)))
        small = np.flatnonzero(np.abs(c) <= 3 * noise)
        max_lag = int(small[0]) - 1 if small.size else p - 1
    else:
        max_lag = min(int(positive_integer("max_lag", max_lag)), p - 1)
    c[max_lag + 1:] = 0.0
    c[0] = 1.0
    lag = np.abs(np.arange(p)[:, None] - np.arange(p)[None, :])
    kmat = c[lag]
    ev, vec = np.linalg.eigh(kmat)
    floor = 1e-6 * ev[-1]
    if ev[0] < floor:
        kmat = (vec * np.maximum(ev, floor)) @ vec.T
        d = np.sqrt(np.diag(kmat))
        kmat = kmat / d[:, None] / d[None, :]
    return kmat


def corr_gcv_from_svd(u_, s, y, lam, law) -> dict:
    """:func:`corr_gcv` from the thin SVD of ``X/sqrt(P)`` (``U``, ``s``) and the law of ``K``."""
    from freeprob.models._correlated_numeric import inner_nu, sample_side


    p = u_.shape[0]
    out = gcv_from_svd(u_, s, y, lam)
    s2 = s * s
    m = s2.size
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(lam > 0, np.sum(s2[None, :] / (s2[None, :] + lam[:, None]), axis=1) / p,
                     np.count_nonzero(s2 > 0) / p)
    u = np.minimum(u, 1.0)
    nu = inner_nu(law, u)
    side = sample_side(law, nu)
    c = u_.T @ y
    r2 = 0.0 if m == p else max(float(y @ y - c @ c), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # E_tr = lam^2 y^T (G + lam)^-2 y / P
        etr = (np.sum((c * c)[None, :] * (lam[:, None] / (s2[None, :] + lam[:, None])) ** 2, axis=1) + r2) / p
        est = etr / (nu**2 * side["t"])
    zero = nu == 0
    if np.any(zero):
        pos = s2 > 0
        limit = side["a"][zero] * (np.sum(c[pos] ** 2 / s2[pos] ** 2) / p) / (np.sum(1 / s2[pos]) / p) ** 2
        est[zero] = limit
    return {"corr_gcv": est, "gcv": out["gcv"], "nu_hat": nu, "df1_K": u}


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


def gcv_from_svd(u, s, y, lam, xp=np, *, c=None):
    """GCV and ``kappa_hat = 1/tr_P (K + lam)^-1`` on the ridge values ``lam``
    from the thin SVD ``(u, s)`` of ``X/sqrt(P)`` and the labels ``y``; any
    array namespace ``xp`` (:mod:`freeprob.montecarlo._xp`).  With ``c = U^T
    y`` given (:func:`project`), ``u`` may be None."""
    p = y.shape[0]
    s2 = s * s
    c = u.T @ y if c is None else c
    m = s2.shape[0]
    # part of y outside the column space of X: exactly 0 when U spans R^P
    # (P <= N); rounding there would be amplified by 1/lam^2
    r2 = 0.0 if m == p else max(float(xp.sum(y * y) - xp.sum(c * c)), 0.0)
    lam_ = lam[:, None]
    pos = lam > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        # tr_P (K + lam)^-1: m eigenvalues s^2, P - m zeros
        tr_inv = (xp.sum(1 / (s2[None, :] + lam_), axis=1) + (p - m) / lam) / p
        kappa_hat = xp.where(pos, 1 / tr_inv, 0.0 if p > m else float(1 / xp.mean(1 / s2)))
        # kappa^2 y^T (K + lam)^-2 y / P with the ratios kappa/(s^2 + lam) and
        # kappa/lam formed first (no overflow of kappa^2 at lam ~ 1e300)
        kap = kappa_hat[:, None]
        quad = xp.sum((c * c)[None, :] * (kap / (s2[None, :] + lam_)) ** 2, axis=1) / p
        est = quad + xp.where(pos, (kappa_hat / xp.where(pos, lam, 1.0)) ** 2 * r2 / p, 0.0)
    # lam = 0, P > N: kappa_hat ~ lam P/(P - N) and the r^2 term tends to
    # r^2 P / (P - N)^2; the column-space part vanishes
    zero = lam == 0
    if bool(xp.any(zero)) and p > m:
        est = xp.where(zero, r2 * p / (p - m) ** 2, est)
    return {"gcv": est, "kappa_hat": kappa_hat}


def ridge_filter(s, lam, xp=np):
    """The ridge filter ``s/(s^2 + lam)`` of singular values ``s`` (one row per
    ridge in ``lam``), 0 where ``s^2 + lam = 0``: ``w_hat(lam) = V diag(filter)
    U^T y/sqrt(P)``, the minimum-norm solution at ``lam = 0``."""
    s_2 = s * s
    den = s_2[None, :] + lam[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        filt = xp.where(den > 0, s[None, :] / xp.where(den > 0, den, 1.0), 0.0)
    return filt


def thin_svd(a, xp=np, *, need_u=True):
    """Thin SVD ``a = U diag(s) V^T`` through the smaller Gram matrix.  An
    eigenvalue of the Gram below its rounding, ``8 max(P, N) eps`` times the
    largest (the backward error of forming it and of ``eigh``), is a zero
    singular value (minimum-norm solution): an exactly rank-deficient ``a``
    (a population with zero eigenvalues) gives Gram eigenvalues of ``1e-16``
    relative, singular values of ``1e-8``, and they are not its rank.  Any
    array namespace ``xp`` with ``linalg.eigh``.  With ``need_u=False`` and
    ``P >= N``, ``U`` (a ``P x N x N`` product) is not formed and comes back
    as None: :func:`project` gives ``U^T b`` from ``V`` instead."""
    p, n = a.shape
    gram = a.T @ a if p >= n else a @ a.T
    ev, vecs = xp.linalg.eigh(gram)
    ev, vecs = xp.flip(ev), xp.flip(vecs, axis=1)
    keep = (ev > 8 * max(p, n) * float(np.finfo(float).eps) * ev[0]) & (ev > 0)
    s = xp.sqrt(xp.where(keep, ev, 0.0))
    s_safe = xp.where(keep, s, 1.0)
    if p >= n:
        if not need_u:
            return None, xp.where(keep, s, 0.0), vecs.T
        u = xp.where(keep[None, :], (a @ vecs) / s_safe[None, :], 0.0)
        return u, xp.where(keep, s, 0.0), vecs.T
    vt = xp.where(keep[:, None], (vecs.T @ a) / s_safe[:, None], 0.0)
    return vecs, xp.where(keep, s, 0.0), vt


def project(a, u, s, vt, b, xp=np):
    """``U^T b`` for the thin SVD ``a = U diag(s) V^T`` of :func:`thin_svd`:
    ``u.T @ b``, or, when ``u`` was not formed, ``diag(1/s) V^T (a^T b)`` (0 on
    the dropped singular values), ``O(P N)`` instead of the ``O(P N^2)`` of ``U``."""
    if u is not None:
        return u.T @ b
    keep = s > 0
    return xp.where(keep, (vt @ (a.T @ b)) / xp.where(keep, s, 1.0), 0.0)


def gamma_s_hat(s_2, p, lam, kappa_hat, rank, xp=np):
    r"""Observable ``gamma`` and ``S`` [R4], [R8]: ``S_hat = kappa_hat/lam`` and
    ``gamma_hat = 1 - 1/(d kappa_hat/d lam)`` with ``d kappa_hat/d lam =
    kappa_hat^2 tr_P (K + lam)^-2`` (``kappa_hat = 1/tr_P (K + lam)^-1``).
    At ``lam = 0``: for ``P > rank``, ``kappa_hat ~ lam P/(P - rank)`` so
    ``S = P/(P - rank)`` and ``gamma = rank/P``; otherwise ``S = oo`` and
    ``gamma = 1 - <1/s^2>^2/<1/s^4>`` over the nonzero ``s^2``."""
    m = s_2.shape[0]
    lam_ = lam[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        tr2 = (xp.sum(1 / (s_2[None, :] + lam_) ** 2, axis=1) + (p - m) / lam**2) / p
        gamma = 1 - 1 / (kappa_hat**2 * tr2)
        S = kappa_hat / lam
    zero = lam == 0
    if bool(xp.any(zero)):
        if p > rank:
            g0, s0 = rank / p, p / (p - rank)
        else:
            inv = 1 / s_2[s_2 > 0]
            g0, s0 = float(1 - xp.mean(inv) ** 2 / xp.mean(inv * inv)), float("inf")
        gamma, S = xp.where(zero, g0, gamma), xp.where(zero, s0, S)
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
