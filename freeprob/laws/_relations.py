r"""Transform relations used to derive what a law does not know in closed form.

Each function is one relation of free probability, written once:

* moment-cumulant formula ``M(z) = C(z M(z))`` both ways
  (:func:`moments_from_free_cumulants`, :func:`free_cumulants_from_moments`);
* series coefficients of the R-transform, ``R(w) = sum_k kappa_{k+1} w^k``;
* elimination of the Stieltjes curve ``P(g, z) = 0`` into the equation of the
  R-transform (``g = w``, ``z = R + 1/w``, [C8]) and of the Voiculescu
  S-transform (``g = t S``, ``z = (1 + t)/(t S)``, [C9]);
* the S-transform from the R-transform, ``S(t) R(t S(t)) = 1``;
* moments from the curve by the moment expansion ``g = 1/z + m_1/z^2 + ...``
  (the expansion exists on exactly one branch: the physical one).

>>> import sympy as sp
>>> q = sp.Symbol("q", positive=True)
>>> moments_from_free_cumulants([q**k for k in range(4)])
[1, q + 1, q**2 + 3*q + 1, q**3 + 6*q**2 + 6*q + 1]
"""

from __future__ import annotations

import random

import sympy as sp

from freeprob.errors import NoClosedFormError

__all__ = [
    "moments_from_free_cumulants",
    "free_cumulants_from_moments",
    "series_coefficients",
    "r_equation_from_curve",
    "s_equation_from_curve",
    "s_equation_from_r",
    "solve_analytic_branch",
    "moments_from_curve",
    "series_reversion",
    "s_series_from_moments",
    "moments_from_s_series",
]


def _power_coeffs(coeffs, s, order):
    """Coefficients (up to ``order``) of the s-th power of a series."""
    out = [sp.Integer(1)] + [sp.Integer(0)] * order
    for _ in range(s):
        new = [sp.Integer(0)] * (order + 1)
        for i, a in enumerate(out):
            if a == 0:
                continue
            for j in range(order + 1 - i):
                if coeffs[j] != 0:
                    new[i + j] += a * coeffs[j]
        out = [sp.expand(c) for c in new]
    return out


def moments_from_free_cumulants(kappas):
    r"""Moments ``m_1..m_n`` from free cumulants ``kappa_1..kappa_n``.

    Uses ``m_k = sum_{s=1}^k kappa_s [z^{k-s}] M(z)^s`` with
    ``M = 1 + sum m_j z^j`` (the functional form of the sum over non-crossing
    partitions).

    >>> moments_from_free_cumulants([0, 1, 0, 0, 0, 0])   # semicircle
    [0, 1, 0, 2, 0, 5]
    """
    n = len(kappas)
    kap = [sp.sympify(v) for v in kappas]
    m = [sp.Integer(1)] + [sp.Integer(0)] * n
    # powers[s][j] = [z^j] M(z)^s, filled column by column as the moments
    # become known: O(n^3) products in all
    powers = [[sp.Integer(1)] + [sp.Integer(0)] * n] + [[sp.Integer(0)] * (n + 1) for _ in range(n)]
    for s_ in range(1, n + 1):
        powers[s_][0] = sp.Integer(1)
    for k in range(1, n + 1):
        m[k] = sp.expand(sum(kap[s_ - 1] * powers[s_][k - s_] for s_ in range(1, k + 1)))
        # column k of every power, now that m_k is known
        for s_ in range(1, n + 1):
            powers[s_][k] = sp.expand(sum(m[i] * powers[s_ - 1][k - i] for i in range(0, k + 1)))
    return m[1:]


def free_cumulants_from_moments(moments):
    r"""Free cumulants ``kappa_1..kappa_n`` from moments ``m_1..m_n``
    (inverse of :func:`moments_from_free_cumulants`).

    >>> free_cumulants_from_moments([0, 1, 0, 2, 0, 5])
    [0, 1, 0, 0, 0, 0]
    """
    n = len(moments)
    m = [sp.Integer(1)] + [sp.sympify(v) for v in moments]
    kap = []
    for k in range(1, n + 1):
        total = sp.Integer(0)
        for s in range(1, k):
            coeffs = _power_coeffs(m[:k] + [sp.Integer(0)] * (n + 1 - k), s, k - s)
            total += kap[s - 1] * coeffs[k - s]
        kap.append(sp.expand(m[k] - total))
    return kap


def series_coefficients(expr, var, n):
    """First ``n`` Taylor coefficients of ``expr`` at ``var = 0``.

    >>> w = sp.Symbol("w")
    >>> series_coefficients(1/(1 - 2*w), w, 4)
    [1, 2, 4, 8]
    """
    ser = sp.series(expr, var, 0, n).removeO()
    return [sp.expand(ser.coeff(var, k)) for k in range(n)]


