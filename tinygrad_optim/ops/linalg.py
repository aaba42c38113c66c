"""Matrix products: matmul / @ for 1-D, 2-D and batched operands (with broadcasting)."""
from __future__ import annotations

import math

from ..backend import get_array_module
from ..function import Function
from ._promote import broadcast_shapes
from .arith import quiet


@quiet
class MatMul(Function):
    """``x @ y``; 1-D operands are treated as a row (left) or a column (right), as numpy does."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return get_array_module(x).matmul(x, y)

    def backward(self, gy):
        x, y = self.saved
        if x.ndim == 1 and y.ndim == 1:  # a dot product: gy is 0-d
            return gy * y, gy * x
        xp = get_array_module(gy)
        # Lift 1-D operands to matrices, so that one pair of formulas covers every case.
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g2 = gy
        if x.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        if y.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = xp.matmul(g2, xp.swapaxes(y2, -1, -2))
            gx = gx.reshape(gx.shape[:-2] + (gx.shape[-1],)) if x.ndim == 1 else gx
        if self.needs_input_grad[1]:
            gw = xp.matmul(xp.swapaxes(x2, -1, -2), g2)
            gw = gw.reshape(gw.shape[:-2] + (gw.shape[-2],)) if y.ndim == 1 else gw
        return gx, gw


def matmul(input, other):
    """``input @ other``, checked as torch checks it (which kernel it picks decides the message).

    torch computes vector . vector with dot, (batched) matrix @ vector with addmv on the batch
    folded into rows, (batched) matrix @ matrix with mm on the folded batch, and anything with
    a batched right operand with bmm.
    """
    x, y = input, other
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{x.ndim}D and {y.ndim}D")
    if x.ndim == 1 and y.ndim == 1:
        _check_dot(x, y)
    elif y.ndim == 1:
        _check_mv(x, y)
    elif y.ndim == 2:
        _check_mm(x, y)
    else:
        _check_bmm(x, y)
    return MatMul.apply(x, y)


def _names(x, y):
    return x.dtype._torch_type, y.dtype._torch_type


def _check_dot(x, y):
    if x.dtype is not y.dtype:
        raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                           "{} and {}".format(*_names(x, y)))
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src "
                           f"[{y.shape[0]}] to have the same number of elements, but got "
                           f"{x.shape[0]} and {y.shape[0]} elements respectively")


def _check_mv(x, y):
    rows, k = math.prod(x.shape[:-1]), x.shape[-1]
    if k != y.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k}), "
                           f"vec ({y.shape[0]})")
    if x.dtype is not y.dtype:
        # torch names the output (made in the vector's dtype) first.
        name_x, name_y = _names(x, y)
        raise RuntimeError("addmv input tensors must have the same dtype, but got "
                           f"{name_y}, {name_x}, and {name_y}")


def _check_mm(x, y):
    rows, k = (1 if x.ndim == 1 else math.prod(x.shape[:-1])), x.shape[-1]
    if k != y.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
                           f"{y.shape[0]}x{y.shape[1]})")
    if x.dtype is not y.dtype:
        # Spelled the way c10 prints scalar types: "float", "double", "c10::Half" ...
        name_x, name_y = ("c10::Half" if n == "Half" else n.lower() for n in _names(x, y))
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{name_x} != {name_y}")


def _check_bmm(x, y):
    batch = broadcast_shapes(x.shape[:-2], y.shape[:-2])
    count, k = math.prod(batch), x.shape[-1]
    if k != y.shape[-2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{count}, {k}] but got: [{count}, {y.shape[-2]}].")
    if x.dtype is not y.dtype:
        raise RuntimeError("expected scalar type {} but found {}".format(*_names(x, y)))
