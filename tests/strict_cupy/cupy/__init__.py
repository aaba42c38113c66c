"""A strict stand-in for cupy 14, for testing the library's GPU path on a machine without one.

It offers only the names cupy 14.2 has (``_cupy14.json``, written by ``tools/cupy_names.py``
from the real package) and enforces cupy's rules; see ``docs/gpu.md`` for what it cannot
model (GPU arithmetic and rounding, kernels, streams, speed). Selected by the test suite's
``--cupy=strict`` option, never installed.
"""
from __future__ import annotations

import numpy as _np

from . import _core
from ._core import NAMES as _NAMES
from ._core import ndarray

__version__ = "14.2.0+strict-stand-in"
STRICT_STAND_IN = True  # lets a test tell the stand-in from the real cupy


def _not_modelled(name):
    def missing(*args, **kwargs):
        raise NotImplementedError(f"cupy.{name} is not modelled by the strict cupy stand-in")

    missing.__name__ = name
    return missing


class ufunc:
    """cupy's ufunc: numpy's loop, cupy's rules (no numpy operands, ``at`` on seven only)."""

    _AT_DTYPES = {  # cupy 14.2's atomic scatter kernels, and their messages
        "add": ("int32", "int64", "float16", "float32", "float64", "uint32", "uint64"),
        "subtract": ("int32", "uint32"),
        "maximum": ("int32", "int64", "float32", "float64", "uint32", "uint64"),
        "minimum": ("int32", "int64", "float32", "float64", "uint32", "uint64"),
        "bitwise_and": ("int32", "int64", "uint32", "uint64"),
        "bitwise_or": ("int32", "int64", "uint32", "uint64"),
        "bitwise_xor": ("int32", "int64", "uint32", "uint64"),
    }

    def __init__(self, name, np_ufunc):
        self.__name__, self._np = name, np_ufunc
        self.name = f"cupy_{name}"
        self.nin, self.nout, self.nargs = np_ufunc.nin, np_ufunc.nout, np_ufunc.nargs

    def __repr__(self):
        return f"<ufunc '{self.name}'>"

    def __call__(self, *args, out=None, dtype=None, casting="same_kind", where=True):
        if len(args) > self.nin:
            if out is not None:
                raise ValueError("Cannot specify 'out' as both a positional and keyword "
                                 "argument")
            args, out = args[:self.nin], args[self.nin:]
            out = out[0] if len(out) == 1 else out
        for arg in args:
            if not isinstance(arg, (ndarray, bool, int, float, complex, _np.generic)):
                raise _core.unsupported(arg)
        kwargs = {"dtype": dtype, "casting": casting}
        if out is not None:
            for o in (out if isinstance(out, tuple) else (out,)):
                if not isinstance(o, ndarray):
                    raise _core.unsupported(o)
            kwargs["out"] = out
        if where is not True:
            kwargs["where"] = where
        return _core.call_numpy(self._np, args, kwargs)

    def at(self, a, indices, b=None):
        if not isinstance(a, ndarray):
            raise AttributeError(f"'{type(a).__name__}' object has no attribute '_scatter_op'")
        if self.__name__ not in _NAMES["ufunc_at"]:
            raise NotImplementedError(f"`{self.name}.at` is not supported yet")
        index, basic = _core.convert_index(indices, a.shape)
        allowed = self._AT_DTYPES[self.__name__]
        if not basic and any(isinstance(i, _np.ndarray) and i.dtype != bool for i in index) \
                and a.dtype.name not in allowed:
            raise TypeError(f"cupy.{self.__name__}.at only supports {', '.join(allowed)}"
                            f"{',' if len(allowed) == 2 else ''} as data type")
        _core.check_device(a)
        value = _core.unwrap(b, host_ok=True)
        with _np.errstate(all="ignore"):
            self._np.at(a._a, index, value)

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        kwargs = {"axis": axis, "dtype": dtype, "keepdims": keepdims}
        if out is not None:
            kwargs["out"] = out
        return _core.call_numpy(self._np.reduce, (array,), kwargs)

    def accumulate(self, array, axis=0, dtype=None, out=None):
        kwargs = {"axis": axis, "dtype": dtype}
        if out is not None:
            kwargs["out"] = out
        return _core.call_numpy(self._np.accumulate, (array,), kwargs)

    def outer(self, A, B, **kwargs):
        return _core.call_numpy(self._np.outer, (A, B), kwargs)

    reduceat = _not_modelled("ufunc.reduceat")


