"""Two-point deterministic equivalents [R5]."""

import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "two-point"


def build() -> Derivation:
    pop = freeprob.Discrete([1, 4])
    deq = freeprob.deterministic_equivalent(pop, ratio=C.q)
    k, q, x = C.kappa, C.q, C.x
    gamma = q * pop.df2(k)
    steps = tuple(DerivationStep(s.relation, s.justification, s.reference, "cited") for s in deq.two_point_equivalents())
    rng_ = ((C.q, 0.1, 0.9), (C.kappa, 0.05, 5.0))
    steps += (
        DerivationStep(Eq(deq.two_point_trace("trace", a=x), gamma / (1 - gamma)),
                       "A = Sigma in the trace form gives gamma/(1 - gamma)", "[R5]", "numeric", "trace at A = Sigma",
                       ranges=rng_),
        DerivationStep(Eq(deq.two_point_trace("derivative"), -sp.diff(pop.df1(k), k) / (1 - gamma)),
                       "d/d lambda of the one-point equivalent, d kappa/d lambda = 1/(1 - gamma)", "[R4], [R5]",
                       "numeric", "derivative route", ranges=rng_),
    )
    return Derivation(NAME, "Second-order deterministic equivalents", steps,
                      assumptions=("A, B functions of Sigma", "Sigma = diag(1, 4) for the checks"))
