r"""Deterministic equivalence: the renormalized ridge, derived and solved.

For the empirical covariance ``Sigma_hat = Sigma^{1/2} W Sigma^{1/2}`` with
``W`` free of ``Sigma`` (white Wishart by default, ``q = N/P``), the
S-transform is multiplicative [R2a], ``S_{Sigma_hat} = S_Sigma S_W``.  With the
paper's ``S(df) = (1 - df)/(df lambda(df))`` [C10] (``lambda(df)`` the inverse
of ``df1``), at ``df = df1_{Sigma_hat}(lam)``:

.. math::
    \lambda = \lambda_{\hat\Sigma}(\mathrm{df}) = \frac{\lambda_\Sigma(\mathrm{df})}{S_W(\mathrm{df})}
    \quad\Longrightarrow\quad
    \kappa \equiv \lambda_\Sigma(\mathrm{df}) = \lambda\, S_W\big(\mathrm{df}^1_\Sigma(\kappa)\big)
    \qquad [R3],

so ``df1_{Sigma_hat}(lam) = df1_Sigma(kappa)``: the fluctuations of
``Sigma_hat`` are absorbed into the renormalized ridge.  The map
``kappa -> lam(kappa) = kappa / S_W(df1_Sigma(kappa))`` is explicit; for the
white Wishart ``lam(kappa) = kappa (1 - q df1(kappa))`` with
``d lam/d kappa = 1 - gamma``, ``gamma = q df2(kappa)`` [R4].

:meth:`DeterministicEquivalent.solve` inverts it numerically: ``F(kappa) =
kappa (1 - q df1(kappa)) - lam`` is convex and increasing beyond ``kappa_0``
(the largest zero of ``1 - q df1``, 0 when ``q rank <= 1``), so Newton's
method started at the upper bound ``kappa = lam + q m_1`` (where ``F >= 0``)
descends monotonically to the root without overshooting; every point is
bracketed, vectorized, and checked; ``lam = 0`` returns ``kappa_0`` exactly.
Failure raises :class:`~freeprob.errors.ConvergenceError`.

>>> import freeprob, numpy as np
>>> deq = freeprob.deterministic_equivalent(freeprob.Identity(1), ratio=freeprob.conventions.q)
>>> deq.kappa_equation()
Eq(kappa, lambda/(-q/(kappa + 1) + 1))
>>> kappa = freeprob.deterministic_equivalent(freeprob.Identity(1), ratio=2).solve(np.array([0.0, 1.0]))
>>> kappa.round(12)            # q - 1 at lam = 0; 1 + sqrt(2) at lam = 1 [R9]
array([1.        , 2.41421356])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from . import conventions as C
from ._cache import cached
from .errors import ConvergenceError, ParameterError
from .laws import MarchenkoPastur, SpectralLaw

__all__ = ["DeterministicEquivalent", "deterministic_equivalent"]


@dataclass(frozen=True)
class Step:
    """One recorded derivation step: a relation, why it holds, where from."""

    relation: sp.Basic
    justification: str
    reference: str


@dataclass(frozen=True)
class DeterministicEquivalent:
    """The renormalized-ridge equivalent of ``Sigma^{1/2} W Sigma^{1/2}``
    (see the module docstring); build it with :func:`deterministic_equivalent`."""

    population: SpectralLaw
    noise: SpectralLaw

    # ------------------------------------------------------------ symbolic
    def s_noise(self, df=C.df):
        """``S_W(df)`` in the paper's convention [C10]."""
        return self.noise.s_transform(df, convention="df")

    def ridge_of_kappa(self, kappa=C.kappa):
        r"""The explicit map ``lam(kappa) = kappa / S_W(df1_Sigma(kappa))``."""
        return kappa / self.s_noise(C.df).subs(C.df, self.population.df1(kappa))

    def kappa_equation(self, lam=C.lam, kappa=C.kappa) -> sp.Eq:
        """``kappa = lam S_W(df1_Sigma(kappa))`` [R3]."""
        return sp.Eq(kappa, lam * self.s_noise(C.df).subs(C.df, self.population.df1(kappa)))

    def steps(self) -> tuple:
        """The derivation of :meth:`kappa_equation`, step by step."""
        d = C.df
        lam_hat, lam_sig = sp.Function(r"\lambda_{\hat\Sigma}"), sp.Function(r"\lambda_{\Sigma}")
        s_hat, s_sig, s_w = sp.Function(r"S_{\hat\Sigma}"), sp.Function(r"S_{\Sigma}"), sp.Function("S_W")
        return (
            Step(sp.Eq(s_hat(d), s_sig(d) * s_w(d)), "S-transform multiplicativity (free W, Sigma)", "[R2a]"),
            Step(sp.Eq(s_hat(d), (1 - d) / (d * lam_hat(d))), "S(df) = (1 - df)/(df lambda(df))", "[C10]"),
            Step(sp.Eq(lam_hat(d), lam_sig(d) / s_w(d)), "divide the two forms of S_Sigma_hat", "[C10]"),
            Step(sp.Eq(C.kappa, C.lam * s_w(d)), "define kappa = lambda_Sigma(df) at df = df1_Sigma_hat(lam)",
                 "[R3]"),
            Step(sp.Eq(s_w(d), self.s_noise(d)), "S-transform of the noise law", "[R1]"),
            Step(self.kappa_equation(), "df = df1_Sigma(kappa)", "[R3]"),
        )

    def derivative_identity(self) -> sp.Expr:
        r"""``d lam/d kappa - (1 - gamma)`` with ``gamma = q df2(kappa)``
        (white Wishart noise); zero identically [R4]."""
        q = self._ratio()
        lam = self.ridge_of_kappa(C.kappa)
        gamma = q * self.population.df2(C.kappa)
        from ._spectrum import SpectralMean, absorb_means

        diff = sp.diff(lam, C.kappa) - (1 - gamma)
        if diff.atoms(SpectralMean):
            diff = absorb_means(sp.expand(diff))
            return sp.simplify(diff.summand) if hasattr(diff, "summand") else sp.simplify(diff)
        return sp.simplify(diff)

    def _ratio(self):
        if not isinstance(self.noise, MarchenkoPastur) or self.noise.scale != 1:
            raise ParameterError("noise", repr(self.noise), "MarchenkoPastur(ratio) (white Wishart)",
                                 "the numeric solver and [R4] are written for white Wishart noise")
        return self.noise.ratio

    # ------------------------------------------------------------- numerics
    def solve(self, lam, ratio=None, *, rtol: float = 1e-14, maxiter: int = 200):
        r"""``kappa`` at ridge(s) ``lam >= 0`` (arrays broadcast with ``ratio``).

        White Wishart noise; ``ratio`` (q = N/P) overrides the noise law's
        ratio and may be an array.  Returns ``kappa`` with the shape of the
        broadcast inputs."""
        q0 = self._ratio()
        lam = np.asarray(lam, dtype=float)
        if np.any(~np.isfinite(lam)) or np.any(lam < 0):
            raise ParameterError("lam", lam[~(np.isfinite(lam) & (lam >= 0))].ravel()[0], "[0, oo)")
        qv = np.asarray(float(q0) if ratio is None else ratio, dtype=float)
        if np.any(~np.isfinite(qv)) or np.any(qv <= 0):
            raise ParameterError("ratio", qv[~(np.isfinite(qv) & (qv > 0))].ravel()[0], "(0, oo)")
        self.population._require_numeric("solve")
        lam, qv = np.broadcast_arrays(lam, qv)
        shape = lam.shape
        lam, qv = lam.ravel().astype(float), qv.ravel().astype(float)
        pop = self.population
        rank = 1.0 - pop._mass_at_zero()
        m1 = float(sp.N(pop.moments(1)[0]))

        kappa0 = np.zeros(lam.size)
        over = qv * rank > 1 + 1e-15
        if over.any():
            # kappa_0 depends on q only: once per distinct ratio
            uq, inv = np.unique(qv[over], return_inverse=True)
            kappa0[over] = _kappa_zero(pop, uq, m1, rtol)[inv]
        out = kappa0.copy()
        pos = np.flatnonzero(lam > 0)
        if pos.size:
            out[pos] = _solve_positive(pop, lam[pos], qv[pos], kappa0[pos], m1, rtol, maxiter)
        return out.reshape(shape)


