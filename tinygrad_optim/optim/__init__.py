"""Optimizers with torch.optim's names, defaults, state keys and state_dict layout."""
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD"]
