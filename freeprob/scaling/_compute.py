r"""Compute-optimal allocation by dominant balance [C18].

A model trained by gradient flow has one bottleneck per resource: its
loss, in the regime where that resource alone limits it, is ``c_j X_j^{-e_j}``
with ``e_j`` derived by :func:`~freeprob.scaling.exponent` from the model's
own expressions:

* training time ``t``: the source-limited decay, ``exponent(model, "Eg",
  "time")`` (``2r`` for gradient flow);
* samples ``P``: the plateau ``t -> oo``, the ridgeless model's
  ``exponent(..., "samples")`` (``2 alpha min(r, 1)``);
* width ``N`` of random features: their ridgeless ``exponent(..., "width")``
  at infinite data (``alpha min(2r, 1)``).

Up to constants the loss is the sum (equivalently the largest) of the
bottlenecks, ``L ~ sum_j X_j^{-e_j}``.  Under a monomial cost ``C = prod_j
X_j^{c_j}`` the optimum balances every bottleneck the cost pays for
(lowering one below the others wastes compute):

.. math::
    X_j^* \sim C^{a_j},\quad a_j = \frac{1/e_j}{\sum_k c_k/e_k},\qquad
    L^* \sim C^{-\ell},\quad \ell = \frac{1}{\sum_k c_k/e_k}.

A resource the cost does not charge is taken to infinity (its bottleneck
vanishes); a charged resource without a bottleneck is held fixed (``a_j =
0``).  The phases are the regimes of the bottleneck exponents: their
boundaries (``r = 1``, ``r = 1/2``, ...) are where the allocation changes
form.  :func:`~freeprob.scaling.verify_compute_optimal` minimises the model's numeric learning
curve on a grid at each budget and fits the slopes.

The random-feature bottleneck assumes what Bordelon, Atanasov & Pehlevan
assume: gradient flow on the readout, features whitened so that ``W^T W ->
I`` at infinite width (so that the time bottleneck is the linear model's)
and a fresh sample at every step (online: no data bottleneck, ``C = N t``).

**Label noise.**  With ``sigma^2 > 0`` the flow must stop early: the noise
variance ``sigma^2 t^{1/alpha}/P`` (:func:`~freeprob.scaling.time_exponent`
of ``var_X_noise``, at order ``q``) is a product of two resources, so the
loss is a sum of monomials ``prod_j X_j^{-E_ij}`` and the optimum is the
linear program of :func:`~freeprob.scaling._program._balance` (maximise the smallest ``E_i . a`` on
``c . a = 1``), solved exactly for numeric ``alpha`` and ``r``.  For the
linear model under ``C = P t`` at ``r < 1`` the time and noise terms bind:
``P* ~ C^{(2 alpha r + 1)/(2 alpha r + alpha + 1)}``, ``t* ~ C^{alpha/(2
alpha r + alpha + 1)}``, ``L* ~ C^{-2 alpha r/(2 alpha r + alpha + 1)}``
(``22/37``, ``15/37``, ``12/37`` at ``alpha = 3/2``, ``r = 2/5``; numeric
minimisation over three decades of ``C``: ``0.599``, ``0.401``, ``0.322``).

**The cross term of random features.**  The variance over feature draws
``var_F`` depends on both resources: at a ridge ``N^{-ell}`` above the
features' resolution (``ell < alpha``) the model's own ``var_F`` decays as
``N^{-1} kappa^{a}``, ``a = 1 - 1/alpha`` for ``r > 1/2`` and ``2r -
1/alpha`` for ``r < 1/2`` (:func:`_cross_candidates`), and gradient flow acts
as the ridge ``1/t`` (:func:`~freeprob.scaling.effective_ridge`).  The loss
is then the sum of three monomials, ``t^{-2r} + N^{-alpha min(2r, 1)} +
N^{-1} t^{-a}``, and the optimum is the linear program of :func:`~freeprob.scaling._program._balance`,
with the limit ``t <= N^alpha`` where the cross term holds.  Its vertex is
found exactly at sample points of each regime and then solved once,
symbolically (:func:`~freeprob.scaling._program._balance_symbolic`); where
the binding terms change inside a regime the phase says so
(``loss_exponent`` None).  A model with numbers for ``alpha`` and ``r``
gets the exact optimum of its terms at those numbers (floats read as
rationals), whatever the cost's powers; on a phase boundary the rules of the
phases that meet there must agree.

* ``r < 1/2``: all three terms bind (the cross term is degenerate with the
  bottlenecks), and the additive rule above stands.
* ``r > 1/2``: time and the cross term bind, the width term stays below them
  (by ``(2r - 1)(alpha - 1) > 0``): ``N* ~ C^{(2 alpha r - alpha + 1)/(2
  alpha r + 1)}``, ``t* ~ C^{alpha/(2 alpha r + 1)}``, ``L* ~ C^{-2 alpha
  r/(2 alpha r + 1)}``.  At ``alpha = 3/2``, ``r = 4/5``: ``19/34 = 0.559``
  and ``12/17 = 0.706``, where the additive balance would give ``16/31 =
  0.516`` and ``0.774``.  :func:`~freeprob.scaling.verify_compute_optimal` fits ``N* ~
  C^0.547, 0.550, 0.554, 0.555`` over ``C = 10^3..10^6``, ``10^3..10^5``,
  ``10^5..10^7``, ``10^6..10^9``, approaching the rule as the width term
  (smaller by ``C^{-0.13}``) fades, and the loss exponent within ``3e-3``.
  This is the phase where the modes learned by time ``t`` (``k ~
  t^{1/alpha}``) and those the ``N`` features resolve above the spectral
  tail they see as noise meet.

**Random features with data reuse** (``C = N P t``, full-batch gradient
flow on ``P`` samples).  The data enters through the ridgeless plateau's own
terms (:func:`_data_terms`): ``P^{-2 alpha r}`` (``r < 1``), ``P^{-2
alpha}`` (``r > 1``) and, for ``r > 1/2``, the feature variance at the
sample spectrum's floor ``kappa ~ P^{-alpha}``, ``N^{-1} P^{-(alpha -
1)}``.  Each is a term of the loss where its condition on ``alpha`` and ``r``
holds, and the phases are the regions where the set of terms is fixed:

* ``r < 1/2``: ``N* ~ P* ~ C^{1/(alpha + 2)}``, ``t* ~ C^{alpha/(alpha +
  2)}``, ``L* ~ C^{-2 alpha r/(alpha + 2)}`` (``2/7``, ``2/7``, ``3/7``,
  ``6/35`` at ``alpha = 3/2``, ``r = 1/5``; fitted within ``7e-3``);
* ``1/2 < r < 1``: four terms bind, ``P* ~ C^{1/(2 alpha r + 2)}``, ``L* ~
  C^{-alpha r/(alpha r + 1)}`` (``19/44``, ``5/22``, ``15/44``, ``6/11`` at
  ``r = 4/5``; fitted within ``0.02``);
* ``r > 1``: ``L* ~ C^{-2 alpha r/((2 alpha + 1) r + 1)}``.

**Against Paquette, Paquette, Xiao and Pennington.**  Their power-law random
features have eigenvalues ``j^{-2a}`` and target coefficients ``j^{-b}``
(``a``, ``b`` are their ``alpha``, ``beta``), ``d`` parameters and one-pass
SGD.  In our variables ``alpha = 2a`` and ``2r = (2a + 2b - 1)/(2a)``, so
``r > 1/2`` is their ``2b > 1``.  The three terms above are their forcing
terms: the time term is ``F_pp ~ t^{-(2a + 2b - 1)/(2a)}``, the cross term is
``F_ac ~ d^{-1} t^{-(1 - 1/(2a))}`` (present for ``2b > 1`` only, as here),
and the width term is ``F_0 ~ d^{-min(2a, 2a + 2b - 1)}``.  The rule reads
``d* ~ C^{1/(2a + 1)}`` for ``2b < 1`` and ``d* ~ C^{b/(a + b)}`` for ``2b >
1``.  What differs: gradient flow has no optimizer noise, so their kernel
term ``K_pp`` and the phases where it binds (``d* ~ C^{1/2}``) are not in
this model; their ``2a < 1`` (our ``alpha < 1``, a spectrum without finite
trace) is outside the power laws here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from freeprob.errors import ParameterError
from freeprob.numeric.cache import cached
from freeprob.scaling._asymptotic import (
    ALPHA,
    Context,
    NoSuchRegimeError,
    R,
    sample_points,
)
from freeprob.scaling._program import _balance, _balance_symbolic, _exact

__all__ = ["compute_optimal", "ComputeOptimal", "Phase", "RESOURCES"]

#: the resource symbols of a cost, by name: width, samples, training time
RESOURCES = {"N": "width", "P": "samples", "t": "time"}


@dataclass(frozen=True)
class Phase:
    """One regime of the bottleneck exponents and its allocation."""

    conditions: tuple
    bottlenecks: tuple   # ((resource symbol, decay exponent), ...)
    allocation: tuple    # ((resource symbol, exponent of C), ...); () with loss_exponent None
    loss_exponent: sp.Expr  # None: the binding terms change inside the regime (give numbers)
    #: when the loss has a term in two resources (random features): every
    #: term ``(name, ((resource, decay exponent), ...))`` and those that bind
    terms: tuple = ()
    active: tuple = ()
    #: linear forms in the allocation kept ``>= 0``: where the cross term holds
    limits: tuple = ()


@dataclass(frozen=True)
class ComputeOptimal:
    r"""The compute-optimal rule of a model under a cost (see the module):
    ``allocation`` maps each charged resource to the exponent ``a`` of
    ``X* ~ C^a``, ``loss_exponent`` is ``l`` in ``L* ~ C^-l``, both at the
    model's own ``alpha`` and ``r`` (symbolic in a regime when they are
    symbols), and ``phases`` lists every regime of the parameter box."""

    cost: sp.Expr
    bottlenecks: dict
    allocation: dict
    loss_exponent: sp.Expr
    phases: tuple
    #: with label noise or a cross term (random features): the loss terms ``(name,
    #: ((resource, decay exponent), ...))`` balanced by the linear program
    #: (:func:`~freeprob.scaling._program._balance`), and the names of those active at the optimum
    terms: tuple = ()
    active: tuple = ()

    def __hash__(self):
        return hash((self.cost, tuple(self.allocation.items()), self.loss_exponent))


def _cost_powers(cost):
    """``{resource symbol: power}`` of a monomial cost."""
    if not isinstance(cost, sp.Expr):
        raise ParameterError("cost", cost, "a sympy expression (a monomial in N, P, t)",
                             "build it from sympy symbols named N, P, t; strings are not evaluated")
    coeff, rest = cost.as_coeff_Mul()
    if not (coeff.is_number and coeff > 0):
        raise ParameterError("cost", cost, "a positive monomial in N, P, t")
    powers = {}
    for base, power in rest.as_powers_dict().items():
        if not (isinstance(base, sp.Symbol) and base.name in RESOURCES):
            raise ParameterError("cost", cost, "a monomial in the resources N, P, t",
                                 f"the factor {base}**{power} is not a power of a resource")
        if not (power.is_number and power > 0):
            raise ParameterError("cost", cost, "positive powers of the resources")
        powers[base] = sp.nsimplify(power)
    if not powers:
        raise ParameterError("cost", cost, "a cost that depends on a resource")
    return powers


def _symbolic(model):
    """The model with ``alpha`` and ``r`` as the regime symbols."""
    from freeprob.laws import PowerLaw
    from freeprob.models.linear import SourceTarget

    if not isinstance(model.population, PowerLaw) or not isinstance(model.target, SourceTarget):
        raise ParameterError("model", repr(model), "a PowerLaw population with a SourceTarget")
    return model.replace(population=PowerLaw(ALPHA, model.population.n), target=SourceTarget(R))


def _bottleneck_candidates(model, resources):
    """``{resource: [(exponent, condition), ...]}``: the regimes of each
    bottleneck exponent over the box (symbolic in ``alpha``, ``r``)."""
    from freeprob.models.features import RandomFeatureRidge
    from freeprob.models.filters import GradientFlow
    from freeprob.models.linear import LinearRidge
    from freeprob.scaling._time import time_limit, time_terms

    if not sp.sympify(model.noise).is_zero:
        raise ParameterError("noise", model.noise, "0 for the compute-optimal balance",
                             "with label noise the flow must stop early; the bottlenecks are not additive")
    sym = _symbolic(model)
    t = sp.Symbol("t", positive=True)
    if isinstance(model, LinearRidge):
        allowed = {"P", "t"}
        if model.estimator is None or type(model.estimator) is not GradientFlow:
            raise ParameterError("estimator", repr(model.estimator), "a GradientFlow (the time resource)")
        if not sp.sympify(model.estimator.ridge).is_zero:
            raise ParameterError("ridge", model.estimator.ridge, "0 (a fixed ridge ends the flow at its plateau)")
        plateau = time_limit(sym)
    elif isinstance(model, RandomFeatureRidge):
        allowed = {"N", "P", "t"}   # P: the data terms of _data_terms
        if not sp.sympify(model.ridge).is_zero:
            raise ParameterError("ridge", model.ridge, "0 (gradient flow from zero, no ridge)")
        plateau = sym
    else:
        raise ParameterError("model", type(model).__name__, "a LinearRidge or RandomFeatureRidge")
    out = {}
    for res in resources:
        if res.name not in allowed:
            raise ParameterError("cost", res, f"a cost in {sorted(allowed)} for {type(model).__name__}")
        if res.name == "P" and isinstance(model, RandomFeatureRidge):
            continue
        if res.name == "t":
            out[res] = [(e, cond) for _, e, cond, _ in time_terms(GradientFlow(time=t).filter(), "tgt", "Eg",
                                                                     ALPHA, R)]
        else:
            out[res] = _plateau_regimes(plateau, RESOURCES[res.name])
    return out


@cached(maxsize=32)
def _plateau_regimes(plateau, variable):
    """``[(exponent, condition), ...]`` of the plateau's ``E_g`` in ``variable``."""
    from freeprob.scaling._exponents import regimes

    return [(reg.exponent, sp.And(*reg.conditions)) for reg in regimes(plateau, "Eg", variable, samples=48)]


