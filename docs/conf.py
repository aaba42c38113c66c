"""Sphinx configuration of the tinygrad_optim documentation site (build: see getting_started)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# autodoc documents the checkout next to this file, not some other installed copy.
sys.path.insert(0, str(ROOT))

import tinygrad_optim  # noqa: E402  (needs the path above)

# The tour's figures and printed output, as `python -m tinygrad_optim` writes them: the tutorial
# includes them from here (git-ignored, rebuilt by every build).
TOUR_OUT = DOCS / "_generated" / "tinygrad_optim_tour"
TOUR_TRANSCRIPT = "tour.txt"
# A folder holding a finished tour (its PNGs and its printed output in tour.txt) to use instead
# of running the tour again: the docs test runs a fast tour once and points this at it.
TOUR_ENV = "TINYGRAD_OPTIM_TOUR_DIR"

project = "tinygrad_optim"
author = "the tinygrad_optim authors"
copyright = "the tinygrad_optim authors, MIT License"
version = release = tinygrad_optim.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    # MathJax 3 copied into _static: the pages render math without reaching a CDN.
    "sphinx-mathjax-offline",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_generated"]
root_doc = "index"

myst_enable_extensions = ["amsmath", "deflist", "dollarmath"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Section titles the optimizer docstrings use besides Google's: rendered as sections too.
napoleon_custom_sections = [("Reference", "References"), "Departures from the paper",
                            "Departures from the papers"]
# Types from outside the project that signatures and docstrings name. They would resolve
# through intersphinx, which downloads inventories at build time; the build stays offline.
nitpick_ignore = [("py:class", "numpy.ndarray"), ("py:class", "defaultdict")]

html_theme = "alabaster"
html_title = f"tinygrad_optim {release}"
html_theme_options = {
    "description": "torch.optim's ten optimizers, rebuilt from scratch on numpy and cupy",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_static_path = ["_static"]
html_css_files = ["custom.css"]


def _run_tour() -> None:
    """Runs ``python -m tinygrad_optim`` as a user would and keeps what it prints."""
    TOUR_OUT.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    # Run from _generated with the default --out, so that the printed paths read
    # `tinygrad_optim_tour/...` exactly as in a user's terminal.
    done = subprocess.run([sys.executable, "-m", "tinygrad_optim"], cwd=TOUR_OUT.parent,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the tour failed (exit {done.returncode}):\n{done.stderr}")
    if not any(TOUR_OUT.glob("*.png")):  # the tour prints text only without matplotlib
        raise RuntimeError(f"the tour drew no figures:\n{done.stderr}")
    (TOUR_OUT / TOUR_TRANSCRIPT).write_text(done.stdout, encoding="utf-8")


def _copy_tour(source: Path) -> None:
    """Takes the figures and transcript of a tour that already ran, from ``source``."""
    transcript = source / TOUR_TRANSCRIPT
    if not transcript.is_file():
        raise RuntimeError(f"{TOUR_ENV}={source} has no {TOUR_TRANSCRIPT}: run "
                           f"`python -m tinygrad_optim --out DIR > DIR/{TOUR_TRANSCRIPT}`")
    TOUR_OUT.mkdir(parents=True)
    for path in [transcript, *source.glob("*.png")]:
        shutil.copy(path, TOUR_OUT / path.name)


def prepare_tour(app) -> None:
    """Fills ``_generated/tinygrad_optim_tour`` afresh before Sphinx reads any page."""
    shutil.rmtree(TOUR_OUT, ignore_errors=True)
    source = os.environ.get(TOUR_ENV)
    if source:
        _copy_tour(Path(source))
    else:
        _run_tour()


def setup(app) -> None:
    """Hooks the tour into the build."""
    app.connect("builder-inited", prepare_tour)
