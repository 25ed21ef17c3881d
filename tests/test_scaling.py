"""Scaling laws [R11], [R16], [R21]: Mellin asymptotics vs exact sums,
exponents derived by dominant balance vs slope fits of the evaluators, the
phase diagram vs the derived exponents."""

import mpmath
import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob.errors import ParameterError
from freeprob.scaling import (
    ALPHA,
    ELL,
    C_alpha,
    NoSuchRegimeError,
    Q,
    R,
    exponent,
    leading_term,
    mellin_leading,
    phase_diagram,
    power_law_sum,
    regimes,
    split_summand,
    verify,
)


def test_c_alpha_and_mellin_constants():
    # C_alpha = int_0^oo du/(1 + u^alpha) (route 2: tanh-sinh quadrature of
    # int_0^1 (1 + v^(alpha-2))/(1 + v^alpha) dv -- the [1, oo) half mapped by
    # v = 1/u -- with v = w^2 so that the endpoint power w^(2 alpha - 3) is
    # bounded for alpha >= 1.5)
    for a in (1.5, 2.0, 3.0):
        quad = mpmath.quad(lambda w: 2 * w * (1 + (w * w) ** (a - 2)) / (1 + (w * w) ** a), [0, 1])
        assert float(C_alpha(a)) == pytest.approx(float(quad), rel=1e-14)
    assert float(C_alpha(1.5)) == pytest.approx(2.418399, abs=1e-6)
    # df2 continuum constant (1 - 1/alpha) C_alpha [R11b]
    cont, _ = mellin_leading(0, 0, 2, ALPHA)
    assert sp.simplify(sp.gammasimp(cont.coefficient - (1 - 1 / ALPHA) * C_alpha(ALPHA))) == 0
    # the source-limited bias constant pi (1 - 2r)/(alpha sin 2 pi r) [R11c]
    d, parts = split_summand(sp.Symbol("k") ** 2 * sp.Symbol("x") / (sp.Symbol("x") + sp.Symbol("k")) ** 2,
                             sp.Symbol("x"), sp.Symbol("k"))
    assert d == 1 and parts == [(1, 1, 2)]
    cont, disc = mellin_leading(1 + 2 * ALPHA * R - ALPHA, 1, 2, ALPHA)  # weights wbar_k^2 = k^-(1 + alpha(2r - 1))
    val = (cont.coefficient - sp.pi * (1 - 2 * R) / (ALPHA * sp.sin(2 * sp.pi * R))).subs({ALPHA: 1.5, R: 0.3})
    assert abs(float(sp.N(val))) < 1e-12
    assert sp.expand(disc.coefficient.args[0] - (1 + 2 * ALPHA * (R - 1))) == 0


def test_continuum_df1_against_exact_sums_at_large_n():
    # sum_k eta/(eta + kappa) -> C_alpha kappa^(-1/alpha) as kappa -> 0 and
    # n -> oo [R11b]: with alpha = 3, n = 10^9, kappa = 1e-15 the truncation
    # (kappa n^alpha)^(-2/3) ~ 1e-8 and the discrete correction
    # 0.5 kappa^(1/3)/C_3 ~ 4e-6 bound the relative difference by 1e-5
    kappa = np.array([1e-15, 1e-16])
    exact = power_law_sum(kappa, 0, 0, 1, 3.0, 10**9)
    cont = float(C_alpha(3.0)) * kappa ** (-1 / 3.0)
    assert np.all(np.abs(exact / cont - 1) < 1e-5)
    # and the correction is what the Mellin analysis says: the discrete term
    # zeta(0) h(0) = -1/2, minus the truncated continuum tail
    # int_n^oo dx/(kappa x^3) = 1/(2 kappa n^2); the next terms are ~1e-5
    assert np.allclose(exact - cont, -0.5 - 1 / (2 * kappa * 1e18), rtol=0, atol=1e-4)


