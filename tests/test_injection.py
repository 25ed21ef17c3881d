"""No string reaches ``sympify``: every public callable that takes a value or
a symbol refuses a string with a typed error, and nothing is executed."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.errors import FreeprobError


@pytest.fixture
def payload(tmp_path):
    target = tmp_path / "executed"
    return f"__import__('pathlib').Path({str(target)!r}).touch()", target


MP = freeprob.MarchenkoPastur(2)
DEQ = freeprob.deterministic_equivalent(freeprob.PowerLaw(1.5, 50), ratio=2)
LAW_METHODS = ["stieltjes", "t_transform", "moment_generating", "r_transform", "s_transform", "df1", "df2",
               "density"]
CALLS = {
    **{f"law.{m}": (lambda s, m=m: getattr(MP, m)(s)) for m in LAW_METHODS},
    "law.algebraic_equation": lambda s: MP.algebraic_equation(s, C.z),
    "law.subs": lambda s: freeprob.MarchenkoPastur(C.q).subs(q=s),
    "law.scaled": lambda s: MP.scaled(s),
    "latex": lambda s: freeprob.latex(s),
    "derivation.Eq": lambda s: freeprob.derivation.Eq(s, 1),
    "conventions.ratio": lambda s: C.ratio(s, 2),
    "ridge_of_kappa": lambda s: DEQ.ridge_of_kappa(s),
    "MarchenkoPastur": lambda s: freeprob.MarchenkoPastur(s),
    "Semicircle": lambda s: freeprob.Semicircle(s),
    "Discrete": lambda s: freeprob.Discrete([s, 1]),
    "PowerLaw": lambda s: freeprob.PowerLaw(s, 10),
    "SourceTarget": lambda s: freeprob.SourceTarget(s),
    "LinearRidge(dimension)": lambda s: freeprob.LinearRidge(freeprob.Identity(1), dimension=s),
    "LinearRidge(ridge)": lambda s: freeprob.LinearRidge(freeprob.Identity(1), dimension=10, ridge=s),
    "RandomFeatureRidge(dimension)": lambda s: freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=5,
                                                                         dimension=s),
    "RandomFeatureRidge(widths)": lambda s: freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=s,
                                                                      dimension=10),
    "model.replace": lambda s: freeprob.LinearRidge(freeprob.Identity(1), dimension=10).replace(noise=s),
    "free_add": lambda s: freeprob.free_add(MP, s),
    "AR1": lambda s: freeprob.AR1(s),
    "AR1.toeplitz": lambda s: freeprob.AR1(0.5).toeplitz(s),
    "CorrelatedRidge(sample_correlation)": lambda s: freeprob.CorrelatedRidge(freeprob.Identity(1), s, dimension=5),
    "CorrelatedRidge(noise_correlation)": lambda s: freeprob.CorrelatedRidge(freeprob.Identity(1), freeprob.AR1(0.5),
                                                                             noise_correlation=s, dimension=5),
    "CorrelatedRidge(noise)": lambda s: freeprob.CorrelatedRidge(freeprob.Identity(1), freeprob.AR1(0.5),
                                                                 noise=s, dimension=5),
    "corr_gcv": lambda s: freeprob.corr_gcv(np.ones((4, 2)), np.ones(4), 0.1, s),
    "corr_gcv(ridge)": lambda s: freeprob.corr_gcv(np.ones((4, 2)), np.ones(4), s, freeprob.AR1(0.5)),
    "conventions.s_from_renormalized_ridge": lambda s: C.s_from_renormalized_ridge(s, 1),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_public_callables_refuse_strings(name, payload):
    code, target = payload
    with pytest.raises(FreeprobError):
        CALLS[name](code)
    assert not target.exists(), f"{name} executed a string"


def test_a_refused_string_names_the_argument():
    with pytest.raises(FreeprobError, match="^z = "):
        MP.stieltjes("z")
    with pytest.raises(FreeprobError, match="^n_parameters = "):
        C.ratio("N", 2)


def test_frozen_models_refuse_assignment(payload):
    code, target = payload
    m = freeprob.LinearRidge(freeprob.Identity(1), dimension=10)
    with pytest.raises(AttributeError):
        m.dimension = code
    assert not target.exists()


def test_symbols_and_numbers_still_work():
    assert MP.stieltjes(sp.Symbol("z")).free_symbols == {sp.Symbol("z")}
    assert C.ratio(np.int64(4), 2) == 2
    assert freeprob.derivation.Eq(sp.Symbol("x"), 1).rhs == 1
