"""Route dispatch of the symbolic transforms (private to :mod:`freeprob.laws`).

Each public transform of :class:`~freeprob.laws.SpectralLaw` tries its routes
in order: a law's closed-form hook first, then derivations through the
transform relations of :mod:`freeprob.laws._relations` (series reversion,
functional inversion, the moment-cumulant formula, elimination of the
Stieltjes curve).  Results are cached on the frozen law
(:func:`freeprob.clear_caches`).
"""

from __future__ import annotations

import sympy as sp

from freeprob import conventions as C
from freeprob.errors import NoClosedFormError, ParameterError, TransformNotDefinedError
from freeprob.laws._relations import (
    free_cumulants_from_moments,
    moments_from_curve,
    moments_from_free_cumulants,
    r_equation_from_curve,
    s_equation_from_curve,
    s_equation_from_r,
    series_coefficients,
    solve_analytic_branch,
)
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr, needs_complex
from freeprob.numeric.spectrum import ArraySpectrum, SpectralMean, absorb_means

ROUTES = {
    "stieltjes": ("closed", "mean", "curve"),
    "algebraic_equation": ("closed", "atoms"),
    "r_transform": ("closed", "curve"),
    "s_transform": ("closed", "r", "curve"),
    "moments": ("closed", "mean", "cumulants", "curve"),
    "free_cumulants": ("closed", "r", "moments"),
}


def check_method(kind, method):
    if method is not None and method not in ROUTES[kind]:
        raise ParameterError("method", method, "{" + ", ".join(ROUTES[kind]) + "}")


@cached()
def _stieltjes(law, z, method):
    routes = [method] if method else ROUTES["stieltjes"]
    for route in routes:
        if route == "closed":
            out = law._stieltjes_closed(z)
        elif route == "mean":
            xd = sp.Dummy("x")
            out = law._spectral_mean(1 / (z - xd), xd)
        else:  # a certified branch of a degree-2 curve; of degree 3 or 4 on the real axis
            from freeprob.laws._quadratic import quadratic_stieltjes
            from freeprob.laws._radical import radical_stieltjes

            out = quadratic_stieltjes(law, z) if law.finite_spectrum is None else None
            if out is None and law.finite_spectrum is None:
                out = radical_stieltjes(law, z)
        if out is not None:
            return out
    hint = ""
    if "curve" in routes and law.finite_spectrum is None and z.is_real is not True:
        from freeprob.laws._radical import radical_curve

        if radical_curve(law) is not None:
            hint = ("; a curve of degree 3 or 4 has closed forms on the real axis only (a real z, e.g. "
                    "sympy.Symbol('x', real=True), or density()): the radicals of Cardano and Ferrari have cuts "
                    "across the upper half plane")
    raise NoClosedFormError(
        f"{law!r} has no closed-form Stieltjes transform by route(s) {routes}{hint}; "
        "use algebraic_equation() or stieltjes_numeric()")


@cached()
def _curve(law, g, z, method):
    routes = [method] if method else ROUTES["algebraic_equation"]
    for route in routes:
        out = law._curve_closed(g, z) if route == "closed" else law._curve_from_atoms(g, z)
        if out is not None:
            return sp.expand(out) if route == "atoms" else out
    raise NoClosedFormError(f"{law!r} is not known to be algebraic (no curve by route(s) {routes})")


def _first_moment(law):
    return law.moments(1)[0]


@cached()
def _r(law, w, method):
    routes = [method] if method else ROUTES["r_transform"]
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
    routes = [method] if method else ROUTES["s_transform"]
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
    closed = law._df1_closed(lam)
    if closed is not None:  # a law whose df1 has a cancellation-free closed form
        return closed
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
    routes = [method] if method else ROUTES["moments"]
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
    routes = [method] if method else ROUTES["free_cumulants"]
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
