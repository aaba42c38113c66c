"""FlatParameter: many parameters as views into one buffer, so that a step is one large call."""
from __future__ import annotations

from typing import Iterable

from .. import autograd
from ..backend import get_array_module, on_device, on_device_of
from ..tensor import Tensor

__all__ = ["FlatParameter"]


class FlatParameter(Tensor):
    """Many parameters stored as consecutive views into one buffer (opt-in; no torch name).

    An optimizer given hundreds of small parameters runs its kernel once per parameter; given
    one ``FlatParameter`` over them, it runs once over the buffer, in cache-sized blocks on
    both cores (``optim/_blocks.py``). Each parameter keeps its identity (a module still holds
    it and computes with it); only its storage moves into the buffer, and its gradient is
    gathered into a second buffer, as views, so that ``backward()`` adds into it in place.

    Example:
        >>> import tinygrad_optim as tg
        >>> model = tg.nn.Sequential(tg.nn.Linear(4, 8), tg.nn.ReLU(), tg.nn.Linear(8, 1))
        >>> flat = tg.optim.FlatParameter(model.parameters())
        >>> optimizer = tg.optim.Adam([flat], lr=1e-3)
        >>> flat.shape
        tinygrad_optim.Size([49])

    Trade-offs, compared with giving the optimizer the parameters themselves:

    * A parameter whose ``.grad`` is None counts as having a zero gradient while another one
      has a gradient: torch would skip it, here its state still moves (a momentum keeps
      moving it, Adam's averages decay). The step is skipped only when none has a gradient.
    * The optimizer's state is one buffer per state key for all of them, so its
      ``state_dict`` does not fit an optimizer made over the separate parameters.
    * Make the ``FlatParameter`` before the optimizer and before anything keeps a parameter's
      array (a graph being built, ``.data`` aliases): they would keep the old storage.
      Replacing a parameter's storage afterwards (``p.data = t``, ``module.to(...)``)
      unties it from the buffer.
    * All parameters need one dtype and device, and dense gradients.
    * Compute with the parameters, not with the ``FlatParameter``: a gradient that reaches
      the buffer itself is refused (RuntimeError) rather than silently left out.

    Args:
        params: the parameters (leaf tensors that require grad), each listed once.

    Raises:
        ValueError: for no parameters, a parameter listed twice, a non-leaf, a tensor that
            does not require grad, or parameters of different dtypes or devices.
    """

    __slots__ = ("_members", "_offsets", "_grad_buffer", "_grad_views", "_flat_grad")

    def __init__(self, params: Iterable[Tensor]):
        members = _checked(params)
        xp = get_array_module(members[0]._array)
        sizes = [member.numel() for member in members]
        with on_device(members[0].device):  # the buffers go where the members are
            buffer = xp.empty(sum(sizes), members[0]._array.dtype)
            self._grad_buffer = xp.zeros_like(buffer)
            self._set(buffer, None)
            self._requires_grad = True
            offsets, start = [], 0
            for member, size in zip(members, sizes):
                view = buffer[start:start + size].reshape(member.shape)
                view[...] = member._array
                member._array = view
                # One storage, one version counter: an in-place step on the buffer must fail a
                # backward through a graph that saved a member, as torch's version check does.
                member._vc = self._vc
                offsets.append(start)
                start += size
        self._members, self._offsets = tuple(members), tuple(offsets)
        self._grad_views = [None] * len(members)
        self._flat_grad = Tensor._wrap(self._grad_buffer)

    @property
    def grad(self):
        """The members' gradients in one buffer (zeros for a member without one); None when
        no member has a gradient.

        A member's gradient that is not yet a view into the buffer (a first ``backward()``,
        or one after ``zero_grad()`` set it to None) is copied in, and the member's ``.grad``
        becomes that view, so later ``backward()`` calls add into the buffer directly.
        """
        grads = [member._grad for member in self._members]
        if all(grad is None for grad in grads):
            return None
        with on_device_of(self._grad_buffer):  # the copies run on the buffer's GPU
            self._gather(grads)
        return self._flat_grad

    @grad.setter
    def grad(self, value):
        """None clears every member's gradient; a Tensor is copied into the buffer."""
        autograd.check_grad_assignment(self, value)
        if value is None:
            for member in self._members:
                member._grad = None
            return
        with on_device_of(self._grad_buffer):
            self._grad_buffer[...] = value._array
        for index, (member, start) in enumerate(zip(self._members, self._offsets)):
            view = self._grad_buffer[start:start + member.numel()].reshape(member.shape)
            member._grad = Tensor._wrap(view)
            self._grad_views[index] = view

    def _gather(self, grads) -> None:
        """Copy each member's gradient into the buffer unless it is a view of it already."""
        for index, (member, grad) in enumerate(zip(self._members, grads)):
            view = self._grad_views[index]
            if grad is not None and view is not None and grad._array is view:
                continue  # backward() has been adding into the buffer
            start = self._offsets[index]
            target = self._grad_buffer[start:start + member.numel()].reshape(member.shape)
            if grad is None:
                target[...] = 0
                self._grad_views[index] = None
                continue
            if grad.is_sparse:
                raise RuntimeError("FlatParameter takes dense gradients only, but a member "
                                   "has a sparse one")
            target[...] = grad._array
            member._grad = Tensor._wrap(target)
            self._grad_views[index] = target

    def _accumulate_grad(self, array, owned: bool) -> None:
        # A gradient reaching the buffer itself would bypass the members' views, and the
        # getter above would never show it: refuse it rather than lose it.
        raise RuntimeError("a FlatParameter takes its gradient from its members: compute with "
                           "the parameters themselves, not with the buffer")

    @property
    def members(self) -> tuple:
        """The parameters whose storage this buffer holds, in order."""
        return self._members


def _checked(params) -> list:
    members = list(params)
    if not members:
        raise ValueError("FlatParameter needs at least one parameter")
    if len({id(member) for member in members}) != len(members):
        raise ValueError("FlatParameter got a parameter twice")
    first = members[0]
    for member in members:
        if not isinstance(member, Tensor) or not member.is_leaf or not member.requires_grad:
            raise ValueError("FlatParameter takes leaf tensors that require grad")
        if member.dtype is not first.dtype or member.device != first.device:
            raise ValueError("FlatParameter needs one dtype and device for all parameters, "
                             f"got {first.dtype} on {first.device} and {member.dtype} on "
                             f"{member.device}")
    return members
