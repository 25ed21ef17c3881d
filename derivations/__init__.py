"""Checkable derivations of the paper's results (one module per group of
results), each with ``build() -> freeprob.Derivation`` built by calling the
library.  ``REGISTRY`` maps names to modules."""

from importlib import import_module

_MODULES = ("mp_s_transforms", "deterministic_equivalence", "linear_ridge", "random_features")


def registry() -> dict:
    """``{name: module}`` of every derivation."""
    out = {}
    for mod in _MODULES:
        m = import_module(f"{__name__}.{mod}")
        out[m.NAME] = m
    return out


REGISTRY = tuple(_MODULES)