@cached(maxsize=32)
def _cross_candidates(sym, width, time):
    r"""The cross term of random features trained by gradient flow, from the
    model's own ``var_F`` (the variance over feature draws): with a ridge
    ``lambda = N^{-ell}`` above the features' resolution, :func:`regimes`
    finds ``var_F ~ N^{-(e_0 + a ell)}`` (``e_0 = 1``, ``a = 1 - 1/alpha``
    for ``r > 1/2``, ``2r - 1/alpha`` for ``r < 1/2``).  Gradient flow acts
    as the ridge :func:`~freeprob.scaling.effective_ridge` ``~ t^{-tau}``
    (``tau = 1``), so the term is ``N^{-e_0} t^{-a tau}``, and ``ell = tau
    a_t/a_N`` turns each condition on ``ell`` into a linear limit on the
    allocation.  A regime whose exponent is free of ``ell`` is the ridgeless
    plateau, already the width bottleneck.  Returns ``[(term, condition,
    limits), ...]``."""
    from freeprob.models.filters import GradientFlow
    from freeprob.scaling._asymptotic import ELL
    from freeprob.scaling._exponents import regimes
    from freeprob.scaling._training import effective_ridge

    lam = effective_ridge(GradientFlow(time=time), ALPHA)
    tau = sp.simplify(-time * sp.diff(lam, time) / lam)
    if tau.has(time) or not tau.is_positive:
        raise ParameterError("estimator", "GradientFlow", "an effective ridge that is a power of t")
    out = []
    for reg in regimes(sym.replace(ridge=sp.Rational(1, 1000)), "var_F", "width", ridge="power", samples=48):
        e = sp.expand(reg.exponent)
        if not e.has(ELL):
            continue
        slope = sp.simplify(e.diff(ELL))
        if slope.has(ELL):
            raise ParameterError("model", repr(sym), "a feature variance that is a power of the ridge",
                                 f"var_F ~ N^-({e}) is not linear in ell")
        limits = {}
        for c in reg.conditions:
            if not c.has(ELL):
                continue
            form = sp.expand(c.lhs - c.rhs if c.rel_op in (">", ">=") else c.rhs - c.lhs)
            c1, c0 = form.coeff(ELL), form.subs(ELL, 0)
            if sp.expand(form - c1 * ELL - c0) != 0 or c1.has(ELL):
                raise ParameterError("model", repr(sym), "conditions linear in ell", f"the regime needs {c}")
            limits[str(c)] = {width: c0, time: c1 * tau}
        cond = sp.And(*[c for c in reg.conditions if not c.has(ELL)])
        out.append(({width: sp.simplify(e.subs(ELL, 0)), time: sp.simplify(slope * tau)}, cond, limits))
    return out


