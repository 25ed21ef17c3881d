"""Typical instances of every law of the catalogue.

One table drives ``freeprob check`` and the generic tests (SciPy's
``distcont`` pattern): a new law gets a row here and is covered everywhere.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob.laws._classical import Identity, MarchenkoPastur, Semicircle
from freeprob.laws._convolved import WishartProduct
from freeprob.laws._discrete import Discrete, PowerLaw
from freeprob.laws._free import free_add, free_mul
from freeprob.laws._toeplitz import AR1

__all__ = ["examples"]


def _declared(cls):
    """A law at the middle of the typical range of each declared parameter."""
    kwargs = {name: prm.typical_values(3)[1] for name, prm in cls.PARAMETERS.items()}
    return f"{cls.__name__} typical " + ", ".join(f"{k}={v:.4g}" for k, v in kwargs.items()), cls(**kwargs)


def examples():
    """``[(label, law), ...]`` with typical numeric parameters: hand-picked
    cases (atoms at 0, q = 1, affine images, convolutions) and one law per
    class at the middle of its declared typical ranges."""
    half, quarter = sp.Rational(1, 2), sp.Rational(1, 4)
    declared = [_declared(cls) for cls in (MarchenkoPastur, Semicircle, Identity, PowerLaw, AR1)]
    return declared + [
        ("MP q=1/2", MarchenkoPastur(half)),
        ("MP q=1", MarchenkoPastur(1)),
        ("MP q=3 (atom at 0)", MarchenkoPastur(3)),
        ("MP q=0.3 scale=2", MarchenkoPastur(0.3, 2.0)),
        ("SC v=1", Semicircle()),
        ("SC v=2 c=5", Semicircle(2, 5)),
        ("Identity 2", Identity(2)),
        ("Discrete 3 atoms", Discrete([1, 2, 5], [half, quarter, quarter])),
        ("Discrete +-1", Discrete([-1, 1])),
        ("Discrete 500 atoms", Discrete(np.linspace(0.1, 2.0, 500))),
        ("PowerLaw a=1.5 n=20", PowerLaw(1.5, 20)),
        ("PowerLaw a=2 n=1e5", PowerLaw(2, 10**5)),
        ("MP q=2 shifted +1", MarchenkoPastur(2).shifted(1)),
        ("SC scaled -2 shifted 7", Semicircle(1).scaled(-2).shifted(7)),
        ("PowerLaw a=2 n=3 scaled 2", PowerLaw(2, 3).scaled(2)),
        ("arcsine = (+-1) boxplus (+-1)", free_add(Discrete([-1, 1]), Discrete([-1, 1]))),
        ("(+-3) boxplus SC", free_add(Discrete([-3, 3]), Semicircle())),
        ("atoms boxtimes MP(1/2)", free_mul(Discrete([1, 2]), MarchenkoPastur(half))),
        ("WishartProduct [2, 3]", WishartProduct([2, 3])),
        ("WishartProduct [1/2, 1/4]", WishartProduct([half, quarter])),
        ("AR1 rho=1/2", AR1(half)),
        ("AR1 rho=-0.9", AR1(-0.9)),
    ]
