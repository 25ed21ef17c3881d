"""Regenerate notebooks/*.ipynb (stored without outputs) from the cell lists
below: `python tools/make_notebooks.py`.  The notebooks use only freeprob's
public API; `FREEPROB_FAST=1` (set by the test suite) selects the fast
figure setting."""

import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "notebooks")

SETUP = """import os
import numpy as np
import sympy as sp
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from IPython.display import Markdown, Math, display

from freeprob import derivations
import freeprob
from freeprob import figures
from freeprob.conventions import df, kappa, lam, q, z

FAST = os.environ.get("FREEPROB_FAST", "0") == "1"   # the test suite runs the notebooks with FREEPROB_FAST=1
rng = np.random.default_rng(2024)


def show(figure_id):
    fig = figures.build(figure_id, fast=FAST, rng=rng)
    display(Markdown(f"**{fig.id}: {fig.title}.** {fig.caption}"))
    display(fig.render())
    plt.close("all")
    return fig


def derive(name):
    # build a derivation of derivations/, check every step, typeset it with the outcomes
    d = derivations.registry()[name].build()
    report = d.check(rng=rng)
    display(Markdown(d.to_markdown(reports=report)))
    failed = [r.row() for r in report if r.status == "failed"]
    assert not failed, failed
    return d, report"""

