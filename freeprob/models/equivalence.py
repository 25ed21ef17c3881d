r"""Deterministic equivalence: the renormalized ridge, derived and solved.

For the empirical covariance ``Sigma_hat = Sigma^{1/2} W Sigma^{1/2}`` with
``W`` free of ``Sigma`` (white Wishart by default, ``q = N/P``), the
S-transform is multiplicative [R2a], ``S_{Sigma_hat} = S_Sigma S_W``.  With the
paper's ``S(df) = (1 - df)/(df lambda(df))`` [C10] (``lambda(df)`` the inverse
of ``df1``), at ``df = df1_{Sigma_hat}(lam)``:

.. math::
    \lambda = \lambda_{\hat\Sigma}(\mathrm{df}) = \frac{\lambda_\Sigma(\mathrm{df})}{S_W(\mathrm{df})}
    \quad\Longrightarrow\quad
    \kappa \equiv \lambda_\Sigma(\mathrm{df}) = \lambda\, S_W\big(\mathrm{df}^1_\Sigma(\kappa)\big)
    \qquad [R3],

so ``df1_{Sigma_hat}(lam) = df1_Sigma(kappa)``: the fluctuations of
``Sigma_hat`` are absorbed into the renormalized ridge.  The map
``kappa -> lam(kappa) = kappa / S_W(df1_Sigma(kappa))`` is explicit; for the
white Wishart ``lam(kappa) = kappa (1 - q df1(kappa))`` with
``d lam/d kappa = 1 - gamma``, ``gamma = q df2(kappa)`` [R4].

:meth:`DeterministicEquivalent.solve` inverts it numerically: ``F(kappa) =
kappa (1 - q df1(kappa)) - lam`` is convex and increasing beyond ``kappa_0``
(the largest zero of ``1 - q df1``, 0 when ``q rank <= 1``), so Newton's
method started at the upper bound ``kappa = lam + q m_1`` (where ``F >= 0``)
descends monotonically to the root without overshooting; every point is
bracketed, vectorized, and checked; ``lam = 0`` returns ``kappa_0`` exactly.
Failure raises :class:`~freeprob.errors.ConvergenceError`.

>>> import freeprob, numpy as np
>>> deq = freeprob.deterministic_equivalent(freeprob.Identity(1), ratio=freeprob.conventions.q)
>>> deq.kappa_equation()
Eq(kappa, lambda/(-q/(kappa + 1) + 1))
>>> kappa = freeprob.deterministic_equivalent(freeprob.Identity(1), ratio=2).solve(np.array([0.0, 1.0]))
>>> kappa.round(12)            # q - 1 at lam = 0; 1 + sqrt(2) at lam = 1 [R9]
array([1.        , 2.41421356])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from freeprob import conventions as C
from freeprob.errors import ConvergenceError, NoClosedFormError, ParameterError
from freeprob.laws import MarchenkoPastur, SpectralLaw
from freeprob.numeric.cache import cached
from freeprob.numeric.solve import expand_upper, hermite, invert_increasing
from freeprob.numeric.spectrum import SpectralMean
from freeprob.parameters import instance, positive, positive_integer, real_array

__all__ = ["DeterministicEquivalent", "deterministic_equivalent"]


@dataclass(frozen=True)
class Step:
    """One recorded derivation step: a relation, why it holds, where from."""

    relation: sp.Basic
    justification: str
    reference: str


@dataclass(frozen=True)
class DeterministicEquivalent:
    """The renormalized-ridge equivalent of ``Sigma^{1/2} W Sigma^{1/2}``
    (see the module docstring); build it with :func:`deterministic_equivalent`."""

    population: SpectralLaw
    noise: SpectralLaw

    def __post_init__(self):
        instance("population", self.population, SpectralLaw, "a spectral law (freeprob.MarchenkoPastur, ...)")
        instance("noise", self.noise, SpectralLaw, "a spectral law (freeprob.MarchenkoPastur, ...)")

    def replace(self, **changes) -> "DeterministicEquivalent":
        """A new equivalent with ``population`` and/or ``noise`` changed (frozen, as the models)."""
        bad = set(changes) - {"population", "noise"}
        if bad:
            name = sorted(bad)[0]
            raise ParameterError(name, changes[name], "population or noise")
        return deterministic_equivalent(changes.get("population", self.population),
                                        changes.get("noise", self.noise))

    # ------------------------------------------------------------ symbolic
    def s_noise(self, df=C.df):
        """``S_W(df)`` in the paper's convention [C10]."""
        return self.noise.s_transform(df, convention="df")

    def ridge_of_kappa(self, kappa=C.kappa):
        r"""The explicit map ``lam(kappa) = kappa / S_W(df1_Sigma(kappa))``."""
        kappa = C.as_expr(kappa, "kappa")
        return kappa / self.s_noise(C.df).subs(C.df, self.population.df1(kappa))

    def kappa_equation(self, lam=C.lam, kappa=C.kappa) -> sp.Eq:
        """``kappa = lam S_W(df1_Sigma(kappa))`` [R3]."""
        lam, kappa = C.as_expr(lam, "lam"), C.as_expr(kappa, "kappa")
        return sp.Eq(kappa, lam * self.s_noise(C.df).subs(C.df, self.population.df1(kappa)))

    def steps(self) -> tuple:
        """The derivation of :meth:`kappa_equation`, step by step."""
        d = C.df
        lam_hat, lam_sig = sp.Function(r"\lambda_{\hat\Sigma}"), sp.Function(r"\lambda_{\Sigma}")
        s_hat, s_sig, s_w = sp.Function(r"S_{\hat\Sigma}"), sp.Function(r"S_{\Sigma}"), sp.Function("S_W")
        return (
            Step(sp.Eq(s_hat(d), s_sig(d) * s_w(d)), "S-transform multiplicativity (free W, Sigma)", "[R2a]"),
            Step(sp.Eq(s_hat(d), (1 - d) / (d * lam_hat(d))), "S(df) = (1 - df)/(df lambda(df))", "[C10]"),
            Step(sp.Eq(lam_hat(d), lam_sig(d) / s_w(d)), "divide the two forms of S_Sigma_hat", "[C10]"),
            Step(sp.Eq(C.kappa, C.lam * s_w(d)), "define kappa = lambda_Sigma(df) at df = df1_Sigma_hat(lam)",
                 "[R3]"),
            Step(sp.Eq(s_w(d), self.s_noise(d)), "S-transform of the noise law", "[R1]"),
            Step(self.kappa_equation(), "df = df1_Sigma(kappa)", "[R3]"),
        )

    def derivative_identity(self) -> sp.Expr:
        r"""``d lam/d kappa - (1 - gamma)`` with ``gamma = q df2(kappa)``
        (white Wishart noise); zero identically [R4]."""
        q = self._ratio()
        lam = self.ridge_of_kappa(C.kappa)
        gamma = q * self.population.df2(C.kappa)
        from freeprob.numeric.spectrum import SpectralMean, absorb_means

        diff = sp.diff(lam, C.kappa) - (1 - gamma)
        if diff.atoms(SpectralMean):
            diff = absorb_means(sp.expand(diff))
            return sp.simplify(diff.summand) if isinstance(diff, SpectralMean) else sp.simplify(diff)
        return sp.simplify(diff)

    def two_point_equivalents(self) -> tuple:
        r"""The second-order (two-point) equivalents of [R5] as matrix
        relations (white Wishart noise, ``gamma = q df2_Sigma(kappa)``,
        ``Tr/P = q tr``), each a :class:`Step`:

        .. math::
            \lambda^2(\hat\Sigma+\lambda)^{-1}A(\hat\Sigma+\lambda)^{-1} \simeq
            \kappa^2(\Sigma+\kappa)^{-1}A(\Sigma+\kappa)^{-1}
            + \frac{\kappa^2}{1-\gamma}\frac{\mathrm{Tr}[A\Sigma(\Sigma+\kappa)^{-2}]}{P}\Sigma(\Sigma+\kappa)^{-2},

        the trace form ``Tr[Sigma_hat (Sigma_hat + lam)^-1 A (Sigma_hat + lam)^-1]/P``
        and ``Sigma_hat (Sigma_hat + lam)^-2 ~ Sigma (Sigma + kappa)^-2/(1 - gamma)``
        (``d/d lam`` of [R3] with ``d kappa/d lam = 1/(1 - gamma)`` [R4]).
        Scalar versions that can be evaluated: :meth:`two_point_trace`.

        >>> import freeprob
        >>> steps = freeprob.deterministic_equivalent(freeprob.Identity(1)).two_point_equivalents()
        >>> [s.reference for s in steps]
        ['[R5]', '[R5]', '[R5]']
        """
        self._ratio()
        n, p = sp.Symbol("N", positive=True), sp.Symbol("P", positive=True)
        sh, sg, a = (sp.MatrixSymbol(name, n, n) for name in (r"\hat{\Sigma}", r"\Sigma", "A"))
        eye = sp.Identity(n)
        lam, k, gam = C.lam, C.kappa, sp.Symbol(r"\gamma")
        rh, rs = sp.Inverse(sh + lam * eye), sp.Inverse(sg + k * eye)
        two = sp.Trace(a * sg * rs * rs) / p
        return (
            Step(sp.Eq(lam**2 * rh * a * rh, k**2 * rs * a * rs + k**2 / (1 - gam) * two * sg * rs * rs,
                       evaluate=False),
                 "differentiate the one-point equivalent in a source added to Sigma; d kappa/d lam = 1/(1 - gamma)",
                 "[R5]"),
            Step(sp.Eq(sp.Trace(sh * rh * a * rh) / p, two / (1 - gam), evaluate=False),
                 "trace of the first relation against Sigma_hat/lam^2", "[R5]"),
            Step(sp.Eq(sh * rh * rh, sg * rs * rs / (1 - gam), evaluate=False),
                 "d/d lam of Sigma_hat (Sigma_hat + lam)^-1 ~ Sigma (Sigma + kappa)^-1 [R3], [R4]", "[R5]"),
        )

    def two_point_trace(self, kind: str, a=1, b=1) -> sp.Expr:
        r"""Scalar two-point equivalent for ``A = a(Sigma)``, ``B = b(Sigma)``
        (``a``, ``b`` polynomials in the eigenvalue symbol
        :data:`freeprob.conventions.x`), as an expression in ``kappa``, ``q``:

        ``"sandwich"``: ``tr_N[B lam^2 (Sigma_hat+lam)^-1 A (Sigma_hat+lam)^-1]
        ~ <a b kappa^2/(x+kappa)^2> + kappa^2 q <a x/(x+kappa)^2> <b x/(x+kappa)^2>/(1 - gamma)``;
        ``"trace"``: ``Tr[Sigma_hat (Sigma_hat+lam)^-1 A (Sigma_hat+lam)^-1]/P
        ~ q <a x/(x+kappa)^2>/(1 - gamma)``;
        ``"derivative"``: ``tr_N[B Sigma_hat (Sigma_hat+lam)^-2] ~ <b x/(x+kappa)^2>/(1 - gamma)``;
        ``<.>`` is the population mean ``tr_N`` and ``gamma = q df2_Sigma(kappa)`` [R5].

        >>> import freeprob
        >>> from freeprob.conventions import x
        >>> freeprob.deterministic_equivalent(freeprob.Identity(1)).two_point_trace("trace", a=x)
        -q/(-kappa**2 - 2*kappa + q - 1)

        (``gamma/(1 - gamma)`` with ``gamma = q/(1 + kappa)^2``, as [R5] states for ``A = Sigma``.)
        """
        a, b = C.as_expr(a, "a"), C.as_expr(b, "b")
        q, k = self._ratio(), C.kappa
        x = C.x
        gamma = q * self.population.df2(k)
        mean = lambda f: _expect(self.population, f, x, k)  # noqa: E731
        if kind == "sandwich":
            out = mean(a * b * k**2 / (x + k) ** 2) + \
                k**2 * q * mean(a * x / (x + k) ** 2) * mean(b * x / (x + k) ** 2) / (1 - gamma)
        elif kind == "trace":
            out = q * mean(a * x / (x + k) ** 2) / (1 - gamma)
        elif kind == "derivative":
            out = mean(b * x / (x + k) ** 2) / (1 - gamma)
        else:
            raise ParameterError("kind", kind, "'sandwich', 'trace' or 'derivative'")
        return out if out.atoms(SpectralMean) else sp.factor(sp.cancel(out))

    def _ratio(self):
        if not _is_white(self.noise):
            raise ParameterError("noise", repr(self.noise), "MarchenkoPastur(ratio) (white Wishart)",
                                 "the numeric solver and [R4] are written for white Wishart noise")
        return self.noise.ratio

    # ------------------------------------------------------------- numerics
    def solve(self, lam, ratio=None, *, rtol: float = 1e-14, maxiter: int = 2000):
        r"""``kappa`` at ridge(s) ``lam >= 0`` (arrays broadcast with ``ratio``).

        For white Wishart noise ``ratio`` (q = N/P) overrides the noise
        law's ratio and may be an array.  Any other positive noise law with an
        S-transform (catalogue laws, ``free_mul`` compositions such as
        :class:`~freeprob.laws.WishartProduct`, atomic laws) is solved from
        the same explicit map ``lam(kappa) = kappa/S_W(df1_Sigma(kappa))``,
        compiled from sympy: ``kappa_0`` (the zero of ``1/S_W(df1)``, or 0) is
        the lower end of every bracket, and the safeguarded Newton iteration of
        :func:`~freeprob.numeric.solve.invert_increasing` runs inside it.  Returns
        ``kappa`` with the shape of the broadcast inputs.

        >>> import freeprob
        >>> W = freeprob.WishartProduct([2, 3])     # Sigma_hat = Sigma^1/2 W1 W2 Sigma^1/2
        >>> k = freeprob.deterministic_equivalent(freeprob.Identity(1), W).solve([0.0, 1.0])
        >>> k.round(8)           # kappa_0 = 2: df1 = 1/(1 + kappa) reaches rank W = 1/3
        array([2.        , 4.06064703])
        """
        lam = real_array("lam", lam)
        if np.any(~np.isfinite(lam)) or np.any(lam < 0):
            raise ParameterError("lam", lam[~(np.isfinite(lam) & (lam >= 0))].ravel()[0], "[0, oo)")
        rtol = float(positive("rtol", rtol))
        maxiter = int(positive_integer("maxiter", maxiter))
        if not _is_white(self.noise):
            if ratio is not None:
                raise ParameterError("ratio", ratio, "unset for this noise law",
                                     "the ratio is an override for white Wishart noise only")
            return _solve_general(self.population, self.noise, lam, rtol)
        q0 = self.noise.ratio
        qv = np.asarray(float(q0), dtype=float) if ratio is None else real_array("ratio", ratio)
        if np.any(~np.isfinite(qv)) or np.any(qv <= 0):
            raise ParameterError("ratio", qv[~(np.isfinite(qv) & (qv > 0))].ravel()[0], "(0, oo)")
        self.population._require_numeric("solve")
        lam, qv = np.broadcast_arrays(lam, qv)
        shape = lam.shape
        lam, qv = lam.ravel().astype(float), qv.ravel().astype(float)
        pop = self.population
        rank = pop._trace_rank()
        m1 = pop._trace_mean()

        kappa0 = np.zeros(lam.size)
        over = qv * rank > 1 + 1e-15
        if over.any():
            # kappa_0 depends on q only: once per distinct ratio
            uq, inv = np.unique(qv[over], return_inverse=True)
            kappa0[over] = _kappa_zero(pop, uq, m1, rtol)[inv]
        out = kappa0.copy()
        pos = np.flatnonzero(lam > 0)
        if pos.size:
            out[pos] = _solve_positive(pop, lam[pos], qv[pos], kappa0[pos], m1, rtol, maxiter)
        return out.reshape(shape)


