"""Numeric forms of a law's transforms: the parameter-symbolic twin and the
expressions handed to the compiler (conjugate-rewritten or cancelled)."""

from __future__ import annotations

import sympy as sp

from .. import conventions as C
from .._cache import cached
from .._compile import needs_complex
from .._spectrum import SpectralMean
from .._stable import rationalize
from ._base import SpectralLaw

__all__ = ["_symbolic_twin", "_numeric_form"]


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
        if isinstance(v, SpectralLaw):
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
    return law._replace(**new), tuple(syms), tuple(vals)


def _numeric_form(law, kind, method):
    twin, syms, vals = _symbolic_twin(law)
    return _numeric_expr(twin, kind, method), syms, vals


@cached()
def _numeric_expr(twin, kind, method):
    if kind == "stieltjes":
        expr = twin.stieltjes(C.z, method=method)
    elif kind == "df1":
        expr = twin.df1(C.lam)
    elif kind == "df2":
        expr = twin.df2(C.lam)
        if not expr.atoms(SpectralMean) and needs_complex(expr):
            # differentiate the cancellation-free df1
            return C.df2_from_df1(rationalize(twin.df1(C.lam)), C.lam)
    else:
        expr = twin.density(C.x)
    if kind != "density" and not expr.atoms(SpectralMean):
        expr = rationalize(expr) if needs_complex(expr) else sp.factor(sp.cancel(expr))
    return expr