@cached(maxsize=32)
def _data_terms(sym, width, samples):
    r"""The terms of random features' ridgeless plateau that involve the data
    (training with data reuse, ``C = N P t``), from the model's own ``E_g``:
    with ``N = P^q``, :func:`regimes` finds ``E_g ~ P^{-(c_0 + c_1 q)}``, the
    monomial ``P^{-c_0} N^{-c_1}`` (``P^{-2 alpha r}``, ``P^{-2 alpha}``, and the
    cross term ``N^{-1} P^{-(alpha - 1)}``: the feature variance at the sample
    spectrum's floor ``kappa ~ P^{-alpha}``).  A regime free of ``P``
    (``c_0 = 0``) is the width bottleneck.  The conditions on ``q`` only say
    which term leads; each term keeps its conditions on ``alpha`` and ``r``.
    Returns ``[(term, condition), ...]``."""
    from freeprob.scaling._asymptotic import Q
    from freeprob.scaling._exponents import regimes

    found = {}
    for reg in regimes(sym, "Eg", "samples"):
        e = sp.expand(reg.exponent)
        c1 = sp.simplify(e.diff(Q))
        c0 = sp.simplify(e.subs(Q, 0))
        if c1.has(Q):
            raise ParameterError("model", repr(sym), "a plateau that is a power of P and N",
                                 f"E_g ~ P^-({e}) is not linear in q")
        if c0 == 0:
            continue
        cond = sp.And(*[c for c in reg.conditions if not c.has(Q)])
        key = (c0, c1)
        found[key] = sp.Or(found[key], cond) if key in found else cond
    return [({samples: c0, **({width: c1} if c1 != 0 else {})}, cond) for (c0, c1), cond in found.items()]


