"""Derivations as checkable documents: every registered derivation checks
green with every step actually checked, exports to LaTeX/Markdown/JSON with
the documented structure, compiles with a real pdflatex without overfull
lines, and a wrong step is reported (step, point, residual), not raised.
The Monte Carlo tolerance rules of the derivations reject a wrong theory."""

import json
import re
import shutil

import numpy as np
import pytest
import sympy as sp
from freeprob.derivations import _checks

from freeprob import derivations
from freeprob.app.cli import main
from freeprob.derivation import (
    MODES,
    TALLY_COLUMNS,
    Derivation,
    DerivationStep,
    Eq,
    check_table,
    compile_pdf,
    latex_document,
    tally,
)
from freeprob.errors import ParameterError

REG = derivations.registry()
HAS_PDFLATEX = shutil.which("pdflatex") is not None


@pytest.fixture(scope="module")
def checked():
    """``{name: (derivation, reports)}``, each derivation checked once per session."""
    return {name: (mod.build(), None) for name, mod in REG.items()}


def _reports(checked, name):
    d, rep = checked[name]
    if rep is None:
        rep = d.check(rng=np.random.default_rng(1))
        checked[name] = (d, rep)
    return d, rep


def test_registry_covers_the_issue_groups():
    # one module per group of results: MP and S-transforms, deterministic
    # equivalence, linear ridge, isotropic closed forms, kernel ridge, power
    # laws, random features, deep chains, anisotropic weights, feature noise
    want = {"mp-s-transforms", "deterministic-equivalence", "linear-ridge", "isotropic-ridge", "kernel-ridge",
            "power-law-scaling", "random-features", "deep-chains", "anisotropic-weights", "feature-noise"}
    assert want <= set(REG)
    for mod in REG.values():
        assert mod.TITLE == mod.build().title


@pytest.mark.parametrize("name", sorted(REG))
def test_every_derivation_checks_green(checked, name):
    d, rep = _reports(checked, name)
    assert len(rep) == len(d.steps)
    bad = [r.row() for r in rep if r.status == "failed"]
    assert not bad, bad
    # every shipped step is checked (none only cited), and a numeric or Monte
    # Carlo report says what it compared
    assert all(r.status == "ok" for r in rep)
    assert all(r.detail for r in rep if r.mode != "symbolic"), [r.row() for r in rep if not r.detail]


@pytest.mark.parametrize("name", sorted(REG))
def test_exports_have_the_documented_structure(checked, name):
    d, rep = _reports(checked, name)
    n = len(d.steps)
    tex = d.to_latex(reports=rep)
    assert tex.count(r"\section{") == 1 and f"sec:{d.name}" in tex
    # one labelled amsmath align block per step, its justification and check as text before it
    assert tex.count(r"\begin{align}") == n == tex.count(r"\end{align}")
    assert tex.count(r"\label{eq:") == n and "&&" not in tex
    assert tex.count(r"\paragraph{Step ") == n and tex.count(r"\emph{Check: ") == n
    assert tex.count("{") == tex.count("}")
    doc = d.to_latex(document=True, reports=rep)
    assert doc.startswith(r"\documentclass") and doc.rstrip().endswith(r"\end{document}")
    md = d.to_markdown(reports=rep)
    assert md.count("$$") == 2 * n and md.count("*Check: ") == n
    js = json.loads(d.to_json(reports=rep))
    assert js["name"] == d.name and len(js["steps"]) == n
    for s, st in zip(js["steps"], d.steps):
        assert {"lhs", "rhs", "latex", "justification", "reference", "check", "where", "result"} <= set(s)
        assert len(s["where"]) == len(st.where) and s["result"]["status"] == "ok"
        # the JSON carries the relation as typeset (sympy srepr; never eval'ed here)
        assert s["lhs"] == sp.srepr(st.relation.lhs) and s["rhs"] == sp.srepr(st.relation.rhs)


def test_check_outcomes_reach_every_export():
    x = sp.Symbol("x", positive=True)
    d = Derivation("one", "One", (DerivationStep(Eq(x, x), "trivial", "[C0]", "symbolic"),))
    rep = d.check()
    assert "symbolic identity" in d.to_latex(reports=rep) and "symbolic identity" in d.to_markdown(reports=rep)
    with pytest.raises(ParameterError, match="reports"):
        d.to_latex(reports=rep + rep)


