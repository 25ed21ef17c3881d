"""Linear ridge regression: generalization and training error, the
bias-variance decomposition, the train-test gap and GCV [R6]-[R8].

The errors of :class:`freeprob.LinearRidge` for an anisotropic population
and a fixed target are checked against the paper's two routes (the
two-point equivalents, and the one-point equivalent of ``y^T (K + lam)^-1 y``
differentiated in the ridge), against the gap identity, and against Monte
Carlo with unbiased component estimators.
"""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

from . import _notation as N
from ._checks import agree, agree_stats, sample_covariance

NAME = "linear-ridge"
TITLE = "Linear ridge regression: errors, decomposition, gap and GCV"

# the symbolic model: Sigma = diag(1, 2, 4), a fixed target in the eigenbasis
_ETA = [1, 2, 4]
_W = np.array([0.6, 0.7, 0.4])
# the Monte Carlo model: a power-law population with a decaying target, N = 300, P = 200
_K = np.arange(1, 301, dtype=float)
_ETA_MC = _K**-1.5
_W_MC = _K ** -1.1 / np.linalg.norm(_K**-1.1)
_MC = dict(noise=0.1, samples=200, ridge=1e-2)


def _mc_model():
    return freeprob.LinearRidge(freeprob.Discrete(_ETA_MC), target=_W_MC, **_MC)


def _tf1_law(eta, w):
    """``tf1(kappa) = sum_k w_k^2 eta_k/(eta_k + kappa)`` as ``||w||^2`` times
    df1 of the law with atoms ``eta_k`` and weights ``w_k^2/||w||^2`` [C7]: an
    independent route to the target functional."""
    w2 = np.asarray(w, dtype=float) ** 2
    return float(w2.sum()), freeprob.Discrete(list(eta), list(w2 / w2.sum()))


def _simulation(rng, seeds=40):
    return _mc_model(), freeprob.simulate(_mc_model(), seeds=seeds, rng=rng)


def _component(key):
    # unbiased estimators (P11) over 40 draws of X, exact Sigma-norm;
    # allowance 3% of the component for finite size at N = 300, P = 200 (P10)
    def check(rng):
        model, sim = _simulation(rng)
        th = model.evaluate()
        mean, se = (float(v[0]) for v in sim[key])
        return agree_stats(mean, se, float(th[key]), allowance=0.03 * float(th[key]), what=key)

    return check


def _one_point(rng):
    # (1/P) y^T (K_hat + lam)^-1 y against tf1(kappa) + sigma^2/kappa over 12
    # draws of X, the label noise averaged exactly (E eps^T A eps = sigma^2 tr A);
    # allowance 2% for the O(1/P) bias (P10)
    model = _mc_model()
    p, lam, s2 = _MC["samples"], _MC["ridge"], _MC["noise"]
    kappa = float(model.evaluate()["kappa"])
    norm2, law = _tf1_law(_ETA_MC, _W_MC)
    th = norm2 * float(law.df1_numeric(np.array([kappa]))[0]) + s2 / kappa
    draws = []
    for _ in range(12):
        x = rng.normal(size=(p, _ETA_MC.size)) * np.sqrt(_ETA_MC)
        a = np.linalg.inv(x @ x.T / p + lam * np.eye(p))
        signal = x @ _W_MC
        draws.append([(signal @ a @ signal + s2 * np.trace(a)) / p])
    return agree(draws, [th], allowance=0.02 * th, what="y^T (K_hat + lambda)^-1 y / P")


def _loo(rng):
    # 1 + Tr[Sigma (Sigma_hat + lam)^-1]/P against kappa/lam: 6 draws of
    # Sigma_hat, allowance 2% (P10)
    model = _mc_model()
    p, lam = _MC["samples"], _MC["ridge"]
    kappa = float(model.evaluate()["kappa"])
    draws = [[1 + np.sum(_ETA_MC * np.diag(np.linalg.inv(sample_covariance(_ETA_MC, p, rng)
                                                         + lam * np.eye(_ETA_MC.size)))) / p] for _ in range(6)]
    return agree(draws, [kappa / lam], allowance=0.02 * kappa / lam, what="leave-one-out denominator")


def _gcv(rng):
    # GCV = (kappa_hat/lam)^2 E_tr - sigma^2 against E_g: 40 draws, allowance 3% (P10)
    model, sim = _simulation(rng)
    th = float(model.evaluate()["Eg"])
    mean, se = (float(v[0]) for v in sim["gcv"])
    return agree_stats(mean, se, th, allowance=0.03 * th, what="GCV against E_g")


