"""Rprop: resilient backpropagation, a per-element step size driven by gradient signs only."""
from __future__ import annotations

from typing import Callable, Iterable

from .._numerics import sign
from ..backend import get_array_module
from ..creation import full_like, tensor, zeros_like
from ..dtypes import DEFAULT_FLOAT
from ..grad_mode import no_grad
from ..tensor import Tensor
from ._blocks import one_step, run_blocked, scratch
from .optimizer import Optimizer, each_on_its_device, updated_array

__all__ = ["Rprop", "rprop_kernel", "rprop_update"]


class Rprop(Optimizer):
    r"""Resilient backpropagation: move each element by its own step size, against the sign.

    For every parameter :math:`\theta` that has a gradient :math:`g`, with factors
    :math:`0 < \eta_- < 1 < \eta_+` (``etas``) and bounds :math:`\Gamma_{min}, \Gamma_{max}`
    (``step_sizes``), one step is, elementwise:

    .. math::

        \begin{aligned}
        & d \leftarrow -g \text{ if maximize, else } g \\
        & s \leftarrow \operatorname{sign}(d \cdot d_{prev})
            && \text{(+1: same sign as last time, -1: it flipped)} \\
        & \Delta \leftarrow \operatorname{clamp}(\Delta \cdot
            \{\eta_+ \text{ if } s > 0;\ \eta_- \text{ if } s < 0;\ 1 \text{ if } s = 0\},
            \ \Gamma_{min}, \Gamma_{max}) \\
        & d \leftarrow 0 \text{ where } s < 0
            && \text{(overshot a minimum: wait one step)} \\
        & \theta \leftarrow \theta - \Delta \cdot \operatorname{sign}(d) \\
        & d_{prev} \leftarrow d
        \end{aligned}

    The state holds ``step`` (a 0-d float32 counter), ``prev`` (:math:`d_{prev}`, zeros at
    first) and ``step_size`` (:math:`\Delta`), which starts at the group's ``lr``.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of param-group dicts.
        lr (float or Tensor): the initial step size :math:`\Delta_0` (default: 1e-2).
        etas (tuple[float, float]): :math:`(\eta_-, \eta_+)`, the factors that shrink and
            grow a step size (default: (0.5, 1.2)).
        step_sizes (tuple[float, float]): :math:`(\Gamma_{min}, \Gamma_{max})`, the bounds of
            a step size (default: (1e-6, 50)).
        maximize (bool): ascend the objective instead of descending it (default: False).
        capturable, foreach, differentiable: torch's implementation flags, checked as torch
            checks them; ``differentiable=True`` and ``capturable=True`` are not supported yet.

    Example:
        >>> import tinygrad_optim as tg
        >>> from tinygrad_optim.optim import Rprop
        >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Rprop([w], lr=0.1)
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> opt.state[w]["step_size"]
        tensor([0.1440, 0.1440])

    Notes:
        As in torch: ``lr`` is read once, when a parameter's state is created; changing it
        later (a scheduler) does not change the step sizes. :math:`\eta_\pm` are applied in
        the parameter's dtype, so a float32 step size grows by ``float32(1.2)``. A product
        :math:`d \cdot d_{prev}` that underflows to 0 counts as "no sign information"
        (factor 1). Unlike the paper's Rprop+ there is no weight backtracking: a flipped
        element just skips one step.

    Reference:
        Riedmiller and Braun, "A direct adaptive method for faster backpropagation learning:
        the RPROP algorithm", IEEE International Conference on Neural Networks, 1993.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:  # written as torch does: NaN is rejected too
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
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
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for param in each_on_its_device(group["params"]):
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise RuntimeError("Rprop does not support sparse gradients")
                state = self.state[param]
                if not state:
                    state["step"] = tensor(0.0, dtype=DEFAULT_FLOAT)  # a CPU counter
                    state["prev"] = zeros_like(param)
                    # The only time lr is read: later changes to it have no effect.
                    state["step_size"] = full_like(param, float(group["lr"]))
                updated_array(state["step"])[...] += 1
                rprop_update(updated_array(param), param.grad._array,
                             updated_array(state["prev"]), updated_array(state["step_size"]),
                             etaminus=float(etaminus), etaplus=float(etaplus),
                             step_size_min=float(step_size_min),
                             step_size_max=float(step_size_max),
                             maximize=bool(group["maximize"]))
        return loss


def rprop_update(param, grad, prev, step_size, **hyper) -> None:
    """One Rprop step for one parameter, in place: :func:`rprop_kernel` over cache-sized blocks."""
    run_blocked(rprop_kernel, (param, grad, prev, step_size), **hyper)


def rprop_kernel(param, grad, prev, step_size, *, etaminus: float, etaplus: float,
                 step_size_min: float, step_size_max: float, maximize: bool) -> None:
    """One Rprop step for one parameter (or one block of it), on numpy or cupy arrays, in place.

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient; only read.
        prev: the previous (sign-flip-zeroed) direction, updated in place.
        step_size: the per-element step sizes, updated in place.
        etaminus, etaplus, step_size_min, step_size_max: Python floats (a NumPy float64
            scalar would promote float32 arithmetic to float64).
        maximize: as in :class:`Rprop`.

    Temporaries: the masks of the three cases and of the flips, and ``sign(d)`` (a reused
    buffer, ``_blocks.scratch``); ``prev`` itself holds the
    factors until it receives the new direction.
    """
    xp = get_array_module(param)
    # factor = sign(d·prev), computed in the parameter's dtype as torch does (so a product
    # that underflows to 0 counts as 0); (−g)·prev is −(g·prev) exactly.
    prev *= grad
    sign(xp, prev, out=prev)  # torch's: NaN (an inf or NaN gradient) gives 0
    if maximize:
        xp.negative(prev, out=prev)
    factor = prev
    # Replaced in torch's order; the stored values are η± rounded to the dtype.
    xp.copyto(factor, etaplus, where=factor > 0)
    xp.copyto(factor, etaminus, where=factor < 0)
    xp.copyto(factor, 1.0, where=factor == 0)
    step_size *= factor
    xp.clip(step_size, step_size_min, step_size_max, out=step_size)
    flipped = factor == etaminus
    # prev = d, zeroed where the sign flipped: no move there now, factor 1 next time.
    if maximize:
        xp.negative(grad, out=prev)
    else:
        prev[...] = grad
    xp.copyto(prev, 0.0, where=flipped)
    update = sign(xp, prev, out=scratch(prev, 1))  # θ −= Δ·sign(d): exact products
    update *= step_size
    param -= update
