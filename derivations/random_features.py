"""Linear random features: nested renormalization and the ridgeless closed forms [R12]-[R15]."""

import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "random-features"


def build() -> Derivation:
    m = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=sp.Symbol("N", positive=True),
                                    dimension=sp.Symbol("D", positive=True))
    steps = [DerivationStep(s.relation, s.justification, s.reference, "cited") for s in m.steps()]
    cf = m.isotropic_ridgeless_closed_forms()
    phi, psi, s2 = C.phi, C.width_ratio(1), C.sigma2
    steps += [
        DerivationStep(Eq(cf["signal_width_limited"], (1 - psi) * phi / (phi - psi)),
                       "N < P: kappa_1 = 0, df1(kappa_2) = N/D", "[R15]", "symbolic", "signal, N < P"),
        DerivationStep(Eq(cf["noise_data_limited"], s2 * phi * (1 + psi - 2 * phi) / ((1 - phi) * (psi - phi))),
                       "P < N: dfbar1 = P/D", "[R15]", "symbolic", "noise, P < N"),
        DerivationStep(Eq(cf["signal_width_limited"].subs({phi: psi, psi: phi}, simultaneous=True),
                             cf["signal_data_limited"]), "N <-> P duality of the noiseless ridgeless error",
                       "[R15]", "symbolic", "duality"),
    ]
    return Derivation(NAME, "Linear random features: nested renormalization", tuple(steps),
                      results=(("kappa_2 (N < P)", cf["kappa2_width_limited"]),),
                      assumptions=("F_ij ~ N(0, 1/D)", "Sigma = I, ||wbar|| = 1", "phi = P/D, psi = N/D"),
                      summary="kappa_1 and kappa_2 from the S-transforms of the data noise and of F F^T.")
