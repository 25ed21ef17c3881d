r"""Spectra of stationary sample correlations: the AR(1) (exponential) kernel.

A stationary time series of length ``P`` with correlation ``K_ts = c(t - s)``
has a Toeplitz sample-sample correlation matrix.  As ``P -> oo`` the
eigenvalues of ``K`` are distributed as the values of its Toeplitz symbol
``f(theta) = sum_k c(k) e^{i k theta}`` at ``theta`` uniform on ``[0, pi]``
(Szegő's theorem), which defines the law used by
:class:`~freeprob.CorrelatedRidge` [C17].

For the AR(1) kernel ``K_ts = rho^|t - s|`` the symbol is

.. math::
    f(\theta) = \frac{1 - \rho^2}{1 - 2\rho\cos\theta + \rho^2},

with range ``[a, b]``, ``a = (1 - |rho|)/(1 + |rho|)``, ``b = 1/a``.
Integrating ``1/(z - f(theta))`` over ``theta`` (the integral
``(1/pi) int_0^pi d theta/(alpha - beta cos theta) = 1/sqrt(alpha^2 - beta^2)``)
gives the algebraic Stieltjes transform

.. math::
    g(z) = \frac{1}{z}\Big(1 + \frac{1}{r(z)}\Big),\qquad
    r(z) = \sqrt{z - a}\,\sqrt{z - b},\qquad
    \rho_K(x) = \frac{1}{\pi x\sqrt{(x - a)(b - x)}}\ \ (a < x < b),

with ``r`` written as a product of principal roots (cut exactly on
``[a, b]``, pitfall P5).  On the negative axis ``r(-nu) = -sqrt((nu + a)(nu
+ b))``, so the degrees of freedom of [C6] have the closed forms

.. math::
    \mathrm{df}_1(\nu) = \frac{1}{\sqrt{\nu + a}\,\sqrt{\nu + b}},\qquad
    S(\mathrm{df}) = \frac{c_0\,\mathrm{df} + \sqrt{1 + c_1^2\mathrm{df}^2}}{1 + \mathrm{df}},\quad
    c_0 = \frac{1 + \rho^2}{1 - \rho^2},\ c_1 = \frac{2\rho}{1 - \rho^2},

(``ab = 1`` and ``c_0^2 - c_1^2 = 1``); ``df1`` is written without the
cancellation of ``1 + nu g(-nu)``.  At infinity ``g(1/w) = w + w^2/sqrt(1 -
2 c_0 w + w^2)``, the generating function of the Legendre polynomials, so the
moments are ``m_k = P_{k-1}(c_0)``: the mean is ``1`` (``K_tt = 1``),
``m_2 = c_0``; and ``<1/k> = -g(0) = c_0``.
"""

from __future__ import annotations

import random
from typing import final

import sympy as sp

from freeprob.laws._base import SpectralLaw
from freeprob.parameters import Parameter, declare

__all__ = ["AR1"]


