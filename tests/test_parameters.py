"""One declaration per parameter: validation, LaTeX symbols, the typical
values of the catalogue and the Hypothesis strategies all come from the
``PARAMETERS`` declarations of the laws and models."""

from __future__ import annotations

import inspect

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

import freeprob
from freeprob.errors import ParameterError
from freeprob.models import design
from freeprob.parameters import DOMAINS, Parameter

#: classes whose scalar constructor parameters are all declared; the rest of
#: each signature is listed here with the reason it is not a scalar declaration
LAWS = {
    freeprob.MarchenkoPastur: (),
    freeprob.Semicircle: (),
    freeprob.Identity: (),
    freeprob.PowerLaw: (),
    freeprob.WishartProduct: (),
    freeprob.laws.Affine: ("law",),  # a law, not a scalar
    freeprob.Discrete: ("values", "weights"),  # arrays, validated element by element
}
MODELS = {
    freeprob.LinearRidge: ("population", "target", "estimator"),  # the estimator is an object with its own declarations
    freeprob.RandomFeatureRidge: ("population", "target", "feature_covariance", "layer_variance", "estimator"),
    freeprob.NonlinearRandomFeatureRidge: ("population", "target", "activation", "method"),
}


def _signature_names(cls):
    return [n for n in inspect.signature(cls).parameters if n != "self"]


#: spectral estimators [C18]: every constructor parameter is a declared scalar
ESTIMATORS = {freeprob.Ridge: (), freeprob.GradientFlow: (), freeprob.GradientDescent: (), freeprob.SpectralCutoff: ()}
LAWS.update(ESTIMATORS)


@pytest.mark.parametrize("cls", list(LAWS) + list(MODELS), ids=lambda c: c.__name__)
def test_every_scalar_parameter_is_declared(cls):
    exempt = LAWS.get(cls, MODELS.get(cls))
    names = _signature_names(cls)
    assert set(cls.PARAMETERS) == set(names) - set(exempt), cls.__name__
    for prm in cls.PARAMETERS.values():
        assert isinstance(prm, Parameter) and prm.domain in DOMAINS and prm.latex


def _outside(prm):
    """A value outside the declared domain."""
    return {"positive": -1, "nonnegative": -1, "real": sp.oo, "nonzero": 0, "positive_integer": 0,
            "nonnegative_integer": -1}[prm.domain]


def _typical_kwargs(cls):
    """Constructor arguments from the declarations' typical ranges."""
    out = {name: prm.typical_values(3)[1] for name, prm in cls.PARAMETERS.items()}
    if cls is freeprob.WishartProduct:
        out["ratios"] = [out["ratios"], 2.0]
    if cls is freeprob.laws.Affine:
        out["law"] = freeprob.Semicircle(1)
    if cls in MODELS:
        out["population"] = freeprob.Identity(1)
        if "widths" in out:
            out["widths"] = out["widths"] if cls is freeprob.NonlinearRandomFeatureRidge else [out["widths"]]
    if cls is freeprob.Discrete:
        out = {"values": [1, 2]}
    return out


