"""Deterministic equivalence: kappa = lambda S_W(df1(kappa)) [R2]-[R5]."""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "deterministic-equivalence"


def _monte_carlo(rng):
    # df1 of Sigma^1/2 W Sigma^1/2 at lam vs df1_Sigma(kappa): N = 400, P = 300,
    # one draw; linear spectral statistics fluctuate by O(1/N): tolerance 5/N
    from freeprob.sampling import population_wishart_eigenvalues

    n, p = 400, 300
    pop = freeprob.PowerLaw(1.3, n)
    eig = population_wishart_eigenvalues(pop.spectrum.numeric_atoms()[0], p, rng)
    lam = np.array([1e-3, 1e-2, 1e-1])
    emp = np.array([np.mean(eig / (eig + x)) for x in lam])
    kappa = freeprob.deterministic_equivalent(pop, ratio=n / p).solve(lam)
    res = float(np.max(np.abs(emp - pop.df1_numeric(kappa))))
    return res < 5 / n, res, f"max |df1_hat - df1(kappa)| at N = {n}, P = {p}"


def build() -> Derivation:
    pop = freeprob.Discrete([1, 3])
    deq = freeprob.deterministic_equivalent(pop, ratio=C.q)
    steps = [DerivationStep(s.relation, s.justification, s.reference, "cited") for s in deq.steps()]
    lam_k = deq.ridge_of_kappa(C.kappa)
    steps.append(DerivationStep(Eq(sp.diff(lam_k, C.kappa), 1 - C.q * pop.df2(C.kappa)),
                                "d lambda/d kappa = 1 - gamma, gamma = q df2", "[R4]", "numeric",
                                "derivative identity", ranges=((C.q, 0.1, 3.0), (C.kappa, 0.01, 10.0))))
    steps.append(DerivationStep(Eq(C.kappa, deq.kappa_equation().rhs), "df1 of the sample covariance at lam "
                                "equals df1 of the population at kappa (random matrices)", "[R3]", "montecarlo",
                                "Monte Carlo", checker=_monte_carlo))
    return Derivation(NAME, "Deterministic equivalence and the renormalized ridge", tuple(steps),
                      results=(("lambda(kappa)", lam_k),),
                      assumptions=("Sigma and W asymptotically free", "Sigma = diag(1, 3) for the checks"),
                      summary="The renormalized ridge from S-transform multiplicativity.")
