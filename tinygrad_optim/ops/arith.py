"""Arithmetic: + - * / ** and negation, between tensors or a tensor and a Python scalar."""
from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from ..backend import get_array_module
from ..function import Function, is_tensor
from ._promote import check_broadcast, result_dtype


try:  # numpy >= 2 keeps its error state in a context variable; set it directly, because
    # np.errstate rebuilds the state object on every call (a third of a small op's forward).
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
    _SILENT = _make_extobj(divide="ignore", over="ignore", invalid="ignore")
except ImportError:  # numpy 1.x: the public, slower way
    _extobj_contextvar = None


def quiet(cls):
    """Let a Function's forward make inf and nan silently, as torch does.

    numpy warns on 1 / 0, log(0), sqrt(-1), 0 * inf or an overflow; torch (and cupy) just
    return the IEEE result. The state is set per call in a context variable (thread-safe);
    backward passes run under one such state for the whole pass (autograd.run_backward),
    which costs far less than one per node.
    """
    if "forward" not in vars(cls):  # an inherited forward is wrapped already
        return cls
    forward = vars(cls)["forward"]
    if _extobj_contextvar is None:
        cls.forward = np.errstate(divide="ignore", over="ignore", invalid="ignore")(forward)
        return cls

    @functools.wraps(forward)
    def silent_forward(self, *args, **kwargs):
        token = _extobj_contextvar.set(_SILENT)
        try:
            return forward(self, *args, **kwargs)
        finally:
            _extobj_contextvar.reset(token)
    cls.forward = silent_forward
    return cls


def as_python_scalar(value):
    """numpy scalars become Python scalars, which numpy 2 treats as weakly typed.

    ``float32_array * np.float64(2)`` is float64 under NumPy 2; ``* 2.0`` stays float32.
    """
    if isinstance(value, np.generic):
        return value.item()
    if not isinstance(value, numbers.Number):
        raise TypeError(f"unsupported operand type: '{type(value).__name__}'")
    return value


def _binary(tensor_fn, scalar_fn, x, y, reflected_fn):
    """Dispatch ``op(x, y)`` on which operands are tensors, casting as torch promotes."""
    if type(y) is float and is_tensor(x) and x._array.dtype.kind == "f":
        return scalar_fn.apply(x, c=y)  # the most common case, checked first: no cast at all
    if is_tensor(x) and is_tensor(y):
        check_broadcast(x, y)
        if x._array.dtype != y._array.dtype:  # equal dtypes need no promotion at all
            dt = result_dtype(x, y)
            x, y = x.to(dt), y.to(dt)
        return tensor_fn.apply(x, y)
    if is_tensor(x):
        y = as_python_scalar(y)
        return scalar_fn.apply(_cast_for_scalar(x, y), c=y)
    x = as_python_scalar(x)
    return reflected_fn.apply(_cast_for_scalar(y, x), c=x)


def _cast_for_scalar(t, c):
    dt = result_dtype(t, c)
    return t if t._array.dtype == dt else t.to(dt)


@quiet
class Add(Function):
    def forward(self, x, y):
        return x + y

    def backward(self, gy):
        return gy, gy


@quiet
class AddScalar(Function):
    def forward(self, x, c):
        return x + c

    def backward(self, gy):
        return (gy,)


@quiet
class Sub(Function):
    def forward(self, x, y):
        return x - y

    def backward(self, gy):
        return gy, -gy


@quiet
class RSubScalar(Function):
    def forward(self, x, c):
        return c - x

    def backward(self, gy):
        return (-gy,)


@quiet
class Mul(Function):
    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y

    def backward(self, gy):
        x, y = self.saved
        return gy * y, gy * x


@quiet
class MulScalar(Function):
    saves_arrays = False  # c is a number, never a tensor's storage

    def forward(self, x, c):
        self.save_for_backward(c)  # saved (and freed) like torch's wrapped-number operand
        return x * c

    def backward(self, gy):
        (c,) = self.saved
        return (gy * c,)


@quiet
class Div(Function):
    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x / y

    def backward(self, gy):
        x, y = self.saved
        # torch's order of operations: -gy * ((x / y) / y)
        return gy / y, -gy * ((x / y) / y)


@quiet
class DivScalar(Function):
    saves_arrays = False  # c is a number, never a tensor's storage

    def forward(self, x, c):
        self.save_for_backward(c)
        return x / c

    def backward(self, gy):
        (c,) = self.saved
        return (gy / c,)


