r"""Compressed spectra: a few Chebyshev nodes per cluster in place of many atoms.

A spectral mean ``sum_k p_k f(eta_k)`` over ``n`` atoms costs ``n``
evaluations of the summand per parameter point.  When the summand is smooth
on the spectrum, most of that work is redundant.  This module replaces the
positive atoms by a quadrature rule with far fewer nodes that gives the same
mean to rounding for every summand of the class below.

**The rule.**  The positive atoms, sorted, are cut into *clusters* whose
largest atom is at most ``(1 + delta)/(1 - delta)`` times the smallest, so a
cluster ``[a, b]`` has half-width ``rho = (b - a)/2 <= delta c`` about its
centre ``c`` (``delta = 1/8``).  On each cluster with more than ``J`` atoms
the summand is replaced by its interpolant ``p`` at the ``J = 20`` Chebyshev
points ``t_m`` of ``[a, b]``, which is exact for a polynomial of degree
below ``J``.  The mean of the interpolant is a sum over the nodes,

.. math::
    \sum_{k\in\text{cluster}} p_k\, p(\eta_k) = \sum_m W_m f(t_m),\qquad
    W_m = \sum_{k\in\text{cluster}} p_k\,\ell_m(\eta_k),

with ``ell_m`` the Lagrange basis (barycentric form).  Clusters with at most
``J`` atoms keep them.  The weights ``W_m`` are computed once per spectrum
(spectra are frozen; the result is cached).

**The class of summands and the error.**  A summand qualifies if, in ``x``,
it is a rational function whose poles sit at ``x = -s`` with ``s`` real and
``>= 0`` at every evaluation point (``x/(x + kappa)``,
``kappa x/(x + kappa)^2``, ``1/(x + kappa)^3`` for real ``kappa >= 0``), and
its numerator exceeds its denominator in degree by at most 2.  A pole at
``-s`` lies at normalized distance ``(c + s)/rho >= 1/delta = 8`` from the
centre of every cluster, so ``f`` is analytic inside the Bernstein ellipse of
parameter ``rho_E >= 7.9`` of each cluster (half way to the pole).  The
interpolation error is then at most ``4 M rho_E^{-(J-1)}/(rho_E - 1)``
(Trefethen, *Approximation Theory and Approximation Practice*, Thm 8.2),
where ``M <= 2^m max |f|`` on the cluster for a pole of order ``m <= 4``:
below ``1e-16 max |f|``, and ``max |f|`` varies by at most ``(9/7)^m`` over
a cluster.  The compressed mean therefore equals the direct one to a few
units of rounding of ``sum p_k |f(eta_k)|``, the rounding of the direct sum
itself.  Summands outside the class (an exponential filter, complex
``kappa``, a pole inside the spectrum) and spectra with negative atoms are
summed atom by atom.

>>> import numpy as np
>>> from freeprob.numeric.spectrum import ArraySpectrum
>>> eta = np.random.default_rng(0).uniform(0.01, 1.0, 20000)
>>> nodes, weights = compressed_atoms(ArraySpectrum(eta, None))
>>> bool(nodes.size < 1000), bool(abs(weights @ (nodes / (nodes + 0.3)) - np.mean(eta / (eta + 0.3))) < 1e-15)
(True, True)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import sympy as sp

from freeprob.numeric.cache import cached

__all__ = ["compressed_atoms", "compressed_rule", "far_clusters", "pole_shifts", "Rule", "DELTA", "NODES",
           "MIN_ATOMS", "RHO_FAR"]

#: cluster half-width relative to its centre
DELTA = 1.0 / 8.0
#: Chebyshev nodes per compressed cluster
NODES = 20
#: spectra with fewer positive atoms are summed directly
MIN_ATOMS = 2048
#: Bernstein parameter beyond which a pole counts as far from a cluster:
#: the parameter of the nearest pole ``-s`` (``s >= 0``) to a cluster of
#: half-width ``DELTA c``, ``w + sqrt(w^2 - 1)`` at ``w = 1/DELTA``, rounded down
RHO_FAR = 15.9


class Rule(NamedTuple):
    """A compressed spectrum: ``nodes`` and ``weights`` (atoms at 0 first,
    as one node with their mass), ``owner[i]`` the compressed cluster that
    node ``i`` interpolates (``-1`` for an atom kept as it is), and per
    compressed cluster its interval ``bounds[k] = (a, b)`` and its own atoms
    ``atoms[k] = (values, weights)`` for points where it is near a pole."""

    nodes: np.ndarray
    weights: np.ndarray
    owner: np.ndarray
    bounds: np.ndarray
    atoms: tuple


def compressed_atoms(spectrum):
    """``(nodes, weights)`` of the compressed rule of ``spectrum`` (see the
    module), atoms at 0 kept as one node at 0 with their mass; ``None`` when
    the spectrum has a negative or non-finite atom, or when compression would
    not cut the work by at least 4.

    Parameters
    ----------
    spectrum : a numeric spectrum with ``numeric_atoms()`` (frozen, hashable)
    """
    rule = _compressed(spectrum)
    return None if rule is None else (rule.nodes, rule.weights)


def compressed_rule(spectrum):
    """The :class:`Rule` of ``spectrum`` (``None`` as for
    :func:`compressed_atoms`), with the cluster structure that
    :func:`far_clusters` needs."""
    return _compressed(spectrum)


def far_clusters(rule, shifts):
    """Boolean ``(points, clusters)``: cluster ``k`` may use its nodes at a
    point when every pole ``x = -s`` of the summands lies outside the
    Bernstein ellipse of parameter :data:`RHO_FAR` of its interval -- the
    parameter ``1/DELTA + sqrt(1/DELTA^2 - 1) = 15.94`` that a pole at
    ``-s``, ``s >= 0``, always keeps (see the module), so the same error
    bound holds; elsewhere its atoms are summed.  ``shifts``: one
    array of complex ``s`` per pole, each of the points' length."""
    a, b = rule.bounds[:, 0], rule.bounds[:, 1]
    far = None
    for s in shifts:
        w = (2.0 * (-np.asarray(s, dtype=complex))[:, None] - (a + b)[None, :]) / (b - a)[None, :]
        r = np.abs(w + np.sqrt(w - 1) * np.sqrt(w + 1))
        ok = np.maximum(r, 1 / r) >= RHO_FAR
        far = ok if far is None else far & ok
    return far


