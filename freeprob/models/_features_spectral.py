r"""Random features with any spectral estimator [C18], [C14] (private to :mod:`freeprob.models`).

**Conditioning on the features.**  For one draw of ``F`` and Gaussian inputs,
the features ``z = F^T x + xi`` and the clean label ``x^T wbar`` are jointly
Gaussian, so

.. math::
    x^\top\bar w = z^\top\beta_z + e,\qquad
    \beta_z = \Sigma_z^{-1} b,\quad b = F^\top\Sigma\bar w,\quad
    \Sigma_z = F^\top\Sigma F + \sigma_\xi^2 I_N,

with ``e`` independent of ``z``, of variance ``sigma_e^2 = wbar^T Sigma wbar -
b^T Sigma_z^{-1} b``.  The readout is linear regression [C2] in ``N``
dimensions (ratio ``q_z = N/P = psi_L/phi``) with population ``Sigma_z``,
target ``beta_z`` and label noise ``sigma^2 + sigma_e^2``; its excess error
over ``x^T wbar`` gains ``sigma_e^2``.  A spectral estimator of ``Z^T Z/P``
(gradient flow on the readout, ...) is then the contour route of
:mod:`freeprob.models.spectral` on that problem, which needs three
functionals of ``Sigma_z`` at complex arguments.  Each is a one-point
equivalent over ``F`` ([R12], [R19]): with ``kappa_2(mu)`` the solution of
``kappa_2 = mu S_F(df1(kappa_2))`` and ``A = Sigma^{1/2} F``,
``b^T (Sigma_z + c)^{-1} b = u^T A (A^T A + sigma_xi^2 + c)^{-1} A^T u
~ <x>_wbar - kappa_2 D_w(kappa_2)`` at ``mu = sigma_xi^2 + c``, so

* ``D_z(kappa_1) = tr Sigma_z (Sigma_z + kappa_1)^{-1}/N = dfbar1/psi_L``
  (the ridge model's map ``kappa_2 -> (kappa_1, dfbar1, lambda)``, evaluated
  at complex ``kappa_2``);
* ``D_{w,z}(kappa_1) = beta_z^T Sigma_z (Sigma_z + kappa_1)^{-1} beta_z =
  (kappa_2 D_w(kappa_2) - kappa_2^0 D_w(kappa_2^0))/kappa_1``, with
  ``kappa_2^0`` the real root at ``kappa_1 = 0`` (the features' bottleneck);
* ``sigma_e^2 = kappa_2^0 D_w(kappa_2^0)``, the approximation error of the
  best linear readout of the features (0 when ``N >= D`` without feature
  noise).

The solver's state at a contour node is ``kappa_2``: Newton on ``lambda(kappa_2)
= -z`` with the exact slope, certified by the residual, the Herglotz sign of
the feature-space ``g_hat(z) = (1 - D_z)/z`` [C4] and that of the features'
own Stieltjes transform ``g_F(-mu) = -(1 - df1(kappa_2))/mu`` at ``mu =
kappa_1 + sigma_xi^2``.

**Anisotropic weights** ``F = G Sigma_F^{1/2}/sqrt(D)``: the ridge model's map
needs ``kappa_F(t)``, the root of ``df1_F(kappa_F) = t`` at ``t =
df1(kappa_2)/psi_1`` [R18].  A node's state is then the pair ``(kappa_2,
1/kappa_F)``, solved by Newton on both equations; the branch of ``kappa_F``
is certified by a third Herglotz sign, that of ``W = Sigma_F^{1/2} (G^T
G/D) Sigma_F^{1/2}`` at its ridge ``nu = kappa_F/S_MP(psi_1)(t)``.  Where the
rays from the far field jump a branch (three levels of branch points), the
nodes descend to the spectrum vertically
(:func:`~freeprob.models._contour_nodes.vertical_ladder`).

**The mean predictor.**  Averaged over the data, the readout is ``E_X v =
beta_z - E_X[r(Sigma_hat_z)] beta_z`` with ``E_X[r] ~ oint r(z) (kappa_1/z)
(Sigma_z + kappa_1)^{-1}``; averaged over ``F`` too, with ``F (Sigma_z +
c)^{-1} F^T ~ (Sigma + kappa_2)^{-1}`` (the one-point equivalent above at
``mu = sigma_xi^2 + c``) and ``oint r(z)/z = r(0) = 1``, the input-space
weights are

.. math::
    E_{X,F}[F v] = \bar w - \frac{1}{2\pi i}\oint r(z)\,\frac{\kappa_2(z)}{z}
    (\Sigma + \kappa_2(z))^{-1}\bar w\,dz,

the linear route's mean predictor with ``kappa_2(z)`` in place of ``kappa(z)``,
on a contour around the spectrum and 0 (``kappa_2(0) > 0`` at a width
bottleneck puts a pole there).  Its ``Bias^2`` is that route's ``bias2`` on
the same nodes seen in input space (:class:`InputSpaceView`).

**The predictor averaged over the features.**  At fixed data the one-point
equivalent over ``F`` with the sample covariance ``Sigma_hat`` as its
population gives ``E_F[F (z - Z^T Z/P)^{-1} F^T] Sigma_hat ~ (w - Sigma_hat)^{-1}
Sigma_hat`` with ``w(z) = -kappa_2 (1 - D(kappa_2)/phi)`` at ``kappa_2 =
kappa_2(-z)``: the linear problem [C2] in input space (ratio ``D/P``) at the
argument whose ``kappa`` is ``kappa_2(z)``.  In ``E_X ||E_F[F v]||^2_Sigma``
the factors ``w`` cancel against the two-point equivalent [R5] at ``(w,
w')``, which leaves the linear route's two-point integrand with ``kappa_2(z),
kappa_2(z')`` and ``q = D/P``: the same :class:`InputSpaceView` nodes give
``Var_X``, the variance over the data of the ``F``-averaged predictor.  At a
ridge it equals [R13]'s ``Var_X`` (checked to ``1e-12``).  Its label-noise
part is ``sigma^2 q tr_D Sigma g(Sigma_hat) Sigma_hat g(Sigma_hat)`` with
``g(x) = oint f(z) (w(z) - x)^{-1}``: the sandwich taken apart in ``x`` leaves
one-point equivalents ``(kappa/w) D(kappa)``, so the double integral of
``f(z) f(z')`` against the kernel of
:func:`~freeprob.models._features_maps.input_space_noise_kernel`, on the
same nodes, is ``Var_{X eps}`` (at a ridge [R14]'s ``sigma^2 gamma_2/(1 -
gamma_2)``).

**Keys** (:data:`FEATURE_SPECTRAL_KEYS`).  ``dfbar1 = tr h(Z^T Z/P)/D``;
``approx = sigma_e^2``; ``bias2`` the mean predictor's ``Bias^2`` [C15];
``var_F`` the rest of the data-averaged predictor's error (its variance over
``F``, ``approx`` included); ``var_X`` the variance over the data of the
``F``-averaged predictor (signal); ``var_XF`` the rest of the signal
variance; ``var_X_noise`` (``Var_{X eps}``) the label-noise variance of the
``F``-averaged predictor and ``var_XF_noise`` (``Var_{XF eps}``) the rest of
the label noise's; ``Eg`` their sum; ``Etr``.  At a ridge each is the
paper's component of [R13], [R14].
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import BranchError, ConvergenceError, ParameterError
from freeprob.laws import MarchenkoPastur
from freeprob.models._contour_nodes import (
    certify_node,
    newton_loop,
    ray_ladder,
    vertical_ladder,
)
from freeprob.models._features_edges import FeatureEdges
from freeprob.models._features_maps import (
    _D1,
    _D2,
    _DKF,
    _KF,
    _maps,
    input_space_noise_kernel,
)
from freeprob.models._features_numeric import _bottleneck_of, _params
from freeprob.models._spectral_numeric import _Law, population_floor
from freeprob.models._spectral_quad import NOISE_KEY
from freeprob.models.design import target_spectrum
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.rounding import relative_rounding_bound
from freeprob.numeric.solve import invert_increasing

__all__ = ["FEATURE_SPECTRAL_KEYS", "evaluate_features_spectral"]

#: the keys of a random-feature learning curve under a spectral estimator
FEATURE_SPECTRAL_KEYS = ("dfbar1", "approx", "bias2", "var_F", "var_X", "var_XF", "var_X_noise", "var_XF_noise",
                         "Eg", "Etr")


@cached(maxsize=32)
def _compiled_maps(model):
    """``lam, dlam/dkappa_2, kappa_1, dfbar1`` of the ridge model's maps
    (placeholders ``df1``, ``df2``), compiled for complex ``kappa_2``; for
    anisotropic weights also ``d lam/d kappa_F`` and the ridge ``nu`` of
    ``W = Sigma_F^{1/2} (G^T G/D) Sigma_F^{1/2}`` at which ``kappa_F`` is
    ``W``'s renormalized ridge, ``nu = kappa_F/S_MP(psi_1)(t)`` [R2a]
    (arguments then end with ``kappa_F``, ``kappa_F'``, ``t = df1/psi_1``)."""
    m = _maps(model, True)
    args = (C.kappa2, C.phi, *model.psis, C.sigma_xi2, _D1, _D2)
    exprs = (m["lam"], m["dlam"], m["kappa1"], m["dfbar1"])
    if model.feature_covariance is not None:
        t = sp.Symbol("t_F")
        nu = _KF / MarchenkoPastur(model.psis[0]).s_transform(t, convention="df")
        args += (_KF, _DKF, t)
        exprs += (sp.diff(m["lam"], _KF), nu)
    return compile_expr(exprs, args, dtype=complex)


class FeatureLaw(FeatureEdges):
    """The contour route's solver for the feature-space problem of one
    ``(phi, psi_1..psi_L, sigma_xi^2)`` (see the module): the protocol of
    :class:`freeprob.models._spectral_numeric._Law` (``start``, ``newton``,
    ``finish``, ``target``, ``wnorm2``) with ``kappa_2`` as the state."""

    #: the continuations from the far field, tried in turn (as the linear
    #: problem's: a continuation that jumps a branch of the nested map -- two
    #: levels of branch points, the features' and the data's -- is certified
    #: as such and redone with four times the steps, see ``_solve_kappa``)
    LADDERS = ((ray_ladder, 10), (ray_ladder, 40))

    def __init__(self, model, phi, psis, sx):
        if model.dimension is sp.oo:
            raise ParameterError("dimension", model.dimension, "a finite input dimension D with a spectral estimator",
                                 "the kernel limit of random features [C16] is evaluated for ridge only")
        self.model = model
        # the solved nodes, by their bytes: kappa_2 does not depend on q, and
        # the input-space view shares them (see _solve_kappa)
        self.solved = {}
        self.pop = _Law(model.population, target_spectrum(model.population, model.target, model.dimension))
        self.fn = _compiled_maps(model)
        self.params = (float(phi), *(float(p) for p in psis), float(sx))
        self.phi, self.psi_first, self.psi_last, self.sx = float(phi), float(psis[0]), float(psis[-1]), float(sx)
        # anisotropic weights: kappa_F(t) at t = df1(kappa_2)/psi_1 is part of
        # a node's state (see the module), solved on Sigma_F's own law
        fc = model.feature_covariance
        self.fcov = None if fc is None else _Law(fc, None)
        # the contour sums' floor: the coarser of the two laws' (see _Law)
        self.sum_floor = max(self.pop.sum_floor, 0.0 if self.fcov is None else self.fcov.sum_floor)
        if fc is not None:
            # a third level of branch points (Sigma_F's): where the rays
            # jump a branch, finer rays (four times the steps: the cheaper
            # path where it holds, 40 Newton-corrected steps), then the
            # nodes descend to the spectrum vertically (~100 steps)
            self.LADDERS = ((ray_ladder, 10), (ray_ladder, 40), (vertical_ladder, 10))
            self.f_lo, self.f_hi = population_floor(fc), float(fc._numeric_radius())
            self.f_mean = float(fc._trace_mean())
        row = np.array([[phi, *psis, sx]], dtype=float)
        k20 = float(_bottleneck_of(model, row.tobytes(), row.shape, 1e-14, True)[0])
        self.k20 = k20
        if k20 > 0:
            # at real kappa_2 > 0 through the real compiled means where there
            # are some (a huge power law: no head of exact terms needed)
            kk = np.array([k20])
            if self.pop._df is not None:
                d0 = np.asarray(self.pop._df(kk)[0], dtype=float)
                dw0 = d0 if self.pop._tgt is None else np.asarray(self.pop._tgt(kk)[0], dtype=complex).real
            else:
                d0, _ = self.pop.means(kk.astype(complex))
                dw0 = self.pop.target(kk.astype(complex), d0).real
            self.approx = float(k20 * dw0[0])
        else:
            self.approx = 0.0
        # S_F(0): kappa_2 ~ mu S_F(0) far from the spectrum (lam ~ kappa_1 ~ kappa_2/S_F(0))
        far = 1e8 * (1.0 + float(model.population._numeric_radius()))
        lam_far = self._maps(np.array([far], dtype=complex), True)[0][0]
        self.slope_far = far / lam_far.real
        # the target's norm ||beta_z||^2 enters the integrands only through
        # terms analytic inside the contour (residue 0): it is not needed
        self.wnorm2 = 0.0

    def _means(self, k2, real):
        """``(df1, df2, df1')`` of the population at ``kappa_2``; ``real``: on
        the real axis through its real compiled means where it has them (a
        power law beyond the atom limit sums its tail there without the head
        that complex points need; ``df1'`` is then not returned)."""
        if real and self.pop._df is not None:
            d1, d2 = (np.asarray(v, dtype=float) for v in self.pop._df(np.asarray(k2).real))
            return d1.astype(complex), d2.astype(complex), None
        d, dd = self.pop.means(k2)
        return d, d + k2 * dd, dd

    def _maps(self, k2, real=False, kf=None, probe=False):
        """``[lam, dlam, kappa_1, dfbar1, df1]`` at ``kappa_2`` (see
        :meth:`_means` for ``real``, used by the edge scans).  Anisotropic
        weights: with ``kf`` (a contour node's ``kappa_F``) ``dlam`` is the
        partial slope at fixed ``kappa_F`` and the list goes on with ``[d
        lam/d kappa_F, nu, t, df1']`` (see :func:`_compiled_maps`); without
        it (the real axis) ``kappa_F(t)`` is solved on the real axis
        (:meth:`kappa_f_real`) and ``dlam`` is the total slope.  ``probe``: a
        Newton iterate, which may be non-finite on its way (refused by
        :meth:`finish`, which evaluates certified)."""
        d, d2, dd = self._means(k2, real)
        node, extra = kf is not None, ()
        if self.fcov is not None:
            t = d / self.psi_first
            if kf is None:
                kf, ddf = self.kappa_f_real(t.real)
                extra = (kf.astype(complex), (1 / ddf).astype(complex), t)     # kappa_F' = 1/df1_F'(kappa_F)
            else:
                extra = (kf, np.zeros_like(kf), t)
        vals = [np.asarray(v, dtype=complex) for v in self.fn(k2, *self.params, d, d2, *extra, finite=not probe)]
        return vals[:4] + [d] + (vals[4:] + [extra[2], dd] if node else [])

    def kappa_f_real(self, t):
        """``(kappa_F(t), df1_F'(kappa_F))`` on the real axis: the root of
        ``df1_F(kappa_F) = t`` [C6] on the branch continued from ``kappa_F ~
        <Sigma_F>/t`` at ``t -> 0``, where ``df1_F`` decreases: in ``(-x_min,
        <Sigma_F>/t]`` for ``t > 0`` and in ``[-x_max - <Sigma_F>/|t|, -x_max)``
        for ``t < 0`` (``x_min``, ``x_max`` the edges of ``Sigma_F``; ``|df1_F|
        <= <Sigma_F>/dist(kappa, -spectrum)`` bounds the root).
        :func:`~freeprob.numeric.solve.invert_increasing` in the distance to
        the pole, with an absolute resolution ``eps |x_edge|`` (next to the
        pole the root sits ``1e-9`` from ``x_max ~ 1``); NaN where there is no root (``t`` at or
        beyond the rank of a ``Sigma_F`` that reaches 0): the edge scans stop
        there."""
        shape = np.shape(t)
        t = np.asarray(t, dtype=float).ravel()
        pos = t > 0
        # short of the edges (a law evaluated through its Stieltjes transform
        # takes a central difference for df1_F', which must stay off the cut)
        near = 1e-13 if self.fcov._pop is not None or self.fcov._huge is not None else 1e-4
        # the bracket variable u >= 0 is the distance to the pole: kappa =
        # u - x_min (t > 0) or -x_max - u (t < 0); df1_F decreases in kappa,
        # so -df1_F (t > 0) and df1_F (t < 0) increase in u
        shift = np.where(pos, -self.f_lo, -self.f_hi)
        sign = np.where(pos, 1.0, -1.0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lo = np.where(pos, self.f_lo * near, self.f_hi * near)
            hi = np.where(pos, np.maximum(self.f_mean / t, 0.0) + self.f_lo, self.f_hi * near + self.f_mean / np.abs(t))
        hi = np.maximum(hi, lo)

        def fmap(u, idx):
            d, dd = (v.real for v in self.fcov.means((shift[idx] + sign[idx] * u).astype(complex)))
            return -sign[idx] * d, -dd

        # kappa = shift + u is resolved to eps |kappa| <= eps (|shift| + u) only
        eps = np.finfo(float).eps
        k = np.full(t.shape, np.nan)             # t = 0: the root is at infinity
        sel = np.flatnonzero(np.isfinite(t) & (t != 0))
        if sel.size:
            u = invert_increasing(lambda v, idx: fmap(v, sel[idx]), -sign[sel] * t[sel], lo[sel], hi[sel],
                                  rtol=4 * eps, atol=4 * eps * np.abs(shift[sel]), what="kappa_F")
            k[sel] = shift[sel] + sign[sel] * u
        d, dd = (v.real for v in self.fcov.means(k.astype(complex)))
        good = np.abs(d - t) <= 1e-10 * np.maximum(np.abs(t), 1.0)
        return np.where(good, k, np.nan).reshape(shape), np.where(good, dd, np.nan).reshape(shape)

    # the solver protocol -----------------------------------------------
    def start(self, z):
        """``kappa_2 ~ -z/slope`` far away; with anisotropic weights the
        state is the pair ``(kappa_2, 1/kappa_F)``, ``1/kappa_F ~
        t/<Sigma_F>`` (the reciprocal is analytic where ``t = df1/psi_1``
        passes near 0, which ``kappa_F ~ <Sigma_F>/t`` is not)."""
        k2 = self.slope_far * (-z)
        if self.fcov is None:
            return k2
        d, _ = self.pop.means(k2)
        return np.column_stack([k2, d / (self.psi_first * self.f_mean)])

    def newton(self, q, state, z, iters):
        """Newton on ``lam(kappa_2) + z = 0`` with the exact slope; with
        anisotropic weights on the pair ``lam(kappa_2, kappa_F) + z = 0``,
        ``df1_F(kappa_F) - df1(kappa_2)/psi_1 = 0`` in ``(kappa_2, v =
        1/kappa_F)`` (the 2 x 2 Jacobian; ``d/dv = -kappa_F^2 d/d kappa_F``)."""
        if self.fcov is None:
            def step(kk, idx):
                lam, dlam, *_ = self._maps(kk)
                return (lam + z[idx]) / dlam
        else:
            def step(st, idx):
                # a singular Jacobian on the way from the far field gives a
                # non-finite state, which the certificate refuses (finish)
                out = np.full(st.shape, np.nan, dtype=complex)
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    kf = 1 / st[:, 1]
                    ok = np.flatnonzero(np.isfinite(kf) & np.isfinite(st[:, 0]))
                    k2, kf = st[ok, 0], kf[ok]
                    lam, j11, _, _, _, dlam_kf, _, t, dd = self._maps(k2, kf=kf, probe=True)
                    d_f, dd_f = self.fcov.means(kf)
                    e1, e2 = lam + z[idx[ok]], d_f - t
                    j12, j21, j22 = -kf**2 * dlam_kf, -dd / self.psi_first, -kf**2 * dd_f
                    det = j11 * j22 - j12 * j21
                    out[ok] = np.column_stack([(e1 * j22 - j12 * e2) / det, (j11 * e2 - j21 * e1) / det])
                return out

        return newton_loop(step, state, iters)

    def finish(self, q, state, z):
        aniso = self.fcov is not None
        k2 = state[:, 0] if aniso else state
        with np.errstate(divide="ignore", invalid="ignore"):     # a lost node: refused below
            kf = 1 / state[:, 1] if aniso else None
        if aniso and not np.all(np.isfinite(state)):
            raise ConvergenceError("(kappa_2, kappa_F) did not converge on the contour (a singular Newton step)")
        out = self._maps(k2, kf=kf)
        lam, _, k1, dfbar, d1 = out[:5]
        res = np.abs(lam + z)
        size = np.abs(k1) * (1 + np.abs(dfbar) / self.phi) + np.abs(z)
        d_z = dfbar / self.psi_last
        certify_node(res, size, d_z, z, self.pop.rtol)
        mu = k1 + self.sx
        g_f = -(1 - d1) / mu     # (1/D) tr (zeta - A A^T)^{-1} at zeta = -mu
        if np.any(g_f.imag * (-mu).imag > 1e-12 * np.abs(g_f) * np.abs(mu)):
            raise BranchError("kappa_2 left the physical branch of the features' resolvent on the contour "
                              "(Herglotz sign of g_F)")
        if aniso:
            nu, t = out[6], out[7]
            d_f, _ = self.fcov.means(kf)
            # t = df1/psi_1 carries the population's resolution, d_f Sigma_F's
            tol = max(self.fcov.rtol, self.pop.rtol)
            if np.any(~(np.abs(d_f - t) <= tol * (np.abs(d_f) + np.abs(t)))):
                raise ConvergenceError("kappa_F did not converge on the contour (df1_F(kappa_F) = df1/psi_1)")
            # W = Sigma_F^{1/2} (G^T G/D) Sigma_F^{1/2} has df1_W(nu) = t [C6]:
            # (1/N) tr (zeta - W)^{-1} = -(1 - t)/nu at zeta = -nu is Herglotz
            g_w = -(1 - t) / nu
            if np.any(g_w.imag * (-nu).imag > 1e-12 * np.abs(g_w) * np.abs(nu)):
                raise BranchError("kappa_F left the physical branch of W's resolvent on the contour "
                                  "(Herglotz sign of g_W)")
        return k1, d_z

    def target(self, k1, d_z, state):
        k2 = state[:, 0] if self.fcov is not None else state
        d, _ = self.pop.means(k2)
        dw = self.pop.target(k2, d)
        return (k2 * dw - self.approx) / k1      # approx = kappa_2^0 D_w(kappa_2^0)

class InputSpaceView:
    """The contour nodes of a :class:`FeatureLaw` seen in input space, for
    the mean predictor's ``Bias^2`` (see the module): the same solver and
    certificates, but a node's ``kappa`` is ``kappa_2`` and its target mean
    the population's ``D_w(kappa_2)`` and ``D(kappa_2)``; with ``q = D/P``
    the linear route's ``bias2`` on these nodes is ``||E_{X,F}[F v] -
    wbar||_Sigma^2`` and its ``var_X`` the variance over the data of
    ``E_F[F v]`` (see the module); its other keys are not used."""

    def __init__(self, law):
        self.law, self.LADDERS, self.wnorm2, self.solved = law, law.LADDERS, law.pop.wnorm2, law.solved
        self.sum_floor = law.sum_floor
        ks, ds = sp.symbols("kappa_z kappa_z'"), sp.symbols("D_1 D_2")
        # Var_{X eps} of the feature-averaged predictor (see the module)
        # with its relative running error bound (freeprob.numeric.rounding), in
        # the resolution of the solved kappa and D
        kern = input_space_noise_kernel()
        self.noise_kernel = (compile_expr(kern, (*ks, *ds, C.q), dtype=complex),
                             compile_expr(relative_rounding_bound(kern, inexact=(*ks, *ds)), (*ks, *ds, C.q),
                                          dtype=complex))

    def start(self, z):
        return self.law.start(z)

    def newton(self, q, state, z, iters):
        return self.law.newton(q, state, z, iters)

    def finish(self, q, state, z):
        self.law.finish(q, state, z)             # certified as the features' nodes
        k2 = state[:, 0] if state.ndim > 1 else state
        return k2, self.law.pop.means(k2)[0]

    def target(self, k2, d_zero, state):
        return self.law.pop.target(k2, self.law.pop.means(k2)[0])


def evaluate_features_spectral(model, estimator, overrides, *, tol=1e-10, max_nodes=8192):
    """:data:`FEATURE_SPECTRAL_KEYS` of ``model`` (a
    :class:`~freeprob.RandomFeatureRidge`) under ``estimator`` (see the
    module), sweeping the estimator's parameters and the model's
    ``samples``, ``noise``, ``feature_noise`` and ``widths``."""
    from freeprob.models.spectral import contour_keys

    names = set(model.SWEEPABLE) | set(estimator.SWEEP)
    bad = sorted(set(overrides) - names)
    if bad:
        raise ParameterError(bad[0], overrides[bad[0]], "one of " + ", ".join(sorted(names)))
    vals = estimator.values({k: v for k, v in overrides.items() if k in estimator.SWEEP})
    mine = {k: v for k, v in overrides.items() if k in model.SWEEPABLE and k != "ridge"}
    mshape, _, phi, psis, s2, sx = _params(model, {**mine, "ridge": 0.0})
    shape = np.broadcast_shapes(mshape, *[np.shape(v) for v in vals.values()])
    full = lambda a: np.broadcast_to(np.reshape(a, mshape), shape).ravel()  # noqa: E731
    phi, s2, sx, psis = full(phi), full(s2), full(sx), [full(p) for p in psis]
    flat = {k: np.broadcast_to(v, shape).ravel() for k, v in vals.items()}
    n = phi.size
    out = {key: np.empty(n) for key in FEATURE_SPECTRAL_KEYS}
    rows = np.column_stack([phi, *psis, sx])
    uniq, inv = np.unique(rows, axis=0, return_inverse=True)
    for g in range(uniq.shape[0]):
        sel = np.flatnonzero(inv.ravel() == g)
        law = FeatureLaw(model, uniq[g, 0], uniq[g, 1:-1], uniq[g, -1])
        q = law.psi_last / law.phi
        sub = {k: np.broadcast_to(v, sel.shape) for k, v in ((k, v[sel]) for k, v in flat.items())}
        noise = s2[sel]
        if estimator.ROUTE == "gap":
            out_g = _cutoff(model, law, q, sub["threshold"], uniq[g], noise, tol, min(max_nodes, 4096))
            for key in FEATURE_SPECTRAL_KEYS:
                out[key][sel] = out_g[key]
            continue
        lower, upper = law.lower_edge(q), law.upper_edge()
        s_eff = noise + law.approx
        # the nonzero sample eigenvalues' bottom decides the ridge limit; for
        # N >= P (N - P zero eigenvalues) it is the gap above 0, sought only
        # where the limit could hold (it would with the bottom at the top)
        gap = lower
        if q >= 1 and estimator.at_ridge_limit(sub, upper, upper).any():
            gap = law.gap_edge(q, float(np.max(_ridge_limit(model, law, np.zeros(1), uniq[g], noise[:1])["kappa2"])))
        done = estimator.at_ridge_limit(sub, gap, upper)
        res = {key: np.empty(sel.size) for key in FEATURE_SPECTRAL_KEYS}
        if done.any():
            lim = _ridge_limit(model, law, np.broadcast_to(sub.get("ridge", 0.0), done.shape)[done], uniq[g],
                               noise[done])
            for key in FEATURE_SPECTRAL_KEYS:
                res[key][done] = lim[key]
        if not done.all():
            rest = ~done
            pts = {k: np.broadcast_to(v, done.shape)[rest] for k, v in sub.items()}
            lin = contour_keys(law, estimator, pts, q, s_eff[rest], lower, upper, tol=tol, max_nodes=max_nodes)
            # Bias^2 of the mean predictor: around 0 too at a width bottleneck
            # (kappa_2(0) = kappa_2^0 > 0: kappa_2(z)/z has a pole there)
            low = 0.0 if law.k20 > 0 else lower
            view = contour_keys(InputSpaceView(law), estimator, pts, 1 / law.phi, np.zeros(int(rest.sum())), low,
                                upper, tol=tol, max_nodes=max_nodes)
            for key, v in _from_linear(lin, law, noise[rest], s_eff[rest], view).items():
                res[key][rest] = v
        for key in FEATURE_SPECTRAL_KEYS:
            out[key][sel] = res[key]
    return {key: out[key].reshape(shape) for key in FEATURE_SPECTRAL_KEYS}


def _from_linear(lin, law, noise, s_eff, view):
    """The keys from the feature-space linear problem's (see the module):
    its label-noise variance is linear in ``sigma^2 + sigma_e^2``, split
    between the approximation error (a signal term) and the label noise;
    the error of the data-averaged predictor, ``sigma_e^2`` plus its
    ``bias2``, splits into the mean predictor's ``Bias^2`` (``mean``, from
    :class:`InputSpaceView`) and ``Var_F``, the rest."""
    unit = np.divide(lin["var_X_noise"], s_eff, out=np.zeros_like(s_eff), where=s_eff > 0)
    mean, var_x, var_xe = view["bias2"], view["var_X"], noise * view[NOISE_KEY]
    return {"dfbar1": law.psi_last * lin["df1"], "approx": np.full(noise.shape, law.approx),
            "bias2": mean, "var_F": law.approx + lin["bias2"] - mean, "var_X": var_x,
            "var_XF": lin["var_X"] + law.approx * unit - var_x,
            "var_X_noise": var_xe, "var_XF_noise": noise * unit - var_xe, "Eg": law.approx + lin["Eg"],
            "Etr": lin["Etr"]}


def _cutoff(model, law, q, theta, row, noise, tol, max_nodes):
    """Principal-component regression of the features [C18].  A threshold
    in the gap below the bulk of nonzero sample eigenvalues
    (:meth:`FeatureLaw.gap_edge`) keeps ``f = 1/x`` on every nonzero
    eigenvalue and ``0`` on the null space: the ridgeless readout, so the
    ridge model's closed forms at ``ridge = 0`` apply.  Any other threshold
    takes the two contours through it
    (:func:`~freeprob.models._spectral_cutoff.cutoff_keys`), for the
    feature-space problem and for its input-space view, as the analytic
    filters take their contours (see the module)."""
    from freeprob.models._spectral_cutoff import cutoff_keys

    theta = np.asarray(theta, dtype=float)
    lim = _ridge_limit(model, law, np.zeros(theta.shape), row, noise)
    k2_data = float(np.max(lim.pop("kappa2")))
    edge = law.gap_edge(q, k2_data)
    bulk = ~(theta < edge)
    if bulk.any():
        upper = law.upper_edge()
        s_eff = noise[bulk] + law.approx
        lin = cutoff_keys(law, theta[bulk], q, s_eff, upper, tol=tol, max_nodes=max_nodes)
        view = cutoff_keys(InputSpaceView(law), theta[bulk], 1 / law.phi, np.zeros(int(bulk.sum())), upper,
                           tol=tol, max_nodes=max_nodes)
        for key, v in _from_linear(lin, law, noise[bulk], s_eff, view).items():
            lim[key] = np.array(lim[key], dtype=float)
            lim[key][bulk] = v
    return lim


def _ridge_limit(model, law, lam, row, noise):
    """The keys where the filter is the ridge filter to rounding: the ridge
    model's closed forms [R13], [R14] at the estimator's ridge, summed into
    the aggregates of the module."""
    d = float(model._num("dimension", model.dimension))
    widths = [float(np.round(w * d)) for w in row[1:-1]]    # integers again (the rows hold N/D, P/D)
    over = {"ridge": lam, "samples": float(np.round(row[0] * d)), "noise": noise, "feature_noise": row[-1],
            "widths": widths if len(widths) > 1 else widths[0]}
    r = model.replace(estimator=None, ridge=0).evaluate(**over)
    k2 = np.asarray(r["kappa2"], dtype=complex)
    # on the real axis (no head of exact terms for a huge power law at a tiny kappa_2)
    dfbar = law._maps(np.where(k2 == 0, 1e-300, k2), True)[3].real
    return {"dfbar1": dfbar, "approx": np.full(lam.shape, law.approx), "bias2": r["bias2"], "var_F": r["var_F"],
            "var_X": r["var_X"], "var_XF": r["var_XF"], "var_X_noise": r["var_X_noise"], "var_XF_noise": r["var_XF_noise"],
            "Eg": r["Eg"], "Etr": r["Etr"], "kappa2": k2.real}
