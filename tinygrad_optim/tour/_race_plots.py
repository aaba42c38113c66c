"""Figures of the optimizer race: paths over contour plots, loss curves, state over the steps.

Each optimizer keeps one colour in every figure. Figures come from ``_plot.figure`` (no
pyplot), and matplotlib is imported only through that module.
"""
from __future__ import annotations

import numpy as np

from . import _plot
from .functions import Problem
from .race import TOLERANCE, Run

__all__ = ["COLOURS", "paths_figure", "loss_figure", "state_figure"]

# tab10 plus black: eleven colours that stay apart. SparseAdam follows Adam's path exactly
# (see race.race), so it is also drawn dashed, or Adam's line would hide under it.
COLOURS = {"SGD": "tab:blue", "Adagrad": "tab:orange", "RMSprop": "tab:green",
           "Adadelta": "tab:red", "Adam": "tab:purple", "AdamW": "tab:brown",
           "Adamax": "tab:pink", "SparseAdam": "tab:gray", "ASGD": "tab:olive",
           "Rprop": "tab:cyan", "LBFGS": "black"}
_DASHED = {"SparseAdam"}

# What each state entry is, for the spare panel of the state figure (torch's keys).
_GLOSSARY = {
    "momentum_buffer": "the velocity v of momentum",
    "sum": "Adagrad's running sum of g²",
    "square_avg": "the running mean of g²",
    "acc_delta": "Adadelta's running mean of its squared steps",
    "exp_avg": "Adam's first moment m (mean of g)",
    "exp_avg_sq": "Adam's second moment v (mean of g²)",
    "max_exp_avg_sq": "AMSGrad's largest v so far",
    "exp_inf": "Adamax's decayed max of |g|",
    "grad_avg": "centered RMSprop's mean of g",
    "ax": "ASGD's average of the iterates",
    "eta": "ASGD's step size, lr decayed by lambd",
    "mu": "ASGD's averaging weight, 1/max(1, t − t0)",
    "step_size": "Rprop's step per coordinate",
    "prev": "Rprop's last gradient (0 after a sign flip)",
    "len(old_dirs)": "LBFGS's curvature pairs kept",
    "t": "LBFGS's step length from the line search",
    "H_diag": "LBFGS's initial inverse-Hessian scale",
}
# The entries that say most about each optimizer, drawn first (the rest keep their order).
_HEADLINE = {"step_size", "len(old_dirs)", "ax"}
_FLOOR = 1e-12  # the bottom of the loss axes, six decades below the tolerance
_PANEL = (3.6, 3.0)  # inches per panel of the small-multiple figures


def _colour(name: str) -> str:
    return COLOURS[name]


def _style(name: str) -> str:
    return "--" if name in _DASHED else "-"