def _allocate(powers, exps):
    """The balanced allocation and loss exponent (see the module)."""
    denom = sum(powers[r] / exps[r] for r in powers if r in exps)
    alloc = {r: (sp.simplify((1 / exps[r]) / denom) if r in exps else sp.Integer(0)) for r in powers}
    return alloc, sp.simplify(1 / denom)


def _noisy(model, cost, powers):
    r"""Gradient flow with label noise (numeric ``alpha``, ``r``): the loss is
    the sum of the time bottleneck ``t^{-2r}``, the data bottleneck of the
    noiseless plateau ``P^{-e_P}`` and the noise variance ``sigma^2
    t^{1/alpha}/P`` (order ``q`` of the population limit, :mod:`._time`) --
    a product of two resources, so the optimum is the linear program of
    :func:`~freeprob.scaling._program._balance`, not a sum of single-resource balances."""
    from freeprob.models.filters import GradientFlow
    from freeprob.models.linear import LinearRidge
    from freeprob.scaling._exponents import exponent
    from freeprob.scaling._time import time_exponent, time_limit

    if not isinstance(model, LinearRidge) or model.estimator is None or type(model.estimator) is not GradientFlow:
        raise ParameterError("noise", model.noise, "0 unless the model is a LinearRidge with a GradientFlow",
                             "the noisy balance is derived for the linear model")
    if not sp.sympify(model.estimator.ridge).is_zero:
        raise ParameterError("ridge", model.estimator.ridge, "0 (a fixed ridge ends the flow at its plateau)")
    res = {s.name: s for s in powers}
    if set(res) != {"P", "t"}:
        raise ParameterError("cost", cost, "a monomial in both P and t (with label noise)")
    _symbolic(model)  # validates the population and the target
    alpha, r = sp.sympify(model.population.alpha), sp.sympify(model.target.r)
    if not (alpha.is_number and r.is_number):
        raise ParameterError("model", repr(model), "numeric alpha and r with label noise",
                             "the noisy balance is a linear program in the exponents' values")
    p_sym, t_sym = res["P"], res["t"]
    e_t = sp.nsimplify(time_exponent(model, "Eg"))
    grow = -sp.nsimplify(time_exponent(model, "var_X_noise"))       # t^(1/alpha)
    plateau = time_limit(model).replace(noise=0, samples=p_sym)
    e_p = sp.nsimplify(exponent(plateau, "Eg", "samples"))
    terms = {"time": {t_sym: e_t}, "data": {p_sym: e_p}, "noise": {p_sym: sp.Integer(1), t_sym: -grow}}
    alloc, ell, active = _balance(terms, powers)
    phase = Phase((), ((t_sym, e_t), (p_sym, e_p)), tuple(alloc.items()), ell)
    return ComputeOptimal(cost, {t_sym: e_t, p_sym: e_p}, alloc, ell, (phase,),
                          tuple((n, tuple(v.items())) for n, v in terms.items()), active)


