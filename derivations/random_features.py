"""Linear random features: nested renormalization and the ridgeless closed forms [R12]-[R15]."""

import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "random-features"


def _phase_vs_engine(rng):
    # [R16e] beta(ell, q) against the exponent derived from the model (c = 1)
    from freeprob.scaling import ALPHA, ELL, Q, R, leading_term, phase_diagram

    pd = phase_diagram(1.5, 0.8, c=1.0, noisy=True)
    model = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 1000), widths=100, samples=100,
                                        target=freeprob.SourceTarget(0.8), ridge=1e-3, noise=0.1)
    worst = 0.0
    for ell, q in ((0.5, 2.5), (1.2, 1.6), (3.0, 0.45)):
        pt = {ALPHA: 1.5, R: 0.8, ELL: ell, Q: q}
        _, e, _ = leading_term(model, "Eg", "samples", ridge="power", points=[pt])
        worst = max(worst, abs(float(e.subs(pt)) - float(pd.beta(ell, q))))
    return worst < 1e-12, worst, "phase diagram vs derived exponents at 3 points"


def build() -> Derivation:
    m = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=sp.Symbol("N", positive=True),
                                    dimension=sp.Symbol("D", positive=True))
    steps = [DerivationStep(s.relation, s.justification, s.reference, "cited") for s in m.steps()]
    cf = m.isotropic_ridgeless_closed_forms()
    qs = m.quantities()
    df1, df2, k = qs["df1"], qs["df2"], C.kappa2
    s_f = df1 / (C.width_ratio(1) - df1)  # d log S_F/d log df for one white layer [R13]
    rng_ = ((C.phi, 0.2, 3.0), (C.width_ratio(1), 0.2, 3.0), (k, 0.05, 3.0), (C.sigma2, 0.0, 1.0),
            (C.sigma_xi2, 0.0, 0.0))
    phi, psi, s2 = C.phi, C.width_ratio(1), C.sigma2
    steps += [
        DerivationStep(Eq(qs["rho"], 1 / (1 + (df1 - df2) / df1 * s_f)), "rho = d log kappa_2/d log kappa_1",
                       "[R13], P9", "numeric", "rho", ranges=rng_),
        DerivationStep(Eq(qs["gamma1"], (df1 - (df1 - df2) * qs["rho"]) / C.phi), "gamma_1 = 1 - d lambda/d kappa_1",
                       "[R13]", "numeric", "gamma_1", ranges=rng_),
        DerivationStep(Eq(qs["Eg"], qs["bias2"] + qs["var_X"] + qs["var_F"] + qs["var_XF"] + qs["var_X_noise"]
                          + qs["var_XF_noise"]), "fine-grained decomposition sums to E_g", "[R14]", "numeric",
                       "decomposition", ranges=rng_),
        DerivationStep(Eq(sp.Symbol("beta"), sp.Symbol("beta_{derived}")), "phase diagram of E_g ~ P^-beta",
                       "[R16e], P17", "montecarlo", "phase diagram", checker=_phase_vs_engine),
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
