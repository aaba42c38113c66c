"""The stand-in's array: a numpy array behind a wall that behaves like cupy 14's ndarray.

It enforces what real cupy enforces (no implicit conversion to numpy, no numpy operands or
``out=``, one device per kernel, 0-d results, wrapped integer-array indices) and computes with
numpy underneath. Floating-point warnings are silenced because cupy's kernels never warn.
"""
from __future__ import annotations

import inspect
import json
import os
import threading
import warnings

import numpy as np

with open(os.path.join(os.path.dirname(__file__), "_cupy14.json")) as _f:
    NAMES = json.load(_f)

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
             "Please use `.get()` to construct a NumPy array explicitly.")


class CUDARuntimeError(RuntimeError):
    """cupy_backends' error for a failed CUDA runtime call (``cudaErrorInvalidDevice: ...``)."""


# -- devices ---------------------------------------------------------------------------------
_local = threading.local()


# How many GPUs the stand-in pretends to have: 2 by default, so that code for cuda:1 runs.
_DEVICES = int(os.environ.get("STRICT_CUPY_DEVICES", "2"))


def device_count() -> int:
    return _DEVICES


def current_device() -> int:
    return getattr(_local, "device", 0)


def set_device(index: int) -> None:
    if not 0 <= index < device_count():
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
    _local.device = index


def check_device(array: ndarray) -> None:
    """A kernel reads only arrays of the current device; peer access is taken as unavailable
    (real cupy then raises this; with peer access it warns instead, still a bug for us)."""
    here = current_device()
    if array._dev != here:
        raise ValueError(
            f"The device where the array resides ({array._dev}) is different from the current "
            f"device ({here}). Peer access is unavailable between these devices.")


# -- crossing the wall -----------------------------------------------------------------------
def unsupported(value) -> TypeError:
    return TypeError(f"Unsupported type {type(value)}")


def unwrap(value, host_ok=False, check=True, found=None):
    """An argument as numpy sees it: our arrays unwrapped (on the current device), lists and
    tuples walked, numpy arrays refused (cupy never copies host data into a kernel). The
    arrays met are appended to ``found`` when it is given."""
    if isinstance(value, ndarray):
        if check:
            check_device(value)
        if found is not None:
            found.append(value)
        return value._a
    if isinstance(value, np.ndarray) and not host_ok:
        raise unsupported(value)
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(v, host_ok, check, found) for v in value)
    return value


def wrap(result, inputs=(), outs=()):
    """numpy's result as cupy returns it: arrays wrapped, numpy scalars as 0-d arrays, an
    ``out=`` array returned as itself; a view stays on the device of the array it views."""
    if isinstance(result, np.ndarray):
        for out in outs:
            if out._a is result:
                return out
        dev = current_device()
        if result.base is not None:
            for arr in inputs:
                if np.may_share_memory(result, arr._a):
                    dev = arr._dev
                    break
        return ndarray._new(result, dev)
    if isinstance(result, np.generic):
        return ndarray._new(np.asarray(result), current_device())
    if isinstance(result, (list, tuple)) and not hasattr(result, "_fields"):
        return type(result)(wrap(r, inputs, outs) for r in result)
    return result


def arrays_in(values) -> list:
    found, stack = [], list(values)
    while stack:
        v = stack.pop()
        if isinstance(v, ndarray):
            found.append(v)
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return found


class Signature:
    """cupy's parameters of one callable, from the name file's [name, kind, has_default]
    triples. Whether a call binds depends only on its shape (how many positional arguments,
    which keywords), so each shape is checked once and then remembered."""

    def __init__(self, params):
        self._signature = inspect.Signature([
            inspect.Parameter(n, getattr(inspect.Parameter, kind),
                              default=None if has_default else inspect.Parameter.empty)
            for n, kind, has_default in params])
        self._bound = set()

    def check(self, args, kwargs) -> None:
        shape = (len(args), tuple(kwargs))
        if shape not in self._bound:
            self._signature.bind(*args, **kwargs)  # TypeError, as Python gives it
            self._bound.add(shape)

    def bind(self, *args, **kwargs) -> inspect.BoundArguments:
        return self._signature.bind(*args, **kwargs)


