"""freeprob: free probability for high-dimensional learning.

Spectral laws with exact transforms and branch-certified numerics, following
the conventions of :mod:`freeprob.conventions` (Atanasov, Zavatone-Veth and
Pehlevan, *Scaling and renormalization in high-dimensional regression*,
arXiv:2405.00592).

The package is layered; each layer imports only the layers below it (a test
checks the import graph):

======================  ==========================================================
layer                   packages and modules
======================  ==========================================================
application             :mod:`freeprob.app` (cli, reproduce, bench, check),
                        :mod:`freeprob.figures`, :mod:`freeprob.derivations`
documents               :mod:`freeprob.derivation`
scaling                 :mod:`freeprob.scaling`
Monte Carlo             :mod:`freeprob.montecarlo`
models                  :mod:`freeprob.models`
laws                    :mod:`freeprob.laws`
numerics                :mod:`freeprob.numeric`
base                    :mod:`freeprob.printing`, :mod:`freeprob.parsing`,
                        :mod:`freeprob.parameters`, :mod:`freeprob.conventions`,
                        :mod:`freeprob.errors`
======================  ==========================================================

Subpackages that are not imported here (``scaling``, ``figures``,
``derivations``, ``app``) load on first attribute access (PEP 562), so
``import freeprob`` stays fast.

>>> import freeprob
>>> freeprob.MarchenkoPastur(2).moments(3)
[1, 3, 11]
>>> freeprob.scaling.C_alpha(2)
pi/2
"""

import importlib as _importlib
import importlib.abc as _importlib_abc
import importlib.util as _importlib_util
import sys as _sys
import warnings as _warnings

from freeprob import conventions as conventions
from freeprob import errors as errors
from freeprob._version import __version__ as __version__
from freeprob.derivation import Derivation as Derivation
from freeprob.derivation import DerivationStep as DerivationStep
from freeprob.laws import AR1 as AR1
from freeprob.laws import Discrete as Discrete
from freeprob.laws import Identity as Identity
from freeprob.laws import MarchenkoPastur as MarchenkoPastur
from freeprob.laws import PowerLaw as PowerLaw
from freeprob.laws import Semicircle as Semicircle
from freeprob.laws import SpectralLaw as SpectralLaw
from freeprob.laws import WishartProduct as WishartProduct
from freeprob.laws import free_add as free_add
from freeprob.laws import free_mul as free_mul
from freeprob.models import CorrelatedRidge as CorrelatedRidge
from freeprob.models import GradientDescent as GradientDescent
from freeprob.models import GradientFlow as GradientFlow
from freeprob.models import LinearRidge as LinearRidge
from freeprob.models import NonlinearRandomFeatureRidge as NonlinearRandomFeatureRidge
from freeprob.models import RandomFeatureRidge as RandomFeatureRidge
from freeprob.models import Ridge as Ridge
from freeprob.models import SourceTarget as SourceTarget
from freeprob.models import SpectralCutoff as SpectralCutoff
from freeprob.models import SpectralFilter as SpectralFilter
from freeprob.models import activation as activation
from freeprob.models import deterministic_equivalent as deterministic_equivalent
from freeprob.montecarlo import compare as compare
from freeprob.montecarlo import corr_gcv as corr_gcv
from freeprob.montecarlo import estimate_correlation as estimate_correlation
from freeprob.montecarlo import gcv as gcv
from freeprob.montecarlo import simulate as simulate
from freeprob.numeric import clear_caches as clear_caches
from freeprob.printing import latex as latex

__all__ = [
    "conventions",
    "errors",
    "clear_caches",
    "deterministic_equivalent",
    "LinearRidge",
    "CorrelatedRidge",
    "Ridge",
    "GradientFlow",
    "GradientDescent",
    "SpectralCutoff",
    "SpectralFilter",
    "RandomFeatureRidge",
    "NonlinearRandomFeatureRidge",
    "activation",
    "Derivation",
    "DerivationStep",
    "SourceTarget",
    "gcv",
    "corr_gcv",
    "estimate_correlation",
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
    "AR1",
    "free_add",
    "free_mul",
    "__version__",
]

#: subpackages and modules reachable as ``freeprob.NAME`` without an explicit import
_LAZY = {
    "scaling": "freeprob.scaling",
    "figures": "freeprob.figures",
    "derivations": "freeprob.derivations",
    "app": "freeprob.app",
    "sampling": "freeprob.montecarlo.sampling",
    "montecarlo": "freeprob.montecarlo",
    "models": "freeprob.models",
    "laws": "freeprob.laws",
    "numeric": "freeprob.numeric",
    "derivation": "freeprob.derivation",
    "printing": "freeprob.printing",
    "parsing": "freeprob.parsing",
    "parameters": "freeprob.parameters",
}

#: modules renamed by the layered layout (0.2); the old names import the new
#: modules with a DeprecationWarning for one release.  ``freeprob.simulate``
#: and ``freeprob.latex`` stay the public *functions* of those names.
_MOVED = {
    "ridge": "freeprob.models.linear",
    "features": "freeprob.models.features",
    "equivalence": "freeprob.models.equivalence",
    "nonlinear": "freeprob.models.nonlinear",
    "activations": "freeprob.models.activations",
    "sampling": "freeprob.montecarlo.sampling",
    "testing": "freeprob.app.check",
    "cli": "freeprob.app.cli",
    "bench": "freeprob.app.bench",
    "reproduce": "freeprob.app.reproduce",
}


def __getattr__(name):
    """PEP 562: load a subpackage on first access (``freeprob.scaling.exponent``)."""
    if name in _LAZY:
        return _importlib.import_module(_LAZY[name])
    if name in _MOVED:
        return _importlib.import_module(f"freeprob.{name}")
    raise AttributeError(f"module 'freeprob' has no attribute {name!r}")


def __dir__():
    return sorted(set(__all__) | set(_LAZY) | set(globals()))


class _MovedModuleLoader(_importlib_abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        _warnings.warn(f"{spec.name} moved to {self.target}; the old name goes away in the next release",
                       DeprecationWarning, stacklevel=3)
        return _importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class _MovedModuleFinder(_importlib_abc.MetaPathFinder):
    """Resolves the pre-0.2 module names (``freeprob.ridge``, ...) to their new homes."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, tail = fullname.partition(".")
        if head == "freeprob" and tail in _MOVED:
            return _importlib_util.spec_from_loader(fullname, _MovedModuleLoader(_MOVED[tail]))
        return None


if not any(isinstance(f, _MovedModuleFinder) for f in _sys.meta_path):
    _sys.meta_path.append(_MovedModuleFinder())
