"""Figures for the tour and the examples: matplotlib is optional and imported only here.

``matplotlib.figure.Figure`` is used directly instead of ``pyplot``: it needs no backend and no
screen, and it leaves the caller's global matplotlib state (a notebook's backend, say) alone.
"""
from __future__ import annotations

import os

INSTALL_HINT = ('matplotlib is needed for the figures: pip install matplotlib (or, in the '
                'repository, pip install ".[examples]"); --no-plots asks for text only')


def available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def figure(nrows: int = 1, ncols: int = 1, *, size=(6.4, 4.8)):
    """A new ``(figure, axes)`` pair, as ``plt.subplots`` would give, without pyplot."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ModuleNotFoundError(INSTALL_HINT) from error
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots(nrows, ncols)


def save(fig, out_dir: str, name: str) -> str:
    """Writes ``fig`` as ``out_dir/name`` (a PNG), says so, and returns the path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=100)
    print(f"  figure: {path}")
    return path
