r"""The symbolic side of random-feature ridge regression (private to :mod:`freeprob.models`).

The explicit maps ``kappa_2 -> (kappa_1, lambda)`` and every quantity of
[R13], [R14] as sympy expressions, built from the S-transforms that
:class:`~freeprob.models.features.RandomFeatureRidge` derives.  The numeric
solver (:mod:`freeprob.models._features_numeric`) compiles these same
expressions; neither imports the model class.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ParameterError
from freeprob.laws import MarchenkoPastur
from freeprob.models.design import target_spectrum
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.spectrum import (
    SpectralMean,
    absorb_means,
    absorb_powers,
    absorb_sums,
)
from freeprob.numeric.stable import complement_form

#: the keys of :meth:`RandomFeatureRidge.evaluate`, in order
RF_KEYS = ("kappa1", "kappa2", "df1", "df2", "gamma1", "gamma2", "rho", "bias2", "var_X", "var_F", "var_XF",
           "var_X_noise", "var_XF_noise", "Eg", "Etr")

_KF, _DKF = sp.symbols("kappa_F_value kappa_F_slope", positive=True)  # kappa_F(t), kappa_F'(t) at t = df1/psi
#: t kappa_F(t) and (t kappa_F(t))' = kappa_F' df2_F(kappa_F): finite as t -> 0, where kappa_F ~ 1/t
_PKF, _GKF = sp.Symbol("kappa_F_product", positive=True), sp.Symbol("kappa_F_product_slope", real=True)
_PARTS = sp.symbols("bias2 var_X var_F var_XF var_X_noise var_XF_noise")
_EG, _SW = sp.symbols("E_g S_W")
#: E_g and E_tr as compositions of the components [R13], [R14]
COMPOSITES = {"Eg": sum(_PARTS), "Etr": (_EG + C.sigma2) / _SW**2}



def _s_dimension_change(df, psi):
    r"""``S_{F F^T}(df)`` in ``D`` dimensions from the ``N x N`` matrix
    ``Sigma_F^{1/2} (G^T G/D) Sigma_F^{1/2}`` [R2a], [R2c], [R18]:
    ``S_N(u) = S_{Sigma_F}(u) S_{MP(psi)}(u)`` with ``S_{Sigma_F}(u) = (1 - u)/(u
    kappa_F(u))`` [C10]; ``df1_D = psi df1_N`` so ``lambda_D(df) =
    lambda_N(df/psi)`` and ``S_D(df) = (1 - df)/(df lambda_D(df))``."""
    u = sp.Dummy("u")
    s_sigma_f = (1 - u) / (u * C.kappa_F(u))
    s_n = s_sigma_f * MarchenkoPastur(psi).s_transform(u, convention="df")
    lam_n = (1 - u) / (u * s_n)
    lam_d = lam_n.subs(u, df / psi)
    return sp.simplify((1 - df) / (df * lam_d))


@cached(maxsize=64)
def _maps(model, placeholders=False):
    """See :meth:`RandomFeatureRidge.maps` (internal symbols ``_KF``, ``_DKF``).

    Built on placeholders ``df1``, ``df2`` so that derivatives follow
    ``d df1/d kappa_2 = -(df1 - df2)/kappa_2`` [C6] and every map needs only
    the two spectral means of ``df1`` and ``df2`` (one fused pass); with
    ``placeholders=True`` they stay placeholders for every law (the contour
    route supplies them at complex ``kappa_2``)."""
    k2, sx = C.kappa2, C.sigma_xi2
    d1, d2 = _D1, _D2
    psi_last = model.psis[-1]
    if model.feature_covariance is None:
        # as a ratio of polynomials in df, factor by factor (one univariate
        # cancel per layer, O(L)): the factors psi_l - df stay sums that the
        # numeric boundary absorbs into one mean (_compiled)
        groups = {psi: sp.S.One for psi in model.psis}
        rest = sp.S.One
        for f in sp.Mul.make_args(model.s_features(C.df)):
            owners = [psi for psi in model.psis if f.has(psi)]
            if len(owners) > 1:
                raise ParameterError("widths", model.widths, "an S-transform that factors over the layers")
            if owners:
                groups[owners[0]] *= f
            else:
                rest *= f
        factors = [sp.factor(sp.cancel(g)) for g in groups.values()]
        s_f = (rest * sp.Mul(*factors)).xreplace({C.df: d1})
        # (psi_L - df) S_F(df) cancels one factor of S_F exactly (white
        # layers): finite at the width bottleneck df1 = psi_L, where S_F = oo
        factors[-1] = sp.factor(sp.cancel((psi_last - C.df) * factors[-1]))
        noise_factor = (rest * sp.Mul(*factors)).xreplace({C.df: d1})
    else:
        s_f = 1 / (d1 * _KF)
        noise_factor = (psi_last - d1) * s_f
    kappa1 = k2 / s_f - sx
    dfbar = d1 + sx * noise_factor / k2
    # 1 - dfbar/phi with its df1 part kept as one sum, (1 - df1/phi): the
    # numeric boundary absorbs it into one mean, exact at P = D (_compiled)
    f_w = (1 - d1 / C.phi) - sx * noise_factor / (k2 * C.phi)
    lam = kappa1 * f_w
    out = {"df1": d1, "df2": d2, "S_F": s_f, "kappa1": kappa1, "dfbar1": dfbar, "lam": lam, "S_W": 1 / f_w}
    for key in ("kappa1", "dfbar1", "lam"):
        out["d" + key] = _total_diff(model, out[key])
    if placeholders or not means_inline(model):
        return out  # df1, df2 stay values: the law's certified evaluators supply them
    pop = model.population
    means = {d1: pop.df1(k2), d2: pop.df2(k2)}
    return {key: val.xreplace(means) for key, val in out.items()}


def means_inline(model) -> bool:
    """True when ``df1``, ``df2`` enter the compiled maps as spectral means
    (a population with a finite spectrum: one fused pass over its atoms);
    False for a law known in closed form or through a curve, whose ``df1``,
    ``df2`` come from the law's own certified evaluators (``df1_numeric``,
    ``df2_numeric``: no cancellation, any ``kappa_2``)."""
    return model.population.finite_spectrum is not None


_D1, _D2 = sp.symbols("df1_placeholder df2_placeholder", positive=True)
_C1, _C2 = sp.symbols("cdf1_placeholder cdf2_placeholder", positive=True)  # 1 - df1, 1 - df2
_KEEP = frozenset({C.kappa2, C.sigma2, C.sigma_xi2, _KF, _DKF})  # not parameters: kept apart by complement_form


def _total_diff(model, expr):
    """``d expr/d kappa_2`` with ``df1``, ``df2`` as placeholders (``d df1/d
    kappa_2 = -(df1 - df2)/kappa_2``, ``df2`` does not occur in the maps) and
    ``kappa_F(t)``, ``t = df1/psi``, held as the value ``_KF``: ``d _KF/d
    kappa_2 = _DKF dt/d kappa_2``."""
    k2 = C.kappa2
    ddf1 = -(_D1 - _D2) / k2
    if expr.has(_D2):
        raise ParameterError("maps", expr, "expressions in df1 only")
    out = sp.diff(expr, k2) + sp.diff(expr, _D1) * ddf1
    if model.feature_covariance is not None:
        out += sp.diff(expr, _KF) * _DKF * ddf1 / model.psis[0]
    return out


@cached(maxsize=64)
def _quantities(model):
    """Every key as an expression in ``kappa_2`` (and the model's symbols),
    once per frozen model: ``evaluate`` would otherwise rebuild it (sympy
    work, 10 ms) on every call."""
    return _assemble(model, far=False)


#: the keys that :func:`far_field_quantities` writes for ``kappa_2 -> oo``
FAR_KEYS = ("gamma1", "var_F", "var_XF", "var_XF_noise")


@cached(maxsize=64)
def far_field_quantities(model) -> dict:
    r"""The keys of :data:`FAR_KEYS` in forms that keep relative digits as
    ``kappa_2 -> oo`` (the numeric evaluator takes them where ``df2 <
    df1/2``, ``kappa_2`` beyond the bulk of the spectrum).

    There ``gamma_1 = 1 - lam'/kappa_1'`` and ``1 - rho`` fall like
    ``1/kappa_2^2`` and ``1/kappa_2`` as differences of ``O(1)`` terms, and
    ``Var_XF = E_inf/(1 - gamma_1) - Bias^2 - Var_X - Var_F`` like
    ``1/kappa_2^2`` as a difference of terms of the size of the null risk:
    ``10^-8`` relative was lost at ``kappa_2 = 10^4`` and the sign at
    ``10^8``.  Here (``lam = kappa_1 (1 - dfbar_1/phi)``):

    - ``gamma_1 = (kappa_1 dfbar_1)'/(phi kappa_1')`` and ``1 - rho = kappa_2
      (kappa_1/kappa_2)'/kappa_1'``, the derivatives with their leading terms
      cancelled symbolically (:func:`_far_field_numerators`);
    - ``Var_XF = E_inf gamma_1/(1 - gamma_1) - Var_X``, since ``E_inf -
      Var_F - Bias^2 = kappa_2 (tf1 - tf2 - kappa_2 tf1') = 0`` [C7].

    Where ``df2 < df1/2`` the terms of the numerator of ``gamma_1`` do not
    cancel (one white layer: ``df1^2 - 2 df1 df2 = df1 (df1 - 2 df2) > 0``);
    as ``kappa_2 -> 0``, ``df2 -> df1`` and it becomes a difference (``-> 0``
    at ``df1, df2 -> 1``, ``psi = 1``), so the forms of :func:`_quantities`,
    which keep ``1 - gamma_1`` and the thresholds' digits, stay there."""
    q = _assemble(model, far=True)
    return {key: q[key] for key in FAR_KEYS}


def _assemble(model, far):
    """The keys of :data:`RF_KEYS` [R13], [R14] (``far``: see
    :func:`far_field_quantities`)."""
    k2, s2 = C.kappa2, C.sigma2
    m = _maps(model)
    df1, df2 = m["df1"], m["df2"]
    rho = (m["kappa1"] / k2) / m["dkappa1"]
    if far:
        num = _far_field_numerators(model)
        dkappa1, dlam = num.get("dkappa1", m["dkappa1"]), num.get("dlam", m["dlam"])
        gamma1 = num["dkappa1_dfbar1"] / (C.phi * dkappa1)
        gamma1_odds = num["dkappa1_dfbar1"] / (C.phi * dlam)  # gamma_1/(1 - gamma_1)
        one_minus_rho = k2 * num["dkappa1_over_kappa2"] / dkappa1
        rho = 1 - one_minus_rho
    else:
        gamma1 = 1 - m["dlam"] / m["dkappa1"]
        gamma1_odds = gamma1 / (1 - gamma1)
        one_minus_rho = 1 - rho
    gamma2 = df2 / C.phi
    tf1, tf2, tf1p = _target_functionals(model, k2, df1, df2)
    bias2 = k2**2 * tf1p
    var_x = bias2 * gamma2 / (1 - gamma2)
    var_f = one_minus_rho * k2 * tf2
    e_inf = k2 * tf1 - rho * k2 * tf2
    if far:
        var_xf = e_inf * gamma1_odds - var_x
    else:
        var_xf = e_inf / (1 - gamma1) - bias2 - var_x - var_f
    var_xn = s2 * gamma2 / (1 - gamma2)
    var_xfn = s2 * (gamma1_odds - gamma2 / (1 - gamma2))
    parts = dict(zip(_PARTS, (bias2, var_x, var_f, var_xf, var_xn, var_xfn)))
    eg = COMPOSITES["Eg"].xreplace(parts)
    etr = COMPOSITES["Etr"].xreplace({_EG: eg, _SW: m["S_W"]})
    return {"kappa1": m["kappa1"], "kappa2": k2, "df1": df1, "df2": df2, "gamma1": gamma1, "gamma2": gamma2,
            "rho": rho, "bias2": bias2, "var_X": var_x, "var_F": var_f, "var_XF": var_xf, "var_X_noise": var_xn,
            "var_XF_noise": var_xfn, "Eg": eg, "Etr": etr}


@cached(maxsize=64)
def _far_field_numerators(model) -> dict:
    r"""``(kappa_1 dfbar_1)'`` and ``(kappa_1/kappa_2)'`` (``' = d/d kappa_2``)
    with the means inline as in :func:`_maps`, each coefficient of a power of
    ``sigma_xi^2`` factored on its own.

    As ``kappa_2 -> oo``, ``kappa_1 dfbar_1`` tends to a constant and
    ``kappa_1/kappa_2`` to 1, so the derivatives are ``O(1/kappa_2^2)``
    while the terms of the product rule are ``O(1/kappa_2)``: factored over
    the placeholders (``d df1/d kappa_2 = -(df1 - df2)/kappa_2`` [C6]) the
    leading terms cancel symbolically (one white layer: ``(kappa_1 dfbar_1)' =
    d2 psi + d1^2 - 2 d1 d2`` at ``sigma_xi^2 = 0``, each term
    ``O(1/kappa_2^2)``).  Factoring each power of ``sigma_xi^2`` apart keeps
    the quiet form (``sigma_xi^2 = 0``) free of the noise term's poles."""
    m = _maps(model, placeholders=True)
    sx = C.sigma_xi2
    aniso = model.feature_covariance is not None
    items = [("dkappa1_dfbar1", m["kappa1"] * m["dfbar1"]), ("dkappa1_over_kappa2", m["kappa1"] / C.kappa2)]
    if aniso:  # kappa_1' and lam' too: kappa_F' ~ -kappa_F/t alone overflows from kappa_2 ~ 1e154
        items += [("dkappa1", m["kappa1"]), ("dlam", m["lam"])]
    out = {}
    for key, expr in items:
        # kappa_1 and dfbar_1 are affine in sigma_xi^2 (_maps): three Taylor
        # coefficients are the expression exactly
        coeffs = [sp.diff(expr, sx, j).xreplace({sx: sp.S.Zero}) / sp.factorial(j) for j in range(3)]
        diffs = [_total_diff(model, c) for c in coeffs]
        if aniso:
            # kappa_F = (t kappa_F)/t and kappa_F' = ((t kappa_F)' - kappa_F)/t:
            # the 1/t of kappa_F and of t kappa_F' cancel symbolically (t =
            # df1/psi_1 -> 0 as kappa_2 -> oo), and no factor overflows
            t = _D1 / model.psis[0]
            diffs = [d.xreplace({_DKF: (_GKF - _PKF / t) / t}).xreplace({_KF: _PKF / t}) for d in diffs]
        out[key] = sum(sp.factor(sp.together(d)) * sx**j for j, d in enumerate(diffs))
    if not means_inline(model):
        return out
    pop, k2 = model.population, C.kappa2
    means = {_D1: pop.df1(k2), _D2: pop.df2(k2)}
    return {key: val.xreplace(means) for key, val in out.items()}


#: the keys whose forms in :func:`_quantities` are differences of terms that
#: diverge as ``kappa_2 -> 0`` at an interpolation threshold (``1 - rho``,
#: ``gamma_1/(1 - gamma_1) - gamma_2/(1 - gamma_2)``, ``e_inf/(1 - gamma_1) -
#: ...``): :func:`quantities_near` gives them as single factored ratios
NEAR_KEYS = ("var_F", "var_XF", "var_XF_noise")


@cached(maxsize=64)
def quantities_near(model) -> dict:
    """The keys of :data:`NEAR_KEYS` as single factored ratios in the
    placeholders ``df1``, ``df2`` (an isotropic target, one white layer,
    a normalized law); empty otherwise.

    At ``P = D`` (or ``N_l = D``) the terms of :func:`_quantities` grow like
    ``1/(1 - df1)`` while the keys stay finite, and the float difference
    loses ``|log10(1 - df1)|`` digits; as one ratio the cancellation is
    symbolic: ``gamma_1 - gamma_2 = -(kappa_2 (df1 - df2) + sigma_xi^2)^2/
    (kappa_2^2 phi (df2 - psi))`` (one white layer).  Written in ``1 - df``
    by :func:`stable_form` (``complements=True``), they keep their digits
    where ``df1 -> 1`` (inline means: :func:`inline_near`).  Deeper chains
    keep the forms of :func:`_quantities`: their factored ratios grow past
    10^3 operations (10^4 at three layers), and with their numerators
    expanded, two layers at ``P = N_1 = N_2 = D`` lost more digits than the
    differences they replace; so did anisotropic weights at their double
    limit (``kappa_F -> 0`` with ``kappa_2``)."""
    if model.dimension is sp.oo or len(model.psis) > 1 or model.feature_covariance is not None or \
            target_spectrum(model.population, model.target, model.dimension) is not None:
        return {}  # the kernel sums [C16] have no complement 1 - df
    k2, s2 = C.kappa2, C.sigma2
    m = _maps(model, placeholders=True)
    rho = (m["kappa1"] / k2) / m["dkappa1"]
    gamma1 = 1 - m["dlam"] / m["dkappa1"]
    gamma2 = _D2 / C.phi
    bias2 = k2 * (_D1 - _D2)
    var_x = bias2 * gamma2 / (1 - gamma2)
    var_f = (1 - rho) * k2 * _D2
    e_inf = k2 * _D1 - rho * k2 * _D2
    var_xf = e_inf / (1 - gamma1) - bias2 - var_x - var_f
    var_xfn = s2 * (gamma1 - gamma2) / ((1 - gamma1) * (1 - gamma2))
    # sigma_xi^2 enters as kappa_2 t: every map is then homogeneous in
    # kappa_2, whose powers cancel symbolically instead of under- or
    # overflowing in float (kappa_2^3 at 1e-130)
    t = sp.Dummy("t")
    out = {}
    for key, e in zip(NEAR_KEYS, (var_f, var_xf, var_xfn)):
        ratio = sp.factor(sp.together(e.xreplace({C.sigma_xi2: t * k2})))
        out[key] = ratio.xreplace({t: C.sigma_xi2 / k2})
    return out


def _target_functionals(model, k, df1, df2):
    """``tf1 = wbar^T Sigma (Sigma + k)^-1 wbar``, ``tf2``, ``-tf1'`` [C7]; for
    the isotropic target (``||wbar|| = 1``) the normalized traces ``df1``,
    ``df2`` and ``(df1 - df2)/k``."""
    spec = target_spectrum(model.population, model.target, model.dimension)
    if spec is None:
        return df1, df2, absorb_means(sp.expand((df1 - df2) / k)) if df1.atoms(SpectralMean) else (df1 - df2) / k
    x = _XT
    return (SpectralMean(x / (x + k), x, spec), SpectralMean(x**2 / (x + k) ** 2, x, spec),
            SpectralMean(x / (x + k) ** 2, x, spec))


_XT = sp.Dummy("x")  # the target means' variable: one Dummy, so equal models compile once


def _compiled(model, key_exprs, near_exprs=None):
    """Compile expressions in the numeric arguments of the model: ``kappa_2,
    phi, psi_1..psi_L, sigma^2, sigma_xi^2`` (then ``kappa_F``, ``kappa_F'``
    for anisotropic features, ``df1``, ``df2``, ``1 - df1``, ``1 - df2`` for
    laws not inline, as :func:`df_values` gives them; ``near_exprs``, the
    same keys in forms for ``df1 -> 1``, go to the form in ``1 - df``).

    The numeric boundary of the model (see :func:`stable_form`).  Points
    without feature noise take the expressions at ``sigma_xi^2 = 0``
    (:func:`without_feature_noise`): there the noise terms are 0 exactly,
    while the general form is ``0 * oo`` at a width bottleneck that is not
    the last layer (``sigma_xi^2/(kappa_2 (df1 - psi_1))`` at ``df1 =
    psi_1``)."""
    noisy = (tuple(key_exprs), None if near_exprs is None else tuple(near_exprs))
    quiet = without_feature_noise(*noisy)
    if quiet is None:
        return _one_form(model, *noisy)
    return _NoiseSplit(model, noisy, quiet, 3 + len(model.psis))


@cached(maxsize=256)
def without_feature_noise(key_exprs, near_exprs=None):
    """``(key_exprs, near_exprs)`` at ``sigma_xi^2 = 0``, or None when they
    do not contain it (or would not be finite there)."""
    exprs = [sp.sympify(e) for e in key_exprs + (near_exprs or ())]
    if not any(e.has(C.sigma_xi2) for e in exprs):
        return None
    zero = [e.xreplace({C.sigma_xi2: sp.S.Zero}) for e in exprs]
    if any(e.has(sp.nan, sp.zoo, sp.oo, -sp.oo) for e in zero):
        return None
    n = len(key_exprs)
    return tuple(zero[:n]), (None if near_exprs is None else tuple(zero[n:]))


class _NoiseSplit:
    """Two evaluators of the same keys, each compiled when first needed:
    the expressions ``quiet`` (at ``sigma_xi^2 = 0``) for the points whose
    ``sigma_xi^2`` (the argument at ``index``) is 0, ``noisy`` for the
    others (see :func:`_compiled`)."""

    def __init__(self, model, noisy, quiet, index):
        self.model, self.forms, self.index, self.made = model, {"noisy": noisy, "quiet": quiet}, index, {}

    def _get(self, which):
        if which not in self.made:
            self.made[which] = _one_form(self.model, *self.forms[which])
        return self.made[which]

    def __call__(self, *values, finite=True, trap=False):
        sx = np.asarray(values[self.index])
        if not np.any(sx):
            return self._get("quiet")(*values, finite=finite, trap=trap)
        if np.all(sx != 0):
            return self._get("noisy")(*values, finite=finite, trap=trap)
        values = np.broadcast_arrays(*(np.asarray(v) for v in values))
        zero = values[self.index] == 0
        return _by_points(zero.shape, [(sel, lambda s, f=self._get(which): f(*(v[s] for v in values), finite=finite,
                                                                            trap=trap))
                                       for which, sel in (("quiet", zero), ("noisy", ~zero))])


def _by_points(shape, parts):
    """The outputs of evaluators that each take a subset of the points:
    ``parts`` are ``(mask, run)`` pairs, ``run(mask)`` the evaluator's list
    of results at those points; masks without points are skipped."""
    out = None
    for sel, run in parts:
        if not sel.any():
            continue
        res = run(sel)
        if out is None:
            out = [np.empty(shape, dtype=np.result_type(r, float)) for r in res]
        for o, r in zip(out, res):
            o[sel] = r
    return out


def _one_form(model, key_exprs, near_exprs=None):
    """:func:`_compiled` for one set of expressions."""
    near = key_exprs if near_exprs is None else near_exprs
    tiny = 1e-40 * float(model.population._trace_mean()) if means_inline(model) else 0.0

    def build(shifted):
        return (stable_form(model, key_exprs, shifted=shifted),
                None if means_inline(model) else stable_form(model, near, complements=True, shifted=shifted))

    return _ShiftedWidths(build, len(model.psis), tiny)


def inline_near(model, near):
    """For inline means: the expressions ``near`` (in the placeholders
    ``df1``, ``df2``, see :func:`quantities_near`) written in the
    complements, which are the means ``<k/(x + k)>`` and ``<k (2x + k)/(x +
    k)^2>``, compiled as :func:`_compiled` does: for the points where ``1 -
    df1 < 1/2``, a second pass over the spectrum that only they take."""
    pop, k2 = model.population, C.kappa2
    c1, c2 = (absorb_means(sp.expand(1 - d)) for d in (pop.df1(k2), pop.df2(k2)))
    return _compiled(model, [complement_form(e, [(_D1, _C1), (_D2, _C2)], _KEEP).xreplace({_C1: c1, _C2: c2})
                             for e in near])


_E_PHI = sp.Dummy("e_phi")
_E_PSI = tuple(sp.Dummy(f"e_{i + 1}") for i in range(64))  # fixed symbols: the compile cache sees equal expressions


def stable_form(model, key_exprs, complements=False, shifted=True):
    """See :func:`_stable_form` (cached on the model and the expressions);
    ``shifted`` is one flag for ``phi`` and every width, or a tuple of them."""
    flags = tuple(bool(f) for f in shifted) if isinstance(shifted, tuple) else (bool(shifted),) * (1 + len(model.psis))
    return _stable_form(model, tuple(sp.sympify(e) for e in key_exprs), complements, flags)


@cached(maxsize=128)
def _stable_form(model, key_exprs, complements, shifted):
    """The expressions and arguments that the evaluators compile.

    ``phi`` and each width enter as ``1 + e`` where their flag in
    ``shifted`` is set (``e = phi - 1``, ``psi_l - 1``, passed as values by
    :class:`_ShiftedWidths`), as themselves where it is not (for a ratio
    below 1/2, of which ``phi - 1`` keeps ``1e-16/phi``), and for a
    normalized finite spectrum every sum affine in its means is absorbed into one mean
    (:func:`~freeprob.numeric.spectrum.absorb_sums`): a factor ``psi_l -
    df1`` becomes ``<(e_l (x + k) + k)/(x + k)>`` and ``1 - df1/phi`` becomes
    ``<(k + e x + e k)/((1 + e)(x + k))>``, exact at ``N_l = D`` and ``P = D``
    where ``df1 -> 1`` as ``kappa_2 -> 0`` and ``1 - df1`` would round to 0;
    ``df1 - df2`` becomes ``<x k/(x + k)^2>``.

    A law not inline supplies ``df1``, ``df2`` as values; with
    ``complements`` the expressions are written in ``c_i = 1 - df_i``
    instead (:func:`~freeprob.numeric.stable.complement_form`), so that ``1
    - df1/phi = (e + c_1)/(1 + e)`` and ``psi_l - df1 = e_l + c_1`` keep
    their digits where ``df1 -> 1`` [C6], as the absorbed means do."""
    layers = len(model.psis)
    eps = [_E_PHI] + list(_E_PSI[:layers]) + [sp.Dummy(f"e_{i + 1}") for i in range(len(_E_PSI), layers)]
    shift = {v: 1 + e if f else e for v, e, f in zip((C.phi, *model.psis), eps, shifted)}
    args = (C.kappa2, *eps, C.sigma2, C.sigma_xi2)
    exprs = [sp.sympify(e).xreplace(shift) for e in key_exprs]
    if model.feature_covariance is not None:
        args += (_KF, _DKF) + ((_PKF, _GKF) if any(e.has(_PKF, _GKF) for e in exprs) else ())
    if not means_inline(model):
        args += (_C1, _C2) if complements else (_D1, _D2)
        if complements:
            exprs = [complement_form(e, [(_D1, _C1), (_D2, _C2)], _KEEP) for e in exprs]
    if means_inline(model) and model.dimension is not sp.oo:  # the kernel sums [C16] are not normalized
        exprs = [absorb_sums(e) for e in exprs]
    elif means_inline(model):  # but products still move into the sums (linear)
        exprs = [absorb_powers(e) for e in exprs]
    return tuple(exprs), args


class _ShiftedWidths:
    """The compiled evaluator called with ``phi`` and the widths ``psi_l``
    themselves (see :func:`stable_form`); for a law not inline with the
    trailing values ``df1, df2, 1 - df1, 1 - df2``, evaluating the form in
    the complements (``near``: expressions and arguments) where ``df1 >
    1/2`` and the form in ``df`` elsewhere.

    Each of ``phi`` and the widths enters shifted (as ``1 + e``, exact at
    the thresholds ``P = D``, ``N_l = D``) at the points where it is at
    least 1/2, and as itself elsewhere: ``build(flags)`` gives the forms of
    each pattern, compiled when a point first needs it.

    Next to ``df1 = 1`` a product of small factors may underflow where the
    value does not (``kappa_2 (1 - df1)^3`` over ``(1 - df1)^2``): with
    ``trap=True`` the points where ``1 - df1 < 1e-40`` (not inline) or
    ``kappa_2 < tiny`` (inline means, ``tiny = 1e-40 <x>``) are evaluated
    with underflow trapped, and if it occurs, in mpmath, whose exponents do
    not underflow."""

    def __init__(self, build, layers, tiny=0.0):
        self.build, self.layers, self.tiny, self.made = build, layers, tiny, {}

    def _forms(self, flags):
        """``(form, near, f, fc)`` of the pattern ``flags``, built once."""
        if flags not in self.made:
            form, near = self.build(flags)
            self.made[flags] = (form, near, compile_expr(*form), None if near is None else compile_expr(*near))
        return self.made[flags]

    def __call__(self, *values, finite=True, trap=False):
        big = [np.asarray(values[i], dtype=float) >= 0.5 for i in range(1, 2 + self.layers)]
        if all(b.all() or not b.any() for b in big):  # one pattern for every point
            return self._shifted(tuple(bool(b.all()) for b in big), values, finite, trap)
        vals = np.broadcast_arrays(*(np.asarray(v) for v in values))
        code = sum(np.broadcast_to(b, vals[0].shape).astype(np.int64) << i for i, b in enumerate(big))
        parts = [(code == c, tuple(bool(c >> i & 1) for i in range(len(big)))) for c in np.unique(code)]
        return _by_points(vals[0].shape, [(sel, lambda m, fl=fl: self._shifted(fl, [v[m] for v in vals], finite, trap))
                                          for sel, fl in parts])

    def _shifted(self, flags, values, finite, trap):
        """The evaluator of the pattern ``flags`` (``phi`` and the widths
        less 1 where their flag is set)."""
        form, near, f, fc = self._forms(flags)
        values = list(values)
        for i, flag in zip(range(1, 2 + self.layers), flags):  # phi, psi_1, ..., psi_L
            values[i] = np.asarray(values[i], dtype=float) - (1.0 if flag else 0.0)
        if fc is None and not (trap and np.any(np.asarray(values[0]) < self.tiny)):
            return f(*values, finite=finite)  # the arguments broadcast inside the evaluator
        values = np.broadcast_arrays(*(np.asarray(v) for v in values))
        trapped = lambda frm: lambda *v, finite: self._trapped(frm, list(v))  # noqa: E731
        if fc is None:
            risky = values[0] < self.tiny
            parts = ((f, ~risky, values), (trapped(form), risky, values))
        else:
            c1 = values[-2]
            lim = 1e-40 if trap else 0.0
            d_vals, c_vals = values[:-4] + values[-4:-2], values[:-4] + values[-2:]
            parts = ((f, c1 >= 0.5, d_vals), (fc, (c1 < 0.5) & (c1 >= lim), c_vals), (trapped(near), c1 < lim, c_vals))
        return _by_points(values[0].shape, [(sel, lambda m, fn=fn, pick=pick: fn(*(v[m] for v in pick), finite=finite))
                                            for fn, sel, pick in parts])

    @staticmethod
    def _trapped(form, values):
        """``form`` at the points ``values`` with underflow trapped, else in mpmath."""
        try:
            with np.errstate(under="raise"):
                return compile_expr(*form)(*values, finite=False)
        except FloatingPointError:
            mp = compile_expr(*form, backend="mpmath")(*(np.asarray(v, dtype=float) for v in values), dps=20)
            return [np.array([complex(v) for v in np.ravel(r)]).real.reshape(np.shape(r)) for r in mp]


def df_values(model, k2) -> list:
    """The trailing arguments ``[df1, df2, 1 - df1, 1 - df2]`` at ``kappa_2``
    of :func:`_compiled` when the means are not inline, else ``[]``.  The
    complements come from the law's own route where ``df1 > 1/2`` (free of
    the cancellation in ``1 - df1``), and are ``1 - df`` elsewhere (where
    the evaluator uses the form in ``df``); ``+oo`` for the kernel sums,
    whose traces are not normalized (the form in ``df`` everywhere)."""
    if means_inline(model):
        return []
    pop = model.population
    if pop._trace_rank() == np.inf:  # the kernel sums [C16]: no complements, the form in df only
        d1, d2 = np.asarray(pop.df1_numeric(k2), dtype=float), np.asarray(pop.df2_numeric(k2), dtype=float)
        return [d1, d2, np.full(d1.shape, np.inf), np.full(d2.shape, np.inf)]
    k = np.asarray(k2, dtype=float)
    return [v.reshape(k.shape) for v in pop._df_and_complements(k.ravel())]


@cached(maxsize=2)
def input_space_noise_kernel() -> sp.Expr:
    r"""The label-noise kernel of the feature-averaged predictor under a
    spectral estimator [C18], [R14], as a sympy expression in ``kappa_z,
    kappa_z'`` (:data:`~freeprob.conventions.kappa2` at the two nodes),
    ``D_1, D_2`` (the population's ``df1`` there [C6]) and ``q = D/P``.

    At fixed data the features average to the linear problem at the
    argument ``w(z)`` whose ``kappa`` is ``kappa_2(z)``: ``E_F[F f(Z^T Z/P)
    F^T] ~ (1/2 pi i) oint f(z) (w(z) - Sigma_hat)^{-1} dz`` on the range of
    ``Sigma_hat``, with ``w = -kappa_2/S_MP(q)(D)`` [R3], [C10].  The noise
    variance of that predictor, ``sigma^2 q tr_D Sigma g(Sigma_hat)
    Sigma_hat g(Sigma_hat)``, is ``sigma^2 (1/2 pi i)^2 oint oint f(z) f(z')
    K``, where ``K`` takes the sandwich ``x/((w - x)(w' - x))`` apart in
    ``x`` and each ``tr_D Sigma (w - Sigma_hat)^{-1}`` to its one-point
    equivalent ``(kappa/w) D(kappa)`` [C18].  At a ridge (``f = 1/(z +
    lam)``, the double residue at ``-lam``) ``K`` becomes its diagonal
    ``q df2/(1 - q df2) = gamma_2/(1 - gamma_2)``: [R14]'s ``Var_{X eps}``
    per unit noise.

    >>> import sympy as sp
    >>> kern = input_space_noise_kernel()
    >>> k1, k2, d1, d2 = sp.symbols("kappa_z kappa_z' D_1 D_2")
    >>> sp.simplify(kern - C.q*(k1*d1 - k2*d2)/(k1*(1 - C.q*d1) - k2*(1 - C.q*d2)))
    0
    """
    y = sp.Dummy("y")                   # an eigenvalue of Sigma_hat
    ws = sp.symbols("w_1 w_2")
    ks = sp.symbols("kappa_z kappa_z'")
    ds = sp.symbols("D_1 D_2")
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.apart(y / ((ws[0] - y) * (ws[1] - y)), y)):
        # c/(w_i - y): the one simple pole of this term
        poles = [(i, sp.cancel(term * (w - y))) for i, w in enumerate(ws)]
        poles = [(i, c) for i, c in poles if not c.has(y)]
        if len(poles) != 1:
            raise ParameterError("sandwich", term, "a simple pole at one argument")
        i, coeff = poles[0]
        out += coeff * C.contour_resolvent(ks[i], ws[i]) * ds[i]
    ridge = {ws[i]: -C.renormalized_ridge(ks[i], 1 / MarchenkoPastur(C.q).s_transform(ds[i], convention="df"))
             for i in range(2)}
    return sp.factor(sp.together(C.q * out.xreplace(ridge)))
