r"""The abstract spectral law: public transforms, route dispatch, numerics.

A law is the limiting eigenvalue distribution of a large matrix.  Concrete
laws are final, frozen and hashable; they implement only the *hooks* for what
they know in closed form (``_stieltjes_closed``, ``_curve_closed``,
``_r_closed``, ``_s_closed``, ``_moments_closed``, ``_density_closed``,
``_atoms_closed``, ``_support_closed``, ``_spectral_mean``).  Everything else
is derived here through the transform relations of
:mod:`freeprob.conventions` and :mod:`freeprob._relations`, cached
explicitly (:func:`freeprob.clear_caches`).

Every public transform accepts ``method=`` to force one route; the default
tries the routes in the order listed in its docstring.  Tests use the routes to
check each closed form against an independent derivation.
"""

from __future__ import annotations

import abc
import random

import numpy as np
import sympy as sp

from .. import conventions as C
from .._branch import certify, continuation_root
from .._cache import cached
from .._compile import compile_expr, needs_complex
from .._relations import (
    free_cumulants_from_moments,
    moments_from_curve,
    moments_from_free_cumulants,
    r_equation_from_curve,
    s_equation_from_curve,
    s_equation_from_r,
    series_coefficients,
    solve_analytic_branch,
)
from .._spectrum import ArraySpectrum, SpectralMean, absorb_means
from ..errors import (
    NoClosedFormError,
    ParameterError,
    SupportError,
    TransformNotDefinedError,
)

__all__ = ["SpectralLaw"]

_ROUTES = {
    "stieltjes": ("closed", "mean"),
    "algebraic_equation": ("closed", "atoms"),
    "r_transform": ("closed", "curve"),
    "s_transform": ("closed", "r", "curve"),
    "moments": ("closed", "mean", "cumulants", "curve"),
    "free_cumulants": ("closed", "r", "moments"),
}


def _check_method(kind, method):
    if method is not None and method not in _ROUTES[kind]:
        raise ParameterError("method", method, "{" + ", ".join(_ROUTES[kind]) + "}")


