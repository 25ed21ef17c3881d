r"""Random-feature ridge regression: nested renormalization [R12]-[R19].

``RandomFeatureRidge`` holds the model of [C14]: inputs ``x ~ N(0, Sigma)``
of dimension ``D``, features ``z = F^T x + xi`` with ``F = F_1 ... F_L``
(``F_l`` of size ``N_{l-1} x N_l``, ``N_0 = D``) or ``F = G Sigma_F^{1/2}/sqrt(D)``,
feature noise ``xi ~ N(0, sigma_xi^2 I_N)``, a ridge readout on ``P``
samples with the ``1/P`` loss, ``phi = P/D``, ``psi_l = N_l/D`` and every df
normalized by ``D`` (pitfalls P1, P3).

**Derived, not typed.**  The feature Gram ``F F^T`` enters only through its
S-transform ``S_F(df)`` (``D``-normalized, the paper's convention [C10]):

* white layers with entry variance ``v_l``: the free product of Wishart laws
  ``MarchenkoPastur(1/psi_l, psi_l D v_l)`` (``free_mul``, giving
  ``S_F = prod_l 1/(D v_l (psi_l - df))`` [R12], [R17]);
* anisotropic weights: the dimension change of ``Sigma_F boxtimes MP(psi)``
  from ``N`` to ``D`` dimensions, ``S_F(df) = 1/(df kappa_F(df/psi))`` with
  ``kappa_F`` the inverse of the ``N``-normalized ``df1_{Sigma_F}`` [R18].

With ``S_W = 1/(1 - df/phi)`` (white Wishart data, [R1]) and ``df1 =
df1_Sigma(kappa_2)``, multiplicativity gives [R12], [R19]:

.. math::
    \kappa_2 = (\kappa_1 + \sigma_\xi^2)\,S_F(\mathrm{df}_1),\quad
    \overline{\mathrm{df}}_1 = \mathrm{df}_1 + \sigma_\xi^2\,\frac{(\psi_L - \mathrm{df}_1)S_F(\mathrm{df}_1)}{\kappa_2},\quad
    \lambda = \kappa_1\Big(1 - \frac{\overline{\mathrm{df}}_1}{\phi}\Big),

an explicit map ``kappa_2 -> (kappa_1, lambda)``, increasing beyond the
bottleneck ``kappa_min``; ``rho = d log kappa_2/d log kappa_1``, ``gamma_1 =
1 - d lambda/d kappa_1`` and ``gamma_2 = df2/phi`` are its derivatives
[R13], and the errors follow [R13], [R14]:

.. math::
    \mathrm{Bias}^2 = \kappa_2^2(-\mathrm{tf}_1'),\ \
    \mathrm{Var}_X = \mathrm{Bias}^2\tfrac{\gamma_2}{1-\gamma_2},\ \
    \mathrm{Var}_F = (1-\rho)\kappa_2\mathrm{tf}_2,\ \
    \mathrm{Var}_{XF} = \tfrac{\kappa_2\mathrm{tf}_1 - \rho\kappa_2\mathrm{tf}_2}{1-\gamma_1}
    - \mathrm{Bias}^2 - \mathrm{Var}_X - \mathrm{Var}_F,

``Var_Xeps = sigma^2 gamma_2/(1 - gamma_2)``, ``Var_XFeps = sigma^2
(gamma_1/(1 - gamma_1) - gamma_2/(1 - gamma_2))``, ``E_g`` their sum and
``E_tr = (E_g + sigma^2)/S_W^2`` with ``S_W = kappa_1/lambda``.

>>> import freeprob
>>> m = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=300, samples=100, ridge=0.0,
...                                 dimension=200)
>>> round(float(m.evaluate()["Eg"]), 12)      # (1 - m) max(N,P)/|N-P|, m = P/D = 1/2 [R15]
0.75
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ParameterError
from freeprob.laws import MarchenkoPastur, SpectralLaw, free_mul, is_positive_law
from freeprob.models._features_maps import (
    _D1,
    _D2,
    _DKF,
    _KF,
    COMPOSITES,
    RF_KEYS,
    _maps,
    _quantities,
    _s_dimension_change,
    means_inline,
)
from freeprob.models.design import (
    DIMENSION,
    FEATURE_NOISE,
    NOISE,
    RIDGE,
    SAMPLES,
    WIDTHS,
    freeze_target,
    population_dimension,
    target_spectrum,
    target_weights,
)
from freeprob.models.equivalence import Step
from freeprob.models.filters import EstimatorModel
from freeprob.parameters import declare

__all__ = ["RandomFeatureRidge", "RF_KEYS", "COMPOSITES"]

P_SYM = sp.Symbol("P", positive=True)


@dataclass(frozen=True)
class RandomFeatureRidge(EstimatorModel):
    """Linear random-feature ridge regression (see the module).

    A frozen dataclass (:class:`~freeprob.models.base.AbstractModel`):
    ``replace(**changes)`` gives a new model; equal models hash alike.

    Parameters
    ----------
    population : spectral law of the input covariance ``Sigma`` (dimension ``D``)
    widths : ``N`` or ``[N_1, ..., N_L]`` (positive integers or symbols; held as a tuple)
    samples : ``P``; ridge : ``lambda >= 0`` on ``||v||^2`` with the ``1/P`` loss (P2)
    target : None (isotropic, ``||wbar|| = 1``), an array in the eigenbasis, or :class:`~freeprob.SourceTarget`
    noise : label-noise variance ``sigma^2``
    feature_covariance : law of ``Sigma_F`` (one layer, ``N`` eigenvalues) for ``F = G Sigma_F^{1/2}/sqrt(D)``
    feature_noise : ``sigma_xi^2`` per feature, ``z = F^T x + xi`` [R19]
    layer_variance : ``"input"`` (every layer ``N(0, 1/D)``) or ``"fan_in"`` (``N(0, 1/N_{l-1})``) [R17]
    dimension : ``D`` when the population law does not fix it; a ``Discrete``
        law takes any ``D`` (its atoms then have multiplicities ``D p_k``;
        default: the number of atoms)
    estimator : None (ridge) or a spectral estimator of the readout on the feature Gram
        ``Z^T Z/P`` (:class:`~freeprob.GradientFlow`, ...) [C18]; ``ridge`` is then the estimator's
    """

    population: SpectralLaw
    widths: object
    samples: object = P_SYM
    ridge: object = C.lam
    target: object = None
    noise: object = 0
    feature_covariance: object = None
    feature_noise: object = 0
    layer_variance: str = "input"
    dimension: object = None
    estimator: object = None

    SWEEPABLE = ("ridge", "samples", "noise", "feature_noise", "widths")
    PARAMETERS = declare(WIDTHS, SAMPLES, RIDGE, NOISE, FEATURE_NOISE, DIMENSION)

    def __post_init__(self):
        self._take_estimator()
        widths = self.widths
        ws = tuple(widths) if isinstance(widths, (list, tuple)) else (widths,)
        if not ws:
            raise ParameterError("widths", widths, "a positive integer or a nonempty list of them")
        P = self.PARAMETERS
        self._set(dimension=population_dimension(self.population, self.dimension),
                  widths=tuple(P["widths"].validate(w, f"widths[{i}]" if len(ws) > 1 else "widths")
                               for i, w in enumerate(ws)),
                  samples=P["samples"].validate(self.samples),
                  ridge=P["ridge"].validate(self.ridge),
                  noise=P["noise"].validate(self.noise),
                  feature_noise=P["feature_noise"].validate(self.feature_noise),
                  target=freeze_target(self.target))
        if self.layer_variance not in ("input", "fan_in"):
            raise ParameterError("layer_variance", self.layer_variance,
                                 "'input' (N(0, 1/D)) or 'fan_in' (N(0, 1/N_{l-1}))")
        feature_covariance = self.feature_covariance
        if feature_covariance is not None:
            if not isinstance(feature_covariance, SpectralLaw):
                raise ParameterError("feature_covariance", repr(feature_covariance), "a freeprob spectral law")
            if len(self.widths) != 1:
                raise ParameterError("feature_covariance", repr(feature_covariance), "None for deep chains",
                                     "anisotropic weights are defined for one layer [R18]")
            if feature_covariance.finite_spectrum is not None and not feature_covariance.dimension_free:
                # a PowerLaw fixes its size; a Discrete law is a spectral
                # distribution at any width (multiplicities N p_k)
                n_f = feature_covariance.finite_spectrum.size
                if sp.sympify(n_f) != sp.sympify(self.widths[0]):
                    raise ParameterError("feature_covariance", f"{n_f} eigenvalues",
                                         f"{self.widths[0]} (the width N)")
            if feature_covariance.free_symbols:
                raise ParameterError("feature_covariance", repr(feature_covariance), "a law with numeric parameters")
            if is_positive_law(feature_covariance) is not True:
                raise ParameterError("feature_covariance", repr(feature_covariance), "a law supported on [0, oo)")
        target_spectrum(self.population, self.target, self.dimension)  # validates the target

    @property
    def _weights(self):
        return target_weights(self.population, self.target, self.dimension)

    # ------------------------------------------------------------ symbolic
    @property
    def psis(self) -> tuple:
        """``psi_l = N_l/D`` as symbols (values by :meth:`evaluate`)."""
        return tuple(C.width_ratio(i + 1) for i in range(len(self.widths)))

    def feature_law(self) -> SpectralLaw:
        """The ``D``-normalized law of ``F F^T`` for white layers: the free
        product of ``MarchenkoPastur(1/psi_l, psi_l D v_l)`` [R12], [R17]."""
        if self.feature_covariance is not None:
            raise ParameterError("feature_covariance", repr(self.feature_covariance), "None",
                                 "anisotropic F F^T is known through kappa_F, not as a law")
        law = None
        for i, psi in enumerate(self.psis):
            dv = 1 if self.layer_variance == "input" else (1 if i == 0 else 1 / self.psis[i - 1])
            layer = MarchenkoPastur(1 / psi, psi * dv)
            law = layer if law is None else free_mul(law, layer)
        return law

    def s_features(self, df=C.df) -> sp.Expr:
        r"""``S_F(df)``, the ``D``-normalized S-transform of ``F F^T`` (see the
        module); for anisotropic weights in terms of ``kappa_F`` [R18]."""
        if self.feature_covariance is None:
            return self.feature_law().s_transform(df, convention="df")
        return _s_dimension_change(df, self.psis[0])

    def steps(self) -> tuple:
        """The derivation of the ``kappa_1``/``kappa_2`` equations, step by step."""
        d, k1, k2, lam = C.df, C.kappa1, C.kappa2, C.lam
        s_f, s_w = sp.Function("S_F"), sp.Function("S_W")
        out = [
            Step(sp.Eq(s_w(d), MarchenkoPastur(1 / C.phi).s_transform(d, convention="df")),
                 "S-transform of the white Wishart data noise, ratio D/P", "[R1]"),
            Step(sp.Eq(s_f(d), self.s_features(d)),
                 "free product of the layers' Wishart laws" if self.feature_covariance is None else
                 "Sigma_F boxtimes MP(N/D), dimension change N -> D", "[R17]" if len(self.widths) > 1 else
                 ("[R12]" if self.feature_covariance is None else "[R18]")),
            Step(sp.Eq(k1, lam * s_w(sp.Symbol(r"\overline{df}_1"))),
                 "one-point equivalent over the data at fixed F", "[R12]"),
            Step(sp.Eq(k2, (k1 + C.sigma_xi2) * s_f(d)),
                 "average over F; feature noise acts as an extra ridge", "[R19]"),
        ]
        m = self.maps()
        out.append(Step(sp.Eq(lam, self._display(m["lam"])), "explicit map kappa_2 -> lambda", "[R12]"))
        return tuple(out)

    def maps(self) -> dict:
        """The explicit maps in ``kappa_2`` (with ``kappa_F`` held as a value
        for anisotropic weights): ``df1``, ``df2``, ``S_F``, ``kappa1``,
        ``dfbar1``, ``lam`` and their ``kappa_2``-derivatives (``d...``)."""
        return {k: self._with_means(v) for k, v in _maps(self).items()}

    def quantities(self) -> dict:
        """Every key of :meth:`evaluate` as a sympy expression in ``kappa_2``,
        ``phi``, ``psi_l``, ``sigma2``, ``sigma_xi2`` [R13], [R14]."""
        return {k: self._display(self._with_means(v)) for k, v in _quantities(self).items()}

    def isotropic_ridgeless_closed_forms(self) -> dict:
        r"""Ridgeless closed forms of the isotropic one-layer model ``Sigma =
        I``, ``Sigma_F = I``, no feature noise [R15], derived from this
        model's own maps (not typed).  ``lambda = 0`` puts ``kappa_2`` at the
        bottleneck ``df1(kappa_2) = m``: ``m = psi`` (``N < P``, ``kappa_1 =
        0``) or ``m = phi`` (``P < N``, ``1 - dfbar1/phi = 0``); the errors are
        the model's ``E_g`` there, split into signal (``sigma^2 = 0``) and
        noise.  Keys: ``kappa2_width_limited``, ``signal_width_limited``,
        ``noise_width_limited`` (``N < P``) and the ``..._data_limited``
        counterparts (``P < N``).

        >>> import freeprob, sympy as sp
        >>> m = freeprob.RandomFeatureRidge(freeprob.Identity(1), widths=sp.Symbol("N", positive=True),
        ...                                 dimension=sp.Symbol("D", positive=True))
        >>> m.isotropic_ridgeless_closed_forms()["noise_width_limited"]
        psi_1*sigma2/(phi - psi_1)
        """
        from freeprob.laws import Identity

        if not isinstance(self.population, Identity) or self.population.scale != 1 or len(self.widths) != 1 \
                or self.feature_covariance is not None:
            raise ParameterError("model", repr(self), "one layer, Identity(1) population, white features")
        k2, phi, psi, s2 = C.kappa2, C.phi, self.psis[0], C.sigma2
        qs = {k: self._with_means(v).subs(C.sigma_xi2, 0) for k, v in _quantities(self).items()}
        df1 = self.population.df1(k2)
        out = {}
        for name, m in (("width_limited", psi), ("data_limited", phi)):
            root = [r for r in sp.solve(sp.numer(sp.together(df1 - m)), k2)]
            if len(root) != 1:
                raise ParameterError("model", repr(self), "a unique bottleneck root")
            eg = qs["Eg"].subs(k2, root[0])
            out[f"kappa2_{name}"] = sp.simplify(root[0])
            out[f"signal_{name}"] = sp.factor(sp.simplify(eg.subs(s2, 0)))
            out[f"noise_{name}"] = sp.factor(sp.simplify(eg - eg.subs(s2, 0)))
        return out

    def _with_means(self, expr):
        """``df1``, ``df2`` of the population in place of the value symbols
        that the numeric maps keep for laws without a finite spectrum."""
        if means_inline(self):
            return expr
        pop, k2 = self.population, C.kappa2
        return expr.subs({_D1: pop.df1(k2), _D2: pop.df2(k2)})

    def _display(self, expr):
        if self.feature_covariance is None:
            return expr
        u = sp.Dummy("u")
        t = self.population.df1(C.kappa2) / self.psis[0]
        return expr.subs({_KF: C.kappa_F(t), _DKF: sp.Subs(sp.Derivative(C.kappa_F(u), u), u, t)})

    # ------------------------------------------------------------- numerics
    def evaluate(self, *, method: str | None = None, **overrides) -> dict:
        """Numeric values of :data:`RF_KEYS`, broadcasting over array-valued
        ``ridge``, ``samples``, ``noise``, ``feature_noise`` and (one layer)
        ``widths``.  ``kappa_2`` is solved by the bracketed inversion of the
        explicit map ``lam(kappa_2)`` above ``kappa_min`` (the largest zero of
        ``kappa_1`` and of ``1 - dfbar1/phi``, the ridgeless limit [R12]).

        With a spectral ``estimator`` other than :class:`~freeprob.Ridge` (or
        ``method="contour"``) the keys are those of
        :mod:`freeprob.models._features_spectral` (``dfbar1``, ``approx``,
        ``bias2``, ``var_F``, ``var_X``, ``var_XF``, ``var_X_noise``, ``var_XF_noise``,
        ``Eg``, ``Etr``): the contour
        route on the feature-space linear problem [C18], sweeping the
        estimator's parameters too (``evaluate(time=array)``); white, deep
        and anisotropic weights.  A :class:`~freeprob.SpectralCutoff` below
        the bulk of nonzero sample eigenvalues is the ridgeless readout;
        inside the bulk it takes two contours through the threshold."""
        if method not in (None, "closed", "contour"):
            raise ParameterError("method", method, "{'closed', 'contour'}")
        est = self.estimator
        if method == "contour" or (est is not None and est.ROUTE != "resolvent"):
            if method == "closed":
                raise ParameterError("method", method, "'contour' for a non-ridge estimator")
            from freeprob.models._features_spectral import evaluate_features_spectral
            from freeprob.models.filters import Ridge

            est = est if est is not None else Ridge(self.ridge)
            return evaluate_features_spectral(self, est, overrides)
        from freeprob.models._features_numeric import evaluate

        return evaluate(self, overrides)

    def __repr__(self):
        extra = "" if self.feature_covariance is None else f", feature_covariance={self.feature_covariance!r}"
        if self.estimator is not None:
            extra += f", estimator={self.estimator!r}"
        return (f"RandomFeatureRidge({self.population!r}, widths={list(self.widths)}, samples={self.samples}, "
                f"D={self.dimension}{extra}, layer_variance={self.layer_variance!r})")
