"""torch's checks of an index ``x[index]``, raised with torch's messages (numpy's differ)."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..backend import get_array_module, on_device_of, to_numpy

_VALID = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
          "valid indices (got {})")


def check_index(shape, index) -> None:
    """Raise the IndexError torch raises for ``x[index]`` on a tensor of ``shape``.

    ``index`` is in array form (see ``shape.as_index``). torch names an int by its position in
    the index tuple and an index array by its rank among the array indices, where numpy names
    the axis. Index arrays are bounds-checked on every device (see ``_check_arrays``).
    """
    parts = index if isinstance(index, tuple) else (index,)
    consumed = sum(_width(p) for p in parts)
    if consumed > len(shape):
        if not shape and isinstance(index, numbers.Integral):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        if not shape and any(isinstance(p, slice) for p in parts):
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    dim, arrays = 0, []
    for position, part in enumerate(parts):
        if part is Ellipsis:
            dim += len(shape) - consumed
        elif _is_array(part):
            _check_array(shape, dim, part, arrays)
        elif isinstance(part, numbers.Integral) and not isinstance(part, bool):
            n = shape[dim]
            if not -n <= part < n:
                raise IndexError(f"index {part} is out of bounds for dimension {position} with "
                                 f"size {n}")
        dim += _width(part)
    _check_arrays(arrays)


def _is_array(part) -> bool:
    return hasattr(part, "dtype") and hasattr(part, "ndim") and not isinstance(part, np.generic)


def _width(part) -> int:
    """How many dims of the tensor one part of an index consumes."""
    if part is None or part is Ellipsis or isinstance(part, bool):
        return 0
    if _is_array(part):
        return part.ndim if part.dtype.kind == "b" else 1
    if isinstance(part, (numbers.Integral, slice)):
        return 1
    raise IndexError(_VALID.format(type(part).__name__))


def _check_array(shape, dim, part, arrays) -> None:
    """Check one array index; note (array, size of its dim) for the joint checks."""
    kind = part.dtype.kind
    if kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if kind != "b":
        arrays.append((part, shape[dim]))
        return
    for j, (m, n) in enumerate(zip(part.shape, shape[dim:])):
        if m != n:
            raise IndexError(f"The shape of the mask {list(part.shape)} at index {j} does not "
                             f"match the shape of the indexed tensor {list(shape)} at index "
                             f"{dim + j}")
    # A mask stands for as many index arrays (its nonzero()) as it has dims.
    arrays.extend([(part, None)] * part.ndim)


def _check_arrays(arrays) -> None:
    """The index arrays must broadcast together and stay in bounds, on every device: cupy
    would wrap an out-of-range index around silently (the check costs a GPU one sync per
    array, where torch asserts on the device)."""
    if not arrays:
        return
    with on_device_of(arrays[0][0]):  # the index arrays are on the indexed tensor's device
        shapes = [a.shape if n is not None else (int(get_array_module(a).count_nonzero(a)),)
                  for a, n in arrays]
        in_bounds = all(n is None or not a.size or not bool(((a < -n) | (a >= n)).any())
                        for a, n in arrays)
    try:
        common = np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                         f"with shapes {', '.join(str(list(s)) for s in shapes)}") from None
    if in_bounds:
        return
    arrays = [(to_numpy(a), n) for a, n in arrays]  # only to name the first bad index
    # torch walks the output elements in order, and the index arrays at each one.
    bad = [np.broadcast_to((a < -n) | (a >= n), common).ravel() if n is not None
           else np.zeros(math.prod(common), bool) for a, n in arrays]
    first = np.flatnonzero(np.any(bad, axis=0))[0]
    k = next(k for k, b in enumerate(bad) if b[first])
    array, n = arrays[k]
    if n == 0:
        raise IndexError("index is out of bounds for dimension with size 0")
    value = np.broadcast_to(array, common).ravel()[first]
    raise IndexError(f"index {value} is out of bounds for dimension {k} with size {n}")
