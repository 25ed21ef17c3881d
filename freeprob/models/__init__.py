"""The model layer: deterministic equivalents and the learning problems built on them.

* :mod:`~freeprob.models.equivalence` -- the one-point equivalent
  ``kappa = lambda S_W(df1(kappa))`` and the two-point equivalents;
* :mod:`~freeprob.models.linear` -- :class:`LinearRidge` and
  :class:`SourceTarget`;
* :mod:`~freeprob.models.features` -- :class:`RandomFeatureRidge` (symbolic
  maps), with its numeric solver in :mod:`~freeprob.models._features_numeric`;
* :mod:`~freeprob.models.correlated` -- :class:`CorrelatedRidge`, ridge
  on samples correlated by a ``P x P`` matrix ``K`` (S-transforms on both
  sides of the data);
* :mod:`~freeprob.models.filters` -- spectral estimators (ridge, gradient
  flow and descent, cutoffs, any filter) and :mod:`~freeprob.models.spectral`,
  their learning curves as contour integrals of the equivalents [C18];
* :mod:`~freeprob.models.nonlinear` and :mod:`~freeprob.models.activations`
  -- nonlinear features through Gaussian equivalence.

Every model is a frozen, hashable dataclass (:class:`~freeprob.models.base.AbstractModel`):
``model.replace(**changes)`` gives a new model, and caches are keyed on the
frozen value.  Models use the laws and the numeric layer; they never import
Monte Carlo, scaling or the application.
"""

from freeprob.models.activations import Activation, activation
from freeprob.models.base import AbstractModel
from freeprob.models.correlated import CORRELATED_KEYS, CorrelatedRidge
from freeprob.models.equivalence import (
           DeterministicEquivalent,
           deterministic_equivalent,
)
from freeprob.models.features import RF_KEYS, RandomFeatureRidge
from freeprob.models.filters import (
           GradientDescent,
           GradientFlow,
           Ridge,
           SpectralCutoff,
           SpectralEstimator,
           SpectralFilter,
)
from freeprob.models.linear import KEYS, LinearRidge, SourceTarget
from freeprob.models.nonlinear import NonlinearRandomFeatureRidge

__all__ = ["AbstractModel", "CORRELATED_KEYS", "CorrelatedRidge", "Activation", "activation", "DeterministicEquivalent", "deterministic_equivalent",
           "RF_KEYS", "RandomFeatureRidge",
           "Ridge", "GradientFlow", "GradientDescent", "SpectralCutoff", "SpectralFilter", "SpectralEstimator", "KEYS", "LinearRidge", "SourceTarget", "NonlinearRandomFeatureRidge"]
