"""The tour: the tutorial's sections as functions that print their results and draw figures.

Each section is a function ``run(out_dir, *, plots=True, device="cpu", fast=False)``;
``python -m tinygrad_optim`` runs them in order, and each script in examples/ runs one.
"""
from __future__ import annotations

import sys
import textwrap

from . import _plot

DEFAULT_OUT = "tinygrad_optim_tour"  # the folder the figures go to, in the current directory
WIDTH = 99  # the tour's text is wrapped to this many columns


def say(text: str, indent: str = "") -> None:
    """Prints a paragraph of the tour's explanations, wrapped to WIDTH columns."""
    print(textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent))


def plots_possible() -> bool:
    """Whether figures can be drawn; when matplotlib is missing, says (on stderr) how to get it.

    The caller goes on with text only: the tour's text stands on its own, and a first
    ``pip install .`` without the ``examples`` extra should still show it.
    """
    if _plot.available():
        return True
    print(_plot.INSTALL_HINT, file=sys.stderr)
    return False


def example_out_dir(argv: list) -> str:
    """The output folder of an example script: its first argument, else DEFAULT_OUT."""
    return argv[1] if len(argv) > 1 else DEFAULT_OUT
