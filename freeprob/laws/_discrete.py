r"""Atomic laws: population covariance spectra.

Transforms of atomic laws are spectral means (:class:`~freeprob.numeric.spectrum.SpectralMean`),
left unevaluated so that a ``10^6``-atom spectrum costs nothing symbolically
and is summed in cache-sized blocks numerically.  ``doit()`` expands a small
spectrum exactly.
"""

from __future__ import annotations

import random
from typing import final

import mpmath
import numpy as np
import sympy as sp

from freeprob.conventions import as_expr
from freeprob.errors import NoClosedFormError, ParameterError
from freeprob.laws._base import SpectralLaw
from freeprob.numeric.spectrum import (
    ArraySpectrum,
    ExactSpectrum,
    PowerLawSpectrum,
    SpectralMean,
)
from freeprob.parameters import (
    Parameter,
    declare,
    nonnegative_integer,
    real,
    real_array,
    to_sympy,
)

__all__ = ["Discrete", "PowerLaw"]

#: numeric atom arrays longer than this are kept as float64 arrays
EXACT_LIMIT = 64
#: the Stieltjes curve (degree = number of distinct atoms) is formed only up
#: to this size; beyond it exact algebra is not worth its cost
CURVE_LIMIT = 16
#: the most atoms of a power law listed as sympy pairs by ``atoms()``
ATOM_LIST_LIMIT = 10**6


class _AtomicLaw(SpectralLaw):
    """Shared behaviour of atomic laws (abstract)."""

    spectrum: sp.Basic
    _twin_params = False

    def _key(self):
        return (self.spectrum,)

    @property
    def finite_spectrum(self):
        return self.spectrum

    def _spectral_mean(self, summand, var):
        return SpectralMean(summand, var, self.spectrum)

    def _density_closed(self, x):
        return sp.Integer(0)

    def _ac_intervals(self):
        return []

    def _atom_points(self):
        vals, _ = self.spectrum.numeric_atoms()
        return vals.astype(complex)

    def _mass_at_zero(self):
        vals, wts = self.spectrum.numeric_atoms()
        zero = vals == 0
        if wts is None:
            return float(np.count_nonzero(zero)) / vals.size
        return float(np.sum(wts[zero]))

    def _numeric_radius(self):
        vals, _ = self.spectrum.numeric_atoms()
        return float(np.max(np.abs(vals)))

    def _total_atom_mass(self):
        vals, wts = self.spectrum.numeric_atoms()
        return 1.0 if wts is None else float(np.sum(wts))

    def cdf_numeric(self, x, *, nodes: int = 0):
        """Cumulative distribution function (a step function) at real points.

        >>> import freeprob
        >>> freeprob.Discrete([1, 3]).cdf_numeric([0, 1, 2, 3]).tolist()
        [0.0, 0.5, 0.5, 1.0]
        """
        self._require_numeric("cdf_numeric")
        x = real_array("x", x, nan=False)
        nonnegative_integer("nodes", nodes)  # the common signature; unused: the cdf of atoms is a step function
        vals, wts = self.spectrum.numeric_atoms()
        order = np.argsort(vals, kind="stable")
        w = np.full(vals.size, 1.0 / vals.size) if wts is None else wts[order]
        cum = np.concatenate([[0.0], np.cumsum(w)])
        return cum[np.searchsorted(vals[order], x, side="right")]

    def _check_off_support(self, zarr):
        real_pts = zarr[zarr.imag == 0].real
        if real_pts.size == 0:
            return
        vals, _ = self.spectrum.numeric_atoms()
        hit = np.isin(real_pts, vals)
        if np.any(hit):
            from freeprob.errors import SupportError

            raise SupportError(f"z = {real_pts[hit][0]} is an atom of the law (a pole of g)")


