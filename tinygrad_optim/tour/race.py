"""The optimizer race: run any optimizer on a test function, recording its path, loss and state.

Every optimizer is stepped the same way, through ``optimizer.step(closure)``, so that LBFGS
(which needs the closure to re-evaluate the function inside its line search) and the
first-order methods (which call it once) are counted alike, in closure calls. The point is
float64, so that a tolerance of 1e-6 on the loss measures the optimizer, not float32 rounding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import tinygrad_optim as torch
import tinygrad_optim.optim as optim

from .functions import Problem

__all__ = ["OPTIMIZERS", "FIXED", "LEARNING_RATES", "TOLERANCE", "Run", "canonical_name",
           "default_settings", "race", "table"]

OPTIMIZERS = {cls.__name__: cls for cls in (
    optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adadelta, optim.Adam, optim.AdamW,
    optim.Adamax, optim.SparseAdam, optim.ASGD, optim.Rprop, optim.LBFGS)}

# Settings other than lr, the same on every function. SGD gets momentum, the tutorial's
# companion to the learning rate (and a buffer to show). ASGD starts averaging at step 100,
# not at its default 1e6, so that its average ``ax`` is more than a copy of the parameter
# within the race. LBFGS takes one iteration per step(), so that a step is one direction and
# one line search as for the others, and keeps 10 curvature pairs so that the history fills.
# max_iter=1 alone would leave max_eval = max_iter * 5 // 4 = 1, a line search with no
# evaluation to spend, and a point that never moves (torch's LBFGS does the same); 25 is what
# the defaults allow.
FIXED = {
    "SGD": {"momentum": 0.9},
    "ASGD": {"t0": 100},
    "LBFGS": {"max_iter": 1, "max_eval": 25, "history_size": 10,
              "line_search_fn": "strong_wolfe"},
}

# The learning rate of each optimizer on each function, from a grid search at the default step
# budget over lr in {1e-5, 3e-5, 1e-4, ..., 3, 10} (half decades; 10 is already ten times
# the largest default): the lr that gets f − f_min below TOLERANCE, to stay, in the fewest
# steps; where none does, the lr with the lowest final f − f_min. So every optimizer is shown
# at its best on each function, even where that best sits next to divergence (SGD at 1e-3 on
# Rosenbrock converges; at 3e-3 it blows up). LBFGS is not searched: with a line search its
# lr is only the first trial step, and 1 (the quasi-Newton step) is the standard choice.
# tools/race_learning_rates.py runs the search and prints this table.
LEARNING_RATES = {
    "quadratic": {"SGD": 0.003, "Adagrad": 10.0, "RMSprop": 10.0, "Adadelta": 10.0, "Adam": 1.0,
                  "AdamW": 1.0, "Adamax": 1.0, "SparseAdam": 1.0, "ASGD": 0.3, "Rprop": 0.3,
                  "LBFGS": 1.0},
    "ill_conditioned": {"SGD": 0.01, "Adagrad": 1.0, "RMSprop": 0.1, "Adadelta": 3.0, "Adam": 1.0,
                        "AdamW": 0.3, "Adamax": 1.0, "SparseAdam": 1.0, "ASGD": 0.01,
                        "Rprop": 10.0, "LBFGS": 1.0},
    "rosenbrock": {"SGD": 0.001, "Adagrad": 1.0, "RMSprop": 0.003, "Adadelta": 0.3, "Adam": 0.3,
                   "AdamW": 0.03, "Adamax": 1.0, "SparseAdam": 0.3, "ASGD": 0.001, "Rprop": 3e-05,
                   "LBFGS": 1.0},
    "beale": {"SGD": 0.003, "Adagrad": 1.0, "RMSprop": 0.01, "Adadelta": 1.0, "Adam": 0.3,
              "AdamW": 0.3, "Adamax": 1.0, "SparseAdam": 0.3, "ASGD": 0.03, "Rprop": 0.1,
              "LBFGS": 1.0},
    "saddle": {"SGD": 0.1, "Adagrad": 1.0, "RMSprop": 0.1, "Adadelta": 3.0, "Adam": 0.1,
               "AdamW": 1.0, "Adamax": 1.0, "SparseAdam": 0.1, "ASGD": 0.3, "Rprop": 1.0,
               "LBFGS": 1.0},
}

TOLERANCE = 1e-6  # on f − f_min: "converged" in the tables and figures

# State entries not drawn: step counters, and LBFGS's working vectors (its history is shown
# by its length; the direction and previous gradient are intermediate values of one step).
_NOT_SHOWN = {"step", "func_evals", "n_iter", "prev_loss", "d", "prev_flat_grad", "old_stps",
              "ro", "al"}

# A coordinate beyond this size counts as divergence: the run stops before its numbers
# overflow.
_DIVERGED = 1e6


@dataclass
class Run:
    """One optimizer's race on one function.

    Attributes:
        optimizer: the optimizer's class name.
        settings: the keyword arguments it was built with (lr included).
        steps: the steps asked for (the path is shorter when the run diverged).
        path: the point before the first step and after each step, ``(steps + 1, 2)``.
        evals: closure calls (gradient evaluations) spent to reach each point of ``path``.
        state: each state entry after each step, ``(steps, width)``: a vector entry has one
            column per coordinate, a number one column, a list its length (``len(...)``).
        diverged: whether the run stopped early because the point ran off.
    """

    optimizer: str
    settings: dict
    steps: int
    path: np.ndarray
    evals: np.ndarray
    state: dict = field(default_factory=dict)
    diverged: bool = False

    def gap(self, problem: Problem) -> np.ndarray:
        """``f − f_min`` at each point of the path."""
        return problem.f(self.path[:, 0], self.path[:, 1]) - problem.f_min

    def converged_at(self, problem: Problem, tolerance: float = TOLERANCE) -> int | None:
        """The first step from which ``f − f_min < tolerance`` until the end, or None.

        "Until the end" keeps a run that only passes through the tolerance on its way past
        the minimum (as a fixed step size does) from counting as converged.
        """
        above = np.flatnonzero(~(self.gap(problem) < tolerance))  # NaN counts as above
        if above.size == 0:
            return 0
        last = int(above[-1])
        return last + 1 if last + 1 < len(self.path) else None


def canonical_name(name: str) -> str:
    """The class name for a case-insensitive optimizer name (``adamw`` → ``AdamW``).

    Raises:
        KeyError: for a name that is not one of :data:`OPTIMIZERS`.
    """
    for known in OPTIMIZERS:
        if known.lower() == name.strip().lower():
            return known
    raise KeyError(name)


def default_settings(name: str, function: str) -> dict:
    """The race's settings for optimizer ``name`` on ``function``: its lr and :data:`FIXED`."""
    return {"lr": LEARNING_RATES[function][name], **FIXED.get(name, {})}


