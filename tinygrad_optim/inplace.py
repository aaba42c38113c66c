"""In-place tensor methods (``add_``, ``mul_``, ``zero_`` ...): torch's semantics and errors."""
from __future__ import annotations

from . import grad_mode, ops
from .backend import get_array_module
from .function import is_tensor
from .ops.arith import as_python_scalar

_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
_LEAF_VIEW = "a view of a leaf Variable that requires grad is being used in an in-place operation."


def _operand(value, like):
    """The array (or Python scalar) form of an operand, on ``like``'s device."""
    if is_tensor(value):
        if value.device != like.device:
            raise RuntimeError("Expected all tensors to be on the same device, but found at "
                               f"least two devices, {like.device} and {value.device}!")
        return value._array
    return as_python_scalar(value)


class InPlaceMixin:
    """Every in-place method runs one of two ways.

    Without a graph to record (grad disabled, or nothing requires grad) it writes straight
    into the storage with numpy/cupy ``out=`` arguments: this is the path of ``x.data.sub_``
    and of optimizers, and it allocates nothing it can avoid. Otherwise it computes the
    out-of-place result on a snapshot, writes it back and takes over its ``grad_fn``, which
    is how torch rebases the history of a modified tensor.
    """

    __slots__ = ()

    def _inplace(self, direct, recorded, *operands):
        tracked = grad_mode.is_grad_enabled() and (
            self._requires_grad or any(is_tensor(o) and o._requires_grad for o in operands))
        if tracked:
            self._check_inplace_allowed()
            snapshot = self._result(self._array.copy(), self._grad_fn, False)
            snapshot._requires_grad = self._requires_grad
            out = recorded(snapshot, *operands)
            self._write(out._array)
            self._grad_fn, self._requires_grad = out._grad_fn, True
        else:
            arrays = [_operand(o, self) for o in operands]
            try:
                direct(get_array_module(self._array), self._array, *arrays)
            except (TypeError, ValueError) as exc:
                raise _as_torch_error(exc, self, arrays) from None
        self._vc[0] += 1
        return self

    def _check_inplace_allowed(self):
        if self._grad_fn is None and self._requires_grad:
            raise RuntimeError(_LEAF)
        base = self._base
        if base is not None:
            if base._grad_fn is None and base._requires_grad:
                raise RuntimeError(_LEAF_VIEW)
            raise RuntimeError("tinygrad_optim does not record in-place operations on views "
                               "of tensors that require grad; use the out-of-place operation "
                               "(e.g. x = x + y instead of x.add_(y))")

    def _write(self, array):
        try:
            self._array[...] = array
        except ValueError:
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(array.shape)}") from None

    def add_(self, other, *, alpha=1):
        if alpha == 1:
            return self._inplace(lambda xp, a, b: xp.add(a, b, out=a), ops.add, other)
        return self._inplace(lambda xp, a, b: xp.add(a, xp.multiply(b, alpha), out=a),
                             lambda s, o: ops.add(s, o, alpha=alpha), other)

    def sub_(self, other, *, alpha=1):
        if alpha == 1:
            return self._inplace(lambda xp, a, b: xp.subtract(a, b, out=a), ops.sub, other)
        return self._inplace(lambda xp, a, b: xp.subtract(a, xp.multiply(b, alpha), out=a),
                             lambda s, o: ops.sub(s, o, alpha=alpha), other)

    def mul_(self, other):
        return self._inplace(lambda xp, a, b: xp.multiply(a, b, out=a), ops.mul, other)

    def div_(self, other):
        return self._inplace(lambda xp, a, b: xp.divide(a, b, out=a), ops.div, other)

    def pow_(self, exponent):
        return self._inplace(lambda xp, a, b: xp.power(a, b, out=a), ops.pow, exponent)

    def neg_(self):
        return self._inplace(lambda xp, a: xp.negative(a, out=a), ops.neg)

    def abs_(self):
        return self._inplace(lambda xp, a: xp.absolute(a, out=a), ops.absolute)

    def sign_(self):
        return self._inplace(lambda xp, a: xp.sign(a, out=a), ops.sign)

    def sqrt_(self):
        return self._inplace(lambda xp, a: xp.sqrt(a, out=a), ops.sqrt)

    def exp_(self):
        return self._inplace(lambda xp, a: xp.exp(a, out=a), ops.exp)

    def clamp_(self, min=None, max=None):
        def direct(xp, a):
            if min is not None:
                xp.maximum(a, min, out=a)
            if max is not None:
                xp.minimum(a, max, out=a)
        return self._inplace(direct, lambda s: ops.clamp(s, min, max))

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        value = value.item() if is_tensor(value) else value
        return self._inplace(lambda xp, a: a.fill(value),
                             lambda s: ops.mul(s, 0) + value)

    def copy_(self, src):
        def direct(xp, a, b):
            xp.copyto(a, b, casting="unsafe")  # copy_ casts whatever the dtypes, as torch
        return self._inplace(direct, lambda s, o: ops.mul(s, 0) + o.to(s.dtype), src)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        def direct(xp, a, b, c):
            prod = xp.multiply(b, c)
            if value != 1:
                xp.multiply(prod, value, out=prod)
            xp.add(a, prod, out=a)
        return self._inplace(direct, lambda s, b, c: s + value * (b * c), tensor1, tensor2)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        def direct(xp, a, b, c):
            quot = xp.divide(b, c)
            if value != 1:
                xp.multiply(quot, value, out=quot)
            xp.add(a, quot, out=a)
        return self._inplace(direct, lambda s, b, c: s + value * (b / c), tensor1, tensor2)

    def lerp_(self, end, weight):
        """torch's two-branch lerp: exact at both ends, bit-equal to torch in float32."""
        w = as_python_scalar(weight)

        def direct(xp, a, b):
            diff = xp.subtract(b, a)
            if abs(w) < 0.5:
                xp.multiply(diff, w, out=diff)
                xp.add(a, diff, out=a)
            else:
                xp.multiply(diff, w - 1, out=diff)
                xp.add(b, diff, out=a)  # b - (b - a) * (1 - w)
        return self._inplace(direct, lambda s, e: s + w * (e - s), end)


def _as_torch_error(exc, target, arrays):
    """numpy's casting and broadcasting errors, reworded as torch's RuntimeErrors."""
    if isinstance(exc, TypeError) and "cast" in str(exc):
        xp = get_array_module(target._array)
        got = xp.result_type(target._array, *arrays)
        names = {"f": "Float", "i": "Long", "b": "Bool", "u": "Byte"}
        return RuntimeError(f"result type {names.get(got.kind, got.name)} can't be cast to the "
                            f"desired output type {target.dtype._torch_type}")
    if isinstance(exc, ValueError) and "broadcast" in str(exc):
        shapes = [tuple(getattr(a, "shape", ())) for a in arrays]
        wanted = get_array_module(target._array).broadcast_shapes(target.shape, *shapes)
        return RuntimeError(f"output with shape {list(target.shape)} doesn't match the "
                            f"broadcast shape {list(wanted)}")
    return exc
