"""The ``freeprob`` command line.

Subcommands
-----------
``freeprob laws``
    list the catalogue of spectral laws and the conventions.
``freeprob transform LAW --param NAME=VALUE ... --kind KIND [--convention df] [--format text|latex|json]``
    one transform of one law, e.g.
    ``freeprob transform marchenko-pastur --param ratio=q --kind s --convention df --format latex``.
``freeprob check``
    the main job: build every catalogue law and check its transforms by
    independent routes; prints a table, exits 1 on any failure.
``freeprob bench [NAME ...]``
    benchmarks with ratios against in-process baselines.

Values are parsed by :mod:`freeprob._parse` (numbers, ``p/q``, symbol names,
comma lists), never evaluated.
"""

from __future__ import annotations

import argparse
import json
import sys

import sympy as sp

from . import conventions as C
from .errors import FreeprobError, ParseError

__all__ = ["main"]

_KINDS = ("stieltjes", "r", "s", "t", "psi", "moments", "free-cumulants", "density", "df1", "df2")


def _build_law(name, params):
    from .laws import CATALOGUE

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
    from .laws import CATALOGUE

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
    from ._parse import parse_params
    from .latex import latex

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


def _cmd_check(args, out):
    from .laws._catalogue import examples
    from .testing import run_checks

    failures = 0
    total = 0
    out(f"{'law':<44} {'check':<28} {'status':<5} {'residual':>8}")
    for label, law in examples():
        for res in run_checks(law):
            total += 1
            failures += not res.passed
            out(res.row())
    out(f"\n{total - failures} passed, {failures} failed")
    return 1 if failures else 0


def _cmd_bench(args, out):
    from .bench import BENCHMARKS, run

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
    sub.add_parser("check", help="check every catalogue law by independent routes (main job)")
    b = sub.add_parser("bench", help="benchmarks with in-process baselines")
    b.add_argument("names", nargs="*")
    return p


def main(argv=None, out=print) -> int:
    """Entry point of the ``freeprob`` console script."""
    args = build_parser().parse_args(argv)
    handler = {"laws": _cmd_laws, "transform": _cmd_transform, "check": _cmd_check, "bench": _cmd_bench}[args.command]
    try:
        return handler(args, out)
    except FreeprobError as exc:
        print(f"freeprob: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
