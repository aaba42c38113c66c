"""SGD: stochastic gradient descent with optional (Nesterov) momentum and weight decay."""
from __future__ import annotations

from typing import Callable, Iterable

from ..backend import get_array_module, scatter_add
from ..creation import zeros_like
from ..grad_mode import no_grad
from ..tensor import Tensor
from ._blocks import one_step, run_blocked, scratch
from ._kernels import direction
from .optimizer import Optimizer, each_on_its_device, updated_array

__all__ = ["SGD", "sgd_kernel", "sgd_update"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum, Nesterov momentum and L2 decay.

    For every parameter :math:`\theta` that has a gradient :math:`g`, with learning rate
    :math:`\gamma`, momentum :math:`\mu`, dampening :math:`\tau` and weight decay
    :math:`\lambda`, one step is:

    .. math::

        \begin{aligned}
        & d \leftarrow -g \text{ if maximize, else } g
            && \text{(the direction to descend)} \\
        & d \leftarrow d + \lambda\,\theta
            && \text{(L2 penalty, folded into the gradient)} \\
        & \textbf{if } \mu \neq 0: \\
        & \quad v \leftarrow d \text{ on the first step, else }
            \mu\, v + (1 - \tau)\, d && \text{(velocity)} \\
        & \quad d \leftarrow d + \mu\, v \text{ if nesterov, else } v \\
        & \theta \leftarrow \theta - \gamma\, d
        \end{aligned}

    With :math:`\tau = \lambda = 0` this is the tutorial's momentum update
    :math:`v = m\,v + g,\; w = w - \text{lr}\cdot v`. The velocity is the state
    ``momentum_buffer``, created (only when :math:`\mu \neq 0`) at the parameter's first step
    as a copy of :math:`d`: dampening does not scale that first value.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of param-group dicts.
        lr (float or Tensor): learning rate :math:`\gamma` (default: 1e-3). A Tensor must
            hold one element; its value is read at every step.
        momentum (float): momentum factor :math:`\mu` (default: 0).
        dampening (float): dampening :math:`\tau` of the gradient added to the velocity
            (default: 0).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        nesterov (bool): use Nesterov momentum; needs :math:`\mu > 0` and :math:`\tau = 0`
            (default: False).
        maximize (bool): ascend the objective instead of descending it (default: False).
        foreach, differentiable, fused: torch's implementation flags, checked as torch
            checks them; ``fused=True`` and ``differentiable=True`` are not supported yet.

    Example:
        >>> import tinygrad_optim as tg
        >>> from tinygrad_optim.optim import SGD
        >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.0620, -0.1240], requires_grad=True)

    Notes:
        Hyperparameters are Python floats (a Tensor ``lr`` is read with ``float()``), so a
        float32 parameter is updated in float32 arithmetic, as in torch. Operations follow
        torch's order; torch's CPU kernels evaluate :math:`x + \alpha y` with one fused
        multiply-add where numpy rounds :math:`\alpha y` first, so results agree to about an
        ulp per step rather than bit for bit. Group ``momentum``, ``lr`` etc. may change
        between steps; a velocity that does not exist yet starts as a copy of :math:`d`.

    Reference:
        Sutskever, Martens, Dahl and Hinton, "On the importance of initialization and
        momentum in deep learning", ICML 2013 (Nesterov momentum in this form).
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # state dicts from before these flags existed
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    @no_grad()
    @one_step()
    def step(self, closure: Callable | None = None):
        """Take one step for every parameter that has a gradient (see ``Optimizer.step``)."""
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            hyper = {"lr": float(group["lr"]), "momentum": float(group["momentum"]),
                     "dampening": float(group["dampening"]),
                     "weight_decay": float(group["weight_decay"]),
                     "nesterov": bool(group["nesterov"]), "maximize": bool(group["maximize"])}
            for param in each_on_its_device(group["params"]):
                if param.grad is None:
                    continue
                if param.grad.is_sparse or (hyper["momentum"] != 0
                                            and _sparse_buffer(self.state.get(param, {}))):
                    self._sparse_step(param, hyper)
                    continue
                buffer, first_step = None, False
                if hyper["momentum"] != 0:  # without momentum SGD keeps no state at all
                    state = self.state[param]
                    if state.get("momentum_buffer") is None:
                        state["momentum_buffer"] = zeros_like(param)
                        first_step = True
                    buffer = updated_array(state["momentum_buffer"])
                sgd_update(updated_array(param), param.grad._array, buffer,
                           first_step=first_step, **hyper)
        return loss

    def _sparse_step(self, param: Tensor, hyper: dict) -> None:
        """One step where the gradient or the momentum buffer is sparse, as torch takes it.

        torch runs its dense code on sparse tensors, so its sparse results follow from which
        operations its sparse layout supports: the buffer of a first sparse gradient is
        sparse; sparse + dense fails (weight decay, a dense gradient after a sparse buffer,
        Nesterov on a dense buffer), while dense + sparse works (a sparse gradient added to
        a dense buffer). Only the stored rows of the gradient and buffer are touched.
        """
        grad = -param.grad if hyper["maximize"] else param.grad
        buffer = self.state[param].get("momentum_buffer") if hyper["momentum"] != 0 else None
        if (hyper["weight_decay"] != 0 or not grad.is_sparse
                or (hyper["nesterov"] and buffer is not None and not buffer.is_sparse)):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        if buffer is not None and not buffer.is_sparse:  # dense + sparse stays dense
            sgd_update(updated_array(param), grad.to_dense()._array,
                       updated_array(buffer), first_step=False, **{**hyper, "maximize": False})
            return
        if hyper["momentum"] != 0:
            if buffer is None:  # a copy: the buffer must never alias the gradient
                buffer = grad.clone().coalesce()
            else:  # v = μ·v + (1 − τ)·d, then coalesced (see the class notes)
                buffer = (buffer * hyper["momentum"]
                          + grad * (1 - hyper["dampening"])).coalesce()
            self.state[param]["momentum_buffer"] = buffer
            grad = grad + buffer * hyper["momentum"] if hyper["nesterov"] else buffer
        # θ = θ − γ·d on the stored rows; repeated rows all count, as in torch's sparse add.
        scatter_add(updated_array(param), tuple(grad._indices_array),
                    grad._values_array * -hyper["lr"])