def deterministic_equivalent(population: SpectralLaw, noise: SpectralLaw | None = None, *,
                             ratio=None) -> DeterministicEquivalent:
    """The deterministic equivalent of ``Sigma^{1/2} W Sigma^{1/2}`` for a
    population law ``Sigma`` and a noise law ``W`` (default: white Wishart
    ``MarchenkoPastur(ratio)``, ``ratio = q = N/P``)."""
    if not isinstance(population, SpectralLaw):
        raise ParameterError("population", repr(population), "a freeprob spectral law")
    if noise is None:
        noise = MarchenkoPastur(C.q if ratio is None else ratio)
    elif ratio is not None:
        raise ParameterError("ratio", ratio, "unset when a noise law is given")
    return DeterministicEquivalent(population, noise)


def _expect(law, f, x, k):
    r"""``E f(eta)`` under the population law for ``f`` a Laurent polynomial
    in ``x + kappa`` (polynomial in ``x`` times powers of ``1/(x + kappa)``):
    a spectral mean for atomic laws, otherwise moments and derivatives of
    ``E 1/(x + kappa) = -g(-kappa)`` [C4]:
    ``E (x + kappa)^-j = (-1)^(j-1)/(j-1)! d^(j-1)/d kappa^(j-1) E 1/(x + kappa)``."""
    xd = sp.Dummy("x")
    fd = f.subs(x, xd)
    direct = law._spectral_mean(fd, xd)
    if direct is not None:
        return direct
    y = sp.Dummy("y")
    resolvent = -law.stieltjes(-k)
    moments = {}
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(fd.subs(xd, y - k))):
        coeff, m = term.as_coeff_exponent(y)
        if coeff.has(y) or not m.is_integer:
            raise ParameterError("a, b", f, "polynomials in the eigenvalue symbol x")
        m = int(m)
        if m < 0:
            j = -m
            out += coeff * (-1) ** (j - 1) / sp.factorial(j - 1) * sp.diff(resolvent, k, j - 1)
        else:
            if m not in moments:  # E (x + kappa)^m by the binomial theorem
                ms = [sp.Integer(1)] + list(law.moments(m)) if m else [sp.Integer(1)]
                moments[m] = sum(sp.binomial(m, i) * ms[i] * k ** (m - i) for i in range(m + 1))
            out += coeff * moments[m]
    return out


