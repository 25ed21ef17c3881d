r"""Random-feature figures F12-F18: isotropic and structured linear random
features, deep chains, anisotropic weights and the scaling phase diagram.
Theory curves are :meth:`freeprob.RandomFeatureRidge.evaluate`; simulation
points are :func:`freeprob.simulate` with crossed X/F seeds and the unbiased
ANOVA components (pitfall P11), error bars the row-plus-column jackknife
standard errors."""

from __future__ import annotations

import numpy as np

from freeprob.figures._base import Figure, Panel, Series, Size
from freeprob.figures._linear import LABELS, guide, series, sweep
from freeprob.laws import Identity, PowerLaw
from freeprob.models.features import RandomFeatureRidge
from freeprob.models.linear import SourceTarget
from freeprob.montecarlo.simulate import simulate
from freeprob.scaling import phase_diagram

RF_LABELS = dict(LABELS, kappa1=r"$\kappa_1$", kappa2=r"$\kappa_2$", gamma1=r"$\gamma_1$", gamma2=r"$\gamma_2$",
                 rho=r"$\rho$", var_F=r"Var$_F$", var_XF=r"Var$_{XF}$", var_XF_noise=r"Var$_{XF\epsilon}$",
                 **{"var_F+var_XF": r"Var$_F$+Var$_{XF}$"})
SUM = "var_F+var_XF"


def with_feature_variance(th, sims):
    """Add ``Var_F + Var_XF`` (the finite-width variance) to theory and
    simulation; the simulation's standard error adds the two in quadrature
    (the jackknife errors of the two ANOVA components are treated as
    independent)."""
    th = dict(th, **{SUM: np.asarray(th["var_F"]) + np.asarray(th["var_XF"])})
    if sims:
        (a, ea), (b, eb) = sims["var_F"], sims["var_XF"]
        sims = dict(sims, **{SUM: (a + b, np.hypot(ea, eb))})
    return th, sims


def _grid(d, fast, lo=0.0, hi=4.0, n_sim=20, first=1, min_p=3):
    """``P = D/q`` for ``q`` log-spaced in ``[10^lo, 10^hi]`` (pitfall P1: in
    the RF code ``q = D/P``): a fine theory grid and the simulation points."""
    ps_th = np.unique(np.maximum(1, np.round(d / np.logspace(lo, hi, 120))).astype(int))
    q_sim = np.logspace(lo, hi, 5 if fast else n_sim)[first:]
    ps_sim = np.unique(np.maximum(min_p, np.round(d / q_sim)).astype(int))
    return ps_th, ps_sim


_NOTE = ("Simulations cross X and F seeds; components are unbiased ANOVA estimates in the Sigma-norm "
         "(the authors' naive seed means are biased by Var/n_seeds, pitfall P11); error bars are standard errors.")


def f12(fast, rng, executor=None, size=Size()):
    d, seeds = size.pick(fast, 60, 200, (4, 4), (25, 25))
    n = d // 2
    lam, noise = 1e-3, 0.0625
    ps_th, ps_sim = _grid(d, fast, -2, 2, 20, 0)

    def make(p):
        return RandomFeatureRidge(Identity(), widths=n, dimension=d, noise=noise, ridge=lam,
                                  **({} if p is None else {"samples": p}))

    th, sims, rec = sweep(make, ps_th, ps_sim, seeds, rng, executor=executor)
    keys = ("Eg", "Etr", "bias2", "var_X", "var_F", "var_XF", "var_X_noise", "var_XF_noise")
    comp = Panel("errors and components", "$P/D$", "error", series(
        ps_th / d, th, ps_sim / d, sims, keys, keys + ("gcv",), RF_LABELS), "log", "log")
    params = Panel("parameters", "$P/D$", "", series(
        ps_th / d, th, ps_sim / d, sims, ("kappa1", "kappa2", "gamma1", "gamma2", "df1", "df2"), ("kappa1",),
        RF_LABELS), "log", "log")
    return Figure("F12", "unstructured_LRF", (
        f"Isotropic linear random features (D={d}, N={n}, lam=1e-3, sigma_eps=0.25): all components of E_g "
        f"[R13], [R14], E_tr and GCV; the renormalized ridges kappa_1, kappa_2, gamma_1, gamma_2 and df1, df2 "
        f"at kappa_2 [R12]. Simulated kappa1 is the GCV estimate kappa_hat. "
        f"Labels name the plotted quantity (the authors mislabel kappa_2^2 (-tf_1') as tf_1, pitfall P18). {_NOTE}"
        + size.note(d, 200, seeds, (25, 25))),
        (comp, params), (("D", d), ("N", n), ("ridge", lam), ("noise", noise), ("seeds", seeds)), (rec,))


