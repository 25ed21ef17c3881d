"""The numerics of the contour route of :mod:`freeprob.models.spectral` [C18]:
the degrees of freedom ``D(kappa) = <x/(x + kappa)>`` of the population and
the target at complex ``kappa`` (compiled spectral means; head plus Laurent
tail beyond the atom limit of a power law; the law's Stieltjes transform
otherwise), the edges of the sample spectrum, and the Bernstein ellipses
and parabolas; ``kappa(-z)`` is solved at their nodes by
:mod:`freeprob.models._contour_nodes`."""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob.errors import (
    ConvergenceError,
    NoClosedFormError,
    ParameterError,
)
from freeprob.laws._far import far_values
from freeprob.laws._separation_bulk import resolution
from freeprob.models._contour_nodes import (
    EPS_FLOOR,
    certify_node,
    newton_loop,
    ray_ladder,
)
from freeprob.models._spectral_edges import (
    bulk_lower_edge,
    bulk_upper_edge,
    gram_lower_edge,
    population_floor,
    sample_lower_edge,
    sample_upper_edge,
)
from freeprob.numeric.compile import compile_expr

__all__ = ["sample_upper_edge", "sample_lower_edge", "sample_hull", "population_floor", "gram_lower_edge",
           "bulk_lower_edge",
           "bulk_upper_edge"]

_X = sp.Dummy("x")


