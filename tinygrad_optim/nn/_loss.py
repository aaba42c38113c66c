"""The losses of nn.functional, each one fused node: mse, cross entropy, BCE with logits."""
from __future__ import annotations

import warnings

from .. import dtypes, grad_mode
from ..backend import get_array_module, on_device_of
from ..function import Function
from ..ops._promote import result_dtype
from ..ops.arith import quiet

_REDUCTIONS = ("none", "mean", "sum")

# torch's deprecated size_average/reduce arguments are not accepted, and every argument after
# ``weight`` is keyword-only: a positional call written for torch fails instead of misbinding.
# Each loss Function is @quiet: overflow and inf inputs give inf/nan without numpy's warnings,
# as torch gives them.


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    """``loss`` summed or averaged; the mean of nothing is nan, as in torch."""
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total / loss.size  # callers are @quiet


def _grad_scale(gy, reduction, count):
    """The incoming gradient spread over the elements that a mean divided by ``count``."""
    if reduction == "mean":
        return gy / count if count else gy
    return gy


def broadcast_shapes(a, b):
    """The shape of ``x op y`` for shapes ``a`` and ``b``, with torch's error otherwise."""
    ndim = max(len(a), len(b))
    a, b = (1,) * (ndim - len(a)) + tuple(a), (1,) * (ndim - len(b)) + tuple(b)
    for i, (m, n) in enumerate(zip(a, b)):
        if m != n and m != 1 and n != 1:
            raise RuntimeError(f"The size of tensor a ({m}) must match the size of tensor b "
                               f"({n}) at non-singleton dimension {i}")
    return tuple(max(m, n) if m and n else 0 for m, n in zip(a, b))


def _not_differentiable(function, argument, value):
    if value is not None and value.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to "
                           f"argument '{argument}'. This input cannot have requires_grad True.")


# ---------------------------------------------------------------- mean squared error
@quiet
class MseLoss(Function):
    """``(x - t) ** 2``, reduced; the difference is kept for backward's ``2 (x - t)``."""

    def forward(self, x, target, reduction="mean"):
        diff = x - target
        self.save_for_backward(diff)
        self.reduction = reduction
        return _reduce(diff * diff, reduction)

    def backward(self, gy):
        (diff,) = self.saved
        gx = (2.0 * diff) * _grad_scale(gy, self.reduction, diff.size)
        return gx, (-gx if self.needs_input_grad[1] else None)


def mse_loss(input, target, *, reduction: str = "mean"):
    """Mean (or sum, or elementwise) squared difference of ``input`` and ``target``.

    A ``target`` shaped differently from ``input`` is broadcast with torch's warning.

    Raises:
        ValueError: on an unknown ``reduction``.
        RuntimeError: on shapes that do not broadcast.
        NotImplementedError: on integer operands (as torch).
    """
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape!r}) that is different to the input "
                      f"size ({input.shape!r}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=2)
    _check_reduction(reduction)
    broadcast_shapes(input.shape, target.shape)
    dt = result_dtype(input, target)
    if dt.kind != "f":
        raise NotImplementedError(f'"mse_{input.device.type}" not implemented for '
                                  f"'{dtypes.from_numpy_dtype(dt)._torch_type}'")
    input, target = input.to(dt), target.to(dt)
    return MseLoss.apply(input, target, reduction=reduction)


