"""Adamax: Adam with the second moment replaced by an exponentially weighted infinity norm."""
from __future__ import annotations

from typing import Callable, Iterable

from ..backend import get_array_module
from ..creation import tensor, zeros_like
from ..grad_mode import no_grad
from ..tensor import Tensor
from ._blocks import one_step, run_blocked, scratch
from ._kernels import direction, lerp
from .adam import check_adam_hyperparameters, divide, power, to_scalar
from .optimizer import Optimizer, each_on_its_device, updated_array

__all__ = ["Adamax", "adamax_kernel", "adamax_update"]


class Adamax(Optimizer):
    r"""Adamax: Adam's first moment, divided by a decaying maximum of the gradient's size.

    For every parameter :math:`\theta` that has a gradient :math:`g`, with learning rate
    :math:`\gamma`, decay rates :math:`\beta_1, \beta_2`, :math:`\epsilon` and weight decay
    :math:`\lambda`, the :math:`t`-th step of that parameter is:

    .. math::

        \begin{aligned}
        & d \leftarrow -g \text{ if maximize, else } g \\
        & d \leftarrow d + \lambda\,\theta && \text{(L2 penalty, folded into the gradient)} \\
        & m \leftarrow \operatorname{lerp}(m, d, 1 - \beta_1)
            = \beta_1 m + (1 - \beta_1)\, d && \text{(first moment)} \\
        & u \leftarrow \max(\beta_2\, u,\; |d| + \epsilon) && \text{(infinity norm)} \\
        & \theta \leftarrow \theta - \frac{\gamma}{1 - \beta_1^t} \cdot \frac{m}{u}
        \end{aligned}

    The state of a parameter, made at its first step: ``step`` (:math:`t`, a 0-d float32
    tensor on the CPU), ``exp_avg`` (:math:`m`) and ``exp_inf`` (:math:`u`), starting at 0.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of param-group dicts.
        lr (float or Tensor): learning rate :math:`\gamma` (default: 2e-3). A Tensor must
            hold one element.
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)`, each in [0, 1)
            (default: (0.9, 0.999)).
        eps (float): keeps :math:`u` away from 0 (default: 1e-8).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        maximize (bool): ascend the objective instead of descending it (default: False).
        foreach, differentiable, capturable: torch's implementation flags, checked as torch
            checks them; ``differentiable=True`` and ``capturable=True`` are not supported yet.

    Example:
        >>> import tinygrad_optim as tg
        >>> from tinygrad_optim.optim import Adamax
        >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adamax([w], lr=0.1)
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.7155, -1.7076], requires_grad=True)

    Notes:
        The paper's AdaMax has no :math:`\epsilon`; torch adds it inside the maximum, so
        the first step gives :math:`u = |d| + \epsilon` and :math:`u` is never 0. As in the
        paper there is no bias correction on :math:`u` (its maximum needs none); the L2
        weight decay is torch's addition. The first moment uses torch's
        two-branch ``lerp``; a Tensor ``lr`` or ``betas`` makes the scalar arithmetic 0-d
        tensor arithmetic in its dtype, as in torch (see :class:`~.adam.Adam`).

    Reference:
        Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, section 7.1.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 2e-3,
                 betas: tuple = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        check_adam_hyperparameters(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
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
            beta1, beta2 = group["betas"]
            for param in each_on_its_device(group["params"]):
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise RuntimeError("Adamax does not support sparse gradients")
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = tensor(0.0)  # float32 on the CPU, whatever the param
                    state["exp_avg"] = zeros_like(param)
                    state["exp_inf"] = zeros_like(param)
                step = updated_array(state["step"])
                step += 1
                adamax_update(updated_array(param), param.grad._array,
                              updated_array(state["exp_avg"]), updated_array(state["exp_inf"]),
                              step=float(step), lr=group["lr"], beta1=beta1, beta2=beta2,
                              eps=group["eps"], weight_decay=group["weight_decay"],
                              maximize=group["maximize"])
        return loss


def adamax_update(param, grad, exp_avg, exp_inf, *, step: float, lr, beta1, beta2, eps: float,
                  weight_decay: float, maximize: bool) -> None:
    """One Adamax step for one parameter, in place: the scalars, then :func:`adamax_kernel`
    over cache-sized blocks.

    The scalar expressions are torch's single-tensor path, one for one: Python floats for
    float hyperparameters, 0-d tensor arithmetic (rounded to its dtype) for Tensor ones.

    Args:
        param, grad, exp_avg, exp_inf: arrays of one shape and dtype; ``grad`` is only read,
            the others are updated in place.
        step: :math:`t`, this parameter's step count including this step.
        lr, beta1, beta2: floats or 1-element Tensors.
        eps, weight_decay, maximize: as in :class:`Adamax`.
    """
    lr, beta1 = to_scalar(lr), to_scalar(beta1)
    run_blocked(adamax_kernel, (param, grad, exp_avg, exp_inf),
                one_minus_beta1=float(1 - beta1), beta2=float(beta2), eps=float(eps),
                weight_decay=float(weight_decay), clr=float(divide(lr, 1 - power(beta1, step))),
                maximize=bool(maximize))


def adamax_kernel(param, grad, exp_avg, exp_inf, *, one_minus_beta1: float, beta2: float,
                  eps: float, weight_decay: float, clr: float, maximize: bool) -> None:
    """One Adamax step for one parameter (or one block of it), on numpy or cupy arrays, in place.

    Args:
        param, grad, exp_avg, exp_inf: as in :func:`adamax_update`.
        one_minus_beta1, beta2, eps, weight_decay: Python floats (a NumPy float64 scalar
            would promote float32 arithmetic to float64).
        clr: the bias-corrected learning rate γ / (1 − β1^t).
        maximize: ascend instead of descend.

    Temporaries: one scratch array of the block's size, plus the direction when it is not
    the gradient itself: this thread's reused buffers
    (``_blocks.scratch``).
    """
    xp = get_array_module(param)
    d = direction(xp, param, grad, weight_decay, maximize)  # d = ±g + λθ
    temporary = scratch(param, 1)
    lerp(xp, exp_avg, d, one_minus_beta1, temporary)  # m = lerp(m, d, 1 − β1)
    exp_inf *= beta2  # u = max(β2·u, |d| + ε)
    norm = xp.abs(d, out=temporary)
    norm += eps
    xp.maximum(exp_inf, norm, out=exp_inf)
    # θ = θ + (−clr·m) / u: torch's addcdiv_ order, which gives its exact bits.
    update = xp.multiply(exp_avg, -clr, out=temporary)
    update /= exp_inf
    param += update