def _grid(count: int, panel=_PANEL):
    """A figure with ``count`` panels or one more, four to a row; returns (fig, axes list).

    Args:
        count: the panels wanted.
        panel: (width, height) of one panel in inches.
    """
    ncols = 4 if count > 3 else count
    nrows = -(-count // ncols)
    fig, axes = _plot.figure(nrows, ncols, size=(panel[0] * ncols, panel[1] * nrows + 0.6))
    return fig, list(np.atleast_1d(axes).ravel())


def _contours(ax, problem: Problem, grid_points: int) -> None:
    """The function's level sets, log-spaced in f − f* so that the valley floor shows,
    with the start (white circle), the minima (gold stars) and any saddle point (black +)."""
    x, y, z = problem.grid(grid_points)
    top = float(np.log10(z.max() - problem.f_min))
    # Contours of log10(f − f*), evenly spaced: each band is a factor of the gap, so the
    # flat floor of a valley shows as clearly as its steep walls.
    log_gap = np.log10(np.maximum(z - problem.f_min, 10.0 ** (top - 7)))
    levels = np.linspace(max(top - 7, -4), top, 24)
    ax.contourf(x, y, log_gap, levels=levels, cmap="Blues_r", alpha=0.55, extend="min")
    ax.contour(x, y, log_gap, levels=levels, colors="0.55", linewidths=0.4)
    ax.plot(*problem.start, "o", color="white", markeredgecolor="black", markersize=7,
            zorder=5)
    for minimum in problem.minima:
        ax.plot(*minimum, "*", color="gold", markeredgecolor="black", markersize=13, zorder=5)
    for saddle in problem.saddles:
        ax.plot(*saddle, "P", color="black", markeredgecolor="white", markersize=9, zorder=5)
    x_lo, x_hi, y_lo, y_hi = problem.box
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal")  # so that gradients cross the contours at right angles


def _result(run: Run, problem: Problem) -> str:
    """How the run ended, in a few words: the steps to the tolerance or the final gap."""
    if run.diverged:
        return f"diverged at step {len(run.path)}"
    step = run.converged_at(problem)
    if step is not None:
        return f"f − f* < {TOLERANCE:g} from step {step}"
    return f"f − f* = {run.gap(problem)[-1]:.1e} at step {len(run.path) - 1}"


def _off_plot(run: Run, problem: Problem) -> str:
    """Where a path goes when it leaves the drawn box (a big first step, say), or ""."""
    x_lo, x_hi, y_lo, y_hi = problem.box
    x, y = run.path[:, 0], run.path[:, 1]
    if not ((x < x_lo) | (x > x_hi) | (y < y_lo) | (y > y_hi)).any():
        return ""
    far = run.path[np.argmax(np.hypot(x - problem.start[0], y - problem.start[1]))]
    return f"\nleaves the plot, out to ({far[0]:.3g}, {far[1]:.3g})"


def _draw_path(ax, run: Run, width: float = 1.2) -> None:
    colour = _colour(run.optimizer)
    ax.plot(run.path[:, 0], run.path[:, 1], _style(run.optimizer), color=colour,
            linewidth=width, marker=".", markersize=2.5, label=run.optimizer)
    ax.plot(*run.path[-1], "o", color=colour, markeredgecolor="black", markersize=5,
            zorder=6)


def paths_figure(problem: Problem, runs: list, grid_points: int = 300):
    """One panel per optimizer: its path over the contour plot, and a last panel with all.

    ASGD's panel also shows its running average ``ax`` (dotted): that, not the last iterate,
    is what averaging offers as the answer.
    """
    x_lo, x_hi, y_lo, y_hi = problem.box
    # Panels shaped like the box (drawn at equal scales), plus room for a two-line title.
    panel = (_PANEL[0], _PANEL[0] * (y_hi - y_lo) / (x_hi - x_lo) + 0.5)
    fig, axes = _grid(len(runs) + 1, panel)
    for ax, run in zip(axes, runs):
        _contours(ax, problem, grid_points)
        _draw_path(ax, run)
        if "ax" in run.state and run.state["ax"].shape[1] == 2:
            average = run.state["ax"]
            ax.plot(average[:, 0], average[:, 1], ":", color="black", linewidth=1.5,
                    label="ax (average)")
            ax.legend(loc="lower right", fontsize=7)
        ax.set_title(f"{run.optimizer}, lr={run.settings['lr']:g}\n{_result(run, problem)}"
                     + _off_plot(run, problem), fontsize=9, color=_colour(run.optimizer))
    overlay = axes[len(runs)]
    _contours(overlay, problem, grid_points)
    for run in runs:
        _draw_path(overlay, run, width=0.9)
    overlay.set_title("all together", fontsize=9)
    handles, labels = overlay.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(runs), fontsize=8)
    for ax in axes[len(runs) + 1:]:
        ax.set_axis_off()
    fig.suptitle(f"{problem.title}: f(x, y) = {problem.formula}\n"
                 f"paths of up to {runs[0].steps} steps from {problem.start} "
                 "(white circle) to the minimum (gold star)"
                 + (", past the saddle point (black +)" if problem.saddles else ""), fontsize=11)
    return fig


