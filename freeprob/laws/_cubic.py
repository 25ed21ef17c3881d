r"""Closed forms from an algebraic curve of degree 3 in ``g``, on the real axis.

A law known through a cubic curve ``a g^3 + b g^2 + c g + d = 0`` (``a, ...,
d`` polynomials in ``z``; a free product of two Marchenko-Pastur laws, a
Marchenko-Pastur law plus a semicircle, a three-atom law plus a two-atom
law) has Cardano's roots.  With ``g = t - b/(3a)`` the depressed cubic is
``t^3 + p t + q = 0`` and its discriminant is ``Delta = q^2/4 + p^3/27``:

* ``Delta > 0``: one real root ``t = u + v`` with the **real** cube roots
  ``u = cbrt(-q/2 + sqrt(Delta))``, ``v = cbrt(-q/2 - sqrt(Delta))``, and a
  conjugate pair ``-(u + v)/2 +- i sqrt(3)(u - v)/2``;
* ``Delta < 0``: three real roots ``t_k = 2 sqrt(-p/3) cos(theta/3 - 2 pi
  k/3)``, ``theta = acos((3q/(2p)) sqrt(-3/p))``, ``k = 0, 1, 2``.

**Why the real axis only.**  At complex ``z`` every choice of principal
branches in Cardano's formula has cuts that cross the upper half plane: on a
grid over ``C^+`` none of the three principal root expressions equals the
physical branch everywhere, for any of seven catalogue cubics (between 0 %
and 99.3 % of the points).  A closed form valid at complex ``z`` is therefore
not offered (:class:`~freeprob.errors.NoClosedFormError`; the numeric
evaluators are certified there).  On the real axis there is no branch to
choose: the radicals above are real.

**The branch on the real axis** [C4].  The line is cut at the real zeros of
the discriminant's numerator and of ``a`` (exact algebraic numbers).  On
each open piece the number of real roots is constant and the roots do not
collide, so the physical value keeps its form: off the support (``g`` real)
it is the single real root or the ``k``-th trigonometric root; on the support
it is the boundary value ``g(x + i0) = Re - i sqrt(3)|u - v|/2`` of the pair
(``Im g(x + i0) <= 0``), and the density is ``sqrt(3)|u - v|/(2 pi)``.  The
form of each piece is chosen at its midpoint and **certified** at five
interior points against the law's independent continuation route (the root
of the curve followed from infinity in mpmath); a piece that fails leaves
the law without a closed form.

The forms are for symbolic work: ``stieltjes(x)`` at a real ``x`` and
``density(x)``, their LaTeX, and mpmath evaluation (``freeprob check``
integrates the density).  The numeric evaluators do not compile them: in
float64 the difference ``u - v`` and the shift ``-b/(3a)`` lose digits next
to the zeros of ``Delta`` and of ``a`` (measured on a grid of 400 points,
relative to the peak density: 4e-10 for a three-atom plus two-atom sum, 2e-11
for a two-atom law plus a semicircle), where the certified routes keep
1e-13.  The discriminant and the depressed coefficients are kept factored,
so that ``(z - r)^k`` keeps its digits next to a zero ``r`` of ``a`` in any
precision.  At the rational zeros of ``a`` where ``g`` is finite, the curve
drops to degree 2 and its exact root is a piece of its own.

``df1`` and ``df2`` stay without a closed form (the models evaluate them
through the certified routes);
``conventions.df1_from_stieltjes(law.stieltjes(x), x, lam)`` writes ``df1``
from the real-axis form.

>>> import freeprob, sympy as sp
>>> law = freeprob.free_mul(freeprob.MarchenkoPastur(sp.Rational(1, 2)), freeprob.MarchenkoPastur(sp.Rational(1, 3)))
>>> x = sp.Symbol("x", real=True)
>>> g, rho = law.stieltjes(x), law.density(x)
>>> round(float(g.subs(x, -1)), 12) == round(float(law.stieltjes_numeric(-1.0).real), 12)
True
>>> round(float(rho.subs(x, 1)), 12) == round(float(law.density_numeric(1.0)), 12)
True
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from freeprob.conventions import as_expr
from freeprob.errors import (
    BranchError,
    ConvergenceError,
    NoClosedFormError,
    NumericalError,
    SupportError,
)
from freeprob.laws._exact import rational_twin
from freeprob.laws._quadratic import _G as _QG
from freeprob.laws._quadratic import _Z as _QZ
from freeprob.numeric.cache import cached

__all__ = ["RealCubeRoot", "cubic_stieltjes", "cubic_density", "has_cubic_forms"]

_Z = sp.Dummy("z", real=True)


def cubic_curve(law):
    """The law's Stieltjes curve as a polynomial in ``g`` (the quadratic
    route's symbols, so the elimination is shared and cached once), or None
    when it is not a cubic without free symbols."""
    if law.free_symbols or law.finite_spectrum is not None:
        return None
    try:
        curve = sp.Poly(rational_twin(law).algebraic_equation(_QG, _QZ), _QG)
    except NoClosedFormError:
        return None
    return curve if curve.degree() == 3 else None


class RealCubeRoot(sp.Function):
    r"""The real cube root ``sign(y) |y|^{1/3}`` of a real ``y`` (``numpy.cbrt``;
    typeset ``\sqrt[3]{y}``).

    >>> RealCubeRoot(-8)
    -2
    """

    nargs = 1

    @classmethod
    def eval(cls, y):
        if y.is_number and y.is_real:
            return sp.real_root(y, 3)
        if y.is_nonnegative:
            return sp.cbrt(y)
        if y.is_nonpositive:
            return -sp.cbrt(-y)
        return None

    def fdiff(self, argindex=1):
        return 1 / (3 * self**2)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        y = self.args[0]._eval_evalf(prec)
        if y is None or not y.is_real:
            return None
        return sp.sign(y) * sp.Abs(y) ** sp.Rational(1, 3)

    def _latex(self, printer):
        return r"\sqrt[3]{%s}" % printer._print(self.args[0])

    def _numpycode(self, printer):
        return f"{printer._module_format('numpy.cbrt')}({printer._print(self.args[0])})"

    def _mpmathcode(self, printer):
        y = printer._print(self.args[0])
        return f"({printer._module_format('mpmath.sign')}({y})*{printer._module_format('mpmath.cbrt')}(abs({y})))"


def _cardano(a, b, c, d):
    """``(shift, p, q, Delta, u, v, trig)`` of the depressed cubic (see the module)."""
    shift = -b / (3 * a)
    # factored: next to a zero of ``a`` the expanded denominators would
    # cancel to 0 in any finite precision; (z - r)^k keeps every digit
    p = sp.factor((3 * a * c - b**2) / (3 * a**2))
    q = sp.factor((2 * b**3 - 9 * a * b * c + 27 * a**2 * d) / (27 * a**3))
    delta = sp.factor(q**2 / 4 + p**3 / 27)
    u = RealCubeRoot(-q / 2 + sp.sqrt(delta))
    v = RealCubeRoot(-q / 2 - sp.sqrt(delta))
    theta = sp.acos(3 * q / (2 * p) * sp.sqrt(-3 / p))
    trig = [2 * sp.sqrt(-p / 3) * sp.cos(theta / 3 - 2 * sp.pi * k / 3) for k in range(3)]
    return shift, p, q, delta, u, v, trig


def _breaks(a, delta):
    """Sorted exact real zeros of the discriminant's numerator and of ``a``."""
    num, _ = sp.fraction(sp.together(delta))
    pts = set()
    for poly in (sp.Poly(num, _Z), sp.Poly(a, _Z)):
        if poly.degree() > 0:
            pts |= set(poly.real_roots())
    return sorted(pts, key=lambda r: float(r))


