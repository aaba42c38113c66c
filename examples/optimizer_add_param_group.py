"""``optimizer.add_param_group()``: a second group of parameters with its own learning rate.

Run: ``python examples/optimizer_add_param_group.py``. The new group's missing settings
(momentum, weight_decay, ...) are filled in from the optimizer's defaults.
"""
from tinygrad_optim.tour import optimizer_basics

if __name__ == "__main__":
    optimizer_basics.add_param_group()
