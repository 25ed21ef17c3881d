r"""Spectral means as matrix products: the separable form of a summand.

The summands of the models' spectral means are sums of terms

.. math::
    c(\theta)\; x^{j}\, \prod_s (x + s(\theta))^{-m_s},

a coefficient of the parameters ``theta`` times a monomial in the atom ``x``
times poles at ``x = -s``: ``x/(x + kappa)``, ``kappa x/(x + kappa)^2``,
``e_1 kappa/(x + kappa)``.  The mean of such a term over atoms ``(x_k,
p_k)`` is the coefficient times a *basis mean*

.. math::
    B(\theta) = \sum_k p_k\, x_k^{d}\; u_s^{a} v_s^{b} r_s^{c},\qquad
    r_s = \frac{1}{x_k + s},\; u_s = x_k r_s,\; v_s = s\, r_s,

with ``a + b + c = m_s``.  Many terms share a basis mean, and for a block of
points the basis means of one product ``u^a v^b r^c`` and every power ``d``
are one matrix product with the columns ``p_k x_k^d``.  Per (point, atom)
pair the work is then one division and a few multiplications for the whole
set of means, in place of the full summands of every mean
(:func:`freeprob.numeric.compile._chunked_means`).

**Range.**  Powers are paired the way :func:`freeprob.numeric.compile._pair_powers`
pairs them: the higher of the power of ``x`` (``u = x/(x + s)``) and the
power of ``s`` in the coefficient (``v = s/(x + s)``) first, ``s`` on a
tie, so the factors evaluated per element are bounded by 1 for real ``x, s
>= 0``: ``kappa^2 x/(x + kappa)^2`` at ``kappa = 1e300`` is ``x v^2``, never
``inf/inf``, and ``kappa^2 x^2/(x + kappa)^2`` is ``x^2 v^2``, where ``u^2
kappa^2`` overflowed at ``kappa = 1e160``.

**Accuracy.**  Each term is evaluated as written (sums are not expanded, no
partial fractions), so a mean is the same sum of the same products as the
direct route, summed in a different order: equal to rounding of
``sum_k p_k |summand_k|``.  The matrix products run over chunks of
:data:`CHUNK` atoms and the chunks' partial sums are added pairwise, so a
spectrum of ``10^5`` atoms rounds like the direct route's pairwise sums, not
like one long dot product.

A summand outside this form (a factor ``(2x + s)``, an exponential, a
nonlinear ``x`` dependence) leaves its group to the direct route; a
coefficient times a sum of terms of the form is distributed over it.

>>> import numpy as np, sympy as sp
>>> x, k = sp.symbols("x kappa")
>>> sep = Separable.build([x / (x + k), k * x / (x + k) ** 2], x, (k,), ["numpy"], None)
>>> atoms = (np.array([0.5, 1.0, 2.0]), np.array([0.2, 0.5, 0.3]))
>>> out = sep.means(atoms, [np.array([0.1, 1.0])], 2, np.dtype(float))
>>> np.allclose(out[0], [sum(p * a / (a + kv) for a, p in zip(*atoms)) for kv in (0.1, 1.0)])
True
"""

from __future__ import annotations

import numpy as np
import sympy as sp

__all__ = ["Separable", "CHUNK"]

#: atoms per matrix product; the partial sums of the chunks are added pairwise
CHUNK = 256


def _split_term(term, x, shifts):
    """``(coefficient, d, key)`` of one term, or ``None``: ``key`` is a tuple
    ``(a, b, c)`` per shift (in the order of ``shifts``, which grows)."""
    coeff, xpart = term.as_independent(x, as_Add=False)
    j, poles = 0, {}
    for f in sp.Mul.make_args(xpart):
        if f == 1:
            continue
        base, e = f.as_base_exp()
        if not (e.is_Integer and e != 0):
            return None
        if base == x:
            if e < 0:
                return None
            j += int(e)
            continue
        s, rest = base.as_independent(x, as_Add=True)
        if rest != x or e > 0:
            return None
        poles[s] = poles.get(s, 0) - int(e)
    powers = coeff.as_powers_dict()
    key = []
    for s in poles:
        if s not in shifts:
            shifts.append(s)
    for s in shifts:
        m = poles.get(s, 0)
        el = sp.sympify(powers.get(s, 0))
        el = int(el) if (el.is_Integer and el > 0) else 0
        if el >= j:  # the higher power pairs first, s on a tie (as _pair_powers)
            b = min(el, m)
            a = min(j, m - b)
        else:
            a = min(j, m)
            b = min(el, m - a)
        j -= a
        if b:
            coeff = coeff / s**b
        key.append((a, b, m - a - b))
    return coeff, j, tuple(key)


