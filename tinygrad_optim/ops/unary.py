"""Elementwise functions of one tensor: abs exp log sqrt sin cos tanh sigmoid relu clamp sign."""
from __future__ import annotations

from .. import _numerics
from ..backend import get_array_module
from ..function import Function
from ._promote import result_dtype
from .arith import as_python_scalar, quiet


def _kept_where(xp, mask, gy):
    """``where(mask, gy, 0)`` for a boolean ``mask`` of ``gy``'s shape, by the bits.

    torch's backward of relu and clamp picks the gradient or +0.0 (an inf gradient stays out
    of the dead inputs, unlike ``gy * mask``). numpy's ``where`` with a scalar runs about
    seven times slower than a bitwise AND of ``gy``'s bits with all-ones or all-zeros words,
    which gives exactly the same values: ``gy`` where kept, +0.0 elsewhere.
    """
    words = xp.dtype(f"int{8 * gy.dtype.itemsize}")
    # 1 or 0 per element (a bool is one byte; asarray: a 0-d comparison gives a scalar) ...
    keep = xp.asarray(mask).view(xp.int8).astype(words)
    xp.negative(keep, out=keep)  # ... and so all ones or all zeros
    return xp.bitwise_and(gy.view(words), keep, out=keep).view(gy.dtype)


def _floating(x):
    """Integer inputs of exp, log ... give the default float type, as in torch."""
    return x if x._array.dtype.kind == "f" else x.float()


@quiet
class Abs(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return abs(x)

    def backward(self, gy):
        (x,) = self.saved
        return (gy * _numerics.sign(get_array_module(x), x),)  # 0 at NaN, as torch's sgn


@quiet
class Exp(Function):
    def forward(self, x):
        y = get_array_module(x).exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return (gy * y,)


@quiet
class Log(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).log(x)

    def backward(self, gy):
        (x,) = self.saved
        return (gy / x,)


@quiet
class Sqrt(Function):
    def forward(self, x):
        y = get_array_module(x).sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return (gy / (2 * y),)


@quiet
class Sin(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).sin(x)

    def backward(self, gy):
        (x,) = self.saved
        return (gy * get_array_module(x).cos(x),)


@quiet
class Cos(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).cos(x)

    def backward(self, gy):
        (x,) = self.saved
        return (gy * -get_array_module(x).sin(x),)


@quiet
class Tanh(Function):
    def forward(self, x):
        y = get_array_module(x).tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return (gy * (1 - y * y),)


@quiet
class Sigmoid(Function):
    def forward(self, x):
        xp = get_array_module(x)
        # exp of a negative number only: no overflow for large |x|.
        e = xp.exp(-abs(x))
        y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return (gy * (1 - y) * y,)


class Relu(Function):
    def forward(self, x):
        y = get_array_module(x).maximum(x, 0)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return (_kept_where(get_array_module(gy), y > 0, gy),)


class Clamp(Function):
    """Gradient flows where min <= x <= max (both ends included, as in torch)."""

    def forward(self, x, min=None, max=None):
        xp = get_array_module(x)
        self.save_for_backward(x)
        self.bounds = (min, max)
        y = x
        if min is not None:
            y = xp.maximum(y, min)
        if max is not None:
            y = xp.minimum(y, max)
        return y if y is not x else x.copy()

    def backward(self, gy):
        (x,) = self.saved
        low, high = self.bounds
        if low is None and high is None:
            return (gy,)
        mask = (x >= low) if low is not None else None
        if high is not None:
            mask = (x <= high) if mask is None else mask & (x <= high)
        return (_kept_where(get_array_module(gy), mask, gy),)


class Sign(Function):
    def forward(self, x):
        return _numerics.sign(get_array_module(x), x)  # NaN gives 0, as in torch

    def backward(self, gy):
        return (get_array_module(gy).zeros_like(gy),)  # zero wherever it exists, as in torch


def absolute(x):
    if x._array.dtype.kind == "b":
        raise NotImplementedError(f'"abs_{x.device.type}" not implemented for \'Bool\'')
    return Abs.apply(x)


def exp(x):
    return Exp.apply(_floating(x))


def log(x):
    return Log.apply(_floating(x))


def sqrt(x):
    return Sqrt.apply(_floating(x))


def sin(x):
    return Sin.apply(_floating(x))


def cos(x):
    return Cos.apply(_floating(x))


def tanh(x):
    return Tanh.apply(_floating(x))


def sigmoid(x):
    return Sigmoid.apply(_floating(x))


def relu(x):
    if x._array.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(x)


def sign(x):
    return Sign.apply(x)


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo = None if min is None else as_python_scalar(min)
    hi = None if max is None else as_python_scalar(max)
    # The bounds take part in type promotion: int_tensor.clamp(0.5) is float32, as in torch.
    dt = result_dtype(x, *(b for b in (lo, hi) if b is not None))
    return Clamp.apply(x if x._array.dtype == dt else x.to(dt), min=lo, max=hi)
