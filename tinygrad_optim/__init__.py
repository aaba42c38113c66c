"""tinygrad_optim: a from-scratch autograd library with torch.optim's optimizers, on numpy/cupy.

Written so that code for PyTorch runs with ``import tinygrad_optim as torch``.
"""
import builtins  # the names bool and int below are dtypes, as in torch

from . import cuda, dtypes, nn, optim
from .backend import device, manual_seed
from .creation import (arange, empty, empty_like, eye, from_numpy, full, full_like, linspace,
                       ones, ones_like, rand, randint, randn, tensor, zeros, zeros_like)
from .dtypes import (bool, double, float, float16, float32, float64, half, int, int8, int16,
                     int32, int64, long, short, uint8)
from .dtypes import dtype
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import (absolute as abs, add, amax, amin, argmax, argmin, cat, clamp, cos, div, eq, exp,
                  flatten, ge, gt, le, log, lt, matmul, max, maximum, mean, min, minimum, mul, ne,
                  neg, permute, pow, relu, reshape, sigmoid, sign, sin, sqrt, squeeze, stack, sub,
                  sum, t, tanh, transpose, unsqueeze, where)
from .serialization import load, save
from .sparse import sparse_coo_tensor
from .tensor import Size, Tensor

__version__ = "0.1.0"
clip = clamp


def is_tensor(obj) -> builtins.bool:
    """Whether ``obj`` is a Tensor (a Parameter is one)."""
    return isinstance(obj, Tensor)


def numel(input) -> builtins.int:
    """The number of elements of ``input``."""
    return input.numel()


__all__ = [
    "Size", "Tensor", "abs", "add", "amax", "amin", "arange", "argmax", "argmin", "bool", "cat",
    "clamp", "clip", "cos", "cuda", "device", "div", "double", "dtype", "dtypes", "empty",
    "empty_like", "enable_grad", "eq", "exp", "eye", "flatten", "float", "float16", "float32",
    "float64", "from_numpy", "full", "full_like", "ge", "gt", "half", "int", "int16", "int32",
    "int64", "int8", "is_grad_enabled", "is_tensor", "le", "linspace", "load", "log", "long", "lt",
    "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "ne", "neg", "nn",
    "no_grad", "numel", "ones", "ones_like", "optim", "permute", "pow", "rand", "randint", "randn",
    "relu", "reshape", "save", "set_grad_enabled", "short", "sigmoid", "sign", "sin",
    "sparse_coo_tensor", "sqrt", "squeeze", "stack", "sub", "sum", "t", "tanh", "tensor",
    "transpose", "uint8", "unsqueeze", "where", "zeros", "zeros_like",
]
