"""Solving ``kappa(-z)`` at the nodes of a contour of the spectral route
[C18], for any solver of the protocol of
:class:`freeprob.models._spectral_numeric._Law` (``start``, ``newton``,
``finish``, ``target``, ``LADDERS``, ``solved``): the ladders from the far
field, Newton on many points at once, the first 32 nodes of a contour
(seeded from a neighbouring contour, from the nodes solved before, or from
the far field), their doubling, and the certificate of a node's residual.
Each solved node is certified on the physical branch by the solver's
``finish``; nothing here guesses a branch."""

from __future__ import annotations

import numpy as np

from freeprob.errors import BranchError, ConvergenceError

__all__ = ["ray_ladder", "vertical_ladder", "newton_loop", "certify_node", "EPS_FLOOR"]

#: the floor of a contour sum relative to the sum of its |terms| when the node
#: values are exact to rounding (a solver's ``sum_floor``)
EPS_FLOOR = 64 * np.finfo(float).eps


def ray_ladder(z, steps):
    """The points of a continuation from the far field to ``z``: along rays
    from the nodes' mean real part (outside the spectrum from far away),
    ``steps`` geometric steps of ``s`` in ``centre + s (z - centre)``.  A
    node at the centre (a real node continued alone: the vertex of a
    parabola) has no ray: the nodes then descend as in
    :func:`vertical_ladder`."""
    centre = np.mean(z.real)
    scale = np.abs(z - centre)
    if not scale.min() > 0:
        yield from vertical_ladder(z, steps)
        return
    for s in np.geomspace(1e4 * (scale.max() + 1) / scale.min(), 1.0, steps):
        yield centre + s * (z - centre)


def vertical_ladder(z, steps):
    """As :func:`ray_ladder`, but every node descends vertically from far
    above (below) it: a node off the real axis along ``Re z + i h sgn(Im z)``
    with ``h`` falling geometrically (ratio ``1 + 4/steps``) to ``|Im z|``,
    a node on the real axis (outside the spectrum, perhaps next to its
    edge) to ``1e-10`` of the contour's scale, then onto the axis.  Each
    step moves a node by a fixed fraction of its distance to the real axis,
    which bounds its distance to the branch points of the spectrum: no
    jump however close the node lies to the spectrum or to its edge."""
    z = np.asarray(z, dtype=complex)
    centre = np.mean(z.real)
    size = np.abs(z - centre).max() + 1
    off = np.abs(z.imag) > 1e-8 * size      # the ends of an ellipse hold rounding there
    sign = np.where(z.imag < 0, -1.0, 1.0)
    count = int(np.ceil(np.log(1e14) / np.log(1 + 4 / steps)))
    for h in np.geomspace(1e4 * size, 1e-10 * size, count):
        yield z.real + 1j * sign * np.where(off, np.maximum(h, np.abs(z.imag)), h)
    yield z


def _refine(law, q, ell, old):
    """``(kappa, D(kappa), D_w(kappa), state)`` on the doubled grid of
    ``ell``: the even nodes are the old grid ``old``; each odd node starts
    from the cubic interpolation of its neighbours' states (see
    :func:`_solve_kappa` for the nodes it does not bring to convergence)."""
    k_old, m_old, mw_old, s_old = old
    z, _ = ell.nodes(2 * k_old.size)
    share = getattr(ell, "shared", True)
    k, m, mw = (np.empty(z.size, dtype=complex) for _ in range(3))
    st = np.empty((z.size,) + s_old.shape[1:], dtype=complex)     # a node's state may be a tuple
    k[0::2], m[0::2], mw[0::2], st[0::2] = k_old, m_old, mw_old, s_old
    # cubic interpolation from four neighbours (closed contour: periodic;
    # open: the ends extrapolated linearly): Newton then needs a step or two
    if ell.closed:
        ext = np.concatenate([s_old[-1:], s_old, s_old[:2]])
    else:
        ext = np.concatenate([2 * s_old[:1] - s_old[1:2], s_old, 2 * s_old[-1:] - s_old[-2:-1],
                              3 * s_old[-1:] - 2 * s_old[-2:-1]])
    guess = (9 * (ext[1:-2] + ext[2:-1]) - (ext[:-3] + ext[3:])) / 16
    try:
        k[1::2], m[1::2], st[1::2] = _solve_kappa(law, q, z[1::2], guess, share=share)
    except (ConvergenceError, BranchError):
        k[1::2], m[1::2], st[1::2] = _solve_kappa(law, q, z[1::2], share=share)
    mw[1::2] = law.target(k[1::2], m[1::2], st[1::2])
    return k, m, mw, st