def _is_white(noise):
    return isinstance(noise, MarchenkoPastur) and noise.scale == 1


def _general_map(pop, noise):
    """Compiled ``kappa -> (lam, lam')`` with ``lam = kappa/S_W(df1_Sigma(kappa))``
    for a numeric noise law ``W`` (from :meth:`DeterministicEquivalent.ridge_of_kappa`)."""
    from freeprob.laws import is_positive_law

    if noise.free_symbols:
        raise ParameterError("noise", repr(noise), "a law with numeric parameters",
                             "substitute values (law.subs(...)) before solving")
    if is_positive_law(noise) is not True:
        raise ParameterError("noise", repr(noise), "a law supported on [0, oo)",
                             "Sigma^1/2 W Sigma^1/2 needs a positive semidefinite W")
    return _general_map_cached(pop, noise)


@cached(maxsize=64)
def _general_map_cached(pop, noise):
    from freeprob.numeric.compile import compile_expr, needs_complex

    lam_k = DeterministicEquivalent(pop, noise).ridge_of_kappa(C.kappa)
    exprs = (lam_k, sp.diff(lam_k, C.kappa))
    cplx = any(needs_complex(e) for e in exprs)
    f = compile_expr(exprs, (C.kappa,), dtype=complex if cplx else float)

    def evaluate(k):
        vals = f(k, finite=False)  # a solver probe: the solver judges the values
        if cplx:
            scale = np.maximum(np.abs(vals[0]), np.abs(k))
            if np.any(np.abs(np.imag(vals[0])) > 1e-8 * scale):
                from freeprob.errors import BranchError

                raise BranchError(f"kappa/S_W(df1) left the real axis at kappa = {k[np.argmax(np.abs(np.imag(vals[0])))]}"
                                  f" for noise {noise!r}: df1 outside the domain of S_W")
        return tuple(np.real(v) for v in vals)

    return evaluate


