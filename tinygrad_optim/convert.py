"""Conversions: Python data into arrays (torch's dtype rules) and a Tensor's ways out."""
from __future__ import annotations

import builtins

import numpy as np

from . import dtypes, ops
from .backend import as_device, device_of, on_device_of, to_device, to_numpy
from .function import is_tensor
from .ops._promote import promote_types

# torch's defaults for data given as Python numbers: float -> float32, int -> int64.
_PYTHON_SCALARS = {builtins.bool: np.dtype(np.bool_), builtins.int: dtypes.DEFAULT_INT.np,
                   builtins.float: dtypes.DEFAULT_FLOAT.np}
# What torch walks into when it reads nested data; a numpy array nests like a list.
_SEQUENCES = (list, tuple, range, np.ndarray)


def as_array(data, dtype, device):
    """A new C-contiguous array holding ``data`` with torch's dtype inference, on ``device``.

    Args:
        data: a number, a nested list/tuple, a numpy array or scalar, or a Tensor.
        dtype: the wanted dtype, or None to infer it as torch does.
        device: where the array goes.

    Raises:
        TypeError, ValueError, RuntimeError: for data torch rejects, with torch's messages.
    """
    if is_tensor(data):
        array = _copy(data._array)
    elif isinstance(data, (np.ndarray, np.generic)):
        dtypes.from_numpy_dtype(data.dtype)  # rejects what cannot be held
        array = np.array(data, order="C")
    elif hasattr(data, "__cuda_array_interface__"):  # a cupy array
        dtypes.from_numpy_dtype(data.dtype)
        array = _copy(data)
    else:
        array = _from_python(data, dtype)
    if dtype is not None and array.dtype != dtype.np:
        # torch casts without a word
        with on_device_of(array), np.errstate(over="ignore", invalid="ignore"):
            array = array.astype(dtype.np)
    return to_device(array, device)


def _copy(array):
    """A copy made where ``array`` lives (on its GPU, which need not be the current one)."""
    with on_device_of(array):
        return array.copy()


def device_of_data(data):
    """Where ``tensor(data)`` puts data when no device is given: a tensor's or a cupy array's
    own device (torch reads a cupy array through ``__cuda_array_interface__``), else the CPU."""
    if is_tensor(data):
        return data.device
    if hasattr(data, "__cuda_array_interface__"):
        return device_of(data)
    return as_device(None)


def _from_python(data, wanted):
    """Python numbers and nested sequences, checked in the order torch checks them."""
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    shape = _sizes(data)
    inferred, has_tensors = _infer_dtype(data)
    if has_tensors:
        data = _tensors_to_numbers(data)
    try:
        with np.errstate(over="ignore"):  # 1e300 as float32 is inf in torch, silently
            array = np.array(data, dtype=_build_dtype(inferred, wanted))
    except OverflowError:  # a Python int beyond int64
        raise ValueError("Overflow when unpacking long long") from None
    except (TypeError, ValueError):
        raise _structure_error(data, shape, inferred) from None
    if wanted is not None and wanted.np.kind in "iu":
        _check_fits(array, wanted)
    return array


def _build_dtype(inferred, wanted):
    """The dtype to read the numbers in: an integer ``wanted`` type wraps around, as in torch,
    so those are read at full width first and cast after."""
    if wanted is None:
        return inferred.np
    if wanted.is_floating_point or wanted is dtypes.bool:
        return wanted.np
    return np.float64 if inferred.is_floating_point else np.int64


def _check_fits(array, wanted) -> None:
    """torch refuses numbers an integer dtype cannot hold, except that an unsigned type takes
    negative integers down to -max (they wrap, as two's complement arithmetic does)."""
    if array.size == 0:
        return
    info = np.iinfo(wanted.np)
    low, high = array.min(), array.max()
    if array.dtype.kind != "f" and info.min == 0:
        fits = low >= -int(info.max) and high <= info.max
    else:  # NaN and infinities fit no integer type
        fits = bool(info.min <= low) and bool(high <= info.max)
    if not fits:
        raise RuntimeError(f"value cannot be converted to type {wanted.name} without overflow")


def _sizes(data) -> list:
    """The shape torch reads off the first element at each depth (it checks the rest later)."""
    shape = []
    item = data
    while isinstance(item, _SEQUENCES):
        if isinstance(item, np.ndarray):
            shape.extend(item.shape)
            break
        shape.append(len(item))
        if not item:
            break
        item = item[0]
        if isinstance(item, (str, bytes)):  # torch descends into a string without end
            raise ValueError(f"too many dimensions '{type(item).__name__}'")
    return shape


