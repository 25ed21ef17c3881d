"""The house: layered packages with no import cycle, small modules, frozen
models, lazy submodules, the deprecated module names, and an install that
puts nothing generic into site-packages.

The import graph is read from the source with :mod:`ast` (every ``import``,
at module level or inside a function, is an edge), so the contract holds for
lazy imports too.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp

import freeprob

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: the layers, lowest first; a module may import its own layer and the layers below
LAYERS = (
    ("freeprob.errors",),
    ("freeprob.conventions",),
    ("freeprob._version", "freeprob.parameters", "freeprob.parsing", "freeprob.printing"),
    ("freeprob.numeric",),
    ("freeprob.laws",),
    ("freeprob.models",),
    ("freeprob.montecarlo",),
    ("freeprob.scaling",),
    ("freeprob.derivation",),
    ("freeprob.figures", "freeprob.derivations"),
    ("freeprob.app",),
)
#: the public facade (``freeprob/__init__.py``) re-exports the layers; only
#: the top layers may import it
FACADE_MIN_LAYER = 9
MAX_LINES = 600


def _modules() -> dict:
    """``{module name: path}`` for freeprob and the derivations (installed as freeprob.derivations)."""
    out = {}
    for base, prefix in ((ROOT / "freeprob", ("freeprob",)), (ROOT / "derivations", ("freeprob", "derivations"))):
        for path in base.rglob("*.py"):
            parts = prefix + path.relative_to(base).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _edges(name: str, path: pathlib.Path) -> set:
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    deps = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "freeprob":
                continue
            for alias in node.names:
                full = f"{mod}.{alias.name}"
                deps.add(full if full in MODULES else mod)
        elif isinstance(node, ast.Import):
            deps.update(a.name for a in node.names if a.name.split(".")[0] == "freeprob")
    deps.discard(name)
    return deps


GRAPH = {name: _edges(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> int | None:
    best, depth = None, -1
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (name == p or name.startswith(p + ".")) and len(p) > depth:
                best, depth = i, len(p)
    return best


def test_every_module_has_a_layer():
    missing = [m for m in MODULES if m not in ("freeprob", "freeprob.__main__") and _layer(m) is None]
    assert not missing, f"modules outside the layer contract: {missing}"


def test_imports_run_down_the_layers():
    bad = []
    for mod, deps in GRAPH.items():
        if mod in ("freeprob", "freeprob.__main__"):
            continue
        lm = _layer(mod)
        for dep in deps:
            if dep == "freeprob":
                if lm < FACADE_MIN_LAYER:
                    bad.append(f"{mod} imports the facade 'freeprob'")
                continue
            ld = _layer(dep)
            if ld is None:
                bad.append(f"{mod} imports unknown {dep}")
            elif ld > lm:
                bad.append(f"{mod} (layer {lm}) imports {dep} (layer {ld})")
    assert not bad, "\n".join(sorted(bad))


def test_siblings_of_the_top_layers_are_independent():
    for mod, deps in GRAPH.items():
        for a, b in (("freeprob.figures", "freeprob.derivations"), ("freeprob.derivations", "freeprob.figures")):
            if mod.startswith(a):
                assert not any(d.startswith(b) for d in deps), f"{mod} imports {b}"


def _strongly_connected(graph):
    """Tarjan's algorithm (iterative); returns the components of size > 1."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycle():
    assert _strongly_connected(GRAPH) == []


def test_cycle_detector_finds_a_cycle():
    """The check above can fail: a two-module cycle is reported."""
    assert _strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_module_over_the_size_limit():
    sizes = {m: len(p.read_text().splitlines()) for m, p in MODULES.items()}
    big = {m: n for m, n in sizes.items() if n > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"


# ----------------------------------------------------------------- lazy access
def test_no_control_characters_in_sources():
    # a LaTeX docstring written through a non-raw string loses its backslashes
    # ("\\frac" becomes a form feed, "\\nu" a line break): only newlines here
    bad = []
    for folder in ("freeprob", "derivations", "docs", "tests", "notebooks"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".md", ".ipynb", ".rst", ".tex") and "_generated" not in path.parts:
                text = path.read_text(encoding="utf-8")
                bad += [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, i) + 1}"
                        for i, ch in enumerate(text) if ord(ch) < 32 and ch != "\n"]
    assert not bad, bad[:10]