def _seed(law, q, ell, guess=None):
    """``(kappa, D, D_w, state)`` on 32 nodes of ``ell``: Newton from
    ``guess`` (the states at the same nodes of a neighbouring contour) when
    it converges on the physical branch, else continued from infinity."""
    z = ell.nodes(32)[0]
    share = getattr(ell, "shared", True)
    k = None
    if guess is not None:
        try:
            k, m, st = _solve_kappa(law, q, z, guess, share=share)
        except (ConvergenceError, BranchError):
            k = None
    if k is None:
        k, m, st = _solve_kappa(law, q, z, share=share)
    return k, m, law.target(k, m, st), st


def _solve_kappa(law, q, z, guess=None, *, share=True):
    """``kappa(-z)`` at the nodes: ``kappa (1 - q df1(kappa)) = -z``, by the
    law's Newton (:meth:`_Law.newton`) from ``guess`` (a neighbouring node's
    state), else continued from the far field (:meth:`_Law.start`) along rays
    from the ellipse's centre (outside the spectrum); certified by the
    law's :meth:`_Law.finish`.  Returns ``(kappa, D(kappa), state)``; the
    paths from the far field are the law's ``LADDERS``, pairs of a ladder
    (:func:`ray_ladder`, :func:`vertical_ladder`) and its steps, tried in
    turn.

    A law whose states do not depend on ``q`` may keep the states it solved
    in a dict ``solved`` (keyed on the nodes' bytes; ``None``: no memo), shared
    with the views of the same solver (the random features' input-space view
    solves the features' nodes again otherwise): a node set solved before is
    certified again by ``finish``, not solved again.  ``share=False`` keeps
    a contour out of that memo (neither read nor written): gradient
    descent's mapped parabolas, whose nodes had seeded a later ellipse of
    random features onto states it could not converge from."""
    z = np.asarray(z, dtype=complex)
    memo = law.solved if share else None
    key = z.tobytes() if memo is not None else None
    if key is not None and key in memo:
        st = memo[key][1].copy()
        k, d = law.finish(q, st, z)
        return k, d, st
    k = None
    if guess is None and memo:
        # a new contour: continued from the nearest nodes solved before
        # (any contour of this law), else from the far field
        zs = np.concatenate([v[0] for v in memo.values()])
        sts = np.concatenate([v[1] for v in memo.values()])
        try:
            k, d, st = _continue_from(law, q, z, zs, sts, np.ones(z.size, dtype=bool))
        except (ConvergenceError, BranchError):
            k = None
    if k is None:
        k, d, st = _solve_fresh(law, q, z, guess, share)
    if key is not None:
        memo[key] = (z.copy(), st.copy())
    return k, d, st


def _solve_fresh(law, q, z, guess, share=True):
    """:func:`_solve_kappa` without the memo."""
    if guess is not None:
        st, done = law.newton(q, np.asarray(guess, dtype=complex), z, 30)
        try:
            k, d = law.finish(q, st, z)
        except (ConvergenceError, BranchError):
            if done.all() or not done.any():
                raise
            # the nodes that Newton did not bring to convergence from the
            # guess (near a branch point, where the guess is too coarse) are
            # continued from the far field; the others keep their states
            st[~done] = _solve_kappa(law, q, z[~done], share=share)[2]
            k, d = law.finish(q, st, z)
        return k, d, st
    # a continuation that jumped a branch is certified as such (finish
    # raises); then the law's next ladder before giving up.  Where the
    # failure is confined to the nodes that Newton lost (a singular step on
    # the way, a node left unconverged), the next ladder continues those
    # alone and the others keep their states; if that does not certify,
    # the same ladder is run on every node
    plan = [(ladder, steps, None) for ladder, steps in law.LADDERS]
    kept = err = None
    while plan:
        ladder, steps, todo = plan.pop(0)
        zt = z if todo is None else z[todo]
        st = None
        for zz in ladder(zt, steps):
            st, _ = law.newton(q, law.start(zz) if st is None else st, zz, 12)
        st, done = law.newton(q, st, zt, 30)
        if todo is not None:
            st, part = kept.copy(), st
            st[todo] = part
        try:
            k, d = law.finish(q, st, z)
            return k, d, st
        except (ConvergenceError, BranchError) as exc:
            err = exc
        if todo is not None:
            continue                    # next in the plan: the same ladder on every node
        lost = ~done | ~np.isfinite(st).reshape(z.size, -1).all(axis=1)
        if lost.any() and not lost.all():
            kept = st
            try:
                return _continue_from(law, q, z, z[~lost], st[~lost], lost, st)
            except (ConvergenceError, BranchError):
                pass
            if plan:
                plan.insert(0, plan[0][:2] + (np.flatnonzero(lost),))
    raise err