def test_power_law_sums_two_routes():
    # Euler-Maclaurin tail vs the direct numpy sum at n = 10^6 (rounding of
    # 10^6 terms: 1e-13) and vs mpmath's Euler-Maclaurin nsum at n = oo
    # (the tail beyond kappa n^alpha = 1e8 is approximated to relative 1e-8
    # of itself: 1e-10)
    k = np.logspace(-7, 1, 5)
    kk = np.arange(1, 10**6 + 1, dtype=float)
    for beta, a, m in ((0, 0, 1), (0, 0, 2), (1.8, 1, 2), (2.5, 0, 1)):
        direct = np.array([np.sum(kk**-beta * (kv * kk**1.5) ** a / (1 + kv * kk**1.5) ** m) for kv in k])
        assert np.allclose(power_law_sum(k, beta, a, m, 1.5, 10**6), direct, rtol=1e-13, atol=0)
        inf = power_law_sum(k[:3], beta, a, m, 1.5, np.inf)
        assert np.allclose(inf, power_law_sum(k[:3], beta, a, m, 1.5, np.inf, method="mpmath"), rtol=1e-10)
    with pytest.raises(ParameterError, match="alpha"):
        power_law_sum(k, 0, 0, 1, 0.9, np.inf)  # non-normalizable (P13)


def lin(r, ridge=0.0, noise=0.0, n=10**6):
    return freeprob.LinearRidge(freeprob.PowerLaw(1.5, n), target=freeprob.SourceTarget(r), ridge=ridge, noise=noise)


def test_linear_ridge_exponents_derived():
    # [R11]: kappa ~ max(lambda, P^-alpha); E_g ~ P^(-2 alpha min(r, 1));
    # ridge-limited signal P^(-2 ell min(r,1)), noise P^-(1 - ell/alpha); floor
    assert exponent(lin(0.5), "kappa", "samples", R < 1) == ALPHA
    assert exponent(lin(0.5), "Eg", "samples", R < 1) == 2 * ALPHA * R
    assert exponent(lin(0.5), "Eg", "samples", R > 1) == 2 * ALPHA
    reg = sp.And(ELL < ALPHA, R < 1)
    assert sp.simplify(exponent(lin(0.5, 1e-3), "kappa", "samples", reg) - ELL) == 0
    assert sp.simplify(exponent(lin(0.5, 1e-3), "bias2", "samples", reg) - 2 * ELL * R) == 0
    assert sp.simplify(exponent(lin(0.5, 1e-3, 0.1), "var_X_noise", "samples", reg) - (1 - ELL / ALPHA)) == 0
    # ridgeless noise floor sigma^2 (alpha - 1) [R11b]: exponent 0 and that constant
    c, e, _ = leading_term(lin(0.5, 0.0, 0.1), "var_X_noise", "samples", R < 1)
    assert e == 0 and abs(float(sp.N((c - 0.1 * (ALPHA - 1)).subs(ALPHA, 1.5)))) < 1e-12
    # the ridgeless E_g constant pi (1 - 2r)/sin(2 pi r) (C_alpha/P)^(2 alpha r) [R11c]
    c, e, _ = leading_term(lin(0.5), "Eg", "samples", R < 1)
    ref = sp.pi * (1 - 2 * R) / sp.sin(2 * sp.pi * R) * C_alpha(ALPHA) ** (2 * ALPHA * R)
    assert abs(float(sp.N((c / ref).subs({ALPHA: 1.5, R: 0.3})) - 1)) < 1e-12


def test_regimes_of_noisy_linear_ridge():
    # noisy, ridge P^-ell: floor (ell > alpha), noise-limited, and the
    # signal-limited regime below the crossover ell = alpha/(2 alpha r + 1)
    regs = {str(r_.exponent): r_ for r_ in regimes(lin(0.5, 1e-3, 0.1), "Eg", samples=60)}
    assert {"0", "(alpha - ell)/alpha", "2*ell*r", "2*ell"} <= set(regs)
    assert any(str(c) == "ell < alpha/(2*alpha*r + 1)" for c in regs["2*ell*r"].conditions)
    assert any(str(c) == "ell > alpha" for c in regs["0"].conditions)


@pytest.mark.parametrize("r,ell,noise,key", [(0.4, None, 0.0, "Eg"), (1.5, None, 0.0, "Eg"),
                                             (0.4, 0.8, 0.0, "Eg"), (0.4, 0.8, 0.1, "Eg"),
                                             (0.4, None, 0.1, "var_X_noise")])