class _Law:
    """``D(kappa) = df1 = <x/(x + kappa)>`` and ``D'(kappa)`` of the population,
    and ``D_w`` of the target, at complex ``kappa`` [C6]: compiled spectral
    means for atomic and power-law spectra (head plus Laurent tail beyond the
    atom limit), else the law's certified Stieltjes transform, ``D = 1 +
    kappa g(-kappa)`` [C6], with a central difference for ``D'`` (used by
    Newton only)."""

    def __init__(self, population, target_spec):
        from freeprob.numeric.spectrum import PowerLawSpectrum, SpectralMean

        k = sp.Symbol("k")
        self.population = population
        self.kernel = population._trace_rank() == np.inf    # the kernel limit N = oo [C16]
        spec = getattr(population, "spectrum", None) if population.finite_spectrum is not None or \
            population.catalogue_name == "powerlaw" else None
        if population._trace_rank() == np.inf and population.catalogue_name != "powerlaw":
            raise ParameterError("population", repr(population), "a normalized law or a power law with n = oo",
                                 "the kernel limit N = oo [C16] is evaluated for power laws")
        self._pop = compile_expr((SpectralMean(_X / (_X + k), _X, spec), SpectralMean(-_X / (_X + k) ** 2, _X, spec)),
                                 (k,), dtype=complex) if spec is not None else None
        # a power law beyond the atom limit: the Euler-Maclaurin tail of the
        # compile layer assumes a summand smooth in k, false for complex kappa
        # near the spectrum; there the head-plus-Laurent-tail sums instead
        self._huge = None
        if spec is not None and population.catalogue_name == "powerlaw":
            from freeprob.numeric.powersum import ATOM_LIMIT

            if float(population.n) > ATOM_LIMIT:
                self._huge = _PowerLawResolvent(float(population.alpha), float(population.n), 0.0,
                                                float(getattr(population, "scale", 1)))
        self._df = compile_expr((SpectralMean(_X / (_X + k), _X, spec), SpectralMean(_X**2 / (_X + k) ** 2, _X, spec)),
                                (k,), dtype=float) if spec is not None else None
        self._floor = population_floor(population)
        #: the relative accuracy of D at complex kappa: a law known by
        #: subordination only reaches real points off its support at a
        #: height of 1e-12 (1 + R), which leaves ~1e-11 there
        self.rtol = resolution(population) if spec is None else 1e-12
        #: the floor of a contour sum relative to the sum of its |terms|: the
        #: rounding of exact node values, or the law's own resolution (a sum
        #: that cancels to 0 over |terms| of 1e-6, for MP(2) x PowerLaw(1.5,
        #: 10^5), wandered at 1e-11 of them, where the routes to D meet, and
        #: never settled at 64 eps)
        self.sum_floor = self.rtol if self.rtol > 1e-12 else EPS_FLOOR
        self._tgt = self._huge_tgt = None
        self.wnorm2 = 1.0
        if target_spec is not None:
            self._tgt = compile_expr((SpectralMean(_X / (_X + k), _X, target_spec),), (k,), dtype=complex)
            if self._huge is not None and isinstance(target_spec, PowerLawSpectrum):
                self._huge_tgt = _PowerLawResolvent(float(target_spec.alpha), float(target_spec.n),
                                                    float(target_spec.beta), self._huge.c)
            self.wnorm2 = float(compile_expr(SpectralMean(sp.Integer(1) + 0 * _X, _X, target_spec), ())())

    def means(self, kappa):
        """``(D, D')`` at ``kappa`` (arrays)."""
        kappa = np.asarray(kappa, dtype=complex)
        if self._huge is not None:
            return self._huge(kappa)
        if self._pop is not None:
            d, dd = self._pop(kappa)
            return np.asarray(d, dtype=complex), np.asarray(dd, dtype=complex)
        # far from the spectrum the moment series (1 + kappa g(-kappa) cancels
        # to m_1/kappa there, and a difference of it is noise); at other real
        # kappa > 0 the law's certified df1, df2 with D' = -(df1 - df2)/kappa
        # [C6], the difference taken of the complements where df1 > 1/2;
        # complex points: g, and g' from the law's curve or subordination
        # slope where it has one, else a central difference (Newton's slope only)
        far, dv = far_values(self.population, "D", kappa)
        if far.all():
            return dv, far_values(self.population, "dD", kappa)[1]
        d, dd = np.empty(kappa.shape, dtype=complex), np.empty(kappa.shape, dtype=complex)
        if far.any():
            d[far], dd[far] = dv[far], far_values(self.population, "dD", kappa[far])[1]
        # points within 1e-8 of the positive axis too, to first order in Im
        # kappa (O(1e-16) relative): the routes through g lose digits there
        # (subordination converges to ~1e-11 next to the axis)
        real = ~far & (np.abs(kappa.imag) <= 1e-8 * np.abs(kappa)) & (kappa.real > 0)
        if real.any():
            law, k = self.population, kappa.real[real]
            d1, d2 = law.df1_numeric(k), law.df2_numeric(k)
            c1, c2 = law.df_complement_numeric(k, 1), law.df_complement_numeric(k, 2)
            slope = -np.where(d1 > 0.5, c2 - c1, d1 - d2) / k
            d[real], dd[real] = d1 + 1j * kappa.imag[real] * slope, slope
        rest = ~far & ~real
        if rest.any():
            k = kappa[rest]
            gv = self.population.stieltjes_numeric(-k)
            d[rest] = 1 + k * gv                  # [C6]
            try:
                # the law's exact g' (a curve, or the subordination slope):
                # D' = g(-k) - k g'(-k)
                dd[rest] = gv + self.population._dstieltjes_fallback(-k, gv, times_z=True)
            except NoClosedFormError:
                g = self.population.stieltjes_numeric
                dfun = lambda kk: 1 + kk * g(-kk)  # noqa: E731  [C6]
                st = 1e-6 * np.maximum(np.abs(k), 1e-3)
                dd[rest] = (dfun(k + st) - dfun(k - st)) / (2 * st)
        return d, dd

    #: the continuations from the far field, tried in turn (see _solve_kappa):
    #: rays in 10 steps, then in 40
    LADDERS = ((ray_ladder, 10), (ray_ladder, 40))

    #: no memo of solved nodes: a node's state depends on q (see _solve_kappa)
    solved = None

    # the solver protocol of the contour route (see _solve_kappa): the state
    # of a node is kappa itself here; a model with its own renormalized
    # ridges (random features) keeps another state and maps it to kappa
    @staticmethod
    def start(z):
        """The state far from the spectrum: ``kappa(-z) ~ -z`` [C18]."""
        return -z

    def newton(self, q, k, z, iters):
        """Newton on ``F(k) = k (1 - q D(k)) + z`` (``F' = 1 - q (D + k D') =
        1 - gamma``), each point until its step is below ``4 eps |k|`` (the
        others are not evaluated again); returns ``(k, converged)``."""
        def step(kk, idx):
            d, dd = self.means(kk)
            return (kk * (1 - q * d) + z[idx]) / (1 - q * (d + kk * dd))

        return newton_loop(step, k, iters)

    def finish(self, q, k, z):
        """``(kappa, D(kappa))`` at solved states, certified by the residual
        (against the size of its terms) and the Herglotz sign of ``g_hat(z)
        = (1 - D(kappa))/z`` [C4]."""
        d, _ = self.means(k)
        res = np.abs(k * (1 - q * d) + z)
        size = np.abs(k) + q * np.abs(k * d) + np.abs(z)
        # the kernel limit's D is an unnormalized sum [C16]: the Herglotz
        # function is then the Gram's, (1/P) tr (z - X X^T/P)^-1 = (1 - q D)/z
        certify_node(res, size, q * d if self.kernel else d, z, self.rtol)
        return k, d

    def lower_edge(self, q):
        """The lower edge of the bulk of the sample spectrum at ratio ``q``
        (atomic and power-law spectra; see :func:`sample_lower_edge`), 0 when
        the population reaches 0."""
        if self._floor <= 0:
            return 0.0
        k = sample_lower_edge(lambda kk: [float(self._df(np.array([kk]))[1][0])], q, self._floor)
        df1 = float(self._df(np.array([k]))[0][0])
        return max(0.0, float(-k * (1 - q * df1)))

    def bulk_edge(self, q):
        """The lower edge of the nonzero sample eigenvalues' bulk at ratio
        ``q``, also for an atomic population with an atom at 0 (mass ``m_0``):
        while ``q (1 - m_0) < 1`` the sample spectrum is that atom plus a bulk
        with a gap above 0, whose edge is :func:`sample_lower_edge` from the
        lowest nonzero atom (the atom at 0 adds nothing to ``df2``); for a
        law known by its Stieltjes transform, :func:`bulk_lower_edge` from the
        lowest nonzero point of its support.  0 where there is no such gap
        (or no atoms or support to find it from)."""
        if self._floor > 0:      # no atom at 0: a gap only with more samples than dimensions
            return self.lower_edge(q) if q < 1 else 0.0
        if self._df is None and not self.kernel:
            return _gap_edge(self.population, q)     # a law known by its Stieltjes transform
        atoms = getattr(getattr(self.population, "spectrum", None), "numeric_atoms", None)
        if self._df is None or self.kernel or atoms is None or self.population.finite_spectrum is None:
            return 0.0
        vals, wts = atoms()
        wts = np.full(vals.size, 1 / vals.size) if wts is None else np.asarray(wts, dtype=float) / np.sum(wts)
        m0 = float(np.sum(wts[vals == 0]))
        if not np.any(vals > 0) or q * (1 - m0) >= 1 or np.any(vals < 0):
            return 0.0
        k = sample_lower_edge(lambda kk: [float(self._df(np.array([kk]))[1][0])], q, float(np.min(vals[vals > 0])))
        df1 = float(self._df(np.array([k]))[0][0])
        return max(0.0, float(-k * (1 - q * df1)))

    def target(self, kappa, d_pop, state=None):
        """``D_w`` at ``kappa`` (the population's ``d_pop`` for the isotropic
        target); ``state`` is the solver's (unused here)."""
        if self._tgt is None:
            return d_pop
        if self._huge_tgt is not None:
            return self._huge_tgt(np.asarray(kappa, dtype=complex))[0]
        return np.asarray(self._tgt(np.asarray(kappa, dtype=complex))[0], dtype=complex)


