"""RMSprop: steps divided by a running root mean square of recent gradients."""
from __future__ import annotations

from typing import Callable, Iterable

from .. import dtypes
from ..backend import get_array_module
from ..creation import tensor, zeros_like
from ..grad_mode import no_grad
from ..tensor import Tensor
from ._blocks import one_step, run_blocked, scratch
from ._kernels import direction, lerp
from .optimizer import Optimizer, each_on_its_device, updated_array

__all__ = ["RMSprop", "rmsprop_kernel", "rmsprop_update"]


class RMSprop(Optimizer):
    r"""RMSprop: divide each step by a moving root mean square of the gradient.

    For every parameter :math:`\theta` that has a gradient :math:`g`, with learning rate
    :math:`\gamma`, smoothing constant :math:`\alpha`, momentum :math:`\mu`, weight decay
    :math:`\lambda` and :math:`\epsilon`, one step is:

    .. math::

        \begin{aligned}
        & d \leftarrow -g \text{ if maximize, else } g
            && \text{(the direction to descend)} \\
        & d \leftarrow d + \lambda\,\theta
            && \text{(L2 penalty, folded into the gradient)} \\
        & v \leftarrow \alpha\, v + (1 - \alpha)\, d^2
            && \text{(mean square, elementwise)} \\
        & \textbf{if centered:} \\
        & \quad \bar g \leftarrow \alpha\, \bar g + (1 - \alpha)\, d
            && \text{(mean gradient)} \\
        & \quad r \leftarrow \sqrt{v - \bar g^2} + \epsilon
            && \text{(an estimate of the standard deviation)} \\
        & \textbf{else:} \quad r \leftarrow \sqrt{v} + \epsilon \\
        & \textbf{if } \mu > 0: \\
        & \quad b \leftarrow \mu\, b + d / r, \qquad \theta \leftarrow \theta - \gamma\, b \\
        & \textbf{else:} \quad \theta \leftarrow \theta - \gamma\, d / r
        \end{aligned}

    State, made at a parameter's first step: ``step`` (0-d float32, counted but never
    read), ``square_avg`` (:math:`v`), ``momentum_buffer`` (:math:`b`) only if the group's
    momentum is then positive, and ``grad_avg`` (:math:`\bar g`) only if it is centered;
    all start at zero. Which keys exist is fixed then: switching momentum or ``centered``
    on for a parameter that already has state raises ``KeyError``, as in torch.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of param-group dicts.
        lr (float or Tensor): learning rate :math:`\gamma` (default: 1e-2). A Tensor must
            hold one element; its value is read at every step.
        alpha (float): smoothing constant :math:`\alpha` (default: 0.99).
        eps (float): :math:`\epsilon`, added to the denominator for numerical stability
            (default: 1e-8).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        momentum (float): momentum factor :math:`\mu` (default: 0).
        centered (bool): normalise by the estimated variance instead of the mean square
            (default: False).
        maximize (bool): ascend the objective instead of descending it (default: False).
        capturable, foreach, differentiable: torch's implementation flags, checked as torch
            checks them; ``differentiable=True`` and ``capturable=True`` are not supported yet.

    Example:
        >>> import tinygrad_optim as tg
        >>> from tinygrad_optim.optim import RMSprop
        >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = RMSprop([w], lr=0.01)
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.7800, -1.7753], requires_grad=True)
        >>> sorted(opt.state[w])
        ['square_avg', 'step']

    Notes:
        Hyperparameters are Python floats, so a float32 parameter is updated in float32
        arithmetic, as in torch. :math:`\bar g` is updated with torch's two-formula
        ``lerp`` (:math:`\bar g + w (d - \bar g)` for :math:`w = 1 - \alpha < 0.5`, else
        :math:`d - (1 - w)(d - \bar g)`), so both round as torch's do. torch fuses some
        multiply-adds that numpy rounds twice, so results agree to about an ulp per step.
        Rounding can make :math:`v - \bar g^2` slightly negative, giving NaN, as in torch.

    Departures from the papers:
        Hinton's RMSprop divides by :math:`\sqrt{v}` and Graves's centered variant by
        :math:`\sqrt{v - \bar g^2 + \epsilon}`; torch (and this class) adds :math:`\epsilon`
        after the square root in both. There is no bias correction; the momentum buffer
        accumulates the normalised step :math:`d / r`, as in Graves's formulation.

    Reference:
        Tieleman and Hinton, "Neural Networks for Machine Learning", lecture 6.5, Coursera,
        2012; Graves, "Generating Sequences With Recurrent Neural Networks",
        arXiv:1308.0850, 2013 (centered, with momentum).
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        # torch's checks, in torch's order; `not 0.0 <= x` (not `x < 0`) also rejects NaN.
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:  # no upper bound, as in torch
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # state dicts from before these existed
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
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
            hyper = {"lr": float(group["lr"]), "alpha": float(group["alpha"]),
                     "eps": float(group["eps"]), "weight_decay": float(group["weight_decay"]),
                     "momentum": float(group["momentum"]), "maximize": bool(group["maximize"])}
            # Gather first, as torch does: a missing state key fails before any update.
            for param, state, arrays in self._init_group(group):
                state["step"].add_(1)
                rmsprop_update(updated_array(param), param.grad._array, *arrays, **hyper)
        return loss

    def _init_group(self, group: dict) -> list:
        """``(param, state, state arrays)`` for the group's parameters that have a gradient.

        State is created here for parameters that have none; the arrays are ``square_avg``,
        ``grad_avg`` (None unless centered) and ``momentum_buffer`` (None unless the
        momentum is positive), each marked as written.
        """
        work = []
        for param in each_on_its_device(group["params"]):
            if param.grad is None:
                continue
            if param.grad.is_sparse:
                raise RuntimeError("RMSprop does not support sparse gradients")
            state = self.state[param]
            if not state:
                state["step"] = tensor(0.0, dtype=dtypes.float32)
                state["square_avg"] = zeros_like(param)
                if group["momentum"] > 0:
                    state["momentum_buffer"] = zeros_like(param)
                if group["centered"]:
                    state["grad_avg"] = zeros_like(param)
            # The buffer first: with both switched on later, torch misses it first.
            buffer = (updated_array(state["momentum_buffer"]) if group["momentum"] > 0
                      else None)
            grad_avg = updated_array(state["grad_avg"]) if group["centered"] else None
            work.append((param, state, (updated_array(state["square_avg"]), grad_avg, buffer)))
        return work


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, **hyper) -> None:
    """One RMSprop step for one parameter, in place: :func:`rmsprop_kernel` over blocks."""
    run_blocked(rmsprop_kernel, (param, grad, square_avg, grad_avg, momentum_buffer), **hyper)


# inf and NaN arise silently, as in torch (numpy would warn; cupy never does).
def rmsprop_kernel(param, grad, square_avg, grad_avg, momentum_buffer, *, lr: float,
                   alpha: float, eps: float, weight_decay: float, momentum: float,
                   maximize: bool) -> None:
    """One RMSprop step for one parameter (or one block of it), on numpy or cupy arrays.

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient; only read.
        square_avg: the mean square :math:`v`, same shape and dtype as ``param``; in place.
        grad_avg: the mean gradient :math:`\\bar g` (centered), or None (not centered).
        momentum_buffer: the buffer :math:`b`, or None: no momentum, whatever ``momentum``.
        lr, alpha, eps, weight_decay, momentum: Python floats (a NumPy float64 scalar would
            promote float32 arithmetic to float64).
        maximize: as in :class:`RMSprop`.

    Temporaries: two arrays of the block's size (plus one for weight decay or maximize),
    this thread's reused buffers (``_blocks.scratch``), which stay
    in the CPU cache when :func:`rmsprop_update` runs the kernel over blocks.
    """
    xp = get_array_module(param)
    d = direction(xp, param, grad, weight_decay, maximize)  # ±g + λθ; grad is never written
    temporary = xp.multiply(d, 1 - alpha, out=scratch(param, 1))
    temporary *= d
    square_avg *= alpha
    square_avg += temporary  # v = α·v + ((1 − α)·d)·d, in torch's order (mul_, addcmul_)
    if grad_avg is not None:
        lerp(xp, grad_avg, d, 1 - alpha, temporary)  # ḡ = α·ḡ + (1 − α)·d
        denom = xp.multiply(grad_avg, grad_avg, out=temporary)
        xp.subtract(square_avg, denom, out=denom)
        xp.sqrt(denom, out=denom)  # √(v − ḡ²)
    else:
        denom = xp.sqrt(square_avg, out=temporary)  # √v
    denom += eps
    if momentum_buffer is not None:
        momentum_buffer *= momentum
        momentum_buffer += xp.divide(d, denom, out=denom)  # b = μ·b + d / r
        param -= xp.multiply(momentum_buffer, lr, out=denom)  # θ = θ − γ·b
    else:
        # θ = θ − (γ·d) / r: torch's addcdiv scales the numerator before dividing.
        update = xp.multiply(d, lr, out=scratch(param, 2) if d is grad else d)
        update /= denom
        param -= update
