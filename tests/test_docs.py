"""The reference inside the repository: every tag that the code, the
derivations, the README and the notebooks cite is defined in ``docs/``, each
tag once; nothing points to a file outside the repository; the Sphinx site
builds with warnings as errors (its notebooks are executed by
tests/test_notebooks.py)."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BRACKET = re.compile(r"\[([CRF])(\d+)([a-e]?)\]")
PITFALL = re.compile(r"\bP(\d{1,2})\b")
#: a documentation example that cites a tag on purpose (a made-up step)
EXAMPLE_TAGS = {"C0"}


def _sources():
    for folder in ("freeprob", "derivations", "tools"):
        yield from sorted((ROOT / folder).rglob("*.py"))
    yield ROOT / "README.md"
    yield from sorted((ROOT / "notebooks").glob("*.md"))


def _texts():
    for path in _sources():
        yield path, path.read_text()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        yield path, "\n".join("".join(c["source"]) for c in cells)


def cited() -> dict:
    """``{tag: first place cited}``; sub-items such as R2a cite R2 too."""
    out = {}
    for path, text in _texts():
        where = str(path.relative_to(ROOT))
        for kind, num, sub in BRACKET.findall(text):
            out.setdefault(f"{kind}{num}{sub}", where)
        for num in PITFALL.findall(text):
            out.setdefault(f"P{num}", where)
    return out


def defined() -> dict:
    """``{tag: count}`` of the definitions in the reference pages: a heading
    ``## [C1] ...`` or ``## P1 ...``, a sub-item ``- **[R2a]**``, or a table
    row ``| <a id="F1"></a>[F1] |``."""
    out = {}
    pattern = re.compile(r"^(?:#+ \[([CRF]\d+)\]|#+ (P\d+) |- \*\*\[([CRF]\d+[a-e])\]\*\*|\| <a id=\"(F\d+)\"></a>)",
                         re.M)
    for path in sorted((DOCS / "reference").glob("*.md")):
        for groups in pattern.findall(path.read_text()):
            tag = next(g for g in groups if g)
            out[tag] = out.get(tag, 0) + 1
    return out


def test_reference_pages_define_the_whole_catalogue():
    d = defined()
    expected = {f"C{i}" for i in range(1, 16)} | {f"R{i}" for i in range(1, 22)} | \
        {f"F{i}" for i in range(1, 24)} | {f"P{i}" for i in range(1, 19)}
    assert expected <= set(d), sorted(expected - set(d))


def test_each_tag_is_defined_once():
    assert {t: n for t, n in defined().items() if n != 1} == {}


def test_every_cited_tag_is_defined():
    d = defined()
    missing = {t: w for t, w in cited().items() if t not in d and t not in EXAMPLE_TAGS}
    assert not missing, f"tags cited but not defined in docs/reference: {missing}"


def test_the_tag_check_can_fail():
    """A tag outside the catalogue is caught by the same regular expressions."""
    found = {f"{k}{n}{s}" for k, n, s in BRACKET.findall("see [R99] and [C4]")}
    assert found - set(defined()) == {"R99"}


def test_nothing_points_outside_the_repository():
    bad = []
    needles = ("paper-results", "anchors-software", "design-guide", "shared/reference", "../shared")
    for path, text in _texts():
        for needle in needles:
            if needle in text:
                bad.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not bad, bad


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_nb") is None,
                    reason="the docs extra is not installed (pip install -e '.[docs]')")
def test_documentation_builds_with_warnings_as_errors(tmp_path):
    """The site builds with every page; the notebooks are rendered without
    executing them here (``nb_execution_mode=off``): tests/test_notebooks.py
    executes each one in a fresh kernel, one test per notebook; executing them in the build
    as well cost the suite 450 s of CPU."""
    out = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                          "-D", "nb_execution_mode=off", str(DOCS), str(tmp_path / "html")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    html = (tmp_path / "html" / "reference" / "conventions.html").read_text()
    assert 'id="c10"' in html.lower() or "C10" in html
    assert (tmp_path / "html" / "_generated" / "notebooks" / "02_linear_ridge.html").exists()
