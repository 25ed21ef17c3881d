"""Parameter validation at the boundary (house rule 8).

Numbers are checked against their allowed range; sympy symbols are accepted
when their assumptions do not contradict the range (a symbol created by
:func:`freeprob.conventions.symbol` is positive).  Strings are never
``eval``-ed: the CLI parses them with :mod:`freeprob.parsing`.

>>> positive("ratio", 2)
2
>>> positive("ratio", -1)
Traceback (most recent call last):
...
freeprob.errors.ParameterError: ratio = -1 is outside its allowed range (0, oo)
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from freeprob.errors import ParameterError

__all__ = ["to_sympy", "positive", "nonnegative", "real", "nonzero", "positive_integer"]


def to_sympy(name: str, value) -> sp.Expr:
    """Convert a user value (int, float, Fraction, numpy scalar, sympy) to sympy."""
    if isinstance(value, str):
        raise ParameterError(name, repr(value), "numbers or sympy expressions",
                             "strings are not parsed here; use freeprob.conventions.symbol(name)")
    if isinstance(value, bool):
        raise ParameterError(name, value, "numbers or sympy expressions")
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, np.generic):
        value = value.item()
    try:
        out = sp.sympify(value, strict=True)
    except (sp.SympifyError, TypeError):
        raise ParameterError(name, value, "numbers or sympy expressions") from None
    if out.has(sp.nan, sp.zoo) or (out.is_number and out.is_real is False):
        raise ParameterError(name, value, "finite real numbers")
    return out


def positive(name, value, allowed="(0, oo)"):
    v = to_sympy(name, value)
    if v.is_positive is False or v.is_infinite:
        raise ParameterError(name, v, allowed)
    return v


def nonnegative(name, value, allowed="[0, oo)"):
    v = to_sympy(name, value)
    if v.is_nonnegative is False or v.is_infinite:
        raise ParameterError(name, v, allowed)
    return v


def real(name, value, allowed="(-oo, oo)"):
    v = to_sympy(name, value)
    if v.is_real is False or v.is_infinite:
        raise ParameterError(name, v, allowed)
    return v


def nonzero(name, value, allowed="real numbers != 0"):
    v = real(name, value, allowed)
    if v.is_zero:
        raise ParameterError(name, v, allowed)
    return v


def positive_integer(name, value, allowed="integers >= 1"):
    if isinstance(value, float) and not float(value).is_integer():
        raise ParameterError(name, value, allowed, "sizes must be whole numbers")
    v = to_sympy(name, value)
    if v.is_number:
        if v.is_infinite or not (v.is_integer or (v.is_Float and float(v).is_integer())) or v < 1:
            raise ParameterError(name, v, allowed)
        return sp.Integer(int(v))
    if v.is_positive is False or v.is_integer is False:
        raise ParameterError(name, v, allowed)
    return v
