"""Spectral means as matrix products (freeprob.numeric.separable): the
separable form against exactly rounded sums over a catalogue of summands,
spectra and poles, and every key of the models against the summand-by-summand
evaluation (the separable form switched off)."""

import math

import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob.numeric import compile as compile_mod
from freeprob.numeric.cache import clear_caches
from freeprob.numeric.separable import Separable

x, k, c, e = sp.symbols("x kappa c e")

#: the summand shapes the models produce: poles of order 1-3, powers of kappa
#: paired with the pole, an absorbed sum (e (x + k) + k)/(x + k), a
#: coefficient free of x, a second pole at -c, and a polynomial term
SUMMANDS = [
    x / (x + k),
    x**2 / (x + k) ** 2,
    -x * k / (x + k) ** 2,
    k**2 * x / (x + k) ** 2,
    (k / (x + k)) ** 3,
    e * x / (x + k) + e * k / (x + k) + k / (x + k),
    x**2 * e / ((e + 1) * (x + k) ** 2) + 2 * x * k / ((e + 1) * (x + k) ** 2) + k**2 / ((e + 1) * (x + k) ** 2),
    x / ((x + k) * (x + c)),
    k * c * x**2 / ((x + k) ** 2 * (x + c)),
    x**2 / (x + k),
    3 * x + e,
]


