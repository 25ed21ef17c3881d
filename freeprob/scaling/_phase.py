r"""Phase diagram of random-feature scaling [R16e] and numerical verification
of exponents.

With ``lambda D/N ~ P^-ell`` (the feature-level ridge, pitfall P12) and
``N ~ P^q`` (here ``q`` is an exponent, pitfall P1), ``E_g ~ P^-beta`` with

.. math::
    \beta = \min\Big\{2\alpha\min(1,\tfrac\ell\alpha)\min(r,1),\
    (\alpha-c)\min(1,\tfrac\ell\alpha)+qc,\ 2\alpha q\min(\tfrac12,r),\
    1-\min(1,\tfrac\ell\alpha,q)\Big\}

(signal, feature variance, width-limited signal, noise -- the last only with
label noise).  The authors' noisy branch drops ``r`` from the signal term
(pitfall P17); it is written with ``min(r, 1)`` here.  ``c`` is the
finite-width exponent (``c = 1`` for white features; [R18] for anisotropic
weights).  For ``c = 1`` the test suite checks every term against the
exponents derived from the model's expressions by
:func:`~freeprob.scaling.exponent`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from freeprob.errors import ParameterError
from freeprob.models.base import AbstractModel
from freeprob.parameters import (
    instance,
    nonnegative,
    positive,
    positive_integer,
    real_array,
    real_number,
)
from freeprob.scaling._asymptotic import ALPHA, ELL, Q, R

__all__ = ["PhaseDiagram", "phase_diagram", "verify", "Verification", "local_exponent", "finite_width_curve"]

TERMS = ("signal", "variance_F", "width_signal", "noise")
#: the terms in words, for legends
TERM_LABELS = {"signal": "signal (bias)", "variance_F": r"finite width ($\mathrm{Var}_F$)",
               "width_signal": "width-limited signal", "noise": "label noise"}


@dataclass(frozen=True)
class PhaseDiagram:
    """``beta(ell, q)`` and the dominant term over the ``(ell, q)`` plane."""

    alpha: float
    r: float
    c: float
    noisy: bool

    def terms(self):
        """The four exponents as sympy expressions in ``ell``, ``q``."""
        a, r, c = sp.Float(self.alpha), sp.Float(self.r), sp.Float(self.c)
        m = sp.Min(1, ELL / a)
        out = {"signal": 2 * a * m * sp.Min(r, 1), "variance_F": (a - c) * m + Q * c,
               "width_signal": 2 * a * Q * sp.Min(sp.Rational(1, 2), r)}
        if self.noisy:
            out["noise"] = 1 - sp.Min(1, ELL / a, Q)
        return out

    def _values(self, ell, q):
        """The terms at arrays of ``ell``, ``q``: compiled from :meth:`terms`
        (the formula is written once, in sympy)."""
        from freeprob.numeric.compile import compile_expr

        ell, q = np.broadcast_arrays(np.asarray(ell, dtype=float), np.asarray(q, dtype=float))
        f = compile_expr(tuple(self.terms().values()), (ELL, Q))
        return np.stack([np.broadcast_to(v, ell.shape) for v in f(ell, q)])

    def beta(self, ell, q):
        """Exponent of ``E_g`` in ``P`` (vectorized)."""
        return self._values(ell, q).min(axis=0)

    def dominant(self, ell, q):
        """Name of the dominant (smallest-exponent) term (vectorized)."""
        idx = self._values(ell, q).argmin(axis=0)
        return np.asarray(TERMS)[idx]

    def plot(self, ax=None, *, ell=(0, 2), q=(0, 3), n=301):
        """The regions of the dominant term (colours, named in the legend)
        with contours of ``beta`` (matplotlib)."""
        try:
            import matplotlib.pyplot as plt
            from matplotlib.colors import ListedColormap
            from matplotlib.patches import Patch
        except ImportError:  # pragma: no cover - optional extra
            raise ParameterError("matplotlib", None, "installed", "pip install 'freeprob[plot]'") from None
        ax = ax or plt.subplots(figsize=(5, 4))[1]
        L, Qg = np.meshgrid(np.linspace(*ell, n), np.linspace(*q, n))
        vals = self._values(L, Qg)
        dom, beta = vals.argmin(axis=0), vals.min(axis=0)
        colors = ("#8fb8de", "#f2b880", "#a8d5a2", "#d9a3c7")[:len(vals)]
        ax.pcolormesh(L, Qg, dom, shading="auto", cmap=ListedColormap(colors), vmin=-0.5,
                      vmax=len(colors) - 0.5, rasterized=True)
        cs = ax.contour(L, Qg, beta, levels=8, colors="k", linewidths=0.5)
        ax.clabel(cs, fontsize=6, fmt="%.2f")
        present = sorted(set(np.unique(dom).tolist()))
        ax.legend(handles=[Patch(color=colors[i], label=TERM_LABELS[TERMS[i]]) for i in present], fontsize=6.5,
                  loc="upper right", framealpha=0.9)
        ax.set_xlabel(r"$\ell$ ($\lambda D/N \propto P^{-\ell}$)")
        ax.set_ylabel(r"$q$ ($N \propto P^{q}$)")
        ax.set_title(rf"$E_g \sim P^{{-\beta}}$, $\alpha={self.alpha}$, $r={self.r}$, $c={self.c}$"
                     + (" (noisy)" if self.noisy else ""))
        return ax


def phase_diagram(alpha, r, c=1.0, noisy=False) -> PhaseDiagram:
    """The [R16e] phase diagram (see the module); ``alpha > 1``, ``r > 0``, ``0 <= c``."""
    alpha, r = real_number("alpha", positive("alpha", alpha)), real_number("r", positive("r", r))
    c = real_number("c", nonnegative("c", c))
    if not isinstance(noisy, (bool, np.bool_)):
        raise ParameterError("noisy", repr(noisy)[:60], "True or False")
    if alpha <= 1:
        raise ParameterError("alpha", alpha, "(1, oo)", "a normalizable spectrum (pitfall P13)")
    if c < 0:
        raise ParameterError("c", c, "[0, oo)")
    return PhaseDiagram(alpha, r, c, bool(noisy))


# ------------------------------------------------------------- verification
def local_exponent(x, y):
    """``-d log y/d log x`` by centred differences on a log grid."""
    x, y = real_array("x", x), real_array("y", y)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ParameterError("y", f"an array of shape {y.shape}", f"a 1-d array of the shape of x, {x.shape}, "
                             "with at least 2 points")
    if np.any(~(x > 0)) or np.any(~(y > 0)):
        raise ParameterError("y" if np.all(x > 0) else "x", "an array with values <= 0", "positive values",
                             "the local exponent is a slope in log-log")
    lx, ly = np.log(x), np.log(y)
    return -np.gradient(ly, lx)


@dataclass(frozen=True)
class Verification:
    """Derived vs fitted exponent of one quantity."""

    quantity: str
    derived: float
    fitted: float
    sizes: np.ndarray
    values: np.ndarray
    local: np.ndarray

    @property
    def error(self):
        return abs(self.fitted - self.derived)

    spot_check: dict | None = None

    def __str__(self):
        out = (f"{self.quantity}: derived {self.derived:.4g}, fitted {self.fitted:.4g} over "
               f"{self.sizes[0]:.3g}..{self.sizes[-1]:.3g} (|diff| {self.error:.3g})")
        if self.spot_check:
            sc = self.spot_check
            out += (f"; Monte Carlo at D = {sc['dimension']}, P = {sc['samples']}: theory {sc['theory']:.4g}, "
                    f"simulation {sc['simulation']:.4g} +- {sc['se']:.2g}")
        return out


def verify(model, quantity, variable="samples", *, ell=None, q=None, start=100, decades=3, points=31,
           fit_decades=2, monte_carlo=None, rng=None) -> Verification:
    """Fit the local slope of the model's numeric evaluator over ``decades``
    decades of ``variable`` (``samples`` from ``start``; the ridge follows
    ``lambda = P^-ell``, times ``N/D`` for random features; widths ``N =
    P^q``) and compare with the derived :func:`~freeprob.scaling.exponent`
    at the model's own ``alpha`` and ``r``.  The fit is a least-squares line
    in log-log over the last ``fit_decades`` decades (pitfall P14: exponents
    converge slowly).  ``monte_carlo=(D, P, seeds)`` adds a Monte Carlo spot
    check of the evaluator at a moderate size (needs ``rng``)."""
    from freeprob.models.features import RandomFeatureRidge
    from freeprob.models.linear import SourceTarget
    from freeprob.scaling._exponents import leading_term

    instance("model", model, AbstractModel, "a freeprob model (LinearRidge, RandomFeatureRidge, ...)")
    if variable != "samples":
        raise ParameterError("variable", variable, "'samples'")
    ell = None if ell is None else real_number("ell", ell)
    q = None if q is None else real_number("q", positive("q", q))
    start, decades = float(positive("start", start)), float(positive("decades", decades))
    fit_decades = float(positive("fit_decades", fit_decades))
    points = int(positive_integer("points", points))
    if monte_carlo is not None:
        if isinstance(monte_carlo, (str, bytes)) or not hasattr(monte_carlo, "__len__") or len(monte_carlo) != 3:
            raise ParameterError("monte_carlo", repr(monte_carlo)[:60], "a triple (D, P, seeds) of integers >= 1")
        monte_carlo = tuple(int(positive_integer("monte_carlo", v)) for v in monte_carlo)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ParameterError("rng", type(rng).__name__, "None or a numpy.random.Generator")
    point = {ALPHA: float(model.population.alpha)}
    if isinstance(model.target, SourceTarget):
        point[R] = float(model.target.r)
    if ell is not None:
        point[ELL] = float(ell)
    if q is not None:
        point[Q] = float(q)
    _, e, _ = leading_term(model, quantity, variable, ridge="power" if ell is not None else "zero",
                           points=[point])
    derived = float(e.subs(point))
    p = np.unique(np.round(np.geomspace(start, start * 10**decades, points))).astype(float)
    kw = {"samples": p}
    rf = isinstance(model, RandomFeatureRidge)
    widths = np.round(p**q) if (rf and q is not None) else None
    if widths is not None:
        kw["widths"] = widths
    if ell is not None:
        lam = p ** (-float(ell))
        if rf:
            d = float(model.dimension)
            lam = lam * (widths if widths is not None else float(model.widths[0])) / d
        kw["ridge"] = lam
    else:
        kw["ridge"] = np.zeros_like(p)
    vals = np.asarray(model.evaluate(**kw)[quantity], dtype=float)
    sel = p >= p[-1] / 10**fit_decades
    slope = -np.polyfit(np.log(p[sel]), np.log(vals[sel]), 1)[0]
    spot = None
    if monte_carlo is not None:
        spot = _spot_check(model, quantity, ell, q, monte_carlo, rng)
    return Verification(quantity, derived, float(slope), p, vals, local_exponent(p, vals), spot)


def _spot_check(model, quantity, ell, q, spec, rng):
    """Monte Carlo of the same model family at a moderate size: the power law
    truncated to ``D`` eigenvalues, ``P`` samples (``N = P^q`` features,
    ``lambda = P^-ell``), theory from the evaluator vs :func:`freeprob.simulate`."""
    from freeprob.laws import PowerLaw
    from freeprob.models import LinearRidge, RandomFeatureRidge
    from freeprob.montecarlo import simulate

    d, p, seeds = (int(v) for v in spec)
    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng", type(rng).__name__, "a numpy.random.Generator for the Monte Carlo spot check")
    pop = PowerLaw(model.population.alpha, d)
    lam = 0.0 if ell is None else float(p) ** (-float(ell))
    if isinstance(model, RandomFeatureRidge):
        n = int(round(p**q)) if q is not None else int(model.widths[0])
        lam = lam * n / d
        small = RandomFeatureRidge(pop, widths=n, samples=p, ridge=lam, target=model.target,
                                   noise=model.noise)
        sim = simulate(small, seeds=(seeds, seeds), rng=rng)
    else:
        small = LinearRidge(pop, target=model.target, noise=model.noise, samples=p, ridge=lam)
        sim = simulate(small, seeds=seeds, rng=rng)
    theory = float(np.asarray(small.evaluate()[quantity]))
    mean, se = (float(np.atleast_1d(v)[0]) for v in sim[quantity])
    return {"dimension": d, "samples": p, "theory": theory, "simulation": mean, "se": se,
            "z": (mean - theory) / se if se > 0 else 0.0}


def finite_width_curve(population, samples, alpha_F, widths, *, ridge=0.0, target=None):
    r"""The finite-width variance ``Var_F + Var_XF`` of anisotropic random
    features (``Sigma_F = diag(j^-alpha_F)``, one model per width) and its
    local exponent ``c(N) = -d log(Var_F + Var_XF)/d log N`` [R18]: the full
    theory curve, not a fixed exponent.  Overparameterized and ridgeless
    (``N >> P``) it tends to ``c = 1`` for ``alpha_F < 1/2``, crosses over to
    ``2 (1 - alpha_F)`` for ``1/2 < alpha_F < 1`` and to ``0`` for ``alpha_F >
    1`` (the features' variance then never vanishes).  Returns ``(widths,
    values, local_exponents)``."""
    from freeprob.laws import PowerLaw
    from freeprob.models.features import RandomFeatureRidge

    widths = real_array("widths", widths)
    if widths.ndim != 1 or np.any(widths < 1) or np.any(widths != np.round(widths)):
        raise ParameterError("widths", repr(widths.tolist())[:60], "a 1-d array of integers >= 1")
    widths = widths.astype(int)
    vals = []
    for n in widths:
        m = RandomFeatureRidge(population, widths=int(n), samples=samples, ridge=ridge, target=target,
                               feature_covariance=PowerLaw(alpha_F, int(n)))
        out = m.evaluate()
        vals.append(float(out["var_F"] + out["var_XF"]))
    vals = np.array(vals)
    return widths, vals, local_exponent(widths, vals)
