r"""Sign-definite forms of the random-feature quantities, derived for asymptotics.

The components of [R13]/[R14] contain differences whose leading terms cancel
in some regimes (``1 - rho`` when ``N >> P``, ``1 - gamma_1`` at the data
bottleneck, ``Var_XF`` as a remainder), so dominant balance cannot be applied
to the model's expressions as they stand.  This module *derives* forms without
cancellation from those expressions; nothing here is typed by hand.

**Positive coordinates.**  For one white layer without feature noise every
key of the model is a rational function of ``df1``, ``df2``, ``psi``,
``phi``, ``kappa_2``, ``sigma^2`` and the target means ``tf1``, ``tf2``,
``tf1'`` [C7].  Four identities of the model write each variable whose
differences cancel as a sum of nonnegative coordinates:

.. math::
    \mathrm{df}_1 = \mathrm{df}_2 + \Delta,\quad \Delta = \langle \kappa x/(x+\kappa)^2\rangle\ [C6],\qquad
    \psi = \mathrm{df}_1 + B,\quad B = \kappa_1/\kappa_2\ [R12],

.. math::
    \phi = \mathrm{df}_1 + \phi A,\quad A = \lambda/\kappa_1\ [R12],\qquad
    \mathrm{tf}_1 = \mathrm{tf}_2 + \kappa\,\mathrm{tf}_1'\ [C7].

Substituting them and cancelling gives each key as a ratio of two
polynomials in the coordinates ``df2, Delta, B, phi A, kappa_2, sigma^2,
tf2, tf1'``.  The rewrite is exact (substitution of identities and
polynomial cancellation).  A form is accepted only if it is
*subtraction-free*: both polynomials have coefficients of one sign.  It is
then a sum of products of nonnegative terms, so no order cancels and the
leading term is the largest monomial.  For example the derivation gives

.. math::
    1-\rho = \frac{\Delta}{B+\Delta},\qquad
    1-\gamma_2 = \frac{\Delta + \phi A}{\phi},\qquad
    1-\gamma_1 = \frac{\phi A (B+\Delta) + B\Delta}{\phi (B+\Delta)} .

A key that is not subtraction-free in these coordinates raises
:class:`~freeprob.errors.ParameterError` (it would need another coordinate,
not a silent cancellation).  Factors are kept where every factor is itself
subtraction-free, and the factor ``df2 + Delta + phi A`` is written ``phi``.
"""

from __future__ import annotations

import sympy as sp

from freeprob import conventions as C
from freeprob.numeric.cache import cached
from freeprob.numeric.spectrum import SpectralMean, absorb_means

A_SYM, B_SYM = sp.symbols("A_bottleneck B_bottleneck", nonnegative=True)
_GAP = sp.Dummy("phi_A", nonnegative=True)  # phi A = phi - df1 while deriving


def rf_forms(model):
    """Subtraction-free expressions of every key of ``model`` (one white
    layer, no feature noise), in ``A``, ``B``, the spectral means, ``kappa_2``,
    ``phi`` and ``sigma2``: derived (see the module) once per frozen model.

    >>> import freeprob
    >>> from freeprob.scaling._rf_forms import rf_forms
    >>> m = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 100), widths=80, samples=50)
    >>> rf_forms(m)["kappa1"]
    B_bottleneck*kappa_2

    Parameters
    ----------
    model : RandomFeatureRidge
        One white layer, ``feature_noise = 0`` (the exponent analysis checks both).
    """
    return dict(_rf_forms(model))


def _coordinates(model):
    """The identities of the module as a substitution, and the coordinates."""
    k = C.kappa2
    from freeprob.models._features_maps import _target_functionals

    pop = model.population
    d1, d2 = pop.df1(k), pop.df2(k)
    delta = absorb_means(sp.expand(d1 - d2))
    tf1, tf2, tf1p = _target_functionals(model, k, d1, d2)
    means = {d1: d2 + delta}
    if tf1 != d1:
        means[tf1] = tf2 + k * tf1p
    else:  # the isotropic target: tf1' = <x/(x + kappa)^2> = Delta/kappa
        means[tf1p] = delta / k
    return means, {model.psis[0]: B_SYM + d1, C.phi: d2 + delta + _GAP}, d2 + delta + _GAP