class SpectralLaw(abc.ABC):
    """Abstract base of every spectral law (see the module docstring)."""

    #: catalogue name used by the CLI (``marchenko-pastur``, ...)
    catalogue_name: str = ""

    # immutability and value semantics ---------------------------------------
    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _set(self, **fields):
        for k, v in fields.items():
            object.__setattr__(self, k, v)

    def _key(self) -> tuple:
        return tuple(self.params().values())

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash((type(self).__name__, self._key()))

    # ------------------------------------------------------------------ hooks
    @abc.abstractmethod
    def params(self) -> dict:
        """Parameters as an ordered ``{name: sympy value}`` mapping."""

    @abc.abstractmethod
    def _replace(self, **params) -> "SpectralLaw":
        """A law of the same kind with the given parameters."""

    def _stieltjes_closed(self, z):
        return None

    def _curve_closed(self, g, z):
        return None

    def _r_closed(self, w):
        return None

    def _s_closed(self, t):
        return None

    def _moments_closed(self, n):
        return None

    def _free_cumulants_closed(self, n):
        return None

    def _density_closed(self, x):
        return None

    @abc.abstractmethod
    def _atoms_closed(self):
        """List of (location, mass); an empty list if there is no atom."""

    @abc.abstractmethod
    def _support_closed(self):
        """The support as a sympy set."""

    def _spectral_mean(self, summand, var):
        """``E f(eta)`` as a :class:`SpectralMean` for atomic laws, else None."""
        return None

    #: numeric parameters may be replaced by symbols for compilation (atomic
    #: laws keep theirs: they live inside the spectrum)
    _twin_params = True

    def _curve_from_atoms(self, g, z):
        return None

    def _sample_point(self, rng: random.Random) -> dict:
        """Admissible numeric values for the free symbols (used to decide
        branch questions that sympy cannot decide symbolically)."""
        return {s: sp.Rational(rng.randint(2, 9), rng.randint(2, 5)) for s in self.free_symbols}

    def _total_atom_mass(self) -> float:
        """Numeric total mass of the atoms."""
        return sum(float(m) for _, m in self.atoms())

    def _mass_at_zero(self) -> float:
        """Numeric mass of the atom at 0 (numeric parameters)."""
        return sum(float(m) for loc, m in self.atoms() if sp.N(loc) == 0)

    def _numeric_radius(self) -> float:
        """A bound on ``max |x|`` over the support (numeric parameters)."""
        sup = self.support()
        return float(max(abs(sp.N(sup.inf)), abs(sp.N(sup.sup))))

    # ------------------------------------------------------------ generic API
    @property
    def free_symbols(self) -> set:
        out = set()
        for v in self.params().values():
            if isinstance(v, sp.Basic):
                out |= v.free_symbols
        return out

    def subs(self, *args, **kwargs) -> "SpectralLaw":
        """Substitute values for parameter symbols (``law.subs(q=2)`` or
        ``law.subs({q: 2})``); the result is validated again.

        >>> import freeprob, sympy as sp
        >>> q = sp.Symbol("q", positive=True)
        >>> freeprob.MarchenkoPastur(q).subs({q: 2})
        MarchenkoPastur(ratio=2, scale=1)
        """
        mapping = dict(args[0]) if args else {}
        for name, val in kwargs.items():
            match = [s for s in self.free_symbols if s.name == name]
            if not match:
                raise ParameterError(name, val, f"one of the law's symbols {sorted(map(str, self.free_symbols))}")
            mapping[match[0]] = val
        new = {}
        for k, v in self.params().items():
            new[k] = v.subs(mapping) if isinstance(v, sp.Basic) else v
        return self._replace(**new)

    def __repr__(self):
        inner = ", ".join(f"{k}={_short(v)}" for k, v in self.params().items())
        return f"{type(self).__name__}({inner})"

    def _repr_latex_(self):
        from ..latex import latex

        return "$%s$" % latex(self)

    # affine images -----------------------------------------------------------
    def scaled(self, c) -> "SpectralLaw":
        """Law of ``c A`` (``c != 0``).

        >>> import freeprob
        >>> freeprob.Semicircle(1).scaled(2)
        Semicircle(variance=4, center=0)
        """
        from ._affine import affine

        return affine(self, c, 0)

    def shifted(self, c) -> "SpectralLaw":
        """Law of ``A + c``.

        >>> import freeprob
        >>> freeprob.Identity(1).shifted(2)
        Identity(scale=3)
        """
        from ._affine import affine

        return affine(self, 1, c)

    # ------------------------------------------------------------- transforms
    def stieltjes(self, z, *, method=None) -> sp.Expr:
        r"""Stieltjes transform ``g(z) = tr (z - A)^{-1}`` [C4].

        Routes: ``closed`` (branch-safe closed form, square roots written as
        ``sqrt(z - a) sqrt(z - b)``), ``mean`` (unevaluated spectral sum for
        atomic laws).

        >>> import freeprob, sympy as sp
        >>> freeprob.Semicircle().stieltjes(sp.Symbol("z"))
        z/2 - sqrt(z - 2)*sqrt(z + 2)/2
        """
        _check_method("stieltjes", method)
        return _stieltjes(self, sp.sympify(z), method)

    def algebraic_equation(self, g, z, *, method=None) -> sp.Expr:
        r"""Polynomial ``P(g, z)`` with ``P(g(z), z) = 0`` (algebraic laws).

        >>> import freeprob, sympy as sp
        >>> g, z = sp.symbols("g z")
        >>> freeprob.MarchenkoPastur(2).algebraic_equation(g, z)
        2*g**2*z - g*(z + 1) + 1
        """
        _check_method("algebraic_equation", method)
        return _curve(self, sp.sympify(g), sp.sympify(z), method)

    def t_transform(self, z) -> sp.Expr:
        """T-transform ``t(z) = z g(z) - 1`` [C5].

        >>> import freeprob, sympy as sp
        >>> freeprob.Identity(2).t_transform(sp.Symbol("z"))
        z/(z - 2) - 1
        """
        z = sp.sympify(z)
        return C.t_from_stieltjes(self.stieltjes(z), z)

    def moment_generating(self, u) -> sp.Expr:
        """Moment generating function ``psi(u) = t(1/u) = sum m_k u^k`` [C5].

        >>> import freeprob, sympy as sp
        >>> u = sp.Symbol("u")
        >>> sp.series(freeprob.Identity(2).moment_generating(u), u, 0, 3)
        2*u + 4*u**2 + O(u**3)
        """
        u = sp.sympify(u)
        zd = sp.Dummy("z")
        return C.psi_from_t(self.t_transform(zd), zd, u)

    def r_transform(self, w, *, method=None) -> sp.Expr:
        r"""R-transform, ``g(R(w) + 1/w) = w`` [C8].

        Routes: ``closed``; ``curve`` (eliminate the Stieltjes curve with
        ``g = w``, ``z = R + 1/w`` and keep the root analytic at 0 with
        ``R(0) = m_1``).

        >>> import freeprob, sympy as sp
        >>> freeprob.MarchenkoPastur(sp.Symbol("q", positive=True)).r_transform(sp.Symbol("w"))
        1/(-q*w + 1)
        """
        _check_method("r_transform", method)
        return _r(self, sp.sympify(w), method)

    def s_transform(self, t, convention="voiculescu", *, method=None) -> sp.Expr:
        r"""S-transform.

        ``convention="voiculescu"``: ``S(t) = (1 + t)/t chi(t)`` [C9];
        ``convention="df"``: the paper's ``S(df) = S_V(-df)`` [C10] (pass the
        df symbol as ``t``).  Routes: ``closed``; ``r`` (solve
        ``S R(t S) = 1``); ``curve``.  Raises
        :class:`~freeprob.errors.TransformNotDefinedError` for a law with zero
        mean.

        >>> import freeprob, sympy as sp
        >>> from freeprob.conventions import df, q
        >>> freeprob.MarchenkoPastur(q).s_transform(df, convention="df")
        1/(-df*q + 1)
        """
        _check_method("s_transform", method)
        if convention not in ("voiculescu", "df"):
            raise ParameterError("convention", convention, "{'voiculescu', 'df'}")
        t = sp.sympify(t)
        tv = sp.Dummy("t")
        s_v = _s(self, tv, method)
        if convention == "df":
            return C.s_df_from_voiculescu(s_v, tv, t)
        return s_v.subs(tv, t)

    def df1(self, lam) -> sp.Expr:
        r"""``df1(lam) = tr A (A + lam)^{-1} = 1 + lam g(-lam)`` [C6].

        For atomic laws the spectral constant is absorbed into the mean, giving
        the cancellation-free summand ``x/(x + lam)``.

        >>> import freeprob, sympy as sp
        >>> from freeprob.conventions import lam
        >>> freeprob.Identity(2).df1(lam)
        2/(lambda + 2)
        """
        return _df1(self, sp.sympify(lam))

    def df2(self, lam) -> sp.Expr:
        r"""``df2(lam) = tr A^2 (A + lam)^{-2} = df1 + lam df1'(lam)`` [C6].

        >>> import freeprob
        >>> from freeprob.conventions import lam
        >>> freeprob.Identity(2).df2(lam)
        4/(lambda + 2)**2
        """
        return _df2(self, sp.sympify(lam))

    def moments(self, n: int, *, method=None) -> list:
        r"""Exact moments ``[m_1, ..., m_n]``, ``m_k = tr A^k``.

        Routes: ``closed``, ``mean`` (atomic laws), ``cumulants`` (free
        cumulants from the R-transform, then the moment-cumulant formula),
        ``curve`` (moment expansion of the Stieltjes curve).

        >>> import freeprob
        >>> freeprob.Semicircle().moments(6)
        [0, 1, 0, 2, 0, 5]
        """
        _check_method("moments", method)
        n = _check_order(n)
        return list(_moments(self, n, method))

    def free_cumulants(self, n: int, *, method=None) -> list:
        r"""Exact free cumulants ``[kappa_1, ..., kappa_n]``,
        ``R(w) = sum kappa_{k+1} w^k``.

        >>> import freeprob
        >>> freeprob.MarchenkoPastur(3).free_cumulants(4)
        [1, 3, 9, 27]
        """
        _check_method("free_cumulants", method)
        n = _check_order(n)
        return list(_free_cumulants(self, n, method))

    def density(self, x) -> sp.Expr:
        r"""Density of the absolutely continuous part, ``-Im g(x + i0)/pi`` [C4].

        >>> import freeprob, sympy as sp
        >>> freeprob.Identity().density(sp.Symbol("x"))
        0
        """
        x = sp.sympify(x)
        out = self._density_closed(x)
        if out is None:
            raise NoClosedFormError(f"{self!r} has no closed-form density; use density_numeric")
        return out

    def atoms(self) -> list:
        """Atoms as a list of ``(location, mass)`` (masses > 0).

        >>> import freeprob
        >>> freeprob.MarchenkoPastur(4).atoms()
        [(0, 3/4)]
        """
        return [(loc, m) for loc, m in self._atoms_closed() if m != 0]

    def support(self) -> sp.Set:
        """Support as a sympy set.

        >>> import freeprob
        >>> freeprob.Semicircle().support()
        Interval(-2, 2)
        """
        return self._support_closed()

    # ----------------------------------------------------------------- numerics
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
        conjugate rewrite of :mod:`freeprob._stable` (no cancellation at large
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
        zarr = np.asarray(z, dtype=complex)
        self._check_off_support(zarr)
        if method not in (None, "closed", "mean", "continuation"):
            raise ParameterError("method", method, "{'closed', 'mean', 'continuation'}")
        if method == "continuation":
            return self._stieltjes_continuation(zarr, dps or 30)
        try:
            if dps is not None:
                return self._evaluate("stieltjes", method, _mp_points(z), dps=dps, complex_=True)
            out = self._evaluate("stieltjes", method, zarr, complex_=True)
        except NoClosedFormError:
            if method is not None:
                raise
            if dps is not None:  # algebraic laws: mpmath continuation on the curve
                return self._stieltjes_continuation(zarr, dps)
            out = self._stieltjes_fallback(zarr)
        certify(zarr, out)
        return out

    def _stieltjes_fallback(self, zarr):
        """Numeric ``g`` for laws without a closed form (curve continuation or
        subordination); overridden by convolved laws."""
        raise NoClosedFormError(f"{self!r} has no numeric Stieltjes route")

    def _dstieltjes_fallback(self, zarr, gv):
        raise NoClosedFormError(f"{self!r} has no numeric derivative route")

    def _evaluate(self, kind, method, points, *, dps=None, complex_=False):
        """Evaluate the compiled ``kind`` expression (stieltjes, df1, df2,
        density) of the parameter-symbolic twin at ``points``."""
        from ._numeric import _numeric_form

        expr, syms, values = _numeric_form(self, kind, method)
        var = {"stieltjes": C.z, "df1": C.lam, "df2": C.lam, "density": C.x}[kind]
        args = (var,) + syms
        if dps is not None:
            import mpmath

            with mpmath.workdps(dps + 5):
                vals = [mpmath.mpmathify(sp.N(v, dps + 5)) for v in values]
            return compile_expr(expr, args, backend="mpmath")(points, *vals, dps=dps)
        dtype = complex if (complex_ or needs_complex(expr)) else float
        return compile_expr(expr, args, dtype=dtype)(points, *[complex(v) if dtype is complex else float(v) for v in values])

    def _stieltjes_continuation(self, zarr, dps):
        import mpmath

        gsym, zsym = sp.Dummy("g"), sp.Dummy("z")
        curve = sp.Poly(self.algebraic_equation(gsym, zsym), gsym)
        cfun = [compile_expr(c, (zsym,), backend="mpmath") for c in reversed(curve.all_coeffs())]
        m1 = complex(sp.N(self.moments(1)[0]))
        radius = self._numeric_radius()
        out = np.empty(zarr.shape, dtype=object)
        with mpmath.workdps(dps + 10):
            def coeffs(zz):
                return [f(zz, dps=dps + 10)[()] for f in cfun]

            for idx in np.ndindex(zarr.shape):
                out[idx] = continuation_root(coeffs, zarr[idx], first_moment=m1, radius=radius, dps=dps)
        return out

    def df1_numeric(self, lam, *, dps: int | None = None):
        r"""``df1(lam)`` for ``lam >= 0`` (array), in ``[0, 1]`` [C6].

        ``lam = 0`` gives the rank fraction ``1 - mass(0)``.

        >>> import freeprob
        >>> float(freeprob.Discrete([1, 3]).df1_numeric(1.0))
        0.625
        """
        return self._df_numeric(lam, dps, 1)

    def df2_numeric(self, lam, *, dps: int | None = None):
        r"""``df2(lam)`` for ``lam >= 0`` (array) [C6].

        >>> import freeprob
        >>> float(freeprob.Identity(1).df2_numeric(1.0))
        0.25
        """
        return self._df_numeric(lam, dps, 2)

    def _df_numeric(self, lam, dps, which):
        self._require_numeric("df_numeric")
        lam_arr = np.asarray(lam, dtype=float)
        if np.any(~np.isfinite(lam_arr)) or np.any(lam_arr < 0):
            bad = lam_arr[~(np.isfinite(lam_arr) & (lam_arr >= 0))].ravel()[0]
            raise ParameterError("lam", bad, "[0, oo)")
        kind = "df1" if which == 1 else "df2"
        rank = 1 - self._mass_at_zero()
        safe = np.where(lam_arr > 0, lam_arr, 1.0)
        if dps is not None:
            vals = np.asarray(self._evaluate(kind, None, safe.astype(object) if safe.ndim else safe, dps=dps), dtype=object)
            vals[lam_arr == 0] = rank
            return vals
        try:
            vals = self._evaluate(kind, None, safe)
        except NoClosedFormError:
            # [C6] from the numeric Stieltjes transform on the negative axis:
            # df1 = 1 + lam g(-lam), df2 = 1 + 2 lam g(-lam) - lam^2 g'(-lam)
            zneg = -safe.astype(complex)
            gv = self.stieltjes_numeric(zneg)
            if which == 1:
                vals = 1 + safe * gv
            else:
                vals = 1 + 2 * safe * gv - safe**2 * self._dstieltjes_fallback(zneg, gv)
        if np.iscomplexobj(vals):
            if np.any(np.abs(vals.imag) > 1e-9 * (np.abs(vals.real) + 1e-300)):
                from ..errors import BranchError

                raise BranchError(f"{kind} left the real axis on the negative axis of {self!r}")
            vals = vals.real
        return np.where(lam_arr > 0, vals, rank)

    def density_numeric(self, x):
        """Density of the absolutely continuous part at real points (array).

        >>> import freeprob
        >>> round(float(freeprob.Semicircle().density_numeric(0.0)), 6)
        0.31831
        """
        self._require_numeric("density_numeric")
        out = self._evaluate("density", None, np.asarray(x, dtype=float))
        return np.asarray(out).real

    def cdf_numeric(self, x, *, nodes: int = 4000):
        r"""Cumulative distribution function at real points (atoms included).

        The absolutely continuous part is integrated on each support interval
        with the substitution ``x = a + (b - a)(1 - cos th)/2``, which absorbs
        square-root (and ``1/sqrt``) edges; accuracy about ``1e-6``.

        >>> import freeprob
        >>> round(float(freeprob.Semicircle().cdf_numeric(0.0)), 6)
        0.5
        """
        self._require_numeric("cdf_numeric")
        xq = np.asarray(x, dtype=float)
        out = np.zeros(xq.shape)
        for a, b in self._ac_intervals():
            th = np.linspace(0, np.pi, nodes + 1)
            grid = a + (b - a) * (1 - np.cos(th)) / 2
            dens = self.density_numeric(grid) * (b - a) * np.sin(th) / 2
            cum = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(th))])
            out += np.interp(xq, grid, cum, left=0.0, right=cum[-1])
        for loc, m in self.atoms():
            out += np.where(xq >= float(loc), float(m), 0.0)
        return out

    # support bookkeeping -----------------------------------------------------
    def _ac_intervals(self):
        sup = self.support()
        parts = sup.args if isinstance(sup, sp.Union) else (sup,)
        return [(float(p.start), float(p.end)) for p in parts if isinstance(p, sp.Interval)]

    def _atom_points(self):
        return np.array([complex(sp.N(loc)) for loc, _ in self.atoms()], dtype=complex)

    def _check_off_support(self, zarr):
        real = zarr[zarr.imag == 0].real
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


