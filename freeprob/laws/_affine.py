r"""Affine images ``a A + b`` of a law.

Closed families map into themselves (``Semicircle``, ``Identity``,
``MarchenkoPastur`` under positive scaling, ``Discrete``); any other law is
wrapped in :class:`Affine`, which transports every transform:

.. math::
    g_{aA+b}(z) = \tfrac1a\, g_A\!\big(\tfrac{z - b}{a}\big),\quad
    R_{aA+b}(w) = a R_A(a w) + b,\quad
    S^{\rm V}_{aA}(t) = S^{\rm V}_A(t)/a \ ([R2b]),\quad
    m_k = \sum_j \tbinom kj a^j b^{k-j} m_j(A).
"""

from __future__ import annotations

from typing import final

import numpy as np
import sympy as sp

from freeprob.errors import NoClosedFormError
from freeprob.laws._base import SpectralLaw, register_operation, substitution
from freeprob.parameters import Parameter, declare, nonzero, real, real_array

__all__ = ["Affine", "affine"]


@register_operation("affine")
def affine(law: SpectralLaw, a, b) -> SpectralLaw:
    """The law of ``a A + b`` in the simplest available family.

    >>> import freeprob
    >>> affine(freeprob.MarchenkoPastur(2), 3, 0)
    MarchenkoPastur(ratio=2, scale=3)
    >>> affine(freeprob.MarchenkoPastur(2), 1, 1)
    Affine(law=MarchenkoPastur(ratio=2, scale=1), scale=1, shift=1)
    """
    a = nonzero("c" if b == 0 else "scale", a)
    b = real("c" if a == 1 else "shift", b)
    if a == 1 and b == 0:
        return law
    closed = law._affine_closed(a, b)  # each law knows its own affine family
    return closed if closed is not None else Affine(law, a, b)


