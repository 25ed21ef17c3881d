r"""Additive feature-noise figures F19-F23 (linearized nonlinear random
features [R19]): ``z = F^T x + xi`` with ``sigma_xi^2`` per feature.  The
authors' structured figures set ``sigma_xi = sigma~_xi/sqrt(D)`` (pitfall P8),
so ``feature_noise = sigma~_xi^2/D`` there; ``E_g`` includes the test
features' noise (P6)."""

from __future__ import annotations

from freeprob.figures._base import Figure, Panel, Size
from freeprob.figures._features import (
    _NOTE,
    RF_LABELS,
    SUM,
    _grid,
    with_feature_variance,
)
from freeprob.figures._linear import guide, series, sweep
from freeprob.laws import Identity, PowerLaw
from freeprob.models.features import RandomFeatureRidge
from freeprob.models.linear import SourceTarget


def f19(fast, rng, executor=None, size=Size()):
    d, seeds = size.pick(fast, 60, 200, (4, 4), (25, 25))
    n = d // 2
    lam, noise, sxi2 = 1e-3, 0.0625, 0.25
    ps_th, ps_sim = _grid(d, fast, -2, 2, 20, 0)

    def make(p):
        return RandomFeatureRidge(Identity(), widths=n, dimension=d, noise=noise, ridge=lam, feature_noise=sxi2,
                                  **({} if p is None else {"samples": p}))

    th, sims, rec = sweep(make, ps_th, ps_sim, seeds, rng, executor=executor)
    keys = ("Eg", "Etr", "bias2", "var_X", "var_F", "var_XF", "var_X_noise", "var_XF_noise")
    comp = Panel("errors and components", "$P/D$", "error",
                 series(ps_th / d, th, ps_sim / d, sims, keys, keys + ("gcv",), RF_LABELS), "log", "log")
    prm = Panel("parameters", "$P/D$", "", series(ps_th / d, th, ps_sim / d, sims,
                                                  ("kappa1", "kappa2", "gamma1", "gamma2", "rho", "df1", "df2"),
                                                  ("kappa1",), RF_LABELS), "log", "log")
    return Figure("F19", "unstructured_NLRF", (
        f"Isotropic random features with additive feature noise sigma_xi = 0.5 (D={d}, N={n}, lam=1e-3, "
        f"sigma_eps=0.25) [R19]: dfbar_1 = df1 + sigma_xi^2/kappa_2 enters kappa_1, rho and gamma_1 but not "
        f"df2 (P8); E_g includes the test features' noise (P6). {_NOTE}" + size.note(d, 200, seeds, (25, 25))),
        (comp, prm),
        (("D", d), ("N", n), ("ridge", lam), ("noise", noise), ("feature_noise", sxi2), ("seeds", seeds)), (rec,))


def _structured(fast, rng, *, executor=None, size=Size(), alpha, r, sxi, noise=0.0, seeds_full=(10, 10), lo=0.5,
                n_sim=12):
    """The power-law sweeps over ``P`` of figures F20-F23 (``N = D/2``); the
    last item returned is the caption's size note."""
    d, seeds = size.pick(fast, 500, 10_000, (3, 3), seeds_full)
    n = d // 2
    ps_th, ps_sim = _grid(d, fast, lo, 4.0, n_sim, 0)
    fnoise = sxi**2 / d  # sigma_xi = sigma~_xi / sqrt(D) (P8)

    def make(p):
        return RandomFeatureRidge(PowerLaw(alpha, d), widths=n, target=SourceTarget(r), noise=noise, ridge=1e-8,
                                  feature_noise=fnoise, **({} if p is None else {"samples": p}))

    th, sims, rec = sweep(make, ps_th, ps_sim, seeds, rng, executor=executor)
    th, sims = with_feature_variance(th, sims)
    params = (("D", d), ("N", n), ("alpha", alpha), ("r", r), ("sigma_xi_tilde", sxi), ("ridge", 1e-8),
              ("noise", noise), ("seeds", seeds))
    return d, n, ps_th, ps_sim, th, sims, params, rec, _NOTE + size.note(d, 10_000, seeds, seeds_full)


