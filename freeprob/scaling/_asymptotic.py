r"""Leading-order asymptotics of model expressions: exponents by dominant balance.

The scaling variable ``X -> oo`` drives the sizes: for ``variable="samples"``
``P = X``, ``N = X^q`` (random features; ``q = oo``: infinite width) and the
ridge ``lambda = X^-ell`` (``ell = oo``: ridgeless; for random features
``ell`` scales the feature-level ridge ``lambda D/N``, pitfall P12); for
``variable="width"`` ``N = X`` at ``P = oo``.  The population is the
continuum power law ``eta_k = k^-alpha`` with an unnormalized source target
``eta_k wbar_k^2 = k^{-(1 + 2 alpha r)}`` [C12] (or the isotropic target).

An expression of the model (a key of ``quantities()``) is reduced to its
leading term ``c X^{-e}``:

* every spectral mean is replaced by its leading Mellin term in ``kappa``
  (:func:`~freeprob.scaling.mellin_leading`), the continuum or the discrete
  one as the regime decides;
* ``kappa`` (or ``kappa_2``, ``kappa_1``) comes from a *dominant balance* of
  the model's own explicit map ``lambda(kappa)``: two terms of opposite sign
  balance and all others are smaller; ``kappa ~ max(lambda, P^-alpha)``
  ([R11a]) is an output, not an input;
* sums keep their smallest exponent (ties add coefficients; a vanishing sum
  of leading coefficients raises :class:`CancellationError` rather than
  guessing), products add exponents, powers scale them.

Comparisons of exponents are decided on sample points of the regime (random
points satisfying its conditions); a comparison that changes sign inside the
regime raises :class:`AmbiguousRegimeError` naming the crossover, and a
regime whose conditions admit no point is reported as "no such regime".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from freeprob.errors import FreeprobError, ParameterError
from freeprob.models.design import source_weight_exponent
from freeprob.numeric.spectrum import ArraySpectrum, PowerLawSpectrum, SpectralMean
from freeprob.scaling._continuum import mellin_leading, split_summand

ALPHA, R, ELL, Q = sp.symbols("alpha r ell q", positive=True)
X = sp.Symbol("X", positive=True)
#: the default box regimes are sampled from
BOX = {ALPHA: (1.05, 4.0), R: (0.05, 2.0), ELL: (0.05, 4.0), Q: (0.05, 3.0)}


class AmbiguousRegimeError(FreeprobError):
    """Two exponents cross inside the requested regime: split it."""


class CancellationError(FreeprobError):
    """Leading terms cancel: the expression needs a next-order analysis."""


class NoSuchRegimeError(ParameterError):
    """The regime's conditions admit no parameter point."""

    def __init__(self, conditions):
        FreeprobError.__init__(self, f"no such regime: the conditions {conditions} admit no point "
                                     f"of the parameter box {dict((str(k), v) for k, v in BOX.items())}")
        self.name, self.value, self.allowed = "regime", conditions, "satisfiable conditions"


@dataclass
class Context:
    """Sample points of a regime and the comparisons decided on them."""

    points: list
    decisions: list = field(default_factory=list)

    def compare(self, e1, e2):
        """-1 if e1 < e2 on every point, 1 if >, 0 if identical."""
        diff = sp.cancel(sp.expand(e1 - e2))
        if diff == 0:
            return 0
        vals = [_num(diff, p) for p in self.points]
        if all(v < -1e-12 for v in vals):
            self.decisions.append(e1 < e2)
            return -1
        if all(v > 1e-12 for v in vals):
            self.decisions.append(e1 > e2)
            return 1
        raise AmbiguousRegimeError(f"the exponents {e1} and {e2} cross inside the regime (at {sp.Eq(e1, e2)}); "
                                   "add a condition on either side")

    def cancels(self, coefficients):
        """True if the tied leading coefficients sum to zero (numerically, at
        every sample point, relative to their size; other symbols set to 1)."""
        for p in self.points:
            vals = [complex(sp.N(c.subs(p).subs({s: 1 for s in c.subs(p).free_symbols}), 30))
                    for c in coefficients]
            total, size = abs(sum(vals)), max(abs(v) for v in vals)
            if not total <= 1e-12 * size:
                return False
        return True

    def holds(self, cond):
        vals = [bool(cond.subs(p)) if cond not in (sp.true, sp.false) else bool(cond) for p in self.points]
        if all(vals):
            self.decisions.append(cond)
            return True
        if not any(vals):
            self.decisions.append(sp.Not(cond))
            return False
        raise AmbiguousRegimeError(f"the condition {cond} holds on part of the regime only; split it")


