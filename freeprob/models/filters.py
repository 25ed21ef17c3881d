r"""Spectral estimators: ridge, gradient flow and descent, cutoffs, any filter [C18].

A spectral estimator fits ``w_hat = f(Sigma_hat) X^T y/P`` with ``Sigma_hat =
X^T X/P`` and a scalar filter ``f`` applied to the eigenvalues of
``Sigma_hat``.  Each estimator here is a frozen, hashable object that holds
its parameters and writes its filter once, as a sympy expression in the
eigenvalue ``x`` and canonical parameter symbols (:meth:`SpectralEstimator.template`):

.. math::
    f_{\rm ridge} = \frac{1}{x+\lambda},\quad
    f_{\rm flow} = \frac{1 - e^{-t(x+\lambda)}}{x+\lambda},\quad
    f_{\rm GD} = \frac{1 - (1-\eta(x+\lambda))^k}{x+\lambda},\quad
    f_{\rm PCR} = \frac{\mathbb 1[x > \theta]}{x}.

Models take ``estimator=`` (:class:`~freeprob.LinearRidge`); the models'
numeric routes compile the template at the numeric boundary, with the
parameters as arguments, so one compiled filter serves a whole sweep of
``time``, ``steps`` or ``ridge``.

>>> import freeprob
>>> freeprob.GradientFlow(time=10).filter()
(1 - exp(-10*x))/x
>>> freeprob.GradientDescent(step=0.5, steps=2).filter().expand()
1.0 - 0.25*x
"""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ParameterError
from freeprob.models.base import AbstractModel
from freeprob.parameters import Parameter, declare, real_array

__all__ = ["SpectralEstimator", "Ridge", "GradientFlow", "GradientDescent", "SpectralCutoff", "SpectralFilter",
           "as_estimator"]

X = C.x
RIDGE = Parameter("ridge", "nonnegative", r"\lambda", (0.0, 1.0), doc="ridge with the 1/P loss, P2")
TIME = Parameter("time", "nonnegative", "t", (0.1, 100.0), doc="training time of gradient flow [C18]")
STEP = Parameter("step", "positive", r"\eta", (0.01, 1.0), doc="step size of gradient descent [C18]")
STEPS = Parameter("steps", "nonnegative_integer", "k", (1, 1000), doc="number of gradient-descent steps [C18]")
THRESHOLD = Parameter("threshold", "positive", r"\theta", (0.01, 1.0), doc="eigenvalue cutoff of PCR [C18]")

#: the canonical symbol of each declared filter parameter (conventions [C18])
SYMBOLS = {"ridge": C.lam, "time": C.time, "step": C.step_size, "steps": C.steps, "threshold": C.threshold}

# functions that are not analytic anywhere they are non-constant, or that have
# branch cuts: a filter built from them is refused (no contour route)
_NON_ANALYTIC = (sp.Abs, sp.sign, sp.re, sp.im, sp.arg, sp.conjugate, sp.Heaviside, sp.Piecewise, sp.Min,
                 sp.Max, sp.floor, sp.ceiling, sp.DiracDelta, sp.log, sp.LambertW, sp.asin, sp.acos,
                 sp.atan, sp.asinh, sp.acosh, sp.atanh)


