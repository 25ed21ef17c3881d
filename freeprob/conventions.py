r"""The one place where freeprob's sign and normalization conventions live.

Every docstring in freeprob that writes a transform refers to the items below
by their tag; each tag is defined in the documentation's reference page of
conventions (``docs/reference/conventions.md``: [C1] ... [C18]). Conversions
between conventions are explicit functions here; no other module writes a
silent minus sign or a ``t -> -df`` substitution.

Conventions
-----------
[C3] ``tr A = (1/n) Tr A`` for an ``n x n`` matrix; degrees of freedom are
     normalized by the dimension of the population matrix they refer to.
[C4] Stieltjes (Cauchy) transform ``g(z) = tr (z - A)^{-1} = int rho(x) dx/(z - x)``,
     ``g(z) ~ 1/z`` at infinity, ``Im g < 0`` for ``Im z > 0`` (Herglotz sign),
     density ``rho(x) = -Im g(x + i0)/pi``.  The "ML" Stieltjes transform
     ``m(z) = int rho(x) dx/(x - z) = -g(z)`` is reached only through
     :func:`ml_stieltjes_from_stieltjes`.
[C5] T-transform ``t(z) = z g(z) - 1``; moment generating function
     ``psi(u) = sum_k m_k u^k = t(1/u)``.
[C6] ``df1(lam) = tr A (A + lam)^{-1} = 1 + lam g(-lam)`` and
     ``df2(lam) = tr A^2 (A + lam)^{-2} = df1 + lam d(df1)/d(lam)``.
[C8] R-transform: ``g(R(w) + 1/w) = w``.
[C9] Voiculescu S-transform ``S(t) = (1 + t)/t * chi(t)``, ``chi = psi^{-1}``;
     multiplicative for free products.
[C10] The paper's S-transform takes the degrees of freedom as argument:
     ``S(df) = S_Voiculescu(-df)``; white Wishart ``S_W(df) = 1/(1 - q df)``.
[C11] Renormalized ridge ``kappa = lam * S(df)``.
[C1] ``q = N/P`` (parameters over samples); never ``P/N``.
[C16] The kernel limit ``N = oo``: ``df1``, ``df2`` are unnormalized sums
     ``sum_k eta_k^j/(eta_k + kappa)^j`` and the models use ``q = 1/P``.
[C17] Correlated samples: ``X = K^{1/2} Z Sigma^{1/2}`` with a ``P x P``
     sample correlation ``K`` (traces normalized by ``P``) and a test point
     with ``K_** = 1``; ``nu`` is the renormalized ridge of the sample side,
     ``df1_K(nu) = q df1_Sigma(kappa)``, and ``S_K(df) = (1 - df)/(df nu)``
     at ``df = df1_K(nu)`` (:func:`s_from_renormalized_ridge`).
[C18] Spectral estimators: ``w_hat = f(Sigma_hat) X^T y/P`` with ``Sigma_hat =
     X^T X/P``; the hat filter ``h(x) = x f(x)`` and the residual filter
     ``r(x) = 1 - h(x)`` (:func:`hat_filter`, :func:`residual_filter`).  Ridge
     is ``f = 1/(x + lam)``; gradient flow ``dw/dt = X^T(y - X w)/P - lam w``
     from ``w = 0`` is ``f = (1 - e^{-t(x + lam)})/(x + lam)``.  Matrix
     functions are contour integrals ``f(A) = (1/2 pi i) oint f(z) (z - A)^{-1}
     dz`` (counterclockwise around the spectrum), and the resolvent at ``z`` is
     the ridge resolvent at ``lam = -z``: ``(z - Sigma_hat)^{-1} ~ (kappa/z)
     (Sigma + kappa)^{-1}`` with ``kappa = kappa(-z)`` continued from
     ``kappa ~ -z`` at infinity (:func:`contour_resolvent`).

Examples
--------
>>> import sympy as sp
>>> from freeprob import conventions as C
>>> q = C.symbol("q")
>>> C.s_df_from_voiculescu(1/(1 + q*C.t), C.t, C.df)
1/(-df*q + 1)
>>> C.t_from_stieltjes(1/(C.z - 2), C.z)
z/(z - 2) - 1
"""

from __future__ import annotations

import sympy as sp

from freeprob.errors import ParameterError

