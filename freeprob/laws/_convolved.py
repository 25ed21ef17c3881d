r"""The convolved laws: free sums, free products and products of Wishart laws.

:class:`FreeSum` and :class:`FreeProduct` are built by
:func:`~freeprob.laws.free_add` and :func:`~freeprob.laws.free_mul` when no
closed form applies.  They know their R- or S-transform exactly, their
Stieltjes curve through the Rao-Edelman polynomial method (resultants of the
operands' curves, the factor that admits the exact moment expansion kept), and
their numerics through the curve or through Belinschi-Bercovici
subordination (:mod:`freeprob.laws._subordination`).
"""

from __future__ import annotations

from typing import final

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import (
    BranchError,
    ConvergenceError,
    NoClosedFormError,
    ParameterError,
)
from freeprob.laws import _subordination as sub
from freeprob.laws._algebra import eliminate
from freeprob.laws._base import SpectralLaw, is_positive_law, operation, substitution
from freeprob.laws._classical import Identity, MarchenkoPastur
from freeprob.laws._curve import POLISH_DEGREE, Curve, nearest_root, pole_roots
from freeprob.laws._exact import atoms_by_theorem, rational_twin
from freeprob.laws._factor import choose_factor
from freeprob.laws._product_s import at_rank
from freeprob.laws._relations import (
    moments_from_free_cumulants,
    moments_from_s_series,
    r_equation_from_curve,
    s_equation_from_curve,
    s_series_from_moments,
)
from freeprob.numeric.cache import cached
from freeprob.parameters import Parameter, declare, real_array

__all__ = ["FreeSum", "FreeProduct", "WishartProduct"]


def _check_law(name, law):
    if not isinstance(law, SpectralLaw):
        raise ParameterError(name, repr(law), "a freeprob spectral law")
    law._check_operand()


