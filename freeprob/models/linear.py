r"""Linear ridge regression in the proportional limit [R6]-[R9].

``LinearRidge(population, target, noise, samples, ridge, dimension)`` holds
the model of [C2]: ``x ~ N(0, Sigma)`` with ``Sigma`` of law ``population``
(dimension ``N``), ``P = samples`` training points, label noise variance
``sigma^2 = noise``, ridge ``lam`` with the ``1/P`` loss, ``q = N/P`` [C1].
Every quantity is a sympy expression in the renormalized ridge ``kappa``
(defined implicitly by :meth:`kappa_equation`, derived in
:mod:`freeprob.models.equivalence`) and the parameters:

.. math::
    \mathrm{df}_{1,2} = \mathrm{df}^{1,2}_\Sigma(\kappa),\quad
    \gamma = q\,\mathrm{df}_2,\quad S = S_W(\mathrm{df}_1) = \frac{1}{1 - q\,\mathrm{df}_1},

.. math::
    \mathrm{Bias}^2 = \kappa^2\,\bar w^\top\Sigma(\Sigma+\kappa)^{-2}\bar w,\quad
    \mathrm{Var}_X = \mathrm{Bias}^2\frac{\gamma}{1-\gamma},\quad
    \mathrm{Var}_{X\epsilon} = \sigma^2\frac{\gamma}{1-\gamma},\quad
    E_g = \mathrm{Bias}^2 + \mathrm{Var}_X + \mathrm{Var}_{X\epsilon},\quad
    E_{tr} = \frac{E_g + \sigma^2}{S^2}.

``S`` is written as ``S_W(df1)`` rather than ``kappa/lam`` (equal by [R3]),
and ``E_tr`` through the gap identity ``E_g + sigma^2 = S^2 E_tr`` [R8], so
both stay finite and correct at ``lam = 0`` (``S -> oo`` and ``E_tr -> 0``
for ``q > 1``).

>>> import freeprob, numpy as np
>>> m = freeprob.LinearRidge(freeprob.Identity(1), noise=0.25, samples=100, ridge=0.0, dimension=50)
>>> out = m.evaluate()
>>> float(out["Eg"]), float(out["Etr"])        # sigma^2 q/(1-q), sigma^2 (1-q) [R9]
(0.25, 0.125)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ParameterError
from freeprob.laws import SpectralLaw, rational_twin, symbolic_twin
from freeprob.models.design import (
    DIMENSION,
    NOISE,
    RIDGE,
    SAMPLES,
    SourceTarget,
    ridge_fields,
    target_spectrum,
    trace_dimension,
)
from freeprob.models.equivalence import deterministic_equivalent
from freeprob.models.filters import EstimatorModel
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.spectrum import SpectralMean, absorb_means, absorb_sums
from freeprob.parameters import declare, digits, real_array

__all__ = ["LinearRidge", "SourceTarget", "KEYS"]

#: the keys of :meth:`LinearRidge.evaluate`, in order
KEYS = ("kappa", "df1", "df2", "gamma", "S", "bias2", "var_X", "var_X_noise", "Eg", "Etr")

SIGMA2 = C.sigma2  # label-noise variance, from the conventions module
_DF1, _DF2 = sp.symbols("df1_value df2_value", nonnegative=True)  # df1(kappa), df2(kappa) as values
P_SYM = sp.Symbol("P", positive=True)
_XB = sp.Dummy("x")  # the bias mean's variable: one Dummy, so equal models compile once

# E_g and E_tr as compositions of the components [R7], [R8]: defined once,
# substituted symbolically in quantities() and compiled as such in evaluate()
_B, _VX, _VN, _EG, _S = sp.symbols("bias2 var_X var_X_noise E_g S")
COMPOSITES = {"Eg": _B + _VX + _VN, "Etr": (_EG + SIGMA2) / _S**2}


@dataclass(frozen=True)
class LinearRidge(EstimatorModel):
    """Linear ridge regression with a population law (see the module).

    A frozen dataclass (:class:`~freeprob.models.base.AbstractModel`):
    ``replace(**changes)`` gives a new model; equal models hash alike.

    Parameters
    ----------
    population : the law of the population covariance ``Sigma`` (dimension ``N``)
    target : None (isotropic, ``||wbar|| = 1``), an array in the eigenbasis, or :class:`SourceTarget`
    noise : label-noise variance ``sigma^2 >= 0``
    samples : ``P`` (a positive integer or symbol)
    ridge : ``lambda >= 0`` with the ``1/P`` loss (P2)
    dimension : ``N`` when the population law does not fix it; a ``Discrete``
        law takes any ``N`` (its atoms then have multiplicities ``N p_k``;
        default: the number of atoms)
    """

    population: SpectralLaw
    target: object = None
    noise: object = 0
    samples: object = P_SYM
    ridge: object = C.lam
    dimension: object = None
    estimator: object = None

    SWEEPABLE = ("ridge", "samples", "noise")
    PARAMETERS = declare(NOISE, SAMPLES, RIDGE, DIMENSION)

    def __post_init__(self):
        self._take_estimator()
        self._set(**ridge_fields(self))

    @property
    def _weights(self):
        """The target's ``(eta_k, p_k)`` arrays, for the samplers."""
        from freeprob.models.design import target_weights

        return target_weights(self.population, self.target, self.dimension)

    # ------------------------------------------------------------ symbolic
    @property
    def ratio(self):
        """``q = N/P`` [C1] (``1/P`` in the kernel limit ``N = oo`` [C16])."""
        return C.ratio(trace_dimension(self.dimension), self.samples)

    def equivalent(self):
        return deterministic_equivalent(self.population, ratio=C.q)

    def kappa_equation(self) -> sp.Eq:
        """``kappa = lam S_W(df1_Sigma(kappa))`` [R3] (in the symbols kappa, lambda, q)."""
        return self.equivalent().kappa_equation()

    def quantities(self, *, df=None) -> dict:
        """Every key of :meth:`evaluate` as a sympy expression in ``kappa``,
        ``lambda``, ``q`` and ``sigma2`` [R6]-[R8].

        ``df=(d1, d2)`` writes the quantities in terms of given expressions
        (symbols) for ``df1(kappa)`` and ``df2(kappa)`` instead of the
        population's closed forms; :meth:`evaluate` does so for laws without
        a finite spectrum and takes their values from the law's own certified
        evaluators (no cancellation at any ``kappa``).

        With a spectral estimator other than ridge, the keys of its learning
        curve as contour integrands in ``z`` (and ``z'``) with the
        estimator's filter substituted
        (:func:`~freeprob.models.spectral.spectral_quantities`) [C18]."""
        est = self.estimator
        if est is not None and est.ROUTE != "resolvent":
            from freeprob.models.spectral import spectral_quantities

            return spectral_quantities(est)
        k, q, s2 = C.kappa, C.q, SIGMA2
        if df is None:
            df1, df2 = self.population.df1(k), self.population.df2(k)
        else:
            if isinstance(df, (str, bytes)) or not isinstance(df, (tuple, list)) or len(df) != 2:
                raise ParameterError("df", repr(df)[:60], "None or a pair (df1, df2) of sympy expressions")
            df1, df2 = (C.as_expr(v, "df") for v in df)
        gamma = q * df2
        S = self.equivalent().s_noise(C.df).subs(C.df, df1)  # S = S_W(df1) [R8]
        bias2 = self._bias2(k, df1, df2)
        var_x = bias2 * gamma / (1 - gamma)
        var_noise = s2 * gamma / (1 - gamma)
        eg = COMPOSITES["Eg"].subs({_B: bias2, _VX: var_x, _VN: var_noise})
        etr = COMPOSITES["Etr"].subs({_EG: eg, _S: S})
        return {"kappa": k, "df1": df1, "df2": df2, "gamma": gamma, "S": S, "bias2": bias2,
                "var_X": var_x, "var_X_noise": var_noise, "Eg": eg, "Etr": etr}

    def _bias2(self, k, df1, df2):
        """``kappa^2 wbar^T Sigma (Sigma + kappa)^-2 wbar`` [R7]."""
        spec = target_spectrum(self.population, self.target, self.dimension)
        if spec is None:
            # isotropic, ||wbar|| = 1: wbar^T A wbar -> tr A, and
            # tr Sigma (Sigma + kappa)^-2 = (df1 - df2)/kappa  [C6]
            diff = k * (df1 - df2)
            return absorb_means(sp.expand(diff)) if diff.atoms(SpectralMean) else diff
        return SpectralMean(k**2 * _XB / (_XB + k) ** 2, _XB, spec)

    def isotropic_closed_forms(self) -> dict:
        r"""Closed forms of the isotropic model ``Sigma = c I`` [R9], derived
        from this model's own expressions (not typed):

        ``kappa`` -- the root of the quadratic :meth:`kappa_equation` that is
        positive (the physical branch, ``kappa >= lam``);
        ``Eg_ridgeless_under``/``Etr_ridgeless_under`` -- ``kappa = 0`` (q < 1);
        ``kappa0_over`` and ``Eg_ridgeless_over`` -- the root of
        ``q df1(kappa_0) = 1`` (q > 1), where ``E_tr = 0``;
        ``kappa_peak`` -- ``kappa`` at ``q = 1``;
        ``optimal_ridge``/``Eg_optimal`` -- ``lam(kappa*)`` at the stationary
        ``kappa*`` of ``E_g`` (``d E_g/d lam = E_g'(kappa)/(1 - gamma)``).

        >>> import freeprob, sympy as sp
        >>> m = freeprob.LinearRidge(freeprob.Identity(1), samples=sp.Symbol("P", positive=True),
        ...                          dimension=sp.Symbol("N", positive=True))
        >>> m.isotropic_closed_forms()["optimal_ridge"]
        q*sigma2
        """
        from freeprob.laws import Identity

        if not isinstance(self.population, Identity):
            raise ParameterError("population", repr(self.population), "Identity(c) (isotropic)")
        k, q, lam, s2 = C.kappa, C.q, C.lam, SIGMA2
        eq = self.kappa_equation()
        quad = sp.numer(sp.together(eq.lhs - eq.rhs))
        probe = {q: sp.Rational(1, 2), lam: sp.Integer(1)}
        roots = [r for r in sp.solve(quad, k) if sp.N(r.subs(probe)) > 0]
        if len(roots) != 1:
            raise ParameterError("population", repr(self.population), "a law whose kappa equation is quadratic")
        qs = self.quantities()
        eg, etr, s_fac = sp.simplify(qs["Eg"]), qs["Etr"], qs["S"]  # S = 1/(1 - q df1)
        df1 = self.population.df1(k)
        k0 = [r for r in sp.solve(sp.numer(sp.together(q * df1 - 1)), k) if r != 0][0]
        stationary = sp.solve(sp.numer(sp.together(sp.diff(eg, k))), k)
        probe2 = {q: sp.Rational(2), s2: sp.Rational(1, 2)}
        kstar = [r for r in stationary if sp.N(r.subs(probe2)) > 0][0]
        lam_of_k = self.equivalent().ridge_of_kappa(k)
        return {
            "kappa": roots[0],
            "Eg": eg,
            "Eg_ridgeless_under": sp.simplify(eg.subs(k, 0)),
            "Etr_ridgeless_under": sp.simplify(etr.subs(k, 0)),
            "kappa0_over": sp.simplify(k0),
            "Eg_ridgeless_over": sp.simplify(eg.subs(k, k0)),
            # 1 - q df1(kappa_0) = 0 by definition of kappa_0: S = S_W(df1) diverges
            "S_ridgeless_over": sp.oo if sp.simplify(1 / s_fac.subs(k, k0)) == 0 else sp.simplify(s_fac.subs(k, k0)),
            "kappa_peak": sp.simplify(roots[0].subs(q, 1)),
            "optimal_ridge": sp.simplify(lam_of_k.subs(k, kstar)),
            "Eg_optimal": sp.simplify(eg.subs(k, kstar)),
            "kappa_optimal": kstar,
        }

    def gap_identity(self) -> sp.Expr:
        """``E_g + sigma^2 - S^2 E_tr`` [R8]: zero."""
        qs = self.quantities()
        return sp.simplify(qs["Eg"] + SIGMA2 - qs["S"] ** 2 * qs["Etr"])

    # ------------------------------------------------------------- numerics
    def evaluate(self, *, dps: int | None = None, method: str | None = None, **overrides) -> dict:
        """Numeric values of :data:`KEYS`, broadcasting over array-valued
        ``ridge``, ``samples`` and ``noise`` (overrides of the constructor's
        values; symbols must be given numbers here).

        With a spectral ``estimator`` other than :class:`~freeprob.Ridge`
        (or ``method="contour"``) the keys are
        :data:`~freeprob.models.spectral.SPECTRAL_KEYS`, evaluated by the
        contour route of :mod:`freeprob.models.spectral`, and the estimator's
        parameters sweep too (``evaluate(time=array)``) [C18].

        ``dps=50`` switches to mpmath: ``kappa`` is refined from the float
        solution by Newton on ``kappa (1 - q df1) = lam`` with the exact slope
        ``1 - gamma`` at ``dps`` digits (converged when the step is below
        ``10^-dps kappa``), and every quantity is evaluated from its sympy
        expression with the mpmath backend (object arrays of ``mpf``)."""
        if method not in (None, "closed", "contour"):
            raise ParameterError("method", method, "{'closed', 'contour'}")
        est = self.estimator
        if method == "contour" or (est is not None and est.ROUTE != "resolvent"):
            if dps is not None:
                raise ParameterError("dps", dps, "None for spectral estimators",
                                     "the contour route is certified in float64")
            if method == "closed":
                raise ParameterError("method", method, "'contour' for a non-ridge estimator")
            return self._evaluate_spectral(overrides)
        if dps is not None:
            return self._evaluate_mp(dps, overrides)
        lam, p, s2 = self._ridge_sweep(overrides)
        n = float(self._num("dimension", trace_dimension(self.dimension)))
        q = n / p
        kappa = self.equivalent().solve(lam, q)
        out = {"kappa": kappa}
        stable = _stable_quantities(self)
        if stable is not None:
            exprs = stable
            args = (C.kappa, _E, SIGMA2)
            values = (kappa, q - 1.0, s2)
        elif self.population.finite_spectrum is None:
            # a law known in closed form or through a curve: df1, df2 from its
            # own certified evaluators, the rest compiled in terms of them
            exprs = self.quantities(df=(_DF1, _DF2))
            args = (C.kappa, C.q, SIGMA2, _DF1, _DF2)
            values = (kappa, q, s2, self.population.df1_numeric(kappa), self.population.df2_numeric(kappa))
        else:
            exprs = self.quantities()
            args = (C.kappa, C.q, SIGMA2)
            values = (kappa, q, s2)
        # every key in one fused evaluator: the spectral means of all keys in
        # one pass over the spectrum, common subexpressions shared
        keys = ("df1", "df2", "gamma", "S", "bias2", "var_X", "var_X_noise")
        vals = compile_expr(tuple(exprs[key] for key in keys), args)(*values, finite=False)
        out.update({key: np.asarray(v, dtype=float) for key, v in zip(keys, vals)})
        if stable is None and self.population.finite_spectrum is None and self.population._trace_rank() < np.inf:
            # where df1 > 1/2 the differences 1 - q df1, 1 - gamma, df1 - df2
            # lose the digits of 1 - df as kappa -> 0: there the same
            # quantities in the law's certified complements 1 - df1, 1 - df2
            # (and e = q - 1), each form used where it is exact
            near = (kappa > 0) & (values[3] > 0.5)
            if near.any():
                pop, k_n = self.population, np.where(near, kappa, 1.0)
                comp = (kappa, q - 1.0, s2, np.where(near, pop.df_complement_numeric(k_n, 1), 0.5),
                        np.where(near, pop.df_complement_numeric(k_n, 2), 0.5))
                cq = _complement_quantities(self)
                vals = compile_expr(tuple(cq[key] for key in keys), (C.kappa, _E, SIGMA2, _C1, _C2))(
                    *comp, finite=False)
                for key, v in zip(keys, vals):
                    out[key] = np.where(near, np.asarray(v, dtype=float), out[key])
        # S = S_W(df1) = kappa/lam by the kappa equation [R3]: for lam > 0 the
        # ratio is the well-conditioned form (1 - q df1 = lam/kappa rounds to 0
        # at lam ~ 1e-169, kappa ~ 1); S_W(df1) serves the limit lam -> 0
        # a ridge below ~1e-308 kappa makes kappa/lam exceed the float range:
        # +inf is then the correctly rounded value (evaluate(dps=...) gives it)
        pos = lam > 0
        with np.errstate(over="ignore"):
            out["S"] = np.where(pos, kappa / np.where(pos, lam, 1.0), out["S"])
        huge = pos & np.isinf(out["S"])
        over, thresh = _ridgeless_points(lam, kappa, out["gamma"])
        _ridgeless_limits(out, over, thresh, s2, zero=0.0, inf=np.inf)
        out["Eg"] = compile_expr(COMPOSITES["Eg"], (_B, _VX, _VN))(out["bias2"], out["var_X"], out["var_X_noise"],
                                                                 finite=False)
        with np.errstate(over="ignore"):  # S**2 beyond the float range: E_tr rounds to 0
            out["Etr"] = compile_expr(COMPOSITES["Etr"], (_EG, SIGMA2, _S))(out["Eg"], s2, out["S"], finite=False)
        out["Etr"] = np.where(over | thresh, 0.0, out["Etr"])
        _certify(out, over | huge, thresh, s2, lam, p)
        # (a law evaluator may return shape (1,) for a scalar: the inputs' shape is the contract)
        return {key: np.reshape(out[key], np.shape(kappa)) for key in KEYS}

    def _evaluate_spectral(self, overrides):
        """The contour route [C18] (:func:`~freeprob.models.spectral.evaluate_contour`)."""
        from freeprob.models.filters import Ridge
        from freeprob.models.spectral import (
            SPECTRAL_KEYS,
            evaluate_contour,
            sample_hull,
        )

        est = self.estimator if self.estimator is not None else Ridge(self.ridge)
        names = set(self.sweepable) | set(est.SWEEP)
        bad = sorted(set(overrides) - names)
        if bad:
            raise ParameterError(bad[0], overrides[bad[0]], "one of " + ", ".join(sorted(names)))
        p = real_array("samples", self._value(overrides, "samples"))
        s2 = real_array("noise", self._value(overrides, "noise"))
        if np.any(p < 1) or np.any(p != np.round(p)):
            raise ParameterError("samples", p[(p < 1) | (p != np.round(p))].ravel()[0], "integers >= 1")
        if np.any(~np.isfinite(s2)) or np.any(s2 < 0):
            raise ParameterError("noise", s2[~(np.isfinite(s2) & (s2 >= 0))].ravel()[0], "[0, oo)")
        vals = est.values({k: v for k, v in overrides.items() if k in est.SWEEP})
        n = float(self._num("dimension", trace_dimension(self.dimension)))
        if est.ROUTE == "gap":
            return self._evaluate_cutoff(vals, p, s2, n)
        shape = np.broadcast_shapes(p.shape, s2.shape, *[v.shape for v in vals.values()])
        pb = np.broadcast_to(p, shape)
        out = {key: np.empty(shape) for key in SPECTRAL_KEYS}
        for pv in np.unique(pb):
            sel = pb == pv
            sub = {k: np.broadcast_to(v, shape)[sel] for k, v in vals.items()}
            noise = np.broadcast_to(s2, shape)[sel]
            # past the spectrum's slowest time scale the filter is ridge's to
            # rounding: the closed forms at the estimator's ridge (no contour
            # that would need ever more nodes)
            lower, upper = sample_hull(self, n / pv)
            # without a null space (q < 1) the ridge limit's bias and var_X
            # are the range's alone, as small as lam^2 (0 at lam = 0): the
            # estimator's residual must be the ridge's too, else the contour
            # gives their e^{-2 t lower}-small values, where it reaches every
            # time (a declared exponential split)
            residual = n / pv < 1 and est.exponential_split() is not None
            done = est.at_ridge_limit(sub, lower, upper, residual=residual)
            res = {key: np.empty(done.shape) for key in SPECTRAL_KEYS}
            if done.any():
                lim = self.replace(estimator=None, ridge=0).evaluate(
                    ridge=np.broadcast_to(sub.get("ridge", 0.0), done.shape)[done], samples=pv, noise=noise[done])
                for key in SPECTRAL_KEYS:
                    res[key][done] = lim[key]
            if not done.all():
                rest = evaluate_contour(self, est, {k: np.broadcast_to(v, done.shape)[~done] for k, v in sub.items()},
                                        n / pv, noise[~done])
                for key in SPECTRAL_KEYS:
                    res[key][~done] = rest[key]
            for key in SPECTRAL_KEYS:
                out[key][sel] = res[key]
        return out

    def _evaluate_cutoff(self, vals, p, s2, n):
        """Principal-component regression [C18].  A threshold in the gap
        below the bulk of the sample spectrum (``theta`` below its lower
        edge: exact for atomic and power-law populations, else a lower bound
        to ``~1e-10 x_min``, :func:`~freeprob.models.spectral.bulk_lower_edge`) keeps every nonzero sample eigenvalue: the
        ridgeless estimator ``lam -> 0+`` exactly, so the closed forms at
        ``ridge = 0`` apply.  Any other threshold (inside the bulk, in a gap
        between its parts, above it) takes the two contours that cross the
        real axis at ``theta``
        (:func:`~freeprob.models._spectral_cutoff.cutoff_keys`)."""
        from freeprob.models._spectral_cutoff import cutoff_keys
        from freeprob.models.design import target_spectrum
        from freeprob.models.spectral import SPECTRAL_KEYS, _Law, sample_hull

        theta = vals["threshold"]
        shape = np.broadcast_shapes(theta.shape, p.shape, s2.shape)
        theta, pb, s2b = (np.broadcast_to(a, shape) for a in (theta, p, s2))
        out = {key: np.empty(shape) for key in SPECTRAL_KEYS}
        law = None
        for pv in np.unique(pb):
            sel = pb == pv
            lower, upper = sample_hull(self, n / pv)
            gap = sel & (theta < lower)
            if gap.any():
                lim = self.replace(estimator=None, ridge=0).evaluate(samples=pv, noise=s2b[gap])
                for key in SPECTRAL_KEYS:
                    out[key][gap] = lim[key]
            bulk = sel & ~(theta < lower)
            if bulk.any():
                law = law or _Law(self.population, target_spectrum(self.population, self.target, self.dimension))
                res = cutoff_keys(law, theta[bulk], n / pv, s2b[bulk], upper)
                for key in SPECTRAL_KEYS:
                    out[key][bulk] = res[key]
        return out

    def _evaluate_mp(self, dps, overrides):
        import mpmath

        from freeprob.errors import BranchError, ConvergenceError

        dps = digits("dps", dps)
        flt = self.evaluate(**overrides)
        lam = np.asarray(self._value(overrides, "ridge"), dtype=float)
        p = np.asarray(self._value(overrides, "samples"), dtype=float)
        s2 = np.asarray(self._value(overrides, "noise"), dtype=float)
        lam, p, s2 = np.broadcast_arrays(lam, p, s2)
        n = float(self._num("dimension", trace_dimension(self.dimension)))
        # float parameters as the rationals they stand for: sympy folds a
        # Float ratio into 15-digit constants (sqrt(0.5) = 0.707106781186548),
        # which would cap every mpmath value at ~1e-16 absolute
        exprs = self.replace(population=rational_twin(self.population)).quantities()
        args = (C.kappa, C.q, SIGMA2)
        d1 = compile_expr(exprs["df1"], args, backend="mpmath")
        d2 = compile_expr(exprs["df2"], args, backend="mpmath")
        shape = lam.shape
        # 1 - q df1 ~ kappa ~ sqrt(lam) at q = 1 cancels log10(1/kappa) digits
        tiny = lam[lam > 0]
        work = dps + 10 + (int(np.ceil(-np.log10(tiny.min()) / 2)) + 5 if tiny.size and tiny.min() < 1 else 0)
        over, thresh = _ridgeless_points(lam, flt["kappa"], flt["gamma"])
        out = {key: np.empty(shape, dtype=object) for key in KEYS}
        with mpmath.workdps(work):
            for idx in np.ndindex(shape):
                q = mpmath.mpf(n) / mpmath.mpf(p[idx])
                lm, sv = mpmath.mpf(lam[idx]), mpmath.mpf(s2[idx])
                k = mpmath.mpf(flt["kappa"][idx])
                if lm > 0:
                    for _ in range(60):
                        f = k * (1 - q * d1(k, q, sv, dps=work)[()]) - lm
                        step = f / (1 - q * d2(k, q, sv, dps=work)[()])
                        k -= step
                        if abs(step) <= mpmath.mpf(10) ** (-dps - 2) * abs(k):
                            break
                    else:
                        raise ConvergenceError(f"mpmath refinement of kappa did not converge at lam = {lam[idx]}")
                out["kappa"][idx] = +k
                special = over[idx] or thresh[idx]
                for key in KEYS[1:]:
                    if key in ("Eg", "Etr"):
                        continue
                    if special and key in ("S", "gamma", "bias2", "var_X", "var_X_noise"):
                        # the derived ridgeless limits (_ridgeless_limits), in mpmath numbers
                        if not (over[idx] and key in ("gamma", "bias2", "var_X", "var_X_noise")):
                            continue
                    if key == "S" and lm > 0:
                        out[key][idx] = k / lm  # the kappa equation, as in the float path
                        continue
                    out[key][idx] = compile_expr(exprs[key], args, backend="mpmath")(k, q, sv, dps=work)[()]
                if special:
                    cell = {key: out[key][idx] for key in ("S", "gamma", "bias2", "var_X", "var_X_noise")}
                    _ridgeless_limits(cell, over[idx], thresh[idx], sv, zero=mpmath.mpf(0), inf=mpmath.inf,
                                      one=mpmath.mpf(1), cell=True)
                    for key, v in cell.items():
                        out[key][idx] = v
                out["Eg"][idx] = compile_expr(COMPOSITES["Eg"], (_B, _VX, _VN), backend="mpmath")(
                    out["bias2"][idx], out["var_X"][idx], out["var_X_noise"][idx], dps=work)[()]
                S = out["S"][idx]
                out["Etr"][idx] = compile_expr(COMPOSITES["Etr"], (_EG, SIGMA2, _S), backend="mpmath")(
                    out["Eg"][idx], sv, S, dps=work)[()] if mpmath.isfinite(S) else mpmath.mpf(0)
            # closed forms with radicals are evaluated on complex mpmath
            # numbers: the quantities are real, certified here
            for key in KEYS:
                for idx in np.ndindex(shape):
                    v = out[key][idx]
                    if isinstance(v, mpmath.mpc):
                        if abs(v.imag) > mpmath.mpf(10) ** (-dps) * (abs(v.real) + mpmath.mpf(10) ** (-dps)):
                            raise BranchError(f"{key} left the real axis at point {idx} (imaginary part "
                                              f"{mpmath.nstr(v.imag, 3)})")
                        out[key][idx] = v.real
        return out


