"""``freeprob ridge --estimator ...``: learning curves of spectral
estimators from the command line [C18]."""

from __future__ import annotations

import json

from freeprob.app._options import _print_simulation, _simulation_json, _values
from freeprob.errors import ParseError

__all__ = ["cmd_spectral"]


def cmd_spectral(args, out, pop, dimension, target, ridge, samples, noise):
    """``freeprob ridge --estimator gradient-flow --time 1,10,100`` (or
    ``gradient-descent --step 0.1 --steps 1,10,100``): the learning curve of a
    spectral estimator [C18], swept over its time or steps."""
    import numpy as np

    from freeprob.models.filters import GradientDescent, GradientFlow
    from freeprob.models.linear import LinearRidge
    from freeprob.models.spectral import SPECTRAL_KEYS
    from freeprob.printing import latex

    lam = np.atleast_1d(ridge)
    if lam.size != 1 or np.atleast_1d(samples).size != 1:
        raise ParseError("--ridge and --samples take one value with --estimator (the sweep is --time/--steps)")
    if args.estimator == "gradient-flow":
        if args.time is None:
            raise ParseError("--estimator gradient-flow needs --time T (or a comma list)")
        sweep = {"time": np.atleast_1d(_values(args.time, "--time"))}
        est = GradientFlow(time=float(sweep["time"][0]), ridge=float(lam[0]))
    else:
        if args.steps is None or args.step is None:
            raise ParseError("--estimator gradient-descent needs --step ETA and --steps K (or a comma list)")
        sweep = {"steps": np.atleast_1d(_values(args.steps, "--steps", "count"))}
        est = GradientDescent(step=float(np.atleast_1d(_values(args.step, "--step"))[0]),
                              steps=int(sweep["steps"][0]), ridge=float(lam[0]))
    model = LinearRidge(pop, target=target, noise=float(np.atleast_1d(noise)[0]),
                        samples=int(np.atleast_1d(samples)[0]), dimension=dimension, estimator=est)
    res = model.evaluate(**sweep, noise=noise)
    name = next(iter(sweep))
    result = {name: sweep[name].tolist(), **{k: np.atleast_1d(res[k]).tolist() for k in SPECTRAL_KEYS}}
    if args.simulate:
        from freeprob.montecarlo.simulate import simulate

        sim = simulate(model, seeds=args.seeds, rng=np.random.default_rng(args.seed), sweep=sweep)
        result["simulation"] = _simulation_json(sim)
    if args.format == "json":
        out(json.dumps(result, indent=2))
    elif args.format == "latex":
        out(r"\begin{align}")
        for key, expr in model.quantities().items():
            out(f" {key.replace('_', ' ')} &= \\oint {latex(expr)} \\\\")
        out(r"\end{align}")
    else:
        out(f"model     LinearRidge({pop!r}, target={target}, estimator={est!r})")
        keys = (name,) + SPECTRAL_KEYS
        out("  " + "  ".join(f"{k:>12}" for k in keys))
        for row in zip(*[np.atleast_1d(result[k]) for k in keys]):
            out("  " + "  ".join(f"{v:>12.6g}" for v in row))
        if args.simulate:
            out(f"simulation ({args.seeds} seeds): mean +- s.e.")
            _print_simulation(sim, out)
    return 0