def _solve_general(pop, noise, lam, rtol):
    r"""``kappa`` for a general noise law.  ``S_W(df)`` is defined for ``df <
    rank W = 1 - W({0})``, where ``1/S_W`` vanishes; on that domain ``g =
    1/S_W(df1_Sigma(kappa))`` increases in ``kappa`` (``S_W`` of a positive
    law decreases in Voiculescu's ``t = -df`` and ``df1_Sigma`` decreases).
    So ``kappa_0`` solves ``df1_Sigma(kappa_0) = rank W`` when ``rank Sigma >
    rank W`` (the ridgeless bottleneck; 0 otherwise) and ``lam(kappa) = kappa
    g(kappa)`` increases from 0 on ``[kappa_0, oo)``: the bracket of every
    point."""
    pop._require_numeric("solve")
    fmap = _general_map(pop, noise)
    shape = lam.shape
    lam = lam.ravel()
    rank_w = 1.0 - noise._mass_at_zero()
    rank_sigma = 1.0 - pop._mass_at_zero()
    kappa0 = 0.0
    if rank_sigma > rank_w * (1 + 1e-14):
        def dfmap(k, idx):  # -df1 increases [C6]
            d1, slope = pop.df1_with_slope(k)
            return -d1, -slope

        m1 = float(sp.N(pop.moments(1)[0]))
        hi = np.array([m1 * rank_sigma / rank_w + 1e-300])  # df1(k) <= m1/k
        kappa0 = float(invert_increasing(dfmap, np.array([-rank_w]), hi * 1e-300, hi, rtol=rtol,
                                         ftol=4e-16 * rank_w, what="kappa_0 (df1 = rank W)")[0])
    out = np.full(lam.size, kappa0)
    pos = np.flatnonzero(lam > 0)
    if pos.size:
        target = lam[pos]

        def lmap(k, idx):
            return fmap(k)[:2]

        start = np.maximum(target, kappa0) + kappa0 + 1e-300
        hi = expand_upper(lmap, target, start)
        out[pos] = invert_increasing(lmap, target, np.full(pos.size, kappa0), hi, rtol=rtol)
    return out.reshape(shape)