def test_where_bindings_are_what_is_checked():
    x = sp.Symbol("x", positive=True)
    f = sp.Function("f")
    good = DerivationStep(Eq(f(x), x + 1), "factor", "[C0]", "symbolic", where=((f(x), (x**2 - 1) / (x - 1)),))
    bad = DerivationStep(Eq(f(x), x + 2), "wrong", "[C0]", "symbolic", where=((f(x), (x**2 - 1) / (x - 1)),),
                         ranges=((x, 0.5, 2.0),))
    rep = Derivation("w", "W", (good, bad)).check()
    assert [r.status for r in rep] == ["ok", "failed"]
    # the symbolic step that sympy cannot close falls back to mpmath, reported as numeric with the point
    assert rep[1].mode == "numeric" and "x" in rep[1].at and rep[1].residual > 0.1
    assert "f{\\left(x \\right)} = x + 1" in Derivation("w", "W", (good,)).to_markdown()  # typeset as named


def test_inequalities_are_checked_at_every_point():
    x = sp.Symbol("x", positive=True)
    ok = DerivationStep(sp.StrictGreaterThan(x**2 + 1, 2 * x - 1), "AM-GM", "[C0]", ranges=((x, 0.1, 5.0),))
    no = DerivationStep(sp.StrictLessThan(x, 1), "false for x > 1", "[C0]", ranges=((x, 0.1, 5.0),))
    rep = Derivation("i", "I", (ok, no)).check(points=20)
    assert [r.status for r in rep] == ["ok", "failed"] and rep[1].at["x"] >= 1


def test_a_non_finite_relation_fails_and_bad_check_settings_are_refused():
    x = sp.Symbol("x", positive=True)
    f = sp.Function("f")
    nan_at_points = sp.Piecewise((sp.nan, x > 0.5), (1, True))  # sympy cannot see it; mpmath meets it
    d = Derivation("n", "N", (DerivationStep(Eq(f(x), 1), "NaN at the points", "[C0]", "numeric",
                                             where=((f(x), nan_at_points),), ranges=((x, 1.0, 2.0),)),))
    rep = d.check()[0]
    assert rep.status == "failed" and "not finite" in rep.detail and "x" in rep.at
    with pytest.raises(ParameterError, match="points"):
        d.check(points=0)
    with pytest.raises(ParameterError, match="dps"):
        d.check(dps=8)


def test_a_wrong_step_is_reported_not_raised():
    x = sp.Symbol("x", positive=True)

    def explodes(rng):
        raise RuntimeError("a bug in a checker")

    d = Derivation("wrong", "A wrong derivation", (
        DerivationStep(Eq(x + 1, x + 1), "fine", "[C0]", "symbolic"),
        DerivationStep(Eq(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1.001), "off by 1e-3", "[C0]", "numeric",
                       ranges=((x, 0.5, 1.5),)),
        DerivationStep(Eq(x, x), "a checker that raises", "[C0]", "montecarlo", checker=explodes),
    ))
    rep = d.check()
    assert [r.status for r in rep] == ["ok", "failed", "failed"]
    # the residual is |lhs - rhs| / (|lhs| + |rhs| + 1)
    assert rep[1].residual == pytest.approx(1e-3 / 3.001, rel=1e-6) and "x" in rep[1].at
    assert len({hash(r) for r in rep}) == 3  # reports are frozen and hashable
    assert "failed" in rep[1].row() and "RuntimeError: a bug in a checker" in rep[2].detail
    assert "FAILED" in rep[1].summary() and "x = " in rep[1].summary()
    with pytest.raises(ParameterError, match="relation"):
        DerivationStep(sp.Eq(x, x), "collapsed to True", "[C0]")
    with pytest.raises(ParameterError, match="check"):
        DerivationStep(Eq(x, x), "bad mode", "[C0]", "proof")
    with pytest.raises(ParameterError, match="checker"):
        DerivationStep(Eq(x, x), "a symbolic step with a checker", "[C0]", "symbolic", checker=explodes)
    with pytest.raises(ParameterError, match="where"):
        DerivationStep(Eq(x, x), "where is not pairs", "[C0]", where=(x,))
    with pytest.raises(ParameterError, match="steps"):
        Derivation("empty", "Empty", ())


