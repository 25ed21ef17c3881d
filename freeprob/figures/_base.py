r"""Figure data: frozen, hashable records of what a figure shows, and their
rendering with matplotlib (the ``plot`` extra).

A :class:`Figure` is data first: every curve is a :class:`Series` of plain
floats (theory curves come from the model evaluators, simulation points from
:func:`freeprob.simulate` with their standard errors, guides are power laws
named by their exponent), so a test can compare a figure against the
evaluators without drawing anything, and :meth:`Figure.save` writes PNG and
PDF only when asked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from freeprob.errors import ParameterError

__all__ = ["Series", "Panel", "Figure", "Sweep", "Size", "require_matplotlib"]

#: Series kinds and how they are drawn
KINDS = ("theory", "simulation", "guide", "histogram", "vline")


def _floats(v):
    if v is None:
        return None
    return tuple(float(x) for x in np.ravel(np.asarray(v, dtype=float)))


@dataclass(frozen=True)
class Series:
    """One curve of a panel.

    ``kind`` is ``"theory"`` (evaluator output, a line), ``"simulation"``
    (Monte Carlo means with standard errors ``yerr``), ``"guide"`` (a dashed
    power-law or reference line), ``"histogram"`` (bin edges ``x`` and
    densities ``y``, ``len(x) = len(y) + 1``) or ``"vline"`` (vertical lines
    at ``x``).  ``key`` names the evaluator key the curve shows (``"Eg"``,
    ``"kappa"``, ...), so colours match between theory and simulation.
    """

    label: str
    x: tuple
    y: tuple = ()
    kind: str = "theory"
    key: str | None = None
    yerr: tuple | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ParameterError("kind", self.kind, ", ".join(KINDS))
        object.__setattr__(self, "x", _floats(self.x))
        object.__setattr__(self, "y", _floats(self.y) or ())
        object.__setattr__(self, "yerr", _floats(self.yerr))
        n, m = len(self.x), len(self.y)
        if self.kind == "histogram" and n != m + 1:
            raise ParameterError("x", f"{n} bin edges", f"{m + 1} (one more than the densities)")
        if self.kind not in ("histogram", "vline") and n != m:
            raise ParameterError("y", f"{m} values", f"{n} (one per x)")
        if self.yerr is not None and len(self.yerr) != m:
            raise ParameterError("yerr", f"{len(self.yerr)} values", f"{m} (one per y)")

    @property
    def arrays(self):
        """``(x, y)`` as numpy arrays."""
        return np.asarray(self.x), np.asarray(self.y)


@dataclass(frozen=True)
class Panel:
    """One axes: series plus axis labels and scales.  ``extra`` holds data of
    non-line panels as ``(name, value)`` pairs: a phase diagram
    (``"phase"``: the :class:`~freeprob.scaling.PhaseDiagram`) or a Venn
    diagram (``"venn"``: set names and region labels)."""

    title: str
    xlabel: str = ""
    ylabel: str = ""
    series: tuple = ()
    xscale: str = "linear"
    yscale: str = "linear"
    ylim: tuple | None = None
    extra: tuple = ()

    def get(self, label: str) -> Series:
        """The series called ``label``."""
        for s in self.series:
            if s.label == label:
                return s
        raise ParameterError("label", label, ", ".join(s.label for s in self.series))


@dataclass(frozen=True)
class Size:
    """The size of a simulated random-feature figure, when it is not the
    authors': the data dimension ``dimension`` (D; the widths keep their
    ratio to D) and the crossed grid ``seeds`` ``(n_x, n_f)`` of data and
    feature draws.  ``None`` keeps the figure's own value (the authors', or
    the small one of ``fast=True``).  A figure built at another size says so
    in its caption.

    >>> Size(2000, (10, 10)).note(2000, 10_000, (10, 10), (20, 20))
    " Size: D=2000 and 10 x 10 seeds (the authors': D=10000 and 20 x 20)."

    Parameters
    ----------
    dimension : an integer >= 20.
    seeds : a pair of integers >= 3 (the crossed-grid jackknife leaves one
        draw out and needs two), or one integer for both.
    """

    dimension: int | None = None
    seeds: tuple | None = None

    def __post_init__(self):
        d = self.dimension
        if d is not None:
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 20 <= d <= 10**6:
                raise ParameterError("dimension", d, "an integer in [20, 10^6]")
            object.__setattr__(self, "dimension", int(d))
        s = self.seeds
        if s is not None:
            pair = (s, s) if isinstance(s, (int, np.integer)) and not isinstance(s, bool) else s
            try:
                nx, nf = pair
                ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 3 <= v <= 10**4
                         for v in (nx, nf))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ParameterError("seeds", s, "an integer in [3, 10^4] or a pair (n_x, n_f) of them")
            object.__setattr__(self, "seeds", (int(nx), int(nf)))

    def pick(self, fast, small_d, full_d, small_seeds, full_seeds):
        """``(D, seeds)``: the overrides, else the fast or the authors' values."""
        d = self.dimension if self.dimension is not None else (small_d if fast else full_d)
        seeds = self.seeds if self.seeds is not None else (small_seeds if fast else full_seeds)
        return d, seeds

    @staticmethod
    def note(d, full_d, seeds, full_seeds):
        """The caption's statement of a size other than the authors' (``""`` at theirs)."""
        if d == full_d and tuple(seeds) == tuple(full_seeds):
            return ""
        return (f" Size: D={d} and {seeds[0]} x {seeds[1]} seeds (the authors': D={full_d} and "
                f"{full_seeds[0]} x {full_seeds[1]}).")