def _lam_map(pop):
    """Compiled ``kappa, q -> (lam(kappa), lam'(kappa), lam(kappa)/kappa)``
    from the sympy map :meth:`DeterministicEquivalent.ridge_of_kappa` of the
    white Wishart (``lam'`` = ``1 - gamma`` [R4], ``lam/kappa = 1/S_W(df1)``),
    one fused pass over the spectrum.  The solver never re-types the map."""
    return _lam_map_cached(pop)


@cached(maxsize=64)
def _lam_map_cached(pop):
    from freeprob.numeric.compile import compile_expr, needs_complex
    from freeprob.numeric.spectrum import SpectralMean, absorb_means
    from freeprob.numeric.stable import rationalize

    equiv = DeterministicEquivalent(pop, MarchenkoPastur(C.q))
    try:
        lam_k = equiv.ridge_of_kappa(C.kappa)
    except NoClosedFormError:
        return _lam_map_from_df(pop, equiv)
    if not lam_k.atoms(SpectralMean) and needs_complex(lam_k) and pop._trace_rank() < np.inf:
        return _lam_map_from_df(pop, equiv)  # radicals: the law's certified complements
    exprs = [lam_k, sp.diff(lam_k, C.kappa), lam_k / C.kappa]
    shift = 0.0
    if lam_k.atoms(SpectralMean):
        # means left q-free (one fused pass with 1/(x+kappa) shared).  For a
        # normalized spectrum df = 1 - <kappa/(x + kappa)> and q = 1 + e (e
        # passed as a value): 1 - q df1 = -e + (1 + e)<kappa/(x+kappa)>, exact
        # at q = 1 as kappa -> 0 (where 1 - df1 rounds to 0 below kappa ~ 1e-16
        # and the map would be flat), and the slope 1 - q df2 likewise.
        if pop._trace_rank() < np.inf:
            e = sp.Dummy("e")
            g, slope = (absorb_means(sp.expand(ex.xreplace({C.q: 1 + e}))) for ex in exprs[2:0:-1])
            if isinstance(g, SpectralMean) and isinstance(slope, SpectralMean):
                # <(kappa - e x)/(x + kappa)> and <(kappa(2x + kappa) - e x^2)/(x + kappa)^2>
                f0 = compile_expr((C.kappa * g, slope, g), (C.kappa, e), dtype=float)
                shift = 1.0
    else:
        # q = 1 + e here too: kappa + 1 - q is kappa - e, exact at q = 1
        e = sp.Dummy("e")
        exprs = [ex.xreplace({C.q: 1 + e}) for ex in exprs]
        exprs = [rationalize(ex) if needs_complex(ex) else sp.factor(sp.cancel(ex)) for ex in exprs]
        dtype = complex if any(needs_complex(ex) for ex in exprs) else float
        f0 = compile_expr(tuple(exprs), (C.kappa, e), dtype=dtype)
        shift = 1.0
    if not shift:
        dtype = complex if any(needs_complex(e) for e in exprs) else float
        f0 = compile_expr(tuple(exprs), (C.kappa, C.q), dtype=dtype)

    def evaluate(k, q):
        return tuple(np.real(v) for v in f0(k, np.asarray(q, dtype=float) - shift, finite=False))  # a solver probe

    return evaluate


