r"""Decay exponents of model quantities, derived by dominant balance.

:func:`exponent` reduces a key of a model's ``quantities()`` to its leading
power of the scaling variable (see :mod:`freeprob.scaling._asymptotic`):
``Q ~ c X^{-e}``, and returns ``e`` as a sympy expression in ``alpha``,
``r``, ``ell``, ``q`` (positive when ``Q`` falls).  :func:`regimes` scans the
parameter box, groups points by the derived exponent and returns each
regime with the inequalities that delimit it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ParameterError
from freeprob.models.base import AbstractModel
from freeprob.numeric.cache import cached
from freeprob.parameters import instance, nonnegative_integer, positive_integer
from freeprob.scaling._asymptotic import (
    ALPHA,
    ELL,
    AmbiguousRegimeError,
    CancellationError,
    Context,
    Lead,
    Q,
    R,
    continuum_means,
    kappa_lead,
    lead,
    sample_points,
)

__all__ = ["exponent", "regimes", "Regime", "leading_term"]

_VARIABLES = ("samples", "width", "ridge")


def _setup(model, variable, ridge):
    """Expressions, scaling environment and free regime symbols of a model."""
    from freeprob.laws import PowerLaw
    from freeprob.models.features import RandomFeatureRidge, _maps
    from freeprob.models.linear import LinearRidge, SourceTarget

    instance("model", model, AbstractModel, "a freeprob model (LinearRidge, RandomFeatureRidge, ...)")
    if variable not in _VARIABLES:
        raise ParameterError("variable", variable, f"one of {_VARIABLES}")
    if not isinstance(model.population, PowerLaw):
        raise ParameterError("population", repr(model.population), "a PowerLaw population")
    target_r = R if isinstance(model.target, SourceTarget) else None
    free = {ALPHA} | ({R} if target_r is not None else set())
    if ridge is None:
        ridge = "zero" if sp.sympify(model.ridge).is_zero else "power"
    if ridge not in ("zero", "power"):
        raise ParameterError("ridge", ridge, "'zero' (lambda = 0) or 'power' (lambda = X^-ell)")
    if ridge == "power":
        free.add(ELL)
    n = sp.Symbol("n", positive=True)
    lam_lead = Lead(sp.Integer(1), ELL) if ridge == "power" else None
    if isinstance(model, LinearRidge):
        if variable == "width":
            raise ParameterError("variable", variable, "'samples' or 'ridge' for LinearRidge")
        from freeprob.models.equivalence import deterministic_equivalent

        kap = C.kappa
        qs = model.quantities()
        lam_map = deterministic_equivalent(model.population, ratio=C.q).ridge_of_kappa(kap)
        p_sym = sp.Symbol("P_scaling", positive=True)
        # q = N/P, or 1/P with the kernel sums of N = oo [C16]
        subs = {C.q: (1 if model.population.n is sp.oo else n) / p_sym}
        if variable == "samples":
            env = {p_sym: Lead(sp.Integer(1), sp.Integer(-1))}
        else:  # ridge -> 0 with P = oo: the kernel limit, kappa = lambda
            env = {p_sym: Lead(sp.Integer(1), -sp.oo)}
            lam_lead = Lead(sp.Integer(1), sp.Integer(1))
        # S = S_W(df1) = 1/(1 - q df1) = kappa/lam by the kappa equation [R3], [R8]
        s_w = 1 / qs["S"]
        qs = {k: v.subs(s_w, C.lam / kap) if k != "S" else kap / C.lam for k, v in qs.items()}
        return dict(quantities=qs, lam_map=lam_map, kappa=(kap,), subs=subs, env=env, lam_lead=lam_lead,
                    free=free, target_r=target_r, maps=None)
    if isinstance(model, RandomFeatureRidge):
        if model.feature_covariance is not None or len(model.widths) != 1:
            raise ParameterError("model", repr(model), "one white layer (anisotropic weights: use local exponents)")
        if not sp.sympify(model.feature_noise).is_zero:
            raise ParameterError("feature_noise", model.feature_noise, "0 for the exponent analysis")
        from freeprob.scaling._rf_forms import rf_forms

        k2 = C.kappa2
        m = _maps(model)
        qs = dict(rf_forms(model), kappa1=C.kappa1)
        d_sym, p_sym, n_sym = sp.symbols("D_scaling P_scaling N_scaling", positive=True)
        psi = model.psis[0]
        subs = {C.phi: p_sym / n, psi: n_sym / n, C.sigma_xi2: sp.sympify(model.feature_noise)}
        if variable == "samples":
            free.add(Q)
            env = {p_sym: Lead(sp.Integer(1), sp.Integer(-1)), n_sym: Lead(sp.Integer(1), -Q)}
        elif variable == "width":
            env = {n_sym: Lead(sp.Integer(1), sp.Integer(-1)), p_sym: Lead(sp.Integer(1), -sp.oo)}
        else:
            raise ParameterError("variable", variable, "'samples' or 'width' for RandomFeatureRidge")
        # the feature-level ridge lam D/N scales as X^-ell (pitfall P12): lam = (N/D) X^-ell
        if lam_lead is not None:
            lam_lead = Lead(sp.Integer(1), ELL)
        return dict(quantities=qs, lam_map=m["lam"] * n / n_sym, kappa=(k2,), subs=subs, env=env,
                    lam_lead=lam_lead, free=free, target_r=target_r, maps=m, n_sym=n_sym)
    raise ParameterError("model", type(model).__name__, "a LinearRidge or RandomFeatureRidge")


def leading_term(model, quantity, variable="samples", regime=None, *, ridge=None, points=None):
    """``(coefficient, exponent)`` of the leading term ``c X^-e`` (see the module)."""
    st = _setup(model, variable, ridge)
    if quantity not in st["quantities"]:
        raise ParameterError("quantity", quantity, f"one of {sorted(st['quantities'])}")
    if points is not None and (not isinstance(points, (list, tuple)) or not all(isinstance(p, dict) for p in points)):
        raise ParameterError("points", repr(points)[:60], "None or a list of dicts {symbol: number}")
    ctx = Context(points if points is not None else sample_points(regime, st["free"]))
    kap = st["kappa"][0]
    lam_map = continuum_means(st["lam_map"], st["kappa"], ctx).subs(st["subs"])
    if lam_map.has(sp.Symbol("n", positive=True)):
        lam_map = sp.cancel(lam_map)
    env = dict(st["env"])
    k_lead = kappa_lead(lam_map, kap, env, ctx, st["lam_lead"])
    env[kap] = k_lead
    zero = Lead(sp.Integer(0), sp.oo)
    env[C.lam] = st["lam_lead"] if st["lam_lead"] is not None else zero
    if st["maps"] is not None:
        _rf_bottlenecks(model, st, env, ctx)
    expr = st["quantities"][quantity]
    noise = sp.sympify(model.noise)
    expr = expr.subs(C.sigma2, noise) if noise.is_number else expr
    expr = continuum_means(expr, st["kappa"], ctx, st["target_r"]).subs(st["subs"])
    res = lead(sp.expand(expr) if not expr.is_Mul else expr, env, ctx)
    coef = sp.simplify(sp.powsimp(sp.powdenest(res.coefficient, force=True), force=True))
    return coef, sp.simplify(res.exponent), ctx


def _rf_bottlenecks(model, st, env, ctx):
    """Leading terms of ``kappa_1``, ``A = 1 - df1/phi = lam/kappa_1`` and
    ``B = psi - df1 = kappa_1/kappa_2`` (:mod:`._rf_forms`): whichever of
    ``A``, ``B`` does not cancel is expanded directly, the other follows from
    the identity; both cancel only if the ridge is zero and ``kappa_1 = 0``."""
    from freeprob.scaling._rf_forms import A_SYM, B_SYM

    k2 = C.kappa2
    zero = Lead(sp.Integer(0), sp.oo)
    d1 = continuum_means(model.population.df1(k2), (k2,), ctx).subs(st["subs"])
    a_expr = 1 - d1 / C.phi.subs(st["subs"])
    b_expr = st["subs"][model.psis[0]] - d1
    lam = env[C.lam]
    # the ridge at the feature level scales as X^-ell (P12): lam = (N/D) X^-ell
    if lam != zero:
        lam = Lead(lam.coefficient / sp.Symbol("n", positive=True), lam.exponent + env[st["n_sym"]].exponent)
    try:
        a_lead = lead(a_expr, env, ctx)
    except CancellationError:
        a_lead = None
    try:
        b_lead = lead(b_expr, env, ctx)
    except CancellationError:
        b_lead = None
    if a_lead is not None:
        k1 = zero if lam == zero else Lead(lam.coefficient / a_lead.coefficient, lam.exponent - a_lead.exponent)
        if b_lead is None:
            b_lead = zero if k1 == zero else Lead(k1.coefficient / env[k2].coefficient,
                                                   k1.exponent - env[k2].exponent)
    elif b_lead is not None:
        k1 = Lead(b_lead.coefficient * env[k2].coefficient, b_lead.exponent + env[k2].exponent)
        a_lead = zero if lam == zero else Lead(lam.coefficient / k1.coefficient, lam.exponent - k1.exponent)
    else:
        raise CancellationError("both bottleneck factors cancel at leading order")
    env[C.kappa1] = k1
    env[A_SYM], env[B_SYM] = a_lead, b_lead


def exponent(model, quantity, variable="samples", regime=None, *, ridge=None):
    r"""Decay exponent of ``quantity`` (a key of the model's ``evaluate``) in
    ``variable`` (``"samples"``, ``"width"``, ``"ridge"``, ``"time"``): a sympy
    expression ``e`` with ``quantity ~ X^{-e}``, derived from the model's
    own expressions by dominant balance (:mod:`freeprob.scaling._asymptotic`)
    under the ``regime`` conditions (sympy relations in ``alpha``, ``r``,
    ``ell``, ``q``).  ``ridge``: ``"zero"`` or ``"power"`` (``lambda =
    X^-ell``); default from the model's ridge.

    >>> import freeprob, sympy as sp
    >>> from freeprob.scaling import exponent, ALPHA, R
    >>> m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 1000), target=freeprob.SourceTarget(0.5), ridge=0)
    >>> exponent(m, "bias2", "samples", R < 1)          # source-limited [R11c]
    2*alpha*r
    >>> exponent(m, "bias2", "samples", R > 1)          # capacity-limited
    2*alpha

    Without ``regime``, a model with numeric ``alpha`` and ``r`` selects its
    own regime and the exponent comes back as a number (with ``regime``, the
    symbolic form of that regime):

    >>> exponent(freeprob.LinearRidge(freeprob.PowerLaw(sp.Rational(3, 2), 10**6),
    ...          target=freeprob.SourceTarget(sp.Rational(2, 5)), ridge=0), "bias2", "samples")
    6/5

    ``variable="time"`` takes a model with a :class:`~freeprob.GradientFlow`
    estimator: the exponent in training time while ``t << P^alpha``
    (:mod:`freeprob.scaling._time`), with no saturation at ``r = 1``:

    >>> t = sp.Symbol("t", positive=True)
    >>> exponent(m.replace(estimator=freeprob.GradientFlow(time=t)), "Eg", "time", R > 0)
    2*r
    """
    instance("model", model, AbstractModel, "a freeprob model (LinearRidge, RandomFeatureRidge, ...)")
    if variable == "time":
        from freeprob.scaling._time import time_exponent

        return time_exponent(model, quantity, regime)
    point = _concrete_point(model) if regime is None else {}
    if point:
        # the model's own numbers select the regime: the dominant balance is
        # decided at them (and at sampled ell when the ridge scales as X^-ell);
        # with ``regime`` given, the symbolic exponent of that regime is returned
        st = _setup(model, variable, ridge)
        rest = st["free"] - set(point)
        pts = [{**point, **p} for p in sample_points(None, rest)] if rest else [point]
        _, e, _ = leading_term(model, quantity, variable, ridge=ridge, points=pts)
        e = e.subs(point)
        return sp.nsimplify(e, rational=True)
    return leading_term(model, quantity, variable, regime, ridge=ridge)[1]


def _concrete_point(model):
    """``{ALPHA: alpha, R: r}`` for the model's numeric exponents (as floats
    for the decisions), or {} when any of them is a symbol."""
    from freeprob.models.design import SourceTarget

    if getattr(model.population, "catalogue_name", "") != "powerlaw":
        return {}  # _setup refuses it with a clear message
    alpha = sp.sympify(model.population.alpha)
    vals = {ALPHA: alpha}
    if isinstance(model.target, SourceTarget):
        vals[R] = sp.sympify(model.target.r)
    if not all(v.is_number for v in vals.values()):
        return {}
    return {k: float(v) for k, v in vals.items()}


@dataclass(frozen=True)
class Regime:
    """A region of parameters with one derived exponent."""

    exponent: sp.Expr
    conditions: tuple
    point: dict


def regimes(model, quantity="Eg", variable="samples", *, ridge=None, samples=200, seed=1) -> list:
    """The regimes of ``quantity``'s exponent over the parameter box: each
    with its exponent, the inequalities decided on the way (its defining
    conditions; crossovers are where two of them become equalities) and a
    representative point."""
    import numpy as np

    samples = int(positive_integer("samples", samples))
    seed = int(nonnegative_integer("seed", seed))
    st = _setup(model, variable, ridge)
    from freeprob.scaling._asymptotic import BOX

    rng = np.random.default_rng(seed)
    found = {}
    for _ in range(samples):
        p = {s: float(rng.uniform(*BOX[s])) for s in st["free"]}
        try:
            _, e, ctx = leading_term(model, quantity, variable, ridge=ridge, points=[p])
        except (AmbiguousRegimeError, CancellationError):  # boundary points (ties, logarithms) are skipped
            continue
        objs = {str(c): c for c in (_canonical(d, frozenset(st["free"])) for d in set(ctx.decisions))
                if c is not None}
        conds = tuple(sorted(objs))
        key = (str(e), conds)
        if key not in found:
            found[key] = Regime(e, tuple(objs[c] for c in conds), p)
    merged = {}
    for (es, _), reg in found.items():
        merged.setdefault(es, []).append(reg)
    out = []
    for es, regs in merged.items():
        common = set(regs[0].conditions)
        for r_ in regs[1:]:
            common &= set(r_.conditions)
        out.append(Regime(regs[0].exponent, tuple(sorted(common, key=str)), regs[0].point))
    return out


@cached(maxsize=4096)
def _canonical(rel, free):
    """A decided comparison in readable form (``ell > alpha``, ``r >= 1``);
    None when it holds on the whole box (no information)."""
    import numpy as np

    from freeprob.scaling._asymptotic import BOX

    if rel in (sp.true, sp.false) or not isinstance(rel, sp.core.relational.Relational):
        if isinstance(rel, sp.Not):
            inner = _canonical(rel.args[0], free)
            return None if inner is None else sp.Not(inner)
        return None
    rng = np.random.default_rng(0)
    pts = [{s: float(rng.uniform(*BOX[s])) for s in sorted(free, key=str)} for _ in range(60)]
    if all(bool(rel.subs(p)) for p in pts):
        return None
    d = sp.together(rel.lhs - rel.rhs)
    num, den = sp.fraction(d)
    den_sign = [float(sp.N(den.subs(p))) for p in pts]
    op = type(rel)
    if all(v < 0 for v in den_sign):
        num = -num
    elif not all(v > 0 for v in den_sign):
        return rel
    num = sp.expand(num)
    for s_ in (ELL, R, Q):
        if num.has(s_) and sp.degree(num, s_) == 1:
            a = num.coeff(s_, 1)
            b = num.coeff(s_, 0)
            sgn = [float(sp.N(a.subs(p))) for p in pts]
            if all(v > 0 for v in sgn):
                return op(s_, sp.simplify(-b / a))
            if all(v < 0 for v in sgn):  # a s + b op 0 with a < 0: s (flipped op) -b/a
                flip = {sp.StrictGreaterThan: sp.StrictLessThan, sp.StrictLessThan: sp.StrictGreaterThan,
                        sp.GreaterThan: sp.LessThan, sp.LessThan: sp.GreaterThan}[op]
                return flip(s_, sp.simplify(-b / a))
    return op(num, 0)
