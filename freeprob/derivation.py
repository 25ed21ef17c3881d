r"""Derivations as checkable documents.

A :class:`Derivation` is an ordered list of :class:`DerivationStep`.  A step
is a sympy relation with a justification, a reference to the paper's results
(``[R3]``, ``[C10]``, ``P4`` of the specification) and a *check mode*:

``"symbolic"``
    sympy simplifies ``lhs - rhs`` to 0.  When sympy cannot decide, the step
    falls back to the numeric check and the report says so.
``"numeric"``
    ``lhs - rhs`` is evaluated with mpmath at ``dps`` digits at random points
    of the free symbols (ranges per step).  The residual ``|lhs - rhs| /
    (|lhs| + |rhs| + 1)`` must be below ``10^(-dps/2)``.  Alternatively a ``checker`` callable compares two
    independent numeric routes (a solver against its equation, one evaluator
    against another).
``"montecarlo"``
    a ``checker`` callable compares the relation with sampled random
    matrices, within a tolerance that it states.
``"cited"``
    stated with its reference, not checked.

**Named quantities.**  A relation is typeset as written.  Its named objects
(``S_W(t)``, ``E_g``, ``m_5``) are bound by ``where`` to the expressions the
library computes.  The check substitutes them, so the document reads
``S_W(t) = 1/(1 + q t)`` while the check compares the library's ``S_W`` with
the paper's form.  Unevaluated ``Limit``, ``Integral``, ``Derivative`` and
``Sum`` are evaluated after the substitution.  Numeric checks of
inequalities (``Ge``, ``Lt``, ...) test the sign at every point.

:meth:`Derivation.check` returns one :class:`StepReport` per step.  A failing
step reports the step, the point and the residual, never a traceback.
:meth:`~Derivation.to_latex`, :meth:`~Derivation.to_markdown` and
:meth:`~Derivation.to_json` export it, with the check outcomes when reports
are passed.  :func:`latex_document` and :func:`compile_pdf` typeset several
derivations as one appendix.  Text may contain inline math as ``$...$``,
which is kept in LaTeX and Markdown.

>>> import sympy as sp
>>> from freeprob.derivation import Derivation, DerivationStep, Eq
>>> x = sp.Symbol("x", positive=True)
>>> f = sp.Function("f")
>>> d = Derivation("demo", "A demo", (
...     DerivationStep(Eq(f(x), x + 1), "factor $x^2 - 1$", "[C0]", "symbolic", where=((f(x), (x**2 - 1)/(x - 1)),)),))
>>> [r.status for r in d.check()]
['ok']
>>> print(d.to_markdown().splitlines()[4])
   $$ f{\left(x \right)} = x + 1 $$
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from freeprob.conventions import as_expr
from freeprob.errors import FreeprobError, ParameterError
from freeprob.printing import latex

__all__ = ["Derivation", "DerivationStep", "StepReport", "MODES", "Eq", "latex_document", "compile_pdf",
           "check_table", "tally", "TALLY_COLUMNS", "READING_GUIDE"]

MODES = ("symbolic", "numeric", "montecarlo", "cited")

#: what the numbered equations of an exported document mean (its first paragraph)
READING_GUIDE = (
    "Each numbered equation is one step of a derivation carried out by freeprob. Named left-hand sides "
    "are computed by the library (the call is given with the step), and right-hand sides are the forms "
    "the paper states. Every step carries its check: *symbolic* (sympy reduces the difference to zero), "
    "*numeric* (mpmath at 30 digits at random parameter points, or two independent numeric routes), "
    "*Monte Carlo* (sampled random matrices, with the tolerance stated), or *cited* (stated with its "
    "reference, not checked). $\\simeq$ is deterministic equivalence in the proportional limit. "
    "References [Cn], [Rn] and Pn are the conventions, results and pitfalls of the specification of "
    "Atanasov, Zavatone-Veth and Pehlevan, *Scaling and renormalization in high-dimensional regression* "
    "(arXiv:2405.00592) that freeprob implements.")

_UNEVALUATED = (sp.Limit, sp.Integral, sp.Derivative, sp.Sum, sp.Subs)


def Eq(lhs, rhs) -> sp.Equality:
    """An unevaluated equation (``sympy.Eq`` would collapse an identity to ``True``)."""
    return sp.Eq(as_expr(lhs, "lhs"), as_expr(rhs, "rhs"), evaluate=False)


@dataclass(frozen=True)
class DerivationStep:
    """One step of a :class:`Derivation` (see the module).

    Parameters
    ----------
    relation : a sympy ``Eq`` (use :func:`Eq`) or inequality, as typeset
    justification : why it holds (text; inline math as ``$...$``)
    reference : where it comes from, e.g. ``"[R3], P5"``
    check : one of :data:`MODES`
    label : a short name for reports and headings
    ranges : ``((symbol, lo, hi), ...)`` of the numeric spot checks (default ``(0.1, 3)``)
    checker : ``callable(rng) -> (ok, residual, detail)`` for Monte Carlo or two-route numeric checks
    where : ``((name, expression), ...)``: named objects of ``relation`` and
        the library expressions substituted for them before checking
    approx : typeset with ``\\simeq`` (a deterministic equivalent)
    source : the library call that computes the named objects (typeset verbatim)
    """

    relation: sp.Basic
    justification: str
    reference: str
    check: str = "numeric"
    label: str = ""
    ranges: tuple = ()
    checker: object = None
    where: tuple = ()
    approx: bool = False
    source: str = ""

    def __post_init__(self):
        if not isinstance(self.relation, sp.Basic):
            raise ParameterError("relation", repr(self.relation)[:60], "a sympy relation (use freeprob.derivation.Eq)",
                                 "strings are never parsed")
        for name in ("justification", "reference", "label", "source"):
            if not isinstance(getattr(self, name), str):
                raise ParameterError(name, repr(getattr(self, name))[:60], "text (a str)")
        if isinstance(self.relation, sp.logic.boolalg.BooleanAtom):
            raise ParameterError("relation", self.relation, "an unevaluated relation (use freeprob.derivation.Eq)")
        if self.check not in MODES:
            raise ParameterError("check", self.check, f"one of {MODES}")
        if self.check == "montecarlo" and not callable(self.checker):
            raise ParameterError("checker", self.checker, "a callable(rng) for Monte Carlo checks")
        if self.checker is not None and self.check not in ("numeric", "montecarlo"):
            raise ParameterError("checker", self.checker, "None for symbolic and cited steps")
        if not isinstance(self.where, tuple) or any(not (isinstance(w, tuple) and len(w) == 2) for w in self.where):
            raise ParameterError("where", self.where, "a tuple of (name, expression) pairs")
        for name, lo, hi in self.ranges:
            if not lo <= hi:
                raise ParameterError("ranges", (name, lo, hi), "lo <= hi")

    def resolved(self) -> sp.Basic:
        """The relation with the ``where`` bindings substituted (what is checked)."""
        rel = self.relation
        if self.where:
            rel = rel.xreplace({as_expr(k, "where"): as_expr(v, "where") for k, v in self.where})
        if rel.has(*_UNEVALUATED):
            rel = rel.func(*(a.doit() if a.has(*_UNEVALUATED) else a for a in rel.args), evaluate=False)
        return rel


@dataclass(frozen=True)
class StepReport:
    """Outcome of checking one step: ``status`` is ``ok``, ``failed`` or
    ``cited``; ``point`` is where the worst residual was found, as sorted
    ``(symbol name, value)`` pairs (frozen and hashable; :attr:`at` is the
    same as a dict)."""

    index: int
    label: str
    mode: str
    status: str
    residual: float | None = None
    point: tuple = ()
    detail: str = ""

    def __post_init__(self):
        if isinstance(self.point, dict):
            object.__setattr__(self, "point", tuple(sorted(self.point.items())))

    @property
    def at(self) -> dict:
        """``point`` as a dict."""
        return dict(self.point)

    def row(self) -> str:
        """One line of a text report."""
        res = "" if self.residual is None else f"{self.residual:.2e}"
        pt = ", ".join(f"{k}={v:.4g}" for k, v in self.point)
        return f"{self.index:>3} {self.label[:38]:<38} {self.mode:<10} {self.status:<6} {res:>9}  {pt} {self.detail}"

    def summary(self) -> str:
        """The outcome in words, for documents (inline math as ``$...$``)."""
        if self.status == "cited":
            return "cited, not checked"
        res = "" if self.residual is None else f"{self.residual:.1e}"
        if self.status == "failed":
            pt = ", ".join(f"{k} = {v:.4g}" for k, v in self.point)
            return f"FAILED ({self.mode}): residual {res} {('at ' + pt) if pt else ''} {self.detail}".strip()
        if self.mode == "symbolic":
            return self.detail or "symbolic identity (sympy reduces the difference to 0)"
        if self.mode == "montecarlo":
            return f"Monte Carlo: {self.detail}"
        if self.detail:
            return f"{self.detail}, worst relative residual {res}" if self.residual else self.detail
        return f"numeric spot check, worst relative residual {res}"


@dataclass(frozen=True)
class Derivation:
    """An ordered, checkable derivation (see the module).

    ``results`` are ``(name, expression)`` pairs typeset after the steps;
    ``assumptions`` and ``summary`` are text (inline math as ``$...$``)."""

    name: str
    title: str
    steps: tuple
    results: tuple = ()
    assumptions: tuple = ()
    summary: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError("name", self.name, "a nonempty string")
        if not isinstance(self.steps, tuple) or not self.steps:
            raise ParameterError("steps", self.steps, "a nonempty tuple of DerivationStep")
        bad = [s for s in self.steps if not isinstance(s, DerivationStep)]
        if bad:
            raise ParameterError("steps", type(bad[0]).__name__, "DerivationStep objects")

    # ---------------------------------------------------------- checking
    def check(self, *, rng: np.random.Generator | None = None, points: int = 3, dps: int = 30) -> list:
        """Check every step; one :class:`StepReport` per step, in order.

        ``rng`` drives the random points and the Monte Carlo checks (default
        a fixed seed, so that a report is reproducible); ``points`` spot
        checks per numeric step at ``dps`` digits."""
        rng = rng if rng is not None else np.random.default_rng(20240502)
        if not isinstance(rng, np.random.Generator):
            raise ParameterError("rng", type(rng).__name__, "a numpy.random.Generator")
        if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 1:
            raise ParameterError("points", points, "integers >= 1 (a numeric step needs a point to be checked)")
        if isinstance(dps, bool) or not isinstance(dps, (int, np.integer)) or dps < 20:
            raise ParameterError("dps", dps, "integers >= 20 (the residual bound is 10^(-dps/2), below float64)")
        out = []
        for i, st in enumerate(self.steps, 1):
            label = st.label or st.justification
            try:
                out.append(_check_step(i, label, st, rng, points, dps))
            except Exception as exc:  # noqa: BLE001 - the contract: a failing check is reported, never raised
                out.append(StepReport(i, label, st.check, "failed", None, {}, f"{type(exc).__name__}: {exc}"))
        return out

    def ok(self, **kw) -> bool:
        """Every step checked or cited, none failed."""
        return all(r.status in ("ok", "cited") for r in self.check(**kw))

    # ---------------------------------------------------------- export
    def to_latex(self, document: bool = False, *, reports=None) -> str:
        """A ``\\section`` with one labelled amsmath ``align`` block per step,
        preceded by its justification, reference, library call and (with
        ``reports`` from :meth:`check`) the outcome of its check.  Over-wide
        equations are scaled to the line; a relation with two long sides is
        set on two lines.  ``document=True`` gives a complete, compilable
        article (:func:`latex_document`)."""
        reports = _reports(self, reports)
        lines = [rf"\section{{{_tex_text(self.title)}}}\label{{sec:{self.name}}}"]
        if self.summary:
            lines.append(_tex_text(self.summary))
        if self.assumptions:
            lines.append(r"\paragraph{Assumptions.} " + "; ".join(_tex_text(a) for a in self.assumptions) + ".")
        for i, st in enumerate(self.steps, 1):
            head = rf"\paragraph{{Step {i}: {_tex_text(st.label or st.justification)}.}} "
            text = _tex_text(_sentence(st.justification)) + (f" {_tex_text(st.reference)}" if st.reference else "") + "."
            if st.source:
                text += r" Computed by \texttt{" + _tex_verbatim(st.source) + "}."
            if reports is not None:
                text += r" \emph{Check: " + _tex_text(reports[i - 1].summary()) + ".}"
            lines.append(head + text)
            lines.append(_equation(st, f"eq:{self.name}:{i}"))
        if self.results:
            lines.append(r"\paragraph{Results.}")
            lines.append(r"\begin{gather*}")
            lines.append(" \\\\\n".join(
                rf"  \fpfit{{\text{{{_tex_text(n)}}}\colon\ {latex(_pretty(e))}}}" for n, e in self.results))
            lines.append(r"\end{gather*}")
        body = "\n".join(lines)
        return latex_document(self.title, [body]) if document else body

    def to_markdown(self, *, reports=None) -> str:
        """Markdown: one numbered item per step with ``$$`` display math and
        inline ``$...$`` math in the text (GitHub, Jupyter)."""
        reports = _reports(self, reports)
        lines = [f"## {self.title}", ""]
        if self.summary:
            lines += [self.summary, ""]
        if self.assumptions:
            lines += ["**Assumptions:** " + "; ".join(self.assumptions) + ".", ""]
        for i, st in enumerate(self.steps, 1):
            head = f"**{st.label}.** " if st.label else ""
            item = f"{i}. {head}{_sentence(st.justification)} {st.reference}".rstrip() + "."
            if st.source:
                item += f" Computed by `{st.source}`."
            item += f" *Check: {reports[i - 1].summary() if reports is not None else st.check}.*"
            lines += [item, "", f"   $$ {_relation_latex(st)} $$", ""]
        if self.results:
            lines += ["**Results**", ""]
            lines += [f"- {n}: $ {latex(_pretty(e))} $" for n, e in self.results]
        return "\n".join(lines) + "\n"

    def to_json(self, *, reports=None) -> str:
        """JSON: name, title, summary, assumptions; per step the sympy
        ``srepr`` of both sides as typeset, the ``where`` bindings (name and
        library expression), LaTeX, justification, reference, check mode and,
        with ``reports``, the outcome; the results."""
        reports = _reports(self, reports)
        steps = []
        for i, st in enumerate(self.steps):
            lhs, rhs = _sides(st.relation)
            item = {"lhs": sp.srepr(lhs), "rhs": sp.srepr(rhs), "relation": type(st.relation).__name__,
                    "latex": _relation_latex(st), "justification": st.justification, "reference": st.reference,
                    "check": st.check, "label": st.label, "approx": st.approx, "source": st.source,
                    "where": [{"name": sp.srepr(sp.sympify(k)), "latex": latex(k), "value": sp.srepr(sp.sympify(v))}
                              for k, v in st.where]}
            if reports is not None:
                r = reports[i]
                item["result"] = {"status": r.status, "mode": r.mode, "residual": r.residual, "point": r.at,
                                  "detail": r.detail}
            steps.append(item)
        return json.dumps({"name": self.name, "title": self.title, "summary": self.summary,
                           "assumptions": list(self.assumptions), "steps": steps,
                           "results": [{"name": n, "srepr": sp.srepr(e), "latex": latex(e)} for n, e in self.results]},
                          indent=2)


# ------------------------------------------------------------------ checks
def _reports(d, reports):
    if reports is None:
        return None
    reports = list(reports)
    if len(reports) != len(d.steps) or any(not isinstance(r, StepReport) for r in reports):
        raise ParameterError("reports", f"{len(reports)} items", f"the {len(d.steps)} StepReports of {d.name}.check()")
    return reports


def _sentence(text: str) -> str:
    """``text`` with its first letter capitalized (not inside leading math)."""
    return text[:1].upper() + text[1:] if text[:1].isalpha() else text


def _sides(rel):
    if isinstance(rel, sp.core.relational.Relational):
        return rel.lhs, rel.rhs
    return rel, sp.Integer(0)


def _check_step(i, label, st, rng, points, dps):
    if st.check == "cited":
        return StepReport(i, label, "cited", "cited")
    if st.checker is not None:
        ok, residual, detail = st.checker(rng)
        return StepReport(i, label, st.check, "ok" if ok else "failed", float(residual), {}, str(detail))
    rel = st.resolved()
    if isinstance(rel, sp.logic.boolalg.BooleanAtom):  # the substitution decided it
        ok = rel is sp.true
        return StepReport(i, label, "symbolic", "ok" if ok else "failed", 0.0 if ok else None, {},
                          "the two sides are identical once the library's expressions are substituted" if ok else
                          "the library's expressions make the relation false")
    lhs, rhs = _sides(rel)
    if st.check == "symbolic" and isinstance(rel, sp.Equality):
        if sp.simplify(lhs - rhs) == 0:
            return StepReport(i, label, "symbolic", "ok", 0.0)
        # reported as numeric: that is how it was checked
        detail = f"sympy could not reduce the difference; mpmath spot check at {points} points, {dps} digits"
    else:
        detail = ""
    return _numeric(i, label, st, rel, rng, points, dps, detail)


def _numeric(i, label, st, rel, rng, points, dps, detail):
    """mpmath spot checks of ``rel`` (an equation or an inequality); the
    report's mode is ``numeric``."""
    from freeprob.numeric.compile import compile_expr
    from freeprob.numeric.spectrum import SpectralMean

    ranges = {s: (lo, hi) for s, lo, hi in st.ranges}
    lhs, rhs = _sides(rel)
    both = lhs + sp.Abs(rhs)
    inner = {a for m in both.atoms(SpectralMean) for a in m.var.free_symbols}
    free = sorted(both.free_symbols - inner, key=str)
    f = compile_expr(lhs - rhs, tuple(free), backend="mpmath")
    scale_f = compile_expr(sp.Abs(lhs) + sp.Abs(rhs) + 1, tuple(free), backend="mpmath")
    inequality = not isinstance(rel, sp.Equality)
    worst, where = 0.0, {}
    for _ in range(points):
        pt = {s: float(rng.uniform(*ranges.get(s, (0.1, 3.0)))) for s in free}
        vals = [pt[s] for s in free]
        with mpmath.workdps(dps):
            value = mpmath.mpmathify(f(*vals, dps=dps)[()])
            scale = abs(mpmath.mpmathify(scale_f(*vals, dps=dps)[()]))
            if not (mpmath.isfinite(value) and mpmath.isfinite(scale)):
                # NaN or inf at a point is a failure (NaN would compare False and slip through)
                worst, where = float("inf"), {str(k): v for k, v in pt.items()}
                detail = (detail + "; " if detail else "") + "the relation is not finite at the point"
                break
            if inequality:
                # the sign of lhs - rhs decides; a violation is its size relative to the scale
                if abs(mpmath.im(value)) > mpmath.mpf(10) ** (-dps // 2) * scale:
                    rel_err = float("inf")
                else:
                    holds = bool(rel.func(mpmath.re(value), 0))
                    rel_err = 0.0 if holds else float(abs(value) / scale)
            else:
                rel_err = float(abs(value) / scale)
        if rel_err >= worst:
            worst, where = rel_err, {str(k): v for k, v in pt.items()}
    ok = worst <= 10.0 ** (-dps // 2) if not inequality else worst == 0.0
    if not detail:
        detail = (f"holds at {points} random points ({dps} digits)" if inequality else
                  f"mpmath spot check at {points} random points, {dps} digits")
    return StepReport(i, label, "numeric", "ok" if ok else "failed", worst, where, detail)


# ------------------------------------------------------------------ typesetting
def _pretty(expr):
    """A shorter equivalent form for display (never for checking): the
    shortest LaTeX among the expression, ``cancel``, ``factor`` and, for small
    expressions, ``simplify``.  Unevaluated spectral sums, matrix expressions
    and short expressions are kept as they are."""
    from freeprob.numeric.spectrum import SpectralMean

    expr = sp.sympify(expr)
    if not isinstance(expr, sp.Expr) or isinstance(expr, sp.MatrixExpr) or expr.atoms(SpectralMean) \
            or expr.atoms(sp.MatrixSymbol) or expr.has(*_UNEVALUATED) or len(latex(expr)) < 60:
        return expr
    cands = [expr]
    for f in (sp.cancel, sp.factor):
        try:
            cands.append(f(expr))
        except (sp.PolynomialError, TypeError, ValueError, NotImplementedError):
            pass
    if sp.count_ops(expr) < 80:
        try:
            cands.append(sp.simplify(expr))
        except (TypeError, ValueError, NotImplementedError):
            pass
    return min(cands, key=lambda c: len(latex(c)))


_OPS = {sp.Equality: "=", sp.GreaterThan: r"\geq", sp.LessThan: r"\leq", sp.StrictGreaterThan: ">",
        sp.StrictLessThan: "<", sp.Unequality: r"\neq"}


def _relation_parts(st) -> tuple:
    """``(lhs LaTeX, operator, rhs LaTeX)`` of a step as typeset.  A relation
    with named objects (``where``) is shown as written; one built from library
    expressions alone is shown in a shorter equivalent form (:func:`_pretty`)."""
    lhs, rhs = _sides(st.relation)
    op = r"\simeq" if st.approx else _OPS.get(type(st.relation), "=")
    show = (lambda e: e) if st.where else _pretty
    return latex(show(lhs)), op, latex(show(rhs))


def _relation_latex(st) -> str:
    return " ".join(_relation_parts(st))


def _equation(st, label) -> str:
    l_tex, op, r_tex = _relation_parts(st)
    if len(l_tex) > 110 and len(r_tex) > 110:  # two lines: lhs, then = rhs
        body = rf"\begin{{gathered}}\fpfit{{{l_tex}}}\\ \fpfit{{{{}}{op} {r_tex}}}\end{{gathered}}"
    else:
        body = rf"\fpfit{{{l_tex} {op} {r_tex}}}"
    return "\\begin{align}\n  " + body + " \\label{" + label + "}\n\\end{align}"


# OT1 (the default encoding, Type 1 Computer Modern fonts) has no text glyphs
# for < > | \ ~: they are set in math
_TEX_SPECIAL = {"\\": r"$\backslash$", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "{": r"\{",
                "}": r"\}", "~": r"$\sim$", "^": r"\^{}", "<": "$<$", ">": "$>$", "|": r"$\vert$",
                "$": r"\$"}


def _tex_plain(text: str) -> str:
    out = "".join(_TEX_SPECIAL.get(c, c) for c in text)
    # *emphasis* as in the reading guide
    return re.sub(r"\*([^*]+)\*", r"\\emph{\1}", out)


def _tex_text(text: str) -> str:
    """Text with inline math: segments between ``$`` pass through as LaTeX
    math, the rest is escaped (``\\$`` is a literal dollar)."""
    parts = re.split(r"(?<!\\)\$", str(text))
    if len(parts) % 2 == 0:  # unbalanced: treat everything as text
        return _tex_plain(str(text))
    return "".join(f"${p}$" if k % 2 else _tex_plain(p.replace(r"\$", "$")) for k, p in enumerate(parts))


def _tex_verbatim(text: str) -> str:
    """Code in ``\\texttt``: escaped, with break points after ``. , ( =``."""
    return "".join(_TEX_SPECIAL.get(c, c) + (r"\allowbreak{}" if c in ".,(=" else "") for c in text)


_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage{amsmath,amssymb,graphicx}
\usepackage[margin=2.2cm]{geometry}
\usepackage[hidelinks]{hyperref}
\allowdisplaybreaks
\sloppy
\numberwithin{equation}{section}
% an equation wider than the line is scaled to it (never runs into the margin)
\newsavebox{\fpbox}
\newcommand{\fpfit}[1]{\sbox{\fpbox}{$\displaystyle #1$}%
  \ifdim\wd\fpbox>0.86\linewidth\resizebox{0.86\linewidth}{!}{\usebox{\fpbox}}\else\usebox{\fpbox}\fi}
"""


def latex_document(title: str, sections, *, figures=(), intro: str = READING_GUIDE, tables=()) -> str:
    r"""A complete article from LaTeX fragments (e.g. :meth:`Derivation.to_latex`
    outputs), laid out as a paper appendix: the title, the reading guide
    ``intro`` (text with ``$...$`` math), ``tables`` (LaTeX, e.g.
    :func:`check_table`), the sections, then ``figures`` as ``(path,
    caption)`` pairs of PDF/PNG files included with ``graphicx``."""
    from freeprob._version import __version__

    lines = [_PREAMBLE.rstrip(), rf"\title{{{_tex_text(title)}}}",
             rf"\author{{generated by freeprob {__version__}}}", r"\date{}", r"\begin{document}", r"\maketitle"]
    if intro:
        lines.append(_tex_text(intro))
    lines += list(tables)
    lines += list(sections)
    for path, caption in figures:
        lines += [r"\begin{figure}[p]", r"\centering",
                  rf"\includegraphics[width=0.95\linewidth,height=0.8\textheight,keepaspectratio]{{{path}}}",
                  rf"\caption{{{_tex_text(caption)}}}", r"\end{figure}"]
    lines += [r"\end{document}", ""]
    return "\n".join(lines)


#: the columns of :func:`tally`: steps, checked by mode, cited, failed
TALLY_COLUMNS = ("steps", "symbolic", "numeric", "montecarlo", "cited", "failed")


def tally(reports) -> dict:
    """Counts of a :meth:`Derivation.check` report by :data:`TALLY_COLUMNS`:
    every step, the passed steps of each check mode, the cited and the failed
    ones."""
    reports = list(reports)
    out = {"steps": len(reports)}
    out.update({m: sum(r.mode == m and r.status == "ok" for r in reports) for m in MODES[:3]})
    out["cited"] = sum(r.status == "cited" for r in reports)
    out["failed"] = sum(r.status == "failed" for r in reports)
    return out


def check_table(rows) -> str:
    r"""A LaTeX table of check outcomes: ``rows`` are ``(derivation,
    reports)`` pairs; one line per derivation with its steps by mode and the
    failures (:func:`tally`)."""
    body = [r"\begin{table}[ht]", r"\centering", r"\begin{tabular}{lrrrrrr}", r"\hline",
            r"derivation & steps & symbolic & numeric & Monte Carlo & cited & failed \\", r"\hline"]
    tot = dict.fromkeys(TALLY_COLUMNS, 0)
    for d, reps in rows:
        n = tally(_reports(d, reps))
        tot = {k: tot[k] + n[k] for k in TALLY_COLUMNS}
        body.append(rf"\hyperref[sec:{d.name}]{{{_tex_plain(d.name)}}} & " + " & ".join(str(n[k]) for k in TALLY_COLUMNS)
                    + r" \\")
    body += [r"\hline", "total & " + " & ".join(str(tot[k]) for k in TALLY_COLUMNS) + r" \\", r"\hline",
             r"\end{tabular}", r"\caption{Every step of every derivation and how it was checked in this run.}",
             r"\end{table}"]
    return "\n".join(body)


def compile_pdf(tex: str, path: str, *, resources=(), log_path: str | None = None) -> str:
    """Compile a LaTeX document with a real pdflatex (twice, for labels) and
    copy the PDF to ``path``; ``resources`` are files (figures) copied next
    to the source first; ``log_path`` keeps pdflatex's log (for checking,
    e.g., that no line is overfull).  A missing pdflatex raises a
    :class:`FreeprobError` saying how to install it; a LaTeX error raises one
    with the log's tail."""
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
        if log_path is not None:
            shutil.copyfile(os.path.join(tmp, "derivation.log"), log_path)
    return path