def signature(params) -> Signature | None:
    return None if params is None else Signature(params)


def call_numpy(func, args, kwargs, *, check=True, host_ok=False):
    """Run a numpy callable on unwrapped arguments and wrap what it returns."""
    inputs = []
    np_args = [unwrap(a, host_ok, check, inputs) for a in args]
    np_kwargs = {k: unwrap(v, host_ok, check, inputs) for k, v in kwargs.items()}
    outs = arrays_in([kwargs["out"]]) if kwargs.get("out") is not None else ()
    with np.errstate(all="ignore"):  # cupy's kernels never warn about inf or NaN
        result = func(*np_args, **np_kwargs)
    return wrap(result, inputs, outs)


# -- indices ---------------------------------------------------------------------------------
def convert_index(key, shape):
    """A cupy index in numpy's form; integer arrays wrap around as cupy's kernels make them.

    Returns:
        (numpy index, whether it is basic indexing, i.e. gives a view).
    """
    parts = list(key) if isinstance(key, tuple) else [key]
    out, basic = [], True
    for p in parts:
        if isinstance(p, ndarray):
            p = p._a
        if isinstance(p, list):
            p = np.asarray([unwrap(v, host_ok=True) for v in p])
        if isinstance(p, np.ndarray):
            if p.dtype.kind not in "biu":
                raise IndexError("arrays used as indices must be of integer or boolean type "
                                 f"(actual: {p.dtype})")
            basic = False
        elif isinstance(p, (float, np.floating)):
            p = int(p)  # cupy truncates a float index
        out.append(p)
    consumed = sum(p.ndim if isinstance(p, np.ndarray) and p.dtype == bool else
                   (0 if p is None or p is Ellipsis else 1) for p in out)
    axis = 0
    for i, p in enumerate(out):
        if p is Ellipsis:
            axis += len(shape) - consumed
        elif p is None:
            continue
        elif isinstance(p, np.ndarray) and p.dtype == bool:
            axis += p.ndim
        else:
            if axis < len(shape):
                size = shape[axis]
                if isinstance(p, np.ndarray) and size > 0:
                    out[i] = p % size
                elif isinstance(p, (int, np.integer)) and not isinstance(p, bool) \
                        and not -size <= p < size:
                    raise IndexError(f"Index {p} is out of bounds for axis {axis} with size "
                                     f"{size}")
            axis += 1
    return tuple(out), basic


