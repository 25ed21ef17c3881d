r"""Exact arithmetic for convolved laws: rational twins and atoms by theorem.

* :func:`rational_twin` -- a law's float parameters as the rationals of their
  shortest decimal form, before the algebraic route (which needs exact
  arithmetic to isolate the physical factor of a curve);
* :func:`atoms_by_theorem` -- the atoms of a free sum (Bercovici-Voiculescu)
  or a free product of positive laws (Belinschi) from the operands' atoms:
  exact when theirs are, and independent of any curve or numeric limit.
"""

from __future__ import annotations

import sympy as sp

from freeprob.errors import NoClosedFormError

__all__ = ["rational_twin", "float_twin", "atoms_by_theorem"]


def _is_law(v):
    """A spectral law (duck-typed: this module sits below the law classes)."""
    return callable(getattr(v, "params", None)) and callable(getattr(v, "_replace", None))


def rational_twin(law):
    """The law with every float parameter (atoms, weights, ratios, operands'
    parameters) replaced by the rational of its shortest decimal form, which
    differs from the binary value by less than half an ulp (``0.7 -> 7/10``).

    >>> import freeprob
    >>> rational_twin(freeprob.Discrete([0, 1], [0.7, 0.3]))
    Discrete(values=[0, 1], weights=[7/10, 3/10])
    """
    def exact(v):
        if _is_law(v):
            return rational_twin(v)
        if isinstance(v, (list, tuple)):
            return [exact(e) for e in v]
        if isinstance(v, sp.Float):
            return sp.nsimplify(v, rational=True)
        if isinstance(v, sp.Basic) and v.atoms(sp.Float):
            return v.xreplace({f: sp.nsimplify(f, rational=True) for f in v.atoms(sp.Float)})
        return v

    if law.finite_spectrum is not None and not hasattr(law.spectrum, "values"):
        return law  # large numeric arrays: no curve is built for them
    params = law.params()
    new = {k: exact(v) for k, v in params.items()}
    return law if all(_same(new[k], params[k]) for k in params) else law._replace(**new)


def float_twin(law):
    """The law with every exact non-integer parameter replaced by its float64
    value: the numeric quantities that need many exact moments (the moment
    series far from the support) get them in float time instead of exact
    algebraic-number time (``k^{-3/2}`` over 20 atoms).

    >>> import freeprob, sympy as sp
    >>> float_twin(freeprob.PowerLaw(sp.Rational(3, 2), 20))
    PowerLaw(alpha=1.50000000000000, n=20)
    """
    def approx(v):
        if _is_law(v):
            return float_twin(v)
        if isinstance(v, (list, tuple)):
            return [approx(e) for e in v]
        if isinstance(v, sp.Basic) and v.is_number and not v.is_Integer and v.is_finite:
            return sp.Float(float(v))
        return v

    params = law.params()
    new = {k: approx(v) for k, v in params.items()}
    return law if all(_same(new[k], params[k]) for k in params) else law._replace(**new)


def _same(a, b):
    if isinstance(a, list) or isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a is b or a == b


def atoms_by_theorem(law, combine, zero_rule):
    """Atoms of a free sum or product from the operands' atoms (exact when
    theirs are); masses that cannot be compared (symbols) raise
    NoClosedFormError."""
    # an operand's atoms can take part only if heavier than 1 minus the
    # other's heaviest: a large power law (mass 1/n each) then lists none
    a_atoms = [(x, p) for x, p in law.a._atoms_above(1 - law.b._atom_mass_bound()) if not sp.sympify(p).is_zero]
    b_atoms = [(y, r) for y, r in law.b._atoms_above(1 - law.a._atom_mass_bound()) if not sp.sympify(r).is_zero]
    out = {}
    if zero_rule:
        m0 = [m for loc, m in a_atoms + b_atoms if sp.sympify(loc).is_zero]
        if m0:
            out[sp.Integer(0)] = sp.Max(*m0) if len(m0) > 1 else m0[0]
        a_atoms = [(x, p) for x, p in a_atoms if not sp.sympify(x).is_zero]
        b_atoms = [(y, r) for y, r in b_atoms if not sp.sympify(y).is_zero]
    for x, p in a_atoms:
        for y, r in b_atoms:
            excess = sp.sympify(p + r - 1)
            positive = excess.is_positive
            if positive is None:
                raise NoClosedFormError(f"atoms of {law!r}: cannot decide whether {p} + {r} > 1")
            if positive:
                c = sp.sympify(combine(x, y))
                out[c] = out.get(c, 0) + excess
    return sorted(out.items(), key=lambda t: float(sp.N(t[0])) if t[0].is_number else 0.0)
