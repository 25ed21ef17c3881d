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

import functools
import math

import numpy as np

from freeprob.errors import ParameterError
from freeprob.models import (
    CorrelatedRidge,
    LinearRidge,
    NonlinearRandomFeatureRidge,
    RandomFeatureRidge,
)
from freeprob.models.base import AbstractModel
from freeprob.models.spectral import SPECTRAL_KEYS
from freeprob.montecarlo._correlated import simulate_correlated
from freeprob.montecarlo._features import feature_spectrum, simulate_rf
from freeprob.montecarlo._xp import namespace_name, resolve, to_numpy
from freeprob.montecarlo.estimators import (
    corr_gcv,
    gamma_s_hat,
    gcv,
    gcv_from_svd,
    jackknife,
    mean_se,
    project,
    ridge_filter,
    ridges,
    thin_svd,
)
from freeprob.montecarlo.sampling import gaussian_rows, population_spectrum
from freeprob.parameters import instance, nonnegative, real_array

__all__ = ["gcv", "corr_gcv", "simulate", "simulate_descent", "compare", "SIM_KEYS"]  # gcv, corr_gcv re-exported from estimators

#: keys of :func:`simulate`: the keys of ``LinearRidge.evaluate`` (``kappa``
#: is the observable ``kappa_hat``, ``df1``/``df2``/``gamma``/``S`` their
#: observable estimators) plus ``gcv`` and ``kappa_hat``
SIM_KEYS = ("kappa", "df1", "df2", "gamma", "S", "bias2", "var_X", "var_X_noise", "Eg", "Etr", "gcv",
            "kappa_hat")





def _draw(sigma, wbar, p, s2, seed, xp=np):
    """One training set ``(x, y, eps)`` and the thin SVD of ``x/sqrt(P)``; the
    normals come from numpy's ``Generator`` and the algebra runs in ``xp``."""
    rng = np.random.default_rng(seed)
    x = gaussian_rows(rng, p, sigma)
    eps = gaussian_rows(rng, p, s2)
    x, eps, wbar = xp.asarray(x), xp.asarray(eps), xp.asarray(wbar)
    y = x @ wbar + eps
    # one symmetric eigendecomposition of the smaller Gram matrix (about 2x
    # cheaper than an SVD), singular values below 1e-12 s_max set to 0; U
    # itself is not formed when P >= N (its product would cost another
    # P N^2): the errors need only U^T of the draw's two vectors
    a = x / math.sqrt(p)
    u, s, vt = thin_svd(a, xp, need_u=False)
    c_sig, c_eps = (project(a, u, s, vt, b, xp) for b in (x @ wbar / math.sqrt(p), eps / math.sqrt(p)))
    return x, y, eps, s, vt, c_sig, c_eps


def _filter_errors(sigma, wbar, p, s2, x, y, eps, c_sig, c_eps, vt, filt, xp=np):
    """Exact errors of ``w_hat = V diag(filt) U^T y/sqrt(P)`` (one row of
    ``filt`` per estimator; ``c_sig = U^T X wbar/sqrt(P)``, ``c_eps = U^T
    eps/sqrt(P)``): the noise-averaged signal part and ``Sigma``-norm errors,
    the training error of this draw (arrays of namespace ``xp``)."""
    sigma, wbar = xp.asarray(sigma), xp.asarray(wbar)
    # E_eps w_hat and the noise's part of w_hat, (n_filters, N) each, in one
    # product with V^T (read once)
    m = filt.shape[0]
    both = xp.concat([filt * c_sig[None, :], filt * c_eps[None, :]], axis=0) @ vt
    w_sig = both[:m, :]
    d = w_sig - wbar[None, :]
    e_signal = xp.sum(sigma[None, :] * d * d, axis=1)
    # E_eps ||A eps||_Sigma^2 = s2 Tr(A Sigma A^T), A = V diag(filt) U^T / sqrt(P)
    # Tr(A Sigma A^T) = sum_i filt_i^2 v_i^T Sigma v_i / P (only the diagonal
    # of V^T Sigma V is needed: O(N m), not O(N^3))
    v_sigma_v = (vt * vt) @ sigma
    noise = s2 * xp.sum(filt**2 * v_sigma_v[None, :], axis=1) / p
    w_hat = w_sig + both[m:, :]
    etr = xp.mean((y[None, :] - w_hat @ x.T) ** 2, axis=1)
    return {"w_sig": w_sig, "e_signal": e_signal, "noise": noise, "Etr": etr}


def _host(out):
    """The draw's results as numpy arrays (aggregation runs on the host)."""
    return {k: to_numpy(v) for k, v in out.items()}


