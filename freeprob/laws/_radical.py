r"""Closed forms from an algebraic curve of degree 3 or 4 in ``g``, on the real axis.

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

A quartic curve (a product of three Marchenko-Pastur laws, a three-atom law
plus a semicircle) has Ferrari's roots (:class:`_Quartic`): the largest real
root ``m`` of the resolvent cubic, in the real forms above, splits the
depressed quartic into two real quadratics, each with a real pair or a
conjugate pair of roots.

**Why the real axis only.**  At complex ``z`` every choice of principal
branches in Cardano's formula has cuts that cross the upper half plane (and
Ferrari's builds on Cardano's): on a
grid over ``C^+`` none of the three principal root expressions equals the
physical branch everywhere, for any of seven catalogue cubics (between 0 %
and 99.3 % of the points).  A closed form valid at complex ``z`` is therefore
not offered (:class:`~freeprob.errors.NoClosedFormError`; the numeric
evaluators are certified there).  On the real axis there is no branch to
choose: the radicals above are real.

**The branch on the real axis** [C4].  The line is cut at the real zeros of
the discriminant's numerator and of ``a`` (exact algebraic numbers; for a
quartic also at the zeros of ``q``, where the resolvent's root may reach 0).  On
each open piece the number of real roots is constant and the roots do not
collide, so the physical value keeps its form: off the support (``g`` real)
it is one of the real roots; on the support it is the boundary value
``g(x + i0) = Re - i |Im|`` of a conjugate pair (``Im g(x + i0) <= 0``;
for a cubic ``|Im| = sqrt(3)|u - v|/2``), and the density is ``|Im|/pi``.  The
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
drops a degree and its exact root is a piece of its own; at a rational zero
of a quartic's ``q`` the same.  First use costs the certification: one to
ten seconds for the laws above, a minute for a four-atom plus two-atom sum
(25 pieces); then cached.

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

__all__ = ["RealCubeRoot", "radical_stieltjes", "radical_density", "has_radical_forms", "radical_curve"]

_Z = sp.Dummy("z", real=True)


def radical_curve(law):
    """The law's Stieltjes curve as a polynomial in ``g`` (the quadratic
    route's symbols, so the elimination is shared and cached once), or None
    when it is not of degree 3 or 4 or has free symbols."""
    if law.free_symbols or law.finite_spectrum is not None:
        return None
    try:
        curve = sp.Poly(rational_twin(law).algebraic_equation(_QG, _QZ), _QG)
    except NoClosedFormError:
        return None
    return curve if curve.degree() in (3, 4) else None


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


def _depressed_cubic(a, b, c, d):
    """``(shift, p, q, Delta)``: ``a g^3 + b g^2 + c g + d = 0`` is ``t^3 + p t +
    q = 0`` at ``g = t + shift``, ``Delta = q^2/4 + p^3/27``."""
    shift = -b / (3 * a)
    # factored: next to a zero of ``a`` the expanded denominators would
    # cancel to 0 in any finite precision; (z - r)^k keeps every digit
    p = sp.factor((3 * a * c - b**2) / (3 * a**2))
    q = sp.factor((2 * b**3 - 9 * a * b * c + 27 * a**2 * d) / (27 * a**3))
    return shift, p, q, sp.factor(q**2 / 4 + p**3 / 27)


def _cubic_roots(p, q, delta, three: bool):
    """The real roots of ``t^3 + p t + q``: ``{"real": u + v, "pair": (Re, |Im|)}``
    where ``Delta > 0`` (``three`` False), else the trigonometric
    ``{"trig0": t_0, "trig1": t_1, "trig2": t_2}`` (``t_0`` the largest)."""
    if not three:
        u = RealCubeRoot(-q / 2 + sp.sqrt(delta))
        v = RealCubeRoot(-q / 2 - sp.sqrt(delta))
        return {"real": u + v, "pair": (-(u + v) / 2, sp.sqrt(3) * sp.Abs(u - v) / 2)}
    theta = sp.acos(3 * q / (2 * p) * sp.sqrt(-3 / p))
    return {f"trig{k}": 2 * sp.sqrt(-p / 3) * sp.cos(theta / 3 - 2 * sp.pi * k / 3) for k in range(3)}


def _positive(expr, at) -> bool:
    """The sign of a real expression at the rational point ``at``, in 40 digits."""
    with mpmath.workdps(40):
        val = sp.lambdify(_Z, expr, modules="mpmath")(mpmath.mpf(at.p) / at.q)
    return bool(mpmath.re(val) > 0)


class _Cubic:
    """Cardano on the real axis (see the module)."""

    def __init__(self, coeffs):
        a = coeffs[0]
        self.shift, self.p, self.q, self.delta = _depressed_cubic(*coeffs)
        self.breaks = _zeros(sp.fraction(sp.together(self.delta))[0], a)

    def candidates(self, mid):
        """``{name: (g(x + i0), density)}`` for the piece holding ``mid``."""
        roots = _cubic_roots(self.p, self.q, self.delta, three=not _positive(self.delta, mid))
        return _named(self.shift, roots)


class _Quartic:
    r"""Ferrari on the real axis: ``g = y - b/(4a)``, ``y^4 + p y^2 + q y + r =
    0``; with ``m`` the largest real root of the resolvent ``m^3 + p m^2 +
    (p^2/4 - r) m - q^2/8`` (positive where ``q != 0``) the quartic factors
    into ``y^2 - s sqrt(2m) y + p/2 + m + s q/(2 sqrt(2m))``, ``s = +-1``,
    with roots ``(s sqrt(2m) +- sqrt(D_s))/2``, ``D_s = -2p - 2m - 2 s
    q/sqrt(2m)``: a real pair where ``D_s > 0``, a conjugate pair where
    ``D_s < 0``.  Next to a zero of ``q`` the root ``m`` may tend to 0 with
    it, and ``q/sqrt(2m)`` is 0/0; the product of the resolvent's roots,
    ``m m_2 m_3 = q^2/8``, gives it without the division: ``q/sqrt(2m) = 2
    sign(q) sqrt(m_2 m_3)``, ``m_2 m_3 = p^2/4 - r + m p + m^2`` (deflation),
    with ``sign(q)`` fixed on each piece (the zeros of ``q`` are break
    points)."""

    def __init__(self, coeffs):
        a, b, c, d, e = coeffs
        self.shift = -b / (4 * a)
        self.p = sp.factor((8 * a * c - 3 * b**2) / (8 * a**2))
        self.q = sp.factor((b**3 - 4 * a * b * c + 8 * a**2 * d) / (8 * a**3))
        self.r = sp.factor((-3 * b**4 + 256 * a**3 * e - 64 * a**2 * b * d + 16 * a * b**2 * c) / (256 * a**4))
        one = sp.Integer(1)
        self.res_shift, self.res_p, self.res_q, self.res_delta = _depressed_cubic(
            one, self.p, sp.factor(self.p**2 / 4 - self.r), sp.factor(-self.q**2 / 8))
        # the resolvent's discriminant vanishes where the quartic's does; the
        # zeros of q are where the largest resolvent root may reach 0
        self.breaks = _zeros(sp.fraction(sp.together(self.res_delta))[0] * sp.fraction(sp.together(self.q))[0], a)

    def candidates(self, mid):
        three = not _positive(self.res_delta, mid)
        roots = _cubic_roots(self.res_p, self.res_q, self.res_delta, three)
        m = self.res_shift + (roots["trig0"] if three else roots["real"])
        w = sp.sqrt(2 * m)
        sigma = 1 if _positive(self.q, mid) else -1
        cross = 2 * sigma * sp.sqrt(self.p**2 / 4 - self.r + m * self.p + m**2)  # q/sqrt(2m)
        out = {}
        for s, tag in ((1, "plus"), (-1, "minus")):
            disc = -2 * self.p - 2 * m - 2 * s * cross
            if _positive(disc, mid):
                out[f"{tag}+"] = (self.shift + (s * w + sp.sqrt(disc)) / 2, sp.Integer(0))
                out[f"{tag}-"] = (self.shift + (s * w - sp.sqrt(disc)) / 2, sp.Integer(0))
            else:
                half = sp.sqrt(-disc) / 2
                out[f"{tag} pair"] = (self.shift + s * w / 2 - sp.I * half, half / sp.pi)
        return out


def _named(shift, roots):
    out = {}
    for name, t in roots.items():
        if name == "pair":
            re_, im_ = t
            out[name] = (shift + re_ - sp.I * im_, im_ / sp.pi)  # Im g(x + i0) <= 0 [C4]
        else:
            out[name] = (shift + t, sp.Integer(0))
    return out


def _zeros(*polys):
    """Sorted exact real zeros of the polynomials in ``_Z`` (no repeats)."""
    pts = set()
    for poly in polys:
        poly = sp.Poly(poly, _Z)
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
    density(b)), ...]`` at the rational break points where ``g`` is finite
    (the radicals may be 0/0 there, at a zero of ``a`` or of ``q``, while
    the root of the curve at ``z = b`` is exact), all certified; None when
    the law has no curve of degree 3 or 4 or a piece fails its certificate."""
    curve = radical_curve(law)
    if curve is None:
        return None
    curve = sp.Poly(curve.as_expr().xreplace({_QZ: _Z}), _QG)
    coeffs = [sp.expand(e) for e in curve.all_coeffs()]
    forms = (_Cubic if curve.degree() == 3 else _Quartic)(coeffs)
    ends = [None, *forms.breaks, None]
    out = []
    for lo, hi in zip(ends[:-1], ends[1:]):
        xs = _samples(lo, hi)
        try:
            ref = np.asarray(law.stieltjes_numeric(xs + 1e-13j, method="continuation"), dtype=complex)
        except (BranchError, ConvergenceError, NoClosedFormError, NumericalError, SupportError):
            return None
        chosen = None
        for g, rho in forms.candidates(sp.nsimplify(xs[2], rational=True)).values():
            # in 40 digits: next to a zero of ``a`` the shift and the root
            # cancel, which float64 would not resolve
            f = sp.lambdify(_Z, g, modules="mpmath")
            with mpmath.workdps(40):
                try:
                    vals = np.array([complex(f(mpmath.mpf(float(x)))) for x in xs])
                except (ValueError, ZeroDivisionError):
                    continue
            if np.all(np.abs(vals - ref) <= 1e-8 * np.abs(ref) + 1e-10):
                chosen = (g, rho)
                break
        if chosen is None:
            return None
        out.append((hi, *chosen))
    points = []
    for root in forms.breaks:
        if not root.is_Rational:
            continue
        ref = complex(law.stieltjes_numeric(float(root) + 1e-13j, method="continuation"))
        at = sp.Poly(curve.as_expr().subs(_Z, root), _QG)
        cands = sp.roots(at, _QG, multiple=True)
        for cand in cands if len(cands) == at.degree() else at.all_roots():
            val = complex(cand.evalf(30))
            if abs(val - ref) <= 1e-8 * abs(ref) + 1e-10 or abs(val.conjugate() - ref) <= 1e-8 * abs(ref) + 1e-10:
                # the boundary value from above: Im g(b + i0) <= 0 [C4]
                gb = sp.re(cand) - sp.I * sp.Abs(sp.im(cand))
                points.append((root, gb, sp.Abs(sp.im(cand)) / sp.pi))
                break
    return out, points


def has_radical_forms(expr) -> bool:
    """Whether ``expr`` holds the real-axis forms of this module (which the
    numeric evaluators do not compile): a real cube root, or the arccosine
    of the trigonometric roots (no other closed form of the package has one)."""
    return isinstance(expr, sp.Basic) and (expr.has(RealCubeRoot) or expr.has(sp.acos))


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


def radical_stieltjes(law, z):
    """The certified real-axis closed form of ``g`` at a real ``z`` (``g(x +
    i0)`` on the support), or None."""
    z = as_expr(z, "z")
    if z.is_real is not True:
        return None
    pieces = _pieces(law)
    return None if pieces is None else _piecewise(pieces, z, "g")


def radical_density(law, x):
    """The density ``sqrt(3)|u - v|/(2 pi)`` on the support, 0 elsewhere, as a Piecewise, or None."""
    pieces = _pieces(law)
    if pieces is None:
        return None
    x = as_expr(x, "x")
    xr = x if x.is_real else sp.Dummy("x", real=True)
    out = _piecewise(pieces, xr, "density")
    return out if xr is x else out.subs(xr, x)
