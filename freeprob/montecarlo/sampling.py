r"""Random-matrix samplers and empirical-vs-law comparisons.

Samplers take a ``numpy.random.Generator`` (never a global RNG) and return
eigenvalues of one finite-``N`` draw, normalized so that the empirical
spectral distribution converges to the named law:

* :func:`wigner`: symmetric ``N x N`` with off-diagonal entries of variance
  ``variance/N`` -> ``Semicircle(variance)``;
* :func:`white_wishart`: ``W = scale * Z^T Z / P``, ``Z`` of size ``P x N``
  -> ``MarchenkoPastur(N/P, scale)`` [R1], [C1];
* :func:`sample_eigenvalues`: dispatch over catalogue laws.

Every sampler takes ``xp=``, an array namespace of the Python array API
standard (numpy by default; ``array_api_strict``, or cupy, torch and jax
through ``array-api-compat``): the random numbers are numpy's, drawn from the
``Generator`` and moved with ``asarray``, and the products, QR
factorizations and eigendecompositions run in the namespace, so one draw
gives the same eigenvalues (to rounding) on any library and device.  The
eigenvalues come back as an array of that namespace.

Comparisons: :func:`ks_distance` (Kolmogorov-Smirnov against the law's CDF)
and :func:`empirical_stieltjes` (``tr (z - A)^{-1}`` over draws, with a
standard error).  Tolerances by ``N``: eigenvalues of these ensembles are far
more rigid than i.i.d. samples (fluctuations ``O(log N / N)`` in the bulk), so
the i.i.d. 99% Kolmogorov bound ``1.63/sqrt(N)`` is a conservative tolerance
for one draw, and the Stieltjes transform at ``Im z ~ 1`` has an ``O(1/N)``
bias plus an ``O(1/N)`` seed-to-seed spread.

>>> import numpy as np, freeprob
>>> from freeprob.montecarlo.sampling import white_wishart, ks_distance
>>> eig = white_wishart(400, 800, np.random.default_rng(0))
>>> bool(ks_distance(eig, freeprob.MarchenkoPastur(0.5)) < 1.63 / np.sqrt(400))
True
"""

from __future__ import annotations

import functools
import inspect
import math

import numpy as np

from freeprob.errors import ParameterError
from freeprob.laws import (
    AR1,
    Affine,
    Discrete,
    FreeProduct,
    FreeSum,
    Identity,
    MarchenkoPastur,
    PowerLaw,
    Semicircle,
    WishartProduct,
)
from freeprob.montecarlo._xp import namespace_name, resolve, to_numpy

__all__ = ["register_sampler", "wigner", "white_wishart", "sample_eigenvalues", "ks_distance", "empirical_stieltjes",
           "ks_tolerance", "haar_orthogonal", "free_sum_eigenvalues", "free_product_eigenvalues",
           "population_wishart_eigenvalues", "wasserstein_distance", "atomic_spectrum", "population_spectrum",
           "wishart_product_eigenvalues", "gaussian_rows"]


def gaussian_rows(rng: np.random.Generator, p: int, variances) -> np.ndarray:
    """``P`` rows ``N(0, diag(variances))`` (a ``P x len(variances)`` array),
    or ``N(0, variances)`` entries for a scalar: standard normals scaled in
    place by ``sqrt(variances)``.  The values are those of
    ``rng.normal(size=(p, n)) * np.sqrt(variances)`` (numpy's ``normal`` is
    ``0 + 1 * standard_normal``), without the second ``P x N`` array.

    >>> import numpy as np
    >>> a = gaussian_rows(np.random.default_rng(0), 3, np.array([1.0, 4.0]))
    >>> bool(np.array_equal(a, np.random.default_rng(0).normal(size=(3, 2)) * np.sqrt([1.0, 4.0])))
    True
    """
    var = np.asarray(variances, dtype=float)
    out = rng.standard_normal((p, var.size) if var.ndim else (p,))
    out *= np.sqrt(var)
    return out


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng", type(rng).__name__, "a numpy.random.Generator (np.random.default_rng(seed))")


