"""Tour section 6, the ten optimizers: all of them (and AdamW) raced on five test functions.

For each function the section prints a table (learning rate, steps and closure calls to the
tolerance, final gap and point) and draws the paths over the contour plot and the loss
curves; on Rosenbrock it also draws every optimizer's state over the steps.
"""
from __future__ import annotations

from . import _plot, _race_plots
from .functions import PROBLEMS, Problem
from .race import OPTIMIZERS, TOLERANCE, default_settings, race, table

__all__ = ["run", "show"]

STATE_FUNCTION = "rosenbrock"  # the function whose state figure the section draws

# fast=True (for tests and quick looks) runs a tenth of the steps and draws coarser contours.
_FAST_STEP_FRACTION = 10
_GRID_POINTS = {False: 300, True: 60}

_NOTES = f"""\
How to read the tables: "steps" is the first step from which f − f* stays below {TOLERANCE:g}
to the end, "calls" the closure calls (gradient evaluations) spent by then ("—": not within
the run). Each optimizer runs with the lr that did best in a grid search on that function
(tinygrad_optim/tour/race.py says how it was picked), from the same start, in float64.
- LBFGS runs one iteration per step() with a strong-Wolfe line search, so one step costs it
  several closure calls: compare it with the others in closure calls, not steps.
- AdamW keeps its default weight_decay=0.01, which shrinks the point towards the origin at
  every step: it settles where that pull balances the gradient, near the minimum but not on
  it (none of the minima here is at the origin).
- SparseAdam takes only sparse gradients, so its point is the one row of an
  Embedding(1, 2, sparse=True); with a single row, every step touches every row, and it
  follows Adam's path but for where ε enters the update.
- ASGD averages its iterates from step 100 on (t0=100); the loss is measured at the iterate,
  and its figure panel draws the average ax as well. Like AdamW it shrinks the iterate at
  every step, by a factor 1 − lambd·η (lambd=1e-4), and stops a little short of the minimum.
- Rprop's steps cannot shrink below step_sizes[0] = 1e-6, so near a minimum it keeps
  stepping to and fro around it."""


def run(out_dir: str, *, plots: bool = True, device: str = "cpu", fast: bool = False) -> None:
    """Race the eleven optimizers on the five functions; print tables and write figures.

    Args:
        out_dir: the folder for the figures (``optimizers_<function>_paths.png``,
            ``optimizers_<function>_loss.png`` and ``optimizers_state.png``).
        plots: write the figures (needs matplotlib).
        device: where the points and the optimizer states live (``"cpu"``, ``"cuda"``).
        fast: a tenth of the steps and coarse contours, for a quick run.
    """
    for problem in PROBLEMS.values():
        steps = max(problem.steps // _FAST_STEP_FRACTION, 1) if fast else problem.steps
        runs = [race(problem, name, default_settings(name, problem.name), steps, device)
                for name in OPTIMIZERS]
        show(problem, runs, out_dir, prefix="optimizers", plots=plots,
             state_name="optimizers_state.png" if problem.name == STATE_FUNCTION else None,
             grid_points=_GRID_POINTS[fast])
    print()
    print(_NOTES)


def show(problem: Problem, runs: list, out_dir: str, *, prefix: str, plots: bool,
         state_name: str | None, grid_points: int = _GRID_POINTS[False]) -> None:
    """Print the table of ``runs`` and, with ``plots``, write their figures.

    Args:
        problem: the function raced on.
        runs: one :class:`~.race.Run` per optimizer.
        out_dir: the folder for the figures.
        prefix: the start of the figure names, ``<prefix>_<function>_paths.png`` and
            ``<prefix>_<function>_loss.png``.
        plots: write the figures.
        state_name: the file name of the state figure, or None for none.
        grid_points: the contour grid's size per axis.
    """
    print(f"\n{problem.title}: {problem.lesson}")
    print(table(problem, runs))
    if not plots:
        return
    _plot.save(_race_plots.paths_figure(problem, runs, grid_points), out_dir,
               f"{prefix}_{problem.name}_paths.png")
    _plot.save(_race_plots.loss_figure(problem, runs), out_dir,
               f"{prefix}_{problem.name}_loss.png")
    if state_name is not None:
        _plot.save(_race_plots.state_figure(problem, runs), out_dir, state_name)
