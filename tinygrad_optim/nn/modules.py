"""Layers and losses as Modules: Linear, Embedding, Sequential, activations, three losses."""
from __future__ import annotations

import collections
import math
import operator

import numpy as np

from .. import dtypes, grad_mode
from ..backend import as_device, array_module, generator, on_device
from ..tensor import Tensor
from . import functional as F
from .module import Module
from .parameter import Parameter


def _uniform_parameter(shape, bound, dtype, device) -> Parameter:
    """A parameter drawn from U(-bound, bound) with the device's seeded generator."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
    dev = as_device(device)
    # numpy's Generator.random draws float32 or float64 only: draw wide, then cast.
    draw = dt.np if dt.np in (np.float32, np.float64) else np.float64
    with on_device(dev):
        unit = generator(dev).random(shape, dtype=draw)
        array = array_module(dev).asarray(-bound + (2 * bound) * unit, dtype=dt.np)
    return Parameter(Tensor._wrap(array))


class Linear(Module):
    """``y = x W^T + b``, with torch's default initialisation.

    Both ``weight`` ``(out_features, in_features)`` and ``bias`` ``(out_features,)`` are drawn
    from U(-1/sqrt(in_features), 1/sqrt(in_features)): torch's ``kaiming_uniform_`` with
    a = sqrt(5) works out to exactly that bound, and its bias rule uses the same one.

    Args:
        in_features: size of each input's last dim.
        out_features: size of each output's last dim.
        bias: whether to learn an additive bias.
        device: where the parameters live.
        dtype: their floating dtype (default float32).

    Example:
        >>> layer = Linear(784, 256)
        >>> layer(randn(64, 784)).shape
        tinygrad_optim.Size([64, 256])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features) if in_features > 0 else 0.0
        self.weight = _uniform_parameter((out_features, in_features), bound, dtype, device)
        if bias:
            self.bias = _uniform_parameter((out_features,), bound, dtype, device)
        else:
            self.register_parameter("bias", None)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Embedding(Module):
    """A lookup table of ``num_embeddings`` rows of size ``embedding_dim``.

    ``weight`` is drawn from N(0, 1), as torch's, and its ``padding_idx`` row (if any) is
    zero and gets no gradient. With ``sparse=True`` the weight's gradient is a SparseTensor
    of the looked-up rows, for ``optim.SparseAdam`` (or sparse SGD and Adagrad).

    Args:
        num_embeddings: the number of rows.
        embedding_dim: the size of each row.
        padding_idx: a row that stays zero and gets no gradient (negative counts from the
            end).
        max_norm, norm_type, scale_grad_by_freq: torch's options; only their defaults are
            supported (see ``functional.embedding``).
        sparse: give ``weight`` sparse gradients.
        device: where the table lives.
        dtype: its floating dtype (default float32).

    Raises:
        AssertionError: for a ``padding_idx`` outside the table (torch's message).

    Example:
        >>> table = Embedding(10, 3, sparse=True)
        >>> table(tensor([[1, 2], [4, 1]])).shape
        tinygrad_optim.Size([2, 2, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, *, device=None,
                 dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.weight = _normal_parameter((num_embeddings, embedding_dim), dtype, device)
        if padding_idx is not None:
            with grad_mode.no_grad():
                self.weight[padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse:
            text += ", sparse=True"
        return text


def _normal_parameter(shape, dtype, device) -> Parameter:
    """A parameter drawn from N(0, 1) with the device's seeded generator."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
    dev = as_device(device)
    draw = dt.np if dt.np in (np.float32, np.float64) else np.float32
    with on_device(dev):
        array = generator(dev).standard_normal(shape, dtype=draw).astype(dt.np, copy=False)
    return Parameter(Tensor._wrap(array))


class Sequential(Module):
    """Modules applied one after another; built from modules or from an ordered dict of them.

    Example:
        >>> model = Sequential(Linear(4, 8), ReLU(), Linear(8, 2))
        >>> [name for name, _ in model.named_parameters()]
        ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], collections.OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(collections.OrderedDict(items[index]))
        index = operator.index(index)
        if not -len(items) <= index < len(items):
            raise IndexError(f"index {index} is out of range")
        return items[index][1]

    def append(self, module: Module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self


class ReLU(Module):
    """``max(x, 0)`` elementwise."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """``tanh(x)`` elementwise."""

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise."""

    def forward(self, input):
        return F.sigmoid(input)


class MSELoss(Module):
    """Mean squared error, see :func:`functional.mse_loss`."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(Module):
    """Cross entropy of logits and class indices, see :func:`functional.cross_entropy`.

    ``weight`` is a buffer, so it is saved in ``state_dict`` and moved by ``to()``.
    """

    def __init__(self, weight: Tensor | None = None, *, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCEWithLogitsLoss(Module):
    """Binary cross entropy on logits, see :func:`functional.binary_cross_entropy_with_logits`.

    ``weight`` and ``pos_weight`` are buffers, as in torch.
    """

    def __init__(self, weight: Tensor | None = None, *, reduction: str = "mean",
                 pos_weight: Tensor | None = None):
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