# -- the array -------------------------------------------------------------------------------
class Flags:
    """cupy's flags: three read-only attributes (no ``writeable``), three keys."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, c, f, own):
        object.__setattr__(self, "c_contiguous", c)
        object.__setattr__(self, "f_contiguous", f)
        object.__setattr__(self, "owndata", own)

    def __setattr__(self, name, value):
        raise AttributeError(f"property '{name}' of 'Flags' object has no setter")

    fnc = property(lambda self: self.f_contiguous and not self.c_contiguous)
    forc = property(lambda self: self.f_contiguous or self.c_contiguous)

    def __getitem__(self, name):
        if name not in ("C_CONTIGUOUS", "F_CONTIGUOUS", "OWNDATA"):
            raise KeyError(f"{name} is not defined for cupy.ndarray.flags")
        return getattr(self, name.lower())


class MemoryPointer:
    """What ``ndarray.data`` gives: a pointer and its device (enough for identity checks)."""

    __slots__ = ("ptr", "device_id")

    def __init__(self, ptr, device_id):
        self.ptr, self.device_id = ptr, device_id

    @property
    def device(self):
        from .cuda import Device
        return Device(self.device_id)


# Methods that make a view: no kernel runs, so an array of another device is fine.
_VIEW_METHODS = {"reshape", "view", "transpose", "swapaxes", "squeeze", "diagonal", "ravel"}


class ndarray:
    """An array on a (pretend) GPU. Construct with cupy's functions, not this class."""

    __slots__ = ("_a", "_dev", "__weakref__")
    __array_priority__ = 100
    __hash__ = None  # unhashable, as cupy's (and numpy's) arrays are
    __array_ufunc__ = None  # numpy ufuncs refuse it (real cupy dispatches: we are stricter)

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("the strict cupy stand-in does not model memptr/strides")
        self._a = np.empty(shape, dtype, order=order)
        self._dev = current_device()

    @classmethod
    def _new(cls, array: np.ndarray, dev: int) -> ndarray:
        self = object.__new__(cls)
        self._a, self._dev = array, dev
        return self

    # -- refusing numpy --
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    def __array_function__(self, func, types, args, kwargs):
        return NotImplemented  # numpy's functions refuse it (real cupy dispatches to its own)

    # -- attributes --
    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, newshape):
        """cupy's setter reshapes without a copy, or raises (as numpy's does)."""
        view = self._a.view()
        try:
            view.shape = newshape
        except AttributeError:
            raise AttributeError("incompatible shape") from None
        self._a = view
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    T = property(lambda self: ndarray._new(self._a.T, self._dev))
    mT = property(lambda self: ndarray._new(self._a.mT, self._dev))
    real = property(lambda self: ndarray._new(self._a.real, self._dev))
    imag = property(lambda self: ndarray._new(self._a.imag, self._dev))

    @property
    def base(self):
        return None if self._a.base is None else ndarray._new(self._a.base, self._dev)

    @property
    def flags(self):
        f = self._a.flags
        return Flags(f.c_contiguous, f.f_contiguous, self._a.base is None)

    @property
    def device(self):
        from .cuda import Device
        return Device(self._dev)

    @property
    def data(self):
        return MemoryPointer(self._a.__array_interface__["data"][0], self._dev)

    @property
    def __cuda_array_interface__(self):
        face = self._a.__array_interface__
        return {"shape": face["shape"], "typestr": face["typestr"], "data": face["data"],
                "strides": None if self._a.flags.c_contiguous else self._a.strides,
                "version": 3}

    # -- crossing to the host --
    def get(self, stream=None, order="C", out=None, blocking=True):
        if out is None:
            return np.array(self._a, order=order)
        if not isinstance(out, np.ndarray):
            raise TypeError("Only numpy.ndarray can be obtained fromcupy.ndarray")
        if out.dtype != self.dtype:
            raise TypeError(f"{out.dtype} array cannot be obtained from {self.dtype} array")
        if out.shape != self.shape:
            raise ValueError(f"Shape mismatch. Expected shape: {self.shape}, actual shape: "
                             f"{out.shape}")
        out[...] = self._a
        return out

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray (got {type(arr)})")
        self._a[...] = arr

    def item(self):
        if self._a.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    def __int__(self):
        return int(self.item())

    def __float__(self):
        return float(self.item())

    def __complex__(self):
        return complex(self.item())

    def __bool__(self):
        if self._a.size > 1:
            raise ValueError("The truth value of an array with more than one element is "
                             "ambiguous. Use a.any() or a.all()")
        if self._a.size == 0:
            warnings.warn("The truth value of an empty array is ambiguous. Returning False, "
                          "but in future this will result in an error. Use `array.size > 0` "
                          "to check that an array is not empty.", DeprecationWarning,
                          stacklevel=2)
            return False
        return bool(self._a)

    def __len__(self):
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return self._a.shape[0]

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._a.shape[0]))

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        from .cuda import Device
        with Device(self._dev):
            return self.copy()

    def __reduce__(self):
        raise TypeError("the strict cupy stand-in does not model pickling of cupy arrays")

    # -- indexing --
    def __getitem__(self, key):
        index, basic = convert_index(key, self._a.shape)
        if basic:
            return ndarray._new(self._a[index], self._dev)
        check_device(self)
        return ndarray._new(self._a[index], self._dev)

    def __setitem__(self, key, value):
        index, basic = convert_index(key, self._a.shape)
        check_device(self)
        if isinstance(value, np.ndarray):
            if basic and value.shape != ():
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
            value = value.item() if basic else value  # advanced indexing copies it over
        elif isinstance(value, list) and basic:
            raise unsupported(value)
        with np.errstate(all="ignore"):
            self._a[index] = unwrap(value, host_ok=True)

    def fill(self, value):
        check_device(self)
        if isinstance(value, np.ndarray):
            if value.shape != ():
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
            value = value.item()
        with np.errstate(all="ignore"):
            self._a.fill(unwrap(value))

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        check_device(self)
        with np.errstate(all="ignore"):
            out = self._a.astype(dtype, order=order, casting=casting or "unsafe", copy=copy)
        return self if out is self._a else ndarray._new(out, self._dev)

    def scatter_add(self, slices, value):
        warnings.warn("`ndarray.scatter_add` is deprecated. Please use `cupy.add.at` "
                      "instead.", DeprecationWarning, stacklevel=2)
        from . import add
        add.at(self, slices, value)