def _by_name(expr, table):
    """Replace each spectral mean that prints like a key of ``table`` (the
    bound variable of a mean is a dummy: equal means print alike)."""
    names = {str(k): v for k, v in table.items()}
    return expr.xreplace({m: names[str(m)] for m in expr.atoms(SpectralMean) if str(m) in names})


def _one_sign(poly_expr, gens):
    if poly_expr.is_number:
        return poly_expr != 0
    coeffs = sp.Poly(poly_expr, *gens).coeffs()
    return all(c > 0 for c in coeffs) or all(c < 0 for c in coeffs)


def _factors(poly_expr, gens, phi_sum):
    """``poly_expr`` as ``[(factor, power)]``: factored if every factor is
    subtraction-free, else one expanded factor; ``df2 + Delta + phi A`` is ``phi``."""
    if poly_expr.is_number:
        return [(poly_expr, 1)]
    coeff, factors = sp.factor_list(poly_expr, *gens)
    if not all(_one_sign(f, gens) for f, _ in factors):
        return [(sp.expand(poly_expr), 1)]
    return [(coeff, 1)] + [((C.phi if sp.expand(f - phi_sum) == 0 else f), k) for f, k in factors]


def _normalized(factors):
    """Each factor ``f`` with ``phi A`` restored, written ``phi^d (f/phi^d)``
    with ``d`` its degree in ``phi``: ``phi`` then appears as a monomial power
    and elsewhere only as ``1/phi``, so ``phi -> oo`` (the width at ``P = oo``)
    has a leading term."""
    power, rest = sp.Integer(0), sp.Integer(1)
    for f, k in factors:
        f = sp.expand(f.xreplace({_GAP: C.phi * A_SYM}))
        d = sp.degree(f, C.phi) if f.has(C.phi) else 0
        power += d * k
        rest *= (f if d == 0 else sp.expand(f / C.phi**d)) ** k
    return power, rest


def derive_form(expr, model, name="expr"):
    """The subtraction-free form of one expression of ``model`` (in its
    variables ``df1, df2, psi, phi``, the target means, ``kappa_2``,
    ``sigma2``), or :class:`~freeprob.errors.ParameterError` naming ``name``
    if the rewrite in the module's coordinates is not subtraction-free."""
    from freeprob.errors import ParameterError

    means, plain, phi_sum = _coordinates(model)
    e = sp.sympify(expr).subs(C.sigma_xi2, 0).xreplace({model.psis[0]: plain[model.psis[0]]})
    e = _by_name(e, means).xreplace({C.phi: plain[C.phi]})
    # each mean as a plain symbol while cancelling (sympy would expand their summands)
    held = {m: sp.Dummy(f"mean{i}", nonnegative=True)
            for i, m in enumerate(sorted(e.atoms(SpectralMean) | phi_sum.atoms(SpectralMean), key=str))}
    names = {str(m): d for m, d in held.items()}
    e = e.xreplace({m: names[str(m)] for m in e.atoms(SpectralMean)})
    num, den = sp.fraction(sp.cancel(sp.together(e)))
    gens = sorted(e.free_symbols - {C.phi}, key=str)
    if not (_one_sign(num, gens) and _one_sign(den, gens)):
        raise ParameterError(name, "(an expression of the model)", "subtraction-free in the coordinates "
                             "df2, Delta, B, phi A", "its rewrite has terms of both signs there")
    phi_sum = phi_sum.xreplace(held)
    p_num, f_num = _normalized(_factors(num, gens, phi_sum))
    p_den, f_den = _normalized(_factors(den, gens, phi_sum))
    form = C.phi ** (p_num - p_den) * f_num / f_den
    return form.xreplace({d: m for m, d in held.items()})


@cached(maxsize=32)
def _rf_forms(model):
    from freeprob.models._features_maps import _quantities

    own = dict(_quantities(model))  # a copy: the cached dict is shared
    own["one_minus_rho"] = 1 - own["rho"]
    return tuple((key, derive_form(expr, model, key)) for key, expr in own.items())


def substitute_bottlenecks(expr, model):
    """``A -> 1 - df1/phi`` and ``B -> psi - df1``: back to the model's variables."""
    d1 = model.population.df1(C.kappa2)
    return expr.subs({A_SYM: 1 - d1 / C.phi, B_SYM: model.psis[0] - d1})


__all__ = ["rf_forms", "derive_form", "substitute_bottlenecks", "A_SYM", "B_SYM", "SpectralMean"]