def test_linear_ridge_slopes_match_derived_exponents(r, ell, noise, key, rng):
    # slopes fitted on the evaluator over the last two of three decades
    # (P = 30..3e4, n = 10^6 >> P); corrections to scaling are O(P^-min(...))
    # and ~0.05 in the exponent over that window (P14).  Monte Carlo spot
    # check of the same evaluator at D = 300, P = 80 (20 draws): 4 s.e. + 5%
    m = lin(r, 1e-3 if ell else 0.0, noise)
    v = verify(m, key, ell=ell, start=30, decades=3, monte_carlo=(300, 80, 20), rng=rng)
    assert v.error < 0.06, str(v)
    sc = v.spot_check
    assert abs(sc["simulation"] - sc["theory"]) <= 4 * sc["se"] + 0.05 * sc["theory"], str(v)


def rf(r=0.8, ridge=0.0, noise=0.0):
    return freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 10**6), widths=100, samples=100,
                                       target=freeprob.SourceTarget(r), ridge=ridge, noise=noise)


def test_random_feature_exponents_derived():
    data = sp.And(Q > 1, R > 0.5, R < 1)
    assert exponent(rf(), "kappa2", "samples", data) == ALPHA
    assert exponent(rf(), "bias2", "samples", data) == 2 * ALPHA * R
    # the finite-width variance P^(1 - alpha)/N for r > 1/2 [R16b]
    assert sp.simplify(exponent(rf(), "var_F", "samples", data) - (ALPHA + Q - 1)) == 0
    assert sp.simplify(exponent(rf(), "var_XF", "samples", data) - (ALPHA + Q - 1)) == 0
    # width-limited: kappa_2 ~ N^-alpha, E_g ~ N^(-alpha min(2r, 1)) [R16d]
    assert exponent(rf(), "kappa2", "samples", sp.And(Q < 1, R > 0.5)) == ALPHA * Q
    assert exponent(rf(), "Eg", "samples", sp.And(Q < 1, R > 0.5, R < 1)) == ALPHA * Q
    # the variance-limited window: bias vs variance cross at N = P^(1 + alpha(2r - 1)) [R16b]
    regs = {str(r_.exponent): r_ for r_ in regimes(rf(), "Eg", samples=40)}
    assert "alpha + q - 1" in regs
    # in the width at P = oo: kappa_2 ~ N^-alpha and E_g ~ N^(-alpha min(2r, 1)) [R16d]
    assert exponent(rf(), "kappa2", "width", R > 0.5) == ALPHA
    assert exponent(rf(), "Eg", "width", sp.And(R > 0.5, R < 1)) == ALPHA
    # in the ridge at P = oo (the kernel limit): kappa ~ lambda, E_g ~ lambda^(2r)
    assert exponent(lin(0.4, 1e-3), "kappa", "ridge", R < 1) == 1
    assert exponent(lin(0.4, 1e-3), "Eg", "ridge", R < 1) == 2 * R
    # ridge-dominated Var_F ~ P^-(ell - ell/alpha)/N [R16c]
    reg = sp.And(Q > 1, R > 0.5, R < 1, ELL < ALPHA)
    assert sp.simplify(exponent(rf(ridge=1e-3), "var_F", "samples", reg) - (ELL - ELL / ALPHA + Q)) == 0


@pytest.mark.parametrize("key,q,start,decades", [("Eg", 0.5, 100, 3), ("bias2", 1.5, 10, 2),
                                                 ("var_F", 1.5, 10, 2)])
def test_random_feature_slopes_match_derived_exponents(key, q, start, decades):
    # width-limited (q < 1) and data-limited / variance window (q > 1) with
    # D = 10^6 >> N, P; fitted over the last decade(s): tolerance 0.06 (P14)
    v = verify(rf(), key, q=q, start=start, decades=decades, fit_decades=min(2, decades - 1))
    assert v.error < 0.06, str(v)


