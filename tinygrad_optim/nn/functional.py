"""torch.nn.functional: layers, activations and losses as fused differentiable functions."""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import dtypes, ops
from ..backend import get_array_module, on_device_of, scatter_add
from ..function import Function
from ..ops.arith import quiet
from ..ops.reduce import normalize_dim
from ..sparse import SparseTensor
from ._loss import binary_cross_entropy_with_logits, cross_entropy, mse_loss

__all__ = ["binary_cross_entropy_with_logits", "cross_entropy", "embedding", "linear",
           "log_softmax", "mse_loss", "relu", "sigmoid", "softmax", "tanh"]


# ---------------------------------------------------------------- linear
class Linear(Function):
    """``y = x @ W.T + b`` as one node: three BLAS calls in backward, no transposed copies."""

    def forward(self, x, weight, *bias):
        self.save_for_backward(x, weight)
        y = get_array_module(x).matmul(x, weight.T)
        if bias:
            y += bias[0]  # y is ours: adding in place saves an allocation
        return y

    def backward(self, gy):
        x, weight = self.saved
        xp = get_array_module(gy)
        need_x, need_w = self.needs_input_grad[:2]
        gx = xp.matmul(gy, weight) if need_x else None
        # Leading dims of x and gy fold into one batch dim: gW is one (out, in) product,
        # C-contiguous like the weight, so an in-place update runs at memory speed.
        gy2 = gy.reshape(-1, gy.shape[-1])
        gw = xp.matmul(gy2.T, x.reshape(-1, x.shape[-1])) if need_w else None
        if len(self.needs_input_grad) == 2:
            return gx, gw
        gb = gy2.sum(axis=0) if self.needs_input_grad[2] else None
        return gx, gw, gb

    def op_name(self) -> str:
        # The names torch gives the node of a 2-D linear, so printed grad_fns match.
        return "Addmm" if len(self.input_meta) == 3 else "Mm"


def linear(input, weight, bias=None):
    """Applies ``y = input @ weight.T + bias`` over the last dim of ``input``.

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)`` (or 1-D ``(in_features,)``, as in torch).
        bias: ``(out_features,)`` or None.

    Returns:
        ``(*, out_features)``.

    Raises:
        RuntimeError: on 0-d operands, mismatched sizes or dtypes, or a weight above 2-D.
    """
    if input.ndim == 0 or weight.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are "
                           f"{input.ndim}D and {weight.ndim}D")
    if weight.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{weight.ndim}D")
    if weight.ndim == 1:
        if bias is not None and input.ndim > 1:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        out = ops.matmul(input, weight)  # a rare form: composing primitives is fast enough
        return out if bias is None else out + bias
    in_features = weight.shape[1]
    if input.shape[-1] != in_features:
        rows = math.prod(input.shape[:-1])
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x"
                           f"{input.shape[-1]} and {in_features}x{weight.shape[0]})")
    if bias is None:
        if input.dtype is not weight.dtype:
            raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                               f"{input.dtype._c_name} != {weight.dtype._c_name}")
        return Linear.apply(input, weight)
    # torch's addmm names the bias "self" and compares it with the weight first.
    for name, other in (("self", bias), ("mat1", input)):
        if other.dtype is not weight.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                               f"{other.dtype._torch_type} and {weight.dtype._torch_type}")
    _check_expands(bias.shape, input.shape[:-1] + (weight.shape[0],))
    return Linear.apply(input, weight, bias)


def _check_expands(shape, target):
    """Raise torch's expand() error unless ``shape`` broadcasts to ``target`` unchanged."""
    lead = len(target) - len(shape)
    for i, n in enumerate(shape):
        want = target[lead + i] if lead + i >= 0 else None
        if n != 1 and n != want:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size ({n}) "
                f"at non-singleton dimension {lead + i}.  Target sizes: {list(target)}.  "
                f"Tensor sizes: {list(shape)}")


# ---------------------------------------------------------------- activations
def relu(input, inplace: bool = False):
    """``max(input, 0)``; with ``inplace=True`` it overwrites ``input`` (torch's ``relu_``)."""
    if not inplace:
        return ops.relu(input)
    return input._inplace(lambda xp, a: xp.maximum(a, 0, out=a), ops.relu)


def sigmoid(input):
    """``1 / (1 + exp(-input))``, without overflow for large ``|input|``."""
    return ops.sigmoid(input)


def tanh(input):
    return ops.tanh(input)


# ---------------------------------------------------------------- softmax
def _shifted(x, dim):
    """``x - max(x)`` along ``dim`` as a new array (a copy when empty: max has no identity)."""
    if x.size == 0:
        return x.copy()
    xp = get_array_module(x)
    # out= keeps a 0-d result an array (a plain ufunc on 0-d arrays returns a scalar).
    return xp.subtract(x, x.max(axis=dim, keepdims=True), out=xp.empty_like(x))