def build() -> Derivation:
    k, q, s2, lam = C.kappa, C.q, C.sigma2, C.lam
    model = freeprob.LinearRidge(freeprob.Discrete(_ETA), target=_W)
    qs = model.quantities()
    norm2, law = _tf1_law(_ETA, _W)
    tf1 = N.tf1(k)
    d1, d2, lk = N.df1_Sigma(k), N.df2_Sigma(k), N.lam_of_kappa(k)
    pop = model.population
    named = ((N.E_g, qs["Eg"]), (N.E_tr, qs["Etr"]), (N.Bias2, qs["bias2"]), (N.Var_X, qs["var_X"]),
             (N.Var_Xe, qs["var_X_noise"]), (N.gamma, qs["gamma"]), (N.S_fac, qs["S"]))
    base = ((tf1, norm2 * law.df1(k)), (d1, pop.df1(k)), (d2, pop.df2(k)), (lk, model.equivalent().ridge_of_kappa(k)))
    rng_ = ((k, 0.05, 5.0), (q, 0.1, 2.0), (s2, 0.0, 1.0))
    src = "LinearRidge(Discrete([1, 2, 4]), target=w).quantities()"
    steps = (
        DerivationStep(Eq(N.E_g, (-k**2 * sp.Derivative(tf1, k) + N.gamma * s2) / (1 - N.gamma)),
                       "route 1: $\\hat w - \\bar w = -\\lambda(\\hat\\Sigma + \\lambda)^{-1}\\bar w + (\\hat\\Sigma + "
                       "\\lambda)^{-1}X^\\top\\epsilon/P$ and the two-point equivalents [R5]; $\\mathrm{tf}_1$ from its "
                       "definition [C7], $\\gamma = q\\,\\mathrm{df}^2_\\Sigma(\\kappa)$", "[R6], [R5]", "numeric",
                       "generalization error", where=named + base, ranges=rng_, source=src),
        DerivationStep(Eq(sp.Symbol(r"\tfrac1P y^\top(\hat K + \lambda)^{-1} y"), tf1 + s2 / k),
                       "route 2 needs only a one-point equivalent", "[R6]", "montecarlo", "one-point equivalent",
                       approx=True, checker=_one_point),
        DerivationStep(Eq(N.E_tr, -lk**2 * sp.Derivative(tf1 + s2 / k, k) / sp.Derivative(lk, k)),
                       "route 2: $E_{tr} = -\\lambda^2 \\partial_\\lambda$ of the one-point equivalent, through the "
                       "explicit map $\\lambda(\\kappa)$", "[R6], [R8]", "numeric", "training error",
                       where=named + base, ranges=rng_, source=src),
        DerivationStep(Eq(N.Bias2, k**2 * -sp.Derivative(tf1, k)),
                       "$\\mathbb E_X \\hat w \\simeq \\Sigma(\\Sigma + \\kappa)^{-1}\\bar w$", "[R7]", "numeric", "bias",
                       where=named + base, ranges=rng_, source=src),
        DerivationStep(Eq(N.Bias2, sp.Symbol(r"\mathrm{Bias}^2_{\mathrm{MC}}")),
                       "against unbiased crossed estimators (P11) on a power-law population, $N = 300$, $P = 200$",
                       "[R7], P11", "montecarlo", "bias, Monte Carlo", approx=True, checker=_component("bias2")),
        DerivationStep(Eq(N.Var_X, N.Bias2 * N.gamma / (1 - N.gamma)), "variance over the data", "[R7]",
                       "montecarlo", "Var_X", approx=True, checker=_component("var_X")),
        DerivationStep(Eq(N.Var_Xe, s2 * N.gamma / (1 - N.gamma)), "variance over the data and the label noise",
                       "[R7]", "montecarlo", "Var_Xe", approx=True, checker=_component("var_X_noise")),
        DerivationStep(Eq(N.E_g, N.Bias2 + N.Var_X + N.Var_Xe),
                       "the label noise enters only with $X$: $\\mathrm{Var}_\\epsilon = 0$", "[R7], [C15]", "symbolic",
                       "decomposition", where=named, source=src),
        DerivationStep(Eq(N.S_fac, k / lk), "$S = \\kappa/\\lambda = S_W(\\mathrm{df}^1_\\Sigma(\\kappa))$", "[R8]",
                       "numeric", "S-transform factor", where=named + base, ranges=rng_),
        DerivationStep(Eq(N.E_g + s2, N.S_fac**2 * N.E_tr), "the train-test gap is the square of the S-transform",
                       "[R8]", "symbolic", "gap", where=named, source=src),
        DerivationStep(Eq(1 + sp.Symbol(r"\tfrac1P \mathrm{Tr}\,\Sigma(\hat\Sigma + \lambda)^{-1}"), k / lam),
                       "the leave-one-out denominator of the training residuals concentrates on $\\kappa/\\lambda$",
                       "[R8]", "montecarlo", "leave-one-out", approx=True, checker=_loo),
        DerivationStep(Eq(N.GCV, N.E_g),
                       "GCV/KARE: $(\\hat\\kappa/\\lambda)^2 E_{tr} - \\sigma^2$ estimates $E_g$ from training data",
                       "[R8]", "montecarlo", "GCV", approx=True, checker=_gcv),
    )
    return Derivation(NAME, TITLE, steps, results=(("$E_g$", qs["Eg"]),),
                      assumptions=("[C2]: Gaussian covariates, fixed target $\\bar w$, label noise $\\sigma^2$, "
                                   "the $1/P$ loss", "$q = N/P$",
                                   "$\\Sigma = \\mathrm{diag}(1, 2, 4)$, $\\bar w = (0.6, 0.7, 0.4)$ for the numeric "
                                   "steps; $\\eta_k = k^{-1.5}$, $N = 300$, $P = 200$, $\\lambda = 10^{-2}$, "
                                   "$\\sigma^2 = 0.1$ for the Monte Carlo steps"),
                      summary="Generalization and training error from the renormalized ridge, by the paper's two "
                              "routes, with the decomposition, the train-test gap and GCV.")
