r"""Learning curves of spectral estimators by contour integrals [C18].

For ``w_hat = f(Sigma_hat) X^T y/P`` (:mod:`freeprob.models.filters`) with
``h = x f`` and ``r = 1 - h``, the errors of linear regression [C2] are

.. math::
    E_g = \bar w^\top r(\hat\Sigma)\Sigma r(\hat\Sigma)\bar w
        + \frac{\sigma^2}{P}\mathrm{Tr}\,\Sigma\,\hat\Sigma f(\hat\Sigma)^2,\qquad
    E_{tr} = \bar w^\top \hat\Sigma r(\hat\Sigma)^2\bar w
        + \sigma^2\Big(1 - \frac{N}{P}\mathrm{tr}\,(2h - h^2)(\hat\Sigma)\Big).

Each matrix function is a contour integral ``phi(Sigma_hat) = (1/2 pi i)
oint phi(z) (z - Sigma_hat)^{-1} dz`` and each resolvent has the deterministic
equivalent ``(z - Sigma_hat)^{-1} ~ (kappa/z)(Sigma + kappa)^{-1}`` at ``kappa =
kappa(-z)`` (:func:`~freeprob.conventions.contour_resolvent`).  One resolvent
gives the one-point terms; the signal part of ``E_g`` has two, and the
two-point equivalent [R5] at distinct arguments gives

.. math::
    \bar w^\top (z-\hat\Sigma)^{-1}\Sigma(z'-\hat\Sigma)^{-1}\bar w \simeq
    \frac{\kappa\kappa'}{zz'}\,
    \frac{\langle x/((x+\kappa)(x+\kappa'))\rangle_{\bar w}}
         {1 - q\,\langle x^2/((x+\kappa)(x+\kappa'))\rangle_\Sigma},

whose numerator alone is the mean predictor's ``Bias^2`` (the product of two
one-point equivalents [C15]); ``Var_X`` is the rest.  :func:`integrands`
writes these as sympy expressions; every mean of a rational summand is
reduced by partial fractions to the degrees of freedom ``D(kappa) = df1 =
<x/(x + kappa)>`` [C6] at the two arguments, with the constants cancelled
symbolically (no ``1 - D`` that loses a small ``D`` when ``q`` is huge).  The
numeric route (:func:`evaluate_contour`) compiles them once and sums them by
the trapezoidal rule on a Bernstein ellipse around the sample spectrum, with
``kappa`` solved at every node on the physical branch.  Its accuracy is
certified by doubling the nodes until two results agree to ``1e-10``
relative.

>>> import freeprob
>>> m = freeprob.LinearRidge(freeprob.Identity(1), samples=200, dimension=100,
...                          estimator=freeprob.GradientFlow(time=1e6))
>>> round(float(m.evaluate()["Etr"]), 10)           # interpolation: Etr -> 0 at t -> oo (q < 1, noise 0)
0.0
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ConvergenceError, ParameterError
from freeprob.models._contour_nodes import _refine, _seed
from freeprob.models._spectral_numeric import (
    _X,
    _bounds,
    _Ellipse,
    _Law,
    bulk_lower_edge,
    bulk_upper_edge,
    population_floor,
    sample_hull,
    sample_lower_edge,
    sample_upper_edge,
)
from freeprob.models._spectral_quad import (
    NOISE_KEY,
    REFINE,
    SPECTRAL_KEYS,
    _agree,
    _certify_real,
    _two_point,
    integrate_split,
    keys_of,
    noise_two_point,
    pole_part,
)
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.rounding import relative_rounding_bound

__all__ = ["integrands", "population_limit", "resolvent_mean", "evaluate_contour", "contour_keys", "SPECTRAL_KEYS", "sample_upper_edge",
           "spectral_quantities", "filter_values", "population_floor", "sample_hull", "sample_lower_edge",
           "bulk_lower_edge", "bulk_upper_edge"]


Z1, Z2 = C.z, C.z2
K1, K2 = sp.symbols("kappa_z kappa_z'")        # kappa(-z), kappa(-z') [C18]
F1, H1, R1, R2 = sp.symbols("f_z h_z r_z r_z'")  # the filters at the nodes
D = sp.Function("D")          # df1 = <x/(x + kappa)> over the population [C3], [C6]
DW = sp.Function("D_w")       # sum_k p_k eta_k/(eta_k + kappa) over the target's weights
W2 = sp.Symbol("wnorm2", nonnegative=True)     # ||wbar||^2 = <1>_wbar


def resolvent_mean(summand, var, dmean, mass):
    """A spectral mean of a rational ``summand`` in ``var`` through the
    degrees of freedom ``dmean(kappa) = <x/(x + kappa)>`` [C6]: partial
    fractions in ``var``, then ``<1/(x + k)> = (mass - dmean(k))/k`` (and its
    derivatives for repeated poles) and a constant ``c`` to ``c * mass``;
    expanded, so the constants cancel symbolically (``<x^2/((x+a)(x+b))> =
    (a D(a) - b D(b))/(a - b)``, no ``1 - D`` that loses the digits of a small
    ``D`` when ``q`` is huge).

    >>> import sympy as sp
    >>> x, a, b = sp.symbols("x a b")
    >>> sp.simplify(resolvent_mean(x**2/((x + a)*(x + b)), x, D, 1) - (a*D(a) - b*D(b))/(a - b))
    0
    """
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.apart(sp.together(summand), var)):
        if not term.has(var):
            out += term * mass
            continue
        coeff, rest = term.as_independent(var, as_Add=False)
        base, expo = rest.as_base_exp()
        shift = base - var
        if not (expo.is_Integer and expo < 0 and base.is_Add and not shift.has(var)):
            raise ParameterError("summand", summand, "a rational function with poles at -kappa",
                                 f"the term {term} is not c/(x + kappa)^m")
        m = -int(expo)
        k = sp.Symbol("_k")
        inv = (mass - dmean(k)) / k                  # <1/(x + k)>
        deriv = sp.diff(inv, k, m - 1).subs(k, shift) if m > 1 else inv.subs(k, shift)
        out += coeff * (-1) ** (m - 1) / sp.factorial(m - 1) * deriv
    return sp.expand(out)


def _parts():
    """The linear integrands as ``{key: (prefactor, weights, summand)}``: the
    value is ``(1/2 pi i) oint prefactor * mean(summand)`` with the mean over
    the population (``"pop"``, ``tr_N``) or the target (``"tgt"``, ``wbar^T .
    wbar``) of a rational summand in ``x`` (see the module and
    :func:`integrands`)."""
    q, s2 = C.q, C.sigma2
    res1, res2 = C.contour_resolvent(K1, Z1), C.contour_resolvent(K2, Z2)
    return {
        # tr_N h(Sigma_hat) = oint h(z) tr_N (z - Sigma_hat)^-1
        "df1": (H1 * res1, "pop", 1 / (_X + K1)),
        # sigma^2 Tr(Sigma Sigma_hat f^2)/P = sigma^2 q tr_N Sigma (z f^2)(Sigma_hat)
        "var_X_noise": (s2 * q * Z1 * F1**2 * res1, "pop", _X / (_X + K1)),
        # wbar^T Sigma_hat r^2 wbar
        "Etr_bias": (Z1 * R1**2 * res1, "tgt", 1 / (_X + K1)),
        # sigma^2 (1 - q tr_N (2h - h^2)(Sigma_hat)) without the constant
        "Etr_noise": (-s2 * q * (2 * H1 - H1**2) * res1, "pop", 1 / (_X + K1)),
        # the mean predictor: the product of two one-point equivalents [C15]
        "bias2": (R1 * R2 * res1 * res2, "tgt", _X / ((_X + K1) * (_X + K2))),
    }


def _mean(weights, summand):
    return resolvent_mean(summand, _X, D, 1) if weights == "pop" else resolvent_mean(summand, _X, DW, W2)


@cached(maxsize=8)
def integrands() -> dict:
    """The contour integrands [C18] as sympy expressions (see the module):
    ``{key: expr}`` with one-point keys in ``z, kappa_z, f_z, h_z, r_z`` and the
    two-point keys ``bias2``, ``var_X`` in ``z, z', kappa_z, kappa_z', r_z, r_z'``;
    ``q``, ``sigma2`` and ``wnorm2`` are parameters.  The value of each key
    is ``(1/2 pi i) oint`` (one-point) or ``(1/2 pi i)^2 oint oint`` (two-point)
    of its integrand; ``E_tr`` adds ``sigma2`` to ``Etr_noise``.

    >>> sorted(integrands())
    ['Etr_bias', 'Etr_noise', 'bias2', 'df1', 'var_X', 'var_X_noise']
    """
    out = {key: pre * _mean(w, summand) for key, (pre, w, summand) in _parts().items()}
    gamma12 = C.q * _mean("pop", _X**2 / ((_X + K1) * (_X + K2)))
    # the two-point signal term minus bias2: bias2 (1/(1 - gamma12) - 1),
    # cancelled symbolically so that a small Var_X keeps its digits
    out["var_X"] = sp.factor_terms(sp.together(out["bias2"] / (1 - gamma12) - out["bias2"]))
    return out


def population_limit(estimator) -> dict:
    r"""The learning curve at leading order in ``q = N/P -> 0`` (many more
    samples than dimensions), derived from the contour integrands [C18]:
    ``{key: (order, weights, phi)}`` with ``key ~ q^order mean_weights
    phi(x)``.  At ``q = 0`` the kappa equation gives ``kappa(-z) = -z``, the
    resolvent ``(z - Sigma)^{-1}``, and each contour integral is the residue
    at ``z = x``: ``Bias^2 = <x r(x)^2>_wbar`` (gradient flow: ``sum_k eta_k
    wbar_k^2 e^{-2 t eta_k}``), ``df1 = <h(x)>``, ``Var_{X eps} = sigma^2 q
    <x^2 f(x)^2>`` at order one.  ``var_X`` (a product of two means at order
    one) is not among the keys; it is ``O(q)`` against ``Bias^2``.

    >>> import freeprob, sympy as sp
    >>> t = sp.Symbol("t", positive=True)
    >>> population_limit(freeprob.GradientFlow(time=t))["bias2"]
    (0, 'tgt', x*exp(-2*t*x))
    """
    # the filters stay opaque functions through the residues (the poles are
    # those of the rational part), then become the estimator's
    ff, hf, rf = sp.Function("f"), sp.Function("h"), sp.Function("r")
    opaque = {F1: ff(Z1), H1: hf(Z1), R1: rf(Z1), R2: rf(Z2)}
    f = estimator.filter(C.x)
    actual = {ff: sp.Lambda(C.x, f), hf: sp.Lambda(C.x, C.hat_filter(f, C.x)),
              rf: sp.Lambda(C.x, C.residual_filter(f, C.x))}
    out = {}
    for key, (pre, weights, summand) in _parts().items():
        expr = (pre * summand).xreplace(opaque)
        order = 0
        # a key that vanishes at q = 0 through an explicit factor q (the noise
        # terms): its order-q coefficient is the rest at q = 0 (kappa's own
        # q-dependence enters only at the next order)
        while order < 2 and sp.simplify(expr.subs({K1: -Z1, K2: -Z2}).subs(C.q, 0)) == 0:
            reduced = sp.cancel(expr / C.q)
            if sp.fraction(reduced)[1].has(C.q):
                break
            expr, order = reduced, order + 1
        expr = expr.subs(C.q, 0).subs({K1: -Z1, K2: -Z2})
        for z in (Z1, Z2):
            if expr.has(z):
                expr = _residue_at(expr, z, _X)
        for fun, lam in actual.items():
            expr = expr.replace(fun, lam)
        out[key] = (order, weights, _tidy(expr.doit().xreplace({_X: C.x})))
    return out


def _tidy(expr):
    """A rational function of ``x`` and one exponential ``E = e^{-t(...)}``
    (a filter's), factored with ``E`` held as a symbol, so that no
    ``e^{+t x}`` appears; other forms are returned as they are."""
    exps = sorted(expr.atoms(sp.exp), key=sp.count_ops)
    if not exps:
        return sp.factor(sp.cancel(expr))
    e = sp.Dummy("E")
    masked = expr.subs(exps[0], e)
    if masked.has(sp.exp):
        return expr
    return sp.factor(sp.cancel(masked)).subs(e, exps[0])


def _residue_at(expr, z, x):
    """``(1/2 pi i) oint expr dz`` around ``z = x`` (the spectrum), by the
    residue of the pole at ``x``; the filters are analytic inside the
    contour (their singular points are outside)."""
    den = sp.Poly(sp.fraction(sp.together(expr))[1], z)
    order = 0
    while den.degree() > 0:
        quotient, remainder = sp.div(den, sp.Poly(z - x, z))
        if not remainder.is_zero:
            break
        den, order = quotient, order + 1
    if order == 0:
        raise ParameterError("integrand", expr, "a pole at the spectrum")
    g = sp.cancel(expr * (z - x) ** order)
    return sp.diff(g, z, order - 1).subs(z, x) / sp.factorial(order - 1)


def spectral_quantities(estimator) -> dict:
    """The contour integrands of :func:`integrands` with the estimator's
    filter ``f``, ``h = x f`` and ``r = 1 - x f`` substituted at ``z`` and
    ``z'`` [C18]: each key's value is ``(1/2 pi i) oint`` of its expression
    (``oint oint`` for ``bias2``, ``var_X``); ``Etr`` is ``sigma2`` plus the
    integrals of ``Etr_bias`` and ``Etr_noise``.

    >>> import freeprob
    >>> import sympy as sp
    >>> df1 = spectral_quantities(freeprob.GradientFlow(time=2))["df1"]   # (1/2 pi i) oint h(z) (1 - D)/z dz
    >>> sp.simplify(df1 - (1 - sp.exp(-2 * C.z)) * (1 - D(K1)) / C.z)
    0
    """
    f1, f2 = estimator.filter(Z1), estimator.filter(Z2)
    sub = {F1: f1, H1: C.hat_filter(f1, Z1), R1: C.residual_filter(f1, Z1), R2: C.residual_filter(f2, Z2)}
    return {key: expr.xreplace(sub) for key, expr in integrands().items()}


# ------------------------------------------------------------------ numerics
@cached(maxsize=64)
def _compiled_filters(estimator_type, template):
    """``f``, ``h`` and ``r`` of a filter template, compiled (complex) in ``x``
    and the parameter symbols.  ``r = 1 - x f`` [C18] is put over one
    denominator with each ``exp``/power of the template held as an opaque
    symbol (``r = (lam + x e^{-t(x + lam)})/(x + lam)`` for gradient flow: no
    ``1 - ...`` that rounds to 0 where ``r`` is small, no ``e^{+t x}`` that
    overflows), and ``1 - e^u`` becomes ``-expm1(u)`` (no cancellation at
    the removable point of ``f``)."""
    from sympy.codegen.rewriting import expm1_opt, optimize

    syms = tuple(sorted(template.free_symbols - {C.x}, key=str))
    f = template
    opaque = {a: sp.Dummy("e") for a in f.atoms(sp.exp, sp.Pow) if a.has(C.x) and not a.exp.is_Integer}
    num, den = sp.fraction(sp.together(C.residual_filter(f.xreplace(opaque), C.x)))
    r = (sp.expand(num) / den).xreplace({v: k for k, v in opaque.items()})
    f = optimize(f, [expm1_opt])
    h = C.hat_filter(f, C.x)
    # a piecewise filter (a cutoff) is evaluated on real sample eigenvalues only
    return syms, compile_expr((f, h, r), (C.x,) + syms, dtype=float if template.has(sp.Piecewise) else complex)


# the resolvent means as the compiled evaluators' arguments (values at the nodes)
_VALUES = {D(K1): sp.Symbol("D_1"), D(K2): sp.Symbol("D_2"), DW(K1): sp.Symbol("Dw_1"), DW(K2): sp.Symbol("Dw_2")}


def _coefficients(expr, gens):
    """``{monomial: coefficient}`` of ``expr`` as a polynomial in the filter
    symbols ``gens``, each coefficient a derivative at 0 (not an expansion:
    the kernels keep their factored, cancellation-free form)."""
    out = {}
    for mono in sp.Poly(sp.expand(expr), *gens).monoms():
        coeff = expr
        for g, power in zip(gens, mono):
            coeff = sp.diff(coeff, g, power) / sp.factorial(power) if power else coeff
        out[mono] = coeff.xreplace({g: 0 for g in gens})
    return out


@cached(maxsize=16)
def _kernels():
    """The integrands split into filter monomials and compiled kernels."""
    ints = integrands()
    one_args = tuple(a.xreplace(_VALUES) for a in (Z1, K1, D(K1), DW(K1), C.q, C.sigma2, W2))
    one, exact = {}, {}
    for key in ("df1", "var_X_noise", "Etr_bias", "Etr_noise"):
        # the terms free of the equivalents (the "1" of tr (z - A)^-1 = (1 - D)/z)
        # are phi(z)/z or phi(z) with phi a polynomial in the filters, analytic
        # inside the contour: their integral is the residue at 0, with h(0) = 0
        # and r(0) = 1 [C18]; summed they would cost log10(q) digits
        expr = sp.expand(ints[key])
        free = sp.Add(*[t for t in sp.Add.make_args(expr) if not t.has(D) and not t.has(DW)])
        if free.has(K1):
            raise ParameterError("integrand", key, "terms free of D that do not involve kappa")
        residue = sp.residue(free.xreplace({H1: 0, R1: 1}), Z1, 0)
        if residue.has(F1):
            raise ParameterError("integrand", key, "a residue at 0 that does not need f(0)")
        exact[key] = compile_expr(residue, (C.q, C.sigma2, W2), dtype=float)
        one[key] = [(mono, compile_expr(coeff.xreplace(_VALUES), one_args, dtype=complex))
                    for mono, coeff in _coefficients(expr - free, (F1, H1, R1)).items()]
    two_args = tuple(a.xreplace(_VALUES) for a in (Z1, Z2, K1, K2, D(K1), D(K2), DW(K1), DW(K2), C.q, W2))
    # bias2 and var_X share their sandwich: one fused evaluator, paired with
    # one of each kernel's relative running error bound
    # (freeprob.numeric.rounding: kappa and the means at the nodes are solved
    # to the resolution u, the nodes z are exact), the floor of the two-point
    # sums' certificate where the plain one does not settle (_spectral_quad)
    coeffs = []
    for key in ("bias2", "var_X"):
        parts = _coefficients(ints[key], (R1, R2))
        if set(parts) != {(1, 1)}:
            raise ParameterError("integrand", key, "a two-point integrand linear in r(z) and r(z')")
        coeffs.append(parts[(1, 1)].xreplace(_VALUES))
    bounds = [relative_rounding_bound(c, inexact=two_args[2:8]) for c in coeffs]
    return one, exact, (compile_expr(tuple(coeffs), two_args, dtype=complex),
                        compile_expr(tuple(bounds), two_args, dtype=complex))


_E = sp.Symbol("E_t")   # e^{-t(z + lam)} of a declared exponential split


@cached(maxsize=8)
def _split_kernels(r0, r1):
    """The one-point integrands (their terms with a deterministic
    equivalent) as polynomials in ``E = e^{-t(z + lam)}`` for ``r = R0 + R1
    E`` [C18]: ``{key: {power: compiled coefficient}}`` in ``(z, kappa, D,
    D_w, q, sigma2, wnorm2, lam)``; with the exact residues and the fused
    two-point kernels of :func:`_kernels` and ``R1`` compiled in ``(z,
    lam)`` and ``F1 = -R1/z`` (``f = F0 + F1 E``) compiled in ``(z, lam)``
    (:mod:`freeprob.models._spectral_quad`)."""
    ints = integrands()
    _, exact, two = _kernels()
    rz = r0.xreplace({C.x: Z1}) + r1.xreplace({C.x: Z1}) * _E
    fz = sp.cancel(sp.expand(1 - r0.xreplace({C.x: Z1})) / Z1) - sp.cancel(r1.xreplace({C.x: Z1}) / Z1) * _E
    args = tuple(a.xreplace(_VALUES) for a in (Z1, K1, D(K1), DW(K1), C.q, C.sigma2, W2, C.lam))
    split = {}
    for key in ("df1", "var_X_noise", "Etr_bias", "Etr_noise"):
        expr = sp.expand(ints[key])
        rest = sp.Add(*[t for t in sp.Add.make_args(expr) if t.has(D) or t.has(DW)])
        poly = sp.Poly(sp.expand(rest.xreplace({F1: fz, H1: 1 - rz, R1: rz})), _E)
        split[key] = {int(m[0]): (compile_expr(sp.together(c).xreplace(_VALUES), args, dtype=complex),
                                  _pole_at_zero(c)) for m, c in poly.terms()}
    return split, exact, two, compile_expr(r1.xreplace({C.x: Z1}), (Z1, C.lam), dtype=complex), \
        compile_expr(sp.cancel(-r1.xreplace({C.x: Z1}) / Z1), (Z1, C.lam), dtype=complex), \
        pole_part(r0.xreplace({C.x: Z1}), Z1)


def _pole_at_zero(coeff):
    """Whether a split coefficient has a pole at ``z = 0`` when ``lam = 0``
    (the split's pole at ``-lam``): such a part stays on a contour around 0."""
    den = sp.denom(sp.together(sp.cancel(sp.together(coeff.subs(C.lam, 0)))))
    return bool(den.has(Z1) and sp.simplify(den.subs(Z1, 0)) == 0)


def filter_values(estimator, values, z, *, finite=True):
    """``[f, h, r]`` at nodes ``z`` (``(1, K)`` or one row per parameter point)
    for the parameter points ``values`` (flat arrays), each ``(points, K)``;
    ``finite=False`` lets an overflow through (the contour probe)."""
    syms, fn = _compiled_filters(type(estimator), estimator.template())
    args = [np.asarray(values[_name(estimator, s)], dtype=float)[..., None] for s in syms]
    with np.errstate(over="ignore", invalid="ignore"):
        f, h, r = fn(z, *args, finite=finite)
    shape = np.broadcast_shapes(z.shape, *[a.shape for a in args]) if args else z.shape
    return [np.broadcast_to(np.asarray(v, dtype=complex), shape) for v in (f, h, r)]


def _name(estimator, sym):
    for name, s in estimator.symbols.items():
        if s == sym:
            return name
    raise ParameterError("estimator", repr(estimator), "a filter whose template uses its declared symbols")


def _one_point(kern, fvals, z, k, m, mw, q, s2, w2, weights):
    """``(sum, sum of |terms|)`` of a one-point integrand over the nodes."""
    f, h, r = fvals
    total = 0
    for (a, b, c), fn in kern:
        coeff = np.asarray(fn(z, k, m, mw, q, s2, w2), dtype=complex)
        total = total + (f**a) * (h**b) * (r**c) * (coeff * weights)
    return np.sum(total, axis=-1), np.sum(np.abs(total), axis=-1)


def evaluate_contour(model, estimator, values, q, s2, *, tol=1e-10, max_nodes=8192):
    """Every key of :data:`SPECTRAL_KEYS` for ``estimator`` on the linear model
    ``model`` at the filter parameters ``values`` (arrays broadcast
    together), ratio ``q`` and noise ``s2`` (see the module)."""
    from freeprob.models.design import target_spectrum

    pop = model.population
    law = _Law(pop, target_spectrum(pop, model.target, model.dimension))
    lower, x_max = _bounds(law, q)
    upper = sample_upper_edge(law.means, q, x_max) if law._pop is not None else bulk_upper_edge(pop, q)
    return contour_keys(law, estimator, values, q, s2, lower, upper, tol=tol, max_nodes=max_nodes)


def contour_keys(law, estimator, values, q, s2, lower, upper, *, tol=1e-10, max_nodes=8192):
    """Every key of :data:`SPECTRAL_KEYS` for the linear problem of ``law``
    (a solver of the contour route: :class:`_Law` or a model's own, see
    :func:`_solve_kappa`) at ratio ``q``, its sample spectrum inside
    ``[lower, upper]``; the integration behind :func:`evaluate_contour`."""
    shape = np.broadcast_shapes(*[np.shape(v) for v in values.values()], np.shape(s2))
    flat = {k: np.broadcast_to(v, shape).ravel() for k, v in values.items()}
    s2f = np.broadcast_to(np.asarray(s2, dtype=float), shape).ravel()
    estimator.check_spectrum(upper, flat)
    hi = upper * (1 + 1e-9) + 1e-300
    keys = keys_of(law)
    out = {key: np.empty(flat[next(iter(flat))].shape if flat else (1,)) for key in keys}
    split = estimator.exponential_split()
    if split is not None:
        # times past the spectrum's scale: each exponential on its own
        # parabola (the node count no longer grows with t); short times stay
        # on the ellipse, where the filter is slowly varying.  Gradient
        # descent's E = (1 - eta(z + lam))^k = e^{-k s} takes the parabolas
        # in s = -log(1 - eta(z + lam)), which is analytic on the spectrum
        # while eta (hi + lam) < 1; a larger step (below the stability limit
        # 2) adds a second loop around the spectrum above 1/eta - lam, where
        # E = (-1)^k e^{-k s'} (see _Mapped), while the bulk's lower edge
        # stays below 1/eta - lam.  Fewer than 64 steps stay on the ellipse:
        # the parabolas of the octave of t0 reach |Im s| = 27/t0, which must
        # stay well inside the strip |Im s| < pi/2 that tells the loops
        # apart (at 2 steps they reached 2 pi)
        rate, eta = estimator.split_rate(flat)
        lam = flat["ridge"]
        # a population with an atom at 0 (mass m0, q (1 - m0) < 1): the parts
        # without the split's pole go around the nonzero bulk, which keeps
        # its gap (also at q >= 1: the samples outnumber the population's rank)
        bulk = lower if lower > 0 or not hasattr(law, "bulk_edge") or not np.any((eta == 0) | (rate >= 64)) \
            else law.bulk_edge(q)
        reach, single = eta * (hi + lam), eta * (hi + lam) < 1 - 2.0**-20
        pinched = (reach < 2 - 2.0**-20) & (eta * (bulk + lam) < 1 - 2.0**-20)
        inside = (eta == 0) | ((single | pinched) & (rate >= 64))
        s_hi = np.where(eta > 0, -np.log1p(-np.where(single, reach, 0.0)), hi + lam)
        late = ((rate * s_hi >= 4.0) | ~single) & inside
        if late.any():
            sub = {"rate": rate[late], "eta": eta[late], "ridge": lam[late]}
            vals = integrate_split(law, sub, q, s2f[late], bulk, hi, _split_kernels(*split), tol, max_nodes)
            for key in keys:
                out[key][late] = vals[key]
        if late.all():
            return {key: out[key].reshape(shape) for key in keys}
        early = np.flatnonzero(~late)
        flat, s2f = {k: v[early] for k, v in flat.items()}, s2f[early]
    else:
        early = np.arange(next(iter(flat.values())).size if flat else 1)
    rhos = _radii(estimator, flat, lower, hi)
    # one contour per octave of rho - 1: a slowly varying filter is not
    # charged the nodes of the fastest one
    groups = np.floor(np.log2(rhos - 1))
    for g in np.unique(groups):
        sel = np.flatnonzero(groups == g)
        sub = {k: v[sel] for k, v in flat.items()}
        vals = _integrate(law, estimator, sub, q, s2f[sel], _Ellipse(lower, hi, float(np.min(rhos[sel]))), tol,
                          max_nodes)
        for key in keys:
            out[key][early[sel]] = vals[key]
    return {key: out[key].reshape(shape) for key in keys}


def _radii(estimator, flat, lower, hi):
    """Per parameter point, the ``rho`` of the contour: inside the filter's
    poles (``rho_pole^(5/8)``, at most 3) and where each of ``f``, ``h``, ``r``
    grows by at most ``e`` over its size on the spectrum; a pole on the
    spectrum (``rho_pole = 1``) is refused."""
    base = _Ellipse(lower, hi, 2.0)
    n = next(iter(flat.values())).shape[0] if flat else 1
    rho = np.full(n, 3.0)
    sing = estimator.singular_points(flat)
    if sing.size:
        r_s = base.radius_of(sing)
        r_s = r_s if r_s.shape == (n,) else np.full(n, float(np.min(r_s)))
        if np.any(r_s <= 1 + 1e-12):
            raise ParameterError("estimator", repr(estimator), "a filter analytic around the sample spectrum",
                                 "a pole of the filter lies on the spectrum [C18]")
        # outer contour at r_s^(5/8), inner at r_s^(3/8) (see _integrate):
        # both trapezoidal errors fall as r_s^(-3N/8)
        rho = np.minimum(rho, r_s ** 0.625)
    # Chebyshev points inside the segment (never a removable 0/0 of the filter)
    seg = lower + (hi - lower) * (0.5 - 0.5 * np.cos(np.pi * (np.arange(64) + 0.5) / 64))
    # each of f, h, r separately: r may not grow where f is large (f(0) = t for gradient flow)
    on = np.max(np.abs(np.stack(filter_values(estimator, flat, seg.astype(complex)[None, :]))), axis=2)
    th = np.exp(1j * 2 * np.pi * (np.arange(128) + 0.5) / 128)[None, :]
    for _ in range(60):
        zc = base.c + base.a * (rho[:, None] * th + 1 / (rho[:, None] * th)) / 2
        mx = np.max(np.abs(np.stack(filter_values(estimator, flat, zc, finite=False))), axis=2)
        grow = np.any(~np.isfinite(mx) | (mx > np.e * np.maximum(on, 1e-300)), axis=0)
        if not grow.any():
            break
        rho = np.where(grow, 1 + (rho - 1) / 2, rho)
    return np.maximum(rho, 1 + 1e-6)


def _integrate(law, estimator, vals, q, s2, ellipse, tol, max_nodes):
    """The trapezoidal sums at ``count`` nodes per contour, doubled until
    two counts agree.  Two-point terms take ``z`` on an inner ellipse and
    ``z'`` on the outer one: the divided differences of the partial
    fractions then never meet ``kappa ~ kappa'`` (no cancellation)."""
    one, exact, two = _kernels()
    keys = keys_of(law)
    inner = _Ellipse(0, 1, ellipse.rho ** 0.6)
    inner.c, inner.a = ellipse.c, ellipse.a
    prev, state = None, {}
    # start near the count at which rho_inner^-N reaches the tolerance; a
    # filter that needs more than max_nodes is refused before any work
    need = np.log(1e12) / np.log(inner.rho)
    if need > max_nodes:
        where = ", ".join(f"{k} in [{np.min(v):.4g}, {np.max(v):.4g}]" for k, v in vals.items())
        raise ConvergenceError(f"the contour needs about {need:.0f} nodes (rho = {ellipse.rho:.6f}) for "
                               f"{type(estimator).__name__} at {where}, beyond {max_nodes}: the filter varies on "
                               "a scale finer than the "
                               "sample spectrum's; past the spectrum's slowest time scale the estimator is "
                               "evaluated as its ridge limit [C18]")
    count = int(2 ** np.clip(np.ceil(np.log2(need)) - 1, 5, np.log2(max_nodes) - 1))
    while True:
        nodes = {}
        for name, ell in (("out", ellipse), ("in", inner)):
            z, w = ell.nodes(count)
            if name not in state:
                # 32 seeds continued from infinity (the inner contour's from
                # the outer one's states at the same angles), then along it
                outer = state.get("out")
                state[name] = _seed(law, q, ell, None if outer is None else outer[3][:: outer[0].size // 32])
            while state[name][0].size < count:
                state[name] = _refine(law, q, ell, state[name])
            k, m, mw, _ = state[name]
            nodes[name] = (z, w, k, m, mw, filter_values(estimator, vals, z[None, :]))
        z, w, k, m, mw, fvals = nodes["out"]
        cur = {}
        def point(key, s2_value):
            total, mag = _one_point(one[key], fvals, z, k, m, mw, q, s2_value, law.wnorm2, w)
            return total + exact[key](q, s2_value, law.wnorm2), mag

        cur["df1"], cur["|df1|"] = point("df1", 0.0)
        v, mag = point("var_X_noise", 1.0)
        cur["var_X_noise"], cur["|var_X_noise|"] = v * s2, mag * s2
        etr_b, mag_b = point("Etr_bias", 0.0)
        etr_n, mag_n = point("Etr_noise", 1.0)
        etr_n, mag_n = etr_n * s2 + s2, mag_n * s2 + s2
        zi, wi, ki, mi, mwi, fi = nodes["in"]
        args = (zi[:, None], z[None, :], ki[:, None], k[None, :], mi[:, None], m[None, :],
                mwi[:, None], mw[None, :], q, law.wnorm2)
        ra, rb = fi[2] * wi[None, :], fvals[2] * w[None, :]
        fa, fb = fi[0] * wi[None, :], fvals[0] * w[None, :]

        def two_point(bounded, args=args, ra=ra, rb=rb, fa=fa, fb=fb, ki=ki, k=k, mi=mi, m=m):
            res = {}
            (res["bias2"], res["|bias2|"]), (res["var_X"], res["|var_X|"]) = _two_point(two, args, ra, rb,
                                                                                        bounded=bounded)
            if NOISE_KEY in keys:
                res[NOISE_KEY], res["|" + NOISE_KEY + "|"] = noise_two_point(law, ki, k, mi, m, q, fa, fb,
                                                                             bounded=bounded)
            return res

        cur.update(two_point(False))
        cur["Etr"], cur["|Etr|"] = etr_b + etr_n, mag_b + mag_n
        cur["|Eg|"] = cur["|bias2|"] + cur["|var_X|"] + cur["|var_X_noise|"]
        cur["Eg"] = cur["bias2"] + cur["var_X"] + cur["var_X_noise"]

        def refine(cur=cur, two_point=two_point):
            mags = {key: v for key, v in two_point(True).items() if key.startswith("|")}
            mags["|Eg|"] = mags["|bias2|"] + mags["|var_X|"] + cur["|var_X_noise|"]
            return mags

        cur[REFINE] = refine
        if prev is not None and _agree(prev, cur, tol, ("df1", "bias2", "var_X", "var_X_noise", "Etr")
                                       + ((NOISE_KEY,) if NOISE_KEY in keys else ()), law.sum_floor):
            return _certify_real(cur, count, keys, law.sum_floor)
        if 2 * count > max_nodes:
            worst = max(np.max(np.abs(cur[k] - prev[k]) / np.maximum(np.abs(cur[k]), 1e-300))
                        for k in ("bias2", "var_X", "var_X_noise", "Etr"))
            raise ConvergenceError(f"the contour quadrature did not reach {tol:g} with {count} nodes "
                                   f"(relative change {worst:.1e}); the filter varies too fast on the spectrum")
        prev = cur
        count *= 2
