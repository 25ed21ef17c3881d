"""The numeric methods of a law: ``g``, ``df1``, ``df2``, density and cdf at
arrays of points, from the compiled forms of :mod:`freeprob.laws._forms`,
certified."""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import (
    BranchError,
    NoClosedFormError,
    NumericalError,
    ParameterError,
    SupportError,
)
from freeprob.laws._branch import certify, continuation_root
from freeprob.laws._cdf import cdf_tables
from freeprob.laws._far import df_and_complements, far_values
from freeprob.laws._forms import _numeric_form
from freeprob.laws._near import near_values, near_values_mp
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr, needs_complex
from freeprob.parameters import complex_array, digits, positive_integer, real_array

__all__ = ["NumericMethods"]


_D1, _D2, _G, _DG = sp.symbols("df1_value df2_value g_value dg_value")


@cached(maxsize=1)
def _slope():
    """``d df1/d lam`` from ``df1``, ``df2`` [C6], compiled once (on first use:
    ``import freeprob`` compiles nothing)."""
    return compile_expr(C.df1_slope_from_df2(_D1, _D2, C.lam), (_D1, _D2, C.lam))


@cached(maxsize=4)
def _df_from_g(which, complement=False):
    """``df1`` (``which = 1``) or ``df2`` as compiled functions of ``(lam, g(-lam),
    z g'(z) at z = -lam)``, derived from :func:`~freeprob.conventions.df1_from_stieltjes`
    and :func:`~freeprob.conventions.df2_from_df1` [C6]; with ``complement``
    ``1 - df``, expanded so that the constant cancels symbolically (``1 - df1
    = -lam g(-lam)``: no float difference of two numbers near 1).  ``z g'``
    stays finite where ``g'`` overflows (``g ~ z^(-3/4)`` at ``z = -1e-300``)."""
    zd, g = sp.Dummy("z"), sp.Function("g")
    df1 = C.df1_from_stieltjes(g(zd), zd, C.lam)
    expr = df1 if which == 1 else C.df2_from_df1(df1, C.lam).doit()
    expr = 1 - expr if complement else expr
    expr = expr.replace(lambda e: isinstance(e, sp.Subs), lambda e: _DG).subs(g(-C.lam), _G)
    expr = expr.replace(lambda e: isinstance(e, sp.Derivative), lambda e: -_DG)
    # _DG = g'(-lam) = (z g')/z at z = -lam
    return compile_expr(sp.expand(expr.subs(_DG, -_DG / C.lam)), (C.lam, _G, _DG), dtype=complex)


