"""Comparisons (no gradient, bool result), maximum/minimum and where."""
from __future__ import annotations

import operator

from ..backend import get_array_module
from ..function import Function, is_tensor, on_one_device
from ._promote import check_broadcast, result_dtype
from .arith import as_python_scalar


class Compare(Function):
    differentiable = False

    def forward(self, x, y=None, c=None, op=None):
        return op(x, c if y is None else y)


def _compare(op, x, y):
    # Compared in the promoted type, as torch does: int_tensor > 0.5 compares as floats.
    dt = result_dtype(x, y)
    if is_tensor(y):
        check_broadcast(x, y)
        return Compare.apply(x.to(dt), y.to(dt), op=op)
    return Compare.apply(x.to(dt), c=as_python_scalar(y), op=op)


def gt(x, y):
    return _compare(operator.gt, x, y)


def ge(x, y):
    return _compare(operator.ge, x, y)


def lt(x, y):
    return _compare(operator.lt, x, y)


def le(x, y):
    return _compare(operator.le, x, y)


def eq(x, y):
    return _compare(operator.eq, x, y)


def ne(x, y):
    return _compare(operator.ne, x, y)


class Maximum(Function):
    """On ties the gradient is split in half between the inputs, as torch does."""

    pick = staticmethod(lambda xp: xp.maximum)
    wins = staticmethod(operator.gt)

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return self.pick(get_array_module(x))(x, y)

    def backward(self, gy):
        x, y = self.saved
        xp = get_array_module(gy)
        half = gy / 2
        tie = x == y
        gx = xp.where(tie, half, xp.where(self.wins(x, y), gy, 0))
        gother = xp.where(tie, half, xp.where(self.wins(y, x), gy, 0))
        return gx.astype(gy.dtype, copy=False), gother.astype(gy.dtype, copy=False)


class Minimum(Maximum):
    pick = staticmethod(lambda xp: xp.minimum)
    wins = staticmethod(operator.lt)


def _pair(name, x, y):
    """Two tensors (torch takes no scalar here), broadcast-checked and promoted."""
    for position, (arg, value) in enumerate((("input", x), ("other", y)), 1):
        if not is_tensor(value):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            f"not {type(value).__name__}")
    check_broadcast(x, y)
    dt = result_dtype(x, y)
    return x.to(dt), y.to(dt)


def maximum(input, other):
    return Maximum.apply(*_pair("maximum", input, other))


def minimum(input, other):
    return Minimum.apply(*_pair("minimum", input, other))


class Where(Function):
    def forward(self, x, y, condition=None):
        self.condition = condition
        return get_array_module(x).where(condition, x, y)

    def backward(self, gy):
        xp = get_array_module(gy)
        zero = xp.zeros((), gy.dtype)
        return xp.where(self.condition, gy, zero), xp.where(self.condition, zero, gy)


def where(condition, input, other):
    """``where(cond, x, y)``: x where cond is true, else y; either may be a Python scalar."""
    if condition._array.dtype.kind != "b":
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype._torch_type}")
    dt = result_dtype(input, other)
    x = input.to(dt) if is_tensor(input) else condition._scalar_tensor(input, dt)
    y = other.to(dt) if is_tensor(other) else condition._scalar_tensor(other, dt)
    check_broadcast(condition, x, y)
    condition, x, y = on_one_device([condition, x, y])  # the condition too, as in torch
    return Where.apply(x, y, condition=condition._array)