def _method(name):
    sig = signature(NAMES["ndarray_signatures"].get(name))
    view = name in _VIEW_METHODS

    def method(self, *args, **kwargs):
        if sig is not None:
            sig.check(args, kwargs)  # cupy's own parameters, not numpy's
        if not view:
            check_device(self)
        result = call_numpy(getattr(self._a, name), args, kwargs)
        if view and isinstance(result, ndarray):
            result._dev = self._dev
        return result

    method.__name__ = name
    return method


def _operator(name, np_func, reflected=False):
    def op(self, other):
        if isinstance(other, np.ndarray) and other.ndim == 0 and np_func in _COMPARISONS:
            other = other.item()  # cupy's workaround for numpy/numpy#12142
        if not isinstance(other, (ndarray, bool, int, float, complex, np.generic)):
            raise unsupported(other)
        args = (other, self) if reflected else (self, other)
        return call_numpy(np_func, args, {})

    op.__name__ = name
    return op


def _inplace(name, np_func):
    def op(self, other):
        if not isinstance(other, (ndarray, bool, int, float, complex, np.generic)):
            raise unsupported(other)
        call_numpy(np_func, (self, other), {"out": self})
        return self

    op.__name__ = name
    return op


def _unary(name, np_func):
    def op(self):
        return call_numpy(np_func, (self,), {})

    op.__name__ = name
    return op


_COMPARISONS = {np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal}
_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
           "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power,
           "matmul": np.matmul, "and": np.bitwise_and, "or": np.bitwise_or,
           "xor": np.bitwise_xor, "lshift": np.left_shift, "rshift": np.right_shift,
           "divmod": np.divmod}
for _name, _func in _BINARY.items():
    setattr(ndarray, f"__{_name}__", _operator(f"__{_name}__", _func))
    setattr(ndarray, f"__r{_name}__", _operator(f"__r{_name}__", _func, reflected=True))
    if _name not in ("divmod", "matmul"):  # cupy has neither __idivmod__ nor __imatmul__
        setattr(ndarray, f"__i{_name}__", _inplace(f"__i{_name}__", _func))
for _name, _func in {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
                     "gt": np.greater, "ge": np.greater_equal}.items():
    setattr(ndarray, f"__{_name}__", _operator(f"__{_name}__", _func))
for _name, _func in {"neg": np.negative, "pos": np.positive, "abs": np.absolute,
                     "invert": np.invert}.items():
    setattr(ndarray, f"__{_name}__", _unary(f"__{_name}__", _func))

# Every other public method real cupy has and numpy's ndarray shares, with cupy's signature.
for _name in NAMES["ndarray_signatures"]:
    if not hasattr(ndarray, _name) and hasattr(np.ndarray, _name):
        setattr(ndarray, _name, _method(_name))
ndarray.__module__ = "cupy"

