"""Conventions: converters, the paper's S(df), S-transform properties [C10]."""

import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.conventions import df, lam, q, t, w, z


def test_symbol_factory_is_canonical():
    assert C.symbol("q") is q and C.symbol("lambda") is lam and C.symbol("alpha") is C.symbol("alpha")
    assert C.symbol("alpha").is_positive


def test_converters_round_trip():
    g = freeprob.MarchenkoPastur(q).stieltjes(z)
    assert C.stieltjes_from_ml_stieltjes(C.ml_stieltjes_from_stieltjes(g)) == g
    assert sp.simplify(C.stieltjes_from_t(C.t_from_stieltjes(g, z), z) - g) == 0
    u = sp.Symbol("u")
    tz = C.t_from_stieltjes(g, z)
    assert sp.simplify(C.t_from_psi(C.psi_from_t(tz, z, u), u, z) - tz) == 0
    s_v = 1 / (1 + q * t)
    assert C.s_voiculescu_from_df(C.s_df_from_voiculescu(s_v, t, df), df, t) == s_v


def test_paper_s_transform_of_white_wishart():
    # [R1]: S_W(df) = 1/(1 - q df), S_V(t) = 1/(1 + q t); by every route
    law = freeprob.MarchenkoPastur(q)
    for route in ("closed", "r", "curve"):
        assert sp.simplify(law.s_transform(df, convention="df", method=route) - 1 / (1 - q * df)) == 0
        assert sp.simplify(law.s_transform(t, method=route) - 1 / (1 + q * t)) == 0


def test_s_transform_scaling_identity_and_origin():
    # [C10]: S_{cA} = S_A / c, S_{cI} = 1/c, S_A(0) = 1/tr A
    c = sp.Symbol("c", positive=True)
    law = freeprob.MarchenkoPastur(q)
    assert sp.simplify(law.scaled(c).s_transform(df, "df") - law.s_transform(df, "df") / c) == 0
    assert freeprob.Identity(c).s_transform(df, "df") == 1 / c
    for law in (freeprob.MarchenkoPastur(q, c), freeprob.Semicircle(1, c), freeprob.Discrete([1, 3])):
        assert sp.simplify(sp.limit(law.s_transform(df, "df"), df, 0) - 1 / law.moments(1)[0]) == 0


def test_s_transform_links_to_r():
    # [C10]: S(df) = 1/R(-df S(df))
    law = freeprob.MarchenkoPastur(q, 2)
    S = law.s_transform(df, "df")
    assert sp.simplify(S - 1 / law.r_transform(w).subs(w, -df * S)) == 0


def test_df_identities_symbolic():
    # [C6]: df2 = df1 + lam df1', and df1 - df2 = -lam df1'
    law = freeprob.Semicircle(1, 3)
    d1, d2 = law.df1(lam), law.df2(lam)
    assert sp.simplify(d2 - d1 - lam * sp.diff(d1, lam)) == 0
    # identity law: closed forms 1/(1+lam) and 1/(1+lam)^2
    assert sp.simplify(freeprob.Identity(1).df1(lam) - 1 / (1 + lam)) == 0
    assert sp.simplify(freeprob.Identity(1).df2(lam) - 1 / (1 + lam) ** 2) == 0


def test_discrete_df_is_a_cancellation_free_spectral_sum():
    law = freeprob.Discrete([1, 3])
    x = law.df1(lam).var
    assert sp.simplify(law.df1(lam).summand - x / (x + lam)) == 0
    assert sp.simplify(law.df2(lam).summand - x**2 / (x + lam) ** 2) == 0
    assert sp.simplify(law.df1(lam).doit() - (1 / (1 + lam) + 3 / (3 + lam)) / 2) == 0


def test_renormalized_ridge_and_ratio():
    assert C.ratio(300, 100) == 3
    assert C.renormalized_ridge(lam, freeprob.MarchenkoPastur(q).s_transform(df, "df")) == lam / (1 - q * df)
