"""Free multiplicative composition [R2]: S-transform multiplicativity,
scaling and the unit, the change of normalization, products of white
Wisharts (Fuss-Catalan moments, the deep white Wishart spectrum) and a
general noise law in the renormalized ridge."""

import numpy as np
import sympy as sp

import freeprob
from freeprob import conventions as C
from freeprob.derivation import Derivation, DerivationStep, Eq
from freeprob.montecarlo.sampling import free_product_eigenvalues

from . import _notation as N
from ._checks import agree, ks_rigid_tolerance, within

NAME = "free-products"
TITLE = "Free products and S-transform multiplicativity"

_A, _B = freeprob.Discrete([1, 3]), freeprob.Discrete([1, 2], [sp.Rational(1, 4), sp.Rational(3, 4)])


def _haar_product(rng):
    # df1 of A^1/2 Q B Q^T A^1/2 (Q Haar, n = 600, 5 draws) against df1 of
    # free_mul(A, B) from the algebraic curve.  Linear statistics of
    # Haar-rotated products fluctuate by ~1e-5 at n = 600 with a finite-size
    # shift of order 1/n^2: allowance 4/n^2 = 1.1e-5.  (Moving one atom of B
    # by 1% moves df1 by ~1e-3, which this check rejects.)
    n, lam = 600, np.array([0.3, 1.0, 4.0])
    draws = [[np.mean(e / (e + x)) for x in lam] for e in (free_product_eigenvalues(_A, _B, n, rng) for _ in range(5))]
    return agree(draws, freeprob.free_mul(_A, _B).df1_numeric(lam), allowance=4 / n**2,
                 what=f"df1 at 3 ridges, n = {n}")


def _deep_wishart(rng):
    # the spectrum of C = F2^T F1^T F1 F2, widths [200, 1000, 6000], entry
    # variances 1/N_{l-1} (figure F4): its 200 nonzero eigenvalues (those of
    # F1 F2 F2^T F1^T) against the law WishartProduct([30, 6]) conditioned
    # on the complement of its atom at 0, by the Kolmogorov distance with the
    # rigidity tolerance log(n)/n (see _checks)
    n0, n1, n2 = 200, 1000, 6000
    f1 = rng.normal(0, 1 / np.sqrt(n0), (n0, n1))
    f2 = rng.normal(0, 1 / np.sqrt(n1), (n1, n2))
    g = f1 @ (f2 @ f2.T) @ f1.T
    eig = np.sort(np.linalg.eigvalsh((g + g.T) / 2))
    law = freeprob.WishartProduct([30, 6])
    atom = float(sum(w for a, w in law.atoms() if a == 0))
    cdf = (law.cdf_numeric(eig) - atom) / (1 - atom)
    k = np.arange(1, eig.size + 1) / eig.size
    ks = float(max(np.max(k - cdf), np.max(cdf - (k - 1 / eig.size))))
    tol = ks_rigid_tolerance(eig.size)
    return ks < tol, ks, f"Kolmogorov distance {ks:.3f} of the {eig.size} nonzero eigenvalues (tolerance {tol:.3f})"


def _general_noise(rng):
    # kappa for W = W1 W2 (WishartProduct) from the explicit map against df1
    # of Sigma boxtimes W by subordination (an independent solver, converged
    # to ~1e-12): tolerance 1e-9
    pop, W = freeprob.PowerLaw(1.5, 300), freeprob.WishartProduct([2, 3])
    lam = np.logspace(-3, 1, 5)
    kappa = freeprob.deterministic_equivalent(pop, W).solve(lam)
    return within(pop.df1_numeric(kappa), freeprob.free_mul(pop, W).df1_numeric(lam), 1e-9,
                  "df1_Sigma(kappa) against df1 of Sigma boxtimes W1 W2 by subordination, 5 ridges")