class _PowerLawResolvent:
    """``(D, D')`` of ``eta_k = c k^{-alpha}``, ``k = 1..n`` (weights ``k^{-beta}/Z``),
    ``D = <x/(x + kappa)>``, at complex ``kappa`` for huge ``n``: the head ``k
    <= K`` summed directly and the tail as the Laurent series ``D_tail =
    sum_{j >= 1} (-1)^(j-1) c^j T_j kappa^{-j}`` with ``T_j = sum_{K < k <= n}
    k^{-beta - j alpha}`` (Hurwitz zeta differences, mpmath), convergent since
    ``c K^{-alpha} <= |kappa|/2`` (60 terms reach ``2^-60``).  ``K`` is chosen
    per call from the smallest ``|kappa|``."""

    TERMS = 60
    HEAD_LIMIT = 1 << 18

    def __init__(self, alpha, n, beta, scale):
        self.alpha, self.n, self.beta, self.c = alpha, n, beta, scale
        self._tails = {}
        # n = oo (the kernel limit [C16]): the unnormalized sum where the
        # weights do not sum (beta <= 1), as PowerLawSpectrum defines Z
        self.z = 1.0 if n == np.inf and beta <= 1 else float(self._power_sum(beta, 0, n))

    @staticmethod
    def _power_sum(s, lo, hi):
        """``sum_{lo < k <= hi} k^{-s}`` (mpmath, 30 digits; ``hi = oo`` for ``s > 1``)."""
        import mpmath

        with mpmath.workdps(30):
            if hi == np.inf:
                return mpmath.zeta(s, lo + 1)
            if abs(s - 1) < 1e-15:
                return mpmath.digamma(hi + 1) - mpmath.digamma(lo + 1)
            return mpmath.zeta(s, lo + 1) - mpmath.zeta(s, hi + 1)

    def _tail(self, head):
        """``T_j K^(j alpha)``, ``K = head``: the tail sums scaled to order one
        (in mpmath, so that neither factor leaves the float range)."""
        import mpmath

        if head not in self._tails:
            with mpmath.workdps(30):
                self._tails[head] = np.array([
                    float(self._power_sum(self.beta + j * self.alpha, head, self.n)
                          * mpmath.mpf(head) ** (j * self.alpha)) for j in range(1, self.TERMS + 1)])
        return self._tails[head]

    def __call__(self, kappa):
        kmin = max(float(np.min(np.abs(kappa))), 1e-300)
        need = (2 * self.c / kmin) ** (1 / self.alpha)
        head = int(2 ** np.ceil(np.log2(max(need, 2.0))))
        if head > self.HEAD_LIMIT or head >= self.n:
            raise ConvergenceError(f"|kappa| = {kmin:.3g} needs {head} exact terms of PowerLaw(n = {self.n:.3g}) "
                                   "at complex kappa (the contour reaches too close to the spectrum's bottom)")
        k = np.arange(1, head + 1, dtype=float)
        eta, w = self.c * k ** -self.alpha, k ** -self.beta
        flat = kappa.ravel()
        d, dd = np.empty(flat.size, dtype=complex), np.empty(flat.size, dtype=complex)
        for lo in range(0, flat.size, 256):
            blk = 1 / (eta[None, :] + flat[lo:lo + 256, None])
            d[lo:lo + 256], dd[lo:lo + 256] = (eta[None, :] * blk) @ w, -(eta[None, :] * blk * blk) @ w
        # sum_j (-1)^(j-1) T_j (c/kappa)^j = sum_j (-1)^(j-1) (T_j K^(j alpha)) x^j with
        # x = c K^-alpha/kappa, |x| <= 1/2: every factor of order one (kappa^-j
        # alone overflows for a small kappa)
        j = np.arange(1, self.TERMS + 1)
        t = self._tail(head)
        x = (self.c * float(head) ** -self.alpha / flat)[:, None]
        terms = -((-x) ** j[None, :])                       # (-1)^(j-1) x^j
        d += terms @ t
        dd += (terms * (-j)[None, :] / flat[:, None]) @ t
        return (d / self.z).reshape(kappa.shape), (dd / self.z).reshape(kappa.shape)


