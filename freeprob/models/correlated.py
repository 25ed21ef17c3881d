r"""Ridge regression with correlated samples [C17], [R22].

``CorrelatedRidge(population, sample_correlation, ...)`` holds the model
``X = K^{1/2} Z Sigma^{1/2}``: ``P`` training points whose rows are
correlated by a ``P x P`` matrix ``K`` of law ``sample_correlation`` (a time
series: ``freeprob.AR1(rho)``), features of covariance ``Sigma`` (law
``population``, dimension ``N``), labels ``y = X wbar + eps`` with noise of
covariance ``sigma^2 I`` (``noise_correlation=None``) or ``sigma^2 K``
(``"data"``), and ridge ``lam`` with the ``1/P`` loss.  Test points are
independent of the training set with ``K_** = 1``.

**The renormalized ridges.**  ``Sigma_hat = Sigma^{1/2} F Sigma^{1/2}`` with
``F = Z^T K Z/P``; by free multiplicative composition [C9], [C10]
``S_F(df) = S_K(q df) S_W(df)``, ``S_W(df) = 1/(1 - q df)``, so [C11]

.. math::
    \kappa = \lambda\,\frac{S_K(q\,\mathrm{df}^1_\Sigma(\kappa))}{1 - q\,\mathrm{df}^1_\Sigma(\kappa)} .

Reading ``S_K`` off its own renormalized ridge ``nu`` [C17] makes the two
sides symmetric:

.. math::
    \mathrm{df}^1_K(\nu) = q\,\mathrm{df}^1_\Sigma(\kappa) =: u,\qquad \lambda = \kappa\,\nu\,u .

**The errors.**  With ``d_j = df^j_Sigma(kappa)``, ``e_2 = df^2_K(nu)`` and
the sample-side means ``a = <1/(k + nu)>_K``, ``t = <k/(k + nu)^2>_K``,
``c = <1/(k + nu)^2>_K`` (so ``1 - u = nu a``, ``u - e_2 = nu t``,
``a - t = nu c``):

.. math::
    \gamma = \frac{e_2\,q d_2}{u^2},\qquad S = \frac{\kappa}{\lambda} = \frac{1}{\nu u},\qquad
    \mathrm{Bias}^2 = \kappa^2\,\bar w^\top\Sigma(\Sigma+\kappa)^{-2}\bar w,\qquad
    \mathrm{Var}_X = \mathrm{Bias}^2\frac{\gamma}{1-\gamma},

.. math::
    \mathrm{Var}_{X\epsilon} = \sigma^2\frac{q d_2\,t}{u^2 - e_2 q d_2}\ \text{(white)},\qquad
    \sigma^2\frac{\gamma}{1-\gamma}\ \text{(data)},\qquad
    E_g = \mathrm{Bias}^2 + \mathrm{Var}_X + \mathrm{Var}_{X\epsilon},

.. math::
    E_{tr} = \nu^2\big(t\,(\mathrm{Bias}^2 + \mathrm{Var}_X) + W\big),\quad
    W = \sigma^2\frac{c\,u\,q(d_1 - d_2) + a\,t\,q d_2}{u^2 - e_2 q d_2}\ \text{(white)},\quad
    \sigma^2\frac{t}{1-\gamma}\ \text{(data)},

and the limits of the two estimators of ``E_g + sigma^2`` from training data
(``u`` is the observable ``tr(hat matrix)/P``):

.. math::
    \mathrm{GCV} = \frac{E_{tr}}{(1 - u)^2} = \frac{t(\mathrm{Bias}^2 + \mathrm{Var}_X) + W}{a^2},\qquad
    \mathrm{CorrGCV} = \frac{E_{tr}}{\nu^2 t} = \mathrm{Bias}^2 + \mathrm{Var}_X + \frac{W}{t}.

With data-correlated noise ``CorrGCV = E_g + sigma^2`` exactly (the
estimator is unbiased); GCV is not, unless ``K = I``.  For ``K = I``
(``nu = (1 - u)/u``, ``a = u``, ``t = c = u^2``) every key reduces to
:class:`~freeprob.LinearRidge`.  Each quantity is written once, in the symbols
above; :meth:`CorrelatedRidge.quantities` substitutes the sample side through
``S_K`` and its slope at ``u`` (``nu = (1 - u)/(u S)``, ``a = u S``, ``t =
u^2 S^2/(S + u(1 - u) S')``, ``c = u^2 S^2 (S + u S')/(S + u(1 - u) S')``), and
:meth:`CorrelatedRidge.evaluate` compiles them with the values of both laws'
certified evaluators at the solved ``(kappa, nu)``.

>>> import freeprob
>>> m = freeprob.CorrelatedRidge(freeprob.Identity(1), freeprob.AR1(0.5), noise_correlation="data",
...                              noise=0.5, samples=400, dimension=200, ridge=0.1)
>>> out = m.evaluate()
>>> abs(float(out["corr_gcv"] - out["Eg"] - 0.5)) < 1e-12      # CorrGCV is unbiased
True
>>> bool(out["gcv"] < out["Eg"] + 0.5)                          # GCV is over-optimistic here
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import NumericalError, ParameterError
from freeprob.laws import Identity, SpectralLaw, is_positive_law
from freeprob.models._correlated_numeric import sample_side, solve_pair
from freeprob.models.base import AbstractModel, real_array
from freeprob.models.design import (
    DIMENSION,
    NOISE,
    RIDGE,
    SAMPLES,
    ridge_fields,
    trace_dimension,
)
from freeprob.models.linear import LinearRidge
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr
from freeprob.parameters import declare

__all__ = ["CorrelatedRidge", "CORRELATED_KEYS", "NOISE_CORRELATIONS"]

#: the keys of :meth:`CorrelatedRidge.evaluate`: those of ``LinearRidge`` plus
#: the sample side and the two estimators
CORRELATED_KEYS = ("kappa", "df1", "df2", "gamma", "S", "bias2", "var_X", "var_X_noise", "Eg", "Etr",
                   "nu", "df1_K", "df2_K", "gcv", "corr_gcv")

#: the label-noise correlations the theory covers: white (None) or the data's own K
NOISE_CORRELATIONS = (None, "data")

SIGMA2, NU = C.sigma2, C.nu
# the values of the two sides, as symbols: the formulas are written once in them
_D1, _D2 = sp.symbols("df1_value df2_value", nonnegative=True)
_U, _T, _A, _CC = sp.symbols("u_K t_K a_K c_K", positive=True)
_SK, _SKP = sp.symbols("S_K S_K_prime")
P_SYM = sp.Symbol("P", positive=True)


def _formulas(bias2, noise_correlation):
    """Every key as a sympy expression in the value symbols (see the module)."""
    q, s2 = C.q, SIGMA2
    e2 = _U - NU * _T  # df2_K = df1_K - nu <k/(k + nu)^2>
    gap = _U**2 - e2 * q * _D2  # u^2 (1 - gamma)
    gamma = e2 * q * _D2 / _U**2
    var_x = bias2 * gamma / (1 - gamma)
    if noise_correlation is None:
        var_noise = s2 * q * _D2 * _T / gap
        w = s2 * (_CC * _U * q * (_D1 - _D2) + _A * _T * q * _D2) / gap
    else:
        var_noise = s2 * gamma / (1 - gamma)
        w = s2 * _T * _U**2 / gap
    signal = bias2 + var_x  # Bias^2/(1 - gamma)
    return {"kappa": C.kappa, "df1": _D1, "df2": _D2, "gamma": gamma, "S": 1 / (NU * _U), "bias2": bias2,
            "var_X": var_x, "var_X_noise": var_noise, "Eg": bias2 + var_x + var_noise,
            "Etr": NU**2 * (_T * signal + w), "nu": NU, "df1_K": _U, "df2_K": e2,
            "gcv": (_T * signal + w) / _A**2, "corr_gcv": signal + w / _T}


_S, _Q0, _Q1, _EG, _B, _G, _E2 = sp.symbols("s_c Q0 Q1 E_g bias2 gamma e2", real=True)
#: the risk at a correlated test point (:meth:`CorrelatedRidge.test_point_risk`), by noise model
_TEST_RISK = {
    # (E_g + sigma^2)[1 - c^T (K + 2 nu)(K + nu)^-2 c], with c^T K^-1 c = 1 - s and
    # c^T (K + 2 nu)(K + nu)^-2 c = c^T K^-1 c - nu^2 a^T K (K + nu)^-2 a
    "data": (_EG + SIGMA2) * (_S + NU**2 * _Q1),
    None: _S * _EG + SIGMA2 + NU**2 * _B / (1 - _G) * _Q1
    + SIGMA2 * (_Q0 - C.q * (_D1 - _D2) * _U * NU / (_U**2 - _E2 * C.q * _D2) * _Q1),
}


@dataclass(frozen=True)
class CorrelatedRidge(AbstractModel):
    """Ridge regression on correlated samples ``X = K^{1/2} Z Sigma^{1/2}`` (see the module).

    Parameters
    ----------
    population : the law of the feature covariance ``Sigma`` (dimension ``N``)
    sample_correlation : the law of the ``P x P`` sample correlation ``K``:
        positive definite (no atom at 0), e.g. :class:`~freeprob.AR1`,
        :class:`~freeprob.Identity`, :class:`~freeprob.Discrete`
    noise_correlation : None (white label noise) or ``"data"`` (noise with
        covariance ``sigma^2 K``); ``Identity(1)`` and the law of ``K`` itself
        are accepted as these two.  Other correlations commuting with ``K``
        need the joint spectrum of the pair, which two laws do not determine.
    target, noise, samples, ridge, dimension : as for :class:`~freeprob.LinearRidge`
    """

    population: SpectralLaw
    sample_correlation: SpectralLaw
    noise_correlation: object = None
    target: object = None
    noise: object = 0
    samples: object = P_SYM
    ridge: object = C.lam
    dimension: object = None

    SWEEPABLE = ("ridge", "samples", "noise")
    PARAMETERS = declare(NOISE, SAMPLES, RIDGE, DIMENSION)

    def __post_init__(self):
        K = self.sample_correlation
        if not isinstance(K, SpectralLaw):
            raise ParameterError("sample_correlation", repr(K), "a freeprob spectral law (AR1, Identity, Discrete, ...)")
        if K.free_symbols:
            raise ParameterError("sample_correlation", repr(K), "a law with numeric parameters")
        if is_positive_law(K) is not True:
            raise ParameterError("sample_correlation", repr(K), "a positive semidefinite law",
                                 "a correlation matrix has no negative eigenvalue")
        if K._mass_at_zero() > 0:
            raise ParameterError("sample_correlation", repr(K), "a positive definite law (no atom at 0)",
                                 "K must be invertible: no sample is a combination of the others")
        self._set(noise_correlation=_noise_kind(self.noise_correlation, K), **ridge_fields(self))

    # ------------------------------------------------------------ symbolic
    @property
    def ratio(self):
        """``q = N/P`` [C1] (``1/P`` in the kernel limit [C16])."""
        return C.ratio(trace_dimension(self.dimension), self.samples)

    def _linear(self):
        return LinearRidge(self.population, target=self.target, samples=self.samples, dimension=self.dimension)

    def kappa_equation(self) -> sp.Eq:
        r"""``kappa = lam S_F(df1_Sigma(kappa))`` with ``S_F(df) = S_K(q df) S_W(df)``, the
        free multiplicative composition of the sample correlation and the white
        Wishart matrix [C10], [C11], [R22].

        >>> import freeprob
        >>> import freeprob, sympy as sp
        >>> K = freeprob.Identity(2)                  # every sample scaled by 2: S_K = 1/2
        >>> freeprob.CorrelatedRidge(freeprob.Identity(1), K, dimension=100).kappa_equation()
        Eq(kappa, lambda/(2*(-q/(kappa + 1) + 1)))
        >>> K = freeprob.AR1(sp.Rational(1, 2))
        >>> freeprob.CorrelatedRidge(freeprob.Identity(1), K, dimension=100).kappa_equation().rhs.subs(C.q, 0)
        lambda
        """
        from freeprob.laws import MarchenkoPastur

        d1 = self.population.df1(C.kappa)
        s_k = self.sample_correlation.s_transform(C.df, convention="df")
        s_w = MarchenkoPastur(C.q).s_transform(C.df, convention="df")
        s_f = s_k.subs(C.df, C.q * C.df) * s_w
        return sp.Eq(C.kappa, C.renormalized_ridge(C.lam, s_f.subs(C.df, d1)))

    def quantities(self) -> dict:
        """Every key of :meth:`evaluate` as a sympy expression in ``kappa``,
        ``q`` and ``sigma2``: the formulas of the module with the sample side
        written through ``S_K`` and its slope at ``u = q df1_Sigma(kappa)``
        (laws with a closed-form S-transform)."""
        k, q = C.kappa, C.q
        d1, d2 = self.population.df1(k), self.population.df2(k)
        exprs = _formulas(self._linear()._bias2(k, _D1, _D2), self.noise_correlation)
        u = q * d1
        s_k = self.sample_correlation.s_transform(C.df, convention="df")
        s_val, s_slope = s_k.subs(C.df, u), sp.diff(s_k, C.df).subs(C.df, u)
        den = _SK + _U * (1 - _U) * _SKP
        side = {NU: (1 - _U) / (_U * _SK), _A: _U * _SK, _T: _U**2 * _SK**2 / den,
                _CC: _U**2 * _SK**2 * (_SK + _U * _SKP) / den}
        values = {_SK: s_val, _SKP: s_slope, _U: u, _D1: d1, _D2: d2}
        return {key: expr.xreplace(side).xreplace(values) for key, expr in exprs.items()}

    # ------------------------------------------------------------- numerics
    def evaluate(self, **overrides) -> dict:
        """Numeric values of :data:`CORRELATED_KEYS`, broadcasting over
        array-valued ``ridge``, ``samples`` and ``noise``.

        ``(kappa, nu)`` solve ``df1_K(nu) = q df1_Sigma(kappa)``, ``kappa nu
        u = lam`` by bracketed, safeguarded Newton (the outer unknown is
        ``kappa`` when ``q (1 - mass_0) < 1`` and ``nu`` otherwise, so the
        side that tends to a positive limit as ``lam -> 0`` is the inner
        one; a sweep of more than 32 ridges solves 24 of them so and starts
        Newton on the pair from them, with a certified residual or the
        bracketed solve as fallback); the keys are compiled from the formulas of the module with the
        laws' certified values.  At ``lam = 0`` with more features than
        samples ``nu = 0``: ``S = +oo`` and ``E_tr = 0``; at the
        interpolation threshold ``q (1 - mass_0) = 1`` the noise terms are
        ``+oo`` when ``sigma^2 > 0``."""
        lam, p, s2 = self._ridge_sweep(overrides)
        n = float(self._num("dimension", trace_dimension(self.dimension)))
        shape = lam.shape
        lam, q, s2 = lam.ravel(), (n / p).ravel(), s2.ravel()
        kappa, nu = solve_pair(self.population, self.sample_correlation, lam, q)
        pop, K = self.population, self.sample_correlation
        d1, d2 = pop.df1_numeric(kappa), pop.df2_numeric(kappa)
        side = sample_side(K, nu)
        thresh = (kappa == 0) & (nu == 0)
        exprs = _compiled_formulas(self)
        vals = (kappa, nu, q, s2, d1, d2, side["u"], side["t"], side["a"], side["c"])
        out = {}
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for key in CORRELATED_KEYS:
                out[key] = np.broadcast_to(np.asarray(exprs[key](*vals, finite=False), dtype=float), lam.shape).copy()
        # S = kappa/lam (the kappa equation) where lam > 0; +oo at nu = 0
        pos = lam > 0
        with np.errstate(over="ignore", divide="ignore"):
            out["S"] = np.where(pos, kappa / np.where(pos, lam, 1.0), np.inf)
        inner = ~pos & (nu > 0)  # lam = 0, fewer features than samples: S = 1/(nu u)
        out["S"][inner] = 1 / (nu[inner] * side["u"][inner])
        if np.any(thresh):
            # kappa = nu = 0: gamma = 1, the signal terms vanish (Bias^2 / (1 -
            # gamma) = O(kappa), as for LinearRidge), the noise terms diverge
            noisy = np.where(s2 > 0, np.inf, 0.0)
            out["gamma"] = np.where(thresh, 1.0, out["gamma"])
            for key in ("bias2", "var_X", "Etr"):
                out[key] = np.where(thresh, 0.0, out[key])
            for key in ("var_X_noise", "Eg", "gcv", "corr_gcv"):
                out[key] = np.where(thresh, noisy, out[key])
        _certify(out, lam, thresh, s2, nu)
        return {key: out[key].reshape(shape) for key in CORRELATED_KEYS}


    def test_point_risk(self, correlation, *, sample_matrix=None, **overrides) -> np.ndarray:
        r"""The risk ``E (y_* - x_* . w_hat)^2`` at a test point correlated with
        the training set, ``correlation[t] = E[x_* x_t^T]/Sigma`` (``c``, a
        ``P``-vector; the next step of an AR(1) series has ``c_t =
        rho^(P + 1 - t)``), with ``K_** = 1`` [R22].

        Conditioning the Gaussian test point on the training rows, ``x_* =
        X^T a + sqrt(s) g`` with ``a = K^{-1} c`` and ``s = 1 - c^T K^{-1} c``;
        the one-point equivalent on the sample side, ``lam (G + lam)^{-1} ~
        nu (K + nu)^{-1}`` for ``G = X X^T/P``, differentiated in a source
        added to ``Sigma`` (bias) or to ``K`` (noise) gives, for noise with
        the data's correlations (the test label's noise included),

        .. math::
            R(c) = (E_g + \sigma^2)\,\big[1 - c^\top (K + 2\nu)(K + \nu)^{-2} c\big],

        and for white noise

        .. math::
            R(c) = s E_g + \sigma^2 + \nu^2\frac{\mathrm{Bias}^2}{1-\gamma}\,a^\top K (K+\nu)^{-2} a
            + \sigma^2\Big[a^\top K (K+\nu)^{-1} a - \frac{q(d_1 - d_2)\,u\nu}{u^2 - e_2 q d_2}\,a^\top K (K+\nu)^{-2} a\Big].

        ``c = 0`` gives ``E_g + sigma^2``; averaging over the training points
        themselves (``c = K e_i``) gives ``E_tr``.  The quadratic forms are
        taken in the eigenbasis of the ``P x P`` matrix ``sample_matrix``
        (default: the Toeplitz matrix of an :class:`~freeprob.AR1` law).

        Parameters
        ----------
        correlation : array of shape ``(P,)`` or ``(m, P)`` (several test points)
        sample_matrix : the ``P x P`` correlation matrix ``K`` of the training rows
        overrides : ``ridge`` (array) or ``noise``, as for :meth:`evaluate`

        Returns an array of shape ``(m, n)`` over the ``n`` points of the
        (flattened) ridge/noise sweep, squeezed to ``(n,)`` for one test point.

        >>> import freeprob, numpy as np
        >>> m = freeprob.CorrelatedRidge(freeprob.Identity(1), freeprob.AR1(0.9), noise_correlation="data",
        ...                              noise=0.5, samples=400, dimension=200, ridge=0.1)
        >>> c_next = 0.9 ** np.arange(400, 0, -1)              # the next step of the series
        >>> r = m.test_point_risk(c_next); e = m.evaluate()
        >>> bool(r < e["Eg"] + 0.5)                           # a forecast looks better than a fresh point
        True
        """
        from freeprob.laws import AR1

        bad = set(overrides) - {"ridge", "noise"}
        if bad:
            raise ParameterError(sorted(bad)[0], overrides[sorted(bad)[0]], "ridge or noise")
        p = int(self._num("samples", self.samples))
        if sample_matrix is None:
            if not isinstance(self.sample_correlation, AR1):
                raise ParameterError("sample_matrix", None, f"the {p} x {p} correlation matrix of the training rows",
                                     "only an AR1 law fixes its matrix")
            sample_matrix = self.sample_correlation.toeplitz(p)
        kmat = real_array("sample_matrix", sample_matrix)
        if kmat.shape != (p, p) or not np.all(np.isfinite(kmat)) or not np.allclose(kmat, kmat.T):
            raise ParameterError("sample_matrix", f"an array of shape {kmat.shape}", f"a finite symmetric {p} x {p} matrix")
        cvec = np.atleast_2d(real_array("correlation", correlation))
        if cvec.ndim != 2 or cvec.shape[1] != p or not np.all(np.isfinite(cvec)):
            raise ParameterError("correlation", f"an array of shape {np.shape(correlation)}", f"finite arrays of length {p}")
        lam_k, vec = np.linalg.eigh(kmat)
        if lam_k[0] <= 0:
            raise ParameterError("sample_matrix", f"smallest eigenvalue {lam_k[0]:.3g}", "a positive definite matrix")
        ct2 = (cvec @ vec) ** 2  # (m, P): squared coordinates of c in the eigenbasis of K
        s = 1 - ct2 @ (1 / lam_k)
        if np.any(s < -1e-12):
            raise ParameterError("correlation", f"1 - c^T K^-1 c = {s.min():.3g}",
                                 "a correlation consistent with K (the joint covariance must be positive)")
        raw = self.evaluate(**overrides)
        out = {key: np.ravel(v) for key, v in raw.items()}  # the sweep's points along the last axis
        nu, eg = out["nu"], out["Eg"]
        s2 = np.ravel(np.broadcast_to(np.asarray(self._value(overrides, "noise"), dtype=float), np.shape(raw["nu"])))
        den = lam_k[None, :] + nu[:, None]  # (n_ridge, P)
        q1 = ct2 @ (1 / (lam_k[None, :] * den**2)).T  # a^T K (K + nu)^-2 a
        q0 = ct2 @ (1 / (lam_k[None, :] * den)).T  # a^T K (K + nu)^-1 a
        vals = {_S: s[:, None], _Q0: q0, _Q1: q1, NU: nu[None, :], SIGMA2: s2[None, :], _EG: eg[None, :],
                _B: out["bias2"][None, :], _G: out["gamma"][None, :], _U: out["df1_K"][None, :],
                _E2: out["df2_K"][None, :], _D1: out["df1"][None, :], _D2: out["df2"][None, :],
                C.q: float(self.ratio)}
        expr = _TEST_RISK[self.noise_correlation]
        args = tuple(vals)
        risk = np.asarray(compile_expr(expr, args, dtype=float)(*vals.values(), finite=False), dtype=float)
        risk = np.broadcast_to(risk, (cvec.shape[0], nu.size))
        return risk[0] if np.ndim(correlation) == 1 else risk


def _noise_kind(value, K):
    """``None`` (white) or ``"data"``; the laws ``Identity(1)`` and ``K`` itself map to them."""
    if value is None or (isinstance(value, str) and value == "data"):
        return value
    if isinstance(value, SpectralLaw):
        if value == Identity(1):
            return None
        if value == K:
            return "data"
    raise ParameterError("noise_correlation", repr(value), "None (white noise), 'data' (covariance sigma^2 K), "
                         "Identity(1) or the sample correlation's own law",
                         "another correlation commuting with K is a function of K that two laws do not determine")


@cached(maxsize=64)
def _compiled_formulas(model):
    """The formulas compiled once per model (keyed on its frozen value)."""
    exprs = _formulas(model._linear()._bias2(C.kappa, _D1, _D2), model.noise_correlation)
    args = (C.kappa, NU, C.q, SIGMA2, _D1, _D2, _U, _T, _A, _CC)
    return {key: compile_expr(expr, args, dtype=float) for key, expr in exprs.items()}


def _certify(out, lam, thresh, s2, nu):
    """Every value finite except the derived infinities (``S`` at ``nu = 0``,
    the noise terms at the threshold); otherwise :class:`NumericalError`."""
    allowed = {"S": (nu == 0) | np.isinf(out["S"]) & (lam > 0)}
    for key in ("var_X_noise", "Eg", "gcv", "corr_gcv"):
        allowed[key] = thresh & (s2 > 0)
    for key in CORRELATED_KEYS:
        bad = ~np.isfinite(out[key]) & ~allowed.get(key, False)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise NumericalError(f"{key} = {out[key][i]!r} at ridge = {lam[i]!r}, noise = {s2[i]!r}")