def sgd_update(param, grad, momentum_buffer, **hyper) -> None:
    """One SGD step for one parameter, in place: :func:`sgd_kernel` over cache-sized blocks."""
    run_blocked(sgd_kernel, (param, grad, momentum_buffer), **hyper)


def sgd_kernel(param, grad, momentum_buffer, *, lr: float, momentum: float, dampening: float,
               weight_decay: float, nesterov: bool, maximize: bool, first_step: bool) -> None:
    """One SGD step for one parameter (or one block of it), on numpy or cupy arrays, in place.

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient; only read.
        momentum_buffer: the velocity, same shape and dtype as ``param``, updated in place;
            None when ``momentum`` is 0.
        lr, momentum, dampening, weight_decay: Python floats (a NumPy float64 scalar would
            promote float32 arithmetic to float64).
        nesterov, maximize: as in :class:`SGD`.
        first_step: True when ``momentum_buffer`` was just created: it then receives a copy
            of the direction instead of being decayed.

    Temporaries: ``lr * d`` (numpy has no fused ``x += a * y``), plus one array for weight
    decay and/or maximize and one for dampening or Nesterov's look-ahead, all this thread's
    reused buffers (``_blocks.scratch``); torch's per-parameter
    loop allocates fresh ones.
    """
    xp = get_array_module(param)
    d = direction(xp, param, grad, weight_decay, maximize)  # ±g + λθ; grad is never written
    if momentum != 0:
        if first_step:
            momentum_buffer[...] = d  # v = d: no dampening and no μ·0 term
        else:
            momentum_buffer *= momentum  # v = μ·v + (1 − τ)·d, rounded as torch's mul_, add_
            if dampening == 0:
                momentum_buffer += d
            else:
                momentum_buffer += xp.multiply(d, 1 - dampening, out=scratch(param, 1))
        if nesterov:  # d + μ·v
            d = xp.add(d, xp.multiply(momentum_buffer, momentum, out=scratch(param, 1)),
                       out=scratch(param, 1))
        else:
            d = momentum_buffer
    param -= xp.multiply(d, lr, out=scratch(param, 2))  # θ = θ − γ·d


def _sparse_buffer(state: dict) -> bool:
    """Whether a parameter's momentum buffer is sparse (made by a sparse gradient)."""
    return getattr(state.get("momentum_buffer"), "is_sparse", False)