@final
class Discrete(_AtomicLaw):
    r"""Finitely many atoms: ``mu = sum_k p_k delta_{eta_k}``.

    .. math:: g(z) = \sum_k \frac{p_k}{z - \eta_k},\qquad
              \mathrm{df}_1(\lambda) = \sum_k p_k\frac{\eta_k}{\eta_k + \lambda}.

    Numeric arrays with more than 64 atoms are held as float64 arrays
    (hashed by content) and every transform stays an unevaluated spectral
    sum; small or symbolic spectra are exact.

    Examples
    --------
    >>> import freeprob, sympy as sp
    >>> law = freeprob.Discrete([1, 3])
    >>> law.moments(2)
    [2, 5]
    >>> sp.factor(law.algebraic_equation(*sp.symbols("g z")))
    g*z**2 - 4*g*z + 3*g - z + 2

    Parameters
    ----------
    values : sequence or array of real atom locations
    weights : nonnegative weights summing to 1 (default: equal weights)
    """

    catalogue_name = "discrete"
    dimension_free = True  # a spectral distribution at any D (multiplicities D p_k)

    def _affine_closed(self, a, b):
        vals, wts = self.values, self.weights
        if isinstance(self.spectrum, ArraySpectrum):
            if a.is_number and b.is_number:
                return Discrete(float(a) * vals + float(b), None if self.spectrum.numeric_atoms()[1] is None else wts)
            return None
        return Discrete([a * v + b for v in vals], list(wts))

    def _latex(self, printer):
        vals, wts = self.values, self.weights
        if len(vals) > 8:
            return r"\textstyle\sum_{k=1}^{%d} p_k\,\delta_{\eta_k}" % len(vals)
        return " + ".join(r"%s\,\delta_{%s}" % (printer._print(w), printer._print(v)) for v, w in zip(vals, wts))

    def __init__(self, values, weights=None):
        self._set(spectrum=_make_spectrum(values, weights))

    def params(self):
        return {"values": self.values, "weights": self.weights}

    def _replace(self, **p):
        return Discrete(p["values"], p["weights"])

    @property
    def values(self):
        if isinstance(self.spectrum, ArraySpectrum):
            return self.spectrum.numeric_atoms()[0]
        return tuple(self.spectrum.values)

    @property
    def weights(self):
        if isinstance(self.spectrum, ArraySpectrum):
            vals, wts = self.spectrum.numeric_atoms()
            return np.full(vals.size, 1.0 / vals.size) if wts is None else wts
        return tuple(self.spectrum.weights)

    @property
    def free_symbols(self):
        return set(self.spectrum.free_symbols)

    def subs(self, *args, **kwargs):
        if isinstance(self.spectrum, ArraySpectrum):
            return self
        return super().subs(*args, **kwargs)

    def __repr__(self):
        if isinstance(self.spectrum, ArraySpectrum):
            return f"Discrete({self.spectrum.size} atoms)"
        return f"Discrete(values={list(self.values)}, weights={list(self.weights)})"

    def _symbolic_positive(self):
        signs = [sp.sympify(v).is_nonnegative for v, p in zip(self.values, self.weights) if p != 0]
        if any(s is False for s in signs):
            return False
        return True if all(signs) else None

    def _merged_atoms(self):
        if isinstance(self.spectrum, ArraySpectrum):
            vals, _ = self.spectrum.numeric_atoms()
            uniq, inv = np.unique(vals, return_inverse=True)
            mass = np.bincount(inv, weights=np.asarray(self.weights), minlength=uniq.size)
            return [(sp.Float(v), sp.Float(m)) for v, m in zip(uniq, mass)]
        merged: dict = {}
        for v, p in zip(self.values, self.weights):
            merged[v] = merged.get(v, 0) + p
        return list(merged.items())

    def _atoms_closed(self):
        return self._merged_atoms()

    def _support_closed(self):
        return sp.FiniteSet(*[v for v, _ in self._merged_atoms()])

    def _curve_from_atoms(self, g, z):
        if isinstance(self.spectrum, ArraySpectrum) and np.unique(self.values).size > CURVE_LIMIT:
            return None
        atoms = self._merged_atoms()
        if len(atoms) > CURVE_LIMIT:
            return None
        # prod_k (z - v_k) g - sum_k p_k prod_{j != k} (z - v_j), built on Polys
        locs = [v for v, _ in atoms]
        params = tuple(sorted(set().union(*[sp.sympify(v).free_symbols | sp.sympify(p).free_symbols
                                            for v, p in atoms]), key=str))
        lin = [sp.Poly(z - v, z, *params) for v in locs]
        prod = sp.Poly(1, z, *params)
        for f in lin:
            prod = prod * f
        rest = sp.Poly(0, z, *params)
        for i, (_, p) in enumerate(atoms):
            term = sp.Poly(p, z, *params)
            for j, f in enumerate(lin):
                if j != i:
                    term = term * f
            rest = rest + term
        return g * prod.as_expr() - rest.as_expr()

    def _sample_point(self, rng: random.Random):
        return {s: sp.Rational(rng.randint(1, 9), rng.randint(2, 5)) + i for i, s in enumerate(sorted(self.free_symbols, key=str))}


