"""Linear ridge regression [R6]-[R9]: closed forms, limits, identities, and a
direct Monte Carlo simulation (the independent numerics)."""

import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob.errors import ParameterError


def iso(q, lam, s2):
    # [R9] with s = ||wbar||^2 = 1
    b = q + lam - 1
    kappa = (b + np.sqrt(b * b + 4 * lam)) / 2
    eg = (kappa**2 + q * s2) / ((1 + kappa) ** 2 - q)
    return kappa, eg, (lam / kappa) ** 2 * (eg + s2)


def test_isotropic_closed_forms():
    n = 100
    p = np.array([20, 50, 99, 101, 200, 1000])[:, None]
    lam = np.array([1e-3, 0.1, 1.0, 10.0])[None, :]
    m = freeprob.LinearRidge(freeprob.Identity(1), noise=0.3, samples=100, ridge=0.1, dimension=n)
    out = m.evaluate(ridge=lam, samples=p)
    kappa, eg, etr = iso(n / p, lam, 0.3)
    assert out["Eg"].shape == (6, 4)
    # both routes are float64 closed forms of the same numbers: 1e-10
    # (the quadratic's root is conditioned ~ 1/(1 - gamma) near q = 1)
    assert np.allclose(out["kappa"], kappa, rtol=1e-10)
    assert np.allclose(out["Eg"], eg, rtol=1e-10)
    assert np.allclose(out["Etr"], etr, rtol=1e-9)


def test_ridgeless_limits_both_sides():
    m = freeprob.LinearRidge(freeprob.Identity(1), noise=0.25, samples=100, ridge=0, dimension=50)
    for p in (25, 40, 100, 400):
        q = 50 / p
        out = m.evaluate(samples=p)
        if q < 1:  # [R9]: sigma^2 q/(1-q), sigma^2 (1-q)
            assert float(out["Eg"]) == pytest.approx(0.25 * q / (1 - q), rel=1e-13)
            assert float(out["Etr"]) == pytest.approx(0.25 * (1 - q), rel=1e-13)
        else:  # (1 - 1/q) + sigma^2/(q - 1), no training error
            assert float(out["Eg"]) == pytest.approx(1 - 1 / q + 0.25 / (q - 1), rel=1e-13)
            assert float(out["Etr"]) == 0.0 and np.isinf(out["S"])


def test_gap_identity_and_keys():
    m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 300), noise=0.1, samples=100, ridge=1e-2)
    assert m.gap_identity() == 0
    out = m.evaluate()
    assert tuple(out) == freeprob.models.linear.KEYS
    # E_g + sigma^2 = S^2 E_tr and the decomposition [R7], [R8]
    assert np.allclose(out["Eg"] + 0.1, out["S"] ** 2 * out["Etr"], rtol=1e-12)
    assert np.allclose(out["Eg"], out["bias2"] + out["var_X"] + out["var_X_noise"], rtol=1e-14)
    # S = kappa/lam (the train-test gap) from the solved kappa [R3]
    assert np.allclose(out["S"], out["kappa"] / 1e-2, rtol=1e-10)


def test_optimal_ridge_isotropic():
    # [R9]: lam* = q sigma^2 / s minimizes E_g (Bayes-optimal)
    n, p, s2 = 100, 50, 0.5
    q = n / p
    lam = q * s2 * np.array([0.8, 0.9, 1.0, 1.1, 1.25])
    eg = freeprob.LinearRidge(freeprob.Identity(1), noise=s2, samples=p, ridge=0.1, dimension=n).evaluate(ridge=lam)["Eg"]
    assert np.argmin(eg) == 2
    kappa = iso(q, q * s2, s2)[0]
    assert float(eg[2]) == pytest.approx(kappa / (1 + kappa), rel=1e-10)  # E_g* = s kappa*/(1 + kappa*)


def simulate(sigma, wbar, p, lam, s2, seeds, rng):
    """Direct ridge regression, exact Sigma-norm errors (independent numerics)."""
    n = sigma.size
    eg, etr = [], []
    for _ in range(seeds):
        x = rng.normal(size=(p, n)) * np.sqrt(sigma)
        y = x @ wbar + rng.normal(scale=np.sqrt(s2), size=p)
        w = np.linalg.solve(x.T @ x / p + lam * np.eye(n), x.T @ y / p)
        d = w - wbar
        eg.append(np.sum(sigma * d * d))
        etr.append(np.mean((y - x @ w) ** 2))
    return np.array(eg), np.array(etr)


