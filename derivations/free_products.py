"""Free multiplicative composition: S-transforms of products, Fuss-Catalan, general noise [R2]."""

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
    steps = (
        DerivationStep(Eq(prod.s_transform(t), a.s_transform(t) * b.s_transform(t)),
                       "S-transform multiplicativity for free positive matrices", "[R2a]", "symbolic",
                       "S of a product"),
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
