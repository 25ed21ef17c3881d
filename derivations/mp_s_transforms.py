"""Marchenko-Pastur and the S-transform conventions [R1], [C4]-[C10]."""

import sympy as sp

from freeprob import MarchenkoPastur
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq

NAME = "mp-s-transforms"


def build() -> Derivation:
    q, t, df, lam, z = C.q, C.t, C.df, C.lam, C.z
    W = MarchenkoPastur(q)
    g = sp.Symbol("g")
    s_v = W.s_transform(t)
    steps = (
        DerivationStep(Eq(s_v, W.s_transform(t, method="r")), "S from the R-transform, S(t) = 1/R(t S(t))",
                       "[R1], [C9]", "symbolic", "S_W from R_W"),
        DerivationStep(Eq(W.s_transform(df, convention="df"), C.s_df_from_voiculescu(s_v, t, df)),
                       "the paper's S(df) = S_V(-df)", "[C10], P4", "symbolic", "S(df) convention"),
        DerivationStep(Eq(W.algebraic_equation(g, z).subs(g, W.stieltjes(z)), 0),
                       "the closed-form g solves the MP quadratic", "[R1], [C4]", "numeric", "MP quadratic",
                       ranges=((q, 0.1, 0.9), (z, 5.0, 10.0))),
        DerivationStep(Eq(W.moments(5, method="curve")[4], W.moments(5, method="cumulants")[4]),
                       "moments from the curve vs from free cumulants q^(k-1) (Narayana)", "[R1]", "symbolic", "Narayana m_5"),
        DerivationStep(Eq(W.df1(lam), 1 + lam * W.stieltjes(-lam)), "df1 = 1 + lam g(-lam)", "[C6]", "numeric",
                       "df1 from g", ranges=((q, 0.1, 3.0), (lam, 0.01, 10.0))),
    )
    return Derivation(NAME, "Marchenko-Pastur law and S-transform conventions", steps,
                      results=(("S_W(df)", W.s_transform(df, convention="df")),),
                      assumptions=("q = N/P > 0", "white Wishart W = Z^T Z / P"),
                      summary="The white-Wishart S-transform in both conventions, derived and checked by "
                              "independent routes.")