def f20(fast, rng, executor=None, size=Size()):
    alpha, r, sxi = 3.0, 0.4, 0.04
    d, n, ps_th, ps_sim, th, sims, params, rec, note = _structured(
        fast, rng, executor=executor, size=size, alpha=alpha, r=r, sxi=sxi, seeds_full=(5, 5),
        lo=0.0, n_sim=20)
    i = 4
    panel = Panel("renormalized ridges", "$P$", "", series(ps_th, th, ps_sim, sims, ("kappa1", "kappa2"),
                                                           ("kappa1",), RF_LABELS)
                  + (guide(ps_th, sxi**2, 1.0, -1.0, r"$D\sigma_\xi^2/P$"),
                     guide(ps_th, th["kappa2"][i], ps_th[i], -alpha, r"$P^{-\alpha}$")), "log", "log")
    return Figure("F20", "NLRF_transition_params", (
        f"kappa_1 and kappa_2 with additive feature noise (D={d}, N={n}, alpha={alpha}, r={r}, "
        f"sigma~_xi={sxi}, lam=1e-8) [R19]: the spectral decay P^-alpha until the noise floor D sigma_xi^2/P "
        f"takes over. {note}"), (panel,), params, (rec,))


def f21(fast, rng, executor=None, size=Size()):
    alpha, r, sxi = 1.8, 0.4, 2.5
    d, n, ps_th, ps_sim, th, sims, params, rec, note = _structured(
        fast, rng, executor=executor, size=size, alpha=alpha, r=r, sxi=sxi)
    keys = ("Eg", "bias2", SUM)
    i = -5
    panel = Panel("additive-noise dominated", "$P$", "error", series(ps_th, th, ps_sim, sims, keys, keys, RF_LABELS)
                  + (guide(ps_th, th["bias2"][i], ps_th[i], -2 * r, r"$(P/D\sigma_\xi^2)^{-2r}$"),), "log", "log")
    return Figure("F21", "structured_NLRF_additive_dominated", (
        f"Strong additive feature noise sigma~_xi={sxi} (D={d}, N={n}, alpha={alpha}, r={r}, lam=1e-8) [R19]: "
        f"the noise acts as a ridge D sigma_xi^2/P and the signal decays like (P/D sigma_xi^2)^(-2r). {note}"),
        (panel,), params, (rec,))


def f22(fast, rng, executor=None, size=Size()):
    alpha, r, sxi = 1.8, 1.2, 1.0
    d, n, ps_th, ps_sim, th, sims, params, rec, note = _structured(
        fast, rng, executor=executor, size=size, alpha=alpha, r=r, sxi=sxi, n_sim=10)
    keys = ("Eg", "bias2", SUM)
    i = -5
    panel = Panel("additive and multiplicative noise", "$P$", "error",
                  series(ps_th, th, ps_sim, sims, keys, keys, RF_LABELS)
                  + (guide(ps_th, th["bias2"][i], ps_th[i], -2.0, "$P^{-2}$"),
                     guide(ps_th, 1 / (n * sxi**2), 1.0, 0.0, r"$1/(ND\sigma_\xi^2)$")), "log", "log")
    return Figure("F22", "structured_NLRF_full_dominated", (
        f"Additive feature noise with a smooth target (D={d}, N={n}, alpha={alpha}, r={r}, sigma~_xi={sxi}, "
        f"lam=1e-8) [R19]: signal P^-2 and a finite-width floor of order 1/(N D sigma_xi^2). {note}"),
        (panel,), params, (rec,))


def f23(fast, rng, executor=None, size=Size()):
    alpha, r, sxi, noise = 3.5, 0.8, 0.1, 0.64
    d, n, ps_th, ps_sim, th, sims, params, rec, note = _structured(
        fast, rng, executor=executor, size=size, alpha=alpha, r=r, sxi=sxi, noise=noise,
        seeds_full=(25, 25))
    keys = ("Eg", "var_X_noise", "var_XF_noise")
    i = -5
    panel = Panel("noise mitigated by feature noise", "$P$", "error",
                  series(ps_th, th, ps_sim, sims, keys, keys, RF_LABELS)
                  + (guide(ps_th, th["var_X_noise"][i], ps_th[i], -1 + 1 / alpha,
                           r"$\sigma_\epsilon^2P^{-1+1/\alpha}$"),), "log", "log")
    return Figure("F23", "structured_NLRF_noise_mitigated", (
        f"Label noise sigma_eps=0.8 with additive feature noise sigma~_xi={sxi} (D={d}, N={n}, alpha={alpha}, "
        f"r={r}, lam=1e-8) [R19]: the feature noise acts as an implicit ridge, and the label-noise variance "
        f"decays like sigma_eps^2 P^(-1 + 1/alpha). {note}"), (panel,), params, (rec,))