__all__ = [
    "z", "w", "t", "u", "x", "lam", "df", "kappa", "q",
    "kappa1", "kappa2", "kappa_F", "phi", "sigma2", "sigma_xi2", "width_ratio",
    "symbol", "CONVENTIONS", "LATEX_NAMES",
    "ml_stieltjes_from_stieltjes", "stieltjes_from_ml_stieltjes",
    "t_from_stieltjes", "stieltjes_from_t",
    "psi_from_t", "t_from_psi",
    "df1_from_stieltjes", "df2_from_df1", "stieltjes_from_df1",
    "s_df_from_voiculescu", "s_voiculescu_from_df",
    "s_from_chi", "r_from_inverse_stieltjes",
    "renormalized_ridge", "ratio", "nu", "s_from_renormalized_ridge",
    "time", "steps", "step_size", "threshold", "z2", "hat_filter", "residual_filter", "contour_resolvent",
]

# ---------------------------------------------------------------------------
# Canonical symbols.  Created once, with fixed assumptions (two sympy symbols
# with the same name and different assumptions never compare equal).
# ---------------------------------------------------------------------------
#: spectral variable of the Stieltjes transform (complex, no assumptions)
z = sp.Symbol("z")
#: argument of the R-transform
w = sp.Symbol("w")
#: argument of the Voiculescu S-transform
t = sp.Symbol("t")
#: argument of the moment generating function psi
u = sp.Symbol("u")
#: real spectral variable of densities
x = sp.Symbol("x", real=True)
#: ridge (nonnegative; positive for transforms on the negative axis)
lam = sp.Symbol("lambda", positive=True)
#: degrees of freedom, argument of the paper's S(df)
df = sp.Symbol("df", positive=True)
#: renormalized ridge
kappa = sp.Symbol("kappa", positive=True)
#: overparameterization ratio q = N/P [C1]
q = sp.Symbol("q", positive=True)

#: random features [C14], [R12]: data-averaged and fully averaged ridges
kappa1 = sp.Symbol("kappa_1", positive=True)
kappa2 = sp.Symbol("kappa_2", positive=True)
#: the inverse of the N-normalized df1 of the feature covariance Sigma_F [R18]
kappa_F = sp.Function("kappa_F")
#: P/D for random-feature models (the paper's phi in [R15]; its code's q is D/P = 1/phi, P1)
phi = sp.Symbol("phi", positive=True)
#: renormalized ridge of the sample side of correlated data [C17]
nu = sp.Symbol("nu", nonnegative=True)
#: label-noise variance sigma_epsilon^2 and feature-noise variance sigma_xi^2 per feature [C14]
sigma2 = sp.Symbol("sigma2", nonnegative=True)
sigma_xi2 = sp.Symbol("sigma_xi2", nonnegative=True)
#: spectral estimators [C18]: training time t, number of steps k, step size
#: eta and the cutoff theta of principal-component regression
time = sp.Symbol("t_train", nonnegative=True)
steps = sp.Symbol("k_steps", integer=True, nonnegative=True)
step_size = sp.Symbol("eta", positive=True)
threshold = sp.Symbol("theta", positive=True)
#: the second contour variable of two-point integrals [C18]
z2 = sp.Symbol("z'")



def as_expr(value, name: str = "argument") -> sp.Expr:
    """``value`` as a sympy object, refusing strings (house rule 8).

    Every public entry point that takes a symbol or an expression passes it
    through here: a string is never handed to ``sympify``, which would
    evaluate it as Python code.

    >>> as_expr(2) + as_expr(sp.Symbol("x"))
    x + 2
    >>> as_expr("x")
    Traceback (most recent call last):
    ...
    freeprob.errors.ParameterError: argument = 'x' is outside its allowed range a number or a sympy expression: strings are never parsed here (build symbols with sympy.Symbol or freeprob.conventions.symbol; the command line has its own whitelist parser)
    """
    if isinstance(value, str):
        raise ParameterError(name, repr(value)[:60], "a number or a sympy expression",
                             "strings are never parsed here (build symbols with sympy.Symbol or "
                             "freeprob.conventions.symbol; the command line has its own whitelist parser)")
    try:
        return sp.sympify(value, strict=True)
    except (sp.SympifyError, TypeError):
        raise ParameterError(name, type(value).__name__, "a number or a sympy expression") from None


