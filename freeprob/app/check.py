r"""Checks of a spectral law against the transform relations (public helpers).

Each check computes a quantity by two routes and reports the residual and the
tolerance it is held to, with the reason for that tolerance.  ``freeprob
check`` runs them over the catalogue; the test suite runs them over a table
of laws and adds independent routes (known tables, Monte Carlo).

>>> import freeprob
>>> from freeprob.app.check import run_checks
>>> all(r.status != "FAIL" for r in run_checks(freeprob.Semicircle()))
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import NoClosedFormError, TransformNotDefinedError
from freeprob.numeric.compile import compile_expr

__all__ = ["CheckResult", "run_checks", "sample_points", "moments_by_quadrature"]


@dataclass(frozen=True)
class CheckResult:
    """One check: what was compared, the residual, the tolerance and why."""

    law: str
    check: str
    passed: bool
    residual: float
    tolerance: float
    note: str = ""
    skipped: bool = False

    @property
    def status(self) -> str:
        """``"ok"``, ``"FAIL"`` or ``"skip"`` (a skipped check is not a pass)."""
        return "skip" if self.skipped else ("ok" if self.passed else "FAIL")

    def row(self) -> str:
        status = self.status
        res = "-" if self.skipped else f"{self.residual:.1e}"
        return f"{self.law:<44} {self.check:<28} {status:<5} {res:>8}  (tol {self.tolerance:.0e}) {self.note}"


def sample_points(law, rng: np.random.Generator, n: int = 12) -> np.ndarray:
    """Points off the support: the upper half plane at the law's scale, the
    negative axis left of the support, and far out."""
    radius = max(law._numeric_radius(), 1.0)
    upper = (rng.uniform(-2, 2, n) + 1j * rng.uniform(0.2, 2, n)) * radius
    sup = [a for a, _ in law._ac_intervals()] + [float(np.real(p)) for p in law._atom_points()[:100]]
    left = min(sup) if sup else 0.0
    neg = left - radius * rng.uniform(0.5, 3, n // 2)
    far = np.array([1e4 * radius * (1 + 1j), -1e5 * radius])
    return np.concatenate([upper, neg.astype(complex), far])


def _result(law, check, residual, tol, note=""):
    return CheckResult(repr(law)[:44], check, bool(residual <= tol), float(residual), tol, note)


def _skip(law, check, note):
    return CheckResult(repr(law)[:44], check, False, float("nan"), 0.0, f"skipped: {note}", skipped=True)


def _r_inverts_g(law, rng):
    # R(g(z)) + 1/g(z) = z  [C8].  R is a germ at w = 0, so the identity holds
    # where g(z) is small: |z| beyond 4x the spectral radius (on other sheets
    # the radicals of R need not match).  Tolerance: float64 evaluation of two
    # composed closed forms, relative to |z|.
    try:
        r_expr = law.r_transform(C.w)
    except NoClosedFormError as exc:
        return _skip(law, "R(g(z)) + 1/g(z) = z", str(exc)[:40])
    radius = 4 * max(law._numeric_radius(), 1.0)
    theta = rng.uniform(0.05, np.pi - 0.05, 16)
    zs = np.concatenate([radius * rng.uniform(1, 3, 16) * np.exp(1j * theta), [1e4 * radius * (1 + 1j)]])
    g = law.stieltjes_numeric(zs)
    r = compile_expr(r_expr, (C.w,), dtype=complex)(g)
    res = np.max(np.abs(r + 1 / g - zs) / np.abs(zs))
    return _result(law, "R(g(z)) + 1/g(z) = z", res, 1e-9)


def _s_psi_chi(law):
    # psi(chi(t)) = t with chi = t S(t)/(1 + t)  [C9], at small real t where
    # the series of chi converges; the same tolerance reasoning as above.
    try:
        s_expr = law.s_transform(C.t)
    except (NoClosedFormError, TransformNotDefinedError) as exc:
        return _skip(law, "psi(chi(t)) = t", str(exc)[:40])
    ts = np.array([-0.05, -0.02, 0.01, 0.03]) / max(1.0, abs(float(sp.N(law.moments(1)[0]))))
    chi = compile_expr(s_expr * C.t / (1 + C.t), (C.t,), dtype=complex)(ts.astype(complex))
    zs = 1 / chi
    g = law.stieltjes_numeric(zs + 1e-300j)
    psi = zs * g - 1  # t(1/u) with u = chi  [C5]
    res = np.max(np.abs(psi - ts) / np.abs(ts))
    return _result(law, "psi(chi(t)) = t", res, 1e-9)


def _density_callable(law):
    """(density on float arrays, closed?) -- the closed form when one exists
    (integrated by mpmath tanh-sinh), else the numeric density."""
    try:
        dens = compile_expr(law.density(C.x), (C.x,), backend="mpmath")
        return dens, True
    except NoClosedFormError:
        return law.density_numeric, False


@functools.lru_cache(maxsize=4)
def _gauss_nodes(nodes):
    """Gauss-Legendre nodes and weights on ``[0, pi]`` (an O(nodes^3)
    eigenproblem: computed once)."""
    th, wt = np.polynomial.legendre.leggauss(nodes)
    return (th + 1) * np.pi / 2, wt * np.pi / 2


def _gauss_cos(law, k, nodes=2000):
    """``int x^k rho(x) dx`` over the continuous part with the numeric density:
    Gauss-Legendre in ``th`` after ``x = a + (b - a)(1 - cos th)/2`` (absorbs
    square-root edges)."""
    th, wt = _gauss_nodes(nodes)
    total = 0.0
    for a, b in law._ac_intervals():
        xs = a + (b - a) * (1 - np.cos(th)) / 2
        total += float(np.sum(wt * xs**k * law.density_numeric(xs) * (b - a) * np.sin(th) / 2))
    return total


def _mp_intervals(law, dps):
    """The support intervals at ``dps`` digits: from the exact sympy support
    when it has exact edges (a float edge a few ulps inside or outside the
    support puts a 1/sqrt edge singularity into the quadrature), else the
    float intervals."""
    sup = law.support()
    parts = [p for p in (sup.args if isinstance(sup, sp.Union) else (sup,)) if isinstance(p, sp.Interval)]
    if parts and all(p.start.is_number and p.end.is_number for p in parts):
        return [(mpmath.mpf(sp.N(p.start, dps + 5)), mpmath.mpf(sp.N(p.end, dps + 5))) for p in parts]
    return [(mpmath.mpf(a), mpmath.mpf(b)) for a, b in law._ac_intervals()]


def moments_by_quadrature(law, n: int, dps: int = 20) -> list:
    """Moments ``int x^k rho(x) dx + sum atoms``: tanh-sinh quadrature of the
    closed-form density (mpmath), or Gauss-Legendre on the numeric density of
    a law known through its curve; an independent route to ``moments``."""
    dens, closed = _density_callable(law)
    out = []
    with mpmath.workdps(dps):
        for k in range(1, n + 1):
            total = mpmath.mpf(0)
            if closed:
                for a, b in _mp_intervals(law, dps):
                    total += mpmath.quad(lambda v: v**k * dens(v, dps=dps)[()], [a, b])
            if not closed:
                total += mpmath.mpf(_gauss_cos(law, k))
            for loc, m in law.atoms():
                total += mpmath.mpf(sp.N(loc, dps)) ** k * mpmath.mpf(sp.N(m, dps))
            out.append(total)
    return out


def _moments_vs_quadrature(law, n=6):
    # closed densities: tanh-sinh at 20 digits on sqrt-type edges is accurate
    # to ~1e-15, tolerance 1e-10 leaves slack for 1/sqrt(x) edges (MP, q = 1);
    # numeric densities (subordination at height 1e-12 (1 + R), polished on
    # the curve): next to a 1/sqrt edge the first Gauss nodes sit ~1e-7 from
    # the edge where that height biases the density by ~1e-5 relative: 1e-5
    try:
        exact = [complex(sp.N(m)) for m in law.moments(n)]
        if not law._ac_intervals():
            return _skip(law, "moments = quadrature", "no continuous part")
        closed = _density_callable(law)[1]
        quad = [complex(v) for v in moments_by_quadrature(law, n)]
    except NoClosedFormError as exc:
        return _skip(law, "moments = quadrature", str(exc)[:40])
    res = max(abs(a - b) / max(1.0, abs(a)) for a, b in zip(exact, quad))
    return _result(law, "moments = quadrature", res, 1e-10 if closed else 1e-5)


def _mass(law):
    # density integrates to 1 - sum(atoms); same tolerances as above
    if not law._ac_intervals():
        if law.finite_spectrum is not None:
            # the weights of an atomic law are validated to sum to 1 when it
            # is built: comparing them with 1 again could not fail
            return _skip(law, "total mass = 1", "atomic law (weights validated at construction)")
        # float64 sum of n atom masses from the law's own atoms(): error <= n eps
        vals = law._atom_points()
        return _result(law, "total mass = 1", abs(law._total_atom_mass() - 1), 1e-15 * max(1, vals.size))
    dens, closed = _density_callable(law)
    if closed:
        with mpmath.workdps(20):
            total = sum(mpmath.quad(lambda v: dens(v, dps=20)[()], [a, b]) for a, b in _mp_intervals(law, 20))
    else:
        total = _gauss_cos(law, 0)
    return _result(law, "total mass = 1", abs(float(total) + law._total_atom_mass() - 1), 1e-10 if closed else 1e-5)


def _moment_routes(law, n=6):
    # every available exact route gives the same moments (exact equality)
    from freeprob.laws._routes import ROUTES

    values = {}
    for route in ROUTES["moments"]:
        try:
            values[route] = law.moments(n, method=route)
        except NoClosedFormError:
            continue
    if len(values) < 2:
        return _skip(law, "moment routes agree", f"only {list(values)} available")
    ref = next(iter(values.values()))
    res = 0.0
    for v in values.values():
        for a, b in zip(ref, v):
            d = sp.simplify(a - b)
            res = max(res, abs(complex(sp.N(d))) if d.is_number else float("inf"))
    return _result(law, "moment routes agree", res, 1e-12, "+".join(values))


def _herglotz_and_df(law, rng):
    # Herglotz sign is certified inside stieltjes_numeric; df1 of a positive
    # law decreases from rank to 0 on lam > 0 and stays in [0, 1].
    zs = sample_points(law, rng)
    law.stieltjes_numeric(zs)
    if law._numeric_hull()[0] < 0:
        return _skip(law, "df1 monotone in [0, 1]", "law is not positive")
    lam = np.logspace(-6, 6, 200)
    d = law.df1_numeric(lam)
    viol = max(0.0, float(np.max(np.diff(d))), float(-np.min(d)), float(np.max(d) - 1))
    return _result(law, "df1 monotone in [0, 1]", viol, 1e-14)


def _g_by_direct_sum(law, rng):
    # atomic laws: the compiled g(z) (float64, blockwise, fused) against the
    # plain sum p_k/(z - eta_k) [C4], an independent code path: in mpmath at
    # 30 digits up to 2000 atoms (tolerance 1e-13: float64 sums of n terms,
    # cancellation-free off the support), else a numpy pairwise sum (relative
    # error ~ eps log2 n: tolerance 1e-12)
    spec = law.finite_spectrum
    if spec is None:
        return _skip(law, "g = sum of atoms", "not an atomic law")
    if spec.size is sp.oo or int(spec.size) > 10**5:
        return _skip(law, "g = sum of atoms", f"{spec.size} atoms: the Euler-Maclaurin route")
    vals, wts = spec.numeric_atoms()
    wts = np.full(vals.size, 1.0 / vals.size) if wts is None else wts
    zs = sample_points(law, rng, n=6)
    got = law.stieltjes_numeric(zs)
    res = 0.0
    if vals.size <= 2000:
        with mpmath.workdps(30):
            for z, g in zip(zs, got):
                ref = mpmath.fsum(mpmath.mpf(float(p)) / (mpmath.mpc(z) - mpmath.mpf(float(v)))
                                  for v, p in zip(vals, wts))
                res = max(res, float(abs(mpmath.mpc(g) - ref) / abs(ref)))
        return _result(law, "g = sum of atoms (mpmath)", res, 1e-13)
    for z, g in zip(zs, got):
        ref = np.sum(wts / (z - vals))
        res = max(res, float(abs(g - ref) / abs(ref)))
    return _result(law, "g = sum of atoms (numpy)", res, 1e-12)


def run_checks(law, seed: int = 0) -> list[CheckResult]:
    """All identity checks for one law with numeric parameters.  A law whose
    checks are all skipped gets a failing row: it has no independent check."""
    rng = np.random.default_rng(seed)
    out = [
        _r_inverts_g(law, rng),
        _s_psi_chi(law),
        _moment_routes(law),
        _moments_vs_quadrature(law),
        _mass(law),
        _herglotz_and_df(law, rng),
        _g_by_direct_sum(law, rng),
    ]
    independent = [r for r in out if not r.skipped and r.check != "df1 monotone in [0, 1]"]
    if not independent:
        out.append(CheckResult(repr(law)[:44], "an independent check", False, float("inf"), 0.0,
                               "every comparison with another route was skipped"))
    return out
