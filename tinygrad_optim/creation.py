"""Making tensors: tensor(), from_numpy() and the factories (zeros, ones, rand, arange ...)."""
from __future__ import annotations

import builtins
import math
import numbers
import operator
import warnings

import numpy as np

from . import dtypes
from .backend import as_device, array_module, generator, on_device
from .convert import as_array, device_of_data
from .function import is_tensor, type_name as _type_name
from .tensor import Tensor

_PYTHON_DTYPES = {bool: dtypes.bool, int: dtypes.DEFAULT_INT, float: dtypes.DEFAULT_FLOAT}
_NO_INT_GRAD = "Only Tensors of floating point and complex dtype can require gradients"
_COPY_WARNING = ("To copy construct from a tensor, it is recommended to use "
                 "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                 ".requires_grad_(True), rather than torch.tensor(sourceTensor).")


def tensor(data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of ``data``, with torch's dtype inference.

    Args:
        data: a number, a nested list or tuple, a numpy array or scalar, or a Tensor.
        dtype: the element type; by default Python floats give float32, ints int64, bools
            bool, and numpy data keeps its dtype.
        device: ``"cpu"`` or ``"cuda[:n]"``; by default the device of ``data`` (a tensor's, or
            a cupy array's GPU), else the CPU.
        requires_grad: make a leaf that records operations for ``backward()``.

    Raises:
        ValueError: for ragged nested lists (torch's message names the length and dim).
        TypeError: for strings and other data torch cannot hold.

    Example:
        >>> tensor([[1, 2], [3, 4]]).dtype
        tinygrad_optim.int64
    """
    dt = dtypes.dtype_arg(dtype, "tensor")
    if is_tensor(data):
        warnings.warn(_COPY_WARNING, UserWarning, stacklevel=2)
    dev = device_of_data(data) if device is None else as_device(device)
    return _finish(Tensor._wrap(as_array(data, dt, dev)), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares memory with ``array``: writing to either changes both."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {_type_name(array)})")
    dtypes.from_numpy_dtype(array.dtype)
    return Tensor._wrap(array)


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        if not t.dtype.is_floating_point:
            raise RuntimeError(_NO_INT_GRAD)
        t._requires_grad = True
    return t


def _is_int(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    try:
        operator.index(value)  # ints, numpy integers, one-element integer tensors
    except TypeError:
        return False
    return True


def _size_arg(fname: str, sizes: tuple, size=None) -> tuple:
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))`` as a tuple of ints.

    Raises:
        TypeError, RuntimeError: torch's messages for missing, non-integer or negative sizes.
    """
    if size is not None:
        sizes = (size,)
    if not sizes:
        raise TypeError(f'{fname}() missing 1 required positional arguments: "size"')
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    elif len(sizes) == 1 and not _is_int(sizes[0]):
        raise TypeError(f"{fname}(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{_type_name(sizes[0])}")
    for pos, n in enumerate(sizes, 1):
        if not _is_int(n):
            raise TypeError(f"{fname}(): argument 'size' failed to unpack the object at pos "
                            f"{pos} with error \"type must be tuple of ints,but got "
                            f"{_type_name(n)}\"")
    shape = tuple(operator.index(n) for n in sizes)
    negative = [n for n in shape if n < 0]
    if negative:
        if fname == "zeros":
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: "
                           f"{list(shape)}")
    return shape


def _factory(make, shape, dtype, device, requires_grad, fname, default=dtypes.DEFAULT_FLOAT):
    """Run ``make(xp, shape, np_dtype, device)`` on the device and wrap the array."""
    dt = dtypes.dtype_arg(dtype, fname) or default
    dev = as_device(device)
    with on_device(dev):
        array = make(array_module(dev), shape, dt.np, dev)
    return _finish(Tensor._wrap(array), requires_grad)


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``; float32 by default."""
    shape = _size_arg("zeros", sizes, size)
    return _factory(lambda xp, s, dt, _: xp.zeros(s, dt), shape, dtype, device, requires_grad,
                    "zeros")


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``; float32 by default."""
    shape = _size_arg("ones", sizes, size)
    return _factory(lambda xp, s, dt, _: xp.ones(s, dt), shape, dtype, device, requires_grad,
                    "ones")


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor whose values are whatever the memory held (fast when you overwrite it all)."""
    shape = _size_arg("empty", sizes, size)
    return _factory(lambda xp, s, dt, _: xp.empty(s, dt), shape, dtype, device, requires_grad,
                    "empty")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``, typed as torch types the number.

    A bool gives bool, an int int64 and a float float32 (numpy scalars count as numbers).
    """
    if not isinstance(size, (tuple, list)):
        raise TypeError("full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{_type_name(size)}")
    value = _number_arg(fill_value, "full", "fill_value", 2)
    default = _PYTHON_DTYPES[type(value)]
    return _factory(lambda xp, s, dt, _: xp.full(s, value, dt), _size_arg("full", (size,)),
                    dtype, device, requires_grad, "full", default)


def _number_arg(value, fname, name, pos):
    """A Python number from a number, a numpy scalar or a 0-d tensor (torch's ``Number``)."""
    if is_tensor(value) and value.ndim == 0 or isinstance(value, np.generic):
        value = value.item()
    for kind in _PYTHON_DTYPES:  # exactly bool, int or float (an int subclass counts as int)
        if isinstance(value, kind):
            return kind(value)
    raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be Number, not "
                    f"{_type_name(value)}")


def _like(fname, input, dtype, device):
    if not is_tensor(input):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{_type_name(input)}")
    dt = dtypes.dtype_arg(dtype, fname)
    dev = input.device if device is None else device
    return input.shape, (input.dtype if dt is None else dt), dev


def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros with ``input``'s shape, dtype and device (each overridable)."""
    shape, dt, dev = _like("zeros_like", input, dtype, device)
    return zeros(shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones with ``input``'s shape, dtype and device (each overridable)."""
    shape, dt, dev = _like("ones_like", input, dtype, device)
    return ones(shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uninitialised memory with ``input``'s shape, dtype and device."""
    shape, dt, dev = _like("empty_like", input, dtype, device)
    return empty(shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` with ``input``'s shape, dtype and device (``full_like(int_t, 2.7)`` is 2)."""
    shape, dt, dev = _like("full_like", input, dtype, device)
    return full(shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def rand(*sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1), from the device's seeded generator (see ``manual_seed``)."""
    shape = _size_arg("rand", sizes, size)
    return _factory(lambda xp, s, dt, dev: _real(generator(dev).random, s, dt,
                                                 "check_uniform_bounds"),
                    shape, dtype, device, requires_grad, "rand")


def randn(*sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal, from the device's seeded generator (see ``manual_seed``)."""
    shape = _size_arg("randn", sizes, size)
    return _factory(lambda xp, s, dt, dev: _real(generator(dev).standard_normal, s, dt,
                                                 "normal_kernel_cpu"),
                    shape, dtype, device, requires_grad, "randn")


def _real(draw, shape, np_dtype, kernel):
    """Draw floats of ``np_dtype``; the generators make float32/64 only, so half is a cast."""
    if np_dtype.kind != "f":
        name = dtypes.from_numpy_dtype(np_dtype)._torch_type
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')
    if np_dtype.itemsize < 4:
        return draw(shape, dtype=np.float32).astype(np_dtype)
    return draw(shape, dtype=np_dtype)


def randint(*args, low=None, high=None, size=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)``,
    ``randint(low, high, size)``, or by keyword. int64 by default.
    """
    args = list(args)
    size = args.pop() if size is None and args else size
    high = args.pop() if high is None and args else high
    low = (args.pop() if args else 0) if low is None else low
    if args or size is None or high is None:
        raise TypeError("randint() received an invalid combination of arguments: expected "
                        "(int high, tuple of ints size) or (int low, int high, tuple of ints "
                        "size)")
    if not isinstance(size, (tuple, list)):
        raise TypeError("randint(): argument 'size' (position 2) must be tuple of ints, not "
                        f"{_type_name(size)}")
    for name, pos, value in (("high", 1, high), ("low", 0, low)):
        if not _is_int(value):
            raise TypeError(f"randint(): argument '{name}' (position {pos}) must be int, not "
                            f"{_type_name(value)}")
    low, high = operator.index(low), operator.index(high)
    if not -2**63 <= low < 2**63 or not -2**63 <= high < 2**63:
        raise ValueError("Overflow when unpacking long long")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    dt = dtypes.dtype_arg(dtype, "randint") or dtypes.DEFAULT_INT
    _check_int_range(low, high, dt)
    return _factory(lambda xp, s, np_dt, dev: generator(dev).integers(low, high, s).astype(np_dt),
                    _size_arg("randint", (size,)), dt, device, requires_grad, "randint")


def _check_int_range(low: int, high: int, dt) -> None:
    """torch refuses bounds that the integer (or bool) dtype cannot hold."""
    if dt.is_floating_point:
        return
    info = np.iinfo(dt.np) if dt is not dtypes.bool else np.iinfo(np.uint8)
    top = 1 if dt is dtypes.bool else info.max
    if not info.min <= low <= top:
        raise RuntimeError(f"from is out of bounds for {dt._c_name}")
    if not info.min <= high - 1 <= top:
        raise RuntimeError(f"to - 1 is out of bounds for {dt._c_name}")


_NO_START = object()  # arange(end=4) and arange(4) both mean [0, 4)


def arange(start=_NO_START, end=None, step=1, *, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """``[start, start + step, ...]`` up to but excluding ``end``: ``arange(5)``,
    ``arange(1, 2, 0.25)``. int64 when every bound is an integer, float32 otherwise.
    """
    if end is None:
        if start is _NO_START:
            raise TypeError("arange() missing required argument 'end' (pos 1)")
        start, end = 0, start
    elif start is _NO_START:
        start = 0
    start, end, step = (_number_arg(v, "arange", name, pos)
                        for name, pos, v in (("start", 0, start), ("end", 1, end),
                                             ("step", 2, step)))
    is_int = builtins.all(isinstance(v, numbers.Integral) for v in (start, end, step))
    dt = dtypes.dtype_arg(dtype, "arange") or (dtypes.DEFAULT_INT if is_int
                                               else dtypes.DEFAULT_FLOAT)
    if dt is dtypes.bool:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start:g} -> {end:g}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dt is dtypes.int64:  # torch counts an int64 range in truncated integers
        start, end, step = builtins.int(start), builtins.int(end), builtins.int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
    count = builtins.max(0, math.ceil((end - start) / step))
    if not dt.is_floating_point:  # and fills any integer tensor in integers
        start, step = builtins.int(start), builtins.int(step)
    # Each element as torch's scalar path computes it: start + step * i in double, then cast.
    return _factory(lambda xp, s, np_dt, _: (start + xp.arange(count) * step).astype(np_dt),
                    (count,), dt, device, requires_grad, "arange")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive; float32 default."""
    if not _is_int(steps):
        raise TypeError(f"linspace(): argument 'steps' (position 3) must be int, not "
                        f"{_type_name(steps)}")
    steps = operator.index(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start = _number_arg(start, "linspace", "start", 1)
    end = _number_arg(end, "linspace", "end", 2)
    dt = dtypes.dtype_arg(dtype, "linspace") or dtypes.DEFAULT_FLOAT
    if not dt.is_floating_point:  # torch truncates the ends of an integer linspace first
        start, end = builtins.int(start), builtins.int(end)
    return _factory(lambda xp, s, np_dt, _: xp.linspace(start, end, steps).astype(np_dt),
                    (steps,), dt, device, requires_grad, "linspace")


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``)."""
    for name, pos, value in (("n", 1, n), ("m", 2, m)):
        if value is not None:
            if not _is_int(value):
                raise TypeError(f"eye(): argument '{name}' (position {pos}) must be int, not "
                                f"{_type_name(value)}")
            if value < 0:
                raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    n = operator.index(n)
    cols = n if m is None else operator.index(m)
    return _factory(lambda xp, s, np_dt, _: xp.eye(n, cols, dtype=np_dt), (n, cols), dtype,
                    device, requires_grad, "eye")


__all__ = ["arange", "empty", "empty_like", "eye", "from_numpy", "full", "full_like", "linspace",
           "ones", "ones_like", "rand", "randint", "randn", "tensor", "zeros", "zeros_like"]
