"""Parameter declarations and validation at the boundary (house rule 8).

Every scalar parameter of a law or a model is declared once, as a
:class:`Parameter`: its name, domain, LaTeX symbol and typical range.  From
that one declaration come

* validation (``Parameter.validate``, with an error that names the parameter
  and its domain),
* the LaTeX symbol of the parameter (:func:`latex_symbol`, used by the
  printer for symbols of that name),
* typical values for the catalogue of tests (``Parameter.typical``), and
* Hypothesis strategies for property tests (``Parameter.strategy()``).

Classes list their declarations in a ``PARAMETERS`` mapping
(:func:`declare`).

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

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from freeprob.errors import ParameterError

__all__ = ["real_array", "complex_array", "real_number", "digits", "instance", "to_sympy", "positive", "nonnegative", "real", "nonzero", "correlation", "positive_integer", "nonnegative_integer", "Parameter", "declare",
           "latex_symbol", "DOMAINS"]


def real_array(name, value, *, nan: bool = True):
    """``value`` as a float64 array, or a :class:`ParameterError` naming
    ``name`` (complex, boolean, string or ragged input; NaN too when ``nan``
    is False, for evaluation points where a NaN would otherwise become a
    density of 0 or a cdf of 1).  The one conversion of numeric user input
    for the laws and the models.

    >>> real_array("ridge", [0.1, 1]).tolist()
    [0.1, 1.0]
    """
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise ParameterError(name, repr(value), "real numbers or arrays of them")
    try:
        arr = np.asarray(value)
    except ValueError:
        raise ParameterError(name, "a ragged sequence", "real numbers or arrays of them") from None
    if arr.dtype.kind == "O":
        try:
            arr = np.asarray([float(sp.sympify(v)) if isinstance(v, sp.Basic) else v for v in arr.ravel()],
                             dtype=float).reshape(arr.shape)
        except (TypeError, ValueError):
            raise ParameterError(name, repr(value)[:60], "real numbers or arrays of them") from None
    if arr.dtype.kind not in "fiu":
        raise ParameterError(name, repr(value)[:60], "real numbers or arrays of them")
    arr = arr.astype(float)
    if not nan and np.any(np.isnan(arr)):
        raise ParameterError(name, "nan", "real numbers")
    return arr


def complex_array(name, value):
    """``value`` as a complex128 array, or a :class:`ParameterError` naming
    ``name`` (string, boolean, ragged or NaN input).  The one conversion of
    evaluation points that may leave the real axis.

    >>> complex_array("z", [1j, -2]).tolist()
    [1j, (-2+0j)]
    """
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise ParameterError(name, repr(value), "complex numbers or arrays of them")
    try:
        arr = np.asarray(value)
        if arr.dtype.kind == "O":
            arr = np.asarray([complex(sp.sympify(v)) if isinstance(v, sp.Basic) else v for v in arr.ravel()]
                             ).reshape(arr.shape)
    except (TypeError, ValueError):
        raise ParameterError(name, repr(value)[:60], "complex numbers or arrays of them") from None
    if arr.dtype.kind not in "fiuc":
        raise ParameterError(name, repr(value)[:60], "complex numbers or arrays of them")
    arr = arr.astype(complex)
    if np.any(np.isnan(arr)):
        raise ParameterError(name, "nan", "complex numbers")
    return arr


def digits(name, value, *, low: int = 15, high: int = 10_000):
    """An mpmath precision in decimal digits: ``None`` (float64) or an integer
    in ``[low, high]``; anything else is a :class:`ParameterError` naming
    ``name`` (a string, a float, a negative or absurd precision).

    >>> digits("dps", 30), digits("dps", None)
    (30, None)
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ParameterError(name, repr(value), f"None or integers in [{low}, {high}]",
                             "decimal digits of the mpmath evaluation")
    return int(value)


def instance(name, value, kinds, allowed: str):
    """``value`` if it is an instance of ``kinds``, else a
    :class:`ParameterError` naming ``name`` and what was expected.

    >>> instance("quantity", "Eg", str, "a key name")
    'Eg'
    """
    if not isinstance(value, kinds):
        raise ParameterError(name, repr(value)[:60], allowed)
    return value


def to_sympy(name: str, value, allowed: str = "finite real numbers") -> sp.Expr:
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
        raise ParameterError(name, value, allowed)
    return out


def positive(name, value, allowed="(0, oo)"):
    v = to_sympy(name, value, allowed)
    if v.is_positive is False or v.is_infinite:
        raise ParameterError(name, v, allowed)
    return v


def nonnegative(name, value, allowed="[0, oo)"):
    v = to_sympy(name, value, allowed)
    if v.is_nonnegative is False or v.is_infinite:
        raise ParameterError(name, v, allowed)
    return v


def real(name, value, allowed="(-oo, oo)"):
    v = to_sympy(name, value, allowed)
    if v.is_real is False or v.is_infinite:
        raise ParameterError(name, v, allowed)
    return v


def real_number(name, value, allowed="finite real numbers"):
    """A finite real number as a float (a symbol or expression without a
    numeric value is a :class:`ParameterError` naming ``name``).

    >>> real_number("beta", sp.Rational(1, 2))
    0.5
    """
    v = real(name, value, allowed)
    if not v.is_number:
        raise ParameterError(name, v, allowed, "a symbol has no numeric value here; substitute one first")
    return float(v)


def nonzero(name, value, allowed="real numbers != 0"):
    v = real(name, value, allowed)
    if v.is_zero:
        raise ParameterError(name, v, allowed)
    return v