def _make_spectrum(values, weights):
    arr = values if isinstance(values, np.ndarray) else None
    if arr is not None and arr.dtype.kind in "fiu":
        n = arr.size
        if arr.ndim != 1 or n < 1:
            raise ParameterError("values", f"array of shape {arr.shape}", "a nonempty 1-d sequence")
        if not np.all(np.isfinite(arr)):
            raise ParameterError("values", "non-finite entries", "finite real numbers")
        wts = None if weights is None else _check_weights_numeric(weights, n)
        if n > EXACT_LIMIT:
            return ArraySpectrum(arr.astype(float), wts)
        values = list(arr.tolist())
        if wts is not None:
            weights = list(wts.tolist())
    try:
        vals = [real(f"values[{i}]", v) for i, v in enumerate(values)]
    except TypeError:
        raise ParameterError("values", values, "a nonempty 1-d sequence of real numbers") from None
    n = len(vals)
    if n < 1:
        raise ParameterError("values", "[]", "a nonempty 1-d sequence")
    if n > EXACT_LIMIT and all(v.is_number for v in vals):
        return _make_spectrum(np.array([float(v) for v in vals]), weights)
    if weights is None:
        wts = [sp.Rational(1, n)] * n
    else:
        if isinstance(weights, np.ndarray):
            weights = weights.tolist()
        if not isinstance(weights, (list, tuple)):
            raise ParameterError("weights", weights, "a sequence of nonnegative numbers, one per value")
        if len(weights) != n:
            raise ParameterError("weights", f"{len(weights)} entries", f"exactly {n} entries (one per value)")
        wts = [to_sympy(f"weights[{i}]", p) for i, p in enumerate(weights)]
        for i, p in enumerate(wts):
            if p.is_negative:
                raise ParameterError(f"weights[{i}]", p, "[0, 1]")
        total = sp.nsimplify(sum(wts)) if all(p.is_Rational for p in wts) else sum(wts)
        if total.is_number and abs(float(total) - 1) > 1e-12 * n:
            raise ParameterError("weights", f"sum {total}", "weights summing to 1")
        if not total.is_number and sp.simplify(total - 1) != 0:
            raise ParameterError("weights", f"sum {total}", "weights summing to 1 identically in their symbols")
        for i, p in enumerate(wts):
            if p.is_number and float(p) > 1 + 1e-12:
                raise ParameterError(f"weights[{i}]", p, "[0, 1]")
    return ExactSpectrum(vals, wts)


def _check_weights_numeric(weights, n):
    wts = np.asarray(weights, dtype=float)
    if wts.shape != (n,):
        raise ParameterError("weights", f"shape {wts.shape}", f"shape ({n},) (one per value)")
    if not np.all(np.isfinite(wts)) or np.any(wts < 0):
        raise ParameterError("weights", "negative or non-finite entries", "[0, 1]")
    if abs(float(np.sum(wts)) - 1) > 1e-12 * max(n, 1) ** 0.5 + 1e-14 * n:
        raise ParameterError("weights", f"sum {float(np.sum(wts))!r}", "weights summing to 1")
    return wts


#: the summation variable of the kernel sums (one Dummy: equal expressions
#: hit the compile cache)
_X = sp.Dummy("x")

#: trace-normalized transforms, undefined for PowerLaw(alpha, oo); df1, df2
#: and their numeric values are the kernel sums there [C16]
_NORMALIZED = frozenset({
    "stieltjes", "t_transform", "moment_generating", "r_transform", "s_transform", "moments",
    "free_cumulants", "density", "atoms", "support", "algebraic_equation", "stieltjes_numeric",
    "density_numeric", "cdf_numeric", "to_discrete", "_mass_at_zero", "_check_operand", "_numeric_hull"})