def _samples(lo, hi):
    """Five interior points of ``(lo, hi)`` (either end may be infinite)."""
    if lo is None and hi is None:
        return np.array([-100.0, -3.0, 0.5, 3.0, 100.0])
    if lo is None:
        h = float(hi)
        return h - max(1.0, abs(h)) * np.array([0.05, 0.3, 1.0, 10.0, 1e3])
    if hi is None:
        lv = float(lo)
        return lv + max(1.0, abs(lv)) * np.array([0.05, 0.3, 1.0, 10.0, 1e3])
    lv, h = float(lo), float(hi)
    return lv + (h - lv) * np.array([0.1, 0.3, 0.5, 0.7, 0.9])


@cached(maxsize=64)
def _pieces(law):
    """``(pieces, points)``: ``pieces = [(hi, g_piece, density_piece), ...]``
    in ``_Z`` (``hi`` None for the last piece) and ``points = [(b, g(b),
    density(b)), ...]`` at the rational zeros of ``a`` where ``g`` is finite
    (there Cardano's forms divide by zero, while the curve drops to degree 2
    and its root is exact), all certified; None when the law has no cubic
    curve or a piece fails its certificate."""
    curve = cubic_curve(law)
    if curve is None:
        return None
    curve = sp.Poly(curve.as_expr().xreplace({_QZ: _Z}), _QG)
    a, b, c, d = (sp.expand(e) for e in curve.all_coeffs())
    shift, _, _, delta, u, v, trig = _cardano(a, b, c, d)
    pair_re = shift - (u + v) / 2
    half_gap = sp.sqrt(3) * sp.Abs(u - v) / 2
    candidates = {"real": shift + u + v, "pair": pair_re - sp.I * half_gap}
    candidates.update({f"trig{k}": shift + t for k, t in enumerate(trig)})
    density = {"pair": half_gap / sp.pi}
    breaks = _breaks(a, delta)
    ends = [None, *breaks, None]
    out = []
    for lo, hi in zip(ends[:-1], ends[1:]):
        xs = _samples(lo, hi)
        try:
            ref = np.asarray(law.stieltjes_numeric(xs + 1e-13j, method="continuation"), dtype=complex)
        except (BranchError, ConvergenceError, NoClosedFormError, NumericalError, SupportError):
            return None
        mid = sp.nsimplify(xs[2], rational=True)
        names = ["real", "pair"] if sp.sign(delta.subs(_Z, mid)) > 0 else ["trig0", "trig1", "trig2"]
        chosen = None
        for name in names:
            # in 40 digits: next to a zero of ``a`` the shift -b/(3a) and the
            # root cancel, which float64 would not resolve
            f = sp.lambdify(_Z, candidates[name], modules="mpmath")
            with mpmath.workdps(40):
                try:
                    vals = np.array([complex(f(mpmath.mpf(float(x)))) for x in xs])
                except (ValueError, ZeroDivisionError):
                    continue
            if np.all(np.abs(vals - ref) <= 1e-8 * np.abs(ref) + 1e-10):
                chosen = name
                break
        if chosen is None:
            return None
        out.append((hi, candidates[chosen], density.get(chosen, sp.Integer(0))))
    points = []
    for root in sorted(set(sp.Poly(a, _Z).real_roots()), key=float) if sp.Poly(a, _Z).degree() > 0 else []:
        if not root.is_Rational:
            continue
        ref = complex(law.stieltjes_numeric(float(root) + 1e-13j, method="continuation"))
        lower = sp.Poly(curve.as_expr().subs(_Z, root), _QG)
        for cand in sp.roots(lower, _QG, multiple=True):
            val = complex(cand.evalf(30))
            if abs(val - ref) <= 1e-8 * abs(ref) + 1e-10 or abs(val.conjugate() - ref) <= 1e-8 * abs(ref) + 1e-10:
                # the boundary value from above: Im g(b + i0) <= 0 [C4]
                gb = sp.re(cand) - sp.I * sp.Abs(sp.im(cand))
                points.append((root, gb, sp.Abs(sp.im(cand)) / sp.pi))
                break
    return out, points


