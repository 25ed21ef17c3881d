"""Loaded by pytest before it starts the worker processes of ``-n 2``: each
worker's BLAS gets one thread, so that two workers on two cores do not run
four BLAS threads that wait on each other (an explicit setting in the
environment is kept).  The library itself sets no thread count."""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
