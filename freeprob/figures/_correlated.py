r"""Figures beyond the paper: correlated samples [R22].

``X1``: AR(1)-correlated data at several ``rho``, label noise with the data's
correlations.  Against the ridge: the out-of-sample risk ``E_g + sigma^2``,
the GCV limit and the CorrGCV limit (:class:`~freeprob.CorrelatedRidge`),
with Monte-Carlo points of the three (:func:`~freeprob.simulate`, standard
errors).  GCV falls below the risk as soon as ``rho > 0``; CorrGCV stays on
it.
"""

from __future__ import annotations

import numpy as np

from freeprob.figures._base import Figure, Panel, Series
from freeprob.laws import AR1, Identity
from freeprob.models.correlated import CorrelatedRidge
from freeprob.montecarlo.simulate import simulate

__all__ = ["x1"]

_LABELS = {"Eg": r"$E_g + \sigma^2$", "gcv": "GCV", "corr_gcv": "CorrGCV"}


def x1(fast, rng, executor=None):
    n, p = (100, 200) if fast else (500, 1000)
    seeds = 3 if fast else 10
    noise = 0.5
    lam_th = np.logspace(-4, 1, 61)
    lam_sim = np.logspace(-3, 0, 4 if fast else 7)
    panels = []
    for rho in (0.0, 0.5, 0.9):
        m = CorrelatedRidge(Identity(1), AR1(rho), noise_correlation="data", noise=noise, samples=p, dimension=n)
        th = m.evaluate(ridge=lam_th)
        sim = simulate(m, seeds=seeds, rng=rng, ridge=lam_sim, executor=executor)
        lines = [Series(_LABELS["Eg"], lam_th, th["Eg"] + noise, key="Eg"),
                 Series(_LABELS["gcv"], lam_th, th["gcv"], key="gcv"),
                 Series(_LABELS["corr_gcv"], lam_th, th["corr_gcv"], key="corr_gcv")]
        pts = [Series(_LABELS["Eg"] + " sim.", lam_sim, sim["Eg"][0] + noise, "simulation", key="Eg", yerr=sim["Eg"][1]),
               Series("GCV sim.", lam_sim, sim["gcv"][0], "simulation", key="gcv", yerr=sim["gcv"][1]),
               Series("CorrGCV sim.", lam_sim, sim["corr_gcv"][0], "simulation", key="corr_gcv",
                      yerr=sim["corr_gcv"][1])]
        panels.append(Panel(rf"AR(1), $\rho = {rho:g}$", r"ridge $\lambda$", "risk", tuple(lines + pts), "log", "log"))
    return Figure("X1", "correlated_samples_gcv", (
        f"Ridge regression on AR(1)-correlated samples (N={n}, P={p}, Sigma = I, label noise sigma^2 = {noise} "
        f"with the data's correlations) [R22]: the out-of-sample risk, the GCV limit E_tr/(1 - u)^2 and the "
        f"CorrGCV limit E_tr/(nu^2 <k/(k+nu)^2>); points are Monte Carlo means over {seeds} draws with "
        f"standard errors. GCV is over-optimistic as soon as rho > 0; CorrGCV is exact."), tuple(panels),
        (("N", n), ("P", p), ("noise", noise), ("seeds", seeds)), (),
        "GCV and CorrGCV on AR(1)-correlated samples")
