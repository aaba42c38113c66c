"""In-place tensor methods (``add_``, ``mul_``, ``zero_`` ...): torch's semantics and errors."""
from __future__ import annotations

import numbers

import numpy as np

from . import dtypes, grad_mode, ops
from .backend import get_array_module, on_device_of
from .function import is_tensor, on_one_device, type_name as _type_name
from .ops._promote import result_dtype

_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
_LEAF_VIEW = "a view of a leaf Variable that requires grad is being used in an in-place operation."


def _tensor_arg(value, fname: str, arg: str, pos: int):
    """An argument that must be a Tensor (``addcmul_``'s tensor1, ``lerp_``'s end)."""
    if not is_tensor(value):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{_type_name(value)}")
    return value


def _operand(value, fname: str, arg: str):
    """A Tensor, or a number as a Python scalar (numpy 2 keeps Python scalars weakly typed:
    ``float32_array * 2.0`` stays float32, ``* np.float64(2.0)`` would not)."""
    if is_tensor(value):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, numbers.Number) or isinstance(value, complex):
        raise TypeError(f"{fname}(): argument '{arg}' (position 1) must be Tensor, not "
                        f"{_type_name(value)}")
    return value


def _number(value, fname: str, arg: str):
    """A number argument as a Python scalar; a 0-d tensor gives its value."""
    if (is_tensor(value) and value.ndim == 0) or isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"{fname}(): argument '{arg}' must be Number, not {_type_name(value)}")
    return value


def _fused_add(xp, out, coeff, x, base) -> None:
    """``out = coeff * x + base`` rounded once, as torch's CPU kernels fuse it (an FMA).

    In float32 and float16 a float64 product is exact, so adding in float64 and rounding
    once gives the fused result bit for bit; numpy has nothing wider than float64, so there
    it is rounded twice (at most one unit in the last place from torch).
    """
    if not hasattr(x, "dtype"):  # a Python number: its product is a number too
        xp.add(base, coeff * x, out=out)
    elif x.dtype.kind == "f" and x.dtype.itemsize < 8:
        xp.add(xp.multiply(x, coeff, dtype=xp.float64), base, out=out)
    else:
        xp.add(xp.multiply(x, coeff), base, out=out)


def _rounded(value, np_dtype):
    """A Python scalar rounded to ``np_dtype`` first, as torch converts a Scalar argument."""
    return float(np_dtype.type(value)) if np_dtype.kind == "f" else value


def _scaled(other, alpha):
    """``alpha * other`` for the recorded history: a tensor op, or plain arithmetic."""
    return ops.mul(other, alpha) if is_tensor(other) else alpha * other


def _replace(current, value):
    """``value`` in ``current``'s place, recorded so that no gradient reaches ``current``.

    A ``where`` that never picks ``current``: unlike ``current * 0 + value`` it cannot turn
    an infinite ``current`` into nan.
    """
    never = get_array_module(current._array).zeros(current.shape, dtype=bool)
    return ops.where(current._result(never, None, False), current, value)


