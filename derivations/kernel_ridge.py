"""Kernel ridge regression through Gaussian universality [R10], with the
exact sample identities behind GCV and KARE [R3], [R8]."""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

from . import _notation as N
from ._checks import agree, within

NAME = "kernel-ridge"
TITLE = "Kernel ridge regression via Gaussian universality"

_ETA = [1, 2, 4]


def _non_gaussian_features(rng):
    # Gaussian universality for non-Gaussian data: Mercer coordinates with
    # i.i.d. Rademacher signs (+-1) times sqrt(eta_k), eta_k = k^-alpha; the
    # exact test error is sum_k eta_k (w_k - wbar_k)^2.  Theory: LinearRidge
    # on the Mercer spectrum.  20 draws: 4 s.e. + 5% (P10).  (Structured
    # features such as Fourier modes at uniform points on the circle deviate
    # by ~25% at P = 200: universality is asymptotic and needs generic data.)
    n_feat, p, lam, alpha, noise = 300, 200, 1e-3, 1.5, 0.05
    k = np.arange(1, n_feat + 1, dtype=float)
    eta = k**-alpha
    wbar = k ** (-(1 + alpha * (2 * 0.6 - 1)) / 2)
    wbar /= np.linalg.norm(wbar)
    errs = []
    for _ in range(20):
        xs = rng.choice([-1.0, 1.0], size=(p, n_feat)) * np.sqrt(eta)
        y = xs @ wbar + np.sqrt(noise) * rng.normal(size=p)
        w = np.linalg.solve(xs.T @ xs / p + lam * np.eye(n_feat), xs.T @ y / p)
        errs.append([float(np.sum(eta * (w - wbar) ** 2))])
    model = freeprob.LinearRidge(freeprob.Discrete(eta), target=wbar, noise=noise, samples=p, ridge=lam)
    th = float(model.evaluate()["Eg"])
    return agree(errs, [th], allowance=0.05 * th, what="E_g of Rademacher-sign features", relative_to=th)


def _data(rng, p=120, n=80):
    x = rng.normal(size=(p, n)) * np.sqrt(np.linspace(0.1, 2.0, n))
    return x, x @ rng.normal(size=n) / np.sqrt(n) + 0.3 * rng.normal(size=p)


def _gram_duality(rng):
    # exact at finite size: lam/(1 - Tr[Sigma_hat (Sigma_hat + lam)^-1]/P) = 1/tr_P (K_hat + lam)^-1;
    # float64 solves with condition number <= 1e3: tolerance 1e-10
    x, _ = _data(rng)
    p, n = x.shape
    lam = 0.07
    sh, kh = x.T @ x / p, x @ x.T / p
    left = lam / (1 - np.trace(sh @ np.linalg.inv(sh + lam * np.eye(n))) / p)
    right = 1 / (np.trace(np.linalg.inv(kh + lam * np.eye(p))) / p)
    return within(left, right, 1e-10, "kappa_hat from the primal and the dual (Gram) form, P = 120, N = 80")


def _kare(rng):
    # exact at finite size: the library's GCV (one SVD, the KARE form) against
    # E_tr/(1 - Tr[Sigma_hat (Sigma_hat + lam)^-1]/P)^2 from the primal fit;
    # exact, float64 solves with condition number <= 1e4: tolerance 1e-10
    x, y = _data(rng)
    p, n = x.shape
    lam = np.array([0.01, 0.3])
    out = []
    for lv in lam:
        sh = x.T @ x / p
        w = np.linalg.solve(sh + lv * np.eye(n), x.T @ y / p)
        etr = np.mean((y - x @ w) ** 2)
        out.append(etr / (1 - np.trace(sh @ np.linalg.inv(sh + lv * np.eye(n))) / p) ** 2)
    return within(freeprob.gcv(x, y, lam)["gcv"], np.array(out), 1e-10, "GCV (KARE form, SVD) against the primal fit")


