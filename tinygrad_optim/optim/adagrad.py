"""Adagrad: per-coordinate step sizes scaled down by the running sum of squared gradients."""
from __future__ import annotations

from typing import Callable, Iterable

from .. import dtypes
from ..backend import get_array_module
from ..creation import full_like, tensor
from ..grad_mode import no_grad
from ..tensor import Tensor
from ._blocks import one_step, run_blocked, scratch
from ._kernels import direction
from .optimizer import Optimizer, each_on_its_device, updated_array

__all__ = ["Adagrad", "adagrad_kernel", "adagrad_sparse_kernel", "adagrad_update"]


class Adagrad(Optimizer):
    r"""Adagrad: each coordinate's step shrinks with the squared gradients it has seen so far.

    For every parameter :math:`\theta` that has a gradient :math:`g`, with learning rate
    :math:`\gamma`, learning-rate decay :math:`\eta`, weight decay :math:`\lambda` and
    :math:`\epsilon`, step :math:`t` (counted from 1) is:

    .. math::

        \begin{aligned}
        & d \leftarrow -g \text{ if maximize, else } g
            && \text{(the direction to descend)} \\
        & d \leftarrow d + \lambda\,\theta
            && \text{(L2 penalty, folded into the gradient)} \\
        & \tilde\gamma \leftarrow \gamma \,/\, \bigl(1 + (t - 1)\,\eta\bigr)
            && \text{(decayed learning rate; } \tilde\gamma = \gamma \text{ at } t = 1) \\
        & s \leftarrow s + d^2 && \text{(sum of squares, elementwise)} \\
        & \theta \leftarrow \theta - \tilde\gamma\, d \,/\, \bigl(\sqrt{s} + \epsilon\bigr)
        \end{aligned}

    The sum :math:`s` (state ``sum``) starts at ``initial_accumulator_value`` and the counter
    :math:`t` is state ``step``, a 0-d float32 tensor. Unlike every other optimizer here, and
    as in torch, that state is made in the constructor, for every parameter, with the
    *constructor's* ``initial_accumulator_value`` even where a group sets its own; a group
    added later with :meth:`~tinygrad_optim.optim.Optimizer.add_param_group` gets its state
    at its first step, from ``defaults['initial_accumulator_value']``.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of param-group dicts.
        lr (float or Tensor): learning rate :math:`\gamma` (default: 1e-2). A Tensor must
            hold one element; its value is read at every step.
        lr_decay (float): learning-rate decay :math:`\eta` (default: 0).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        initial_accumulator_value (float): the starting value of :math:`s` (default: 0).
        eps (float): :math:`\epsilon`, added to the denominator for numerical stability
            (default: 1e-10).
        maximize (bool): ascend the objective instead of descending it (default: False).
        foreach, differentiable, fused: torch's implementation flags, checked as torch
            checks them; ``fused=True`` and ``differentiable=True`` are not supported yet.

    Example:
        >>> import tinygrad_optim as tg
        >>> from tinygrad_optim.optim import Adagrad
        >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adagrad([w], lr=0.5)
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.1564, -0.9836], requires_grad=True)
        >>> opt.state[w]["sum"]
        tensor([ 5.3056, 30.7600])

    Notes:
        Hyperparameters are Python floats, so a float32 parameter is updated in float32
        arithmetic, as in torch; a Tensor ``lr`` makes :math:`\tilde\gamma` a division in the
        tensor's dtype (float32), as torch's tensor arithmetic does. Operations follow
        torch's order; torch's CPU kernels fuse :math:`s + d \cdot d` into one multiply-add
        where numpy rounds :math:`d^2` first, so results agree to about an ulp per step.

    Departures from the paper:
        The step :math:`d / (\sqrt{s} + \epsilon)` is the paper's diagonal AdaGrad (their
        :math:`H = \delta I + \mathrm{diag}(\sqrt{s})`, :math:`\delta` being
        :math:`\epsilon`); torch (and this class) adds the learning-rate decay :math:`\eta`,
        the starting value of :math:`s` and the L2 penalty, none of which the paper has.

    Reference:
        Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning and
        Stochastic Optimization", JMLR 12, 2011.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        # torch's checks, in torch's order; `not 0.0 <= x` (not `x < 0`) also rejects NaN.
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:  # the constructor's value, not the group's (torch)
                self.state[param].update(_new_state(param, initial_accumulator_value))

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # state dicts from before these existed
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        self._numbers_to_tensors()

    @no_grad()
    @one_step()
    def step(self, closure: Callable | None = None):
        """Take one step for every parameter that has a gradient (see ``Optimizer.step``)."""
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            hyper = {"weight_decay": float(group["weight_decay"]), "eps": float(group["eps"]),
                     "maximize": bool(group["maximize"])}
            for param in each_on_its_device(group["params"]):
                if param.grad is None:
                    continue
                state = self.state[param]
                if not state:  # a parameter of a group added after construction
                    state.update(_new_state(param, self.defaults["initial_accumulator_value"]))
                state["step"].add_(1)
                if param.grad.is_sparse and hyper["weight_decay"] != 0:
                    raise RuntimeError("weight_decay option is not compatible with sparse "
                                       "gradients")
                clr = _decayed_lr(group["lr"], group["lr_decay"], state["step"].item())
                if param.grad.is_sparse:
                    grad = param.grad.coalesce()  # the update is non-linear: sum repeats first
                    adagrad_sparse_kernel(updated_array(param), grad._indices_array,
                                          grad._values_array, updated_array(state["sum"]),
                                          clr=clr, eps=hyper["eps"], maximize=hyper["maximize"])
                    continue
                adagrad_update(updated_array(param), param.grad._array,
                               updated_array(state["sum"]), clr=clr, **hyper)
        return loss


def _new_state(param: Tensor, initial_accumulator_value: float) -> dict:
    """A parameter's fresh state: ``step`` 0 (0-d float32, on the CPU) and ``sum``."""
    return {"step": tensor(0.0, dtype=dtypes.float32),
            "sum": full_like(param, initial_accumulator_value)}


