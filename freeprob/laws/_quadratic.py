r"""Closed forms from an algebraic curve of degree <= 2 in ``g``.

A law known through its curve ``A(z) g^2 + B(z) g + C(z) = 0`` (a free sum of
two-atom laws, for instance) has the explicit Stieltjes transform

.. math::
    g(z) = \frac{-B(z) - s\,\sqrt{D(z)}}{2A(z)},\qquad
    \sqrt{D(z)} = \sqrt{c}\prod_i (z - r_i)^{m_i/2},\quad D = B^2 - 4AC,

written with one square root per simple real root ``r_i`` of the
discriminant (double roots leave the radical as polynomial factors).  With
principal square roots, a product over an even number of real roots has its
cuts exactly on the intervals where ``D < 0`` (the cuts of neighbouring
factors cancel on the gaps), so the expression is analytic off the support:
the physical branch [C4] everywhere once the sign ``s`` is fixed by
``g ~ 1/z`` at infinity.  The choice is **certified** numerically against
the law's own continuation or subordination evaluator at points of the upper
half plane and of the real axis off the support; a curve whose discriminant
has non-real roots, or that fails the certificate, has no closed form here
(:class:`~freeprob.errors.NoClosedFormError` upstream).

The density is ``rho(x) = sqrt(-D(x))/(2 pi |A(x)|)`` where ``D(x) < 0``.

>>> import freeprob, sympy as sp
>>> arcsine = freeprob.free_add(freeprob.Discrete([-1, 1]), freeprob.Discrete([-1, 1]))
>>> arcsine.stieltjes(sp.Symbol("z"))
sqrt(z - 2)*sqrt(z + 2)/(z**2 - 4)
>>> arcsine.density(sp.Symbol("x")).subs(sp.Symbol("x"), 1)      # 1/(pi sqrt(4 - x^2))
sqrt(3)/(3*pi)
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob.errors import (
    BranchError,
    ConvergenceError,
    NoClosedFormError,
    NumericalError,
    SupportError,
)
from freeprob.laws._exact import rational_twin
from freeprob.numeric.cache import cached

__all__ = ["quadratic_stieltjes", "quadratic_density"]

_G, _Z = sp.Dummy("g"), sp.Dummy("z")


@cached(maxsize=64)
def _branch(law):
    """``(A, B, D, sqrt D, s)`` in the variable ``_Z``, or None."""
    if law.free_symbols:
        return None
    try:
        curve = sp.Poly(rational_twin(law).algebraic_equation(_G, _Z), _G)
    except NoClosedFormError:
        return None
    if curve.degree() != 2:
        return None
    a, b, c = (sp.expand(e) for e in curve.all_coeffs())
    disc = sp.Poly(sp.expand(b**2 - 4 * a * c), _Z)
    if disc.degree() < 1:
        return None
    roots = sp.roots(disc, _Z)
    if sum(roots.values()) != disc.degree() or not all(r.is_real for r in roots):
        return None
    lead = disc.LC()
    if not lead.is_positive:
        return None
    radical = sp.sqrt(lead)
    for r, mult in sorted(roots.items(), key=lambda t: float(t[0])):
        radical *= (_Z - r) ** (mult // 2)
        if mult % 2:
            radical *= sp.sqrt(_Z - r)
    for s in (1, -1):
        g = sp.simplify((-b - s * radical) / (2 * a))
        if _certified(law, g):
            return a, b, disc.as_expr(), radical, g
    return None


def _certified(law, g):
    """``g`` equals the law's numeric physical branch at test points."""
    from freeprob.numeric.compile import compile_expr

    radius = max(law._numeric_radius(), 1.0)
    pts = radius * np.array([3j, 1 + 0.5j, -1 + 0.1j, 0.3 + 2j, 1e3 + 1e3j, -0.5 + 1e-3j])
    left = -3 * radius - 1.0
    pts = np.concatenate([pts, [left, left * 10]])
    try:
        ours = compile_expr(g, (_Z,), dtype=complex)(pts.astype(complex))
        # the independent route: the root of the curve followed from infinity (mpmath)
        ref = np.asarray(law.stieltjes_numeric(pts, method="continuation"), dtype=complex)
    except (BranchError, ConvergenceError, NoClosedFormError, NumericalError, SupportError):
        return False
    return bool(np.all(np.abs(ours - ref) <= 1e-9 * np.abs(ref) + 1e-12))


def quadratic_stieltjes(law, z):
    """The certified closed form of ``g(z)`` from a degree-2 curve, or None."""
    out = _branch(law)
    return None if out is None else out[4].subs(_Z, z)


def quadratic_density(law, x):
    """``sqrt(-D)/(2 pi |A|)`` on ``D < 0`` as a Piecewise, or None."""
    out = _branch(law)
    if out is None:
        return None
    a, _, disc, _, _ = out
    body = sp.sqrt(-disc) / (2 * sp.pi * sp.Abs(a))
    return sp.Piecewise((body.subs(_Z, x), disc.subs(_Z, x) < 0), (0, True))
