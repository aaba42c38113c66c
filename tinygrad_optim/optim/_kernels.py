"""Pieces of array math that several optimizer kernels share, each in torch's rounding."""
from __future__ import annotations

from ._blocks import scratch


def direction(xp, param, grad, weight_decay: float, maximize: bool):
    """``±grad + weight_decay·param``: the gradient itself when there is nothing to add.

    The result may be ``grad`` itself, so a kernel must never write into it.

    torch negates the gradient, then adds the decay; ``λθ − g`` is exactly ``λθ + (−g)``, so
    the decay term is made first and the gradient subtracted from or added to it in place:
    one temporary instead of two. (``out=`` keeps a 0-d result an array.)
    """
    if weight_decay != 0:
        d = xp.multiply(param, weight_decay, out=scratch(param, 0))
        (xp.subtract if maximize else xp.add)(d, grad, out=d)
        return d
    return xp.negative(grad, out=scratch(param, 0)) if maximize else grad


def lerp(xp, start, end, weight: float, temporary) -> None:
    """``start = lerp(start, end, weight)`` in place, by torch's two-branch formula.

    ``start + w·(end − start)`` for ``|w| < 0.5``, else ``end − (1 − w)·(end − start)``:
    each branch is exact at its end of the range. Like torch, the weight is first rounded
    to the arrays' dtype (so ``1 − w`` is exact).
    """
    weight = float(start.dtype.type(weight))
    difference = xp.subtract(end, start, out=temporary)
    if abs(weight) < 0.5:
        difference *= weight
        start += difference
    else:
        difference *= 1.0 - weight
        xp.subtract(end, difference, out=start)
