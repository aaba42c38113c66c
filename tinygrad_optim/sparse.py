"""Sparse COO tensors (torch's ``sparse_coo`` layout), the gradient type of embedding tables."""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import dtypes
from ._tensor_str import _THRESHOLD, _Formatter, _render, _summarized
from .backend import (as_device, device_of, get_array_module, on_device, scatter_add,
                      to_device, to_numpy)
from .convert import as_array
from .function import is_tensor
from .tensor import Size, Tensor

__all__ = ["SparseTensor", "sparse_coo_tensor"]

_DENSE_OPERAND = "add(sparse, dense) is not supported. Use add(dense, sparse) instead."
_NO_GRAD = "sparse tensors that require grad are not supported by tinygrad_optim"


class SparseTensor:
    """A tensor stored as the coordinates of its nonzero slices and their values.

    ``_indices_array`` (int64, ``(sparse_dim, nnz)``) names, for each entry, its position in
    the first ``sparse_dim`` dims; ``_values_array`` (``(nnz, *dense_shape)``) holds the dense
    slice found there. An index may repeat ("uncoalesced"): the slices then add up, exactly as
    in torch. For an embedding table's gradient ``sparse_dim`` is 1, so each entry is a row.

    Both arrays live on one device. The tensor is a value, not a graph node: it never
    requires grad (gradients flow *into* it, as torch's sparse ``.grad`` does).
    """

    __slots__ = ("_indices_array", "_values_array", "_shape", "_coalesced", "__weakref__")
    is_sparse = True
    layout = "torch.sparse_coo"
    requires_grad = False
    grad_fn = None
    is_leaf = True
    grad = None

    def __init__(self, indices, values, shape, coalesced: bool = False):
        """Wrap arrays already checked (use ``sparse_coo_tensor`` for user data)."""
        self._indices_array, self._values_array = indices, values
        self._shape = tuple(shape)
        self._coalesced = bool(coalesced)

    # ---------------------------------------------------------------- attributes
    shape = property(lambda self: Size(self._shape))
    ndim = property(lambda self: len(self._shape))
    dtype = property(lambda self: dtypes.from_numpy_dtype(self._values_array.dtype))
    device = property(lambda self: device_of(self._values_array))
    is_cuda = property(lambda self: self.device.type == "cuda")

    def size(self, dim=None):
        return self.shape if dim is None else self._shape[dim]

    def dim(self) -> int:
        return len(self._shape)

    def numel(self) -> int:
        return math.prod(self._shape)

    def sparse_dim(self) -> int:
        return self._indices_array.shape[0]

    def dense_dim(self) -> int:
        return self._values_array.ndim - 1

    def _nnz(self) -> int:
        return self._indices_array.shape[1]

    def is_coalesced(self) -> bool:
        return self._coalesced

    def _coalesced_(self, coalesced: bool):
        """Declare the indices unique and sorted (or not) without checking, as torch's."""
        self._coalesced = bool(coalesced)
        return self

    def _indices(self) -> Tensor:
        """The index array as a tensor that shares its memory, coalesced or not."""
        return Tensor._wrap(self._indices_array)

    def _values(self) -> Tensor:
        """The values as a tensor that shares their memory, coalesced or not."""
        return Tensor._wrap(self._values_array)

    def indices(self) -> Tensor:
        """The indices of a coalesced tensor.

        Raises:
            RuntimeError: on an uncoalesced tensor (torch's message).
        """
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._indices()

    def values(self) -> Tensor:
        """The values of a coalesced tensor.

        Raises:
            RuntimeError: on an uncoalesced tensor (torch's message).
        """
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._values()

    # ---------------------------------------------------------------- conversions
    def coalesce(self) -> SparseTensor:
        """Indices unique and sorted, the values of a repeated index summed; self if already.

        Repeats are summed in the order they appear. torch sums them in the order of an
        unstable sort, so with three or more repeats of an index the two may differ in the
        last bits (the same terms added in another order).
        """
        if self._coalesced:
            return self
        indices, values = self._indices_array, self._values_array
        xp = get_array_module(values)
        sparse_shape = self._shape[:indices.shape[0]]
        with on_device(self.device):
            # One linear key per entry: a 1-D sort is all it takes to find the repeats.
            keys = xp.ravel_multi_index(tuple(indices), sparse_shape) if indices.size else \
                xp.zeros(0, np.int64)
            unique, first, inverse = xp.unique(keys, return_index=True, return_inverse=True)
            # Each index's first entry by a gather, then only the repeats scattered onto it:
            # the same additions in the same order as a scatter-add into zeros (0 + v is
            # exact), without the scatter-add's cost on every entry (most are unique).
            summed = values[first]
            repeat = xp.ones(keys.shape[0], bool)
            repeat[first] = False
            scatter_add(summed, inverse.reshape(-1)[repeat], values[repeat])
            coords = xp.stack(xp.unravel_index(unique, sparse_shape)) if unique.size else \
                xp.zeros((indices.shape[0], 0), np.int64)
            coords = coords.astype(np.int64, copy=False)
        return SparseTensor(coords, summed, self._shape, True)

    def to_dense(self) -> Tensor:
        """The dense tensor this one stands for (repeated indices add up)."""
        values = self._values_array
        xp = get_array_module(values)
        with on_device(self.device):
            dense = xp.zeros(self._shape, values.dtype)
            scatter_add(dense, tuple(self._indices_array), values)
        return Tensor._wrap(dense)

    def _add_to(self, dense) -> None:
        """``dense += self`` on a dense array of this shape, in place (repeats all count)."""
        scatter_add(dense, tuple(self._indices_array), self._values_array)

    def clone(self) -> SparseTensor:
        return SparseTensor(self._indices_array.copy(), self._values_array.copy(), self._shape,
                            self._coalesced)

    def detach(self) -> SparseTensor:
        """The same data (shared, as torch's alias), outside any graph: there is none here."""
        return SparseTensor(self._indices_array, self._values_array, self._shape,
                            self._coalesced)

    def detach_(self) -> SparseTensor:
        return self

    def requires_grad_(self, requires_grad: bool = True) -> SparseTensor:
        """Returns self; only ``False`` is possible here.

        Raises:
            RuntimeError: for ``True`` (a sparse tensor is never a graph input here).
        """
        if requires_grad:
            raise RuntimeError(_NO_GRAD)
        return self

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """This tensor with another dtype (of the values) and/or on another device.

        Returns self when nothing changes, unless ``copy``; the coalesced flag carries over.
        """
        for arg in args:
            if isinstance(arg, (dtypes.dtype, np.dtype)):
                dtype = arg
            elif is_tensor(arg) or isinstance(arg, SparseTensor):
                dtype, device = arg.dtype, arg.device
            else:
                device = arg
        indices, values = self._indices_array, self._values_array
        if device is not None and as_device(device) != self.device:
            dev = as_device(device)
            indices, values = to_device(indices, dev), to_device(values, dev)
        if dtype is not None and dtypes.as_dtype(dtype).np != values.dtype:
            values = values.astype(dtypes.as_dtype(dtype).np)
        if values is self._values_array and indices is self._indices_array:
            return self.clone() if copy else self
        return SparseTensor(indices, values, self._shape, self._coalesced)

    def cpu(self) -> SparseTensor:
        return self.to("cpu")

    def cuda(self, device=None) -> SparseTensor:
        return self.to(as_device("cuda" if device is None else device))

    def float(self) -> SparseTensor:
        return self.to(dtypes.float32)

    def double(self) -> SparseTensor:
        return self.to(dtypes.float64)

    # ---------------------------------------------------------------- arithmetic
    def zero_(self) -> SparseTensor:
        """Drop every entry (nnz becomes 0, as torch resizes); returns self."""
        xp = get_array_module(self._values_array)
        with on_device(self.device):
            self._indices_array = xp.zeros((self._indices_array.shape[0], 0), np.int64)
            self._values_array = xp.zeros((0,) + self._values_array.shape[1:],
                                          self._values_array.dtype)
        self._coalesced = True
        return self

    def __add__(self, other):
        """sparse + sparse, as torch: see ``add_sparse``; sparse + dense is torch's error."""
        if isinstance(other, SparseTensor):
            return add_sparse(self, other)
        if is_tensor(other) or isinstance(other, numbers.Number):
            raise RuntimeError(_DENSE_OPERAND)
        return NotImplemented

    def __radd__(self, other):
        if is_tensor(other) or isinstance(other, numbers.Number):
            raise RuntimeError(_DENSE_OPERAND)
        return NotImplemented

    def _scaled(self, values) -> SparseTensor:
        return SparseTensor(self._indices_array, values, self._shape, self._coalesced)

    def __mul__(self, other):
        """Every value times a Python number; the indices are shared, as torch's result."""
        if not isinstance(other, numbers.Number) or isinstance(other, bool):
            return NotImplemented
        return self._scaled(_float_values(self._values_array, other) * other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not isinstance(other, numbers.Number) or isinstance(other, bool):
            return NotImplemented
        return self._scaled(_float_values(self._values_array, 0.5) / other)

    def __neg__(self):
        return self._scaled(-self._values_array)

    # ---------------------------------------------------------------- printing
    def __repr__(self):
        return _format_sparse(self)


def _float_values(values, scalar):
    """Integer values become the default float when scaled by a float, as torch promotes."""
    if isinstance(scalar, float) and values.dtype.kind != "f":
        return values.astype(dtypes.DEFAULT_FLOAT.np)
    return values


def add_sparse(first: SparseTensor, second: SparseTensor) -> SparseTensor:
    """``first + second`` for sparse tensors of one shape, entry layout exactly as torch's.

    An operand with no entries gives a copy of the other. Otherwise torch's CUDA kernel
    concatenates the entries (uncoalesced), while its CPU kernel walks both entry lists
    once, merge-fashion: at each step the smaller head index goes out, and equal heads go out
    as one entry holding their sum; the result is coalesced only if both operands were.
    Both stand for the same dense sum; matching each kernel keeps ``_nnz()`` and printing
    equal to torch's.

    Raises:
        RuntimeError: on different shapes or devices (torch's messages).
    """
    if first._shape != second._shape:
        raise RuntimeError("add: expected sizes of 'self' and 'other' to match, but "
                           f"{list(first._shape)} != {list(second._shape)}")
    if first.device != second.device:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                           f"two devices, {first.device} and {second.device}!")
    dt = np.promote_types(first._values_array.dtype, second._values_array.dtype)
    if second._nnz() == 0:
        return first.to(dt).clone()
    if first._nnz() == 0:
        return second.to(dt).clone()
    xp = get_array_module(first._values_array)
    if xp is not np:  # a GPU appends the entries (coalescing sorts them later)
        with on_device(first.device):
            values = [first._values_array.astype(dt, copy=False),
                      second._values_array.astype(dt, copy=False)]
            return SparseTensor(xp.concatenate([first._indices_array, second._indices_array], 1),
                                xp.concatenate(values), first._shape, False)
    values_a = first._values_array.astype(dt, copy=False)
    values_b = second._values_array.astype(dt, copy=False)
    where_a, where_b, nnz = _merge_positions(first._indices_array, second._indices_array)
    indices = np.empty((first._indices_array.shape[0], nnz), np.int64)
    indices[:, where_a] = first._indices_array
    indices[:, where_b] = second._indices_array
    values = np.zeros((nnz,) + values_a.shape[1:], dt)
    values[where_a] = values_a
    values[where_b] += values_b  # each slot receives at most one entry of each operand
    return SparseTensor(indices, values, first._shape, first._coalesced and second._coalesced)


