"""Momentum in torch's form, v = m·v + g and w = w - lr·v, on y = 4x² (the tour's section 5).

Run: ``python examples/momentum.py [DIR]`` (figures go to DIR, default
``./tinygrad_optim_tour``; without matplotlib it prints text only). It checks that optim.SGD
follows that formula, then repeats the course's comparison: lr 0.01 with momentum 0.9 swings
around the minimum, with 0.63 it behaves much like lr 0.03 without momentum
(``momentum_compare.png``); a sweep of m shows the best momentum for lr 0.01, where the
swings just stop (``momentum_sweep.png``).
"""
import sys

from tinygrad_optim.tour import example_out_dir, momentum, plots_possible

if __name__ == "__main__":
    momentum.run(example_out_dir(sys.argv), plots=plots_possible())
