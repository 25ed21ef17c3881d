r"""Monte Carlo of random-feature ridge regression with crossed seeds (private).

The design of pitfall P11: ``n_x`` data draws (``X``, label noise) crossed
with ``n_f`` feature draws (``F``); the training feature noise is drawn fresh
for each cell from the pair of seeds (:func:`_xi`), so no draw depends on the
order of the cells or on an executor.  Every cell fits the whole ridge sweep
from one eigendecomposition; each ``F_j`` (or each ``X_i``) is drawn once when
the set fits in memory.  The label noise is averaged
exactly (the estimator is linear in ``y``), so a cell holds the
effective weights ``w_ij = F_j E_eps v_hat`` and the exact noise terms.

Components [C15] by the unbiased two-way random-effects (ANOVA) estimators,
with ``Sigma``-norm squares ``||.||^2 = sum_k eta_k (.)_k^2``:

.. math::
    \mathrm{Var}_{XF} = MS_{AB},\quad \mathrm{Var}_X = \frac{MS_A - MS_{AB}}{n_f},\quad
    \mathrm{Var}_F = \frac{MS_B - MS_{AB}}{n_x},\quad
    \mathrm{Bias}^2 = \|\bar w - \bar w^*\|^2 - \frac{\mathrm{Var}_X}{n_x} - \frac{\mathrm{Var}_F}{n_f}
    - \frac{\mathrm{Var}_{XF}}{n_x n_f},

(``E MS_AB = Var_XF``, ``E MS_A = Var_XF + n_f Var_X``, ``E MS_B = Var_XF + n_x
Var_F``).  For the noise, ``Var_Xeps = sigma^2 E_X ||E_F A_{XF}||^2`` with
``w_hat = ... + A_{XF} eps``; ``||E_F A||^2`` is estimated without bias by the
U-statistic ``(||sum_j A_j||^2 - sum_j ||A_j||^2)/(n_f (n_f - 1))``, and
``Var_XFeps`` is the rest of the noise.  Each ``A_j`` is ``D x P``; when ``P``
exceeds :data:`PROBES` the U-statistic is taken of ``A_j E`` with the
``P x PROBES`` probes ``E`` of :func:`_probes`, drawn once per data draw
(``E E^T`` has mean ``I`` given ``X``), and the cells' exact noise norms
are its control variate (:func:`_noise_statistic`); the probes' spread
enters the rows' values and so the standard error.  For ``P <= PROBES``,
``E = I`` and the statistic is exact.  With feature noise the test term
``sigma_xi^2 ||v_hat||^2`` is added to ``E_g`` (pitfall P6).  Standard errors
are the row-plus-column jackknife for crossed designs (delete one ``X`` draw,
then one ``F`` draw; the sum of the two variances is conservative, Owen 2007).
"""

from __future__ import annotations

import math

import numpy as np

from freeprob.errors import ParameterError
from freeprob.montecarlo._xp import resolve, to_numpy
from freeprob.montecarlo.estimators import (
    anova,
    crossed_se,
    gcv_from_svd,
    jackknife,
    mean_se,
    ridge_filter,
    ridges,
    thin_svd,
)
from freeprob.montecarlo.sampling import gaussian_rows, population_spectrum
from freeprob.numeric.cache import cached
from freeprob.numeric.elementwise import compile_elementwise

RF_SIM_KEYS = ("kappa1", "bias2", "var_X", "var_F", "var_XF", "var_X_noise", "var_XF_noise", "Eg", "Etr", "gcv")


def _draw_f(d, widths, layer_variance, sigma_f, seed, xp=np):
    """The feature map ``F = G_1 ... G_L`` of one seed (normals from numpy's
    ``Generator``, products in the namespace ``xp``)."""
    rng = np.random.default_rng(seed)
    f = None
    prev = d
    for n_l in widths:
        var = 1.0 / d if layer_variance == "input" else 1.0 / prev
        layer = xp.asarray(rng.normal(scale=np.sqrt(var), size=(prev, n_l)))
        f = layer if f is None else f @ layer
        prev = n_l
    if sigma_f is not None:
        f = f * xp.asarray(np.sqrt(sigma_f))[None, :]  # F = G Sigma_F^1/2 / sqrt(D)
    return f