@dataclass(frozen=True)
class SpectralEstimator(abc.ABC):
    """A filter ``f`` of the sample covariance (see the module) [C18].

    Subclasses are frozen dataclasses; they declare ``PARAMETERS`` (validated
    on construction), the names that ``evaluate(**sweep)`` may sweep
    (``SWEEP``) and :meth:`template`.
    """

    PARAMETERS: ClassVar[dict] = {}
    SWEEP: ClassVar[tuple] = ()
    #: a declared capability: the hat filter ``h = x f`` is bounded on ``(0, oo)``
    #: (continuum sums over power-law spectra, :mod:`freeprob.scaling`)
    BOUNDED_HAT: ClassVar[bool] = True
    #: how the models evaluate the filter: ``"resolvent"`` (the ridge closed
    #: forms), ``"contour"`` (contour integrals, :mod:`freeprob.models.spectral`)
    #: or ``"gap"`` (a cutoff in a spectral gap: the ridgeless closed forms)
    ROUTE: ClassVar[str] = "contour"

    def __post_init__(self):
        for name, prm in self.PARAMETERS.items():
            object.__setattr__(self, name, prm.validate(getattr(self, name)))

    # ------------------------------------------------------------ symbolic
    @abc.abstractmethod
    def template(self) -> sp.Expr:
        """``f`` in ``x`` (:data:`freeprob.conventions.x`) and the canonical
        symbols of the parameters (:attr:`symbols`)."""

    @property
    def symbols(self) -> dict:
        """``{name: symbol}`` of the parameters in :meth:`template`."""
        return {name: SYMBOLS[name] for name in self.PARAMETERS}

    def filter(self, x=X) -> sp.Expr:
        """``f(x)`` with this estimator's parameter values [C18]."""
        x = C.as_expr(x, "x")
        expr = self.template().xreplace({self.symbols[n]: getattr(self, n) for n in self.PARAMETERS})
        return expr.xreplace({X: x}) if x is not X else expr

    def hat(self, x=X) -> sp.Expr:
        """``h(x) = x f(x)`` [C18]."""
        return C.hat_filter(self.filter(x), x)

    def residual(self, x=X) -> sp.Expr:
        """``r(x) = 1 - x f(x)`` [C18]."""
        return C.residual_filter(self.filter(x), x)

    @property
    def ridge(self):
        """The ridge of the filter (``0`` for a filter without one; the
        estimators with a ridge hold it as a field)."""
        return sp.Integer(0)

    def replace(self, **changes) -> "SpectralEstimator":
        """A new estimator with some parameters changed (validated again)."""
        names = {f.name for f in dataclasses.fields(self) if f.init}
        for name in changes:
            if name not in names:
                raise ParameterError(name, changes[name], f"one of {sorted(names)}")
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------- numerics
    def values(self, overrides: dict | None = None) -> dict:
        """``{name: float array}`` of the parameters for a numeric sweep: an
        override (one of ``SWEEP``) or the constructor's value, validated
        (a :class:`~freeprob.errors.ParameterError` naming it)."""
        if overrides is not None and not isinstance(overrides, dict):
            raise ParameterError("overrides", repr(overrides)[:60], "None or a dict {name: values}")
        overrides = dict(overrides or {})
        bad = set(overrides) - set(self.SWEEP)
        if bad:
            name = sorted(bad)[0]
            raise ParameterError(name, overrides[name], "one of " + ", ".join(self.SWEEP),
                                 f"the parameters {type(self).__name__} sweeps")
        out = {}
        for name, prm in self.PARAMETERS.items():
            raw = overrides.get(name, getattr(self, name))
            if name not in overrides and not sp.sympify(raw).is_number:
                raise ParameterError(name, raw, "a number", f"pass {name}=... to evaluate()")
            arr = real_array(name, np.asarray(raw, dtype=float) if not isinstance(raw, sp.Basic) else float(raw))
            for v in np.unique(arr):
                prm.validate(float(v) if prm.domain not in ("positive_integer", "nonnegative_integer")
                             or not float(v).is_integer() else int(v))
            out[name] = arr
        return out

    def exponential_split(self):
        """``(R0, R1)`` with ``r = R0 + R1 E`` (rational ``R0``, ``R1`` in ``x``
        and the canonical symbols, ``E = e^{-rate s(x)}`` of
        :meth:`split_rate`: ``e^{-t (x + lam)}`` for gradient flow, ``(1 -
        eta (x + lam))^k`` for gradient descent) when the residual filter has
        that form [C18]; None otherwise.  A declared split lets the
        contour route put each exponential on a parabola opening to the right,
        where it decays (no node count that grows with ``t``)."""
        return None

    def split_rate(self, values: dict):
        """``(rate, eta)`` flat arrays of a declared split: the residual's
        transient is ``E = e^{-rate s(z)}`` with ``s = z + lam`` where ``eta
        = 0`` (gradient flow, ``rate = t``) and ``s = -log(1 - eta (z +
        lam))`` where ``eta > 0`` (gradient descent, ``E = (1 - eta (z +
        lam))^k``, ``rate = k``); the split route puts its parabolas in the
        variable ``s``.  Only called when :meth:`exponential_split` is not
        None: an estimator that declares a split must say its rate.

        >>> from freeprob.models.filters import Ridge
        >>> Ridge(0.1).split_rate({"ridge": 0.1})
        Traceback (most recent call last):
        ...
        freeprob.errors.ParameterError: estimator = Ridge is outside its allowed range an estimator whose exponential_split() is declared with its split_rate()
        """
        raise ParameterError("estimator", type(self).__name__,
                             "an estimator whose exponential_split() is declared with its split_rate()")

    def singular_points(self, values: dict) -> np.ndarray:
        """The non-removable singularities of ``f`` (complex, any shape) at
        the parameter ``values``; the contour must keep them outside."""
        return np.empty(0, dtype=complex)

    def check_spectrum(self, upper: float, values: dict) -> None:
        """Refuse parameters for which the filter is not what it claims on a
        sample spectrum in ``[0, upper]`` (gradient descent: stability)."""

    def at_ridge_limit(self, values: dict, lower: float, upper: float, *, residual: bool = False) -> np.ndarray:
        """Where (per parameter point) the filter equals the ridge filter
        ``1/(x + lam)`` to rounding (relative ``2^-60``) on every sample
        eigenvalue in ``[lower, upper]``, and ``h(0) = 0`` on the null space:
        there the learning curve is the ridge model's at the estimator's
        ridge.  None by default.

        ``residual=True`` asks, in addition, for the residual filter ``r = 1
        - x f`` to equal the ridge's ``lam/(x + lam)`` to relative ``2^-60``
        there: a model whose bias is carried by the sample range alone (no
        null space) needs it, since at a small ridge the bias is as small as
        ``lam^2`` while the estimator's own residual still has its
        transient (never, at ``lam = 0``, for a filter that is not ridge)."""
        n = np.broadcast_shapes(*[np.shape(v) for v in values.values()]) if values else ()
        return np.zeros(n, dtype=bool)

    def _latex(self, printer):
        args = ", ".join(f"{printer._print(self.symbols[n])} = {printer._print(getattr(self, n))}"
                         for n in self.PARAMETERS)
        return rf"\mathrm{{{type(self).__name__}}}({args})"


