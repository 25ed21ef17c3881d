r"""Far from the support: a law's transforms from its moment series [C6], pitfall [P19].

Outside the disc ``|z| <= R`` that holds the support, the Stieltjes transform
is its Laurent series ``g(z) = sum_{k >= 0} m_k z^{-k-1}`` (``m_0 = 1``), and
``df1``, ``df2`` follow from it by [C6] as power series in ``w = 1/lam`` whose
constant terms cancel symbolically.  There the closed forms and the numeric
routes fail for a reason that has nothing to do with the law:

* ``df1 = 1 + lam g(-lam)`` cancels to ``m_1/lam``, so the ``g`` route keeps
  ``log10(eps lam/m_1)`` fewer digits (``df1 = 0`` at ``lam = 1e20``);
* ``df2 = df1 + lam df1'`` multiplies an underflowed ``df1' ~ lam^{-2}``
  (``df2 = df1`` at ``lam = 1e300``, so ``df1 - df2 = 0``);
* subordination and the curve continuation stall at ``|z| ~ 1e160``.

The truncated series at order :data:`ORDER` has no cancellation, and its
remainder is bounded by ``|m_k| <= R^k``: with ``rho = R/|z|`` every
coefficient is at most ``k`` in size (``df2`` carries ``k - 1``), so the tail is
below ``(K + 1) rho^{K+1}/(1 - rho)^2`` (times ``|w|`` for ``g``).  A point
takes the series only where that bound is below ``2^-56`` of the value
(for ``df``, or below ``2^-55``: the other routes form ``1 + lam g(-lam)``
and carry an absolute error of ``eps``): the choice is certified per point,
never a guess.  Atomic laws do not need it
(their absorbed means have no cancellation) and do not use it.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr

#: the order of the truncated moment series
ORDER = 16
#: ``R/|z|`` above which the series is not even tried
RHO_MAX = 1 / 16
#: the certified remainder, relative to the value
_REL = 2.0**-56
#: ... or absolute, for ``df`` (a quarter of the rounding error of the other routes)
_ABS = 2.0**-55

_W = sp.Symbol("w")
_M = sp.symbols(f"m1:{ORDER + 1}")


@cached(maxsize=8)
def series_form(kind: str):
    """The compiled truncated series of ``kind`` (``"g"``, ``"df1"``,
    ``"df2"`` or the complements ``"cdf1"``, ``"cdf2"``; ``"D"`` and ``"dD"``:
    ``df1`` and its slope at a complex ridge) in ``w`` (``1/z`` for ``g``,
    ``1/lam`` for ``df``) and ``m_1..m_K``, derived from the conventions [C6]
    and put in Horner form."""
    z, lam = C.z, C.lam
    g = 1 / z + sum(m / z ** (k + 2) for k, m in enumerate(_M))
    df1 = C.df1_from_stieltjes(g, z, lam)
    df2 = C.df2_from_df1(df1, lam)
    expr = {"g": g.subs(z, 1 / _W),
            "df1": df1.subs(lam, 1 / _W), "df2": df2.subs(lam, 1 / _W),
            "cdf1": (1 - df1).subs(lam, 1 / _W), "cdf2": (1 - df2).subs(lam, 1 / _W),
            "D": df1.subs(lam, 1 / _W), "dD": sp.diff(df1, lam).subs(lam, 1 / _W)}[kind]
    poly = sp.Poly(sp.expand(expr), _W)        # the constant of df cancels here
    return compile_expr(sp.horner(poly.as_expr(), wrt=_W), (_W,) + _M,
                        dtype=complex if kind in ("g", "D", "dD") else float)


@cached(maxsize=256)
def _radius(law):
    """A bound ``R`` on the spectral radius (None if the law has none)."""
    from freeprob.errors import FreeprobError

    try:
        radius = float(law._numeric_radius())
    except (FreeprobError, TypeError, ValueError):
        return None
    return radius if np.isfinite(radius) else None


@cached(maxsize=256)
def _moments(law, radius):
    """``m_1..m_K`` as floats (from the law's float twin: float time, not
    exact algebraic time), or None where the moments have no route; checked
    against ``R`` (``|m_k| <= R^k``), so a support bound that is too small
    is never used."""
    from freeprob.errors import FreeprobError
    from freeprob.laws._exact import float_twin

    try:
        ms = [float(sp.N(m)) for m in float_twin(law).moments(ORDER)]
    except (FreeprobError, TypeError, ValueError):
        return None
    if not all(np.isfinite(ms)) or any(abs(m) > radius**k * (1 + 1e-9) for k, m in enumerate(ms, start=1)):
        return None
    return tuple(ms)


def far_values(law, kind: str, points):
    """``(mask, values)``: the points of ``points`` (``z`` for ``g``, ``lam >
    0`` for ``df1``/``df2``, a complex ridge for ``D``/``dD``) where the moment
    series is certified, and the
    series' values (meaningful only where the mask is True).  The mask is
    all False for atomic and kernel laws, for points near the support, and
    for laws without exact moments.

    >>> import freeprob, numpy as np
    >>> mask, vals = far_values(freeprob.MarchenkoPastur(0.5), "df2", np.array([1.0, 1e150]))
    >>> mask.tolist(), float(vals[1])                  # m_2/lam^2, m_2 = 1 + q
    ([False, True], 1.5e-300)
    """
    pts = np.asarray(points)
    none = np.zeros(pts.shape, dtype=bool)
    if law.finite_spectrum is not None or pts.size == 0:
        return none, None
    mag = np.abs(pts)
    radius = _radius(law)
    if radius is None:
        return none, None
    # a ratio beyond the float range (a point at 1e-300 of a law at 1e12)
    # is +inf, which is what it means here: not far
    with np.errstate(divide="ignore", over="ignore"):
        rho = np.where(mag > 0, radius / np.where(mag > 0, mag, 1.0), np.inf)
    near = rho > RHO_MAX
    ms = None if near.all() else _moments(law, radius)   # moments only once a point is far
    if ms is None:
        return none, None
    safe = np.where(near, radius * 2.0**10 if radius > 0 else 1.0, pts)   # far stand-ins, masked below
    w = 1.0 / safe
    vals = series_form(kind)(w, *ms)
    r = np.where(near, RHO_MAX, rho)
    bound = (ORDER + 1) * r ** (ORDER + 1) / (1 - r) ** 2
    if kind in ("g", "dD"):
        bound = bound * np.abs(w)          # (dD: the coefficients j m_j carry one more power of w)
    # g, dD: a relative bound (the other routes give g to an ulp); df: also an
    # absolute one, since there the other routes form 1 + lam g(-lam) and
    # lose eps in absolute terms (their error is ~eps/df relative)
    floor = 0.0 if kind in ("g", "dD") else _ABS
    ok = ~near & (bound <= np.maximum(_REL * np.abs(vals), floor))
    return ok, vals


def df_and_complements(law, lam):
    """``(df1, df2, 1 - df1, 1 - df2)`` at ``lam > 0`` (float array) [C6] for
    a normalized law: the complements by their own route where ``df1 >
    1/2`` (where ``1 - df1`` would lose digits), ``1 - df`` elsewhere.  The
    default of the hook ``_df_and_complements``, which a law computing all
    four in one pass overrides."""
    lam = np.asarray(lam, dtype=float)
    d1, d2 = np.asarray(law.df1_numeric(lam), dtype=float), np.asarray(law.df2_numeric(lam), dtype=float)
    c1, c2 = 1 - d1, 1 - d2
    near = d1 > 0.5
    if near.any():
        c1[near], c2[near] = law._complements_numeric(lam[near])
    return d1, d2, c1, c2
