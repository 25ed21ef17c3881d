r"""Exact multivariate polynomial algebra for the polynomial method.

Resultants and factorizations of the bivariate curves ``P(g, z)`` (with any
symbolic parameters as extra variables) run on python-flint's
``fmpz_mpoly`` when it is installed (the ``fast`` extra, ~100x faster than
sympy for the resultants of free convolution) and on sympy otherwise; both
backends return the same polynomials (tests compare them).  Coefficients are
made integral first: floats become the exact rationals they represent.

>>> import sympy as sp
>>> x, y = sp.symbols("x y")
>>> sp.factor(resultant(x**2 - y, x - 2, x, (x, y)))
4 - y
"""

from __future__ import annotations

import importlib.util

import sympy as sp

__all__ = ["resultant", "factor_list", "backend", "integral"]


def backend(preferred: str | None = None) -> str:
    """``"flint"`` when python-flint is importable (and not refused), else ``"sympy"``."""
    if preferred == "sympy":
        return "sympy"
    if importlib.util.find_spec("flint") is None:
        if preferred == "flint":
            from freeprob.errors import ParameterError

            raise ParameterError("backend", "flint", "installed backends",
                                 "python-flint is not installed: pip install 'freeprob[fast]'")
        return "sympy"
    return "flint"


def integral(expr, gens):
    """``expr`` as a primitive sympy ``Poly`` over ZZ in ``gens`` (floats read
    exactly, denominators cleared)."""
    expr = sp.sympify(expr)
    floats = expr.atoms(sp.Float)
    if floats:
        expr = expr.xreplace({f: sp.Rational(float(f)) if f._prec <= 53 else sp.nsimplify(f, rational=True)
                              for f in floats})
    poly = sp.Poly(sp.expand(expr), *gens)
    if poly.domain.is_QQ or poly.domain.is_ZZ:
        _, poly = poly.clear_denoms(convert=True)
        return poly.primitive()[1]
    return None  # algebraic or symbolic coefficients outside gens: sympy only


def _to_flint(poly, ctx):
    import flint

    return ctx.from_dict({tuple(m): flint.fmpz(int(c)) for m, c in poly.terms()})


def _from_flint(fp, gens):
    terms = {tuple(int(e) for e in m): sp.Integer(int(c)) for m, c in fp.to_dict().items()}
    if not terms:
        return sp.Integer(0)
    return sp.Poly.from_dict(terms, *gens).as_expr()


def _ctx(gens):
    import flint

    return flint.fmpz_mpoly_ctx.get(tuple(str(g) for g in gens), "lex")


def resultant(p, q, var, gens, *, prefer: str | None = None):
    """Resultant of ``p`` and ``q`` with respect to ``var`` (an element of ``gens``)."""
    gens = tuple(gens)
    use = backend(prefer)
    if use == "flint":
        pp, qq = integral(p, gens), integral(q, gens)
        if pp is not None and qq is not None:
            ctx = _ctx(gens)
            res = _to_flint(pp, ctx).resultant(_to_flint(qq, ctx), str(var))
            return _from_flint(res, gens)
    return sp.expand(sp.resultant(sp.expand(p), sp.expand(q), var))


def factor_list(p, gens, *, prefer: str | None = None):
    """Irreducible factors (over QQ) of ``p`` that involve some generator,
    without multiplicity, as sympy expressions."""
    gens = tuple(gens)
    use = backend(prefer)
    if use == "flint":
        pp = integral(p, gens)
        if pp is not None:
            ctx = _ctx(gens)
            _, facs = _to_flint(pp, ctx).factor()
            out = [_from_flint(f, gens) for f, _ in facs]
            return [f for f in out if any(f.has(g) for g in gens)]
    _, facs = sp.factor_list(sp.expand(p), *gens)
    return [f for f, _ in facs if any(f.has(g) for g in gens)]