def _short(v):
    if isinstance(v, np.ndarray):
        return f"array({v.size})"
    return str(v)


def _check_order(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError("n", n, "integers >= 1")
    return int(n)


def _mp_points(z):
    arr = np.asarray(z)
    if arr.dtype == object:
        return arr
    return arr.astype(complex) if np.iscomplexobj(arr) else arr.astype(float)


# ------------------------------------------------------------------ routes
@cached()
def _stieltjes(law, z, method):
    routes = [method] if method else _ROUTES["stieltjes"]
    for route in routes:
        if route == "closed":
            out = law._stieltjes_closed(z)
        else:
            xd = sp.Dummy("x")
            out = law._spectral_mean(1 / (z - xd), xd)
        if out is not None:
            return out
    raise NoClosedFormError(
        f"{law!r} has no closed-form Stieltjes transform by route(s) {routes}; "
        "use algebraic_equation() or stieltjes_numeric()")


@cached()
def _curve(law, g, z, method):
    routes = [method] if method else _ROUTES["algebraic_equation"]
    for route in routes:
        out = law._curve_closed(g, z) if route == "closed" else law._curve_from_atoms(g, z)
        if out is not None:
            return sp.expand(out) if route == "atoms" else out
    raise NoClosedFormError(f"{law!r} is not known to be algebraic (no curve by route(s) {routes})")


def _first_moment(law):
    return law.moments(1)[0]


@cached()
def _r(law, w, method):
    routes = [method] if method else _ROUTES["r_transform"]
    errors = []
    for route in routes:
        if route == "closed":
            out = law._r_closed(w)
            if out is not None:
                return out
            continue
        try:
            gd, zd, rd = sp.Dummy("g"), sp.Dummy("z"), sp.Dummy("R")
            curve = law.algebraic_equation(gd, zd)
            # z = R + 1/w keeps the degree: deg_R Q = deg_z P; explicit roots
            # exist only up to degree 2, so decide before eliminating
            if sp.Poly(curve, zd).degree() > 2:
                raise NoClosedFormError(f"the R-transform solves a polynomial equation of degree "
                                        f"{sp.Poly(curve, zd).degree()}")
            eq = r_equation_from_curve(curve, gd, zd, rd, w)
            return solve_analytic_branch(eq, rd, w, _first_moment(law), law._sample_point, "R-transform")
        except NoClosedFormError as exc:
            errors.append(str(exc))
    raise NoClosedFormError(f"no closed-form R-transform for {law!r}: " + "; ".join(errors or ["no route"]))


@cached()
def _s(law, t, method):
    m1 = _first_moment(law)
    if m1 == 0:
        raise TransformNotDefinedError(
            f"the S-transform of {law!r} does not exist: its mean tr A is 0 (S(0) = 1/tr A)")
    routes = [method] if method else _ROUTES["s_transform"]
    errors = []
    for route in routes:
        try:
            if route == "closed":
                out = law._s_closed(t)
                if out is not None:
                    return out
                continue
            sd = sp.Dummy("S")
            if route == "r":
                eq = s_equation_from_r(law.r_transform(C.w), C.w, sd, t)
            else:
                gd, zd = sp.Dummy("g"), sp.Dummy("z")
                eq = s_equation_from_curve(law.algebraic_equation(gd, zd), gd, zd, sd, t)
            return solve_analytic_branch(eq, sd, t, 1 / m1, law._sample_point, "S-transform")
        except NoClosedFormError as exc:
            errors.append(f"{route}: {exc}")
    raise NoClosedFormError(f"no closed-form S-transform for {law!r}: " + "; ".join(errors or ["no route"]))


@cached()
def _df1(law, lam):
    zd = sp.Dummy("z")
    expr = C.df1_from_stieltjes(law.stieltjes(zd), zd, lam)
    return _canonical(expr)


def _canonical(expr):
    """Canonical public form: spectral constants absorbed into the mean;
    rational closed forms cancelled and factored; radical forms as derived."""
    if expr.atoms(SpectralMean):
        return absorb_means(expr)
    if not needs_complex(expr):
        return sp.factor(sp.cancel(expr))
    return expr


@cached()
def _df2(law, lam):
    return _canonical(C.df2_from_df1(law.df1(lam), lam))


@cached()
def _moments(law, n, method):
    routes = [method] if method else _ROUTES["moments"]
    errors = []
    for route in routes:
        try:
            if route == "closed":
                out = law._moments_closed(n)
            elif route == "mean":
                xd = sp.Dummy("x")
                means = [law._spectral_mean(xd**k, xd) for k in range(1, n + 1)]
                out = None if means[0] is None else [_exact_mean(m) for m in means]
            elif route == "cumulants":
                out = moments_from_free_cumulants(_free_cumulants(law, n, "r"))
            else:
                gd, zd = sp.Dummy("g"), sp.Dummy("z")
                out = moments_from_curve(law.algebraic_equation(gd, zd), gd, zd, n)
            if out is not None:
                return tuple(sp.expand(sp.sympify(v)) for v in out)
        except NoClosedFormError as exc:
            errors.append(f"{route}: {exc}")
    raise NoClosedFormError(f"no exact moments for {law!r}: " + "; ".join(errors or ["no route"]))


def _exact_mean(m):
    """Exact value of a spectral mean: an explicit finite sum, a symbolic
    ``Sum`` for a symbolic power law, a float for numeric
    array spectra (float64, blockwise summation)."""
    if not isinstance(m, SpectralMean):
        return m
    spec = m.spectrum
    if isinstance(spec, ArraySpectrum) or (not spec.free_symbols and spec.size > 64):
        return sp.Float(float(compile_expr(m, ())()))
    out = m.doit()
    return sp.simplify(out) if spec.free_symbols else out


@cached()
def _free_cumulants(law, n, method):
    routes = [method] if method else _ROUTES["free_cumulants"]
    errors = []
    for route in routes:
        try:
            if route == "closed":
                out = law._free_cumulants_closed(n)
            elif route == "r":
                out = series_coefficients(law.r_transform(C.w), C.w, n)
            else:
                out = free_cumulants_from_moments(_moments(law, n, None))
            if out is not None:
                return tuple(sp.expand(v) for v in out)
        except NoClosedFormError as exc:
            errors.append(f"{route}: {exc}")
    raise NoClosedFormError(f"no exact free cumulants for {law!r}: " + "; ".join(errors or ["no route"]))