@cached(maxsize=32)
def _compressed(spectrum):
    vals, wts = spectrum.numeric_atoms()
    vals = np.asarray(vals, dtype=float)
    n = vals.size
    if n < MIN_ATOMS or not np.all(np.isfinite(vals)) or np.any(vals < 0):
        return None
    wts = np.full(n, 1.0 / n) if wts is None else np.asarray(wts, dtype=float)
    zero = vals == 0
    zero_mass = float(np.sum(wts[zero]))
    order = np.argsort(vals[~zero], kind="stable")
    v, w = vals[~zero][order], wts[~zero][order]
    ratio = (1 + DELTA) / (1 - DELTA)
    nodes, weights, owner, bounds, atoms = [], [], [], [], []
    start = 0
    while start < v.size:
        stop = int(np.searchsorted(v, v[start] * ratio, side="right"))
        a, b = v[start], v[stop - 1]
        if stop - start <= NODES or b == a:
            if b == a:  # one distinct value: one node with the cluster's mass
                nodes.append(np.array([a]))
                weights.append(np.array([np.sum(w[start:stop])]))
            else:
                nodes.append(v[start:stop])
                weights.append(w[start:stop])
            owner.append(np.full(nodes[-1].size, -1))
        else:
            t, wm = _cluster_rule(v[start:stop], w[start:stop], a, b)
            nodes.append(t)
            weights.append(wm)
            owner.append(np.full(t.size, len(bounds)))
            bounds.append((a, b))
            atoms.append((v[start:stop], w[start:stop]))
        start = stop
    nodes, weights, owner = np.concatenate(nodes), np.concatenate(weights), np.concatenate(owner)
    if 4 * nodes.size > n:
        return None
    if zero_mass > 0:
        nodes, weights = np.concatenate([[0.0], nodes]), np.concatenate([[zero_mass], weights])
        owner = np.concatenate([[-1], owner])
    bounds = np.array(bounds, dtype=float).reshape(-1, 2)
    for arr in (nodes, weights, owner, bounds):
        arr.setflags(write=False)
    return Rule(nodes, weights, owner, bounds, tuple(atoms))


def _cluster_rule(v, w, a, b, chunk=1 << 15):
    """Chebyshev points of the second kind on ``[a, b]`` and the weights
    ``W_m = sum_k w_k ell_m(v_k)`` by the barycentric formula (in the scaled
    variable ``u = (2v - a - b)/(b - a)``)."""
    m = np.arange(NODES)
    u_nodes = np.cos(np.pi * m / (NODES - 1))
    beta = (-1.0) ** m
    beta[0] *= 0.5
    beta[-1] *= 0.5
    out = np.zeros(NODES)
    for s in range(0, v.size, chunk):
        u = (2 * v[s:s + chunk] - a - b) / (b - a)
        d = u[:, None] - u_nodes[None, :]
        hit = d == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            c = beta / d
            ell = c / c.sum(axis=1, keepdims=True)
        rows = hit.any(axis=1)
        ell[rows] = hit[rows].astype(float)
        out += w[s:s + chunk] @ ell
    return 0.5 * (a + b) + 0.5 * (b - a) * u_nodes, out


def pole_shifts(summands, x):
    """The expressions ``s`` of the poles ``x = -s`` of every summand, or
    ``None`` if a summand is not in the class of the module (rational in
    ``x``, every pole linear in ``x`` and of order at most 4, numerator
    degree at most the denominator's plus 2).

    >>> x, k = sp.symbols("x k")
    >>> pole_shifts([x / (x + k), k * x / (x + k) ** 2], x), pole_shifts([1 / (x + k) ** 5], x)
    ((k,), None)
    """
    shifts = []
    for f in summands:
        num, den = sp.fraction(sp.together(sp.sympify(f)))
        if not (num.is_polynomial(x) and den.is_polynomial(x)):
            return None
        if num.has(x) and sp.degree(num, x) > (sp.degree(den, x) if den.has(x) else 0) + 2:
            return None
        if not den.has(x):
            continue
        _, factors = sp.factor_list(den, x)
        for fac, mult in factors:
            if not fac.has(x):
                continue
            if sp.degree(fac, x) != 1 or mult > 4:  # the bound of the module: poles of order <= 4
                return None
            a, b = sp.Poly(fac, x).all_coeffs()
            shifts.append(sp.cancel(b / a))
    return tuple(sorted(set(shifts), key=sp.default_sort_key))
