r"""Figures beyond the paper: training dynamics [C18].

``X2``: gradient flow on power-law data.  Left, the learning curve in
training time (the contour route of :mod:`freeprob.models.spectral`) against
Monte Carlo by spectral filtering of sampled data, with ridge at ``lambda =
1/t`` for comparison.  Middle and right, the compute-optimal allocation
under ``C = P t`` (full-batch flow, data reused): the argmin of the learning
curve at each budget (:func:`~freeprob.scaling.verify_compute_optimal`)
against the exponents derived by dominant balance
(:func:`~freeprob.scaling.compute_optimal`).

``X3``: random features trained by gradient flow on the readout.  Left, the
finite-data learning curve in time of two widths, below and above the input
dimension (the contour route on the features' linear problem, conditioned
on ``F``, :mod:`freeprob.models._features_spectral`), against Monte Carlo on
a crossed grid of data and feature draws, with the approximation floor of
the narrow model.  Middle and right, online training ``C = N t``: the argmin
over widths of the learning curve at each budget against the asymmetric rule
``N* ~ C^{1/(1+alpha)}``, ``t* ~ C^{alpha/(1+alpha)}`` of Bordelon, Atanasov
and Pehlevan.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob.figures._base import Figure, Panel, Series
from freeprob.laws import PowerLaw
from freeprob.models.features import RandomFeatureRidge
from freeprob.models.filters import GradientFlow
from freeprob.models.linear import LinearRidge, SourceTarget
from freeprob.montecarlo.simulate import simulate
from freeprob.scaling import compute_optimal, verify_compute_optimal

__all__ = ["x2", "x3"]


def _optimum_panels(title, budgets, v, opt, resources):
    """The allocation (argmin of each resource at each budget against its
    derived power of ``C``) and the frontier (the optimal ``E_g``)."""
    series = [Series(f"${name}^*$ (argmin)", budgets, v.optimum[name], "simulation", key=name)
              for name in resources]
    for name, sym in resources.items():
        a = float(opt.allocation[sym])
        series.append(Series(f"$C^{{{a:.2g}}}$ (derived)", budgets, v.optimum[name][0] * (budgets / budgets[0]) ** a,
                             "guide", key=name))
    ell = float(opt.loss_exponent)
    front = Panel("compute-optimal frontier", "compute $C$", "$E_g$ at the optimum", (
        Series("$E_g^*$ (argmin)", budgets, v.loss, "simulation", key="Eg"),
        Series(f"$C^{{-{ell:.2g}}}$ (derived)", budgets, v.loss[0] * (budgets / budgets[0]) ** -ell, "guide",
               key="Eg")), "log", "log")
    return Panel(title, "compute $C$", "optimum", tuple(series), "log", "log"), front


def x2(fast, rng, executor=None):
    n, p = (400, 200) if fast else (2000, 1000)
    seeds = 4 if fast else 20
    noise = 0.1
    m = LinearRidge(PowerLaw(1.5, n), target=SourceTarget(1.0), noise=noise, samples=p,
                    estimator=GradientFlow(time=1.0))
    ts = np.geomspace(0.1, 1e5, 40 if fast else 90)
    th = m.evaluate(time=ts)
    ridge = m.replace(estimator=None, ridge=0.1).evaluate(ridge=1 / ts)
    t_mc = np.geomspace(1.0, 1e4, 4 if fast else 7)
    sim = simulate(m, seeds=seeds, rng=rng, sweep={"time": t_mc}, executor=executor)
    curve = Panel("learning curve in training time", "training time $t$", "error", (
        Series("$E_g$ (gradient flow)", ts, th["Eg"], key="Eg"),
        Series("$E_{tr}$ (gradient flow)", ts, th["Etr"], key="Etr"),
        Series(r"$E_g$ (ridge at $\lambda = 1/t$)", ts, ridge["Eg"], "guide", key="ridge"),
        Series("$E_g$ sim.", t_mc, sim["Eg"][0], "simulation", key="Eg", yerr=sim["Eg"][1]),
        Series("$E_{tr}$ sim.", t_mc, sim["Etr"][0], "simulation", key="Etr", yerr=sim["Etr"][1])), "log", "log")
    t, big_p = sp.symbols("t P", positive=True)
    alpha, r = 1.5, 0.4
    flow = LinearRidge(PowerLaw(alpha, 1000 if fast else 10**4), target=SourceTarget(r),
                       estimator=GradientFlow(time=t))
    opt = compute_optimal(flow, big_p * t)
    budgets = np.geomspace(1e2, 1e4, 3 if fast else 5)
    v = verify_compute_optimal(flow, big_p * t, budgets, points=9 if fast else 25, spread=5 if fast else 10)
    a_p, a_t, ell = (float(opt.allocation[big_p]), float(opt.allocation[t]), float(opt.loss_exponent))
    alloc, front = _optimum_panels("compute-optimal allocation, $C = Pt$", budgets, v, opt, {"P": big_p, "t": t})
    return Figure("X2", "training_dynamics", (
        f"Gradient flow on PowerLaw(1.5, {n}) with a source target r = 1 (P = {p}, sigma^2 = {noise}) [C18]: the "
        f"learning curve in time by contour integrals, Monte Carlo by spectral filtering over {seeds} draws "
        f"(standard errors), and ridge at lambda = 1/t. Right: under C = P t with r = {r}, the argmin of the learning "
        f"curve at each budget against the derived allocation P* ~ C^{a_p:g}, t* ~ C^{a_t:g}, E_g* ~ C^-{ell:g} "
        f"(fitted {v.fitted['P']:.3f}, {v.fitted['t']:.3f}, {v.fitted['loss']:.3f})."), (curve, alloc, front),
        (("N", n), ("P", p), ("noise", noise), ("seeds", seeds)), (),
        "Training dynamics: learning curves in time and the compute-optimal frontier")


def x3(fast, rng, executor=None):
    d, p = (200, 150) if fast else (1000, 750)
    narrow, wide = (80, 300) if fast else (400, 1500)
    seeds = (4, 4) if fast else (16, 16)
    noise = 0.1
    ts = np.geomspace(0.1, 1e5, 30 if fast else 80)
    t_mc = np.geomspace(1.0, 1e4, 4 if fast else 7)
    series = []
    for i, n in enumerate((narrow, wide)):
        m = RandomFeatureRidge(PowerLaw(1.5, d), widths=n, samples=p, noise=noise, target=SourceTarget(0.5),
                               estimator=GradientFlow(time=1.0))
        th = m.evaluate(time=ts)
        sim = simulate(m, seeds=seeds, rng=rng, sweep={"time": t_mc}, executor=executor)
        # one colour per width (an indexed key)
        series += [Series(f"$E_g$, $N = {n}$", ts, th["Eg"], "theory", key=f"n{i}"),
                   Series(f"$E_g$ sim., $N = {n}$", t_mc, sim["Eg"][0], "simulation", key=f"n{i}",
                          yerr=sim["Eg"][1])]
        if n < d:
            series.append(Series(f"approximation floor, $N = {n}$", ts, th["approx"], "guide", key="approx"))
    curve = Panel("random features: learning curve in time", "training time $t$", "$E_g$", tuple(series),
                  "log", "log")
    t, big_n = sp.symbols("t N", positive=True)
    alpha, r = sp.Rational(3, 2), sp.Rational(1, 5)
    rf = RandomFeatureRidge(PowerLaw(alpha, 10**4 if fast else 10**5), widths=big_n, samples=10**9, ridge=0,
                            target=SourceTarget(r))
    opt = compute_optimal(rf, big_n * t)
    budgets = np.geomspace(1e4, 1e6 if fast else 1e7, 3 if fast else 5)
    v = verify_compute_optimal(rf, big_n * t, budgets, points=9 if fast else 21, spread=8 if fast else 12)
    a_n, a_t, ell = (float(opt.allocation[big_n]), float(opt.allocation[t]), float(opt.loss_exponent))
    alloc, front = _optimum_panels("online training, $C = Nt$", budgets, v, opt, {"N": big_n, "t": t})
    return Figure("X3", "feature_training_dynamics", (
        f"Random features on PowerLaw(1.5, {d}) with a source target r = 1/2 (P = {p}, sigma^2 = {noise}), the "
        f"readout trained by gradient flow [C18]: the learning curve in time of N = {narrow} and N = {wide} "
        f"features by contour integrals of the features' linear problem, Monte Carlo on a {seeds[0]} x {seeds[1]} "
        f"grid of data and feature draws (standard errors), and the approximation floor of the narrow model. "
        f"Right: online training (C = N t, P = 10^9) with r = {r}, the argmin over widths at each budget against "
        f"the derived N* ~ C^{a_n:g}, t* ~ C^{a_t:g}, E_g* ~ C^-{ell:g} (fitted {v.fitted['N']:.3f}, "
        f"{v.fitted['t']:.3f}, {v.fitted['loss']:.3f}); time counted for features at the data's scale."),
        (curve, alloc, front), (("D", d), ("P", p), ("noise", noise), ("seeds", seeds[0])), (),
        "Random features trained by gradient flow: learning curves in time and the asymmetric compute-optimal rule")
