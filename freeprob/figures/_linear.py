r"""Linear-ridge figures F6-F11: renormalized ridge, degrees of freedom,
double descent, power-law scaling and multiple descent.  Theory curves are
:meth:`freeprob.LinearRidge.evaluate` on a fine grid of ``P``; simulation
points are :func:`freeprob.simulate` (one model per ``P``) with standard
errors (the authors plot standard deviations across seeds)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from freeprob.figures._base import Figure, Panel, Series, Sweep
from freeprob.laws import Discrete, Identity, PowerLaw
from freeprob.models.linear import LinearRidge, SourceTarget
from freeprob.montecarlo.simulate import simulate

LABELS = {"kappa": r"$\kappa$", "kappa_hat": r"$\hat\kappa_{GCV}$", "df1": r"$\mathrm{df}_1$",
          "df2": r"$\mathrm{df}_2$", "gamma": r"$\gamma$", "Eg": r"$E_g$", "Etr": r"$E_{tr}$",
          "bias2": r"Bias$^2$", "var_X": r"Var$_X$", "var_X_noise": r"Var$_{X\epsilon}$", "gcv": "GCV",
          "S": r"$S$"}
#: simulation key -> the theory key it estimates (GCV estimates E_g, pitfall P6)
SIM_OF = {"kappa_hat": "kappa", "gcv": "Eg"}


def sweep(make, ps_theory, ps_sim, seeds, rng, ridge_exponent=None, executor=None):
    """Theory on ``ps_theory`` (one evaluate call) and simulations at
    ``ps_sim`` (one model per ``P``, ``make(P)``; ``make(None)`` is the model
    evaluated over ``P``): ``(theory dict, {key: (mean, se)}, Sweep)``.
    ``ridge_exponent`` ``ell`` sets ``lam = P^-ell``."""
    rec = Sweep(make(None), tuple(int(p) for p in ps_theory), tuple(int(p) for p in ps_sim), ridge_exponent)
    th = rec.model.evaluate(samples=np.asarray(ps_theory, dtype=float), **rec.ridge(ps_theory))
    sims = {}
    for p in ps_sim:
        s = simulate(make(int(p)), seeds=seeds, rng=rng, executor=executor)
        for k, (m, e) in s.items():
            sims.setdefault(k, ([], []))
            sims[k][0].append(float(np.ravel(m)[0]))
            sims[k][1].append(float(np.ravel(e)[0]))
    return th, {k: (np.array(m), np.array(e)) for k, (m, e) in sims.items()}, rec


def series(x_th, th, x_sim, sims, theory_keys, sim_keys, labels=LABELS):
    """Theory lines for ``theory_keys`` and simulation points for
    ``sim_keys`` (coloured by the theory key they estimate)."""
    out = [Series(labels[k], x_th, th[k], key=k) for k in theory_keys]
    for k in sim_keys:
        m, e = sims[k]
        out.append(Series(f"{labels[k]} sim.", x_sim, m, "simulation", key=SIM_OF.get(k, k), yerr=e))
    return tuple(out)


def guide(x, y_anchor, x_anchor, exponent, label):
    """Power-law guide ``c x^exponent`` through ``(x_anchor, y_anchor)``."""
    x = np.asarray(x, dtype=float)
    return Series(label, x, y_anchor * (x / x_anchor) ** exponent, "guide")


def _unstructured(fast, rng, executor=None):
    n = 50 if fast else 250
    seeds = 6 if fast else 50
    lam, noise = 1e-3, 0.25
    q_sim = np.logspace(-2, 2, 7 if fast else 21)
    ps_sim = np.unique(np.maximum(2, np.round(n / q_sim)).astype(int))
    ps_th = np.unique(np.maximum(1, np.round(n / np.logspace(-2, 2, 121))).astype(int))

    def make(p):
        return LinearRidge(Identity(), dimension=n, noise=noise, ridge=lam, **({} if p is None else {"samples": p}))

    th, sims, rec = sweep(make, ps_th, ps_sim, seeds, rng, executor=executor)
    params = (("N", n), ("ridge", lam), ("noise", noise), ("seeds", seeds))
    return n, ps_th, ps_sim, th, sims, params, rec


_UNSTRUCTURED_NOTE = ("Error bars are standard errors over seeds; the components are unbiased estimators "
                      "(pitfall P11), GCV = (kappa_hat/lam)^2 E_tr - sigma^2 with sigma^2 subtracted once (P6).")


def f6(fast, rng, executor=None):
    n, ps_th, ps_sim, th, sims, params, rec = _unstructured(fast, rng, executor)
    keys = ("kappa", "df1", "df2", "gamma")
    panels = tuple(Panel(title, xl, "", series(x(ps_th), th, x(ps_sim), sims, keys, ("kappa_hat", "df1")),
                         "log", "log")
                   for title, xl, x in (("vs N/P", r"$q=N/P$", lambda p: n / p),
                                        ("vs P/N", r"$P/N$", lambda p: p / n)))
    return Figure("F6", "unstructured_LR_params", (
        f"Isotropic linear ridge (Sigma = I, N={n}, lam=1e-3, sigma_eps=0.5): renormalized ridge kappa [R3], "
        f"df1, df2 and gamma = q df2 [R9], with the empirical kappa_hat (from the data's GCV, [R8]) and the "
        f"empirical df1 of the sample covariance. {_UNSTRUCTURED_NOTE}"), panels, params, (rec,))


def f7(fast, rng, executor=None):
    n, ps_th, ps_sim, th, sims, params, rec = _unstructured(fast, rng, executor)
    keys = ("Eg", "Etr", "bias2", "var_X", "var_X_noise")
    panel = Panel("double descent", r"$q=N/P$", "error", series(
        n / ps_th, th, n / ps_sim, sims, keys, keys[:-1] + ("var_X_noise", "gcv")), "log", "log")
    return Figure("F7", "unstructured_LR_logspace", (
        f"Isotropic linear ridge, N={n}: E_g, E_tr and the components Bias^2, Var_X, Var_Xeps [R6]-[R7] vs q = "
        f"N/P (double descent at q = 1), with simulations and GCV [R8]. {_UNSTRUCTURED_NOTE}"), (panel,), params,
        (rec,))


def f8(fast, rng, executor=None):
    n = 50 if fast else 250
    seeds = 6 if fast else 50
    lam, noise = 1e-3, 0.25
    ps_sim = np.unique(np.round(n * np.linspace(0.1, 2, 6 if fast else 20)).astype(int))
    ps_th = np.unique(np.round(n * np.linspace(0.05, 2, 200)).astype(int))

    def make(p):
        return LinearRidge(Identity(), dimension=n, noise=noise, ridge=lam, **({} if p is None else {"samples": p}))

    th, sims, rec = sweep(make, ps_th, ps_sim, seeds, rng, executor=executor)
    keys = ("Eg", "Etr", "bias2", "var_X", "var_X_noise")
    panel = Panel("double descent, linear axes", r"$P/N$", "error", series(
        ps_th / n, th, ps_sim / n, sims, keys, keys + ("gcv",)), ylim=(-0.5, 4.5))
    return Figure("F8", "unstructured_LR_linspace", (
        f"As F7 on linear axes vs P/N (N={n}); the peak at P = N is the interpolation threshold. "
        f"{_UNSTRUCTURED_NOTE}"), (panel,), (("N", n), ("ridge", lam), ("noise", noise), ("seeds", seeds)), (rec,))


def _structured(fast, alpha, r, lam, rng, n_full=10_000, noise=0.0, executor=None):
    n = 400 if fast else n_full
    seeds = 4 if fast else 30
    ps_sim = np.unique(np.round(np.logspace(0.5, np.log10(n) - (0.6 if fast else 1), 6 if fast else 20)).astype(int))
    ps_th = np.unique(np.round(np.logspace(0, np.log10(n) - 0.5, 80)).astype(int))

    def make(p):
        return LinearRidge(PowerLaw(alpha, n), target=SourceTarget(r), noise=noise, ridge=lam,
                           **({} if p is None else {"samples": p}))

    th, sims, rec = sweep(make, ps_th, ps_sim, seeds, rng, executor=executor)
    return n, ps_th, ps_sim, th, sims, (("N", n), ("alpha", alpha), ("r", r), ("ridge", lam), ("seeds", seeds)), rec


def f9(fast, rng, executor=None):
    alpha, r = 2.0, 1.8
    n, ps_th, ps_sim, th, sims, params, rec = _structured(fast, alpha, r, 1e-4, rng, executor=executor)
    p_mid = ps_th[len(ps_th) // 3]
    i = list(ps_th).index(p_mid)
    kap = Panel(r"renormalized ridge", "$P$", r"$\kappa$", series(ps_th, th, ps_sim, sims, ("kappa",), ("kappa_hat",))
                + (guide(ps_th, th["kappa"][i], p_mid, -alpha, r"$\propto P^{-\alpha}$"),), "log", "log")
    dfs = Panel("degrees of freedom", "$P$", "", series(ps_th, th, ps_sim, sims, ("df1", "df2", "gamma"), ("df1",))
                + (guide(ps_th, 1.0 / n, 1.0, 1.0, "$P/N$"),), "log", "log")
    return Figure("F9", "structured_LR_params", (
        f"Power-law population eta_k = k^-{alpha} (N={n}), source r={r}, lam=1e-4, noiseless: kappa follows "
        f"P^-alpha until the ridge takes over, df1 ~ P/N [R3], [R11]. Simulation kappa_hat is the GCV "
        f"estimate [R8]; error bars are standard errors."), (kap, dfs), params, (rec,))


def f10(fast, rng, executor=None):
    panels, params, recs = [], [], []
    for title, alpha, r in (("capacity-limited (r > 1)", 2.0, 1.8), ("source-limited (r < 1)", 1.1, 0.5)):
        n, ps_th, ps_sim, th, sims, prm, rec = _structured(fast, alpha, r, 1e-4, rng, executor=executor)
        recs.append(replace(rec, panels=(title,)))
        beta = 2 * alpha * min(r, 1)
        i = len(ps_th) // 3
        keys = ("Eg", "bias2", "var_X")
        panels.append(Panel(title, "$P$", "error", series(ps_th, th, ps_sim, sims, keys, keys + ("gcv",))
                            + (guide(ps_th, th["Eg"][i], ps_th[i], -beta,
                                     rf"$P^{{-2\alpha\min(r,1)}}=P^{{-{beta:.3g}}}$"),), "log", "log"))
        params.append((title, prm))
    return Figure("F10", "structured_LR_scaling", (
        "Power-law scaling of linear ridge [R11]: E_g ~ P^(-2 alpha min(r,1)) in the capacity-limited "
        "(alpha=2, r=1.8) and source-limited (alpha=1.1, r=0.5; the authors' final parameters for this "
        "case are not recorded) regimes, lam=1e-4, noiseless. The GCV points estimate E_g from training data "
        "alone."), tuple(panels), tuple(params), tuple(recs))


def f11(fast, rng, executor=None):
    sizes = (5, 50, 1000) if fast else (10, 100, 10_000)
    vals, wts = (1.0, 1e-2, 1e-5), (1.0, 10.0, 100.0)
    d = sum(sizes)
    eta = np.repeat(vals, sizes)
    wbar = np.repeat(wts, sizes)
    wbar *= 100 / np.linalg.norm(wbar)
    lam = 1e-8
    seeds = 4 if fast else 30
    ps_sim = np.unique(np.round(np.logspace(0.3, np.log10(d) - (0.5 if fast else 1), 6 if fast else 20)).astype(int))
    ps_th = np.unique(np.round(np.logspace(0, np.log10(d) - 0.3, 150)).astype(int))

    def make(p):
        return LinearRidge(Discrete(eta), target=wbar, ridge=lam, **({} if p is None else {"samples": p}))

    th, sims, rec = sweep(make, ps_th, ps_sim, seeds, rng, executor=executor)
    keys = ("Eg", "bias2", "var_X")
    vl = Series("block edges $N_1$, $N_1+N_2$", (sizes[0], sizes[0] + sizes[1]), (), "vline")
    panel = Panel("multiple descent", "$P$", "error", series(ps_th, th, ps_sim, sims, keys, keys) + (vl,),
                  "log", "log")
    return Figure("F11", "multiple_descent", (
        f"Three-block population (sizes {list(sizes)}, eigenvalues {list(vals)}, target weights {list(wts)} "
        f"rescaled to ||wbar|| = 100), lam=1e-8, noiseless: a descent each time P crosses a block edge [R6], [R11]. "
        "Error bars are standard errors."), (panel,),
        (("sizes", sizes), ("eigenvalues", vals), ("weights", wts), ("ridge", lam), ("seeds", seeds)), (rec,))
