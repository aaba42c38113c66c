"""Adam: adaptive moment estimation, with AMSGrad and decoupled (AdamW) weight decay."""
from __future__ import annotations

import math
from typing import Callable, Iterable

from .. import dtypes
from ..backend import get_array_module
from ..creation import tensor, zeros_like
from ..grad_mode import no_grad
from ..tensor import Tensor
from ._blocks import one_step, run_blocked, scratch
from ._kernels import direction, lerp
from .optimizer import Optimizer, each_on_its_device, updated_array

__all__ = ["Adam", "adam_kernel", "adam_scalars", "adam_update"]


class Adam(Optimizer):
    r"""Adam: steps scaled by running estimates of the gradient's first and second moments.

    For every parameter :math:`\theta` that has a gradient :math:`g`, with learning rate
    :math:`\gamma`, decay rates :math:`\beta_1, \beta_2`, :math:`\epsilon` and weight decay
    :math:`\lambda`, the :math:`t`-th step of that parameter is:

    .. math::

        \begin{aligned}
        & d \leftarrow -g \text{ if maximize, else } g \\
        & \textbf{if } \lambda \neq 0: \\
        & \quad \theta \leftarrow (1 - \gamma\lambda)\,\theta \text{ if decoupled, else }
            d \leftarrow d + \lambda\,\theta \\
        & m \leftarrow \operatorname{lerp}(m, d, 1 - \beta_1)
            = \beta_1 m + (1 - \beta_1)\, d && \text{(first moment)} \\
        & v \leftarrow \beta_2\, v + (1 - \beta_2)\, d^2 && \text{(second moment)} \\
        & \hat v \leftarrow \max(\hat v, v) \text{ if amsgrad, else } v \\
        & \theta \leftarrow \theta - \frac{\gamma}{1 - \beta_1^t} \cdot
            \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}
        \end{aligned}

    The state of a parameter, made at its first step: ``step`` (:math:`t`, a 0-d float32
    tensor on the CPU), ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`) and, when
    amsgrad is on at that moment, ``max_exp_avg_sq`` (:math:`\hat v`), all starting at 0.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of param-group dicts.
        lr (float or Tensor): learning rate :math:`\gamma` (default: 1e-3). A Tensor must
            hold one element.
        betas (tuple[float, float] or tuple[Tensor, Tensor]): :math:`(\beta_1, \beta_2)`, each in
            [0, 1) (default: (0.9, 0.999)).
        eps (float): added to the denominator for numerical stability (default: 1e-8).
        weight_decay (float): :math:`\lambda` (default: 0).
        amsgrad (bool): normalise by the largest second moment so far (default: False).
        maximize (bool): ascend the objective instead of descending it (default: False).
        foreach, capturable, differentiable, fused: torch's implementation flags, checked as
            torch checks them; ``fused=True``, ``differentiable=True`` and
            ``capturable=True`` are not supported yet.
        decoupled_weight_decay (bool): shrink the parameter directly, as AdamW does, instead
            of adding :math:`\lambda\theta` to the gradient (default: False).

    Example:
        >>> import tinygrad_optim as tg
        >>> from tinygrad_optim.optim import Adam
        >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.7016, -1.7006], requires_grad=True)

    Notes:
        The update is the paper's Algorithm 1, with :math:`\epsilon` added after the bias
        correction of :math:`\sqrt v` (not its faster variant, which corrects the step size
        instead). torch's departures: the L2 term and maximize are additions (with maximize
        the decay still pulls :math:`\theta` towards 0); AMSGrad takes the maximum of the raw
        :math:`v` and then corrects its bias, where Reddi et al. correct nothing; decoupled
        decay is scaled by :math:`\gamma` (see :class:`~.adamw.AdamW`). Each parameter
        counts its own steps: a step without a gradient is not counted. The first moment
        uses torch's two-branch ``lerp`` (:math:`m + w(d - m)` for :math:`w < 0.5`, else
        :math:`d - (1 - w)(d - m)`).
        Hyperparameters are Python floats; a Tensor ``lr`` or ``betas`` makes the scalar
        arithmetic (bias corrections, step size) 0-d tensor arithmetic in its dtype,
        rounded at every operation as in torch. One rounding is not reproduced: torch's
        float32 square root (its CPU kernel's) is not always correctly rounded, so with
        float32 Tensor betas :math:`\sqrt{1 - \beta_2^t}` may differ by an ulp on some steps.

    Reference:
        Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015; Reddi, Kale
        and Kumar, "On the Convergence of Adam and Beyond", ICLR 2018 (AMSGrad).
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-3,
                 betas: tuple = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and "
                                 "foreach=True")
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
        check_adam_hyperparameters(lr, betas, eps, weight_decay)
        # A Tensor beta with other than one element has already failed the range check
        # above (its truth value is ambiguous), so torch's later 1-element check never fires.
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        betas = tuple(to_scalar(beta) for beta in betas)
        for index, beta in enumerate(betas):
            if isinstance(beta, Tensor) and foreach and not capturable:
                raise ValueError(f"betas[{index}] as a Tensor is not supported for "
                                 "capturable=False and foreach=True")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # state dicts from before these flags existed
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
            group.setdefault("decoupled_weight_decay", False)
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
                    raise RuntimeError("Adam does not support sparse gradients, please "
                                       "consider SparseAdam instead")
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = tensor(0.0)  # float32 on the CPU, whatever the param
                    state["exp_avg"] = zeros_like(param)
                    state["exp_avg_sq"] = zeros_like(param)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = zeros_like(param)
                step = updated_array(state["step"])
                step += 1
                max_exp_avg_sq = (updated_array(state["max_exp_avg_sq"]) if group["amsgrad"]
                                  else None)
                adam_update(updated_array(param), param.grad._array,
                            updated_array(state["exp_avg"]), updated_array(state["exp_avg_sq"]),
                            max_exp_avg_sq, step=float(step), lr=group["lr"], beta1=beta1,
                            beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                            maximize=group["maximize"],
                            decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss


def check_adam_hyperparameters(lr, betas, eps, weight_decay) -> None:
    """torch's range checks of Adam and Adamax, in torch's order (NaN fails each of them)."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for index in (0, 1):
        if not 0.0 <= betas[index] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {betas[index]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def to_scalar(value):
    """A 1-element Tensor hyperparameter as a 0-d one (torch's ``_to_scalar``): as a 0-d
    tensor it takes part in type promotion the way a scalar does."""
    return value.reshape(()) if isinstance(value, Tensor) and value.ndim else value


def power(base, exponent: float):
    """``base ** exponent`` as torch computes it, for a step count or 1/2 as the exponent.

    A number gives Python's power. For a 0-d Tensor torch's CPU kernel multiplies out a
    cube (two roundings), takes the square root for 1/2, and otherwise rounds the float64
    ``pow`` to the tensor's dtype; numpy's float32 ``power`` is not always correctly rounded,
    and a bias correction one ulp off would shift every step.
    """
    if not isinstance(base, Tensor):
        return base ** exponent
    if exponent == 3:
        return base * base * base
    value = math.sqrt(float(base)) if exponent == 0.5 else float(base) ** exponent
    return tensor(value, dtype=base.dtype, device=base.device)


def divide(numerator, denominator):
    """``numerator / denominator`` as torch evaluates it: a number over a Tensor is
    ``denominator.reciprocal() * numerator`` there (``Tensor.__rtruediv__``), two roundings
    where a division would make one."""
    if isinstance(denominator, Tensor) and not isinstance(numerator, Tensor):
        return (1 / denominator) * numerator
    return numerator / denominator


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step: float, lr, beta1,
                beta2, eps: float, weight_decay: float, maximize: bool,
                decoupled_weight_decay: bool) -> None:
    """One Adam step for one parameter, in place: :func:`adam_scalars`, then
    :func:`adam_kernel` over cache-sized blocks.

    Args:
        param, grad, exp_avg, exp_avg_sq: arrays of one shape and dtype; ``grad`` is only
            read, the others are updated in place.
        max_exp_avg_sq: the AMSGrad maximum, updated in place; None without amsgrad.
        step: :math:`t`, this parameter's step count including this step.
        lr, beta1, beta2: floats or 1-element Tensors.
        eps, weight_decay, maximize, decoupled_weight_decay: as in :class:`Adam`.
    """
    scalars = adam_scalars(param.dtype, step, lr, beta1, beta2, weight_decay,
                           decoupled_weight_decay)
    run_blocked(adam_kernel, (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq),
                eps=float(eps), maximize=bool(maximize), **scalars)