def test_text_is_escaped_and_inline_math_kept():
    from freeprob.derivation import _tex_text, _tex_verbatim

    assert _tex_text("q = N/P > 0 and $x_1 < y$ at 5% & a_b") == r"q = N/P $>$ 0 and $x_1 < y$ at 5\% \& a\_b"
    assert _tex_text(r"costs \$5") == r"costs \$5"
    assert "_" not in _tex_verbatim("a_b").replace(r"\_", "")
    assert r"\allowbreak" in _tex_verbatim("f(x, y)")


def test_tally_and_check_table():
    x = sp.Symbol("x", positive=True)
    d = Derivation("t", "T", (DerivationStep(Eq(x, x), "s", "[C0]", "symbolic"),
                              DerivationStep(Eq(x, x), "c", "[C0]", "cited")))
    rep = d.check()
    n = tally(rep)
    assert tuple(n) == TALLY_COLUMNS and n["steps"] == 2 and n["symbolic"] == 1 and n["cited"] == 1
    tab = check_table([(d, rep)])
    assert tab.count(r"\\") == 3 and tab.count("{") == tab.count("}")
    assert set(MODES) == {"symbolic", "numeric", "montecarlo", "cited"}


def test_monte_carlo_tolerance_rules_reject_a_wrong_theory():
    rng = np.random.default_rng(0)
    draws = rng.normal(1.0, 0.1, (30, 2))
    assert _checks.agree(draws, [1.0, 1.0], allowance=0.0, what="x")[0]
    assert not _checks.agree(draws, [1.0, 1.2], allowance=0.0, what="x")[0]  # 10 standard errors off
    assert _checks.agree(draws, [1.0, 1.2], allowance=0.25, what="x")[0]  # within a stated allowance
    assert not _checks.agree_stats(1.0, 0.01, 1.1, allowance=0.03, what="x")[0]
    ok, res, _ = _checks.within(1.0 + 1e-12, 1.0, 1e-10, "x")
    assert ok and res == pytest.approx(1e-12, rel=1e-3)
    assert _checks.ks_rigid_tolerance(2000) == pytest.approx(np.log(2000) / 2000)


def test_every_result_of_the_catalogue_is_derived():
    """Each [R1]-[R21] item (and the sub-items [R2a]-[R2d]) is the reference
    of at least one step of some derivation."""
    refs = set()
    for mod in REG.values():
        for st in mod.build().steps:
            refs |= set(re.findall(r"R\d+[a-e]?", st.reference))
    want = {f"R{i}" for i in range(1, 22) if i != 2} | {"R2a", "R2b", "R2c", "R2d"}
    have = refs | {r.rstrip("abcde") for r in refs}
    assert want <= have, sorted(want - have)


@pytest.mark.parametrize("name", sorted(REG))
def test_markdown_renders(checked, name):
    """The Markdown export renders (CommonMark, markdown-it-py) to a heading,
    one list item per step, and display math that survives intact."""
    from markdown_it import MarkdownIt

    d, rep = _reports(checked, name)
    md = d.to_markdown(reports=rep)
    html = MarkdownIt("commonmark").render(md)
    assert html.count("<h2>") == 1
    assert html.count("$$") == md.count("$$")
    assert html.count("<li>") >= len(d.steps)