# ---------------------------------------------------------------- cross entropy
@quiet
class CrossEntropy(Function):
    """log_softmax and nll_loss as one node: its gradient is ``softmax - one_hot``, weighted.

    Classes are moved to the last axis; ``w_t`` is each sample's class weight, zero
    where the target is ``ignore_index``, so ignored samples drop out of sums and gradients.
    """

    def forward(self, x, target, *weight, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        xp = get_array_module(x)
        self.out_shape = target.shape if x.ndim > 1 else ()
        if x.ndim > 2:
            # Contiguous with classes last, so that backward's gradient reshapes as a view.
            logits = xp.ascontiguousarray(xp.moveaxis(x, 1, -1))
        else:
            logits = x.reshape(-1, x.shape[-1])
        target = target.reshape(logits.shape[:-1])
        valid = target != ignore_index
        target = xp.where(valid, target, 0)
        shifted = logits - logits.max(axis=-1, keepdims=True)  # every exp() now in [0, 1]
        exps = xp.exp(shifted)
        sums = exps.sum(axis=-1, keepdims=True)
        log_sums = xp.log(sums)
        nll = log_sums[..., 0] - xp.take_along_axis(shifted, target[..., None], -1)[..., 0]
        w = weight[0] if weight else None
        w_t = w[target] * valid if weight else valid.astype(x.dtype)
        loss = nll * w_t
        if label_smoothing:
            classes = logits.shape[-1]
            neg_log_p = log_sums - shifted
            smooth = (neg_log_p * w).sum(axis=-1) if weight else neg_log_p.sum(axis=-1)
            loss = (1.0 - label_smoothing) * loss + (label_smoothing / classes) * (smooth * valid)
        denom = w_t.sum()
        self.meta = (x.ndim, reduction, label_smoothing)
        self.save_for_backward(exps, sums, target, w_t, valid, denom, w)
        if reduction == "mean":
            return loss.sum() / denom  # all ignored: 0 / 0 = nan, as in torch
        return _reduce(loss.reshape(self.out_shape), reduction)

    def backward(self, gy):
        exps, sums, target, w_t, valid, denom, w = self.saved
        ndim, reduction, smoothing = self.meta
        xp = get_array_module(gy)
        if reduction == "none":
            scale = gy.reshape(target.shape)
        elif reduction == "mean":
            scale = gy / xp.where(denom == 0, 1, denom)  # 0/0 would poison ignored samples
        else:
            scale = gy
        coef = w_t * scale
        g = exps / sums
        if smoothing:
            classes = g.shape[-1]
            total_w = w.sum() if w is not None else classes
            live = valid * scale
            g *= ((1.0 - smoothing) * coef + (smoothing / classes) * total_w * live)[..., None]
            g -= (smoothing / classes) * live[..., None] * (w if w is not None else 1.0)
            coef = (1.0 - smoothing) * coef
        else:
            g *= coef[..., None]
        rows = g.reshape(-1, g.shape[-1])  # a view: g has the layout of the logits
        rows[xp.arange(rows.shape[0]), target.ravel()] -= coef.ravel()
        if ndim > 2:
            g = xp.moveaxis(g, -1, 1)
        elif ndim == 1:
            g = g.reshape(-1)
        return (g, None) + (None,) * (w is not None)

    def op_name(self) -> str:
        return "NllLoss"  # torch's name for the node that ends a cross entropy


def cross_entropy(input, target, weight=None, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """Cross entropy between logits and class-index targets (torch's ``F.cross_entropy``).

    Args:
        input: logits ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: class indices (int64 or uint8) ``()``, ``(N,)`` or ``(N, d1, ...)``.
        weight: a ``(C,)`` rescaling of each class; a mean divides by the weights summed.
        ignore_index: a target value that contributes neither loss nor gradient.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        label_smoothing: in [0, 1]; mixes the target with the uniform distribution.

    Raises:
        ValueError: on an unknown reduction or a batch size mismatch.
        RuntimeError: on a bad target dtype or shape, weight, or label_smoothing.
        IndexError: on a target outside ``[0, C)`` that is not ``ignore_index``.
        NotImplementedError: on integer logits, and on class-probability targets.
    """
    _check_reduction(reduction)
    if not input.dtype.is_floating_point:
        kernel = "lastdim_kernel_impl" if input.ndim <= 2 else "kernel_impl"
        raise NotImplementedError(f'"log_softmax_{kernel}" not implemented for '
                                  f"'{input.dtype._torch_type}'")
    if target.shape == input.shape:
        if not target.dtype.is_floating_point:
            raise RuntimeError("Expected floating point type for target with class "
                               f"probabilities, got {target.dtype._torch_type}")
        raise NotImplementedError("cross_entropy with class-probability targets is not "
                                  "supported by tinygrad_optim; pass class indices")
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{target.dtype._torch_type}")
    _check_target_shape(input.shape, target.shape)
    classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    extra = ()
    if weight is not None:
        if weight.ndim != 1 or weight.numel() != classes:
            raise RuntimeError(f"weight tensor should be defined either for all {classes} "
                               "classes or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
        if weight.dtype is not input.dtype:
            raise RuntimeError(f"expected scalar type {input.dtype._torch_type} but found "
                               f"{weight.dtype._torch_type}")
        _not_differentiable("nll_loss_forward", "weight", weight)
        extra = (weight,)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    _check_targets_in_range(target._array, classes, ignore_index)
    return CrossEntropy.apply(input, target, *extra, ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=float(label_smoothing))


def _check_target_shape(shape, target_shape):
    if len(shape) == 1:
        if len(target_shape) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if len(target_shape) == 1 and target_shape[0] != 1:
            raise ValueError("For 1D input, 1D target must have size 1, but got target size: "
                             f"{target_shape[0]}")
        return
    batch = target_shape[0] if target_shape else 0
    if shape[0] != batch:
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size "
                         f"({batch}).")
    if len(shape) == 2 and len(target_shape) != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    expected = shape[:1] + shape[2:]
    if tuple(target_shape) != tuple(expected):
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target_shape)}")


