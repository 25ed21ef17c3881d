"""The numeric layer: the one boundary where sympy expressions become numbers.

* :mod:`~freeprob.numeric.compile` -- ``compile_expr``, where model
  expressions are compiled (``lambdify``); it decides real or complex
  arithmetic, evaluates spectral means blockwise and certifies that the
  results are finite;
* :mod:`~freeprob.numeric.elementwise` -- a function of one variable (an
  activation) compiled for any array namespace of the array API standard;
* :mod:`~freeprob.numeric.spectrum` -- spectra (exact, array, power law) and
  the unevaluated spectral mean ``(1/n) sum_k f(eta_k)``;
* :mod:`~freeprob.numeric.powersum` -- spectral means over power laws of any
  size (``n`` up to infinity) by exact head plus Euler-Maclaurin tail;
* :mod:`~freeprob.numeric.stable` -- the conjugate rewrite that removes
  cancellation in ``A +- sqrt(...)``;
* :mod:`~freeprob.numeric.rounding` -- first-order rounding bounds derived
  from a formula's sympy expression (the floors of the contour sums);
* :mod:`~freeprob.numeric.solve` -- bracketed, monotone-aware root finding;
* :mod:`~freeprob.numeric.cache` -- explicit, clearable caches.

This layer imports only the base (:mod:`freeprob.conventions`,
:mod:`freeprob.errors`, :mod:`freeprob.parameters`).
"""

from freeprob.numeric.cache import cached, clear_caches
from freeprob.numeric.compile import Compiled, compile_expr, needs_complex
from freeprob.numeric.spectrum import (
           ArraySpectrum,
           ExactSpectrum,
           PowerLawSpectrum,
           SpectralMean,
           absorb_means,
)

__all__ = ["cached", "clear_caches", "Compiled", "compile_expr", "needs_complex", "ArraySpectrum",
           "ExactSpectrum", "PowerLawSpectrum", "SpectralMean", "absorb_means"]