class _Convolved(SpectralLaw):
    """Numerics shared by laws known through a curve or subordination."""

    def _operands(self):
        return ()

    @property
    def free_symbols(self):
        out = set()
        for v in self.params().values():
            out |= v.free_symbols
        return out

    def subs(self, *args, **kwargs):
        mapping = substitution(self, args, kwargs)

        def sub(v):
            if isinstance(v, SpectralLaw):
                part = {s: val for s, val in mapping.items() if s in v.free_symbols}
                return v.subs(part) if part else v
            return v.subs(mapping) if isinstance(v, sp.Basic) else v

        return self._replace(**{k: sub(v) for k, v in self.params().items()})

    # curve ---------------------------------------------------------------
    def curve(self) -> Curve | None:
        """The numeric :class:`Curve` (numeric parameters), or None."""
        return _numeric_curve(self)

    def curve_degree(self):
        """Degrees ``(deg_g, deg_z)`` of the Stieltjes curve."""
        if isinstance(self, FreeSum) and self._r_closed(C.w) is None or isinstance(self, FreeProduct):
            cached_terms = (_sum_curve_cached if isinstance(self, FreeSum) else _product_curve_cached)(rational_twin(self))[0]
            return max(m[0] for m in cached_terms), max(m[1] for m in cached_terms)
        gd, zd = sp.Dummy("g"), sp.Dummy("z")
        p = sp.Poly(self.algebraic_equation(gd, zd), gd, zd)
        return p.degree(gd), p.degree(zd)

    # numerics -------------------------------------------------------------
    # The physical branch comes from subordination (physical by construction); on algebraic
    # laws it is polished on the exact curve by Newton, within 1e-6 of the subordination value.
    def _physical(self, zarr, *, with_height=False):
        """The physical ``g`` at complex or real points (with
        ``with_height=True``, also the height ``y`` at which each value holds:
        ``Im z``, or :func:`axis_height` for a real point that the ladder
        reached from above, where an atom at ``c`` of mass ``w`` is still
        present as the Poisson kernel ``w y/(pi ((x - c)^2 + y^2))``).

        Above height ``h = 1e-3 (1 + R)`` subordination converges fast from a
        cold start.  Below it a ladder of heights (x1e-2 per rung, warm
        starts) descends to the target (or to :func:`axis_height` for real
        targets, where the map is no longer a strict contraction).  On
        algebraic laws the value is polished by Newton on the exact curve
        when it converges within 1e-6 relative (low-degree curves)."""
        z = np.asarray(zarr, dtype=complex).ravel()
        flip = z.imag < 0
        zz = np.where(flip, np.conj(z), z)
        scale = 1 + self._numeric_radius()
        h = 1e-3 * scale
        direct = (zz.imag >= h) | ((zz.imag == 0) & (not self._offset_real) & (zz.real < 0))
        gv, cv = np.empty(z.shape, dtype=complex), self.curve()
        atoms = [(float(a), float(w)) for a, w in self.atoms()]
        # next to an atom on the real axis, where additive subordination (solved
        # above the axis) sees only w/(z - a + iy): the root with the pole [P19]
        pole, gp = (None, None) if cv is None or self._kind != "add" else pole_roots(cv, atoms, zz, scale)
        y = zz.imag.copy()
        exact = np.zeros(z.shape, dtype=bool)   # roots followed from infinity (mpmath, 30 digits)
        if pole is not None and pole.any():
            if (~pole).any():
                gp[~pole], y[~pole] = self._physical(zz[~pole], with_height=True)
            out = np.where(flip, np.conj(gp), gp)
            return (out, y) if with_height else out
        try:
            if direct.any():
                gv[direct] = self._subordinate(zz[direct])
            low = ~direct
            if low.any():
                target = np.maximum(zz[low].imag, sub.axis_height(self, zz[low].real))
                gv[low], ok = sub.ladder(self._subordinate_from, zz[low].real, target, h, status=True)
                y[low] = target
                if (stalled := np.flatnonzero(low)[~ok]).size:   # those alone: continued from infinity
                    if cv is None:
                        raise ConvergenceError(f"subordination stalled at {stalled.size} point(s) next to the "
                                               f"support of {self!r}, e.g. z = {complex(zz[stalled[0]])!r}")
                    gv[stalled] = np.asarray(self._stieltjes_continuation(zz[stalled], 30), dtype=complex)
                    y[stalled] = zz[stalled].imag
                    exact[stalled] = True
        except ConvergenceError:
            if cv is None:
                raise
            # subordination stalled (far out, where omega ~ 1/z sits at its
            # rounding floor): the root of the curve followed from infinity
            gv = np.asarray(self._stieltjes_continuation(zz, 30), dtype=complex)
            out = np.where(flip, np.conj(gv), gv)
            return (out, zz.imag.copy()) if with_height else out
        if not self._numeric_only():
            # refinement only: a converged Newton root within 1e-6 of the subordination value replaces
            # it (exact boundary values on the axis); high-degree curves with huge integer coefficients
            # are too ill-conditioned in float64 and keep the subordination value (physical, certified)
            # (not the roots followed from infinity: next to a hard edge at 0 with an atom, where
            # the roots (m0 +- c sqrt z)/z lie sqrt |z| apart, float64 Newton lands on any of them)
            g1, conv = cv.newton(gv, zz, iters=30)
            keep = conv & (np.abs(g1 - gv) <= 1e-6 * (1 + np.abs(gv))) & ~exact
            # at real points subordination can stall near a pole (an atom) at a few 1e-4 of the value:
            # take the curve's root nearest to it when that root is isolated (every other root 10x
            # farther away); off the support (g real to 1e-9) a point of the ladder without an isolated
            # root follows the root from infinity (mpmath continuation); a point solved directly (the
            # negative axis of a product: roots cluster at g ~ m0/z next to an atom at 0) and a point
            # on the support keep the subordination value (physical by construction, certified)
            real = ~keep & ~exact & (zz.imag == 0)
            if real.any():
                g2, found = nearest_root(cv, gv, zz, g1, ~real, self.stieltjes_numeric if self.positive_by_construction else None)
                found &= real
                g1 = np.where(found, g2, g1)
                keep = keep | found
                bad = np.flatnonzero(real & ~found & ~direct & (np.abs(gv.imag) <= 1e-9 * np.abs(gv)))
                if bad.size:
                    g1[bad] = np.asarray(self._stieltjes_continuation(zz[bad], 30), dtype=complex)
                    keep[bad] = exact[bad] = True
            gv = np.where(keep, g1, gv)
            y = np.where(keep, zz.imag, y)   # a root of the curve at z itself
        # off the support the boundary value on the real axis is real (the continuation decided it
        # for its roots: Im g is sqrt x of |g| on the support next to a hard edge at 0 with an atom)
        real = (zz.imag == 0) & (np.abs(gv.imag) <= 1e-9 * np.abs(gv)) & ~exact
        gv = np.where(real, gv.real + 0j, gv)
        out = np.where(flip, np.conj(gv), gv)
        return (out, y) if with_height else out

    _offset_real = True
    #: "add" or "mul": which subordination (Belinschi-Bercovici) applies
    _kind = "add"

    def _subordinate_from(self, z, omega0, **kw):
        """Subordination at complex points ``z`` from ``omega0`` (None: cold
        start); returns ``(g, omega[, converged])``."""
        ga, ha, dha, hb, dhb, tail = sub.operand_funs(self)
        zz = np.asarray(z, dtype=complex).ravel()
        if self._kind == "add":
            kw.pop("retry", None)    # no second map to retry with
            return sub.free_additive(ga, ha, dha, hb, dhb, zz, omega0=omega0, return_omega=True, **kw)
        return sub.free_multiplicative(ga, ha, dha, hb, dhb, zz, omega0=omega0, return_omega=True, tail=tail, **kw)

    def _subordinate(self, zarr):
        """``g`` at points off the support (additive: ``Im z != 0``, using
        ``g(conj z) = conj g(z)``; multiplicative: also ``z < 0``)."""
        z = np.asarray(zarr, dtype=complex)
        if self._kind == "mul":
            return self._subordinate_from(z, None)[0].reshape(z.shape)
        flip = z.imag < 0
        zz = np.where(flip, np.conj(z), z)
        if np.any(zz.imag == 0):
            raise NoClosedFormError("additive subordination at real points needs the algebraic route")
        out = self._subordinate_from(zz, None)[0].reshape(z.shape)
        return np.where(flip, np.conj(out), out)

    def _stieltjes_fallback(self, zarr):  # a product's negative axis next to 0 from 1 - df1 (at_rank)
        z = np.asarray(zarr, dtype=complex)
        return at_rank(self, z, lambda m: self._stieltjes_off_rank(z[m]))

    def _stieltjes_off_rank(self, z):
        gv = self._physical(z)
        axis = (z.imag == 0) & ~((not self._offset_real) & (z.real < 0))
        if self._numeric_only() and axis.any() and self.atoms():
            # a real point off the support (checked by the caller) was solved
            # at height eps (axis_height): each atom's term w/(x - c + i eps)
            # is replaced by its value on the axis, w/(x - c) [P19]
            x = z.real
            eps = sub.axis_height(self, x)
            fix = sum(float(w) * (1 / (x - float(c)) - 1 / (x - float(c) + 1j * eps)) for c, w in self.atoms())
            gv = np.where(axis, gv + fix, gv)
            gv = np.where(axis & (np.abs(gv.imag) <= 1e-9 * np.abs(gv)), gv.real + 0j, gv)
        return gv

    def _df_without_g(self, kind, lam):
        # a free product without a curve: eta(u), and the operands' inverse df1 next to its rank (_product_s)
        if self._kind == "mul" and self._numeric_only():
            from freeprob.laws._product_s import curveless_values

            return np.ones(np.shape(lam), dtype=bool), curveless_values(self, (kind,), lam)[kind]
        return super()._df_without_g(kind, lam)

    def _df_mp_fallback(self, kind, lam, dps):
        from freeprob.laws._product_s import curveless_mp
        return curveless_mp(self, kind, lam, dps) if self._kind == "mul" and self._numeric_only() else None

    def _df_and_complements(self, lam):  # a curveless product: one S-transform solve next to its rank
        from freeprob.laws._product_s import curveless_df_and_complements
        return curveless_df_and_complements(self, lam, super()._df_and_complements)

    def _complements_numeric(self, lam):  # a curveless product: one fixed point for both
        from freeprob.laws._product_s import curveless_complements
        return curveless_complements(self, lam, super()._complements_numeric)

    def _numeric_only(self):
        """No curve, or one above ``POLISH_DEGREE``: ``g`` by subordination only."""
        cv = self.curve()
        return cv is None or cv.deg > POLISH_DEGREE

    def _dstieltjes_fallback(self, zarr, gv, times_z=False):
        z, gv = np.broadcast_arrays(np.asarray(zarr, dtype=complex), np.asarray(gv, dtype=complex))
        return at_rank(self, z, lambda m: sub.slope_of(self, z[m], times_z=times_z, gv=gv[m]), bool(times_z))

    def density_numeric(self, x):
        """Density of the absolutely continuous part on a real grid:
        subordination at ``x + i eps`` (``eps = 1e-10 (1 + R)``), polished at
        ``x + i0`` on the exact curve when the law is algebraic; exactly 0
        off the support intervals (where an atom would otherwise leak in as
        ``mass/(pi eps)``)."""
        self._require_numeric("density_numeric")
        xs = real_array("x", x, nan=False)
        inside = np.zeros(xs.shape, dtype=bool)
        for a, b in self._ac_intervals():
            inside |= (xs >= a) & (xs <= b)
        out = np.zeros(xs.shape)
        if inside.any():
            out[inside] = self._density_raw(xs[inside])
        return out

    def _density_raw(self, xs):
        """``-Im g(x + i0)/pi`` of the continuous part at real points: a value
        that subordination reached at the height ``y`` has each atom's
        Poisson kernel at ``y`` removed (next to an atom at 0 of mass 0.68 it
        had leaked in as 0.02 at x = 1e-5); a value below ``-1e-9`` of the
        largest one and below ``10 RESOLVED |g|/pi`` (subordination's accuracy
        where its fixed point turns neutral) is a branch failure."""
        from freeprob.laws._support import RESOLVED, minus_atoms

        x = np.asarray(xs, dtype=float).ravel()
        gv, y = self._physical(x.astype(complex), with_height=True)
        dens = minus_atoms(-gv.imag / np.pi, x, y, [(float(c), float(w)) for c, w in self.atoms()])
        scale = float(np.max(np.abs(dens))) if dens.size else 0.0
        if np.any(dens < -1e-9 * (1.0 + scale) - 10 * RESOLVED * np.abs(gv) / np.pi):
            raise BranchError(f"negative density {float(np.min(dens)):.3g} for {self!r}: the Stieltjes value "
                              "left the physical branch")
        return np.where(dens < 0, 0.0, dens).reshape(np.shape(xs))

    def _numeric_radius(self):
        ra, rb = (law._numeric_radius() for law in self._operands())
        return ra + rb if isinstance(self, FreeSum) else ra * rb

    def _ac_intervals(self):
        from freeprob.laws._support import curve_support, numeric_support

        cv = self.curve()   # without one: computed from the density, verified by the mass (never the bound)
        return list(numeric_support(self)) if cv is None else curve_support(self, cv)

    def _interval_masses(self, intervals):
        from freeprob.laws._support import interval_masses

        return interval_masses(self, intervals)

    def _atoms_closed(self):
        raise NotImplementedError  # each convolved law states its atoms (by theorem or in closed form)

    def _support_closed(self):
        from freeprob.laws._support import union

        return union(self._ac_intervals(), [loc for loc, _ in self.atoms()])

    def _bound_interval(self):
        return []