def _spectra():
    rng = np.random.default_rng(3)
    n = 3000
    return {
        "uniform": (rng.uniform(0.01, 1, n), None),
        "power law over 8 decades": (np.arange(1, n + 1) ** -2.7, None),
        "lognormal, random weights": (rng.lognormal(0, 3, n), rng.dirichlet(np.ones(n))),
        "tiny and huge": (np.concatenate([rng.uniform(1e-200, 1e-190, n // 2), rng.uniform(1e100, 1e101, n // 2)]),
                          None),
    }


def _exact(v, p, kv, cv, ev, j):
    """math.fsum of the summand ``j`` over the atoms at one point, and the
    sum of its absolute terms (the rounding scale of any evaluation)."""
    # each term with its powers paired as the direct route pairs them (no
    # overflow of kappa^2 at kappa = 1e104)
    terms = [sp.lambdify((x, k, c, e), compile_mod._pair_powers(t), modules="numpy")
             for t in sp.Add.make_args(SUMMANDS[j])]
    fv = sum(np.asarray(t(v, kv, cv, ev) * np.ones_like(v), dtype=complex) for t in terms)
    size = sum(np.abs(np.asarray(t(v, kv, cv, ev) * np.ones_like(v), dtype=complex)) for t in terms)
    return complex(math.fsum((p * fv).real), math.fsum((p * fv).imag)), math.fsum(p * size)


@pytest.mark.parametrize("name", sorted(_spectra()))
@pytest.mark.parametrize("cplx", [False, True])
def test_separable_means_equal_the_exactly_rounded_sums(name, cplx):
    v, w = _spectra()[name]
    p = np.full(v.size, 1.0 / v.size) if w is None else w
    top = float(np.max(v))
    kv = top * np.geomspace(1e-12, 1e3, 9)
    if cplx:  # poles off the axis, on both sides and next to the spectrum (the contour route)
        kv = kv * np.exp(1j * np.linspace(-2.9, 2.9, 9))
    cv, ev = 0.7 * top + 0 * kv, np.linspace(-0.9, 2.0, 9)
    sep = Separable.build(SUMMANDS, x, (k, c, e), ["numpy"], None)
    assert sep is not None
    dtype = np.dtype(complex if cplx else float)
    out = sep.means((v, w), [kv, cv, ev], kv.size, dtype, block=1000)
    for j in range(len(SUMMANDS)):
        for i in range(kv.size):
            exact, size = _exact(v, p, kv[i], cv[i], ev[i], j)
            # gemm's and the products' rounding: a few ulps of sum p|terms|
            assert abs(out[j][i] - exact) <= 1e-14 * size, (j, kv[i], out[j][i], exact)


def test_keep_mask_drops_the_atoms_it_names():
    v = np.linspace(0.1, 2.0, 50)
    owner = np.arange(50) % 3
    mask = np.array([[True, False, True], [False, True, True]])
    sep = Separable.build([x / (x + k), k / (x + k) ** 2], x, (k,), ["numpy"], None)
    kv = np.array([0.3, 2.0])
    out = sep.means((v, None), [kv], 2, np.dtype(float), keep=(mask, owner))
    for i in range(2):
        kept = mask[i, owner]
        assert out[0][i] == pytest.approx(np.sum(v[kept] / (v[kept] + kv[i])) / 50, rel=1e-14)
        assert out[1][i] == pytest.approx(np.sum(kv[i] / (v[kept] + kv[i]) ** 2) / 50, rel=1e-14)


@pytest.mark.parametrize("cplx", [False, True])
def test_column_blocks_are_kept_only_for_read_only_atoms(cplx):
    # the blocks depend on the atoms alone; a read-only array (a law's) keeps
    # them, a writable one may change in place between calls and must not
    # (summands whose basis columns carry x itself: x^2/(x + k) = x * x/(x + k))
    sep = Separable.build([x**2 / (x + k), x**3 / (x + k) ** 2], x, (k,), ["numpy"], None)
    kv = np.array([0.3, 2.0 + 1j]) if cplx else np.array([0.3, 2.0])
    dt = np.dtype(complex if cplx else float)
    direct = lambda v: [np.mean(v[None, :] ** 2 / (v[None, :] + kv[:, None]), axis=1),  # noqa: E731
                        np.mean(v[None, :] ** 3 / (v[None, :] + kv[:, None]) ** 2, axis=1)]
    ro = np.linspace(0.1, 2.0, 50)
    ro.flags.writeable = False
    for _ in range(2):                                   # the second call reads the kept blocks
        for got, ref in zip(sep.means((ro, None), [kv], 2, dt), direct(ro)):
            np.testing.assert_allclose(got, ref, rtol=1e-14)
    rw = np.linspace(0.1, 2.0, 50)
    sep.means((rw, None), [kv], 2, dt)
    rw *= 3.0                                            # in place: the same object, new atoms
    for got, ref in zip(sep.means((rw, None), [kv], 2, dt), direct(rw)):
        np.testing.assert_allclose(got, ref, rtol=1e-14)


def test_powers_are_paired_with_the_pole_far_out():
    # kappa^2 x/(x + kappa)^2 at kappa = 1e300 is x v^2, not inf * 0;
    # kappa^3/(x + kappa)^3 at 1e200 is v^3; kappa^2 x^2/(x + kappa)^2 at
    # 1e160 is x^2 v^2 (u^2 kappa^2 overflowed: the far-field Var_F of
    # random features), and kappa x^2/(x + kappa)^2 at 1e300 is x u v,
    # where u^2 kappa underflowed to 0
    sep = Separable.build([k**2 * x / (x + k) ** 2, k**3 / (x + k) ** 3, k**2 * x**2 / (x + k) ** 2,
                           k * x**2 / (x + k) ** 2], x, (k,), ["numpy"], None)
    v = np.array([0.5, 2.0])
    out = sep.means((v, None), [np.array([1e300, 1e200, 1e160])], 3, np.dtype(float))
    assert out[0][0] == pytest.approx(1.25, rel=1e-14)  # mean of x
    assert out[1][1] == pytest.approx(1.0, rel=1e-14)
    assert out[2][2] == pytest.approx(2.125, rel=1e-14)  # mean of x^2
    assert out[3][0] == pytest.approx(2.125e-300, rel=1e-14)


def test_a_coefficient_times_a_sum_of_the_form_is_distributed():
    # k (e x/(x + k) + k/(x + k)), as psi - df1 absorbed into one mean and
    # scaled by kappa_2 (the maps without feature noise), stayed on the direct
    # route: random-feature evaluate 3.6x slower
    e = sp.Symbol("e")
    summand = sp.Mul(k, sp.Add(e * x / (x + k), k / (x + k), evaluate=False), evaluate=False)
    sep = Separable.build([summand], x, (k, e), ["numpy"], None)
    assert sep is not None
    v, p = np.array([0.5, 2.0, 7.0]), np.array([0.2, 0.3, 0.5])
    kv, ev = np.array([0.3, 4.0]), np.array([-0.25, 1.5])
    got = sep.means((v, p), [kv, ev], 2, np.dtype(float))[0]
    want = [math.fsum(pi * kk * (ee * vi + kk) / (vi + kk) for vi, pi in zip(v, p)) for kk, ee in zip(kv, ev)]
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    # a product of two sums is not distributed
    assert Separable.build([(x / (x + k) + e) * (k / (x + k) + e)], x, (k, e), ["numpy"], None) is None


@pytest.mark.parametrize("summand", [x / (2 * x + k), sp.exp(-k * x), sp.sqrt(x) / (x + k), 1 / x, (x + k) ** 2,
                                     x / (x**2 + k), sp.log(x + k)])
def test_summands_outside_the_form_are_left_to_the_direct_route(summand):
    assert Separable.build([x / (x + k), summand], x, (k,), ["numpy"], None) is None


def _models():
    rng = np.random.default_rng(11)
    v = rng.uniform(0.01, 1.0, 5000) ** 2
    pop = freeprob.Discrete(v)
    return {
        "linear, zero atoms": freeprob.LinearRidge(freeprob.Discrete(np.concatenate([v, np.zeros(700)])),
                                                   samples=20000, noise=0.2),
        "linear, source target": freeprob.LinearRidge(freeprob.PowerLaw(1.5, 5000),
                                                      target=freeprob.SourceTarget(0.6), samples=900, noise=0.05),
        "random features, deep": freeprob.RandomFeatureRidge(pop, widths=(3000, 1500), samples=2000, noise=0.1,
                                                             feature_noise=0.05),
        "random features, anisotropic": freeprob.RandomFeatureRidge(
            pop, widths=1000, samples=3000, noise=0.1, feature_covariance=freeprob.PowerLaw(0.7, 1000)),
        "linear, gradient flow": freeprob.LinearRidge(pop, samples=2500, noise=0.1,
                                                      estimator=freeprob.GradientFlow(10.0)),
    }


def _term_scale(out, model):
    """As in test_compressed_spectra: keys computed as differences keep
    absolute accuracy on the scale of the errors they are the differences of."""
    errors = np.abs(out["Eg"]) + float(model.noise)
    scale = {key: errors for key in out}
    for key in ("df1", "df2", "gamma", "gamma1", "gamma2", "rho", "dfbar1"):
        scale[key] = np.ones_like(errors)
    scale["kappa"] = scale["kappa2"] = scale["S"] = np.zeros_like(errors)
    if "kappa1" in out:
        scale["kappa1"] = out["kappa2"] * float(model.widths[0]) / float(model.dimension)
    return scale


@pytest.mark.parametrize("name", sorted(_models()))
def test_every_key_equals_the_summand_by_summand_evaluation(name, monkeypatch):
    model = _models()[name]
    sweep = {"time": np.geomspace(0.1, 100, 12)} if model.estimator is not None else \
        {"ridge": np.logspace(-6, 2, 40)}
    clear_caches()
    fast = model.evaluate(**sweep)
    monkeypatch.setattr(compile_mod.Separable, "build", classmethod(lambda cls, *a, **kw: None))
    clear_caches()
    try:
        slow = model.evaluate(**sweep)
    finally:
        monkeypatch.undo()
        clear_caches()
    scale = _term_scale(slow, model)
    for key in slow:
        a, b = np.asarray(fast[key]), np.asarray(slow[key])
        if a.dtype.kind not in "fc":
            continue
        assert np.all(np.isfinite(a)), key
        # 1e-13 relative, or a few ulps (4e-15) of the terms a difference is
        # computed from: both routes sum the same products in another order
        assert np.all(np.abs(a - b) <= 1e-13 * np.abs(b) + 4e-15 * scale[key]), (key, np.max(np.abs(a - b)))