@final
class AR1(SpectralLaw):
    r"""The spectrum of the AR(1) correlation ``K_ts = rho^|t - s|`` as ``P -> oo`` [C17].

    The eigenvalue law of the exponential (Ornstein-Uhlenbeck) kernel sampled
    at unit spacing, from its Toeplitz symbol (see the module): supported on
    ``[(1 - |rho|)/(1 + |rho|), (1 + |rho|)/(1 - |rho|)]``, mean 1, no atom;
    ``rho = 0`` is the point mass at 1 (independent samples).

    Examples
    --------
    >>> import freeprob, sympy as sp
    >>> K = freeprob.AR1(sp.Rational(1, 2))
    >>> K.moments(2)                          # 1 and (1 + rho^2)/(1 - rho^2)
    [1, 5/3]
    >>> K.df1(sp.Symbol("nu", positive=True))
    1/(sqrt(nu + 1/3)*sqrt(nu + 3))
    >>> K.s_transform(sp.Symbol("df"), convention="df")
    (5*df/3 + sqrt(16*df**2/9 + 1))/(df + 1)

    Parameters
    ----------
    rho : the lag-one correlation, a real number with ``|rho| < 1``
    """

    catalogue_name = "ar1"
    PARAMETERS = declare(Parameter("rho", "correlation", r"\rho", (-0.9, 0.9),
                                   doc="lag-one correlation of K_ts = rho^|t-s| [C17]"))
    positive_by_construction = True

    def __init__(self, rho):
        self._set(rho=self.PARAMETERS["rho"].validate(rho))

    def params(self):
        return {"rho": self.rho}

    def _replace(self, **p):
        return AR1(p["rho"])

    def _latex(self, printer):
        return r"\mathrm{AR}_1\left(%s\right)" % printer._print(self.rho)

    def _sample_point(self, rng: random.Random):
        return {s: sp.Rational(rng.randint(1, 8), 10) for s in self.free_symbols}

    def _symbolic_positive(self):
        return True

    # ---------------------------------------------------------------- closed forms
    def edges(self):
        """``(a, b) = ((1 - |rho|)/(1 + |rho|), (1 + |rho|)/(1 - |rho|))``, with ``ab = 1``."""
        r = sp.Abs(self.rho)
        return (1 - r) / (1 + r), (1 + r) / (1 - r)

    def _c0_c1(self):
        rho = self.rho
        return (1 + rho**2) / (1 - rho**2), 2 * rho / (1 - rho**2)

    def _stieltjes_closed(self, z):
        a, b = self.edges()
        r = sp.sqrt(z - a) * sp.sqrt(z - b)
        return (r + 1) / (z * r)

    def _curve_closed(self, g, z):
        # (z g - 1)^2 r^2 = 1 with r^2 = z^2 - (a + b) z + 1, divided by z
        c0, _ = self._c0_c1()
        r2 = z**2 - 2 * c0 * z + 1
        return sp.expand(z * r2 * g**2 - 2 * r2 * g + z - 2 * c0)

    def _moments_closed(self, n):
        # g(1/w) = w + w^2/sqrt(1 - 2 c0 w + w^2), the generating function of
        # the Legendre polynomials: m_k = P_{k-1}(c0)
        c0, _ = self._c0_c1()
        return [sp.expand(sp.legendre(k - 1, c0)) for k in range(1, n + 1)]

    def _df1_closed(self, lam):
        a, b = self.edges()
        return 1 / (sp.sqrt(lam + a) * sp.sqrt(lam + b))

    def _s_closed(self, t):
        # Voiculescu's S(t) = S(df = -t) [C10]
        c0, c1 = self._c0_c1()
        return (sp.sqrt(1 + c1**2 * t**2) - c0 * t) / (1 - t)

    def _density_closed(self, x):
        a, b = self.edges()
        body = 1 / (sp.pi * x * sp.sqrt(x - a) * sp.sqrt(b - x))
        return sp.Piecewise((body, sp.And(x > a, x < b)), (0, True))

    def _atoms_closed(self):
        if self.rho.is_zero:
            return [(sp.Integer(1), sp.Integer(1))]
        return []

    def _support_closed(self):
        if self.rho.is_zero:
            return sp.FiniteSet(1)
        a, b = self.edges()
        return sp.Interval(a, b)

    def _numeric_radius(self):
        return float(self.edges()[1])

    def toeplitz(self, p: int):
        """The ``p x p`` correlation matrix ``K_ts = rho^|t - s|`` (numpy), whose
        spectrum tends to this law; what :func:`~freeprob.simulate` samples
        with for :class:`~freeprob.CorrelatedRidge`.

        >>> import freeprob
        >>> freeprob.AR1(0.5).toeplitz(3)
        array([[1.  , 0.5 , 0.25],
               [0.5 , 1.  , 0.5 ],
               [0.25, 0.5 , 1.  ]])
        """
        import numpy as np

        from freeprob.parameters import positive_integer

        p = int(positive_integer("p", p))
        rho = float(self.rho)
        lag = np.abs(np.arange(p)[:, None] - np.arange(p)[None, :])
        return rho ** lag
