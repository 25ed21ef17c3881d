r"""The data design shared by the models: population dimension and target.

* :func:`population_dimension` -- the dimension ``N`` (or ``D``) of the
  population: fixed by a law with a finite spectrum, else required;
* :class:`SourceTarget` -- the power-law target of [C12], ``eta_k wbar_k^2
  ~ k^{-(1 + 2 alpha r)}``; its exponent lives here only
  (:meth:`SourceTarget.power_exponent`);
* :func:`target_spectrum` -- the target as a weighted spectrum for the bias
  means, and :func:`target_weights`, its ``(eta_k, p_k)`` arrays for the
  samplers, cached on the frozen (population, target, dimension);
* :func:`trace_dimension` -- the ``N`` of ``q = N/P``: ``1`` for the
  infinite-dimensional kernel limit, whose means are sums [C16].

A later data design (correlated samples, a sample-sample covariance) adds its
pieces here, next to these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ParameterError
from freeprob.laws import SpectralLaw
from freeprob.models.base import FrozenArray
from freeprob.numeric.cache import cached
from freeprob.numeric.spectrum import ArraySpectrum, PowerLawSpectrum
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
           "source_weight_exponent", "population_dimension", "freeze_target", "target_weights",
           "target_spectrum", "trace_dimension"]


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
    return 1 + C.as_expr(alpha, "alpha") * (2 * C.as_expr(r, "r") - 1)


def population_dimension(population, dimension):
    """The population dimension ``D``: required for a continuous law; for an
    atomic law the number of its atoms unless given.  A ``Discrete`` law is a
    spectral distribution: at another ``D`` its atom ``eta_k`` has
    multiplicity ``D p_k`` (the traces are the law's means at any ``D``; a
    simulation rounds the multiplicities to integers, see
    :func:`~freeprob.montecarlo.sampling.population_spectrum`).  ``PowerLaw(alpha,
    n)`` fixes ``D = n``."""
    if not isinstance(population, SpectralLaw):
        raise ParameterError("population", repr(population), "a freeprob spectral law")
    require_positive("population", population)
    if population.finite_spectrum is not None and population.finite_spectrum.size is sp.oo:
        # the kernel limit PowerLaw(alpha, oo): N = oo, traces are sums [C16]
        if dimension is not None and C.as_expr(dimension, "dimension") is not sp.oo:
            raise ParameterError("dimension", dimension, "oo (the population is infinite-dimensional)")
        return sp.oo
    if population.finite_spectrum is not None:
        n = population.finite_spectrum.size
        if dimension is not None and population.dimension_free:
            return DIMENSION.validate(dimension)
        if dimension is not None and C.as_expr(dimension, "dimension") != n:
            raise ParameterError("dimension", dimension, f"{n} (the number of atoms of the population)")
        dimension = n
    elif dimension is None:
        raise ParameterError("dimension", None, "a positive integer or symbol",
                             f"{type(population).__name__} does not fix the dimension")
    return DIMENSION.validate(dimension)


def require_positive(name, law):
    """Refuse a law that is not positive semidefinite (a covariance), or
    whose positivity cannot be decided from its symbols' assumptions."""
    from freeprob.laws import is_positive_law

    positive = is_positive_law(law)
    if positive is False:
        raise ParameterError(name, repr(law), "positive semidefinite laws (support in [0, oo))",
                             "a covariance has no negative eigenvalues")
    if positive is None:
        raise ParameterError(name, repr(law), "laws whose positivity can be decided",
                             "give the symbols numbers or assumptions (positive=True)")


def trace_dimension(dimension):
    """The ``N`` in ``q = N/P`` that multiplies the population's spectral
    means: ``dimension`` itself, or ``1`` when it is ``oo`` (the kernel limit,
    whose means are unnormalized sums, so that ``q df1 = (1/P) sum_k
    eta_k/(eta_k + kappa)`` [C16]).

    >>> trace_dimension(100), trace_dimension(sp.oo)
    (100, 1)
    """
    return sp.Integer(1) if dimension is sp.oo else dimension