#: memory the simulation may spend on keeping the feature draws (or the data
#: draws) so that each is drawn once rather than once per row of the grid
_CACHE_BYTES = 2**30


@cached(maxsize=32)
def _phi(activation, xp):
    """The activation applied elementwise in the namespace ``xp``: compiled
    for it from the activation's sympy expression, or, for a function the
    array API standard does not have (``erf``), evaluated on the host and
    moved back with ``asarray`` (the same numbers, without the device)."""
    if xp is np:
        return activation.apply
    try:
        return compile_elementwise(activation.expr, activation.var, xp)
    except ParameterError as err:
        if err.name != "xp":
            raise
        return lambda h: xp.asarray(activation.apply(to_numpy(h)))


def _xi(x_seed, f_seed, p, n_last, sx, xp=np):
    """Training feature noise of the cell ``(X_i, F_j)``: a fresh draw for each
    cell, seeded by the pair.  ``generate_state`` does not advance the seed
    sequences, so the draw is the same whatever the order of the cells or the
    executor.  Fresh noise per cell is the model of [R19]: with it the
    crossed-seed decomposition matches [R14] (at 24 x 24 draws every
    component within 1.4 s.e.), while noise tied to ``F`` alone moves about
    0.13 of ``Var_XF`` into ``Var_F`` (15 s.e.)."""
    if sx == 0:
        return xp.zeros((p, n_last), dtype=xp.float64)
    seq = np.random.SeedSequence([*x_seed.generate_state(2), *f_seed.generate_state(2)])
    return xp.asarray(gaussian_rows(np.random.default_rng(seq), p, np.full(n_last, float(sx))))


#: columns of the probe matrix of the label-noise U-statistic (the module's
#: docstring, :func:`_probes`, :func:`_noise_statistic`): with ``P`` above
#: it, ``A_j E`` (``D x PROBES``) stands for the ``D x P`` matrix ``A_j``.
#: The probes' products cost ``D N PROBES`` per ridge and cell, against the
#: ``D N P`` of ``X F``; the exact statistic costs a second ``X F`` per ridge.
#: The cells' exact noise norms, probed with the same columns, are a control
#: variate.  Measured relative spread of ``Var_Xeps`` from the probes of one
#: data draw, plain and with the control variate, against the exact
#: statistic's spread over data draws:
#:
#: * ``PowerLaw(3, 10^4)``, ``N = 2000``, ``P = 3162`` (figure F15): 1.8% and
#:   0.024%, against 0.11% (so 14x the exact standard error without the
#:   control variate, 1.02x with it);
#: * ``PowerLaw(1.5, 1000)``, ``N = 500``, ``P = 400``: 0.5-0.6% and 0.08%,
#:   against 0.7%;
#: * ``Identity`` at ``D = 1000``, ``N = 500``, ``P = 400``: 1.0% and 0.7-1.2%,
#:   against 0.2-0.35% (3-5x): the cells' norms are mostly ``Var_XF,eps``
#:   there and do not follow the statistic.  Such a population needs ``k``
#:   near ``P/2`` for 1.5x, about the cost of the exact statistic.
PROBES = 64


def _x_draw(x_seed, sigma, wbar, p, s2, k, xp=np):
    """Data draw ``X_i`` (rows ``N(0, diag sigma)``), its label noise, clean
    labels and the ``k`` probes of the U-statistic (None: ``k = P``, ``E =
    I``, exact)."""
    rng = np.random.default_rng(x_seed)
    x_host = gaussian_rows(rng, p, sigma)
    x = xp.asarray(x_host)
    eps = xp.asarray(gaussian_rows(rng, p, s2))
    probes = None if k >= p else xp.asarray(_probes(rng, x_host, sigma, p, k))
    return x, eps, x @ xp.asarray(wbar), probes


def _probe_columns(ctx):
    """The probe count of a simulation's context: ``min(P, k)`` with ``k``
    the user's ``probes`` (:data:`PROBES` by default), or ``P`` (no probes
    drawn) where no U-statistic is formed (no label noise, or nonlinear
    features)."""
    p, s2, activation, k = ctx[2], ctx[4], ctx[6], ctx[10]
    return min(p, k) if s2 > 0 and activation is None else p