def test_phase_diagram_terms_are_the_derived_exponents():
    # c = 1 (white features): each term of [R16e] equals the exponent the
    # engine derives from the model at points inside that term's region
    pd = phase_diagram(1.5, 0.8, c=1.0, noisy=True)
    model = rf(0.8, ridge=1e-3, noise=0.1)
    for ell, q in ((0.5, 2.5), (1.2, 1.6), (3.0, 0.45), (3.0, 2.0), (0.3, 0.5), (2.0, 0.2)):
        _, e, _ = leading_term(model, "Eg", "samples", ridge="power", points=[{ALPHA: 1.5, R: 0.8, ELL: ell, Q: q}])
        assert float(e.subs({ALPHA: 1.5, R: 0.8, ELL: ell, Q: q})) == pytest.approx(float(pd.beta(ell, q)),
                                                                                  abs=1e-12), (ell, q)
    # P17: the signal term keeps min(r, 1) in the noisy diagram
    # (the authors' bug would give 2 alpha min(1, ell/alpha) = 3 here, not 0.9)
    pd_r = phase_diagram(1.5, 0.3, noisy=True)
    assert float(pd_r.terms()["signal"].subs({ELL: 3.0})) == pytest.approx(2 * 1.5 * 0.3)
    assert float(phase_diagram(1.5, 0.3).beta(3.0, 3.0)) == pytest.approx(0.9)
    assert set(np.unique(pd.dominant(*np.meshgrid(np.linspace(0, 2, 21), np.linspace(0, 3, 31))))) <= \
        {"signal", "variance_F", "width_signal", "noise"}


def test_phase_diagram_dominant_term_by_direct_evaluation():
    # noiseless alpha = 1.5, r = 0.8: at a point inside the variance_F region
    # the feature-variance components dominate E_g when evaluated directly;
    # inside the signal region the bias-type components do
    pd = phase_diagram(1.5, 0.8, c=1.0)
    model = rf(0.8, ridge=1e-3)
    for ell, q, expect in ((3.0, 1.3, "variance_F"), (0.4, 2.5, "signal")):
        assert pd.dominant(ell, q) == expect
        p = 3000.0
        n = round(p**q)
        out = model.evaluate(samples=p, widths=n, ridge=(n / 10**6) * p ** -ell)
        groups = {"signal": float(out["bias2"] + out["var_X"]), "variance_F": float(out["var_F"] + out["var_XF"])}
        assert max(groups, key=groups.get) == expect, (ell, q, groups)


def test_bad_input():
    with pytest.raises(ParameterError, match="alpha"):
        phase_diagram(1.0, 0.5)
    with pytest.raises(ParameterError, match="r"):
        phase_diagram(1.5, 0.0)
    with pytest.raises(NoSuchRegimeError):
        exponent(lin(0.5), "Eg", "samples", sp.And(R < 0.3, R > 0.6))
    with pytest.raises(ParameterError, match="quantity"):
        exponent(lin(0.5), "nonsense", "samples", R < 1)
    with pytest.raises(ParameterError, match="variable"):
        exponent(lin(0.5), "Eg", "width", R < 1)
    with pytest.raises(ParameterError, match="population"):
        exponent(freeprob.LinearRidge(freeprob.Identity(1), dimension=10), "Eg", "samples")


def test_sign_definite_rf_forms_equal_the_model_quantities():
    # the forms derived for asymptotics (A = lam/kappa_1, B = kappa_1/kappa_2)
    # against the model's own evaluate() at numeric points, for two targets
    # and a ridge from 1e-3 to 1; every form is subtraction-free: expanded in
    # its atoms (all nonnegative), no monomial has a negative coefficient
    from freeprob import conventions as C
    from freeprob.numeric.compile import compile_expr
    from freeprob.numeric.spectrum import SpectralMean
    from freeprob.scaling._rf_forms import A_SYM, B_SYM, rf_forms

    lam = np.array([1e-3, 0.1, 1.0])
    for target in (freeprob.SourceTarget(0.7), None):
        kw = {} if target is None else {"target": target}
        m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 400), widths=300, samples=200, noise=0.2, **kw)
        out = m.evaluate(ridge=lam)
        forms = rf_forms(m)
        k2, k1 = out["kappa2"], out["kappa1"]
        args = (C.kappa2, C.phi, A_SYM, B_SYM, C.sigma2)
        for key in ("kappa1", "df1", "df2", "rho", "gamma1", "gamma2", "bias2", "var_X", "var_F", "var_XF",
                    "var_X_noise", "var_XF_noise", "Eg", "Etr"):
            val = compile_expr(forms[key], args)(k2, 200 / 400, lam / k1, k1 / k2, 0.2)
            assert np.allclose(val, out[key], rtol=1e-10), key
        for key, form in forms.items():
            atoms = {a: sp.Symbol(f"m{i}", positive=True) for i, a in enumerate(form.atoms(SpectralMean))}
            num, den = sp.fraction(sp.together(form.xreplace(atoms)))
            for part in (num, den):
                terms = sp.Add.make_args(sp.expand(part))
                assert all(t.as_coeff_Mul()[0] > 0 for t in terms), (key, part)


