r"""Free additive and multiplicative convolution.

``free_add(a, b)`` is the limiting law of ``A + Q B Q^T`` and ``free_mul(a, b)``
that of ``A^{1/2} Q B Q^T A^{1/2}`` (``Q`` Haar), for ``A``, ``B`` with laws
``a``, ``b``.  The calculus [C8], [C9], [R2a]:

.. math:: R_{a\boxplus b} = R_a + R_b,\qquad S_{a\boxtimes b} = S_a S_b .

Routes, cheapest exact first:

1. known closed forms (semicircle + semicircle, shifts and scalings by point
   masses, Marchenko-Pastur powers -> :class:`WishartProduct`);
2. the algebraic route (Rao-Edelman polynomial method): the curves of the
   operands become R-curves (sum) or S-curves (product), the resultant
   eliminates one operand's transform, the result is turned back into a
   Stieltjes curve ``P(g, z)``; of its irreducible factors the one that
   admits the moment expansion ``g = sum_k m_k z^{-k-1}`` with the exact
   moments is kept (the others are spurious cross-branch factors);
3. numeric subordination (Belinschi-Bercovici) for non-algebraic inputs.
"""
from __future__ import annotations

import sympy as sp

from freeprob.errors import ParameterError
from freeprob.laws._base import SpectralLaw, is_positive_law, register_operation
from freeprob.laws._classical import Identity, MarchenkoPastur, Semicircle
from freeprob.laws._convolved import FreeProduct, FreeSum, WishartProduct, _check_law

__all__ = ["free_add", "free_mul", "is_positive_law", "register_closed_form"]

#: closed forms of the free operations, keyed by ``(operation, type(a), type(b))``
_CLOSED: dict = {}


def register_closed_form(operation: str, type_a: type, type_b: type):
    """Register ``fn(a, b) -> law or None``, a closed form of ``free_add``
    (``operation="add"``) or ``free_mul`` (``"mul"``) for operands of these
    types (subclasses match; the most specific registration is tried first).
    A new law registers its own closed forms; nothing else changes."""
    def deco(fn):
        _CLOSED[(operation, type_a, type_b)] = fn
        return fn
    return deco


def _closed_form(operation, a, b):
    for ta in type(a).__mro__:
        for tb in type(b).__mro__:
            fn = _CLOSED.get((operation, ta, tb))
            if fn is not None:
                out = fn(a, b)
                if out is not None:
                    return out
    return None


@register_operation("add")
def free_add(a, b) -> SpectralLaw:
    """Free additive convolution ``a boxplus b`` (closed forms first).

    >>> import freeprob
    >>> freeprob.free_add(freeprob.Semicircle(1), freeprob.Semicircle(2))
    Semicircle(variance=3, center=0)
    """
    _check_law("a", a)
    _check_law("b", b)
    closed = _closed_form("add", a, b)
    return closed if closed is not None else FreeSum(a, b)


@register_operation("mul")
def free_mul(a, b) -> SpectralLaw:
    """Free multiplicative convolution ``a boxtimes b``; ``a`` and ``b`` must be
    positive laws (supported on ``[0, oo)``, decidably so for symbolic
    parameters), else :class:`~freeprob.errors.ParameterError`.

    >>> import freeprob
    >>> freeprob.free_mul(freeprob.MarchenkoPastur(2), freeprob.MarchenkoPastur(3))
    WishartProduct(ratios=[2, 3], scale=1)
    """
    _check_law("a", a)
    _check_law("b", b)
    for name, law in (("a", a), ("b", b)):
        positive = is_positive_law(law)
        if positive is False:
            raise ParameterError(name, repr(law), "positive laws (support in [0, oo))",
                                 "the free product A^(1/2) Q B Q^T A^(1/2) is built from S-transforms, "
                                 "which need A >= 0 and B >= 0")
        if positive is None:
            raise ParameterError(name, repr(law), "laws whose positivity can be decided",
                                 "give the symbols numbers, or assumptions (positive=True) that make "
                                 "the support lie in [0, oo)")
    closed = _closed_form("mul", a, b)
    return closed if closed is not None else FreeProduct(a, b)


# ------------------------------------------------------------------ closed forms
@register_closed_form("add", Semicircle, Semicircle)
def _add_semicircles(a, b):
    return Semicircle(a.variance + b.variance, a.center + b.center)


@register_closed_form("add", SpectralLaw, Identity)
def _add_point_mass(a, b):
    return a.shifted(b.scale)


@register_closed_form("add", Identity, SpectralLaw)
def _add_to_point_mass(a, b):
    return b.shifted(a.scale)


@register_closed_form("add", MarchenkoPastur, MarchenkoPastur)
def _add_free_poisson(a, b):
    # free Poisson laws with equal jump size q s: rates 1/q add
    if sp.simplify(a.ratio * a.scale - b.ratio * b.scale) != 0:
        return None
    ratio = a.ratio * b.ratio / (a.ratio + b.ratio)
    return MarchenkoPastur(ratio, a.ratio * a.scale / ratio)


@register_closed_form("mul", SpectralLaw, Identity)
def _mul_point_mass(a, b):
    return a.scaled(b.scale)


@register_closed_form("mul", Identity, SpectralLaw)
def _mul_by_point_mass(a, b):
    return b.scaled(a.scale)


def _wishart_product(a, b):
    wa, wb = (WishartProduct([x.ratio], x.scale) if isinstance(x, MarchenkoPastur) else x for x in (a, b))
    return WishartProduct(wa.ratios + wb.ratios, wa.scale * wb.scale)


for _ta in (MarchenkoPastur, WishartProduct):
    for _tb in (MarchenkoPastur, WishartProduct):
        register_closed_form("mul", _ta, _tb)(_wishart_product)