def _merge_positions(indices_a, indices_b):
    """Where each entry of ``a`` and of ``b`` lands in torch's CPU merge, and the count.

    The walk is sequential (its heads need not be sorted), so it runs over Python ints;
    once one side is used up the rest of the other follows in order, without the loop.
    """
    keys_a = [tuple(c) for c in indices_a.T.tolist()]
    keys_b = [tuple(c) for c in indices_b.T.tolist()]
    count_a, count_b = len(keys_a), len(keys_b)
    where_a, where_b = [], []
    i = j = slot = 0
    while i < count_a and j < count_b:
        head_a, head_b = keys_a[i], keys_b[j]
        if head_a <= head_b:
            where_a.append(slot)
            i += 1
        if head_b <= head_a:
            where_b.append(slot)
            j += 1
        slot += 1
    tail = count_a - i + count_b - j
    rest = list(range(slot, slot + tail))
    (where_a if i < count_a else where_b).extend(rest)
    return np.array(where_a, np.int64), np.array(where_b, np.int64), slot + tail


def _body(array, indent: int) -> str:
    """torch's text of one component (indices or values), with ``size=`` when empty."""
    if array.size == 0:
        return f"[], size={tuple(array.shape)}"
    summarize = array.size > _THRESHOLD
    fmt = _Formatter(_summarized(array) if summarize else array)
    return _render(array, fmt, indent, summarize)


