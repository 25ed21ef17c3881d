r"""From data and by simulation: GCV/KARE estimates and Monte Carlo of
linear ridge regression (the independent numerics of the ridge formulas).

:func:`gcv` estimates ``E_g + sigma^2`` from training data alone [R8]:

.. math::
    \hat\kappa = \frac{1}{\mathrm{tr}_P (\hat K + \lambda)^{-1}},\qquad
    \widehat{E_g + \sigma^2} = \frac{E_{tr}}{\big(1 - \frac1P\mathrm{Tr}\,\hat\Sigma(\hat\Sigma+\lambda)^{-1}\big)^2}
    = \hat\kappa^2\,\frac1P\, y^\top(\hat K + \lambda)^{-2} y .

One thin SVD of ``X/sqrt(P)`` (the cheaper of primal and dual) serves every
ridge value; the ``lam = 0`` limits are taken explicitly on both sides of
``P = N``.

:func:`simulate` draws ``X`` and ``epsilon`` for a :class:`~freeprob.LinearRidge`
model and returns the keys of ``evaluate`` plus ``gcv`` and ``kappa_hat``,
each as ``(mean, standard_error)``.  Per draw: one SVD for the whole ridge
sweep, the minimum-norm solution at ``lam = 0``, exact ``Sigma``-norm errors
(no finite test set), the noise part averaged over ``epsilon`` exactly
(``sigma^2 Tr A Sigma A^T`` for ``w_hat = A y``).  ``Bias^2`` uses the unbiased
correction ``||mean - wbar||^2 - tr Cov/n`` (pitfall P11: the naive seed
average is biased upward); standard errors are jackknife estimates.
"""

from __future__ import annotations

import numpy as np

from .errors import ParameterError

__all__ = ["gcv", "simulate", "compare", "SIM_KEYS"]

#: keys of :func:`simulate`: the keys of ``LinearRidge.evaluate`` (``kappa``
#: is the observable ``kappa_hat``, ``df1``/``df2``/``gamma``/``S`` their
#: observable estimators) plus ``gcv`` and ``kappa_hat``
SIM_KEYS = ("kappa", "df1", "df2", "gamma", "S", "bias2", "var_X", "var_X_noise", "Eg", "Etr", "gcv",
            "kappa_hat")


def _ridges(ridge):
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
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or y.ndim != 1 or y.size != X.shape[0]:
        raise ParameterError("X, y", f"shapes {X.shape}, {y.shape}", "X of shape (P, N) and y of shape (P,)")
    lam = _ridges(ridge)
    p = X.shape[0]
    u, s, _ = np.linalg.svd(X / np.sqrt(p), full_matrices=False)
    return _gcv_from_svd(u, s, y, lam)


def _gcv_from_svd(u, s, y, lam):
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
        quad = np.sum(c * c / (s2 + lam_) ** 2, axis=1) / p  # y^T (K + lam)^-2 y / P, column-space part
        est = kappa_hat**2 * quad + np.where(lam > 0, kappa_hat**2 * r2 / (p * lam**2), 0.0)
    # lam = 0, P > N: kappa_hat ~ lam P/(P - N) and the r^2 term tends to
    # r^2 P / (P - N)^2; the column-space part vanishes
    zero = lam == 0
    if np.any(zero) and p > m:
        est = np.where(zero, r2 * p / (p - m) ** 2, est)
    return {"gcv": est, "kappa_hat": kappa_hat}


