r"""Numeric evaluation of :class:`~freeprob.models.features.RandomFeatureRidge` (private).

``kappa_2`` is found from the explicit map ``kappa_2 -> lambda`` compiled from
the model's sympy maps (never re-typed).  ``lambda(kappa_2) = kappa_1(kappa_2)
(1 - dfbar1(kappa_2)/phi)`` is a product of two increasing factors [R12],
[R19], so the physical root lies above

* ``t_1``: the bottleneck of ``F F^T`` -- ``df1(t_1) = rank(F F^T)/D =
  min(1, psi_l)`` (white layers) or ``psi rank(Sigma_F)`` (anisotropic), when
  the population's rank exceeds it (``S_F`` is defined for ``df1 <= rank``);
* ``z_1``: the zero of ``kappa_1`` (``= t_1`` without feature noise);
* ``z_2``: the zero of ``1 - dfbar1/phi`` (the data bottleneck ``df1 = P/D``
  without feature noise),

``kappa_min = max(z_1, z_2)`` is the ridgeless limit (min(P, N_1, ..., N_L)/D,
[R12], [R17]) and every ``lambda > 0`` is bracketed by ``[kappa_min, hi]``
for :func:`~freeprob.numeric.solve.invert_increasing`.  Anisotropic weights need
``kappa_F(t)`` (the inverse of the ``N``-normalized ``df1_{Sigma_F}``) inside
every map evaluation: an inner bracketed inversion, with
``kappa_F' = -kappa_F/(df1_F - df2_F)`` [C6].
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ConvergenceError, ParameterError
from freeprob.models._feature_covariance import (
    _TINY,
    kappa_f,
    kappa_f_mp,
    product_slope,
)
from freeprob.models._features_maps import (
    _EG,
    _PARTS,
    _SW,
    COMPOSITES,
    FAR_KEYS,
    NEAR_KEYS,
    RF_KEYS,
    _compiled,
    _maps,
    _quantities,
    df_values,
    far_field_quantities,
    inline_near,
    means_inline,
    quantities_near,
    stable_form,
)
from freeprob.models._features_refine import _df_in_mpmath, _df_mp, refine_differences
from freeprob.models.base import broadcast, real_array
from freeprob.models.design import trace_dimension
from freeprob.numeric.cache import cached
from freeprob.numeric.compile import compile_expr
from freeprob.numeric.solve import (
    expand_lower,
    expand_upper,
    hermite,
    invert_increasing,
    polish,
)


def _params(model, overrides):
    bad = set(overrides) - set(model.SWEEPABLE)
    if bad:
        name = sorted(bad)[0]
        raise ParameterError(name, overrides[name], "one of " + ", ".join(model.SWEEPABLE))

    def num(name, value):
        if isinstance(value, (np.ndarray, list, tuple)) or (np.isscalar(value) and not isinstance(value, sp.Basic)):
            return real_array(name, value)
        if not sp.sympify(value).is_number:
            raise ParameterError(name, value, "a number", f"pass {name}=... to evaluate()")
        return np.asarray(float(value))

    lam = num("ridge", overrides.get("ridge", model.ridge))
    p = num("samples", overrides.get("samples", model.samples))
    s2 = num("noise", overrides.get("noise", model.noise))
    sx = num("feature_noise", overrides.get("feature_noise", model.feature_noise))
    widths = overrides.get("widths", model.widths)
    if not isinstance(widths, (list, tuple)):
        widths = (widths,)
    if len(widths) != len(model.widths):
        raise ParameterError("widths", widths, f"{len(model.widths)} layer width(s), as the model")
    ws = [num("widths", w) for w in widths]
    fc = model.feature_covariance
    if fc is not None and "widths" in overrides and fc.finite_spectrum is not None and not fc.dimension_free \
            and np.any(ws[0] != float(fc.spectrum.size)):
        raise ParameterError("widths", overrides["widths"], f"{fc.spectrum.size} (the size of feature_covariance)",
                             "build a model per width with its own Sigma_F")
    d = float(num("dimension", trace_dimension(model.dimension)))  # 1 for the kernel sums [C16]
    for name, v, lo in (("ridge", lam, 0), ("noise", s2, 0), ("feature_noise", sx, 0)):
        if np.any(~np.isfinite(v)) or np.any(v < lo):
            raise ParameterError(name, v[~(np.isfinite(v) & (v >= lo))].ravel()[0], "[0, oo)")
    for name, v in (("samples", p), *(("widths", w) for w in ws)):
        if np.any(v < 1) or np.any(v != np.round(v)):
            raise ParameterError(name, v[(v < 1) | (v != np.round(v))].ravel()[0], "integers >= 1")
    arrs = broadcast(ridge=lam, samples=p, noise=s2, feature_noise=sx, **{f"widths[{i}]": w for i, w in enumerate(ws)})
    shape = arrs[0].shape
    lam, p, s2, sx, *ws = (a.ravel().astype(float) for a in arrs)
    return shape, lam, p / d, [w / d for w in ws], s2, sx


class _Maps:
    """The compiled maps of one model, with ``kappa_F`` supplied when needed."""

    def __init__(self, model, phi, psis, sx):
        self.model, self.phi, self.psis, self.sx = model, phi, psis, sx
        m = _maps(model)
        f2 = 1 / m["S_W"]  # 1 - dfbar1/phi, grouped for the numeric boundary
        self.f = _compiled(model, (m["df1"], m["kappa1"], m["dkappa1"], f2, -m["ddfbar1"] / C.phi, m["lam"],
                                   m["dlam"]))
        # the solver's probe: lam(kappa_2) and its slope alone (fewer means per pass)
        self.f_lam = _compiled(model, (m["lam"], m["dlam"]))
        self.aniso = model.feature_covariance is not None
        self.pop = model.population

    def args(self, k, idx):
        a = [k, self.phi[idx], *(p[idx] for p in self.psis), np.zeros(idx.size), self.sx[idx]]
        if self.aniso:
            a += list(kappa_f(self.model.feature_covariance, self.pop.df1_numeric(k) / self.psis[0][idx], probe=True))
        return a + df_values(self.model, k)

    def __call__(self, k, idx):
        return [np.real(np.asarray(v, dtype=complex if np.iscomplexobj(v) else float))
                for v in self.f(*self.args(k, idx), finite=False)]  # a solver probe

    def lam(self, k, idx):
        """``(lam(kappa_2), d lam/d kappa_2)``: the map the kappa_2 solve inverts."""
        return [np.real(np.asarray(v, dtype=complex if np.iscomplexobj(v) else float))
                for v in self.f_lam(*self.args(k, idx), finite=False)]


@cached(maxsize=256)
def _bottleneck_of(model, combos: bytes, shape, rtol, features_only=False):
    """``kappa_min`` of each distinct ``(phi, psi_1..psi_L, sigma_xi^2)`` row,
    cached on the frozen model and the rows: it does not depend on the ridge,
    so a sweep split over several ``evaluate`` calls solves it once.  With
    ``features_only`` the zero ``z_1`` of ``kappa_1`` alone (``kappa_2`` at
    ``kappa_1 = 0``, the features' own bottleneck)."""
    uniq = np.frombuffer(combos, dtype=float).reshape(shape)
    phi, psis, sx = uniq[:, 0], [uniq[:, 1 + i] for i in range(shape[1] - 2)], uniq[:, -1]
    out = _bottleneck(model, _Maps(model, phi, psis, sx), phi, psis, sx, rtol, features_only)
    out.setflags(write=False)
    return out


def _above_width_bottleneck(model, t1, psi, rows):
    """Anisotropic weights: the least ``kappa_2 = t_1 (1 + 2^-e)``, ``e = 50,
    48, ..., 20``, above the width bottleneck ``t_1`` at which ``kappa_F > 0``.
    At ``t_1`` itself ``kappa_F = 0`` and the maps are ``0 * oo``; just above
    it they are finite and within ``~2^-e`` relative of their limits (the
    ridgeless keys of a width-limited readout)."""
    out = t1.copy()
    for e in range(50, 18, -2):
        if rows.size == 0:
            return out
        k = t1[rows] * (1 + 2.0**-e)
        kf = kappa_f(model.feature_covariance, model.population.df1_numeric(k) / psi[rows])[0]
        ok = kf > 0
        out[rows[ok]] = k[ok]
        rows = rows[~ok]
    if rows.size:
        raise ConvergenceError(f"kappa_F stays 0 up to 2^-20 above the width bottleneck kappa_2 = {t1[rows[0]]!r}")
    return out


def _bottleneck(model, maps, phi, psis, sx, rtol, features_only=False):
    """``kappa_min`` for each parameter combination (see the module), or
    ``z_1`` alone with ``features_only``."""
    pop = model.population
    n = phi.size
    allidx = np.arange(n)
    rank_pop = pop._trace_rank()
    # the rank of F F^T in trace units: min(D, N_l)/D, or N_l for the kernel sums (D = oo) [C16]
    full = 1.0 if model.dimension is not sp.oo else np.inf
    if model.feature_covariance is None:
        rank_f = np.minimum(full, np.min(np.vstack(psis), axis=0))
    else:
        rank_f = np.minimum(full, psis[0] * model.feature_covariance._trace_rank())
    m1 = pop._trace_mean()
    t1 = np.zeros(n)
    sel = np.flatnonzero(rank_pop > rank_f * (1 + 1e-14))
    if sel.size:
        def dfmap(k, idx):  # -df1 increases [C6]
            d1, slope = pop.df1_with_slope(k)
            return -d1, -slope

        hi = m1 / rank_f[sel] * (1 + 1e-12)
        lo = np.full(sel.size, _TINY)
        if rank_pop == np.inf or not means_inline(model):
            # kernel sums: df1 -> oo as kappa -> 0 [C16]; a law with a curve:
            # its Stieltjes transform near z = 0- (an atom's pole) is costly
            # and may stall; in both cases step down to the bracket
            lo = expand_lower(dfmap, -rank_f[sel], hi,
                              what="kappa_2 bottleneck")
        t1[sel] = invert_increasing(dfmap, -rank_f[sel], lo, hi, rtol=rtol,
                                    ftol=4e-16 * rank_f[sel], what="kappa_2 bottleneck (df1 = rank F F^T/D)")
        if model.feature_covariance is not None:
            t1 = _above_width_bottleneck(model, t1, psis[0], sel)

    def zero_of(component, what, skip=None):
        """Zero of an increasing component on [t_1, oo) where it is negative at
        t_1 (rows in ``skip`` are known to have none)."""
        base = np.maximum(t1, _TINY)
        vals = maps(base, allidx)[component]
        # a deep chain at N_l = D underflows at kappa_2 ~ 1e-250 (kappa_1 ~
        # kappa_2^(L+1)), and anisotropic weights with rank = psi rank Sigma_F
        # have kappa_F = 0 (a 0 * oo) where df1/psi rounds to rank Sigma_F:
        # move the lower end up to where the map is a number (the component
        # increases, so a negative value there still brackets its zero; a law
        # with a curve and white weights evaluates at any kappa)
        for _ in range(60 if means_inline(model) or model.feature_covariance is not None else 0):
            bad = ~np.isfinite(vals) & (t1 == 0) & (base < m1)
            if not bad.any():
                break
            base = np.where(bad, base * 1e5, base)
            vals = maps(base, allidx)[component]
        if model.feature_covariance is not None:
            # anisotropic weights 2^-50 above the width bottleneck: kappa_F
            # is that small and the maps are 0 * oo to rounding, so a sign
            # there is no evidence (1 - dfbar1/phi came out +8e6 for
            # -3.7e5); the component increases, so a negative value 2^-20
            # above brackets its zero from there (a zero below that point
            # is t_1 to 1e-6, as _above_width_bottleneck allows)
            up = base * (1 + 2.0**-20)
            vup = maps(up, allidx)[component]
            moved = (vals >= 0) & (vup < 0)
            base, vals = np.where(moved, up, base), np.where(moved, vup, vals)
        neg = np.flatnonzero(~(vals >= 0) & (True if skip is None else ~skip))
        out = t1.copy()
        if neg.size:
            def cmap(k, idx):
                v = maps(k, neg[idx])
                return v[component], v[component + 1]

            hi = expand_upper(cmap, np.zeros(neg.size), np.maximum(base[neg], m1) * 2, what=what)
            out[neg] = invert_increasing(cmap, np.zeros(neg.size), base[neg], hi, rtol=rtol, what=what)
        return out

    z1 = zero_of(1, "kappa_2 at kappa_1 = 0") if np.any(sx > 0) else t1
    if features_only:
        return z1
    # without feature noise dfbar1 = df1 < rank Sigma for kappa_2 > 0 (white
    # or anisotropic weights alike), so 1 - dfbar1/phi has no zero when P/D
    # >= rank Sigma and the data do not bind: kappa_min = t_1, exactly (at P
    # = N_l = D the map's value near kappa_2 = 0 is rounding, whose sign must
    # not decide a spurious kappa_min ~ 1e-18; with anisotropic weights t_1
    # is just above the width bottleneck, see _above_width_bottleneck)
    skip = (sx == 0) & (phi >= rank_pop)
    z2 = zero_of(3, "kappa_2 at dfbar1 = P/D", skip=skip)
    return np.maximum(z1, z2)


def solve_kappa2(model, lam, phi, psis, sx, *, rtol=1e-14):
    """``kappa_2`` at every point (see the module).

    ``kappa_min`` is computed once per distinct parameter combination
    ``(phi, psi_l, sigma_xi^2)``.  Combinations shared by many ridges (a
    ridge sweep) tabulate the explicit map ``lam(kappa_2)`` on a log grid of
    ``kappa_2 - kappa_min`` (600 points, one fused pass with the exact slope),
    start every point from the cubic Hermite interpolation in ``(log lam,
    log(kappa_2 - kappa_min))`` and polish it with one certified Newton step;
    the rest is bracketed by ``[kappa_min, hi]``."""
    keys = np.column_stack([phi, *psis, sx])
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.ravel()
    kmin = _bottleneck_of(model, uniq.tobytes(), uniq.shape, rtol)[inv]
    maps = _Maps(model, phi, psis, sx)
    out = kmin.copy()
    est = np.full(lam.size, np.nan)
    for g in range(uniq.shape[0]):
        sel = np.flatnonzero((inv == g) & (lam > 0))
        if sel.size < 32:
            continue
        est[sel] = _table_start(maps, lam[sel], sel, kmin[sel[0]])
    cand = np.flatnonzero(np.isfinite(est))
    if cand.size:
        new, good = polish(lambda k, idx: maps.lam(k, cand[idx]), lam[cand], est[cand], kmin[cand], rtol=rtol)
        out[cand[good]] = new[good]
        est[cand[~good]] = np.nan
    pos = np.flatnonzero((lam > 0) & ~np.isfinite(est))
    if pos.size:
        def lmap(k, idx):
            v = maps.lam(k, pos[idx])
            return v[0], v[1]

        # kappa_2 may lie hundreds of decades above lam (kappa_2 ~ lam^(2/3) at
        # P = D on a hard edge): squared steps up, and the last point below
        # as the lower end, so that the bisection goes by decades
        start = np.maximum(kmin[pos], _TINY) * 2 + lam[pos]
        hi, below = expand_upper(lmap, lam[pos], start, what="kappa_2", accelerate=True, lower=True)
        lo = np.where(below > kmin[pos], below, kmin[pos])
        out[pos] = invert_increasing(lmap, lam[pos], lo, hi, rtol=rtol, what="kappa_2")
    return out


#: probes of the bracket search evaluated together: a first batch of 6,
#: doubling to 48 (the answer is usually among the first few rungs, and a
#: far rung costs more than a near one: kappa_F of anisotropic weights far
#: outside its table goes to the bracketed solver)
_LADDER = (6, 12, 24, 48)


def _table_start(maps, lam, sel, kmin):
    """Hermite starts for the points ``sel`` sharing ``kappa_min`` (nan where
    the table does not reach)."""
    idx = np.full(600, sel[0])
    lmax, lmin = float(np.max(lam)), float(np.min(lam))

    def first(ks, holds):
        """Index of the first ``k`` in ``ks`` (probed a batch at a time, one
        evaluation per batch instead of one per step) where ``holds(lam(k))``."""
        b0, size = 0, iter(_LADDER)
        while b0 < ks.size:
            batch = ks[b0:b0 + next(size, _LADDER[-1])]
            with np.errstate(invalid="ignore"):
                ok = np.flatnonzero(holds(maps.lam(batch, np.full(batch.size, sel[0]))[0]))
            if ok.size:
                return b0 + int(ok[0])
            b0 += batch.size
        return None

    # the bracket's top: the smallest start * 2^j with lam >= max(lam), as
    # expand_upper finds it step by step
    start = max(kmin, _TINY) * 2 + lmax
    with np.errstate(over="ignore"):
        ladder = start * 2.0 ** np.arange(2100)
    j = first(ladder[np.isfinite(ladder)], lambda v: v >= lmax)
    if j is None:
        raise ConvergenceError(f"no upper bracket for kappa_2 at target {lmax!r}: the map stays below it")
    hi = start * 2.0**j
    # the bottom: shrink kmin + d until lam <= min(lam)
    j = first(kmin + (hi - kmin) * 1e-3 * 8.0 ** -np.arange(400), lambda v: v <= lmin)
    if j is None:
        return np.full(lam.size, np.nan)
    d_lo = (hi - kmin) * 1e-3 * 8.0**-j
    d = np.geomspace(d_lo, (hi - kmin) * 1.01, 600)
    k = kmin + d
    lg, slope = maps.lam(k, idx)
    ok = (lg > 0) & (slope > 0) & np.isfinite(lg) & np.isfinite(slope)
    if np.count_nonzero(ok) < 4 or np.any(np.diff(lg[ok]) <= 0):
        return np.full(lam.size, np.nan)
    xs, ys = np.log(lg[ok]), np.log(d[ok])
    ms = (lg[ok] / d[ok]) / slope[ok]  # d log d / d log lam
    out = kmin + np.exp(hermite(xs, ys, ms, np.log(lam)))
    inside = (np.log(lam) > xs[0]) & (np.log(lam) < xs[-1])
    return np.where(inside, out, np.nan)


def evaluate(model, overrides):

    shape, lam, phi, psis, s2, sx = _params(model, overrides)
    k2 = solve_kappa2(model, lam, phi, psis, sx)
    qs = _quantities(model)
    keys = [k for k in RF_KEYS if k not in ("Eg", "Etr")]
    near = quantities_near(model)
    far = far_field_quantities(model)
    far_exprs = [far[k] for k in FAR_KEYS]
    f = _compiled(model, [qs[k] for k in keys] + [_s_w(model)] + far_exprs,
                  [near.get(k, qs[k]) for k in keys] + [_s_w(model)] + far_exprs)
    # kappa_2 = 0 (no bottleneck: D < min(P, N_l)) is evaluated at 1e-150,
    # where every expression equals its kappa_2 -> 0 limit to rounding
    # provided the population's eigenvalues are >> 1e-150 (checked)
    kz = k2 == 0
    if kz.any():
        pop = model.population
        if pop.catalogue_name == "powerlaw":  # k^-alpha over k <= n: the smallest eigenvalue
            vals = np.array([0.0 if pop.n is sp.oo else float(pop.n) ** -float(pop.alpha)])
        elif pop.finite_spectrum is not None:
            vals = pop.spectrum.numeric_atoms()[0]
        else:
            vals = np.array([pop._trace_mean()])
        if not np.any(vals > 0) or np.min(vals[vals > 0]) < 1e-120:
            raise ParameterError("population", repr(model.population), "eigenvalues above 1e-120 at kappa_2 = 0")
        scale = float(np.min(vals[vals > 0]))
    ke = np.where(kz, 1e-150, k2)
    args = [ke, phi, *psis, s2, sx]
    if model.feature_covariance is not None:
        t = model.population.df1_numeric(ke) / psis[0]
        kf, slope, d2f = kappa_f(model.feature_covariance, t, df2=True)
        # t kappa_F and (t kappa_F)' for the far-field forms
        args += [kf, slope, t * kf, product_slope(model.feature_covariance, kf, slope, d2f)]
    args += df_values(model, ke)
    vals = [np.real(np.asarray(v)).astype(float) * np.ones(lam.size) for v in f(*args, finite=False, trap=True)]
    out = dict(zip(keys, vals[:len(keys)]))
    s_w = vals[len(keys)]
    out["kappa2"] = k2
    # the far field (df2 < df1/2: kappa_2 beyond the bulk of the spectrum),
    # the forms that keep relative digits as kappa_2 -> oo
    away = out["df2"] < 0.5 * out["df1"]
    for key, v in zip(FAR_KEYS, vals[len(keys) + 1:]):
        out[key] = np.where(away, v, out[key])
    close = np.flatnonzero(out["df1"] > 0.5)
    if near and means_inline(model) and close.size:
        # the keys that are differences of terms ~ 1/(1 - df1), as single ratios
        # in the complements: a second pass over the spectrum, at these points only
        g = inline_near(model, tuple(near[k] for k in NEAR_KEYS))
        res = g(*(np.broadcast_to(a, lam.shape)[close] for a in args), finite=False, trap=True)
        for key, r in zip(NEAR_KEYS, res):
            out[key][close] = np.real(r)
    lim = None
    # the certified limits need df in mpmath: inline means, or the law's own
    # route (a law known only by subordination has none: the stand-in stays)
    # anisotropic weights: kappa_F(df1/psi) is analytic in kappa_2 at 0, also
    # where kappa_F -> 0 with it (rank = psi rank Sigma_F: df1_F is analytic
    # with slope -<1/x> < 0 at 0, so its inverse is); computed in mpmath
    if kz.any() and (means_inline(model) or _df_in_mpmath(model)):
        gap = None if means_inline(model) else _gap_scale(model)
        try:
            lim = _ridgeless_limits(model, keys + ["S_W"], [qs[k] for k in keys] + [_s_w(model)],
                                    np.flatnonzero(kz), phi, psis, s2, sx, scale if gap is None else gap,
                                    fractional=not means_inline(model) and gap is None)
        except ConvergenceError as err:
            fc = model.feature_covariance
            if fc is None or not np.any(np.abs(model.population._trace_rank() - psis[0][kz] * fc._trace_rank())
                                        <= 1e-12 * model.population._trace_rank()):
                raise
            raise ConvergenceError(
                f"{err} (anisotropic weights, ridge 0: where rank Sigma = psi rank Sigma_F the limit is a "
                "double one, kappa_F -> 0 with kappa_2, and a population with float weights, whose binary "
                "values need not sum to 1, can decide it by its rounding; exact weights, e.g. "
                "sympy.Rational, do not)") from None
    if lim is not None:
        for j, key in enumerate(keys):
            out[key] = np.where(kz, lim[:, j], out[key])
        s_w = np.where(kz, lim[:, -1], s_w)
    else:
        for key in ("bias2", "var_X"):
            out[key] = np.where(kz, 0.0, out[key])
        # a 0/0 at the stand-in is NaN (an interpolation threshold's genuine
        # divergence, c/0, is +inf and stays for _certify to judge)
        stand_in = kz & np.any([np.isnan(out[k]) for k in keys], axis=0)
        if stand_in.any():
            from freeprob.errors import NumericalError

            i = int(np.flatnonzero(stand_in)[0])
            why = ("a threshold, whose certified limit needs df in mpmath, which a law known by subordination "
                   "only does not have")
            raise NumericalError(
                f"the ridgeless limit kappa_2 -> 0 at phi = {phi[i]:.6g} (P/D), widths/D = "
                f"{[float(p_[i]) for p_ in psis]} is a 0/0 at kappa_2 = 1e-150 for {model.population!r}: "
                f"{why}; evaluate at a small positive ridge (the values approach the limit as the ridge goes "
                "to 0)")
    from freeprob.numeric.compile import compile_expr

    # the random-feature interpolation threshold: at lam = 0 with white
    # layers and no feature noise, the data bottleneck df1 = P/D and the
    # width bottleneck df1 = min N_l/D coincide when P = min N_l (below the
    # population's rank); lam(kappa_2) then has a double zero at kappa_min,
    # 1 - gamma_1 = lam'/kappa_1' = 0 exactly, and Var_XF = +oo (with noise
    # Var_XF,e too): the classical peak of random-feature double descent
    if model.feature_covariance is None:
        narrow = np.min(np.vstack(psis), axis=0)
        peak = (lam == 0) & (k2 > 0) & (sx == 0) & (phi == narrow) & (model.population._trace_rank() > phi)
        if peak.any():
            out["gamma1"] = np.where(peak, 1.0, out["gamma1"])  # lam' = 0: the 0/0 of a double zero
            out["var_XF"] = np.where(peak, np.inf, out["var_XF"])
            out["var_XF_noise"] = np.where(peak, np.where(s2 > 0, np.inf, 0.0), out["var_XF_noise"])
            s_w = np.where(peak, np.inf, s_w)  # 1 - dfbar1/phi = 0 there: E_tr = O(kappa_2 - kappa_min) -> 0
    # S_W = kappa_1/lam is +oo at lam = 0 when the data bottleneck binds
    # (q df1 = 1 exactly, where the float value is 1/0), and then
    # E_tr = (E_g + sigma^2)/S_W^2 = 0
    ridgeless = lam == 0
    s_w = np.where(ridgeless & ~np.isfinite(s_w), np.inf, s_w)
    refine_differences(model, out, phi, psis, s2, sx)
    out["Eg"] = compile_expr(COMPOSITES["Eg"], _PARTS)(*(out[str(p)] for p in _PARTS), finite=False)
    etr = compile_expr(COMPOSITES["Etr"], (_EG, C.sigma2, _SW))(out["Eg"], s2, s_w, finite=False)
    out["Etr"] = np.where(np.isinf(s_w), 0.0, etr)
    _certify(out, ridgeless, lam)
    return {key: np.asarray(out[key]).reshape(shape) for key in RF_KEYS}


def _ridgeless_limits(model, names, exprs, points, phi, psis, s2, sx, scale, fractional=False):
    r"""The limits ``kappa_2 -> 0+`` of the quantities at the points where
    ``kappa_2 = 0`` (``lam = 0`` with ``D <= min(P, N_l)``), one row per point.

    Every quantity is a rational function of ``kappa_2`` and of spectral
    means analytic at ``kappa_2 = 0`` (a population with positive atoms,
    checked by the caller), so near 0 it is ``c kappa_2^m (1 + O(kappa_2))``
    for an integer ``m``; the means are power series in ``kappa_2/x_min``
    (``x_min = scale``, the smallest positive eigenvalue).  It is evaluated
    in mpmath (no underflow; ``psi_l - 1`` and the complements ``1 - df``
    exact, see :func:`_compiled`) at ``kappa_2 = scale 10^-a`` and ``scale
    10^-2a``, ``a = 12``, with ``3a + 40`` digits; the ratio of the two values
    certifies ``m``: ``m = 0`` gives the limit ``c``, ``m > 0`` the limit 0,
    ``m < 0`` the limit ``+-oo`` (a variance at an interpolation threshold
    with noise, exact).  With ``fractional`` (a law whose support reaches
    0, where the means are series in ``kappa_2^(1/2)``) a non-integer ``m``
    is accepted when a third point, ``kappa_2 = scale 10^-3a``, gives the same
    ``m`` to ``1e-3``: the limit is then 0 or ``+-oo``.  Anything else raises
    :class:`~freeprob.errors.ConvergenceError`.  Anisotropic weights add
    ``kappa_F(df1/psi)`` and its slope, solved in mpmath at each point
    (:func:`~freeprob.models._feature_covariance.kappa_f_mp`, :func:`_t_mp`):
    analytic in ``kappa_2`` whether ``kappa_F`` tends to a positive value or
    to 0 with ``kappa_2`` (``rank Sigma = psi rank Sigma_F``), where
    ``lam ~ kappa_2^3`` cancels and ``6a + 40`` digits are used."""
    import mpmath

    f = compile_expr(*stable_form(model, exprs), backend="mpmath")
    a = 12
    # kappa_2^3 cancels at a double limit with anisotropic weights (kappa_1 ~
    # kappa_2^2, lam ~ kappa_2^3 at P = N = D): digits for it at kappa_2 ~ 10^-2a
    dps = (3 if model.feature_covariance is None else 6) * a + 40
    keys = np.column_stack([phi[points], *(p[points] for p in psis), s2[points], sx[points]])
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    rows = np.empty((uniq.shape[0], len(names)))
    with mpmath.workdps(dps):
        for r, key in enumerate(uniq):
            pars = [mpmath.mpf(float(v)) - 1 for v in key[:-2]] + [mpmath.mpf(float(key[-2])),
                                                                    mpmath.mpf(float(key[-1]))]
            def at(e):
                k = mpmath.mpf(float(scale * 10.0 ** -e))
                extra = ()
                if model.feature_covariance is not None:  # kappa_F(t), t = df1(kappa_2)/psi, to dps digits
                    extra = kappa_f_mp(model.feature_covariance, _t_mp(model, k, 1 + pars[1], scale, dps), dps)
                return f(k, *pars, *extra, *_df_mp(model, k, dps), dps=dps)

            near, far = at(a), at(2 * a)
            farther = None
            for j, name in enumerate(names):
                u, v = mpmath.re(near[j][()]), mpmath.re(far[j][()])
                if u == 0 and v == 0:
                    rows[r, j] = 0.0
                    continue
                if u == 0 or v == 0:
                    raise ConvergenceError(f"{name} at kappa_2 -> 0: no certified limit (values {u}, {v})")
                m = -float(mpmath.log10(abs(v / u))) / a  # v/u = 10^(-a m) (1 + O(10^-a))
                if abs(m - round(m)) > 1e-3 and fractional and mpmath.sign(u) == mpmath.sign(v):
                    # a support reaching 0 (density ~ x^-1/2): powers of kappa_2^(1/2) and
                    # fractional exponents; certified by a third point with the same exponent
                    farther = at(3 * a) if farther is None else farther
                    w = mpmath.re(farther[j][()])
                    m3 = -float(mpmath.log10(abs(w / v))) / a if w != 0 else np.inf
                    if abs(m3 - m) <= 1e-3 and abs(m) > 1e-3:
                        rows[r, j] = 0.0 if m > 0 else (np.inf if v > 0 else -np.inf)
                        continue
                if abs(m - round(m)) > 1e-3 or mpmath.sign(u) != mpmath.sign(v):
                    raise ConvergenceError(f"{name} at kappa_2 -> 0: not of the form c kappa_2^m "
                                           f"(ratio exponent {m:.4f})")
                m = round(m)
                rows[r, j] = float(v) if m == 0 else 0.0 if m > 0 else (np.inf if v > 0 else -np.inf)
    return rows[inv.ravel()]


def _t_mp(model, k, psi, scale, dps):
    """``t = df1(kappa_2)/psi`` at ``kappa_2 = k`` in mpmath, the argument of
    ``kappa_F``.  Where ``rank Sigma = psi rank Sigma_F`` to ``1e-12`` (the
    ridgeless double limit, ``kappa_F -> 0`` with ``kappa_2``) it is
    ``rank_F df1(kappa_2)/rank``, both ranks the mpmath values of ``df1`` at
    ``10^-(dps + 5)`` times the scale: float weights cannot make the two
    ranks equal beyond rounding, and a ``1e-17`` excess of one would decide
    the limit."""
    import mpmath

    pop, law = model.population, model.feature_covariance
    d1 = mpmath.re(pop.df1_numeric(np.array([float(k)]), dps=dps)[0])
    if abs(pop._trace_rank() - float(psi) * law._trace_rank()) > 1e-12 * pop._trace_rank():
        return d1 / psi
    rank = mpmath.re(pop.df1_numeric(np.array([scale * 10.0 ** -(dps + 5)]), dps=dps)[0])
    rank_f = mpmath.re(law.df1_numeric(mpmath.mpf(law._trace_mean()) * mpmath.mpf(10) ** -(dps + 5), dps=dps)[()])
    return rank_f * d1 / rank


def _gap_scale(model):
    """For a law not inline: the smallest nonzero point of its support when
    the rest of the support stays away from 0 (an atom at 0 allowed), so that
    ``df1``, ``df2`` are power series in ``kappa_2`` there; else None."""
    pop = model.population
    pts = [a for iv in pop._ac_intervals() for a in iv] + [float(c) for c, _ in pop.atoms() if c != 0]
    return min(pts) if pts and min(pts) > 0 else None


def _certify(out, ridgeless, lam):
    """Every value finite, except a variance that diverges (to ``+oo``) at an
    interpolation threshold at ``lam = 0``; otherwise
    :class:`~freeprob.errors.NumericalError` naming the key and the ridge."""
    from freeprob.errors import NumericalError

    for key in RF_KEYS:
        v = np.asarray(out[key], dtype=float)
        bad = ~np.isfinite(v)
        if key in ("var_X_noise", "var_XF_noise", "var_X", "var_XF", "Eg"):
            bad &= ~(ridgeless & (v == np.inf))
        if np.any(bad):
            i = int(np.flatnonzero(bad.ravel())[0])
            raise NumericalError(f"{key} = {v.ravel()[i]!r} at ridge = {np.broadcast_to(lam, v.shape).ravel()[i]!r} "
                                 "(finite, valid parameters)")


def _s_w(model):
    return _maps(model)["S_W"]
