r"""Cancellation-free rewriting of closed forms before numeric compilation.

Closed forms of Stieltjes transforms contain sums ``A + r`` where ``r`` is a
product of square roots and ``A`` is rational, e.g. the Marchenko-Pastur
``df1 = (lam + q + 1 - sqrt(lam + a) sqrt(lam + b))/(2q)``; at large ``lam``
the two terms cancel and float64 loses ``log10(lam)`` digits.  The conjugate
identity

.. math:: A + r = \frac{A^2 - r^2}{A - r}

removes the cancellation whenever ``A^2 - r^2`` collapses (it is radical-free
because ``r^2`` is).  The left side is stable where ``A`` and ``r`` have the
same sign, the right side where they differ, so the rewrite is a
``Piecewise`` choosing per point the side whose sum does not cancel.
:func:`rationalize` applies it to the cancelling sum of the numerator and of
the denominator; the rewritten expression is the same
function (the identity is exact), so tests compare both forms.

>>> import sympy as sp
>>> lam = sp.Symbol("lambda", positive=True)
>>> r = rationalize(lam + 1 - sp.sqrt(lam**2 + 2*lam))
>>> r.args[1].expr
1/(sqrt(lambda)*sqrt(lambda + 2) + lambda + 1)
"""

from __future__ import annotations

import sympy as sp

__all__ = ["complement_form", "group_parameters", "rationalize"]


def _is_radical_factor(f):
    return isinstance(f, sp.Pow) and f.exp.is_Rational and not f.exp.is_Integer and f.exp.q == 2


def _radical_term(term):
    """True when ``term`` is (coefficient) x (product of square roots)."""
    factors = sp.Mul.make_args(term)
    return any(_is_radical_factor(f) for f in factors) and all(
        _is_radical_factor(f) or not f.has(sp.Pow) or not any(_is_radical_factor(p) for p in f.atoms(sp.Pow))
        for f in factors)


def _rationalize_add(expr):
    terms = sp.Add.make_args(expr)
    rad = [t for t in terms if _radical_term(t)]
    if len(rad) != 1:
        return expr
    r = rad[0]
    a = sp.Add(*[t for t in terms if t is not r])
    if a == 0 or any(_is_radical_factor(p) for p in a.atoms(sp.Pow)):
        return expr
    r2 = sp.expand(r**2)
    num = sp.expand(a**2 - r2)
    if sp.count_ops(num) >= sp.count_ops(sp.expand(a**2)) + sp.count_ops(r2):
        return expr  # nothing cancelled: keep the original sum
    # Neither form is stable everywhere (A + r cancels where A and r have
    # opposite signs, A - r where they agree): pick per point the form whose
    # sum does not cancel.
    return sp.Piecewise((a + r, sp.Abs(a + r) >= sp.Abs(a - r)), (sp.factor(num) / (a - r), True))


def rationalize(expr: sp.Expr) -> sp.Expr:
    """Apply the conjugate identity to every cancelling ``A + r`` (see module)."""
    expr = sp.sympify(expr)
    if not any(_is_radical_factor(p) for p in expr.atoms(sp.Pow)):
        return expr
    expr = sp.together(expr)
    num, den = sp.fraction(expr)
    return _rationalize_add(sp.expand_mul(num)) / _rationalize_add(sp.expand_mul(den))