def _one_draw(args):
    sigma, wbar, p, lam, s2, seed = args
    rng = np.random.default_rng(seed)
    n = sigma.size
    x = rng.normal(size=(p, n)) * np.sqrt(sigma)
    eps = rng.normal(size=p) * np.sqrt(s2)
    y = x @ wbar + eps
    # one symmetric eigendecomposition of the smaller Gram matrix instead of
    # an SVD (about 2x cheaper); U (or V) follows by one matrix product
    xs = x / np.sqrt(p)
    if p >= n:
        ev, v = np.linalg.eigh(xs.T @ xs)
        ev, v = ev[::-1].clip(min=0), v[:, ::-1]
        s = np.sqrt(ev)
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(s > 1e-12 * s[0], (xs @ v) / s, 0.0)
        vt = v.T
    else:
        ev, u = np.linalg.eigh(xs @ xs.T)
        ev, u = ev[::-1].clip(min=0), u[:, ::-1]
        s = np.sqrt(ev)
        with np.errstate(divide="ignore", invalid="ignore"):
            vt = np.where(s[:, None] > 1e-12 * s[0], (u.T @ xs) / s[:, None], 0.0)
    s = np.where(s > 1e-12 * s[0], s, 0.0)
    s_2 = s * s
    with np.errstate(divide="ignore", invalid="ignore"):
        # w_hat(lam) = V diag(s/(s^2 + lam)) U^T y / sqrt(P); min-norm at lam = 0
        filt = np.where(s_2[None, :] + lam[:, None] > 0, s[None, :] / (s_2[None, :] + lam[:, None]), 0.0)
    filt = np.where(np.isfinite(filt), filt, 0.0)
    c_sig = u.T @ (x @ wbar) / np.sqrt(p)
    w_sig = (filt * c_sig[None, :]) @ vt  # E_eps w_hat, (n_lam, N)
    d = w_sig - wbar[None, :]
    e_signal = np.sum(sigma[None, :] * d * d, axis=1)
    # E_eps ||A eps||_Sigma^2 = s2 Tr(A Sigma A^T), A = V diag(filt) U^T / sqrt(P)
    # Tr(A Sigma A^T) = sum_i filt_i^2 v_i^T Sigma v_i / P (only the diagonal
    # of V^T Sigma V is needed: O(N m), not O(N^3))
    v_sigma_v = np.sum(vt * vt * sigma[None, :], axis=1)
    noise = s2 * np.sum(filt**2 * v_sigma_v[None, :], axis=1) / p
    w_hat = w_sig + (filt * (u.T @ eps / np.sqrt(p))[None, :]) @ vt
    etr = np.mean((y[None, :] - w_hat @ x.T) ** 2, axis=1)
    g = _gcv_from_svd(u, s, y, lam)  # the same SVD: one factorization per draw
    df1 = np.sum(s_2[None, :] / (s_2[None, :] + lam[:, None]), axis=1) / n
    rank = np.count_nonzero(s_2 > 0)
    df1 = np.where(lam == 0, rank / n, df1)
    gamma, S = _gamma_s_hat(s_2, p, lam, g["kappa_hat"], rank)
    return {"w_sig": w_sig, "e_signal": e_signal, "noise": noise, "Etr": etr, "gcv": g["gcv"] - s2,
            "kappa_hat": g["kappa_hat"], "df1": df1, "gamma": gamma, "df2": gamma * p / n, "S": S}


def _gamma_s_hat(s_2, p, lam, kappa_hat, rank):
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


def _jackknife(values, stat):
    n = values.shape[0]
    full = stat(values)
    loo = np.array([stat(np.delete(values, i, axis=0)) for i in range(n)])
    return full, np.sqrt((n - 1) / n * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))


def simulate(model, seeds: int = 20, rng: np.random.Generator | None = None, executor=None, *,
             ridge=None) -> dict:
    """Monte Carlo of a :class:`~freeprob.LinearRidge` model (see the module).

    Returns ``{key: (mean, standard_error)}`` for :data:`SIM_KEYS` (the
    keys of ``evaluate`` plus ``gcv`` and ``kappa_hat``) over the model's
    ridge values; ``df1``, ``df2 = gamma_hat/q``, ``gamma`` and ``S`` are the
    observable estimators of :func:`_gamma_s_hat`.
    ``executor`` is any ``concurrent.futures``-style executor (``map``);
    each draw gets its own child seed of ``rng``, so results do not depend on
    the executor.  ``ridge`` (array) overrides the model's ridge: the whole
    sweep costs one SVD per draw."""
    from .features import RandomFeatureRidge
    from .ridge import LinearRidge

    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng", type(rng).__name__, "a numpy.random.Generator (np.random.default_rng(seed))")
    if isinstance(model, RandomFeatureRidge):
        from ._rf_sim import simulate_rf

        return simulate_rf(model, seeds, rng, executor, ridge, getattr(model, "activation_map", None))
    if not isinstance(model, LinearRidge):
        raise ParameterError("model", type(model).__name__, "a LinearRidge or RandomFeatureRidge model")
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 2:
        raise ParameterError("seeds", seeds, "integers >= 2")
    pop = model.population
    vals, _ = pop.spectrum.numeric_atoms() if hasattr(pop, "spectrum") else (None, None)
    n = int(model._num("dimension", model.dimension))
    sigma = vals.astype(float) if vals is not None else np.full(n, float(pop.moments(1)[0]))
    if model._weights is None:
        # isotropic target, ||wbar|| = 1: constant coefficients in the
        # eigenbasis, so wbar^T A wbar = tr A exactly for every A = a(Sigma)
        # (a random direction fluctuates by O(1) on a power-law spectrum,
        # where a few modes carry A)
        wbar = np.full(n, 1 / np.sqrt(n))
    else:
        wbar = np.sqrt(model._weights[1])
    p = int(model._num("samples", model.samples))
    lam = _ridges(model._num("ridge", model.ridge) if ridge is None else ridge)
    s2 = float(model._num("noise", model.noise))
    child = rng.bit_generator.seed_seq.spawn(seeds) if hasattr(rng.bit_generator, "seed_seq") else \
        [int(v) for v in rng.integers(0, 2**63, seeds)]
    tasks = [(sigma, wbar, p, lam, s2, c) for c in child]
    runs = list(executor.map(_one_draw, tasks)) if executor is not None else [_one_draw(t) for t in tasks]
    stack = {k: np.array([r[k] for r in runs]) for k in runs[0]}
    ws = stack["w_sig"]  # (seeds, n_lam, N)

    def bias2(wsig):
        mean = wsig.mean(axis=0)
        cov_tr = np.sum(sigma * wsig.var(axis=0, ddof=1), axis=-1) / wsig.shape[0]
        return np.sum(sigma * (mean - wbar) ** 2, axis=-1) - cov_tr

    out = {}
    b, b_se = _jackknife(ws, bias2)
    out["bias2"] = (b, b_se)
    es = stack["e_signal"]
    vx, vx_se = _jackknife(np.concatenate([es[:, :, None], ws], axis=2),
                           lambda a: a[:, :, 0].mean(axis=0) - bias2(a[:, :, 1:]))
    out["var_X"] = (vx, vx_se)
    for key in ("Etr", "gcv", "kappa_hat", "df1", "df2", "gamma", "S"):
        out[key] = _mean_se(stack[key])
    out["var_X_noise"] = _mean_se(stack["noise"])
    out["Eg"] = _mean_se(es + stack["noise"])
    out["kappa"] = out["kappa_hat"]
    return {key: out[key] for key in SIM_KEYS}