@cached(maxsize=64)
def _numeric_curve(law):
    if law.free_symbols:
        return None
    gd, zd = sp.Dummy("g"), sp.Dummy("z")
    try:
        # float parameters become the rationals of their shortest decimal form
        # (half an ulp from the binary value): the algebraic route is exact
        expr = rational_twin(law).algebraic_equation(gd, zd)
    except NoClosedFormError:
        return None
    try:
        return Curve(expr, gd, zd)
    except OverflowError:
        # coefficients beyond float64: the exact curve stays available
        # symbolically; numerics use subordination alone
        return None


def _terms_expr(terms, g, z, params):
    return sp.Poly.from_dict(terms, g, z, *params).as_expr()


class _Binary(_Convolved):
    """A law built from two operand laws ``a`` and ``b`` (abstract)."""

    def __init__(self, a, b):
        _check_law("a", a)
        _check_law("b", b)
        self._set(a=a, b=b)

    def params(self):
        return {"a": self.a, "b": self.b}

    def _twin_replace(self, **p):
        return type(self)(p["a"], p["b"])

    def _operands(self):
        return self.a, self.b


@final
class FreeSum(_Binary):
    r"""``a boxplus b``: limiting law of ``A + Q B Q^T`` (``R = R_a + R_b``).

    >>> import freeprob, sympy as sp
    >>> law = freeprob.free_add(freeprob.Discrete([-1, 1]), freeprob.Discrete([-1, 1]))
    >>> sp.factor(law.algebraic_equation(*sp.symbols("g z")))
    g**2*z**2 - 4*g**2 - 1
    """

    catalogue_name = "free-sum"

    def _latex(self, printer):
        return r"\left(%s\right) \boxplus \left(%s\right)" % (printer._print(self.a), printer._print(self.b))

    def _replace(self, **p):
        return operation("add")(p["a"], p["b"])

    def _r_closed(self, w):
        try:
            return self.a.r_transform(w) + self.b.r_transform(w)
        except NoClosedFormError:
            return None

    def _free_cumulants_closed(self, n):
        return [x + y for x, y in zip(self.a.free_cumulants(n), self.b.free_cumulants(n))]

    def _moments_closed(self, n):
        return moments_from_free_cumulants(self._free_cumulants_closed(n))

    def _curve_closed(self, g, z):
        return _sum_curve(self, g, z)

    def _atoms_closed(self):
        r"""Bercovici-Voiculescu: ``c`` is an atom of ``a boxplus b`` iff
        ``c = x + y`` with ``a({x}) + b({y}) > 1``, of mass
        ``a({x}) + b({y}) - 1``."""
        return atoms_by_theorem(self, lambda x, y: x + y, zero_rule=False)

    def _bound_interval(self):
        a_lo, a_hi = sub.law_range(self.a)
        b_lo, b_hi = sub.law_range(self.b)
        return [(a_lo + b_lo, a_hi + b_hi)]