def has_cubic_forms(expr) -> bool:
    """Whether ``expr`` holds the real-axis Cardano forms of this module
    (which the numeric evaluators do not compile)."""
    return isinstance(expr, sp.Basic) and expr.has(RealCubeRoot)


def _piecewise(forms, x, which):
    pieces, points = forms
    at = [((gb if which == "g" else rb), sp.Eq(x, b)) for b, gb, rb in points]
    args, last = [], None
    for hi, g, rho in pieces:
        e = (g if which == "g" else rho).subs(_Z, x)
        if hi is None:
            last = e
        else:
            args.append((e, x < hi))
    merged = []
    for e, cond in args:  # neighbouring pieces with the same form merge
        if merged and merged[-1][0] == e:
            merged[-1] = (e, cond)
        else:
            merged.append((e, cond))
    if merged and merged[-1][0] == last:
        merged.pop()
    return sp.Piecewise(*at, *merged, (last, True))


def cubic_stieltjes(law, z):
    """The certified real-axis closed form of ``g`` at a real ``z`` (``g(x +
    i0)`` on the support), or None."""
    z = as_expr(z, "z")
    if z.is_real is not True:
        return None
    pieces = _pieces(law)
    return None if pieces is None else _piecewise(pieces, z, "g")


def cubic_density(law, x):
    """The density ``sqrt(3)|u - v|/(2 pi)`` on the support, 0 elsewhere, as a Piecewise, or None."""
    pieces = _pieces(law)
    if pieces is None:
        return None
    x = as_expr(x, "x")
    xr = x if x.is_real else sp.Dummy("x", real=True)
    out = _piecewise(pieces, xr, "density")
    return out if xr is x else out.subs(xr, x)