def test_submodules_reachable_after_a_bare_import():
    code = ("import freeprob, sys; assert 'freeprob.scaling' not in sys.modules; "
            "print(freeprob.scaling.exponent.__name__, freeprob.figures.build.__name__, "
            "freeprob.sampling.wigner.__name__, type(freeprob.derivations.registry()).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["exponent", "build", "wigner", "dict"]


def test_unknown_attribute_raises():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        freeprob.nonexistent  # noqa: B018


@pytest.mark.parametrize("old, new", [("freeprob.ridge", "freeprob.models.linear"),
                                      ("freeprob.features", "freeprob.models.features"),
                                      ("freeprob.equivalence", "freeprob.models.equivalence"),
                                      ("freeprob.testing", "freeprob.app.check")])
def test_old_module_names_are_deprecated_aliases(old, new):
    code = textwrap.dedent(f"""
        import importlib, warnings
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            old = importlib.import_module("{old}")
        assert old is importlib.import_module("{new}"), old
        assert any(issubclass(x.category, DeprecationWarning) and "{new}" in str(x.message) for x in w), w
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr


# ------------------------------------------------------------------ frozen models
def _linear(**kw):
    base = dict(population=freeprob.PowerLaw(1.5, 300), target=freeprob.SourceTarget(0.4), noise=0.1,
                samples=120, ridge=1e-3)
    return freeprob.LinearRidge(**{**base, **kw})


def _features(**kw):
    base = dict(population=freeprob.PowerLaw(1.5, 300), widths=[200], samples=120, ridge=1e-3, noise=0.1)
    return freeprob.RandomFeatureRidge(**{**base, **kw})


MODELS = {
    "linear": _linear,
    "features": _features,
    "nonlinear": lambda **kw: freeprob.NonlinearRandomFeatureRidge(
        **{**dict(population=freeprob.Identity(1), widths=150, samples=100, ridge=1e-2, dimension=200,
                  activation="relu"), **kw}),
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_models_are_frozen_and_hashable(kind):
    m = MODELS[kind]()
    assert dataclasses.is_dataclass(m)
    with pytest.raises(AttributeError):
        m.ridge = 0.5
    with pytest.raises(AttributeError):
        m.population = freeprob.Identity(2)
    assert m == MODELS[kind]() and hash(m) == hash(MODELS[kind]())
    assert m != m.replace(ridge=0.5)
    assert len({m, MODELS[kind](), m.replace(ridge=0.5)}) == 2


def _assert_same(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key], dtype=float), np.asarray(b[key], dtype=float), err_msg=key)


CHANGES = {
    "linear": [dict(ridge=1e-1), dict(samples=300), dict(noise=0.0), dict(target=None),
               dict(population=freeprob.PowerLaw(2.0, 300))],
    "features": [dict(ridge=1e-1), dict(samples=300), dict(widths=[100, 150]), dict(noise=0.0),
                 dict(widths=[100, 150], layer_variance="fan_in"), dict(feature_noise=0.2),
                 dict(feature_covariance=freeprob.PowerLaw(0.7, 200))],
    "nonlinear": [dict(ridge=1e-1), dict(samples=60), dict(widths=120), dict(activation="tanh")],
}


@pytest.mark.parametrize("kind, change", [(k, c) for k in sorted(CHANGES) for c in CHANGES[k]],
                         ids=lambda v: v if isinstance(v, str) else ",".join(v))
def test_replace_equals_a_fresh_model(kind, change):
    m = MODELS[kind]()
    m.evaluate()  # warm every cache keyed on the old model
    _assert_same(m.replace(**change).evaluate(), MODELS[kind](**change).evaluate())
    # and the old model is untouched
    _assert_same(m.evaluate(), MODELS[kind]().evaluate())


def test_deterministic_equivalent_is_frozen():
    deq = freeprob.deterministic_equivalent(freeprob.PowerLaw(1.5, 200), ratio=2)
    with pytest.raises(AttributeError):
        deq.population = freeprob.Identity(1)
    other = deq.replace(population=freeprob.PowerLaw(2.0, 200))
    fresh = freeprob.deterministic_equivalent(freeprob.PowerLaw(2.0, 200), ratio=2)
    assert other == fresh and hash(other) == hash(fresh)
    np.testing.assert_array_equal(other.solve([0.0, 1e-3]), fresh.solve([0.0, 1e-3]))


def test_replace_refuses_an_unknown_name():
    with pytest.raises(freeprob.errors.ParameterError, match="ridgee"):
        _linear().replace(ridgee=1.0)


def test_nonlinear_model_keeps_the_users_ridge():
    m = MODELS["nonlinear"]()
    mu1 = float(m.coefficients[1])
    assert float(m.ridge) == 1e-2
    assert float(m.effective_ridge) == pytest.approx(1e-2 / mu1**2, rel=1e-15)
    assert m.linear_equivalent().ridge == m.effective_ridge
    assert m.evaluate()["Eg"] == m.linear_equivalent().evaluate()["Eg"]


def test_symbolic_parameters_stay_symbolic():
    q = sp.Symbol("P", positive=True)
    m = freeprob.LinearRidge(freeprob.Identity(1), samples=q, dimension=50)
    assert m.replace(samples=100).samples == 100 and m.samples == q


# ------------------------------------------------------------------ installation
@pytest.mark.slow
def test_installed_package_puts_nothing_generic_into_site_packages(tmp_path):
    """Non-editable install into a fresh virtual environment outside the
    repository: ``import derivations`` fails, ``freeprob.derivations`` and
    ``freeprob derive --list`` work, even next to a ``derivations.py``."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(wheels), str(ROOT)], check=True, capture_output=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # the dependencies come from this interpreter's site-packages (no network)
    site = [p for p in sys.path if p.endswith("site-packages")]
    env_site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
    pathlib.Path(env_site, "_deps.pth").write_text("\n".join(site) + "\n")
    wheel = next(wheels.glob("freeprob-*.whl"))
    subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "derivations.py").write_text("raise RuntimeError('the wrong derivations module')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = lambda *args: subprocess.run([str(py), *args], cwd=work, capture_output=True, text=True, env=env)  # noqa: E731
    shadow = run("-c", "import sys; sys.path.remove(''); import derivations")
    assert "No module named 'derivations'" in shadow.stderr
    ok = run("-c", "import freeprob.derivations as d, freeprob; print(len(d.registry()), freeprob.__file__)")
    assert ok.returncode == 0, ok.stderr
    count, location = ok.stdout.split()
    assert int(count) >= 13 and str(ROOT) not in location
    cli = subprocess.run([str(venv / "bin" / "freeprob"), "derive", "--list"], cwd=work, capture_output=True,
                         text=True, env=env)
    assert cli.returncode == 0, cli.stderr
    assert "linear-ridge" in cli.stdout