def _check_size(name, n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(name, n, "integers >= 1")
    return int(n)


def _ns(xp):
    """The namespace of ``xp`` (``None``: numpy), checked (see the module)."""
    return resolve(namespace_name(xp))


def _gram_eigenvalues(z, n, p, ns):
    """Eigenvalues of ``Z^T Z / P`` (``N x N``) for ``Z`` of size ``P x N``:
    the ``P x P`` Gram when ``P < N``, with the ``N - P`` zero eigenvalues."""
    if p >= n:
        return ns.linalg.eigvalsh(z.T @ z / p)
    nonzero = ns.linalg.eigvalsh(z @ z.T / p)
    return ns.sort(ns.concat([ns.zeros(n - p, dtype=ns.float64), nonzero]))


def wigner(n: int, rng: np.random.Generator, variance: float = 1.0, *, xp=None):
    """Eigenvalues of a GOE matrix scaled to converge to ``Semicircle(variance)``."""
    _check_rng(rng)
    n = _check_size("n", n)
    ns = _ns(xp)
    a = ns.asarray(rng.normal(0.0, 1.0, (n, n)))
    h = (a + a.T) * math.sqrt(float(variance) / (2.0 * n))
    return ns.linalg.eigvalsh(h)


def white_wishart(n: int, p: int, rng: np.random.Generator, scale: float = 1.0, *, xp=None):
    """Eigenvalues of ``scale * Z^T Z / P`` (``N x N``), ``Z`` of size ``P x N``."""
    _check_rng(rng)
    n, p = _check_size("n", n), _check_size("p", p)
    ns = _ns(xp)
    return _gram_eigenvalues(ns.asarray(rng.normal(0.0, np.sqrt(scale), (p, n))), n, p, ns)


@functools.singledispatch
def _sampler(law, n, rng, xp=np):
    raise ParameterError("law", repr(law), "a law with a registered sampler: " + ", ".join(
        sorted(t.__name__ for t in _sampler.registry if t is not object)))


def register_sampler(law_type: type):
    """Register ``fn(law, n, rng, xp=numpy) -> eigenvalues`` as the sampler of
    a law type (decorator).  The sampler must draw ``n`` eigenvalues of a
    random matrix whose spectrum converges to exactly that law, or raise.  A
    sampler without the ``xp`` keyword is run with numpy, and its eigenvalues
    are moved to the namespace asked for."""
    return _sampler.register(law_type)


def sample_eigenvalues(law, n: int, rng: np.random.Generator, *, xp=None):
    """Eigenvalues of an ``n x n`` random matrix whose spectrum converges to ``law``
    (dispatched over the registered samplers, :func:`register_sampler`), an
    array of the namespace ``xp`` (numpy by default).

    >>> import freeprob, numpy as np
    >>> ev = sample_eigenvalues(freeprob.Semicircle(1), 500, np.random.default_rng(0))
    >>> ev.shape, bool(ks_distance(ev, freeprob.Semicircle(1)) < 0.05)
    ((500,), True)
    """
    law._require_numeric("sample_eigenvalues")
    _check_rng(rng)
    ns = _ns(xp)
    fn = _sampler.dispatch(type(law))
    if ns is np:
        return fn(law, n, rng)
    if "xp" in inspect.signature(fn).parameters:
        return fn(law, n, rng, xp=ns)
    return ns.asarray(np.asarray(fn(law, n, rng), dtype=float))  # a numpy-only sampler (see register_sampler)


@register_sampler(Semicircle)
def _sample_semicircle(law, n, rng, xp=np):
    return wigner(n, rng, float(law.variance), xp=xp) + float(law.center)


@register_sampler(MarchenkoPastur)
def _sample_marchenko_pastur(law, n, rng, xp=np):
    p = max(1, int(round(n / float(law.ratio))))
    return white_wishart(n, p, rng, float(law.scale), xp=xp)


@register_sampler(Identity)
def _sample_point_mass(law, n, rng, xp=np):
    return xp.full(_check_size("n", n), float(law.scale), dtype=xp.float64)


@register_sampler(AR1)
def _sample_ar1(law, n, rng, xp=np):
    # the n x n Toeplitz correlation rho^|t - s| itself (deterministic): its
    # spectrum tends to the law by Szego's theorem
    return xp.linalg.eigvalsh(xp.asarray(law.toeplitz(_check_size("n", n))))


@register_sampler(Discrete)
@register_sampler(PowerLaw)
def _sample_atomic(law, n, rng, xp=np):
    return xp.asarray(atomic_spectrum(law, n))


@register_sampler(Affine)
def _sample_affine(law, n, rng, xp=np):
    return xp.sort(float(law.scale) * sample_eigenvalues(law.law, n, rng, xp=xp) + float(law.shift))


@register_sampler(FreeSum)
def _sample_free_sum(law, n, rng, xp=np):
    return free_sum_eigenvalues(law.a, law.b, n, rng, xp=xp)


@register_sampler(FreeProduct)
def _sample_free_product(law, n, rng, xp=np):
    return free_product_eigenvalues(law.a, law.b, n, rng, xp=xp)


@register_sampler(WishartProduct)
def _sample_wishart_product(law, n, rng, xp=np):
    return wishart_product_eigenvalues([float(c) for c in law.ratios], n, rng, float(law.scale), xp=xp)


def atomic_spectrum(law, n: int) -> np.ndarray:
    """The ``n`` eigenvalues of a population covariance with an atomic law:
    atom ``k`` repeated ``round(n p_k)`` times (largest-remainder rounding),
    a deterministic spectrum whose empirical law is within ``1/n`` of the law
    in Kolmogorov distance."""
    n = _check_size("n", n)
    vals, wts = law.spectrum.numeric_atoms()
    p = np.full(vals.size, 1.0 / vals.size) if wts is None else wts
    raw = p * n
    counts = np.floor(raw).astype(int)
    short = n - counts.sum()
    if short > 0:
        counts[np.argsort(raw - counts)[::-1][:short]] += 1
    return np.sort(np.repeat(vals, counts))


def population_spectrum(law, n: int) -> np.ndarray:
    """The ``n`` eigenvalues of the population covariance ``Sigma`` that a
    simulation uses for a population law.

    * A law of ``n`` equally weighted atoms: its atoms, exactly, in the
      law's order (the order of a target given in the eigenbasis).
    * Any other atomic law (weighted atoms, or another ``n``): atom ``k``
      repeated ``n p_k`` times, rounded by largest remainders
      (:func:`atomic_spectrum`); exact when every ``n p_k`` is an integer.
    * Any other law: its mid-quantiles ``F^{-1}((k - 1/2)/n)``, from the
      law's own cdf (atoms included as jumps), a deterministic spectrum whose
      empirical law is within ``1/n`` of the law in Kolmogorov distance.

    A law whose cdf cannot be computed raises; the population is never
    replaced by something else.

    >>> import freeprob
    >>> ev = population_spectrum(freeprob.MarchenkoPastur(4), 8)
    >>> int((ev == 0).sum()), bool(ev[-1] < (1 + 2) ** 2)   # the atom 3/4 at 0, the upper edge
    (6, True)
    """
    n = _check_size("n", n)
    law._require_numeric("population_spectrum")
    if law.finite_spectrum is not None:
        vals, wts = law.finite_spectrum.numeric_atoms()
        if vals.size == n and (wts is None or np.ptp(wts) == 0):
            return vals.astype(float)
        return atomic_spectrum(law, n)
    u = (np.arange(n) + 0.5) / n
    lo, hi = np.inf, -np.inf
    for a, b in law._ac_intervals():
        lo, hi = min(lo, a), max(hi, b)
    atoms = [float(sp_loc) for sp_loc in law._atom_points().real]
    if atoms:
        lo, hi = min([lo, *atoms]), max([hi, *atoms])
    if not np.isfinite(lo) or not np.isfinite(hi):
        raise ParameterError("law", repr(law), "a law with a bounded support for the population spectrum")
    grid = np.unique(np.concatenate([np.linspace(lo, hi, 100001), atoms]))
    cdf = np.maximum.accumulate(law.cdf_numeric(grid))
    if abs(cdf[-1] - 1) > 1e-4:
        raise ParameterError("law", repr(law), "a law whose cdf reaches 1 on its support",
                             f"cdf = {cdf[-1]:.6g} at the upper edge")
    cdf = cdf / cdf[-1]
    # the generalized inverse: the first grid point where the cdf reaches u
    idx = np.minimum(np.searchsorted(cdf, u, side="left"), grid.size - 1)
    left = np.maximum(idx - 1, 0)
    span = cdf[idx] - cdf[left]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(span > 0, (u - cdf[left]) / span, 1.0)
    # inside a jump (an atom) the quantile is the atom itself
    jump = span > 1e-3 / n
    return np.sort(np.where(jump & (idx > 0), grid[idx], grid[left] + frac * (grid[idx] - grid[left])))


def wishart_product_eigenvalues(ratios, n: int, rng: np.random.Generator, scale: float = 1.0, *, xp=None):
    """Eigenvalues of ``scale * W_L^{1/2} ... W_1 ... W_L^{1/2}`` for
    independent white Wisharts ``W_l = Z_l^T Z_l / P_l``, ``P_l = n/c_l``
    (asymptotically free): converges to ``WishartProduct(ratios, scale)`` [R2d]."""
    _check_rng(rng)
    n = _check_size("n", n)
    ns = _ns(xp)
    m = None
    for c in ratios:
        p = max(1, int(round(n / c)))
        zmat = ns.asarray(rng.normal(size=(p, n)))
        w = zmat.T @ zmat / p
        if m is None:
            m = w
            continue
        ev, vec = ns.linalg.eigh(w)
        root = (vec * ns.sqrt(ns.clip(ev, 0.0, None))) @ vec.T
        m = root @ m @ root
        m = (m + m.T) / 2
    return ns.linalg.eigvalsh(scale * m)


def ks_distance(eigenvalues, law) -> float:
    """Kolmogorov-Smirnov distance between the empirical spectral distribution
    and the law's CDF (atoms included).

    An eigenvalue within the backward error of a symmetric eigensolver,
    ``8 n eps max|lambda|``, of an atom of the law is counted at the atom: a
    rank-deficient draw returns its zero eigenvalues as ``+-1e-15``, and half
    of them would otherwise fall below the law's jump."""
    eig = np.sort(np.asarray(to_numpy(eigenvalues), dtype=float))
    n = eig.size
    atoms = np.real(law._atom_points()) if law.atoms() else np.zeros(0)
    if atoms.size and n:
        tol = 8 * n * np.finfo(float).eps * float(np.abs(eig).max())
        near = np.abs(eig[:, None] - atoms[None, :]) <= tol
        hit = near.any(axis=1)
        eig = np.sort(np.where(hit, atoms[np.argmax(near, axis=1)], eig))
    cdf = law.cdf_numeric(eig)
    # the supremum is reached at a jump: compare both sides of each step
    upper = np.arange(1, n + 1) / n - cdf
    lower = cdf - np.arange(0, n) / n
    left_cdf = cdf
    if law.atoms():
        # at an atom the law's CDF jumps too: use its left limit for `lower`
        left_cdf = law.cdf_numeric(np.nextafter(eig, -np.inf))
        lower = left_cdf - np.arange(0, n) / n
    return float(max(upper.max(), lower.max(), 0.0))


def ks_tolerance(n: int, level: float = 0.99) -> float:
    """The i.i.d. Kolmogorov critical value ``c(level)/sqrt(n)``, a
    conservative bound for rigid random-matrix eigenvalues (see module)."""
    c = {0.95: 1.36, 0.99: 1.63, 0.999: 1.95}[level]
    return c / np.sqrt(n)


def empirical_stieltjes(samples, z) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over draws of ``tr (z - A)^{-1}``.

    ``samples`` is a list of eigenvalue arrays (one per draw); ``z`` an array
    of complex points.  Returns ``(mean, standard_error)``.
    """
    z = np.atleast_1d(np.asarray(z, dtype=complex))
    vals = np.array([np.mean(1.0 / (z[:, None] - np.asarray(e)[None, :]), axis=1) for e in samples])
    mean = vals.mean(axis=0)
    se = vals.std(axis=0, ddof=1) / np.sqrt(len(samples)) if len(samples) > 1 else np.full(z.shape, np.inf)
    return mean, se


def haar_orthogonal(n: int, rng: np.random.Generator, *, xp=None):
    """A Haar-distributed ``n x n`` orthogonal matrix (QR of a Gaussian matrix
    with the signs of ``R``'s diagonal absorbed, Mezzadri 2007), an array of
    the namespace ``xp`` (numpy by default; the QR runs there)."""
    _check_rng(rng)
    n = _check_size("n", n)
    ns = _ns(xp)
    qm, r = ns.linalg.qr(ns.asarray(rng.normal(size=(n, n))))
    return qm * ns.sign(ns.linalg.diagonal(r))


def free_sum_eigenvalues(a, b, n: int, rng: np.random.Generator, *, xp=None):
    """Eigenvalues of ``A + Q B Q^T`` with ``A``, ``B`` diagonal draws of the
    laws ``a``, ``b`` and ``Q`` Haar: converges to ``free_add(a, b)``."""
    ns = _ns(xp)
    da = sample_eigenvalues(a, n, rng, xp=ns)
    db = sample_eigenvalues(b, n, rng, xp=ns)
    qm = haar_orthogonal(n, rng, xp=ns)
    m = (qm * db) @ qm.T
    m = (m + m.T) / 2 + da[:, None] * ns.eye(n, dtype=ns.float64)
    return ns.linalg.eigvalsh(m)


def free_product_eigenvalues(a, b, n: int, rng: np.random.Generator, *, xp=None):
    """Eigenvalues of ``A^{1/2} Q B Q^T A^{1/2}`` (``B >= 0``; ``A`` any law
    when ``A >= 0``, else of the similar matrix ``A Q B Q^T`` through
    ``B^{1/2} Q^T A Q B^{1/2}``): converges to ``free_mul(a, b)``."""
    ns = _ns(xp)
    da = sample_eigenvalues(a, n, rng, xp=ns)
    db = sample_eigenvalues(b, n, rng, xp=ns)
    if float(ns.min(db)) < -1e-12:
        raise ParameterError("b", "a law with negative eigenvalues", "positive laws for the free product")
    qm = haar_orthogonal(n, rng, xp=ns)
    sb = ns.sqrt(ns.clip(db, 0.0, None))
    m = (sb[:, None] * (qm.T * da) @ qm) * sb[None, :]
    return ns.linalg.eigvalsh((m + m.T) / 2)


def population_wishart_eigenvalues(sigma_eigenvalues, p: int, rng: np.random.Generator, *, xp=None):
    """Eigenvalues of ``Sigma^{1/2} W Sigma^{1/2}`` = the sample covariance
    ``X^T X / P`` of ``P`` Gaussian rows with covariance ``diag(sigma)``;
    converges to ``free_mul(Discrete(sigma), MarchenkoPastur(N/P))`` [R2a]."""
    _check_rng(rng)
    sig = np.asarray(to_numpy(sigma_eigenvalues), dtype=float)
    if np.any(sig < 0):
        raise ParameterError("sigma_eigenvalues", "negative entries", "a positive semidefinite spectrum")
    p = _check_size("p", p)
    ns = _ns(xp)
    return _gram_eigenvalues(ns.asarray(gaussian_rows(rng, p, sig)), sig.size, p, ns)


def wasserstein_distance(eigenvalues, law, *, nodes: int = 20001) -> float:
    """1-Wasserstein distance ``int |F_emp - F|`` between the empirical
    spectral distribution and the law (trapezoid rule on a fine grid
    covering both)."""
    eig = np.sort(np.asarray(eigenvalues, dtype=float))
    lo, hi = law._numeric_hull()
    lo, hi = min(eig[0], lo), max(eig[-1], hi)
    grid = np.linspace(lo - 1e-9, hi + 1e-9, nodes)
    emp = np.searchsorted(eig, grid, side="right") / eig.size
    return float(np.trapezoid(np.abs(emp - law.cdf_numeric(grid)), grid))
