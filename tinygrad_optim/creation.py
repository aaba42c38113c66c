"""Making tensors: tensor(), from_numpy() and the factories (zeros, ones, rand, arange ...)."""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from . import dtypes
from .backend import as_device, array_module, generator, on_device
from .convert import FROM_PYTHON, as_array
from .ops.shape import _shape_arg
from .tensor import Tensor

def tensor(data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or tensors)."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else None
    t = Tensor._wrap(as_array(data, dt, as_device(device)))
    return t.requires_grad_(True) if requires_grad else t


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.from_numpy_dtype(array.dtype)
    return Tensor._wrap(array)


def _factory(make, size, dtype, device, requires_grad, default=dtypes.DEFAULT_FLOAT):
    dt = dtypes.as_dtype(dtype) if dtype is not None else default
    dev = as_device(device)
    with on_device(dev):
        array = make(array_module(dev), _shape_arg(size), dt.np, dev)
    t = Tensor._wrap(array)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _factory(lambda xp, s, dt, _: xp.zeros(s, dt), size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _factory(lambda xp, s, dt, _: xp.ones(s, dt), size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _factory(lambda xp, s, dt, _: xp.empty(s, dt), size, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    default = FROM_PYTHON[np.asarray(fill_value).dtype.kind]
    return _factory(lambda xp, s, dt, _: xp.full(s, fill_value, dt), (size,), dtype, device,
                    requires_grad, default)


def _like(input, dtype, device):
    return (input.dtype if dtype is None else dtype), (input.device if device is None else device)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return zeros(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return ones(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return empty(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return full(input.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1), from the device's seeded generator."""
    return _factory(lambda xp, s, dt, dev: generator(dev).random(s, dtype=dt), size, dtype,
                    device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal, from the device's seeded generator."""
    return _factory(lambda xp, s, dt, dev: generator(dev).standard_normal(s, dtype=dt), size,
                    dtype, device, requires_grad)


def randint(low, high=None, size=None, *, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high)."""
    if size is None:
        low, high, size = 0, low, high
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    return _factory(lambda xp, s, dt, dev: generator(dev).integers(low, high, s).astype(dt),
                    (size,), dtype, device, requires_grad, dtypes.DEFAULT_INT)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    is_int = builtins.all(isinstance(v, numbers.Integral) for v in (start, end, step))
    default = dtypes.DEFAULT_INT if is_int else dtypes.DEFAULT_FLOAT
    # Counted as torch counts: ceil((end - start) / step) elements, in float64 arithmetic.
    return _factory(lambda xp, s, dt, _: (start + xp.arange(s[0]) * step).astype(dt),
                    (_arange_count(start, end, step),), dtype, device, requires_grad, default)


def _arange_count(start, end, step) -> int:
    return builtins.max(0, int(np.ceil((end - start) / step)))


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return _factory(lambda xp, s, dt, _: xp.linspace(start, end, s[0]).astype(dt), (steps,),
                    dtype, device, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    cols = n if m is None else m
    return _factory(lambda xp, s, dt, _: xp.eye(n, cols, dtype=dt), (n, cols), dtype, device,
                    requires_grad)


__all__ = ["arange", "empty", "empty_like", "eye", "from_numpy", "full", "full_like", "linspace",
           "ones", "ones_like", "rand", "randint", "randn", "tensor", "zeros", "zeros_like"]
