r"""Nonlinear random-feature ridge regression by Gaussian equivalence [R19].

``NonlinearRandomFeatureRidge(population, widths, ..., activation)`` maps
features ``phi(F^T x)`` (one layer, ``F_ij ~ N(0, 1/D)``) onto the
additive-noise model of :class:`~freeprob.RandomFeatureRidge`: with the
coefficients ``(mu_0, mu_1, mu_*)`` of :mod:`freeprob.activations` at the
preactivation variance ``nu = tr Sigma``, ``phi(F^T x)/mu_1 = F^T x +
(mu_*/mu_1) xi``, so the theory is the linear model with feature noise
``sigma_xi^2 = mu_*^2/mu_1^2`` at ridge ``lambda/mu_1^2``.  ``evaluate``
takes the nominal ridge; :func:`freeprob.simulate` uses the real features.

>>> import freeprob
>>> m = freeprob.NonlinearRandomFeatureRidge(freeprob.Identity(1), widths=200, samples=100, ridge=1e-2,
...                                          dimension=300, activation="relu")
>>> round(m.feature_noise, 6)                   # mu_*^2/mu_1^2 = 1 - 2/pi for relu at nu = 1
0.363380
"""

from __future__ import annotations

import sympy as sp

from . import conventions as C
from .activations import activation as _activation
from .errors import ParameterError
from .features import RandomFeatureRidge

__all__ = ["NonlinearRandomFeatureRidge"]


class NonlinearRandomFeatureRidge(RandomFeatureRidge):
    """Random features ``phi(F^T x)`` through Gaussian equivalence (see the module)."""

    def __init__(self, population, widths, samples=sp.Symbol("P", positive=True), ridge=C.lam, target=None,
                 noise=0, activation="relu", dimension=None, method=None):
        act = _activation(activation)
        if isinstance(widths, (list, tuple)):
            raise ParameterError("widths", widths, "one width N", "nonlinear features are one layer here")
        super().__init__(population, widths, samples=samples, ridge=ridge, target=target, noise=noise,
                         dimension=dimension)
        nu = population.moments(1)[0]  # preactivation variance tr Sigma (F_ij ~ N(0, 1/D))
        if not sp.sympify(nu).is_number:
            raise ParameterError("population", repr(population), "numeric parameters (the preactivation variance)")
        mu0, mu1, mu_star = act.coefficients(nu, method=method)
        if float(mu1) == 0:
            raise ParameterError("activation", act.name, "an activation with mu_1 = E phi'(h) != 0",
                                 "an even activation has no linear part: the Gaussian equivalent is pure noise")
        self.activation_map = act
        self.coefficients = (mu0, mu1, mu_star)
        self._ridge_scale = float(mu1) ** 2
        self.nominal_ridge = self.ridge
        self.ridge = self.ridge / sp.Float(self._ridge_scale)  # the ridge of the scaled features z/mu_1
        self.feature_noise = float(mu_star) ** 2 / self._ridge_scale

    def evaluate(self, **overrides) -> dict:
        """As :meth:`RandomFeatureRidge.evaluate`, with the nominal ridge
        (scaled by ``1/mu_1^2`` internally); ``feature_noise`` is fixed by the
        activation."""
        if "feature_noise" in overrides:
            raise ParameterError("feature_noise", overrides["feature_noise"], "unset",
                                 "it is mu_*^2/mu_1^2 of the activation")
        if "ridge" in overrides:
            import numpy as np

            overrides = dict(overrides, ridge=np.asarray(overrides["ridge"], dtype=float) / self._ridge_scale)
        out = super().evaluate(**overrides)
        # kappa_1 of the real features phi(F^T x) = mu_1 (scaled features):
        # the Gram scales by mu_1^2 [C14], P2
        out["kappa1"] = out["kappa1"] * self._ridge_scale
        return out
