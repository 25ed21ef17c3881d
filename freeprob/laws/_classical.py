r"""Closed-form laws: Marchenko-Pastur, Wigner semicircle, point mass.

Square roots of quadratics are always written as ``sqrt(z - a) sqrt(z - b)``
(branch cut exactly on ``[a, b]``), never ``sqrt((z - a)(z - b))``, whose cut
leaves the interval and gives the wrong branch on half the plane (pitfall P5).
"""

from __future__ import annotations

import random
from typing import final

import sympy as sp

from freeprob import conventions as C
from freeprob.laws._base import SpectralLaw
from freeprob.parameters import Parameter, declare

__all__ = ["MarchenkoPastur", "Semicircle", "Identity"]


@final
class MarchenkoPastur(SpectralLaw):
    r"""Marchenko-Pastur law of the white Wishart matrix ``W = scale * Z^T Z / P`` [R1].

    ``Z`` is ``P x N`` with i.i.d. standard Gaussian entries and
    ``ratio = q = N/P`` [C1].  For ``q > 1`` the law has an atom of mass
    ``1 - 1/q`` at 0.  With ``s = scale`` and edges
    ``a, b = s (1 -+ sqrt q)^2``:

    .. math::
        g(z) = \frac{z + s(q - 1) - \sqrt{z - a}\,\sqrt{z - b}}{2 q s z},\qquad
        R(w) = \frac{s}{1 - q s w},\qquad
        S^{\rm V}(t) = \frac{1}{s(1 + q t)},\qquad S(\mathrm{df}) = \frac{1}{s(1 - q\,\mathrm{df})}.

    Examples
    --------
    >>> import freeprob
    >>> from freeprob.conventions import q, df
    >>> W = freeprob.MarchenkoPastur(q)
    >>> W.moments(3)
    [1, q + 1, q**2 + 3*q + 1]
    >>> W.s_transform(df, convention="df")
    1/(-df*q + 1)

    Parameters
    ----------
    ratio : positive number or symbol, ``q = N/P``
    scale : positive number or symbol, entry variance of ``Z``

    References: [R1], [C10], [C1].
    """

    catalogue_name = "marchenko-pastur"
    PARAMETERS = declare(Parameter("ratio", "positive", "q", (0.1, 10.0), doc="q = N/P [C1]"),
                         Parameter("scale", "positive", "s", (0.5, 2.0), doc="the law of s W"))
    positive_by_construction = True

    def _affine_closed(self, a, b):
        return MarchenkoPastur(self.ratio, a * self.scale) if b == 0 and a.is_positive else None

    def _latex(self, printer):
        p = printer._print
        inner = p(self.ratio) if self.scale == 1 else f"{p(self.ratio)},\\, {p(self.scale)}"
        return r"\mathrm{MP}\left(%s\right)" % inner

    def __init__(self, ratio, scale=1):
        P = self.PARAMETERS
        self._set(ratio=P["ratio"].validate(ratio), scale=P["scale"].validate(scale))

    def params(self):
        return {"ratio": self.ratio, "scale": self.scale}

    def _replace(self, **p):
        return MarchenkoPastur(p["ratio"], p["scale"])

    def edges(self):
        """Edges ``(a, b) = scale (1 -+ sqrt(ratio))^2`` of the continuous part."""
        q, s = self.ratio, self.scale
        return s * (1 - sp.sqrt(q)) ** 2, s * (1 + sp.sqrt(q)) ** 2

    def _stieltjes_closed(self, z):
        q, s = self.ratio, self.scale
        a, b = self.edges()
        return (z + s * (q - 1) - sp.sqrt(z - a) * sp.sqrt(z - b)) / (2 * q * s * z)

    def _curve_closed(self, g, z):
        q, s = self.ratio, self.scale
        return q * s * z * g**2 - (z + s * (q - 1)) * g + 1

    def _r_closed(self, w):
        return self.scale / (1 - self.ratio * self.scale * w)

    def _s_closed(self, t):
        return 1 / (self.scale * (1 + self.ratio * t))

    def _moments_closed(self, n):
        r"""Narayana polynomials: ``m_k = s^k sum_{j<k} N(k, j+1) q^j``,
        ``N(k, j) = C(k, j) C(k, j-1)/k`` (non-crossing partitions with
        ``j + 1`` blocks; free cumulants ``s^k q^(k-1)``)."""
        q, s = self.ratio, self.scale
        return [s**k * sum(sp.binomial(k, j + 1) * sp.binomial(k, j) / k * q**j for j in range(k))
                for k in range(1, n + 1)]

    def _free_cumulants_closed(self, n):
        q, s = self.ratio, self.scale
        return [s**k * q ** (k - 1) for k in range(1, n + 1)]

    def _density_closed(self, x):
        q, s = self.ratio, self.scale
        a, b = self.edges()
        body = sp.sqrt(b - x) * sp.sqrt(x - a) / (2 * sp.pi * q * s * x)
        return sp.Piecewise((body, sp.And(x > a, x < b)), (0, True))

    def _atoms_closed(self):
        mass = sp.Max(0, 1 - 1 / self.ratio)
        return [(sp.Integer(0), mass)]

    def _support_closed(self):
        a, b = self.edges()
        body = sp.Interval(a, b)
        gt = sp.sympify(self.ratio > 1)
        if gt is sp.true:
            return sp.Union(sp.FiniteSet(0), body)
        if gt is sp.false:
            return body
        return sp.Union(body, sp.ConditionSet(C.x, gt, sp.FiniteSet(0)))


