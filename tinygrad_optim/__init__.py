"""tinygrad_optim: a from-scratch autograd library with torch.optim's optimizers, on numpy/cupy.

Written so that code for PyTorch runs with ``import tinygrad_optim as torch``.
"""
from . import cuda, dtypes
from .backend import device
from .backend import manual_seed as _manual_seed
from .creation import (arange, empty, empty_like, eye, from_numpy, full, full_like, linspace,
                       ones, ones_like, rand, randint, randn, tensor, zeros, zeros_like)
from .dtypes import (bool, double, float, float16, float32, float64, half, int, int8, int16,
                     int32, int64, long, short, uint8)
from .dtypes import dtype
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import (absolute as abs, add, amax, amin, cat, clamp, cos, div, eq, exp, flatten, ge,
                  gt, le, log, lt, matmul, max, maximum, mean, min, minimum, mul, ne, neg,
                  permute, pow, relu, reshape, sigmoid, sign, sin, sqrt, squeeze, stack, sub, sum,
                  t, tanh, transpose, unsqueeze, where)
from .tensor import Size, Tensor

__version__ = "0.1.0"
clip = clamp


def manual_seed(seed: int) -> None:
    """Seed every device's generator: the same seed gives the same numbers, run after run."""
    _manual_seed(seed)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input.numel()