def deterministic_equivalent(population: SpectralLaw, noise: SpectralLaw | None = None, *,
                             ratio=None) -> DeterministicEquivalent:
    """The deterministic equivalent of ``Sigma^{1/2} W Sigma^{1/2}`` for a
    population law ``Sigma`` and a noise law ``W`` (default: white Wishart
    ``MarchenkoPastur(ratio)``, ``ratio = q = N/P``)."""
    if not isinstance(population, SpectralLaw):
        raise ParameterError("population", repr(population), "a freeprob spectral law")
    if noise is None:
        noise = MarchenkoPastur(C.q if ratio is None else ratio)
    elif ratio is not None:
        raise ParameterError("ratio", ratio, "unset when a noise law is given")
    return DeterministicEquivalent(population, noise)


def _lam_map(pop):
    """Compiled ``kappa, q -> (lam(kappa), lam'(kappa), lam(kappa)/kappa)``
    from the sympy map :meth:`DeterministicEquivalent.ridge_of_kappa` of the
    white Wishart (``lam'`` = ``1 - gamma`` [R4], ``lam/kappa = 1/S_W(df1)``),
    one fused pass over the spectrum.  The solver never re-types the map."""
    return _lam_map_cached(pop)


@cached(maxsize=64)
def _lam_map_cached(pop):
    from ._compile import compile_expr, needs_complex
    from ._spectrum import SpectralMean
    from ._stable import rationalize

    lam_k = DeterministicEquivalent(pop, MarchenkoPastur(C.q)).ridge_of_kappa(C.kappa)
    exprs = [lam_k, sp.diff(lam_k, C.kappa), lam_k / C.kappa]
    if lam_k.atoms(SpectralMean):
        # means left q-free (<x/(x+kappa)>, <x/(x+kappa)^2>, one fused pass with
        # 1/(x+kappa) shared); absorbing q into them would triple the work per
        # atom.  Where df2 = <x/(x+k)> - k<x/(x+k)^2> cancels (large kappa) the
        # slope 1 - q df2 is ~1, so the cancellation does not matter.
        pass  # compiled as derived
    else:
        exprs = [rationalize(e) if needs_complex(e) else sp.factor(sp.cancel(e)) for e in exprs]
    dtype = complex if any(needs_complex(e) for e in exprs) else float
    f = compile_expr(tuple(exprs), (C.kappa, C.q), dtype=dtype)

    def evaluate(k, q):
        return tuple(np.real(v) for v in f(k, q))

    return evaluate


