r"""Nonlinear random features through Gaussian equivalence [R19].

For a preactivation ``h ~ N(0, nu)`` (``nu = tr Sigma`` for ``F_ij ~
N(0, 1/D)``, [C14]) an activation ``phi`` is replaced by its Gaussian
equivalent ``phi(h) ~ mu_0 + mu_1 h + mu_* xi`` with

.. math::
    \mu_0 = \mathbb E\,\phi(h),\qquad \mu_1 = \frac{\mathbb E[h\,\phi(h)]}{\nu} = \mathbb E\,\phi'(h),\qquad
    \mu_*^2 = \mathbb E\,\phi(h)^2 - \mu_0^2 - \nu\,\mu_1^2 ,

so that features ``phi(F^T x)/mu_1`` are the additive-noise model with
feature noise ``sigma_xi^2 = mu_*^2/mu_1^2`` at ridge ``lambda/mu_1^2``
(the constant ``mu_0`` is a rank-one spike of the feature Gram; it is kept
in simulations and does not enter the proportional limit).  The expectations
are exact sympy integrals when sympy finds them (``relu``) and mpmath
tanh-sinh quadrature otherwise (``tanh``, ``erf``, any
user expression in one variable).

>>> import freeprob
>>> relu = freeprob.activation("relu")
>>> relu.coefficients(1, method="exact")       # 1/sqrt(2 pi), 1/2, sqrt(1/4 - 1/(2 pi))
(sqrt(2)/(2*sqrt(pi)), 1/2, sqrt(-2 + pi)/(2*sqrt(pi)))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from freeprob.errors import ParameterError

__all__ = ["Activation", "activation", "BUILTIN"]

_H = sp.Symbol("h", real=True)

#: built-in activations, as sympy expressions in ``h``
BUILTIN = {
    "relu": sp.Piecewise((_H, _H > 0), (0, True)),
    "tanh": sp.tanh(_H),
    "erf": sp.erf(_H),
}


@dataclass(frozen=True)
class Activation:
    """An activation ``phi(h)``: a sympy expression in one variable."""

    expr: sp.Expr
    var: sp.Symbol
    name: str

    def __call__(self, h):
        """Apply elementwise to a numpy array (compiled from the expression)."""
        from freeprob.numeric.compile import compile_expr

        return np.asarray(compile_expr(self.expr, (self.var,))(np.asarray(h, dtype=float)), dtype=float) \
            * np.ones_like(h, dtype=float)

    apply = __call__

    def coefficients(self, nu, *, method: str | None = None, dps: int = 30):
        """``(mu_0, mu_1, mu_*)`` at preactivation variance ``nu`` (see the
        module).  ``method="exact"`` integrates with sympy (raises if it cannot);
        ``"quad"`` uses mpmath at ``dps`` digits; default: exact for
        piecewise-polynomial activations, quadrature otherwise."""
        nu = sp.sympify(nu)
        if nu.atoms(sp.Float):  # floats as the rationals of their decimal form (exact integration stays exact)
            nu = sp.nsimplify(nu, rational=True)
        if nu.is_number and not (nu.is_finite and nu > 0):
            raise ParameterError("nu", nu, "(0, oo)", "the preactivation variance tr Sigma")
        if method is None:
            method = "exact" if _piecewise_polynomial(self.expr, self.var) else "quad"
        if method == "exact":
            s = sp.Symbol("s", real=True)
            f = self.expr.subs(self.var, sp.sqrt(nu) * s)
            gauss = sp.exp(-s**2 / 2) / sp.sqrt(2 * sp.pi)

            def e(g):
                val = sp.integrate(sp.piecewise_fold(g * gauss), (s, -sp.oo, sp.oo))
                if val.has(sp.Integral):
                    raise ParameterError("method", "exact", "'quad' for this activation",
                                         "sympy cannot integrate it in closed form")
                return sp.simplify(val)

            mu0 = e(f)
            mu1 = sp.simplify(e(s * f) / sp.sqrt(nu))
            mu_star = sp.sqrt(sp.simplify(e(f**2) - mu0**2 - nu * mu1**2))
            return mu0, mu1, mu_star
        if method != "quad":
            raise ParameterError("method", method, "'exact' or 'quad'")
        fn = sp.lambdify(self.var, self.expr, "mpmath")
        with mpmath.workdps(dps):
            v = mpmath.mpf(sp.N(nu, dps + 5))
            sq = mpmath.sqrt(v)
            w = lambda s: mpmath.exp(-s * s / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
            # split at the kink of relu-like activations, at the breakpoints of a
            # Piecewise and at real singularities (tanh-sinh converges fast only
            # with them at the ends of its intervals)
            cuts = self._special_points()
            for c in cuts["singular"]:
                self._check_integrable(fn, float(c), w, sq, nu)
            inner = sorted({0.0, *(float(c) / float(sq) for c in cuts["singular"] + cuts["breaks"])})
            pts = [-mpmath.inf, *(mpmath.mpf(c) for c in inner), mpmath.inf]
            vals = {}
            for name, g in (("mu_0", lambda s: fn(sq * s)), ("mu_1", lambda s: s * fn(sq * s) / sq),
                            ("E phi^2", lambda s: fn(sq * s) ** 2)):
                try:
                    val, err = mpmath.quad(lambda s, g=g: g(s) * w(s), pts, error=True)
                except (TypeError, ValueError, ZeroDivisionError) as exc:
                    raise ParameterError("activation", self.name, "activations defined on the whole real line",
                                         f"{name}: {exc}") from None
                if isinstance(val, mpmath.mpc):
                    if abs(val.imag) > mpmath.mpf(10) ** (5 - dps) * (1 + abs(val)):
                        raise ParameterError("activation", self.name, "a real activation on the whole real line",
                                             f"{name} = {mpmath.nstr(val, 5)} is not real")
                    val = val.real
                # tanh-sinh's error estimate, with every special point at an end
                # of its intervals: a larger one means an integrand it cannot resolve
                if not mpmath.isfinite(val) or err > mpmath.mpf(10) ** (-dps // 3) * (1 + abs(val)):
                    raise ParameterError("activation", self.name, "activations with finite Gaussian moments",
                                         f"{name} = {mpmath.nstr(val, 5)} (quadrature error {mpmath.nstr(err, 2)}) "
                                         f"at preactivation variance {nu}")
                vals[name] = val
            mu0, mu1, m2 = vals["mu_0"], vals["mu_1"], vals["E phi^2"]
            rest = m2 - mu0**2 - v * mu1**2  # >= 0 by Cauchy-Schwarz; rounding leaves ~10^-dps m2
            if rest < -mpmath.mpf(10) ** (5 - dps) * (abs(m2) + 1):
                raise ParameterError("activation", self.name, "a square-integrable activation",
                                     f"E phi^2 - mu_0^2 - nu mu_1^2 = {mpmath.nstr(rest, 3)} < 0")
            mu_star = mpmath.sqrt(rest) if rest > 0 else mpmath.mpf(0)
            return float(mu0), float(mu1), float(mu_star)

    def _special_points(self):
        """``{"singular": [...], "breaks": [...]}``: the real singularities of the
        activation (sympy's ``singularities``) and the numeric breakpoints of a
        Piecewise, in units of the preactivation ``h``."""
        singular, breaks = [], []
        try:
            found = sp.singularities(self.expr, self.var, sp.S.Reals)
            if isinstance(found, sp.FiniteSet):
                singular = [c for c in found if c.is_real and c.is_number]
        except (NotImplementedError, TypeError, ValueError):
            # sympy cannot locate them: no split there; the quadrature's error
            # estimate below still refuses an integrand it cannot resolve
            pass
        for pw in self.expr.atoms(sp.Piecewise):
            for _, cond in pw.args:
                for rel in cond.atoms(sp.core.relational.Relational):
                    side = rel.lhs - rel.rhs
                    sols = sp.solve(side, self.var) if side.has(self.var) else []
                    breaks += [c for c in sols if c.is_real and c.is_number]
        return {"singular": singular, "breaks": breaks}

    def _check_integrable(self, fn, c, w, sq, nu):
        """Refuse an activation whose ``E phi^2`` diverges at its real
        singularity ``h = c``: the integral of ``phi^2`` over ``eps < |h - c| <
        1`` must settle as ``eps -> 0`` (its increments shrink, like
        ``eps^(1 - p)`` for ``|h - c|^-p``, ``p < 1``; they stay or grow for
        ``p >= 1``)."""
        s0 = mpmath.mpf(c) / sq
        g = lambda s: fn(sq * s) ** 2 * w(s)  # noqa: E731

        def band(lo, hi):
            return mpmath.quad(g, [s0 - hi, s0 - lo]) + mpmath.quad(g, [s0 + lo, s0 + hi])

        try:
            d1 = band(mpmath.mpf(10) ** -8, mpmath.mpf(10) ** -4)
            d2 = band(mpmath.mpf(10) ** -12, mpmath.mpf(10) ** -8)
        except (TypeError, ValueError, ZeroDivisionError):
            d1, d2 = mpmath.mpf(1), mpmath.mpf(1)
        if not (mpmath.isfinite(d1) and mpmath.isfinite(d2)) or abs(d2) >= abs(d1) / 2:
            raise ParameterError("activation", self.name, "activations with finite Gaussian moments",
                                 f"E phi^2 diverges at h = {c} (preactivation variance {nu})")

    # -- exact second moments for simulation (independent numerics) --------
    def kernels(self, f, sigma, wbar, xp=np):
        """``K_jk = E phi(h_j) phi(h_k)`` and ``c_j = E phi(h_j) wbar^T x`` for
        ``h = F^T x``, ``x ~ N(0, diag(sigma))``: the exact test error of a
        readout ``v`` is ``v^T K v - 2 v^T c + wbar^T Sigma wbar``.  Closed
        forms of the arc-cosine (relu, Cho-Saul 2009) and arcsine (erf,
        Williams 1997) kernels; ``c`` by Stein's lemma.  ``f`` is an array of
        the namespace ``xp`` (the Python array API standard; numpy by
        default), ``sigma`` and ``wbar`` numpy vectors."""
        sig = xp.asarray(np.asarray(sigma, dtype=float))
        cov = f.T @ (sig[:, None] * f)
        var = xp.linalg.diagonal(cov)
        cross = f.T @ (sig * xp.asarray(np.asarray(wbar, dtype=float)))
        if self.name == "relu":
            diag = xp.sqrt(var)
            outer = diag[:, None] * diag[None, :]
            cos = xp.clip(cov / outer, -1.0, 1.0)
            theta = xp.acos(cos)
            kern = outer / (2 * math.pi) * (xp.sin(theta) + (math.pi - theta) * cos)
            return kern, 0.5 * cross
        if self.name == "erf":
            a = 1 + 2 * var
            kern = 2 / math.pi * xp.asin(xp.clip(2 * cov / xp.sqrt(a[:, None] * a[None, :]), -1.0, 1.0))
            return kern, 2 / math.sqrt(math.pi) / xp.sqrt(a) * cross
        raise ParameterError("activation", self.name, "'relu' or 'erf' for exact-error simulation")


def activation(spec) -> Activation:
    """An :class:`Activation` from a built-in name (``relu``, ``tanh``,
    ``erf``) or a sympy expression in exactly one variable."""
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        if spec not in BUILTIN:
            raise ParameterError("activation", spec, f"one of {sorted(BUILTIN)} or a sympy expression")
        return Activation(BUILTIN[spec], _H, spec)
    if isinstance(spec, sp.Basic):
        free = sorted(spec.free_symbols, key=str)
        if len(free) != 1:
            raise ParameterError("activation", spec, "a sympy expression in exactly one variable")
        return Activation(spec, free[0], str(spec))
    raise ParameterError("activation", repr(spec), "a built-in name or a sympy expression in one variable")


def _piecewise_polynomial(expr, var):
    pieces = [e for e, _ in expr.args] if isinstance(expr, sp.Piecewise) else [expr]
    return all(sp.sympify(p).is_polynomial(var) for p in pieces)