def adam_scalars(dtype, step: float, lr, beta1, beta2, weight_decay: float,
                 decoupled_weight_decay: bool) -> dict:
    """The scalars of :func:`adam_kernel` as Python floats, by torch's expressions.

    These are torch's single-tensor path, one for one: Python float arithmetic for float
    hyperparameters, 0-d tensor arithmetic (rounded to the tensor's dtype at every
    operation) for Tensor ones. ``dtype`` is the parameter's numpy dtype: torch moves a
    Tensor ``beta1`` to it for the first moment's lerp (and only there).
    """
    lr, beta1, beta2 = to_scalar(lr), to_scalar(beta1), to_scalar(beta2)
    lerp_beta1 = (beta1.to(dtype=dtypes.from_numpy_dtype(dtype)) if isinstance(beta1, Tensor)
                  else beta1)
    decoupled = decoupled_weight_decay and weight_decay != 0
    return {"one_minus_beta1": float(1 - lerp_beta1), "beta2": float(beta2),
            "one_minus_beta2": float(1 - beta2),
            "weight_decay": 0.0 if decoupled else float(weight_decay),
            "decay": float(1 - lr * weight_decay) if decoupled else 1.0,
            "step_size": float(divide(lr, 1 - power(beta1, step))),
            "bias_correction2_sqrt": float(power(1 - power(beta2, step), 0.5))}