def _numerator_in(expr, unknown):
    num = sp.numer(sp.together(expr))
    num = sp.expand(num)
    # drop factors that do not involve the unknown (they never vanish generically)
    _, dep = sp.factor_terms(num).as_independent(unknown, as_Add=False)
    return sp.expand(dep)


def r_equation_from_curve(curve, g, z, r, w):
    """Equation ``Q(r, w) = 0`` of the R-transform from ``P(g, z) = 0`` [C8]:
    ``g = w``, ``z = r + 1/w = (r w + 1)/w``, made polynomial by clearing the
    denominator ``w`` (exact, flint when available)."""
    from freeprob.laws._algebra import substitute_rational

    try:
        params = tuple(sorted(sp.sympify(curve).free_symbols - {g, z}, key=str))
        out = substitute_rational(curve, (g, z) + params, (w * w, r * w + 1), w, (r, w) + params)
    except (sp.PolynomialError, sp.CoercionFailed):
        return _numerator_in(curve.subs({g: w, z: r + 1 / w}, simultaneous=True), r)
    _, dep = sp.factor_terms(out).as_independent(r, as_Add=False)
    return sp.expand(dep)


def s_equation_from_curve(curve, g, z, s, t):
    """Equation of the Voiculescu S-transform from ``P(g, z) = 0`` [C9].

    With ``psi = t``, ``u = chi(t) = t S/(1 + t)``: ``z = 1/u`` and
    ``g = (1 + psi) u = t S``.
    """
    return _numerator_in(curve.subs({g: t * s, z: (1 + t) / (t * s)}, simultaneous=True), s)


def s_equation_from_r(r_expr, w, s, t):
    """Equation ``S R(t S) - 1 = 0`` of the Voiculescu S-transform [C9]."""
    return _numerator_in(s * r_expr.subs(w, t * s) - 1, s)


def solve_analytic_branch(equation, unknown, var, value_at_zero, sample_point=None, what="transform"):
    r"""The root of ``equation`` (polynomial in ``unknown``) analytic at ``var = 0``
    with the given value there.

    Free parameters are decided symbolically when possible, otherwise at
    random admissible points from ``sample_point()`` (a dict of values); the
    chosen root must match at every point tried.
    """
    try:
        poly = sp.Poly(equation, unknown)
    except sp.PolynomialError:
        raise NoClosedFormError(f"the equation of the {what} is not polynomial in it") from None
    if poly.degree() > 2 or poly.degree() < 1:
        # Cardano/Ferrari radicals are neither readable nor branch-safe: the
        # equation itself is the exact representation beyond degree 2.
        raise NoClosedFormError(
            f"the {what} solves a polynomial equation of degree {poly.degree()}; "
            "no explicit root is returned (use the equation or the numeric evaluator)")
    candidates = sp.solve(poly.as_expr(), unknown)
    chosen = []
    for cand in candidates:
        try:
            lim = sp.limit(cand, var, 0)
        except (NotImplementedError, ValueError, sp.PoleError) as exc:
            # a candidate that cannot be tested might be the physical one:
            # the choice is undecided, never made by dropping it
            raise NoClosedFormError(f"cannot take the limit of a candidate {what} at {var} = 0 "
                                    f"({type(exc).__name__}); the branch is undecided") from None
        diff = sp.simplify(lim - value_at_zero)
        if diff == 0:
            chosen.append(cand)
            continue
        if diff.free_symbols and sample_point is not None:
            rng = random.Random(12345)
            ok = True
            for _ in range(3):
                pt = sample_point(rng)
                val = complex(sp.N(diff.subs(pt)))
                if abs(val) > 1e-9:
                    ok = False
                    break
            if ok:
                chosen.append(cand)
    if len(chosen) != 1:
        raise NoClosedFormError(
            f"could not isolate a unique branch of the {what} analytic at 0 "
            f"({len(chosen)} candidates of {len(candidates)})")
    return chosen[0]


