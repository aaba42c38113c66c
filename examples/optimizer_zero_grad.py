"""``optimizer.zero_grad()``: gradients accumulate until somebody clears them.

Run: ``python examples/optimizer_zero_grad.py``. The optimizer holds the weight tensor itself
(not a copy); a ``backward()`` adds its gradient to the one already there;
``zero_grad(set_to_none=False)`` zeroes it in place, as the tutorial shows, and the default
``zero_grad()`` sets it to None, as PyTorch 2.x does.
"""
from tinygrad_optim.tour import optimizer_basics

if __name__ == "__main__":
    optimizer_basics.zero_grad()