class NumericMethods:
    """Numeric transforms of a law (a mixin of :class:`~freeprob.laws.SpectralLaw`):
    ``g``, ``df1``, ``df2``, density and cdf at arrays of points, compiled
    from the law's sympy expressions at the numeric boundary and certified
    (Herglotz sign, reality off the support)."""

    def _twin_replace(self, **params):
        """The law with parameters replaced by the canonical symbols of its
        numeric twin (``_replace`` by default; a convolved law keeps its class,
        its positivity was decided for the numbers already)."""
        return self._replace(**params)

    def _trace_rank(self) -> float:
        """``df1(0+)``: the rank fraction ``1 - mass at 0`` (``oo`` for the
        kernel sums of [C16])."""
        return 1.0 - self._mass_at_zero()

    def _trace_mean(self) -> float:
        """``lim kappa df1(kappa)`` as ``kappa -> oo``: the first moment (the
        trace sum for the kernel limit [C16])."""
        return float(sp.N(self.moments(1)[0]))

    def _require_numeric(self, what):
        if self.free_symbols:
            raise ParameterError(
                "law parameters", sorted(map(str, self.free_symbols)), "numbers",
                f"{what} needs numeric parameters: call law.subs(...) first")

    def stieltjes_numeric(self, z, *, dps: int | None = None, method=None):
        r"""``g(z)`` on the physical branch at an array of points off the support.

        Points may be complex, or real off the support (the negative real axis
        included); points just above the support (``x + 1e-12 i``) are fine.
        The closed form is compiled with its parameters as symbols after the
        conjugate rewrite of :mod:`freeprob.numeric.stable` (no cancellation at large
        ``|z|``).  Every float64 value is certified: Herglotz sign, reality on
        the real axis.  ``dps=`` switches to the mpmath path (object array of
        ``mpc``); ``method="continuation"`` follows the root of the algebraic
        equation from infinity instead (an independent route, mpmath).

        >>> import freeprob, numpy as np
        >>> g = freeprob.MarchenkoPastur(0.5).stieltjes_numeric(np.array([-1.0, 1 + 1e-9j]))
        >>> g.real.round(6), bool(g.imag[1] < 0)
        (array([-0.561553,  0.5     ]), True)
        """
        self._require_numeric("stieltjes_numeric")
        zarr = complex_array("z", z)
        dps = digits("dps", dps)
        self._check_off_support(zarr)
        if method not in (None, "closed", "mean", "continuation"):
            raise ParameterError("method", method, "{'closed', 'mean', 'continuation'}")
        if method == "continuation":
            return self._stieltjes_continuation(zarr, dps or 30)
        if dps is None and method is None:
            # far from the support: the certified moment series (no stalled
            # subordination at |z| ~ 1e160) [C6], [P19]
            far, fv = far_values(self, "g", zarr)
            if far.any():
                out = np.array(fv, dtype=complex)
                if not far.all():
                    out[~far] = self._stieltjes_near(zarr[~far])
                certify(zarr, out)
                return out
        out = self._stieltjes_near(zarr, dps=dps, method=method)
        if dps is None:
            out = np.asarray(out, dtype=complex).reshape(zarr.shape)   # the shape of the points, scalars included
            certify(zarr, out)
        return out

    def _stieltjes_near(self, zarr, *, dps=None, method=None):
        """``g`` by the closed form (with the continuation at its removable
        0/0s) or the law's fallback route; certified by the caller."""
        try:
            if dps is not None:
                return self._evaluate("stieltjes", method, _mp_points(zarr), dps=dps, complex_=True)
            out = self._evaluate("stieltjes", method, zarr, complex_=True, finite=False)
            bad = ~np.isfinite(out)
            if bad.any():
                # a removable 0/0 of the closed form (MP with q < 1 at z = 0):
                # the value there by the continuation route, if the law has a curve
                try:
                    fix = np.asarray(self._stieltjes_continuation(zarr[bad], 30), dtype=complex)
                except NoClosedFormError:
                    raise NumericalError(f"non-finite Stieltjes value of {self!r} at z = {zarr[bad][0]!r}") from None
                out = out.copy()
                out[bad] = fix
        except NoClosedFormError:
            if method is not None:
                raise
            if dps is not None:  # algebraic laws: mpmath continuation on the curve
                return self._stieltjes_continuation(zarr, dps)
            out = self._stieltjes_fallback(zarr)
        return out

    def _stieltjes_fallback(self, zarr):
        """Numeric ``g`` for laws without a closed form (curve continuation or
        subordination); overridden by convolved laws."""
        raise NoClosedFormError(f"{self!r} has no numeric Stieltjes route")

    def _dstieltjes_fallback(self, zarr, gv, times_z=False):
        """``g'`` (or ``z g'`` with ``times_z``) where ``g = gv``, for laws
        without a closed form; overridden by convolved and affine laws."""
        raise NoClosedFormError(f"{self!r} has no numeric derivative route")

    def _evaluate(self, kind, method, points, *, dps=None, complex_=False, finite=True):
        """Evaluate the compiled ``kind`` expression (stieltjes, df1, df2,
        density) of the parameter-symbolic twin at ``points``."""
        expr, syms, values = _numeric_form(self, kind, method)
        var = {"stieltjes": C.z, "df1": C.lam, "df2": C.lam, "cdf1": C.lam, "cdf2": C.lam, "density": C.x}[kind]
        args = (var,) + syms
        if dps is not None:
            with mpmath.workdps(dps + 5):
                vals = [mpmath.mpmathify(sp.N(v, dps + 5)) for v in values]
            return compile_expr(expr, args, backend="mpmath")(points, *vals, dps=dps)
        dtype = complex if (complex_ or needs_complex(expr)) else float
        return compile_expr(expr, args, dtype=dtype)(points, *[complex(v) if dtype is complex else float(v) for v in values],
                                                     finite=finite)

    def _stieltjes_continuation(self, zarr, dps):
        gsym, zsym = sp.Dummy("g"), sp.Dummy("z")
        curve = sp.Poly(self.algebraic_equation(gsym, zsym), gsym)
        cfun = [compile_expr(c, (zsym,), backend="mpmath") for c in reversed(curve.all_coeffs())]
        dfun = [compile_expr(sp.diff(c, zsym), (zsym,), backend="mpmath") for c in reversed(curve.all_coeffs())]
        ms = [complex(sp.N(m)) for m in self.moments(4)]
        radius = self._numeric_radius()
        out = np.empty(zarr.shape, dtype=object)
        with mpmath.workdps(dps + 10):
            def coeffs(zz):
                # at the continuation's working precision, which grows next
                # to 0 where the roots meet (``continuation_root``)
                return [f(zz, dps=mpmath.mp.dps)[()] for f in cfun]

            def dcoeffs(zz):
                return [f(zz, dps=mpmath.mp.dps)[()] for f in dfun]

            for idx in np.ndindex(zarr.shape):
                out[idx] = continuation_root(coeffs, zarr[idx], moments=ms, radius=radius, dps=dps, dcoeffs=dcoeffs)
        return out

    def df1_numeric(self, lam, *, dps: int | None = None):
        r"""``df1(lam)`` for ``lam >= 0`` (array), in ``[0, 1]`` [C6].

        ``lam = 0`` gives the rank fraction ``1 - mass(0)``.  With ``dps`` the
        values are mpmath numbers with that many digits, and ``lam`` may be
        one mpmath number ``> 0`` (kept at its precision; closed forms only).

        >>> import freeprob
        >>> float(freeprob.Discrete([1, 3]).df1_numeric(1.0))
        0.625
        """
        return self._df_numeric(lam, dps, 1)

    def df1_with_slope(self, lam, *, df2: bool = False):
        r"""``(df1(lam), d df1/d lam)`` for ``lam > 0`` (arrays), the slope from
        :func:`~freeprob.conventions.df1_slope_from_df2` [C6]; what the
        monotone solvers of the models need at each step.  With ``df2``,
        ``df2(lam)`` as a third value.

        >>> import freeprob
        >>> d1, s = freeprob.Identity(1).df1_with_slope(1.0)
        >>> float(d1), float(s)                         # 1/(1 + lam), -1/(1 + lam)^2
        (0.5, -0.25)
        """
        self._require_numeric("df1_with_slope")
        if not isinstance(df2, (bool, np.bool_)):
            raise ParameterError("df2", df2, "True or False")
        lam = real_array("lam", lam)
        pair = self._df_pair(lam)
        d1, d2 = pair if pair is not None else (self.df1_numeric(lam), self.df2_numeric(lam))
        return (d1, _slope()(d1, d2, lam)) + ((d2,) if df2 else ())

    def _df_pair(self, lam):
        """``(df1, df2)`` at ``lam`` from both closed forms compiled together
        (their means share one pass over the spectrum), or None where
        :meth:`_df_positive` takes another route or checks more: a point not
        above ``1e-60``, far from the support or not finite, no closed form,
        a value that is not a finite real."""
        if lam.size < 16 or not np.all((lam > 1e-60) & np.isfinite(lam)) or far_values(self, "df1", lam)[0].any():
            return None
        try:
            (e1, syms, vals), (e2, syms2, vals2) = (_numeric_form(self, kind, None) for kind in ("df1", "df2"))
        except NoClosedFormError:
            return None
        if (syms, vals) != (syms2, vals2):
            return None
        typ = complex if needs_complex(e1) or needs_complex(e2) else float
        out = [np.asarray(v) for v in compile_expr((e1, e2), (C.lam,) + syms, dtype=typ)(
            lam, *(typ(v) for v in vals), finite=False)]
        real = all(np.all(np.isfinite(v) & (np.abs(np.imag(v)) <= 1e-9 * np.abs(np.real(v)))) for v in out)
        return tuple(np.real(v) for v in out) if real else None

    def df2_numeric(self, lam, *, dps: int | None = None):
        r"""``df2(lam)`` for ``lam >= 0`` (array) [C6].

        >>> import freeprob
        >>> float(freeprob.Identity(1).df2_numeric(1.0))
        0.25
        """
        return self._df_numeric(lam, dps, 2)

    def df_complement_numeric(self, lam, which: int = 1):
        r"""``1 - df1(lam)`` (``which = 1``) or ``1 - df2(lam)`` for ``lam >
        0`` (array), computed without forming ``df`` [C6].

        Where ``df -> 1`` (``lam -> 0`` on a law without an atom at 0) the
        difference ``1 - df`` rounds to 0 in float64 below ``lam ~ 1e-16
        m_{-1}^{-1}``, and everything built on it (``lam(kappa) = kappa(1 -
        q df1)`` at ``q = 1``, ``1 - gamma``) loses its digits.  Here it is
        the absorbed mean ``<lam/(x + lam)>`` for atomic laws, the
        rationalized closed form (a sum of terms of one sign) for radical
        laws, or ``-lam g(-lam)`` and ``-2 lam g(-lam) - lam^2 g'(-lam)``
        from the certified Stieltjes transform otherwise.  Normalized laws
        only (not the kernel sums, [C16]).

        >>> import freeprob
        >>> float(freeprob.MarchenkoPastur(0.5).df_complement_numeric(1e-30))  # lam <1/x> = lam/(1 - q)
        2e-30
        """
        self._require_numeric("df_complement_numeric")
        if which not in (1, 2):
            raise ParameterError("which", which, "1 or 2")
        if self._trace_rank() == np.inf:
            raise ParameterError("lam", lam, "a normalized law", "the kernel sums [C16] have no complement 1 - df")
        lam_arr = real_array("lam", lam)
        if np.any(~np.isfinite(lam_arr)) or np.any(lam_arr <= 0):
            raise ParameterError("lam", lam_arr[~(np.isfinite(lam_arr) & (lam_arr > 0))].ravel()[0], "(0, oo)")
        return self._df_positive(lam_arr, which, complement=True)

    def _df_mp_fallback(self, kind, lam, dps):
        """``kind`` (``df1``, ``df2``) at the points ``lam`` with ``dps``
        digits for a law without a closed form, or None (a hook)."""
        return None

    def _complements_numeric(self, lam):
        """``(1 - df1, 1 - df2)`` at ``lam > 0`` (float array) [C6]; a hook
        that a law computing both in one pass overrides."""
        return self._df_positive(lam, 1, complement=True), self._df_positive(lam, 2, complement=True)

    def _df_and_complements(self, lam):
        """``(df1, df2, 1 - df1, 1 - df2)`` at ``lam > 0`` [C6]; a hook (see
        :func:`~freeprob.laws._far.df_and_complements`)."""
        return df_and_complements(self, lam)

    def _df_positive(self, lam, which, complement=False):
        """``df_which`` (or ``1 - df_which``) at ``lam > 0`` (float array):
        the compiled closed form, else [C6] from the certified Stieltjes
        transform on the negative axis; real values certified."""
        kind = ("cdf" if complement else "df") + str(which)
        if lam.size == 0:  # no point (a route below may have nothing to return for none)
            return np.zeros(lam.shape)
        # far from the support: the certified moment series, free of the
        # cancellation in 1 + lam g(-lam), of the underflow of df1' and of the
        # overflow of lam^2 in the closed forms
        far, fv = far_values(self, kind, lam)
        if far.any():
            out = np.array(fv, dtype=float)
            if not far.all():
                out[~far] = self._df_positive(lam[~far], which, complement)
            return out
        try:
            vals = self._closed_df(kind, lam)
        except NoClosedFormError:
            # next to an atom at 0 (g ~ -w0/lam): the certified root of the
            # remainder's curve, free of the pole
            near, nv = self._df_without_g(kind, lam)
            if near.all():
                return nv
            zneg = -lam[~near].astype(complex)
            gv = self.stieltjes_numeric(zneg)
            dgv = self._dstieltjes_fallback(zneg, gv, times_z=True) if which == 2 else np.zeros_like(gv)
            vals = np.empty(lam.shape, dtype=complex)
            if near.any():
                vals[near] = nv[near]
            vals[~near] = _df_from_g(which, complement)(lam[~near].astype(complex), gv, dgv)
        if np.iscomplexobj(vals):
            if np.any(np.abs(vals.imag) > 1e-9 * (np.abs(vals.real) + 1e-300)):
                raise BranchError(f"{'1 - ' if complement else ''}df{which} left the real axis on the negative "
                                  f"axis of {self!r}")
            vals = vals.real
        return vals

    def _closed_df(self, kind, lam):
        """The compiled closed form of ``kind`` at ``lam > 0``.  Its powers of
        a tiny ``lam`` under- or overflow (``lam^(3/2)`` at ``lam = 1e-300``
        is 0, so ``1 - df1 = lam^(3/2) (...)/(4 lam + lam^2)`` came out 0):
        points below ``1e-60`` are evaluated again with underflow trapped,
        and those that underflow, or are not finite, take the same formula
        in mpmath, whose exponents do not."""
        vals = self._evaluate(kind, None, lam, finite=False)
        redo = ~np.isfinite(vals)
        risky = np.flatnonzero(lam < 1e-60)
        if risky.size:
            try:
                with np.errstate(under="raise"):
                    self._evaluate(kind, None, lam[risky], finite=False)
            except FloatingPointError:
                redo[risky] = True
        if redo.any():
            vals = np.array(vals, dtype=complex if np.iscomplexobj(vals) else float)
            mp = self._evaluate(kind, None, lam[redo].astype(object), dps=30)
            vals[redo] = [complex(v) if np.iscomplexobj(vals) else float(mpmath.re(v)) for v in mp]
            if np.any(~np.isfinite(vals)):
                raise NumericalError(f"{kind} of {self!r} is not finite at lam = {lam[~np.isfinite(vals)][0]!r}")
        return vals

    def _df_without_g(self, kind, lam):
        """``(mask, values)`` of ``kind`` by a route that avoids ``g`` where
        it has a pole (:func:`~freeprob.laws._near.near_values`); a hook
        that convolved laws extend."""
        return near_values(self, kind, lam)

    def _df_numeric(self, lam, dps, which):
        self._require_numeric("df_numeric")
        dps = digits("dps", dps)
        if dps is not None and isinstance(lam, mpmath.mpf):
            # an mpmath point keeps its digits (a float64 would cut them to 16)
            if not lam > 0:
                raise ParameterError("lam", lam, "(0, oo) at an mpmath point")
            kind = "df1" if which == 1 else "df2"
            try:
                val = np.asarray(self._evaluate(kind, None, np.array([lam], dtype=object), dps=dps)).ravel()[0]
            except NoClosedFormError:
                # an algebraic law with an atom at 0: the remainder's curve in
                # mpmath; else the law's own mpmath route, if it has one
                near = near_values_mp(self, kind, [lam], dps)
                if near is None:
                    near = self._df_mp_fallback(kind, [lam], dps)
                if near is None:
                    raise
                val = near[0]
            with mpmath.workdps(dps):
                val = mpmath.mpmathify(val)
                if abs(mpmath.im(val)) > mpmath.mpf(10) ** (10 - dps) * abs(mpmath.re(val)):
                    raise BranchError(f"df{which} of {self!r} is not real at lam = {mpmath.nstr(lam, 17)}")
                return np.asarray(mpmath.re(val), dtype=object).reshape(())
        lam_arr = real_array("lam", lam)
        if np.any(~np.isfinite(lam_arr)) or np.any(lam_arr < 0):
            bad = lam_arr[~(np.isfinite(lam_arr) & (lam_arr >= 0))].ravel()[0]
            raise ParameterError("lam", bad, "[0, oo)")
        kind = "df1" if which == 1 else "df2"
        rank = self._trace_rank()
        if rank == np.inf and np.any(lam_arr == 0):
            raise ParameterError("lam", 0, "(0, oo) for the kernel sums", "df(0) = sum_k 1 diverges")
        safe = np.where(lam_arr > 0, lam_arr, 1.0)
        if dps is not None:
            try:
                vals = self._evaluate(kind, None, safe.astype(object) if safe.ndim else safe, dps=dps)
            except NoClosedFormError:
                # an algebraic law with an atom at 0: the remainder's curve in mpmath
                vals = near_values_mp(self, kind, np.atleast_1d(safe).ravel(), dps)
                if vals is None:
                    vals = self._df_mp_fallback(kind, np.atleast_1d(safe).ravel(), dps)
                if vals is None:
                    raise
                vals = np.array(vals, dtype=object).reshape(safe.shape)
            vals = np.asarray(vals, dtype=object)
            vals[lam_arr == 0] = rank
            return vals
        return np.where(lam_arr > 0, self._df_positive(safe, which), rank)

    def density_numeric(self, x):
        """Density of the absolutely continuous part at real points (array).

        >>> import freeprob
        >>> round(float(freeprob.Semicircle().density_numeric(0.0)), 6)
        0.31831
        """
        self._require_numeric("density_numeric")
        out = self._evaluate("density", None, real_array("x", x, nan=False))
        return np.asarray(out).real

    def cdf_numeric(self, x, *, nodes: int = 4000):
        r"""Cumulative distribution function at real points (atoms included).

        The absolutely continuous part is integrated on each support interval
        with the substitution ``x = a + (b - a)(1 - cos th)/2``, which absorbs
        square-root (and ``1/sqrt``) edges, on pieces of a decade where an
        interval spans several (:mod:`freeprob.laws._cdf`); accuracy about
        ``1e-6``.

        >>> import freeprob
        >>> round(float(freeprob.Semicircle().cdf_numeric(0.0)), 6)
        0.5
        """
        self._require_numeric("cdf_numeric")
        xq = real_array("x", x, nan=False)
        nodes = int(positive_integer("nodes", nodes))
        out = np.zeros(xq.shape)
        for grid, cum in cdf_tables(self, nodes):
            out += np.interp(xq, grid, cum, left=0.0, right=cum[-1])
        for loc, m in self.atoms():
            out += np.where(xq >= float(loc), float(m), 0.0)
        return out

    # support bookkeeping -----------------------------------------------------
    def _ac_intervals(self):
        return _ac_intervals_of(self)

    def _interval_masses(self, intervals):
        """The mass of each of the support ``intervals`` where a theorem gives
        it, else None (a free product with Marchenko-Pastur knows its
        clusters' masses, :func:`~freeprob.laws._support.interval_masses`)."""
        return [None] * len(intervals)

    def _atom_points(self):
        return _atom_points_of(self).copy()

    def _check_off_support(self, zarr):
        real = zarr[zarr.imag == 0].real
        for lo, hi in self._bound_interval():   # outside a cheap bound: off the support
            real = real[(real >= lo) & (real <= hi)]
        if real.size == 0:
            return
        for a, b in self._ac_intervals():
            hit = (real >= a) & (real <= b)
            if np.any(hit):
                raise SupportError(
                    f"z = {real[hit][0]} lies on the support [{a}, {b}] where g has a cut; "
                    "evaluate at z + i*eps instead")
        atoms = self._atom_points()
        if atoms.size and np.any(np.isin(real, atoms.real)):
            raise SupportError(f"z = {real[np.isin(real, atoms.real)][0]} is an atom of the law (a pole of g)")



def _mp_points(z):
    arr = np.asarray(z)
    if arr.dtype == object:
        return arr
    return arr.astype(complex) if np.iscomplexobj(arr) else arr.astype(float)


@cached(maxsize=256)
def _ac_intervals_of(law):
    """The intervals of ``law``'s support as floats, once per frozen law (a
    sympy set per call would cost every numeric evaluation a millisecond)."""
    sup = law.support()
    parts = sup.args if isinstance(sup, sp.Union) else (sup,)
    return tuple((float(p.start), float(p.end)) for p in parts if isinstance(p, sp.Interval))


@cached(maxsize=256)
def _atom_points_of(law):
    """``law``'s atoms as complex floats, once per frozen law."""
    return np.array([complex(sp.N(loc)) for loc, _ in law.atoms()], dtype=complex)
