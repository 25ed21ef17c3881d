"""The one tolerance rule of the derivations' Monte Carlo checks.

A statistic sampled over independent draws passes when its mean lies within
four standard errors of the theory plus a stated finite-size allowance
(pitfall P10: deterministic equivalents have O(1/n) finite-size corrections,
and Haar-rotated free products have smaller ones).  The allowance is always
stated next to the check, so that a reader can judge it.
"""

import numpy as np


def agree(draws, theory, *, allowance, what, relative_to=None):
    """``(ok, residual, detail)`` for a derivation checker.

    ``draws`` has shape ``(n_draws, k)`` (one row per independent draw) and
    ``theory`` shape ``(k,)``.  The check passes when ``|mean - theory| <= 4 se
    + allowance`` for every entry, where ``se`` is the standard error over the
    draws.  ``residual`` is the worst ``|mean - theory|``, divided by
    ``relative_to`` when that is given."""
    draws = np.atleast_2d(np.asarray(draws, dtype=float))
    theory = np.asarray(theory, dtype=float).ravel()
    mean = draws.mean(axis=0)
    se = draws.std(axis=0, ddof=1) / np.sqrt(draws.shape[0])
    dev = np.abs(mean - theory)
    allowance = np.broadcast_to(np.asarray(allowance, dtype=float), dev.shape)
    ok = bool(np.all(dev <= 4 * se + allowance))
    scale = 1.0 if relative_to is None else float(relative_to)
    k = int(np.argmax(dev / (4 * se + allowance)))
    detail = (f"{what}: worst |mean - theory| {dev[k]:.2e} against 4 s.e. {4 * se[k]:.1e} + allowance "
              f"{allowance[k]:.1e} ({draws.shape[0]} draws)")
    return ok, float(np.max(dev) / scale), detail


def within(value, reference, tol, what):
    """``(ok, residual, detail)`` for a two-route numeric check: relative
    difference of two computations below ``tol``."""
    value, reference = np.asarray(value, dtype=float), np.asarray(reference, dtype=float)
    res = float(np.max(np.abs(value - reference) / np.maximum(np.abs(reference), 1e-300)))
    return res <= tol, res, f"{what}: relative difference {res:.1e} (tolerance {tol:.0e})"


def agree_stats(mean, se, theory, *, allowance, what):
    """Like :func:`agree` for a simulation that reports ``(mean, se)`` (the
    output of :func:`freeprob.simulate`)."""
    mean, se, theory = (np.asarray(v, dtype=float).ravel() for v in (mean, se, theory))
    dev = np.abs(mean - theory)
    allowance = np.broadcast_to(np.asarray(allowance, dtype=float), dev.shape)
    ok = bool(np.all(dev <= 4 * se + allowance))
    k = int(np.argmax(dev / (4 * se + allowance)))
    return ok, float(np.max(dev / np.maximum(np.abs(theory), 1e-300))), (
        f"{what}: theory {theory[k]:.4g}, simulation {mean[k]:.4g} +- {se[k]:.2g} (4 s.e. + allowance "
        f"{allowance[k]:.2g})")


def sample_covariance(sigma, p, rng):
    """``X^T X / P`` for ``P`` Gaussian rows with covariance ``diag(sigma)``
    (the sampler of the derivations' matrix-level checks)."""
    sigma = np.asarray(sigma, dtype=float)
    x = rng.normal(size=(p, sigma.size)) * np.sqrt(sigma)
    return x.T @ x / p


def ks_rigid_tolerance(n):
    """Kolmogorov-distance tolerance for ``n`` eigenvalues of an invariant
    random-matrix ensemble: ``log(n)/n``.  Eigenvalues are rigid (local laws),
    so the empirical CDF is within ``O(log n/n)`` of its limit, far below the
    i.i.d. rate ``1/sqrt(n)``.  Measured for the GOE at ``n = 2000`` and for a
    power-law sample covariance at ``n = 400``: ``KS n/log n = 0.50 +- 0.05``
    over ten seeds, so the tolerance is twice the typical distance, and it
    rejects a semicircle of variance 1.05 or an aspect ratio off by 10%."""
    return float(np.log(n) / n)


def mp_integral(q, fn, atom_value, lo=None, hi=None):
    """``int fn dmu_MP`` for the Marchenko-Pastur law of ratio ``q`` (30-digit
    mpmath quadrature of its density, typed here from the textbook form as
    an independent route, plus ``(1 - 1/q) atom_value`` for the atom at 0
    when ``q > 1``); ``fn`` takes and returns mpmath numbers.  ``lo``, ``hi``
    restrict the integral to ``[lo, hi]`` (the atom counts when ``lo <= 0``)."""
    import mpmath as mp

    with mp.workdps(30):
        q = mp.mpf(q)
        a, b = (1 - mp.sqrt(q)) ** 2, (1 + mp.sqrt(q)) ** 2
        dens = lambda x: mp.sqrt((b - x) * (x - a)) / (2 * mp.pi * q * x)  # noqa: E731
        left, right = max(a, mp.mpf(lo)) if lo is not None else a, min(b, mp.mpf(hi)) if hi is not None else b
        body = mp.quad(lambda x: dens(x) * fn(x), [left, right]) if left < right else mp.mpf(0)
        atom = (1 - 1 / q) * atom_value if q > 1 and (lo is None or lo <= 0) else 0
        return float(body + atom)