def compute_optimal(model, cost, regime=None) -> ComputeOptimal:
    r"""The compute-optimal allocation of ``model`` under ``cost`` (see the
    module), derived by dominant balance from the model's own exponents.

    >>> import freeprob, sympy as sp
    >>> N, t = sp.symbols("N t", positive=True)
    >>> rf = freeprob.RandomFeatureRidge(freeprob.PowerLaw(sp.Rational(3, 2), 10**6), widths=N, samples=10**9,
    ...                                 ridge=0, target=freeprob.SourceTarget(sp.Rational(1, 5)))
    >>> opt = compute_optimal(rf, N * t)      # online training: C = N t
    >>> opt.allocation                        # N* ~ C^(1/(1+alpha)), t* ~ C^(alpha/(1+alpha))
    {N: 2/5, t: 3/5}
    >>> opt.loss_exponent                     # L* ~ C^(-2 alpha r/(1 + alpha))
    6/25

    Parameters
    ----------
    model : a ``LinearRidge`` with a ``GradientFlow`` estimator (resources ``P``, ``t``),
        or a ridgeless ``RandomFeatureRidge`` (resources ``N``, ``t``, and ``P``
        with data reuse; the time of
        gradient flow on features normalized to the data's scale, ``t D/N`` in the
        model's own units, see :func:`~freeprob.scaling.verify_compute_optimal`); a ``PowerLaw``
        population, a ``SourceTarget`` and no label noise
    cost : a monomial in the symbols named ``N``, ``P``, ``t`` (e.g. ``N*t``, ``P*t``, ``N*P*t``)
    regime : sympy relations in ``alpha``, ``r``: the symbolic rule of that
        regime (default: the model's own numbers when they are numbers)
    """
    powers = _cost_powers(cost)
    if not sp.sympify(model.noise).is_zero:
        return _noisy(model, cost, powers)
    cands = _bottleneck_candidates(model, list(powers))
    names = {s.name: s for s in powers}
    from freeprob.models.features import RandomFeatureRidge

    slots = {}
    if isinstance(model, RandomFeatureRidge) and {"N", "t"} <= set(names):
        slots["features"] = _cross_candidates(_symbolic(model), names["N"], names["t"])
    if isinstance(model, RandomFeatureRidge) and "P" in names:
        if not {"N", "t"} <= set(names):
            raise ParameterError("cost", cost, "a monomial in N, P and t when the data is paid for (data reuse)")
        for k, (term, cond) in enumerate(_data_terms(_symbolic(model), names["N"], names["P"])):
            # each data term is present where its condition holds
            slots[("data", k)] = [(term, cond), (None, sp.Not(cond))]
    phases = []
    for combo in _combinations({**cands, **slots}):
        item = combo.pop("features", None)
        data = [combo.pop(k) for k in list(combo) if isinstance(k, tuple)]
        cond = sp.And(*[c for _, c in combo.values()], *([item[1]] if item else []), *[c for _, c in data])
        try:
            points = sample_points(cond, {ALPHA, R}, n=4)
        except NoSuchRegimeError:
            continue
        exps = {r: e for r, (e, _) in combo.items()}
        ctx = Context(points)
        if not all(ctx.holds(e > 0) for e in exps.values()):
            raise ParameterError("model", repr(model), "bottlenecks that decay",
                                 f"an exponent {exps} does not decay in the regime {cond}")
        terms, active = (), ()
        present = [term for term, _ in data if term is not None]
        if item is None and not present:
            alloc, ell = _allocate(powers, exps)
        else:
            loss = {RESOURCES[r.name]: {r: e} for r, e in exps.items()} | ({"features": item[0]} if item else {})
            for term in present:
                name = "data" if set(term) == {names["P"]} else "data x width"
                loss[name if name not in loss else f"{name} {len(loss)}"] = term
            got = _balance_symbolic(loss, powers, item[2] if item else {}, points)
            # None: the optimal vertex changes inside the regime (numbers still give the exact optimum)
            alloc, ell, active = got if got is not None else ({}, None, ())
            terms = tuple((n, tuple(v.items())) for n, v in loss.items())
        parts = [c for _, c in combo.values()] + ([item[1]] if item else []) + [c for _, c in data]
        whole = sp.simplify(sp.And(*parts))
        conds = tuple(sorted(whole.args, key=str)) if isinstance(whole, sp.And) else (
            () if whole is sp.true else (whole,))
        limits = tuple((n, tuple(f.items())) for n, f in item[2].items()) if item else ()
        phases.append(Phase(conds, tuple(exps.items()), tuple(alloc.items()), ell, terms, active, limits))
    own = {ALPHA: sp.sympify(model.population.alpha), R: sp.sympify(model.target.r)}
    if regime is None and all(v.is_number for v in own.values()):
        return _at_own_exponents(model, cost, powers, phases, {k: _exact(v) for k, v in own.items()})
    pts = sample_points(regime, {ALPHA, R})
    chosen = [ph for ph in phases if all(bool(sp.And(*ph.conditions).subs(p)) for p in pts)]
    if len(chosen) != 1:
        met = [ph.conditions for ph in phases if any(bool(sp.And(*ph.conditions).subs(p)) for p in pts)]
        raise ParameterError("regime", regime, "one phase of the compute-optimal rule",
                             f"the regime meets {len(met)} phases {met}; add conditions on alpha and r")
    ph = chosen[0]
    if ph.loss_exponent is None:
        raise ParameterError("regime", regime, "a regime where one vertex of the compute-optimal program is optimal",
                             f"the binding terms change inside {ph.conditions}; add conditions or give numbers")
    return ComputeOptimal(cost, dict(ph.bottlenecks), dict(ph.allocation), ph.loss_exponent, tuple(phases),
                          ph.terms, ph.active)