def build() -> Derivation:
    t, df, q, lam, kappa = C.t, C.df, C.q, C.lam, C.kappa
    c1, s, x = sp.Symbol("c_1", positive=True), sp.Symbol("s", positive=True), sp.Symbol("x", positive=True)
    prod = freeprob.free_mul(_A, _B)
    ma, mb = _A.moments(3), _B.moments(3)
    ka = _A.free_cumulants(3, method="moments")
    mA = [N.moment(k, "A") for k in (1, 2, 3)]
    mB = [N.moment(k, "B") for k in (1, 2, 3)]
    kA = [sp.Symbol(rf"\kappa_{{{k}}}(A)") for k in (1, 2, 3)]
    m2p, m3p = N.moment(2, r"A \boxtimes B"), N.moment(3, r"A \boxtimes B")
    bind_ab = tuple(zip(mA, ma)) + tuple(zip(mB, mb))
    # [R2c]: A = Z^T Z/P (N x N, law MP(q)) and B = Z Z^T/P (P x P, law q MP(1/q)) share their
    # nonzero spectrum; m/n = N/P = q and df_B = q df_A at equal lambda
    s_a = freeprob.MarchenkoPastur(q).s_transform(df, convention="df")
    s_b = freeprob.MarchenkoPastur(1 / q).scaled(q).s_transform(df, convention="df")
    SA, SB = sp.Function("S_A"), sp.Function("S_B")
    mp1 = freeprob.MarchenkoPastur(c1)
    SsA, SvA = sp.Function(r"S^{\mathrm{V}}_{sA}"), sp.Function(r"S^{\mathrm{V}}_A")
    SD = sp.Function(r"S_{\Sigma}")
    m5, m4 = N.moment(5, r"\mathrm{MP}_1^{\boxtimes 2}"), N.moment(4, r"\mathrm{MP}_1^{\boxtimes 3}")
    W23 = freeprob.WishartProduct([2, 3])
    steps = (
        DerivationStep(Eq(m2p, mA[1] * mB[0] ** 2 + mA[0] ** 2 * mB[1] - mA[0] ** 2 * mB[0] ** 2),
                       "the second moment of a free product from the definition of freeness, against the "
                       "product law that the library builds from $S_{AB} = S_A S_B$ (an algebraic curve by "
                       "resultants); $A = \\frac12(\\delta_1 + \\delta_3)$, $B = \\frac14\\delta_1 + \\frac34\\delta_2$",
                       "[R2a]", "symbolic", "m_2 of a free product", where=((m2p, prod.moments(2)[1]),) + bind_ab,
                       source="free_mul(A, B).moments(2)"),
        DerivationStep(Eq(m3p, kA[0] ** 3 * mB[2] + 3 * kA[1] * kA[0] * mB[1] * mB[0] + kA[2] * mB[0] ** 3),
                       "the third moment by the moment-cumulant formula over the non-crossing partitions of "
                       "three points, $m_n(AB) = \\sum_{\\pi} \\kappa_\\pi(A)\\, m_{K(\\pi)}(B)$", "[R2a]", "symbolic",
                       "m_3 of a free product",
                       where=((m3p, prod.moments(3)[2]),) + bind_ab + tuple(zip(kA, ka)),
                       source="free_mul(A, B).moments(3); A.free_cumulants(3, method='moments')"),
        DerivationStep(Eq(N.df1_hat(lam), sp.Function(r"\mathrm{df}^1_{A \boxtimes B}")(lam)),
                       "the same product law at the matrix level: $A^{1/2} Q B Q^\\top A^{1/2}$ with $Q$ Haar",
                       "[R2a]", "montecarlo", "Haar-rotated product", approx=True, checker=_haar_product),
        DerivationStep(Eq(SsA(t), SvA(t) / s),
                       "scaling: the T-transform of $sA$ at $s z$ is that of $A$ at $z$; the left side is "
                       "derived from the algebraic curve of the scaled law, for $A = \\mathrm{MP}(c_1)$",
                       "[R2b]", "symbolic", "S of a scaled law",
                       where=((SsA(t), mp1.scaled(s).s_transform(t, method="curve")), (SvA(t), mp1.s_transform(t))),
                       source="MarchenkoPastur(c_1).scaled(s).s_transform(t, method='curve')"),
        DerivationStep(Eq(sp.Function(r"S_{sI}")(df), 1 / s),
                       "the identity is the unit of free multiplication and $S_{sI} = 1/s$", "[R2b], [C10]",
                       "symbolic", "S of the identity",
                       where=((sp.Function(r"S_{sI}")(df), freeprob.Identity(s).s_transform(df, convention="df")),)),
        DerivationStep(Eq(sp.Limit(SD(df), df, 0), 1 / mA[0]),
                       "$S_A(0) = 1/\\mathrm{tr}\\,A$, from the algebraic S-transform of the atomic law $A$",
                       "[C10]", "symbolic", "S at df = 0",
                       where=((SD(df), _A.s_transform(df, convention="df")), (mA[0], ma[0])),
                       source="Discrete([1, 3]).s_transform(df, convention='df')"),
        DerivationStep(Eq(SA(x), q * (1 - x) / (1 - q * x) * SB(q * x)),
                       "change of normalization between $A = Z^\\top Z/P$ ($N \\times N$) and $B = Z Z^\\top/P$ "
                       "($P \\times P$), which share their nonzero spectrum; $m/n = q$", "[R2c]", "symbolic",
                       "dimension change", where=((SA(x), s_a.subs(df, x)), (SB(q * x), s_b.subs(df, q * x))),
                       source="MarchenkoPastur(q), MarchenkoPastur(1/q).scaled(q)"),
        DerivationStep(Eq(m5, sp.binomial(15, 5, evaluate=False) / 11),
                       "moments of a product of white Wisharts from the expansion of its algebraic curve, against "
                       "the Fuss-Catalan numbers $\\frac{1}{Lk + 1}\\binom{(L+1)k}{k}$ with $L = 2$, $k = 5$",
                       "[R2d]", "symbolic", "Fuss-Catalan, two factors",
                       where=((m5, freeprob.WishartProduct([1, 1]).moments(5, method="curve")[4]),),
                       source="WishartProduct([1, 1]).moments(5, method='curve')"),
        DerivationStep(Eq(m4, sp.binomial(16, 4, evaluate=False) / 13),
                       "the same table with $L = 3$, $k = 4$", "[R2d]", "symbolic", "Fuss-Catalan, three factors",
                       where=((m4, freeprob.WishartProduct([1, 1, 1]).moments(4, method="curve")[3]),),
                       source="WishartProduct([1, 1, 1]).moments(4, method='curve')"),
        DerivationStep(Eq(sp.Function(r"\rho_C")(x), -sp.im(sp.Function("t")(x + sp.I * sp.Symbol("0^+"))) / (sp.pi * x)),
                       "the deep white Wishart spectrum of figure F4, $C = F_2^\\top F_1^\\top F_1 F_2$ with widths "
                       "$[200, 1000, 6000]$ and entry variances $1/N_{\\ell-1}$: the density from "
                       "$z t = (1 + t)(1 + 30 t)(1 + 6 t)$ against the sampled spectrum", "[R2d], P16", "montecarlo",
                       "deep white Wishart", checker=_deep_wishart, approx=True, source="WishartProduct([30, 6])"),
        DerivationStep(Eq(N.df1_hat(lam), N.df1_Sigma(kappa)),
                       "a product noise $W = W_1 W_2$ in the renormalized ridge: $\\kappa = \\lambda S_W(\\mathrm{df})$ "
                       "with $S_W = 1/((1 - 2\\,\\mathrm{df})(1 - 3\\,\\mathrm{df}))$, against the empirical-covariance "
                       "law $\\Sigma \\boxtimes W$ by subordination", "[R2a], [R3], [R17]", "numeric",
                       "general noise law", checker=_general_noise,
                       source="deterministic_equivalent(PowerLaw(1.5, 300), WishartProduct([2, 3]))"),
    )
    return Derivation(NAME, TITLE, steps,
                      results=(("$S_{W_1 W_2}(\\mathrm{df})$", W23.s_transform(df, convention="df")),),
                      assumptions=("free, positive semidefinite factors",),
                      summary="Multiplicativity of the S-transform, tested against definitions that do not use it "
                              "(the moments of a free product), against tables and against sampled matrices.")
