"""torch-style dtype objects (``tinygrad_optim.float32`` ...) over numpy's dtypes."""
from __future__ import annotations

import numpy as np


class dtype:
    """One element type; compared by identity, printed as ``tinygrad_optim.float32``."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_torch_type",
                 "_c_name")

    def __init__(self, name: str, np_dtype, torch_type: str, c_name: str):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize
        # Both names appear in torch's messages: "torch.FloatTensor", and the C++ type in
        # "a gradient with dtype 'long int'" or "to - 1 is out of bounds for signed char".
        self._torch_type = torch_type
        self._c_name = c_name

    def __repr__(self):
        return f"tinygrad_optim.{self.name}"

    def __reduce__(self):
        return (from_numpy_dtype, (self.np.str,))


float16 = half = dtype("float16", np.float16, "Half", "c10::Half")
float32 = float = dtype("float32", np.float32, "Float", "float")
float64 = double = dtype("float64", np.float64, "Double", "double")
int8 = dtype("int8", np.int8, "Char", "signed char")
int16 = short = dtype("int16", np.int16, "Short", "short int")
int32 = int = dtype("int32", np.int32, "Int", "int")
int64 = long = dtype("int64", np.int64, "Long", "long int")
uint8 = dtype("uint8", np.uint8, "Byte", "unsigned char")
bool = dtype("bool", np.bool_, "Bool", "bool")

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool)
_BY_NUMPY = {d.np: d for d in ALL}

# torch's default dtypes for Python scalars and lists: floats -> float32, ints -> int64.
DEFAULT_FLOAT = float32
DEFAULT_INT = int64


def from_numpy_dtype(np_dtype) -> dtype:
    """The dtype holding numpy's ``np_dtype``.

    Raises:
        TypeError: for a numpy type with no counterpart here (torch's message, our list).
    """
    np_dtype = np.dtype(np_dtype)
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type numpy.{np_dtype.type.__name__}. The "
                        "only supported types are: float64, float32, float16, int64, int32, "
                        "int16, int8, uint8, and bool.") from None


def as_dtype(spec) -> dtype:
    """Accept a tinygrad_optim dtype or a numpy dtype (the ops pass numpy's)."""
    if isinstance(spec, dtype):
        return spec
    return from_numpy_dtype(spec)


def dtype_arg(value, fname: str) -> dtype | None:
    """A public function's ``dtype=`` argument: a dtype or None, as torch accepts.

    Raises:
        TypeError: for anything else (a string, a numpy type), with torch's message.
    """
    if value is None or isinstance(value, dtype):
        return value
    raise TypeError(f"{fname}(): argument 'dtype' must be torch.dtype, not "
                    f"{type(value).__name__}")


def type_name(d: dtype) -> str:
    """torch's legacy type name, e.g. ``torch.FloatTensor``, used in torch's error messages."""
    return f"torch.{d._torch_type}Tensor"