@final
class FreeProduct(_Binary):
    r"""``a boxtimes b``: limiting law of ``A^{1/2} Q B Q^T A^{1/2}`` (``S = S_a S_b``).

    >>> import freeprob
    >>> freeprob.free_mul(freeprob.Discrete([1, 2]), freeprob.MarchenkoPastur(1)).moments(2)
    [3/2, 19/4]

    (``m_2 = m_2(a) m_1(b)^2 + m_1(a)^2 m_2(b) - m_1(a)^2 m_1(b)^2``.)
    """

    catalogue_name = "free-product"

    def _latex(self, printer):
        return r"\left(%s\right) \boxtimes \left(%s\right)" % (printer._print(self.a), printer._print(self.b))

    def _replace(self, **p):
        return operation("mul")(p["a"], p["b"])

    def _s_closed(self, t):
        try:
            return self.a.s_transform(t) * self.b.s_transform(t)
        except NoClosedFormError:
            return None

    def _moments_closed(self, n):
        if n == 1:  # tr AB = tr A tr B for free A, B: O(1) per factor of a chain
            return [sp.expand(self.a.moments(1)[0] * self.b.moments(1)[0])]
        sa = s_series_from_moments(self.a.moments(n), n)
        sb = s_series_from_moments(self.b.moments(n), n)
        prod = [sp.expand(sum(sa[i] * sb[k - i] for i in range(k + 1))) for k in range(n)]
        return moments_from_s_series(prod, n)

    def _curve_closed(self, g, z):
        return _product_curve(self, g, z)

    #: a product of positive operands is positive (decided without its own support)
    positive_by_construction = property(lambda self: bool(is_positive_law(self.a) and is_positive_law(self.b)))

    def _atoms_closed(self):
        r"""Belinschi: for positive laws, ``(a boxtimes b)({0}) = max(a({0}),
        b({0}))``, and ``c != 0`` is an atom iff ``c = x y`` with
        ``a({x}) + b({y}) > 1``, of mass ``a({x}) + b({y}) - 1``."""
        return atoms_by_theorem(self, lambda x, y: x * y, zero_rule=True)

    _offset_real = False  # z < 0 lies in the domain of multiplicative subordination
    _kind = "mul"

    def _bound_interval(self):
        a_lo, a_hi = sub.law_range(self.a)
        b_lo, b_hi = sub.law_range(self.b)
        return [(min(0.0, a_lo * b_hi), a_hi * b_hi)]


