r"""Principal-component regression with the threshold inside the bulk [C18]
(private to :mod:`freeprob.models`).

The cutoff filter ``f = 1/x`` above ``theta`` and ``0`` below is not
analytic at ``theta``, but it is analytic (constant ``h``, ``r``) on each
side.  Each matrix function therefore splits into two contour integrals:
``Gamma^-`` around the sample eigenvalues in ``[0, theta]`` (the null space
included), where ``f = h = 0`` and ``r = 1``, and ``Gamma^+`` around those in
``[theta, upper]``, where ``f = 1/z``, ``h = 1`` and ``r = 0``.  Both contours
cross the real axis at ``theta``, inside the bulk.  There the deterministic
equivalents are bounded: each continues analytically from the upper
half-plane to the real axis (away from an edge), with a jump to its
conjugate on the lower side.

**Quadrature.**  Each contour is a circular arc above the axis, with ends at
``theta`` and outside the spectrum, and its mirror image below
(:class:`_Arc`).  ``kappa(-z)`` is solved on the upper arc, continued from
the far field by vertical descent, and conjugated below (the population is
real).  The nodes follow the double-exponential (tanh-sinh) map, which
clusters them at the ends, so the quadrature keeps its fast convergence up to
``theta``.  The two-point terms (``r(z) r(z')`` on ``Gamma^-`` twice) take
``z`` on an inner arc and ``z'`` on an outer one.  The two arcs meet only at
``theta``, at different angles.  There the kernel of an upper and a lower
node grows like ``1/|z - z'|``, which is integrable; pairs within ``1e-13
theta`` of ``theta`` are left out (:func:`_kept`).  The terms free of the
equivalents are the same residues at 0 as on the analytic route
(``Gamma^-`` encloses 0 with ``h = 0``, ``r = 1``; on ``Gamma^+`` they are
analytic).  The node count doubles until two counts agree to ``tol``
(:func:`_settled`).
"""

from __future__ import annotations

import numpy as np

from freeprob.errors import ConvergenceError
from freeprob.models._contour_nodes import _refine, _seed, vertical_ladder
from freeprob.models._spectral_quad import (
    NOISE_KEY,
    SPECTRAL_KEYS,
    _certify_real,
    _two_point,
    keys_of,
    noise_two_point,
)

__all__ = ["cutoff_keys"]


class _Arc:
    r"""The upper arc of the circle through the real points ``left < right``
    that meets the axis at the angle ``alpha`` (``pi/2``: the half-circle),
    from ``right`` to ``left`` (counter-clockwise), on the tanh-sinh grid
    ``phi = pi/(1 + e^{2x})``, ``x = (pi/2) sinh u``, ``u_j = -U + 2 U j/N``
    (nested under doubling); ``phi`` runs from ``pi`` (``left``) to ``0``
    (``right``) and each end is computed from its own side, so a node
    ``1e-20`` of the chord from an end is not rounded onto it.  Two arcs
    that meet at ``theta`` at different angles part linearly from it: their
    nodes never coincide to rounding, where a two-point kernel would be
    ``0/0``.  ``U = 3.4`` puts the end nodes ``1e-20`` of the chord from the
    ends, with weights as small: the grid's one-sided ends (``u = -U`` in,
    ``U`` out) cost nothing even where the integrand grows like the inverse
    distance to an atom or an edge next to ``theta``."""

    closed = False
    U = 3.4

    def __init__(self, left, right, alpha):
        self.left, self.right, self.alpha = float(left), float(right), float(alpha)

    @property
    def key(self):
        return ("arc", self.left, self.right, self.alpha)

    def nodes(self, count):
        h = 2 * self.U / count
        u = -self.U + h * np.arange(count)
        x = 0.5 * np.pi * np.sinh(u)
        phi, comp = np.pi / (1 + np.exp(2 * x)), np.pi / (1 + np.exp(-2 * x))     # phi and pi - phi
        dphi = -0.25 * np.pi**2 * np.cosh(u) / np.cosh(x) ** 2
        a = self.alpha
        rho = 0.5 * (self.right - self.left) / np.sin(a)
        near_right = phi < comp
        d = np.where(near_right, phi, comp) * (2 * a / np.pi)        # the angle from the nearer end
        step = -2 * np.sin(0.5 * d) ** 2 + 1j * np.sin(d)             # e^{i d} - 1 without cancellation
        start = np.where(near_right, self.right, self.left)
        turn = np.where(near_right, np.exp(1j * (0.5 * np.pi - a)), np.exp(1j * (0.5 * np.pi + a)))
        z = start + rho * turn * np.where(near_right, step, np.conj(step))
        psi = 0.5 * np.pi - a + (2 * a / np.pi) * phi
        dz = 1j * rho * np.exp(1j * psi) * (2 * a / np.pi) * dphi
        # u runs from -U (phi = pi, the left end) to U (the right end): the
        # counter-clockwise upper arc runs the other way
        return z, -dz * h / (2j * np.pi)


