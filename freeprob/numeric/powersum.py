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
for ``n = oo``, it is exact head plus Euler-Maclaurin tail:

.. math::
    \sum_{k=1}^{n} F = \sum_{k\le K} F(k) + \int_{K+1}^{n} F
      + \frac{F(K+1) + F(n)}{2} + \frac{F'(n) - F'(K+1)}{12} - \frac{F'''(n) - F'''(K+1)}{720},

``K = HEAD``.  ``F``, ``F'`` and ``F'''`` are compiled from the summand's
sympy expression (never retyped).  ``F`` is a smooth function of ``log k``,
so ``F^{(j)} = O(F/k^j)`` and the omitted ``B_6`` term is ``O(F K^{-5})``:
below ``1e-16`` of the sum at ``K = 4096``.  The integral is taken in
``t = log k`` by 24-point Gauss-Legendre panels of width 1/2; for ``n = oo``
panels continue until ``F`` equals its leading form ``c k^{-s}`` (from the
summand's leading term at ``x -> 0``) to ``1e-15``, and the rest of the tail
is ``c T^{1-s}/(s - 1)`` in closed form.  A sum that diverges (``s <= 1``)
raises :class:`~freeprob.errors.ParameterError`.

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

from freeprob.errors import ConvergenceError, ParameterError

__all__ = ["ATOM_LIMIT", "HEAD", "PowerLawSums", "normalization"]

#: atom-by-atom summation up to this many atoms; Euler-Maclaurin beyond
#: (the two agree to 4e-15 relative at 10^5 and 3 x 10^6 atoms, tested)
ATOM_LIMIT = 10**5
#: exactly summed head of the Euler-Maclaurin route
HEAD = 2048
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
        with np.errstate(over="ignore", invalid="ignore"):
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
            k0 = kmax + 1.0
            at0 = self._at(k0, flat_args, npts)
            tail = self._integral(np.log(k0), flat_args, npts, res)
            if self.infinite:
                atn = [np.zeros(npts)] * (3 * c)
            else:
                atn = self._at(self.n, flat_args, npts)
            for j in range(c):
                f0, d1, d3 = at0[3 * j:3 * j + 3]
                fn, e1, e3 = atn[3 * j:3 * j + 3]
                outs[j] += tail[j] + 0.5 * (f0 + fn) + (e1 - d1) / 12.0 - (e3 - d3) / 720.0
        return [o / self.z for o in outs]

    def _at(self, k, flat_args, npts):
        vals = self.f3(np.full(npts, k), *flat_args)
        return [np.broadcast_to(v, (npts,)) for v in vals]

    def _integral(self, t0, flat_args, npts, res):
        """``int_{e^t0}^{n} F_j`` for every summand, by Gauss-Legendre panels
        of width <= 1/2 in ``log k`` (per point: the end is ``log n``, or for
        ``n = oo`` the point ``T`` beyond which ``F`` is its expansion, with
        the rest of the tail added in closed form)."""
        c = self.count
        cols = [a[:, None] for a in flat_args]
        if self.infinite:
            t_end, tails = self._tail_start(t0, flat_args, npts, res)
        else:
            t_end, tails = np.full(npts, np.log(self.n)), [0.0] * c
        panels = max(1, int(np.ceil(np.max(t_end - t0) / 0.5)))
        width = (t_end - t0) / panels
        out = [np.zeros(npts, dtype=res) for _ in range(c)]
        for m in range(panels):
            tn = t0 + width[:, None] * (m + 0.5 * (_GL_NODES[None, :] + 1))
            kn = np.exp(tn)
            vals = self.f1(kn, *cols)
            for j in range(c):
                fx = np.broadcast_to(vals[j], kn.shape) * kn
                out[j] += 0.5 * width * (fx @ _GL_WEIGHTS)
        return [o + tl for o, tl in zip(out, tails)]

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
