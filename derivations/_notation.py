"""Named quantities of the derivations, printed in the paper's notation.

These are placeholders only: each derivation binds them, through a step's
``where``, to the expression the library computes.  The documents show the
names and the checks substitute the library's values.  No formula is written
here.
"""

import sympy as sp

F = sp.Function

# transforms and spectral functionals of a law (the argument is given at use)
g_W, R_W = F("g_W"), F("R_W")
S_V_W, S_W = F(r"S^{\mathrm{V}}_W"), F("S_W")
S_Sigma, S_hat = F(r"S_\Sigma"), F(r"S_{\hat\Sigma}")
S_F = F("S_F")
lam_Sigma, lam_hat = F(r"\lambda_\Sigma"), F(r"\lambda_{\hat\Sigma}")
df1_W, df1_Sigma, df1_hat = F(r"\mathrm{df}^1_W"), F(r"\mathrm{df}^1_\Sigma"), F(r"\mathrm{df}^1_{\hat\Sigma}")
df2_Sigma = F(r"\mathrm{df}^2_\Sigma")
rho_W = F(r"\rho_W")
tf1 = F(r"\mathrm{tf}_1")
lam_of_kappa = F(r"\lambda")
kappa_of_lam = F(r"\kappa")

# errors and their components [C15]
E_g, E_tr = sp.Symbol("E_g"), sp.Symbol("E_{tr}")
Bias2 = sp.Symbol(r"\mathrm{Bias}^2")
Var_X, Var_F, Var_XF = sp.Symbol(r"\mathrm{Var}_X"), sp.Symbol(r"\mathrm{Var}_F"), sp.Symbol(r"\mathrm{Var}_{XF}")
Var_Xe, Var_XFe = sp.Symbol(r"\mathrm{Var}_{X\epsilon}"), sp.Symbol(r"\mathrm{Var}_{XF\epsilon}")
gamma, gamma1, gamma2 = sp.Symbol(r"\gamma"), sp.Symbol(r"\gamma_1"), sp.Symbol(r"\gamma_2")
rho = sp.Symbol(r"\rho")
S_fac = sp.Symbol("S")
GCV = sp.Symbol(r"\mathrm{GCV}")
kappa_hat = sp.Symbol(r"\hat\kappa")


def moment(k, of=""):
    """``m_k`` (of a named law)."""
    return sp.Symbol(f"m_{{{k}}}" + (rf"\left({of}\right)" if of else ""))


def exponent_of(quantity, variable="P"):
    """``beta`` in ``quantity ~ variable^-beta``."""
    return sp.Symbol(rf"\beta_{{{quantity}}}^{{({variable})}}")
