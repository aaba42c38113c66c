"""The learning rate on y = 4x²: too small, just right, too large (the tour's section 3).

Run: ``python examples/learning_rate.py [DIR]`` (figures go to DIR, default
``./tinygrad_optim_tour``; without matplotlib it prints text only). Gradient descent by hand
multiplies x by 1 - 8·lr at every step. The tutorial's loop (lr 0.01, 20 steps) creeps towards
0 (``lr_manual_loss.png``, ``lr_manual_path.png``); the course's ten learning rates from 0.01
to 0.2 converge at rates set by |1 - 8·lr| (``lr_sweep.png``); and single runs show lr 0.125
reaching 0 in one step, 0.2 overshooting but converging, 0.25 bouncing forever, 0.3 and 1
diverging, because |1 - 8·lr| < 1 only for lr < 0.25 (``lr_regimes.png``).
"""
import sys

from tinygrad_optim.tour import example_out_dir, learning_rate, plots_possible

if __name__ == "__main__":
    learning_rate.run(example_out_dir(sys.argv), plots=plots_possible())