@pytest.mark.montecarlo
@pytest.mark.parametrize("pop_kind", ["isotropic", "powerlaw"])
@pytest.mark.parametrize("p,lam,s2", [(100, 1e-2, 0.25), (400, 1e-2, 0.0), (300, 0.1, 0.5)])
def test_theory_vs_monte_carlo(pop_kind, p, lam, s2, rng):
    n, seeds = 200, 40
    if pop_kind == "isotropic":
        sigma = np.ones(n)
        model = freeprob.LinearRidge(freeprob.Identity(1), noise=s2, samples=p, ridge=lam, dimension=n)
        wbar = rng.normal(size=n)
        wbar /= np.linalg.norm(wbar)
    else:
        pop = freeprob.PowerLaw(1.5, n)
        sigma = pop.spectrum.numeric_atoms()[0]
        target = freeprob.SourceTarget(0.7)
        model = freeprob.LinearRidge(pop, target=target, noise=s2, samples=p, ridge=lam)
        wbar = np.sqrt(model._weights[1])
    eg, etr = simulate(sigma, wbar, p, lam, s2, seeds, rng)
    th = model.evaluate()
    # standard error of the seed mean, plus a 3% finite-size allowance at
    # N = 200 (pitfall P10: 0.5-2% deviations at N ~ 400, larger near q = 1)
    for sim, key in ((eg, "Eg"), (etr, "Etr")):
        se = sim.std(ddof=1) / np.sqrt(seeds)
        assert abs(sim.mean() - float(th[key])) <= 4 * se + 0.03 * float(th[key]) + 1e-12, key


def test_bad_input():
    with pytest.raises(ParameterError, match="dimension"):
        freeprob.LinearRidge(freeprob.Identity(1), samples=10)
    with pytest.raises(ParameterError, match="samples"):
        freeprob.LinearRidge(freeprob.Identity(1), samples=10.5, dimension=5)
    with pytest.raises(ParameterError, match="noise"):
        freeprob.LinearRidge(freeprob.Identity(1), samples=10, dimension=5, noise=-1)
    m = freeprob.LinearRidge(freeprob.Identity(1), samples=10, dimension=5, ridge=0.1)
    with pytest.raises(ParameterError, match="ridge"):
        m.evaluate(ridge=-1.0)
    with pytest.raises(ParameterError, match="target"):
        freeprob.LinearRidge(freeprob.PowerLaw(1.5, 10), target=np.ones(3), samples=10)
    with pytest.raises(ParameterError, match="target"):
        freeprob.LinearRidge(freeprob.Identity(1), target=freeprob.SourceTarget(1), samples=10, dimension=5)
    with pytest.raises(ParameterError, match="r ="):
        freeprob.SourceTarget(-1)


def test_mpmath_path_fifty_digits():
    import mpmath

    m = freeprob.LinearRidge(freeprob.Identity(1), noise=0.3, samples=80, ridge=0.05, dimension=100)
    hi = m.evaluate(dps=50)
    q, lam, s2 = mpmath.mpf(100) / 80, mpmath.mpf(0.05), mpmath.mpf(0.3)
    with mpmath.workdps(60):
        b = q + lam - 1
        kappa = (b + mpmath.sqrt(b * b + 4 * lam)) / 2  # [R9]
        eg = (kappa**2 + q * s2) / ((1 + kappa) ** 2 - q)
        # 50 digits against the closed form (inputs are the binary floats passed)
        assert abs(hi["kappa"][()] - kappa) < mpmath.mpf(10) ** -48 * kappa
        assert abs(hi["Eg"][()] - eg) < mpmath.mpf(10) ** -48 * eg
    lo = m.evaluate()
    assert float(hi["Eg"][()]) == pytest.approx(float(lo["Eg"]), rel=1e-13)


def test_isotropic_closed_forms_are_derived():
    import sympy as sp

    from freeprob.conventions import lam, q
    from freeprob.models.linear import SIGMA2 as s2

    m = freeprob.LinearRidge(freeprob.Identity(1), samples=sp.Symbol("P", positive=True),
                             dimension=sp.Symbol("N", positive=True))
    cf = m.isotropic_closed_forms()
    # [R9], written here independently (s = ||wbar||^2 = 1)
    table = {
        "kappa": ((q + lam - 1) + sp.sqrt((q + lam - 1) ** 2 + 4 * lam)) / 2,
        "Eg_ridgeless_under": s2 * q / (1 - q),
        "Etr_ridgeless_under": s2 * (1 - q),
        "kappa0_over": q - 1,
        "Eg_ridgeless_over": (1 - 1 / q) + s2 / (q - 1),
        "kappa_peak": (lam + sp.sqrt(lam**2 + 4 * lam)) / 2,
        "optimal_ridge": q * s2,
    }
    for key, ref in table.items():
        for pt in ({q: sp.Rational(1, 3), lam: sp.Rational(1, 7), s2: sp.Rational(1, 5)},
                   {q: 3, lam: 2, s2: sp.Rational(3, 2)}):
            assert abs(complex(sp.N((cf[key] - ref).subs(pt), 30))) < 1e-25, key
    # E_g* = s kappa*/(1 + kappa*)
    ks = cf["kappa_optimal"]
    assert sp.simplify(cf["Eg_optimal"] - ks / (1 + ks)) == 0


