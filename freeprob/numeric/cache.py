"""Explicit, clearable caches (no hidden global state).

Every memoized function in freeprob is registered here, and
:func:`clear_caches` empties all of them (the test suite does so per module).
"""

from __future__ import annotations

import functools

_REGISTRY: list = []


def cached(maxsize: int | None = 512):
    """``functools.lru_cache`` that registers itself for :func:`clear_caches`."""

    def deco(fn):
        wrapped = functools.lru_cache(maxsize=maxsize)(fn)
        _REGISTRY.append(wrapped)
        return wrapped

    return deco


def clear_caches() -> None:
    """Empty every freeprob cache (compiled evaluators, derived transforms,
    materialized spectra).

    >>> clear_caches()
    """
    for fn in _REGISTRY:
        fn.cache_clear()