class _Descending:
    """A contour solver whose continuations from the far field descend
    vertically (:func:`~freeprob.models._contour_nodes.vertical_ladder`):
    the arcs' nodes lie as close as ``1e-20`` to the bulk, where a ray from
    the far field can jump a branch.  Everything else is the solver's own."""

    LADDERS = ((vertical_ladder, 10), (vertical_ladder, 40))

    def __init__(self, law):
        self._law = law

    def __getattr__(self, name):
        return getattr(self._law, name)


def _closed(arc, solved, count):
    """Nodes, weights and ``(kappa, D, D_w)`` of the closed contour: the
    upper arc's ``count`` solved nodes and their mirror images below
    (``kappa(-conj z) = conj kappa(-z)``; the weights of ``(1/2 pi i) oint``
    are conjugated too)."""
    z, w = arc.nodes(count)
    k, m, mw = (a[:: a.size // count] for a in solved[:3])
    join = lambda a: np.concatenate([a, np.conj(a)])  # noqa: E731
    return join(z), join(w), join(k), join(m), join(mw)


def _kept(theta, *arrays):
    """The nodes of a closed contour that a two-point sum uses: those at
    least ``1e-13 theta`` from the crossing point ``theta`` (the first array
    holds the nodes).  Nearer ones, at the tanh-sinh ends, would meet the
    other contour's to rounding (their ``kappa`` equal in float64), where
    the kernel's divided difference, removable there, is ``0/0``; the pairs
    dropped lie in a strip of width ``1e-13 theta`` at the kernel's
    integrable ``1/|z - z'|`` corner and carry ``O(1e-13 log(1e13))`` of
    the sum (the one-point sums keep every node)."""
    keep = np.abs(arrays[0] - theta) >= 1e-13 * theta
    return tuple(a[keep] for a in arrays)


def _settled(prev, cur, tol, extra=()):
    """Two node counts agree: each key to ``tol`` of itself, or of ``1e-6``
    of its scale (1 for ``df1``, the sum of the error terms for the others;
    a key a million times below the learning curve needs no more)."""
    scale = sum(np.abs(cur[k]) for k in ("bias2", "var_X", "var_X_noise", "Etr_bias"))
    for key in ("df1", "bias2", "var_X", "var_X_noise", "Etr_bias", "Etr_noise") + tuple(extra):
        ref = 1.0 if key in ("df1", "Etr_noise", NOISE_KEY) else scale
        if np.any(np.abs(prev[key] - cur[key]) > tol * np.maximum(np.abs(cur[key]), 1e-6 * ref)):
            return False
    return True


def cutoff_keys(law, theta, q, s2, upper, *, tol=1e-10, max_nodes=4096):
    """Every key of :data:`SPECTRAL_KEYS` of principal-component regression
    at the thresholds ``theta`` (flat array) for the linear problem of
    ``law`` (a solver of the contour route) at ratio ``q`` and noise ``s2``,
    its sample spectrum in ``[0, upper]`` (see the module).  Each arc is
    continued from the far field, never from another arc's states: Newton
    from a distant contour's states can land on a root that passes the
    Herglotz certificate off the physical branch."""
    from freeprob.models.spectral import _kernels, _one_point

    one, exact, two = _kernels()
    law = _Descending(law)
    theta, s2 = np.asarray(theta, dtype=float), np.asarray(s2, dtype=float)
    noise = NOISE_KEY in keys_of(law)
    extra = (NOISE_KEY,) if noise else ()
    out = {key: np.empty(theta.shape) for key in SPECTRAL_KEYS + extra}
    hi = upper * (1 + 1e-9) + 1e-300
    for th in np.unique(theta):
        sel = theta == th
        # Gamma^- around [0, theta] on the scale of theta, Gamma^+ around [theta, upper]
        # (inner arcs meet the axis at pi/3, inside the outer half-circles)
        right = max(hi, th) + 0.25 * max(hi - th, th)
        arcs = {"lo_in": _Arc(-0.25 * th, th, np.pi / 3), "lo_out": _Arc(-0.5 * th, th, np.pi / 2),
                "hi_out": _Arc(th, right, np.pi / 2)}
        if noise:
            # the declared noise kernel weighs f(z) f(z'): Gamma^+ twice
            arcs["hi_in"] = _Arc(th, right - 0.125 * max(hi - th, th), np.pi / 3)
        states, prev, count = {}, None, 32
        while True:
            for name, arc in arcs.items():
                if name not in states:
                    states[name] = _seed(law, q, arc)
                while states[name][0].size < count:
                    states[name] = _refine(law, q, arc, states[name])
            zl, wl, kl, ml, mwl = _closed(arcs["lo_out"], states["lo_out"], count)
            zh, wh, kh, mh, mwh = _closed(arcs["hi_out"], states["hi_out"], count)
            z, w = np.concatenate([zl, zh]), np.concatenate([wl, wh])
            k, m, mw = np.concatenate([kl, kh]), np.concatenate([ml, mh]), np.concatenate([mwl, mwh])
            below = np.arange(z.size) < zl.size
            # f, h, r on each side of theta
            fvals = [np.where(below, 0.0, 1 / z)[None, :], np.where(below, 0.0, 1.0)[None, :].astype(complex),
                     np.where(below, 1.0, 0.0)[None, :].astype(complex)]
            cur = {}
            for key, unit in (("df1", 0.0), ("var_X_noise", 1.0), ("Etr_bias", 0.0), ("Etr_noise", 1.0)):
                v, mag = _one_point(one[key], fvals, z, k, m, mw, q, unit, law.wnorm2, w)
                cur[key], cur["|" + key + "|"] = v + exact[key](q, unit, law.wnorm2), mag
            zi, wi, ki, mi, mwi = _kept(th, *_closed(arcs["lo_in"], states["lo_in"], count))
            zo, wo, ko, mo, mwo = _kept(th, zl, wl, kl, ml, mwl)
            args = (zi[:, None], zo[None, :], ki[:, None], ko[None, :], mi[:, None], mo[None, :],
                    mwi[:, None], mwo[None, :], q, law.wnorm2)
            (cur["bias2"], cur["|bias2|"]), (cur["var_X"], cur["|var_X|"]) = _two_point(
                two, args, wi[None, :], wo[None, :])
            if noise:
                za, wa, ka, ma, _ = _kept(th, *_closed(arcs["hi_in"], states["hi_in"], count))
                zb, wb, kb, mb, _ = _kept(th, zh, wh, kh, mh, mwh)
                cur[NOISE_KEY], cur["|" + NOISE_KEY + "|"] = noise_two_point(
                    law, ka, kb, ma, mb, q, (wa / za)[None, :], (wb / zb)[None, :])
            if prev is not None and _settled(prev, cur, tol, extra):
                break
            if 2 * count > max_nodes:
                raise ConvergenceError(f"the cutoff's contour quadrature at threshold {th:.6g} did not reach "
                                       f"{tol:g} with {count} nodes per arc")
            prev, count = cur, 2 * count
        res = _certify_real(cur, count, ("df1", "bias2", "var_X", "var_X_noise", "Etr_bias", "Etr_noise") + extra,
                            law.sum_floor)
        out["df1"][sel] = res["df1"][0]
        out["bias2"][sel] = res["bias2"][0]
        out["var_X"][sel] = res["var_X"][0]
        out["var_X_noise"][sel] = res["var_X_noise"][0] * s2[sel]
        # E_tr = Etr_bias + sigma^2 (1 + Etr_noise per unit noise)
        out["Etr"][sel] = res["Etr_bias"][0] + s2[sel] * (1 + res["Etr_noise"][0])
        out["Eg"][sel] = out["bias2"][sel] + out["var_X"][sel] + out["var_X_noise"][sel]
        if noise:
            out[NOISE_KEY][sel] = res[NOISE_KEY][0]
    return out
