"""L-BFGS: a limited-memory quasi-Newton method with an optional strong-Wolfe line search."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from ..backend import get_array_module, on_device_of
from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from ._line_search import dot, host, max_abs, strong_wolfe
from .optimizer import Optimizer, updated_array

__all__ = ["LBFGS", "two_loop"]


class LBFGS(Optimizer):
    r"""L-BFGS: Newton-like steps from an inverse Hessian estimated from recent gradients.

    The parameters form one flat vector :math:`x` with gradient :math:`g`; ``step(closure)``
    evaluates :math:`f, g` and runs up to ``max_iter`` iterations of:

    .. math::

        \begin{aligned}
        & \textbf{first iteration ever: } d \leftarrow -g,\ h \leftarrow 1,\
            t \leftarrow \min(1, 1/\lVert g\rVert_1)\,\gamma \\
        & \textbf{else: } y \leftarrow g - g_{prev},\ s \leftarrow t\,d;\
            \textbf{if } y^\top s > 10^{-10}: \text{keep } (y, s, \rho = 1/y^\top s)
            \text{ (the last } m\text{)},\ h \leftarrow y^\top s / y^\top y \\
        & \quad q \leftarrow -g;\ \textbf{for } i = k{-}1 \dots 0:\
            \alpha_i \leftarrow \rho_i s_i^\top q,\ q \leftarrow q - \alpha_i y_i \\
        & \quad d \leftarrow h\,q;\ \textbf{for } i = 0 \dots k{-}1:\
            d \leftarrow d + (\alpha_i - \rho_i y_i^\top d)\, s_i;\quad t \leftarrow \gamma \\
        & \textbf{stop if } g^\top d > -\text{tolerance\_change} \\
        & t, f, g \leftarrow \text{strong Wolfe search from } t \text{ (or keep } t
            \text{, re-evaluate } f, g \text{ at } x + t d);\quad x \leftarrow x + t\,d \\
        & \textbf{stop on } \text{max\_iter, max\_eval},\
            \lVert g\rVert_\infty \le \text{tolerance\_grad},\
            \lVert t d\rVert_\infty \text{ or } |f - f_{prev}| \text{ below tolerance\_change}
        \end{aligned}

    The search brackets a step with enough decrease (:math:`c_1 = 10^{-4}`) and a small
    enough slope (:math:`c_2 = 0.9`), extrapolating by cubic interpolation, then zooms in by
    cubic interpolation kept a tenth of the bracket from its ends. Use LBFGS for full-batch,
    smooth, deterministic objectives (curve fitting, logistic regression) whose closure can
    be re-evaluated many times per step; for noisy mini-batch losses use SGD or Adam.

    State, global and kept under the first parameter with torch's keys: ``func_evals``,
    ``n_iter`` (over all steps), ``d``, ``t``, ``old_dirs`` (:math:`y_i`), ``old_stps``
    (:math:`s_i`), ``ro``, ``H_diag`` (:math:`h`), ``prev_flat_grad``, ``prev_loss``, ``al``.

    Args:
        params: an iterable of Tensors or of ``(name, Tensor)`` pairs; exactly one group.
        lr (float or Tensor): the step length :math:`\gamma` (default: 1).
        max_iter (int): iterations per ``step()`` (default: 20).
        max_eval (int): closure calls per ``step()`` (default: ``max_iter * 5 // 4``).
        tolerance_grad (float): first-order optimality tolerance (default: 1e-7).
        tolerance_change (float): loss / step change tolerance (default: 1e-9).
        history_size (int): :math:`m`, the curvature pairs kept (default: 100).
        line_search_fn (str or None): ``'strong_wolfe'`` or None (default: None).

    Example:
        >>> import tinygrad_optim as tg
        >>> from tinygrad_optim.optim import LBFGS
        >>> x = tg.tensor([-1.2, 1.0], dtype=tg.float64, requires_grad=True)
        >>> opt = LBFGS([x], max_iter=100, line_search_fn="strong_wolfe",
        ...             tolerance_change=1e-12)
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
        ...     loss.backward()
        ...     return loss
        >>> loss = opt.step(closure)  # up to 100 iterations
        >>> [round(v, 6) for v in x.tolist()], opt.state[x]["func_evals"]
        ([1.0, 1.0], 44)

    Notes:
        Dot products and the scalars made from them are 0-d values in the parameters' dtype,
        as in torch, so float32 runs round like torch's. The line search branches on them on
        the host (on a GPU, a sync per trial: the documented exception to the no-sync rule);
        everything else runs in the parameters' array module. A Tensor ``lr`` is used by
        value. ``p.grad`` after a step is that of the last closure call, not of the final x.

    Reference:
        Nocedal and Wright, "Numerical Optimization" (2006), Algorithms 3.5, 3.6 and 7.4.
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                    "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                    "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    @property
    def _params(self) -> list:
        # A property, not an attribute: it stays right after load_state_dict and deepcopy.
        return self.param_groups[0]["params"]

    @no_grad()
    def step(self, closure: Callable):
        """Run up to ``max_iter`` L-BFGS iterations; return the closure's first loss.

        Args:
            closure: re-evaluates the model, back-propagates and returns the loss; it is
                called under ``enable_grad()``, several times per step.
        """
        if len(self.param_groups) != 1:  # add_param_group() can make a second one
            raise AssertionError("Expected exactly one param_group, but got "
                                 f"{len(self.param_groups)}")
        with on_device_of(self._params[0]._array):  # where the flat vectors live
            return self._step(closure)

    def _step(self, closure: Callable):
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = _call(closure)
        state["func_evals"] += 1
        run = _Run.from_state(state, float(orig_loss), self._gather_flat_grad())
        if max_abs(run.flat_grad) <= group["tolerance_grad"]:
            return orig_loss  # already optimal: no other state is touched
        for n_iter in range(1, group["max_iter"] + 1):
            if self._iterate(closure, group, state, run, last=n_iter == group["max_iter"]):
                break
        run.save(state, get_array_module(self._params[0]._array))
        return orig_loss

    def _iterate(self, closure: Callable, group: dict, state: dict, run: _Run,
                 last: bool) -> bool:
        """One iteration: direction, step length, move. Returns True when the step ends."""
        state["n_iter"] += 1
        grad = run.flat_grad
        lr = group["lr"]
        lr = float(lr) if isinstance(lr, Tensor) else lr  # an int stays an int, as torch's t
        if state["n_iter"] == 1:  # the first iteration ever, not of this step()
            run.d, run.old_dirs, run.old_stps, run.ro, run.H_diag = -grad, [], [], [], 1
            run.t = min(1.0, 1.0 / host(get_array_module(grad).abs(grad).sum())) * lr
        else:
            run.remember(grad, group["history_size"])
            state.setdefault("al", [None] * group["history_size"])  # torch's key order
            run.d, run.al = two_loop(grad, run.old_dirs, run.old_stps, run.ro, run.H_diag)
            run.t = lr
        run.prev_flat_grad, run.prev_loss = grad, run.loss
        gtd = dot(grad, run.d)
        if gtd > -group["tolerance_change"]:
            return True  # not a descent direction, or a flat one
        evals, optimal = self._move(closure, group, run, gtd, last)
        run.evals += evals
        state["func_evals"] += evals
        tolerance = group["tolerance_change"]
        return (last or run.evals >= group["max_eval"] or optimal
                or max_abs(run.d * run.t) <= tolerance or abs(run.loss - run.prev_loss)
                < tolerance)

    def _move(self, closure: Callable, group: dict, run: _Run, gtd, last: bool):
        """Move the parameters along ``run.d``; returns (closure calls, gradient optimal?)."""
        if group["line_search_fn"] is None:
            self._add_grad(run.t, run.d)
            if last:  # no re-evaluation after the last iteration of a step
                return 0, False
            run.loss = float(_call(closure))
            run.flat_grad = self._gather_flat_grad()
            return 1, max_abs(run.flat_grad) <= group["tolerance_grad"]
        if group["line_search_fn"] != "strong_wolfe":
            raise RuntimeError("only 'strong_wolfe' is supported")
        start = [param._array.copy() for param in self._params]

        def evaluate(t):
            return self._directional_evaluate(closure, start, t, run.d)

        run.loss, run.flat_grad, run.t, evals = strong_wolfe(
            evaluate, run.t, run.d, run.loss, run.flat_grad, host(gtd),
            max_ls=group["max_eval"] - run.evals)
        self._add_grad(run.t, run.d)
        return evals, max_abs(run.flat_grad) <= group["tolerance_grad"]

    def _gather_flat_grad(self):
        """Every gradient flattened and concatenated in parameter order (a new array).

        A missing gradient counts as zeros, a sparse one is made dense."""
        parts = []
        for param in self._params:
            array = param._array
            if param.grad is None:
                grad = get_array_module(array).zeros_like(array)
            else:
                grad = (param.grad.to_dense() if param.grad.is_sparse else param.grad)._array
            parts.append(grad.reshape(-1))
        return get_array_module(parts[0]).concatenate(parts)

    def _add_grad(self, step, update) -> None:
        """``x += step * update``, each parameter reading its slice of the flat ``update``."""
        step = float(step)  # a Python float: float32 parameters are updated in float32
        offset = 0
        for param in self._params:
            array = updated_array(param)
            array += (update[offset:offset + array.size] * step).reshape(array.shape)
            offset += array.size

    def _directional_evaluate(self, closure: Callable, start: list, t, d):
        """``(f, g)`` at ``start + t * d``; the parameters are put back to ``start`` after."""
        self._add_grad(t, d)
        loss = float(_call(closure))
        flat_grad = self._gather_flat_grad()
        for param, array in zip(self._params, start):
            updated_array(param)[...] = array
        return loss, flat_grad


@dataclass
class _Run:
    """What one ``step()`` works with: torch's state entries as arrays, and the loop's values.

    ``t``, ``H_diag`` and the entries of ``ro`` and ``al`` are Python numbers or 0-d values
    in the parameters' dtype; ``evals`` counts this step's closure calls."""

    loss: float
    flat_grad: object
    evals: int = 1
    d: object = None
    t: object = None
    old_dirs: list | None = None
    old_stps: list | None = None
    ro: list | None = None
    H_diag: object = None
    prev_flat_grad: object = None
    prev_loss: float | None = None
    al: list | None = None

    _KEYS = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")

    @classmethod
    def from_state(cls, state: dict, loss: float, flat_grad) -> _Run:
        saved = {key: _arrays(state.get(key)) for key in cls._KEYS}
        return cls(loss, flat_grad, **saved)

    def save(self, state: dict, xp) -> None:
        """Write the entries back as Tensors (lists of them for the history), torch's order."""
        for key in self._KEYS:
            state[key] = _tensors(getattr(self, key), xp)
        if self.al is not None:  # torch's list keeps history_size slots, None when unused
            state["al"] = (_tensors(self.al, xp)
                           + [None] * (len(state["al"]) - len(self.al)))

    def remember(self, grad, history_size: int) -> None:
        """Add the curvature pair of the last move when it keeps the estimate positive."""
        y = grad - self.prev_flat_grad
        s = self.d * self.t
        ys = dot(y, s)
        if ys > 1e-10:  # skipping the pair keeps the inverse-Hessian estimate positive definite
            if len(self.old_dirs) == history_size:
                del self.old_dirs[0], self.old_stps[0], self.ro[0]
            self.old_dirs.append(y)
            self.old_stps.append(s)
            self.ro.append(1.0 / ys)
            self.H_diag = ys / dot(y, y)


def two_loop(grad, old_dirs: list, old_stps: list, ro: list, H_diag) -> tuple:
    """``(d, al)``: the direction :math:`-H g` by the two-loop recursion (a new array) and
    the :math:`\\alpha_i`, from the history ``old_dirs``, ``old_stps``, ``ro`` (:math:`y_i,
    s_i, \\rho_i`, oldest first) and :math:`H_0 = h I`; ``grad`` is only read."""
    xp = get_array_module(grad)
    scratch = xp.empty_like(grad)
    q = -grad
    al = [None] * len(old_dirs)
    for i in reversed(range(len(old_dirs))):
        al[i] = dot(old_stps[i], q) * ro[i]
        q -= xp.multiply(old_dirs[i], al[i], out=scratch)
    r = xp.multiply(q, H_diag, out=q)
    for i in range(len(old_dirs)):
        beta = dot(old_dirs[i], r) * ro[i]
        r += xp.multiply(old_stps[i], al[i] - beta, out=scratch)
    return r, al


def _call(closure: Callable):
    """The closure's loss, computed with grad on (``None`` fails as torch's does: not
    callable)."""
    with enable_grad():
        return closure()


def _arrays(value):
    """A state entry with its Tensors replaced by their arrays (lists entry by entry)."""
    if isinstance(value, list):
        return [_arrays(item) for item in value]
    return value._array if isinstance(value, Tensor) else value


def _tensors(value, xp):
    """The inverse of ``_arrays``: arrays and numpy scalars become Tensors on ``xp``."""
    if isinstance(value, list):
        return [_tensors(item, xp) for item in value]
    if value is None or type(value) in (int, float):  # not numpy's float64, a float subclass
        return value
    return Tensor._wrap(xp.asarray(value))