def _lam_map_from_df(pop, equiv):
    """The same map for a population known through its curve (a free sum or
    product): ``lam = kappa/S_W(df1)`` and its slope by the chain rule with
    ``df1' = (df2 - df1)/kappa`` [C6], compiled in the values ``df1, df2``,
    which the law's own certified evaluators supply."""
    from freeprob.numeric.compile import compile_expr

    d1, d2 = sp.symbols("df1_value df2_value", nonnegative=True)
    lam_k = C.kappa / equiv.s_noise(C.df).subs(C.df, d1)
    slope = sp.diff(lam_k, C.kappa) + sp.diff(lam_k, d1) * (d2 - d1) / C.kappa
    if pop._trace_rank() < np.inf:
        # in the complements c = 1 - df and e = q - 1, cancelled: 1 - q df1 =
        # c1 + e c1 - e is exact at q = 1 as kappa -> 0, where df1 rounds to 1
        c1, c2, e = sp.symbols("cdf1_value cdf2_value e_value")
        sub = {d1: 1 - c1, d2: 1 - c2, C.q: 1 + e}
        f = compile_expr(tuple(sp.factor(sp.cancel(x.xreplace(sub))) for x in (lam_k, slope, lam_k / C.kappa)),
                         (C.kappa, e, c1, c2))

        def evaluate(k, q):
            k = np.asarray(k, dtype=float)
            return f(k, np.asarray(q, dtype=float) - 1.0, pop.df_complement_numeric(k, 1),
                     pop.df_complement_numeric(k, 2), finite=False)  # a solver probe

        return evaluate
    f = compile_expr((lam_k, slope, lam_k / C.kappa), (C.kappa, C.q, d1, d2))

    def evaluate(k, q):
        k = np.asarray(k, dtype=float)
        return f(k, q, pop.df1_numeric(k), pop.df2_numeric(k), finite=False)  # a solver probe

    return evaluate