def _num(expr, point):
    v = expr.subs(point)
    v = v.subs({ELL: 1e9}) if v.has(ELL) else v
    return float(sp.N(v))


def _compiled_condition(cond, symbols):
    """``point -> bool`` for a sympy boolean of relations (compiled once: the
    4000 trial points of :func:`sample_points` would otherwise each be a
    symbolic substitution); a condition in other symbols is substituted."""
    if cond is sp.true:
        return lambda p: True
    if cond is sp.false:
        return lambda p: False
    if not cond.free_symbols <= set(symbols):
        return lambda p: bool(cond.subs(p))
    f = sp.lambdify(symbols, cond, modules="math")
    return lambda p: bool(f(*[p[s] for s in symbols]))


def sample_points(conditions, free, n=24, seed=0):
    """Random points of the box satisfying ``conditions`` (a sympy boolean)."""
    rng = np.random.default_rng(seed)
    pts = []
    cond = sp.sympify(conditions) if conditions is not None else sp.true
    test = _compiled_condition(cond, tuple(sorted(free, key=str)))
    for _ in range(4000):
        p = {s: float(rng.uniform(*BOX[s])) for s in free}
        if test(p):
            pts.append(p)
            if len(pts) >= n:
                return pts
    if len(pts) < 4:
        raise NoSuchRegimeError(conditions)
    return pts


# ---------------------------------------------------------------- leading terms
@dataclass(frozen=True)
class Lead:
    """``coefficient * X^(-exponent)``."""

    coefficient: sp.Expr
    exponent: sp.Expr


ZERO = Lead(sp.Integer(0), sp.oo)


def lead(expr, env: dict, ctx: Context) -> Lead:
    """Leading term of ``expr`` given the leading terms ``env`` of its symbols."""
    if expr in env:
        return env[expr]
    if expr.is_Number:
        return ZERO if expr == 0 else Lead(expr, sp.Integer(0))
    if not (expr.free_symbols & set(env)):
        return Lead(expr, sp.Integer(0))
    if expr.is_Add:
        terms = [lead(a, env, ctx) for a in expr.args]
        terms = [t for t in terms if t.exponent != sp.oo]
        best = [terms[0]]
        for t in terms[1:]:
            c = ctx.compare(t.exponent, best[0].exponent)
            if c < 0:
                best = [t]
            elif c == 0:
                best.append(t)
        coef = sp.Add(*[t.coefficient for t in best])
        if len(best) > 1 and ctx.cancels([t.coefficient for t in best]):
            raise CancellationError(f"leading terms of {expr} cancel at order X^-({best[0].exponent})")
        return Lead(coef, best[0].exponent)
    if expr.is_Mul:
        out = Lead(sp.Integer(1), sp.Integer(0))
        for a in expr.args:
            t = lead(a, env, ctx)
            if t.exponent == sp.oo:
                return ZERO
            out = Lead(out.coefficient * t.coefficient, out.exponent + t.exponent)
        return Lead(out.coefficient, sp.expand(out.exponent))
    if expr.is_Pow:
        base, p = expr.args
        if p.free_symbols & set(env):
            raise ParameterError("expression", expr, "powers with X-independent exponents")
        t = lead(base, env, ctx)
        return Lead(t.coefficient**p, sp.expand(t.exponent * p))
    raise ParameterError("expression", expr, "sums, products and powers of the model's symbols")


