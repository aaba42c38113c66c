"""The optimizer's attributes: defaults, state, param_groups and _step_count.

Run: ``python examples/optimizer_attributes.py``. Shows an SGD with momentum before and after
one step: ``state`` fills with a momentum buffer, ``_step_count`` counts the step.
"""
from tinygrad_optim.tour import optimizer_basics

if __name__ == "__main__":
    optimizer_basics.attributes()
