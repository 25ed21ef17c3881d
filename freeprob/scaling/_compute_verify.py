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

    The cost ``c prod X^a t^b`` in the sizes ``X`` and the time: ``P`` for
    the linear model with a gradient-flow estimator; ``N`` (the width), or
    ``N`` and ``P`` (training with data reuse), for a ridgeless
    random-feature model, whose learning curve in time is its gradient flow
    on the readout [C18] at the model's sample size (a huge ``P`` is online
    training), timed for features normalized to the data's scale: ``t`` of
    the rule is ``t D/N`` of the model's features, whose entries have
    variance ``1/D`` [C14].  For each budget, ``t = (C/(c prod X^a))^{1/b}``
    on a grid of ``points`` values per size, spread by ``spread`` around the
    derived optimum; one learning curve per grid point serves every budget;
    the minimum is refined by a quadratic in the ``log X`` (a parabola for one
    size, least squares on the 3 x 3 neighbourhood for two).

    >>> import numpy as np, sympy as sp, freeprob
    >>> P, t = sp.symbols("P t", positive=True)
    >>> flow = freeprob.LinearRidge(freeprob.PowerLaw(sp.Rational(3, 2), 400), target=freeprob.SourceTarget(0.4),
    ...                             estimator=freeprob.GradientFlow(time=t))
    >>> v = verify_compute_optimal(flow, P * t, np.geomspace(1e2, 1e3, 3), points=9, spread=4)
    >>> v.derived["P"], bool(v.errors()["P"] < 0.05)
    (0.4, True)
    """
    from freeprob.models.features import RandomFeatureRidge
    from freeprob.models.filters import GradientFlow
    from freeprob.models.linear import LinearRidge

    powers = _cost_powers(cost)
    res = {s.name: s for s in powers}
    if isinstance(model, LinearRidge):
        sizes_of = [("P",)]

        def curve(x, times):
            return model.replace(samples=int(x["P"])).evaluate(time=times)["Eg"]
    elif isinstance(model, RandomFeatureRidge):
        sizes_of = [("N",), ("N", "P")]
        if len(model.widths) != 1:
            raise ParameterError("widths", model.widths, "one layer (the width N is the resource)")

        dim = float(model.dimension)

        def curve(x, times):
            # the rule's time is that of features normalized to the data's
            # scale (F'F'^T ~ I, entries of variance 1/N); the model's features
            # have entries of variance 1/D (F F^T ~ N/D), and gradient flow on
            # them runs D/N times slower: t_model = t D/N
            flow = model.replace(widths=int(x["N"]), samples=int(x.get("P", model.samples)),
                                 estimator=GradientFlow(time=1.0))
            return flow.evaluate(time=times * dim / x["N"])["Eg"]
    else:
        raise ParameterError("model", type(model).__name__,
                             "a LinearRidge with a GradientFlow estimator or a ridgeless RandomFeatureRidge")
    sizes = next((list(c) for c in sizes_of if set(res) == {*c, "t"}), None)
    if sizes is None:
        raise ParameterError("cost", cost, " or ".join(f"a monomial in {', '.join(c)} and t" for c in sizes_of))
    if "P" not in sizes and not sp.sympify(model.samples).is_number:
        raise ParameterError("samples", model.samples, "a number when the cost does not pay for the data",
                             "the learning curve is evaluated at the model's own sample size")
    opt = compute_optimal(model, cost)
    budgets = np.asarray(budgets, dtype=float)
    if budgets.ndim != 1 or budgets.size < 3 or np.any(~(budgets > 0)):
        raise ParameterError("budgets", budgets, "at least three positive budgets")
    coeff = float(sp.sympify(cost).as_coeff_Mul()[0])
    a = {k: float(powers[res[k]]) for k in sizes}
    b = float(powers[res["t"]])
    axes = []
    for k in sizes:
        centre = budgets ** float(opt.allocation[res[k]])
        ax = np.unique(np.round(np.geomspace(centre.min() / spread, centre.max() * spread, points)))
        axes.append(ax[ax >= 2])
    table = np.empty((*[ax.size for ax in axes], budgets.size))
    for idx in np.ndindex(*table.shape[:-1]):
        x = {k: axes[i][idx[i]] for i, k in enumerate(sizes)}
        times = (budgets / (coeff * np.prod([x[k] ** a[k] for k in sizes]))) ** (1 / b)
        table[idx] = np.asarray(curve(x, times), dtype=float)
    if not np.all(np.isfinite(table)):
        raise ParameterError("budgets", budgets, "budgets the learning curve evaluates finitely at")
    x_opt, l_opt = np.empty((budgets.size, len(sizes))), np.empty(budgets.size)
    logs = [np.log(ax) for ax in axes]
    for j in range(budgets.size):
        x_opt[j], l_opt[j] = _refined_minimum(table[..., j], logs, spread, budgets[j])
    opt_sizes = {k: np.exp(x_opt[:, i]) for i, k in enumerate(sizes)}
    t_opt = (budgets / (coeff * np.prod([opt_sizes[k] ** a[k] for k in sizes], axis=0))) ** (1 / b)
    lc = np.log(budgets)
    fitted = {**{k: np.polyfit(lc, np.log(v), 1)[0] for k, v in opt_sizes.items()},
              "t": np.polyfit(lc, np.log(t_opt), 1)[0], "loss": -np.polyfit(lc, np.log(l_opt), 1)[0]}
    derived = {**{k: float(opt.allocation[res[k]]) for k in sizes}, "t": float(opt.allocation[res["t"]]),
               "loss": float(opt.loss_exponent)}
    return ComputeVerification(budgets, {**opt_sizes, "t": t_opt}, l_opt, fitted, derived)


def _refined_minimum(values, logs, spread, budget):
    """The grid minimum of ``values`` (one axis per size, log-spaced), refined
    by the stationary point of a quadratic in the logarithms fitted on its
    ``3^k`` neighbourhood; returns ``(log sizes, minimum)``."""
    k = np.unravel_index(int(np.argmin(values)), values.shape)
    if any(i in (0, n - 1) for i, n in zip(k, values.shape)):
        raise ParameterError("spread", spread, "a wider grid", f"the optimum at C = {budget:g} is on its edge")
    near = values[tuple(slice(i - 1, i + 2) for i in k)]
    grids = np.meshgrid(*[lg[i - 1:i + 2] - lg[i] for lg, i in zip(logs, k)], indexing="ij")
    cols = [g.ravel() for g in grids]
    dim = len(cols)
    quad = [(p, q) for p in range(dim) for q in range(p, dim)]
    design = np.stack([np.ones(near.size), *cols, *[cols[p] * cols[q] for p, q in quad]], axis=1)
    coef = np.linalg.lstsq(design, np.log(near).ravel(), rcond=None)[0]
    grad = coef[1:1 + dim]
    hess = np.zeros((dim, dim))
    for (p, q), c in zip(quad, coef[1 + dim:]):
        hess[p, q] += c if p != q else 2 * c
        if p != q:
            hess[q, p] += c
    if np.any(np.linalg.eigvalsh(hess) <= 0):
        raise ParameterError("points", len(logs[0]), "a grid fine enough that the minimum is a quadratic bowl",
                             f"the neighbourhood of the minimum at C = {budget:g} is not convex")
    step = np.linalg.solve(hess, -grad)
    level = coef[0] + grad @ step + 0.5 * step @ hess @ step
    return np.array([lg[i] for lg, i in zip(logs, k)]) + step, float(np.exp(level))