def _kappa_zero(pop, q, m1, rtol):
    r"""``kappa_0``: the zero of ``g(kappa) = lam(kappa)/kappa = 1/S_W(df1)``
    (``q df1 = 1``) when ``q rank > 1`` (the ridgeless limit, [C11]).  ``g``
    increases from ``1 - q rank < 0`` (``kappa -> 0+``) and is ``>= 0`` at
    ``q m1`` (``kappa df1 <= m1``): a bracket for the safeguarded Newton
    iteration of :func:`~freeprob.numeric.solve.invert_increasing` (``g`` need not be
    convex; ``g' = (lam' - g)/kappa``), converged when the bracket is narrower
    than ``rtol`` or ``g`` vanishes to rounding."""
    lam_map = _lam_map(pop)

    def gmap(k, idx):
        _, dlam, g = lam_map(k, q[idx])
        return g, (dlam - g) / k

    hi = q * m1 * (1 + 1e-12) + 1e-300
    lo = hi * 1e-300
    if pop._trace_rank() == np.inf:
        # kernel sums [C16]: g -> -oo as kappa -> 0+, and the sums need
        # kappa k^alpha to reach 1e5 within the float range; step down from
        # hi by 1e-4 until g < 0 (a bracket found, not assumed)
        lo = hi.copy()
        for _ in range(75):
            g, _ = gmap(lo, np.arange(q.size))
            if np.all(g < 0):
                break
            lo = np.where(g < 0, lo, lo * 1e-4)
        else:
            raise ConvergenceError("no lower bracket for kappa_0 of the kernel sums above 1e-300")
    return invert_increasing(gmap, np.zeros(q.size), lo, hi, rtol=rtol, ftol=4e-16 * q,
                             what="kappa_0 (q df1 = 1)")