# ------------------------------------------------------- spectral means
def continuum_means(expr, kappa_symbols, ctx: Context, target_r=None):
    """Replace every spectral mean by its leading Mellin term (continuum
    ``eta_k = k^-alpha``, ``n`` held as the symbol ``n``)."""
    n = sp.Symbol("n", positive=True)
    repl = {}
    for mean in expr.atoms(SpectralMean):
        kap = [k for k in kappa_symbols if mean.summand.has(k)]
        if len(kap) != 1:
            raise ParameterError("expression", mean, "means of one renormalized ridge")
        k = kap[0]
        if isinstance(mean.spectrum, PowerLawSpectrum) and mean.spectrum.beta != 0 and target_r is not None:
            # the source target as a weighted power law: p_k ~ k^-b, b = 1 + alpha (2r - 1)
            # [C12]; its normalization is a constant (zeta(b)), not a power of X
            beta, factor = source_weight_exponent(ALPHA, target_r), sp.Integer(1)
        elif isinstance(mean.spectrum, PowerLawSpectrum) and mean.spectrum.beta == 0:
            # trace-normalized (1/n) sums, or the kernel sums of n = oo [C16]
            beta, factor = sp.Integer(0), (sp.Integer(1) if mean.spectrum.n is sp.oo else 1 / n)
        elif isinstance(mean.spectrum, ArraySpectrum) and target_r is not None:
            # unnormalized source target: p_k = wbar_k^2 = k^-(1 + 2 alpha r)/eta_k [C12]
            beta, factor = source_weight_exponent(ALPHA, target_r), sp.Integer(1)
        else:
            raise ParameterError("population", mean.spectrum, "a PowerLaw population (continuum asymptotics)")
        d, parts = split_summand(mean.summand, mean.var, k)
        total = []
        for c, a, m in parts:
            cont, disc = mellin_leading(beta, a, m, ALPHA)
            if ctx.holds(cont.condition):
                total.append(c * cont.coefficient * k ** (d + cont.kappa_power))
            elif ctx.holds(disc.condition):
                total.append(c * disc.coefficient * k ** (d + disc.kappa_power))
            else:
                raise ParameterError("alpha", ALPHA, "a normalizable spectrum (alpha > 1, pitfall P13)",
                                     f"the sum of {mean.summand} diverges with n")
        repl[mean] = factor * sp.Add(*total)
    return expr.xreplace(repl)


# ------------------------------------------------------- dominant balance
def balance(equation_terms, e_sym, ctx: Context):
    """Dominant balance of ``sum_i c_i X^-(a_i + b_i e) = 0`` for the exponent
    ``e`` of a renormalized ridge ``kappa = c X^-e``: two terms of opposite
    sign with equal exponent, every other term smaller.  ``equation_terms``
    are ``(c_i, a_i, b_i)``.  Returns the :class:`Lead` of ``kappa``."""
    found, ambiguous = [], []
    for i in range(len(equation_terms)):
        for j in range(i + 1, len(equation_terms)):
            ci, ai, bi = equation_terms[i]
            cj, aj, bj = equation_terms[j]
            if sp.simplify(bi - bj) == 0:
                continue
            si, sj = _sign(ci, ctx), _sign(cj, ctx)
            if si == sj:
                continue
            e = sp.simplify((aj - ai) / (bi - bj))
            trial = Context(ctx.points)
            try:
                ok = all(trial.compare(ak + bk * e, ai + bi * e) >= 0
                         for k, (ck, ak, bk) in enumerate(equation_terms) if k not in (i, j)) \
                    and _sign(e, trial) > 0
            except AmbiguousRegimeError as exc:
                ambiguous.append(exc)
                continue
            if ok:
                ctx.decisions.extend(trial.decisions)
                coef = sp.simplify((-cj / ci) ** (1 / (bi - bj)))
                found.append(Lead(coef, e))
    if not found:
        if ambiguous:
            raise ambiguous[0]
        raise AmbiguousRegimeError("no consistent dominant balance for the renormalized ridge")
    # several asymptotic roots (e.g. one per bottleneck factor of lambda(kappa_2)):
    # the physical root is the largest kappa, the smallest exponent [R12] (P5)
    best = found[0]
    for f in found[1:]:
        if ctx.compare(f.exponent, best.exponent) < 0:
            best = f
    return best


def _sign(c, ctx):
    vals = [_num(c, p) for p in ctx.points]
    if all(v > 0 for v in vals):
        return 1
    if all(v < 0 for v in vals):
        return -1
    raise AmbiguousRegimeError(f"the coefficient {c} changes sign inside the regime")


def kappa_lead(lam_map, kappa, env, ctx, ridge_lead):
    """Leading term of ``kappa`` from the explicit map ``lambda = lam_map(kappa)``."""
    terms = []
    for term in sp.Add.make_args(sp.expand(lam_map)):
        b = sp.Integer(0)
        rest = []
        for f in sp.Mul.make_args(term):
            base, p = f.as_base_exp()
            if base == kappa:
                b += p
            else:
                rest.append(f)
        t = lead(sp.Mul(*rest), env, ctx)
        if t.exponent != sp.oo:
            terms.append((t.coefficient, t.exponent, b))  # c X^-a kappa^b, kappa = X^-e: X^-(a + b e)
    if ridge_lead is not None:
        terms.append((-ridge_lead.coefficient, ridge_lead.exponent, sp.Integer(0)))
    return balance(terms, None, ctx)



__all__ = ["ALPHA", "R", "ELL", "Q", "X", "Lead", "lead", "Context", "sample_points", "continuum_means",
           "kappa_lead", "AmbiguousRegimeError", "CancellationError", "NoSuchRegimeError"]