def _check_targets_in_range(target, classes, ignore_index):
    """torch checks every target on the CPU; indexing would wrap a negative one silently."""
    with on_device_of(target):
        bad = ((target < 0) | (target >= classes)) & (target != ignore_index)
        if target.size and bool(bad.any()):
            raise IndexError(f"Target {target[bad].ravel()[0].item()} is out of bounds.")


# ---------------------------------------------------------------- binary cross entropy
@quiet
class BinaryCrossEntropyWithLogits(Function):
    """``-w [p t log s(x) + (1 - t) log(1 - s(x))]`` from the logits, never forming log(0).

    With ``sp = softplus(-x) = log1p(exp(-|x|)) + max(-x, 0)`` the loss is
    ``(1 - t) x + (1 + (p - 1) t) sp``: finite for any finite logit.
    """

    def forward(self, x, target, *extra, has_weight=False, has_pos_weight=False,
                reduction="mean"):
        xp = get_array_module(x)
        weight = extra[0] if has_weight else None
        pos_weight = extra[-1] if has_pos_weight else None
        exp_neg_abs = xp.exp(-abs(x))
        softplus_neg = xp.log1p(exp_neg_abs) + xp.maximum(-x, 0)
        if pos_weight is None:
            loss = (1 - target) * x + softplus_neg
        else:
            loss = (1 - target) * x + ((pos_weight - 1) * target + 1) * softplus_neg
        if weight is not None:
            loss = loss * weight
        self.save_for_backward(x, target, exp_neg_abs, softplus_neg, weight, pos_weight)
        self.meta = (reduction, loss.size, len(extra))
        return _reduce(loss, reduction)

    def backward(self, gy):
        x, target, exp_neg_abs, softplus_neg, weight, pos_weight = self.saved
        reduction, count, extras = self.meta
        xp = get_array_module(gy)
        scale = _grad_scale(gy, reduction, count)
        if weight is not None:
            scale = scale * weight
        gx = gt = None
        if self.needs_input_grad[0]:
            # sigmoid(x) from the saved exp(-|x|): accurate in both tails.
            sig = xp.where(x >= 0, 1, exp_neg_abs) / (1 + exp_neg_abs)
            if pos_weight is None:
                gx = (sig - target) * scale
            else:
                pt = pos_weight * target
                gx = ((pt + 1 - target) * sig - pt) * scale
        if self.needs_input_grad[1]:
            gt = -x if pos_weight is None else (1 - pos_weight) * -softplus_neg - x
            gt = gt * scale
        return (gx, gt) + (None,) * extras


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction: str = "mean",
                                     pos_weight=None):
    """Binary cross entropy of ``sigmoid(input)`` against ``target``, stable for any logit.

    Args:
        input: logits, any shape.
        target: probabilities in [0, 1], the shape of ``input``.
        weight: a rescaling of each element's loss, broadcast to ``input``.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        pos_weight: the weight of positive examples, broadcast along the last dims.

    Raises:
        ValueError: on an unknown reduction or a target shaped unlike the input.
        RuntimeError: on an integer target, shapes that do not broadcast, or a weight or
            pos_weight that requires grad.
    """
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size "
                         f"({input.shape!r})")
    _not_differentiable("binary_cross_entropy_with_logits", "weight", weight)
    _not_differentiable("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"log_sigmoid_{input.device.type}" not implemented for '
                                  f"'{input.dtype._torch_type}'")
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"result type {input.dtype._torch_type} can't be cast to the "
                           f"desired output type {target.dtype._torch_type}")
    extra = tuple(t for t in (weight, pos_weight) if t is not None)
    if pos_weight is not None:
        broadcast_shapes(pos_weight.shape, input.shape)
    if weight is not None:
        broadcast_shapes(input.shape, weight.shape)
    dt = result_dtype(input, target, *extra)
    input, target = input.to(dt), target.to(dt)
    extra = tuple(t.to(dt) for t in extra)
    return BinaryCrossEntropyWithLogits.apply(
        input, target, *extra, has_weight=weight is not None,
        has_pos_weight=pos_weight is not None, reduction=reduction)
