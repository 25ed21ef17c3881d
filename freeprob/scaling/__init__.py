"""Scaling laws: continuum power-law asymptotics, exponents derived by
dominant balance (in samples, width, ridge and training time), the phase
diagram of random features, compute-optimal allocation, and numerical
verification of exponents."""

from freeprob.scaling._asymptotic import (
           ALPHA,
           ELL,
           AmbiguousRegimeError,
           CancellationError,
           NoSuchRegimeError,
           Q,
           R,
)
from freeprob.scaling._compute import (
           RESOURCES,
           ComputeOptimal,
           Phase,
           compute_optimal,
)
from freeprob.scaling._compute_verify import ComputeVerification, verify_compute_optimal
from freeprob.scaling._continuum import (
           C_alpha,
           ContinuumForms,
           MellinTerm,
           continuum_forms,
           mellin_leading,
           power_law_sum,
           split_summand,
)
from freeprob.scaling._exponents import Regime, exponent, leading_term, regimes
from freeprob.scaling._phase import (
           PhaseDiagram,
           Verification,
           finite_width_curve,
           local_exponent,
           phase_diagram,
           verify,
)
from freeprob.scaling._time import TIME_KEYS, time_exponent, time_limit, time_terms
from freeprob.scaling._training import continuum_df, effective_ridge

__all__ = ["ContinuumForms", "continuum_forms", "ALPHA", "R", "ELL", "Q", "C_alpha", "MellinTerm", "mellin_leading", "power_law_sum",
           "split_summand", "exponent", "leading_term", "regimes", "Regime", "AmbiguousRegimeError",
           "CancellationError", "NoSuchRegimeError", "PhaseDiagram", "phase_diagram", "verify", "Verification",
           "local_exponent", "finite_width_curve", "continuum_df", "effective_ridge", "compute_optimal",
           "ComputeOptimal", "ComputeVerification", "Phase", "verify_compute_optimal", "RESOURCES", "TIME_KEYS",
           "time_exponent", "time_limit", "time_terms"]
