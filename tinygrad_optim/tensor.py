"""Tensor: an array plus what autograd needs (requires_grad, grad, grad_fn, a version counter)."""
from __future__ import annotations

import math
import numbers
import warnings
import weakref

import numpy as np

from . import autograd, dtypes, ops
from ._tensor_str import format_tensor
from .backend import (as_device, array_module, device_of, get_array_module, on_device,
                      on_device_of, to_numpy, writeable)
from .convert import ConversionMixin, as_array
from .function import is_tensor, type_name
from .inplace import InPlaceMixin
from .ops import shape as shape_ops

_T_DEPRECATED = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
    "deprecated and it will throw an error in a future release. Consider `x.mT` to transpose "
    "batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the "
    "dimensions of a tensor.")
_CANT_CHANGE = "you can only change requires_grad flags of leaf variables."


class Size(tuple):
    """A shape; a tuple that prints like torch.Size."""

    def __repr__(self):
        return f"tinygrad_optim.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)


class Tensor(InPlaceMixin, ConversionMixin):
    """An n-dimensional array on one device, with reverse-mode automatic differentiation.

    ``backward()`` *adds* into ``.grad`` of every leaf that requires grad and never clears
    it: the user (or ``optimizer.zero_grad()``) does, exactly as in PyTorch.
    """

    __slots__ = ("_array", "_requires_grad", "_grad", "_grad_fn", "_vc", "_base", "__weakref__")
    _is_tensor = True
    __array_priority__ = 1000  # numpy defers to Tensor: ndarray * tensor gives a Tensor

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        """``Tensor(data)`` or ``Tensor(*sizes)``, like torch.Tensor: float32 by default.

        ``tensor()`` is the usual way to make a tensor from data; this legacy constructor
        exists for parity (``Tensor(2, 3)`` is an uninitialised 2 x 3 tensor, as in torch).
        """
        dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
        dev = as_device(device)
        if args and all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            with on_device(dev):
                array = array_module(dev).empty(args, dt.np)
        elif len(args) == 1 and isinstance(args[0], numbers.Number):
            raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
        elif len(args) <= 1:
            array = as_array(args[0] if args else [], dt, dev)
        else:
            raise TypeError("new(): data must be a sequence (got "
                            f"{', '.join(type(a).__name__ for a in args)})")
        self._set(array, None)
        if requires_grad:
            self.requires_grad_(True)

    def _set(self, array, grad_fn):
        self._array, self._grad_fn, self._grad = array, grad_fn, None
        self._requires_grad = grad_fn is not None
        self._vc, self._base = [0], None

    @classmethod
    def _wrap(cls, array, requires_grad=False):
        t = object.__new__(cls)
        t._set(array, None)
        t._requires_grad = requires_grad
        return t

    def _result(self, array, grad_fn, is_view):
        """A new Tensor made from this one by an operation (the output of Function.apply)."""
        if isinstance(array, np.generic):  # numpy reductions return scalars: keep arrays
            array = np.asarray(array)
        t = object.__new__(Tensor)
        # _set's work written out: this runs once per operation.
        t._array, t._grad_fn, t._grad, t._requires_grad = array, grad_fn, None, grad_fn is not None
        if is_view:  # views share the version counter with their base, as in torch
            t._vc, t._base = self._vc, (self._base if self._base is not None else self)
        else:
            t._vc, t._base = [0], None
        return t

    def _scalar_tensor(self, value, np_dtype):
        xp = get_array_module(self._array)
        with on_device_of(self._array):  # beside this tensor, on its GPU
            return self._result(xp.asarray(value, dtype=np_dtype), None, False)

    # ---------------------------------------------------------------- attributes
    shape = property(lambda self: Size(self._array.shape))
    ndim = property(lambda self: self._array.ndim)
    dtype = property(lambda self: dtypes.from_numpy_dtype(self._array.dtype))
    device = property(lambda self: device_of(self._array))
    is_cuda = property(lambda self: self.device.type == "cuda")
    is_leaf = property(lambda self: self._grad_fn is None)
    grad_fn = property(lambda self: self._grad_fn)
    is_sparse = False
    _version = property(lambda self: self._vc[0])

    @property
    def T(self):
        """The reversed dimensions; torch deprecates it (with a warning) except in 1-D and 2-D."""
        if self.ndim == 0:
            warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity "
                          "in these cases.", UserWarning, stacklevel=2)
        elif self.ndim > 2:
            warnings.warn(_T_DEPRECATED, UserWarning, stacklevel=2)
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._grad_fn is not None and value:  # the attribute refuses even a no-op on it
            raise RuntimeError(_CANT_CHANGE)
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True):
        """Make this leaf record operations for backward (or stop); returns self."""
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    f"{_CANT_CHANGE} If you want to use a computed variable in a subgraph that "
                    "doesn't require differentiation use var_no_grad = var.detach().")
            return self
        if requires_grad and self._array.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        """The gradient that ``backward()`` added up, or None; only leaves get one by default."""
        if self._grad is None and self._grad_fn is not None and self._grad_fn._retained is None:
            warnings.warn(autograd.NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        autograd.check_grad_assignment(self, value)
        self._grad = value

    @property
    def data(self):
        """The same storage, outside the graph; changing it is invisible to autograd."""
        return self._result(self._array, None, False)

    @data.setter
    def data(self, value):
        if not is_tensor(value):
            raise TypeError(f"Variable data has to be a tensor, but got {type_name(value)}")
        self._array = value._array

    def _type_name(self) -> str:
        prefix = "torch.cuda." if self.is_cuda else "torch."
        return prefix + dtypes.type_name(self.dtype)[len("torch."):]

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False) -> None:
        """Add d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        ``.grad`` is never cleared here: a second call adds to it (see ``autograd.backward``).
        """
        autograd.backward(self, gradient, retain_graph, create_graph)

    def _accumulate_grad(self, array, owned: bool) -> None:
        """``.grad += array``, in place once a grad exists; laid out like the tensor itself.

        ``array`` may be a SparseTensor; the rules are torch's AccumulateGrad: a sparse
        gradient is kept as it is, sparse + sparse stays sparse (``old + new``, changed in
        place so the ``.grad`` object is the same), and mixing sparse and dense gives dense
        (in place when the dense one is the ``.grad`` already there).
        """
        grad = self._grad
        if getattr(array, "is_sparse", False) or getattr(grad, "is_sparse", False):
            self._accumulate_sparse(array, owned)
        elif grad is None:
            mine = self._array
            if not owned or array.strides != mine.strides or not writeable(array):
                copy = get_array_module(mine).empty_like(mine)
                copy[...] = array
                array = copy
            self._grad = Tensor._wrap(array)
        else:
            grad._array += array
            grad._vc[0] += 1

    def _accumulate_sparse(self, array, owned: bool) -> None:
        """``_accumulate_grad`` where the new gradient or the ``.grad`` there is sparse."""
        grad = self._grad
        if not getattr(array, "is_sparse", False):  # dense new + sparse old: a new dense grad
            self._grad = None
            self._accumulate_grad(array, False)  # a copy of our own, to add into
            grad._add_to(self._grad._array)
        elif grad is None:
            self._grad = array if owned else array.clone()
        elif grad.is_sparse:
            total = grad + array
            grad._indices_array, grad._values_array = total._indices_array, total._values_array
            grad._coalesced_(total.is_coalesced())
        else:
            array._add_to(grad._array)
            grad._vc[0] += 1

    def retain_grad(self) -> None:
        """Keep this non-leaf's gradient in ``.grad`` during ``backward()`` (leaves always do)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is not None:
            self._grad_fn._retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf whose ``.grad`` is kept (after ``retain_grad()``), as in torch."""
        fn = self._grad_fn
        return fn is not None and fn._retained is not None and fn._retained() is self

    def detach(self):
        """The same storage outside the graph; in-place changes to it still count as changes
        of this tensor (shared version counter), unlike changes through ``.data``."""
        t = self._result(self._array, None, False)
        t._vc = self._vc  # detach() shares the version counter (data does not)
        return t

    def detach_(self):
        """Cut this tensor out of the graph, in place; returns self."""
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._grad_fn, self._requires_grad = None, False
        return self

    # ---------------------------------------------------------------- shape and layout
    def size(self, dim=None):
        """The shape, or the length of one dim."""
        if dim is None:
            return self.shape
        return self._array.shape[ops.reduce.normalize_dim(dim, self.ndim)]

    def dim(self) -> int:
        return self._array.ndim

    def numel(self) -> int:
        return self._array.size

    def element_size(self) -> int:
        return self._array.itemsize

    def is_floating_point(self) -> bool:
        return self._array.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._array.flags.c_contiguous)

    def stride(self, dim=None):
        """Steps between neighbours along each dim, counted in elements (not bytes)."""
        strides = tuple(s // self._array.itemsize for s in self._array.strides)
        return strides if dim is None else strides[ops.reduce.normalize_dim(dim, self.ndim)]

    # ---------------------------------------------------------------- Python protocol
    def __repr__(self):
        fn = self._grad_fn
        return format_tensor(to_numpy(self._array), dtype_name=repr(self.dtype),
                             device=str(self.device), requires_grad=self._requires_grad,
                             grad_fn_name=fn.name() if fn is not None else None)

    __hash__ = object.__hash__  # identity: tensors are dict keys (optimizer state)

    def __len__(self):
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    def __bool__(self):
        if self._array.size != 1:
            amount = "no values" if self._array.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {amount} is ambiguous")
        return bool(self._array.item())

    def __float__(self):
        return float(self._one_element())

    def __int__(self):
        return int(self._one_element())

    def _one_element(self):
        if self._array.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._array.item()

    def __contains__(self, element):
        if not (is_tensor(element) or isinstance(element, numbers.Number)):
            raise RuntimeError("Tensor.__contains__ only supports Tensor or scalar, but you "
                               f"passed in a {type(element)}.")
        return bool((self == element)._array.any())

    def __index__(self):
        if self._array.dtype.kind not in "iub" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __format__(self, spec):
        if self._array.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __setitem__(self, index, value):
        index = shape_ops.as_index(index, self._array)
        shape_ops.check_index(self._array.shape, index)  # torch's IndexError, not numpy's

        def direct(xp, a, v):
            a[index] = v
        self._inplace(direct, lambda s, v: shape_ops.setitem(s, index, v), value,
                      broadcast=False)

    # ---------------------------------------------------------------- operators
    __add__ = ops.add
    __radd__ = ops.add
    __sub__ = ops.sub
    __mul__ = ops.mul
    __rmul__ = ops.mul
    __truediv__ = ops.div
    __pow__ = ops.pow
    __matmul__ = ops.matmul
    __neg__ = ops.neg
    __abs__ = ops.absolute
    __gt__, __ge__, __lt__, __le__ = ops.gt, ops.ge, ops.lt, ops.le
    __eq__, __ne__ = ops.eq, ops.ne

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    # ---------------------------------------------------------------- methods
    add, sub, mul, div, pow, neg = ops.add, ops.sub, ops.mul, ops.div, ops.pow, ops.neg
    abs, exp, log, sqrt, sign = ops.absolute, ops.exp, ops.log, ops.sqrt, ops.sign
    sin, cos, tanh, sigmoid, relu = ops.sin, ops.cos, ops.tanh, ops.sigmoid, ops.relu
    clamp = clip = ops.clamp
    maximum, minimum, matmul = ops.maximum, ops.minimum, ops.matmul
    sum, mean, max, min, amax, amin = ops.sum, ops.mean, ops.max, ops.min, ops.amax, ops.amin
    argmax, argmin = ops.argmax, ops.argmin
    gt, ge, lt, le, eq, ne = ops.gt, ops.ge, ops.lt, ops.le, ops.eq, ops.ne
    reshape, view, flatten, permute = ops.reshape, ops.view, ops.flatten, ops.permute
    transpose, t, squeeze, unsqueeze, expand = (ops.transpose, ops.t, ops.squeeze,
                                                ops.unsqueeze, ops.expand)

    def view_as(self, other):
        return ops.view(self, other.shape)

    def reshape_as(self, other):
        return ops.reshape(self, other.shape)

    def expand_as(self, other):
        return ops.expand(self, other.shape)
