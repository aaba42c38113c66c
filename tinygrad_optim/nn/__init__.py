"""Neural-network building blocks: Parameter, Module, layers, losses and ``functional``."""
from . import functional
from .module import Module
from .modules import (BCEWithLogitsLoss, CrossEntropyLoss, Embedding, Linear, MSELoss, ReLU,
                      Sequential, Sigmoid, Tanh)
from .parameter import Parameter

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "Embedding", "Linear", "MSELoss", "Module",
           "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh", "functional"]