def adam_kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, one_minus_beta1: float,
                beta2: float, one_minus_beta2: float, eps: float, weight_decay: float,
                decay: float, step_size: float, bias_correction2_sqrt: float,
                maximize: bool) -> None:
    """One Adam step for one parameter (or one block of it), on numpy or cupy arrays, in place.

    Args:
        param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq: as in :func:`adam_update`.
        one_minus_beta1, beta2, one_minus_beta2, eps: Python floats (a NumPy float64 scalar
            would promote float32 arithmetic to float64).
        weight_decay: λ of the L2 penalty added to the direction (0 for decoupled decay).
        decay: 1 − γλ, the decoupled decay factor (1 for none).
        step_size: γ / (1 − β1^t).
        bias_correction2_sqrt: √(1 − β2^t).
        maximize: ascend instead of descend.

    Temporaries: two or three arrays of the block's size (the direction when it is not the
    gradient itself, one scratch array and the update), this thread's reused buffers
    (``_blocks.scratch``), where torch's loop makes full-size
    ones for the direction, the square root, the quotient and the denominator.
    """
    xp = get_array_module(param)
    d = direction(xp, param, grad, weight_decay, maximize)  # d = ±g + λθ
    if decay != 1.0:
        param *= decay  # θ = (1 − γλ)θ
    temporary = scratch(param, 1)
    lerp(xp, exp_avg, d, one_minus_beta1, temporary)  # m = lerp(m, d, 1 − β1)
    exp_avg_sq *= beta2  # v = β2·v + (1 − β2)·d², rounded as torch's mul_, addcmul_
    xp.multiply(d, one_minus_beta2, out=temporary)
    temporary *= d
    exp_avg_sq += temporary
    if max_exp_avg_sq is not None:  # v̂ = max(v̂, v), on the raw second moment
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    denom = xp.sqrt(exp_avg_sq if max_exp_avg_sq is None else max_exp_avg_sq, out=temporary)
    denom /= bias_correction2_sqrt  # denom = √v̂ / √(1 − β2^t) + ε
    denom += eps
    # θ = θ + (−step_size·m) / denom: torch's addcdiv_ order, which gives its exact bits.
    update = xp.multiply(exp_avg, -step_size, out=d if d is not grad else scratch(param, 2))
    update /= denom
    param += update
