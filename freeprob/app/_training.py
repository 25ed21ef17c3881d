"""``freeprob ridge/features --estimator ...``: learning curves of spectral
estimators from the command line [C18]."""

from __future__ import annotations

import json

from freeprob.app._options import _print_simulation, _simulation_json, _values
from freeprob.errors import ParseError

__all__ = ["cmd_spectral", "estimator_of", "report"]


def estimator_of(args, ridge, samples):
    """``(estimator, sweep)`` from ``--estimator``, ``--time``, ``--step``
    and ``--steps`` or ``--threshold``, and the single ``--ridge`` [C18]."""
    import numpy as np

    from freeprob.models.filters import GradientDescent, GradientFlow, SpectralCutoff

    lam = np.atleast_1d(ridge)
    if lam.size != 1 or np.atleast_1d(samples).size != 1:
        raise ParseError("--ridge and --samples take one value with --estimator (the sweep is "
                         "--time/--steps/--threshold)")
    if args.estimator == "cutoff":
        if args.threshold is None:
            raise ParseError("--estimator cutoff needs --threshold THETA (or a comma list)")
        if float(lam[0]) != 0:
            raise ParseError("--ridge belongs to the other estimators, not cutoff (principal components have none)")
        sweep = {"threshold": np.atleast_1d(_values(args.threshold, "--threshold"))}
        return SpectralCutoff(threshold=float(sweep["threshold"][0])), sweep
    if args.estimator == "gradient-flow":
        if args.time is None:
            raise ParseError("--estimator gradient-flow needs --time T (or a comma list)")
        sweep = {"time": np.atleast_1d(_values(args.time, "--time"))}
        return GradientFlow(time=float(sweep["time"][0]), ridge=float(lam[0])), sweep
    if args.steps is None or args.step is None:
        raise ParseError("--estimator gradient-descent needs --step ETA and --steps K (or a comma list)")
    sweep = {"steps": np.atleast_1d(_values(args.steps, "--steps", "count"))}
    return GradientDescent(step=float(np.atleast_1d(_values(args.step, "--step"))[0]),
                           steps=int(sweep["steps"][0]), ridge=float(lam[0])), sweep


def cmd_spectral(args, out, pop, dimension, target, ridge, samples, noise):
    """``freeprob ridge --estimator gradient-flow --time 1,10,100`` (or
    ``gradient-descent --step 0.1 --steps 1,10,100``): the learning curve of a
    spectral estimator [C18], swept over its time or steps."""
    import numpy as np

    from freeprob.models.linear import LinearRidge
    from freeprob.models.spectral import SPECTRAL_KEYS

    est, sweep = estimator_of(args, ridge, samples)
    model = LinearRidge(pop, target=target, noise=float(np.atleast_1d(noise)[0]),
                        samples=int(np.atleast_1d(samples)[0]), dimension=dimension, estimator=est)
    return report(args, out, model, sweep, SPECTRAL_KEYS, model.evaluate(**sweep, noise=noise),
                  f"LinearRidge({pop!r}, target={target}, estimator={est!r})", f"{args.seeds} seeds")


def report(args, out, model, sweep, keys, res, title, grid):
    """The learning curve ``res`` (and its simulation with ``--simulate``) as
    text, JSON or LaTeX (the contour integrands [C18])."""
    import numpy as np

    from freeprob.models.spectral import spectral_quantities
    from freeprob.printing import latex

    name = next(iter(sweep))
    result = {name: sweep[name].tolist(), **{k: np.atleast_1d(res[k]).tolist() for k in keys}}
    if args.simulate:
        from freeprob.montecarlo.simulate import simulate

        sim = simulate(model, seeds=args.seeds, rng=np.random.default_rng(args.seed), sweep=sweep)
        result["simulation"] = _simulation_json(sim)
    if args.format == "json":
        out(json.dumps(result, indent=2))
    elif args.format == "latex":
        out(r"\begin{align}")
        for key, expr in spectral_quantities(model.estimator).items():
            out(f" {key.replace('_', ' ')} &= \\oint {latex(expr)} \\\\")
        out(r"\end{align}")
    else:
        out(f"model     {title}")
        cols = (name,) + tuple(keys)
        out("  " + "  ".join(f"{k:>12}" for k in cols))
        for row in zip(*[np.atleast_1d(result[k]) for k in cols]):
            out("  " + "  ".join(f"{v:>12.6g}" for v in row))
        if args.simulate:
            out(f"simulation ({grid}): mean +- s.e.")
            _print_simulation(sim, out)
    return 0