def freeze_target(target):
    """Array targets become :class:`FrozenArray` (hashable, read-only)."""
    if target is None or isinstance(target, (SourceTarget, FrozenArray)):
        return target
    if isinstance(target, (list, tuple, np.ndarray)):
        return FrozenArray(target)
    raise ParameterError("target", type(target).__name__, "None, an array in the eigenbasis, or a SourceTarget")


def target_spectrum(population, target, n):
    """The target as a weighted spectrum for the bias mean
    ``wbar^T f(Sigma) wbar = sum_k p_k f(eta_k)`` (weights ``p_k = wbar_k^2``,
    ``sum_k p_k = ||wbar||^2``), or None for the isotropic target.

    A :class:`SourceTarget` on ``PowerLaw(alpha, n)`` is the power-law
    spectrum with weights ``k^{-b}/sum_k k^{-b}``, ``b`` =
    :func:`source_weight_exponent` [C12]: exact for symbolic ``n``, summed by
    Euler-Maclaurin for ``n`` up to ``oo`` (where ``b > 1`` is required for
    ``||wbar|| = 1``).

    >>> import freeprob
    >>> target_spectrum(freeprob.PowerLaw(2, 10), SourceTarget(1), 10)
    PowerLawSpectrum(2, 10, 3)
    """
    if target is None:
        return None
    if isinstance(target, SourceTarget):
        if population.catalogue_name != "powerlaw":
            raise ParameterError("target", "SourceTarget", "a PowerLaw population")
        b = sp.sympify(source_weight_exponent(population.alpha, target.r))
        if population.n is sp.oo and b.is_number and not b > 1:
            raise ParameterError("target", f"SourceTarget(r={target.r})",
                                 "r > 1/2 on PowerLaw(alpha, oo)",
                                 f"the weights k^-{b} are not normalizable (||wbar|| = 1 needs 1 + alpha (2r - 1) > 1)")
        return PowerLawSpectrum(population.alpha, population.n, b)
    wbar = np.asarray(target, dtype=float)
    if population.finite_spectrum is None:
        raise ParameterError("target", "an array", "arrays need an atomic population (the eigenbasis)")
    vals, wts = population.spectrum.numeric_atoms()
    if wbar.shape != vals.shape:
        raise ParameterError("target", f"length {wbar.size}", f"length {vals.size} (the population dimension)")
    if (wts is not None and np.ptp(wts) > 0) or (n is not None and C.as_expr(n, "dimension") != vals.size):
        raise ParameterError("target", "an array", "None or a SourceTarget for this population",
                             "an array is the target in the eigenbasis, one entry per eigenvalue: it needs a "
                             "population whose atoms are its eigenvalues (equal weights, dimension = their number)")
    if not np.all(np.isfinite(wbar)):
        raise ParameterError("target", "non-finite entries", "finite real numbers")
    return ArraySpectrum(vals, wbar**2)


@cached()
def target_weights(population, target, n):
    """``(values, p_k)`` arrays of :func:`target_spectrum` (for the samplers;
    ``n`` up to the atom limit), or None for the isotropic target."""
    spec = target_spectrum(population, target, n)
    if spec is None:
        return None
    vals, p = spec.numeric_atoms()
    return vals, (np.full(vals.size, 1.0 / vals.size) if p is None else p)


def ridge_fields(model) -> dict:
    """The validated, normalized ``dimension``, ``samples``, ``noise``,
    ``ridge`` and ``target`` of a ridge model (what its ``__post_init__``
    writes), with the target checked against the population and refused when
    it is isotropic in the kernel limit ``N = oo`` (infinite norm, [C16])."""
    P = model.PARAMETERS
    dimension = population_dimension(model.population, model.dimension)
    target = freeze_target(model.target)
    target_spectrum(model.population, target, dimension)  # validates the target
    if dimension is sp.oo and target is None:
        raise ParameterError("target", None, "a SourceTarget(r) in the kernel limit",
                             "an isotropic target has infinite norm when N = oo")
    return {"dimension": dimension, "samples": P["samples"].validate(model.samples),
            "noise": P["noise"].validate(model.noise), "ridge": P["ridge"].validate(model.ridge), "target": target}
