"""freeprob: free probability for high-dimensional learning.

Spectral laws with exact transforms and branch-certified numerics, following
the conventions of :mod:`freeprob.conventions` (Atanasov, Zavatone-Veth and
Pehlevan, *Scaling and renormalization in high-dimensional regression*,
arXiv:2405.00592).

>>> import freeprob
>>> freeprob.MarchenkoPastur(2).moments(3)
[1, 3, 11]
"""

from . import conventions as conventions
from . import errors as errors
from ._cache import clear_caches as clear_caches
from ._version import __version__ as __version__
from .equivalence import deterministic_equivalent as deterministic_equivalent
from .latex import latex as latex
from .ridge import LinearRidge as LinearRidge
from .ridge import SourceTarget as SourceTarget
from .features import RandomFeatureRidge as RandomFeatureRidge
from .nonlinear import NonlinearRandomFeatureRidge as NonlinearRandomFeatureRidge
from .activations import activation as activation
from .derivation import Derivation as Derivation
from .derivation import DerivationStep as DerivationStep
from .simulate import compare as compare
from .simulate import gcv as gcv
from .simulate import simulate as simulate
from .laws import Discrete as Discrete
from .laws import Identity as Identity
from .laws import MarchenkoPastur as MarchenkoPastur
from .laws import PowerLaw as PowerLaw
from .laws import Semicircle as Semicircle
from .laws import SpectralLaw as SpectralLaw
from .laws import WishartProduct as WishartProduct
from .laws import free_add as free_add
from .laws import free_mul as free_mul

__all__ = [
    "conventions",
    "errors",
    "clear_caches",
    "deterministic_equivalent",
    "LinearRidge",
    "RandomFeatureRidge",
    "NonlinearRandomFeatureRidge",
    "activation",
    "Derivation",
    "DerivationStep",
    "SourceTarget",
    "gcv",
    "simulate",
    "compare",
    "latex",
    "SpectralLaw",
    "MarchenkoPastur",
    "Semicircle",
    "Identity",
    "Discrete",
    "PowerLaw",
    "WishartProduct",
    "free_add",
    "free_mul",
    "__version__",
]
