"""No string reaches ``sympify``: every public callable that takes a value or
a symbol refuses a string with a typed error, and nothing is executed."""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pytest
import sympy as sp

import freeprob
import freeprob.scaling as scaling
from freeprob import conventions as C
from freeprob.app.cli import build_parser, main
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


# ---------------------------------------------------------------- the sweep
# Every public callable -- the package's and the scaling layer's exports, the
# conventions module, and every public method of a catalogue of laws, models,
# estimators and equivalents -- is called once per parameter with the payload
# in that parameter and ordinary values in the required others.  The call must
# raise a freeprob error (a ParameterError naming the argument, at the
# boundary) and nothing may run.

#: result records: frozen dataclasses the library returns (never an input)
RECORDS = {"ContinuumForms", "MellinTerm", "Regime", "PhaseDiagram", "Verification", "ComputeOptimal",
           "ComputeVerification", "Phase"}
#: hooks of the estimator extension point: the models call them with the
#: validated parameter dicts of :meth:`SpectralEstimator.values`
HOOKS = {"at_ridge_limit", "check_spectrum", "singular_points", "exponential_split", "split_rate"}
#: parameters that take text, kept as text and never parsed
TEXT = {"justification", "reference", "label", "source", "name"}

_Z = sp.Symbol("z")
_LR = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 20), samples=40, ridge=0.1, dimension=20)
ORDINARY = dict(z=_Z, law=MP, population=MP, samples=40, ridge=0.1, dimension=20, model=_LR, widths=[30],
                quantity="Eg", a=MP, b=MP, x=sp.Symbol("x"), expr=sp.Symbol("x"), time=1.0, step=0.1, steps=3,
                threshold=0.5, ratio=2, n=10, alpha=1.5, values=[1, 2], lam=0.1, kappa=0.1,
                sample_correlation=freeprob.AR1(0.5), activation="relu", estimator=freeprob.GradientFlow(1.0),
                X=np.ones((6, 3)), alpha_F=0.5, beta=0, m=1, c=2, kind="trace", correlation=freeprob.AR1(0.5),
                budgets=[1e4, 1e5])


def _instances():
    mp = MP
    return {
        "MarchenkoPastur": mp, "Semicircle": freeprob.Semicircle(1), "Discrete": freeprob.Discrete([1, 2]),
        "PowerLaw": freeprob.PowerLaw(1.5, 20), "free_add": freeprob.free_add(mp, freeprob.Semicircle(1)),
        "free_mul": freeprob.free_mul(mp, freeprob.PowerLaw(1.5, 5)), "WishartProduct": freeprob.WishartProduct([2, 3]),
        "Affine": mp.shifted(1), "AR1": freeprob.AR1(0.5), "LinearRidge": _LR,
        "RandomFeatureRidge": freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 20), widths=[30], samples=40,
                                                          ridge=0.1, dimension=20),
        "NonlinearRandomFeatureRidge": freeprob.NonlinearRandomFeatureRidge(freeprob.Identity(1), widths=30, samples=40,
                                                                            ridge=0.1, dimension=20),
        "CorrelatedRidge": freeprob.CorrelatedRidge(freeprob.Identity(1), freeprob.AR1(0.5), samples=40,
                                                    dimension=20, ridge=0.1),
        "DeterministicEquivalent": DEQ, "SourceTarget": freeprob.SourceTarget(0.5),
        "GradientFlow": freeprob.GradientFlow(1.0), "GradientDescent": freeprob.GradientDescent(0.1, 3),
        "SpectralCutoff": freeprob.SpectralCutoff(0.5),
        "SpectralFilter": freeprob.SpectralFilter(1 / (sp.Symbol("x") + 1), sp.Symbol("x")),
    }


def _public_callables():
    out = {}
    for prefix, mod in (("freeprob", freeprob), ("scaling", scaling), ("conventions", C)):
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for n in names:
            f = getattr(mod, n)
            if n in RECORDS or inspect.ismodule(f) or not callable(f):
                continue
            if isinstance(f, type) and issubclass(f, BaseException):
                continue
            if prefix == "conventions" and getattr(f, "__module__", "") != C.__name__:
                continue  # re-exported sympy functions (sympy.Symbol, ...)
            out[f"{prefix}.{n}"] = f
    # the kernel limit takes another path through the dimension check
    kernel = freeprob.PowerLaw(1.5, sp.oo)
    out["LinearRidge(kernel limit)"] = functools.partial(freeprob.LinearRidge, kernel)
    out["RandomFeatureRidge(kernel limit)"] = functools.partial(freeprob.RandomFeatureRidge, kernel)
    for iname, inst in _instances().items():
        for n in dir(inst):
            f = getattr(inst, n, None)
            if not n.startswith("_") and n not in HOOKS and inspect.ismethod(f):
                out[f"{iname}.{n}"] = f
    return out




