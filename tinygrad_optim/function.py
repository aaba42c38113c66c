"""The Function base class: a differentiable operation on arrays that is also a graph node."""
from __future__ import annotations

import itertools
import weakref

import numpy as np

from . import grad_mode
from .backend import get_array_module, on_device_of
from .dtypes import from_numpy_dtype

_sequence = itertools.count()  # creation order: backward runs later nodes first, as torch does


def is_tensor(obj) -> bool:
    # Duck-typed so that this module needs no import of tensor.py (which imports the ops).
    return getattr(obj, "_is_tensor", False)


def type_name(obj) -> str:
    """An object's type as torch's messages print it: ``list``, ``numpy.ndarray``, ``Tensor``."""
    kind = type(obj)
    if kind.__module__ == "builtins" or is_tensor(obj):
        return kind.__name__
    return f"{kind.__module__}.{kind.__name__}"


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

    _is_tensor = False  # graph nodes are Functions or leaf Tensors: the engine asks which
    differentiable = True
    makes_views = False  # True where the output may share the input's memory (see is_view)
    saves_arrays = True  # False where save_for_backward only ever gets Python scalars

    def forward(self, *arrays, **kwargs):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def backward(self, gy):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def save_for_backward(self, *arrays):
        self.saved = arrays

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run the operation on tensors and record it when a gradient is needed.

        Nothing is recorded when grad mode is off, when no input requires grad, or when the
        output is not floating point (an integer result has no gradient, as in torch).
        """
        if len(inputs) == 1:
            return cls._apply_one(inputs[0], kwargs)
        fn = cls()
        inputs = on_one_device(inputs)
        first = inputs[0]
        # Plain loops and lists below, not generator expressions: this runs once per
        # operation, and its overhead is most of the cost of an op on a small tensor.
        needs = [t._requires_grad for t in inputs]
        track = cls.differentiable and True in needs and grad_mode.is_grad_enabled()
        fn.needs_input_grad = tuple(needs) if track else None
        fn.saved = ()
        arrays = [t._array for t in inputs]
        if type(first._array) is np.ndarray:
            out = fn.forward(*arrays, **kwargs)
        else:
            with on_device_of(first._array):  # a GPU computes on the current device
                out = fn.forward(*arrays, **kwargs)
        track = track and out.dtype.kind == "f"
        result = first._result(out, fn if track else None,
                               cls.makes_views and cls.is_view(out, first._array))
        if track:
            fn.parents = tuple([t._grad_fn if t._grad_fn is not None else
                                (t if t._requires_grad else None) for t in inputs])
            fn.input_meta = tuple([(a.shape, a.dtype) for a in arrays])
            fn._record(inputs, result)
        return result

    @classmethod
    def _apply_one(cls, x, kwargs):
        """``apply`` for one input, written out: most operations have one (``x * 2.0`` too)."""
        fn = cls()
        track = cls.differentiable and x._requires_grad and grad_mode.is_grad_enabled()
        fn.needs_input_grad = (True,) if track else None
        fn.saved = ()
        array = x._array
        if type(array) is np.ndarray:
            out = fn.forward(array, **kwargs)
        else:
            with on_device_of(array):  # a GPU computes on the current device
                out = fn.forward(array, **kwargs)
        track = track and out.dtype.kind == "f"
        result = x._result(out, fn if track else None,
                           cls.makes_views and cls.is_view(out, array))
        if track:
            fn.parents = (x._grad_fn if x._grad_fn is not None else x,)
            fn.input_meta = ((array.shape, array.dtype),)
            fn._record((x,), result)
        return result

    def _record(self, inputs, result) -> None:
        """The bookkeeping of a recorded node: its creation order and its saved versions."""
        self.seq = next(_sequence)
        self._retained = None
        # Only arrays can be changed in place; a node that saved none (a Python scalar, say)
        # needs no version check at all.
        self._saved_versions = (_versions_of(self.saved, inputs, result)
                                if self.saved and self.saves_arrays else ())

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


def on_one_device(inputs, fixed=None):
    """The inputs of one operation, all on its device, or torch's error.

    torch takes the first non-CPU device as the operation's device. A 0-d CPU tensor counts
    as a number there and joins it (moved with ``to``, so its gradient comes back to the
    CPU); any other input elsewhere is an error, reported as torch reports the first one:
    ``cuda:0 and cpu`` whichever operand is on the CPU.

    Args:
        inputs: the tensors.
        fixed: the one input that cannot move (the target of an in-place operation).

    Returns:
        ``inputs`` itself when nothing moves, else a list with the moved tensors.

    Raises:
        RuntimeError: torch's "Expected all tensors to be on the same device" message.
    """
    if all(type(t._array) is np.ndarray for t in inputs):  # the common case, checked cheaply
        return inputs
    devices = [t.device for t in inputs]
    common = next((d for d in devices if d.type != "cpu"), devices[0])
    moved = None
    for i, (t, dev) in enumerate(zip(inputs, devices)):
        if dev == common:
            continue
        if dev.type == "cpu" and t._array.ndim == 0 and t is not fixed:
            moved = list(inputs) if moved is None else moved
            moved[i] = t.to(common)
            continue
        raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                           f"two devices, {common} and {dev}!")
    if fixed is not None and fixed.device != common:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                           f"two devices, {common} and {fixed.device}!")
    return inputs if moved is None else moved


def _versions_of(saved, inputs, result):
    """How to check, at backward time, each saved array that is a tensor's storage.

    Each entry is (version counter, version now, owner, (shape, dtype, on CPU)). The owner is
    None for the node's own output, which torch describes by this node ("output 0 of Exp");
    an input is described by its grad_fn when the check fails, so the entry holds it by a
    weak reference (the graph holds no tensors) next to its grad_fn at save time.
    """
    found = []
    for array in saved:
        if array is result._array:
            owner, vc = None, result._vc
        else:
            for tensor in inputs:  # a plain loop: this runs for every recorded operation
                if array is tensor._array:
                    break
            else:
                continue  # a scalar, or an array the operation made itself
            owner, vc = (weakref.ref(tensor), tensor._grad_fn), tensor._vc
        found.append((vc, vc[0], owner,
                      (array.shape, array.dtype, isinstance(array, np.ndarray))))
    return tuple(found)


def check_saved_versions(fn) -> None:
    """Raise torch's error when an array saved for backward was changed in place since.

    Raises:
        RuntimeError: "one of the variables needed for gradient computation has been
            modified by an inplace operation: [torch.FloatTensor [3]], which is output 0 of
            Mul, is at version 1; expected version 0 instead. ..."
    """
    for vc, version, owner, meta in fn._saved_versions:
        if vc[0] != version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {_describe(fn, owner, meta)} is at version {vc[0]}; "
                f"expected version {version} instead. Hint: replace the in-place operation (a "
                "method ending in '_') by its out-of-place form, or clone() the tensor before "
                "changing it.")


def _describe(fn, owner, meta) -> str:
    """``[torch.FloatTensor [2, 3]], which is output 0 of Exp,`` (a leaf has no "which")."""
    if owner is None:
        made_by = fn
    else:
        ref, made_by = owner
        tensor = ref()
        if tensor is not None:  # its history now, after the in-place change (torch's view)
            made_by = tensor._grad_fn
    shape, dtype, on_cpu = meta
    device = "" if on_cpu else "cuda."
    name = f"[torch.{device}{from_numpy_dtype(dtype)._torch_type}Tensor {list(shape)}]"
    return f"{name}, which is output 0 of {made_by.op_name()}," if made_by else name
