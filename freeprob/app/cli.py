"""The ``freeprob`` command line.

Subcommands
-----------
``freeprob laws``
    list the catalogue of spectral laws and the conventions.
``freeprob transform LAW --param NAME=VALUE ... --kind KIND [--convention df] [--format text|latex|json]``
    one transform of one law, e.g.
    ``freeprob transform marchenko-pastur --param ratio=q --kind s --convention df --format latex``.
``freeprob convolve LAW_A LAW_B --op {add,mul} [--param a.NAME=VALUE] [--density LO:HI:N] [--format ...]``
    free convolution of two catalogue laws, e.g.
    ``freeprob convolve discrete:values=-1|1 discrete:values=-1|1 --op add``.
``freeprob ridge --population powerlaw:alpha=1.5,n=2000 --target source:r=0.5 --samples 500 --ridge 1e-3 [--noise 0] [--simulate --seeds 100] [--format text|json|latex]``
    linear ridge regression in the proportional limit (and Monte Carlo).
``freeprob check``
    the main job: build every catalogue law and check its transforms by
    independent routes; prints a table, exits 1 on any failure.
``freeprob bench [NAME ...]``
    benchmarks with ratios against in-process baselines.

Values are parsed by :mod:`freeprob.parsing` (numbers, ``p/q``, symbol names,
comma lists), never evaluated.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

import sympy as sp

from freeprob import conventions as C
from freeprob.app._options import (
    _count,
    _directory,
    _print_simulation,
    _scheduler,
    _seed,
    _seed_grid,
    _simulation_json,
    _values,
    _workers,
)
from freeprob.errors import FreeprobError, ParseError

__all__ = ["main"]

_KINDS = ("stieltjes", "r", "s", "t", "psi", "moments", "free-cumulants", "density", "df1", "df2")


def _build_law(name, params):
    from freeprob.laws import CATALOGUE

    if name not in CATALOGUE:
        raise ParseError(f"unknown law {name!r}; valid laws: {', '.join(CATALOGUE)}")
    try:
        return CATALOGUE[name](**params)
    except TypeError as exc:
        raise ParseError(f"bad parameters for {name}: {exc}") from None


def _transform(law, kind, convention, order):
    """(variable, label, expression or list) for the requested kind."""
    if kind == "stieltjes":
        return C.z, "g(z)", law.stieltjes(C.z)
    if kind == "t":
        return C.z, "t(z)", law.t_transform(C.z)
    if kind == "psi":
        return C.u, "psi(u)", law.moment_generating(C.u)
    if kind == "r":
        return C.w, "R(w)", law.r_transform(C.w)
    if kind == "s":
        if convention == "df":
            return C.df, "S(df)", law.s_transform(C.df, convention="df")
        return C.t, "S(t)", law.s_transform(C.t)
    if kind == "moments":
        return None, f"m_1..m_{order}", law.moments(order)
    if kind == "free-cumulants":
        return None, f"kappa_1..kappa_{order}", law.free_cumulants(order)
    if kind == "density":
        return C.x, "rho(x)", law.density(C.x)
    if kind == "df1":
        return C.lam, "df1(lambda)", law.df1(C.lam)
    return C.lam, "df2(lambda)", law.df2(C.lam)


def _cmd_laws(args, out):
    from freeprob.laws import CATALOGUE

    out("Spectral laws (freeprob transform NAME --param ...):")
    for name, cls in CATALOGUE.items():
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        import inspect

        sig = str(inspect.signature(cls.__init__)).replace("(self, ", "(").replace("(self)", "()")
        out(f"  {name:<18} {cls.__name__}{sig}")
        out(f"  {'':<18} {summary}")
    out("")
    out("Conventions (freeprob.conventions):")
    for k, v in C.CONVENTIONS.items():
        out(f"  {k:<18} {v}")
    return 0


def _cmd_transform(args, out):
    from freeprob.parsing import parse_params
    from freeprob.printing import latex

    law = _build_law(args.law, parse_params(args.param))
    var, label, expr = _transform(law, args.kind, args.convention, args.order)
    if args.format == "json":
        payload = {
            "law": repr(law),
            "kind": args.kind,
            "convention": args.convention,
            "variable": None if var is None else str(var),
            "expression": [str(e) for e in expr] if isinstance(expr, list) else str(expr),
            "latex": latex(expr),
        }
        out(json.dumps(payload, indent=2))
    elif args.format == "latex":
        out(latex(expr))
    else:
        out(f"{label} = {expr}")
    return 0


def _cmd_convolve(args, out):
    import numpy as np

    from freeprob.laws import free_add, free_mul
    from freeprob.parsing import parse_law_spec, parse_params
    from freeprob.printing import latex

    specs = {}
    for key, text in (("a", args.law_a), ("b", args.law_b)):
        name, params = parse_law_spec(text)
        specs[key] = [name, params]
    for item in args.param:
        target, dot, rest = item.partition(".")
        if not dot or target not in ("a", "b"):
            raise ParseError(f"--param {item!r}: prefix the name with a. or b. (e.g. a.ratio=2)")
        specs[target][1].update(parse_params([rest]))
    a = _build_law(*specs["a"])
    b = _build_law(*specs["b"])
    law = free_add(a, b) if args.op == "add" else free_mul(a, b)
    from freeprob.errors import NoClosedFormError

    z = C.z
    result = {"law": repr(law), "op": args.op}
    try:
        curve = law.algebraic_equation(sp.Symbol("g"), z)
        poly = sp.Poly(curve, sp.Symbol("g"), z)
        result["algebraic_equation"] = str(curve)
        result["degree"] = [poly.degree(sp.Symbol("g")), poly.degree(z)]
        result["latex"] = latex(sp.Eq(curve, 0))
    except NoClosedFormError:
        result["algebraic_equation"] = None
    try:
        result["moments"] = [str(m) for m in law.moments(args.order)]
    except NoClosedFormError:
        result["moments"] = None
    if not law.free_symbols:
        result["support"] = [[float(lo), float(hi)] for lo, hi in law._ac_intervals()]
        result["atoms"] = [[float(loc), float(m)] for loc, m in law.atoms()]
    if args.density:
        parts = args.density.split(":")
        if len(parts) != 3:
            raise ParseError("--density takes LO:HI:N")
        lo, hi = (_values(p, f"--density {name}", "real") for p, name in zip(parts[:2], ("LO", "HI")))
        n = _values(parts[2], "--density N", "count")
        if np.ndim(lo) or np.ndim(hi) or np.ndim(n) or not lo < hi or not 2 <= n <= 100_000:
            raise ParseError(f"--density {args.density!r}: one number each, LO < HI and 2 <= N <= 100000")
        xs = np.linspace(lo, hi, int(n))
        result["density"] = {"x": xs.tolist(), "rho": law.density_numeric(xs).tolist()}
    if args.format == "json":
        out(json.dumps(result, indent=2))
    elif args.format == "latex":
        out(result.get("latex") or latex(law))
    else:
        out(f"law       {result['law']}")
        if result["algebraic_equation"]:
            out(f"curve     {result['algebraic_equation']} = 0   (degree {result['degree'][0]} in g, "
                f"{result['degree'][1]} in z)")
        if result["moments"]:
            out(f"moments   {', '.join(result['moments'])}")
        if "support" in result:
            out(f"support   {result['support']}   atoms {result['atoms']}")
        if "density" in result:
            for x, r in zip(result["density"]["x"], result["density"]["rho"]):
                out(f"  {x: .6g}  {r:.10g}")
    return 0


def _estimator_options(args):
    """An option of another estimator is refused, never silently ignored."""
    for option, value, owner in (("--time", args.time, "gradient-flow"), ("--step", args.step, "gradient-descent"),
                                 ("--steps", args.steps, "gradient-descent"),
                                 ("--threshold", args.threshold, "cutoff")):
        if value is not None and args.estimator != owner:
            raise ParseError(f"{option} belongs to --estimator {owner}, not {args.estimator}")


def _cmd_ridge(args, out):
    import numpy as np

    from freeprob.models.linear import KEYS, LinearRidge
    from freeprob.printing import latex

    pop, dimension, target = _model_inputs(args)
    values = _values
    ridge, samples = values(args.ridge, "--ridge"), values(args.samples, "--samples", "count")
    noise = values(args.noise, "--noise")
    _estimator_options(args)
    if args.estimator != "ridge":
        from freeprob.app._training import cmd_spectral

        return cmd_spectral(args, out, pop, dimension, target, ridge, samples, noise)
    model = LinearRidge(pop, target=target, noise=0, samples=int(np.max(samples)), ridge=0,
                        dimension=dimension)
    res = model.evaluate(ridge=ridge, samples=samples, noise=noise)
    result = {k: np.atleast_1d(res[k]).tolist() for k in KEYS}
    if args.simulate:
        from freeprob.montecarlo.simulate import simulate

        sim_model = LinearRidge(pop, target=target, noise=float(np.atleast_1d(noise)[0]),
                                samples=int(np.atleast_1d(samples)[0]), ridge=0, dimension=dimension)
        sim = simulate(sim_model, seeds=args.seeds, rng=np.random.default_rng(args.seed),
                       ridge=np.atleast_1d(ridge))
        result["simulation"] = _simulation_json(sim)
    if args.format == "json":
        out(json.dumps(result, indent=2))
    elif args.format == "latex":
        qs = model.quantities()
        out(r"\begin{align}")
        out(r" \kappa &= " + latex(model.kappa_equation().rhs) + r" \\")
        for key in ("gamma", "S", "bias2", "var_X", "var_X_noise", "Eg", "Etr"):
            out(f" {key.replace('_', ' ')} &= {latex(qs[key])} \\\\")
        out(r"\end{align}")
    else:
        out(f"model     LinearRidge({pop!r}, target={target}, q = N/P)")
        out("  " + "  ".join(f"{k:>12}" for k in KEYS))
        for row in zip(*[np.atleast_1d(res[k]).ravel() for k in KEYS]):
            out("  " + "  ".join(f"{v:>12.6g}" for v in row))
        if args.simulate:
            out(f"simulation ({args.seeds} seeds): mean +- s.e.")
            _print_simulation(sim, out)
    return 0


def _cmd_features(args, out):
    import numpy as np

    from freeprob.models.features import RF_KEYS, RandomFeatureRidge
    from freeprob.models.nonlinear import NonlinearRandomFeatureRidge
    from freeprob.parsing import parse_law_spec
    from freeprob.printing import latex

    pop, dimension, target = _model_inputs(args)
    values = _values
    widths = values(args.widths, "--widths", "count")
    widths = [int(w) for w in widths] if isinstance(widths, np.ndarray) else int(widths)
    ridge, samples = values(args.ridge, "--ridge"), values(args.samples, "--samples", "count")
    noise, feature_noise = values(args.noise, "--noise"), values(args.feature_noise, "--feature-noise")
    fcov = None
    if args.feature_covariance:
        fname, fparams = parse_law_spec(args.feature_covariance)
        fcov = _build_law(fname, fparams)
    common = dict(target=target, noise=float(np.atleast_1d(noise)[0]), samples=int(np.max(samples)), ridge=0,
                  dimension=dimension)
    _estimator_options(args)
    if args.estimator != "ridge":
        from freeprob.app._training import estimator_of, report
        from freeprob.models._features_spectral import FEATURE_SPECTRAL_KEYS

        if args.activation:
            raise ParseError("--activation takes the ridge estimator (spectral estimators: linear features)")
        est, sweep = estimator_of(args, ridge, samples)
        common.update(samples=int(np.atleast_1d(samples)[0]), ridge=est.ridge,
                      feature_noise=float(np.atleast_1d(feature_noise)[0]))
        model = RandomFeatureRidge(pop, widths, feature_covariance=fcov, layer_variance=args.layer_variance,
                                   estimator=est, **common)
        return report(args, out, model, sweep, FEATURE_SPECTRAL_KEYS, model.evaluate(**sweep, noise=noise),
                      repr(model), f"{args.seeds} x {args.seeds} crossed X/F draws")
    if args.activation:
        model = NonlinearRandomFeatureRidge(pop, widths, activation=args.activation, **common)
        res = model.evaluate(ridge=ridge, samples=samples, noise=noise)
    else:
        model = RandomFeatureRidge(pop, widths, feature_covariance=fcov, layer_variance=args.layer_variance,
                                   **common)
        res = model.evaluate(ridge=ridge, samples=samples, noise=noise, feature_noise=feature_noise)
    result = {k: np.atleast_1d(res[k]).tolist() for k in RF_KEYS}
    sim = None
    if args.simulate:
        from freeprob.montecarlo.simulate import simulate

        if not args.activation:
            model = RandomFeatureRidge(pop, widths, feature_covariance=fcov, layer_variance=args.layer_variance,
                                       feature_noise=float(np.atleast_1d(feature_noise)[0]),
                                       **dict(common, samples=int(np.atleast_1d(samples)[0])))
        sim = simulate(model, seeds=args.seeds, rng=np.random.default_rng(args.seed), ridge=np.atleast_1d(ridge))
        result["simulation"] = _simulation_json(sim)
    if args.format == "json":
        out(json.dumps(result, indent=2))
    elif args.format == "latex":
        qs = model.quantities()
        out(r"\begin{align}")
        for st in model.steps():
            out(f" {latex(st.relation.lhs)} &= {latex(st.relation.rhs)} \\\\")
        for key in ("rho", "gamma1", "gamma2", "bias2", "var_F", "Eg"):
            out(f" \\mathrm{{{key.replace('_', ' ')}}} &= {latex(qs[key])} \\\\")
        out(r"\end{align}")
    else:
        out(f"model     {model!r}")
        out("  " + "  ".join(f"{k:>12}" for k in RF_KEYS))
        for row in zip(*[np.atleast_1d(res[k]).ravel() for k in RF_KEYS]):
            out("  " + "  ".join(f"{v:>12.6g}" for v in row))
        if sim is not None:
            out(f"simulation ({args.seeds} x {args.seeds} crossed X/F draws): mean +- s.e.")
            _print_simulation(sim, out)
    return 0


def _cmd_derive(args, out):
    from freeprob import derivations

    reg = derivations.registry()
    if args.list or args.name is None:
        for name, mod in reg.items():
            out(f"{name:<28} {mod.TITLE}")
        return 0
    if args.name == "all":
        from freeprob.derivation import TALLY_COLUMNS, tally

        failed = 0
        out(f"{'derivation':<28} " + " ".join(f"{c:>10}" for c in TALLY_COLUMNS))
        for name, mod in reg.items():
            rep = mod.build().check()
            n = tally(rep)
            failed += n["failed"]
            out(f"{name:<28} " + " ".join(f"{n[c]:>10}" for c in TALLY_COLUMNS))
            for r in rep:
                if r.status == "failed":
                    out("    FAILED " + r.row())
        out(f"\n{len(reg)} derivations, {failed} failed step(s)")
        return 1 if failed else 0
    if args.name not in reg:
        raise ParseError(f"unknown derivation {args.name!r}; valid: all, {', '.join(reg)}")
    d = reg[args.name].build()
    status, rep = 0, None
    if args.format == "pdf" and not args.out:
        raise ParseError("--format pdf needs --out FILE.pdf")
    if args.check:
        # the exports then carry the outcome of every step's check
        rep = d.check()
        for r in rep:
            out(r.row())
        status = 1 if any(r.status == "failed" for r in rep) else 0
    if args.format == "pdf":
        from freeprob.derivation import compile_pdf

        compile_pdf(d.to_latex(document=True, reports=rep), args.out)
        out(f"wrote {args.out}")
        return status
    text = {"latex": lambda: d.to_latex(document=args.document, reports=rep),
            "markdown": lambda: d.to_markdown(reports=rep), "json": lambda: d.to_json(reports=rep)}[args.format]()
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        out(f"wrote {args.out}")
    elif not args.check:
        out(text)
    return status


def _model_inputs(args):
    """Population law, its dimension (if given) and the target of a model command."""
    from freeprob.parsing import parse_law_spec

    name, params = parse_law_spec(args.population)
    dimension = params.pop("dimension", None)
    return _build_law(name, params), dimension, _parse_target(args.target)


def _parse_target(text):
    from freeprob.models.linear import SourceTarget
    from freeprob.parsing import parse_law_spec

    if not text:
        return None
    tname, tparams = parse_law_spec(text)
    if tname == "source":
        r = tparams.get("r")
        if r is None or isinstance(r, list) or not (r.is_number and r.is_finite and r > 0):
            raise ParseError(f"--target {text!r}: r must be a positive number (source:r=R)")
        return SourceTarget(float(r))
    if tname != "isotropic":
        raise ParseError(f"unknown target {tname!r}; valid: isotropic, source:r=R")
    return None


def _cmd_check(args, out):
    from freeprob.app.check import run_checks
    from freeprob.laws._catalogue import examples

    counts = {"ok": 0, "FAIL": 0, "skip": 0}
    out(f"{'law':<44} {'check':<28} {'status':<5} {'residual':>8}")
    for label, law in examples():
        for res in run_checks(law):
            counts[res.status] += 1
            out(res.row())
    out(f"\n{counts['ok']} passed, {counts['FAIL']} failed, {counts['skip']} skipped (reasons above)")
    return 1 if counts["FAIL"] else 0


def _cmd_figures(args, out):
    from freeprob import figures

    every = figures.available(extensions=True)  # the paper's figures, then X1, ... (built only on request)
    ids = [i.upper() for i in (args.only or figures.available())]
    bad = [i for i in ids if i not in every]
    if bad:
        raise ParseError(f"unknown figure(s) {bad}; valid: {', '.join(every)}")
    if args.list:
        for fid in every:
            out(fid)
        return 0
    if not args.out:
        raise ParseError("--out DIR is required (PNG and PDF files are written there)")
    import time

    import numpy as np

    if args.workers is not None and args.scheduler is not None:
        raise ParseError("give --workers N (a local Dask cluster) or --scheduler ADDRESS, not both")
    fixed = [i for i in ids if i not in figures.SIZED]
    if (args.dimension is not None or args.seeds is not None) and fixed:
        raise ParseError(f"--dimension and --seeds apply to {', '.join(figures.SIZED)} only, not {fixed}")
    cluster = args.scheduler if args.scheduler is not None else args.workers
    with contextlib.ExitStack() as stack:
        executor = None
        if cluster is not None:
            from freeprob.montecarlo._dask import dask_executor

            executor = stack.enter_context(dask_executor(cluster))
        if args.checkpoint is not None:
            from freeprob.montecarlo._checkpoint import CheckpointMap

            executor = CheckpointMap(args.checkpoint, executor)
        for fid in ids:
            t0 = time.perf_counter()
            rng = None if args.seed is None else np.random.default_rng([args.seed, int(fid[1:])])
            fig = figures.build(fid, fast=args.fast, rng=rng, executor=executor, dimension=args.dimension,
                                seeds=args.seeds)
            paths = fig.save(args.out)
            out(f"{fid:<4} {fig.name:<40} {time.perf_counter() - t0:7.1f} s  " + ", ".join(paths[:2]))
    return 0


def _cmd_reproduce(args, out):
    from freeprob.app.reproduce import run

    return run(args.out, fast=args.fast, out=out)


def _cmd_bench(args, out):
    from freeprob.app.bench import BENCHMARKS, run

    bad = [n for n in args.names if n not in BENCHMARKS]
    if bad:
        raise ParseError(f"unknown benchmark(s) {bad}; valid: {', '.join(BENCHMARKS)}")
    run(args.names or None, out=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="freeprob", description="free probability for high-dimensional learning")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("laws", help="list the catalogue of spectral laws and the conventions")
    t = sub.add_parser("transform", help="one transform of one law")
    t.add_argument("law", help="catalogue name (see `freeprob laws`)")
    t.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    t.add_argument("--kind", required=True, choices=_KINDS)
    t.add_argument("--convention", default="voiculescu", choices=("voiculescu", "df"))
    t.add_argument("--order", type=int, default=6, help="number of moments / cumulants")
    t.add_argument("--format", default="text", choices=("text", "latex", "json"))
    c = sub.add_parser("convolve", help="free additive or multiplicative convolution of two laws")
    c.add_argument("law_a", help="catalogue law, optionally with parameters: name:key=value,key=value")
    c.add_argument("law_b")
    c.add_argument("--op", required=True, choices=("add", "mul"))
    c.add_argument("--param", action="append", default=[], metavar="a.NAME=VALUE")
    c.add_argument("--density", metavar="LO:HI:N", help="density on a grid of N points")
    c.add_argument("--order", type=int, default=4)
    c.add_argument("--format", default="text", choices=("text", "latex", "json"))
    r = sub.add_parser("ridge", help="linear ridge regression: deterministic equivalents (and simulation)")
    r.add_argument("--population", required=True, help="law spec, e.g. powerlaw:alpha=1.5,n=2000 or "
                   "identity:dimension=200")
    r.add_argument("--target", default=None, help="isotropic (default) or source:r=R")
    r.add_argument("--samples", required=True, help="P (or a comma list)")
    r.add_argument("--ridge", default="0", help="lambda (or a comma list)")
    r.add_argument("--noise", default="0", help="sigma^2 (or a comma list)")
    r.add_argument("--estimator", default="ridge", choices=("ridge", "gradient-flow", "gradient-descent", "cutoff"),
                   help="the spectral estimator [C18] (default ridge)")
    r.add_argument("--time", default=None, help="gradient-flow training time (or a comma list)")
    r.add_argument("--step", default=None, help="gradient-descent step size")
    r.add_argument("--steps", default=None, help="gradient-descent step counts (or a comma list)")
    r.add_argument("--threshold", default=None,
                   help="cutoff: keep the principal components above THETA (or a comma list)")
    r.add_argument("--simulate", action="store_true")
    r.add_argument("--seeds", type=_count, default=20)
    r.add_argument("--seed", type=_seed, default=0)
    r.add_argument("--format", default="text", choices=("text", "json", "latex"))
    f = sub.add_parser("features", help="random-feature ridge regression (linear, deep, anisotropic, noisy, "
                       "nonlinear): deterministic equivalents (and simulation)")
    f.add_argument("--population", required=True, help="law spec, e.g. powerlaw:alpha=1.5,n=2000")
    f.add_argument("--widths", required=True, help="N, or N1,N2,... for a deep chain")
    f.add_argument("--target", default=None, help="isotropic (default) or source:r=R")
    f.add_argument("--samples", required=True, help="P (or a comma list)")
    f.add_argument("--ridge", default="0", help="lambda (or a comma list)")
    f.add_argument("--noise", default="0", help="sigma^2 (or a comma list)")
    f.add_argument("--feature-noise", default="0", help="sigma_xi^2 per feature (or a comma list)")
    f.add_argument("--feature-covariance", default=None, help="law spec of Sigma_F (anisotropic weights)")
    f.add_argument("--layer-variance", default="input", choices=("input", "fan_in"))
    f.add_argument("--activation", default=None, help="relu, tanh or erf (Gaussian equivalence)")
    f.add_argument("--estimator", default="ridge", choices=("ridge", "gradient-flow", "gradient-descent", "cutoff"),
                   help="the spectral estimator of the readout [C18] (default ridge)")
    f.add_argument("--time", default=None, help="gradient-flow training time (or a comma list)")
    f.add_argument("--step", default=None, help="gradient-descent step size")
    f.add_argument("--steps", default=None, help="gradient-descent step counts (or a comma list)")
    f.add_argument("--threshold", default=None,
                   help="cutoff: keep the principal components above THETA (or a comma list)")
    f.add_argument("--simulate", action="store_true")
    f.add_argument("--seeds", type=_count, default=12, help="n: an n x n grid of X and F draws")
    f.add_argument("--seed", type=_seed, default=0)
    f.add_argument("--format", default="text", choices=("text", "json", "latex"))
    dv = sub.add_parser("derive", help="checkable derivations of the paper's results")
    dv.add_argument("name", nargs="?", help="a derivation name, or 'all' (see --list)")
    dv.add_argument("--list", action="store_true")
    dv.add_argument("--format", default="markdown", choices=("latex", "markdown", "json", "pdf"))
    dv.add_argument("--document", action="store_true", help="LaTeX: a complete document, not a fragment")
    dv.add_argument("--check", action="store_true", help="check every step and print a report")
    dv.add_argument("--out", default=None)
    fg = sub.add_parser("figures", help="reproduce the paper's figures F1-F23, and X1 beyond it (PNG and PDF)")
    fg.add_argument("--only", nargs="+", metavar="ID", help="figure ids, e.g. F7 F18 X1")
    fg.add_argument("--fast", action="store_true", help="small sizes and few seeds (seconds per figure)")
    fg.add_argument("--out", default=None, help="output directory")
    fg.add_argument("--seed", type=_seed, default=None, help="simulation seed (default: per-figure seeds)")
    fg.add_argument("--list", action="store_true")
    fg.add_argument("--dimension", type=_count, default=None,
                    help="another data dimension D for the random-feature figures (widths keep their ratio to D)")
    fg.add_argument("--seeds", type=_seed_grid, default=None,
                    help="another crossed seed grid for the random-feature figures: N or NXxNF (e.g. 10x10)")
    fg.add_argument("--workers", type=_workers, default=None,
                    help="run the simulations on a local Dask cluster of N worker processes")
    fg.add_argument("--scheduler", type=_scheduler, default=None,
                    help="run the simulations on the Dask cluster at ADDRESS (e.g. tcp://10.0.0.5:8786)")
    fg.add_argument("--checkpoint", type=_directory, default=None, metavar="DIR",
                    help="keep every simulation task's result in DIR and read it back when the run is started "
                         "again (an interrupted run resumes; the result is the same bit for bit)")
    rp = sub.add_parser("reproduce", help="main job: derive and check the paper's results, write figures and "
                                          "a PDF appendix")
    rp.add_argument("--out", default="freeprob-output", help="output directory (default freeprob-output)")
    rp.add_argument("--fast", action="store_true", help="figures in fast mode")
    sub.add_parser("check", help="check every catalogue law by independent routes")
    b = sub.add_parser("bench", help="benchmarks with in-process baselines")
    b.add_argument("names", nargs="*")
    return p


def main(argv=None, out=print) -> int:
    """Entry point of the ``freeprob`` console script."""
    args = build_parser().parse_args(argv)
    handler = {"laws": _cmd_laws, "transform": _cmd_transform, "check": _cmd_check, "bench": _cmd_bench,
               "convolve": _cmd_convolve, "ridge": _cmd_ridge, "features": _cmd_features,
               "derive": _cmd_derive, "figures": _cmd_figures, "reproduce": _cmd_reproduce}[args.command]
    try:
        return handler(args, out)
    except FreeprobError as exc:
        print(f"freeprob: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output file that cannot be written
        print(f"freeprob: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
