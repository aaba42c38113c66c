"""Optimizers with torch.optim's names, defaults, state keys and state_dict layout."""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from .adamax import Adamax
from .asgd import ASGD
from .rprop import Rprop
from .adagrad import Adagrad
from .rmsprop import RMSprop
from .adadelta import Adadelta
from .sparse_adam import SparseAdam
from .lbfgs import LBFGS
from .flat import FlatParameter

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax",
           "ASGD", "Rprop", "Adagrad", "RMSprop", "Adadelta", "SparseAdam", "LBFGS",
           "FlatParameter"]
