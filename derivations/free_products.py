"""Free multiplicative composition: S-transforms of products, scaling and
identity, change of normalization, Fuss-Catalan, general noise [R2]."""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "free-products"


def _general_noise(rng):
    # kappa for W = W1 W2 (WishartProduct) vs df1 of Sigma boxtimes W by subordination
    pop, W = freeprob.PowerLaw(1.5, 300), freeprob.WishartProduct([2, 3])
    lam = np.logspace(-3, 1, 5)
    kappa = freeprob.deterministic_equivalent(pop, W).solve(lam)
    res = float(np.max(np.abs(freeprob.free_mul(pop, W).df1_numeric(lam) - pop.df1_numeric(kappa))))
    return res < 1e-9, res, "df1 of Sigma boxtimes W1 W2 (subordination) vs df1_Sigma(kappa)"


def build() -> Derivation:
    c1, c2 = sp.symbols("c_1 c_2", positive=True)
    a, b = freeprob.MarchenkoPastur(c1), freeprob.MarchenkoPastur(c2)
    prod = freeprob.free_mul(a, b)
    t = C.t
    fc = freeprob.WishartProduct([1, 1]).moments(5)
    scale, x, q = sp.Symbol("s", positive=True), sp.Symbol("x", positive=True), C.q
    # [R2c]: A = Z^T Z/P (N x N, law MP(q)) and B = Z Z^T/P (P x P, law q MP(1/q)) share their
    # nonzero spectrum; m/n = N/P = q and df_B = q df_A at equal lambda
    s_a = freeprob.MarchenkoPastur(q).s_transform(C.df, convention="df")
    s_b = freeprob.MarchenkoPastur(1 / q).scaled(q).s_transform(C.df, convention="df")
    change = q * (1 - x) / (1 - q * x) * s_b.subs(C.df, q * x)
    steps = (
        DerivationStep(Eq(prod.s_transform(t), a.s_transform(t) * b.s_transform(t)),
                       "S-transform multiplicativity for free positive matrices", "[R2a]", "symbolic",
                       "S of a product"),
        DerivationStep(Eq(a.scaled(scale).s_transform(t), a.s_transform(t) / scale),
                       "scaling: S_{cA} = S_A/c (the T-transform of cA at cz is that of A at z)", "[R2b]",
                       "symbolic", "S of a scaled law"),
        DerivationStep(Eq(freeprob.Identity().s_transform(t), 1), "the identity is the unit of free multiplication",
                       "[R2b]", "symbolic", "S_I = 1"),
        DerivationStep(Eq(s_a.subs(C.df, x), change),
                       "change of normalization between Z^T Z/P (N x N) and Z Z^T/P (P x P), m/n = q: "
                       "S_A(x) = (m/n)(1-x)/(1-(m/n)x) S_B((m/n)x)", "[R2c]", "symbolic", "dimension change"),
        DerivationStep(Eq(fc[4], sp.binomial(15, 5) / 11),
                       "fifth moment of MP(1) boxtimes MP(1): the Fuss-Catalan number binom(3k, k)/(2k + 1)",
                       "[R2d]", "symbolic", "Fuss-Catalan m_5"),
        DerivationStep(Eq(C.kappa, C.lam * freeprob.WishartProduct([2, 3]).s_transform(C.df, convention="df")),
                       "kappa = lambda S_W(df1) for a product noise W", "[R3], [R17]", "montecarlo",
                       "general noise law", checker=_general_noise),
    )
    return Derivation(NAME, "Free products and S-transform multiplicativity", steps,
                      results=(("S_{W1 W2}(t)", prod.s_transform(t)),),
                      assumptions=("free, positive semidefinite factors",))