class Separable:
    """The basis means of a group of summands and how each mean combines
    them (see the module).  Build with :meth:`build`."""

    def __init__(self, shifts, keys, combine, shift_fn):
        #: the pole positions ``-s``: sympy expressions in the arguments
        self.shifts = shifts
        #: per product key ``((a, b, c) per shift)``: the powers ``d`` of x,
        #: one basis mean each
        self.keys = keys
        self._combine = combine
        self._shift_fn = shift_fn
        #: per shift: whether some product needs r, u, v
        self._uses = [tuple(any(key[i][j] for key in keys) for j in (2, 0, 1)) for i in range(len(shifts))]
        #: per product: its column range and the factors to multiply
        #: ``(shift, 0 r | 1 u | 2 v)``, one entry per power
        self._recipes = []
        c0 = 0
        for key, ds in keys.items():
            recipe = [(i, j) for i, (a, b, c) in enumerate(key) for j, power in ((1, a), (2, b), (0, c))
                      for _ in range(power)]
            self._recipes.append(((c0, c0 + len(ds)), recipe))
            c0 += len(ds)
        #: the column blocks of recent read-only atom arrays (see :meth:`_blocks`)
        self._memo = {}

    @classmethod
    def build(cls, summands, x, args, modules, printer):
        """The separable form of ``summands`` (expressions in ``x`` and
        ``args``), or ``None`` when a term is outside the form."""
        shifts: list = []
        parts = []
        for e in summands:
            terms = []
            for t in sp.Add.make_args(sp.sympify(e)):
                split = _split_term(t, x, shifts)
                if split is not None:
                    terms.append(split)
                    continue
                # a coefficient times a sum of terms of the form, c (a/(x + s) + ...):
                # each product c a/(x + s) is one of the form
                sums = [f for f in t.args if f.is_Add] if t.is_Mul else []
                inner = [t / sums[0] * u for u in sums[0].args] if len(sums) == 1 else []
                splits = [_split_term(u, x, shifts) for u in inner]
                if len(splits) < 2 or any(v is None for v in splits):
                    return None
                terms.extend(splits)
            parts.append(terms)
        width = len(shifts)
        keys: dict = {}
        for terms in parts:
            for _, d, key in terms:
                key = key + ((0, 0, 0),) * (width - len(key))
                keys.setdefault(key, [])
                if d not in keys[key]:
                    keys[key].append(d)
        keys = {k: sorted(v) for k, v in keys.items()}
        dummies = {(k, d): sp.Dummy(f"B{i}_{d}") for i, k in enumerate(keys) for d in keys[k]}
        exprs = []
        for terms in parts:
            exprs.append(sp.Add(*[c * dummies[(key + ((0, 0, 0),) * (width - len(key)), d)]
                                  for c, d, key in terms]))
        order = [dummies[(k, d)] for k in keys for d in keys[k]]
        combine = sp.lambdify(list(args) + order, exprs, modules=modules, cse=True, printer=printer)
        shift_fn = sp.lambdify(list(args), list(shifts), modules=modules, printer=printer) if shifts else None
        return cls(tuple(shifts), keys, combine, shift_fn)

    def _columns(self, vals, wts):
        """The matrix of columns ``p_k x_k^d`` of every basis mean (keys in
        order)."""
        n = vals.size
        w = np.full(n, 1.0 / n) if wts is None else np.asarray(wts, dtype=float)
        return np.stack([w * vals**d if d else w for ds in self.keys.values() for d in ds], axis=1)

    def _blocks(self, vals, wts, cplx):
        """``(columns, per-product contiguous blocks)`` of the atoms, for
        complex points each block ``C kron I_2`` (see :meth:`means`).  They
        depend on the atoms alone: for read-only atom arrays (a law's, reused
        by every call of a solver) they are kept, keyed on the arrays
        themselves (held, so their identity cannot be reused), up to four."""
        key = (id(vals), id(wts), cplx)
        hit = self._memo.get(key)
        if hit is not None and hit[0] is vals and hit[1] is wts:
            return hit[2], hit[3]
        cols = self._columns(vals, wts)
        # each product's columns contiguous (a strided operand misses BLAS);
        # for complex points the real columns act on the interleaved real
        # and imaginary parts, C kron I_2: one real product, where a complex
        # product with a few columns costs ~10x in OpenBLAS
        blocks = [np.kron(cols[:, c0:c1], np.eye(2)) if cplx else np.ascontiguousarray(cols[:, c0:c1])
                  for (c0, c1), _ in self._recipes]
        if not vals.flags.writeable and (wts is None or not np.asarray(wts).flags.writeable):
            if len(self._memo) >= 4:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = (vals, wts, cols, blocks)
        return cols, blocks

    def means(self, atoms, flat_args, npts, dtype, keep=None, block=2**15):
        """The mean of every summand at every point over ``atoms = (x, p)``
        (no atom at 0; ``p = None``: equal weights), in blocks of about
        ``block`` (point, atom) pairs (the caller's cache-sized
        :data:`freeprob.numeric.compile.BLOCK_ELEMENTS`).  ``keep = (mask,
        owner)`` drops atom ``k`` at point ``i`` unless ``mask[i, owner[k]]``."""
        vals, wts = atoms
        n = vals.size
        rtype = np.result_type(dtype, float)
        cplx = rtype.kind == "c"
        cols, blocks = self._blocks(vals, wts, cplx)
        basis = np.zeros((npts, cols.shape[1]), dtype=rtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            shifts = [] if self._shift_fn is None else [_points(s, rtype, npts) for s in self._shift_fn(*flat_args)]
            # chunks of at most CHUNK atoms per product, their partial sums
            # added pairwise: a BLAS dot over 10^4 atoms rounds like ~n/8
            # serial additions; this keeps the error of the direct route's
            # pairwise sums
            ca = max(1, min(n, CHUNK, block))
            cp = max(1, block // ca)
            for p0 in range(0, npts, cp):
                p1 = min(npts, p0 + cp)
                partials = []
                for a0 in range(0, n, ca):
                    a1 = min(n, a0 + ca)
                    xb = vals[None, a0:a1]
                    factors = []
                    for i, s in enumerate(shifts):
                        sb = s[p0:p1, None]
                        den = xb + sb
                        if cplx:
                            # complex division costs ~10x a product: one
                            # reciprocal, then products
                            r = 1.0 / den
                            factors.append(tuple(num * r if use else None
                                                 for num, use in zip((1.0, xb, sb), self._uses[i])))
                        else:
                            # one rounding each, as the direct route's x/(x + s)
                            factors.append(tuple(num / den if use else None
                                                 for num, use in zip((1.0, xb, sb), self._uses[i])))
                    mask = None if keep is None else keep[0][p0:p1][:, keep[1][a0:a1]]
                    part = np.empty((p1 - p0, cols.shape[1]), dtype=rtype)
                    for ((c0, c1), recipe), colblk in zip(self._recipes, blocks):
                        blk = None
                        for i, j in recipe:  # j: 0 r, 1 u, 2 v
                            blk = factors[i][j] if blk is None else blk * factors[i][j]
                        if blk is None:
                            blk = np.ones((p1 - p0, a1 - a0), dtype=rtype)
                        if mask is not None:
                            blk = blk * mask
                        if cplx:
                            blk = np.ascontiguousarray(blk, dtype=rtype)
                            part[:, c0:c1] = (blk.view(np.float64) @ colblk[2 * a0:2 * a1]).view(rtype)
                        else:
                            part[:, c0:c1] = blk @ colblk[a0:a1]
                    partials.append(part)
                while len(partials) > 1:
                    partials = [partials[i] + partials[i + 1] if i + 1 < len(partials) else partials[i]
                                for i in range(0, len(partials), 2)]
                basis[p0:p1] = partials[0]
            res = self._combine(*flat_args, *basis.T)
        return [_points(v, rtype, npts) for v in res]


def _points(v, dtype, npts):
    """``v`` as an array of ``npts`` points (a scalar is broadcast)."""
    v = np.asarray(v, dtype=dtype)
    return v if v.shape == (npts,) else np.broadcast_to(v, (npts,))