def race(problem: Problem, name: str, settings: dict, steps: int, device: str = "cpu") -> Run:
    """Run optimizer ``name`` with ``settings`` for ``steps`` steps from ``problem.start``.

    SparseAdam accepts only sparse gradients (torch's RuntimeError on a dense one), so its
    point is the one row of an ``Embedding(1, 2, sparse=True)`` table: the gradient is a
    genuine SparseTensor. With one row, every step touches every row, and SparseAdam is Adam
    with ε added before the bias correction instead of after it.

    Raises:
        ValueError: the optimizer's own message for a bad setting.
    """
    param, point = _parameter(problem.start, sparse=name == "SparseAdam", device=device)
    optimizer = OPTIMIZERS[name]([param], **settings)
    calls = 0

    def closure():
        nonlocal calls
        calls += 1
        optimizer.zero_grad()
        loss = problem.value(point())
        loss.backward()
        return loss

    path, evals, log = [list(problem.start)], [0], _StateLog()
    diverged = False
    for _ in range(steps):
        optimizer.step(closure)
        where = param.detach().reshape(-1).tolist()
        if not all(math.isfinite(v) and abs(v) < _DIVERGED for v in where):
            diverged = True
            break
        path.append(where)
        evals.append(calls)
        log.add(optimizer.state[param])
    return Run(name, dict(settings), steps, np.array(path), np.array(evals), log.arrays(),
               diverged)


