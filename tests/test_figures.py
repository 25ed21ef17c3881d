"""Figures F1-F23 in fast mode: every builder runs, its theory curves equal
the evaluators re-run independently (mpmath for linear ridge, scalar calls
for random features, sympy densities and exact moments for the spectra), its
simulation points agree with the theory within a statistical tolerance, and
every figure renders to PNG and PDF."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import freeprob as fp
from freeprob import figures
from freeprob.errors import ParameterError

IDS = figures.available()


@pytest.fixture(scope="module")
def built():
    return {}


def _fig(built, fid):
    if fid not in built:
        built[fid] = figures.build(fid, fast=True)
    return built[fid]


def test_registry_lists_every_paper_figure():
    assert IDS == tuple(f"F{i}" for i in range(1, 24))


def test_unknown_figure_lists_valid_ids():
    with pytest.raises(ParameterError) as exc:
        figures.build("F99")
    assert "F1" in str(exc.value) and "F23" in str(exc.value)


def test_cli_unknown_figure_lists_valid_ids(capsys):
    from freeprob.app.cli import main

    assert main(["figures", "--only", "F0", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert "F0" in err and "F23" in err


def _theory_series(fig, sweep):
    for panel in fig.panels:
        if sweep.panels and panel.title not in sweep.panels:
            continue
        for s in panel.series:
            if s.kind == "theory":
                yield panel, s


def _evaluate(model, p, sweep, dps):
    kw = {"samples": float(p), **{k: float(v) for k, v in sweep.ridge(p).items()}}
    if isinstance(model, fp.LinearRidge):
        return model.evaluate(dps=dps, **kw)
    return model.evaluate(**kw)


SWEEPS = [i for i in IDS if i not in ("F1", "F2", "F3", "F4", "F5", "F17", "F18")]


@pytest.mark.parametrize("fid", SWEEPS)
def test_theory_curves_equal_evaluators(built, fid):
    """Three points of every theory curve are re-evaluated from the recorded
    model: linear ridge through the mpmath path at 30 digits (an independent
    Newton refinement and backend), random features one point at a time
    (no tabulated Hermite starts).  Agreement to 1e-7 relative: the float
    solver's certified tolerance is ~1e-12, and the mpmath refinement is
    exact to 30 digits."""
    fig = _fig(built, fid)
    assert fig.sweeps, "sweep figures record their model"
    checked = 0
    for sweep in fig.sweeps:
        idx = [0, len(sweep.samples) // 2, len(sweep.samples) - 1]
        for i in idx:
            ref = _evaluate(sweep.model, sweep.samples[i], sweep, 30)
            for panel, s in _theory_series(fig, sweep):
                key = s.key
                want = (float(np.ravel(ref["var_F"])[0]) + float(np.ravel(ref["var_XF"])[0])
                        if key == "var_F+var_XF" else float(np.ravel(ref[key])[0]))
                assert len(s.y) == len(sweep.samples)
                assert s.y[i] == pytest.approx(want, rel=1e-7, abs=1e-300), (panel.title, key, sweep.samples[i])
                checked += 1
    assert checked >= 6


#: simulation key -> theory key it estimates
_EST = {"gcv": "Eg", "kappa_hat": "kappa"}


@pytest.mark.parametrize("fid", SWEEPS)
def test_simulation_points_agree_with_theory(built, fid):
    """E_g (and its GCV estimate), kappa (the GCV kappa_hat) and df1 from the
    fast-mode Monte Carlo agree with
    the theory at each simulated P within 4 standard errors plus a
    finite-size allowance of 25% (fast mode runs at N, D ~ 50-600; pitfall P10
    gives 0.5-2% at N ~ 400 growing like 1/N, and up to ~10% near P = N
    where the ridgeless variance peaks; the allowance is a bound on those,
    not a fit).  A bug in a component or a mis-scaled parameter moves E_g by
    far more.  At most one point may miss (fast mode uses 3-6 seeds, so a
    4-s.e. excursion is not negligible over all points of all figures)."""
    fig = _fig(built, fid)
    misses, total = [], 0
    for sweep in fig.sweeps:
        model = sweep.model
        for panel in fig.panels:
            if sweep.panels and panel.title not in sweep.panels:
                continue
            for s in panel.series:
                if s.kind != "simulation" or s.key not in ("Eg", "kappa", "kappa1", "df1"):
                    continue
                for p, m, e in zip(sweep.sim_samples, s.y, s.yerr):
                    th = float(np.ravel(_evaluate(model, p, sweep, None)[s.key])[0])
                    total += 1
                    if abs(m - th) > 4 * e + 0.25 * abs(th):
                        misses.append((panel.title, s.label, p, m, e, th))
    assert total >= 3
    assert len(misses) <= 1, misses


def _bin_averages(xs, ys, edges):
    mid = 0.5 * (edges[1:] + edges[:-1])
    return np.interp(mid, xs, ys)


def test_f1_semicircle_is_the_sympy_density_and_fits_the_histogram(built):
    fig = _fig(built, "F1")
    (panel,) = fig.panels
    th = next(s for s in panel.series if s.kind == "theory")
    x = sp.Symbol("x", real=True)
    dens = fp.Semicircle(1).density(x)
    for xv, yv in list(zip(th.x, th.y))[5::60]:
        assert yv == pytest.approx(float(dens.subs(x, xv)), abs=1e-12)
    _histogram_matches(panel, th, fig.parameters["N"])


def _histogram_matches(panel, th, n, allowance=0.1):
    """Each bin's density within 5 Poisson standard deviations plus a 10%
    allowance of the bin-averaged theory (edge effects of a finite
    spectrum; eigenvalue repulsion only lowers the fluctuations)."""
    h = next(s for s in panel.series if s.kind == "histogram")
    edges, dens = np.asarray(h.x), np.asarray(h.y)
    width = np.diff(edges)
    want = _bin_averages(np.asarray(th.x), np.asarray(th.y), edges)
    counts = dens * n * width
    tol = 5 * np.sqrt(np.maximum(counts, 1)) / (n * width) + allowance * want
    assert np.all(np.abs(dens - want) <= tol)


def test_f2_mp_densities_equal_sympy_and_histograms(built):
    fig = _fig(built, "F2")
    (panel,) = fig.panels
    x = sp.Symbol("x", positive=True)
    theories = [s for s in panel.series if s.kind == "theory"]
    hists = [s for s in panel.series if s.kind == "histogram"]
    assert len(theories) == len(hists) == 5
    for q, th, h in zip(fig.parameters["q"], theories, hists):
        dens = fp.MarchenkoPastur(sp.nsimplify(q, rational=True)).density(x)
        xv, yv = th.x[100], th.y[100]
        assert yv == pytest.approx(float(dens.subs(x, xv)), rel=1e-9)
        sub = fp.figures.Panel("", series=(h,))
        _histogram_matches(sub, th, fig.parameters["N"], allowance=0.15)


def test_f3_free_product_density_has_the_right_mass_and_mean(built):
    """The subordination density of Sigma x MP(q) integrates to the
    nonzero mass min(1, 1/q) and has first moment tr Sigma/N (route: the
    exact moments of the free product), to the grid's quadrature error."""
    fig = _fig(built, "F3")
    (panel,) = fig.panels
    n = fig.parameters["N"]
    eta = np.arange(1, n + 1) ** -fig.parameters["alpha"]
    for th in (s for s in panel.series if s.kind == "theory"):
        x, y = th.arrays
        q = float(th.label.split("=")[1].split()[0])
        mass = np.trapezoid(y, x)
        assert mass == pytest.approx(min(1.0, 1 / q), rel=0.08), th.label
        assert np.trapezoid(x * y, x) == pytest.approx(eta.mean(), rel=0.08), th.label


