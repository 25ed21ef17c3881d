r"""Random-feature keys that are differences of diverging terms, certified
(private to :mod:`freeprob.models`).

At an interpolation threshold (``P = D`` or ``N_l = D`` with ``kappa_2 ->
0``) three keys of [R13], [R14] are finite differences of terms that grow
like ``1/(1 - df1)``: ``Var_F = (1 - rho) kappa_2 tf2``, ``Var_XF,e =
sigma^2 (gamma_1/(1 - gamma_1) - gamma_2/(1 - gamma_2))`` and ``Var_XF =
E_inf/(1 - gamma_1) - Bias^2 - Var_X - Var_F``.  One white layer with an
isotropic target compiles them as single ratios
(:func:`~freeprob.models._features_maps.quantities_near`); the other models
keep the differences, whose float value loses ``log10`` of the ratio of the
terms to the key.  :func:`refine_differences` measures that ratio at every
point from keys that keep their digits (``Var_X,e/sigma^2 = gamma_2/(1 -
gamma_2)`` is the size of both terms of ``Var_XF,e``) and, where more than
``1e-8`` relative would be lost, evaluates the same compiled expressions in
mpmath with the digits lost plus 30 (``kappa_F`` of anisotropic weights
solved at those digits), checked against 15 more; a law without ``df`` in
mpmath raises :class:`~freeprob.errors.NumericalError` there instead.

Only points near a threshold are refined: ``df1``, ``gamma_1`` or
``gamma_2`` above 1/2.  In the far field (``kappa_2 -> oo``, ``df1 < 1/2``)
the evaluator takes the forms of
:func:`~freeprob.models._features_maps.far_field_quantities` instead, whose
terms fall with the keys; the ratios of :func:`term_ratios` (computed from
the threshold forms' terms) do not describe them there.
"""

from __future__ import annotations

import numpy as np

from freeprob.errors import NoClosedFormError, NumericalError
from freeprob.models._features_maps import (
    NEAR_KEYS,
    _quantities,
    means_inline,
    quantities_near,
    stable_form,
)
from freeprob.numeric.compile import compile_expr

#: the largest ratio of the terms to the key accepted in float64 (about 1e-8 relative lost)
MAX_RATIO = 4.5e7


def _df_in_mpmath(model) -> bool:
    """Whether the population gives ``df1`` in mpmath next to 0 (a closed
    form, or the remainder's curve of an algebraic law)."""
    try:
        model.population.df1_numeric(np.array([1e-30]), dps=20)
    except NoClosedFormError:
        return False
    return True


def _df_mp(model, k, dps):
    """The trailing ``df1``, ``df2`` arguments at ``kappa_2 = k`` with ``dps``
    digits when the means are not inline (the law's own mpmath route), else none."""
    if means_inline(model):
        return ()
    pop = model.population
    return tuple(getattr(pop, f"df{i}_numeric")(np.array([float(k)]), dps=dps)[0] for i in (1, 2))


def term_ratios(out) -> dict:
    """For each key of :data:`NEAR_KEYS`, the ratio of the size of its terms
    to its value (``inf`` where the value is 0 and the terms are not)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a key that underflowed: inf
        parts = np.abs(out["bias2"]) + np.abs(out["var_X"]) + np.abs(out["var_F"])
        noise = np.where(out["var_X_noise"] > 0, out["var_X_noise"], 0.0)
        sizes = {"var_F": np.abs(out["kappa2"] * out["df2"]), "var_XF": 2 * parts + np.abs(out["var_XF"]),
                 "var_XF_noise": noise + np.abs(out["var_XF_noise"])}
        return {key: np.where(sizes[key] == 0, 0.0, sizes[key] / np.abs(out[key])) for key in NEAR_KEYS}


def refine_differences(model, out, phi, psis, s2, sx):
    """Replace, in place, the keys of :data:`NEAR_KEYS` that lost more than
    ``1e-8`` relative by their mpmath values (see the module)."""
    if quantities_near(model):
        return
    ratios = term_ratios(out)
    k2 = out["kappa2"]
    near = (out["df1"] > 0.5) | (out["gamma1"] > 0.5) | (out["gamma2"] > 0.5)
    bad = {key: np.flatnonzero((r > MAX_RATIO) & near & (k2 > 0) & np.isfinite(out[key])) for key, r in ratios.items()}
    points = sorted(set().union(*(set(v.tolist()) for v in bad.values())))
    if not points:
        return
    key, i = next((key, int(v[0])) for key, v in bad.items() if v.size)
    if not _df_in_mpmath(model):
        raise NumericalError(
            f"{key} at kappa_2 = {k2[i]!r} is a difference of terms {ratios[key][i]:.3g} times its size (an "
            f"interpolation threshold, 1 - df1 -> 0): float64 loses more than 1e-8 of it, and "
            f"{model.population!r} has no df in mpmath; evaluate at a larger ridge")
    import mpmath

    from freeprob.models._feature_covariance import kappa_f_mp

    qs = _quantities(model)
    f = compile_expr(*stable_form(model, [qs[k] for k in NEAR_KEYS]), backend="mpmath")
    for i in points:
        lost = max(float(np.log10(np.clip(ratios[k][i], 1.0, 1e300))) for k in NEAR_KEYS)
        dps = int(30 + lost + 2 * max(0.0, -np.log10(k2[i])))
        pars = [float(phi[i]), *(float(p[i]) for p in psis)]

        def at(digits):
            with mpmath.workdps(digits):
                args = [mpmath.mpf(float(k2[i]))] + [mpmath.mpf(v) - 1 for v in pars] + \
                    [mpmath.mpf(float(s2[i])), mpmath.mpf(float(sx[i]))]
                extra = ()
                if model.feature_covariance is not None:  # kappa_F(t), t = df1/psi, at these digits
                    d1 = mpmath.re(model.population.df1_numeric(np.array([float(k2[i])]), dps=digits)[0])
                    extra = kappa_f_mp(model.feature_covariance, d1 / mpmath.mpf(pars[1]), digits)
                vals = f(*args, *extra, *_df_mp(model, args[0], digits), dps=digits)
                return [mpmath.re(v[()]) for v in vals]

        lo, hi = at(dps), at(dps + 15)
        for key, u, v in zip(NEAR_KEYS, lo, hi):
            if abs(u - v) > 1e-14 * abs(v):
                raise NumericalError(f"{key} at kappa_2 = {k2[i]!r}: {dps} and {dps + 15} digits disagree "
                                     f"({float(u)!r}, {float(v)!r})")
            out[key][i] = float(v)
