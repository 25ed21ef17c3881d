"""Deterministic equivalence: the renormalized ridge kappa = lambda S_W(df1(kappa)) [R3], [R4].

The chain of :meth:`freeprob.models.equivalence.DeterministicEquivalent.steps`, each
link checked: multiplicativity against sampled covariances, the df
convention at the library's algebraic S-transform, the algebra of the
inversion, the explicit map and its derivatives, uniqueness by convexity,
the sample identities and the ridgeless and small-ridge limits.
"""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq
from freeprob.montecarlo.sampling import population_wishart_eigenvalues
from freeprob.numeric.compile import compile_expr

from . import _notation as N
from ._checks import agree, within

NAME = "deterministic-equivalence"
TITLE = "Deterministic equivalence and the renormalized ridge"

_POP = freeprob.Discrete([1, 3])


def _draws(rng, n=600, p=400, draws=4):
    sigma = np.repeat([1.0, 3.0], n // 2)
    return [population_wishart_eigenvalues(sigma, p, rng) for _ in range(draws)], n / p


def _multiplicativity(rng):
    # the S-transform of the sample covariance, read off the sampled spectrum
    # as (1 - df)/(df lam) at df = df1_hat(lam), against S_Sigma(df) S_W(df)
    # from the library at the same df.  N = 600, P = 400; the deterministic
    # equivalent has an O(1/N) finite-size bias (P10): allowance 2/N relative.
    eigs, q = _draws(rng)
    lam = np.array([0.05, 0.3, 2.0])
    s_prod = compile_expr(_POP.s_transform(C.df, convention="df")
                          * freeprob.MarchenkoPastur(q).s_transform(C.df, convention="df"), (C.df,))
    rows = []
    for e in eigs:
        d = np.array([np.mean(e / (e + x)) for x in lam])
        s_hat = (1 - d) / (d * lam)
        rows.append(s_hat / np.asarray(s_prod(d), dtype=float) - 1)
    return agree(rows, np.zeros(lam.size), allowance=2 * q / eigs[0].size,
                 what="S_hat / (S_Sigma S_W) - 1 at 3 ridges, N = 600, P = 400")


def _df_equivalence(rng):
    # df1 of the sample covariance at lam against df1_Sigma(kappa): N = 600,
    # P = 400, 4 draws, allowance 2/N for the O(1/N) bias of real Wisharts
    eigs, q = _draws(rng)
    lam = np.array([1e-3, 1e-2, 1e-1, 1.0])
    kappa = freeprob.deterministic_equivalent(_POP, ratio=q).solve(lam)
    draws = [[np.mean(e / (e + x)) for x in lam] for e in eigs]
    return agree(draws, _POP.df1_numeric(kappa), allowance=2 / eigs[0].size, what="df1 at 4 ridges")


def _kappa_hat(rng):
    # the observable kappa_hat = lam/(1 - Tr[Sigma_hat (Sigma_hat + lam)^-1]/P)
    # from the same draws; allowance 3% for its O(1/P) bias (P10)
    eigs, q = _draws(rng)
    lam = np.array([1e-2, 1e-1, 1.0])
    kappa = freeprob.deterministic_equivalent(_POP, ratio=q).solve(lam)
    draws = [[x / (1 - q * np.mean(e / (e + x))) / k for x, k in zip(lam, kappa)] for e in eigs]
    return agree(draws, np.ones(lam.size), allowance=0.03, what="kappa_hat/kappa at 3 ridges")


def _ridgeless(rng):
    # q > 1 at lam = 0: the solver's kappa_0 against its defining equation;
    # the solve is to ~1e-14 relative and df1 is well conditioned: tolerance 1e-12
    pop = freeprob.PowerLaw(1.3, 400)
    k0 = freeprob.deterministic_equivalent(pop, ratio=2.5).solve(np.array([0.0]))
    return within(2.5 * pop.df1_numeric(k0), np.ones(1), 1e-12, "q df1(kappa_0) against 1 at q = 5/2")


def _small_ridge(rng):
    # q < 1: kappa -> 0 with S = kappa/lam -> 1/(1 - q) (df1 -> 1).  At lambda =
    # 1e-12 the next term is q (1 - df1)/(1 - q) ~ kappa <1/eta> ~ 5e-9 for the
    # smallest eigenvalues 400^-1.3: tolerance 1e-7
    pop = freeprob.PowerLaw(1.3, 400)
    lam = np.array([1e-12])
    kappa = freeprob.deterministic_equivalent(pop, ratio=0.5).solve(lam)
    return within(kappa / lam, np.full(1, 2.0), 1e-7, "kappa/lambda at lambda = 1e-12, q = 1/2, against 1/(1 - q)")


def build() -> Derivation:
    q, lam, kappa, df = C.q, C.lam, C.kappa, C.df
    deq = freeprob.deterministic_equivalent(_POP, ratio=q)
    s_sig, s_w = N.S_Sigma(df), N.S_W(df)
    lam_hat_c10 = (1 - df) / (df * s_sig * s_w)  # [C10] for Sigma_hat with S_hat = S_Sigma S_W
    lam_sig_c10 = (1 - df) / (df * s_sig)
    d1, d2 = N.df1_Sigma(kappa), N.df2_Sigma(kappa)
    lk = N.lam_of_kappa(kappa)
    bind = ((d1, _POP.df1(kappa)), (d2, _POP.df2(kappa)), (lk, deq.ridge_of_kappa(kappa)))
    r_k = ((q, 0.1, 3.0), (kappa, 0.05, 10.0))
    steps = (
        DerivationStep(Eq(N.S_hat(df), s_sig * s_w),
                       "S-transform multiplicativity for $\\hat\\Sigma = \\Sigma^{1/2} W \\Sigma^{1/2}$, $W$ free of "
                       "$\\Sigma$; read off sampled spectra as $S = (1 - \\mathrm{df})/(\\mathrm{df}\\,\\lambda)$ at "
                       "$\\mathrm{df} = \\mathrm{df}^1_{\\hat\\Sigma}(\\lambda)$", "[R2a], [R3]", "montecarlo",
                       "multiplicativity", approx=True, checker=_multiplicativity,
                       source="Discrete([1, 3]).s_transform(df, convention='df')"),
        DerivationStep(Eq(N.S_Sigma(d1), (1 - d1) / (kappa * d1)),
                       "the df convention at $\\mathrm{df} = \\mathrm{df}^1_\\Sigma(\\kappa)$, with the library's "
                       "algebraic S-transform of $\\Sigma = \\frac12(\\delta_1 + \\delta_3)$ (its branch included)",
                       "[C10]", "numeric", "S(df) of the population",
                       where=((N.S_Sigma(d1), _POP.s_transform(df, convention="df").subs(df, _POP.df1(kappa))),
                              (d1, _POP.df1(kappa))), ranges=((kappa, 0.01, 20.0),),
                       source="Discrete([1, 3]).s_transform(df, convention='df'), .df1(kappa)"),
        DerivationStep(Eq(N.lam_hat(df), N.lam_Sigma(df) / s_w),
                       "write [C10] for $\\hat\\Sigma$ and for $\\Sigma$ and divide", "[C10]", "symbolic",
                       "inversion", where=((N.lam_hat(df), lam_hat_c10), (N.lam_Sigma(df), lam_sig_c10))),
        DerivationStep(Eq(kappa, lam * s_w),
                       "define $\\kappa = \\lambda_\\Sigma(\\mathrm{df})$ at $\\mathrm{df} = "
                       "\\mathrm{df}^1_{\\hat\\Sigma}(\\lambda)$, so that $\\lambda = \\lambda_{\\hat\\Sigma}(\\mathrm{df})$ "
                       "and $\\mathrm{df}^1_{\\hat\\Sigma}(\\lambda) = \\mathrm{df}^1_\\Sigma(\\kappa)$", "[R3]", "symbolic",
                       "renormalized ridge", where=((kappa, lam_sig_c10), (lam, lam_hat_c10))),
        DerivationStep(Eq(lam * N.S_W(d1), lam / (1 - q * d1)),
                       "insert the white-Wishart $S_W$ derived in mp-s-transforms", "[R1], [R3]", "symbolic",
                       "kappa equation", where=((N.S_W(d1), deq.s_noise(df).subs(df, _POP.df1(kappa))),
                                                (d1, _POP.df1(kappa))),
                       source="deterministic_equivalent(Sigma, ratio=q).kappa_equation()"),
        DerivationStep(Eq(lk, kappa * (1 - q * d1)),
                       "the explicit, increasing map from $\\kappa$ to the ridge; the solver inverts it", "[R3]",
                       "symbolic", "explicit map", where=bind, source="deq.ridge_of_kappa(kappa)"),
        DerivationStep(sp.StrictGreaterThan(sp.Derivative(lk, kappa, 2), 0),
                       "$\\lambda(\\kappa)$ is convex with $\\lambda(0) = 0$, so for $\\lambda > 0$ the positive root is "
                       "unique", "[R3], P5", "numeric", "uniqueness", where=bind, ranges=r_k),
        DerivationStep(Eq(sp.Derivative(lk, kappa), 1 - q * d2),
                       "$-\\kappa\\,\\partial_\\kappa \\mathrm{df}^1 = \\mathrm{df}^1 - \\mathrm{df}^2$", "[R4], [C6]",
                       "numeric", "d lambda/d kappa = 1 - gamma", where=bind, ranges=r_k),
        DerivationStep(Eq(lk / (kappa * sp.Derivative(lk, kappa)), (1 - q * d1) / (1 - q * d2)),
                       "the logarithmic derivative $d\\log\\kappa/d\\log\\lambda$", "[R4]", "numeric",
                       "d log kappa/d log lambda", where=bind, ranges=r_k),
        DerivationStep(Eq(N.df1_hat(lam), N.df1_Sigma(sp.Symbol(r"\kappa(\lambda)"))),
                       "fluctuations of $\\hat\\Sigma$ are absorbed into the renormalized ridge", "[R3]",
                       "montecarlo", "df1 equivalence", approx=True, checker=_df_equivalence),
        DerivationStep(Eq(N.kappa_hat, kappa),
                       "the ridge $\\hat\\kappa = \\lambda/(1 - \\frac1P\\mathrm{Tr}\\,\\hat\\Sigma(\\hat\\Sigma + \\lambda)^{-1})$"
                       " is observable from training data and concentrates on $\\kappa$", "[R3], [R8]", "montecarlo",
                       "observable kappa", approx=True, checker=_kappa_hat),
        DerivationStep(Eq(q * N.df1_Sigma(sp.Symbol(r"\kappa_0")), 1),
                       "ridgeless limit, $q\\,\\mathrm{rank}\\,\\Sigma > 1$: $\\kappa \\to \\kappa_0 > 0$ (the root "
                       "$\\kappa = 0$ is spurious)", "[C11], P5", "numeric", "ridgeless kappa_0", checker=_ridgeless,
                       source="deterministic_equivalent(PowerLaw(1.3, 400), ratio=2.5).solve(0)"),
        DerivationStep(Eq(sp.Limit(kappa / lam, lam, 0), 1 / (1 - q)),
                       "$q < 1$: $\\kappa \\to 0$ and $\\mathrm{df}^1 \\to 1$", "[C11]", "numeric", "small ridge",
                       checker=_small_ridge),
    )
    return Derivation(NAME, TITLE, steps, results=(("$\\lambda(\\kappa)$", deq.ridge_of_kappa(kappa)),),
                      assumptions=("$\\Sigma$ and $W$ asymptotically free", "white Wishart noise, $q = N/P$",
                                   "$\\Sigma = \\frac12(\\delta_1 + \\delta_3)$ for the symbolic steps"),
                      summary="The renormalized ridge from S-transform multiplicativity: every link of the "
                              "chain checked, from sampled covariances to the explicit map that the solver inverts.")
