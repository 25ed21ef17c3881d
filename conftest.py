"""Doctest namespace shared by freeprob and derivations docstrings."""

import numpy as np
import pytest
import sympy as sp


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
    doctest_namespace["sp"] = sp
