"""Sphinx configuration of the freeprob documentation.

Build: ``pip install -e ".[docs]"`` then ``python -m sphinx -W -b html docs OUT``.
Before the build, :func:`_generate` writes the pages that come from the
package itself into ``docs/_generated`` (ignored by git): each derivation's
Markdown export and a copy of the notebooks, which myst-nb executes with
``FREEPROB_FAST=1``.
"""

from __future__ import annotations

import os
import pathlib
import shutil

import freeprob

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent

project = "freeprob"
author = "the freeprob developers"
copyright = "2026, the freeprob developers"
release = freeprob.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "gallery/*.txt"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "force"
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_merge_streams = True
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "none"
napoleon_numpy_docstring = True
napoleon_use_rtype = False
html_theme = "alabaster"
html_static_path: list = []
suppress_warnings = ["myst.header", "docutils", "autodoc", "ref.python", "misc.highlighting_failure",
                     "mystnb.unknown_mime_type", "ref.duplicate", "toc.not_included", "ref.ref", "ref.any"]
nitpicky = False


def _generate() -> None:
    out = HERE / "_generated"
    shutil.rmtree(out, ignore_errors=True)
    (out / "derivations").mkdir(parents=True)
    from freeprob import derivations

    rows = []
    for name, module in derivations.registry().items():
        text = module.build().to_markdown()
        (out / "derivations" / f"{name}.md").write_text(text)
        rows.append(name)
    index = ["# Derivations", "",
             "Each derivation is a checkable document built by the library; these pages are their",
             "Markdown export (`Derivation.to_markdown()`). `freeprob derive NAME --check` runs the checks.",
             "", "```{toctree}", ":maxdepth: 1", ""] + rows + ["```", ""]
    (out / "derivations" / "index.md").write_text("\n".join(index))
    nb = out / "notebooks"
    nb.mkdir()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy(path, nb / path.name)
    notebooks = sorted(p.stem for p in nb.glob("*.ipynb"))
    (nb / "index.md").write_text("\n".join(
        ["# Notebooks", "", "The paper section by section, with the public API only; executed when the",
         "documentation is built (`FREEPROB_FAST=1`: small sizes and few seeds).", "",
         "```{toctree}", ":maxdepth: 1", ""] + notebooks + ["```", ""]))


os.environ.setdefault("FREEPROB_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
_generate()