def moments_from_curve(curve, g, z, n):
    r"""Moments ``m_1..m_n`` from ``P(g, z) = 0`` by the moment expansion.

    Substitutes ``z = 1/y``, ``g = y (1 + sum_k m_k y^k)`` and solves order by
    order.  Only the physical branch (``g ~ 1/z``) admits this expansion, so
    the moments it returns are those of the law.

    >>> g, z = sp.symbols("g z")
    >>> moments_from_curve(g**2 - z*g + 1, g, z, 6)   # semicircle
    [0, 1, 0, 2, 0, 5]
    """
    y = sp.Dummy("y")
    ms = sp.symbols(f"m1:{n + 1}", cls=sp.Dummy)
    series = y * (1 + sum(ms[k] * y ** (k + 1) for k in range(n)))
    expr = sp.together(curve.subs({g: series, z: 1 / y}, simultaneous=True))
    num = sp.expand(sp.numer(expr))
    poly = sp.Poly(num, y)
    coeffs = list(reversed(poly.all_coeffs()))
    known = {}
    for c in coeffs:
        c = sp.expand(c.xreplace(known))
        if c == 0:
            continue
        unknown = [m for m in ms if c.has(m)]
        if not unknown:
            if sp.simplify(c) != 0:
                raise NoClosedFormError("the curve admits no moment expansion g ~ 1/z")
            continue
        first = unknown[0]
        if len(unknown) > 1 or sp.degree(c, first) != 1:
            raise NoClosedFormError("degenerate moment expansion (multiple root at infinity)")
        sol = sp.solve(c, first)
        known[first] = sp.factor(sol[0])
        if len(known) == n:
            break
    if len(known) < n:
        raise NoClosedFormError("the moment expansion did not determine every moment")
    return [sp.expand(known[m]) for m in ms]


# ---------------------------------------------------------------------------
# Truncated power series (coefficient lists c[0..n]) for the S-transform route
# ---------------------------------------------------------------------------
def _tps_mul(a, b, n):
    out = [sp.Integer(0)] * (n + 1)
    for i, ai in enumerate(a[: n + 1]):
        if ai == 0:
            continue
        for j, bj in enumerate(b[: n + 1 - i]):
            out[i + j] += ai * bj
    return [sp.expand(c) for c in out]


def _tps_compose(f, g, n):
    """``f(g(x))`` for ``g[0] = 0`` (Horner)."""
    out = [sp.Integer(0)] * (n + 1)
    for k in range(min(len(f), n + 1) - 1, -1, -1):
        out = _tps_mul(out, g, n)
        out[0] = sp.expand(out[0] + f[k])
    return out


def series_reversion(f, n):
    r"""Coefficients ``h[0..n]`` of the compositional inverse of ``f``
    (``f[0] = 0``, ``f[1] != 0``): ``f(h(x)) = x + O(x^{n+1})``.

    >>> series_reversion([0, 1, 1], 4)     # x + x^2 -> x - x^2 + 2x^3 - 5x^4
    [0, 1, -1, 2, -5]
    """
    if f[0] != 0 or f[1] == 0:
        raise NoClosedFormError("series reversion needs f(0) = 0 and f'(0) != 0")
    f = list(f) + [sp.Integer(0)] * (n + 1 - len(f))
    h = [sp.Integer(0), 1 / sp.sympify(f[1])] + [sp.Integer(0)] * (n - 1)
    for k in range(2, n + 1):
        c = _tps_compose(f, h, k)[k]
        h[k] = sp.expand(-c / f[1])
    return [sp.factor(c) if c.free_symbols else c for c in h]


def s_series_from_moments(moments, n):
    r"""Coefficients ``s_0..s_{n-1}`` of the Voiculescu S-transform from
    ``m_1..m_n``: ``chi = psi^{-1}``, ``S = (1 + t) chi / t`` [C9]."""
    psi = [sp.Integer(0)] + [sp.sympify(m) for m in moments[:n]]
    chi = series_reversion(psi, n)
    # (1 + t) chi(t) / t
    return [sp.expand(chi[k + 1] + (chi[k] if k >= 1 else 0)) for k in range(n)]


def moments_from_s_series(s, n):
    r"""Moments ``m_1..m_n`` from S-transform coefficients ``s_0..s_{n-1}``:
    ``chi = t S/(1 + t)``, ``psi = chi^{-1}`` [C9].

    >>> q = sp.Symbol("q", positive=True)
    >>> moments_from_s_series(series_coefficients(1/(1 + q*sp.Symbol("t")), sp.Symbol("t"), 3), 3)
    [1, q + 1, q**2 + 3*q + 1]
    """
    s = [sp.sympify(c) for c in s[:n]] + [sp.Integer(0)] * max(0, n - len(s))
    chi = [sp.Integer(0)] * (n + 1)
    for k in range(1, n + 1):  # [t^k] t S(t) (1 - t + t^2 - ...)
        chi[k] = sp.expand(sum(s[j] * (-1) ** (k - 1 - j) for j in range(k)))
    psi = series_reversion(chi, n)
    return [sp.expand(c) for c in psi[1:]]
