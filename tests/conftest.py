"""Test configuration: explicit resets, a seeded generator, strict numerics."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import settings

import freeprob

settings.register_profile("ci", max_examples=40, deadline=None)
settings.load_profile("ci")


@pytest.fixture(autouse=True, scope="module")
def _clear_freeprob_caches():
    """Results must not depend on whether a cache is warm."""
    freeprob.clear_caches()
    yield


@pytest.fixture(autouse=True)
def _reset_mpmath():
    """mpmath precision is only ever changed inside workdps; check that."""
    dps = mpmath.mp.dps
    yield
    assert mpmath.mp.dps == dps, "a test or freeprob leaked a global mpmath precision change"


@pytest.fixture
def rng():
    return np.random.default_rng(20240502)