def _infer_dtype(data):
    """torch's type inference: every element's type, promoted; float32 for empty data.

    Returns:
        (dtype, whether the data holds tensors).
    """
    found, has_tensors = None, False
    stack = [data]
    while stack:
        item = stack.pop()
        if not isinstance(item, _SEQUENCES):
            dt = _scalar_dtype(item)
            has_tensors = has_tensors or is_tensor(item)
        elif isinstance(item, np.ndarray):
            dt = dtypes.from_numpy_dtype(item.dtype).np
        else:
            # The common case, a list of Python numbers, costs one pass at C speed.
            kinds = set(map(type, item))
            for kind in kinds & _PYTHON_SCALARS.keys():
                found = promote_types(found, _PYTHON_SCALARS[kind])
            if not kinds <= _PYTHON_SCALARS.keys():
                stack.extend(v for v in item if type(v) not in _PYTHON_SCALARS)
            continue
        found = promote_types(found, dt)
    return (dtypes.DEFAULT_FLOAT if found is None else dtypes.from_numpy_dtype(found)), has_tensors


def _scalar_dtype(value):
    if isinstance(value, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(value).__name__}'")
    if isinstance(value, np.generic):
        return dtypes.from_numpy_dtype(value.dtype).np
    if is_tensor(value):
        if value.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return value._array.dtype
    for kind, dt in _PYTHON_SCALARS.items():  # subclasses of bool, int and float
        if isinstance(value, kind):
            return dt
    raise RuntimeError(f"Could not infer dtype of {type(value).__name__}")


def _tensors_to_numbers(data):
    """A copy of nested sequences with each one-element tensor replaced by its number."""
    out = []
    stack = [(data, out)]
    while stack:
        source, target = stack.pop()
        for value in source:
            if isinstance(value, (list, tuple, range)):
                child = []
                target.append(child)
                stack.append((value, child))
            else:
                target.append(value.item() if is_tensor(value) else value)
    return out


def _structure_error(data, shape, inferred) -> Exception:
    """torch's error for nested data that is not a box, found depth first as torch finds it."""
    stack = [(data, 0)]
    while stack:
        item, dim = stack.pop()
        is_sequence = isinstance(item, _SEQUENCES)
        if dim < len(shape):
            if not is_sequence:
                return TypeError("not a sequence")
            if len(item) != shape[dim]:
                return ValueError(f"expected sequence of length {shape[dim]} at dim {dim} "
                                  f"(got {len(item)})")
            stack.extend((value, dim + 1) for value in reversed(item))
        elif is_sequence:  # a list where a number belongs
            name = type(item).__name__
            if inferred.is_floating_point:
                return TypeError(f"must be real number, not {name}")
            return TypeError(f"'{name}' object cannot be interpreted as an integer")
    return ValueError("could not convert the nested data to a tensor")


class ConversionMixin:
    """A Tensor's ways out: to Python numbers and lists, to numpy, to other dtypes/devices."""

    __slots__ = ()

    def item(self):
        """The one element as a Python number."""
        if self._array.size != 1:
            raise RuntimeError(f"a Tensor with {self._array.size} elements cannot be converted "
                               "to Scalar")
        return self._array.item()

    def tolist(self):
        """Nested Python lists of numbers (a number for a 0-d tensor)."""
        return to_numpy(self._array).tolist()

    def numpy(self, *, force=False) -> np.ndarray:
        """The CPU array itself (shared memory), as torch's ``numpy()``.

        Raises:
            RuntimeError: when the tensor requires grad (torch's message).
            TypeError: for a CUDA tensor, unless ``force`` (which copies to the host).
        """
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._host_array(force)

    def _host_array(self, copy_from_device=False):
        if not isinstance(self._array, np.ndarray) and not copy_from_device:
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        return to_numpy(self._array)

    def __array__(self, dtype=None, copy=None):
        # A deliberate departure from torch: this works even when requires_grad is set, so
        # that the tutorial's plotting of a list of loss tensors works (see docs/).
        array = self._host_array()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """This tensor on another device and/or with another dtype: ``to("cuda")``,
        ``to(float64)``, ``to("cpu", float32)``, ``to(other_tensor)``.

        Returns self when nothing changes (unless ``copy``); the result is recorded, so the
        gradient flows back to the original device and dtype.
        """
        for arg in args:
            if isinstance(arg, (dtypes.dtype, np.dtype)):
                dtype = arg
            elif is_tensor(arg):
                dtype, device = arg.dtype, arg.device
            else:
                device = arg
        out = self
        if device is not None and as_device(device) != self.device:
            out = ops.to_device_op(out, as_device(device))
        if dtype is not None and dtypes.as_dtype(dtype).np != out._array.dtype:
            out = ops.to_dtype(out, dtypes.as_dtype(dtype).np)
        return ops.clone(out) if copy and out is self else out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to(as_device("cuda" if device is None else device))

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool)

    def clone(self):
        """A copy with its own storage; the gradient flows back to this tensor."""
        return ops.clone(self)

    def contiguous(self):
        return self if self._array.flags.c_contiguous else ops.clone(self)