def _continue_from(law, q, z, zs, sts, which, st=None):
    """The nodes ``z[which]`` continued from their nearest neighbours among
    the nodes ``zs`` (states ``sts``, converged) in the same closed
    half-plane, along the segment between them in 8 steps; the other nodes
    keep their states ``st``.  The segment stays in that half-plane, where
    the physical branch is analytic (the spectrum is on the real axis, and
    a solved node on it lies outside the spectrum), and each step moves a
    node by an eighth of its distance to the neighbour; ``finish``
    certifies every node.  Two nodes on the real axis (to ``1e-8`` of their
    size: a contour's ends hold rounding there) are never paired: the
    segment between them may cross the spectrum."""
    idx = np.flatnonzero(which)
    za = z[idx]
    apart = np.abs(za[:, None] - zs[None, :])
    apart[(za.imag[:, None] * zs.imag[None, :]) < 0] = np.inf
    on_a, on_s = np.abs(za.imag) <= 1e-8 * np.abs(za), np.abs(zs.imag) <= 1e-8 * np.abs(zs)
    apart[on_a[:, None] & on_s[None, :]] = np.inf
    near = np.argmin(apart, axis=1)
    if not np.all(np.isfinite(apart[np.arange(idx.size), near])):
        raise ConvergenceError("a node has no solved neighbour in its half-plane")
    z0 = zs[near]
    cur = sts[near].copy()
    for s in np.linspace(0.125, 1.0, 8):
        cur, _ = law.newton(q, cur, z0 + s * (za - z0), 12)
    out = np.empty((z.size,) + sts.shape[1:], dtype=complex) if st is None else st.copy()
    out[idx] = cur
    k, d = law.finish(q, out, z)
    return k, d, out


def newton_loop(step, state, iters):
    """Newton on many points at once: ``step(s, idx)`` is the step at the
    states ``s`` of the points ``idx`` (one state per point, or one row of
    several per point); each point stops once its step is below ``4 eps |s|``
    in every component (the others are not evaluated again).  Returns
    ``(states, converged)``."""
    s = np.array(state, dtype=complex)
    todo = np.arange(s.shape[0])
    for _ in range(iters):
        old = s[todo]
        delta = step(old, todo)
        s[todo] = old - delta
        small = np.abs(delta) <= 4 * np.finfo(float).eps * np.abs(old)
        lost = ~np.isfinite(s[todo])      # a singular step: not converged, not evaluated again
        if small.ndim > 1:
            small, lost = small.all(axis=1), lost.any(axis=1)
        todo = todo[~small & ~lost]
        if not todo.size:
            break
    done = np.all(np.isfinite(s.reshape(s.shape[0], -1)), axis=1)
    done[todo] = False
    return s, done


def certify_node(res, size, d, z, rtol=1e-12):
    """Raise unless every node's residual is below ``rtol`` (at least
    ``1e-12``) of the size of its terms and ``g_hat(z) = (1 - D)/z`` has the
    Herglotz sign [C4]; ``rtol`` is the relative resolution of the
    population's means (``_Law.rtol``: coarser for a law known by
    subordination only, whose ``g`` is resolved to about 1e-11)."""
    rtol = max(rtol, 1e-12)
    if np.any(~np.isfinite(res)) or np.any(res > rtol * size):
        raise ConvergenceError(f"kappa(-z) did not converge on the contour (residual {np.nanmax(res / size):.2e} "
                               "of its terms)")
    g = (1 - d) / z
    if np.any(g.imag * z.imag > 1e-12 * np.abs(g)):
        raise BranchError("kappa(-z) left the physical branch on the contour (Herglotz sign of g_hat)")
