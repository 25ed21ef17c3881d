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
form.  :func:`verify_compute_optimal` minimises the model's numeric learning
curve on a grid at each budget and fits the slopes.

The random-feature bottleneck assumes what Bordelon, Atanasov & Pehlevan
assume: gradient flow on the readout, features whitened so that ``W^T W ->
I`` at infinite width (so that the time bottleneck is the linear model's)
and a fresh sample at every step (online: no data bottleneck, ``C = N t``).

**Label noise.**  With ``sigma^2 > 0`` the flow must stop early: the noise
variance ``sigma^2 t^{1/alpha}/P`` (:func:`~freeprob.scaling.time_exponent`
of ``var_X_noise``, at order ``q``) is a product of two resources, so the
loss is a sum of monomials ``prod_j X_j^{-E_ij}`` and the optimum is the
linear program of :func:`_balance` (maximise the smallest ``E_i . a`` on
``c . a = 1``), solved exactly for numeric ``alpha`` and ``r``.  For the
linear model under ``C = P t`` at ``r < 1`` the time and noise terms bind:
``P* ~ C^{(2 alpha r + 1)/(2 alpha r + alpha + 1)}``, ``t* ~ C^{alpha/(2
alpha r + alpha + 1)}``, ``L* ~ C^{-2 alpha r/(2 alpha r + alpha + 1)}``
(``22/37``, ``15/37``, ``12/37`` at ``alpha = 3/2``, ``r = 2/5``; numeric
minimisation over three decades of ``C``: ``0.599``, ``0.401``, ``0.322``).

**Where the additive balance fails: random features with ``r > 1/2``.**
:func:`verify_compute_optimal` minimises freeprob's own finite-width learning
curve (gradient flow on the readout [C18]).  For ``r < 1/2`` the fitted
slopes match the balance (``N* ~ C^0.4``, ``t* ~ C^0.6`` within ``5e-4`` at
``alpha = 3/2``, ``r = 1/5``).  For ``r > 1/2`` they do not: at ``alpha =
3/2``, ``r = 4/5`` (``D = 10^8``, ``P = 10^12``, ``C = 10^3 .. 10^6``) the
argmin gives ``N* ~ C^0.547`` and ``L* ~ C^-0.703`` against the balance's
``0.516`` and ``0.774``, stable under larger ``D`` and ``C``.  Near that
optimum the modes learned by time ``t`` (``k ~ t^{1/alpha}``) and the modes
the ``N`` features resolve above the spectral tail they see as noise (``k ~
N^{1/alpha}``) meet, so the loss has a cross term in ``N`` and ``t`` that a
sum of bottlenecks omits (the absolutely continuous part of Paquette,
Paquette, Xiao and Pennington).  :func:`compute_optimal` therefore lists
that phase (the balance, symbolically) but refuses to select it for a
random-feature model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from freeprob.errors import ParameterError
from freeprob.scaling._asymptotic import (
    ALPHA,
    Context,
    NoSuchRegimeError,
    R,
    sample_points,
)

__all__ = ["compute_optimal", "ComputeOptimal", "Phase", "verify_compute_optimal", "ComputeVerification",
           "RESOURCES"]

#: the resource symbols of a cost, by name: width, samples, training time
RESOURCES = {"N": "width", "P": "samples", "t": "time"}


@dataclass(frozen=True)
class Phase:
    """One regime of the bottleneck exponents and its allocation."""

    conditions: tuple
    bottlenecks: tuple   # ((resource symbol, decay exponent), ...)
    allocation: tuple    # ((resource symbol, exponent of C), ...)
    loss_exponent: sp.Expr


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
    #: with label noise: the loss terms ``(name, ((resource, decay exponent), ...))``
    #: balanced by :func:`_balance`, and the names of those active at the optimum
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
    from freeprob.scaling._exponents import regimes
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
        allowed = {"N", "t"}
        if not sp.sympify(model.ridge).is_zero:
            raise ParameterError("ridge", model.ridge, "0 (gradient flow from zero, no ridge)")
        plateau = sym
    else:
        raise ParameterError("model", type(model).__name__, "a LinearRidge or RandomFeatureRidge")
    out = {}
    for res in resources:
        if res.name not in allowed:
            raise ParameterError("cost", res, f"a cost in {sorted(allowed)} for {type(model).__name__}")
        if res.name == "t":
            out[res] = [(e, cond) for _, e, cond, _ in time_terms(GradientFlow(time=t).filter(), "tgt", "Eg",
                                                                     ALPHA, R)]
        else:
            out[res] = [(reg.exponent, sp.And(*reg.conditions)) for reg in regimes(plateau, "Eg", RESOURCES[res.name], samples=48)]
    return out


def _allocate(powers, exps):
    """The balanced allocation and loss exponent (see the module)."""
    denom = sum(powers[r] / exps[r] for r in powers if r in exps)
    alloc = {r: (sp.simplify((1 / exps[r]) / denom) if r in exps else sp.Integer(0)) for r in powers}
    return alloc, sp.simplify(1 / denom)


def _balance(terms, powers):
    r"""The allocation maximising the loss exponent ``l`` when the loss is a
    sum of monomials ``prod_j X_j^{-E_ij}`` (``terms``: ``{name: {resource:
    E_ij}}``) under ``C = prod_j X_j^{c_j}`` (``powers``): with ``X_j ~
    C^{a_j}`` each term is ``C^{-E_i . a}``, so ``l = max_a min_i E_i . a``
    subject to ``c . a = 1`` and ``a >= 0`` -- a linear program, solved
    exactly by its vertices (every choice of as many active constraints as
    resources, in rational arithmetic).  Returns ``(allocation, l, active
    term names)``."""
    import itertools

    res = list(powers)
    ell = sp.Symbol("ell")
    a = {r: sp.Dummy(str(r)) for r in res}
    names = list(terms)
    lin = {n: sum(sp.nsimplify(e) * a[r] for r, e in terms[n].items() if r in a) for n in names}
    cons = [("term", n) for n in names] + [("bound", r) for r in res]
    best = None
    for combo in itertools.combinations(cons, len(res)):
        eqs = [sp.Eq(sum(powers[r] * a[r] for r in res), 1)]
        eqs += [sp.Eq(lin[n], ell) if kind == "term" else sp.Eq(a[n], 0) for kind, n in combo]
        sol = sp.solve(eqs, [*a.values(), ell], dict=True)
        if len(sol) != 1 or any(v not in sol[0] for v in [*a.values()]):
            continue
        sol = sol[0]
        if ell not in sol:
            # no term active (bounds only): the loss exponent is the smallest term's
            sol[ell] = sp.Min(*[lin[n].subs(sol) for n in names])
        al = {r: sol[a[r]] for r in res}
        # (an exact rational stays itself: nsimplify may rewrite one with large
        # terms as a product of radicals, which then no longer compares equal)
        level = sol[ell] if sp.sympify(sol[ell]).is_Rational else sp.nsimplify(sol[ell])
        if any(v < 0 for v in al.values()) or any(lin[n].subs(sol) < level for n in names):
            continue
        if best is None or level > best[1]:
            best = (al, level, tuple(n for n in names if sp.simplify(lin[n].subs(sol) - level) == 0))
    if best is None:
        raise ParameterError("cost", sp.Mul(*[r ** c for r, c in powers.items()]), "a cost with a bounded optimum")
    return best


def _noisy(model, cost, powers):
    r"""Gradient flow with label noise (numeric ``alpha``, ``r``): the loss is
    the sum of the time bottleneck ``t^{-2r}``, the data bottleneck of the
    noiseless plateau ``P^{-e_P}`` and the noise variance ``sigma^2
    t^{1/alpha}/P`` (order ``q`` of the population limit, :mod:`._time`) --
    a product of two resources, so the optimum is the linear program of
    :func:`_balance`, not a sum of single-resource balances."""
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
        or a ridgeless ``RandomFeatureRidge`` (resources ``N``, ``t``; the time of
        gradient flow on features normalized to the data's scale, ``t D/N`` in the
        model's own units, see :func:`verify_compute_optimal`); a ``PowerLaw``
        population, a ``SourceTarget`` and no label noise
    cost : a monomial in the symbols named ``N``, ``P``, ``t`` (e.g. ``N*t``, ``P*t``)
    regime : sympy relations in ``alpha``, ``r``: the symbolic rule of that
        regime (default: the model's own numbers when they are numbers)
    """
    powers = _cost_powers(cost)
    if not sp.sympify(model.noise).is_zero:
        return _noisy(model, cost, powers)
    cands = _bottleneck_candidates(model, list(powers))
    phases = []
    for combo in _combinations(cands):
        cond = sp.And(*[c for _, c in combo.values()])
        try:
            point = sample_points(cond, {ALPHA, R}, n=4)
        except NoSuchRegimeError:
            continue
        exps = {r: e for r, (e, _) in combo.items()}
        ctx = Context(point)
        if not all(ctx.holds(e > 0) for e in exps.values()):
            raise ParameterError("model", repr(model), "bottlenecks that decay",
                                 f"an exponent {exps} does not decay in the regime {cond}")
        alloc, ell = _allocate(powers, exps)
        conds = tuple(dict.fromkeys(sp.simplify(c) for _, c in combo.values() if c is not sp.true))
        phases.append(Phase(conds, tuple(exps.items()),
                            tuple(alloc.items()), ell))
    own = {ALPHA: sp.sympify(model.population.alpha), R: sp.sympify(model.target.r)}
    numeric = regime is None and all(v.is_number for v in own.values())
    if numeric:
        pts = [{k: float(v) for k, v in own.items()}]
    else:
        pts = sample_points(regime, {ALPHA, R})
    chosen = [ph for ph in phases if all(bool(sp.And(*ph.conditions).subs(p)) for p in pts)]
    if len(chosen) != 1:
        raise ParameterError("regime", regime, "one phase of the compute-optimal rule",
                             f"{len(chosen)} phases hold there; add conditions on alpha and r")
    ph = chosen[0]
    from freeprob.models.features import RandomFeatureRidge

    if isinstance(model, RandomFeatureRidge) and any(float(p[R]) >= 0.5 for p in pts):
        raise ParameterError("target", repr(model.target), "a source exponent r < 1/2 for random features",
                             "for r > 1/2 the numeric learning curve has a cross term in N and t that the "
                             "additive balance omits (see freeprob.scaling._compute)")
    alloc, ell, bott = dict(ph.allocation), ph.loss_exponent, dict(ph.bottlenecks)
    if numeric:
        alloc = {k: sp.nsimplify(v.subs(own)) for k, v in alloc.items()}
        bott = {k: sp.nsimplify(v.subs(own)) for k, v in bott.items()}
        ell = sp.nsimplify(ell.subs(own))
    return ComputeOptimal(cost, bott, alloc, ell, tuple(phases))


def _combinations(cands):
    keys = list(cands)
    if not keys:
        yield {}
        return
    first, rest = keys[0], {k: cands[k] for k in keys[1:]}
    for item in cands[first]:
        for combo in _combinations(rest):
            yield {first: item, **combo}


@dataclass(frozen=True)
class ComputeVerification:
    """Derived vs fitted compute-optimal exponents (:func:`verify_compute_optimal`)."""

    budgets: np.ndarray
    optimum: dict          # resource name -> optimal values per budget
    loss: np.ndarray
    fitted: dict           # resource name -> slope, and "loss"
    derived: dict

    def errors(self) -> dict:
        return {k: abs(self.fitted[k] - self.derived[k]) for k in self.derived}


def verify_compute_optimal(model, cost, budgets, *, points=41, spread=30.0) -> ComputeVerification:
    r"""Minimise the model's numeric ``E_g`` along the cost surface at each
    budget and fit ``log X*`` and ``log L*`` against ``log C``
    (least squares), against :func:`compute_optimal`.

    The cost ``c X^a t^b`` in a size ``X`` and the time: ``P`` for the
    linear model with a gradient-flow estimator, ``N`` (the width) for a
    ridgeless random-feature model, whose learning curve in time is its
    gradient flow on the readout [C18] at the model's sample size (a huge
    ``P`` is online training), timed for features normalized to the data's
    scale: ``t`` of the rule is ``t D/N`` of the model's features, whose
    entries have variance ``1/D`` [C14].  For each budget, ``t = (C/(c X^a))^{1/b}`` on
    ``points`` sizes spread by ``spread`` around the derived optimum; one
    learning curve per size serves every budget; the minimum is refined by a
    parabola in ``log X``.
    """
    from freeprob.models.features import RandomFeatureRidge
    from freeprob.models.filters import GradientFlow
    from freeprob.models.linear import LinearRidge

    if isinstance(model, LinearRidge):
        size = "P"

        def curve(x, times):
            return model.replace(samples=int(x)).evaluate(time=times)["Eg"]
    elif isinstance(model, RandomFeatureRidge):
        size = "N"
        if len(model.widths) != 1:
            raise ParameterError("widths", model.widths, "one layer (the width N is the resource)")

        dim = float(model.dimension)

        def curve(x, times):
            # the rule's time is that of features normalized to the data's
            # scale (F'F'^T ~ I, entries of variance 1/N); the model's features
            # have entries of variance 1/D (F F^T ~ N/D), and gradient flow on
            # them runs D/N times slower: t_model = t D/N
            flow = model.replace(widths=int(x), estimator=GradientFlow(time=1.0))
            return flow.evaluate(time=times * dim / x)["Eg"]
    else:
        raise ParameterError("model", type(model).__name__,
                             "a LinearRidge with a GradientFlow estimator or a ridgeless RandomFeatureRidge")
    opt = compute_optimal(model, cost)
    powers = _cost_powers(cost)
    res = {s.name: s for s in powers}
    if set(res) != {size, "t"}:
        raise ParameterError("cost", cost, f"a monomial in both {size} and t")
    budgets = np.asarray(budgets, dtype=float)
    if budgets.ndim != 1 or budgets.size < 3 or np.any(~(budgets > 0)):
        raise ParameterError("budgets", budgets, "at least three positive budgets")
    coeff = float(sp.sympify(cost).as_coeff_Mul()[0])
    a, b = float(powers[res[size]]), float(powers[res["t"]])
    a_p = float(opt.allocation[res[size]])
    centre = budgets ** a_p
    sizes = np.unique(np.round(np.geomspace(centre.min() / spread, centre.max() * spread, points)))
    sizes = sizes[sizes >= 2]
    table = np.empty((sizes.size, budgets.size))
    for i, p in enumerate(sizes):
        times = (budgets / (coeff * p**a)) ** (1 / b)
        table[i] = np.asarray(curve(p, times), dtype=float)
    if not np.all(np.isfinite(table)):
        raise ParameterError("budgets", budgets, "budgets the learning curve evaluates finitely at")
    p_opt, l_opt = np.empty(budgets.size), np.empty(budgets.size)
    logp = np.log(sizes)
    for j in range(budgets.size):
        k = int(np.argmin(table[:, j]))
        if k in (0, sizes.size - 1):
            raise ParameterError("spread", spread, "a wider grid", f"the optimum at C = {budgets[j]:g} is on its edge")
        y = np.log(table[k - 1:k + 2, j])
        x = logp[k - 1:k + 2]
        c2, c1, c0 = np.polyfit(x, y, 2)
        xm = -c1 / (2 * c2)
        p_opt[j], l_opt[j] = np.exp(xm), np.exp(c0 + c1 * xm + c2 * xm**2)
    t_opt = (budgets / (coeff * p_opt**a)) ** (1 / b)
    lc = np.log(budgets)
    fitted = {size: np.polyfit(lc, np.log(p_opt), 1)[0], "t": np.polyfit(lc, np.log(t_opt), 1)[0],
              "loss": -np.polyfit(lc, np.log(l_opt), 1)[0]}
    derived = {size: float(opt.allocation[res[size]]), "t": float(opt.allocation[res["t"]]),
               "loss": float(opt.loss_exponent)}
    return ComputeVerification(budgets, {size: p_opt, "t": t_opt}, l_opt, fitted, derived)
