r"""The linear program of a loss that is a sum of monomials in the
resources (:mod:`._compute`): with ``X_j ~ C^{a_j}`` each term
``prod_j X_j^{-E_ij}`` decays as ``C^{-E_i . a}``; the compute-optimal
allocation maximises the smallest of these exponents on the cost's simplex
``c . a = 1``.  Solved exactly by enumerating vertices, in rational
arithmetic for numeric exponents and symbolically (one vertex) for exponents
in ``alpha`` and ``r``."""

from __future__ import annotations

import sympy as sp

from freeprob.errors import ParameterError

__all__ = []


def _vertex(lin, powers, a, combo, limits):
    """The allocation and level of one vertex of the program of
    :func:`_balance`: the cost, and ``combo``'s constraints made equalities
    (a term at the level ``ell``, a resource at 0, a limit at 0), solved as
    one linear system in ``(a, ell)`` (exact or symbolic); None when singular."""
    res = list(a)
    ell = sp.Dummy("ell")
    rows = [sum(powers[r] * a[r] for r in res)]
    rhs = [sp.Integer(1)]
    for kind, n in combo:
        rows.append(lin[n] - ell if kind == "term" else (a[n] if kind == "bound" else limits[n]))
        rhs.append(sp.Integer(0))
    unknowns = [*a.values(), ell]
    mat = sp.Matrix([[sp.expand(row).coeff(u) for u in unknowns] for row in rows])
    if sp.simplify(mat.det()) == 0:
        return None
    sol = [sp.simplify(v) for v in mat.LUsolve(sp.Matrix(rhs))]
    return {r: sol[i] for i, r in enumerate(res)}, sol[-1]


def _exact(value):
    """A float as a rational; an exact rational stays itself (``nsimplify``
    may rewrite one with large terms as a product of radicals, which then no
    longer compares equal)."""
    value = sp.sympify(value)
    return value if value.is_Rational else sp.nsimplify(value)


def _zero(x):
    """Exact test for 0 of a ``Fraction`` or a sympy number (an algebraic
    exponent such as ``sqrt(2)``)."""
    return x == 0 if not isinstance(x, sp.Basic) else sp.simplify(x) == 0


