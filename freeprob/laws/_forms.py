"""Numeric forms of a law's transforms: the parameter-symbolic twin and the
expressions handed to the compiler (conjugate-rewritten or cancelled)."""

from __future__ import annotations

import sympy as sp

from freeprob import conventions as C
from freeprob.errors import NoClosedFormError
from freeprob.laws._radical import has_radical_forms
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import needs_complex
from freeprob.numeric.spectrum import SpectralMean, absorb_means
from freeprob.numeric.stable import group_parameters, rationalize

__all__ = ["_numeric_form", "_numeric_expr", "_symbolic_twin"]


def _twin_symbol(path, value):
    if value.is_positive:
        return sp.Symbol(f"_p_{path}", positive=True)
    if value.is_negative:
        return sp.Symbol(f"_p_{path}", negative=True)
    return sp.Symbol(f"_p_{path}", real=True)


def _symbolic_twin(law, path="law"):
    """``(twin, symbols, values)``: the law with every nonzero numeric
    parameter replaced by a canonical symbol.  The twin's transforms are
    compiled once and reused for every parameter value (sweeps), and the
    mpmath path receives the values at full working precision instead of
    constants rounded to 15 digits when the closed form was built."""
    if not law._twin_params:
        return law, (), ()
    new, syms, vals = {}, [], []
    for name, v in law.params().items():
        if hasattr(v, "_twin_params"):  # a law inside the law (every law has the flag)
            sub, s2, v2 = _symbolic_twin(v, f"{path}_{name}")
            new[name] = sub
            syms += s2
            vals += v2
        elif isinstance(v, sp.Basic) and v.is_number and not v.is_zero:
            sym = _twin_symbol(f"{path}_{name}", v)
            new[name] = sym
            syms.append(sym)
            vals.append(v)
        else:
            new[name] = v
    return law._twin_replace(**new), tuple(syms), tuple(vals)


def _numeric_form(law, kind, method):
    """``(expr, symbols, values)`` of ``kind``; sums of parameters next to the
    variable are passed as derived parameters (:func:`_derived_parameters`),
    their values formed exactly from the law's parameters."""
    twin, syms, vals = _symbolic_twin(law)
    var = {"stieltjes": C.z, "density": C.x}.get(kind, C.lam)
    expr, derived = _derived_parameters(_numeric_expr(twin, kind, method), var, syms)
    if not derived:
        return expr, syms, vals
    at = dict(zip(syms, vals))
    return expr, syms + tuple(d for d, _ in derived), vals + tuple(c.xreplace(at) for _, c in derived)


@cached()
def _derived_parameters(expr, var, syms):
    """Replace every sum of two or more parameter-only terms inside a sum
    that contains ``var`` by a symbol of its own: ``sqrt(-lam - c + 2 sqrt(v))``
    becomes ``sqrt(-lam + d)``, ``d = 2 sqrt(v) - c`` formed exactly from the
    parameters.  Evaluated left to right in floats, ``(-lam - c) + 2 sqrt(v)``
    loses ``lam`` entirely when ``c = 2 sqrt(v)`` (a support that touches 0)
    and gives ``sqrt(0)`` in a denominator; ``-lam + d`` keeps every digit."""
    params = set(syms)
    found = {}

    def expand_polynomial_part(args):
        # parameter sums hidden in powers: -4 a^2 + (b + lam)^2 at b = 2a is
        # 4 a lam + lam^2, but in floats (b + lam)^2 - 4 a^2 is 0 below lam ~
        # 1e-16 (a df touching 0 divided by it: inf).  On the ridge axis
        # only (a law on [0, oo) has its poles at lam = -x <= 0, so such
        # factors are (lam + x)-like and their expanded terms share a sign)
        # the terms polynomial in lam are expanded when that reveals a
        # constant, which then joins the parameter-only terms in one derived
        # parameter
        if var != C.lam:
            return args
        poly = [a for a in args if a.has(var) and a.is_polynomial(var) and a.free_symbols <= params | {var}]
        const = [a for a in args if not a.has(var)]
        if not poly or not const:
            return args
        expanded = sp.expand(sp.Add(*poly))
        hidden = expanded.subs(var, 0)
        if hidden == 0:
            return args
        rest = [a for a in args if a not in poly and a not in const]
        return [*const, *sp.Add.make_args(hidden), sp.expand(expanded - hidden), *rest]

    def walk(e):
        if not e.args or not e.has(var):
            return e
        args = [walk(a) for a in e.args]
        if isinstance(e, sp.Add):
            args = expand_polynomial_part(args)
            const = [a for a in args if not a.has(var)]
            if len(const) >= 2 and sp.Add(*const).free_symbols <= params and sp.Add(*const).free_symbols:
                c = sp.Add(*const)
                if c not in found:
                    found[c] = sp.Dummy(f"d{len(found)}")
                return sp.Add(found[c], *[a for a in args if a.has(var)])
        return e.func(*args) if args != list(e.args) else e

    out = walk(expr)
    return out, tuple((d, c) for c, d in found.items())


@cached()
def _numeric_expr(twin, kind, method):
    """The expression of ``kind`` (``stieltjes``, ``df1``, ``df2``, the
    complements ``cdf1`` = ``1 - df1`` and ``cdf2``, ``density``) of the
    twin in the form the float64 compiler takes [C6]: spectral means as
    they are (or absorbed into one mean for the complements), radicals
    rationalized where they need complex arithmetic, else cancelled; real
    radicals of degree 3 and 4 are refused (NoClosedFormError).

    >>> import freeprob
    >>> _numeric_expr(freeprob.Identity(2), "df1", None)
    2/(lambda + 2)
    """
    if kind == "stieltjes":
        expr = twin.stieltjes(C.z, method=method)
    elif kind == "df1":
        expr = twin.df1(C.lam)
    elif kind == "df2":
        expr = twin.df2(C.lam)
        if not expr.atoms(SpectralMean) and needs_complex(expr):
            # differentiate the cancellation-free df1
            return C.df2_from_df1(rationalize(twin.df1(C.lam)), C.lam)
    elif kind in ("cdf1", "cdf2"):
        # the complements 1 - df1 = <lam/(x + lam)> and 1 - df2 (weights sum
        # to one), exact where df -> 1 (lam -> 0 on a full-rank law)
        # (top-level expansion only: radicands keep their (1 - sqrt(q))^2 form,
        # exact at q = 1 where the expanded 2 sqrt(q) - q - 1 + lam loses lam)
        expr = sp.expand(1 - (twin.df1(C.lam) if kind == "cdf1" else twin.df2(C.lam)), deep=False)
        if expr.atoms(SpectralMean):
            return absorb_means(expr)
        if needs_complex(expr):
            c1 = group_parameters(rationalize(sp.expand(1 - twin.df1(C.lam), deep=False)), C.lam)
            # 1 - df2 = c1 + lam c1' [C6]: a sum of two positive terms
            return c1 if kind == "cdf1" else c1 + C.lam * sp.diff(c1, C.lam)
    else:
        expr = twin._density_symbolic(C.x, radical=False)
        if expr is None:
            raise NoClosedFormError(f"{twin!r} has no closed-form density")
    if has_radical_forms(expr):
        # the real radicals of Cardano and Ferrari lose digits in float64 next to the zeros of
        # their discriminant and leading coefficient; the certified routes do not
        raise NoClosedFormError("the numeric evaluators do not compile the real-radical forms of curves of degree 3 and 4")
    if kind != "density" and not expr.atoms(SpectralMean):
        expr = rationalize(expr) if needs_complex(expr) else sp.factor(sp.cancel(expr))
    return expr
