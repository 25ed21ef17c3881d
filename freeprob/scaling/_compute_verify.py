r"""Numeric verification of a compute-optimal rule: the argmin of the
model's own learning curve at each budget, and slopes fitted against
:func:`~freeprob.scaling.compute_optimal` (see :mod:`._compute`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from freeprob.errors import ParameterError
from freeprob.scaling._compute import _cost_powers, compute_optimal

__all__ = ["verify_compute_optimal", "ComputeVerification"]


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