@final
class Affine(SpectralLaw):
    """Law of ``scale * A + shift`` for a law ``A`` without an affine-closed family.

    >>> import freeprob
    >>> law = freeprob.PowerLaw(2, 4).shifted(1)
    >>> law.moments(1)[0] == freeprob.PowerLaw(2, 4).moments(1)[0] + 1
    True
    """

    catalogue_name = "affine"
    PARAMETERS = declare(Parameter("scale", "nonzero", "a", (0.5, 2.0)), Parameter("shift", "real", "b", (-2.0, 2.0)))

    def _affine_closed(self, a, b):
        return affine(self.law, a * self.scale, a * self.shift + b)

    def _latex(self, printer):
        p = printer._print
        return r"%s\,\left[%s\right] + %s" % (p(self.scale), p(self.law), p(self.shift))

    def __init__(self, law, scale, shift):
        if not isinstance(law, SpectralLaw):
            from freeprob.errors import ParameterError

            raise ParameterError("law", law, "a freeprob spectral law")
        P = self.PARAMETERS
        self._set(law=law, scale=P["scale"].validate(scale), shift=P["shift"].validate(shift))

    def params(self):
        return {"law": self.law, "scale": self.scale, "shift": self.shift}

    def _replace(self, **p):
        return affine(p["law"], p["scale"], p["shift"])

    @property
    def free_symbols(self):
        return self.law.free_symbols | self.scale.free_symbols | self.shift.free_symbols

    def subs(self, *args, **kwargs):
        mapping = substitution(self, args, kwargs)
        inner = {s: v for s, v in mapping.items() if s in self.law.free_symbols}
        return affine(self.law.subs(inner) if inner else self.law, self.scale.subs(mapping), self.shift.subs(mapping))

    def _inner(self, z):
        return (z - self.shift) / self.scale

    def _stieltjes_closed(self, z):
        zd = sp.Dummy("z")
        return self.law.stieltjes(zd).subs(zd, self._inner(z)) / self.scale

    def _curve_closed(self, g, z):
        gd, zd = sp.Dummy("g"), sp.Dummy("z")
        curve = self.law.algebraic_equation(gd, zd)
        return sp.expand(sp.numer(sp.together(curve.subs({gd: self.scale * g, zd: self._inner(z)}, simultaneous=True))))

    def _r_closed(self, w):
        wd = sp.Dummy("w")
        return self.scale * self.law.r_transform(wd).subs(wd, self.scale * w) + self.shift

    def _s_closed(self, t):
        if self.shift != 0:
            return None
        return self.law.s_transform(t) / self.scale

    def _moments_closed(self, n):
        base = [sp.Integer(1)] + list(self.law.moments(n))
        a, b = self.scale, self.shift
        return [sp.expand(sum(sp.binomial(k, j) * a**j * b ** (k - j) * base[j] for j in range(k + 1)))
                for k in range(1, n + 1)]

    def _density_closed(self, x):
        return self.law.density(self._inner(x)) / sp.Abs(self.scale)

    def _atoms_closed(self):
        return [(self.scale * loc + self.shift, m) for loc, m in self.law.atoms()]

    def _support_closed(self):
        xd = sp.Dummy("x")
        return sp.imageset(sp.Lambda(xd, self.scale * xd + self.shift), self.law.support())

    def _spectral_mean(self, summand, var):
        return self.law._spectral_mean(summand.subs(var, self.scale * var + self.shift), var)

    def _curve_from_atoms(self, g, z):
        return None

    # numerics of a law without a closed form: its base law's routes at the
    # inner point (z - b)/a, g(z) = g_A((z - b)/a)/a, g'(z) = g_A'((z - b)/a)/a^2
    def _inner_numeric(self, zarr):
        a, b = complex(self.scale), complex(self.shift)
        return (np.asarray(zarr, dtype=complex) - b) / a, a

    def _stieltjes_fallback(self, zarr):
        inner, a = self._inner_numeric(zarr)      # (a < 0: inner in the other half plane)
        return self.law.stieltjes_numeric(inner) / a

    def _dstieltjes_fallback(self, zarr, gv, times_z=False):
        # g(z) = g_in(w)/a at w = (z - b)/a: g' = g_in'(w)/a^2, z g' = z (w g_in'(w))/(a (z - b))
        inner, a = self._inner_numeric(zarr)
        if times_z:
            z = np.asarray(zarr, dtype=complex)
            return z * self.law._dstieltjes_fallback(inner, np.asarray(gv) * a, times_z=True) / (a * a * inner)
        return self.law._dstieltjes_fallback(inner, np.asarray(gv) * a) / a**2

    def density_numeric(self, x):
        """Density at real points: the closed form, else the base law's
        density at ``(x - b)/a`` over ``|a|``.

        >>> import freeprob
        >>> law = freeprob.free_add(freeprob.Discrete([0, 1]), freeprob.Semicircle()).shifted(1)
        >>> bool(law.density_numeric(1.5) == freeprob.free_add(freeprob.Discrete([0, 1]),
        ...                                                    freeprob.Semicircle()).density_numeric(0.5))
        True
        """
        try:
            return super().density_numeric(x)
        except NoClosedFormError:
            inner, a = self._inner_numeric(real_array("x", x, nan=False))
            return self.law.density_numeric(inner.real) / abs(a)

    def _numeric_radius(self):
        return abs(float(self.scale)) * self.law._numeric_radius() + abs(float(self.shift))

    def _mass_at_zero(self):
        return sum(float(m) for loc, m in self.atoms() if abs(complex(sp.N(loc))) == 0)

    def _ac_intervals(self):
        a, b = float(self.scale), float(self.shift)
        return [tuple(sorted((a * lo + b, a * hi + b))) for lo, hi in self.law._ac_intervals()]

    def _atom_points(self):
        return complex(self.scale) * self.law._atom_points() + complex(self.shift)

    def _numeric_hull(self):
        hull = self.law._numeric_hull()
        if hull is None:
            return None
        a, b = float(self.scale), float(self.shift)
        return tuple(sorted((a * hull[0] + b, a * hull[1] + b)))

    def _sample_point(self, rng):
        return self.law._sample_point(rng)