_E = sp.Dummy("e")  # q - 1
_C1, _C2 = sp.symbols("cdf1_value cdf2_value", nonnegative=True)  # 1 - df1(kappa), 1 - df2(kappa)


@cached(maxsize=64)
def _complement_quantities(model):
    """:meth:`LinearRidge.quantities` in the values ``1 - df1``, ``1 - df2``
    and ``e = q - 1``, cancelled to single fractions: ``1 - gamma = 1 -
    q df2`` is ``c2 + e c2 - e``, exact at ``q = 1`` (the values come from
    :meth:`~freeprob.laws.SpectralLaw.df_complement_numeric`)."""
    sub = {_DF1: 1 - _C1, _DF2: 1 - _C2, C.q: 1 + _E}
    return {key: sp.factor(sp.cancel(val.xreplace(sub))) for key, val in model.quantities(df=(_DF1, _DF2)).items()}


@cached(maxsize=64)
def _stable_quantities(model):
    """:meth:`LinearRidge.quantities` with ``q = 1 + e`` (``e`` passed as a
    value) in a form exact at ``q = 1`` as ``kappa -> 0``, where ``1 - gamma
    = 1 - q df2`` rounds to 0: for a normalized finite spectrum every sum of
    means is absorbed into one mean (:func:`~freeprob.numeric.spectrum.absorb_sums`,
    ``1 - gamma = <(kappa(2x + kappa) - e x^2)/(x + kappa)^2>``); a rational
    closed form is cancelled to one fraction (``1 - gamma = kappa(kappa +
    2) - e`` over ``(kappa + 1)^2`` for ``Identity(1)``).  None for laws
    outside these two cases (radical closed forms, curves, the kernel sums)."""
    from freeprob.errors import NoClosedFormError
    from freeprob.numeric.compile import needs_complex

    pop = model.population
    if pop._trace_rank() == np.inf:
        return None
    if pop.finite_spectrum is None and not pop.free_symbols:
        try:
            qs = model.quantities()
        except NoClosedFormError:
            return None
        if any(v.has(SpectralMean) or needs_complex(v) for v in qs.values()):
            return None
        # the law's numbers as symbols while cancelling (its symbolic twin):
        # factor() keeps (kappa + c)^2 only for a symbolic c; with a float
        # c = 1e12 folded in, the denominator expands and kappa^3 overflows
        # at kappa ~ 1e103 (NaN for Identity(1e12) at ridge 1e200)
        twin, syms, vals = symbolic_twin(pop)
        if syms:
            qs = model.quantities(df=(twin.df1(C.kappa), twin.df2(C.kappa)))
        back = dict(zip(syms, vals))
        return {key: sp.factor(sp.cancel(val.xreplace({C.q: 1 + _E}))).xreplace(back) for key, val in qs.items()}
    if pop.finite_spectrum is None:
        return None
    return {key: absorb_sums(val.xreplace({C.q: 1 + _E})) for key, val in model.quantities().items()}