def substitute_rational(p, gens, num, den, gens_out, *, prefer=None):
    """``den^deg P(gens[0] -> num[0]/den, gens[1] -> num[1]/den, ...)`` as a
    polynomial in ``gens_out`` (extra generators of both: parameters kept),
    where ``deg`` is the total degree of ``P`` in the substituted variables.
    One ``compose`` call on flint polynomials, or sympy ``Poly`` arithmetic."""
    k = len(num)
    poly = integral(p, gens)
    extra = tuple(gens[k:])
    if poly is not None and backend(prefer) == "flint":
        terms = {tuple(int(e) for e in m): int(c) for m, c in poly.terms()}
        deg = max(sum(m[:k]) for m in terms)
        hom = {m[:k] + (deg - sum(m[:k]),) + m[k:]: c for m, c in terms.items()}
        ch = _ctx(tuple(f"_v{i}" for i in range(k + 1)) + tuple(str(e) for e in extra))
        co = _ctx(gens_out)
        subs = [_to_flint(integral(e, gens_out), co) for e in list(num) + [den]]
        gen_map = {str(g): g for g in co.gens()}
        total = ch.from_dict(hom).compose(*subs, *[gen_map[str(e)] for e in extra], ctx=co)
        return _from_flint(total, gens_out)
    # sympy: the same homogenized substitution on Polys
    sp_poly = sp.Poly(p, *gens)
    deg = max(sum(m[:k]) for m in sp_poly.monoms())
    pn = [sp.Poly(e, *gens_out) for e in num]
    pd = sp.Poly(den, *gens_out)
    total = sp.Poly(0, *gens_out)
    for m, c in sp_poly.terms():
        term = sp.Poly(c * sp.Mul(*[e**x for e, x in zip(extra, m[k:])]), *gens_out)
        for base, x in zip(pn, m[:k]):
            term = term * base**x
        total += term * pd ** (deg - sum(m[:k]))
    return total.as_expr()


def eliminate(qa, qb, elim, main, other, num, den, other_sub, params, out, *, prefer=None):
    r"""Factors of the curve obtained by eliminating ``elim`` between ``qa`` and
    ``qb`` and substituting back.

    ``res(main, other) = Res_elim(qa, qb)`` has degree ``d`` in ``main``; the
    substitution ``main = num/den``, ``other = other_sub`` is made polynomial
    by homogenizing: ``sum_ij c_ij num^i den^(d-i) other_sub^j``.  Returns the
    irreducible factors that involve ``out[0]``, each as a dict
    ``{exponents in (out + params): coefficient}``.  Everything runs on flint polynomials when available.
    """
    params = tuple(sorted(params, key=str))
    gens_in = (elim, main, other) + params
    gens_out = tuple(out) + params
    use = backend(prefer)
    if use == "flint":
        pa, pb = integral(qa, gens_in), integral(qb, gens_in)
        pn, pd, po = (integral(e, gens_out) for e in (num, den, other_sub))
        if None not in (pa, pb, pn, pd, po):
            ci, co = _ctx(gens_in), _ctx(gens_out)
            res = _to_flint(pa, ci).resultant(_to_flint(pb, ci), str(elim))
            # homogenize in `main` (its degree d) and substitute in one C call:
            # H(main, hom, other, params) = hom^d res(main/hom, other, params)
            terms = res.to_dict()
            d = max(m[1] for m in terms)
            hom = {(m[1], d - m[1], m[2]) + tuple(m[3:]): c for m, c in terms.items()}
            ch = _ctx(("_m", "_h", "_o") + tuple(str(p) for p in params))
            fn, fd, fo = (_to_flint(e, co) for e in (pn, pd, po))
            total = ch.from_dict(hom).compose(fn, fd, fo, *co.gens()[len(out):], ctx=co)
            _, facs = total.factor()
            dicts = [{tuple(int(e) for e in m): sp.Integer(int(c)) for m, c in f.to_dict().items()} for f, _ in facs]
            return [d for d in dicts if any(m[0] > 0 for m in d)]
    # sympy: the same algorithm on sympy Polys
    res = sp.Poly(sp.resultant(sp.expand(qa), sp.expand(qb), elim), main, other, *params)
    d = res.degree(main)
    gens_p = gens_out
    pn, pd, po = (sp.Poly(e, *gens_p) for e in (num, den, other_sub))
    total = sp.Poly(0, *gens_p)
    pow_n, pow_d, pow_o = {0: sp.Poly(1, *gens_p)}, {0: sp.Poly(1, *gens_p)}, {0: sp.Poly(1, *gens_p)}
    for k in range(1, d + 1):
        pow_n[k] = pow_n[k - 1] * pn
        pow_d[k] = pow_d[k - 1] * pd
    for m, c in res.terms():
        i, j, rest = m[0], m[1], m[2:]
        while j not in pow_o:
            pow_o[len(pow_o)] = pow_o[len(pow_o) - 1] * po
        mono = sp.Poly(c * sp.Mul(*[p**e for p, e in zip(params, rest)]), *gens_p)
        total += mono * pow_n[i] * pow_d[d - i] * pow_o[j]
    _, facs = sp.factor_list(total.as_expr(), *gens_p)
    dicts = [dict(sp.Poly(f, *gens_p).terms()) for f, _ in facs]
    return [d for d in dicts if any(m[0] > 0 for m in d)]