@dataclass(frozen=True)
class Ridge(SpectralEstimator):
    """Ridge regression, ``f = 1/(x + lam)`` [C18]: the default estimator of
    every model (today's closed forms are this filter).

    >>> Ridge(0.1).filter()
    1/(x + 0.1)

    Parameters
    ----------
    ridge : ``lam >= 0`` with the ``1/P`` loss
    """

    ridge: object = 0

    PARAMETERS: ClassVar[dict] = declare(RIDGE)
    SWEEP: ClassVar[tuple] = ("ridge",)
    ROUTE: ClassVar[str] = "resolvent"

    def template(self):
        return 1 / (X + C.lam)

    def singular_points(self, values):
        return -np.asarray(values["ridge"], dtype=complex)


@dataclass(frozen=True)
class GradientFlow(SpectralEstimator):
    """Gradient flow on the ``1/P`` square loss with a ridge, from ``w = 0``:
    ``dw/dt = X^T(y - X w)/P - lam w``, so ``f = (1 - e^{-t(x + lam)})/(x + lam)``
    [C18] (entire in ``x``).  ``t -> oo`` is ridge.

    >>> GradientFlow(time=2, ridge=1).filter()
    (1 - exp(-2*x - 2))/(x + 1)

    Parameters
    ----------
    time : training time ``t >= 0``
    ridge : ``lam >= 0``
    """

    time: object = 1
    ridge: object = 0

    PARAMETERS: ClassVar[dict] = declare(TIME, RIDGE)
    SWEEP: ClassVar[tuple] = ("time", "ridge")

    def template(self):
        return (1 - sp.exp(-C.time * (X + C.lam))) / (X + C.lam)

    def exponential_split(self):
        # r = 1 - x f = (lam + x e^{-t(x + lam)})/(x + lam)
        return C.lam / (X + C.lam), X / (X + C.lam)

    def split_rate(self, values):
        t = np.asarray(values["time"], dtype=float)
        return t, np.zeros(t.shape)

    def at_ridge_limit(self, values, lower, upper, *, residual=False):
        # f - 1/(x + lam) = -e^{-t(x + lam)}/(x + lam): relative e^{-t(lower + lam)};
        # r - lam/(x + lam) = x e^{-t(x + lam)}/(x + lam): relative x e^{-t(x + lam)}/lam,
        # whose largest value on x >= lower is at x = lower once t lower >= 1,
        # else at x = 1/t (in logarithms: no underflow)
        t, lam = np.broadcast_arrays(values["time"], values["ridge"])
        done = t * (lower + lam) >= 60 * np.log(2)
        if residual:
            with np.errstate(divide="ignore"):
                peak = np.where(t * lower >= 1, np.log(lower) - t * lower, -1 - np.log(t))
                log_lam = np.log(np.where(lam > 0, lam, 1.0))
            done &= (lam > 0) & (peak - t * lam - log_lam <= -60 * np.log(2))
        return done


