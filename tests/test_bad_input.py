"""Bad input raises a freeprob error naming the parameter; never NaN."""

import numpy as np
import pytest
import sympy as sp

import freeprob
from freeprob.app.cli import main
from freeprob.errors import (
    FreeprobError,
    NoClosedFormError,
    ParameterError,
    ParseError,
    SupportError,
    TransformNotDefinedError,
)


@pytest.mark.parametrize("make,name", [
    (lambda: freeprob.MarchenkoPastur(0), "ratio"),
    (lambda: freeprob.MarchenkoPastur(-1), "ratio"),
    (lambda: freeprob.MarchenkoPastur(1, scale=-2), "scale"),
    (lambda: freeprob.MarchenkoPastur(float("nan")), "ratio"),
    (lambda: freeprob.Semicircle(-1), "variance"),
    (lambda: freeprob.PowerLaw(1.5, 100).df1_with_slope(np.ones(20), df2=1), "df2"),
    (lambda: freeprob.Semicircle(1, sp.I), "center"),
    (lambda: freeprob.Discrete([1, 2], [0.5, 0.6]), "weights"),
    (lambda: freeprob.Discrete([1, 2], [-0.5, 1.5]), "weights[0]"),
    (lambda: freeprob.Discrete(np.ones(100), np.full(100, 0.02)), "weights"),
    (lambda: freeprob.Discrete([1, 2], [1]), "weights"),
    (lambda: freeprob.Discrete([]), "values"),
    (lambda: freeprob.Discrete(np.array([1.0, np.inf])), "values"),
    (lambda: freeprob.PowerLaw(0, 10), "alpha"),
    (lambda: freeprob.PowerLaw(-1, 10), "alpha"),
    (lambda: freeprob.PowerLaw(1.5, 0), "n"),
    (lambda: freeprob.PowerLaw(1.5, 2.5), "n"),
    (lambda: freeprob.PowerLaw(1.5, sp.oo).stieltjes(sp.Symbol("z")), "n"),  # no trace-normalized g at n = oo (df1 is the kernel sum, C16)
    (lambda: freeprob.Identity("2"), "scale"),
    (lambda: freeprob.Semicircle().scaled(0), "c"),
    # arrays belong to evaluate(); on the model they are refused by name (the
    # nonlinear model raised an untyped TypeError from its cached equivalent)
    *[(lambda key=key, cls=cls: cls(freeprob.PowerLaw(1.5, 100), widths=50, **{key: np.array([0.0, 1.0])}), key)
      for key in ("ridge", "samples", "noise")
      for cls in (freeprob.NonlinearRandomFeatureRidge, freeprob.RandomFeatureRidge)],
])
def test_parameter_errors_name_the_parameter(make, name):
    with pytest.raises(ParameterError) as info:
        make()
    assert info.value.name == name
    assert name in str(info.value)


def test_s_transform_of_zero_mean_law():
    with pytest.raises(TransformNotDefinedError, match="mean"):
        freeprob.Semicircle().s_transform(sp.Symbol("t"))
    with pytest.raises(TransformNotDefinedError):
        freeprob.Discrete([-1, 1]).s_transform(sp.Symbol("t"), convention="df")


def test_numeric_evaluation_needs_numbers():
    q = sp.Symbol("q", positive=True)
    with pytest.raises(ParameterError, match="subs"):
        freeprob.MarchenkoPastur(q).stieltjes_numeric(np.array([1j]))


def test_points_on_the_support_are_refused():
    with pytest.raises(SupportError, match="support"):
        freeprob.MarchenkoPastur(0.5).stieltjes_numeric(np.array([1.0]))
    with pytest.raises(SupportError, match="atom"):
        freeprob.MarchenkoPastur(2).stieltjes_numeric(np.array([0.0]))
    with pytest.raises(SupportError, match="atom"):
        freeprob.Discrete(np.linspace(1, 2, 1000)).stieltjes_numeric(np.array([1.0]))
    # just above the support is fine
    assert np.isfinite(freeprob.MarchenkoPastur(0.5).stieltjes_numeric(np.array([1.0 + 1e-12j]))).all()


