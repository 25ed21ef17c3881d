r"""Elementwise functions of one variable compiled for any array namespace of
the Python array API standard (numpy, ``array_api_strict``, cupy, torch or
jax through ``array-api-compat``).

:func:`compile_elementwise` prints the sympy expression with sympy's NumPy
printer and binds each function it names to the namespace's own: the names
numpy and the standard spell differently (``arctan`` and ``atan``, ``power``
and ``pow``) are translated, and ``Piecewise`` becomes nested ``where``.  The
formula is still written once, as sympy; nothing is retyped.  A function the
standard does not have (``erf``, ``gamma``) raises
:class:`~freeprob.errors.ParameterError` naming it, so that the caller can
choose to evaluate on the host instead (the Monte Carlo does, and says so).

>>> import numpy as np, sympy as sp
>>> h = sp.Symbol("h", real=True)
>>> relu = compile_elementwise(sp.Piecewise((h, h > 0), (0, True)), h, np)
>>> relu(np.array([-1.0, 2.0]))
array([0., 2.])
"""

from __future__ import annotations

import functools
import math

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from freeprob.errors import ParameterError
from freeprob.numeric.cache import cached

__all__ = ["compile_elementwise"]

#: numpy's spelling -> the standard's, where the two differ
_RENAMED = {"arccos": "acos", "arcsin": "asin", "arctan": "atan", "arctan2": "atan2", "arccosh": "acosh",
            "arcsinh": "asinh", "arctanh": "atanh", "power": "pow", "absolute": "abs", "conjugate": "conj"}


def _select(xp, conditions, values, default=math.nan):
    """numpy's ``select`` as nested ``where`` (the first true condition wins)."""
    shape = next(v for v in (*values, *conditions) if hasattr(v, "shape")).shape

    def full(v):
        return v if hasattr(v, "shape") and v.shape == shape else xp.zeros(shape, dtype=xp.float64) + v

    out = full(default)
    for cond, val in reversed(list(zip(conditions, values))):
        out = full(val) if cond is True else (out if cond is False else xp.where(cond, full(val), out))
    return out


def compile_elementwise(expr, var, xp):
    """``expr`` (a sympy expression in the one symbol ``var``) as a function
    applied elementwise to a float64 array of the namespace ``xp``.

    Parameters
    ----------
    expr : sympy expression with no free symbol other than ``var``.
    var : the sympy symbol.
    xp : an array namespace (a module such as ``numpy`` or ``array_api_strict``).
    """
    expr = sp.sympify(expr, strict=True)
    extra = expr.free_symbols - {var}
    if extra:
        raise ParameterError("expr", expr, f"an expression in {var} only", f"it also has {sorted(map(str, extra))}")
    fn = _compiled(expr, var, xp)

    def apply(h):
        v = fn(h)  # a constant (or a constant branch) comes back as a scalar
        return v if getattr(v, "shape", None) == h.shape else xp.zeros(h.shape, dtype=xp.float64) + v

    return apply


@cached(maxsize=64)
def _compiled(expr, var, xp):
    printer = NumPyPrinter({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True})
    probe = sp.lambdify((var,), expr, modules=[{}], printer=printer)  # its code names what it calls
    namespace = {"nan": math.nan, "inf": math.inf, "pi": math.pi, "e": math.e, "reduce": functools.reduce,
                 "select": functools.partial(_select, xp)}
    for name in probe.__code__.co_names:
        if name in namespace:
            continue
        fn = getattr(xp, _RENAMED.get(name, name), None)
        if fn is None:
            raise ParameterError("xp", getattr(xp, "__name__", repr(xp)), f"a namespace with {name!r}",
                                 f"{name} (in {expr}) is not a function of the array API standard")
        namespace[name] = fn
    return sp.lambdify((var,), expr, modules=[namespace], printer=printer)