def _structured(fast, rng, *, executor=None, size=Size(), alpha, r, lam=None, ell=None, noise=0.0, d_full=10_000,
                n_full=1000, seeds_full=(20, 20), lo=0.0, hi=4.0, n_sim=20, first=1, widths=None,
                layer_variance="input"):
    """The power-law sweeps over ``P`` of figures F13-F16 (widths scale with
    ``D``); the last item returned is the caption's size note."""
    d, seeds = size.pick(fast, 600, d_full, (3, 3), seeds_full)
    n = max(20, n_full * d // d_full)
    ps_th, ps_sim = _grid(d, fast, lo, hi, n_sim, first)
    w = n if widths is None else [max(10, v * d // d_full) for v in widths]

    def make(p, lv=layer_variance):
        kw = {} if p is None else {"samples": p}
        ridge = lam if ell is None else (None if p is None else float(p) ** -ell)
        if ridge is not None:
            kw["ridge"] = ridge
        return RandomFeatureRidge(PowerLaw(alpha, d), widths=w, target=SourceTarget(r), noise=noise,
                                  layer_variance=lv, **kw)

    th, sims, rec = sweep(make, ps_th, ps_sim, seeds, rng, ell, executor=executor)
    th, sims = with_feature_variance(th, sims)
    params = (("D", d), ("N", w), ("alpha", alpha), ("r", r), ("ridge", lam if ell is None else f"P^-{ell}"),
              ("noise", noise), ("seeds", seeds))
    return d, n, ps_th, ps_sim, th, sims, params, make, rec, _NOTE + size.note(d, d_full, seeds, seeds_full)


def f13(fast, rng, executor=None, size=Size()):
    alpha, r = 1.5, 1.2
    d, n, ps_th, ps_sim, th, sims, params, _, rec, note = _structured(
        fast, rng, executor=executor, size=size, alpha=alpha, r=r, lam=1e-5)
    keys = ("Eg", "bias2", "var_X", SUM)
    i = 5
    vl = Series(r"$N^{1/(1+\alpha)}$, $N$", (n ** (1 / (1 + alpha)), n), (), "vline")
    comp = Panel("variance dominated", "$P$", "error", series(ps_th, th, ps_sim, sims, keys, keys + ("gcv",), RF_LABELS)
                 + (guide(ps_th, th["Eg"][i], ps_th[i], -2 * alpha * min(r, 1), r"$P^{-2\alpha\min(r,1)}$"),
                    guide(ps_th, th[SUM][-i], ps_th[-i], 1 - 2 * alpha * min(r, 0.5),
                          r"$P^{-2\alpha\min(r,1/2)}P/N$"), vl), "log", "log")
    prm = Panel("parameters", "$P$", "", series(ps_th, th, ps_sim, sims, ("kappa1", "kappa2", "df1", "df2"),
                                                ("kappa1",), RF_LABELS), "log", "log")
    return Figure("F13", "structured_LRF_OV", (
        f"Structured linear random features, overparameterized and variance dominated (D={d}, N={n}, "
        f"alpha={alpha}, r={r}, lam=1e-5) [R16b]: the feature variance Var_F + Var_XF grows like "
        f"P^(1 - 2 alpha min(r,1/2))/N and dominates for P between N^(1/(1+alpha)) and N. {note}"),
        (comp, prm), params, (rec,))


def f14(fast, rng, executor=None, size=Size()):
    alpha, r, ell = 2.0, 1.5, 1.5
    d, n, ps_th, ps_sim, th, sims, params, _, rec, note = _structured(
        fast, rng, executor=executor, size=size, alpha=alpha, r=r, ell=ell, n_full=2000,
        lo=0.5, n_sim=12, first=0)
    keys = ("Eg", "bias2", "var_X", SUM)
    i = 5
    comp = Panel(r"ridge dominated, $\lambda=P^{-\ell}$", "$P$", "error",
                 series(ps_th, th, ps_sim, sims, keys, keys + ("gcv",), RF_LABELS)
                 + (guide(ps_th, th["Eg"][i], ps_th[i], -2 * ell * min(r, 1), r"$P^{-2\ell\min(r,1)}$"),
                    guide(ps_th, th[SUM][i], ps_th[i], -(ell - ell / alpha), r"$P^{-(\ell-\ell/\alpha)}/N$")),
                 "log", "log")
    prm = Panel("parameters", "$P$", "", series(ps_th, th, ps_sim, sims, ("kappa1", "kappa2"), ("kappa1",), RF_LABELS)
                + (guide(ps_th, th["kappa2"][i], ps_th[i], -alpha, r"$P^{-\alpha}$"),
                   guide(ps_th, th["kappa1"][-i], ps_th[-i], -ell, r"$P^{-\ell}$")), "log", "log")
    return Figure("F14", "structured_LRF_variance_ridge_dominated", (
        f"Structured random features with a decaying ridge lam = P^-{ell} (D={d}, N={n}, alpha={alpha}, r={r}) "
        f"[R16c]: signal ~ P^(-2 ell min(r,1)), feature variance ~ P^-(ell - ell/alpha)/N. The ridge exponent "
        f"applies to lam itself as in the authors' code (pitfall P12: the phase diagram F18 uses lam D/N). {note}"),
        (comp, prm), params, (rec,))


def f15(fast, rng, executor=None, size=Size()):
    alpha, r, ell, noise = 3.0, 0.3, 2.0, 0.16
    d, n, ps_th, ps_sim, th, sims, params, _, rec, note = _structured(
        fast, rng, executor=executor, size=size, alpha=alpha, r=r, ell=ell, noise=noise,
        n_full=2000, seeds_full=(40, 40), lo=0.5, n_sim=12, first=0)
    keys = ("Eg", "bias2", "var_X", "var_X_noise", "var_XF_noise")
    i = 5
    comp = Panel("noise mitigated", "$P$", "error", series(ps_th, th, ps_sim, sims, keys, keys, RF_LABELS)
                 + (guide(ps_th, th["bias2"][i], ps_th[i], -2 * ell * r, r"$P^{-2\ell r}$"),
                    guide(ps_th, th["var_X_noise"][-i], ps_th[-i], -(alpha - ell) / alpha,
                          r"$\sigma_\epsilon^2P^{-(\alpha-\ell)/\alpha}$")), "log", "log")
    return Figure("F15", "structured_LRF_noise_mitigated", (
        f"Label noise sigma_eps=0.4 with lam = P^-{ell} (D={d}, N={n}, alpha={alpha}, r={r}) [R16c]: the ridge "
        f"mitigates the noise, whose variance decays like P^-((alpha - ell)/alpha). {note}"), (comp,), params, (rec,))


def f16(fast, rng, executor=None, size=Size()):
    alpha, r = 1.5, 0.7
    d, n, ps_th, ps_sim, th, sims, params, make, rec, note = _structured(
        fast, rng, executor=executor, size=size, alpha=alpha, r=r, lam=1e-5, d_full=2000, widths=(1000, 1000), hi=3.0)
    fan = make(None, "fan_in").evaluate(samples=ps_th.astype(float))
    keys = ("Eg", "bias2", "var_X", SUM)
    comp = Panel("deep linear random features", "$P$", "error",
                 series(ps_th, th, ps_sim, sims, keys, keys + ("gcv",), RF_LABELS)
                 + (Series(r"$E_g$, fan-in variances $1/N_{\ell-1}$", ps_th, fan["Eg"], "guide"),), "log", "log")
    return Figure("F16", "deep_structured_LRF", (
        f"Deep linear random features (D={d}, widths {dict(params)['N']}, alpha={alpha}, r={r}, lam=1e-5) [R17]. "
        "Theory and simulation both use entry variance 1/D in every layer, for which prod_l (N_l/D - df) is "
        "exact; the authors' final notebook simulated 1/N_(l-1) against the 1/D theory (pitfall P7). The dashed "
        f"curve is the fan-in (1/N_(l-1)) theory, which freeprob also derives. {note}"), (comp,), params, (rec,))


def f17(fast, rng, executor=None, size=Size()):
    d, seeds = size.pick(fast, 800, 10_000, (3, 3), (10, 10))
    p, alpha, r = 10, 1.7, 0.8
    widths = np.unique(np.round(np.logspace(1.5, np.log10(d) - 0.3, 4 if fast else 10)).astype(int))
    wth = np.unique(np.round(np.logspace(1.5, np.log10(d) - 0.3, 10 if fast else 30)).astype(int))
    alphas_f = (0.0, 0.7, 1.5) if fast else (0.0, 0.4, 0.6, 0.7, 0.8, 1.5, 2.0, 2.5)
    out = []
    for j, af in enumerate(alphas_f):
        def make(nw, af=af):
            fc = None if af == 0 else PowerLaw(af, int(nw))
            return RandomFeatureRidge(PowerLaw(alpha, d), widths=int(nw), samples=p, ridge=0.0,
                                      target=SourceTarget(r), feature_covariance=fc)

        th = [with_feature_variance(make(nw).evaluate(), {})[0][SUM] for nw in wth]
        sm, se = [], []
        for nw in widths:
            sim = simulate(make(nw), seeds=seeds, rng=rng, executor=executor)
            _, s = with_feature_variance({"var_F": 0, "var_XF": 0}, sim)
            sm.append(float(np.ravel(s[SUM][0])[0]))
            se.append(float(np.ravel(s[SUM][1])[0]))
        out += [Series(rf"$\alpha_F={af}$", wth, np.ravel(th), key=f"a{j}"),
                Series(rf"$\alpha_F={af}$ sim.", widths, sm, "simulation", key=f"a{j}", yerr=se)]
    panel = Panel("finite-width variance, anisotropic weights", "width $N$", r"Var$_F$+Var$_{XF}$", tuple(out),
                  "log", "log")
    return Figure("F17", "anisotropic_weights_finite_width", (
        f"Finite-width variance Var_F + Var_XF vs width N for feature covariances Sigma_F = diag(j^-alpha_F) "
        f"(D={d}, P={p}, ridgeless, alpha={alpha}, r={r}) [R18]. The authors show simulations only; the "
        "theory curves come from the kappa_F dimension change of Sigma_F x MP, whose local exponent crosses "
        "over from 1 (alpha_F < 1/2) to 2(1 - alpha_F) and 0 (alpha_F > 1) (see scaling.finite_width_curve)."
        + size.note(d, 10_000, seeds, (10, 10))),
        (panel,), (("D", d), ("P", p), ("alpha", alpha), ("r", r), ("alpha_F", alphas_f), ("seeds", seeds)))


def f18(fast, rng, executor=None):
    grid = 120 if fast else 1000
    alpha, r, c = 1.2, 1.1, 0.3
    panels = tuple(Panel(title, r"$\ell$", "$q$", extra=(("phase", phase_diagram(alpha, r, c, noisy)), ("grid", grid)))
                   for title, noisy in (("noiseless", False), ("noisy (signal term with min(r,1))", True)))
    return Figure("F18", "phase_plot", (
        f"Dominant term of E_g ~ P^-beta in the (ell, q) plane, lam D/N ~ P^-ell, N ~ P^q, alpha={alpha}, r={r}, "
        f"c={c} [R16e]: colours mark the dominant term (signal, finite-width variance, width-limited signal, label "
        "noise) and black contours are levels of beta. "
        "Corrected: the authors' noisy plot drops r from the signal term (pitfall P17); here it is "
        "2 alpha min(1, ell/alpha) min(r, 1) in both panels."), panels,
        (("alpha", alpha), ("r", r), ("c", c), ("grid", grid)))
