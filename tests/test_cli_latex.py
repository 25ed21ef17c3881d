"""CLI and LaTeX: structure, not golden strings."""

import json

import pytest
import sympy as sp

import freeprob
from freeprob.app.cli import main


def run(args):
    lines = []
    code = main(args, out=lines.append)
    return code, "\n".join(lines)


def test_transform_latex_example():
    code, out = run(["transform", "marchenko-pastur", "--param", "ratio=q", "--kind", "s",
                     "--convention", "df", "--format", "latex"])
    assert code == 0 and r"\mathrm{df}" in out and out.count("{") == out.count("}")


def test_transform_json_roundtrip():
    code, out = run(["transform", "marchenko-pastur", "--param", "ratio=q", "--kind", "moments",
                     "--order", "4", "--format", "json"])
    data = json.loads(out)
    q = sp.Symbol("q", positive=True)
    assert [sp.sympify(e, locals={"q": q}) for e in data["expression"]][3] == q**3 + 6 * q**2 + 6 * q + 1


def test_every_kind_runs():
    for kind in ("stieltjes", "r", "t", "psi", "moments", "free-cumulants", "density", "df1", "df2"):
        code, out = run(["transform", "marchenko-pastur", "--param", "ratio=2", "--kind", kind])
        assert code == 0 and "=" in out
    code, out = run(["transform", "marchenko-pastur", "--param", "ratio=2", "--kind", "s"])
    assert "1/(2*t + 1)" in out


def test_laws_lists_the_catalogue():
    code, out = run(["laws"])
    for name in ("marchenko-pastur", "semicircle", "identity", "discrete", "powerlaw", "[C10]"):
        assert name in out


def test_check_main_job():
    code, out = run(["check"])
    assert code == 0 and " 0 failed" in out


def test_latex_of_laws_and_repr_latex():
    for law in (freeprob.MarchenkoPastur(2), freeprob.Semicircle(), freeprob.Identity(3),
                freeprob.Discrete([1, 2]), freeprob.PowerLaw(2, 10), freeprob.PowerLaw(2, 3).scaled(2),
                freeprob.WishartProduct([1, 2]), freeprob.free_add(freeprob.Discrete([-1, 1]), freeprob.Semicircle()),
                freeprob.free_mul(freeprob.Discrete([1, 2]), freeprob.MarchenkoPastur(2))):
        tex = freeprob.latex(law)
        assert tex and tex.count("{") == tex.count("}")
        assert law._repr_latex_() == f"${tex}$"
    assert r"\boxtimes" in freeprob.latex(freeprob.WishartProduct([1, 2]))
    assert r"\boxplus" in freeprob.latex(freeprob.free_add(freeprob.Discrete([-1, 1]), freeprob.Semicircle()))
    assert r"\kappa" in freeprob.latex(freeprob.conventions.kappa)
    assert freeprob.latex([freeprob.conventions.df, 1]).startswith(r"\left[")


def test_ridge_command():
    code, out = run(["ridge", "--population", "powerlaw:alpha=1.5,n=500", "--target", "source:r=0.5",
                     "--samples", "100,200", "--ridge", "1e-3", "--format", "json"])
    data = json.loads(out)
    assert code == 0 and len(data["Eg"]) == 2 and data["Eg"][1] < data["Eg"][0]
    code, out = run(["ridge", "--population", "identity:dimension=50", "--samples", "100", "--ridge", "0",
                     "--noise", "1/4", "--format", "json"])
    # [R9] ridgeless, q = 1/2: E_g = sigma^2 q/(1 - q)
    assert abs(json.loads(out)["Eg"][0] - 0.25) < 1e-12
    code, out = run(["ridge", "--population", "identity:dimension=50", "--samples", "100", "--format", "latex"])
    assert code == 0 and out.count(r"\begin{align}") == 1 and r"\kappa" in out
    assert main(["ridge", "--population", "identity", "--samples", "10"]) == 2


def test_ridge_command_with_spectral_estimators():
    import numpy as np

    code, out = run(["ridge", "--population", "powerlaw:alpha=1.5,n=300", "--samples", "150", "--noise", "0.1",
                     "--estimator", "gradient-flow", "--time", "1,10,100", "--format", "json"])
    data = json.loads(out)
    model = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 300), samples=150, noise=0.1,
                                 estimator=freeprob.GradientFlow(time=1.0))
    ref = model.evaluate(time=np.array([1.0, 10.0, 100.0]))
    assert code == 0 and data["time"] == [1.0, 10.0, 100.0]
    np.testing.assert_allclose(data["Eg"], ref["Eg"], rtol=1e-14)
    code, out = run(["ridge", "--population", "powerlaw:alpha=1.5,n=300", "--samples", "150",
                     "--estimator", "gradient-descent", "--step", "0.5", "--steps", "1,10", "--simulate",
                     "--seeds", "3"])
    assert code == 0 and "steps" in out and "simulation (3 seeds)" in out
    code, out = run(["ridge", "--population", "powerlaw:alpha=1.5,n=30", "--samples", "20",
                     "--estimator", "gradient-flow", "--time", "2", "--format", "latex"])
    assert code == 0 and r"\oint" in out and "e^{" in out
    # missing or bad options are errors with exit code 2, never a traceback
    for bad in (["--estimator", "gradient-flow"], ["--estimator", "gradient-descent", "--steps", "3"],
                ["--estimator", "gradient-flow", "--time", "-1"], ["--estimator", "gradient-flow", "--time", "1",
                                                                  "--ridge", "0,1"],
                ["--estimator", "gradient-descent", "--step", "5", "--steps", "3"]):
        assert main(["ridge", "--population", "powerlaw:alpha=1.5,n=30", "--samples", "20", *bad]) == 2, bad


def test_cli_features_json_text_latex_and_errors(capsys):
    from freeprob.models.features import RF_KEYS

    lines = []
    assert main(["features", "--population", "powerlaw:alpha=1.5,n=300", "--widths", "200", "--samples", "150",
                 "--ridge", "0,1e-2", "--noise", "0.1", "--format", "json"], out=lines.append) == 0
    res = json.loads("\n".join(lines))
    assert set(res) == set(RF_KEYS) and len(res["Eg"]) == 2
    # the CLI evaluates the same model as the API
    m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 300), widths=200, samples=150, noise=0.1)
    assert res["Eg"][1] == pytest.approx(float(m.evaluate(ridge=1e-2)["Eg"]), rel=1e-12)
    lines = []
    assert main(["features", "--population", "powerlaw:alpha=1.5,n=300", "--widths", "250,200", "--samples",
                 "150", "--format", "latex"], out=lines.append) == 0
    assert lines[0] == r"\begin{align}" and lines[-1] == r"\end{align}" and any("S_{F}" in s for s in lines)
    lines = []
    assert main(["features", "--population", "identity:dimension=100", "--widths", "80", "--samples", "60",
                 "--ridge", "0.1", "--activation", "relu", "--simulate", "--seeds", "3"], out=lines.append) == 0
    # nonlinear features: E_g from real relu features, no ANOVA components
    sim_lines = lines[lines.index(next(s for s in lines if s.startswith("simulation"))) + 1:]
    assert {s.split()[0] for s in sim_lines} == {"kappa1", "Eg", "Etr", "gcv"}
    assert main(["features", "--population", "powerlaw:alpha=1.5,n=30", "--widths", "0", "--samples", "10"]) == 2
    assert "widths" in capsys.readouterr().err
