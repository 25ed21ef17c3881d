r"""Quadrature drivers of the contour route [C18]: the fused two-point sums,
the agreement and reality certificates, and the split route for filters
with a declared exponential part (:meth:`SpectralEstimator.exponential_split`).

**The split route.**  With ``r = R0 + R1 E``, ``E = e^{-t s}``, every
integrand is a polynomial in ``E`` with rational coefficients whose poles
sit at ``-lam``.  Gradient flow has ``s = z + lam``; gradient descent has
``E = (1 - eta (z + lam))^k``, so ``t = k`` and ``s = -log(1 - eta (z +
lam))`` (:meth:`SpectralEstimator.split_rate`), and its contours below are
drawn in ``s`` and carried to ``z`` by :class:`_Mapped` (a step with ``eta
(hi + lam) >= 1`` adds a loop around the spectrum above ``1/eta - lam``).  Each power of
``E`` is integrated on its own contour; the split is exact when every
contour encloses the same poles, here ``-lam`` and the sample spectrum:

* ``E^0`` (the part independent of ``t``): a wide Bernstein ellipse around
  ``[min(lower, -lam), hi]``, once for every time;
* ``E^k``, ``k >= 1``: the parabola of :class:`_Parabola` with ``mu = 1/t_0``
  for the times ``t`` in ``[t_0, 2 t_0)`` (the exponential is at most
  ``e^{2k}`` on it), so the node count does not grow with ``t``;
* the two-point terms: only ``R1 E (z) R1 E (z')`` remains, on two nested
  parabolas (``mu`` and ``mu/2``).  A term with ``R0`` in either variable
  integrates to zero: ``R0 = O(1/z)`` and the two-point kernel is ``O(1/z)``
  and analytic outside the contour (the divided differences are removable
  at ``z = z'``), so the integral is minus the residue at infinity, 0.
  A solver that declares a label-noise kernel (``noise_kernel``, weighted by
  ``f(z) f(z')`` instead of ``r(z) r(z')``: the feature-averaged predictor of
  random features) keeps ``F1 E (z) F1 E (z')`` with ``f = F0 + F1 E``, ``F1 =
  -R1/z``, by the same argument; its parabolas always enclose ``-lam``
  (``F1`` has its pole there).

At ``lam = 0`` the parts without the split's pole go around the spectrum's
lower edge instead of around 0 (the nonzero bulk's edge, also for a
population with an atom at 0, whose sample spectrum keeps a gap above the
atom while ``q (1 - m_0) < 1``), so that a bias exponentially small in ``t
lower`` keeps its digits.  At ``lam > 0`` the parts enclose ``-lam``
early, and a value exponentially small in ``t (lower + lam)`` is certified
to the rounding floor of its terms (the ``|key|`` sums), not relatively.
Late in the flow (``t_0 s(lower) >= 8``, ``t_0`` the octave's time; from
``5/2`` where the route around ``-lam`` leaves ``bias2``, ``var_X`` or
``Etr_bias`` below ``tol`` of its terms) every key but a label-noise
kernel's leaves ``-lam`` outside every contour instead (:func:`_apart`,
:func:`_ridge_part`), when the spectrum has a gap above 0 and ``R0`` has a
single simple pole and vanishes at infinity (:func:`pole_part`): around
``-lam`` the terms are of order one, while the value is the ridge's
``lam^2``-small part plus ``e^{-t (lower + lam)}``-small parts, which the
rounding floor swallowed (a ridge of ``1e-12`` at ``t = 1000`` was
refused, and without noise ``E_tr`` came out negative).  At any ridge a
``bias2`` or ``var_X`` below the floor of its terms is refused
(:func:`_refuse_lost`).

The terms free of the deterministic equivalents are integrated exactly
(residues at 0, :func:`freeprob.models.spectral._kernels`), as on the
ellipse route.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import BranchError, ConvergenceError, NumericalError
from freeprob.models._contour_nodes import EPS_FLOOR, _refine, _seed, _solve_kappa
from freeprob.models._spectral_numeric import _Ellipse, _Parabola
from freeprob.models._split_contours import (
    _Circle,
    _exponent,
    _factors,
    _Flow,
    _join,
    _Mapped,
)
from freeprob.numeric.compile import compile_expr

__all__ = ["integrate_split", "SPECTRAL_KEYS", "NOISE_KEY", "REFINE", "keys_of", "pole_part"]

#: the keys of a learning curve of a spectral estimator
SPECTRAL_KEYS = ("df1", "bias2", "var_X", "var_X_noise", "Eg", "Etr")

_ONE = ("df1", "var_X_noise", "Etr_bias", "Etr_noise")


def _two_point(kernels, args, ra, rb, block=None, *, bounded=False):
    """For each kernel ``K`` of the fused evaluator: ``(sum_ab ra_pa K_ab rb_pb,
    sum_ab |ra_pa| |K_ab| |rb_pb|)`` per parameter point ``p``, the kernels
    evaluated in blocks of rows (bounded memory).  ``kernels`` is the pair
    (kernels, their relative running error bounds ``R``,
    :func:`~freeprob.numeric.rounding.relative_rounding_bound`, in units of
    the node values' resolution); ``bounded=True`` puts ``|K| (1 + R)`` in
    the sum of |terms|: a divided difference's rounding is not ``|K|`` but
    ``(|g(z)| + |g(z')|)/|z - z'|``, and the floor of :func:`_agree` must
    carry it where the plain floor does not settle (:data:`REFINE`).  An
    infinite or NaN bound is refused (:class:`~freeprob.errors.NumericalError`),
    never used as a floor."""
    kernels, bounds = kernels
    rows = args[0].shape[0]
    block = block or max(64, 2**22 // max(args[1].shape[-1], 1))   # ~4M kernel entries per block
    out = None
    for lo in range(0, rows, block):
        sl = slice(lo, lo + block)
        part = tuple(a[sl] if isinstance(a, np.ndarray) and a.shape[0] == rows else a for a in args)
        kerns = kernels(*part)
        kerns = [np.asarray(k, dtype=complex) for k in (kerns if isinstance(kerns, tuple) else (kerns,))]
        if bounded:
            rels = bounds(*part)
            rels = [np.abs(r) for r in (rels if isinstance(rels, tuple) else (rels,))]
            if not all(np.all(np.isfinite(r)) for r in rels):
                raise NumericalError("the rounding bound of a two-point kernel is not finite at the contour's "
                                     "nodes (two nodes' values coincide)")
        if out is None:
            out = [[np.zeros(ra.shape[0], dtype=complex), np.zeros(ra.shape[0])] for _ in kerns]
        for i, (acc, kern) in enumerate(zip(out, kerns)):
            mag = np.abs(kern) * (1 + rels[i]) if bounded else np.abs(kern)
            acc[0] += np.einsum("pa,pa->p", ra[:, sl], rb @ kern.T)
            acc[1] += np.einsum("pa,pa->p", np.abs(ra[:, sl]), np.abs(rb) @ mag.T)
    return [tuple(acc) for acc in out]


#: the key under which an evaluation keeps the recomputation of its two-point
#: sums' |terms| with the kernels' rounding bounds (see :func:`_agree`)
REFINE = "|refine|"


#: the key of a solver's declared label-noise kernel (see the module)
NOISE_KEY = "avg_noise"


def keys_of(law):
    """The keys a solver's quadrature gives: :data:`SPECTRAL_KEYS`, and
    :data:`NOISE_KEY` when it declares a ``noise_kernel``."""
    return SPECTRAL_KEYS + ((NOISE_KEY,) if getattr(law, "noise_kernel", None) is not None else ())


def noise_two_point(law, ki, k, mi, m, q, fa, fb, *, bounded=False):
    """``(sum, sum of |terms|)`` of the declared label-noise kernel with the
    weights ``fa`` (inner nodes) and ``fb`` (outer nodes); ``noise_kernel``
    is the pair (kernel, its relative rounding bound), see :func:`_two_point`."""
    args = (ki[:, None], k[None, :], mi[:, None], m[None, :], q)
    return _two_point(law.noise_kernel, args, fa, fb, bounded=bounded)[0]


def _agree(prev, cur, tol, keys=("df1", "bias2", "var_X", "var_X_noise", "Etr"), floor=EPS_FLOOR):
    """Two node counts agree to ``tol`` relative, or to the floor of the sums:
    ``floor`` times the sum of their |terms| (the solver's ``sum_floor``: the
    relative resolution of its node values, rounding or a law's own).

    Where they do not, and ``cur`` keeps a :data:`REFINE` callable, its
    two-point sums' |terms| are recomputed with the kernels' rounding bounds
    (``cur`` is updated) and the test is made again: the bounds cost about
    four kernel evaluations, so they are formed only where the plain floor
    does not settle."""
    def settled():
        for key in keys:
            a, b = np.asarray(prev[key]), np.asarray(cur[key])
            floor_k = floor * np.asarray(cur.get("|" + key + "|", np.abs(b)))
            if np.any(np.abs(a - b) > tol * np.abs(b) + floor_k):
                return False
        return True

    if settled():
        return True
    if REFINE not in cur:
        return False
    cur.update(cur.pop(REFINE)())
    return settled()


def _certify_real(cur, count, keys=SPECTRAL_KEYS, floor=EPS_FLOOR):
    """The keys' real parts, once each imaginary part is below ``1e-8`` of
    the real one or ``floor`` times the sum of |terms| (see :func:`_agree`)."""
    out = {}
    for key in keys:
        v = np.asarray(cur[key])
        if np.iscomplexobj(v):
            floor_k = floor * np.asarray(cur.get("|" + key + "|", 0.0))
            if np.any(np.abs(v.imag) > 1e-8 * np.abs(v.real) + floor_k):
                raise BranchError(f"{key} of the contour quadrature is not real (imaginary part "
                                  f"{np.max(np.abs(v.imag)):.2e} with {2 * count} nodes)")
            v = v.real
        out[key] = v
    return out


def _sums(split, z, w, k, m, mw, q, s2, w2, lam, powers, pole=None):
    """``{key: (sum, sum of |terms|)}`` of the split one-point parts over the
    nodes, each power ``E^j`` weighted by ``powers[j]`` (``(points, K)``);
    ``pole`` selects the parts with (True) or without (False) the split's
    pole at 0."""
    out = {}
    for key in _ONE:
        total, mag = 0, 0
        for j, (fn, has_pole) in split[key].items():
            if j not in powers or (pole is not None and has_pole != pole):
                continue
            term = np.asarray(fn(z, k, m, mw, q, s2, w2, lam), dtype=complex) * w * powers[j]
            total, mag = total + term, mag + np.abs(term)
        out[key] = (np.sum(total, axis=-1), np.sum(mag, axis=-1))
    return out


def _converge(contours, law, q, evaluate, tol, max_nodes, what, states=None):
    """Double the nodes of every contour until ``evaluate(nodes)`` agrees
    with the previous count to ``tol`` (relative, or the rounding floor).
    ``states`` keeps the solved nodes of each contour (by its ``key``) for
    the next call, and seeds a new contour from the last one solved."""
    states = {} if states is None else states
    prev, count = None, 64
    while True:
        nodes = []
        for ell in contours:
            key = getattr(ell, "key", id(ell))
            if key not in states:
                last = states.get("last")
                states[key] = _seed(law, q, ell, last)
            st = states[key]
            while st[0].size < count:
                st = _refine(law, q, ell, st)
            states[key] = st
            states["last"] = st[3][:: st[0].size // 32]   # the solver's states, a seed for the next contour
            z, w = ell.nodes(count)
            nodes.append((z, w) + tuple(a[:: st[0].size // count] for a in st[:3]))
        cur = evaluate(nodes)
        if prev is not None and _agree(prev, cur, tol, keys=[k for k in cur if not k.startswith("|")],
                                       floor=law.sum_floor):
            return cur
        if 2 * count > max_nodes:
            raise ConvergenceError(f"the {what} did not reach {tol:g} with {count} nodes")
        prev, count = cur, 2 * count


def pole_part(r0, z):
    """``(R0, Res_{z = -lam} R0)`` compiled in ``(z, lam)`` when the split's
    ``R0`` (a sympy expression in ``z`` and the ridge ``C.lam``, [C18]) is
    rational with a single simple pole, at ``z = -lam``, and vanishes at
    infinity; None otherwise.  Then for a kernel ``K(z, z')`` analytic off the
    spectrum and ``O(1/z)`` at infinity, ``(1/2 pi i) oint R0(z) K(z, z') dz``
    on a counter-clockwise contour around the spectrum that leaves ``-lam``
    outside is ``-Res R0 K(-lam, z')`` (the residues outside it; none at
    infinity, where ``R0 K = O(1/z^2)``).

    >>> from freeprob import conventions as C
    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> r0, res = pole_part(C.lam / (z + C.lam), z)       # gradient flow's R0
    >>> complex(res(0.0, 0.25))
    (0.25+0j)
    >>> pole_part(C.lam / (z + C.lam) ** 2, z) is None    # a double pole
    True
    """
    num, den = sp.fraction(sp.cancel(sp.together(r0)))
    if not (num.is_polynomial(z) and den.is_polynomial(z)):
        return None
    pn, pd = sp.Poly(num, z), sp.Poly(den, z)
    if pd.degree() != 1 or pn.degree() > 0 or sp.simplify(den.subs(z, -C.lam)) != 0:
        return None
    return (compile_expr(r0, (z, C.lam), dtype=complex),
            compile_expr(sp.simplify(num / sp.diff(den, z)) + 0 * z, (z, C.lam), dtype=complex))


def _pair(za, zb, ka, kb, ma, mb, mwa, mwb, q, w2):
    """The arguments of a two-point kernel, ``a`` on the rows and ``b`` on the columns."""
    return (za[:, None], zb[None, :], ka[:, None], kb[None, :], ma[:, None], mb[None, :], mwa[:, None],
            mwb[None, :], q, w2)


def _apart(law, q, lv, ts, t0, corner, point, c, kernels, carried, tol, max_nodes, states):
    """Every key but the label-noise kernel's at the times ``ts`` of one
    octave ``t0`` at a ridge ``lam > 0`` (see the module), its parts with
    ``E`` on contours that leave ``-lam`` outside: the pair of parabolas
    with corner ``corner`` (see :func:`_apart_corner`).  One-point parts
    lie on the inner one.  Two-point: ``R1 E R1 E`` on the pair, and the
    parts with ``R0`` in one variable as ``c K(-lam, z')`` (``c = -Res
    R0``, see :func:`pole_part`) against the ``R1 E`` of the other
    variable's parabola; ``point`` holds ``(z, kappa, D, D_w, state)`` at
    ``z = -lam``.  The parts without ``E`` are :func:`_ridge_part`.  Every
    term is of the size of the ``e^{-t (lower + lam)}``-small value it adds
    to, up to ``e^{t s(lower)}``."""
    split, _, two, r1, _, _ = kernels
    outer, inner = carried(corner, 2 / t0, t0 / 2), carried(corner, 1 / t0, t0)
    zp, kp, mp, mwp = point[:4]
    rc = np.full((ts.shape[0], 1), c, dtype=complex)

    def parts(nodes):
        (z, w, k, m, mw), (zi, wi, ki, mi, mwi) = _join(nodes[:len(outer)]), _join(nodes[len(outer):])
        count = nodes[0][0].size
        e, ei = _factors(outer, count, ts), _factors(inner, count, ts)
        cur = {}
        for key, (v, a) in _sums(split, zi, wi, ki, mi, mwi, q, 1.0, law.wnorm2, lv, {1: ei, 2: ei * ei}).items():
            cur[key], cur["|" + key + "|"] = v, a
        ra = np.asarray(r1(zi, lv), dtype=complex)[None, :] * ei * wi[None, :]
        rb = np.asarray(r1(z, lv), dtype=complex)[None, :] * e * w[None, :]

        def sums(bounded):
            terms = (_two_point(two, _pair(zi, z, ki, k, mi, m, mwi, mw, q, law.wnorm2), ra, rb, bounded=bounded),
                     _two_point(two, _pair(zp, z, kp, k, mp, m, mwp, mw, q, law.wnorm2), rc, rb, bounded=bounded),
                     _two_point(two, _pair(zi, zp, ki, kp, mi, mp, mwi, mwp, q, law.wnorm2), ra, rc,
                                bounded=bounded))
            res = {}
            for i, key in enumerate(("bias2", "var_X")):
                res[key] = sum(t[i][0] for t in terms)
                res["|" + key + "|"] = sum(t[i][1] for t in terms)
            return res

        cur.update(sums(False))
        cur[REFINE] = lambda: {key: v for key, v in sums(True).items() if key.startswith("|")}
        return cur

    return _converge(outer + inner, law, q, parts, tol, max_nodes, "parabolic contour", states)


def _apart_corner(s_low, t0, lam, eta):
    """The corner ``c`` (in ``z``) of :func:`_apart`'s parabolas, ``mu = 2/t0``
    and ``1/t0``: at the spectrum's lower edge, moved right where that puts
    the outer vertex less than half way from the pole (``s = 0``) to the
    edge (``s_low = s(lower)``), in the variable ``s`` of the parabolas
    (:func:`_exponent`).  With ``t0 s_low >= 5/2`` the inner vertex stays
    below the edge, and the pole lies at ``Im u <= 1 - sqrt(1 + t0 s_low/4)``
    of the parabola's strip; the terms near the vertex then exceed the
    value by at most ``e^{t s_low}`` (3.5 digits at ``t0 s_low = 8``,
    ``t < 2 t0``).

    >>> round(_apart_corner(0.5, 16.0, 0.1, 0.0), 6)     # gradient flow: s = z + lam, at the edge
    0.4
    >>> round(_apart_corner(0.5, 6.0, 0.1, 0.0), 6)      # early: the vertex at s_low/2
    0.483333
    """
    s = max(s_low, s_low / 2 + 2 / t0)
    return s - lam if eta == 0 else -np.expm1(-s) / eta - lam


def _ridge_part(law, q, lv, lower, point, c, kernels, tol, max_nodes):
    """The parts without ``E`` for :func:`_apart` (the ridge's own,
    independent of the time), as corrections to the route around ``-lam``
    on a circle around ``-lam`` of radius ``(lower + lam)/2``, where the
    kernels are analytic (out to ``lower``; no node comes near the spectrum
    or the diagonal, and the errors fall as ``2^-N``):

    * one-point: the ``E^0`` part on the wide ellipse encloses ``-lam``;
      minus its integral on the circle, it encloses the spectrum only.
      Both are of the size of the value (``R0`` is as small on them as on
      the spectrum), unlike the ``E^k`` parts around ``-lam`` (order one
      next to it);
    * two-point ``R0 R0``: the ``z'`` integral of ``c K(-lam, z') R0(z')``
      around the spectrum, ``-lam`` outside, is ``-c Res R0 K(-lam, -lam)``
      (see :func:`pole_part`), and ``R0 = Res R0/(z' + lam)``: so it is
      ``-c`` times the same integral on the circle (the mean value of
      ``K(-lam, .)`` over it)."""
    split, _, two, _, _, (r0, _) = kernels
    zp, kp, mp, mwp = point[:4]
    rc = np.full((1, 1), c, dtype=complex)

    def parts(nodes):
        z, w, k, m, mw = nodes[0]
        cur = {}
        for key, (v, a) in _sums(split, z, w, k, m, mw, q, 1.0, law.wnorm2, lv, {0: 1.0}).items():
            cur[key], cur["|" + key + "|"] = -v, a
        rb = -(np.asarray(r0(z, lv), dtype=complex) * w)[None, :]

        def sums(bounded):
            terms = _two_point(two, _pair(zp, z, kp, k, mp, m, mwp, mw, q, law.wnorm2), rc, rb, bounded=bounded)
            res = {}
            for (v, a), key in zip(terms, ("bias2", "var_X")):
                res[key], res["|" + key + "|"] = v, a
            return res

        cur.update(sums(False))
        cur[REFINE] = lambda: {key: v for key, v in sums(True).items() if key.startswith("|")}
        return cur

    # the first nodes continued outward from the centre (rays from far away
    # would cross the spectrum to reach the circle's right side)
    circle, st = _Circle(-lv, (lower + lv) / 2), np.repeat(point[4], 32, axis=0)
    for frac in (0.125, 0.25, 0.5, 1.0):
        z = -lv + frac * (circle.nodes(32)[0] + lv)
        k, m, st = _solve_kappa(law, q, z, st, share=False)
    states = {circle.key: (k, m, law.target(k, m, st), st)}
    return _converge([circle], law, q, parts, tol, max_nodes, "ridge's circle", states)


def integrate_split(law, vals, q, s2, lower, hi, kernels, tol, max_nodes):
    """Every key for gradient-flow-like filters by the split route (see the
    module); ``vals`` holds flat ``rate``, ``eta`` and ``ridge`` arrays
    (:meth:`SpectralEstimator.split_rate`), ``kernels``
    is ``(split one-point kernels, exact residues, fused two-point
    kernels, compiled R1, compiled F1, pole_part(R0))``; a solver's declared
    ``noise_kernel`` adds :data:`NOISE_KEY`."""
    split, exact, two, r1, f1, pole = kernels
    t, lam = np.asarray(vals["rate"], dtype=float), np.asarray(vals["ridge"], dtype=float)
    eta = np.asarray(vals["eta"], dtype=float)
    w2 = law.wnorm2
    noise = NOISE_KEY in keys_of(law)
    out = {key: np.zeros(t.shape, dtype=complex) for key in _ONE + ("bias2", "var_X") + ((NOISE_KEY,) * noise)}
    mags = {key: np.zeros(t.shape) for key in out}
    bases = {}
    for lv, ev in np.unique(np.stack([lam, eta], axis=1), axis=0):
        at = (lam == lv) & (eta == ev)

        # gradient descent with eta (hi + lam) >= 1: a second loop around
        # the spectrum above 1/eta - lam (see _Mapped)
        top = ev * (hi + lv) - 1 if ev > 0 and ev * (hi + lv) >= 1 - 2.0**-20 else None

        def carried(c, mu, t_min, lv=lv, ev=ev, top=top):
            """The contours of the parabola with corner ``c`` (in ``z``).  The
            upper loop is left out where its ``E``, at most ``e^{-t (s'(hi) -
            mu)}``, stays below ``e^{-60}`` of the lower loop's, ``e^{-t (s(c) -
            mu)}``, for every ``t >= t_min``: terms far below the rounding
            floor of the sums (the step 1/lambda_max puts ``s'(hi)`` beyond 13
            at any step count, so it costs one loop)."""
            if ev == 0:
                return [_Flow(_Parabola(c, mu, t_min), lv)]
            s_c = float(np.real(_exponent(c, lv, ev)))
            loops = [_Mapped(_Parabola(s_c, mu, t_min), lv, ev)]
            s_top = -np.log(max(top, 2.0**-40)) if top is not None else np.inf
            if t_min * (s_top - s_c) <= 60:
                loops.append(_Mapped(_Parabola(s_top, mu, t_min), lv, ev, upper=True))
            return loops
        # E^0: once per ridge (a sweep over gradient descent's step shares
        # it), on a wide ellipse around the spectrum and -lam
        lo = min(lower, -lv)
        ell = _Ellipse(lo - 0.25 * (hi - lo), hi + 0.25 * (hi - lo), 3.0)

        def zeroth(nodes, lv=lv):
            z, w, k, m, mw = nodes[0]
            cur = {}
            for key, (v, a) in _sums(split, z, w, k, m, mw, q, 1.0, w2, lv, {0: 1.0}).items():
                cur[key], cur["|" + key + "|"] = v, a
            return cur

        if lv not in bases:
            bases[lv] = _converge([ell], law, q, zeroth, tol, max_nodes, "time-independent contour")
        base = bases[lv]
        for key in _ONE:
            out[key][at] += base[key]
            mags[key][at] += base["|" + key + "|"]
        # E^k: one pair of parabolas per octave of t, around -lam (enclosing
        # the split's pole); at lam = 0 the parts without that pole go around
        # the spectrum's lower edge instead, where e^{-t z} is as small as the
        # result (no cancellation of e^{t lower} in an exponentially small bias)
        corner = -lv
        shift = lv == 0 and lower > 0
        octave = np.floor(np.log2(t[at]))
        states, near, away, ridge = {}, {}, {}, {}
        s_low = float(np.real(_exponent(lower, lv, ev))) if lower > 0 else 0.0
        for g in np.unique(octave):
            sel = np.flatnonzero(at)[octave == g]
            ts = t[sel][:, None]
            t0 = float(2.0**g)
            # late at a ridge above a gap: every key but the noise kernel's
            # leaves -lam outside (see _apart); at 5/2 <= t0 s_low < 8 only
            # where the route around -lam leaves a value below tol of its
            # terms (the parabolas' pole then lies near the edge of their
            # strip, and the route costs more nodes)
            apart = pole is not None and lv > 0 and lower > 0 and t0 * s_low >= 2.5
            direct = apart and t0 * s_low >= 8
            # t mu in [1, 2) on the inner parabola (mu = 1/t0) and [2, 4) on
            # the outer one (mu = 2/t0, the previous octave's inner one: its
            # solved nodes are reused); one truncation, U^2 = 46, for all
            c2 = lower if shift else corner
            outer, inner = carried(c2, 2 / t0, t0 / 2), carried(c2, 1 / t0, t0)

            def parts(nodes, ts=ts, lv=lv, outer=outer, inner=inner, apart=direct):
                (z, w, k, m, mw), (zi, wi, ki, mi, mwi) = _join(nodes[:len(outer)]), _join(nodes[len(outer):])
                count = nodes[0][0].size
                e, ei = _factors(outer, count, ts), _factors(inner, count, ts)
                cur = {}
                # one-point parts on the inner parabola: |E^2| <= e^4 there
                sums = {} if apart else _sums(split, zi, wi, ki, mi, mwi, q, 1.0, w2, lv, {1: ei, 2: ei * ei},
                                              False if shift else None)
                for key, (v, a) in sums.items():
                    cur[key], cur["|" + key + "|"] = v, a
                ra = np.asarray(r1(zi, lv), dtype=complex)[None, :] * ei * wi[None, :]
                rb = np.asarray(r1(z, lv), dtype=complex)[None, :] * e * w[None, :]
                args = (zi[:, None], z[None, :], ki[:, None], k[None, :], mi[:, None], m[None, :],
                        mwi[:, None], mw[None, :], q, w2)
                fa = fb = None
                if noise and not shift:
                    fa = np.asarray(f1(zi, lv), dtype=complex)[None, :] * ei * wi[None, :]
                    fb = np.asarray(f1(z, lv), dtype=complex)[None, :] * e * w[None, :]

                def two_point(bounded, args=args, ra=ra, rb=rb, fa=fa, fb=fb, ki=ki, k=k, mi=mi, m=m, apart=apart):
                    res = {}
                    if not apart:
                        (res["bias2"], res["|bias2|"]), (res["var_X"], res["|var_X|"]) = _two_point(
                            two, args, ra, rb, bounded=bounded)
                    if noise and not shift:
                        res[NOISE_KEY], res["|" + NOISE_KEY + "|"] = noise_two_point(law, ki, k, mi, m, q, fa, fb,
                                                                                     bounded=bounded)
                    return res

                cur.update(two_point(False))
                cur[REFINE] = lambda two_point=two_point: {key: v for key, v in two_point(True).items()
                                                          if key.startswith("|")}
                return cur

            cur = {}
            if noise or not direct:
                cur = _converge(outer + inner, law, q, parts, tol, max_nodes, "parabolic contour", states)
            if apart and not direct:
                etr = base["Etr_bias"] + cur["Etr_bias"] + exact["Etr_bias"](q, 1.0, w2)
                apart = bool(np.any(law.sum_floor * (base["|Etr_bias|"] + cur["|Etr_bias|"]) > tol * np.abs(etr)))
                for key in ("bias2", "var_X"):
                    apart |= bool(np.any(law.sum_floor * cur["|" + key + "|"] > tol * np.abs(cur[key])))
            if apart:
                try:
                    if not ridge:
                        zp = np.array([-lv], dtype=complex)
                        kp, mp, stp = _solve_kappa(law, q, zp, share=False)
                        point, c = (zp, kp, mp, law.target(kp, mp, stp), stp), -complex(np.ravel(pole[1](zp, lv))[0])
                        ridge.update(point=point, c=c,
                                     part=_ridge_part(law, q, lv, lower, point, c, kernels, tol, max_nodes))
                    late = _apart(law, q, lv, ts, t0, _apart_corner(s_low, t0, lv, ev), ridge["point"], ridge["c"],
                                  kernels, carried, tol, max_nodes, away)
                except (ConvergenceError, BranchError):
                    # not solved or not settled apart: the route around -lam,
                    # certified to the floor of its terms (_refuse_lost)
                    if direct:
                        cur = _converge(outer + inner, law, q, lambda nodes, parts=parts: parts(nodes, apart=False),
                                        tol, max_nodes, "parabolic contour", states)
                else:
                    for key in _ONE + ("bias2", "var_X"):
                        cur[key] = late[key] + ridge["part"][key]
                        cur["|" + key + "|"] = late["|" + key + "|"] + ridge["part"]["|" + key + "|"]
            if shift:
                # the parts with the pole at 0, on a parabola around 0 (and
                # the noise kernel's, on the pair around 0)
                around = carried(corner, 1 / t0, t0)     # lam = 0 here
                pair = carried(corner, 2 / t0, t0 / 2) if noise else []

                def poles(nodes, ts=ts, pair=pair, around=around):
                    z, w, k, m, mw = _join(nodes[len(pair):])
                    count = nodes[0][0].size
                    e = _factors(around, count, ts)
                    out_ = {}
                    for key, (v, a) in _sums(split, z, w, k, m, mw, q, 1.0, w2, lv, {1: e, 2: e * e}, True).items():
                        out_[key], out_["|" + key + "|"] = v, a
                    if noise:
                        zo, wo, ko, mo, _ = _join(nodes[:len(pair)])
                        fa = np.asarray(f1(z, lv), dtype=complex)[None, :] * e * w[None, :]
                        eo = _factors(pair, count, ts)
                        fb = np.asarray(f1(zo, lv), dtype=complex)[None, :] * eo * wo[None, :]
                        out_[NOISE_KEY], out_["|" + NOISE_KEY + "|"] = noise_two_point(law, k, ko, m, mo, q, fa, fb)
                        out_[REFINE] = lambda a=(k, ko, m, mo, q, fa, fb): {
                            "|" + NOISE_KEY + "|": noise_two_point(law, *a, bounded=True)[1]}
                    return out_

                extra = _converge(pair + around, law, q, poles, tol, max_nodes, "parabolic contour", near)
                if noise:
                    cur[NOISE_KEY], cur["|" + NOISE_KEY + "|"] = extra[NOISE_KEY], extra["|" + NOISE_KEY + "|"]
                for key in _ONE:
                    cur[key] = cur[key] + extra[key]
                    cur["|" + key + "|"] = cur["|" + key + "|"] + extra["|" + key + "|"]
            for key in out:
                out[key][sel] += cur[key]
                mags[key][sel] += cur["|" + key + "|"]
    res = {}
    for key in _ONE:
        v, mg = out[key], mags[key]
        if key in ("var_X_noise", "Etr_noise"):
            v, mg = v * s2, mg * s2
        res[key], res["|" + key + "|"] = v + exact[key](q, 1.0, w2) * (s2 if key in ("var_X_noise", "Etr_noise")
                                                                          else 1.0), mg
    res["bias2"], res["|bias2|"], res["var_X"], res["|var_X|"] = out["bias2"], mags["bias2"], out["var_X"], \
        mags["var_X"]
    res["Etr"] = res["Etr_bias"] + res["Etr_noise"] + s2
    res["|Etr|"] = res["|Etr_bias|"] + res["|Etr_noise|"] + s2
    res["Eg"] = res["bias2"] + res["var_X"] + res["var_X_noise"]
    res["|Eg|"] = res["|bias2|"] + res["|var_X|"] + res["|var_X_noise|"]
    if noise:
        res[NOISE_KEY], res["|" + NOISE_KEY + "|"] = out[NOISE_KEY], mags[NOISE_KEY]
    _refuse_lost(res, t, lam, law.sum_floor, lower > 0)
    return _certify_real(res, max_nodes, keys_of(law), law.sum_floor)


def _refuse_lost(res, t, lam, floor, edge):
    """A value is certified to the rounding floor of its terms only (see the
    module): a ``bias2`` or ``var_X`` below that floor has no digit left and
    is refused, never returned as a number of either sign, where the
    contour claims the value itself.  At a ridge ``lam > 0`` every part
    encloses ``-lam``, and late in the flow at a ridge far below the
    spectrum's lower edge the ridge's ``lam^2``-small bias is all there is.
    At ridge 0 with a gap (``edge``: the parts go around the spectrum's lower
    edge) the value falls below the floor past ``t^{-3/2}``-small ratios of
    the terms at the edge, or where that edge is only a bound of the true
    one.  (At ridge 0 around a spectrum that reaches 0 the value is within
    the floor of the ridgeless limit's, which it approaches: certified
    absolutely, as on the ellipse route.)"""
    for key in ("bias2", "var_X"):
        v, mag = np.real(res[key]), floor * res["|" + key + "|"]
        lost = ((lam > 0) | edge) & (mag > 0) & (np.abs(v) < mag)
        if np.any(lost):
            i = np.flatnonzero(lost)[0]
            why = ("a ridge this far below the sample spectrum's lower edge leaves the late bias its lam^2-small "
                   "part only" if lam[i] > 0 else "at ridge 0 the value is this many orders below its terms at the "
                   "spectrum's lower edge")
            raise ConvergenceError(
                f"{key} = {v[i]:.3g} of gradient flow at time (or descent after steps) {t[i]:.6g}, ridge "
                f"{lam[i]:.3g} is below the contour's rounding floor {mag[i]:.2g}: {why}")
