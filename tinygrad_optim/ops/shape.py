"""Shape and layout: views (reshape, transpose, indexing ...), cat/stack, copies and casts."""
from __future__ import annotations

import math

import numpy as np

from ..backend import device_of, get_array_module, on_device, scatter_add, to_device
from ..function import Function, is_tensor
from ._index import check_index
from ._promote import result_dtype
from .arith import quiet
from .reduce import normalize_dim, normalize_dims


class _View(Function):
    """An output that may share memory with its input (a view, as in torch)."""

    makes_views = True

    @staticmethod
    def is_view(out, x) -> bool:
        return out.base is not None and get_array_module(x).may_share_memory(out, x)


def _shape_arg(shape):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``, as torch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _infer(shape, numel):
    """Resolve one -1 entry, with torch's message when the sizes cannot work."""
    for i, n in enumerate(shape):
        if n < -1:
            raise RuntimeError(f"invalid shape dimension {n} at index {i} of shape {list(shape)}")
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(n for n in shape if n != -1)
    if -1 in shape:
        if known == 0 and numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                               "because the unspecified dimension size -1 can be any value and "
                               "is ambiguous")
        if known != 0 and numel % known == 0:
            return tuple(numel // known if n == -1 else n for n in shape)
    elif known == numel:
        return shape
    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")


class Reshape(_View):
    def forward(self, x, shape=(), strict=False):
        self.in_shape = x.shape
        if strict:  # view(): never copies, like torch
            out = x.view()
            try:
                out.shape = shape
            except AttributeError:
                raise RuntimeError(
                    "view size is not compatible with input tensor's size and stride (at least "
                    "one dimension spans across two contiguous subspaces). Use .reshape(...) "
                    "instead.") from None
            return out
        return x.reshape(shape)

    def backward(self, gy):
        return (gy.reshape(self.in_shape),)


def reshape(x, *shape, strict=False):
    shape = _infer(_shape_arg(shape), x.numel())
    return Reshape.apply(x, shape=shape, strict=strict)


def view(x, *shape):
    return reshape(x, *shape, strict=True)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = normalize_dim(start_dim, x.ndim), normalize_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:]
    return reshape(x, shape)


class Permute(_View):
    def forward(self, x, dims=()):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, gy):
        return (gy.transpose(tuple(np.argsort(self.dims).tolist())),)


