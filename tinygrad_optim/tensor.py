"""Tensor: an array plus what autograd needs (requires_grad, grad, grad_fn, a version counter)."""
from __future__ import annotations

import math
import warnings
import weakref

import numpy as np

from . import dtypes, ops
from ._tensor_str import format_tensor
from .autograd import run_backward
from .backend import as_device, device_of, get_array_module, to_numpy
from .convert import as_array
from .function import is_tensor
from .inplace import InPlaceMixin
from .ops import shape as shape_ops


class Size(tuple):
    """A shape; a tuple that prints like torch.Size."""

    def __repr__(self):
        return f"tinygrad_optim.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)


class Tensor(InPlaceMixin):
    """An n-dimensional array on one device, with reverse-mode automatic differentiation.

    ``backward()`` *adds* into ``.grad`` of every leaf that requires grad and never clears
    it: the user (or ``optimizer.zero_grad()``) does, exactly as in PyTorch.
    """

    __slots__ = ("_array", "_requires_grad", "_grad", "_grad_fn", "_vc", "_base", "__weakref__")
    _is_tensor = True
    __array_priority__ = 1000  # numpy defers to Tensor: ndarray * tensor gives a Tensor

    def __init__(self, data=(), *, dtype=None, device=None, requires_grad=False):
        """``Tensor(data)`` like torch.Tensor: the default float type. Prefer ``tensor()``."""
        dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
        self._set(as_array(data, dt, as_device(device)), None)
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
        t._set(array, grad_fn)
        if is_view:  # views share the version counter with their base, as in torch
            t._vc, t._base = self._vc, (self._base if self._base is not None else self)
        return t

    def _scalar_tensor(self, value, np_dtype):
        xp = get_array_module(self._array)
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
    T = property(lambda self: ops.permute(self, tuple(reversed(range(self.ndim)))))

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True):
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return self
        if requires_grad and self._array.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        if self._grad_fn is not None and self._grad_fn._retained is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not is_tensor(value):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}'"
                                   f" to a tensor of size '{list(self.shape)}'. Please ensure "
                                   "that the gradient and the tensor are the same size")
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype "
                    f"'{value.dtype._torch_type.lower()}' to a tensor with grad_dtype "
                    f"'{self.dtype._torch_type}'. The gradient must match the tensor's "
                    "grad_dtype (defaults to the tensor's dtype).")
            if value.device != self.device:
                raise RuntimeError(f"attempting to assign a gradient located on device with type "
                                   f"'{value.device.type}' to a tensor located on device with "
                                   f"type '{self.device.type}'. Please ensure that the gradient "
                                   "and the tensor are on the same device")
        self._grad = value

    @property
    def data(self):
        """The same storage, outside the graph: changing it is invisible to autograd."""
        return self._result(self._array, None, False)

    @data.setter
    def data(self, value):
        if not is_tensor(value):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._array = value._array

    def _type_name(self) -> str:
        prefix = "torch.cuda." if self.is_cuda else "torch."
        return prefix + dtypes.type_name(self.dtype)[len("torch."):]

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Add d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad."""
        if create_graph:
            raise RuntimeError("create_graph=True (higher-order gradients) is not supported "
                               "by tinygrad_optim")
        if not self._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn")
        xp = get_array_module(self._array)
        if gradient is None:
            if self._array.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = xp.ones_like(self._array)
        else:
            g = gradient._array if is_tensor(gradient) else xp.asarray(gradient)
            if g.shape != self._array.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                                   f"{Size(g.shape)!r} and output[0] has a shape of "
                                   f"{self.shape!r}.")
            g = g.astype(self._array.dtype, copy=False)
        if self._grad_fn is None:
            self._accumulate_grad(g, False)
        else:
            run_backward(self._grad_fn, g, bool(retain_graph))

    def _accumulate_grad(self, array, owned: bool) -> None:
        """``.grad += array``, in place once a grad exists; laid out like the tensor itself."""
        if self._grad is None:
            mine = self._array
            if not owned or array.strides != mine.strides or not array.flags.writeable:
                copy = get_array_module(mine).empty_like(mine)
                copy[...] = array
                array = copy
            self._grad = Tensor._wrap(array)
        else:
            grad = self._grad
            grad._array += array
            grad._vc[0] += 1

    def retain_grad(self) -> None:
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is not None:
            self._grad_fn._retained = weakref.ref(self)

    def detach(self):
        t = self._result(self._array, None, False)
        t._vc = self._vc  # detach() shares the version counter (data does not)
        return t

    def detach_(self):
        self._grad_fn, self._requires_grad = None, False
        return self

    # ---------------------------------------------------------------- conversion
    def size(self, dim=None):
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

    def item(self):
        if self._array.size != 1:
            raise RuntimeError(f"a Tensor with {self._array.size} elements cannot be converted "
                               "to Scalar")
        return self._array.item()

    def tolist(self):
        return to_numpy(self._array).tolist()

    def numpy(self, *, force=False) -> np.ndarray:
        """The CPU array itself (shared memory), as torch's ``numpy()``."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._host_array(force)

    def _host_array(self, copy_from_device=False):
        if not isinstance(self._array, np.ndarray) and not copy_from_device:
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        return to_numpy(self._array)

    def __array__(self, dtype=None, copy=None):
        # A deliberate departure from torch: this works even when requires_grad is set, so
        # that the tutorial's plotting of a list of loss tensors works (see docs/).
        array = self._host_array()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        for arg in args:
            if isinstance(arg, dtypes.dtype) or isinstance(arg, np.dtype):
                dtype = arg
            elif is_tensor(arg):
                dtype, device = arg.dtype, arg.device
            else:
                device = arg
        out = self
        if device is not None and as_device(device) != self.device:
            out = ops.to_device_op(out, as_device(device))
        if dtype is not None and dtypes.as_dtype(dtype).np != out._array.dtype:
            out = ops.to_dtype(out, dtypes.as_dtype(dtype).np)
        return ops.clone(out) if copy and out is self else out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else as_device(device if not isinstance(
            device, int) else f"cuda:{device}"))

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool)

    def clone(self):
        return ops.clone(self)

    def contiguous(self):
        return self if self._array.flags.c_contiguous else ops.clone(self)

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
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._array.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

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
        index = shape_ops.as_index(index, get_array_module(self._array))

        def direct(xp, a, v):
            a[index] = v
        self._inplace(direct, lambda s, v: shape_ops.setitem(s, index, v), value)

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