def _solve_positive(pop, lam, q, kappa0, m1, rtol, maxiter):
    r"""``kappa`` for ``lam > 0``.

    Many points share a few ratios ``q``: per ratio the explicit monotone map
    ``lam(kappa)`` is tabulated on a log grid of ``kappa`` (600 spectral sums,
    with its exact slope ``1 - gamma``), each point starts from the cubic
    Hermite interpolation of ``log kappa`` in ``log lam`` (error ~1e-9), and one
    fused Newton pass polishes it.  A point is accepted only if that Newton
    step is below ``0.1 sqrt(rtol) kappa`` (quadratic convergence then leaves
    an error below ``rtol``); every other point goes to the monotone descent."""
    lam_map = _lam_map(pop)
    k = np.full(lam.size, np.nan)
    for qv in np.unique(q):
        sel = np.flatnonzero(q == qv)
        if sel.size < 64:
            continue
        lo = max(float(np.min(np.maximum(lam[sel], kappa0[sel]))), 1e-300)
        hi = float(np.max(lam[sel] + qv * m1)) * 1.01
        grid = np.geomspace(lo, hi, 600)
        if kappa0[sel][0] > 0:
            grid = kappa0[sel][0] + np.geomspace(max(lo - kappa0[sel][0], 1e-300 + lo * 1e-12), hi, 600)
        lam_grid, slope, _ = lam_map(grid, np.full(grid.size, qv))
        ok = lam_grid > 0
        if np.count_nonzero(ok) < 2 or np.any(np.diff(lam_grid[ok]) <= 0):
            continue
        # cubic Hermite in (log lam, log kappa) with the exact slope
        # d log kappa / d log lam = (lam/kappa)/lam'  [R4]: error ~ h^4
        xs, ys = np.log(lam_grid[ok]), np.log(grid[ok])
        ms = (lam_grid[ok] / grid[ok]) / slope[ok]
        k[sel] = np.exp(hermite(xs, ys, ms, np.log(lam[sel])))
    start = np.isfinite(k)
    if start.any():
        idx = np.flatnonzero(start)
        kk = np.maximum(k[idx], np.maximum(kappa0[idx], lam[idx]))
        lam_k, slope, _ = lam_map(kk, q[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = (lam_k - lam[idx]) / slope
        k_new = kk - step
        good = (slope > 0) & np.isfinite(step) & (np.abs(step) <= 0.1 * np.sqrt(rtol) * kk) \
            & (k_new >= np.maximum(kappa0[idx], lam[idx]))
        k[idx[good]] = k_new[good]
        k[idx[~good]] = np.nan
    rest = ~np.isfinite(k)
    if rest.any():
        k[rest] = _newton_descent(pop, lam[rest], q[rest], kappa0[rest], m1, rtol, maxiter)
    return k


def _newton_descent(pop, lam, q, kappa0, m1, rtol, maxiter):
    """The bracketed safeguarded Newton iteration of
    :func:`~freeprob.numeric.solve.invert_increasing` on ``F(kappa) = lam(kappa) -
    lam``: bracket ``[max(kappa_0, lam), lam + q m1]`` (``F <= 0`` at the
    lower end since ``kappa >= lam`` [C11], ``F >= 0`` at the upper end);
    ``F`` is convex and increasing there, so Newton from the upper end
    descends without leaving the bracket."""
    lam_map = _lam_map(pop)

    def fmap(k, idx):
        lam_k, slope, _ = lam_map(k, q[idx])
        return lam_k, slope

    lo = np.maximum(kappa0, lam)
    hi = np.maximum(lam + q * m1, kappa0) * (1 + 1e-12) + 1e-300
    return invert_increasing(fmap, lam, lo, hi, rtol=rtol, maxiter=maxiter, what="kappa")