@pytest.mark.parametrize("cls, name", [(c, n) for c in list(LAWS) + list(MODELS) for n in c.PARAMETERS],
                         ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_validation_comes_from_the_declaration(cls, name):
    prm = cls.PARAMETERS[name]
    kwargs = _typical_kwargs(cls)
    cls(**kwargs)  # typical values are admissible
    bad = _outside(prm)
    if cls is freeprob.WishartProduct and name == "ratios":
        kwargs[name] = [bad]
        name = "ratios[0]"
    elif name == "widths" and isinstance(kwargs[name], list):
        kwargs[name] = [bad]
    else:
        kwargs[name] = bad
    with pytest.raises(ParameterError) as err:
        cls(**kwargs)
    assert err.value.args[0].startswith(f"{name} = ") and DOMAINS[prm.domain][1] in str(err.value)


def test_latex_of_declared_symbols():
    for cls in list(LAWS) + list(MODELS):
        for prm in cls.PARAMETERS.values():
            assert freeprob.latex(prm.symbol()) == prm.latex, (cls, prm)
    assert freeprob.latex(freeprob.MarchenkoPastur.PARAMETERS["ratio"].symbol() * 2) == "2 q"


def test_the_domain_check_rejects_a_bad_declaration():
    with pytest.raises(ParameterError, match="domain"):
        Parameter("x", "prime", "x", (1, 2))
    with pytest.raises(ParameterError, match="typical"):
        Parameter("x", "real", "x", (2, 1))


# -------------------------------------------------------------- property tests
def _law_strategy(cls):
    kw = {name: prm.strategy() for name, prm in cls.PARAMETERS.items()}
    if cls is freeprob.WishartProduct:
        kw["ratios"] = st.lists(cls.PARAMETERS["ratios"].strategy(), min_size=1, max_size=2)
    return st.builds(cls, **kw)


LAW_STRATEGY = st.one_of(*[_law_strategy(c) for c in (freeprob.MarchenkoPastur, freeprob.Semicircle,
                                                      freeprob.Identity, freeprob.PowerLaw,
                                                      freeprob.WishartProduct)])


@settings(max_examples=25)
@given(LAW_STRATEGY)
def test_declared_laws_are_physical(law):
    """Laws drawn from their declarations: the Herglotz sign above the
    spectrum, and ``z g(z) = 1 + m_1/z + O(z^-2)`` (total mass 1, the right
    mean) at ``|z| = 10^3``."""
    m1, m2 = (float(sp.N(v)) for v in law.moments(2))
    z = np.array([1j + m1, 1e3 * (1 + 1j)])
    g = law.stieltjes_numeric(z)
    assert g[0].imag < 0
    assert abs(z[1] * g[1] - 1 - m1 / z[1]) <= 2 * abs(m2) / abs(z[1]) ** 2 + 1e-9


def test_scaled_wishart_product_far_from_the_support():
    # found by the property test above: multiplicative subordination stalls at
    # |z| ~ 1e5 (omega ~ 1/z at its rounding floor); the curve's root followed
    # from infinity takes over, against the moment expansion g ~ 1/z + m1/z^2
    law = freeprob.WishartProduct([4.1875], 1.5)
    z = 1e5 + 1e5j
    g = law.stieltjes_numeric(np.array([z]))
    m1 = float(law.moments(1)[0])
    assert abs(z * g[0] - (1 + m1 / z)) < 1e-8


@given(samples=design.SAMPLES.strategy(), dimension=design.DIMENSION.strategy(), noise=design.NOISE.strategy(),
       ridge=design.RIDGE.strategy())
@example(samples=10, dimension=11, noise=0.0, ridge=2.2250738585e-313)  # found by this test: kappa/lam overflows
@example(samples=10, dimension=10, noise=0.0, ridge=1.401298464324817e-45)  # q = 1: 1 - df1 rounded to 0
@example(samples=10, dimension=10, noise=0.0, ridge=4.480061900739385e-165)  # q = 1: 275 Newton halvings
def test_declared_linear_models_evaluate(samples, dimension, noise, ridge):
    # ridge 0 included: at N = P the derived limits (E_g = 0 without noise,
    # +oo with it; S = +oo) are the only infinities
    m = freeprob.LinearRidge(freeprob.Identity(1), samples=samples, dimension=dimension, noise=noise, ridge=ridge)
    out = {k: float(v) for k, v in m.evaluate().items()}
    thresh = ridge == 0 and out["gamma"] == 1.0
    for key, val in out.items():
        if not np.isfinite(val):
            # S = kappa/lam beyond the float range (a subnormal ridge) rounds to +oo
            rounds = key == "S" and ridge > 0 and out["kappa"] / np.finfo(float).max > ridge
            assert val == np.inf and (rounds or ridge == 0 and (
                key == "S" or (thresh and noise > 0 and key in ("Eg", "var_X_noise")))), key
    # gamma = 1 only at the threshold, or where 1 - gamma ~ kappa ~ sqrt(ridge) rounds away (q = 1)
    assert out["Eg"] >= 0 and 0 <= out["gamma"] <= 1 and (out["gamma"] < 1 or thresh or ridge < 1e-32)
    assert out["df2"] <= out["df1"] + 1e-15

def test_subnormal_ridge_gives_the_exact_s_at_high_precision():
    # kappa/lam = 4.49e311 overflows float64: the float path rounds S to +oo
    # (and E_tr to 0), the mpmath path gives the number from the kappa equation
    m = freeprob.LinearRidge(freeprob.Identity(1), samples=10, dimension=11, noise=0.3, ridge=2.2250738585e-313)
    flt, mp = m.evaluate(), m.evaluate(dps=20)
    assert flt["S"] == np.inf and flt["Etr"] == 0.0
    assert abs(float(mp["S"] * mpmath.mpf(2.2250738585e-313)) - float(flt["kappa"])) < 1e-15
    assert abs(float(mp["Etr"] * mp["S"] ** 2) - float(flt["Eg"] + 0.3)) < 1e-12