def test_negative_or_nan_ridge():
    with pytest.raises(ParameterError, match="lam"):
        freeprob.Identity(1).df1_numeric(np.array([1.0, -1.0]))
    with pytest.raises(ParameterError, match="lam"):
        freeprob.Identity(1).df1_numeric(np.array([np.nan]))


def test_bad_order_and_route():
    with pytest.raises(ParameterError, match="n = 0"):
        freeprob.Semicircle().moments(0)
    with pytest.raises(ParameterError, match="method"):
        freeprob.Semicircle().moments(3, method="guess")
    with pytest.raises(ParameterError, match="convention"):
        freeprob.MarchenkoPastur(2).s_transform(sp.Symbol("t"), convention="paper")


def test_no_closed_form_is_a_typed_error():
    with pytest.raises(NoClosedFormError):
        freeprob.Discrete([1, 2, 5]).r_transform(sp.Symbol("w"))
    assert issubclass(NoClosedFormError, FreeprobError)


def test_cli_errors_are_clean(capsys):
    assert main(["transform", "marchenko-pastur", "--param", "ratio=-1", "--kind", "s"]) == 2
    assert "ratio = -1" in capsys.readouterr().err
    assert main(["transform", "wishart", "--kind", "s"]) == 2
    assert "valid laws" in capsys.readouterr().err
    assert main(["transform", "semicircle", "--param", "variance=__import__('os')", "--kind", "r"]) == 2
    assert "cannot parse" in capsys.readouterr().err
    with pytest.raises(ParseError):
        freeprob.parsing.parse_params(["ratio"])
    # --density LO:HI:N: each part parsed and checked (a TypeError traceback before)
    for bad in ("a:b:c", "2:1:5", "1,2:3:4", "0:1:1", "0:1:10000000"):
        assert main(["convolve", "semicircle", "semicircle", "--op", "add", f"--density={bad}"]) == 2
        assert "--density" in capsys.readouterr().err
    assert main(["convolve", "semicircle", "semicircle", "--op", "add", "--density=-2:2:5"], out=lambda s: None) == 0


_H = sp.Symbol("h")


@pytest.mark.parametrize("act,why", [
    (sp.sqrt(_H), "not real"),           # complex for h < 0
    (sp.log(_H), "not real"),
    (1 / _H, "diverges at h = 0"),       # E phi^2 diverges at its singularity (tanh-sinh returned 1.6e34)
    (1 / (_H - sp.Rational(1, 2)) ** 2, "diverges at h = 0.5"),
    (1e-200 * _H, "float64 range"),      # mu_1^2 = 1e-400 underflows
])
def test_activations_without_a_gaussian_equivalent_are_refused(act, why):
    with pytest.raises(ParameterError, match=why) as info:
        freeprob.NonlinearRandomFeatureRidge(freeprob.Identity(1), widths=10, samples=20, dimension=10,
                                             ridge=0.1, activation=act)
    assert info.value.name == "activation"


def test_activations_with_kinks_and_integrable_singularities_are_accurate():
    # a Piecewise is integrated piece by piece (a kink or jump inside one
    # tanh-sinh interval left a 1e-3 error); |h|^(-1/4) is square integrable
    jump = sp.Piecewise((sp.tanh(_H), _H < 1), (_H, True))
    m = freeprob.NonlinearRandomFeatureRidge(freeprob.Identity(1), widths=10, samples=20, dimension=10,
                                             ridge=0.1, activation=jump)
    mu0 = float(m.coefficients[0])
    import mpmath

    with mpmath.workdps(30):  # an independent route: the two pieces integrated separately
        w = lambda s: mpmath.exp(-s * s / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
        ref = mpmath.quad(lambda s: mpmath.tanh(s) * w(s), [-mpmath.inf, 0, 1]) + \
            mpmath.quad(lambda s: s * w(s), [1, mpmath.inf])
    assert abs(mu0 - float(ref)) < 1e-12
    root = _H + sp.sign(_H) * sp.Abs(_H) ** sp.Rational(-1, 4)
    m2 = freeprob.NonlinearRandomFeatureRidge(freeprob.Identity(1), widths=10, samples=20, dimension=10,
                                              ridge=0.1, activation=root)
    assert np.isfinite(float(m2.evaluate()["Eg"]))
