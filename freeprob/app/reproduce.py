r"""The main job: derive and check the paper's central results, reproduce
figures and typeset everything as one PDF appendix.

``freeprob reproduce --out DIR`` (the README's Quick start) runs, in a few
minutes on 2 cores:

1. every derivation of ``derivations/`` with its step checks (symbolic
   identities, mpmath spot checks, Monte Carlo), printed as a table;
2. the figures :data:`MAIN_FIGURES` at the authors' parameters (theory from
   the evaluators, simulations from :func:`freeprob.simulate`), written as
   PNG and PDF;
3. ``DIR/freeprob-appendix.pdf``: the derivations and those figures, via a
   real pdflatex (when pdflatex is missing the ``.tex`` is still written and
   the job says how to install it).

The exit status is 1 when a derivation step fails, so the job is also a check.
"""

from __future__ import annotations

import os
import time

from freeprob.errors import FreeprobError

__all__ = ["MAIN_FIGURES", "run"]

#: figures of the main job: the deep-Wishart spectrum, double descent and the phase diagram
MAIN_FIGURES = ("F4", "F7", "F18")


def run(out_dir: str, *, fast: bool = False, figures=MAIN_FIGURES, out=print) -> int:
    """Run the main job into ``out_dir`` (see the module); returns the exit
    status (0: every step checked, 1: a failed step)."""
    from freeprob import derivations
    from freeprob import figures as figs
    from freeprob.derivation import (
        TALLY_COLUMNS,
        check_table,
        compile_pdf,
        latex_document,
        tally,
    )

    os.makedirs(out_dir, exist_ok=True)
    t0 = time.perf_counter()
    out("== derivations: every step checked ==")
    out(f"{'derivation':<28} " + " ".join(f"{c:>10}" for c in TALLY_COLUMNS))
    sections, rows, failed = [], [], 0
    for name, mod in derivations.registry().items():
        d = mod.build()
        rep = d.check()
        n = tally(rep)
        failed += n["failed"]
        out(f"{name:<28} " + " ".join(f"{n[c]:>10}" for c in TALLY_COLUMNS))
        for r in rep:
            if r.status == "failed":
                out("    FAILED " + r.row())
        sections.append(d.to_latex(reports=rep))
        rows.append((d, rep))
    out(f"({time.perf_counter() - t0:.0f} s)\n")
    out("== figures ==")
    fig_dir = os.path.join(out_dir, "figures")
    included = []
    for fid in figures:
        t1 = time.perf_counter()
        fig = figs.build(fid, fast=fast)
        paths = fig.save(fig_dir)
        out(f"{fid:<4} {fig.name:<36} {time.perf_counter() - t1:6.1f} s  {paths[0]}")
        included.append((next(p for p in paths if p.endswith(".pdf")), f"{fid}: {fig.title}. {fig.caption}"))
    tex = latex_document("freeprob: derivations and figures of Atanasov, Zavatone-Veth and Pehlevan, "
                         "Scaling and renormalization in high-dimensional regression", sections,
                         figures=[(os.path.basename(p), c) for p, c in included], tables=[check_table(rows)])
    tex_path = os.path.join(out_dir, "freeprob-appendix.tex")
    with open(tex_path, "w", encoding="utf-8") as fh:
        fh.write(tex)
    try:
        pdf = compile_pdf(tex, os.path.join(out_dir, "freeprob-appendix.pdf"), resources=[p for p, _ in included])
        out(f"\nwrote {pdf}")
    except FreeprobError as exc:
        out(f"\nwrote {tex_path}; no PDF: {exc}")
    out(f"{failed} failed derivation step(s); total {time.perf_counter() - t0:.0f} s")
    return 1 if failed else 0
