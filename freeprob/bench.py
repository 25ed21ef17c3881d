"""Benchmarks that print ratios against a baseline run in the same process.

Run with ``freeprob bench`` (or ``python -m freeprob bench``).  Timings are
never asserted in the test suite (they are flaky); the memory bound of the
spectral sums is tested deterministically with ``tracemalloc``.

Benchmarks
----------
``import``
    ``python -c "import freeprob"`` against ``import sympy, numpy, mpmath``
    (fresh interpreters, best of 5).
``df1-discrete``
    ``df1`` of a ``10^6``-atom :class:`~freeprob.Discrete` law on ``10^3``
    ridge values, against the plain numpy loop
    ``[np.mean(v / (v + lam)) for lam in lams]``; also reports the peak
    memory of freeprob's evaluation (a ``10^3 x 10^6`` temporary would be
    8 GB).
"""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc

import numpy as np

__all__ = ["run", "BENCHMARKS"]


def _best(fn, repeat=3):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_import(repeat: int = 5) -> dict:
    def timed(code):
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            best = min(best, time.perf_counter() - t0)
        return best

    empty = timed("pass")
    deps = timed("import sympy, numpy, mpmath") - empty
    ours = timed("import freeprob") - empty
    return {"import freeprob [s]": ours, "import sympy+numpy+mpmath [s]": deps,
            "ratio": ours / deps, "target": "freeprob < 1 s"}


def bench_df1_discrete(n_atoms: int = 10**6, n_lam: int = 1000, seed: int = 0) -> dict:
    import freeprob

    rng = np.random.default_rng(seed)
    v = rng.uniform(0.0, 1.0, n_atoms) ** 2
    lams = np.logspace(-4, 2, n_lam)
    law = freeprob.Discrete(v)
    law.df1_numeric(lams[:2])  # compile once (cached), as a user's sweep would

    t_base, base = _best(lambda: np.array([np.mean(v / (v + lam)) for lam in lams]), repeat=2)
    t_ours, ours = _best(lambda: law.df1_numeric(lams), repeat=2)
    tracemalloc.start()
    law.df1_numeric(lams)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    err = float(np.max(np.abs(ours - base) / base))
    return {"numpy loop [s]": t_base, "freeprob [s]": t_ours, "ratio": t_ours / t_base,
            "peak memory [MB]": peak / 2**20, "max rel. diff": err, "target": "ratio <= 1.5"}


BENCHMARKS = {"import": bench_import, "df1-discrete": bench_df1_discrete}


def run(only=None, out=print) -> dict:
    """Run the selected benchmarks and print one block per benchmark."""
    results = {}
    for name, fn in BENCHMARKS.items():
        if only and name not in only:
            continue
        res = fn()
        results[name] = res
        out(f"[{name}]")
        for k, v in res.items():
            out(f"  {k:<32} {v:.4g}" if isinstance(v, float) else f"  {k:<32} {v}")
    return results
