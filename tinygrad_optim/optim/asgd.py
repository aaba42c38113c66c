"""ASGD: averaged stochastic gradient descent with a decaying step and an iterate average."""
from __future__ import annotations

import math
import warnings
from typing import Callable, Iterable

from ..backend import get_array_module
from ..creation import tensor, zeros_like
from ..dtypes import DEFAULT_FLOAT
from ..grad_mode import no_grad
from ..tensor import Tensor
from ._blocks import one_step, run_blocked, scratch
from .optimizer import Optimizer, each_on_its_device, updated_array

__all__ = ["ASGD", "asgd_kernel", "asgd_update"]


class ASGD(Optimizer):
    r"""Averaged stochastic gradient descent (Polyak-Ruppert averaging, Bottou's schedule).

    For every parameter :math:`\theta` that has a gradient :math:`g`, with learning rate
    :math:`\gamma`, decay :math:`\lambda_d` (``lambd``), power :math:`\alpha`, averaging
    start :math:`t_0` and weight decay :math:`\lambda`, step :math:`t = 1, 2, \dots` is:

    .. math::

        \begin{aligned}
        & d \leftarrow -g \text{ if maximize, else } g
            && \text{(the direction to descend)} \\
        & d \leftarrow d + \lambda\,\theta
            && \text{(L2 penalty, from the undecayed } \theta) \\
        & \theta \leftarrow \theta\,(1 - \lambda_d\,\eta)
            && \text{(shrink towards 0 first ...)} \\
        & \theta \leftarrow \theta - \eta\, d
            && \text{(... then the gradient step)} \\
        & \bar\theta \leftarrow \theta \text{ if } \mu = 1, \text{ else }
            \bar\theta + \mu\,(\theta - \bar\theta)
            && \text{(running average of the iterates)} \\
        & \eta \leftarrow \gamma\,/\,(1 + \lambda_d\,\gamma\,t)^{\alpha}, \quad
          \mu \leftarrow 1\,/\,\max(1,\ t - t_0)
            && \text{(for the next step)}
        \end{aligned}

    :math:`\eta` starts at :math:`\gamma` and :math:`\mu` at 1. The state holds ``step``,
    ``eta``, ``mu`` (0-d float32 tensors) and the average :math:`\bar\theta` as ``ax``; use
    ``ax`` (not the parameter) as the answer once averaging has started.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of param-group dicts.
        lr (float or Tensor): learning rate :math:`\gamma` (default: 1e-2).
        lambd (float): decay :math:`\lambda_d` of both the parameter and the step size
            (default: 1e-4).
        alpha (float): power :math:`\alpha` of the step-size decay (default: 0.75).
        t0 (float): the step after which averaging starts (default: 1e6).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        maximize (bool): ascend the objective instead of descending it (default: False).
        foreach, differentiable, capturable: torch's implementation flags, checked as torch
            checks them; ``differentiable=True`` and ``capturable=True`` are not supported yet.

    Example:
        >>> import tinygrad_optim as tg
        >>> from tinygrad_optim.optim import ASGD
        >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ASGD([w], lr=0.1, t0=1)
        >>> for _ in range(6):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.2621, -0.5243], requires_grad=True)
        >>> opt.state[w]["ax"]  # averaged since step 4 (μ = 1/2, 1/3, 1/4)
        tensor([ 0.3778, -0.7557])

    Notes:
        Where torch departs from the paper, this follows torch: :math:`\eta` and :math:`\mu`
        are computed after the update, so step :math:`t` uses the values of step
        :math:`t-1`; they are computed in float64 from Python floats and stored as float32
        (torch's ``as_tensor`` of a Python float), so even a float64 parameter moves by the
        float32-rounded :math:`\eta`. With a Tensor ``lr`` the new :math:`\eta` is computed
        in that tensor's dtype, rounding after each operation, as torch's tensor arithmetic
        does. Because of the decay, a zero gradient still shrinks :math:`\theta`.

    Reference:
        Polyak and Juditsky, "Acceleration of stochastic approximation by averaging", SIAM J.
        Control and Optimization 30(4), 1992; the step-size schedule follows Bottou,
        "Stochastic gradient descent tricks", 2012.
    """

    _CAPTURABLE_TENSORS = "params, mus, etas, and state_steps"  # torch's message here

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:  # written as torch does: NaN is rejected too
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # state dicts from before these existed
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        self._numbers_to_tensors(("step", "eta", "mu"), on_param_device=True)

    @no_grad()
    @one_step()
    def step(self, closure: Callable | None = None):
        """Take one step for every parameter that has a gradient (see ``Optimizer.step``)."""
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            lr = group["lr"]
            for param in each_on_its_device(group["params"]):
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise RuntimeError("ASGD does not support sparse gradients")
                state = self.state[param]
                if not state:
                    # Scalars live beside the parameter (torch's devices), ax is θ-shaped.
                    state["step"] = tensor(0.0, dtype=DEFAULT_FLOAT, device=param.device)
                    state["eta"] = tensor(float(lr), dtype=DEFAULT_FLOAT, device=param.device)
                    state["mu"] = tensor(1.0, dtype=DEFAULT_FLOAT, device=param.device)
                    state["ax"] = zeros_like(param)
                step_count = updated_array(state["step"])
                step_count += 1
                asgd_update(updated_array(param), param.grad._array,
                            updated_array(state["ax"]), eta=float(state["eta"]),
                            mu=float(state["mu"]), lambd=float(group["lambd"]),
                            weight_decay=float(group["weight_decay"]),
                            maximize=bool(group["maximize"]))
                t = float(step_count)
                # Both are read by the NEXT step. Writing into the state tensor rounds to its
                # dtype (float32, or the parameter's after a load_state_dict).
                updated_array(state["eta"])[...] = next_eta(lr, group["lambd"],
                                                            group["alpha"], t)
                updated_array(state["mu"])[...] = _default_float(1 / max(1, t - group["t0"]))
        return loss


