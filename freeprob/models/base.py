"""The abstract model: frozen, hashable, replaceable (house rule 6).

Every learning model of :mod:`freeprob.models` is a frozen dataclass derived
from :class:`AbstractModel`:

* assigning an attribute raises (``dataclasses.FrozenInstanceError``, an
  ``AttributeError``); ``model.replace(ridge=1e-3)`` returns a new model,
  validated again;
* two models with equal parameters are equal and hash alike, so caches
  (compiled evaluators, tabulated solutions) are keyed on the frozen value and
  can never serve a stale result;
* the attribute a user passed keeps its meaning: a derived quantity (the
  nonlinear model's effective ridge, the population dimension fixed by an
  atomic law) gets its own name.

Array-valued parameters (a target in the eigenbasis) are held as
:class:`FrozenArray`, a read-only array hashed by its bytes.

>>> import freeprob
>>> m = freeprob.LinearRidge(freeprob.Identity(1), samples=100, ridge=0.1, dimension=50)
>>> m.replace(ridge=0.2).ridge
0.200000000000000
>>> m.ridge = 0.3
Traceback (most recent call last):
...
dataclasses.FrozenInstanceError: cannot assign to field 'ridge'
"""

from __future__ import annotations

import abc
import dataclasses
from typing import ClassVar

import numpy as np
import sympy as sp

from freeprob.errors import ParameterError
from freeprob.parameters import real_array

__all__ = ["AbstractModel", "FrozenArray", "real_array", "broadcast"]


def broadcast(**arrays):
    """Broadcast named arrays together, or a :class:`ParameterError` naming
    the arrays whose shapes do not match."""
    try:
        return np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{k}: {np.shape(v)}" for k, v in arrays.items())
        raise ParameterError(" and ".join(arrays), shapes, "shapes that broadcast together") from None


class FrozenArray:
    """A read-only float64 array with value semantics (equality and hash by content).

    >>> a = FrozenArray([1.0, 2.0])
    >>> a == FrozenArray([1, 2]), float(np.asarray(a).sum())
    (True, 3.0)
    """

    __slots__ = ("_array", "_hash")

    def __init__(self, values):
        arr = np.array(values, dtype=float)
        arr.setflags(write=False)
        object.__setattr__(self, "_array", arr)
        object.__setattr__(self, "_hash", hash((arr.shape, arr.tobytes())))

    def __setattr__(self, name, value):
        raise AttributeError("FrozenArray is immutable")

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)

    @property
    def shape(self):
        return self._array.shape

    @property
    def size(self):
        return self._array.size

    def __len__(self):
        return len(self._array)

    def __eq__(self, other):
        return isinstance(other, FrozenArray) and self._hash == other._hash and \
            np.array_equal(self._array, other._array)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return f"FrozenArray(size={self._array.size})"


@dataclasses.dataclass(frozen=True)
class AbstractModel(abc.ABC):
    """Base of every model: frozen fields, ``replace``, numeric parameter access.

    Subclasses are final frozen dataclasses.  They validate and normalize
    their fields in ``__post_init__`` through :meth:`_set` (the only place a
    field is written), declare which fields :meth:`evaluate` may sweep in
    ``SWEEPABLE``, and implement :meth:`quantities` and :meth:`evaluate`.
    """

    #: fields that ``evaluate(**overrides)`` accepts as arrays
    SWEEPABLE: ClassVar[tuple] = ()

    def _set(self, **fields):
        """Write normalized field values during ``__post_init__`` only."""
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes) -> "AbstractModel":
        """A new model with some parameters changed (validated again).

        Names are the constructor's; an unknown name raises
        :class:`~freeprob.errors.ParameterError`."""
        names = {f.name for f in dataclasses.fields(self) if f.init}
        for name in changes:
            if name not in names:
                raise ParameterError(name, changes[name], f"one of {sorted(names)}")
        current = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        return type(self)(**{**current, **changes})

    @abc.abstractmethod
    def quantities(self) -> dict:
        """Every key of :meth:`evaluate` as a sympy expression."""

    @abc.abstractmethod
    def evaluate(self, **overrides) -> dict:
        """Numeric values of every key."""

    # numeric access -----------------------------------------------------------
    def _value(self, overrides, name):
        """An override if given, else the constructor's (numeric) value."""
        return overrides[name] if name in overrides else self._num(name, getattr(self, name))

    @staticmethod
    def _num(name, value):
        if not sp.sympify(value).is_number:
            raise ParameterError(name, value, "a number", f"pass {name}=... to evaluate()")
        return float(value)

    def _ridge_sweep(self, overrides):
        """``(ridge, samples, noise)`` of a ridge model's ``evaluate``: the
        overrides (one of ``SWEEPABLE``) or the constructor's values, each
        validated (a :class:`ParameterError` naming it) and broadcast together."""
        bad = set(overrides) - set(self.SWEEPABLE)
        if bad:
            raise ParameterError(sorted(bad)[0], overrides[sorted(bad)[0]], "one of " + ", ".join(self.SWEEPABLE))
        lam = real_array("ridge", self._value(overrides, "ridge"))
        p = real_array("samples", self._value(overrides, "samples"))
        s2 = real_array("noise", self._value(overrides, "noise"))
        if np.any(~np.isfinite(lam)) or np.any(lam < 0):
            raise ParameterError("ridge", lam[~(np.isfinite(lam) & (lam >= 0))].ravel()[0], "[0, oo)")
        if np.any(p < 1) or np.any(p != np.round(p)):
            raise ParameterError("samples", p[(p < 1) | (p != np.round(p))].ravel()[0], "integers >= 1")
        if np.any(~np.isfinite(s2)) or np.any(s2 < 0):
            raise ParameterError("noise", s2[~(np.isfinite(s2) & (s2 >= 0))].ravel()[0], "[0, oo)")
        return broadcast(ridge=lam, samples=p, noise=s2)
