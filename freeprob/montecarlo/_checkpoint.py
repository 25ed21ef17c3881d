"""Checkpointed Monte Carlo: every task's result kept on disk, so that an
interrupted run resumes where it stopped.

A paper-scale figure is hours of work (``D = 10^4``: ``P x D x N`` products
for each of ``20 x 20`` cells at 20 values of ``P``).  :class:`CheckpointMap`
is an executor for :func:`freeprob.simulate` (``executor=``) that stores the
result of each task (a block of rows of the crossed-seed grid, or one data
draw) under a digest of the task and of freeprob's source code, and reads
it back instead of computing it when the same task comes again.  Every task
carries its own seeds (:class:`numpy.random.SeedSequence` children spawned
in a fixed order), so a run started again with the same generator asks for
the same tasks in the same order: the stored ones are read, the rest
computed, and the result equals an uninterrupted run's bit for bit.

* **The key** is a SHA-256 of the task function's name, a canonical
  encoding of its arguments (arrays by dtype, shape and bytes; seed
  sequences by entropy and spawn key; numbers by ``repr``; frozen models
  and estimators by ``repr``), and of the source of every module of
  freeprob, so that a stored result is never read by other code.  An
  argument whose ``repr`` holds a memory address has no stable encoding: its
  task is computed and not stored.
* **The files** are ``.npz`` archives written with ``allow_pickle=False``
  (a JSON outline of nested lists, tuples and dicts, and one array per
  leaf), renamed into place when complete: nothing is unpickled, and a run
  killed while writing leaves no partial file.

>>> import tempfile, numpy as np, freeprob
>>> m = freeprob.LinearRidge(freeprob.Identity(1), samples=30, dimension=20, ridge=0.1)
>>> with tempfile.TemporaryDirectory() as tmp:
...     a = freeprob.simulate(m, seeds=4, rng=np.random.default_rng(1), executor=CheckpointMap(tmp))
...     b = freeprob.simulate(m, seeds=4, rng=np.random.default_rng(1), executor=CheckpointMap(tmp))
>>> bool(np.array_equal(a["Eg"][0], b["Eg"][0]))
True
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pathlib

import numpy as np

from freeprob.errors import ParameterError
from freeprob.numeric.cache import cached

__all__ = ["CheckpointMap"]


class _Unstable(Exception):
    """An argument without a stable encoding (internal)."""


@cached(maxsize=1)
def _source_digest() -> str:
    """SHA-256 of the source of every module of the freeprob package."""
    root = pathlib.Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _encode(obj, h):
    """Feed a canonical encoding of ``obj`` to the hash ``h``."""
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, (np.ndarray, np.generic)):
        a = np.ascontiguousarray(obj)
        if a.dtype == object:
            raise _Unstable("an object array")
        h.update(f"nd:{a.dtype.str}:{a.shape}:".encode() + a.tobytes() + b";")
    elif isinstance(obj, (tuple, list)):
        h.update(f"{type(obj).__name__}[{len(obj)}](".encode())
        for v in obj:
            _encode(v, h)
        h.update(b");")
    elif isinstance(obj, dict):
        h.update(f"dict[{len(obj)}](".encode())
        for k in sorted(obj, key=repr):
            _encode(k, h)
            _encode(obj[k], h)
        h.update(b");")
    elif isinstance(obj, np.random.SeedSequence):
        h.update(f"seed:{obj.entropy!r}:{obj.spawn_key!r}:{obj.pool_size}:{obj.n_children_spawned};".encode())
    else:
        text = repr(obj)
        if " at 0x" in text:
            raise _Unstable(f"{type(obj).__name__} has no stable repr")
        h.update(f"{type(obj).__module__}.{type(obj).__qualname__}:{text};".encode())


def task_key(fn, args) -> str | None:
    """The hex digest of a task (see the module), or None if one of its
    arguments has no stable encoding."""
    h = hashlib.sha256(_source_digest().encode())
    h.update(f"{fn.__module__}.{fn.__qualname__};".encode())
    try:
        _encode(args, h)
    except _Unstable:
        return None
    return h.hexdigest()


def _flatten(obj, leaves):
    """A JSON outline of ``obj`` whose leaves index into ``leaves``."""
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise _Unstable("a dict with non-string keys")
        return {"dict": {k: _flatten(v, leaves) for k, v in obj.items()}}
    if isinstance(obj, (list, tuple)):
        return {type(obj).__name__: [_flatten(v, leaves) for v in obj]}
    if obj is None:
        return {"none": 0}
    if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype != object:   # np.float64 is a float too
        leaves.append(np.asarray(obj))
        return {"array" if isinstance(obj, np.ndarray) else "scalar": len(leaves) - 1}
    if type(obj) in (bool, int, float, complex):
        leaves.append(np.asarray(obj))
        return {type(obj).__name__: len(leaves) - 1}
    raise _Unstable(f"a result of type {type(obj).__name__}")


def _unflatten(node, leaves):
    (kind, val), = node.items()
    if kind == "dict":
        return {k: _unflatten(v, leaves) for k, v in val.items()}
    if kind in ("list", "tuple"):
        items = [_unflatten(v, leaves) for v in val]
        return items if kind == "list" else tuple(items)
    if kind == "none":
        return None
    a = leaves[f"a{val}"]
    if kind == "array":
        return a
    if kind == "scalar":
        return a[()]
    return {"bool": bool, "int": int, "float": float, "complex": complex}[kind](a[()])


class CheckpointMap:
    """An executor that keeps each task's result in ``directory`` and reads
    it back when the same task comes again (see the module); the tasks it
    has no result for run on ``inner`` (any executor with ``map``, such as
    :class:`~freeprob.montecarlo._dask.DaskMap`), or serially.

    >>> CheckpointMap(3)
    Traceback (most recent call last):
    ...
    freeprob.errors.ParameterError: directory = 3 is outside its allowed range a directory path

    Parameters
    ----------
    directory : a path; created if missing.
    inner : the executor that computes the missing tasks (default: serial).

    Attributes
    ----------
    hits, misses : tasks read back and tasks computed by this executor.
    """

    def __init__(self, directory, inner=None):
        if not isinstance(directory, (str, os.PathLike)) or not str(directory):
            raise ParameterError("directory", directory, "a directory path")
        if inner is not None and not callable(getattr(inner, "map", None)):
            raise ParameterError("inner", type(inner).__name__, "an executor with a map method, or None")
        self.directory = pathlib.Path(directory)
        self.inner = inner
        self.hits = self.misses = 0

    @property
    def workers(self) -> int:
        """The inner executor's workers (1 when serial): the tasks are cut
        the same way as on it, so their results are the same."""
        return 1 if self.inner is None else int(getattr(self.inner, "workers", 4) or 4)

    def _path(self, key):
        return self.directory / key[:2] / f"{key}.npz"

    def _load(self, key):
        path = self._path(key)
        if not path.is_file():
            return False, None
        with np.load(path, allow_pickle=False) as z:
            leaves = {k: z[k] for k in z.files if k != "outline"}
            outline = json.loads(str(z["outline"][()]))
        return True, _unflatten(outline, leaves)

    def _store(self, key, result):
        leaves = []
        try:
            outline = _flatten(result, leaves)
        except _Unstable:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez(buf, outline=np.array(json.dumps(outline)), **{f"a{i}": a for i, a in enumerate(leaves)})
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, path)

    def map(self, fn, tasks):
        """``[fn(t) for t in tasks]``: the stored results read, the others
        computed on the inner executor (one ``map`` call) and stored as
        each arrives."""
        tasks = list(tasks)
        keys = [task_key(fn, t) for t in tasks]
        out, todo = [None] * len(tasks), []
        for i, key in enumerate(keys):
            found, val = (False, None) if key is None else self._load(key)
            if found:
                out[i] = val
                self.hits += 1
            else:
                todo.append(i)
        runner = map if self.inner is None else self.inner.map
        for i, val in zip(todo, runner(fn, [tasks[i] for i in todo])):
            out[i] = val
            self.misses += 1
            if keys[i] is not None:
                self._store(keys[i], val)
        return out