@dataclass(frozen=True)
class GradientDescent(SpectralEstimator):
    """Gradient descent with step ``eta`` for ``k`` steps from ``w = 0``:
    ``w <- w + eta (X^T(y - X w)/P - lam w)``, so ``f = (1 - (1 - eta(x +
    lam))^k)/(x + lam)`` [C18], a polynomial of degree ``k - 1``.

    A step above the stability limit ``2/(lambda_max + lam)`` of the sample
    spectrum is refused by the models (the iteration diverges).

    >>> GradientDescent(step=0.1, steps=3).filter().expand()
    0.001*x**2 - 0.03*x + 0.3

    Parameters
    ----------
    step : step size ``eta > 0``
    steps : number of steps ``k >= 0``
    ridge : ``lam >= 0``
    """

    step: object = 0.1
    steps: object = 10
    ridge: object = 0

    PARAMETERS: ClassVar[dict] = declare(STEP, STEPS, RIDGE)
    SWEEP: ClassVar[tuple] = ("steps", "step", "ridge")
    BOUNDED_HAT: ClassVar[bool] = False  # a polynomial: bounded on its spectrum only

    def template(self):
        return (1 - (1 - C.step_size * (X + C.lam)) ** C.steps) / (X + C.lam)

    def exponential_split(self):
        # r = 1 - x f = (lam + x (1 - eta(x + lam))^k)/(x + lam), and
        # (1 - eta(x + lam))^k = e^{-k s} with s = -log(1 - eta(x + lam))
        return C.lam / (X + C.lam), X / (X + C.lam)

    def split_rate(self, values):
        return (np.asarray(values["steps"], dtype=float), np.asarray(values["step"], dtype=float))

    def at_ridge_limit(self, values, lower, upper, *, residual=False):
        # f - 1/(x + lam) = -(1 - eta(x + lam))^k/(x + lam); |1 - eta(x + lam)|
        # is convex in x: its largest value on [lower, upper] is at an end.
        # r - lam/(x + lam) = x (1 - eta(x + lam))^k/(x + lam): relative at
        # most upper worst^k/lam
        eta, k, lam = np.broadcast_arrays(values["step"], values["steps"], values["ridge"])
        worst = np.maximum(np.abs(1 - eta * (lower + lam)), np.abs(1 - eta * (upper + lam)))
        ratio = np.divide(upper, lam, out=np.ones(lam.shape), where=lam > 0) if residual else 1.0
        margin = np.log(np.maximum(ratio, 1.0))
        with np.errstate(divide="ignore"):
            done = (worst < 1) & (k * np.log(np.maximum(worst, 1e-300)) <= -60 * np.log(2) - margin)
        return done & (lam > 0) if residual else done

    def check_spectrum(self, upper, values):
        eta, lam = np.broadcast_arrays(values["step"], values["ridge"])
        bad = eta * (upper + lam) >= 2
        if np.any(bad):
            i = np.flatnonzero(bad.ravel())[0]
            raise ParameterError("step", float(eta.ravel()[i]),
                                 f"(0, 2/(lambda_max + lam)) = (0, {2 / (upper + lam.ravel()[i]):.6g})",
                                 "gradient descent diverges above the stability limit of the sample spectrum")


@dataclass(frozen=True)
class SpectralCutoff(SpectralEstimator):
    """Principal-component regression: ``f = 1/x`` on eigenvalues above the
    ``threshold``, ``0`` below [C18].

    The filter is not analytic at ``x = theta`` but constant on each side:
    below the bulk of the sample spectrum it is the ridgeless estimator;
    elsewhere the models integrate on two contours that cross the real axis
    at ``theta`` (:mod:`freeprob.models._spectral_cutoff`).

    >>> SpectralCutoff(0.01).filter()
    Piecewise((1/x, x > 0.01), (0, True))

    Parameters
    ----------
    threshold : ``theta > 0``
    """

    threshold: object = 1e-3

    PARAMETERS: ClassVar[dict] = declare(THRESHOLD)
    SWEEP: ClassVar[tuple] = ("threshold",)
    ROUTE: ClassVar[str] = "gap"

    def template(self):
        return sp.Piecewise((1 / X, X > C.threshold), (0, True))