NOTEBOOKS = {
    "01_spectra_and_transforms.ipynb": [
        "# 1. Spectra, Stieltjes, R- and S-transforms\n\nAtanasov, Zavatone-Veth & Pehlevan, *Scaling and "
        "renormalization in high-dimensional regression*, sections on free probability ([R1], [R2], [R20], [R21]). "
        "Everything below is derived by freeprob from the laws' defining relations; nothing is typed in.",
        SETUP,
        "## Marchenko-Pastur: transforms in both S conventions [R1], [C9], [C10]",
        """W = freeprob.MarchenkoPastur(q)
display(Math(r"g_W(z) = " + freeprob.latex(W.stieltjes(z))))
display(Math(r"S_W(\\mathrm{df}) = " + freeprob.latex(W.s_transform(df, convention="df"))))
display(Math(r"S^V_W(t) = " + freeprob.latex(W.s_transform(sp.Symbol("t")))))
W.moments(4), W.free_cumulants(4)   # Narayana polynomials, free cumulants q^(k-1)""",
        "#### Converting between the two S conventions is an explicit function, not a sign flip in a formula",
        """t = sp.Symbol("t")
C = freeprob.conventions
C.s_df_from_voiculescu(W.s_transform(t), t, df)   # S(df) = S^V(-df)  [C10], pitfall P4""",
        "## Free multiplicative convolution and the deep white Wishart [R2]",
        """C2 = freeprob.free_mul(freeprob.MarchenkoPastur(2), freeprob.MarchenkoPastur(sp.Rational(1, 2)))
display(C2)                                # a WishartProduct: S(t) = prod 1/(1 + c_l t)
display(C2.moments(4))                     # exact moments from the S-transform
deep = freeprob.WishartProduct([30, 6])    # C = F2^T F1^T F1 F2, widths [200, 1000, 6000]
deep.atoms()                               # the exact atom at zero (pitfall P16)""",
        "## The derivations of this section, checked step by step",
        """derive("mp-s-transforms")
derive("free-products")
derive("figure-spectra");""",
        "## The paper's spectral figures F1-F4",
        """for fid in ("F1", "F2", "F3", "F4"):
    show(fid)""",
        "## The empirical spectrum of a power-law population (subordination) [R2a]",
        """emp = freeprob.free_mul(freeprob.PowerLaw(1.2, 500), freeprob.MarchenkoPastur(0.5))
x = np.logspace(-4, 0.5, 200)
rho = emp.density_numeric(x)
print("mass of the density on the grid:", np.trapezoid(rho, x))""",
    ],
    "02_linear_ridge.ipynb": [
        "# 2. Deterministic equivalence and linear ridge regression\n\n[R3]-[R10]: the renormalized ridge "
        "kappa = lambda S(df), errors, bias-variance decomposition, the train-test gap and GCV.",
        SETUP,
        "## Deterministic equivalence [R3]",
        """Sigma = freeprob.PowerLaw(1.5, 1000)
de = freeprob.deterministic_equivalent(Sigma, freeprob.MarchenkoPastur(q))
display(Math(freeprob.latex(de.kappa_equation())))
kap = de.solve(np.array([1e-6, 1e-3, 1.0]), 0.5)   # bracketed, certified root
kap""",
        "## Linear ridge: every error as a sympy expression [R6]-[R8]",
        """model = freeprob.LinearRidge(Sigma, target=freeprob.SourceTarget(0.8), noise=0.1, samples=400, ridge=1e-3)
exprs = model.quantities()
display(Math(r"E_g = " + freeprob.latex(exprs["Eg"])))
display(Math(r"E_{tr} = " + freeprob.latex(exprs["Etr"])))
model.evaluate()""",
        "## Theory vs Monte Carlo (crossed seeds, unbiased components, standard errors)",
        """sim = freeprob.simulate(model, seeds=6 if FAST else 30, rng=rng)
rows = freeprob.compare(model, sim, allowance=0.05)""",
        "## The derivations: deterministic equivalence, errors and GCV, isotropic closed forms, kernel ridge",
        """for name in ("deterministic-equivalence", "two-point", "linear-ridge", "isotropic-ridge", "kernel-ridge"):
    derive(name)""",
        "#### The same document in LaTeX, ready for a paper (a fragment; `to_latex(document=True)` gives a whole article)",
        """d, report = derive("isotropic-ridge")
print(d.to_latex(reports=report)[:900])""",
        "## Figures F6-F8: renormalized ridge, double descent, GCV",
        """for fid in ("F6", "F7", "F8"):
    show(fid)""",
    ],
    "03_power_law_scaling.ipynb": [
        "# 3. Power-law scaling [R11], [R21]\n\nExponents are derived from the model's own expressions by "
        "dominant balance, then checked against slopes of the numeric evaluator and against simulations.",
        SETUP,
        """from freeprob.scaling import ALPHA, ELL, R, continuum_forms, exponent, leading_term, regimes, verify

forms = continuum_forms(freeprob.PowerLaw(1.5, sp.oo), freeprob.SourceTarget(0.4))
forms""",
        "## Derived exponents",
        """lin = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 10**6), target=freeprob.SourceTarget(0.4), ridge=0.0)
display(Math(r"\\kappa \\sim P^{-%s}" % freeprob.latex(exponent(lin, "kappa", "samples", R < 1))))
display(Math(r"E_g \\sim P^{-%s}" % freeprob.latex(exponent(lin, "Eg", "samples", R < 1))))
display(Math(r"E_g \\sim P^{-%s}\\ (r > 1)" % freeprob.latex(exponent(lin, "Eg", "samples", R > 1))))""",
        "## Regimes of a noisy, ridge-limited model",
        """noisy = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 10**6), target=freeprob.SourceTarget(0.4), ridge=1e-3, noise=0.1)
for reg in regimes(noisy, "Eg", samples=40 if FAST else 200):
    print(reg.exponent, " where ", reg.conditions)""",
        "## Slopes of the evaluator vs the derived exponent",
        """v = verify(lin, "Eg", start=30, decades=2 if FAST else 3)
print(v)""",
        "## The derivation, checked step by step",
        """derive("power-law-scaling");""",
        "## Figures F9-F11",
        """for fid in ("F9", "F10", "F11"):
    show(fid)""",
    ],
    "04_random_features.ipynb": [
        "# 4. Linear random features, deep chains and anisotropic weights [R12]-[R18]",
        SETUP,
        """rf = freeprob.RandomFeatureRidge(freeprob.Identity(), widths=100, dimension=200, samples=150, ridge=1e-3, noise=0.0625)
for st in rf.steps()[:4]:
    display(st)
rf.evaluate()""",
        "## Isotropic ridgeless closed forms and the N <-> P duality [R15]",
        """forms = rf.isotropic_ridgeless_closed_forms()
list(forms)""",
        "## Monte Carlo with crossed X/F seeds [R14]",
        """sim = freeprob.simulate(rf, seeds=(4, 4) if FAST else (12, 12), rng=rng)
rows = freeprob.compare(rf, sim, allowance=0.05, floor=0.01)""",
        "## Deep chains [R17]",
        """deep = freeprob.RandomFeatureRidge(freeprob.PowerLaw(1.5, 2000), widths=[1000, 1000], samples=300,
                                   ridge=1e-5, target=freeprob.SourceTarget(0.7))
display(Math(r"S_F(\\mathrm{df}) = " + freeprob.latex(deep.s_features())))
deep.evaluate()["Eg"]""",
        "## The derivations: nested renormalization, deep chains, anisotropic weights",
        """for name in ("random-features", "deep-chains", "anisotropic-weights"):
    derive(name)""",
        "## Figures F12-F17 and the phase diagram F18",
        """for fid in ("F12", "F13", "F14", "F15", "F16", "F17", "F18"):
    show(fid)""",
    ],
    "05_feature_noise_and_nonlinear.ipynb": [
        "# 5. Additive feature noise and nonlinear features [R19]\n\nNonlinear random features reduce by "
        "Gaussian equivalence to linear features plus additive noise.",
        SETUP,
        """noisy = freeprob.RandomFeatureRidge(freeprob.Identity(), widths=100, dimension=200, samples=150, ridge=1e-3,
                                    feature_noise=0.25)
noisy.evaluate()""",
        "## Nonlinear features via Gaussian equivalence",
        """relu = freeprob.activation("relu")
nl = freeprob.NonlinearRandomFeatureRidge(freeprob.Identity(), widths=100, dimension=200, samples=150, ridge=1e-3,
                                          activation=relu)
nl.evaluate()["Eg"]""",
        "## The derivation, checked step by step",
        """derive("feature-noise");""",
        "## Figures F19-F23",
        """for fid in ("F19", "F20", "F21", "F22", "F23"):
    show(fid)""",
    ],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [new_markdown_cell(c) if c.startswith("#") else new_code_cell(c) for c in cells]
        nbformat.write(nb, os.path.join(OUT, name))


if __name__ == "__main__":
    main()
