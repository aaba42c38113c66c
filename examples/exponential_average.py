"""Exponentially weighted averages: the weight of each past value, and the memory (section 4).

Run: ``python examples/exponential_average.py [DIR]`` (the figure goes to DIR, default
``./tinygrad_optim_tour``; without matplotlib it prints text only). The average
v = β·v + (1 - β)·θ gives the value t steps back the weight (1 - β)·β^t; for β = 0.98, 0.95,
0.9 and 0.8 that weight fades over about 1/(1 - β) = 50, 20, 10 and 5 steps
(``ewa_weights.png``). Momentum and Adam keep such averages of the gradient.
"""
import sys

from tinygrad_optim.tour import averages, example_out_dir, plots_possible

if __name__ == "__main__":
    averages.run(example_out_dir(sys.argv), plots=plots_possible())