@dataclass(frozen=True)
class SpectralFilter(SpectralEstimator):
    """Any filter: a sympy expression ``expr`` in the eigenvalue ``x`` and
    parameters, with their values in ``values`` [C18].

    The filter must be analytic around the sample spectrum: rational
    functions, ``exp``, ``sin``, ``cos`` and their products; its poles must
    be roots of a polynomial denominator.  Functions with cuts or kinks
    (``Abs``, ``Piecewise``, ``log``, ``sqrt`` of ``x``) are refused.  Every
    parameter symbol can be swept by its name in ``evaluate``.

    >>> import sympy as sp
    >>> x, a = sp.symbols("x a")
    >>> SpectralFilter(1/(x + a)**2, x, {a: 1}).filter()
    (x + 1)**(-2)

    Parameters
    ----------
    expr : the filter ``f(x)``, a sympy expression
    x : the eigenvalue symbol in ``expr``
    values : ``{symbol: number}`` for every other free symbol (optional)
    """

    expr: object = None
    x: object = None
    values_: object = None

    def __init__(self, expr, x, values=None):
        expr = C.as_expr(expr, "expr")
        if not isinstance(x, sp.Symbol):
            raise ParameterError("x", x, "a sympy Symbol", "the eigenvalue variable of the filter")
        if x not in expr.free_symbols:
            raise ParameterError("x", x, "a symbol of expr", f"{expr} does not depend on {x}")
        for cls in _NON_ANALYTIC:
            if expr.has(cls):
                raise ParameterError("expr", expr, "a filter analytic around the spectrum",
                                     f"{cls.__name__} is not analytic (a contour integral needs analyticity)")
        for p in expr.atoms(sp.Pow):
            if p.base.has(x) and not (p.exp.is_integer or not p.exp.is_number):
                raise ParameterError("expr", expr, "a filter analytic around the spectrum",
                                     f"{p} has a branch point in x")
        params = sorted(expr.free_symbols - {x}, key=str)
        if values is not None and not isinstance(values, dict):
            raise ParameterError("values", repr(values)[:60], "None or a dict {symbol: number}")
        vals = {}
        for key, v in dict(values or {}).items():
            sym = key if isinstance(key, sp.Symbol) else None
            if sym is None or sym not in params:
                raise ParameterError("values", key, "symbols of expr: " + ", ".join(map(str, params)))
            vals[sym] = C.as_expr(v, str(sym))
        object.__setattr__(self, "expr", expr)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "values_", tuple(sorted(((s, vals.get(s, s)) for s in params), key=lambda e: str(e[0]))))

    @property
    def PARAMETERS(self):  # noqa: N802 (the declared names of this filter)
        return {str(s): None for s, _ in self.values_}

    @property
    def SWEEP(self):  # noqa: N802
        return tuple(str(s) for s, _ in self.values_)

    @property
    def symbols(self):
        return {str(s): s for s, _ in self.values_}

    def template(self):
        return self.expr.xreplace({self.x: X})

    def filter(self, x=X):
        x = C.as_expr(x, "x")
        return self.template().xreplace({s: v for s, v in self.values_}).xreplace({X: x})

    def __getattr__(self, name):
        for s, v in object.__getattribute__(self, "values_") or ():
            if str(s) == name:
                return v
        raise AttributeError(name)

    def values(self, overrides=None):
        if overrides is not None and not isinstance(overrides, dict):
            raise ParameterError("overrides", repr(overrides)[:60], "None or a dict {name: values}")
        overrides = dict(overrides or {})
        bad = set(overrides) - set(self.SWEEP)
        if bad:
            name = sorted(bad)[0]
            raise ParameterError(name, overrides[name], "one of " + (", ".join(self.SWEEP) or "(none)"),
                                 "the parameters of this filter")
        out = {}
        for s, v in self.values_:
            raw = overrides.get(str(s), v)
            if isinstance(raw, sp.Basic) and not raw.is_number:
                raise ParameterError(str(s), raw, "a number", f"pass {s}=... to evaluate() or values={{{s}: ...}}")
            out[str(s)] = real_array(str(s), np.asarray(raw, dtype=float) if not isinstance(raw, sp.Basic)
                                     else float(raw))
        return out

    def singular_points(self, values):
        num, den = sp.fraction(sp.together(self.template()))
        # exp(...) never vanishes: such factors of the denominator carry no pole
        keep = [f for f in sp.Mul.make_args(den) if not isinstance(f.as_base_exp()[0], sp.exp)
                and not isinstance(f, sp.exp)]
        nonzero = sp.Mul(*[f for f in sp.Mul.make_args(den) if f not in keep])
        num, den = num / nonzero, sp.Mul(*keep)
        if not den.has(X):
            return np.empty(0, dtype=complex)
        try:
            factors = sp.Poly(den, X).sqf_list()[1]
        except sp.PolynomialError:
            raise ParameterError("expr", self.expr, "a filter whose poles are roots of a polynomial denominator",
                                 f"cannot locate the singularities of 1/({den})") from None
        syms = list(self.symbols.values())
        arrays = np.broadcast_arrays(*[np.asarray(values[str(s)], dtype=float) for s in syms]) if syms \
            else [np.zeros(())]
        out = []
        for idx in np.ndindex(arrays[0].shape):
            point = {s: sp.Float(float(a[idx])) for s, a in zip(syms, arrays)}
            n_at = num.xreplace(point)
            for factor, mult in factors:
                coeffs = [complex(sp.N(c.xreplace(point))) for c in sp.Poly(factor, X).all_coeffs()]
                for root in np.roots(coeffs) if len(coeffs) > 1 else ():
                    # removable when the numerator vanishes to the pole's order
                    derivs = [complex(sp.N(sp.diff(n_at, X, j).xreplace({X: root}))) for j in range(mult + 1)]
                    scale = max(1.0, *(abs(d) for d in derivs))
                    if any(abs(d) > 1e-10 * scale for d in derivs[:mult]):
                        out.append(root)
        return np.array(out, dtype=complex)


