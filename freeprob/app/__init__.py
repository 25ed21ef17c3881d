"""The application layer: the command line (:mod:`~freeprob.app.cli`), the
main job (:mod:`~freeprob.app.reproduce`), the benchmarks
(:mod:`~freeprob.app.bench`) and the catalogue self-check
(:mod:`~freeprob.app.check`).  Nothing below imports it."""
