"""Adadelta: steps sized by the ratio of recent update and gradient magnitudes."""
from __future__ import annotations

from typing import Callable, Iterable

from .. import dtypes
from ..backend import get_array_module
from ..creation import tensor, zeros_like
from ..grad_mode import no_grad
from ..tensor import Tensor
from ._blocks import one_step, run_blocked, scratch
from ._kernels import direction
from .optimizer import Optimizer, each_on_its_device, updated_array

__all__ = ["Adadelta", "adadelta_kernel", "adadelta_update"]


class Adadelta(Optimizer):
    r"""Adadelta: scale each step by RMS(past updates) / RMS(past gradients), per coordinate.

    For every parameter :math:`\theta` that has a gradient :math:`g`, with learning rate
    :math:`\gamma`, decay :math:`\rho`, weight decay :math:`\lambda` and :math:`\epsilon`,
    one step is:

    .. math::

        \begin{aligned}
        & d \leftarrow -g \text{ if maximize, else } g
            && \text{(the direction to descend)} \\
        & d \leftarrow d + \lambda\,\theta
            && \text{(L2 penalty, folded into the gradient)} \\
        & v \leftarrow \rho\, v + (1 - \rho)\, d^2
            && \text{(mean square of gradients)} \\
        & \Delta \leftarrow \sqrt{u + \epsilon} \,/\, \sqrt{v + \epsilon} \cdot d
            && (u \text{ from the previous step}) \\
        & u \leftarrow \rho\, u + (1 - \rho)\, \Delta^2
            && \text{(mean square of updates)} \\
        & \theta \leftarrow \theta - \gamma\, \Delta
        \end{aligned}

    State, made at a parameter's first step: ``step`` (0-d float32, counted but never
    read), ``square_avg`` (:math:`v`) and ``acc_delta`` (:math:`u`), both starting at zero.
    The first step is therefore tiny: :math:`\Delta = \sqrt{\epsilon} \,/\,
    \sqrt{(1 - \rho)\, d^2 + \epsilon} \cdot d`; the steps grow as :math:`u` does.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of param-group dicts.
        lr (float or Tensor): learning rate :math:`\gamma`, a factor on :math:`\Delta`
            (default: 1.0). A Tensor must hold one element; its value is read at every step.
        rho (float): decay :math:`\rho` of both running averages, in [0, 1] (default: 0.9).
        eps (float): :math:`\epsilon`, added inside both square roots (default: 1e-6).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        maximize (bool): ascend the objective instead of descending it (default: False).
        foreach, capturable, differentiable: torch's implementation flags, checked as torch
            checks them; ``differentiable=True`` and ``capturable=True`` are not supported yet.

    Example:
        >>> import tinygrad_optim as tg
        >>> from tinygrad_optim.optim import Adadelta
        >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adadelta([w])
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.9903, -1.9903], requires_grad=True)
        >>> opt.state[w]["acc_delta"]
        tensor([2.8364e-06, 2.8416e-06])

    Notes:
        Hyperparameters are Python floats, so a float32 parameter is updated in float32
        arithmetic, as in torch. Operations follow torch's order; torch's CPU kernels fuse
        some multiply-adds that numpy rounds twice, so results agree to about an ulp per
        step. With :math:`\rho = 1` both averages stay 0 and :math:`\Delta = d`: plain
        gradient descent with step :math:`\gamma`.

    Departures from the paper:
        Zeiler's update is :math:`-\Delta` itself, with no learning rate; torch (and this
        class) multiplies it by :math:`\gamma` (1 by default, which is the paper's rule)
        and adds the L2 penalty.

    Reference:
        Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012.
    """

    _CAPTURABLE_DEVICES = "['cuda', 'xpu', 'hpu', 'privateuseone']"  # torch's list here

    def __init__(self, params: Iterable, lr: float | Tensor = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        # torch's checks, in torch's order; `not 0.0 <= x` (not `x < 0`) also rejects NaN.
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # state dicts from before these existed
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        self._numbers_to_tensors()

    @no_grad()
    @one_step()
    def step(self, closure: Callable | None = None):
        """Take one step for every parameter that has a gradient (see ``Optimizer.step``)."""
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            hyper = {"lr": float(group["lr"]), "rho": float(group["rho"]),
                     "eps": float(group["eps"]), "weight_decay": float(group["weight_decay"]),
                     "maximize": bool(group["maximize"])}
            for param in each_on_its_device(group["params"]):
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise RuntimeError("Adadelta does not support sparse gradients")
                state = self.state[param]
                if not state:
                    state["step"] = tensor(0.0, dtype=dtypes.float32)
                    state["square_avg"] = zeros_like(param)
                    state["acc_delta"] = zeros_like(param)
                state["step"].add_(1)
                adadelta_update(updated_array(param), param.grad._array,
                                updated_array(state["square_avg"]),
                                updated_array(state["acc_delta"]), **hyper)
        return loss


def adadelta_update(param, grad, square_avg, acc_delta, **hyper) -> None:
    """One Adadelta step for one parameter, in place: :func:`adadelta_kernel` over blocks."""
    run_blocked(adadelta_kernel, (param, grad, square_avg, acc_delta), **hyper)


# inf and NaN arise silently, as in torch (numpy would warn; cupy never does).
def adadelta_kernel(param, grad, square_avg, acc_delta, *, lr: float, rho: float, eps: float,
                    weight_decay: float, maximize: bool) -> None:
    """One Adadelta step for one parameter (or one block of it), on numpy or cupy arrays.

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient; only read.
        square_avg: the mean square of gradients :math:`v`, same shape and dtype as
            ``param``, updated in place.
        acc_delta: the mean square of updates :math:`u`, likewise.
        lr, rho, eps, weight_decay: Python floats (a NumPy float64 scalar would promote
            float32 arithmetic to float64).
        maximize: as in :class:`Adadelta`.

    Temporaries: two arrays of the block's size (plus one for weight decay or maximize),
    this thread's reused buffers (``_blocks.scratch``), which stay
    in the CPU cache when :func:`adadelta_update` runs the kernel over blocks.
    """
    xp = get_array_module(param)
    d = direction(xp, param, grad, weight_decay, maximize)  # ±g + λθ; grad is never written
    temporary = xp.multiply(d, 1 - rho, out=scratch(param, 1))
    temporary *= d
    square_avg *= rho
    square_avg += temporary  # v = ρ·v + ((1 − ρ)·d)·d, in torch's order (mul_, addcmul_)
    std = xp.add(square_avg, eps, out=temporary)
    xp.sqrt(std, out=std)  # √(v + ε)
    delta = xp.add(acc_delta, eps, out=scratch(param, 2))  # u before this step's update
    xp.sqrt(delta, out=delta)
    delta /= std
    delta *= d  # Δ = √(u + ε) / √(v + ε) · d
    square = xp.multiply(delta, 1 - rho, out=temporary)
    square *= delta
    acc_delta *= rho
    acc_delta += square  # u = ρ·u + ((1 − ρ)·Δ)·Δ
    param -= xp.multiply(delta, lr, out=temporary)  # θ = θ − γ·Δ
