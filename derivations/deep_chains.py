"""Deep linear random-feature chains [R17]: the free product of the layers'
Wishart laws, the narrowest bottleneck, and the two layer-variance
conventions (pitfall P7), checked against simulations of the same
convention."""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

from . import _notation as N
from ._checks import agree_stats, within

NAME = "deep-chains"
TITLE = "Deep linear random-feature chains"


def _bottleneck(rng):
    # lambda = 0: df1(kappa_2) = min(P, N_1, ..., N_L)/D, for a width and a sample
    # bottleneck; the bottleneck solve is to ~1e-14 relative: tolerance 1e-10
    pop = freeprob.PowerLaw(1.4, 400)
    out = []
    for widths, p, m in (([300, 120, 250], 200, 120), ([300, 250, 280], 150, 150)):
        k2 = freeprob.RandomFeatureRidge(pop, widths=widths, samples=p, ridge=0.0).evaluate()["kappa2"]
        out.append((float(pop.df1_numeric(k2)[()]), m / 400))
    got, want = zip(*out)
    return within(np.array(got), np.array(want), 1e-10, "df1(kappa_2) at lambda = 0 against min(P, N_l)/D")


def _fan_in(rng):
    # variances 1/N_{l-1} at lambda against variances 1/D at lambda N_1/D: an
    # exact rescaling, two solves at ~1e-14 relative: tolerance 1e-10
    pop = freeprob.PowerLaw(1.4, 300)
    a = freeprob.RandomFeatureRidge(pop, widths=[250, 200], samples=120, layer_variance="fan_in")
    b = freeprob.RandomFeatureRidge(pop, widths=[250, 200], samples=120)
    lam = np.array([1e-3, 0.2])
    return within(a.evaluate(ridge=lam)["Eg"], b.evaluate(ridge=lam * 250 / 300)["Eg"], 1e-10,
                  "fan-in E_g at lambda against input-variance E_g at lambda N_1/D")


def _simulated(layer_variance):
    # theory against crossed 14 x 14 X/F draws simulated with the same layer
    # variance (the authors' notebook mixed them, P7); D = 200, widths [150,
    # 100], P = 120; 4 s.e. + 4% (P10)
    def check(rng):
        model = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 200), widths=[150, 100], samples=120, ridge=1e-2,
                                            noise=0.05, target=freeprob.SourceTarget(0.7), layer_variance=layer_variance)
        sim = freeprob.simulate(model, seeds=(14, 14), rng=rng)
        th = float(model.evaluate()["Eg"])
        mean, se = (float(v[0]) for v in sim["Eg"])
        return agree_stats(mean, se, th, allowance=0.04 * th, what=f"E_g, {layer_variance} variances")

    return check


def build() -> Derivation:
    d, k2, phi = C.df, C.kappa2, C.phi
    deep = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=[30, 20, 10], samples=10, dimension=40)
    fan = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=[30, 20, 10], samples=10, dimension=40,
                                      layer_variance="fan_in")
    p1, p2, p3 = deep.psis
    maps = {k: v.subs(C.sigma_xi2, 0) for k, v in deep.maps().items()}
    d1 = N.df1_Sigma(k2)
    df1 = deep.population.df1(k2)
    prod = (p1 - d1) * (p2 - d1) * (p3 - d1)
    s_fan = sp.Function(r"S_F^{\text{fan-in}}")
    s_f = deep.s_features(d)
    s_elast = sp.Symbol("s_F")
    steps = (
        DerivationStep(Eq(N.S_F(d), 1 / ((p1 - d) * (p2 - d) * (p3 - d))),
                       "the free product of the layers' Wishart laws, every layer $\\mathcal N(0, 1/D)$ "
                       "(three layers)", "[R17], [R2a]", "symbolic", "S_F of a chain", where=((N.S_F(d), s_f),),
                       source="RandomFeatureRidge(widths=[N_1, N_2, N_3]).s_features(df)"),
        DerivationStep(Eq(C.lam, k2 * (1 - d1 / phi) * prod), "the explicit map", "[R17]", "symbolic",
                       "explicit map", where=((C.lam, maps["lam"]), (d1, df1)), source="RandomFeatureRidge.maps()"),
        DerivationStep(Eq(C.kappa1, k2 * prod), "the data-averaged ridge", "[R17]", "symbolic", "kappa_1",
                       where=((C.kappa1, maps["kappa1"]), (d1, df1))),
        DerivationStep(Eq(s_elast, d / (p1 - d) + d / (p2 - d) + d / (p3 - d)),
                       "$s_F = d\\log S_F/d\\log\\mathrm{df}$: the layers add", "[R17], [R13]", "symbolic", "s_F",
                       where=((s_elast, d * sp.diff(sp.log(s_f), d)),)),
        DerivationStep(Eq(d1, sp.Symbol(r"\min(P, N_1, \dots, N_L)/D")),
                       "ridgeless: the narrowest bottleneck sets the resolution", "[R17], [R12]", "numeric",
                       "bottleneck", checker=_bottleneck),
        DerivationStep(Eq(s_fan(d), N.S_F(d) * p1 * p2),
                       "entry variances $v_\\ell$ replace $\\psi_\\ell - \\mathrm{df}$ by $D v_\\ell(\\psi_\\ell - "
                       "\\mathrm{df})$; with $v_\\ell = 1/N_{\\ell-1}$, $D v_\\ell = 1/\\psi_{\\ell-1}$", "[R17], P7",
                       "symbolic", "fan-in variances", where=((s_fan(d), fan.s_features(d)), (N.S_F(d), s_f)),
                       source="RandomFeatureRidge(..., layer_variance='fan_in').s_features(df)"),
        DerivationStep(Eq(sp.Function(r"E_g^{\text{fan-in}}")(C.lam),
                          sp.Function(r"E_g^{\text{input}}")(C.lam * sp.Symbol(r"\prod_{\ell<L} N_\ell/D"))),
                       "which is the input-variance model at a rescaled ridge", "[R17], P7", "numeric",
                       "rescaled ridge", checker=_fan_in),
        DerivationStep(Eq(N.E_g, sp.Symbol(r"E_g^{\mathrm{MC}}")), "input variances $1/D$, simulated as such",
                       "[R17], P7", "montecarlo", "Monte Carlo, input", approx=True, checker=_simulated("input")),
        DerivationStep(Eq(N.E_g, sp.Symbol(r"E_g^{\mathrm{MC}}")), "fan-in variances $1/N_{\\ell-1}$, simulated as such",
                       "[R17], P7", "montecarlo", "Monte Carlo, fan-in", approx=True, checker=_simulated("fan_in")),
    )
    return Derivation(NAME, TITLE, steps, results=(("$S_F(\\mathrm{df})$", s_f),),
                      assumptions=("$F = F_1 \\cdots F_L$, $F_\\ell$ of size $N_{\\ell-1} \\times N_\\ell$, $N_0 = D$",
                                   "$\\psi_\\ell = N_\\ell/D$"),
                      summary="The S-transform of a deep chain is the product of its layers'; both layer-variance "
                              "conventions are exact, and each is simulated with its own variances.")
