r"""The data design shared by the models: population dimension and target.

* :func:`population_dimension` -- the dimension ``N`` (or ``D``) of the
  population: fixed by a law with a finite spectrum, else required;
* :class:`SourceTarget` -- the power-law target of [C12], ``eta_k wbar_k^2
  ~ k^{-(1 + 2 alpha r)}``; its exponent lives here only
  (:meth:`SourceTarget.power_exponent`);
* :func:`target_weights` -- ``(eta_k, p_k)`` with ``sum_k p_k = ||wbar||^2``
  for the bias sums, cached on the frozen (population, target, dimension).

A later data design (correlated samples, a sample-sample covariance) adds its
pieces here, next to these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from freeprob.errors import ParameterError
from freeprob.laws import SpectralLaw
from freeprob.models.base import FrozenArray
from freeprob.numeric.cache import cached
from freeprob.parameters import Parameter, positive

#: the model parameters, declared once (:class:`freeprob.parameters.Parameter`)
NOISE = Parameter("noise", "nonnegative", r"\sigma^2", (0.0, 1.0), doc="label-noise variance [C2]")
SAMPLES = Parameter("samples", "positive_integer", "P", (10, 1000), doc="training samples P [C1]")
RIDGE = Parameter("ridge", "nonnegative", r"\lambda", (0.0, 1.0), doc="ridge with the 1/P loss, P2")
DIMENSION = Parameter("dimension", "positive_integer", "N", (10, 1000), doc="dimension of the population")
WIDTHS = Parameter("widths", "positive_integer", r"N_\ell", (10, 1000), doc="feature widths N_l [C14]")
FEATURE_NOISE = Parameter("feature_noise", "nonnegative", r"\sigma_\xi^2", (0.0, 1.0),
                          doc="feature-noise variance per feature [R19]")

__all__ = ["NOISE", "SAMPLES", "RIDGE", "DIMENSION", "WIDTHS", "FEATURE_NOISE", "SourceTarget",
           "source_weight_exponent", "population_dimension", "freeze_target", "target_weights"]


@dataclass(frozen=True)
class SourceTarget:
    r"""Target with power ``eta_k wbar_k^2 ~ k^{-(1 + 2 alpha r)}`` on a
    power-law population (source exponent ``r > 0``), ``||wbar|| = 1`` [C12]."""

    r: float

    def __post_init__(self):
        positive("r", self.r)

    def power_exponent(self, alpha):
        """The exponent ``a = 1 + 2 alpha r`` of the target power ``eta_k wbar_k^2 ~ k^{-a}`` [C12]."""
        return source_weight_exponent(alpha, self.r) + alpha


def source_weight_exponent(alpha, r):
    """The exponent ``b = 1 + alpha (2 r - 1)`` of the target weights
    ``wbar_k^2 ~ k^{-b}`` on ``eta_k = k^{-alpha}`` [C12] (the one place the
    source exponent is written; ``r`` may be a symbol).

    >>> source_weight_exponent(2, sp.Rational(1, 2))
    1
    """
    return 1 + alpha * (2 * r - 1)


def population_dimension(population, dimension):
    """The population dimension: fixed by atomic laws, else required."""
    if not isinstance(population, SpectralLaw):
        raise ParameterError("population", repr(population), "a freeprob spectral law")
    if population.finite_spectrum is not None:
        n = population.finite_spectrum.size
        if dimension is not None and sp.sympify(dimension) != n:
            raise ParameterError("dimension", dimension, f"{n} (the number of atoms of the population)")
        dimension = n
    elif dimension is None:
        raise ParameterError("dimension", None, "a positive integer or symbol",
                             f"{type(population).__name__} does not fix the dimension")
    return DIMENSION.validate(dimension)


def freeze_target(target):
    """Array targets become :class:`FrozenArray` (hashable, read-only)."""
    if target is None or isinstance(target, (SourceTarget, FrozenArray)):
        return target
    if isinstance(target, (list, tuple, np.ndarray)):
        return FrozenArray(target)
    raise ParameterError("target", type(target).__name__, "None, an array in the eigenbasis, or a SourceTarget")


@cached()
def target_weights(population, target, n):
    """``(values, p_k)`` with ``sum_k p_k = ||wbar||^2`` for the bias sum, or
    None for the isotropic target."""
    if target is None:
        return None
    if isinstance(target, SourceTarget):
        if population.catalogue_name != "powerlaw" or not population.n.is_number:
            raise ParameterError("target", "SourceTarget", "a PowerLaw population with numeric n")
        k = np.arange(1, int(population.n) + 1, dtype=float)
        alpha = float(population.alpha)
        vals, _ = population.spectrum.numeric_atoms()
        w2 = k ** (-float(source_weight_exponent(alpha, float(target.r))))
        return vals, w2 / w2.sum()
    wbar = np.asarray(target, dtype=float)
    if population.finite_spectrum is None:
        raise ParameterError("target", "an array", "arrays need an atomic population (the eigenbasis)")
    vals, _ = population.spectrum.numeric_atoms()
    if wbar.shape != vals.shape:
        raise ParameterError("target", f"length {wbar.size}", f"length {vals.size} (the population dimension)")
    return vals, wbar**2