def test_f4_deep_wishart_density_moments_are_fuss_catalan(built):
    """The density from zt = (1+t)(1+c1 t)(1+c2 t) integrates to 1/c1 (rank
    N0 of N2) and its first two moments equal the law's exact moments [R2d]
    (quadrature on the plotted grid: 2%)."""
    fig = _fig(built, "F4")
    n0, n1, n2 = fig.parameters["widths"]
    law = fp.WishartProduct([n2 / n0, n2 / n1])
    th = fig.panel("linear density").series[1]
    x, y = th.arrays
    m1, m2 = (float(v) for v in law.moments(2))
    assert np.trapezoid(y, x) == pytest.approx(n0 / n2, rel=0.02)
    assert np.trapezoid(x * y, x) == pytest.approx(m1, rel=0.02)
    assert np.trapezoid(x * x * y, x) == pytest.approx(m2, rel=0.02)
    _histogram_matches(fig.panel("linear density"), th, n2, allowance=0.5)


def test_f5_regions_name_every_simulated_component(built):
    from freeprob.montecarlo._features import RF_SIM_KEYS

    fig = _fig(built, "F5")
    regions = " ".join(label for _, label in dict(fig.panel("linear random features").extra)["regions"])
    names = {"bias2": "Bias^2", "var_X": "Var_X", "var_F": "Var_F", "var_XF": "Var_XF",
             "var_X_noise": "Var_Xeps", "var_XF_noise": "Var_XFeps"}
    for key in RF_SIM_KEYS:
        if key in names:
            assert names[key] in regions


