"""Python data (numbers, nested lists, numpy arrays) to arrays, with torch's dtype rules."""
from __future__ import annotations

import numpy as np

from . import dtypes
from .backend import to_device
from .function import is_tensor

# torch's defaults for data given as Python numbers: float -> float32, int -> int64.
FROM_PYTHON = {"f": dtypes.DEFAULT_FLOAT, "i": dtypes.DEFAULT_INT, "u": dtypes.DEFAULT_INT,
                "b": dtypes.bool}


def as_array(data, dtype, device):
    """A new array holding ``data`` with torch's dtype inference, on ``device``."""
    if is_tensor(data):
        array = data._array.copy()
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data)
        dtypes.from_numpy_dtype(array.dtype)  # rejects what torch cannot hold
    elif hasattr(data, "__cuda_array_interface__"):
        array = data.copy()
    else:
        array = _from_python(data)
    if dtype is not None and array.dtype != dtype.np:
        array = array.astype(dtype.np)
    return to_device(array, device)


def _from_python(data):
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    try:
        array = np.asarray(data)
    except ValueError:
        raise ValueError(_ragged_message(data)) from None
    if array.dtype.kind not in FROM_PYTHON:
        if array.dtype.kind == "U":
            raise TypeError("new(): invalid data type 'str'")
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    if _has_python_numbers(data):
        return array.astype(FROM_PYTHON[array.dtype.kind].np, copy=False)
    return array


def _has_python_numbers(data) -> bool:
    """Whether the dtype should follow torch's Python-number defaults (not a numpy dtype)."""
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return not isinstance(data, (np.ndarray, np.generic)) and not is_tensor(data)


def _ragged_message(data) -> str:
    """torch's message for nested lists of unequal lengths, found without recursion."""
    stack = [(data, 0)]
    lengths = {}
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, tuple)):
            want = lengths.setdefault(depth, len(item))
            if len(item) != want:
                return f"expected sequence of length {want} at dim {depth} (got {len(item)})"
            stack.extend((x, depth + 1) for x in reversed(item))
    return "could not convert the nested sequence to a tensor"