@final
class WishartProduct(_Convolved):
    r"""Product of free white Wisharts (deep white Wishart) [R2d].

    .. math:: S^{\rm V}(t) = \frac{1}{s}\prod_\ell \frac{1}{1 + c_\ell t},\qquad
              z\,t = (1 + t)\prod_\ell (1 + c_\ell t)\ (s = 1),

    with ``t = z g - 1`` the T-transform; ``ratios`` are the ``c_l``.  For
    ``C = F_L^T ... F_1^T F_1 ... F_L`` with widths ``N_0, ..., N_L`` and entry
    variances ``1/N_{l-1}``, ``c_l = N_L/N_{l-1}``.

    >>> import freeprob
    >>> freeprob.WishartProduct([1, 1]).moments(5)     # Fuss-Catalan
    [1, 3, 12, 55, 273]

    Parameters
    ----------
    ratios : sequence of positive numbers or symbols ``c_l``
    scale : positive overall scale ``s``
    """

    catalogue_name = "wishart-product"
    PARAMETERS = declare(Parameter("ratios", "positive", "c_\\ell", (0.1, 10.0), doc="one ratio per Wishart factor"),
                         Parameter("scale", "positive", "s", (0.5, 2.0)))
    positive_by_construction = True

    def _latex(self, printer):
        body = r" \boxtimes ".join(r"\mathrm{MP}\left(%s\right)" % printer._print(c) for c in self.ratios)
        return body if self.scale == 1 else r"%s\,\left[%s\right]" % (printer._print(self.scale), body)

    def __init__(self, ratios, scale=1):
        try:
            rs = tuple(self.PARAMETERS["ratios"].validate(r, f"ratios[{i}]") for i, r in enumerate(ratios))
        except TypeError:
            raise ParameterError("ratios", ratios, "a nonempty sequence of positive numbers") from None
        if not rs:
            raise ParameterError("ratios", "[]", "a nonempty sequence of positive numbers")
        self._set(ratios=rs, scale=self.PARAMETERS["scale"].validate(scale))

    def params(self):
        out = {f"c{i + 1}": r for i, r in enumerate(self.ratios)}
        out["scale"] = self.scale
        return out

    def _key(self):
        return (self.ratios, self.scale)

    def _replace(self, **p):
        scale = p.pop("scale")
        return WishartProduct([p[f"c{i + 1}"] for i in range(len(self.ratios))], scale)

    def __repr__(self):
        return f"WishartProduct(ratios={list(self.ratios)}, scale={self.scale})"

    def _operands(self):
        first = MarchenkoPastur(self.ratios[0], self.scale)
        if len(self.ratios) == 1:
            return first, Identity(1)
        # a single remaining factor is a Marchenko-Pastur law with a closed form
        rest = WishartProduct(self.ratios[1:]) if len(self.ratios) > 2 else MarchenkoPastur(self.ratios[1])
        return first, rest

    _offset_real = False
    _kind = "mul"  # MP(c_1, s) boxtimes WishartProduct(c_2, ...) by subordination

    def _s_closed(self, t):
        return 1 / (self.scale * sp.Mul(*[1 + c * t for c in self.ratios]))

    def _moments_closed(self, n):
        # S = 1/(s P(t)), P = prod (1 + c_l t) truncated layer by layer, 1/P by
        # a_k = -sum_j p_j a_(k-j): O(L n^2) (sympy's series: exponential in L)
        poly = [sp.Integer(1)] + [sp.Integer(0)] * (n - 1)
        for c in self.ratios:
            poly = [sp.expand(poly[k] + (c * poly[k - 1] if k else 0)) for k in range(n)]
        inv = [sp.Integer(1)]
        for k in range(1, n):
            inv.append(sp.expand(-sum(poly[j] * inv[k - j] for j in range(1, k + 1))))
        return moments_from_s_series([a / self.scale for a in inv], n)

    def _curve_closed(self, g, z):
        tt = z * g - 1
        return sp.expand(self.scale * g * sp.Mul(*[1 + c * tt for c in self.ratios]) - tt)

    def _numeric_radius(self):
        return float(self.scale) * float(np.prod([(1 + np.sqrt(float(c))) ** 2 for c in self.ratios]))

    def _atoms_closed(self):
        # rank of a product of free projections: min(1, 1/c_l) [R17]; one atom, at 0
        mass = 1 - sp.Min(1, *[1 / c for c in self.ratios])
        return [(sp.Integer(0), mass)] if mass != 0 else []