class InPlaceMixin:
    """Every in-place method checks its arguments as torch does, then runs one of two ways.

    It writes straight into the storage with numpy/cupy ``out=`` arguments, allocating
    nothing it can avoid (the path of ``x.data.sub_`` and of optimizers). When there is a
    graph to record (grad enabled and something requires grad), it first runs the
    out-of-place composite on a snapshot of the old values and takes over its ``grad_fn``,
    which is how torch rebases the history of a modified tensor. Either way the version
    counter goes up, so that backward() notices a saved tensor that changed.
    """

    __slots__ = ()

    def _inplace(self, direct, recorded, *operands, result=None, broadcast=True):
        """Run ``direct(xp, array, *operand_arrays)`` on the storage, after recording
        ``recorded(snapshot, *operands)`` as the new history when a graph is being built.

        Args:
            result: the (numpy) dtype torch computes in; None means self's dtype.
            broadcast: check that the operands broadcast to self's shape (indexed
                assignment, which writes a part, checks its own shapes).
        """
        result = self._array.dtype if result is None else np.dtype(result)
        tensors = [o for o in operands if is_tensor(o)]
        if tensors:
            # A 0-d CPU operand of a GPU tensor moves to the GPU (it is a number to torch).
            moved = iter(on_one_device([self, *tensors], fixed=self)[1:])
            operands = [next(moved) if is_tensor(o) else o for o in operands]
            tensors = [o for o in operands if is_tensor(o)]
            if broadcast:
                self._check_broadcast(tensors)
        self._check_cast(result)
        tracked = grad_mode.is_grad_enabled() and (
            self._requires_grad or any(t._requires_grad for t in tensors))
        if tracked:
            # The history comes from the out-of-place composite run on a snapshot; the new
            # values from the same kernel as untracked code, so both paths agree to the bit.
            self._check_inplace_allowed()
            with on_device_of(self._array):
                snapshot = self._result(self._array.copy(), self._grad_fn, False)
            snapshot._requires_grad = self._requires_grad
            out = recorded(snapshot, *operands)
            self._grad_fn, self._requires_grad = out._grad_fn, out._requires_grad
        with on_device_of(self._array):  # a GPU computes on the current device
            # Operands in the dtype torch computes in: a 0-d float64 tensor does not make a
            # float32 update float64 in torch (it would in numpy).
            arrays = [o._array.astype(result, copy=False) if is_tensor(o) else o
                      for o in operands]
            direct(get_array_module(self._array), self._array, *arrays)
        self._vc[0] += 1
        return self

    def _check_cast(self, result) -> None:
        """torch's canCast: no float result into an integer tensor, nothing else into bool."""
        target = self._array.dtype
        if (result.kind == "f" and target.kind != "f") or (target.kind == "b" != result.kind):
            raise RuntimeError(f"result type {dtypes.from_numpy_dtype(result)._torch_type} "
                               f"can't be cast to the desired output type "
                               f"{self.dtype._torch_type}")

    def _check_broadcast(self, tensors) -> None:
        """The operands must broadcast to exactly this tensor's shape (torch's messages)."""
        shape = self._array.shape
        if all(t._array.shape == shape for t in tensors):
            return
        wanted = shape
        for t in tensors:
            wanted = _broadcast_pair(wanted, t._array.shape)
        if wanted != shape:
            raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast "
                               f"shape {list(wanted)}")

    def _check_inplace_allowed(self) -> None:
        if self._grad_fn is None and self._requires_grad:
            raise RuntimeError(_LEAF)
        base = self._base
        if base is not None:
            if base._grad_fn is None and base._requires_grad:
                raise RuntimeError(_LEAF_VIEW)
            # torch rewrites the base's history here (CopySlices); we do not, so we refuse
            # rather than return a wrong gradient.
            raise RuntimeError("tinygrad_optim does not record in-place operations on views "
                               "(slices, reshapes, transposes) when a gradient is needed; use "
                               "the out-of-place operation (e.g. x = x + y instead of "
                               "x.add_(y))")

    def _binary_dtype(self, other, fname: str, alpha=1):
        """The dtype torch computes ``self op alpha * other`` in, after checking ``alpha``."""
        if not isinstance(alpha, numbers.Number):
            raise TypeError(f"{fname}(): argument 'alpha' must be Number, not "
                            f"{_type_name(alpha)}")
        dt = result_dtype(self, other)
        if alpha != 1 and dt.kind in "iu" and isinstance(alpha, float):
            raise RuntimeError("For integral input tensors, argument alpha must not be a "
                               "floating point number.")
        return dt

    def add_(self, other, *, alpha=1):
        """``self += alpha * other``; returns self."""
        other = _operand(other, "add_", "other")
        dt = self._binary_dtype(other, "add_", alpha)
        if alpha == 1:
            return self._inplace(lambda xp, a, b: xp.add(a, b, out=a), ops.add, other,
                                 result=dt)
        coeff = _rounded(alpha, dt)
        return self._inplace(lambda xp, a, b: _fused_add(xp, a, coeff, b, a),
                             lambda s, o: ops.add(s, _scaled(o, alpha)), other, result=dt)

    def sub_(self, other, *, alpha=1):
        """``self -= alpha * other``; returns self."""
        other = _operand(other, "sub_", "other")
        dt = self._binary_dtype(other, "sub_", alpha)
        if dt.kind == "b":
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        if alpha == 1:
            return self._inplace(lambda xp, a, b: xp.subtract(a, b, out=a), ops.sub, other,
                                 result=dt)
        coeff = -_rounded(alpha, dt)  # torch subtracts by adding -alpha * other
        return self._inplace(lambda xp, a, b: _fused_add(xp, a, coeff, b, a),
                             lambda s, o: ops.sub(s, _scaled(o, alpha)), other, result=dt)

    def mul_(self, other):
        """``self *= other``; returns self."""
        other = _operand(other, "mul_", "other")
        return self._inplace(lambda xp, a, b: xp.multiply(a, b, out=a), ops.mul, other,
                             result=result_dtype(self, other))

    def div_(self, other):
        """``self /= other`` (true division; an integer tensor cannot hold it); returns self."""
        other = _operand(other, "div_", "other")
        dt = result_dtype(self, other)
        if dt.kind != "f":
            dt = dtypes.DEFAULT_FLOAT.np
        return self._inplace(lambda xp, a, b: xp.divide(a, b, out=a), ops.div, other,
                             result=dt)

    def pow_(self, exponent):
        """``self **= exponent``; returns self."""
        exponent = _operand(exponent, "pow_", "exponent")
        dt = result_dtype(self, exponent)
        if dt.kind in "iu" and not is_tensor(exponent) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return self._inplace(lambda xp, a, b: xp.power(a, b, out=a), ops.pow, exponent,
                             result=dt)

    def neg_(self):
        """``self = -self``; returns self."""
        if self._array.dtype.kind == "b":
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return self._inplace(lambda xp, a: xp.negative(a, out=a), ops.neg)

    def abs_(self):
        return self._inplace(lambda xp, a: xp.absolute(a, out=a), ops.absolute)

    def sign_(self):
        return self._inplace(lambda xp, a: xp.sign(a, out=a), ops.sign)

    def sqrt_(self):
        return self._inplace(lambda xp, a: xp.sqrt(a, out=a), ops.sqrt,
                             result=self._float_result())

    def exp_(self):
        return self._inplace(lambda xp, a: xp.exp(a, out=a), ops.exp,
                             result=self._float_result())

    def _float_result(self):
        kind = self._array.dtype.kind
        return self._array.dtype if kind == "f" else dtypes.DEFAULT_FLOAT.np

    def clamp_(self, min=None, max=None):
        """Limit every element to [min, max] (either may be None); returns self."""
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        min, max = (None if b is None else _number(b, "clamp_", name)
                    for b, name in ((min, "min"), (max, "max")))
        bounds = [b for b in (min, max) if b is not None]

        def direct(xp, a):
            if min is not None:
                xp.maximum(a, min, out=a)
            if max is not None:
                xp.minimum(a, max, out=a)
        return self._inplace(direct, lambda s: ops.clamp(s, min, max),
                             result=result_dtype(self, *bounds))

    def zero_(self):
        """Set every element to 0; returns self."""
        return self.fill_(0)

    def fill_(self, value):
        """Set every element to ``value`` (a number or a 0-d tensor); returns self."""
        if is_tensor(value):
            if value.ndim:
                raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor "
                                   f"with {value.ndim} dimensions.")
            return self._inplace(lambda xp, a, v: a.fill(v.item()),
                                 lambda s, v: _replace(s, v.to(s.dtype)), value)
        value = _operand(value, "fill_", "value")
        return self._inplace(lambda xp, a: a.fill(value), lambda s: _replace(s, value))

    def copy_(self, src):
        """Copy ``src`` (broadcast, cast, and moved from any device) into self; returns self."""
        if not is_tensor(src):
            return self.fill_(src)
        if src.device != self.device:  # copy_ is the one operation that crosses devices
            src = src.to(self.device)

        def direct(xp, a, b):
            xp.copyto(a, b, casting="unsafe")  # from any dtype, as torch
        return self._inplace(direct, lambda s, o: _replace(s, o.to(s.dtype)), src)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        """``self += value * tensor1 * tensor2`` as torch computes it, the last multiply and
        the add fused; returns self."""
        _tensor_arg(tensor1, "addcmul_", "tensor1", 1)
        _tensor_arg(tensor2, "addcmul_", "tensor2", 2)
        value = _number(value, "addcmul_", "value")

        def direct(xp, a, b, c):
            _fused_add(xp, a, xp.multiply(b, value), c, a)
        return self._inplace(direct, lambda s, b, c: s + (value * b) * c, tensor1, tensor2,
                             result=result_dtype(self, tensor1, tensor2))

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        """``self += value * tensor1 / tensor2``, in torch's order; returns self."""
        _tensor_arg(tensor1, "addcdiv_", "tensor1", 1)
        _tensor_arg(tensor2, "addcdiv_", "tensor2", 2)
        if tensor1._array.dtype.kind in "iub" and tensor2._array.dtype.kind in "iub":
            raise RuntimeError(
                "Integer division with addcdiv is no longer supported, and in a future  "
                "release addcdiv will perform a true division of tensor1 and tensor2. The "
                "historic addcdiv behavior can be implemented as (input + value * "
                "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
                "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv "
                "behavior is just the latter implementation: (input + value * tensor1 / "
                "tensor2), for all dtypes.")

        value = _number(value, "addcdiv_", "value")

        def direct(xp, a, b, c):
            xp.add(a, xp.divide(xp.multiply(b, value), c), out=a)
        return self._inplace(direct, lambda s, b, c: s + (value * b) / c, tensor1, tensor2,
                             result=result_dtype(self, tensor1, tensor2))

    def lerp_(self, end, weight):
        """``self += weight * (end - self)``, by torch's formula for each half of the weights:
        ``self + w * (end - self)`` for ``|w| < 0.5``, else ``end + (w - 1) * (end - self)``
        (exact at both ends), each a fused multiply-add as on torch's CPU; returns self.

        ``weight`` is a number or a tensor of self's dtype that broadcasts to self.
        """
        _tensor_arg(end, "lerp_", "end", 1)
        if end.dtype is not self.dtype:
            raise RuntimeError(f"expected dtype {self.dtype._c_name} for `end` but got dtype "
                               f"{end.dtype._c_name}")
        if is_tensor(weight) and weight.ndim:
            return self._lerp_tensor(end, weight)
        if not self.dtype.is_floating_point:
            raise NotImplementedError(
                f"\"lerp_kernel_scalar\" not implemented for '{self.dtype._torch_type}'")
        # torch rounds the weight to the tensor's type before it compares or subtracts.
        w = _rounded(_number(weight, "lerp_", "weight"), self._array.dtype)
        small = abs(w) < 0.5
        coeff = w if small else _rounded(w - 1.0, self._array.dtype)

        def direct(xp, a, b):
            _fused_add(xp, a, coeff, xp.subtract(b, a), a if small else b)
        return self._inplace(direct, lambda s, e: s + w * (e - s), end)

    def _lerp_tensor(self, end, weight):
        if not self.dtype.is_floating_point:
            raise NotImplementedError(
                f"\"lerp_kernel_tensor\" not implemented for '{self.dtype._torch_type}'")
        if weight.dtype is not self.dtype:
            raise RuntimeError(f"expected dtype {self.dtype._c_name} for `weight` but got dtype "
                               f"{weight.dtype._c_name}")

        def direct(xp, a, b, w):
            small = xp.abs(w) < 0.5
            coeff = xp.where(small, w, w - 1)
            _fused_add(xp, a, coeff, xp.subtract(b, a), xp.where(small, a, b))
        return self._inplace(direct, lambda s, e, w: s + w * (e - s), end, weight)

    # Augmented assignment is in place, as in torch: under no_grad, ``w -= lr * w.grad``
    # must update the parameter itself, not bind the name to a new tensor.
    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ipow__ = pow_


def _broadcast_pair(a: tuple, b: tuple) -> tuple:
    """numpy's broadcast of two shapes, with torch's message when they do not fit."""
    ndim = max(len(a), len(b))
    a, b = (1,) * (ndim - len(a)) + a, (1,) * (ndim - len(b)) + b
    out = []
    for dim, (m, n) in enumerate(zip(a, b)):
        if m != n and 1 not in (m, n):
            raise RuntimeError(f"The size of tensor a ({m}) must match the size of tensor b "
                               f"({n}) at non-singleton dimension {dim}")
        out.append(n if m == 1 else m)
    return tuple(out)