def _function(name, np_func, params, view=False):
    sig = _core.signature(params)

    def func(*args, **kwargs):
        if sig is not None:
            sig.check(args, kwargs)  # cupy's parameters, which are not always numpy's
        return _core.call_numpy(np_func, args, kwargs, check=not view)

    func.__name__ = name
    return func


# Functions that only make views or read metadata: no kernel, so any device is fine.
_VIEWS = {"reshape", "ravel", "transpose", "swapaxes", "moveaxis", "rollaxis", "squeeze",
          "expand_dims", "broadcast_to", "broadcast_arrays", "atleast_1d", "atleast_2d",
          "atleast_3d", "diagonal", "real", "imag", "split", "array_split", "hsplit", "vsplit",
          "dsplit", "flip", "fliplr", "flipud", "permute_dims", "matrix_transpose", "shape",
          "ndim", "size", "may_share_memory", "shares_memory", "result_type", "can_cast",
          "isscalar", "iscomplexobj", "isrealobj", "min_scalar_type", "common_type"}

# Functions cupy has that need cupy's own rules rather than numpy's function.
_OWN = {"asarray", "array", "asanyarray", "asnumpy", "get_array_module", "ndarray", "ufunc",
        "is_available"}

for _name, _kind in _NAMES["module"].items():
    if _name in _OWN or _kind == "module":
        continue
    if _kind == "ufunc" and isinstance(getattr(_np, _name, None), _np.ufunc):
        globals()[_name] = ufunc(_name, getattr(_np, _name))
    elif _kind in ("numpy", "constant"):
        if hasattr(_np, _name):
            globals()[_name] = getattr(_np, _name)
    elif isinstance(getattr(_np, _name, None), type):  # exception and warning classes
        globals()[_name] = getattr(_np, _name)
    elif callable(getattr(_np, _name, None)):
        globals()[_name] = _function(_name, getattr(_np, _name),
                                     _NAMES["signatures"].get(_name), view=_name in _VIEWS)
    else:
        globals()[_name] = _not_modelled(_name)


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    """Host data (numpy arrays included) copied to the current device; a cupy array of
    another device is copied here."""
    if isinstance(obj, ndarray):
        if obj._dev != _core.current_device():
            if not obj._a.flags.c_contiguous and not obj._a.flags.f_contiguous:
                raise NotImplementedError("CuPy cannot copy non-contiguous array between "
                                          "devices.")
            copy = True
        data = obj._a
    else:
        data = _core.unwrap(obj, host_ok=True)
    if copy is False:
        copy = None
    out = _np.array(data, dtype=dtype, copy=copy, order=order, ndmin=ndmin)
    if isinstance(obj, ndarray) and out is obj._a:
        return obj
    return ndarray._new(out, _core.current_device())


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    return array(a, dtype=dtype, copy=copy if copy is not None else False,
                 order=order or "K")


def asanyarray(a, dtype=None, order=None):
    return asarray(a, dtype, order)


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        return a.get(stream=stream, order=order, out=out, blocking=blocking)
    result = _np.asarray(a, order=order)
    if out is not None:
        out[...] = result
        return out
    return result


def get_array_module(*args):
    return __import__("cupy") if any(isinstance(a, ndarray) for a in args) else _np


def is_available():
    return cuda.is_available()


# Submodules last: they use the names above. cupy exposes them as attributes, so do we.
from . import cuda, random  # noqa: E402,F401