def _decayed_lr(lr: float | Tensor, lr_decay: float, step: float) -> float:
    """:math:`\\gamma / (1 + (t - 1)\\eta)` as torch computes it, as a Python float.

    A float ``lr`` gives float64 Python arithmetic. torch divides a Tensor ``lr`` as tensor
    arithmetic, in the tensor's dtype (float32 division: ``float32(lr) / float32(1.3)``
    rounds differently from the float64 quotient); this library's tensor division does the
    same, so one expression covers both.
    """
    return float(lr / (1 + (step - 1) * lr_decay))


def adagrad_update(param, grad, state_sum, **hyper) -> None:
    """One Adagrad step for one parameter, in place: :func:`adagrad_kernel` over blocks."""
    run_blocked(adagrad_kernel, (param, grad, state_sum), **hyper)


# inf and NaN arise silently, as in torch (numpy would warn; cupy never does).
def adagrad_kernel(param, grad, state_sum, *, clr: float, weight_decay: float, eps: float,
                   maximize: bool) -> None:
    """One Adagrad step for one parameter (or one block of it), on numpy or cupy arrays.

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient; only read.
        state_sum: the running sum of squared directions, same shape and dtype as
            ``param``, updated in place.
        clr: this step's decayed learning rate :math:`\\tilde\\gamma`, a Python float.
        weight_decay, eps: Python floats (a NumPy float64 scalar would promote float32
            arithmetic to float64).
        maximize: as in :class:`Adagrad`.

    Temporaries: two arrays of the block's size (plus one for weight decay or maximize),
    this thread's reused buffers (``_blocks.scratch``), which stay
    in the CPU cache when :func:`adagrad_update` runs the kernel over blocks.
    """
    xp = get_array_module(param)
    # d = ±g + λθ. torch negates g, then adds λθ; x − g is exactly x + (−g), so λθ is made
    # first and g subtracted from or added to it in place. (out= keeps a 0-d parameter's
    # temporaries arrays: plain ufuncs return scalars.)
    d = direction(xp, param, grad, weight_decay, maximize)  # ±g + λθ; grad is never written
    temporary = xp.multiply(d, d, out=scratch(param, 1))
    state_sum += temporary  # s = s + d²
    std = xp.sqrt(state_sum, out=temporary)
    std += eps  # √s + ε
    # θ = θ + (−γ̃·d) / (√s + ε): torch's addcdiv scales the numerator before dividing.
    update = xp.multiply(d, -clr, out=scratch(param, 2) if d is grad else d)
    update /= std
    param += update


def adagrad_sparse_kernel(param, indices, values, state_sum, *, clr: float, eps: float,
                          maximize: bool) -> None:
    """One Adagrad step for one parameter with a sparse gradient, on its rows only.

    torch's sparse branch: the rows in ``indices`` take the dense update, the others keep
    their parameter and sum (the dense formula would leave them alike, bar 0/0).

    Args:
        param, state_sum: dense arrays of one shape and dtype, updated in place at the rows
            in ``indices`` only.
        indices: integer array of shape ``(sparse_dim, nnz)``, no index repeated (a
            coalesced gradient's): with repeats, the fancy-index writes would keep one.
        values: the gradient there, shape ``(nnz, *param.shape[sparse_dim:])``; only read.
        clr, eps, maximize: as in :func:`adagrad_kernel` (weight decay is refused earlier).

    Temporaries: three arrays of the gradient's size, none of the table's.
    """
    xp = get_array_module(param)
    rows = tuple(indices)  # one index array per sparse dimension
    grad = -values if maximize else values
    total = state_sum[rows]
    total += xp.multiply(grad, grad)  # s = s + d²
    state_sum[rows] = total
    std = xp.sqrt(total, out=total)
    std += eps  # √s + ε, from the new s
    # θ = θ + (−γ̃)·(d / (√s + ε)): torch divides first here, unlike its dense addcdiv.
    update = xp.divide(grad, std)
    update *= -clr
    param[rows] += update
