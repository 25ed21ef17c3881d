"""Command-line option values: numbers and comma lists parsed (never
evaluated), and the printing of simulation results; shared by the commands
of :mod:`freeprob.app.cli`."""

from __future__ import annotations

import re

from freeprob.errors import ParseError

__all__ = ["_values", "_count", "_seed", "_simulation_json", "_print_simulation"]


def _values(text, option="value", kind="nonnegative"):
    """A number or a comma list of numbers (parsed, never evaluated):
    ``kind="nonnegative"`` (finite reals >= 0), ``"real"`` (finite reals) or
    ``"count"`` (integers >= 1).
    Anything else is a :class:`ParseError` naming the option."""
    import numpy as np

    from freeprob.parsing import parse_value

    v = parse_value(text)
    items = v if isinstance(v, list) else [v]
    if not items:
        raise ParseError(f"{option} {text!r}: no value")
    nums = []
    for x in items:
        if not (x.is_number and x.is_finite and x.is_real):
            raise ParseError(f"{option} {text!r}: {x} is not a finite number")
        f = float(x)
        if kind == "count" and (not x.is_integer or f < 1):
            raise ParseError(f"{option} {text!r}: {x} is not an integer >= 1")
        if f < 0 and kind != "real":
            raise ParseError(f"{option} {text!r}: {x} is negative")
        nums.append(f)
    return np.array(nums) if isinstance(v, list) else nums[0]


def _count(text):
    """argparse type: an integer >= 1 (argparse reports a bad one, exit 2)."""
    import argparse

    if not re.match(r"^\d+$", text.strip()) or int(text) < 1 or int(text) > 10**6:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer in [1, 1000000]")
    return int(text)


def _seed(text):
    """argparse type: a seed, an integer in [0, 2^63)."""
    import argparse

    if not re.match(r"^\d+$", text.strip()) or int(text) >= 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed (an integer in [0, 2^63))")
    return int(text)


def _seed_grid(text):
    """argparse type: a crossed seed grid, ``N`` or ``NXxNF`` (``20x10``),
    each an integer in [3, 10^4]."""
    import argparse

    m = re.match(r"^\s*(\d+)\s*(?:[x,]\s*(\d+))?\s*$", text)
    nums = [int(v) for v in m.groups() if v is not None] if m else []
    if not nums or not all(3 <= v <= 10**4 for v in nums):
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed grid (N or NXxNF, integers in [3, 10000])")
    return (nums[0], nums[-1])


def _workers(text):
    """argparse type: a number of local Dask worker processes, 1 to 1024."""
    import argparse

    if not re.match(r"^\d+$", text.strip()) or not 1 <= int(text) <= 1024:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers (an integer from 1 to 1024)")
    return int(text)


def _directory(text):
    """argparse type: a directory path (not empty, no NUL)."""
    import argparse

    if not text.strip() or "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a directory path")
    return text


def _scheduler(text):
    """argparse type: a Dask scheduler address such as ``tcp://host:8786``
    (parsed, never evaluated)."""
    import argparse

    if not re.match(r"^(tcp|tls|ucx|ws|wss|inproc)://[A-Za-z0-9_.:\[\]\-/]+$", text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a scheduler address (e.g. tcp://10.0.0.5:8786)")
    return text.strip()


def _simulation_json(sim):
    import numpy as np

    return {k: {"mean": np.atleast_1d(m).tolist(), "se": np.atleast_1d(e).tolist()} for k, (m, e) in sim.items()}


def _print_simulation(sim, out):
    import numpy as np

    for k, (m, e) in sim.items():
        out(f"  {k:<12} " + "  ".join(f"{a:.6g} +- {b:.2g}" for a, b in zip(np.atleast_1d(m), np.atleast_1d(e))))
