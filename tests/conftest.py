"""Test configuration: explicit resets, a seeded generator, strict numerics."""

from __future__ import annotations

import os

import mpmath
import numpy as np
import pytest
from hypothesis import settings

import freeprob

# The suite's property tests draw the same examples on every run, so that a
# commit is judged on its own change; FREEPROB_HYPOTHESIS=explore draws new
# ones (and more of them) to hunt for bugs, whose reproducers then become
# @example rows.
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True)
settings.register_profile("explore", max_examples=400, deadline=None)
settings.load_profile(os.environ.get("FREEPROB_HYPOTHESIS", "ci"))


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
