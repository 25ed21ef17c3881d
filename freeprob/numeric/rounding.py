r"""Running error bounds: how much rounding a compiled formula can carry,
derived from the formula itself.

A quadrature certifies a value to the rounding floor of its terms.  For a
kernel such as the divided difference

.. math:: K = \frac{\kappa\kappa'}{z z'} \, \frac{D_w(\kappa') - D_w(\kappa)}{\kappa - \kappa'}

that floor is not ``u |K|``: the inputs ``D_w`` and ``kappa`` carry their
own relative error ``u`` each, and the differences amplify it by
``(|D_w| + |D_w'|)/|D_w' - D_w|`` and ``(|kappa| + |kappa'|)/|kappa -
kappa'|``.  :func:`relative_rounding_bound` returns a sympy expression
``R`` with

.. math:: |\mathrm{fl}(K) - K| \lesssim u\, R\, |K|

to first order in the unit ``u``: Higham's running error analysis
(*Accuracy and Stability of Numerical Algorithms*, 2nd ed., section 3.3)
carried out on the expression tree, with each rounding propagated by the
formula's own derivative:

* a sum ``s = a_1 + ... + a_n`` rounds its partial sums:
  ``sum_{k >= 2} |a_1 + ... + a_k|/|s|`` roundings of ``s``;
* a product of ``n`` factors rounds ``n - 1`` times (a sign ``-1`` is
  exact), a power ``b^n`` ``n - 1`` times for an integer ``n > 0``, ``|n|``
  times for ``n < 0`` and once otherwise, as does any function of one
  argument;
* a symbol named in ``inexact`` carries one rounding (a value known to
  relative resolution ``u``, e.g. a solved resolvent); other symbols and
  numbers are exact.

Each rounding of a value ``v`` reaches the result through its relative
sensitivity ``|v d(log K)/dv|``, taken on the whole expression with ``v``
as one shared node: a rounding of ``1/(kappa - kappa')`` that multiplies
both terms of a difference cancels with it, as it does in the computer (a
bound that propagated the operands' bounds separately would count it
``1/|kappa - kappa'|`` times too often).

Constant factors of complex arithmetic (a complex product rounds to a few
``u``) are not counted: the caller's floor carries them (the contour
routes use ``64 eps``).  ``R`` is compiled with the formula
(:func:`~freeprob.numeric.compile.compile_expr`), so no formula is written
twice.  ``R`` is infinite where a sum inside the formula is exactly 0; a
caller must refuse that rather than use an infinite floor.

>>> import sympy as sp
>>> a, b = sp.symbols("a b")
>>> rel = relative_rounding_bound(a - b, inexact=(a, b))
>>> rel
Abs(a/(a - b)) + Abs(b/(a - b)) + 1

At ``a = 1``, ``b = 0.999`` the difference carries ``2000`` times its own
rounding:

>>> rel.subs({a: 1, b: sp.Rational(999, 1000)})
2000
"""

from __future__ import annotations

import sympy as sp

from freeprob.errors import ParameterError
from freeprob.numeric.cache import cached

__all__ = ["relative_rounding_bound"]


def relative_rounding_bound(expr, inexact=()) -> sp.Expr:
    """A first-order bound ``R`` on the relative rounding error of
    evaluating ``expr`` as written, in units of the relative resolution ``u``
    of the ``inexact`` inputs (see the module).

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> relative_rounding_bound(x**2 * y, inexact=(x,))
    4
    >>> relative_rounding_bound(sp.exp(x), inexact=(x,))
    Abs(x) + 1

    Parameters
    ----------
    expr : sympy expression (sums, products, powers and functions of one
        argument)
    inexact : the symbols whose values carry a relative error of ``u``; all
        other symbols and the integers are exact
    """
    return _bound(sp.sympify(expr), tuple(inexact))


@cached(maxsize=64)
def _bound(expr, inexact):
    """:func:`relative_rounding_bound`, cached on the expression (a model's
    law is built per evaluation; its kernels are the same few)."""
    terms = [_sensitivity(expr, s) for s in inexact if expr.has(s)]
    for node in _operations(expr):
        weight = _roundings(node)
        if weight != 0:
            terms.append(weight * _sensitivity(expr, node))
    return sp.Add(*terms)


def _operations(expr):
    """The distinct operations of ``expr``'s tree (each computed once, as
    the compiled code's common subexpressions are)."""
    seen = []
    for node in sp.postorder_traversal(expr):
        if (node.is_Add or node.is_Mul or node.is_Pow or isinstance(node, sp.Function)) and node not in seen:
            seen.append(node)
    return seen


def _roundings(node):
    """The roundings of one operation, relative to its value (see the
    module)."""
    if node.is_Add:
        terms = node.args
        return sp.Add(*[sp.Abs(sp.Add(*terms[:k])) for k in range(2, len(terms) + 1)]) / sp.Abs(node)
    if node.is_Mul:
        factors = [f for f in node.args if f != -1]          # a sign is exact
        return len(factors) - 1
    if node.is_Pow:
        n = node.exp
        if n.free_symbols:
            raise ParameterError("expr", node, "powers with numeric exponents")
        return n - 1 if n.is_Integer and n > 0 else abs(n) if n.is_Integer else 1
    if len(node.args) != 1:
        raise ParameterError("expr", type(node).__name__, "sums, products, powers and functions of one argument")
    return 1


def _sensitivity(expr, part):
    """``|part d(log expr)/d(part)|``: how a relative error of ``part`` (a
    symbol or a shared subexpression) reaches ``expr``, with every path
    through the tree and their cancellations."""
    d = sp.Dummy("v")
    inner = expr.xreplace({part: d})
    ratio = (d * sp.diff(inner, d) / inner).xreplace({d: part})
    # in lowest terms and factored: the divided differences stay differences
    return sp.Abs(sp.factor(sp.cancel(ratio)))
