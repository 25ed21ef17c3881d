r"""Monte Carlo of ridge regression on correlated samples (:class:`~freeprob.CorrelatedRidge`).

Per model, once: the population spectrum ``Sigma`` (the law's atoms or
mid-quantiles, :func:`~freeprob.montecarlo.sampling.population_spectrum`) and
the ``P x P`` sample correlation: the Toeplitz matrix ``rho^|t - s|`` itself
for :class:`~freeprob.AR1` (samples in time order), a diagonal matrix of the
law's ``P`` mid-quantiles otherwise (``Z`` is rotation invariant, so the
eigenbasis of ``K`` does not matter), with its Cholesky factor ``L``.

Per draw: ``X = L Z Sigma^{1/2}``, labels ``y = X wbar + eps`` with ``eps =
sigma xi`` (white) or ``sigma L xi`` (``"data"``), one thin SVD for the whole
ridge sweep, and

* ``Eg = (w_hat - wbar)^T Sigma (w_hat - wbar)`` (a fresh test point with
  ``K_** = 1``, without its label noise), its label-noise part averaged over
  ``eps`` exactly (``sigma^2 Tr(A K_eps A^T Sigma)`` for ``w_hat = A y``);
  ``Etr = ||y - X w_hat||^2/P``;
* ``gcv`` (:func:`~freeprob.gcv`) and ``corr_gcv``
  (:func:`~freeprob.corr_gcv` with the model's law of ``K``);
* ``df1_K``, the observable ``tr(hat matrix)/P``;
* ``gcv_bias`` and ``corr_gcv_bias``: ``estimate - (Eg + sigma^2)`` in the
  same draw, whose mean and standard error test the (un)biasedness directly.

Every key is returned as ``(mean, standard_error)`` over draws.

The algebra of a draw runs in the array namespace ``xp`` (the Python array
API standard, :mod:`freeprob.montecarlo._xp`): the products, the SVD, the
filters and the errors.  The normals come from numpy's ``Generator``, so a
draw is the same in every library.  The corrected GCV runs on the host: its
inner solve for ``nu`` is the model layer's numeric route, and its inputs
are the ``m``-vectors of the SVD.
"""

from __future__ import annotations

import math

import numpy as np

from freeprob.errors import ParameterError
from freeprob.laws import AR1
from freeprob.montecarlo._xp import resolve, to_numpy
from freeprob.montecarlo.estimators import (
    corr_gcv_from_svd,
    mean_se,
    ridge_filter,
    ridges,
    thin_svd,
)
from freeprob.montecarlo.sampling import population_spectrum

__all__ = ["simulate_correlated", "CORRELATED_SIM_KEYS"]

#: the keys of the correlated-sample simulation
CORRELATED_SIM_KEYS = ("Eg", "Etr", "gcv", "corr_gcv", "df1_K", "gcv_bias", "corr_gcv_bias")


def _cholesky(law, p):
    """The factor ``L`` (``K = L L^T``) of the ``p x p`` sample correlation."""
    if isinstance(law, AR1):
        return np.linalg.cholesky(law.toeplitz(p))
    return np.diag(np.sqrt(population_spectrum(law, p)))


def _one_draw(args):
    sigma, wbar, chol, law, data_noise, lam, s2, seed, xp_name = args
    xp = resolve(xp_name)
    rng = np.random.default_rng(seed)
    p, n = chol.shape[0], sigma.size
    z, xi = rng.normal(size=(p, n)), rng.normal(size=p)  # numpy's draws, whatever the namespace
    chol_, sig, wb = xp.asarray(chol), xp.asarray(sigma), xp.asarray(wbar)
    x = chol_ @ (xp.asarray(z) * xp.sqrt(sig)[None, :])
    xi = xp.asarray(xi) * math.sqrt(s2)
    eps = chol_ @ xi if data_noise else xi
    y = x @ wb + eps
    u, s, vt = thin_svd(x / math.sqrt(p), xp)
    lam_ = xp.asarray(lam)
    filt = ridge_filter(s, lam_, xp)
    w_hat = (filt * (u.T @ y / math.sqrt(p))[None, :]) @ vt  # (n_lam, N), min-norm at lam = 0
    # E_g with the label-noise part averaged over eps exactly: w_hat = A y,
    # A = V diag(filt) U^T/sqrt(P), E_eps ||A eps||_Sigma^2 = sigma^2 Tr(A K_eps A^T Sigma)
    w_sig = (filt * (u.T @ (x @ wb) / math.sqrt(p))[None, :]) @ vt
    d = w_sig - wb[None, :]
    if data_noise:
        k_u = chol_.T @ u
        pair = (k_u.T @ k_u) * ((vt * sig[None, :]) @ vt.T)  # (U^T K U) o (V^T Sigma V)
        noise = s2 * xp.sum((filt @ pair) * filt, axis=1) / p
    else:
        noise = s2 * xp.sum(filt**2 * xp.sum(vt * vt * sig[None, :], axis=1)[None, :], axis=1) / p
    eg = to_numpy(xp.sum(sig[None, :] * d * d, axis=1) + noise)
    etr = to_numpy(xp.mean((y[None, :] - w_hat @ x.T) ** 2, axis=1))
    est = corr_gcv_from_svd(to_numpy(u), to_numpy(s), to_numpy(y), lam, law)  # the same SVD, on the host
    return {"Eg": eg, "Etr": etr, "gcv": est["gcv"], "corr_gcv": est["corr_gcv"], "df1_K": est["df1_K"],
            "gcv_bias": est["gcv"] - eg - s2, "corr_gcv_bias": est["corr_gcv"] - eg - s2}


def simulate_correlated(model, seeds, rng, executor, ridge, xp_name="numpy"):
    """Monte Carlo of a :class:`~freeprob.CorrelatedRidge` model (see the module)."""
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 2:
        raise ParameterError("seeds", seeds, "integers >= 2")
    n = int(model._num("dimension", model.dimension))
    p = int(model._num("samples", model.samples))
    sigma = population_spectrum(model.population, n)
    wbar = np.full(n, 1 / np.sqrt(n)) if model._linear()._weights is None else np.sqrt(model._linear()._weights[1])
    chol = _cholesky(model.sample_correlation, p)
    lam = ridges(model._num("ridge", model.ridge) if ridge is None else ridge)
    s2 = float(model._num("noise", model.noise))
    child = rng.bit_generator.seed_seq.spawn(seeds) if hasattr(rng.bit_generator, "seed_seq") else \
        [int(v) for v in rng.integers(0, 2**63, seeds)]
    tasks = [(sigma, wbar, chol, model.sample_correlation, model.noise_correlation == "data", lam, s2, c, xp_name)
             for c in child]
    runs = list(executor.map(_one_draw, tasks)) if executor is not None else [_one_draw(t) for t in tasks]
    return {key: mean_se(np.array([r[key] for r in runs])) for key in CORRELATED_SIM_KEYS}