def _ridgeless_points(lam, kappa, gamma):
    """The points where ``lam = 0`` makes a quantity a limit: ``over``
    (``kappa > 0``, more effective dimensions than samples) and ``thresh``
    (``kappa = 0`` at the interpolation threshold ``gamma = 1``)."""
    at0 = np.asarray(lam) == 0
    kappa = np.asarray(kappa, dtype=float)
    over = at0 & (kappa > 0)
    # gamma = q df2(0) = q (1 - mass at 0) = 1 exactly in exact arithmetic;
    # the float value is within a few ulps of it
    thresh = at0 & (kappa == 0) & (np.abs(1 - np.asarray(gamma, dtype=float)) <= 16 * np.finfo(float).eps)
    return over, thresh


def _ridgeless_limits(out, over, thresh, s2, *, zero, inf, one=1.0, cell=False):
    r"""Replace the ``0/0`` and ``1/0`` of the closed forms at ``lam = 0`` by
    their limits ``lam -> 0+`` (derived here once, for both backends).

    * ``over``: ``S = kappa/lam = +oo`` exactly (``q df1(kappa) = 1``).
    * ``thresh`` (``kappa = 0``, ``gamma = 1``): with the gap
      ``1 - gamma = lam/kappa + q (df1 - df2) >= q kappa tr Sigma(Sigma + kappa)^-2/N``
      and ``Bias^2 <= kappa^2 wbar^T Sigma (Sigma + kappa)^-2 wbar``,
      ``Bias^2/(1 - gamma) = O(kappa) -> 0``: ``Bias^2 = Var_X = 0``;
      ``Var_Xe = sigma^2 gamma/(1 - gamma)`` is ``0`` when ``sigma^2 = 0``
      (identically, at every ``lam``) and ``+oo`` otherwise; ``S = +oo``.
    """
    if cell:  # one point, mpmath numbers
        if over:
            out["S"] = inf
        if thresh:
            out.update(S=inf, gamma=one, bias2=zero, var_X=zero, var_X_noise=inf if s2 > 0 else zero)
        return
    s2 = np.broadcast_to(s2, over.shape)
    out["S"] = np.where(over | thresh, inf, out["S"])
    out["gamma"] = np.where(thresh, one, out["gamma"])
    for key in ("bias2", "var_X"):
        out[key] = np.where(thresh, zero, out[key])
    out["var_X_noise"] = np.where(thresh, np.where(s2 > 0, inf, zero), out["var_X_noise"])


def _certify(out, over, thresh, s2, lam, p):
    """Every value finite, except the derived infinities of
    :func:`_ridgeless_limits`; otherwise :class:`~freeprob.errors.NumericalError`."""
    from freeprob.errors import NumericalError

    s2 = np.broadcast_to(s2, over.shape)
    allowed = {"S": over | thresh, "var_X_noise": thresh & (s2 > 0), "Eg": thresh & (s2 > 0)}
    for key in KEYS:
        bad = ~np.isfinite(out[key]) & ~allowed.get(key, False)
        if np.any(bad):
            i = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), bad.shape) if bad.ndim else ()
            raise NumericalError(f"{key} = {out[key][i]!r} at ridge = {np.broadcast_to(lam, bad.shape)[i]!r}, "
                                 f"samples = {np.broadcast_to(p, bad.shape)[i]!r}, noise = {s2[i]!r}")
