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

__all__ = ["latex", "FreeprobLatexPrinter"]

class FreeprobLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with freeprob's symbol table."""

    def _print_Symbol(self, expr, style="plain"):
        # the paper's spellings live with the conventions (one place)
        from .conventions import LATEX_NAMES

        if expr.name in LATEX_NAMES:
            return LATEX_NAMES[expr.name]
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


def _law_latex(law, printer) -> str:
    from .laws import Affine, Discrete, FreeProduct, FreeSum, Identity, MarchenkoPastur, PowerLaw, Semicircle
    from .laws import WishartProduct

    p = printer._print
    if isinstance(law, MarchenkoPastur):
        inner = p(law.ratio) if law.scale == 1 else f"{p(law.ratio)},\\, {p(law.scale)}"
        return r"\mathrm{MP}\left(%s\right)" % inner
    if isinstance(law, Semicircle):
        return r"\mathrm{SC}\left(%s,\, %s\right)" % (p(law.variance), p(law.center))
    if isinstance(law, Identity):
        return r"\delta_{%s}" % p(law.scale)
    if isinstance(law, PowerLaw):
        return r"\mathrm{PL}\left(\alpha = %s,\, n = %s\right)" % (p(law.alpha), p(law.n))
    if isinstance(law, Discrete):
        vals, wts = law.values, law.weights
        if len(vals) > 8:
            return r"\textstyle\sum_{k=1}^{%d} p_k\,\delta_{\eta_k}" % len(vals)
        return " + ".join(r"%s\,\delta_{%s}" % (p(w), p(v)) for v, w in zip(vals, wts))
    if isinstance(law, FreeSum):
        return r"\left(%s\right) \boxplus \left(%s\right)" % (_law_latex(law.a, printer), _law_latex(law.b, printer))
    if isinstance(law, FreeProduct):
        return r"\left(%s\right) \boxtimes \left(%s\right)" % (_law_latex(law.a, printer), _law_latex(law.b, printer))
    if isinstance(law, WishartProduct):
        body = r" \boxtimes ".join(r"\mathrm{MP}\left(%s\right)" % p(c) for c in law.ratios)
        return body if law.scale == 1 else r"%s\,\left[%s\right]" % (p(law.scale), body)
    if isinstance(law, Affine):
        return r"%s\,\left[%s\right] + %s" % (p(law.scale), _law_latex(law.law, printer), p(law.shift))
    return r"\mathrm{%s}" % type(law).__name__  # pragma: no cover - future laws print their name


def latex(obj, **settings) -> str:
    """LaTeX string of a law, a sympy expression, or a list of them."""
    from .laws import SpectralLaw

    printer = FreeprobLatexPrinter(settings)
    if isinstance(obj, SpectralLaw):
        return _law_latex(obj, printer)
    if isinstance(obj, (list, tuple)):
        return r"\left[" + ", ".join(latex(o, **settings) for o in obj) + r"\right]"
    return printer.doprint(sp.sympify(obj))