def width_ratio(layer: int) -> sp.Symbol:
    """``psi_l = N_l/D``, the width of layer ``l`` over the input dimension
    [C14], [R15] (``layer`` counts from 1).

    >>> width_ratio(1)
    psi_1
    """
    layer_ = as_expr(layer, "layer")
    if not (layer_.is_Integer and layer_ >= 1):
        raise ParameterError("layer", layer_, "integers >= 1")
    return sp.Symbol(f"psi_{int(layer_)}", positive=True)


#: LaTeX spellings of canonical names in the paper's notation (used by
#: :mod:`freeprob.printing`)
LATEX_NAMES = {
    "df": r"\mathrm{df}",
    "df1": r"\mathrm{df}_1",
    "df2": r"\mathrm{df}_2",
    "lambda": r"\lambda",
    "lam": r"\lambda",
    "kappa": r"\kappa",
    "sigma2": r"\sigma^2",
    "kappa_1": r"\kappa_1",
    "kappa_2": r"\kappa_2",
    "kappa_F": r"\kappa_F",
    "sigma_xi2": r"\sigma_\xi^2",
    "t_train": "t",
    "k_steps": "k",
    "eta": r"\eta",
    "theta": r"\theta",
}

_FACTORY: dict[str, sp.Symbol] = {}


def symbol(name: str) -> sp.Symbol:
    """Return the canonical *positive* parameter symbol called ``name``.

    Library code and the CLI create parameter symbols only through this
    factory, so that ``symbol("q")`` is the same object everywhere.

    >>> symbol("q") is symbol("q")
    True
    >>> symbol("q").is_positive
    True
    """
    if not isinstance(name, str) or not name.isidentifier():
        from freeprob.errors import ParseError

        raise ParseError(f"not a valid symbol name: {name!r}")
    canonical = {"lambda": lam, "lam": lam, "kappa": kappa, "df": df, "q": q}
    if name in canonical:
        return canonical[name]
    if name not in _FACTORY:
        _FACTORY[name] = sp.Symbol(name, positive=True)
    return _FACTORY[name]


#: Human-readable table of the conventions, printed by ``freeprob laws``.
CONVENTIONS = {
    "stieltjes": "g(z) = tr (z - A)^{-1} ~ 1/z, Im g < 0 on Im z > 0  [C4]",
    "ml_stieltjes": "m(z) = -g(z)  (Bai-Silverstein sign)  [C4]",
    "t_transform": "t(z) = z g(z) - 1  [C5]",
    "moment_generating": "psi(u) = t(1/u) = sum_k m_k u^k  [C5]",
    "df1": "df1(lam) = 1 + lam g(-lam) = tr A (A + lam)^{-1}  [C6]",
    "df2": "df2(lam) = df1 + lam d df1/d lam = tr A^2 (A + lam)^{-2}  [C6]",
    "r_transform": "g(R(w) + 1/w) = w  [C8]",
    "s_voiculescu": "S(t) = (1 + t)/t chi(t), chi = psi^{-1}  [C9]",
    "s_df": "S(df) = S_Voiculescu(-df)  (the paper's)  [C10]",
    "ratio": "q = N/P  [C1]",
    "rf_ratios": "random features: phi = P/D, psi_l = N_l/D, df normalized by D  [C14], P1, P3",
    "correlated": "X = K^1/2 Z Sigma^1/2, df1_K(nu) = q df1_Sigma(kappa), S_K = (1 - df)/(df nu)  [C17]",
    "spectral_estimator": "w_hat = f(Sigma_hat) X^T y/P, h = x f, r = 1 - h; (z - Sigma_hat)^-1 ~ (kappa/z)"
                          " (Sigma + kappa)^-1, kappa = kappa(lam = -z)  [C18]",
}


