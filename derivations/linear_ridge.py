"""Linear ridge regression: errors, the train-test gap, isotropic closed forms [R6]-[R9]."""

import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "linear-ridge"


def _monte_carlo(rng):
    # E_g from the evaluator vs 30 Monte Carlo draws (N = 150, P = 300):
    # 4 standard errors + 3% finite-size allowance (P10)
    m = freeprob.LinearRidge(freeprob.Identity(1), noise=0.25, samples=300, ridge=1e-2, dimension=150)
    sim = freeprob.simulate(m, seeds=30, rng=rng)
    th = float(m.evaluate()["Eg"])
    mean, se = (float(v[0]) for v in sim["Eg"])
    return abs(mean - th) <= 4 * se + 0.03 * th, abs(mean - th) / th, f"theory {th:.4g}, simulation {mean:.4g}"


def _components(rng):
    # [R7]: Bias^2 and Var_X against unbiased Monte Carlo estimates (P11),
    # N = 150, P = 100, 40 draws: 4 s.e. + 5% of E_g (P10)
    m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 150), target=freeprob.SourceTarget(0.6), noise=0.1,
                             samples=100, ridge=1e-2)
    sim = freeprob.simulate(m, seeds=40, rng=rng)
    th = m.evaluate()
    worst, ok = 0.0, True
    for key in ("bias2", "var_X", "var_X_noise"):
        mean, se = (float(v[0]) for v in sim[key])
        t = float(th[key])
        ok &= abs(mean - t) <= 4 * se + 0.05 * float(th["Eg"])
        worst = max(worst, abs(mean - t) / float(th["Eg"]))
    return ok, worst, "bias2, var_X, var_X_noise vs Monte Carlo (relative to E_g)"


def build() -> Derivation:
    q, s2 = C.q, C.sigma2
    iso = freeprob.LinearRidge(freeprob.Identity(1), samples=sp.Symbol("P", positive=True),
                               dimension=sp.Symbol("N", positive=True))
    qs = iso.quantities()
    cf = iso.isotropic_closed_forms()
    steps = (
        DerivationStep(Eq(qs["Eg"] + s2, qs["S"] ** 2 * qs["Etr"]), "E_g + sigma^2 = S^2 E_tr (the gap is S^2)",
                       "[R8]", "symbolic", "gap identity"),
        DerivationStep(Eq(cf["Eg_ridgeless_under"], s2 * q / (1 - q)), "ridgeless, q < 1: kappa = 0", "[R9]",
                       "symbolic", "ridgeless q < 1"),
        DerivationStep(Eq(cf["kappa0_over"], q - 1), "ridgeless, q > 1: q df1(kappa_0) = 1", "[R9]", "symbolic",
                       "kappa_0"),
        DerivationStep(Eq(cf["optimal_ridge"], q * s2), "stationarity of E_g in kappa", "[R9]", "symbolic",
                       "optimal ridge"),
        DerivationStep(Eq(C.kappa, cf["kappa"]), "positive root of the isotropic quadratic", "[R9], P5", "cited",
                       "isotropic kappa"),
        DerivationStep(Eq(sp.Symbol("E_g^{MC}"), qs["Eg"]), "theory vs Monte Carlo", "[R6]", "montecarlo",
                       "Monte Carlo", checker=_monte_carlo),
        DerivationStep(Eq(qs["var_X"], qs["bias2"] * qs["gamma"] / (1 - qs["gamma"])),
                       "bias-variance decomposition over the data", "[R7]", "montecarlo", "Bias^2, Var_X",
                       checker=_components),
    )
    return Derivation(NAME, "Linear ridge regression: errors, gap and isotropic closed forms", steps,
                      results=(("E_g", qs["Eg"]), ("optimal ridge", cf["optimal_ridge"])),
                      assumptions=("Sigma = I, ||wbar|| = 1", "q = N/P"),
                      summary="Generalization and training error from the renormalized ridge.")
