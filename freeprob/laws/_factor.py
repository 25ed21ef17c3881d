r"""Rao-Edelman's rule: which factor of an eliminated curve is the law's.

Elimination (:mod:`freeprob.laws._algebra`) returns the curve of a free sum or
product as a product of irreducible factors; all but one are spurious
cross-branch combinations.  The law's factor is the one that admits the
expansion ``g = sum_k m_k z^{-k-1}`` with the law's exact moments.
"""

from __future__ import annotations

import sympy as sp

from freeprob.errors import NoClosedFormError

__all__ = ["choose_factor"]


def _expansion_residual(terms, moments):
    """Low-order coefficients of the factor ``{(i, j, ...): c}`` (powers of
    ``g``, ``z``, params) on the moment expansion ``g = y (1 + m_1 y + ...)``,
    ``z = 1/y`` (times ``y^deg_z``), exact through order ``len(moments)``
    (truncated power series, no full expansion).  ``moments`` may contain the
    parameters as symbols ``params``."""
    from freeprob.laws._relations import _tps_mul

    K = len(moments)
    dz = max(m[1] for m in terms)
    dg = max(m[0] for m in terms)
    M = [sp.Integer(1)] + [sp.sympify(m) for m in moments]
    powers = [[sp.Integer(1)] + [sp.Integer(0)] * K]
    for _ in range(dg):
        powers.append(_tps_mul(powers[-1], M, K))
    out = [sp.Integer(0)] * (K + 1)
    for m, a in terms.items():
        i, j = m[0], m[1]
        shift = dz - j + i  # y^(dz - j) * y^i * M^i
        for k in range(K + 1 - shift):
            out[k + shift] += a * powers[i][k]
    return out


def choose_factor(factors, law, params):
    """The irreducible factor admitting the moment expansion (Rao-Edelman's
    rule); the other factors are spurious cross-branch combinations.

    The expansion ``g = sum_k m_k z^{-k-1}`` with the law's exact moments is
    substituted into each factor (truncated power series); the factor whose
    low-order coefficients all vanish is kept, doubling the order (6, 12, ...,
    48) while more than one factor passes."""
    if len(factors) == 1:
        return factors[0]
    psyms = tuple(sorted(params, key=str))
    K = 6
    while True:
        moments = law.moments(K)
        keep = []
        for f in factors:
            coll = {}
            for m, c in f.items():  # parameter monomials into the (g, z) coefficients
                coll[m[:2]] = coll.get(m[:2], 0) + c * sp.Mul(*[v**e for v, e in zip(psyms, m[2:])])
            res = _expansion_residual(coll, moments)
            if all((c == 0) if not psyms else (sp.simplify(c) == 0) for c in res):
                keep.append(f)
        if len(keep) == 1:
            return keep[0]
        if not keep or K >= 48:
            raise NoClosedFormError(f"could not isolate the physical factor ({len(keep)} of {len(factors)} "
                                    f"admit the moment expansion to order {K})")
        K *= 2