# ---------------------------------------------------------------------------
# Converters.  Each is one line of mathematics, written once.
# ---------------------------------------------------------------------------
def hat_filter(f: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """The hat filter ``h(x) = x f(x)`` of a spectral estimator ``f`` [C18]:
    ``X w_hat = X f(Sigma_hat) X^T y/P`` has eigenvalues ``h`` on the data.

    >>> hat_filter(1/(x + lam), x)
    x/(lambda + x)
    """
    return as_expr(var, "var") * as_expr(f, "f")


def residual_filter(f: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """The residual filter ``r(x) = 1 - x f(x)`` [C18]: ``w_hat - wbar = -r(Sigma_hat)
    wbar`` plus the noise term.

    >>> sp.cancel(residual_filter(1/(x + lam), x))
    lambda/(lambda + x)
    """
    return 1 - hat_filter(f, var)


def contour_resolvent(kappa_z, zvar):
    """The scalar factor of ``(z - Sigma_hat)^{-1} ~ (kappa/z) (Sigma + kappa)^{-1}``
    at ``kappa = kappa(lam = -z)`` [C18]: the ridge resolvent ``(Sigma_hat +
    lam)^{-1} ~ (kappa/lam)(Sigma + kappa)^{-1}`` [R3] at ``lam = -z``.

    >>> contour_resolvent(kappa, z)
    kappa/z
    """
    return as_expr(kappa_z, "kappa_z") / as_expr(zvar, "zvar")


def ml_stieltjes_from_stieltjes(g: sp.Expr) -> sp.Expr:
    """``m = -g``: the Bai-Silverstein / ML sign convention [C4].

    >>> ml_stieltjes_from_stieltjes(1/z)
    -1/z
    """
    return -as_expr(g, "g")


def stieltjes_from_ml_stieltjes(m: sp.Expr) -> sp.Expr:
    """Inverse of :func:`ml_stieltjes_from_stieltjes` [C4].

    >>> stieltjes_from_ml_stieltjes(-1/z)
    1/z
    """
    return -as_expr(m, "m")


def t_from_stieltjes(g: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """T-transform ``t(z) = z g(z) - 1`` [C5].

    >>> t_from_stieltjes(1/z, z)
    0
    """
    return as_expr(var, "var") * as_expr(g, "g") - 1


def stieltjes_from_t(tz: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """Inverse of :func:`t_from_stieltjes`: ``g = (t + 1)/z`` [C5].

    >>> stieltjes_from_t(sp.Integer(0), z)
    1/z
    """
    return (as_expr(tz, "tz") + 1) / as_expr(var, "var")


def psi_from_t(tz: sp.Expr, zvar: sp.Symbol, uvar: sp.Symbol) -> sp.Expr:
    """Moment generating function ``psi(u) = t(1/u)`` [C5].

    >>> psi_from_t(2/(z - 2), z, u)
    2/(-2 + 1/u)
    """
    return as_expr(tz, "tz").subs(as_expr(zvar, "zvar"), 1 / as_expr(uvar, "uvar"))


def t_from_psi(psi: sp.Expr, uvar: sp.Symbol, zvar: sp.Symbol) -> sp.Expr:
    """Inverse of :func:`psi_from_t`: ``t(z) = psi(1/z)`` [C5]."""
    return as_expr(psi, "psi").subs(as_expr(uvar, "uvar"), 1 / as_expr(zvar, "zvar"))


def df1_from_stieltjes(g: sp.Expr, zvar: sp.Symbol, lamvar: sp.Symbol) -> sp.Expr:
    """``df1(lam) = 1 + lam g(-lam)`` [C6].

    >>> sp.cancel(df1_from_stieltjes(1/(z - 1), z, lam))
    1/(lambda + 1)
    """
    lamvar = as_expr(lamvar, "lamvar")
    return 1 + lamvar * as_expr(g, "g").subs(as_expr(zvar, "zvar"), -lamvar)


def stieltjes_from_df1(df1: sp.Expr, lamvar: sp.Symbol, zvar: sp.Symbol) -> sp.Expr:
    """Inverse of :func:`df1_from_stieltjes`: ``g(z) = (1 - df1(-z))/z``
    [C6], for a law on ``[0, oo)`` at ``z`` off ``[0, oo)``.

    >>> sp.cancel(stieltjes_from_df1(1/(lam + 1), lam, z))
    1/(z - 1)
    """
    lamvar, zvar = as_expr(lamvar, "lamvar"), as_expr(zvar, "zvar")
    return (1 - as_expr(df1, "df1").subs(lamvar, -zvar)) / zvar


def df2_from_df1(df1: sp.Expr, lamvar: sp.Symbol) -> sp.Expr:
    """``df2 = df1 + lam d(df1)/d(lam)`` [C6].

    >>> sp.simplify(df2_from_df1(1/(1 + lam), lam))
    (lambda + 1)**(-2)
    """
    df1 = as_expr(df1)
    df1, lamvar = as_expr(df1, "df1"), as_expr(lamvar, "lamvar")
    return df1 + lamvar * sp.diff(df1, lamvar)


def df1_slope_from_df2(df1: sp.Expr, df2: sp.Expr, lamvar: sp.Symbol) -> sp.Expr:
    """``d df1/d lam`` in terms of ``df1`` and ``df2``, solved from
    :func:`df2_from_df1` (``df2 = df1 + lam d(df1)/d(lam)``) [C6]: the one
    source of the slope that the solvers use.

    >>> df1_slope_from_df2(sp.Symbol("a"), sp.Symbol("b"), lam)
    (-a + b)/lambda
    """
    df1, lamvar = as_expr(df1, "df1"), as_expr(lamvar, "lamvar")
    f, slope = sp.Function("df1"), sp.Dummy("slope")
    relation = df2_from_df1(f(lamvar), lamvar).subs(sp.Derivative(f(lamvar), lamvar), slope).subs(f(lamvar), df1)
    (out,) = sp.solve(sp.Eq(as_expr(df2, "df2"), relation), slope)
    return sp.together(out)


def s_df_from_voiculescu(s_v: sp.Expr, tvar: sp.Symbol, dfvar: sp.Symbol) -> sp.Expr:
    """The paper's ``S(df) = S_Voiculescu(-df)`` [C10], pitfall P4.

    >>> s_df_from_voiculescu(1/(1 + 2*t), t, df)
    1/(1 - 2*df)
    """
    return as_expr(s_v, "s_v").subs(as_expr(tvar, "tvar"), -as_expr(dfvar, "dfvar"))


def s_voiculescu_from_df(s_df: sp.Expr, dfvar: sp.Symbol, tvar: sp.Symbol) -> sp.Expr:
    """Inverse of :func:`s_df_from_voiculescu`: ``S_V(t) = S(-t)`` [C10].

    >>> s_voiculescu_from_df(1/(1 - 2*df), df, t)
    1/(2*t + 1)
    """
    return as_expr(s_df, "s_df").subs(as_expr(dfvar, "dfvar"), -as_expr(tvar, "tvar"))


def s_from_chi(chi: sp.Expr, tvar: sp.Symbol) -> sp.Expr:
    """Voiculescu ``S(t) = (1 + t)/t * chi(t)`` with ``chi = psi^{-1}`` [C9]."""
    tvar = as_expr(tvar, "tvar")
    return (1 + tvar) / tvar * as_expr(chi, "chi")


def r_from_inverse_stieltjes(ginv: sp.Expr, wvar: sp.Symbol) -> sp.Expr:
    """``R(w) = g^{-1}(w) - 1/w`` [C8]."""
    return as_expr(ginv, "ginv") - 1 / as_expr(wvar, "wvar")


def renormalized_ridge(ridge, s_value):
    """``kappa = lam * S(df)`` in the paper's convention [C11].

    >>> renormalized_ridge(lam, 1/(1 - q*df))
    lambda/(-df*q + 1)
    """
    return as_expr(ridge, "ridge") * as_expr(s_value, "s_value")


def s_from_renormalized_ridge(dfvalue, ridge):
    r"""``S(df) = (1 - df)/(df nu)`` at ``df = df1(nu)`` [C17]: the paper's
    S-transform [C10] of a law read off its own renormalized ridge ``nu``.

    For ``A = c I``, ``df1(nu) = c/(c + nu)`` and the value is ``1/c``:

    >>> c = sp.Symbol("c", positive=True)
    >>> sp.simplify(s_from_renormalized_ridge(c/(c + nu), nu))
    1/c
    """
    dfvalue, ridge = as_expr(dfvalue, "df"), as_expr(ridge, "nu")
    return (1 - dfvalue) / (dfvalue * ridge)


def ratio(n_parameters, n_samples):
    """The overparameterization ratio ``q = N/P`` [C1] (pitfall P1).

    >>> ratio(200, 100)
    2
    """
    return as_expr(n_parameters, "n_parameters") / as_expr(n_samples, "n_samples")
