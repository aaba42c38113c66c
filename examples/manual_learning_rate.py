"""Gradient descent by hand on y = 4x²: the tutorial's learning-rate loop.

Run: ``python examples/manual_learning_rate.py``. Prints the tutorial's table: x shrinks by
the factor 1 - 8·lr = 0.92 per step, with ``x.grad.zero_()`` clearing the accumulated gradient.
"""
from tinygrad_optim.tour import learning_rate

if __name__ == "__main__":
    learning_rate.manual_descent()