def build() -> Derivation:
    lam, k, p, kev = C.lam, C.kappa, sp.Symbol("P", positive=True), sp.Symbol("k", positive=True)
    model = freeprob.LinearRidge(freeprob.Discrete(_ETA), samples=p)
    lam_map = model.equivalent().ridge_of_kappa(k).subs(C.q, model.ratio)
    kernel_sum = sum(sp.Integer(e) / (e + k) for e in _ETA)
    inv_k, inv_kh = sp.Symbol(r"(K + \lambda P\, I)^{-1}"), sp.Symbol(r"\tfrac1P (\hat K + \lambda)^{-1}")
    kh_dual = sp.Symbol(r"1/\mathrm{tr}_P (\hat K + \lambda)^{-1}")
    steps = (
        DerivationStep(Eq(inv_k, inv_kh),
                       "with the $1/P$ loss the kernel ridge is $\\lambda P$ on the raw Gram matrix $K$, "
                       "$\\hat K = K/P$; checked on every eigenvalue $k$ of $K$", "[R10], [C2], P2", "symbolic",
                       "ridge normalization", where=((inv_k, 1 / (kev + lam * p)), (inv_kh, 1 / (kev / p + lam) / p))),
        DerivationStep(Eq(N.lam_of_kappa(k), k - k / p * sp.Symbol(r"\sum_k \frac{\eta_k}{\eta_k + \kappa}")),
                       "with $q\\,\\mathrm{df}^1 = \\frac1P\\sum_k$ the kappa equation needs no dimension $N$: it "
                       "holds for infinite-dimensional feature maps (checked on the three Mercer eigenvalues "
                       "$1, 2, 4$)", "[R10], [R3], P3", "symbolic", "kernel kappa equation",
                       where=((N.lam_of_kappa(k), lam_map),
                              (sp.Symbol(r"\sum_k \frac{\eta_k}{\eta_k + \kappa}"), kernel_sum))),
        DerivationStep(Eq(sp.Symbol(r"E_g^{\mathrm{KRR}}"), (-k**2 * sp.Derivative(N.tf1(k), k) + N.gamma * C.sigma2)
                          / (1 - N.gamma)),
                       "Gaussian universality: the Mercer features $\\psi_k = \\sqrt{\\eta_k}\\phi_k$ act as Gaussian "
                       "features with covariance $\\mathrm{diag}(\\eta)$; checked on non-Gaussian (Rademacher-sign) "
                       "features, $\\eta_k = k^{-1.5}$, $P = 200$", "[R10], [R6]", "montecarlo", "universality",
                       approx=True, checker=_non_gaussian_features),
        DerivationStep(Eq(lam / (1 - sp.Symbol(r"\tfrac NP \mathrm{df}^1_{\hat\Sigma}(\lambda)")), kh_dual),
                       "the observable ridge in the dual (Gram) form, exact at finite size", "[R3], [R10]", "numeric",
                       "Gram duality", checker=_gram_duality),
        DerivationStep(Eq(sp.Symbol(r"\frac{E_{tr}}{\left(1 - \frac1P\mathrm{Tr}\,\hat\Sigma(\hat\Sigma+\lambda)^{-1}\right)^2}"),
                          sp.Symbol(r"\frac{\frac1P y^\top(\hat K + \lambda)^{-2} y}{\left(\mathrm{tr}_P(\hat K + \lambda)^{-1}\right)^2}")),
                       "GCV equals the kernel alignment risk estimator (KARE), exactly", "[R8], [R10]", "numeric",
                       "GCV = KARE", checker=_kare, source="freeprob.gcv(X, y, ridge)"),
    )
    return Derivation(NAME, TITLE, steps,
                      assumptions=("Mercer decomposition $k(x, x') = \\sum_k \\eta_k \\phi_k(x)\\phi_k(x')$ with "
                                   "$\\mathbb E\\,\\phi_k\\phi_l = \\delta_{kl}$",
                                   "target $f^*(x) = \\sum_k \\bar w_k \\sqrt{\\eta_k}\\phi_k(x)$"),
                      summary="Kernel ridge regression is linear ridge regression on the Mercer features, with "
                              "unnormalized spectral sums. Universality is asymptotic: Fourier features at uniform "
                              "points on the circle deviate by about 25% at $P = 200$, while generic non-Gaussian "
                              "features agree within the Monte Carlo error.")
