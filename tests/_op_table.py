"""The op table of tests/test_ops.py: each op with its numpy reference, torch name and domain.

One row per op. ``cases`` draws the operand shapes (and the op's other arguments) for a test,
from the strategies of tests/_op_cases.py; ``domain`` maps the drawn samples into the inputs
the op is smooth at, so that finite differences are a valid oracle for its gradient.
"""
from __future__ import annotations

import dataclasses
import math
import operator
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

import tinygrad_optim as tg
from _op_cases import (BINARY, FLOATS, UNARY, Case, as_bool, away_from, basic_index_cases,
                       broadcast_cases, cat_cases, distinct, expand_cases, flatten_cases, grid,
                       int_array_index_cases, mask_index_cases, matmul_cases, max_dim_cases,
                       offset_grid, permute_cases, positive, reduce_cases, reshape_cases, shapes,
                       squeeze_cases, transpose_cases, unsqueeze_cases)


@dataclasses.dataclass(frozen=True)
class OpSpec:
    """An op under test.

    Attributes:
        name: the test id.
        op: the tinygrad_optim callable, called as ``op(*tensors, scalar?, *args, **kwargs)``.
        ref: the numpy reference, called the same way with arrays (and returning an array,
            or a tuple whose first entry is the differentiable output).
        torch: the dotted name of the same callable in torch (``"add"``, ``"Tensor.view"``).
        arity: how many tensor operands the op takes.
        cases: a strategy of ``Case`` (shapes of the ``arity`` operands, args, kwargs).
        scalar: a strategy of a Python scalar operand that follows the tensors, or None.
        domain: one transform (or None) per operand, scalar included, into the op's domain.
        grad: whether the op is differentiable (comparisons are not).
        packed: whether the tensors go in one list argument, as for cat and stack.
    """

    name: str
    op: Callable
    ref: Callable
    torch: str
    arity: int
    cases: Any
    scalar: Any = None
    domain: tuple = ()
    grad: bool = True
    packed: bool = False

    def __repr__(self):
        return self.name  # readable hypothesis and pytest reports


# ------------------------------------------------------------------ numpy references
def _axes(dim, ndim):
    if dim is None:
        return None
    return () if ndim == 0 else dim


def np_sum(x, dim=None, keepdim=False):
    return np.sum(x, axis=_axes(dim, x.ndim), keepdims=keepdim)


def np_mean(x, dim=None, keepdim=False):
    axes = _axes(dim, x.ndim)
    count = x.size / max(np.sum(x, axis=axes, keepdims=True).size, 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # torch: the mean of nothing is nan
        return np_sum(x, dim, keepdim) / count


def np_extreme(fn):
    def reduce(x, dim=None, keepdim=False):
        return fn(x, axis=_axes(dim, x.ndim), keepdims=keepdim)
    return reduce


def np_extreme_dim(fn, arg):
    """max/min along ``dim``: (values, indices), a 0-d input being its own max at index 0."""
    def reduce(x, dim, keepdim=False):
        if x.ndim == 0:
            return x, np.zeros((), np.int64)
        return fn(x, axis=dim, keepdims=keepdim), arg(x, axis=dim, keepdims=keepdim)
    return reduce


def np_flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])


def np_transpose(x, dim0, dim1):
    return np.swapaxes(x, dim0, dim1) if x.ndim else x


def np_squeeze(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    dims = {d % max(x.ndim, 1) for d in (dim if isinstance(dim, tuple) else (dim,))}
    return x.reshape([n for i, n in enumerate(x.shape) if not (i in dims and n == 1)])


def np_expand(x, sizes):
    lead = len(sizes) - x.ndim
    return np.broadcast_to(x, [x.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes)])


def np_clamp(x, min=None, max=None):
    return np.clip(x, min, max)


def np_where(condition, x, y):
    return np.where(condition, x, y)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_getitem(x, index):
    return x[index]


def np_cat(arrays, dim=0):
    return np.concatenate(arrays, axis=dim)


def np_stack(arrays, dim=0):
    return np.stack(arrays, axis=dim)


def _spec(name, op, ref, torch, arity=1, cases=UNARY, **kw):
    return OpSpec(name, op, ref, torch, arity, cases, **kw)


