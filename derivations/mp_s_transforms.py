"""Marchenko-Pastur and the S-transform conventions [R1], [C4]-[C10].

Every transform of the white Wishart law is derived from another by the
library (R from the algebraic curve, S from R, the paper's S(df) by the
explicit convention converter) and checked against the form the paper
states, against a known table (Narayana) and against the isotropic
renormalized ridge.
"""

import sympy as sp

from freeprob import Identity, LinearRidge, MarchenkoPastur
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

from . import _notation as N

NAME = "mp-s-transforms"
TITLE = "Marchenko-Pastur law and the S-transform conventions"


def build() -> Derivation:
    q, t, df, lam, z, x = C.q, C.t, C.df, C.lam, C.z, C.x
    w, j = sp.Symbol("w"), sp.Symbol("j", integer=True, positive=True)
    W = MarchenkoPastur(q)
    lo, hi = (1 - sp.sqrt(q)) ** 2, (1 + sp.sqrt(q)) ** 2
    l_lo, l_hi = sp.Symbol(r"\lambda_-", positive=True), sp.Symbol(r"\lambda_+", positive=True)
    kappa_i = sp.Symbol(r"\kappa_I")
    iso = LinearRidge(Identity(1), samples=sp.Symbol("P", positive=True), dimension=sp.Symbol("N", positive=True))
    zero_plus = sp.Symbol("0^+", positive=True)
    g_edge = W.stieltjes(z).subs(z, x + sp.I * sp.Float("1e-22"))
    s_df = C.s_df_from_voiculescu(W.s_transform(t, method="curve"), t, df)
    narayana = sp.Sum(sp.binomial(5, j) * sp.binomial(5, j - 1) / 5 * q ** (j - 1), (j, 1, 5))
    steps = (
        DerivationStep(Eq(N.R_W(w), 1 / (1 - q * w)),
                       "invert the Stieltjes curve $q z g^2 - (z + q - 1) g + 1 = 0$: $R(w) = g^{-1}(w) - 1/w$",
                       "[R1], [C8]", "symbolic", "R-transform", where=((N.R_W(w), W.r_transform(w, method="curve")),),
                       source="MarchenkoPastur(q).r_transform(w, method='curve')"),
        DerivationStep(Eq(N.S_V_W(t), 1 / (1 + q * t)),
                       "solve $S = 1/R(t S)$, i.e. $S = 1 - q t S$", "[R1], [C9]", "symbolic",
                       "Voiculescu S-transform", where=((N.S_V_W(t), W.s_transform(t, method="r")),),
                       source="MarchenkoPastur(q).s_transform(t, method='r')"),
        DerivationStep(Eq(N.S_W(df), 1 / (1 - q * df)),
                       "the paper's convention $S(\\mathrm{df}) = S^{\\mathrm{V}}(-\\mathrm{df})$, by the explicit "
                       "converter of the conventions module", "[C10], P4", "symbolic", "paper's S(df)",
                       where=((N.S_W(df), s_df),),
                       source="conventions.s_df_from_voiculescu(W.s_transform(t, method='curve'), t, df)"),
        DerivationStep(Eq(N.S_W(N.df1_W(lam)), (1 - N.df1_W(lam)) / (lam * N.df1_W(lam))),
                       "the df convention is $S(\\mathrm{df}) = (1 - \\mathrm{df})/(\\mathrm{df}\\,\\lambda(\\mathrm{df}))$"
                       " with $\\lambda(\\mathrm{df})$ the inverse of $\\mathrm{df}^1$: evaluated at "
                       "$\\mathrm{df} = \\mathrm{df}^1_W(\\lambda)$ from the closed-form Stieltjes transform",
                       "[C6], [C10]", "numeric", "S(df) and the inverse of df1",
                       where=((N.S_W(N.df1_W(lam)), W.s_transform(df, convention="df").subs(df, W.df1(lam))),
                              (N.df1_W(lam), W.df1(lam))),
                       ranges=((q, 0.1, 3.0), (lam, 0.01, 10.0)),
                       source="W.s_transform(df, convention='df'), W.df1(lambda)"),
        DerivationStep(Eq(q * z * N.g_W(z) ** 2 - (z + q - 1) * N.g_W(z) + 1, 0),
                       "the closed form $g_W = (z + q - 1 - \\sqrt{z - \\lambda_-}\\sqrt{z - \\lambda_+})/(2 q z)$, "
                       "square roots split so that the cut is exactly $[\\lambda_-, \\lambda_+]$, solves the "
                       "self-consistent equation", "[R1], [C4]", "numeric", "MP quadratic",
                       where=((N.g_W(z), W.stieltjes(z)),), ranges=((q, 0.1, 3.0), (z, 4.5, 12.0)),
                       source="MarchenkoPastur(q).stieltjes(z)"),
        DerivationStep(Eq(sp.Limit(z * N.g_W(z), z, sp.oo), 1),
                       "the physical branch: $g_W(z) \\sim 1/z$ at infinity", "[C4], P5", "symbolic", "g ~ 1/z",
                       where=((N.g_W(z), W.stieltjes(z)),)),
        DerivationStep(sp.StrictLessThan(N.g_W(-lam), 0),
                       "on the negative real axis the product of square roots is negative, so $g_W(-\\lambda) < 0$ "
                       "and $\\mathrm{df}^1_W = 1 + \\lambda g_W(-\\lambda) < 1$", "[R1], [C6], P5", "numeric",
                       "branch at z = -lambda", where=((N.g_W(-lam), W.stieltjes(-lam)),),
                       ranges=((q, 0.05, 5.0), (lam, 1e-6, 100.0))),
        DerivationStep(Eq(-sp.im(N.g_W(x + sp.I * zero_plus)) / sp.pi,
                          sp.sqrt((l_hi - x) * (x - l_lo)) / (2 * sp.pi * q * x)),
                       "density from the Stieltjes transform just above the real axis (evaluated at "
                       "$x + 10^{-22} i$), inside the support $[\\lambda_-, \\lambda_+]$, $\\lambda_\\pm = (1 \\pm "
                       "\\sqrt q)^2$", "[R1], [C4]", "numeric", "MP density",
                       where=((N.g_W(x + sp.I * zero_plus), g_edge), (l_lo, lo), (l_hi, hi)),
                       ranges=((q, 0.2, 0.5), (x, 0.35, 2.0))),
        DerivationStep(Eq(N.moment(5, r"\mathrm{MP}_q"), narayana),
                       "moments from the expansion of the algebraic curve at infinity against the Narayana "
                       "numbers $\\frac1k\\binom{k}{j}\\binom{k}{j-1}$", "[R1]", "symbolic", "Narayana m_5",
                       where=((N.moment(5, r"\mathrm{MP}_q"), W.moments(5, method="curve")[4]),),
                       source="MarchenkoPastur(q).moments(5, method='curve')"),
        DerivationStep(Eq(N.df1_W(lam), 1 / (1 + kappa_i)),
                       "degrees of freedom of $W$ from its Stieltjes transform against deterministic equivalence "
                       "with $\\Sigma = I$: $\\mathrm{df}^1_W(\\lambda) = \\mathrm{df}^1_I(\\kappa_I)$, $\\kappa_I$ the "
                       "positive root of the isotropic quadratic [R9]", "[R1], [R3], [R9]", "numeric",
                       "df1 of MP", where=((N.df1_W(lam), W.df1(lam)), (kappa_i, iso.isotropic_closed_forms()["kappa"])),
                       ranges=((q, 0.1, 3.0), (lam, 0.01, 10.0)),
                       source="W.df1(lambda); LinearRidge(Identity(1)).isotropic_closed_forms()['kappa']"),
    )
    return Derivation(NAME, TITLE, steps,
                      results=(("$S_W(\\mathrm{df})$", W.s_transform(df, convention="df")), ("$g_W(z)$", W.stieltjes(z))),
                      assumptions=("$q = N/P > 0$", "white Wishart $W = Z^\\top Z/P$, $Z$ of size $P \\times N$ "
                                   "with i.i.d. standard Gaussian entries"),
                      summary="The white-Wishart transforms in both S-transform conventions, each derived from "
                              "another by the library and checked against the paper's form, the Narayana table "
                              "and the isotropic renormalized ridge.")
