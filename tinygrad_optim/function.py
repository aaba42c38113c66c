"""The Function base class: a differentiable operation on arrays that is also a graph node."""
from __future__ import annotations

import itertools

import numpy as np

from . import grad_mode
from .backend import get_array_module

_sequence = itertools.count()  # creation order: backward runs later nodes first, as torch does


def is_tensor(obj) -> bool:
    # Duck-typed so that this module needs no import of tensor.py (which imports the ops).
    return getattr(obj, "_is_tensor", False)


def unbroadcast(gx, shape):
    """Sum a gradient back to ``shape``: the one place where broadcasting is undone."""
    if gx.shape == shape:
        return gx
    xp = get_array_module(gx)
    lead = gx.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gx.shape[lead + i] != 1)
    if axes:
        gx = gx.sum(axis=axes, keepdims=True)
    if lead:
        gx = gx.reshape(gx.shape[lead:])
    return xp.asarray(gx).reshape(shape)


class Function:
    """Base of every differentiable operation.

    A subclass implements ``forward(*arrays, **kwargs) -> array`` and
    ``backward(gy) -> tuple`` of one gradient array (or None) per input, on arrays of any
    array module. ``apply`` runs forward on the inputs' arrays and, when grad is enabled and
    an input requires grad, keeps the instance as the output's ``grad_fn``: it then holds
    the parent nodes (or leaf tensors) and the arrays saved for backward, never the output
    tensor itself, so that a dead intermediate tensor is freed at once.
    """

    __slots__ = ("parents", "needs_input_grad", "input_meta", "saved", "_saved_versions",
                 "seq", "_retained", "__weakref__", "__dict__")

    differentiable = True

    def forward(self, *arrays, **kwargs):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def backward(self, gy):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def save_for_backward(self, *arrays):
        self.saved = arrays

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run the operation on tensors and record it when a gradient is needed."""
        fn = cls()
        first = inputs[0]
        if len(inputs) > 1:
            _check_same_device(inputs)
        track = (cls.differentiable and grad_mode.is_grad_enabled()
                 and any(t._requires_grad for t in inputs))
        fn.needs_input_grad = tuple(t._requires_grad for t in inputs) if track else None
        fn.saved = ()
        out = fn.forward(*[t._array for t in inputs], **kwargs)
        result = first._result(out, fn if track else None, cls.is_view(out, first._array))
        if track:
            fn.parents = tuple(t._grad_fn if t._grad_fn is not None else (t if t._requires_grad
                               else None) for t in inputs)
            fn.input_meta = tuple((t._array.shape, t._array.dtype) for t in inputs)
            fn.seq = next(_sequence)
            fn._retained = None
            fn._saved_versions = _versions_of(fn.saved, inputs, result)
        return result

    @staticmethod
    def is_view(out, x) -> bool:
        """Whether the output shares memory with the first input (see ops' view functions)."""
        return False

    # What torch users inspect on a grad_fn: "MulBackward0" for both x * y and x * 2.
    def op_name(self) -> str:
        return type(self).__name__.replace("Scalar", "")

    def name(self) -> str:
        return f"{self.op_name()}Backward0"

    @property
    def next_functions(self):
        return tuple((p, 0) for p in self.parents)

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


def _check_same_device(inputs):
    if all(type(t._array) is np.ndarray for t in inputs):  # the common case, checked cheaply
        return
    devices = {t.device for t in inputs}
    if len(devices) > 1:
        names = sorted(str(d) for d in devices)
        raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                           f"two devices, {names[0]} and {names[1]}!")


def _versions_of(saved, inputs, result):
    """For each saved array that is a tensor's storage: that tensor's counter and its value now.

    backward() compares them to detect a saved tensor modified in place since.
    """
    found = []
    for array in saved:
        owner = next((t for t in inputs if array is t._array), None)
        if owner is None and array is result._array:
            owner = result
        if owner is not None:
            # Described as torch does: by the operation that made it ("output 0 of Exp").
            made_by = owner._grad_fn
            where = f", which is output 0 of {made_by.op_name()}," if made_by else ""
            found.append((owner._vc, owner._vc[0], f"[{owner._type_name()} "
                          f"{list(owner._array.shape)}]{where}"))
    return tuple(found)


def check_saved_versions(fn) -> None:
    """Raise torch's error when an array saved for backward was changed in place."""
    for vc, version, described in fn._saved_versions:
        if vc[0] != version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {described} is at version {vc[0]}; expected version "
                f"{version} instead. Hint: replace the in-place operation (a method ending in '_') "
                "by its out-of-place form, or clone() the tensor before changing it.")