def _one_draw(args):
    sigma, wbar, p, lam, s2, seed, xp_name = args
    xp = resolve(xp_name)
    n = sigma.size
    x, y, eps, s, vt, c_sig, c_eps = _draw(sigma, wbar, p, s2, seed, xp)
    lam = xp.asarray(lam)
    s_2 = s * s
    # w_hat(lam) = V diag(s/(s^2 + lam)) U^T y / sqrt(P); min-norm at lam = 0
    filt = ridge_filter(s, lam, xp)
    out = _filter_errors(sigma, wbar, p, s2, x, y, eps, c_sig, c_eps, vt, filt, xp)
    # the same SVD (one factorization per draw): U^T y = sqrt(P) (c_sig + c_eps)
    g = gcv_from_svd(None, s, y, lam, xp, c=(c_sig + c_eps) * math.sqrt(p))
    # s^2/(s^2 + lam) is 1 on the rank and 0 on the zero singular values at
    # lam = 0 (the 0/0 of a rank-deficient draw is never formed)
    pos = s_2[None, :] > 0
    df1 = xp.sum(xp.where(pos, s_2[None, :] / xp.where(pos, s_2[None, :] + lam[:, None], 1.0), 0.0), axis=1) / n
    rank = int(xp.count_nonzero(s_2 > 0))
    gamma, S = gamma_s_hat(s_2, p, lam, g["kappa_hat"], rank, xp)
    return _host({**out, "gcv": g["gcv"] - s2, "kappa_hat": g["kappa_hat"], "df1": df1, "gamma": gamma,
                  "df2": gamma * p / n, "S": S})


def _one_draw_spectral(args):
    """A draw for a spectral estimator [C18]: ``filt = s f(s^2)`` from the
    estimator's own filter (evaluated in numpy on the draw's singular
    values), one SVD for every parameter point."""
    from freeprob.models.spectral import filter_values

    sigma, wbar, p, estimator, values, s2, seed, xp_name = args
    xp = resolve(xp_name)
    x, y, eps, s, vt, c_sig, c_eps = _draw(sigma, wbar, p, s2, seed, xp)
    s_host = to_numpy(s)
    f, h, _ = filter_values(estimator, values, (s_host * s_host)[None, :])
    filt = np.where(s_host[None, :] > 0, s_host[None, :] * f.real, 0.0)
    out = _host(_filter_errors(sigma, wbar, p, s2, x, y, eps, c_sig, c_eps, vt, xp.asarray(filt), xp))
    out["df1"] = np.sum(np.where(s_host[None, :] > 0, h.real, 0.0), axis=1) / sigma.size
    return out


def _descend(z, y, eta, lam, record, test_error):
    """Literal gradient descent ``v <- v + eta (Z^T(y - Z v)/P - lam v)`` from
    ``v = 0`` on the design ``z``: ``(E_g, E_tr)`` at the step counts
    ``record``, ``E_g = test_error(v)``."""
    p = z.shape[0]
    v = np.zeros(z.shape[1])
    eg, etr = np.empty(record.size), np.empty(record.size)
    zty = z.T @ y / p
    step = 0
    for i, k in enumerate(record):
        while step < k:
            v = v + eta * (zty - z.T @ (z @ v) / p - lam * v)
            step += 1
        eg[i] = test_error(v)
        etr[i] = np.mean((y - z @ v) ** 2)
    return {"Eg": eg, "Etr": etr}


def _one_descent(args):
    """Gradient descent on one linear draw (:func:`_descend`); ``E_g`` with
    this draw's label noise in the fit."""
    sigma, wbar, p, eta, lam, record, s2, seed = args
    x, y, eps, *_ = _draw(sigma, wbar, p, s2, seed)
    return _descend(x, y, eta, lam, record, lambda w: np.sum(sigma * (w - wbar) ** 2))


def _one_descent_rf(args):
    """Gradient descent on the readout of random features ``z = F^T x + xi``
    (one draw of ``X``, ``F``, the feature noise and the labels, all from the
    draw's seed); ``E_g = ||F v - wbar||_Sigma^2 + sigma_xi^2 ||v||^2`` (the
    test feature noise, pitfall P6)."""
    from freeprob.montecarlo._features import _draw_f

    sigma, wbar, p, eta, lam, record, s2, seed, widths, layer_variance, sx, sigma_f = args
    x_seed, f_seed, xi_seed = seed.spawn(3)
    x, y, eps, *_ = _draw(sigma, wbar, p, s2, x_seed)
    f = _draw_f(sigma.size, widths, layer_variance, sigma_f, f_seed)
    z = x @ f + np.random.default_rng(xi_seed).normal(size=(p, widths[-1])) * np.sqrt(sx)
    return _descend(z, y, eta, lam, record, lambda v: np.sum(sigma * (f @ v - wbar) ** 2) + sx * np.sum(v * v))


