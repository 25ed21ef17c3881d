"""Spectral laws: the catalogue and the abstract interface."""

from ._affine import Affine, affine
from ._base import SpectralLaw
from ._classical import Identity, MarchenkoPastur, Semicircle
from ._discrete import Discrete, PowerLaw
from ._free import FreeProduct, FreeSum, WishartProduct, free_add, free_mul

#: the catalogue: CLI name -> constructor
CATALOGUE = {
    "marchenko-pastur": MarchenkoPastur,
    "semicircle": Semicircle,
    "identity": Identity,
    "discrete": Discrete,
    "powerlaw": PowerLaw,
    "wishart-product": WishartProduct,
}

__all__ = ["SpectralLaw", "MarchenkoPastur", "Semicircle", "Identity", "Discrete", "PowerLaw",
           "Affine", "affine", "CATALOGUE", "FreeSum", "FreeProduct", "WishartProduct", "free_add", "free_mul"]