def _solve_exact(rows, rhs):
    """Gaussian elimination on exact numbers (``fractions.Fraction``, or
    sympy numbers for algebraic exponents); None when singular."""
    m = [list(row) + [b] for row, b in zip(rows, rhs)]
    n = len(m)
    for col in range(n):
        piv = next((i for i in range(col, n) if not _zero(m[i][col])), None)
        if piv is None:
            return None
        m[col], m[piv] = m[piv], m[col]
        for i in range(n):
            if i != col and not _zero(m[i][col]):
                f = m[i][col] / m[col][col]
                m[i] = [x - f * y for x, y in zip(m[i], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


def _balance(terms, powers, limits=None, *, vertex=False):
    r"""The allocation maximising the loss exponent ``l`` when the loss is a
    sum of monomials ``prod_j X_j^{-E_ij}`` (``terms``: ``{name: {resource:
    E_ij}}``) under ``C = prod_j X_j^{c_j}`` (``powers``): with ``X_j ~
    C^{a_j}`` each term is ``C^{-E_i . a}``, so ``l = max_a min_i E_i . a``
    subject to ``c . a = 1``, ``a >= 0`` and ``limits`` (``{name: {resource:
    coefficient}}``, linear forms kept ``>= 0``: where the terms' own
    derivation holds) -- a linear program, solved exactly by its vertices
    (every choice of as many active constraints as resources, at least one
    of them a term): in ``fractions.Fraction`` for rational exponents, in
    sympy's exact numbers otherwise (``alpha = sqrt(2)``).  Returns
    ``(allocation, l, active term names)`` (and the vertex's constraints with
    ``vertex``)."""
    import itertools
    from fractions import Fraction

    res = list(powers)
    names = list(terms)
    raw = {n: [_exact(terms[n].get(r, 0)) for r in res] for n in names}
    raw_lims = {n: [_exact(f.get(r, 0)) for r in res] for n, f in (limits or {}).items()}
    raw_cost = [_exact(powers[r]) for r in res]
    everything = [*raw_cost, *[v for row in [*raw.values(), *raw_lims.values()] for v in row]]
    if not all(v.is_number and v.is_real for v in everything):
        raise ParameterError("terms", everything, "real numbers (numeric alpha and r)")
    rational = all(v.is_Rational for v in everything)
    conv = (lambda v: Fraction(int(v.p), int(v.q))) if rational else (lambda v: v)
    one, nought = conv(sp.Integer(1)), conv(sp.Integer(0))
    lin = {n: [conv(v) for v in row] for n, row in raw.items()}
    lims = {n: [conv(v) for v in row] for n, row in raw_lims.items()}
    cost = [conv(v) for v in raw_cost]
    cons = [("term", n) for n in names] + [("bound", r) for r in res] + [("limit", n) for n in lims]
    unit = {r: [one if r == q else nought for q in res] for r in res}
    best = None
    for combo in itertools.combinations(cons, len(res)):
        if not any(kind == "term" for kind, _ in combo):
            continue  # the level is bounded only by an active term
        rows = [cost + [nought]] + [lin[n] + [-one] if kind == "term" else
                                    (unit[n] if kind == "bound" else lims[n]) + [nought] for kind, n in combo]
        sol = _solve_exact(rows, [one] + [nought] * len(combo))
        if sol is None:
            continue
        al, level = sol[:-1], sol[-1]
        dot = {n: sum((x * y for x, y in zip(v, al)), nought) for n, v in lin.items()}
        if (any(bool(v < 0) for v in al) or any(bool(d < level) and not _zero(d - level) for d in dot.values())
                or any(bool(sum((x * y for x, y in zip(f, al)), nought) < 0) for f in lims.values())):
            continue
        if best is None or (bool(level > best[1]) and not _zero(level - best[1])):
            best = (al, level, tuple(n for n in names if _zero(dot[n] - level)), combo)
    if best is None:
        raise ParameterError("cost", sp.Mul(*[r ** c for r, c in powers.items()]), "a cost with a bounded optimum")
    al, level, active, combo = best
    back = (lambda v: sp.Rational(v.numerator, v.denominator)) if rational else sp.simplify
    out = ({r: back(v) for r, v in zip(res, al)}, back(level), active)
    return (*out, combo) if vertex else out


def _balance_symbolic(terms, powers, limits, points):
    """:func:`_balance` with exponents symbolic in ``alpha`` and ``r``: the
    optimal vertex is found exactly at each of ``points`` (the exponents at
    rational values); when every point selects the same vertex, or vertices
    with the same solution (a degenerate optimum, where more terms bind than
    resources), that vertex is solved once, symbolically.  None when the
    points select different solutions (the binding terms change inside the
    regime)."""
    res = list(powers)
    a = {r: sp.Dummy(str(r)) for r in res}
    lin = {n: sum(e * a[r] for r, e in terms[n].items() if r in a) for n in terms}
    lims = {n: sum(e * a[r] for r, e in f.items() if r in a) for n, f in limits.items()}
    combos = []
    for p in points:
        at = {k: sp.nsimplify(v, rational=True) for k, v in p.items()}
        num = {n: {r: e.subs(at) for r, e in f.items()} for n, f in terms.items()}
        nlim = {n: {r: e.subs(at) for r, e in f.items()} for n, f in limits.items()}
        combo = _balance(num, powers, nlim, vertex=True)[3]
        if combo not in combos:
            combos.append(combo)
    sols = [_vertex(lin, powers, a, combo, lims) for combo in combos]
    if any(sol is None for sol in sols):
        raise ParameterError("regime", points[0], "a regime where the optimal vertex is a regular system",
                             "the binding constraints are dependent for symbolic alpha and r")
    al, level = sols[0]
    for other, lev in sols[1:]:
        if sp.simplify(lev - level) != 0 or any(sp.simplify(other[r] - al[r]) != 0 for r in res):
            return None  # the binding terms change inside the regime
    sol = {a[r]: v for r, v in al.items()}
    active = tuple(n for n in terms if sp.simplify(lin[n].subs(sol) - level) == 0)
    return al, level, active
