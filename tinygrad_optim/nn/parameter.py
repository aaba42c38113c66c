"""Parameter: the Tensor that a Module registers as learnable (requires grad by default)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that shares storage with ``data`` and that modules list in ``parameters()``.

    Args:
        data: the tensor to wrap; its storage and version counter are shared, not copied.
            None gives an empty float32 tensor, as in torch.
        requires_grad: whether autograd records operations on it (default True).

    Raises:
        AttributeError: when ``data`` is not a Tensor (as torch).
        RuntimeError: when a non-floating tensor is asked to require grad.

    Example:
        >>> w = Parameter(zeros(2, 3))
        >>> w.requires_grad, w.is_leaf
        (True, True)
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = Tensor._wrap(np.empty(0, np.float32))
        if not isinstance(data, Tensor):
            # torch's own words: it calls data.detach() before anything else.
            raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
        if requires_grad and not data.is_floating_point():
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        self._set(data._array, None)
        # torch makes a parameter from data.detach(): same storage, same version counter.
        self._vc = data._vc
        self._requires_grad = bool(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
