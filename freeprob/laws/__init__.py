"""Spectral laws: the catalogue and the abstract interface."""

from ._affine import Affine, affine
from ._base import SpectralLaw
from ._classical import Identity, MarchenkoPastur, Semicircle
from ._discrete import Discrete, PowerLaw

#: the catalogue: CLI name -> constructor
CATALOGUE = {
    "marchenko-pastur": MarchenkoPastur,
    "semicircle": Semicircle,
    "identity": Identity,
    "discrete": Discrete,
    "powerlaw": PowerLaw,
}

__all__ = ["SpectralLaw", "MarchenkoPastur", "Semicircle", "Identity", "Discrete", "PowerLaw",
           "Affine", "affine", "CATALOGUE"]
