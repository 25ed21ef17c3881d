r"""Reproductions of the paper's figures [F1]-[F23] (freeprob's identifiers,
defined in the documentation's reference page of figures), and figures of
the results freeprob adds (``X1``: correlated samples, [R22]; ``X2``:
training dynamics, [C18]; ``X3``: random features trained by gradient flow).

Each builder returns a :class:`Figure`: frozen data (theory curves from the
model evaluators, simulation points from :func:`freeprob.simulate`, guides)
plus a caption that states any defect of the authors' figure fixed here.
``fast=True`` shrinks sizes and seed counts so that every figure builds in
seconds (the test suite and the notebooks use it); the default uses the
authors' parameters.

>>> from freeprob import figures
>>> figures.available()[:4]
('F1', 'F2', 'F3', 'F4')
>>> fig = figures.build("F5", fast=True)
>>> [p.title for p in fig.panels]
['linear regression', 'linear random features']

Write PNG and PDF files (needs the ``plot`` extra) with ``fig.save(dir)`` or
``freeprob figures --only F7 --fast --out DIR``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from freeprob.errors import ParameterError
from freeprob.figures import (
    _correlated,
    _features,
    _linear,
    _noise,
    _spectra,
    _training,
)
from freeprob.figures._base import Figure, Panel, Series, Size

__all__ = ["Figure", "Panel", "Series", "Size", "TITLES", "EXTENSIONS", "SIZED", "available", "build"]

_BUILDERS = {
    "F1": _spectra.f1, "F2": _spectra.f2, "F3": _spectra.f3, "F4": _spectra.f4, "F5": _spectra.f5,
    "F6": _linear.f6, "F7": _linear.f7, "F8": _linear.f8, "F9": _linear.f9, "F10": _linear.f10,
    "F11": _linear.f11, "F12": _features.f12, "F13": _features.f13, "F14": _features.f14,
    "F15": _features.f15, "F16": _features.f16, "F17": _features.f17, "F18": _features.f18,
    "F19": _noise.f19, "F20": _noise.f20, "F21": _noise.f21, "F22": _noise.f22, "F23": _noise.f23,
}

#: the random-feature figures whose size (``D`` and the crossed seed grid)
#: :func:`build` can change: a paper-scale one takes hours on a few cores
SIZED = ("F12", "F13", "F14", "F15", "F16", "F17", "F19", "F20", "F21", "F22", "F23")

#: figures of results beyond the paper (built like the others; not in :func:`available`)
EXTENSIONS = {"X1": _correlated.x1, "X2": _training.x2, "X3": _training.x3}


#: what each figure shows (the figure list of the specification, section 3)
TITLES = {
    "F1": "Wigner spectrum and the semicircle",
    "F2": "White Wishart (Marchenko-Pastur) densities",
    "F3": "Empirical spectrum of a power-law population",
    "F4": "Deep white Wishart spectrum",
    "F5": "Venn diagrams of the variance components",
    "F6": "Renormalized ridge and degrees of freedom, isotropic linear regression",
    "F7": "Double descent and GCV, isotropic linear regression",
    "F8": "Double descent on linear axes, isotropic linear regression",
    "F9": "Renormalized ridge and degrees of freedom, power-law linear regression",
    "F10": "Error scaling of power-law linear regression: capacity and source",
    "F11": "Multiple descent with a gapped spectrum",
    "F12": "Isotropic linear random features: components and parameters",
    "F13": "Structured random features, variance dominated",
    "F14": "Structured random features, variance and ridge dominated",
    "F15": "Structured random features, noise mitigated by the ridge",
    "F16": "Deep structured linear random features",
    "F17": "Finite-width variance with anisotropic weights",
    "F18": "Phase diagram of the dominant term of the error",
    "F19": "Isotropic random features with additive feature noise",
    "F20": "Renormalized ridges with feature noise",
    "F21": "Additive-noise dominated scaling",
    "F22": "Additive and multiplicative noise dominated scaling",
    "F23": "Noise mitigated by the ridge, with feature noise",
    "X1": "GCV and CorrGCV on AR(1)-correlated samples",
    "X2": "Training dynamics: learning curves in time and the compute-optimal frontier",
    "X3": "Random features trained by gradient flow: learning curves in time and the asymmetric compute-optimal rule",
}


def available(*, extensions: bool = False) -> tuple:
    """The figure ids, in the paper's order (``extensions=True`` adds the
    figures beyond the paper, ``X1``, ...)."""
    return tuple(_BUILDERS) + (tuple(EXTENSIONS) if extensions else ())


def _check(figure_id):
    key = str(figure_id).upper()
    if key in EXTENSIONS:
        return EXTENSIONS[key]
    if key not in _BUILDERS:
        raise ParameterError("figure", figure_id, ", ".join((*_BUILDERS, *EXTENSIONS)))
    return _BUILDERS[key]


def build(figure_id: str, *, fast: bool = False, rng: np.random.Generator | None = None, executor=None,
          dimension: int | None = None, seeds=None) -> Figure:
    """Build figure ``figure_id`` (``"F1"`` ... ``"F23"``, or an extension such as ``"X1"``).

    Parameters
    ----------
    fast : small sizes and few seeds (seconds per figure); default: the
        authors' parameters (minutes for the random-feature figures).
    rng : ``numpy.random.Generator`` for the simulations; default
        ``np.random.default_rng(<figure number>)`` so that a figure is
        reproducible on its own.
    executor : where the simulations run (any executor with ``map``, such as
        a :class:`~freeprob.montecarlo._dask.DaskMap` of a Dask cluster);
        default serial.  The result does not depend on it.
    dimension, seeds : another size for one of the random-feature figures
        :data:`SIZED`: the data dimension ``D`` (the widths keep their ratio
        to ``D``) and the crossed grid ``(n_x, n_f)`` of data and feature
        draws (see :class:`Size`).  The caption then states the size used
        and the authors'.
    """
    builder = _check(figure_id)
    if rng is None:
        rng = np.random.default_rng(int(str(figure_id).upper()[1:]))
    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng", type(rng).__name__, "a numpy.random.Generator")
    size = Size(dimension, seeds)
    if size == Size():
        fig = builder(bool(fast), rng, executor)
    elif str(figure_id).upper() in SIZED:
        fig = builder(bool(fast), rng, executor, size=size)
    else:
        bad = ("dimension", dimension) if dimension is not None else ("seeds", seeds)
        raise ParameterError(*bad, "None", f"{str(figure_id).upper()} has a fixed size; only {', '.join(SIZED)} "
                             "change theirs")
    return fig if fig.title else replace(fig, title=TITLES[fig.id])