@quiet
class RDivScalar(Function):
    def forward(self, x, c):
        self.save_for_backward(x, c)
        # torch computes a number over a tensor as reciprocal(x) * c (one more rounding).
        return get_array_module(x).reciprocal(x) * c

    def backward(self, gy):
        x, c = self.saved
        return (-gy * ((c / x) / x),)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return (-gy,)


@quiet
class PowScalar(Function):
    """``x ** c``: d/dx = c * x**(c-1), and exactly 0 when c == 0 (as torch)."""

    def forward(self, x, c):
        self.save_for_backward(x, c)
        return _power(x, c)

    def backward(self, gy):
        x, c = self.saved
        if c == 0:
            return (get_array_module(gy).zeros_like(gy),)
        return (gy * (c * _power(x, c - 1)),)


def _power(x, c):
    """``x ** c`` for a float array, rounded as torch's kernels round it where it can be.

    torch multiplies out a cube and computes -2 and -0.5 through a reciprocal; numpy's
    ``power`` rounds those differently (2, 1, 0.5 and -1 agree already). Other exponents go
    through each library's own ``pow`` and agree to about an ulp.
    """
    if x.dtype.kind != "f":
        return x ** c
    xp = get_array_module(x)
    if c == 3:
        return x * x * x
    if c == -2:
        return xp.reciprocal(x * x)
    if c == -0.5:
        return xp.reciprocal(xp.sqrt(x))
    return x ** c


@quiet
class RPowScalar(Function):
    """``c ** x``: d/dx = c**x * log(c), and 0 where c == 0 and x >= 0 (as torch)."""

    def forward(self, x, c):
        out = _int_power(c, x, get_array_module(x)) if x.dtype.kind in "iu" else c ** x
        self.save_for_backward(x, c, out)
        return out

    def backward(self, gy):
        x, c, out = self.saved
        # A Python float keeps float32 arrays float32 (numpy 2's weak scalars).
        log_c = math.log(c) if c > 0 else (-math.inf if c == 0 else math.nan)
        gx = gy * (out * log_c)
        if c == 0:
            gx = get_array_module(gy).where(x >= 0, 0, gx)
        return (gx,)


@quiet
class Pow(Function):
    """``x ** y`` for two tensors."""

    def forward(self, x, y):
        out = _int_power(x, y, get_array_module(x)) if x.dtype.kind in "iu" else x ** y
        self.save_for_backward(x, y, out)
        return out

    def backward(self, gy):
        x, y, out = self.saved
        xp = get_array_module(gy)
        gx = gy0 = None
        if self.needs_input_grad[0]:
            gx = xp.where(y == 0, 0, gy * (y * x ** (y - 1)))
        if self.needs_input_grad[1]:
            gy0 = xp.where((x == 0) & (y >= 0), 0, gy * (out * xp.log(x)))
        return gx, gy0


def add(input, other, *, alpha=1):
    if getattr(other, "is_sparse", False) and is_tensor(input):
        other = other.to_dense()  # dense + sparse is dense, as in torch (sparse + dense raises)
    if alpha != 1:
        other = mul(other, alpha) if is_tensor(other) else other * alpha
    return _binary(Add, AddScalar, input, other, AddScalar)


def sub(input, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha) if is_tensor(other) else other * alpha
    return _binary(Sub, SubScalar, input, other, RSubScalar)


def mul(input, other):
    return _binary(Mul, MulScalar, input, other, MulScalar)


def div(input, other):
    x_int = not _is_float(input)
    if x_int and not _is_float(other):
        # True division of integers gives the default float type, as in torch.
        input = input.float() if is_tensor(input) else float(input)
    return _binary(Div, DivScalar, input, other, RDivScalar)


def _int_power(base, exponent, xp):
    """Integer ``base ** exponent`` as torch computes it, where numpy raises on a negative
    exponent: the true power truncated to an integer, so 0 unless the base is 1 or -1."""
    negative = exponent < 0
    out = base ** xp.where(negative, -exponent, exponent)
    return xp.where(negative & (abs(base) != 1), 0, out)


def pow(input, exponent):
    if (is_tensor(input) and not _is_float(input) and not is_tensor(exponent)
            and not _is_float(exponent) and exponent < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return _binary(Pow, PowScalar, input, exponent, RPowScalar)


def neg(input):
    if input._array.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return Neg.apply(input)


@quiet
class SubScalar(AddScalar):
    """``x - c``, recorded as torch records it (an add of -c)."""

    def forward(self, x, c):
        return x - c


def _is_float(value) -> bool:
    if is_tensor(value):
        return value._array.dtype.kind == "f"
    return isinstance(value, float) or (isinstance(value, np.generic) and value.dtype.kind == "f")