def correlation(name, value, allowed="(-1, 1)"):
    """A correlation coefficient: a real number with ``|value| < 1``."""
    v = real(name, value, allowed)
    if v.is_number and not abs(v) < 1:
        raise ParameterError(name, v, allowed)
    return v


def _integer(name, value, allowed, minimum, what):
    """An integer ``>= minimum`` (a number, or a symbol whose assumptions allow it)."""
    if isinstance(value, float) and not float(value).is_integer():
        raise ParameterError(name, value, allowed, f"{what} must be whole numbers")
    v = to_sympy(name, value)
    if v.is_number:
        if v.is_infinite or not (v.is_integer or (v.is_Float and float(v).is_integer())) or v < minimum:
            raise ParameterError(name, v, allowed)
        return sp.Integer(int(v))
    if (v - minimum).is_nonnegative is False or v.is_integer is False:
        raise ParameterError(name, v, allowed)
    return v


def positive_integer(name, value, allowed="integers >= 1"):
    return _integer(name, value, allowed, 1, "sizes")


def nonnegative_integer(name, value, allowed="integers >= 0"):
    return _integer(name, value, allowed, 0, "counts")


#: domain name -> (validator, the allowed set as printed in errors)
DOMAINS = {
    "positive": (positive, "(0, oo)"),
    "nonnegative": (nonnegative, "[0, oo)"),
    "real": (real, "(-oo, oo)"),
    "nonzero": (nonzero, "real numbers != 0"),
    "positive_integer": (positive_integer, "integers >= 1"),
    "nonnegative_integer": (nonnegative_integer, "integers >= 0"),
    "correlation": (correlation, "(-1, 1)"),
}

#: symbol name -> LaTeX, filled by the declarations (one entry per name)
_LATEX: dict = {}


@dataclass(frozen=True)
class Parameter:
    """One declared parameter: name, domain, LaTeX symbol, typical range.

    >>> ratio = Parameter("ratio", "positive", "q", (0.1, 10.0), doc="q = N/P [C1]")
    >>> ratio.validate(2)
    2
    >>> ratio.validate(-1)
    Traceback (most recent call last):
    ...
    freeprob.errors.ParameterError: ratio = -1 is outside its allowed range (0, oo)
    >>> ratio.typical_values(3)
    (0.1, 1.0, 10.0)

    Parameters
    ----------
    name : the keyword of the constructor
    domain : a key of :data:`DOMAINS`
    latex : the LaTeX symbol (``"q"``, ``"\\sigma^2"``)
    typical : ``(low, high)``, the range the tests and the catalogue draw from
    note : an extra remark shown in the error when the domain is violated
    doc : one line for the documentation
    """

    name: str
    domain: str
    latex: str
    typical: tuple
    note: str = ""
    doc: str = ""

    def __post_init__(self):
        if self.domain not in DOMAINS:
            raise ParameterError("domain", self.domain, "{" + ", ".join(DOMAINS) + "}")
        lo, hi = self.typical
        if not lo <= hi:
            raise ParameterError("typical", self.typical, "(low, high) with low <= high")

    @property
    def allowed(self) -> str:
        return DOMAINS[self.domain][1] + (f" ({self.note})" if self.note else "")

    def validate(self, value, name: str | None = None):
        """The value as sympy, or :class:`~freeprob.errors.ParameterError` naming the parameter."""
        validator, _ = DOMAINS[self.domain]
        return validator(name or self.name, value, self.allowed)

    def typical_values(self, count: int = 3) -> tuple:
        """``count`` values spread over the typical range (geometric when it is positive)."""
        lo, hi = (float(v) for v in self.typical)
        vals = np.geomspace(lo, hi, count) if lo > 0 else np.linspace(lo, hi, count)
        if self.domain in ("positive_integer", "nonnegative_integer"):
            return tuple(int(round(v)) for v in vals)
        return tuple(float(v) for v in vals)

    def strategy(self):
        """A Hypothesis strategy over the typical range (imports hypothesis lazily)."""
        from hypothesis import strategies as st

        lo, hi = self.typical
        if self.domain in ("positive_integer", "nonnegative_integer"):
            return st.integers(int(lo), int(hi))
        return st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False).filter(
            lambda v: v != 0 or self.domain in ("real", "nonnegative"))

    def symbol(self) -> sp.Symbol:
        """A sympy symbol for the parameter, with the assumptions of its domain."""
        assumptions = {"positive": {"positive": True}, "positive_integer": {"positive": True, "integer": True},
                       "nonnegative": {"nonnegative": True}, "real": {"real": True},
                       "nonzero": {"real": True, "nonzero": True}, "correlation": {"real": True},
                       "nonnegative_integer": {"nonnegative": True, "integer": True}}[self.domain]
        return sp.Symbol(self.latex_name, **assumptions)

    @property
    def latex_name(self) -> str:
        """The plain name of the parameter's symbol (``q`` for ``ratio``)."""
        return self.latex.replace("\\", "").replace("{", "").replace("}", "").replace("^", "").replace(" ", "")


def declare(*parameters: Parameter) -> dict:
    """``{name: Parameter}`` for a class's ``PARAMETERS``; registers the LaTeX symbols."""
    out = {}
    for prm in parameters:
        if prm.name in out:
            raise ParameterError("parameters", prm.name, "distinct names")
        out[prm.name] = prm
        _LATEX.setdefault(prm.latex_name, prm.latex)
    return out


def latex_symbol(name: str) -> str | None:
    """The declared LaTeX of a parameter symbol named ``name``, or None."""
    return _LATEX.get(name)