def _format_sparse(sparse: SparseTensor) -> str:
    """torch's repr: indices and values on two lines, then device, size, nnz, dtype, layout."""
    indent = len("tensor(")
    indices, values = to_numpy(sparse._indices_array), to_numpy(sparse._values_array)
    text = (f"tensor(indices=tensor({_body(indices, indent + len('indices=tensor('))}),\n"
            f"{' ' * indent}values=tensor({_body(values, indent + len('values=tensor('))})")
    suffixes = [] if sparse.device.type == "cpu" else [f"device='{sparse.device}'"]
    suffixes += [f"size={tuple(sparse._shape)}", f"nnz={sparse._nnz()}"]
    if sparse.dtype not in (dtypes.DEFAULT_FLOAT, dtypes.int64, dtypes.bool):
        suffixes.append(f"dtype={sparse.dtype!r}")
    suffixes.append(f"layout={sparse.layout}")
    # torch starts the suffixes on a new line for a sparse tensor, then wraps at 80 columns.
    line = indent
    pieces = [text]
    for n, suffix in enumerate(suffixes):
        if n == 0 or line + len(suffix) + 2 > 80:
            pieces.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(pieces) + ")"


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      requires_grad=False, check_invariants=None) -> SparseTensor:
    """A sparse tensor from ``(sparse_dim, nnz)`` indices and ``(nnz, *dense)`` values.

    Args:
        indices: integer coordinates (a Tensor, array or nested list; cast to int64).
        values: the slice at each coordinate; its dtype follows torch's inference.
        size: the dense shape; by default the smallest that holds every index.
        dtype: the values' dtype.
        device: where both arrays live (default: the values' device).
        requires_grad: must be False (see ``SparseTensor.requires_grad_``).
        check_invariants: accepted for torch's signature; the invariants are always checked.

    Raises:
        RuntimeError: torch's messages for inconsistent shapes, and the messages of torch's
            ``check_invariants=True`` for an index outside ``size`` (always checked here).

    Example:
        >>> sparse_coo_tensor([[0, 2]], [[1., 2.], [3., 4.]], (3, 2)).to_dense()
        tensor([[1., 2.],
                [0., 0.],
                [3., 4.]])
    """
    dt = dtypes.dtype_arg(dtype, "sparse_coo_tensor")
    if device is None:
        device = values.device if is_tensor(values) else (
            indices.device if is_tensor(indices) else None)
    dev = as_device(device)
    values = as_array(values, dt, dev)
    with on_device(dev):  # the checks below compute on the GPU that holds the indices
        indices = as_array(indices, None, dev).astype(np.int64, copy=False)
        return _checked_sparse(indices, values, size, requires_grad)