@dataclass(frozen=True)
class EstimatorModel(AbstractModel):
    """A model whose fit is a spectral estimator [C18]: the fields
    ``estimator`` (None: the model's own ridge) and ``ridge`` (the
    estimator's when one is given).  Abstract; :class:`~freeprob.LinearRidge`
    and :class:`~freeprob.RandomFeatureRidge` are the final models."""

    def _take_estimator(self):
        """In ``__post_init__``: validate ``estimator`` and take its ridge (a
        different explicit ridge is a conflict)."""
        est = as_estimator(self.estimator)
        if est is not None:
            if self.ridge is not C.lam and sp.sympify(self.ridge) != est.ridge:
                raise ParameterError("ridge", self.ridge, f"the estimator's ridge {est.ridge}",
                                     "pass the ridge to the estimator")
            self._set(ridge=est.ridge)

    def replace(self, **changes) -> "EstimatorModel":
        """A new model with some parameters changed (validated again); a new
        ``estimator`` brings its own ridge unless ``ridge`` is changed too."""
        if "estimator" in changes and "ridge" not in changes:
            changes["ridge"] = C.lam if changes["estimator"] is not None else self.ridge
        return super().replace(**changes)

    @property
    def sweepable(self) -> tuple:
        """The names ``evaluate`` sweeps: the model's (``SWEEPABLE``) and the
        estimator's own parameters (``time``, ``steps``, ...)."""
        extra = () if self.estimator is None else tuple(n for n in self.estimator.SWEEP if n not in self.SWEEPABLE)
        return self.SWEEPABLE + extra


def as_estimator(estimator):
    """The model field ``estimator``, validated: None (the model's own ridge,
    today's closed forms) or a :class:`SpectralEstimator`; anything else is a
    :class:`~freeprob.errors.ParameterError` naming ``estimator``."""
    if estimator is None:
        return None
    if not isinstance(estimator, SpectralEstimator):
        raise ParameterError("estimator", repr(estimator),
                             "a SpectralEstimator (Ridge, GradientFlow, GradientDescent, SpectralCutoff, SpectralFilter)")
    return estimator
