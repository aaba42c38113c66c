"""torch's operand rules: type promotion (tensors mixed with Python scalars) and broadcasting.

numpy and torch disagree in three places that users notice: ``int_tensor * 2.5`` is float32
in torch (float64 in numpy), ``float32_tensor + int64_tensor`` stays float32 (float64 in
numpy), and a 0-d float64 tensor does not upcast a float32 tensor. The rules below are
torch's (c10's ResultTypeState): dimensioned tensors decide, 0-d tensors and then Python
scalars only matter when they belong to a higher category (bool < integer < float).
"""
from __future__ import annotations

import builtins

import numpy as np

from ..function import is_tensor

_BOOL, _INT, _FLOAT = 0, 1, 2
_SCALAR_DTYPES = {builtins.bool: np.dtype(np.bool_), builtins.int: np.dtype(np.int64),
                  builtins.float: np.dtype(np.float32)}


def _category(dt) -> int:
    return _FLOAT if dt.kind == "f" else (_BOOL if dt.kind == "b" else _INT)


def promote_types(a, b):
    """torch.promote_types: like numpy's, except that a float type beats any integer type."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher, lower):
    if higher is None:
        return lower
    if lower is None or _category(higher) == _FLOAT:
        return higher
    if _category(higher) == _BOOL or _category(lower) > _category(higher):
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value):
    """The dtype torch gives a Python (or numpy) scalar operand."""
    if isinstance(value, np.generic):
        return value.dtype
    try:
        return _SCALAR_DTYPES[type(value)]
    except KeyError:
        raise TypeError(f"unsupported operand type: {type(value).__name__}") from None


def result_dtype(*operands):
    """The numpy dtype of ``op(*operands)`` under torch's rules."""
    dim = zero = wrapped = None
    for value in operands:
        if is_tensor(value):
            dt = value._array.dtype
            if value._array.ndim:
                dim = promote_types(dim, dt)
            else:
                zero = promote_types(zero, dt)
        else:
            wrapped = promote_types(wrapped, scalar_dtype(value))
    return _combine(dim, _combine(zero, wrapped))


def cast(array, dt):
    return array if array.dtype == dt else array.astype(dt)


def broadcast_shapes(*shapes):
    """The common shape of ``shapes``, or torch's RuntimeError naming the first clash.

    Folded left to right and compared from the last dim, as torch's ``infer_size`` does, so
    that the message names the same sizes and dim as torch's.
    """
    result = tuple(shapes[0])
    for shape in shapes[1:]:
        if tuple(shape) == result:
            continue
        ndim = builtins.max(len(result), len(shape))
        a = (1,) * (ndim - len(result)) + result
        b = (1,) * (ndim - len(shape)) + tuple(shape)
        for i in reversed(range(ndim)):
            if a[i] != b[i] and a[i] != 1 and b[i] != 1:
                raise RuntimeError(f"The size of tensor a ({a[i]}) must match the size of "
                                   f"tensor b ({b[i]}) at non-singleton dimension {i}")
        result = tuple(n if n != 1 else m for n, m in zip(a, b))
    return result


def check_broadcast(*tensors):
    """Raise torch's error when the tensors' shapes do not broadcast together."""
    first = tensors[0]._array.shape
    if any(t._array.shape != first for t in tensors[1:]):
        broadcast_shapes(*(t._array.shape for t in tensors))