def _checked_sparse(indices, values, size, requires_grad):
    """``sparse_coo_tensor``'s checks of its arrays, in torch's order, then the tensor."""
    if indices.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(indices.shape)}")
    sparse_dim, nnz = indices.shape
    if size is None:
        top = indices.max(axis=1) + 1 if nnz else np.zeros(sparse_dim, np.int64)
        size = tuple(int(n) for n in top.tolist()) + tuple(values.shape[1:])
    size = tuple(int(n) for n in size)
    if len(size) != sparse_dim + values.ndim - 1:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) "
                           f"= {len(size)}, sparse_dim = {sparse_dim}, dense_dim = "
                           f"{values.ndim - 1}")
    if values.shape[0] != nnz:
        raise RuntimeError("indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {values.shape[0]}")
    if tuple(values.shape[1:]) != size[sparse_dim:]:
        raise RuntimeError(f"values has incorrect size, expected {[nnz, *size[sparse_dim:]]}, "
                           f"got {list(values.shape)}")
    _check_bounds(indices, size)
    if requires_grad:
        raise RuntimeError(_NO_GRAD)
    # torch calls a tensor with fewer than two entries coalesced without looking.
    return SparseTensor(indices, values, size, nnz < 2)


def _check_bounds(indices, size) -> None:
    """torch's ``check_invariants`` errors: an index must lie in ``[0, size)``."""
    if not indices.size:
        return
    low, high = indices.min(axis=1).tolist(), indices.max(axis=1).tolist()
    for dim, (lo, hi) in enumerate(zip(low, high)):
        if lo < 0:
            raise RuntimeError(f"found negative index {lo} for dim {dim}")
        if hi >= size[dim]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {dim}, size is "
                               f"{size[dim]} but found index {hi}")