# ------------------------------------------------------------- algebraic route
def _params_of(*laws):
    out = set()
    for law in laws:
        out |= law.free_symbols
    return out


@cached(maxsize=64)
def _sum_curve_cached(law):
    a, b = law.a, law.b
    g, z = sp.Dummy("g"), sp.Dummy("z")
    w, r, R = sp.Dummy("w"), sp.Dummy("r"), sp.Dummy("R")
    params = _params_of(a, b)
    qa = r_equation_from_curve(a.algebraic_equation(g, z), g, z, r, w)
    if a == b:
        # R = 2 R_a: no cross-branch resultant (a linear "elimination")
        factors = eliminate(qa, r - R / 2, r, R, w, z * g - 1, g, g, params, (g, z))
    else:
        qb = sp.expand(r_equation_from_curve(b.algebraic_equation(g, z), g, z, r, w).subs(r, R - r))
        # R = (z g - 1)/g, w = g
        factors = eliminate(qa, qb, r, R, w, z * g - 1, g, g, params, (g, z))
    return choose_factor(factors, law, params), tuple(sorted(params, key=str))


def _sum_curve(law, g, z):
    terms, params = _sum_curve_cached(rational_twin(law))
    return _terms_expr(terms, g, z, params)


@cached(maxsize=64)
def _product_curve_cached(law):
    a, b = law.a, law.b
    g, z = sp.Dummy("g"), sp.Dummy("z")
    t, s, S = sp.Dummy("t"), sp.Dummy("s"), sp.Dummy("S")
    params = _params_of(a, b)
    sa = s_equation_from_curve(a.algebraic_equation(g, z), g, z, s, t)
    sb_expr = s_equation_from_curve(b.algebraic_equation(g, z), g, z, s, t)
    deg_b = sp.Poly(sb_expr, s).degree()
    sb = sp.expand(sp.numer(sp.together(sb_expr.subs(s, S / s) * s**deg_b)))
    # S = g/(z g - 1), t = z g - 1
    factors = eliminate(sa, sb, s, S, t, g, z * g - 1, z * g - 1, params, (g, z))
    return choose_factor(factors, law, params), tuple(sorted(params, key=str))


def _product_curve(law, g, z):
    terms, params = _product_curve_cached(rational_twin(law))
    return _terms_expr(terms, g, z, params)