def _closure(cond):
    """``cond`` with its strict inequalities made non-strict (a phase's closure)."""
    return cond.replace(lambda e: isinstance(e, (sp.StrictLessThan, sp.StrictGreaterThan)),
                        lambda e: (sp.Le if isinstance(e, sp.StrictLessThan) else sp.Ge)(e.lhs, e.rhs))


def _at_own_exponents(model, cost, powers, phases, own):
    """The rule at the model's own exact exponents: the phase that holds there
    (or, on a boundary, the phases whose closures meet there, when their rules
    agree), evaluated exactly -- the linear program solved at the point when
    the phase has terms in two resources, so a vertex that changes inside a
    regime still gives the exact optimum."""
    point = {k: float(v) for k, v in own.items()}
    chosen = [ph for ph in phases if bool(sp.And(*ph.conditions).subs(point))]
    if not chosen:
        chosen = [ph for ph in phases if bool(_closure(sp.And(*ph.conditions)).subs(own))]
    results = []
    for ph in chosen:
        bott = {k: sp.simplify(v.subs(own)) for k, v in ph.bottlenecks}
        terms = tuple((n, tuple((r, sp.simplify(e.subs(own))) for r, e in v)) for n, v in ph.terms)
        if terms:
            alloc, ell, active = _balance({n: dict(v) for n, v in terms}, powers,
                                          {n: {r: e.subs(own) for r, e in f} for n, f in ph.limits})
        else:
            alloc = {k: sp.simplify(v.subs(own)) for k, v in ph.allocation}
            ell, active = sp.simplify(ph.loss_exponent.subs(own)), ()
        results.append(ComputeOptimal(cost, bott, alloc, ell, tuple(phases), terms, active))
    if not results or any(r.allocation != results[0].allocation or r.loss_exponent != results[0].loss_exponent
                          for r in results[1:]):
        raise ParameterError("model", repr(model), "exponents where one compute-optimal rule holds",
                             f"alpha = {own[ALPHA]}, r = {own[R]} is on a boundary between "
                             f"{len(results)} phases whose rules differ" if results else "no phase holds there")
    return results[0]


def _combinations(cands):
    keys = list(cands)
    if not keys:
        yield {}
        return
    first, rest = keys[0], {k: cands[k] for k in keys[1:]}
    for item in cands[first]:
        for combo in _combinations(rest):
            yield {first: item, **combo}