def group_parameters(expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    r"""In every sum, factor the terms free of ``var`` into one product, so
    that float evaluation forms the parameter part first.

    ``lam + s - q s`` is evaluated left to right as ``(lam + s) - q s``: at
    ``q = 1`` and ``lam = 1e-12`` the rounding of ``lam + s`` leaves
    ``lam`` with four digits.  As ``lam + s (1 - q)`` the parameter part is
    exactly 0 and ``lam`` keeps all of its digits.

    >>> import sympy as sp
    >>> lam, q, s = sp.symbols("lambda q s")
    >>> group_parameters(lam + s - q*s, lam)
    lambda - s*(q - 1)
    """
    expr = sp.sympify(expr)
    if not expr.args:
        return expr
    args = [group_parameters(a, var) for a in expr.args]
    if isinstance(expr, sp.Add):
        const = [a for a in args if not a.has(var)]
        rest = [a for a in args if a.has(var)]
        if len(const) >= 2 and rest:
            return sp.Add(sp.factor(sp.Add(*const)), *rest)
    return expr.func(*args) if args != list(expr.args) else expr


def complement_form(expr: sp.Expr, pairs, variables=()) -> sp.Expr:
    r"""``expr`` in the complements ``c = 1 - d`` of values ``d`` near 1,
    with the constants that the substitution creates cancelled symbolically.

    A normalized trace ``d = df1`` tends to 1 where a ridge goes to 0 on a
    full-rank law, and a sum ``1 - d/phi`` or ``psi - d`` at ``phi = psi =
    1`` then rounds to 0 in float64 once ``1 - d < 1e-16``.  With ``d = 1 -
    c`` substituted, every sum whose terms are polynomials in the ``c`` (of
    total degree at most 8) is regrouped by monomials ``c^m``; within each
    monomial, the terms that share their part in ``variables`` (``kappa^2``
    say) have their parameter coefficients summed and factored, so that
    ``1 - 1/(1 + e)`` becomes ``e/(1 + e)``, exactly 0 at ``e = 0``.  Terms
    with different variable parts stay apart, as :func:`group_parameters`
    keeps them (combined, ``e kappa + sigma`` would overflow at ``kappa =
    1e300`` where the terms alone do not).

    ``pairs`` lists ``(d, c)`` symbol pairs.  The result is the same
    function of ``c = 1 - d`` (the rewrite is exact); it keeps its digits
    where the ``c`` are small, and the original form where the ``d`` are.

    >>> import sympy as sp
    >>> d, c, e, k = sp.symbols("d c e kappa")
    >>> complement_form((1 - d/(1 + e)) * k, [(d, c)], [k])
    kappa*(c/(e + 1) + e/(e + 1))
    >>> complement_form(k**2*(d**2 - 2*d + 1) + k*(d - 1), [(d, c)], [k])
    c**2*kappa**2 - c*kappa
    """
    cs = [c for _, c in pairs]
    sub = sp.sympify(expr).xreplace({d: 1 - c for d, c in pairs})
    return _complements(sub, tuple(cs), frozenset(variables), {})


def _poly_parts(term, cs):
    """``{monomial: coefficient}`` of ``term`` as a polynomial in ``cs``
    (degree at most 8), the coefficients free of ``cs``; None otherwise."""
    coeff, rest = term.as_independent(*cs, as_Add=False)
    if rest == 1:
        return {(0,) * len(cs): coeff}
    if not rest.is_polynomial(*cs):
        return None
    poly = sp.Poly(rest, *cs)
    if poly.total_degree() > 8:
        return None
    return {m: coeff * a for m, a in poly.as_dict(native=False).items()}


def _complements(expr, cs, variables, memo):
    if not expr.args or not (expr.free_symbols & set(cs)):
        return expr
    if expr in memo:
        return memo[expr]
    args = [_complements(a, cs, variables, memo) for a in expr.args]
    new = expr.func(*args) if args != list(expr.args) else expr
    out = new
    if new.is_Add:
        other, mono = [], {}
        for t in new.args:
            parts = _poly_parts(t, cs)
            if parts is None:
                other.append(t)
                continue
            for m, a in parts.items():
                mono.setdefault(m, []).extend(sp.Add.make_args(a))
        if mono and (len(mono) > 1 or any(len(a) > 1 for a in mono.values())):
            out = sp.Add(*other, *(_grouped(a, variables) * sp.Mul(*(c**p for c, p in zip(cs, m)))
                                   for m, a in mono.items()))
    memo[expr] = out
    return out


def _grouped(terms, variables):
    """The sum of ``terms``, those with the same part in ``variables``
    combined: their parameter coefficients are summed and factored (their
    cancellation happens symbolically)."""
    groups = {}
    for t in terms:
        coeff, part = t.as_independent(*variables, as_Add=False) if variables else (t, sp.S.One)
        groups.setdefault(part, []).append(coeff)
    return sp.Add(*((sp.factor(sp.Add(*a)) if len(a) > 1 else a[0]) * part for part, a in groups.items()))
