"""The ten optimizers (and AdamW) raced on Rosenbrock's function (from the tour's section 6).

Run: ``python examples/ten_optimizers.py [DIR]`` (figures go to DIR, default
``./tinygrad_optim_tour``; without matplotlib it prints text only). Each optimizer starts at
(-1.5, 2) with the learning rate the tour's grid search found best for it here and takes 2000
steps, as ``python -m tinygrad_optim compare --function rosenbrock`` does. The table gives the
steps and closure calls until f − f* stays below 1e-6; the figures show the paths over the
contour plot (``compare_rosenbrock_paths.png``), the loss curves
(``compare_rosenbrock_loss.png``) and each optimizer's state over the steps
(``compare_rosenbrock_state.png``): momentum buffers, square averages, Rprop's step sizes,
ASGD's average, LBFGS's history.
"""
import sys

from tinygrad_optim.tour import example_out_dir, plots_possible
from tinygrad_optim.tour.functions import PROBLEMS
from tinygrad_optim.tour.optimizers import show
from tinygrad_optim.tour.race import OPTIMIZERS, default_settings, race

if __name__ == "__main__":
    problem = PROBLEMS["rosenbrock"]
    runs = [race(problem, name, default_settings(name, problem.name), problem.steps)
            for name in OPTIMIZERS]
    show(problem, runs, example_out_dir(sys.argv), prefix="compare", plots=plots_possible(),
         state_name="compare_rosenbrock_state.png")