def permute(x, *dims):
    dims = _shape_arg(dims)
    if len(dims) != x.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}")
    dims = tuple(normalize_dim(d, x.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    dims = list(range(x.ndim))
    if x.ndim == 0:
        normalize_dim(dim0, 0), normalize_dim(dim1, 0)
        return Permute.apply(x, dims=())
    a, b = normalize_dim(dim0, x.ndim), normalize_dim(dim1, x.ndim)
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(x, dims=tuple(dims))


def t(x):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return transpose(x, 0, 1) if x.ndim == 2 else Reshape.apply(x, shape=x.shape)


def squeeze(x, dim=None):
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        # A 0-d tensor accepts dim 0 or -1 (normalize_dims checks them, then reduces nothing).
        dims = normalize_dims(dim if isinstance(dim, (tuple, list)) else (dim,), x.ndim)
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return Reshape.apply(x, shape=shape)


def unsqueeze(x, dim):
    d = normalize_dim(dim, x.ndim + 1)
    return Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


class Expand(_View):
    def forward(self, x, shape=()):
        return get_array_module(x).broadcast_to(x, shape)

    def backward(self, gy):
        return (gy,)  # the central unbroadcast sums it back to the input's shape


def expand(x, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand({x._type_name()}{{{list(x.shape)}}}, size={list(sizes)}): "
                           f"the number of sizes provided ({len(sizes)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    for i, n in enumerate(sizes[:lead]):
        if n < 0:
            raise RuntimeError(f"The expanded size of the tensor ({n}) isn't allowed in a "
                               f"leading, non-existing dimension {i}")
    shape = list(sizes)
    for i, n in enumerate(x.shape):
        want = sizes[lead + i]
        if want == -1:
            shape[lead + i] = n
        elif n != want and n != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size ({n}) "
                f"at non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(x.shape)}")
    return Expand.apply(x, shape=tuple(shape))


class GetItem(_View):
    """Indexing; repeated integer indices accumulate their gradients (scatter-add)."""

    def forward(self, x, index=()):
        self.meta = (x.shape, index)
        return x[index]

    def backward(self, gy):
        shape, index = self.meta
        xp = get_array_module(gy)
        gx = xp.zeros(shape, gy.dtype)
        if _is_basic(index):
            gx[index] = gy  # a basic index names each element at most once
        else:
            scatter_add(gx, index, gy)
        return (gx,)


def _is_basic(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def _index_part(part, xp, dev):
    """Tensors and lists inside an index become arrays; a 0-d integer tensor an int."""
    if is_tensor(part):
        if part.ndim == 0 and part._array.dtype.kind in "iu":
            return part.item()
        # A CPU index tensor may index a GPU tensor, as in torch, but not the other way round.
        if part.device != dev and part.device.type != "cpu":
            raise RuntimeError("indices should be either on cpu or on the same device as the "
                               f"indexed tensor ({dev})")
        return xp.asarray(part._array)
    if isinstance(part, list):
        return xp.asarray(part)
    return part


def as_index(index, array):
    """An index into ``array`` in the form numpy/cupy accept, its arrays on ``array``'s device."""
    xp, dev = get_array_module(array), device_of(array)
    with on_device(dev):
        if isinstance(index, tuple):
            return tuple(_index_part(p, xp, dev) for p in index)
        return _index_part(index, xp, dev)


def getitem(x, index):
    index = as_index(index, x._array)
    check_index(x.shape, index)
    return GetItem.apply(x, index=index)


class SetItem(Function):
    """``x[index] = v`` out of place: the gradient of x is zero where v was written."""

    def forward(self, x, v, index=()):
        self.index = index
        out = x.copy()
        out[index] = v
        return out

    def backward(self, gy):
        gx = gy.copy()
        gx[self.index] = 0
        return gx, gy[self.index]


def setitem(x, index, value):
    check_index(x.shape, index)
    v = value.to(x.dtype) if is_tensor(value) else x._scalar_tensor(value, x._array.dtype)
    return SetItem.apply(x, v, index=index)


class Cat(Function):
    """Concatenation along ``dim``; legacy empty inputs (shape (0,)) are left out, as torch
    leaves them out, and get an empty gradient."""

    def forward(self, *arrays, dim=0):
        skip = [_legacy_empty(a) for a in arrays]
        if all(skip):
            skip = [False] * len(arrays)
        kept = [a for a, s in zip(arrays, skip) if not s]
        self.layout = (dim, skip, np.cumsum([a.shape[dim] for a in kept])[:-1].tolist())
        return get_array_module(arrays[0]).concatenate(kept, axis=dim)

    def backward(self, gy):
        dim, skip, points = self.layout
        xp = get_array_module(gy)
        parts = iter(xp.split(gy, points, axis=dim))
        return tuple(xp.zeros((0,), gy.dtype) if s else next(parts) for s in skip)


def _legacy_empty(t) -> bool:
    return t.ndim == 1 and t.shape[0] == 0


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    keep = [(i, t) for i, t in enumerate(tensors) if not _legacy_empty(t)]
    if not keep:  # nothing but legacy empties: torch returns one, whatever dim says
        return Cat.apply(*_promoted(tensors), dim=0)
    d = normalize_dim(dim, keep[0][1].ndim)
    ref = keep[0][1].shape
    for i, t in keep[1:]:
        if t.ndim != len(ref):
            raise RuntimeError("Tensors must have same number of dimensions: got "
                               f"{len(ref)} and {t.ndim}")
        for j, (a, b) in enumerate(zip(ref, t.shape)):
            if j != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {a} but got size {b} for tensor number {i} "
                                   "in the list.")
    return Cat.apply(*_promoted(tensors), dim=d)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    d = normalize_dim(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], dim=d)


def _promoted(tensors):
    dt = result_dtype(*tensors)
    return [t.to(dt) for t in tensors]


@quiet
class Copy(Function):
    """clone(), a cast, or a move between devices: the gradient takes the way back."""

    def forward(self, x, dtype=None, device=None):
        self.source = (x.dtype, device_of(x))
        self.is_clone = dtype is None and device is None
        if device is not None:
            return to_device(x, device)
        return x.astype(dtype) if dtype is not None else x.copy()

    def backward(self, gy):
        dtype, dev = self.source
        return (to_device(gy, dev).astype(dtype, copy=False),)

    def op_name(self) -> str:
        return "Clone" if self.is_clone else "ToCopy"  # torch's names for the two nodes


def clone(x):
    return Copy.apply(x)


def to_dtype(x, np_dtype):
    return Copy.apply(x, dtype=np_dtype)


def to_device_op(x, dev):
    return Copy.apply(x, device=dev)