def _with_scalar(name, op, ref, torch, domain=(), scalar=FLOATS):
    """``tensor op scalar``; a reflected dunder such as ``__rsub__`` gives ``scalar op tensor``."""
    return OpSpec(name, op, ref, torch, 1, UNARY, scalar=scalar, domain=domain)


def _compare(name, fn, cases=BINARY, scalar=None):
    method = f"__{name}__"
    with_scalar = scalar is not None
    return OpSpec(name + ("_scalar" if with_scalar else ""), getattr(tg.Tensor, method), fn,
                  f"Tensor.{method}", 1 if with_scalar else 2, UNARY if with_scalar else cases,
                  scalar=scalar, domain=(grid, grid), grad=False)


T = tg.Tensor
AWAY_FROM_0 = away_from(0)
CLAMP_KINKS = away_from(-0.5, 0.5)

OPS = (
    # arithmetic between tensors, broadcasting
    _spec("add", tg.add, np.add, "add", 2, BINARY),
    _spec("sub", tg.sub, np.subtract, "sub", 2, BINARY),
    _spec("mul", tg.mul, np.multiply, "mul", 2, BINARY),
    _spec("div", tg.div, np.divide, "div", 2, BINARY, domain=(None, AWAY_FROM_0)),
    _spec("pow", tg.pow, np.power, "pow", 2, BINARY, domain=(positive, None)),
    # a tensor and a Python scalar, on either side
    _with_scalar("add_scalar", T.__add__, np.add, "Tensor.__add__"),
    _with_scalar("radd_scalar", T.__radd__, lambda x, c: c + x, "Tensor.__radd__"),
    _with_scalar("sub_scalar", T.__sub__, np.subtract, "Tensor.__sub__"),
    _with_scalar("rsub_scalar", T.__rsub__, lambda x, c: c - x, "Tensor.__rsub__"),
    _with_scalar("mul_scalar", T.__mul__, np.multiply, "Tensor.__mul__"),
    _with_scalar("rmul_scalar", T.__rmul__, lambda x, c: c * x, "Tensor.__rmul__"),
    _with_scalar("div_scalar", T.__truediv__, np.divide, "Tensor.__truediv__",
                 domain=(None, AWAY_FROM_0)),
    _with_scalar("rdiv_scalar", T.__rtruediv__, lambda x, c: c / x, "Tensor.__rtruediv__",
                 domain=(AWAY_FROM_0, None)),
    _with_scalar("pow_scalar", T.__pow__, np.power, "Tensor.__pow__", domain=(positive, None)),
    _with_scalar("pow_int_scalar", T.__pow__, np.power, "Tensor.__pow__",
                 scalar=st.integers(0, 3)),
    _with_scalar("rpow_scalar", T.__rpow__, lambda x, c: c ** x, "Tensor.__rpow__",
                 domain=(None, positive)),
    _spec("neg", T.__neg__, np.negative, "Tensor.__neg__"),
    # elementwise functions
    _spec("abs", tg.abs, np.abs, "abs", domain=(AWAY_FROM_0,)),
    _spec("exp", tg.exp, np.exp, "exp"),
    _spec("log", tg.log, np.log, "log", domain=(positive,)),
    _spec("sqrt", tg.sqrt, np.sqrt, "sqrt", domain=(positive,)),
    _spec("sin", tg.sin, np.sin, "sin"),
    _spec("cos", tg.cos, np.cos, "cos"),
    _spec("tanh", tg.tanh, np.tanh, "tanh"),
    _spec("sigmoid", tg.sigmoid, np_sigmoid, "sigmoid"),
    _spec("sign", tg.sign, np.sign, "sign", domain=(AWAY_FROM_0,)),
    _spec("relu", tg.relu, lambda x: np.maximum(x, 0), "relu", domain=(AWAY_FROM_0,)),
    _spec("clamp", tg.clamp, np_clamp, "clamp",
          cases=UNARY.map(lambda c: c._replace(kwargs={"min": -0.5, "max": 0.5})),
          domain=(CLAMP_KINKS,)),
    _spec("clamp_min", tg.clamp, np_clamp, "clamp",
          cases=UNARY.map(lambda c: c._replace(kwargs={"min": -0.5})), domain=(CLAMP_KINKS,)),
    _spec("clamp_max", tg.clamp, np_clamp, "clamp",
          cases=UNARY.map(lambda c: c._replace(kwargs={"max": 0.5})), domain=(CLAMP_KINKS,)),
    _spec("maximum", tg.maximum, np.maximum, "maximum", 2, BINARY, domain=(grid, offset_grid)),
    _spec("minimum", tg.minimum, np.minimum, "minimum", 2, BINARY, domain=(grid, offset_grid)),
    _spec("where", tg.where, np_where, "where", 3, broadcast_cases(3), domain=(as_bool,)),
    # comparisons: no gradient, a bool result
    _compare("gt", np.greater), _compare("ge", np.greater_equal), _compare("lt", np.less),
    _compare("le", np.less_equal), _compare("eq", np.equal), _compare("ne", np.not_equal),
    _compare("gt", np.greater, scalar=FLOATS), _compare("eq", np.equal, scalar=FLOATS),
    # matrix products
    _spec("matmul", tg.matmul, np.matmul, "matmul", 2, matmul_cases()),
    # reductions
    _spec("sum", tg.sum, np_sum, "sum", cases=reduce_cases()),
    _spec("mean", tg.mean, np_mean, "mean", cases=reduce_cases()),
    _spec("max", tg.max, np.max, "max", cases=shapes(min_side=1).map(lambda s: Case((s,))),
          domain=(distinct,)),
    _spec("min", tg.min, np.min, "min", cases=shapes(min_side=1).map(lambda s: Case((s,))),
          domain=(distinct,)),
    _spec("max_dim", tg.max, np_extreme_dim(np.max, np.argmax), "max", cases=max_dim_cases(),
          domain=(distinct,)),
    _spec("min_dim", tg.min, np_extreme_dim(np.min, np.argmin), "min", cases=max_dim_cases(),
          domain=(distinct,)),
    _spec("amax", tg.amax, np_extreme(np.max), "amax", cases=reduce_cases(extreme=True),
          domain=(distinct,)),
    _spec("amin", tg.amin, np_extreme(np.min), "amin", cases=reduce_cases(extreme=True),
          domain=(distinct,)),
    # shapes and views
    _spec("reshape", tg.reshape, np.reshape, "reshape", cases=reshape_cases()),
    _spec("view", T.view, np.reshape, "Tensor.view", cases=reshape_cases()),
    _spec("flatten", tg.flatten, np_flatten, "flatten", cases=flatten_cases()),
    _spec("transpose", tg.transpose, np_transpose, "transpose", cases=transpose_cases()),
    _spec("permute", tg.permute, np.transpose, "permute", cases=permute_cases()),
    # .T on other than 2 dims is deprecated in torch (and warns, here too).
    _spec("T", T.T.fget, np.transpose, "Tensor.T",
          cases=shapes(min_dims=2, max_dims=2).map(lambda s: Case((s,)))),
    _spec("t", tg.t, np.transpose, "t", cases=shapes(max_dims=2).map(lambda s: Case((s,)))),
    _spec("squeeze", tg.squeeze, np_squeeze, "squeeze", cases=squeeze_cases()),
    _spec("unsqueeze", tg.unsqueeze, np.expand_dims, "unsqueeze", cases=unsqueeze_cases()),
    _spec("expand", T.expand, np_expand, "Tensor.expand", cases=expand_cases()),
    _spec("getitem_basic", operator.getitem, np_getitem, "Tensor.__getitem__",
          cases=basic_index_cases()),
    _spec("getitem_int_array", operator.getitem, np_getitem, "Tensor.__getitem__",
          cases=int_array_index_cases()),
    _spec("getitem_mask", operator.getitem, np_getitem, "Tensor.__getitem__",
          cases=mask_index_cases()),
    _spec("cat", tg.cat, np_cat, "cat", 3, cat_cases(), packed=True),
    _spec("stack", tg.stack, np_stack, "stack", 3, cat_cases(stack=True), packed=True),
)