def _gap_edge(population, q):
    """The lower edge of the nonzero sample eigenvalues of a population known
    through its Stieltjes transform with an atom at 0 (mass ``m0`` from its
    ``atoms()``) while ``q (1 - m0) < 1`` (:func:`bulk_lower_edge`), else
    0."""
    try:
        m0 = sum(float(w) for x, w in population.atoms() if x == 0)
    except (TypeError, ValueError, AttributeError, NotImplementedError, ConvergenceError, NoClosedFormError):
        return 0.0          # no numeric atoms: no gap to go around
    if not (m0 > 0 and q * (1 - m0) < 1):
        return 0.0
    return bulk_lower_edge(population, q)


def sample_hull(model, q):
    """``(lower, upper)``: the lower edge of the bulk of the sample spectrum
    (its nonzero eigenvalues) and its upper edge, exact for atomic and
    power-law populations (the critical points of ``lam(kappa)``); else
    :func:`bulk_lower_edge` (a lower bound to ``~1e-10 x_min``) and
    :func:`bulk_upper_edge` (an upper bound to ``~1e-10`` of it).  With
    fewer samples than dimensions (``q > 1``) the nonzero eigenvalues keep a
    gap above 0, even for a population that reaches 0 (a hard edge, an atom
    at 0): the lower edge is then the Gram's, from ``df1`` and ``df2``
    (:func:`gram_lower_edge` for an atomic population; for one known by its
    Stieltjes transform :func:`bulk_lower_edge` gives it, 3x the old bound
    for ``free_add(Discrete([0.5, 2.0], [0.3, 0.7]), MP(0.5))`` at ``q =
    6``)."""
    pop = model.population
    x_max = float(pop._numeric_radius())
    law = _Law(pop, None)
    if law._pop is None:
        return bulk_lower_edge(pop, q), bulk_upper_edge(pop, q)
    lower = law.lower_edge(q)
    if lower <= 0 and law._df is not None:
        lower = gram_lower_edge(lambda k: law._df(k)[0], lambda k: law._df(k)[1], q, x_max)
    return lower, sample_upper_edge(law.means, q, x_max)