@quiet  # an inf logit gives nan without a numpy warning, as in torch
class Softmax(Function):
    """``exp(x - max) / sum(exp(x - max))``: the shift keeps every exp in [0, 1]."""

    def forward(self, x, dim=-1):
        self.dim = dim
        y = _shifted(x, dim)
        if y.size:
            get_array_module(y).exp(y, out=y)
            y /= y.sum(axis=dim, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        gx = y * gy
        # The Jacobian-vector product y * (gy - <gy, y>), without the Jacobian.
        gx -= y * gx.sum(axis=self.dim, keepdims=True)
        return (gx,)


@quiet
class LogSoftmax(Function):
    """``x - max - log(sum(exp(x - max)))``: finite for any finite input."""

    def forward(self, x, dim=-1):
        self.dim = dim
        y = _shifted(x, dim)
        if y.size:
            xp = get_array_module(y)
            y -= xp.log(xp.exp(y).sum(axis=dim, keepdims=True))
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        xp = get_array_module(gy)
        return (gy - xp.exp(y) * gy.sum(axis=self.dim, keepdims=True),)


def _softmax_args(name, input, dim, dtype):
    """The input cast to ``dtype`` and the dim, with torch's implicit-dim rule and errors."""
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    dim = normalize_dim(dim, input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:
        kernel = "lastdim_kernel_impl" if dim == max(input.ndim - 1, 0) else "kernel_impl"
        raise NotImplementedError(f'"{name}_{kernel}" not implemented for '
                                  f"'{input.dtype._torch_type}'")
    # A 0-d tensor is its own softmax dim: work on it as one element.
    return input, (dim if input.ndim else None)


def softmax(input, dim=None, *, dtype=None):
    """Normalises ``exp(input)`` to sum to 1 along ``dim``.

    Args:
        input: a floating tensor (or any tensor when ``dtype`` is given).
        dim: the dim to normalise over; None picks torch's legacy default, with its warning.
        dtype: cast the input to this dtype first.
    """
    input, dim = _softmax_args("softmax", input, dim, dtype)
    return Softmax.apply(input, dim=dim)


def log_softmax(input, dim=None, *, dtype=None):
    """``log(softmax(input, dim))``, computed without forming the softmax (no log of 0)."""
    input, dim = _softmax_args("log_softmax", input, dim, dtype)
    return LogSoftmax.apply(input, dim=dim)


# ---------------------------------------------------------------- embedding
class Embedding(Function):
    """Rows of ``weight`` picked by ``indices``; a repeated index sums its gradients.

    With ``sparse`` the weight's gradient is a SparseTensor holding one entry per looked-up
    index, in input order and uncoalesced, whose value is that position's row of ``gy``:
    the cost is the batch's, not the table's.
    """

    def forward(self, weight, indices, padding_idx=None, sparse=False):
        self.meta = (weight.shape, padding_idx, sparse)
        self.save_for_backward(indices)
        return get_array_module(weight).take(weight, indices, axis=0)

    def backward(self, gy):
        (indices,) = self.saved
        shape, padding_idx, sparse = self.meta
        if sparse:
            return _sparse_embedding_grad(gy, indices, shape, padding_idx), None
        xp = get_array_module(gy)
        gw = xp.zeros(shape, gy.dtype)
        # ``gw[indices] += gy`` would count a repeated index once: scatter-add counts all.
        scatter_add(gw, indices.ravel(), gy.reshape(-1, shape[1]))
        if padding_idx is not None:
            gw[padding_idx] = 0  # the padding row is a constant, as in torch
        return gw, None


def _sparse_embedding_grad(gy, indices, shape, padding_idx):
    """torch's sparse embedding gradient: entries at the padding row are dropped, not zeroed.

    A copy of ``gy``'s rows, never a view: ``.grad`` may keep them long after this pass.
    """
    rows = indices.reshape(-1).astype(np.int64, copy=False)
    values = gy.reshape(-1, shape[1])
    if padding_idx is not None:
        keep = rows != padding_idx
        rows, values = rows[keep], values[keep]  # boolean indexing copies
    else:
        values = values.copy()
    # torch's unchecked constructor calls fewer than two entries coalesced.
    return SparseTensor(rows.reshape(1, -1), values, shape, rows.shape[0] < 2)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Looks up rows of ``weight``: ``output[..., :] = weight[input[...], :]``.

    Args:
        input: integer (int64 or int32) indices, any shape.
        weight: the ``(num_embeddings, embedding_dim)`` table.
        padding_idx: a row that gets no gradient (negative counts from the end).
        max_norm, norm_type, scale_grad_by_freq: torch's options, not supported here (only
            their defaults are accepted).
        sparse: give ``weight`` a SparseTensor gradient holding only the looked-up rows
            (for SparseAdam, SGD and Adagrad) instead of a dense table of zeros.

    Returns:
        ``input.shape + (embedding_dim,)``, with a gradient for ``weight``.

    Raises:
        RuntimeError: on non-integer indices or a weight that is not 2-D.
        IndexError: on an index outside ``[0, num_embeddings)``.
        AssertionError: on a padding_idx outside the table (as torch).
        NotImplementedError: for ``max_norm`` or ``scale_grad_by_freq``.
    """
    if max_norm is not None or scale_grad_by_freq:
        raise NotImplementedError("embedding: max_norm and scale_grad_by_freq are not "
                                  "supported by tinygrad_optim")
    if input.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"{dtypes.type_name(input.dtype)} instead (while checking "
                           "arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= num
    indices = input._array
    # take() would wrap a negative index around silently; torch refuses it.
    with on_device_of(indices):
        if indices.size and bool(((indices < 0) | (indices >= num)).any()):
            raise IndexError("index out of range in self")
    return Embedding.apply(weight, input, padding_idx=padding_idx, sparse=bool(sparse))
