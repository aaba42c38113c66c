"""The grid search behind ``tour/race.py``'s LEARNING_RATES table (run it to reproduce it).

Run from the repository root: ``python tools/race_learning_rates.py [FUNCTION,...]`` (all five
functions by default; a few minutes on two cores). For every optimizer but LBFGS (whose lr is
only a line search's first trial step) and every function, it races the lrs of GRID at the
function's default step budget and keeps the lr that gets f − f_min below the tolerance, to
stay, in the fewest steps; where none does, the one with the lowest final f − f_min. It prints
one line per pair and, last, the table as JSON.
"""
from __future__ import annotations

import json
import math
import sys

import numpy as np

from tinygrad_optim.tour.functions import PROBLEMS
from tinygrad_optim.tour.race import OPTIMIZERS, default_settings, race

GRID = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0]


def score(problem, name: str, lr: float) -> tuple:
    """(steps to tolerance, final f − f_min): smaller is better; inf where it never gets there."""
    settings = {**default_settings(name, problem.name), "lr": lr}
    with np.errstate(all="ignore"):  # a diverging lr overflows on its way out
        run = race(problem, name, settings, problem.steps)
    if run.diverged:
        return math.inf, math.inf
    steps, gap = run.converged_at(problem), float(run.gap(problem)[-1])
    return (math.inf if steps is None else steps), (gap if math.isfinite(gap) else math.inf)


def main(argv: list) -> dict:
    functions = argv[1].split(",") if len(argv) > 1 else list(PROBLEMS)
    table = {}
    for function in functions:
        problem = PROBLEMS[function]
        table[function] = {}
        for name in OPTIMIZERS:
            if name == "LBFGS":
                table[function][name] = 1.0
                continue
            scores = {lr: score(problem, name, lr) for lr in GRID}
            best = min(GRID, key=lambda lr: (*scores[lr], lr))
            table[function][name] = best
            print(f"{function:16} {name:11} lr={best:<8g} steps={scores[best][0]} "
                  f"f-f*={scores[best][1]:.3g}", flush=True)
    print(json.dumps(table))
    return table


if __name__ == "__main__":
    main(sys.argv)