def test_cli_derive(capsys, tmp_path):
    lines = []
    assert main(["derive", "--list"], out=lines.append) == 0
    assert {ln.split()[0] for ln in lines} == set(REG)
    out = tmp_path / "lr.md"
    assert main(["derive", "isotropic-ridge", "--format", "markdown", "--check", "--out", str(out)],
                out=lambda s: None) == 0
    text = out.read_text()
    n = len(REG["isotropic-ridge"].build().steps)
    assert text.startswith("## Isotropic linear regression") and text.count("*Check: ") == n
    assert "FAILED" not in text and text.count("*Check: Monte Carlo") == 1
    js = tmp_path / "lr.json"
    assert main(["derive", "isotropic-ridge", "--format", "json", "--out", str(js)], out=lambda s: None) == 0
    assert json.loads(js.read_text())["name"] == "isotropic-ridge"
    assert main(["derive", "nonsense"]) == 2
    assert "valid: all, " in capsys.readouterr().err
    pdf = tmp_path / "lr.pdf"
    rc = main(["derive", "isotropic-ridge", "--format", "pdf", "--out", str(pdf)], out=lambda s: None)
    if HAS_PDFLATEX:
        assert rc == 0 and pdf.read_bytes()[:4] == b"%PDF"
    else:  # the CLI says how to get it
        assert rc == 2 and "apt-get install texlive" in capsys.readouterr().err
    assert main(["derive", "isotropic-ridge", "--format", "pdf"]) == 2  # --out is required


def test_cli_derive_all_reports_a_failing_step(monkeypatch):
    """``derive all --check`` prints the table; a failing step is listed with
    its point and residual and the exit status is 1."""
    x = sp.Symbol("x", positive=True)

    class Broken:
        NAME, TITLE = "broken", "Broken"

        @staticmethod
        def build():
            return Derivation("broken", "Broken", (DerivationStep(Eq(x, x + 1e-3), "off", "[C0]",
                                                                  ranges=((x, 1.0, 2.0),)),))

    monkeypatch.setattr(derivations, "registry", lambda: {"broken": Broken})
    lines = []
    assert main(["derive", "all", "--check"], out=lines.append) == 1
    assert lines[0].split()[1:] == list(TALLY_COLUMNS)
    failed = [ln for ln in lines if "FAILED" in ln]
    assert len(failed) == 1 and "x=" in failed[0] and "e-04" in failed[0]
    assert lines[-1].endswith("1 failed step(s)")


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex is installed by .ci/run")
@pytest.mark.parametrize("name", sorted(REG))
def test_every_derivation_compiles_to_pdf(checked, name, tmp_path):
    """A complete document with the check outcomes through a real pdflatex
    (twice, for the labels); no line of it is overfull (long equations are
    scaled to the line, long library calls break)."""
    d, rep = _reports(checked, name)
    pdf, log = tmp_path / f"{name}.pdf", tmp_path / f"{name}.log"
    compile_pdf(d.to_latex(document=True, reports=rep), str(pdf), log_path=str(log))
    assert pdf.read_bytes()[:4] == b"%PDF" and pdf.stat().st_size > 10_000
    text = log.read_text(errors="replace")
    overfull = re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)", text)
    assert not [w for w in overfull if float(w) > 1.0], overfull
    assert "LaTeX Warning: Reference" not in text
    # the fonts pdflatex embedded (listed at the end of the log, lines wrapped):
    # Type 1 outlines (.pfb), no bitmap fonts (.600pk, which T1 encoding without
    # cm-super would load)
    flat = text.replace("\n", "")
    assert ".pfb>" in flat and not re.findall(r"\.\d+pk>", flat)


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex is installed by .ci/run")
def test_appendix_document_with_table_and_figure(checked, tmp_path):
    """Several derivations, the check table and a figure in one document, as
    the main job writes it."""
    d1, r1 = _reports(checked, "isotropic-ridge")
    d2, r2 = _reports(checked, "kernel-ridge")
    png = tmp_path / "fig.png"
    png.write_bytes(_tiny_png())
    tex = latex_document("Appendix", [d1.to_latex(reports=r1), d2.to_latex(reports=r2)],
                         figures=[("fig.png", "A figure.")], tables=[check_table([(d1, r1), (d2, r2)])])
    assert tex.count(r"\section{") == 2 and r"\begin{table}" in tex and r"\includegraphics" in tex
    log = tmp_path / "a.log"
    compile_pdf(tex, str(tmp_path / "a.pdf"), resources=[str(png)], log_path=str(log))
    assert "Overfull" not in log.read_text(errors="replace")


def _tiny_png():
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00\xff\xff\xff"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
