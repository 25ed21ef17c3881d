"""Loaded by pytest before it starts the worker processes of ``-n 2``.

* Each worker's BLAS gets one thread, so that two workers on two cores do
  not run four BLAS threads that wait on each other (an explicit setting in
  the environment is kept; the library itself sets no thread count).  Set
  before numpy is imported, and inherited by the workers.
* The doctest namespace shared by freeprob and derivations docstrings."""

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sympy as sp  # noqa: E402


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
    doctest_namespace["sp"] = sp
