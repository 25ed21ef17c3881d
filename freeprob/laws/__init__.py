"""The law layer: spectral laws, their transforms, and free convolution.

* :mod:`~freeprob.laws._base` -- :class:`SpectralLaw`, the interface: public
  symbolic transforms dispatched over routes (:mod:`~freeprob.laws._routes`),
  numeric transforms (:mod:`~freeprob.laws._numeric`, compiled from the
  forms of :mod:`~freeprob.laws._forms`), affine images;
* the catalogue -- :mod:`~freeprob.laws._classical` (Marchenko-Pastur,
  semicircle, point mass), :mod:`~freeprob.laws._discrete` (atomic laws,
  power laws), :mod:`~freeprob.laws._toeplitz` (the AR(1) sample
  correlation), :mod:`~freeprob.laws._affine`;
* free convolution -- :mod:`~freeprob.laws._free` (``free_add``,
  ``free_mul`` and their registry of closed forms) and the convolved laws of
  :mod:`~freeprob.laws._convolved`;
* the machinery -- transform relations (:mod:`~freeprob.laws._relations`),
  algebraic curves and elimination (:mod:`~freeprob.laws._curve`,
  :mod:`~freeprob.laws._algebra`), subordination
  (:mod:`~freeprob.laws._subordination`) and branch continuation
  (:mod:`~freeprob.laws._branch`).

A new law is one final subclass of :class:`SpectralLaw` in one file: it
declares its parameters, implements the closed-form hooks it knows
(``_stieltjes_closed``, ``_r_closed``, ``_s_closed``, ``_affine_closed``,
...), prints itself (``_latex``), and may register closed forms of the free
operations (:func:`register_closed_form`) and a sampler
(:func:`freeprob.montecarlo.sampling.register_sampler`).
"""

from freeprob.laws._affine import Affine, affine
from freeprob.laws._base import SpectralLaw
from freeprob.laws._classical import Identity, MarchenkoPastur, Semicircle
from freeprob.laws._convolved import FreeProduct, FreeSum, WishartProduct
from freeprob.laws._discrete import Discrete, PowerLaw
from freeprob.laws._exact import rational_twin
from freeprob.laws._forms import _symbolic_twin as symbolic_twin
from freeprob.laws._free import (
    free_add,
    free_mul,
    is_positive_law,
    register_closed_form,
)
from freeprob.laws._toeplitz import AR1

#: the catalogue: CLI name -> constructor
CATALOGUE = {
    "marchenko-pastur": MarchenkoPastur,
    "semicircle": Semicircle,
    "identity": Identity,
    "discrete": Discrete,
    "powerlaw": PowerLaw,
    "wishart-product": WishartProduct,
    "ar1": AR1,
}

__all__ = ["SpectralLaw", "AR1", "MarchenkoPastur", "Semicircle", "Identity", "Discrete", "PowerLaw",
           "Affine", "affine", "CATALOGUE", "FreeSum", "FreeProduct", "WishartProduct", "free_add", "free_mul",
           "is_positive_law", "rational_twin", "symbolic_twin", "register_closed_form"]
