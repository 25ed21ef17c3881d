r"""Nonlinear random-feature ridge regression by Gaussian equivalence [R19].

``NonlinearRandomFeatureRidge(population, widths, ..., activation)`` maps
features ``phi(F^T x)`` (one layer, ``F_ij ~ N(0, 1/D)``) onto the
additive-noise model of :class:`~freeprob.RandomFeatureRidge`: with the
coefficients ``(mu_0, mu_1, mu_*)`` of :mod:`freeprob.models.activations` at the
preactivation variance ``nu = tr Sigma``, ``phi(F^T x)/mu_1 = F^T x +
(mu_*/mu_1) xi``, so the theory is the linear model with feature noise
``sigma_xi^2 = mu_*^2/mu_1^2`` at ridge ``lambda/mu_1^2``.  The model keeps
the ridge the user passed (``model.ridge``); the ridge of the scaled
features is ``model.effective_ridge = lambda/mu_1^2``, and
:meth:`~NonlinearRandomFeatureRidge.linear_equivalent` is the
:class:`~freeprob.RandomFeatureRidge` that carries the theory.
:func:`freeprob.simulate` uses the real features.

>>> import freeprob
>>> m = freeprob.NonlinearRandomFeatureRidge(freeprob.Identity(1), widths=200, samples=100, ridge=1e-2,
...                                          dimension=300, activation="relu")
>>> round(m.feature_noise, 6)                   # mu_*^2/mu_1^2 = 1 - 2/pi for relu at nu = 1
0.36338
>>> float(m.ridge), round(float(m.effective_ridge), 6)   # lambda and lambda/mu_1^2, mu_1 = 1/2
(0.01, 0.04)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ParameterError
from freeprob.models.activations import activation as _activation
from freeprob.models.base import AbstractModel, real_array
from freeprob.models.design import (
    DIMENSION,
    NOISE,
    RIDGE,
    SAMPLES,
    WIDTHS,
    population_dimension,
)
from freeprob.models.features import RandomFeatureRidge
from freeprob.numeric.cache import cached
from freeprob.parameters import declare

__all__ = ["NonlinearRandomFeatureRidge"]

P_SYM = sp.Symbol("P", positive=True)


@dataclass(frozen=True)
class NonlinearRandomFeatureRidge(AbstractModel):
    """Random features ``phi(F^T x)`` through Gaussian equivalence (see the module).

    A frozen dataclass: ``ridge`` is the ridge the user passed, applied to
    the real features; the derived quantities have their own names
    (``coefficients``, ``effective_ridge``, ``feature_noise``,
    ``activation_map``).

    Parameters
    ----------
    population : spectral law of ``Sigma`` with numeric parameters (``nu = tr Sigma``)
    widths : the width ``N`` (one layer; held as a 1-tuple, like :class:`~freeprob.RandomFeatureRidge`)
    samples, ridge, target, noise, dimension : as :class:`~freeprob.RandomFeatureRidge`
    activation : ``"relu"``, ``"tanh"``, ``"erf"``, or a sympy expression in one variable
    method : ``None``, ``"exact"`` or ``"quad"``: how the coefficients are integrated
    """

    population: object
    widths: object
    samples: object = P_SYM
    ridge: object = C.lam
    target: object = None
    noise: object = 0
    activation: object = "relu"
    dimension: object = None
    method: object = None

    SWEEPABLE = ("ridge", "samples", "noise", "widths")
    PARAMETERS = declare(WIDTHS, SAMPLES, RIDGE, NOISE, DIMENSION)

    def __post_init__(self):
        # a positive semidefinite spectral law; the dimension an atomic law fixes
        self._set(dimension=population_dimension(self.population, self.dimension))
        widths = self.widths
        if isinstance(widths, (list, tuple)):
            if len(widths) != 1:
                raise ParameterError("widths", widths, "one width N", "nonlinear features are one layer here")
            widths = widths[0]
        self._set(widths=(self.PARAMETERS["widths"].validate(widths),))
        for name in ("samples", "ridge", "noise"):   # before the cached equivalent hashes the model
            self._set(**{name: self.PARAMETERS[name].validate(getattr(self, name))})
        _activation(self.activation)  # validates the activation
        self.linear_equivalent()  # validates every other parameter and the coefficients

    # derived quantities (cached on the frozen model) ------------------------
    @property
    def activation_map(self):
        """The :class:`~freeprob.models.activations.Activation` of ``activation``."""
        return _activation(self.activation)

    @property
    def coefficients(self) -> tuple:
        """``(mu_0, mu_1, mu_*)`` at the preactivation variance ``nu = tr Sigma``."""
        return _coefficients(self.population, self.activation, self.method)

    @property
    def ridge_scale(self) -> float:
        """``mu_1^2``: the Gram of the real features is ``mu_1^2`` times the scaled one."""
        return float(self.coefficients[1]) ** 2

    @property
    def effective_ridge(self):
        """``lambda/mu_1^2``, the ridge of the scaled features ``z/mu_1``."""
        return self.ridge / sp.Float(self.ridge_scale)

    @property
    def feature_noise(self) -> float:
        """``sigma_xi^2 = mu_*^2/mu_1^2`` of the Gaussian-equivalent model."""
        return float(self.coefficients[2]) ** 2 / self.ridge_scale

    @property
    def feature_covariance(self):
        return None

    @property
    def layer_variance(self) -> str:
        return "input"

    def linear_equivalent(self) -> RandomFeatureRidge:
        """The additive-noise :class:`~freeprob.RandomFeatureRidge` that carries the theory [R19]."""
        return _linear_equivalent(self)

    # delegated theory ---------------------------------------------------------
    def quantities(self) -> dict:
        """Every key of :meth:`evaluate` as a sympy expression (the linear equivalent's)."""
        return self.linear_equivalent().quantities()

    def maps(self) -> dict:
        return self.linear_equivalent().maps()

    def steps(self) -> tuple:
        return self.linear_equivalent().steps()

    @property
    def psis(self) -> tuple:
        return self.linear_equivalent().psis

    @property
    def _weights(self):
        return self.linear_equivalent()._weights

    def evaluate(self, **overrides) -> dict:
        """As :meth:`RandomFeatureRidge.evaluate`, with the user's ridge
        (scaled by ``1/mu_1^2`` internally); ``feature_noise`` is fixed by the
        activation."""
        if "feature_noise" in overrides:
            raise ParameterError("feature_noise", overrides["feature_noise"], "unset",
                                 "it is mu_*^2/mu_1^2 of the activation")
        if "ridge" in overrides:
            lam = real_array("ridge", overrides["ridge"])
            if np.any(~np.isfinite(lam)) or np.any(lam < 0):  # the user's ridge, before the scaling
                raise ParameterError("ridge", lam[~(np.isfinite(lam) & (lam >= 0))].ravel()[0], "[0, oo)")
            overrides = dict(overrides, ridge=lam / self.ridge_scale)
        out = self.linear_equivalent().evaluate(**overrides)
        # kappa_1 of the real features phi(F^T x) = mu_1 (scaled features):
        # the Gram scales by mu_1^2 [C14], P2
        out["kappa1"] = out["kappa1"] * self.ridge_scale
        return out


@cached(maxsize=64)
def _coefficients(population, activation, method):
    act = _activation(activation)
    nu = population.moments(1)[0]  # preactivation variance tr Sigma (F_ij ~ N(0, 1/D))
    if not sp.sympify(nu).is_number:
        raise ParameterError("population", repr(population), "numeric parameters (the preactivation variance)")
    mu0, mu1, mu_star = act.coefficients(nu, method=method)
    for name, val in (("mu_0", mu0), ("mu_1", mu1), ("mu_*", mu_star)):
        if not sp.sympify(val).is_real:
            raise ParameterError("activation", act.name, "a real activation on the whole real line",
                                 f"{name} = {val} is not real (the preactivation h ~ N(0, nu) takes every real value)")
    if float(mu1) == 0:
        raise ParameterError("activation", act.name, "an activation with mu_1 = E phi'(h) != 0",
                             "an even activation has no linear part: the Gaussian equivalent is pure noise")
    # the Gaussian equivalent works with mu_1^2 and mu_*^2/mu_1^2 in float64
    ratio = float(mu_star) ** 2 / float(mu1) ** 2 if float(mu1) ** 2 > 0 else np.inf
    if not (1e-300 < float(mu1) ** 2 < 1e300) or not np.isfinite(ratio):
        raise ParameterError("activation", act.name, "activations whose Gaussian moments mu_1^2 and "
                             "mu_*^2/mu_1^2 lie in the float64 range", f"mu_1 = {float(mu1):.3g}, "
                             f"mu_* = {float(mu_star):.3g}; rescale the activation (the readout absorbs a scale)")
    return mu0, mu1, mu_star


@cached(maxsize=64)
def _linear_equivalent(model):
    return RandomFeatureRidge(model.population, model.widths, samples=model.samples, ridge=model.effective_ridge,
                              target=model.target, noise=model.noise, feature_noise=model.feature_noise,
                              dimension=model.dimension)