def simulate_descent(model, seeds: int = 20, rng: np.random.Generator | None = None, *, steps=None,
                     executor=None) -> dict:
    """Monte Carlo of a :class:`~freeprob.LinearRidge` or a
    :class:`~freeprob.RandomFeatureRidge` (white, deep or anisotropic) with a
    :class:`~freeprob.GradientDescent` estimator by the iterations themselves
    (the second route to :func:`simulate`'s spectral filtering [C18]); for
    random features each draw has its own ``X``, ``F`` and feature noise.

    Returns ``{"Eg": (mean, se), "Etr": (mean, se)}`` at the step counts
    ``steps`` (default: the estimator's ``steps``); ``E_g`` includes each
    draw's own label noise, so its mean is the theory's ``E_g``.

    >>> import freeprob, numpy as np
    >>> m = freeprob.LinearRidge(freeprob.Identity(1), samples=40, dimension=20,
    ...                          estimator=freeprob.GradientDescent(step=0.2, steps=5))
    >>> out = simulate_descent(m, seeds=4, rng=np.random.default_rng(0))
    >>> bool(0 < out["Eg"][0][0] < 1)
    True
    """
    from freeprob.models.filters import GradientDescent

    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng", type(rng).__name__, "a numpy.random.Generator (np.random.default_rng(seed))")
    if not isinstance(model, (LinearRidge, RandomFeatureRidge)) or not isinstance(model.estimator, GradientDescent):
        raise ParameterError("model", repr(model), "a LinearRidge or a RandomFeatureRidge with a GradientDescent "
                             "estimator")
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 2:
        raise ParameterError("seeds", seeds, "integers >= 2")
    est = model.estimator
    vals = est.values({} if steps is None else {"steps": steps})
    record = np.asarray(vals["steps"], dtype=int).ravel()
    if np.any(np.diff(record) < 0):
        raise ParameterError("steps", steps, "nondecreasing step counts")
    n = int(model._num("dimension", model.dimension))
    sigma = population_spectrum(model.population, n)
    wbar = np.full(n, 1 / np.sqrt(n)) if model._weights is None else np.sqrt(model._weights[1])
    p = int(model._num("samples", model.samples))
    s2 = float(model._num("noise", model.noise))
    eta, lam = float(vals["step"]), float(vals["ridge"])
    child = rng.bit_generator.seed_seq.spawn(seeds)
    tasks = [(sigma, wbar, p, eta, lam, record, s2, c) for c in child]
    worker = _one_descent
    if isinstance(model, RandomFeatureRidge):
        widths = tuple(int(model._num("widths", w)) for w in model.widths)
        sx = float(model._num("feature_noise", model.feature_noise))
        sigma_f = feature_spectrum(model, widths[0], rng)
        tasks = [t + (widths, model.layer_variance, sx, sigma_f) for t in tasks]
        worker = _one_descent_rf
    runs = list(executor.map(worker, tasks)) if executor is not None else [worker(t) for t in tasks]
    return {key: mean_se(np.array([r[key] for r in runs])) for key in ("Eg", "Etr")}


