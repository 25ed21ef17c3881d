r"""LaTeX in the paper's notation.

:func:`latex` prints laws (``\mathrm{MP}_{q}``, ``\mathrm{SC}(\sigma^2, c)``,
...) and sympy expressions with the symbols of the paper: ``\kappa``,
``\lambda``, ``\mathrm{df}``, ``g``, ``R``, ``S``.  Spectral means print as
normalized sums over the eigenvalues ``\eta_k``.

>>> import freeprob
>>> from freeprob.conventions import df, q
>>> freeprob.latex(freeprob.MarchenkoPastur(q).s_transform(df, convention="df"))
'\\frac{1}{1 - \\mathrm{df} q}'
>>> freeprob.latex(freeprob.MarchenkoPastur(q))
'\\mathrm{MP}\\left(q\\right)'
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter

from freeprob.errors import ParameterError
from freeprob.parameters import latex_symbol

__all__ = ["latex", "FreeprobLatexPrinter"]

class FreeprobLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with freeprob's symbol table."""

    def _print_Symbol(self, expr, style="plain"):
        # the paper's spellings live with the conventions (one place)
        from freeprob.conventions import LATEX_NAMES

        if expr.name in LATEX_NAMES:
            return LATEX_NAMES[expr.name]
        declared = latex_symbol(expr.name)  # a declared parameter's symbol
        if declared is not None:
            return declared
        return super()._print_Symbol(expr, style=style)

    def _print_Add(self, expr, order=None):
        # the paper writes 1 - q df, not -df q + 1: terms with a positive sign
        # first, each group in sympy's canonical order (a stable partition, so
        # the output is still deterministic)
        terms = self._as_ordered_terms(expr, order=order)
        terms = [t for t in terms if not t.could_extract_minus_sign()] + \
            [t for t in terms if t.could_extract_minus_sign()]
        tex = ""
        for i, term in enumerate(terms):
            if i == 0:
                pass
            elif term.could_extract_minus_sign():
                tex += " - "
                term = -term
            else:
                tex += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = r"\left(%s\right)" % term_tex
            tex += term_tex
        return tex


def latex(obj, **settings) -> str:
    """LaTeX string of a law, a sympy expression, or a list of them.

    Laws print themselves through sympy's printer hook: each law class has a
    ``_latex(printer)`` method, so a new law touches only its own file.
    Strings are refused (they are never parsed here)."""
    printer = FreeprobLatexPrinter(settings)
    if isinstance(obj, (list, tuple)):
        return r"\left[" + ", ".join(latex(o, **settings) for o in obj) + r"\right]"
    if isinstance(obj, str):
        raise ParameterError("obj", repr(obj)[:40], "a law or a sympy expression", "strings are not parsed")
    if callable(getattr(type(obj), printer.printmethod, None)):  # sympy's printer protocol
        return printer.doprint(obj)
    try:
        expr = sp.sympify(obj, strict=True)
    except (sp.SympifyError, TypeError):
        raise ParameterError("obj", type(obj).__name__, "a law or a sympy expression") from None
    return printer.doprint(expr)