def loss_figure(problem: Problem, runs: list):
    """f − f* over the steps on a log scale, every optimizer on one axes.

    LBFGS spends several closure calls per step in its line search, so it is also drawn
    against closure calls (dotted), the cost a first-order method pays one per step.
    """
    fig, ax = _plot.figure(1, 1, size=(10, 5.5))
    for run in runs:
        gap = np.maximum(run.gap(problem), _FLOOR)
        steps = np.arange(len(gap))
        ax.plot(steps, gap, _style(run.optimizer), color=_colour(run.optimizer),
                linewidth=1.4, label=f"{run.optimizer} (lr={run.settings['lr']:g})")
        if run.evals[-1] > len(gap) - 1:
            ax.plot(run.evals, gap, ":", color=_colour(run.optimizer), linewidth=1.4,
                    label=f"{run.optimizer} against closure calls")
    ax.axhline(TOLERANCE, color="0.4", linestyle="--", linewidth=0.8)
    ax.annotate(f"tolerance {TOLERANCE:g}", (1, TOLERANCE), xycoords=("axes fraction", "data"),
                ha="right", va="bottom", fontsize=8, color="0.3")
    ax.set_yscale("log")
    ax.set_ylim(bottom=_FLOOR / 3)
    ax.set_xlim(0, max(run.steps for run in runs))
    ax.set_xlabel("step")
    ax.set_ylabel(f"f − f*  (log scale; values below {_FLOOR:g} drawn at {_FLOOR:g})")
    ax.set_title(f"{problem.title}: the gap to the minimum value, step by step")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    return fig


def state_figure(problem: Problem, runs: list):
    """One panel per optimizer: each state entry over the steps, as magnitudes on a log scale.

    A vector entry has one line per coordinate (x solid, y dashed). The first entry drawn is
    in the optimizer's colour: its step sizes for Rprop, its history for LBFGS, its average
    for ASGD, the first moment or buffer for the others.
    """
    fig, axes = _grid(len(runs))
    for ax, run in zip(axes, runs):
        first = _colour(run.optimizer)
        colours = [first] + [c for c in ("black", "0.6", "darkorange") if c != first]
        entries = sorted(run.state.items(), key=lambda item: item[0] not in _HEADLINE)
        for (label, values), colour in zip(entries, colours):
            steps = np.arange(1, len(values) + 1)
            for column, style in zip(range(values.shape[1]), ("-", "--")):
                name = label if values.shape[1] == 1 else f"{label} [{'xy'[column]}]"
                magnitude = np.abs(values[:, column])
                ax.plot(steps, np.where(magnitude > 0, magnitude, np.nan), style,
                        color=colour, linewidth=1.1, label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.minorticks_off()  # 22 log axes of minor ticks double the drawing time
        ax.set_title(run.optimizer, fontsize=10, color=_colour(run.optimizer))
        ax.set_xlabel("step (log scale)", fontsize=8)
        ax.set_ylabel("|value|", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6.5, loc="best")
    for ax in axes[len(runs):]:
        ax.set_axis_off()
    if len(axes) > len(runs):
        _glossary(axes[len(runs)], runs)
    fig.suptitle(f"Each optimizer's state over the steps on {problem.title}\n"
                 "(|value| on log scales; of a vector entry, x solid and y dashed)",
                 fontsize=11)
    return fig


def _glossary(ax, runs: list) -> None:
    """What the state entries drawn are, as text in a spare panel."""
    labels = dict.fromkeys(label for run in runs for label in run.state)
    lines = [f"{label}: {_GLOSSARY[label]}" for label in labels if label in _GLOSSARY]
    ax.text(0.0, 1.0, "\n".join(lines), transform=ax.transAxes, va="top", fontsize=7.5,
            linespacing=1.5)
