"""Typed errors raised by freeprob.

Every failure a user can trigger is one of these classes, so that callers can
catch exactly what they expect and so that nothing fails by returning NaN.

>>> from freeprob.errors import ParameterError
>>> err = ParameterError("ratio", -1, "(0, oo)")
>>> print(err)
ratio = -1 is outside its allowed range (0, oo)
"""

from __future__ import annotations

__all__ = [
    "FreeprobError",
    "ParameterError",
    "TransformNotDefinedError",
    "NoClosedFormError",
    "BranchError",
    "SupportError",
    "ConvergenceError",
    "ParseError",
    "NumericalError",
]


class FreeprobError(Exception):
    """Base class of every error freeprob raises on purpose."""


class ParameterError(FreeprobError, ValueError):
    """A parameter lies outside its allowed range.

    The message names the parameter, the value and the allowed range.
    """

    def __init__(self, name: str, value, allowed: str, detail: str = ""):
        self.name = name
        self.value = value
        self.allowed = allowed
        msg = f"{name} = {value} is outside its allowed range {allowed}"
        if detail:
            msg += f": {detail}"
        super().__init__(msg)


class TransformNotDefinedError(FreeprobError):
    """The requested transform does not exist for this law (for example the
    S-transform of a law with zero mean)."""


class NoClosedFormError(FreeprobError):
    """No explicit closed form is available by any route; the message says
    which implicit representation can be used instead."""


class BranchError(FreeprobError):
    """A numeric value failed the physical-branch certificate (Herglotz sign,
    asymptotics or positivity), or the physical root could not be isolated."""


class SupportError(FreeprobError, ValueError):
    """A real evaluation point lies on the support, where the Stieltjes
    transform has a cut; move it off the axis (x + i*eps)."""


class ConvergenceError(FreeprobError):
    """An iterative solver did not converge; the last iterate is never
    returned silently."""


class ParseError(FreeprobError, ValueError):
    """A command-line or spec string could not be parsed."""


class NumericalError(FreeprobError, ArithmeticError):
    """Finite, valid inputs produced NaN or inf in a quantity.

    Raised at the numeric boundary (:func:`freeprob.numeric.compile.compile_expr`)
    instead of returning the non-finite value; the message names the quantity
    and the point.  A value that is infinite in exact arithmetic (a derived
    limit such as ``S = kappa/lambda`` at ``lambda = 0``) is returned as
    ``inf`` by the model that derived it, never by this boundary."""