@final
class PowerLaw(_AtomicLaw):
    r"""Power-law spectrum ``eta_k = k^{-alpha}``, ``k = 1..n``, equal weights [C12].

    A discrete law whose structure is kept: sums stay ``Sum(..., (k, 1, n))``
    for symbolic ``n``, exact moments are generalized harmonic numbers
    ``m_j = H_n^{(alpha j)}/n``, and numeric evaluation materializes the atoms
    once (cached).

    >>> import freeprob, sympy as sp
    >>> law = freeprob.PowerLaw(2, 3)
    >>> law.moments(1)
    [49/108]
    >>> freeprob.PowerLaw(sp.Symbol("alpha", positive=True), sp.Symbol("n", integer=True, positive=True)).df1(sp.Symbol("lambda", positive=True))
    SpectralMean(_x/(_x + lambda), _x, PowerLawSpectrum(alpha, n))

    Parameters
    ----------
    alpha : capacity exponent, ``alpha > 0`` (``alpha > 1`` for a normalizable
        infinite-dimensional limit)
    n : number of atoms, a positive integer or an integer symbol
    """

    catalogue_name = "powerlaw"
    #: ``k^-alpha > 0`` at any ``alpha`` and ``n`` (oo included)
    positive_by_construction = True
    PARAMETERS = declare(Parameter("alpha", "positive", r"\alpha", (1.1, 3.0), doc="capacity exponent [C12]"),
                         Parameter("n", "positive_integer", "n", (10, 1000), doc="number of eigenvalues (or oo)"))

    def _latex(self, printer):
        return r"\mathrm{PL}\left(\alpha = %s,\, n = %s\right)" % (printer._print(self.alpha), printer._print(self.n))

    def __init__(self, alpha, n):
        a = self.PARAMETERS["alpha"].validate(alpha)
        if (isinstance(n, sp.Basic) and n.is_infinite) or (isinstance(n, float) and np.isinf(n)):
            # the infinite-dimensional kernel case [C16]: df1, df2 are the
            # unnormalized sums sum_k eta_k^j/(eta_k + kappa)^j, which the
            # models pair with q = 1/P; every other trace-normalized
            # transform raises, since the normalized law is a point mass at 0
            self._set(alpha=a, n=sp.oo, spectrum=PowerLawSpectrum(a, sp.oo))
            return
        size = self.PARAMETERS["n"].validate(n)
        self._set(alpha=a, n=size, spectrum=PowerLawSpectrum(a, size))

    def __getattribute__(self, name):
        if name in _NORMALIZED and object.__getattribute__(self, "n") is sp.oo:
            what = "the normalized law (a free convolution operand)" if name.startswith("_") else f"{name}()"
            raise ParameterError("n", "oo", "a finite n for trace-normalized transforms",
                                 f"{what} of PowerLaw(alpha, oo) is degenerate (the normalized law is a point "
                                 "mass at 0); use freeprob.scaling.continuum_forms(law) for the kernel sums")
        return object.__getattribute__(self, name)

    def params(self):
        return {"alpha": self.alpha, "n": self.n}

    def _replace(self, **p):
        return PowerLaw(p["alpha"], p["n"])

    def to_discrete(self) -> Discrete:
        """The same law as a :class:`Discrete` (numeric ``n`` only).

        >>> import freeprob
        >>> law = freeprob.PowerLaw(2, 100)
        >>> abs(float(law.to_discrete().moments(1)[0]) - float(law.moments(1)[0])) < 1e-15
        True
        """
        vals, _ = self.spectrum.numeric_atoms()
        return Discrete(np.array(vals))

    def _moments_closed(self, n):
        if not self.n.is_number or int(self.n) <= EXACT_LIMIT:
            return [sp.harmonic(self.n, self.alpha * j) / self.n for j in range(1, n + 1)]
        # large numeric n: H_n^{(s)} = zeta(s) - zeta(s, n + 1) (Hurwitz), to
        # 30 digits; an exact rational would have ~n digits.
        import mpmath

        size = int(self.n)
        out = []
        with mpmath.workdps(30):
            for j in range(1, n + 1):
                s_ = mpmath.mpmathify(sp.N(self.alpha * j, 30))
                h = mpmath.zeta(s_) - mpmath.zeta(s_, size + 1) if s_ != 1 else mpmath.harmonic(size)
                out.append(sp.Float(h / size, 30))
        return out

    def _atoms_closed(self):
        if not self.n.is_number:
            raise NoClosedFormError("the atoms of PowerLaw(alpha, n) are k^-alpha, k = 1..n; n must be numeric to list them")
        if int(self.n) > ATOM_LIST_LIMIT:
            raise ParameterError("n", self.n, f"[1, {ATOM_LIST_LIMIT}] to list the atoms as sympy pairs",
                                 "the atoms are k^-alpha, k = 1..n, each of mass 1/n; the transforms, cdf_numeric "
                                 "and every model evaluate larger power laws without listing them")
        w = sp.Rational(1, int(self.n))
        return [(sp.Integer(k) ** (-self.alpha), w) for k in range(1, int(self.n) + 1)]

    def _support_closed(self):
        k = sp.Dummy("k", integer=True, positive=True)
        return sp.ImageSet(sp.Lambda(k, k ** (-self.alpha)), sp.Range(1, self.n + 1))

    def _curve_from_atoms(self, g, z):
        if not self.n.is_number or int(self.n) > CURVE_LIMIT:
            return None
        return Discrete([sp.Integer(k) ** (-self.alpha) for k in range(1, int(self.n) + 1)])._curve_from_atoms(g, z)

    def _numeric_radius(self):
        return 1.0

    def _mass_at_zero(self):
        return 0.0

    def _numeric_hull(self):
        return float(self.n) ** -float(self.alpha), 1.0

    def _atom_mass_bound(self):
        return 1 / self.n

    def _atoms_above(self, floor):
        # every atom has mass 1/n and none is at 0: none is needed when
        # 1/n <= floor, and a large law is then not listed
        if self.n.is_number and sp.sympify(1 / self.n <= floor) is sp.true:
            return []
        return self.atoms()

    def _atom_index(self, x):
        """``k`` with ``k^-alpha = x`` exactly (as the atoms are computed),
        else 0, at real points ``x`` (any ``n``: no list of atoms)."""
        a, n = float(self.alpha), float(self.n)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            k0 = np.round(np.where(x > 0, x, 1.0) ** (-1.0 / a))
        out = np.zeros(x.shape)
        for k in (np.maximum(k0 - 1, 1), k0, k0 + 1):
            with np.errstate(over="ignore", invalid="ignore"):
                hit = (x > 0) & (k >= 1) & (k <= n) & (k ** (-a) == x)
            out = np.where(hit, k, out)
        return out

    def _check_off_support(self, zarr):
        real_pts = zarr[zarr.imag == 0].real
        k = self._atom_index(real_pts)
        if np.any(k > 0):
            from freeprob.errors import SupportError

            raise SupportError(f"z = {real_pts[k > 0][0]} is an atom of the law (k = {int(k[k > 0][0])}, a pole of g)")

    def cdf_numeric(self, x, *, nodes: int = 0):
        """The fraction of atoms ``k^-alpha <= x``, counted without listing
        them: ``(n - K + 1)/n`` with ``K`` the least ``k`` such that
        ``k^-alpha <= x`` (any ``n``).

        >>> import freeprob
        >>> freeprob.PowerLaw(2, 4).cdf_numeric([0.06, 0.0625, 0.3, 1.0]).tolist()
        [0.0, 0.25, 0.75, 1.0]
        >>> float(freeprob.PowerLaw(1.5, 10**9).cdf_numeric(1e-12))   # k >= 10^8 of 10^9
        0.900000001
        """
        self._require_numeric("cdf_numeric")
        x = real_array("x", x, nan=False)
        nonnegative_integer("nodes", nodes)
        a, n = float(self.alpha), int(self.n)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            k = np.ceil(np.where(x > 0, x, 1.0) ** (-1.0 / a))
            # the float root may miss by one either way: step to the least k with k^-alpha <= x
            k = np.where((k > 1) & (np.maximum(k - 1, 1) ** (-a) <= x), k - 1, k)
            k = np.where(k ** (-a) > x, k + 1, k)
        count = np.where(x > 0, np.clip(n - k + 1, 0, n), 0)
        return count / n

    def df1(self, lam):
        r"""``df1``; for ``n = oo`` the kernel sum ``sum_k eta_k/(eta_k + lam)`` [C16].

        >>> import freeprob, sympy as sp
        >>> freeprob.PowerLaw(2, sp.oo).df1(sp.Symbol("lambda"))
        SpectralMean(_x/(_x + lambda), _x, PowerLawSpectrum(2, oo))
        """
        if self.n is not sp.oo:
            return super().df1(lam)
        return SpectralMean(_X / (_X + as_expr(lam, "lam")), _X, self.spectrum)

    def df2(self, lam):
        """``df2``; for ``n = oo`` the kernel sum ``sum_k eta_k^2/(eta_k + lam)^2`` [C16]."""
        if self.n is not sp.oo:
            return super().df2(lam)
        return SpectralMean(_X**2 / (_X + as_expr(lam, "lam")) ** 2, _X, self.spectrum)

    def _trace_rank(self):
        return np.inf if self.n is sp.oo else 1.0

    def _trace_mean(self):
        if self.n is sp.oo:  # sum_k k^-alpha
            return float(mpmath.zeta(float(self.alpha)))
        return float(sp.N(self.moments(1)[0]))
