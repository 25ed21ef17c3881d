"""The Monte-Carlo layer: the only independent numerics in freeprob.

* :mod:`~freeprob.montecarlo.sampling` -- samplers of random matrices and
  spectra (Wigner, Wishart, Haar free sums and products), registered per law
  type, and distances between a sample and a law;
* :mod:`~freeprob.montecarlo.estimators` -- thin SVD, GCV, jackknife and
  crossed-seed ANOVA estimators;
* :mod:`~freeprob.montecarlo._checkpoint` -- :class:`CheckpointMap`, an
  executor that keeps each task's result on disk, so that an interrupted run
  resumes;
* :mod:`~freeprob.montecarlo.simulate` -- :func:`simulate` and
  :func:`compare` for linear ridge, with the crossed-seed random-feature
  simulation in :mod:`~freeprob.montecarlo._features` and the correlated
  samples in :mod:`~freeprob.montecarlo._correlated`.

This layer uses the models (to know what to sample) but no model imports it.
"""

from freeprob.montecarlo import sampling
from freeprob.montecarlo._checkpoint import CheckpointMap
from freeprob.montecarlo.estimators import corr_gcv, estimate_correlation, gcv
from freeprob.montecarlo.simulate import SIM_KEYS, compare, simulate, simulate_descent

__all__ = ["CheckpointMap", "sampling", "gcv", "corr_gcv", "estimate_correlation", "simulate", "simulate_descent", "compare", "SIM_KEYS"]