@final
class Semicircle(SpectralLaw):
    r"""Wigner semicircle law with the given variance and center [R20].

    With ``v = variance``, ``sigma = sqrt(v)``, ``c = center``:

    .. math::
        g(z) = \frac{z - c - \sqrt{z - c - 2\sigma}\,\sqrt{z - c + 2\sigma}}{2v},\qquad
        R(w) = c + v w,\qquad
        \rho(x) = \frac{\sqrt{4v - (x - c)^2}}{2\pi v}.

    The S-transform exists only when ``c != 0``.

    Examples
    --------
    >>> import freeprob
    >>> freeprob.Semicircle().moments(8)
    [0, 1, 0, 2, 0, 5, 0, 14]
    >>> freeprob.Semicircle(variance=2, center=1).free_cumulants(3)
    [1, 2, 0]

    Parameters
    ----------
    variance : positive number or symbol (second free cumulant)
    center : real number or symbol (mean)
    """

    catalogue_name = "semicircle"
    PARAMETERS = declare(Parameter("variance", "positive", r"\sigma^2", (0.25, 4.0), note="use Identity for a point mass"),
                         Parameter("center", "real", "c", (-2.0, 2.0)))

    def _affine_closed(self, a, b):
        return Semicircle(a**2 * self.variance, a * self.center + b)

    def _latex(self, printer):
        return r"\mathrm{SC}\left(%s,\, %s\right)" % (printer._print(self.variance), printer._print(self.center))

    def __init__(self, variance=1, center=0):
        P = self.PARAMETERS
        self._set(variance=P["variance"].validate(variance), center=P["center"].validate(center))

    def params(self):
        return {"variance": self.variance, "center": self.center}

    def _replace(self, **p):
        return Semicircle(p["variance"], p["center"])

    def _stieltjes_closed(self, z):
        v, c = self.variance, self.center
        r = 2 * sp.sqrt(v)
        return (z - c - sp.sqrt(z - c - r) * sp.sqrt(z - c + r)) / (2 * v)

    def _curve_closed(self, g, z):
        return self.variance * g**2 - (z - self.center) * g + 1

    def _r_closed(self, w):
        return self.center + self.variance * w

    def _density_closed(self, x):
        v, c = self.variance, self.center
        r = 2 * sp.sqrt(v)
        body = sp.sqrt(r - (x - c)) * sp.sqrt(r + (x - c)) / (2 * sp.pi * v)
        return sp.Piecewise((body, sp.And(x > c - r, x < c + r)), (0, True))

    def _atoms_closed(self):
        return []

    def _support_closed(self):
        r = 2 * sp.sqrt(self.variance)
        return sp.Interval(self.center - r, self.center + r)

    def _sample_point(self, rng: random.Random):
        return {s: sp.Rational(rng.randint(3, 9), rng.randint(2, 3)) for s in self.free_symbols}


@final
class Identity(SpectralLaw):
    r"""Point mass at ``scale`` (the law of ``scale * I``).

    ``g(z) = 1/(z - s)``, ``R(w) = s``, ``S(t) = 1/s`` (both conventions;
    [C10]: ``S_{cI} = 1/c``).

    >>> import freeprob
    >>> freeprob.Identity(3).moments(3)
    [3, 9, 27]

    Parameters
    ----------
    scale : real number or symbol
    """

    catalogue_name = "identity"
    PARAMETERS = declare(Parameter("scale", "real", "c", (0.5, 2.0), doc="the point mass at c"))

    def _affine_closed(self, a, b):
        return Identity(a * self.scale + b)

    def _latex(self, printer):
        return r"\delta_{%s}" % printer._print(self.scale)

    def __init__(self, scale=1):
        self._set(scale=self.PARAMETERS["scale"].validate(scale))

    def params(self):
        return {"scale": self.scale}

    def _replace(self, **p):
        return Identity(p["scale"])

    def _stieltjes_closed(self, z):
        return 1 / (z - self.scale)

    def _curve_closed(self, g, z):
        return (z - self.scale) * g - 1

    def _r_closed(self, w):
        return self.scale

    def _s_closed(self, t):
        return 1 / self.scale

    def _moments_closed(self, n):
        return [self.scale**k for k in range(1, n + 1)]

    def _density_closed(self, x):
        return sp.Integer(0)

    def _atoms_closed(self):
        return [(self.scale, sp.Integer(1))]

    def _support_closed(self):
        return sp.FiniteSet(self.scale)

    def _numeric_radius(self):
        return abs(float(self.scale))