def _kappa_zero(pop, q, m1, rtol):
    r"""``kappa_0``: the zero of ``g(kappa) = lam(kappa)/kappa = 1/S_W(df1)``
    (``q df1 = 1``) when ``q rank > 1`` (the ridgeless limit, [C11]).  ``g``
    increases from ``1 - q rank < 0`` (``kappa -> 0+``) and is ``>= 0`` at
    ``q m1`` (``kappa df1 <= m1``).  ``g`` need not be convex, so Newton steps
    (``g' = (lam' - g)/kappa``) are kept only inside the bracket, otherwise
    the bracket is bisected geometrically (kappa spans decades); converged
    when the bracket is narrower than ``rtol`` or ``g`` vanishes to rounding."""
    lam_map = _lam_map(pop)
    hi = q * m1 * (1 + 1e-12) + 1e-300
    lo = hi * 1e-300
    k = hi.copy()
    active = np.ones(q.size, dtype=bool)
    for _ in range(600):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            return k
        kk, qq = k[idx], q[idx]
        lam_k, dlam, g = lam_map(kk, qq)
        done = (np.abs(g) <= 4e-16 * qq) | (hi[idx] - lo[idx] <= rtol * hi[idx])
        lo[idx] = np.where(g < 0, kk, lo[idx])
        hi[idx] = np.where(g > 0, kk, hi[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = kk - g * kk / (dlam - g)
        inside = np.isfinite(newton) & (newton > lo[idx]) & (newton < hi[idx])
        k[idx] = np.where(done, kk, np.where(inside, newton, np.sqrt(lo[idx] * hi[idx])))
        active[idx[done]] = False
    raise ConvergenceError(f"kappa_0 (q df1 = 1) did not converge at {np.count_nonzero(active)} point(s)")


def _solve_positive(pop, lam, q, kappa0, m1, rtol, maxiter):
    r"""``kappa`` for ``lam > 0``.

    Many points share a few ratios ``q``: per ratio the explicit monotone map
    ``lam(kappa)`` is tabulated on a log grid of ``kappa`` (600 spectral sums,
    with its exact slope ``1 - gamma``), each point starts from the cubic
    Hermite interpolation of ``log kappa`` in ``log lam`` (error ~1e-9), and one
    fused Newton pass polishes it.  A point is accepted only if that Newton
    step is below ``0.1 sqrt(rtol) kappa`` (quadratic convergence then leaves
    an error below ``rtol``); every other point goes to the monotone descent."""
    lam_map = _lam_map(pop)
    k = np.full(lam.size, np.nan)
    for qv in np.unique(q):
        sel = np.flatnonzero(q == qv)
        if sel.size < 64:
            continue
        lo = max(float(np.min(np.maximum(lam[sel], kappa0[sel]))), 1e-300)
        hi = float(np.max(lam[sel] + qv * m1)) * 1.01
        grid = np.geomspace(lo, hi, 600)
        if kappa0[sel][0] > 0:
            grid = kappa0[sel][0] + np.geomspace(max(lo - kappa0[sel][0], 1e-300 + lo * 1e-12), hi, 600)
        lam_grid, slope, _ = lam_map(grid, np.full(grid.size, qv))
        ok = lam_grid > 0
        if np.count_nonzero(ok) < 2 or np.any(np.diff(lam_grid[ok]) <= 0):
            continue
        # cubic Hermite in (log lam, log kappa) with the exact slope
        # d log kappa / d log lam = (lam/kappa)/lam'  [R4]: error ~ h^4
        xs, ys = np.log(lam_grid[ok]), np.log(grid[ok])
        ms = (lam_grid[ok] / grid[ok]) / slope[ok]
        k[sel] = np.exp(_hermite(xs, ys, ms, np.log(lam[sel])))
    start = np.isfinite(k)
    if start.any():
        idx = np.flatnonzero(start)
        kk = np.maximum(k[idx], np.maximum(kappa0[idx], lam[idx]))
        lam_k, slope, _ = lam_map(kk, q[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = (lam_k - lam[idx]) / slope
        k_new = kk - step
        good = (slope > 0) & np.isfinite(step) & (np.abs(step) <= 0.1 * np.sqrt(rtol) * kk) \
            & (k_new >= np.maximum(kappa0[idx], lam[idx]))
        k[idx[good]] = k_new[good]
        k[idx[~good]] = np.nan
    rest = ~np.isfinite(k)
    if rest.any():
        k[rest] = _newton_descent(pop, lam[rest], q[rest], kappa0[rest], m1, rtol, maxiter)
    return k


def _hermite(xs, ys, ms, x):
    """Cubic Hermite interpolation of nodes ``(xs, ys)`` with slopes ``ms``
    at ``x`` (clamped to the node range)."""
    x = np.clip(x, xs[0], xs[-1])
    i = np.clip(np.searchsorted(xs, x) - 1, 0, xs.size - 2)
    h = xs[i + 1] - xs[i]
    t = (x - xs[i]) / h
    t2, t3 = t * t, t * t * t
    return ((2 * t3 - 3 * t2 + 1) * ys[i] + (t3 - 2 * t2 + t) * h * ms[i]
            + (-2 * t3 + 3 * t2) * ys[i + 1] + (t3 - t2) * h * ms[i + 1])


def _newton_descent(pop, lam, q, kappa0, m1, rtol, maxiter):
    """Monotone Newton descent on the convex increasing ``F(kappa) =
    lam(kappa) - lam`` from ``kappa = lam + q m1`` (``F >= 0``)."""
    lam_map = _lam_map(pop)
    k = np.maximum(lam + q * m1, kappa0) * (1 + 1e-12)
    active = np.ones(lam.size, dtype=bool)
    for _ in range(maxiter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            return k
        kk = k[idx]
        lam_k, slope, _ = lam_map(kk, q[idx])
        f = lam_k - lam[idx]
        if np.any(slope <= 0):  # slope = 1 - gamma > 0 on the physical branch [R4]
            bad = idx[slope <= 0][0]
            raise ConvergenceError(f"1 - gamma <= 0 at kappa = {k[bad]} (lam = {lam[bad]}, q = {q[bad]}): "
                                   "left the physical branch")
        k_new = np.maximum(kk - f / slope, np.maximum(kappa0[idx], lam[idx]))
        done = (np.abs(k_new - kk) <= rtol * kk) | (f <= 0)
        k[idx] = np.where(f <= 0, kk, k_new)
        active[idx[done]] = False
    raise ConvergenceError(f"kappa did not converge at {np.count_nonzero(active)} point(s) "
                           f"(e.g. lam = {lam[active][0]}, q = {q[active][0]}) after {maxiter} Newton steps")
