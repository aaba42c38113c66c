"""AdamW: Adam whose weight decay shrinks the parameter instead of entering the moments."""
from __future__ import annotations

from typing import Iterable

from ..tensor import Tensor
from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""Adam with decoupled weight decay: torch's ``AdamW``, a subclass of :class:`Adam`.

    For every parameter :math:`\theta` that has a gradient :math:`g`, with learning rate
    :math:`\gamma`, decay rates :math:`\beta_1, \beta_2`, :math:`\epsilon` and weight decay
    :math:`\lambda`, the :math:`t`-th step of that parameter is:

    .. math::

        \begin{aligned}
        & d \leftarrow -g \text{ if maximize, else } g \\
        & \theta \leftarrow (1 - \gamma\lambda)\,\theta
            && \text{(decay, kept out of } m \text{ and } v) \\
        & m \leftarrow \beta_1 m + (1 - \beta_1)\, d \\
        & v \leftarrow \beta_2\, v + (1 - \beta_2)\, d^2 \\
        & \hat v \leftarrow \max(\hat v, v) \text{ if amsgrad, else } v \\
        & \theta \leftarrow \theta - \frac{\gamma}{1 - \beta_1^t} \cdot
            \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}
        \end{aligned}

    This is ``Adam(..., decoupled_weight_decay=True)`` with a default :math:`\lambda` of
    0.01; the flag is always True here, also after ``load_state_dict`` (torch forces it so
    that state saved by an older AdamW keeps its meaning). State and state_dict are Adam's.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of param-group dicts.
        lr (float or Tensor): learning rate :math:`\gamma` (default: 1e-3).
        betas (tuple[float, float] or tuple[Tensor, Tensor]): :math:`(\beta_1, \beta_2)`
            (default: (0.9, 0.999)).
        eps (float): added to the denominator for numerical stability (default: 1e-8).
        weight_decay (float): decoupled decay :math:`\lambda` (default: 1e-2).
        amsgrad (bool): normalise by the largest second moment so far (default: False).
        maximize (bool): ascend the objective instead of descending it (default: False).
        foreach, capturable, differentiable, fused: torch's implementation flags, checked as
            torch checks them; ``fused=True``, ``differentiable=True`` and
            ``capturable=True`` are not supported yet.

    Example:
        >>> import tinygrad_optim as tg
        >>> from tinygrad_optim.optim import AdamW
        >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> w.grad = tg.zeros(2)  # no gradient signal: only the decay acts
        >>> opt.step()
        >>> w
        tensor([ 0.9500, -1.9000], requires_grad=True)

    Notes:
        The paper multiplies :math:`\lambda` by the schedule multiplier :math:`\eta_t`
        only; torch (and this class) multiply it by the learning rate :math:`\gamma`, so
        the effective decay follows any lr schedule. See :class:`Adam` for the numerics.

    Reference:
        Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-3,
                 betas: tuple = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
