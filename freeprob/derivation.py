r"""Derivations as checkable documents.

A :class:`Derivation` is an ordered list of :class:`DerivationStep` -- a sympy
relation, a short justification, a reference to the paper's results
(``[R3]``, ``[C10]``, ...) and a *check mode*:

``"symbolic"``
    ``lhs - rhs`` simplifies to 0 (falls back to the numeric check when
    sympy cannot decide, and says so);
``"numeric"``
    ``lhs - rhs`` evaluated with mpmath at ``dps`` digits at random points
    of the free symbols (ranges per step), residual below ``10^(-dps/2)``
    relative;
``"montecarlo"``
    a callable ``check(rng) -> (ok, residual, detail)`` comparing the
    relation with sampled random matrices;
``"cited"``
    stated with its reference, not checked.

:meth:`Derivation.check` returns one :class:`StepReport` per step (a failing
step reports the step, the point and the residual -- never a traceback);
:meth:`~Derivation.to_latex`, :meth:`~Derivation.to_markdown` and
:meth:`~Derivation.to_json` export it.

>>> import sympy as sp
>>> from freeprob.derivation import Derivation, DerivationStep
>>> x = sp.Symbol("x", positive=True)
>>> d = Derivation("demo", "A demo", (DerivationStep(sp.Eq((x**2 - 1)/(x - 1), x + 1), "factor", "[C0]",
...                                                 "symbolic"),))
>>> [r.status for r in d.check()]
['ok']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

from .errors import FreeprobError, ParameterError
from .latex import latex

__all__ = ["Derivation", "DerivationStep", "StepReport", "MODES", "Eq", "latex_document", "compile_pdf"]

MODES = ("symbolic", "numeric", "montecarlo", "cited")


def Eq(lhs, rhs) -> sp.Equality:
    """An unevaluated equation (``sympy.Eq`` would collapse an identity to ``True``)."""
    return sp.Eq(sp.sympify(lhs), sp.sympify(rhs), evaluate=False)


@dataclass(frozen=True)
class DerivationStep:
    """One step: ``relation`` (a sympy ``Eq`` or relational), why it holds,
    where it comes from, and how it is checked."""

    relation: sp.Basic
    justification: str
    reference: str
    check: str = "numeric"
    label: str = ""
    ranges: tuple = ()  # ((symbol, lo, hi), ...) for numeric checks; default (0.1, 3)
    checker: object = None  # callable(rng) -> (ok, residual, detail) for Monte Carlo

    def __post_init__(self):
        if isinstance(self.relation, sp.logic.boolalg.BooleanAtom):
            raise ParameterError("relation", self.relation, "an unevaluated relation (use freeprob.derivation.Eq)")
        if self.check not in MODES:
            raise ParameterError("check", self.check, f"one of {MODES}")
        if self.check == "montecarlo" and not callable(self.checker):
            raise ParameterError("checker", self.checker, "a callable(rng) for Monte Carlo checks")


@dataclass(frozen=True)
class StepReport:
    """Outcome of checking one step."""

    index: int
    label: str
    mode: str
    status: str  # ok | failed | cited
    residual: float | None = None
    point: dict = field(default_factory=dict)
    detail: str = ""

    def row(self) -> str:
        res = "" if self.residual is None else f"{self.residual:.2e}"
        pt = ", ".join(f"{k}={v:.4g}" for k, v in self.point.items())
        return f"{self.index:>3} {self.label[:38]:<38} {self.mode:<10} {self.status:<6} {res:>9}  {pt} {self.detail}"


@dataclass(frozen=True)
class Derivation:
    """An ordered, checkable derivation (see the module)."""

    name: str
    title: str
    steps: tuple
    results: tuple = ()  # ((name, sympy expression), ...)
    assumptions: tuple = ()  # strings
    summary: str = ""

    # ---------------------------------------------------------- checking
    def check(self, *, rng: np.random.Generator | None = None, points: int = 3, dps: int = 30) -> list:
        """Check every step; returns a list of :class:`StepReport`."""
        rng = rng if rng is not None else np.random.default_rng(20240502)
        out = []
        for i, st in enumerate(self.steps, 1):
            label = st.label or st.justification
            try:
                out.append(_check_step(i, label, st, rng, points, dps))
            except (FreeprobError, TypeError, ValueError, ZeroDivisionError, ArithmeticError) as exc:
                # a failing check is reported with its step, never raised
                out.append(StepReport(i, label, st.check, "failed", None, {}, f"{type(exc).__name__}: {exc}"))
        return out

    def ok(self, **kw) -> bool:
        return all(r.status in ("ok", "cited") for r in self.check(**kw))

    # ---------------------------------------------------------- export
    def to_latex(self, document: bool = False) -> str:
        """amsmath ``align`` blocks, one labelled line per step with its
        justification and reference; ``document=True`` wraps a complete,
        compilable article."""
        lines = [rf"\subsection*{{{_tex_escape(self.title)}}}"]
        if self.summary:
            lines.append(_tex_escape(self.summary))
        if self.assumptions:
            lines.append(r"\paragraph{Assumptions.} " + "; ".join(_tex_escape(a) for a in self.assumptions) + ".")
        lines.append(r"\begin{align}")
        rows = []
        for i, st in enumerate(self.steps, 1):
            lhs, rhs = _sides(st.relation)
            tag = f"{self.name}:{i}"
            note = _tex_escape(f"{st.justification} {st.reference}".strip())
            rows.append(rf"  {latex(lhs)} &= {latex(rhs)} \label{{eq:{tag}}} && \text{{{note}}}")
        lines.append(" \\\\\n".join(rows))
        lines.append(r"\end{align}")
        if self.results:
            lines.append(r"\paragraph{Results.}")
            lines.append(r"\begin{align*}")
            lines.append(" \\\\\n".join(rf"  \text{{{_tex_escape(n)}}} &= {latex(e)}" for n, e in self.results))
            lines.append(r"\end{align*}")
        body = "\n".join(lines)
        if not document:
            return body
        return latex_document(self.title, [body])

    def to_markdown(self) -> str:
        """Markdown with ``$$`` display math, one numbered step per item."""
        lines = [f"## {self.title}", ""]
        if self.summary:
            lines += [self.summary, ""]
        if self.assumptions:
            lines += ["**Assumptions:** " + "; ".join(self.assumptions), ""]
        for i, st in enumerate(self.steps, 1):
            lhs, rhs = _sides(st.relation)
            lines += [f"{i}. {st.justification} {st.reference} *(check: {st.check})*", "",
                      f"   $$ {latex(lhs)} = {latex(rhs)} $$", ""]
        if self.results:
            lines += ["**Results**", ""]
            lines += [f"- {n}: $ {latex(e)} $" for n, e in self.results]
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """JSON: name, title, steps (sympy ``srepr`` and LaTeX of both sides), results."""
        steps = []
        for st in self.steps:
            lhs, rhs = _sides(st.relation)
            steps.append({"lhs": sp.srepr(lhs), "rhs": sp.srepr(rhs), "latex": f"{latex(lhs)} = {latex(rhs)}",
                          "justification": st.justification, "reference": st.reference, "check": st.check,
                          "label": st.label})
        return json.dumps({"name": self.name, "title": self.title, "summary": self.summary,
                           "assumptions": list(self.assumptions), "steps": steps,
                           "results": [{"name": n, "srepr": sp.srepr(e), "latex": latex(e)} for n, e in self.results]},
                          indent=2)


def _sides(rel):
    if isinstance(rel, (sp.Equality, sp.core.relational.Relational)):
        return rel.lhs, rel.rhs
    return rel, sp.Integer(0)


def _tex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("#", r"\#"), ("_", r"\_"),
                 ("^", r"\^{}"), ("$", r"\$")):
        text = text.replace(a, b)
    return text


def _check_step(i, label, st, rng, points, dps):
    if st.check == "cited":
        return StepReport(i, label, "cited", "cited")
    if st.check == "montecarlo":
        ok, residual, detail = st.checker(rng)
        return StepReport(i, label, "montecarlo", "ok" if ok else "failed", float(residual), {}, detail)
    lhs, rhs = _sides(st.relation)
    diff = lhs - rhs
    if st.check == "symbolic":
        simp = sp.simplify(diff)
        if simp == 0:
            return StepReport(i, label, "symbolic", "ok", 0.0)
        detail = "simplify did not reach 0; checked numerically"
    else:
        detail = ""
    return _numeric(i, label, st, diff, rng, points, dps, detail)


def _numeric(i, label, st, diff, rng, points, dps, detail):
    from ._compile import compile_expr
    from ._spectrum import SpectralMean

    ranges = {s: (lo, hi) for s, lo, hi in st.ranges}
    lhs = _sides(st.relation)[0]
    both = lhs + sp.Abs(_sides(st.relation)[1])
    inner = {a for m in both.atoms(SpectralMean) for a in m.var.free_symbols}
    free = sorted(both.free_symbols - inner, key=str)
    f = compile_expr(diff, tuple(free), backend="mpmath")
    worst, where = 0.0, {}
    scale_f = compile_expr(sp.Abs(lhs) + 1, tuple(free), backend="mpmath")
    for _ in range(points):
        pt = {s: float(rng.uniform(*ranges.get(s, (0.1, 3.0)))) for s in free}
        vals = [pt[s] for s in free]
        with mpmath.workdps(dps):
            r = abs(mpmath.mpmathify(f(*vals, dps=dps)[()]))
            scale = abs(mpmath.mpmathify(scale_f(*vals, dps=dps)[()]))
            rel = float(r / scale)
        if rel >= worst:
            worst, where = rel, {str(k): v for k, v in pt.items()}
    ok = worst <= 10.0 ** (-dps // 2)
    return StepReport(i, label, "numeric" if not detail else "symbolic", "ok" if ok else "failed", worst, where,
                      detail)


def latex_document(title: str, sections, *, figures=()) -> str:
    r"""A complete article from LaTeX fragments (e.g. :meth:`Derivation.to_latex`
    outputs), read like a paper appendix; ``figures`` are ``(path, caption)``
    pairs of PDF/PNG files included with ``graphicx`` after the sections."""
    lines = [r"\documentclass[11pt]{article}", r"\usepackage{amsmath,amssymb,graphicx}",
             r"\usepackage[margin=2.2cm]{geometry}", r"\allowdisplaybreaks",
             rf"\title{{{_tex_escape(title)}}}", r"\date{}", r"\begin{document}", r"\maketitle"]
    lines += list(sections)
    for path, caption in figures:
        lines += [r"\begin{figure}[htbp]", r"\centering",
                  rf"\includegraphics[width=0.95\linewidth]{{{path}}}",
                  rf"\caption{{{_tex_escape(caption)}}}", r"\end{figure}"]
    lines += [r"\end{document}", ""]
    return "\n".join(lines)


def compile_pdf(tex: str, path: str, *, resources=()) -> str:
    """Compile a LaTeX document with a real pdflatex (twice, for labels) and
    copy the PDF to ``path``; ``resources`` are files (figures) copied next
    to the source first.  A missing pdflatex raises a :class:`FreeprobError`
    saying how to install it."""
    import os
    import shutil
    import subprocess
    import tempfile

    exe = shutil.which("pdflatex")
    if exe is None:
        raise FreeprobError("pdflatex not found: install TeX Live (Debian/Ubuntu: apt-get install "
                            "texlive-latex-base texlive-latex-recommended) or use --format latex")
    with tempfile.TemporaryDirectory() as tmp:
        for res in resources:
            shutil.copyfile(res, os.path.join(tmp, os.path.basename(res)))
        src = os.path.join(tmp, "derivation.tex")
        with open(src, "w", encoding="utf-8") as fh:
            fh.write(tex)
        for _ in range(2):
            res = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "derivation.tex"], cwd=tmp,
                                 capture_output=True, text=True)
            if res.returncode != 0:
                raise FreeprobError("pdflatex failed:\n" + res.stdout[-2000:])
        shutil.copyfile(os.path.join(tmp, "derivation.pdf"), path)
    return path
