"""The differentiable operations: each a Function subclass plus a lowercase function."""
from .arith import add, div, mul, neg, pow, sub
from .compare import eq, ge, gt, le, lt, maximum, minimum, ne, where
from .linalg import matmul
from .reduce import amax, amin, argmax, argmin, max, mean, min, sum
from .shape import (cat, clone, expand, flatten, getitem, permute, reshape, squeeze, stack, t,
                    to_device_op, to_dtype, transpose, unsqueeze, view)
from .unary import absolute, clamp, cos, exp, log, relu, sigmoid, sign, sin, sqrt, tanh

__all__ = ["absolute", "add", "amax", "amin", "argmax", "argmin", "cat", "clamp", "clone", "cos",
           "div", "eq", "exp", "expand", "flatten", "ge", "getitem", "gt", "le", "log", "lt",
           "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "ne", "neg", "permute",
           "pow", "relu", "reshape", "sigmoid", "sign", "sin", "sqrt", "squeeze", "stack", "sub",
           "sum", "t", "tanh", "to_device_op", "to_dtype", "transpose", "unsqueeze", "view",
           "where"]