def next_eta(lr: float | Tensor, lambd: float, alpha: float, step: float) -> float:
    """The step size :math:`\\gamma / (1 + \\lambda_d \\gamma t)^\\alpha` as torch stores it.

    A float ``lr`` gives the float64 value rounded once to float32 (torch's ``as_tensor`` of
    a Python float). A Tensor ``lr`` makes torch compute in that tensor's dtype, rounding
    after every operation; the power is taken in float64 and rounded (ATen's scalar path).
    Emulating float32 operations in float64 is exact: float64 has more than twice float32's
    precision, so rounding twice gives the correctly rounded float32 result.
    """
    if isinstance(lr, Tensor):
        kind = lr.dtype.np.type

        def rnd(value: float) -> float:
            return float(kind(value))

        gamma = float(lr)
        power = rnd(rnd(rnd(rnd(lambd) * gamma) * rnd(step)) + 1) ** alpha
        # A negative base to a fractional power: NaN in C's pow, complex in Python's.
        return rnd(gamma / (math.nan if isinstance(power, complex) else rnd(power)))
    eta = lr / (1 + lambd * lr * step) ** alpha
    if isinstance(eta, complex):  # a negative base (lambd < 0 is not checked), as torch does
        warnings.warn("Casting complex values to real discards the imaginary part",
                      UserWarning, stacklevel=3)
        eta = eta.real
    return _default_float(eta)


def _default_float(value: float) -> float:
    """``value`` rounded to the default float dtype, as torch's ``as_tensor(value)`` does."""
    return float(DEFAULT_FLOAT.np.type(value))


def asgd_update(param, grad, ax, **hyper) -> None:
    """One ASGD step for one parameter, in place: :func:`asgd_kernel` over cache-sized blocks."""
    run_blocked(asgd_kernel, (param, grad, ax), **hyper)


def asgd_kernel(param, grad, ax, *, eta: float, mu: float, lambd: float, weight_decay: float,
                maximize: bool) -> None:
    """One ASGD step for one parameter (or one block of it), on numpy or cupy arrays, in place.

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient; only read.
        ax: the running average of ``param``, same shape and dtype, updated in place.
        eta, mu: the step size and averaging weight the previous step left in the state.
        lambd, weight_decay: Python floats (a NumPy float64 scalar would promote float32
            arithmetic to float64).
        maximize: as in :class:`ASGD`.

    Temporaries: none while ``mu == 1`` (``ax`` is about to become a copy of ``param``, so
    it holds ``η·d`` meanwhile); one array once averaging has started, a reused buffer
    (``_blocks.scratch``).
    """
    xp = get_array_module(param)
    averaging = mu != 1
    temporary = scratch(param, 1) if averaging else ax
    # temporary = η·d, d = ±g + λθ from the θ before the decay. (−g)·η and g·(−η) are the
    # same bits, so maximize costs no extra pass.
    if weight_decay != 0:
        xp.multiply(param, weight_decay, out=temporary)
        (xp.subtract if maximize else xp.add)(temporary, grad, out=temporary)
        temporary *= eta
    else:
        xp.multiply(grad, -eta if maximize else eta, out=temporary)
    param *= 1 - lambd * eta  # decay first ...
    param -= temporary  # ... then the gradient step
    if averaging:
        xp.subtract(param, ax, out=temporary)  # ax += μ·(θ − ax), rounded as torch's sub, mul_
        temporary *= mu
        ax += temporary
    else:
        ax[...] = param