def test_sign_definite_derivation_refuses_a_cancelling_expression():
    from freeprob import conventions as C
    from freeprob.scaling._rf_forms import derive_form

    m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 400), widths=300, samples=200)
    d2 = m.population.df2(C.kappa2)
    assert derive_form(1 - d2 / C.phi, m) != 0          # 1 - gamma_2 = (Delta + phi A)/phi
    with pytest.raises(ParameterError, match="both signs"):
        derive_form(1 - 2 * d2 / C.phi, m)              # not sign-definite: refused, not cancelled


def test_finite_width_exponents_of_anisotropic_weights():
    # [R18] at the figure's P = 10, D = 10^4: the local exponent of
    # Var_F + Var_XF at N = 10^4 is ~1 (alpha_F < 1/2), ~2(1 - alpha_F)
    # (1/2 < alpha_F < 1, the crossover the analysis of [R18] predicts) and
    # ~0 (alpha_F > 1); 0.05 covers the remaining drift over the last decade
    from freeprob.scaling import finite_width_curve

    pop = freeprob.PowerLaw(1.5, 10**4)
    widths = np.unique(np.round(np.geomspace(1000, 10**4, 5))).astype(int)
    for alpha_f, c in ((0.3, 1.0), (0.7, 2 * (1 - 0.7)), (1.5, 0.0)):
        _, vals, local = finite_width_curve(pop, 10, alpha_f, widths)
        assert np.all(vals > 0)
        assert abs(local[-1] - c) < 0.05, (alpha_f, local)


def test_continuum_forms_of_the_kernel_case():
    # PowerLaw(alpha, oo): the unnormalized kernel sums; leading forms vs the
    # exact Euler-Maclaurin sums at small kappa (relative O(kappa^(1/alpha)))
    from freeprob.conventions import kappa
    from freeprob.scaling import continuum_forms

    law = freeprob.PowerLaw(1.5, sp.oo)
    f = continuum_forms(law, freeprob.SourceTarget(0.3))
    # the law's own df1, df2 are the same kernel sums [C16], by the compile
    # boundary's Euler-Maclaurin route (freeprob.numeric.powersum): two
    # implementations agree
    # (the latter stops its tail at kappa k^alpha = 1e8: ~1e-11 at kappa = 1e-8),
    # and both against mpmath.nsum at 30 digits
    ks = np.array([1e-8, 1e-4, 0.3, 10.0])
    assert np.allclose(law.df1_numeric(ks), f.exact("df1", ks), rtol=1e-10)
    assert np.allclose(law.df2_numeric(ks), f.exact("df2", ks), rtol=1e-10)
    assert np.allclose(law.df1_numeric(ks), f.exact("df1", ks, method="mpmath"), rtol=1e-14)
    k = 1e-10
    for key in ("df1", "df2", "tf1", "tf2", "tf1p"):
        lead_val = float(f.leading(key).subs(kappa, k))
        assert f.exact(key, [k])[0] == pytest.approx(lead_val, rel=1e-3), key
    # df1 leading term is C_alpha kappa^(-1/alpha); finite n is normalized by n
    assert abs(float((f.leading("df1") / (C_alpha(1.5) * kappa ** (-1 / 1.5))).subs(kappa, 0.3)) - 1) < 1e-12
    with pytest.raises(ParameterError, match="alpha"):  # non-normalizable (P13)
        continuum_forms(freeprob.PowerLaw(0.8, sp.oo)).leading("df1")
    fin = continuum_forms(freeprob.PowerLaw(1.5, 10**5))
    assert np.allclose(fin.exact("df1", [1e-3, 1.0]), freeprob.PowerLaw(1.5, 10**5).df1_numeric(np.array([1e-3, 1.0])),
                       rtol=1e-13)
