r"""Sign-definite forms of the random-feature quantities for asymptotics.

The components of [R13]/[R14] contain differences whose leading terms cancel
in some regimes (``1 - rho`` when ``N >> P``, ``1 - gamma_1`` at the data
bottleneck, ``Var_XF`` as a remainder).  Using only the model's identities
(one white layer, no feature noise) -- ``A = 1 - df1/phi = lambda/kappa_1``
[R12], ``B = psi - df1 = kappa_1/kappa_2`` [R12], ``Delta = df1 - df2 =
<kappa x/(x + kappa)^2>`` [C6], ``rho = B/(B + Delta)`` [R13] -- every key
becomes a sum of products of nonnegative terms:

.. math::
    1-\rho = \frac{\Delta}{B+\Delta},\quad 1-\gamma_1 = A + \frac{\rho\Delta}{\phi},\quad
    1-\gamma_2 = A + \frac{\Delta}{\phi},\quad
    \mathrm{Var}_{XF} = \frac{1-\rho}{1-\gamma_1}\Big[\mathrm{Bias}^2\frac{\Delta/\phi}{1-\gamma_2}
    + \kappa_2\gamma_1\mathrm{tf}_2\Big],\quad
    \mathrm{Var}_{XF\epsilon} = \sigma^2\frac{(1-\rho)\Delta/\phi}{(1-\gamma_1)(1-\gamma_2)} .

The forms are a rewrite of the model's own expressions, not a second
definition: :func:`rf_forms` checks, symbolically and for the model at hand,
that each form equals the model's expression once ``A``, ``B`` and ``Delta``
are substituted back (every spectral mean held as a symbol), and raises
:class:`~freeprob.errors.ParameterError` if one does not.
"""

from __future__ import annotations

import sympy as sp

from freeprob import conventions as C
from freeprob.numeric.cache import cached
from freeprob.numeric.spectrum import SpectralMean, absorb_means

A_SYM, B_SYM = sp.symbols("A_bottleneck B_bottleneck", nonnegative=True)


def rf_forms(model):
    """Sign-definite expressions of every key, in ``A``, ``B``, the means and
    ``kappa_2``, ``phi``, ``sigma2`` (see the module); derived and checked
    once per (frozen) model."""
    return dict(_rf_forms(model))


@cached(maxsize=32)
def _rf_forms(model):
    from freeprob.models._features_maps import _target_functionals

    k = C.kappa2
    pop = model.population
    d1, d2 = pop.df1(k), pop.df2(k)
    delta = absorb_means(sp.expand(d1 - d2))
    tf1, tf2, tf1p = _target_functionals(model, k, d1, d2)
    phi, s2 = C.phi, C.sigma2
    a, b = A_SYM, B_SYM
    rho = b / (b + delta)
    one_m_rho = delta / (b + delta)
    gamma1 = (one_m_rho * d1 + rho * d2) / phi
    gamma2 = d2 / phi
    one_m_g1 = a + rho * delta / phi
    one_m_g2 = a + delta / phi
    bias2 = k**2 * tf1p
    var_x = bias2 * gamma2 / one_m_g2
    var_f = one_m_rho * k * tf2
    var_xf = one_m_rho / one_m_g1 * (bias2 * (delta / phi) / one_m_g2 + k * gamma1 * tf2)
    var_xn = s2 * gamma2 / one_m_g2
    var_xfn = s2 * one_m_rho * (delta / phi) / (one_m_g1 * one_m_g2)
    eg = bias2 + var_x + var_f + var_xf + var_xn + var_xfn
    out = {"kappa2": k, "df1": d1, "df2": d2, "rho": rho, "gamma1": gamma1, "gamma2": gamma2,
           "bias2": bias2, "var_X": var_x, "var_F": var_f, "var_XF": var_xf, "var_X_noise": var_xn,
           "var_XF_noise": var_xfn, "Eg": eg, "one_minus_rho": one_m_rho}
    _check_rewrite(model, out, {delta: d1 - d2, tf1p: (tf1 - tf2) / k})
    return tuple(out.items())


def _by_name(expr, identities):
    """Replace each spectral mean that prints like a key of ``identities``
    (the bound variable of a mean is a dummy: equal means print alike)."""
    names = {str(k): v for k, v in identities.items()}
    return expr.xreplace({m: names[str(m)] for m in expr.atoms(SpectralMean) if str(m) in names})


def _check_rewrite(model, forms, identities):
    """Each form equals the model's expression (``sigma_xi^2 = 0``) identically,
    given the identities ``Delta = df1 - df2`` and ``tf1 - tf2 = -kappa tf1'`` [C6], [C7]."""
    from freeprob.errors import ParameterError
    from freeprob.models._features_maps import _quantities

    own = _quantities(model)
    own["one_minus_rho"] = 1 - own["rho"]
    for key, form in forms.items():
        back = _by_name(substitute_bottlenecks(form, model), identities)
        diff = back - _by_name(own[key].subs(C.sigma_xi2, 0), identities)
        # a mean is identified by its summand and spectrum, whatever its bound variable
        names = {str(m) for m in diff.atoms(SpectralMean)}
        symbols = {name: sp.Dummy(f"mean{i}") for i, name in enumerate(sorted(names))}
        means = {m: symbols[str(m)] for m in diff.atoms(SpectralMean)}
        if sp.simplify(sp.together(diff.xreplace(means))) != 0:
            raise ParameterError("model", repr(model), "a model whose sign-definite forms match its expressions",
                                 f"the rewrite of {key} does not reproduce the model")


def substitute_bottlenecks(expr, model):
    """``A -> 1 - df1/phi`` and ``B -> psi - df1``: back to the model's variables."""
    d1 = model.population.df1(C.kappa2)
    return expr.subs({A_SYM: 1 - d1 / C.phi, B_SYM: model.psis[0] - d1})


__all__ = ["rf_forms", "substitute_bottlenecks", "A_SYM", "B_SYM", "SpectralMean"]