CONTINUOUS = {
    "MP q=1/2": freeprob.MarchenkoPastur(0.5),
    "MP q=2 (atom at 0)": freeprob.MarchenkoPastur(2),
    "semicircle shifted to [1, 5]": freeprob.Semicircle(1, 3),
    # known only through their curves: kappa from the law's certified df1, df2
    "free product MP(1/2) x atoms": freeprob.free_mul(freeprob.MarchenkoPastur(0.5), freeprob.Discrete([1, 2])),
    "free sum MP(1/2) + semicircle": freeprob.free_add(freeprob.MarchenkoPastur(0.5), freeprob.Semicircle(1, 5)),
    "Wishart product [2, 3]": freeprob.WishartProduct([2, 3]),
}


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_continuous_population_in_linear_ridge(name):
    """A population known in closed form (or through a curve) gives finite,
    physical values at every ridge, with df1, df2 from the law's own
    certified evaluators; closed forms agree with the 30-digit route."""
    law = CONTINUOUS[name]
    m = freeprob.LinearRidge(law, samples=200, noise=0.1, dimension=100)
    lams = np.array([0.0, 1e-6, 0.1, 1e3, 1e9])
    out = m.evaluate(ridge=lams)
    for key, val in out.items():
        assert np.all(np.isfinite(val)), (key, val)
    assert np.all(out["Eg"] >= 0) and np.all((0 <= out["gamma"]) & (out["gamma"] < 1))
    assert np.all(out["df2"] <= out["df1"] * (1 + 1e-12))
    np.testing.assert_allclose(out["df1"], law.df1_numeric(out["kappa"]), rtol=1e-14)
    # gap identity [R8] and the large-ridge limit E_g -> tr Sigma (isotropic target, ||wbar|| = 1)
    pos = lams > 0
    np.testing.assert_allclose(out["Eg"][pos] + 0.1, out["S"][pos] ** 2 * out["Etr"][pos], rtol=1e-10)
    m1 = float(sp.N(law.moments(1)[0]))
    # at lambda = 1e9, E_g = tr Sigma - O(m2/kappa): the correction is ~1e-9 relative
    assert out["Eg"][-1] == pytest.approx(m1, rel=1e-6)
    # the 30-digit route evaluates the raw closed forms in mpmath; the float
    # route loses at most a few ulps per operation plus the solver's 1e-14 in kappa
    try:
        law.df1(sp.Symbol("k"))
    except freeprob.errors.NoClosedFormError:
        return  # curve-only laws: checked above and against Monte Carlo (test_montecarlo)
    mp = m.evaluate(ridge=lams[1:4], dps=30)
    for key in ("df1", "df2", "bias2", "var_X", "Eg", "Etr"):
        np.testing.assert_allclose(out[key][1:4], np.array(mp[key], dtype=float), rtol=1e-9, err_msg=key)


@pytest.mark.parametrize("c", [1e-12, 0.37, 1e12])
def test_a_float_scale_is_exactly_a_change_of_units(c):
    # LinearRidge(Identity(c)) at ridge c lam is c times LinearRidge(Identity(1))
    # at lam (noiseless keys); a float scale was folded into an expanded
    # denominator whose kappa^3 overflowed at ridge ~ 1e103 (NaN before)
    lam = np.array([1e-300, 1e-12, 1e-3, 1.0, 1e3, 1e12, 1e100, 1e250])
    one = freeprob.LinearRidge(freeprob.Identity(1), samples=10, dimension=50).evaluate(ridge=lam)
    m = freeprob.LinearRidge(freeprob.Identity(c), samples=10, dimension=50)
    scaled = m.evaluate(ridge=np.minimum(c * lam, 1e300))
    for key in ("bias2", "var_X", "Eg"):
        assert np.allclose(np.asarray(scaled[key]) / c, np.asarray(one[key]), rtol=1e-12, atol=0), key
    for key in ("df1", "df2", "gamma"):
        assert np.allclose(np.asarray(scaled[key]), np.asarray(one[key]), rtol=1e-12, atol=1e-300), key
