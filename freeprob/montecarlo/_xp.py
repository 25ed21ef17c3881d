"""Array namespaces for the Monte Carlo (the Python array API standard).

``freeprob.simulate(model, ..., xp=namespace)`` runs the linear algebra of
each draw of a linear model, and of each cell of the crossed grid of a
random-feature model (the feature products, the Gram matrix and its
``eigh``, the filters, the errors and the observable estimators), in the
array library ``namespace``: ``numpy`` (the
default), ``array_api_strict``, or ``cupy``, ``torch`` and ``jax.numpy``
through ``array-api-compat`` (``pip install "freeprob[arrayapi]"``), so the
same code runs on a GPU.  The random numbers are drawn by numpy's
``Generator`` from each draw's own seed and moved to the namespace with
``asarray``: a draw is the same whatever the library, and the results agree
with numpy's to float64 rounding.  Aggregation over draws (jackknife,
standard errors) is done in numpy on the host.

A namespace is passed to workers by its module name, so process pools and
Dask clusters can import it (a module object cannot be pickled).

>>> import numpy as np
>>> resolve(namespace_name(np)) is np
True
"""

from __future__ import annotations

import importlib

import numpy as np

from freeprob.errors import ParameterError

__all__ = ["namespace_name", "resolve", "to_numpy"]


def namespace_name(xp) -> str:
    """The importable name of the array-API namespace of ``xp`` (a module),
    checked to provide what the draws use; ``ParameterError`` naming ``xp``
    otherwise."""
    if xp is None or xp is np:
        return "numpy"
    name = getattr(xp, "__name__", None)
    if not isinstance(name, str):
        raise ParameterError("xp", repr(xp), "an array namespace module (numpy, array_api_strict, cupy, ...)")
    ns = resolve(name)
    for attr in ("asarray", "where", "sum", "sqrt", "flip", "linalg"):
        if not hasattr(ns, attr):
            raise ParameterError("xp", name, "a namespace of the Python array API standard",
                                 f"it has no {attr!r}")
    if not hasattr(ns.linalg, "eigh"):
        raise ParameterError("xp", name, "a namespace with the linalg extension (eigh)")
    return ns.__name__


def resolve(name: str):
    """The namespace of module ``name``: numpy itself, a module that is its
    own array-API namespace (``array_api_strict``), or its
    ``array-api-compat`` wrapper (``torch`` -> ``array_api_compat.torch``)."""
    if name == "numpy":
        return np
    mod = importlib.import_module(name)
    if hasattr(mod, "__array_api_version__") or name.startswith("array_api_compat."):
        return mod
    try:
        import array_api_compat
    except ImportError:  # pragma: no cover - depends on the environment
        raise ParameterError("xp", name, "numpy or array_api_strict without array-api-compat",
                             'pip install "freeprob[arrayapi]"') from None
    if not hasattr(mod, "asarray"):
        raise ParameterError("xp", name, "an array namespace module (numpy, array_api_strict, cupy, ...)")
    try:
        return array_api_compat.array_namespace(mod.asarray(0.0))
    except TypeError:
        raise ParameterError("xp", name, "an array library that array-api-compat supports") from None


def to_numpy(a) -> np.ndarray:
    """A float64 numpy copy of array ``a`` of any namespace (through DLPack,
    after moving it to the host if the library supports ``to_device``)."""
    if isinstance(a, (np.ndarray, list, tuple)) or np.isscalar(a):
        return np.asarray(a)
    try:
        return np.from_dlpack(a).copy()
    except (TypeError, RuntimeError, BufferError):
        import array_api_compat

        return np.from_dlpack(array_api_compat.to_device(a, "cpu")).copy()
