"""Reductions: sum, mean, max/min (whole tensor or along a dim), amax/amin."""
from __future__ import annotations

import builtins
import collections

import numpy as np

from ..backend import get_array_module, on_device_of
from ..function import Function
from .arith import quiet


def _return_type(name):
    """torch.return_types.<name>(values=..., indices=...): unpacks like a tuple, reads like a
    record, prints like torch's."""
    def __repr__(self):
        return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    base = collections.namedtuple(name, ["values", "indices"])
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__})


ReturnMax = _return_type("max")
ReturnMin = _return_type("min")


def normalize_dim(dim: int, ndim: int) -> int:
    """A dim in range for ``ndim`` dims (a 0-d tensor accepts 0 and -1), as a positive int."""
    n = builtins.max(ndim, 1)  # this module's max() is the tensor op
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def normalize_dims(dim, ndim: int) -> tuple:
    """The axes a reduction runs over: all of them for None, none at all for a 0-d tensor."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
    return axes if ndim else ()


def _expand_back(gy, shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced axes (a read-only view)."""
    xp = get_array_module(gy)
    if not keepdim and axes:
        gy = xp.expand_dims(gy, axes)
    return xp.broadcast_to(gy, shape)


@quiet
class Sum(Function):
    def forward(self, x, axes=(), keepdim=False):
        self.meta = (x.shape, axes, keepdim)
        xp = get_array_module(x)
        return xp.asarray(x.sum(axis=axes, keepdims=keepdim))

    def backward(self, gy):
        return (_expand_back(gy, *self.meta),)


@quiet
class Mean(Function):
    def forward(self, x, axes=(), keepdim=False):
        self.meta = (x.shape, axes, keepdim)
        count = 1
        for a in axes:
            count *= x.shape[a]
        self.count = count
        xp = get_array_module(x)
        # What numpy's mean computes, without its warning on empty input (torch gives nan).
        with np.errstate(invalid="ignore"):
            return xp.asarray(x.sum(axis=axes, keepdims=keepdim) / count)

    def backward(self, gy):
        return (_expand_back(gy, *self.meta) / self.count,)


@quiet
class Extreme(Function):
    """max/min over whole axes; ties share the gradient equally (torch's amax/max rule)."""

    def forward(self, x, axes=(), keepdim=False, largest=True):
        xp = get_array_module(x)
        y = xp.asarray((x.max if largest else x.min)(axis=axes, keepdims=True))
        self.save_for_backward(x, y)
        self.meta = (axes, keepdim)
        return y if keepdim else y.reshape([n for i, n in enumerate(x.shape) if i not in axes])

    def backward(self, gy):
        x, y = self.saved
        axes, keepdim = self.meta
        mask = x == y
        count = mask.sum(axis=axes, keepdims=True)
        return (_expand_back(gy, x.shape, axes, keepdim) * mask / count.astype(gy.dtype),)


class TakeAlong(Function):
    """The entries at ``index`` along ``dim``; the gradient goes back to exactly those places."""

    def forward(self, x, index=None, dim=0, keepdim=False):
        self.meta = (x.shape, dim, keepdim, index)
        values = get_array_module(x).take_along_axis(x, index, axis=dim)
        return values if keepdim else values.squeeze(dim)

    def backward(self, gy):
        shape, dim, keepdim, index = self.meta
        xp = get_array_module(gy)
        gx = xp.zeros(shape, gy.dtype)
        xp.put_along_axis(gx, index, gy if keepdim else xp.expand_dims(gy, dim), axis=dim)
        return (gx,)


def sum(x, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    return Sum.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim)


def mean(x, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {x.dtype._torch_type}")
    return Mean.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim)


def _extreme(x, dim, keepdim, largest):
    if dim is None:
        axes = normalize_dims(None, x.ndim)
        _check_nonempty(x, axes, "max" if largest else "min", explicit=False)
        return Extreme.apply(x, axes=axes, largest=largest)
    d = normalize_dim(dim, x.ndim)
    if x.ndim == 0:  # a 0-d tensor is its own max along dim 0, at index 0
        x, keepdim = x.reshape(1), False
    a = x._array
    _check_nonempty(x, (d,), "max" if largest else "min", explicit=True)
    xp = get_array_module(a)
    with on_device_of(a):
        index = xp.expand_dims((a.argmax if largest else a.argmin)(axis=d), d)
    values = TakeAlong.apply(x, index=index, dim=d, keepdim=keepdim)
    indices = x._result(index if keepdim else index.squeeze(d), None, False)
    return (ReturnMax if largest else ReturnMin)(values, indices)


def max(x, dim=None, keepdim=False):
    return _extreme(x, dim, keepdim, True)


def min(x, dim=None, keepdim=False):
    return _extreme(x, dim, keepdim, False)


def argmax(x, dim=None, keepdim=False):
    return _arg_extreme(x, dim, keepdim, "argmax")


def argmin(x, dim=None, keepdim=False):
    return _arg_extreme(x, dim, keepdim, "argmin")


def _arg_extreme(x, dim, keepdim, name):
    """Indices (int64, never differentiable) of the first max/min, over ``dim`` or flattened.

    As in torch, a NaN counts as the extreme and ``keepdim`` applies even without ``dim``.
    """
    a = x._array
    if a.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    pick = a.argmax if name == "argmax" else a.argmin
    xp = get_array_module(a)
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        index = xp.asarray(pick()).reshape((1,) * a.ndim if keepdim else ())
    else:
        d = normalize_dim(dim, x.ndim)
        if a.ndim and a.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        index = pick(axis=d, keepdims=keepdim) if a.ndim else xp.zeros((), xp.int64)
    return x._result(xp.asarray(index, dtype=xp.int64), None, False)


def amax(x, dim=(), keepdim=False):
    return _amax(x, dim, keepdim, "amax")


def amin(x, dim=(), keepdim=False):
    return _amax(x, dim, keepdim, "amin")


def _amax(x, dim, keepdim, name):
    axes = normalize_dims(dim, x.ndim)
    _check_nonempty(x, axes, name, explicit=not _is_all(dim))
    return Extreme.apply(x, axes=axes, keepdim=keepdim, largest=name.endswith("max"))


def _is_all(dim) -> bool:
    return dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)


def _check_nonempty(x, axes, name, explicit):
    """torch's errors for a max/min over no entries: which one depends on how dims were named."""
    empty = [a for a in axes if x.shape[a] == 0]
    if not empty:
        return
    if explicit:
        raise IndexError(f"{name}(): Expected reduction dim {empty[0]} to have non-zero size.")
    raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == "
                       "0. Specify the reduction dim with the 'dim' argument.")