def _parameter(start, *, sparse: bool, device: str):
    """The parameter to optimize and a function giving the 2-element point it stands for."""
    if not sparse:
        param = torch.tensor(start, dtype=torch.float64, device=device, requires_grad=True)
        return param, lambda: param
    embedding = torch.nn.Embedding(1, 2, sparse=True, dtype=torch.float64, device=device)
    with torch.no_grad():
        embedding.weight.copy_(torch.tensor([start], dtype=torch.float64, device=device))
    row = torch.tensor([0], device=device)
    return embedding.weight, lambda: embedding(row).reshape(2)


class _StateLog:
    """Collects the shown entries of an optimizer's state, one row per step.

    An entry that appears after the first step is padded with NaN for the steps before it,
    so that every column lines up with the step count.
    """

    def __init__(self) -> None:
        self._rows: dict[str, list] = {}
        self._steps = 0

    def add(self, state: dict) -> None:
        """Record ``state`` as it is after the next step."""
        for key, value in state.items():
            label, row = _summary(key, value)
            if row is None:
                continue
            if label not in self._rows:
                self._rows[label] = [[math.nan] * len(row)] * self._steps
            self._rows[label].append(row)
        self._steps += 1
        for rows in self._rows.values():  # an entry that went away
            if len(rows) < self._steps:
                rows.append([math.nan] * len(rows[-1]))

    def arrays(self) -> dict:
        """Each entry's rows as a ``(steps, width)`` float array."""
        return {label: np.array(rows, dtype=float) for label, rows in self._rows.items()}


def _summary(key: str, value):
    """``(label, row of numbers)`` for one state entry; the row is None to skip it."""
    if key in _NOT_SHOWN:
        return key, None
    if isinstance(value, list):
        return f"len({key})", [float(len(value))]
    if isinstance(value, torch.Tensor):
        if value.is_sparse or value.numel() not in (1, 2):
            return key, None
        return key, [float(v) for v in value.detach().reshape(-1).tolist()]
    if isinstance(value, (int, float)):
        return key, [float(value)]
    return key, None


def table(problem: Problem, runs: list) -> str:
    """The race's results as a text table.

    Columns: the lr; "steps", the first step from which f − f* stays below
    :data:`TOLERANCE` to the end; "calls", the closure calls spent by then ("—" for either:
    not within the run); the final f − f* and point. Settings other than lr follow.
    """
    lines = [f"f(x, y) = {problem.formula}, {runs[0].steps} steps from "
             f"{_points([problem.start])}; minimum f* = {problem.f_min:g} at "
             f"{_points(problem.minima)}",
             f"{'optimizer':<11}{'lr':>8}{'steps':>7}{'calls':>7}{'final f − f*':>14}"
             "   final (x, y)"]
    for run in runs:
        step = run.converged_at(problem)
        calls = "—" if step is None else str(run.evals[step])
        final = (f"   diverged at step {len(run.path)}" if run.diverged
                 else f"{run.gap(problem)[-1]:>14.2e}   {_points([run.path[-1]])}")
        lines.append(f"{run.optimizer:<11}{run.settings['lr']:>8g}"
                     f"{'—' if step is None else step:>7}{calls:>7}{final}")
    for run in runs:
        others = {key: value for key, value in run.settings.items() if key != "lr"}
        if others:
            lines.append(f"  {run.optimizer}: "
                         + ", ".join(f"{key}={value!r}" for key, value in others.items()))
    return "\n".join(lines)


def _points(points) -> str:
    return " and ".join("(" + ", ".join(f"{v:.4g}" for v in point) + ")" for point in points)