@dataclass(frozen=True)
class Sweep:
    """Provenance of theory curves over ``P``: the model whose ``evaluate``
    produced them at ``samples`` (the ``y`` of every theory series of the
    listed ``panels``, all panels when empty, is aligned with ``samples``),
    the sizes ``sim_samples`` that were simulated, and the ridge exponent
    when ``lam = P^-ell``.  Tests re-evaluate the model from this record."""

    model: object
    samples: tuple
    sim_samples: tuple = ()
    ridge_exponent: float | None = None
    panels: tuple = ()

    def ridge(self, p):
        """The ridge override at sizes ``p`` (``{}`` when the model's own ridge applies)."""
        if self.ridge_exponent is None:
            return {}
        return {"ridge": np.asarray(p, dtype=float) ** -self.ridge_exponent}


@dataclass(frozen=True)
class Figure:
    """A reproduced figure: id (``"F7"``), file stem, caption (stating any
    defect of the authors' figure that is fixed here), panels, the
    parameters used (``(name, value)`` pairs), the provenance of its theory
    curves and a title (what the figure shows, in words)."""

    id: str
    name: str
    caption: str
    panels: tuple
    params: tuple = field(default=())
    sweeps: tuple = ()
    title: str = ""

    def panel(self, title: str) -> Panel:
        for p in self.panels:
            if p.title == title:
                return p
        raise ParameterError("title", title, ", ".join(p.title for p in self.panels))

    @property
    def parameters(self) -> dict:
        return dict(self.params)

    def render(self):
        """A ``matplotlib.figure.Figure`` (needs the ``plot`` extra)."""
        plt = require_matplotlib()
        n = len(self.panels)
        cols = min(n, 3)
        rows = -(-n // cols)
        # a panel with many curves gets its legend beside the axes, not on the curves
        wide = any(_legend_outside(p) for p in self.panels)
        fig, axes = plt.subplots(rows, cols, figsize=((6.4 if wide else 4.6) * cols, 3.7 * rows), squeeze=False)
        for ax, panel in zip(axes.ravel(), self.panels):
            _draw(ax, panel)
        for ax in axes.ravel()[n:]:
            ax.set_visible(False)
        fig.suptitle(f"{self.id}: {self.title or self.name}", fontsize=10)
        fig.tight_layout()
        return fig

    def save(self, out_dir, formats=("png", "pdf")) -> list:
        """Write ``<out_dir>/<id>_<name>.<fmt>`` for each format and the
        caption as ``.txt``; returns the paths."""
        plt = require_matplotlib()
        os.makedirs(out_dir, exist_ok=True)
        fig = self.render()
        stem = os.path.join(out_dir, f"{self.id}_{self.name}")
        paths = []
        import matplotlib

        # TrueType fonts in the PDF (matplotlib's default Type 3 fonts are bitmaps in some viewers)
        with matplotlib.rc_context({"pdf.fonttype": 42, "ps.fonttype": 42}):
            for fmt in formats:
                fig.savefig(f"{stem}.{fmt}", dpi=130, bbox_inches="tight")
                paths.append(f"{stem}.{fmt}")
        plt.close(fig)
        with open(f"{stem}.txt", "w") as fh:
            fh.write(self.caption + "\n")
        paths.append(f"{stem}.txt")
        return paths


def require_matplotlib():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - optional extra
        raise ParameterError("matplotlib", None, "installed", "pip install 'freeprob[plot]'") from None
    return plt


_COLORS = {"Eg": "C0", "Etr": "C1", "bias2": "C2", "var_X": "C3", "var_X_noise": "C4", "gcv": "C5",
           "var_F": "C6", "var_XF": "C7", "var_F+var_XF": "C6", "var_XF_noise": "C8", "kappa": "C0",
           "kappa1": "C0", "kappa2": "C1", "df1": "C2", "df2": "C3", "gamma": "C4", "gamma1": "C4",
           "gamma2": "C5", "kappa_hat": "C9", "rho": "C8", "S": "C9", "corr_gcv": "C2"}


def _color(series, i):
    """Colour by evaluator key; indexed families (``q0``, ``a3``) by index."""
    if series.key in _COLORS:
        return _COLORS[series.key]
    if series.key and series.key[1:].isdigit():
        return f"C{int(series.key[1:]) % 10}"
    return f"C{i % 10}"


def _draw(ax, panel):
    extra = dict(panel.extra)
    if "phase" in extra:
        extra["phase"].plot(ax=ax, n=int(extra.get("grid", 301)))
        ax.set_title(panel.title, fontsize=9)
        return
    if "venn" in extra:
        _venn(ax, extra["venn"], extra["regions"])
        ax.set_title(panel.title, fontsize=9)
        return
    several = sum(s.kind == "histogram" for s in panel.series) > 1
    for i, s in enumerate(panel.series):
        x, y = s.arrays
        c = _color(s, i)
        if s.kind == "theory":
            ax.plot(x, y, "-", color=c, label=s.label, lw=1.6)
        elif s.kind == "simulation":
            ax.errorbar(x, y, yerr=s.yerr, fmt="o", ms=3.5, color=c, mfc="none", capsize=2, label=s.label)
        elif s.kind == "guide":
            ax.plot(x, y, "--", color="0.35", lw=1.0, label=s.label)
        elif s.kind == "histogram":
            ax.stairs(y, x, fill=not several, alpha=0.6 if several else 0.35, color=c, label=s.label)
        else:
            for xv in x:
                ax.axvline(xv, color="0.5", ls=":", lw=1.0)
    ax.set_xscale(panel.xscale)
    ax.set_yscale(panel.yscale)
    if panel.xscale == "log":
        _log_ticks(ax, [s for s in panel.series if s.kind != "vline"])
    if panel.ylim is not None:
        ax.set_ylim(*panel.ylim)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    ax.set_title(panel.title, fontsize=9)
    if _legend_outside(panel):
        ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        ax.legend(fontsize=6.5)


def _legend_outside(panel) -> bool:
    return sum(s.kind != "vline" for s in panel.series) > 5


def _log_ticks(ax, series):
    """Major ticks at 1, 2, 5 times powers of ten on a log axis that spans less
    than two decades (one label otherwise); minor labels off (they overlap)."""
    from matplotlib.ticker import LogFormatterSciNotation, LogLocator, NullFormatter

    xs = np.concatenate([np.asarray(s.x) for s in series if s.x]) if series else np.array([])
    xs = xs[np.isfinite(xs) & (xs > 0)]
    if xs.size and np.log10(xs.max() / xs.min()) < 2:
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=20))
        ax.xaxis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _venn(ax, sets, regions):
    """Circles for the sources of randomness and the variance component in
    each region (the component is the variance explained by exactly that
    set of sources, [C15])."""
    from matplotlib.patches import Circle

    centres = {1: [(0.0, 0.0)], 2: [(-0.35, 0.0), (0.35, 0.0)], 3: [(-0.35, 0.2), (0.35, 0.2), (0.0, -0.4)]}[len(sets)]
    for i, ((cx, cy), name) in enumerate(zip(centres, sets)):
        ax.add_patch(Circle((cx, cy), 0.6, alpha=0.25, color=f"C{i}"))
        ax.text(cx * 2.1, cy * 2.1 + (0.75 if cy >= 0 else -0.8), name, ha="center", fontsize=10)
    for (x, y), label in regions:
        ax.text(x, y, label, ha="center", va="center", fontsize=7.5)
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.3, 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
