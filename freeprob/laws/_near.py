r"""Next to an atom at zero: ``df1``, ``df2`` of an algebraic law from the
curve of its remainder [C6], pitfall [P19].

A law with mass ``w0 > 0`` at ``0`` has ``g(z) = w0/z + s(z)``, where
``s(z) = int_{x != 0} dmu(x)/(z - x)`` is the (unnormalized) Stieltjes
transform of the rest.  Every route through ``g`` (subordination, the curve
in ``g``, the mpmath continuation) works with ``|g| ~ w0/lam`` at ``z = -lam``:
below ``lam ~ 1e-30`` it stalls, overflows in ``g'``, or cancels
``1 + lam g`` to nothing.  ``s`` has no pole: with ``e`` the distance from
``0`` to the rest of the support (the other atoms and the support intervals,
from the discriminant of the curve) it is analytic on ``|z| < e``; when the
rest reaches 0 (``e = 0``, a hard edge, ``s ~ lam^(-1/2)``) it has a branch
point there but still no pole.  For a law on ``[0, R]``

.. math:: -\frac{1 - w_0}{\lambda + e} \le s(-\lambda) \le -\frac{1 - w_0}{\lambda + R}.

Substituting ``g = w0/z + s`` into the curve ``P(g, z) = 0`` and clearing the
powers of ``z`` gives a curve ``Q(s, z) = 0``.  A point ``lam <= e/16`` (``lam
<= R/16`` when ``e = 0``) takes
the root of ``Q(., -lam)`` in that interval when it is the only root there
(complex roots within the root-finding slack counted): the physical ``s`` is
a root in the interval, so the choice is certified, never a guess.  The
degrees of freedom then follow from [C6] with ``g = w0/z + s``, derived
symbolically, with no cancellation (``1 - df1 = w0 - lam s``).

A law without an atom at ``0`` whose support reaches ``0`` (a hard edge,
``g(-lam) ~ -lam^(-1/2)`` or ``-lam^(-3/4)`` for a product of three square
Wisharts) takes the same route with ``w0 = 0``, ``s = g``, ``e = 0``: ``g``
has no pole, but the ``g`` route follows the root from infinity in mpmath,
38 s at ``lam = 1e-40`` and 240 s at ``1e-300``, where the certified root
takes milliseconds.  Other points, laws whose support stays away from ``0``
without an atom there (``g`` analytic at ``0``) and laws with support below
``0`` keep the ``g`` route.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.laws._curve import POLISH_DEGREE, scaled_roots, scaled_roots_mp
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr

__all__ = ["near_values", "near_values_mp"]

#: ``lam/e`` above which the remainder curve is not tried
RHO_NEAR = 1 / 16
#: curves of higher degree are left to the ``g`` route (ill-conditioned roots in float64)
MAX_DEGREE = POLISH_DEGREE

_S, _ZDS, _Z, _W0, _RK = sp.symbols("s zds z w0 r")


@cached(maxsize=16)
def _df_from_s(kind: str, backend: str = "numpy"):
    """``df1``, ``df2`` or a complement in terms of ``s = s(z)`` and ``zds =
    z s'(z)`` at ``z = -lam`` (``z s'`` stays finite where ``s'`` alone
    overflows: ``s ~ lam^(-1/2)`` next to a hard edge at 0), derived from [C6] with ``g = w0/z + s(z)``; the rank
    ``r = 1 - w0`` and ``w0`` are arguments in their own right, each rounded
    once from its exact value."""
    lam = C.lam
    sf = sp.Function("s")
    g = _W0 / C.z + sf(C.z)
    df1 = C.df1_from_stieltjes(g, C.z, lam)
    df2 = C.df2_from_df1(df1, lam)
    expr = {"df1": df1, "df2": df2, "cdf1": 1 - df1, "cdf2": 1 - df2}[kind]
    # s'(-lam) appears as Subs(Derivative(s(xi), xi), xi, -lam)
    expr = expr.replace(lambda e: isinstance(e, sp.Subs) and e.expr.has(sf), lambda e: _ZDS / C.z)
    expr = sp.expand(expr.subs(sf(-lam), _S).subs(lam, -_Z))
    if kind.startswith("df"):
        expr = sp.expand(expr.subs(_W0, 1 - _RK))
    if expr.has(sf) or expr.free_symbols - {_S, _ZDS, _Z, _W0, _RK}:
        raise AssertionError(f"the {kind} form in s did not reduce: {expr}")
    if backend == "mpmath":
        return compile_expr(expr, (_S, _ZDS, _Z, _W0, _RK), backend="mpmath")
    return compile_expr(expr, (_S, _ZDS, _Z, _W0, _RK), dtype=float)


@cached(maxsize=64)
def _remainder_curve(law):
    """``(Q, w0, 1 - w0, e, R, w0 exact)`` for a law on ``[0, oo)`` with a numeric curve of
    degree at most :data:`MAX_DEGREE`, an atom ``w0`` at ``0`` and the rest of
    its support in ``[e, R]`` (``e = 0`` at a hard edge), or no atom at ``0``
    and a hard edge there (``w0 = 0``, ``Q = P``); else None."""
    from freeprob.laws._curve import Curve

    cv = law.curve()
    if cv is None or cv.deg > MAX_DEGREE:
        return None
    w0, points = 0.0, []
    for loc, mass in law.atoms():
        if loc == 0:
            w0 = float(mass)
        else:
            points.append(float(loc))
    for a, b in law._ac_intervals():
        points += [a, b]
    # no atom at 0: only a hard edge there (g ~ lam^(-1/2), lam^(-3/4): the g route's continuation
    # takes minutes below lam ~ 1e-40); g itself is then the remainder, e = 0
    if not points or min(points) < 0 or (w0 <= 0 and min(points) > 0):
        return None
    # the edges are isolated to 1e-12 relative; e = 0: the rest reaches 0 (a hard edge)
    e = min(points) * (1 - 1e-9)
    top = max(points) * (1 + 1e-9)
    # the mass as the exact rational of the curve (a float weight becomes the
    # rational of its shortest decimal form, as in rational_twin)
    w0_exact = sp.nsimplify(next((m for loc, m in law.atoms() if loc == 0), 0))
    expr = sp.expand(cv.expr.subs(cv.g, w0_exact / cv.z + _S) * cv.z**cv.deg)
    poly = sp.Poly(expr, cv.z)
    low = min(m[0] for m in poly.monoms())
    expr = sp.expand(sp.cancel(expr / cv.z**low)).subs(cv.z, _Z)
    if sp.Poly(expr, _S).degree() < 1:
        return None
    return Curve(expr, _S, _Z), w0, float(1 - w0_exact), e, top, w0_exact


def _reach(e, top):
    """The largest ``lam`` that takes the remainder root: ``e/16`` below a gap
    ``(0, e)``, ``R/16`` when the rest reaches 0 (``e = 0``; ``s`` then has a
    branch point at 0 but no pole, and its roots stay apart)."""
    return RHO_NEAR * (e if e > 0 else top)


def near_values(law, kind: str, lam):
    """``(mask, values)``: the points ``lam > 0`` where the remainder root is
    certified (see the module), and ``kind`` (``"df1"``, ``"df2"``,
    ``"cdf1"``, ``"cdf2"``) there; the mask is all False for laws the route
    does not apply to.

    >>> import freeprob, numpy as np
    >>> law = freeprob.WishartProduct([2, 3])              # mass 2/3 at 0
    >>> mask, vals = near_values(law, "df1", np.array([1.0, 1e-250]))
    >>> mask.tolist(), float(vals[1])                      # the rank 1/3
    ([False, True], 0.3333333333333333)
    """
    lam = np.asarray(lam, dtype=float)
    none = np.zeros(lam.shape, dtype=bool)
    if getattr(law, "curve", None) is None or lam.size == 0 or law.free_symbols:
        return none, None
    data = _remainder_curve(law)
    if data is None:
        return none, None
    qc, w0, rank, e, top, _ = data
    flat = lam.ravel()
    sel = np.flatnonzero((flat > 0) & (flat <= _reach(e, top)))
    mask, vals = np.zeros(flat.shape, dtype=bool), np.zeros(flat.shape)
    if sel.size:
        k = flat[sel]
        lo, hi = -(1 - w0) / (k + e), -(1 - w0) / (k + top)
        cs, ex = qc.coeffs_scaled_at(-k.astype(complex))     # c_k = cs 2^ex: (deg + 1, npts)
        start = np.full(sel.size, np.nan)
        for i in range(sel.size):
            # roots of Q(., -lam) spread over hundreds of decades (|s| ~ 1/lam
            # for the spurious ones, lam^(-1/2) or lam^(-2/3) next to a hard
            # edge): each group in its own scale; Newton polishes on Q itself
            roots = scaled_roots(cs[::-1, i], ex[::-1, i]) if np.any(cs[:, i] != 0) else np.array([])
            dist = np.abs(roots - np.clip(roots.real, lo[i], hi[i]))   # distance to the interval
            inside = np.flatnonzero(dist <= 1e-9 * (np.abs(roots) + abs(hi[i])))   # root-finding slack
            if inside.size == 1:
                start[i] = roots[inside[0]].real
        ok = np.flatnonzero(np.isfinite(start))
        if ok.size:
            zs = -k[ok].astype(complex)
            sv, conv = qc.newton_scaled(start[ok].astype(complex), zs)
            sl = 1e-9 * (np.abs(sv) + np.abs(hi[ok]))
            good = conv & (sv.real >= lo[ok] - sl) & (sv.real <= hi[ok] + sl) & (np.abs(sv.imag) <= sl)
            zds = qc.derivative(sv, zs, times_z=True)
            out = np.asarray(_df_from_s(kind)(sv.real, zds.real, zs.real, w0, rank))
            mask[sel[ok[good]]] = True
            vals[sel[ok[good]]] = out[good]
    return mask.reshape(lam.shape), vals.reshape(lam.shape)


def near_values_mp(law, kind: str, lam, dps: int):
    """``kind`` at the points ``lam`` with ``dps`` digits (mpmath), by the same
    certified root as :func:`near_values`, isolated by ``mpmath.polyroots`` on
    the exact coefficients of the remainder's curve; None where the route
    does not apply or a point is not certified.

    >>> import freeprob
    >>> import mpmath
    >>> v = near_values_mp(freeprob.WishartProduct([2, 3]), "df1", [1e-40], 50)
    >>> mpmath.nstr(v[0], 30)                              # 1/3 - lam m_(-1)
    '0.333333333333333333333333333333'
    """
    import mpmath

    if getattr(law, "curve", None) is None or law.free_symbols:
        return None
    data = _remainder_curve(law)
    if data is None:
        return None
    qc, _, _, e, top, w0_exact = data
    poly = sp.Poly(qc.expr, _S)
    coeffs = [compile_expr(c, (_Z,), backend="mpmath") for c in poly.all_coeffs()]
    dq_ds = compile_expr(sp.diff(qc.expr, _S), (_S, _Z), backend="mpmath")
    dq_dz = compile_expr(sp.diff(qc.expr, _Z), (_S, _Z), backend="mpmath")
    form = _df_from_s(kind, "mpmath")
    out = []
    with mpmath.workdps(dps + 10):
        w0 = mpmath.mpf(w0_exact.p) / w0_exact.q
        rank = 1 - w0
        for lv in lam:
            k = mpmath.mpf(lv)
            if not 0 < k <= _reach(e, top):
                return None
            z = -k
            lo, hi = -rank / (k + mpmath.mpf(e)), -rank / (k + mpmath.mpf(top))
            cs = [c(z, dps=dps + 10)[()] for c in coeffs]
            roots = scaled_roots_mp(cs)
            tol = mpmath.mpf(10) ** (-(dps // 2))
            inside = [r for r in roots if abs(mpmath.im(r)) <= tol * (abs(r) + abs(hi))
                      and lo - tol * abs(lo) <= mpmath.re(r) <= hi + tol * (abs(r) + abs(hi))]
            if len(inside) != 1:
                return None
            sv = mpmath.re(inside[0])
            ds = -dq_dz(sv, z, dps=dps + 10)[()] / dq_ds(sv, z, dps=dps + 10)[()]
            out.append(form(sv, z * mpmath.re(ds), z, w0, rank, dps=dps)[()])
    return out