def simulate(model, seeds: int = 20, rng: np.random.Generator | None = None, executor=None, *,
             ridge=None, sweep: dict | None = None, scheduler=None, xp=None, probes: int | None = None) -> dict:
    """Monte Carlo of a :class:`~freeprob.LinearRidge` model (see the module).

    With a spectral estimator (``LinearRidge(..., estimator=GradientFlow(...))``)
    each draw applies the estimator's filter to the draw's own sample
    spectrum [C18] and the keys are those of its learning curve
    (:data:`~freeprob.models.spectral.SPECTRAL_KEYS`); ``sweep={"time":
    array}`` sweeps its parameters with one SVD per draw.

    Returns ``{key: (mean, standard_error)}`` for :data:`SIM_KEYS` (the
    keys of ``evaluate`` plus ``gcv`` and ``kappa_hat``) over the model's
    ridge values; ``df1``, ``df2 = gamma_hat/q``, ``gamma`` and ``S`` are the
    observable estimators of :func:`_gamma_s_hat`.
    ``executor`` is any ``concurrent.futures``-style executor (``map``);
    each draw gets its own child seed of ``rng``, so results do not depend on
    the executor.  ``ridge`` (array) overrides the model's ridge: the whole
    sweep costs one SVD per draw.

    ``scheduler`` runs the draws on a Dask cluster
    (:mod:`freeprob.montecarlo._dask`, ``pip install "freeprob[distributed]"``):
    a scheduler address, a ``distributed.Client``, or a number of local
    worker processes.  Tasks are blocks of whole rows of the crossed grid; the
    arrays they share are sent to each worker once.

    ``xp`` is the array namespace of each draw's linear algebra
    (:mod:`freeprob.montecarlo._xp`): ``numpy`` (default), ``array_api_strict``,
    or a GPU library through ``array-api-compat``, for every model.  A
    nonlinear activation is compiled for the namespace from its sympy
    expression; one that uses a function outside the standard (``erf``) is
    applied on the host and its values moved back.

    ``probes`` (random features with label noise only) is the number of
    probe columns of the label-noise U-statistic
    (:mod:`freeprob.montecarlo._features`): 64 by default, ``P`` or more for
    the exact statistic, which costs a second ``X F`` product per ridge and
    cell.  On a power-law population the default's standard error is that of
    the exact statistic; on a flat one (``Identity``) it is 3-5 times it."""
    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng", type(rng).__name__, "a numpy.random.Generator (np.random.default_rng(seed))")
    if scheduler is not None:
        if executor is not None:
            raise ParameterError("scheduler", scheduler, "None when executor= is given")
        from freeprob.montecarlo._dask import dask_executor

        with dask_executor(scheduler) as ex:
            return simulate(model, seeds, rng, ex, ridge=ridge, sweep=sweep, xp=xp, probes=probes)
    xp_name = namespace_name(xp)
    if probes is not None and not isinstance(model, RandomFeatureRidge):
        raise ParameterError("probes", probes, "None unless the model is a (linear) RandomFeatureRidge",
                             "only its label-noise U-statistic is probed")
    if sweep is not None:
        est = getattr(model, "estimator", None)
        if not isinstance(model, (LinearRidge, RandomFeatureRidge)) or est is None or est.ROUTE == "resolvent":
            raise ParameterError("sweep", sweep, "None unless the model is a LinearRidge or RandomFeatureRidge "
                                 "with a spectral estimator", "ridge models sweep with ridge=")
        if isinstance(model, RandomFeatureRidge):
            return simulate_rf(model, seeds, rng, executor, None, xp_name=xp_name, sweep=sweep, probes=probes)
        return _simulate_linear(model, seeds, rng, executor, None, sweep, xp_name=xp_name)
    if probes is not None:
        return simulate_rf(model, seeds, rng, executor, ridge, xp_name=xp_name, probes=probes)
    return _simulator(model, seeds, rng, executor, ridge, xp_name=xp_name)


@functools.singledispatch
def _simulator(model, seeds, rng, executor, ridge, xp_name="numpy"):
    """The Monte Carlo of each model type (a registry: a new model registers
    its simulator here, next to the others)."""
    raise ParameterError("model", type(model).__name__,
                         "a model with a registered simulator: " + ", ".join(
                             sorted(t.__name__ for t in _simulator.registry if t is not object)))


@_simulator.register(RandomFeatureRidge)
def _simulate_features(model, seeds, rng, executor, ridge, xp_name="numpy"):
    return simulate_rf(model, seeds, rng, executor, ridge, xp_name=xp_name)


@_simulator.register(CorrelatedRidge)
def _simulate_correlated(model, seeds, rng, executor, ridge, xp_name="numpy"):
    return simulate_correlated(model, seeds, rng, executor, ridge, xp_name=xp_name)


@_simulator.register(NonlinearRandomFeatureRidge)
def _simulate_nonlinear(model, seeds, rng, executor, ridge, xp_name="numpy"):
    # the real features phi(X F) at the user's ridge
    return simulate_rf(model, seeds, rng, executor, ridge, model.activation_map, xp_name=xp_name)