def _probes(rng, x, sigma, p, k):
    """Probes ``E`` (``P x k``) with ``E[E E^T | X] = I``, so that
    ``||A E||^2`` is an unbiased estimate of ``||A||^2`` for any ``A`` that
    does not depend on ``E``.  The U-statistic's ``P x P`` form lies mostly
    in the span of ``X``'s columns along the largest population eigenvalues
    (its trace is that of ``X (Sigma_hat + kappa)^-1 Sigma (Sigma_hat +
    kappa)^-1 X^T``-like forms), so the first ``m = k/2`` probes are an
    orthonormal basis ``Q_1`` of those ``m`` columns, taken exactly, and the
    other ``k - m`` a random orthonormal frame ``Q_2`` of the rest of
    ``R^P``, scaled by ``sqrt((P - m)/(k - m))`` (deflation, as in
    Hutch++)."""
    m = min(k // 2, x.shape[1])
    top = np.argsort(-np.asarray(sigma), kind="stable")[:m]
    q1 = np.linalg.qr(x[:, top])[0]
    g = rng.standard_normal((p, k - m))
    g -= q1 @ (q1.T @ g)
    g -= q1 @ (q1.T @ g)  # twice is enough (Kahan)
    q2 = np.linalg.qr(g)[0]
    return np.concatenate([q1, math.sqrt((p - m) / (k - m)) * q2], axis=1)


def _feature(d, widths, layer_variance, sigma_f, seed, ctx, xp=np):
    """The feature draw of :func:`_draw_f` with what every cell of it needs
    from ``F`` alone, formed once per draw and shared by every data draw:
    the Gram ``F^T Sigma F`` (``N x N``) of linear features, for ``||Sigma^1/2
    F v_i||^2``, or the kernels ``(K, c)`` of a nonlinear activation
    (:meth:`~freeprob.models.activations.Activation.kernels`, ``D N^2`` and
    ``N^2`` transcendental functions)."""
    sigma, wbar, activation = ctx[0], ctx[1], ctx[6]
    f = _draw_f(d, widths, layer_variance, sigma_f, seed, xp)
    if activation is None:
        # G^T G with G = Sigma^{1/2} F: one symmetric product (numpy's syrk),
        # a third of the time of (Sigma F)^T F at D = 10^4, N = 1000
        g = f * xp.sqrt(xp.asarray(sigma))[:, None]
        return f, g.T @ g
    return f, activation.kernels(f, sigma, wbar, xp)


class _Row:
    """The cells of one data draw ``X_i`` (every ``F_j``) and the accumulators
    of the label-noise U-statistic over ``F``."""

    def __init__(self, x_draw, x_seed, d, n_last, p, nl, activation, xp=np, noisy=True, feature_noise=True):
        self.x, self.eps, self.y_sig, self.probes = x_draw
        self.x_seed = x_seed
        self.xp = xp
        self.cells = {k: [] for k in ("w", "noise", "Etr", "gcv", "kappa1", "test_xi", "dfbar1")}
        # one accumulator per ridge (a list: no in-place update of a slice,
        # which some array libraries do not have); without label noise the
        # U-statistic is multiplied by sigma^2 = 0 and is not formed (its
        # (D + N) x P products per ridge dominate a cell at large P)
        self.linear = activation is None
        # rows of A: [A_XF; sqrt(sx) B], or A_XF alone without feature noise
        # (the B block is then 0 and would only add (N x P) products)
        self.rows = d + n_last if feature_noise else d
        self.k = p if self.probes is None else self.probes.shape[1]
        # the sum over F draws of [A_XF; sqrt(sx) B] E, every ridge's k columns side by side
        self.a_sum = xp.zeros((self.rows, nl * self.k), dtype=xp.float64) if activation is None and noisy else None
        self.a_norms = np.zeros(nl)
        self.nf = 0

    def add(self, feature, f_seed, ctx):
        """Fit the cell ``(X_i, F_j)`` for the whole ridge sweep from one SVD;
        ``feature`` is the pair of :func:`_feature`."""
        f, shared = feature
        fit = self.fit(self.x @ f, f_seed, ctx)
        self.finish(f, shared, fit, ctx)

    def fit(self, pre, f_seed, ctx):
        """First half of a cell: features ``z = phi(X F) + xi`` from the
        preactivations ``pre = X_i F_j`` and the thin SVD of ``z/sqrt(P)``."""
        p, sx, activation = ctx[2], ctx[5], ctx[6]
        xp = self.xp
        self.nf += 1
        xi = _xi(self.x_seed, f_seed, p, pre.shape[1], sx, xp)
        z = (_phi(activation, xp)(pre) if activation is not None else pre) + xi
        return (z,) + thin_svd(z / math.sqrt(p), xp)

    def finish(self, f, shared, fit, ctx):
        """Second half: the cell's weights, noise terms, training error and
        GCV from the SVD and ``shared`` (:func:`_feature`): for linear
        features the Gram ``F_j^T Sigma F_j`` (``||Sigma^1/2 F v_i||^2 = v_i^T
        gram v_i`` for the right singular vectors ``v_i``, without a ``D x N
        x P`` product per cell), else the activation's kernels."""
        sigma, wbar, p, lam, s2, sx, activation, weights = ctx[:8]
        xp = self.xp
        y_sig, cells = self.y_sig, self.cells
        z, u, s, vt = fit
        lam_x = xp.asarray(lam)
        s2v = s * s
        spectral = ctx[9]
        if spectral is None:
            filt = ridge_filter(s, lam_x, xp)  # minimum norm at lam = 0
        else:
            # a spectral estimator [C18]: filt = s f(s^2), its own filter on the
            # cell's spectrum (evaluated on the host), the residual r(s^2)
            from freeprob.models.spectral import filter_values

            s_host = to_numpy(s)
            fval, h, r = filter_values(spectral[0], spectral[1], (s_host * s_host)[None, :])
            pos = s_host[None, :] > 0
            filt = xp.asarray(np.where(pos, s_host[None, :] * fval.real, 0.0))
            cells["dfbar1"].append(np.sum(np.where(pos, h.real, 0.0), axis=1) / sigma.size)
        c = u.T @ y_sig / math.sqrt(p)
        coef = filt * c[None, :]  # v_hat = coef @ V^T, one row per ridge
        v_sig = coef @ vt  # (nl, N)
        if activation is None:
            # cell vectors [w; sqrt(sx) v] with weights [Sigma; 1]: the test feature
            # noise xi enters the prediction as v^T xi, so its variance sx ||v||^2 is
            # a Euclidean block of the same quadratic form (pitfall P6)
            w = xp.concat([v_sig @ f.T, math.sqrt(sx) * v_sig], axis=1)
            cells["w"].append(w)
            if self.a_sum is not None and self.probes is None:
                # the exact statistic forms [A_XF; sqrt(sx) B] itself: its norm is the cell's noise norm
                cells["noise"].append(s2 * self._probe(f, u, vt, filt, sx, weights))
            else:
                col = xp.sum((vt @ shared) * vt, axis=1)  # ||Sigma^1/2 F v_i||^2
                cells["noise"].append(s2 * (xp.sum(filt**2 * col[None, :], axis=1)
                                            + sx * xp.sum(filt**2, axis=1)) / p)
                if self.a_sum is not None:
                    self._probe(f, u, vt, filt, sx, weights)
        else:
            # test feature noise: sigma_xi^2 E_eps ||v_hat||^2 (pitfall P6)
            cells["test_xi"].append(sx * (xp.sum(v_sig**2, axis=1) + s2 * xp.sum(filt**2, axis=1) / p))
            kern, cross = shared
            vk = vt @ kern @ vt.T  # K in the right-singular basis
            err = xp.sum((v_sig @ kern) * v_sig, axis=1) - 2 * (v_sig @ cross) + float(wbar @ (sigma * wbar))
            cells["w"].append(err)
            cells["noise"].append(s2 * xp.sum((filt @ vk) * filt, axis=1) / p)
        resid_sig = y_sig[None, :] - (z @ v_sig.T).T  # (nl, P)
        pos = s2v[None, :] > 0
        if spectral is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                shrink = xp.where(pos, lam_x[:, None] / xp.where(pos, s2v[None, :] + lam_x[:, None], 1.0), 1.0)
        else:
            shrink = xp.asarray(np.where(to_numpy(pos), r.real, 1.0))
        tr_res = (xp.sum(shrink**2, axis=1) + (p - s.shape[0])) / p  # Tr (I - H)^2 / P
        cells["Etr"].append(xp.mean(resid_sig**2, axis=1) + s2 * tr_res)
        if spectral is None:
            g = gcv_from_svd(u, s, y_sig + self.eps, lam_x, xp)
            cells["gcv"].append(g["gcv"] - s2)
            cells["kappa1"].append(g["kappa_hat"])

    def _probe(self, f, u, vt, filt, sx, weights):
        """Add the cell's ``[A_XF; sqrt(sx) B] E`` for every ridge to the
        U-statistic: ``A_XF = F V^T diag(filt/sqrt(P)) U^T`` and ``B`` the
        same without ``F``, formed right to left (``F`` meets ``nl k``
        columns, not ``P``).  Returns the cell's ``||[A_XF; sqrt(sx) B] E||^2``
        per ridge (with ``E = I``, its noise norm ``(sum_i filt_i^2 (||Sigma^1/2
        F v_i||^2 + sx))/P``)."""
        xp, p, nl, k = self.xp, u.shape[0], filt.shape[0], self.k
        ue = u.T if self.probes is None else u.T @ self.probes  # r x k
        ck = (filt / math.sqrt(p))[:, :, None] * ue[None, :, :]  # nl x r x k
        m = vt.T @ xp.reshape(xp.permute_dims(ck, (1, 0, 2)), (ue.shape[0], nl * k))  # N x nl k
        a = f @ m
        if self.rows > a.shape[0]:
            a = xp.concat([a, math.sqrt(sx) * m], axis=0)
        if xp is np:
            self.a_sum += a  # in place: a fresh D x nl k sum per cell costs a third of the product
        else:
            self.a_sum = self.a_sum + a
        wts = xp.asarray(weights[:self.rows])[:, None]
        norms = xp.sum(xp.reshape(xp.sum(wts * a * a, axis=0), (nl, k)), axis=1)
        self.a_norms += to_numpy(norms)
        return norms

    def result(self, ctx):
        s2, weights = ctx[4], ctx[7]
        out = {k: np.array([to_numpy(c) for c in v]) for k, v in self.cells.items() if v}
        if self.a_sum is not None:
            # unbiased ||E_F A||^2_Sigma for this X (U-statistic over F draws)
            xp, nl = self.xp, self.a_norms.size
            wts = xp.asarray(weights[:self.rows])[:, None]
            tot = to_numpy(xp.sum(xp.reshape(xp.sum(wts * self.a_sum**2, axis=0), (nl, self.k)), axis=1))
            out["aa"] = s2 * (tot - self.a_norms) / (self.nf * (self.nf - 1))
            if self.probes is not None:
                out["dd"] = s2 * self.a_norms / self.nf   # the cells' mean noise norm, through the probes
        elif self.linear:
            out["aa"] = np.zeros(self.a_norms.size)      # sigma^2 = 0: no label-noise variance
        return out


def _row_task(args):
    """All cells of one data draw ``X_i`` (every ``F_j``), with the feature
    draws ``fs`` that the caller keeps."""
    (ctx, d, widths, layer_variance, sigma_f, x_seed, f_seeds, fs) = args
    sigma, wbar, p, lam, s2 = ctx[:5]
    xp = resolve(ctx[8])
    row = _Row(_x_draw(x_seed, sigma, wbar, p, s2, _probe_columns(ctx), xp), x_seed, d, widths[-1], p, lam.size, ctx[6], xp,
               noisy=s2 > 0, feature_noise=ctx[5] > 0)
    for f, f_seed in zip(fs, f_seeds):
        row.add(f, f_seed, ctx)
    return row.result(ctx)


def _rows_feature_outer(ctx, d, widths, layer_variance, sigma_f, x_seeds, f_seeds):
    """The same cells with the feature draws in the outer loop: each ``F_j``
    is drawn once and every data draw is kept (the cheaper choice when ``n_x P
    D`` is small against ``n_f D N``, as for ``P = 10`` in figure F17).  Each
    cell's products with ``F_j`` have the shapes of :func:`_row_task`'s, so
    the values are those of a run on an executor, bit for bit (one product
    stacked over the data draws was up to 1 ulp off with OpenBLAS 0.3.30,
    whose kernels depend on the number of rows)."""
    sigma, wbar, p, lam, s2 = ctx[:5]
    xp = resolve(ctx[8])
    rows = [_Row(_x_draw(xs, sigma, wbar, p, s2, _probe_columns(ctx), xp), xs, d, widths[-1], p, lam.size, ctx[6], xp,
                 noisy=s2 > 0, feature_noise=ctx[5] > 0) for xs in x_seeds]
    for f_seed in f_seeds:
        f = _feature(d, widths, layer_variance, sigma_f, f_seed, ctx, xp)
        for row in rows:
            row.add(f, f_seed, ctx)
    return [row.result(ctx) for row in rows]


def _block_task(args):
    """The rows of a block of data draws, feature draws outer
    (:func:`_rows_feature_outer`): one task of an executor."""
    ctx, d, widths, layer_variance, sigma_f, x_seeds, f_seeds = args
    return _rows_feature_outer(ctx, d, widths, layer_variance, sigma_f, list(x_seeds), f_seeds)


def _approx(f, sigma, wbar, sx):
    """``sigma_e^2 = wbar^T Sigma wbar - b^T Sigma_z^{-1} b`` for one feature
    draw (:mod:`freeprob.models._features_spectral`): with ``A = Sigma^{1/2}
    F = U S V^T`` the second term is ``sum_i (U^T u)_i^2 S_i^2/(S_i^2 +
    sigma_xi^2)``, ``u = Sigma^{1/2} wbar`` (the projection on the range of
    ``A`` without feature noise)."""
    a = np.sqrt(sigma)[:, None] * to_numpy(f)
    uu, sv, _ = np.linalg.svd(a, full_matrices=False)
    u = np.sqrt(sigma) * wbar
    c = (uu.T @ u) ** 2
    keep = sv > 1e-12 * sv[0]
    return float(u @ u - np.sum(c[keep] * sv[keep] ** 2 / (sv[keep] ** 2 + sx)))


def simulate_rf(model, seeds, rng, executor, ridge, activation=None, xp_name="numpy", sweep=None, probes=None):
    if probes is None:
        probes = PROBES
    elif isinstance(probes, bool) or not isinstance(probes, (int, np.integer)) or probes < 1:
        raise ParameterError("probes", probes, "an integer >= 1 (the samples P or more: the exact statistic)")
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = (int(seeds), int(seeds))
    try:
        nx, nf = (int(s) for s in seeds)
    except (TypeError, ValueError):
        raise ParameterError("seeds", seeds, "an integer >= 3 or a pair (n_x, n_f) of them") from None
    if nx < 3 or nf < 3:
        # the variance split is an ANOVA over the crossed grid, its standard
        # error a jackknife that leaves one row (column) out: two draws left
        # per axis are the least that has a spread (with 2, the s.e. is NaN)
        raise ParameterError("seeds", seeds, "an integer >= 3 or a pair (n_x, n_f) of them",
                             "the jackknife of the variance split leaves one draw out and needs two")
    pop = model.population
    d = int(model._num("dimension", model.dimension))
    sigma = population_spectrum(pop, d)  # the law's atoms, or its mid-quantiles
    if model._weights is None:
        wbar = np.full(d, 1 / np.sqrt(d))  # isotropic: wbar^T A wbar = tr A exactly (see simulate)
    else:
        wbar = np.sqrt(model._weights[1])
    p = int(model._num("samples", model.samples))
    widths = tuple(int(model._num("widths", w)) for w in model.widths)
    s2 = float(model._num("noise", model.noise))
    est = getattr(model, "estimator", None)
    spectral = None
    if est is not None and est.ROUTE != "resolvent":
        # the estimator's own filter on each cell's spectrum [C18]; sweep
        # values (``sweep={"time": array}``) override the estimator's
        if ridge is not None:
            raise ParameterError("ridge", ridge, "None for a spectral estimator", "sweep with sweep={...}")
        values = est.values(dict(sweep or {}))
        vshape = np.broadcast_shapes(*[np.shape(v) for v in values.values()])
        values = {k: np.broadcast_to(v, vshape).ravel() for k, v in values.items()}
        spectral = (est, values)
        lam = np.asarray(values.get("ridge", np.zeros(int(np.prod(vshape)))), dtype=float)
        sx = float(model._num("feature_noise", model.feature_noise))
    elif sweep is not None:
        raise ParameterError("sweep", sweep, "None unless the model has a spectral estimator",
                             "ridge models sweep with ridge=")
    elif activation is None:
        lam = ridges(model._num("ridge", model.ridge) if ridge is None else ridge)
        sx = float(model._num("feature_noise", model.feature_noise))
    else:
        # real features phi(X F): the nominal ridge, no additive feature noise
        lam = ridges(model._num("ridge", model.ridge) if ridge is None else ridge)
        sx = 0.0
    sigma_f = feature_spectrum(model, widths[0], rng)
    seq = rng.bit_generator.seed_seq
    x_seeds = seq.spawn(nx)
    f_seeds = seq.spawn(nf)
    n_last = widths[-1]
    weights = np.concatenate([sigma, np.ones(n_last)])
    ctx = (sigma, wbar, p, lam, s2, sx, activation, weights, xp_name, spectral, int(probes))
    # serially, every F_j and X_i is drawn once when one of the two sets fits
    # in memory; otherwise (and on an executor) blocks of data draws each draw
    # the F_j once
    f_bytes = 8 * nf * (d + n_last) * n_last  # F_j and its Gram (or kernel)
    x_bytes = 8 * nx * (p * d + (d + n_last) * lam.size * _probe_columns(ctx))  # X_i and its U-statistic sums
    if executor is None and f_bytes <= min(_CACHE_BYTES, x_bytes):
        fs = [_feature(d, widths, model.layer_variance, sigma_f, fsd, ctx, resolve(xp_name))
              for fsd in f_seeds]
        rows = [_row_task((ctx, d, widths, model.layer_variance, sigma_f, xs, f_seeds, fs)) for xs in x_seeds]
    else:
        # blocks of whole rows within the memory budget, and on an executor one
        # per worker (four when it does not say): a block draws each F_j once,
        # where one task per row drew it once per row (serially, too, when
        # neither the F_j nor the X_i fit: D = 10^4 with P = 6000 in F13)
        per = _CACHE_BYTES // max(x_bytes // nx, 1)
        workers = 1 if executor is None else max(int(getattr(executor, "workers", 4) or 4), 1)
        size = max(1, min(-(-nx // workers), per))
        tasks = [(ctx, d, widths, model.layer_variance, sigma_f, tuple(x_seeds[i:i + size]), f_seeds)
                 for i in range(0, nx, size)]
        rows = [row for block in (map if executor is None else executor.map)(_block_task, tasks) for row in block]
    data = {k: np.array([r[k] for r in rows]) for k in rows[0]}  # (n_x, n_f, n_lam, ...)
    out = {}
    if activation is None:
        parts = ("bias2", "var_X", "var_F", "var_XF")
        target = np.concatenate([wbar, np.zeros(widths[-1])])
        for i, key in enumerate(parts):
            out[key] = crossed_se({"w": data["w"]}, lambda dd, i=i: anova(dd["w"], weights, target)[i])
        noise_total = {"n": data["noise"]}
        vxn, vxn_se = _noise_statistic(data)
        out["var_X_noise"] = (vxn, vxn_se)
        tot, tot_se = crossed_se(noise_total, lambda dd: dd["n"].mean(axis=(0, 1)))
        out["var_XF_noise"] = (tot - vxn, np.sqrt(tot_se**2 + vxn_se**2))
        eg = np.sum(weights * (data["w"] - target) ** 2, axis=-1) + data["noise"]
    else:
        eg = data["w"] + data["noise"] + data["test_xi"]
    out["Eg"] = crossed_se({"e": eg}, lambda dd: dd["e"].mean(axis=(0, 1)))
    if spectral is not None:
        return _spectral_keys(out, data, weights, target, tuple(f_seeds), (d, widths, model.layer_variance,
                                                                            sigma_f, sigma, wbar, sx), vshape)
    for key in ("Etr", "gcv", "kappa1"):
        out[key] = crossed_se({key: data[key]}, lambda dd, key=key: dd[key].mean(axis=(0, 1)))
    return {k: out[k] for k in RF_SIM_KEYS if k in out}


def _noise_statistic(data):
    """``Var_Xeps`` and its standard error from the rows' U-statistics
    ``data["aa"]`` (``n_x x nl``).  Exact (``E = I``): their mean and
    standard error.  Through probes, the combined ratio estimator
    ``mean_i(U_i) * mean_i(D_i) / mean_i(D~_i)``, where ``D_i`` is row ``i``'s
    mean cell noise norm ``sigma^2 ||A_j||^2`` (exact, ``data["noise"]``) and
    ``D~_i`` the same through the row's probes (``data["dd"]``).  The probes'
    error in ``U_i`` and in ``D~_i`` comes from the same ``E``, so the known
    ``D_i`` is a control variate: measured on one data draw with 64 probes,
    it cuts the probes' relative spread of ``Var_Xeps`` from 0.5-0.6% to
    0.08% (``PowerLaw(1.5, 1000)``, ``N = 500``, ``P = 400``) and from 0.9% to
    0.02-0.03% (``PowerLaw(3, 2000)``, ``N = 400``, ``P = 632``); not for
    ``Identity`` (1.0% before, 0.7-1.2% after), where the cells' norms are
    mostly ``Var_XF,eps`` and do not follow ``U_i``.  Its bias is
    ``O(1/(n_x k))`` relative.  The standard error is the delete-one-row
    jackknife."""
    u = data["aa"]
    if "dd" not in data:
        return mean_se(u)
    rows = np.stack([u, data["noise"].mean(axis=1), data["dd"]], axis=1)   # n_x x (U, D, D~) x nl

    def ratio(v):
        # a filter that is 0 (gradient flow at t = 0) makes every A_j, its norms
        # and its statistic 0: the ratio is then 1 (a sum of squares is 0 only there)
        su, se_, sp = v.sum(axis=0)
        return su / v.shape[0] * np.divide(se_, sp, out=np.ones_like(sp), where=sp > 0)

    return jackknife(rows, ratio)


def _spectral_keys(out, data, weights, target, f_seeds, draw, shape):
    """The keys of a random-feature learning curve under a spectral
    estimator (:data:`~freeprob.models._features_spectral.FEATURE_SPECTRAL_KEYS`)
    from the crossed grid: ``bias2``, ``var_X``, ``var_F`` and ``var_XF`` (the
    ANOVA parts of :func:`simulate_rf`), the label-noise parts (``Var_{X eps}``
    by the U-statistic over feature draws, ``Var_{XF eps}`` the rest), and ``approx``
    from each feature draw exactly (:func:`_approx`)."""
    d, widths, layer_variance, sigma_f, sigma, wbar, sx = draw
    res = {key: out[key] for key in ("Eg", "bias2", "var_X", "var_F", "var_XF", "var_X_noise", "var_XF_noise")}
    for key in ("Etr", "dfbar1"):
        res[key] = crossed_se({key: data[key]}, lambda dd, key=key: dd[key].mean(axis=(0, 1)))
    ap = np.array([_approx(_draw_f(d, widths, layer_variance, sigma_f, fs), sigma, wbar, sx) for fs in f_seeds])
    res["approx"] = (np.full(res["Eg"][0].shape, ap.mean()), np.full(res["Eg"][0].shape,
                                                                      ap.std(ddof=1) / np.sqrt(ap.size)))
    return {k: tuple(np.reshape(v, shape) for v in res[k])
            for k in ("dfbar1", "approx", "bias2", "var_F", "var_X", "var_XF", "var_X_noise", "var_XF_noise", "Eg",
                      "Etr")}


def feature_spectrum(model, n, rng):
    """The ``n`` eigenvalues of ``Sigma_F`` for anisotropic weights (None for
    white ones): those of an atomic law (its atoms, with multiplicities ``n
    p_k`` when weighted or of another size, as for the population:
    :func:`~freeprob.montecarlo.sampling.population_spectrum`), else ``n``
    eigenvalues drawn from the law with ``rng`` (once per simulation)."""
    fc = model.feature_covariance
    if fc is None:
        return None
    if fc.finite_spectrum is not None:
        return population_spectrum(fc, n)
    from freeprob.montecarlo.sampling import sample_eigenvalues

    return np.sort(sample_eigenvalues(fc, n, rng))