def _bounds(law, q):
    """``(lower, x_max)``: a lower bound of the sample spectrum's singular
    set (for ``q < 1`` the bulk's lower edge, exact for atomic spectra, else
    :func:`bulk_lower_edge`; 0 for ``q >= 1``, the atom at 0) and the
    population's top ``x_max`` (spectral radius)."""
    pop = law.population
    x_max = float(pop._numeric_radius())
    if q >= 1:
        return 0.0, x_max
    if law._df is not None:
        return law.lower_edge(q), x_max
    return bulk_lower_edge(pop, q), x_max


class _Parabola:
    r"""The parabola ``z = c - mu (1 + i u)^2`` opening to the right around
    ``[c, oo)``, counter-clockwise, for integrands carrying
    ``e^{-t(z + lam)}`` with ``t >= 1/mu``: that factor is at most
    ``e^{-t(c + lam)} e^{t mu}`` at the vertex and below ``e^{-45}`` of it
    past ``|u| = U``, ``U^2 = 45/(t mu) + 1`` (the truncation).  The map
    sends the half-line ``z > c`` to ``Im u = 1``, so an integrand singular
    only there (the sample spectrum, an atom at 0, a pole at ``c = -lam``)
    is analytic in the strip ``|Im u| < 1`` and the trapezoidal rule
    converges like ``e^{-2 pi/h}``, whatever ``t``.  Nodes ``u_j = -U + 2U
    j/N`` (nested under doubling; the end node carries a weight below
    ``e^{-45}``)."""

    closed = False

    def __init__(self, corner, mu, t_min):
        self.corner, self.mu = float(corner), float(mu)
        self.U = float(np.sqrt(45.0 / (t_min * mu) + 1.0))

    @property
    def key(self):
        return ("parabola", self.corner, self.mu, self.U)

    def nodes(self, count):
        h = 2 * self.U / count
        u = -self.U + h * np.arange(count)
        z = self.corner - self.mu * (1 + 1j * u) ** 2
        dz = -2j * self.mu * (1 + 1j * u)
        return z, dz * h / (2j * np.pi)


class _Ellipse:
    """The Bernstein ellipse ``z = c + a (rho e^{i theta} + e^{-i theta}/rho)/2`` around
    ``[lo, hi]``; nodes at ``theta_j = 2 pi j/N`` (closed under conjugation,
    nested under doubling: a doubled grid reuses every solved node)."""

    closed = True

    def __init__(self, lo, hi, rho):
        self.c, self.a, self.rho = 0.5 * (lo + hi), 0.5 * (hi - lo), rho

    def nodes(self, count):
        th = 2 * np.pi * np.arange(count) / count
        e = np.exp(1j * th)
        z = self.c + self.a * (self.rho * e + 1 / (self.rho * e)) / 2
        dz = 1j * self.a * (self.rho * e - 1 / (self.rho * e)) / 2     # dz/dtheta
        return z, dz * (2 * np.pi / count) / (2j * np.pi)               # weights of (1/2 pi i) oint

    def radius_of(self, point):
        """The ``rho`` of the ellipse through ``point`` (1 on the segment)."""
        u = (np.asarray(point, dtype=complex) - self.c) / self.a
        w = u + np.sqrt(u - 1) * np.sqrt(u + 1)
        return np.maximum(np.abs(w), 1 / np.maximum(np.abs(w), 1e-300))