@_simulator.register(LinearRidge)
def _simulate_linear(model, seeds, rng, executor, ridge, sweep=None, xp_name="numpy"):
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 3:
        # Bias^2 removes the draws' spread from the squared mean, and its
        # standard error is a jackknife that leaves one draw out: with 2
        # draws the leave-one-out spread is NaN
        raise ParameterError("seeds", seeds, "integers >= 3",
                             "the jackknife of the bias/variance split leaves one draw out and needs two")
    pop = model.population
    n = int(model._num("dimension", model.dimension))
    sigma = population_spectrum(pop, n)  # the law's atoms, or its mid-quantiles
    if model._weights is None:
        # isotropic target, ||wbar|| = 1: constant coefficients in the
        # eigenbasis, so wbar^T A wbar = tr A exactly for every A = a(Sigma)
        # (a random direction fluctuates by O(1) on a power-law spectrum,
        # where a few modes carry A)
        wbar = np.full(n, 1 / np.sqrt(n))
    else:
        wbar = np.sqrt(model._weights[1])
    p = int(model._num("samples", model.samples))
    s2 = float(model._num("noise", model.noise))
    child = rng.bit_generator.seed_seq.spawn(seeds) if hasattr(rng.bit_generator, "seed_seq") else \
        [int(v) for v in rng.integers(0, 2**63, seeds)]
    est = model.estimator
    spectral = est is not None and est.ROUTE != "resolvent"
    if spectral:
        # the estimator's own filter on each draw's spectrum [C18]; sweep
        # values (``sweep={"time": array}``) override the estimator's
        if ridge is not None:
            raise ParameterError("ridge", ridge, "None for a spectral estimator", "sweep with sweep={...}")
        values = est.values(dict(sweep or {}))
        shape = np.broadcast_shapes(*[np.shape(v) for v in values.values()])
        values = {k: np.broadcast_to(v, shape).ravel() for k, v in values.items()}
        tasks = [(sigma, wbar, p, est, values, s2, c, xp_name) for c in child]
        worker = _one_draw_spectral
    else:
        lam = ridges(model._num("ridge", model.ridge) if ridge is None else ridge)
        tasks = [(sigma, wbar, p, lam, s2, c, xp_name) for c in child]
        worker = _one_draw
    runs = list(executor.map(worker, tasks)) if executor is not None else [worker(t) for t in tasks]
    stack = {k: np.array([r[k] for r in runs]) for k in runs[0]}
    ws = stack["w_sig"]  # (seeds, n_lam, N)

    def bias2(wsig):
        mean = wsig.mean(axis=0)
        cov_tr = np.sum(sigma * wsig.var(axis=0, ddof=1), axis=-1) / wsig.shape[0]
        return np.sum(sigma * (mean - wbar) ** 2, axis=-1) - cov_tr

    out = {}
    b, b_se = jackknife(ws, bias2)
    out["bias2"] = (b, b_se)
    es = stack["e_signal"]
    vx, vx_se = jackknife(np.concatenate([es[:, :, None], ws], axis=2),
                           lambda a: a[:, :, 0].mean(axis=0) - bias2(a[:, :, 1:]))
    out["var_X"] = (vx, vx_se)
    out["var_X_noise"] = mean_se(stack["noise"])
    out["Eg"] = mean_se(es + stack["noise"])
    if spectral:
        for key in ("Etr", "df1"):
            out[key] = mean_se(stack[key])
        return {key: tuple(np.reshape(v, shape) for v in out[key]) for key in SPECTRAL_KEYS}
    for key in ("Etr", "gcv", "kappa_hat", "df1", "df2", "gamma", "S"):
        out[key] = mean_se(stack[key])
    out["kappa"] = out["kappa_hat"]
    return {key: out[key] for key in SIM_KEYS}



def compare(model, sim: dict, *, ridge=None, allowance: float = 0.03, floor: float = 0.0, out=print) -> list:
    """Theory vs simulation table: for each key, theory, simulation, standard
    error, z-score and the finite-size allowance used (pitfall P10): a row
    is ``ok`` when ``|sim - theory| <= 4 s.e. + allowance |theory| + floor
    E_g`` (``floor`` lets small decomposition components be judged against
    the size of the error they are part of).  Works for
    :class:`~freeprob.LinearRidge`, :class:`~freeprob.RandomFeatureRidge` and
    :class:`~freeprob.CorrelatedRidge`.
    Returns the rows as dicts; prints them with ``out``."""
    instance("model", model, AbstractModel, "a freeprob model (LinearRidge, RandomFeatureRidge, ...)")
    instance("sim", sim, dict, "the dict that freeprob.simulate returns")
    allowance = float(nonnegative("allowance", allowance))
    floor = float(nonnegative("floor", floor))
    if not callable(out):
        raise ParameterError("out", repr(out)[:60], "a callable taking one string (print, a logger's method, ...)")
    th = model.evaluate() if ridge is None else model.evaluate(ridge=real_array("ridge", ridge))
    # kappa is kappa_hat (LinearRidge); the LinearRidge simulation reports gcv
    # - sigma^2 against E_g, the correlated one its estimators against their
    # own limits; a key with no theory value (the biases) is not compared
    pairs = {key: key for key in sim if key != "kappa" and key in th}
    if "gcv" in sim and "gcv" not in th:
        pairs["gcv"] = "Eg"
    if "kappa_hat" in sim:
        pairs["kappa_hat"] = "kappa"
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