def _calls(fn, code):
    """One call per parameter: the payload there, ordinary values in the others."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    except (TypeError, ValueError):
        return
    for p in params:
        if p.name in TEXT:
            continue
        args, kwargs = [], {}
        for o in params:
            if o is p:
                v = code
            elif o.default is not inspect.Parameter.empty:
                continue
            else:
                v = ORDINARY.get(o.name, sp.Symbol(o.name))
            if o.kind == o.KEYWORD_ONLY:
                kwargs[o.name] = v
            else:
                args.append(v)
        yield p.name, args, kwargs


CALLABLES = {name: f for name, f in _public_callables().items() if next(_calls(f, ""), None) is not None}


def test_the_sweep_covers_the_public_api():
    assert len(CALLABLES) > 250
    assert {"freeprob.simulate", "scaling.exponent", "scaling.power_law_sum", "conventions.df1_from_stieltjes",
            "free_mul.stieltjes_numeric", "LinearRidge.evaluate", "GradientFlow.filter"} <= set(CALLABLES)


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_every_public_callable_refuses_a_string(name, payload):
    code, target = payload
    for pname, args, kwargs in _calls(CALLABLES[name], code):
        with pytest.raises(FreeprobError):
            CALLABLES[name](*args, **kwargs)
        assert not target.exists(), f"{name}({pname}=...) executed a string"


# ---------------------------------------------------------------- the CLI
#: a minimal valid command per subcommand; the payload goes into each option
BASE = {
    "transform": ["transform", "marchenko-pastur", "--kind", "stieltjes"],
    "convolve": ["convolve", "semicircle", "semicircle", "--op", "add"],
    "ridge": ["ridge", "--population", "identity:dimension=50", "--samples", "100"],
    "features": ["features", "--population", "identity:dimension=50", "--widths", "30", "--samples", "100"],
    "derive": ["derive", "--list"],
    "figures": ["figures", "--list"],
    "bench": ["bench"],
}
#: options that name output paths (figures, checkpoints): any text is a valid path, and nothing parses it
PATHS = {"--out", "--checkpoint"}


def _cli_cases():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for cmd, parser in sub.choices.items():
        if cmd not in BASE:
            continue
        for action in parser._actions:
            if action.nargs == 0 or action.dest == "help" or set(action.option_strings) & PATHS:
                continue
            yield cmd, (action.option_strings[0] if action.option_strings else action.dest)


CLI_CASES = sorted(set(_cli_cases()))


def test_the_cli_sweep_covers_every_subcommand():
    assert {cmd for cmd, _ in CLI_CASES} == set(BASE)
    assert len(CLI_CASES) > 35


@pytest.mark.parametrize("cmd,option", CLI_CASES)
def test_every_cli_option_refuses_code(cmd, option, payload, tmp_path, monkeypatch, capsys):
    code, target = payload
    monkeypatch.chdir(tmp_path)
    base = BASE[cmd]
    parser = next(a for a in build_parser()._actions if a.dest == "command").choices[cmd]
    positional = [a.dest for a in parser._actions if not a.option_strings and a.dest != "help"]
    for value in (code, f"identity:dimension={code}", f"1,{code}"):
        if option.startswith("--"):
            argv = [*base, option, value]
        else:  # a positional: replace its slot in the base command (or append it)
            argv = list(base)
            slot = 1 + positional.index(option)
            if slot < len(argv) and not argv[slot].startswith("--"):
                argv[slot] = value
            else:
                argv.insert(1, value)
                if "--list" in argv:
                    argv.remove("--list")
        try:
            status = main(argv, out=lambda line: None)
        except SystemExit as exc:  # argparse: an invalid choice or type
            status = exc.code
        assert status == 2, (argv, status)
        assert not target.exists(), f"freeprob {cmd} {option} executed a string"
        assert "Traceback" not in capsys.readouterr().err