def test_f17_theory_is_the_finite_width_curve(built):
    """Route: :func:`freeprob.scaling.finite_width_curve` builds one model
    per width independently of the figure's loop."""
    from freeprob.scaling import finite_width_curve

    fig = _fig(built, "F17")
    prm = fig.parameters
    (panel,) = fig.panels
    for s in panel.series:
        af = float(s.label.split("=")[1].split("$")[0])
        if s.kind != "theory" or af == 0:
            continue
        w = np.asarray(s.x, dtype=int)[[0, -1]]
        _, vals, _ = finite_width_curve(fp.PowerLaw(prm["alpha"], prm["D"]), prm["P"], af, w,
                                        target=fp.SourceTarget(prm["r"]))
        assert np.asarray(s.y)[[0, -1]] == pytest.approx(vals, rel=1e-7)


def test_f18_uses_the_corrected_noisy_signal_term(built):
    """P17: the noisy signal exponent keeps min(r, 1)."""
    from freeprob.scaling import ELL

    fig = _fig(built, "F18")
    noisy = dict(fig.panels[1].extra)["phase"]
    assert noisy.noisy and "P17" in fig.caption
    r = fig.parameters["r"]
    sig = noisy.terms()["signal"]
    assert float(sig.subs(ELL, 0.6)) == pytest.approx(2 * 1.2 * min(1, 0.6 / 1.2) * min(r, 1))


def test_captions_state_the_fixed_defects(built):
    for fid, pit in (("F16", "P7"), ("F18", "P17"), ("F12", "P18"), ("F13", "P11")):
        assert pit in _fig(built, fid).caption


def test_figures_are_hashable_and_frozen(built):
    fig = _fig(built, "F7")
    hash(fig.panels)
    with pytest.raises(Exception):
        fig.panels[0].series[0].y = ()


@pytest.mark.parametrize("fid", IDS)
def test_every_figure_renders(built, fid, tmp_path):
    paths = _fig(built, fid).save(str(tmp_path))
    for p in paths:
        with open(p, "rb") as fh:
            head = fh.read(8)
        if p.endswith(".png"):
            assert head.startswith(b"\x89PNG")
        elif p.endswith(".pdf"):
            assert head.startswith(b"%PDF")


def test_bad_series_are_rejected():
    with pytest.raises(ParameterError):
        figures.Series("x", (1, 2), (1,))
    with pytest.raises(ParameterError):
        figures.Series("x", (1, 2), (1, 2), kind="bar")


def test_size_changes_the_simulated_figures_and_says_so():
    """``dimension=`` and ``seeds=`` rebuild a random-feature figure at another
    size: the model, the widths (their ratio to D kept) and the seed grid
    follow, and the caption states the size against the authors'."""
    fig = figures.build("F14", fast=True, dimension=400, seeds=(3, 4))
    prm = fig.parameters
    assert prm["D"] == 400 and prm["N"] == 80 and prm["seeds"] == (3, 4)   # N = 2000 D / 10^4
    model = fig.sweeps[0].model
    assert int(model.dimension) == 400 and [int(w) for w in model.widths] == [80]
    assert "Size: D=400 and 3 x 4 seeds (the authors': D=10000 and 20 x 20)." in fig.caption
    deep = figures.build("F16", fast=True, dimension=200, seeds=3)
    assert deep.parameters["N"] == [100, 100] and "Size: D=200 and 3 x 3 seeds" in deep.caption
    noisy = figures.build("F21", fast=True, dimension=100, seeds=3)
    assert noisy.parameters["N"] == 50 and float(noisy.sweeps[0].model.feature_noise) == 2.5**2 / 100
    # at the authors' size the caption has no size statement
    assert "Size:" not in figures.build("F5", fast=True).caption


@pytest.mark.parametrize("kw, name", [
    ({"dimension": 19}, "dimension"), ({"dimension": 2.5e3}, "dimension"), ({"dimension": True}, "dimension"),
    ({"seeds": 2}, "seeds"), ({"seeds": (3, 2)}, "seeds"), ({"seeds": (3, 3, 3)}, "seeds"),
    ({"seeds": "10x10"}, "seeds")])
def test_bad_sizes_name_the_parameter(kw, name):
    with pytest.raises(ParameterError) as exc:
        figures.build("F13", fast=True, **kw)
    assert exc.value.name == name


def test_fixed_size_figures_refuse_a_size(capsys):
    from freeprob.app.cli import main

    with pytest.raises(ParameterError) as exc:
        figures.build("F7", dimension=100)
    assert exc.value.name == "dimension" and "F13" in str(exc.value)
    assert main(["figures", "--only", "F7", "--seeds", "5", "--out", "x"]) == 2
    assert "--seeds apply to F12" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:   # argparse rejects the option's value
        main(["figures", "--only", "F13", "--seeds", "2x5", "--out", "x"])
    assert stop.value.code == 2 and "not a seed grid" in capsys.readouterr().err


def test_cli_builds_a_figure_at_another_size(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from freeprob.app.cli import main

    assert main(["figures", "--only", "F19", "--fast", "--dimension", "40", "--seeds", "3x4",
                 "--out", str(tmp_path)]) == 0
    assert (tmp_path / "F19_unstructured_NLRF.png").exists()
