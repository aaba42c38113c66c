"""``optimizer.step()``: one update, weight -= lr * grad.

Run: ``python examples/optimizer_step.py``. With lr = 0.1 and a gradient of ones, every
weight drops by 0.1 (try lr = 1 to see it drop by 1).
"""
from tinygrad_optim.tour import optimizer_basics

if __name__ == "__main__":
    optimizer_basics.step()
