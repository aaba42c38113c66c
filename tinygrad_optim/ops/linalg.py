"""Matrix products: matmul / @ for 1-D, 2-D and batched operands (with broadcasting)."""
from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


class MatMul(Function):
    """``x @ y``; 1-D operands are treated as a row (left) or a column (right), as numpy does."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return get_array_module(x).matmul(x, y)

    def backward(self, gy):
        x, y = self.saved
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


def matmul(x, y):
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{x.ndim}D and {y.ndim}D")
    k_x = x.shape[-1]
    k_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
    if k_x != k_y:
        raise RuntimeError(_mismatch(x, y))
    if x.dtype.np != y.dtype.np:
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{x.dtype._torch_type.lower()} != {y.dtype._torch_type.lower()}")
    return MatMul.apply(x, y)


def _mismatch(x, y) -> str:
    if x.ndim == 2 and y.ndim == 1:
        return (f"size mismatch, got input ({x.shape[0]}), mat ({x.shape[0]}x{x.shape[1]}), "
                f"vec ({y.shape[0]})")
    if x.ndim == 1 and y.ndim == 1:
        return ("inconsistent tensor size, expected tensor [{}] and src [{}] to have the same "
                "number of elements, but got {} and {} elements respectively").format(
                    x.shape[0], y.shape[0], x.shape[0], y.shape[0])
    xs = "x".join(map(str, x.shape if x.ndim > 1 else (1, x.shape[0])))
    ys = "x".join(map(str, y.shape if y.ndim > 1 else (y.shape[0], 1)))
    return f"mat1 and mat2 shapes cannot be multiplied ({xs} and {ys})"
