r"""Spectral means over power-law spectra of any size, ``n`` up to infinity.

A :class:`~freeprob.numeric.spectrum.PowerLawSpectrum` ``(alpha, n, beta)``
has atoms ``eta_k = k^{-alpha}`` with weights ``k^{-beta}/Z`` [C12].  A
spectral mean of a summand ``f(x, args)`` is

.. math::
    \langle f\rangle = \frac{1}{Z}\sum_{k=1}^{n} F(k),\qquad F(k) = k^{-\beta} f(k^{-\alpha}),

with ``Z = sum_k k^{-beta}`` when that sum is finite and ``Z = 1`` when it
is not (``n = oo`` and ``beta <= 1``: the unnormalized kernel sums of the
infinite-dimensional limit, convention [C16]).

Up to :data:`ATOM_LIMIT` atoms the sum is taken atom by atom.  Beyond, and
for ``n = oo``, it is an exact head plus the midpoint Euler-Maclaurin
formula for the rest:

.. math::
    \sum_{k=a}^{b} F = \int_{a-1/2}^{b+1/2} F + C(b + \tfrac12) - C(a - \tfrac12),
    \qquad C = -\frac{F'}{24} + \frac{7 F'''}{5760},

with ``a = HEAD + 1``.  ``F``, ``F'`` and ``F'''`` are compiled from the
summand's sympy expression (never retyped).  ``F`` is a smooth function of
``log k``, so ``F^{(j)} = O(F/k^j)`` and the omitted term is
``O(F K^{-5})``: below ``1e-16`` of the sum at ``K = 2048``.

**Poles.**  A summand rational in ``x`` with a pole ``x = p`` (a complex
``z`` in ``1/(z - x)``, a complex ridge in ``x/(x + kappa)``) makes ``F``
singular at ``k_s = p^{-1/alpha}``.  Where ``k_s`` lies within
:data:`WINDOW` of the summed range, the ``WINDOW`` atoms on either side of
it are summed one by one, and the formula is applied to the gaps between
such windows, whose ends are at least ``WINDOW`` from ``k_s`` (remainder
``O(WINDOW^-5)``).  Next to a pole the float rounding of ``k^-alpha`` is
amplified by ``x/|z - x| ~ k_s/WINDOW``: the relative accuracy there is a
few ulps times ``max(1, k_s/WINDOW)``.

The integral is taken in ``t = log k`` by 24-point Gauss-Legendre panels at
most 1/2 wide, graded geometrically towards every pole closer than 1/2 to
the real ``t`` axis, so that no panel is wider than its distance to a
singularity.  For ``n = oo`` panels continue until ``F`` equals its leading
form ``c k^{-s}`` (from the summand's leading term at ``x -> 0``) to
``1e-15``, and the rest of the tail is ``c T^{1-s}/(s - 1)`` in closed form.
A sum that diverges (``s <= 1``) raises :class:`~freeprob.errors.ParameterError`.

>>> import numpy as np, sympy as sp
>>> from freeprob.numeric.spectrum import PowerLawSpectrum, SpectralMean
>>> from freeprob.numeric.compile import compile_expr
>>> x, k = sp.Dummy("x"), sp.Symbol("kappa", positive=True)
>>> big = compile_expr(SpectralMean(x / (x + k), x, PowerLawSpectrum(1.5, 10**9)), (k,))
>>> float(big(1e-3)) * 10**9 > 0      # 10^9 atoms, summed in milliseconds
True
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from freeprob.errors import ConvergenceError, NumericalError, ParameterError

__all__ = ["ATOM_LIMIT", "HEAD", "WINDOW", "PowerLawSums", "normalization"]

#: atom-by-atom summation up to this many atoms; Euler-Maclaurin beyond
#: (the two agree to 4e-15 relative at 10^5 and 3 x 10^6 atoms, tested)
ATOM_LIMIT = 10**5
#: exactly summed head of the Euler-Maclaurin route
HEAD = 2048
#: atoms summed one by one on either side of a pole near the summed range
WINDOW = 1024
#: terms of the x -> 0 expansion of the summand used for the n = oo tail
_TAIL_TERMS = 3
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)


def normalization(alpha, n, beta) -> float:
    """``Z = sum_{k=1}^n k^{-beta}``, or 1 when the sum diverges (the kernel
    convention [C16]); exact through the Hurwitz zeta function.

    >>> normalization(1.5, 3, 0), round(normalization(1.5, float("inf"), 2), 12)
    (3.0, 1.644934066848)
    """
    beta = float(beta)
    infinite = n in (np.inf, sp.oo) or (isinstance(n, sp.Basic) and n.is_infinite)
    if beta == 0 and not infinite:
        return float(int(n))
    if infinite:
        return float(mpmath.zeta(beta)) if beta > 1 else 1.0
    with mpmath.workdps(30):
        if beta == 1:
            return float(mpmath.harmonic(int(n)))
        # zeta(s) - zeta(s, n + 1) = sum_{k <= n} k^-s for every s != 1
        return float(mpmath.zeta(beta) - mpmath.zeta(beta, int(n) + 1))


class PowerLawSums:
    """The compiled pieces of the Euler-Maclaurin route for a group of
    summands over one power-law spectrum (built once per compiled
    expression)."""

    def __init__(self, summands, x, args, spectrum, modules, printer, prepare=lambda e: e):
        alpha, beta, n = spectrum.alpha, spectrum.beta, spectrum.n
        self.alpha, self.beta = float(alpha), float(beta)
        self.infinite = n is sp.oo
        self.n = np.inf if self.infinite else float(int(n))
        self.z = normalization(self.alpha, self.n, self.beta)
        k = sp.Dummy("k", positive=True)
        fs = [k ** (-beta) * s.subs(x, k ** (-alpha)) for s in summands]
        # the first and third derivatives in k by the chain rule on the
        # template k^-beta g(k^-alpha) (derivatives of the summand in x are
        # cheap for sympy; in k they are not)
        d1, d3 = _chain_rule_templates(alpha, beta)
        rows = []
        for s_, f in zip(summands, fs):
            gs = [s_]
            for _ in range(3):
                gs.append(sp.diff(gs[-1], x))
            at = {g: gi.subs(x, k ** (-alpha)) for g, gi in zip(_G, gs)}
            rows.append([f, d1.subs(_K, k).subs(at), d3.subs(_K, k).subs(at)])
        self.count = len(fs)
        # ``prepare``: the compiler's overflow-safe pairing of powers, applied
        # after the derivatives (which create the powers)
        self.f1 = sp.lambdify([k] + list(args), [prepare(e) for e in fs], modules=modules, cse=True, printer=printer)
        self.f3 = sp.lambdify([k] + list(args), [prepare(e) for r in rows for e in r], modules=modules, cse=True,
                              printer=printer)
        # the summands' poles x = p(args): where the sum needs its windows
        pole_exprs = _pole_positions(summands, x)
        self.poles = None if pole_exprs is None else (
            sp.lambdify(list(args), list(pole_exprs), modules=modules, printer=printer), len(pole_exprs))
        self.lead = None
        if self.infinite:
            coeffs, powers = [], []
            for s in summands:
                cs, ps = _expansion(sp.sympify(s), x, _TAIL_TERMS)
                decay = float(beta + alpha * ps[0])
                if decay <= 1:
                    raise ParameterError("alpha", alpha, f"values making the n = oo sum of {s} converge",
                                         f"its terms decay as k^-{decay:g} (pitfall P13)")
                coeffs.append(cs)
                powers.append([float(beta + alpha * p) for p in ps])
            self.lead = (sp.lambdify(list(args), coeffs, modules=modules, printer=printer), powers)

    def means(self, flat_args, npts, dtype):
        """The means of every summand at every point (arrays of length ``npts``).

        Overflow is not trapped here: a solver probe at a renormalized ridge
        near the float range may overflow, and the compiled expression that
        uses the means certifies its own output (NaN or inf from finite
        arguments raises there)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._means(flat_args, npts, dtype)

    def _means(self, flat_args, npts, dtype):
        kmax = int(min(self.n, HEAD))
        ks = np.arange(1, kmax + 1, dtype=float)
        c = self.count
        res = np.result_type(dtype, float)
        outs = [np.zeros(npts, dtype=res) for _ in range(c)]
        block = max(1, (1 << 16) // kmax)
        for p0 in range(0, npts, block):
            p1 = min(npts, p0 + block)
            cols = [a[p0:p1, None] for a in flat_args]
            vals = self.f1(ks[None, :], *cols)
            for j in range(c):
                outs[j][p0:p1] += np.broadcast_to(vals[j], (p1 - p0, kmax)).sum(axis=1)
        if self.n > kmax:
            # the rest, k = kmax + 1 .. n: the midpoint Euler-Maclaurin formula
            # over the gaps between windows of atoms summed one by one
            wa, wb, centre, theta = self._windows(self._pole_values(flat_args, npts, res), kmax + 1.0)
            self._add_windows(outs, wa, wb, flat_args)
            t0 = np.log(kmax + 0.5)
            if self.infinite:
                t_end, tails = self._tail_start(t0, flat_args, npts, res)
                if np.any((wb >= wa) & (wb + 0.5 > np.exp(t_end)[:, None])):
                    raise ConvergenceError("a pole of the summand lies beyond the start of the n = oo tail")
            else:
                t_end, tails = np.full(npts, np.log(self.n + 0.5)), [0.0] * c
            tail = self._integral(t0, t_end, wa, wb, centre, theta, flat_args, npts, res)
            # sum_{k=a}^{b} F = int_{a-1/2}^{b+1/2} F + C(b + 1/2) - C(a - 1/2)
            corr = [-v for v in self._correction(np.full(npts, kmax + 0.5), flat_args)]
            if not self.infinite:
                corr = [u + v for u, v in zip(corr, self._correction(np.full(npts, self.n + 0.5), flat_args))]
            for j in range(wa.shape[1]):
                on = wb[:, j] >= wa[:, j]
                if on.any():
                    at_a = self._correction(np.where(on, wa[:, j] - 0.5, kmax + 0.5), flat_args)
                    at_b = self._correction(np.where(on, wb[:, j] + 0.5, kmax + 0.5), flat_args)
                    corr = [v + np.where(on, a - b, 0) for v, a, b in zip(corr, at_a, at_b)]
            for j in range(c):
                outs[j] += tail[j] + tails[j] + corr[j]
        return [o / self.z for o in outs]

    def _correction(self, k, flat_args):
        """``C(k) = -F'(k)/24 + 7 F'''(k)/5760`` of every summand at the
        points ``k`` (one per argument point): the end terms of the midpoint
        Euler-Maclaurin formula, ``B_2(1/2)/2! = -1/12``,
        ``B_4(1/2)/4! = 7/5760``; the next is ``O(F k^-5)``."""
        vals = self.f3(k, *flat_args)
        npts = k.shape[0]
        return [-np.broadcast_to(vals[3 * j + 1], (npts,)) / 24.0
                + 7.0 * np.broadcast_to(vals[3 * j + 2], (npts,)) / 5760.0 for j in range(self.count)]

    def _pole_values(self, flat_args, npts, res):
        """The poles ``x = p`` of the summands at every point, ``(npts, m)``."""
        if self.poles is None:
            if res.kind == "c":
                raise NumericalError("a power-law sum beyond the atom limit at complex arguments needs the "
                                     "singularities of its summand: a summand rational in x with factors of "
                                     "degree <= 2")
            return np.zeros((npts, 0), dtype=complex)
        if not self.poles[1]:
            return np.zeros((npts, 0), dtype=complex)
        vals = self.poles[0](*flat_args)
        return np.stack([np.broadcast_to(np.asarray(v, dtype=complex), (npts,)) for v in vals], axis=1)

    def _windows(self, poles, first):
        """Per point and pole: the atoms ``wa..wb`` summed one by one (none
        when ``wa > wb``), the pole's position ``centre`` on the real axis of
        ``t = log k`` and its distance ``theta`` from it.

        ``F`` is singular where ``k^-alpha = p``: at ``t = centre +- i theta``
        with ``centre = -log|p|/alpha``, ``theta = |arg p|/alpha``.  Where that
        point lies within ``WINDOW`` (in ``k``) of the summed range, the
        ``WINDOW`` atoms on either side of it are summed one by one; beyond
        them the Euler-Maclaurin remainder is ``O(F WINDOW^-5)``.  Windows
        that overlap are made adjacent (each keeps at most
        ``2 WINDOW + 1`` atoms)."""
        npts, m = poles.shape
        ok = np.isfinite(poles) & (poles != 0)
        absp = np.where(ok, np.abs(poles), 1.0)
        theta = np.where(ok, np.abs(np.angle(poles)) / self.alpha, np.inf)
        centre = -np.log(absp) / self.alpha
        kc = np.exp(np.clip(centre, -700.0, 700.0))
        re_k = kc * np.cos(np.minimum(theta, np.pi / 2))
        dist = kc * np.sin(np.minimum(theta, np.pi / 2))
        need = ok & (theta < np.pi / 2) & (dist < WINDOW) & (re_k + WINDOW >= first) & (re_k - WINDOW <= self.n)
        mid = np.round(np.where(need, re_k, 0.0))
        wa = np.where(need, np.maximum(mid - WINDOW, first), np.inf)
        wb = np.where(need, np.minimum(mid + WINDOW, self.n), -np.inf)
        order = np.argsort(wa, axis=1, kind="stable")
        wa, wb = np.take_along_axis(wa, order, 1), np.take_along_axis(wb, order, 1)
        centre, theta = np.take_along_axis(centre, order, 1), np.take_along_axis(theta, order, 1)
        for j in range(1, m):
            on = wb[:, j] >= wa[:, j]
            wa[:, j] = np.where(on, np.maximum(wa[:, j], wb[:, j - 1] + 1), wa[:, j])
        return wa, wb, centre, theta

    def _add_windows(self, outs, wa, wb, flat_args):
        span = np.arange(2 * WINDOW + 1, dtype=float)
        for j in range(wa.shape[1]):
            rows = np.flatnonzero(wb[:, j] >= wa[:, j])
            if rows.size == 0:
                continue
            k = wa[rows, j][:, None] + span[None, :]
            keep = k <= wb[rows, j][:, None]
            vals = self.f1(np.where(keep, k, wa[rows, j][:, None]), *[a[rows, None] for a in flat_args])
            for i in range(self.count):
                v = np.broadcast_to(vals[i], k.shape)
                outs[i][rows] += np.where(keep, v, 0).sum(axis=1)

    def _integral(self, t0, t_end, wa, wb, centre, theta, flat_args, npts, res):
        """``int F dk`` over ``[e^t0, e^t_end]`` outside the windows, for
        every summand, by 24-point Gauss-Legendre panels in ``t = log k``.

        Panels are at most 1/2 wide and are graded geometrically (ratio 2)
        towards every pole closer than 1/2 to the real ``t`` axis, so that no
        panel is wider than its distance to a singularity of ``F``: the rule
        converges at least as ``(1 + sqrt 2)^-48``.  Window edges are panel
        ends, and panels inside a window are skipped."""
        c = self.count
        panels = max(1, int(np.ceil(np.max(t_end - t0) / 0.5)))
        cuts = [t0 + (t_end - t0)[:, None] * (np.arange(panels + 1)[None, :] / panels)]
        on = wb >= wa
        if on.any():
            cuts += [np.where(on, np.log(np.where(on, wa, 1.0) - 0.5), t0),
                     np.where(on, np.log(np.where(on, wb, 1.0) + 0.5), t0)]
        for j in range(theta.shape[1]):
            grade = theta[:, j] < 0.5
            if not grade.any():
                continue
            # grade down to the pole's distance from the integrated set
            lo_edge = np.abs(centre[:, j] - np.log(np.where(on[:, j], wa[:, j], 1.0) - 0.5))
            hi_edge = np.abs(np.log(np.where(on[:, j], wb[:, j], 1.0) + 0.5) - centre[:, j])
            base = np.maximum(theta[:, j], np.where(on[:, j], np.minimum(lo_edge, hi_edge), 0.0))
            base = np.maximum(base, 1e-19)
            levels = int(np.max(np.where(grade, np.ceil(np.log2(0.5 / base)) + 2, 1)))
            offs = 0.5 * 2.0 ** -np.arange(levels, dtype=float)
            use = grade[:, None] & (offs[None, :] >= 0.25 * base[:, None])
            for sign in (-1.0, 1.0):
                cuts.append(np.where(use, centre[:, j, None] + sign * offs[None, :], t0))
        cuts = np.sort(np.clip(np.concatenate(cuts, axis=1), t0, t_end[:, None]), axis=1)
        out = [np.zeros(npts, dtype=res) for _ in range(c)]
        for m in range(cuts.shape[1] - 1):
            lo, width = cuts[:, m], cuts[:, m + 1] - cuts[:, m]
            live = width > 0
            km = np.exp(lo + 0.5 * width)
            for j in range(wa.shape[1]):
                live &= ~(on[:, j] & (km > wa[:, j] - 0.5) & (km < wb[:, j] + 0.5))
            rows = np.flatnonzero(live)
            if rows.size == 0:
                continue
            kn = np.exp(lo[rows, None] + width[rows, None] * (0.5 * (_GL_NODES[None, :] + 1)))
            vals = self.f1(kn, *[a[rows, None] for a in flat_args])
            for j in range(c):
                fx = np.broadcast_to(vals[j], kn.shape) * kn
                out[j][rows] += 0.5 * width[rows] * (fx @ _GL_WEIGHTS)
        return out

    def _tail_start(self, t0, flat_args, npts, res):
        """For ``n = oo``: per point, ``log T`` on the grid ``k = e^t0 2^j``
        from which ``F`` equals its expansion ``sum_i c_i k^-s_i`` to 1e-15
        (certified at every later grid point), and the closed-form rest
        ``sum_i c_i T^(1-s_i)/(s_i - 1)``."""
        c = self.count
        # the grid stops at x = k^-alpha = 1e-75, where x^4 is still a normal
        # float (summands are evaluated in floating point)
        jmax = int((75 * np.log(10) / self.alpha - t0) / np.log(2))
        if jmax < 1:
            raise ConvergenceError("the n = oo power-law tail starts beyond the float range")
        grid = t0 + np.log(2) * np.arange(jmax + 1)
        kg = np.exp(grid)[None, :]
        fv = self.f1(kg, *[a[:, None] for a in flat_args])
        coeffs = self.lead[0](*flat_args)
        bad = np.zeros((npts, grid.size), dtype=bool)
        for j in range(c):
            series = sum(np.broadcast_to(cj, (npts,))[:, None] * kg ** (-sj)
                         for cj, sj in zip(coeffs[j], self.lead[1][j]))
            f = np.broadcast_to(fv[j], (npts, grid.size))
            # the summand and its expansion agree to 1e-15 plus the rounding of
            # their float exponents (k^-beta k^-(alpha p) against k^-(beta + alpha p):
            # a few ulps of the exponent, amplified by log k; 5e-14 at k = 1e49
            # for beta = 1.6)
            slack = 8 * np.finfo(float).eps * max(self.lead[1][j]) * grid[None, :]
            bad |= ~(np.abs(f - series) <= (1e-15 + slack) * np.abs(f) + 1e-300)
        if np.any(bad[:, -1]):
            i = int(np.flatnonzero(bad[:, -1])[0])
            raise ConvergenceError(f"the n = oo power-law tail did not reach its expansion by k = {kg[0, -1]:.3g} "
                                   f"at point {i}")
        last_bad = np.where(bad.any(axis=1), grid.size - 1 - np.argmax(bad[:, ::-1], axis=1), -1)
        t_end = grid[last_bad + 1]
        big_t = np.exp(t_end)
        tails = []
        for j in range(c):
            tail = np.zeros(npts, dtype=res)
            for cj, sj in zip(coeffs[j], self.lead[1][j]):
                tail = tail + np.broadcast_to(cj, (npts,)) * big_t ** (1 - sj) / (sj - 1)
            tails.append(tail)
        return t_end, tails

    def mp_means(self, f, pt, count):
        """The means at one point in mpmath: the first 100 terms summed
        exactly, the rest by ``mpmath.sumem`` (Euler-Maclaurin with
        mpmath's own derivatives and error control), an independent route."""
        alpha, beta = mpmath.mpf(self.alpha), mpmath.mpf(self.beta)
        top = mpmath.inf if self.infinite else int(self.n)
        z = mpmath.mpf(self.z) if self.beta != 0 or self.infinite else mpmath.mpf(int(self.n))
        out = []
        for j in range(count):
            term = (lambda k, j=j: k ** (-beta) * f(k ** (-alpha), *pt)[j])
            head = mpmath.fsum(term(mpmath.mpf(k)) for k in range(1, 101))
            out.append((head + mpmath.sumem(term, [101, top])) / z)
        return out


_K = sp.Dummy("k", positive=True)
_G = sp.symbols("g0:4", cls=sp.Dummy)


def _chain_rule_templates(alpha, beta):
    """The first and third ``k``-derivatives of ``k^-beta g(k^-alpha)`` in
    the symbols ``g0..g3`` (``g`` and its x-derivatives at ``x = k^-alpha``)."""
    g = sp.Function("g")
    t = _K ** (-beta) * g(_K ** (-alpha))
    out = []
    for order in (1, 3):
        e = sp.diff(t, _K, order).doit()
        repl = {}
        for d in e.atoms(sp.Subs):
            repl[d] = _G[d.expr.derivative_count] if isinstance(d.expr, sp.Derivative) else _G[0]
        e = e.xreplace(repl)
        for d in e.atoms(sp.Derivative):
            e = e.xreplace({d: _G[d.derivative_count]})
        out.append(e.xreplace({g(_K ** (-alpha)): _G[0]}))
    return tuple(out)


def _pole_positions(summands, x):
    """The poles ``x = p`` of the summands (sympy expressions in the other
    symbols), or None when a summand is not rational in ``x`` or has a
    denominator factor of degree above 2.

    >>> x, k = sp.symbols("x k")
    >>> _pole_positions([x / (x + k), 1 / (x**2 + 1)], x)
    (-I, I, -k)
    """
    out = set()
    for f in summands:
        num, den = sp.fraction(sp.together(sp.sympify(f)))
        if not (num.is_polynomial(x) and den.is_polynomial(x)):
            return None
        if not den.has(x):
            continue
        for fac, _ in sp.factor_list(den, x)[1]:
            if not fac.has(x):
                continue
            if sp.degree(fac, x) > 2:
                return None
            out.update(sp.solve(fac, x))
    return tuple(sorted(out, key=sp.default_sort_key))


def _expansion(f, x, terms):
    """The first ``terms`` terms ``c_i x^{p_i}`` of ``f`` at ``x -> 0+``
    (coefficients may depend on other symbols): ``([c_i], [p_i])``."""
    cs, ps = [], []
    rest = f
    for _ in range(terms):
        if rest == 0:
            break
        lt = rest.as_leading_term(x)
        c, p = lt.as_coeff_exponent(x)
        if c.has(x) or not p.is_number:
            raise ParameterError("summand", f, "a summand with a power-series expansion at x -> 0",
                                 "needed for the n = oo tail")
        cs.append(c)
        ps.append(p)
        rest = sp.cancel(sp.together(rest - c * x**p))
    return cs, ps