def _mean_se(arr):
    """Mean and standard error over draws; an infinite column (``S`` at
    ``lam = 0``, ``q > 1``) has mean oo and standard error 0."""
    with np.errstate(invalid="ignore"):
        mean = arr.mean(axis=0)
        se = arr.std(axis=0, ddof=1) / np.sqrt(arr.shape[0])
    return mean, np.where(np.isinf(mean), 0.0, se)


def compare(model, sim: dict, *, ridge=None, allowance: float = 0.03, floor: float = 0.0, out=print) -> list:
    """Theory vs simulation table: for each key, theory, simulation, standard
    error, z-score and the finite-size allowance used (pitfall P10): a row
    is ``ok`` when ``|sim - theory| <= 4 s.e. + allowance |theory| + floor
    E_g`` (``floor`` lets small decomposition components be judged against
    the size of the error they are part of).  Works for
    :class:`~freeprob.LinearRidge` and :class:`~freeprob.RandomFeatureRidge`.
    Returns the rows as dicts; prints them with ``out``."""
    th = model.evaluate() if ridge is None else model.evaluate(ridge=np.asarray(ridge, dtype=float))
    pairs = {key: key for key in sim if key != "kappa"}  # kappa is kappa_hat (LinearRidge)
    pairs.update({"gcv": "Eg"}, **({"kappa_hat": "kappa"} if "kappa_hat" in sim else {}))
    rows = []
    out(f"{'key':<12} {'theory':>12} {'simulation':>12} {'s.e.':>10} {'z':>7}  allowance {allowance:.0%}")
    eg = np.atleast_1d(np.asarray(th["Eg"], dtype=float))
    for key, tkey in pairs.items():
        t = np.atleast_1d(np.asarray(th[tkey], dtype=float))
        m, se = (np.atleast_1d(v) for v in sim[key])
        for i in range(t.size):
            diff = 0.0 if m[i] == t[i] else m[i] - t[i]  # oo == oo (S at lam = 0, q > 1)
            z = diff / se[i] if se[i] > 0 else (0.0 if diff == 0 else float(np.copysign(np.inf, diff)))
            ok = diff == 0 or abs(diff) <= 4 * se[i] + allowance * abs(t[i]) + floor * abs(eg[i]) + 1e-12
            rows.append({"key": key, "theory": t[i], "simulation": m[i], "se": se[i], "z": z, "ok": bool(ok)})
            out(f"{key:<12} {t[i]:>12.5g} {m[i]:>12.5g} {se[i]:>10.2g} {z:>7.2f}  {'ok' if ok else 'MISMATCH'}")
    return rows
