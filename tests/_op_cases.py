"""Strategies that draw op-test cases: shapes (broadcast pairs, 0-d, size zero), dims, indices.

The domains at the top map uniform samples in [-2, 2] into the inputs an op is smooth at
(positive for log, away from the kinks of abs/relu/clamp, distinct values for max), so that
central finite differences are a valid oracle for the gradient.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 3  # sides stay small: the gradient check costs two forward passes per element
SIDES = st.integers(0, MAX_SIDE)


class Case(NamedTuple):
    """One draw: the shapes of the tensor operands and the op's other arguments."""

    shapes: tuple
    args: tuple = ()
    kwargs: dict = {}


# ------------------------------------------------------------------ domains
def positive(a):
    return np.abs(a) + 0.5


def away_from(*points, margin=0.1):
    """Move values closer than ``margin`` to a kink at one of ``points`` to ``margin`` away."""
    def push(a):
        for p in points:
            a = np.where(np.abs(a - p) < margin, np.where(a >= p, p + margin, p - margin), a)
        return a
    return push


def grid(a):
    """Half-integers: exact in float32 and often equal, so that == and >= see ties."""
    return np.round(a * 2) / 2


def offset_grid(a):
    """A grid a quarter away from ``grid``'s: maximum(x, y) never meets a tie."""
    return grid(a) + 0.25


def distinct(a):
    """A random order of values 0.25 apart: max and min never meet a tie."""
    ranks = np.argsort(np.argsort(a, axis=None)).reshape(a.shape)
    return (ranks - a.size / 2) * 0.25


def as_bool(a):
    return a > 0


# ------------------------------------------------------------------ shape strategies
def shapes(min_dims=0, max_dims=3, min_side=0):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=MAX_SIDE)


def broadcast_cases(num_shapes):
    """Shapes that broadcast together: (2, 1) with (3,), () with anything, 0 with 1."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=0, max_dims=3, min_side=0, max_side=MAX_SIDE
    ).map(lambda drawn: Case(drawn.input_shapes))


UNARY = shapes().map(lambda shape: Case((shape,)))
BINARY = broadcast_cases(2)
# Scalars exact in float32: the float32 test then compares like with like.
FLOATS = st.floats(-2, 2, width=32, allow_subnormal=False)


def dim_of(ndim, extra=0):
    """A valid dim for ``ndim`` dims (a 0-d tensor accepts 0 and -1), negative ones included."""
    n = max(ndim + extra, 1)
    return st.integers(-n, n - 1)


@st.composite
def reduce_cases(draw, extreme=False):
    """``dim`` None, an int or a tuple (negative entries too); ``keepdim`` either way.

    ``extreme`` (amax/amin): every reduced dim needs entries, and "all dims" is spelled by
    leaving ``dim`` out, as torch's amax takes no ``dim=None``.
    """
    shape = draw(shapes())
    kwargs = {"dim": None, "keepdim": draw(st.booleans())}
    kind = draw(st.sampled_from(["all", "int", "tuple"]))
    if kind == "int":
        kwargs["dim"] = draw(dim_of(len(shape)))
    elif kind == "tuple" and shape:
        axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
        kwargs["dim"] = tuple(a - len(shape) * draw(st.booleans()) for a in axes)
    if extreme:
        if any(shape[a] == 0 for a in _reduced_axes(shape, kwargs["dim"])):
            shape = tuple(n or 1 for n in shape)
        if kwargs["dim"] is None:
            del kwargs["dim"]
    return Case((shape,), kwargs=kwargs)


def _reduced_axes(shape, dim):
    if dim is None:
        return tuple(range(len(shape)))
    if not shape:
        return ()
    return tuple(d % len(shape) for d in (dim if isinstance(dim, tuple) else (dim,)))


@st.composite
def max_dim_cases(draw):
    shape = tuple(n or 1 for n in draw(shapes()))  # the reduced dim must have entries
    return Case((shape,), kwargs={"dim": draw(dim_of(len(shape))),
                                  "keepdim": draw(st.booleans())})


@st.composite
def matmul_cases(draw):
    """1-D, 2-D and batched operands, batch dims broadcast against each other."""
    n, k, m = draw(SIDES), draw(SIDES), draw(SIDES)
    batches = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                     max_side=MAX_SIDE)).input_shapes
    x = (k,) if draw(st.booleans()) else batches[0] + (n, k)
    y = (k,) if draw(st.booleans()) else batches[1] + (k, m)
    return Case((x, y))


# ------------------------------------------------------------------ shape-op strategies
def _prime_factors(n):
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


@st.composite
def reshape_cases(draw):
    """A new shape with the same number of elements, maybe with one -1 to infer."""
    shape = draw(shapes())
    pool = [f for n in shape for f in (_prime_factors(n) if n else [0])]
    pool = draw(st.permutations(pool + [1] * draw(st.integers(0, 2))))
    cuts = sorted(draw(st.sets(st.integers(1, max(len(pool) - 1, 1)), max_size=3)))
    groups = [pool[i:j] for i, j in zip([0] + cuts, cuts + [len(pool)]) if i < j]
    target = [math.prod(g) for g in groups]
    if target and math.prod(shape) and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return Case((shape,), args=(tuple(target),))


@st.composite
def flatten_cases(draw):
    shape = draw(shapes())
    n = max(len(shape), 1)
    start, end = sorted(draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2)))
    # Negative dims count from the end: flatten(-2, -1) is flatten(ndim - 2, ndim - 1).
    return Case((shape,), kwargs={"start_dim": start - n * draw(st.booleans()),
                                  "end_dim": end - n * draw(st.booleans())})


@st.composite
def transpose_cases(draw):
    shape = draw(shapes())
    return Case((shape,), args=(draw(dim_of(len(shape))), draw(dim_of(len(shape)))))


@st.composite
def permute_cases(draw):
    shape = draw(shapes())
    dims = draw(st.permutations(range(len(shape))))
    return Case((shape,), args=(tuple(d - len(shape) * draw(st.booleans()) for d in dims),))


SQUEEZABLE = st.lists(st.sampled_from([0, 1, 1, 2]), max_size=3).map(tuple)


@st.composite
def squeeze_cases(draw):
    shape = draw(SQUEEZABLE)
    kind = draw(st.sampled_from(["all", "int", "tuple"]))
    if kind == "int":
        return Case((shape,), kwargs={"dim": draw(dim_of(len(shape)))})
    if kind == "tuple" and shape:
        dims = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
        return Case((shape,), kwargs={"dim": tuple(dims)})
    return Case((shape,))


@st.composite
def unsqueeze_cases(draw):
    shape = draw(shapes())
    return Case((shape,), args=(draw(dim_of(len(shape), extra=1)),))


@st.composite
def expand_cases(draw):
    """Size-1 dims grow (to 0 as well), other dims stay or say -1, new leading dims appear."""
    shape = draw(SQUEEZABLE)
    sizes = [draw(st.sampled_from([n, -1] if n != 1 else [1, 0, 2, 3, -1])) for n in shape]
    lead = draw(st.lists(SIDES, max_size=2))
    return Case((shape,), args=(tuple(lead + sizes),))


@st.composite
def cat_cases(draw, stack=False):
    """Three tensors: the same shape for stack, free sizes along ``dim`` for cat."""
    shape = draw(shapes(min_dims=0 if stack else 1))
    dim = draw(dim_of(len(shape), extra=int(stack)))
    if stack:
        return Case((shape,) * 3, kwargs={"dim": dim})
    d = dim % len(shape)
    sizes = draw(st.lists(SIDES, min_size=3, max_size=3))
    return Case(tuple(shape[:d] + (n,) + shape[d + 1:] for n in sizes), kwargs={"dim": dim})


# ------------------------------------------------------------------ index strategies
@st.composite
def _basic_part(draw, n):
    """An int, or a slice with a positive step (torch has no negative steps), for a dim of n."""
    bound = st.none() | st.integers(-n - 1, n + 1)
    if n and draw(st.booleans()):
        return draw(st.integers(-n, n - 1))
    return slice(draw(bound), draw(bound), draw(st.none() | st.integers(1, 3)))


@st.composite
def basic_index_cases(draw):
    """ints, slices, None and one Ellipsis, in any mix."""
    shape = draw(shapes())
    parts = [draw(_basic_part(n)) for n in shape]
    if draw(st.booleans()):  # an Ellipsis stands for a run of dims, maybe an empty one
        start = draw(st.integers(0, len(parts)))
        parts[start:draw(st.integers(start, len(parts)))] = [Ellipsis]
    else:  # trailing dims left out are taken whole
        parts = parts[:draw(st.integers(0, len(parts)))]
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return Case((shape,), args=(tuple(parts),))


@st.composite
def int_array_index_cases(draw):
    """Integer arrays (negative entries and repeats included) on some dims, slices elsewhere.

    Repeated entries make the gradient accumulate; arrays separated by a slice move the
    indexed dims to the front, in torch as in numpy.
    """
    shape = draw(shapes(min_dims=1))
    index_shape = draw(shapes(max_dims=2))
    parts = []
    for n in shape:
        if n and draw(st.booleans()):
            parts.append(draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-n, n - 1))))
        else:
            parts.append(slice(None))
    if all(isinstance(p, slice) for p in parts):
        n = shape[0]
        parts[0] = np.zeros(index_shape, np.int64) if n else np.zeros((0,), np.int64)
    return Case((shape,), args=(tuple(parts),))


@st.composite
def mask_index_cases(draw):
    """A boolean mask over the leading dims (all of them, or just some)."""
    shape = draw(shapes())
    masked = draw(st.integers(min(len(shape), 1), len(shape)))
    mask = draw(hnp.arrays(np.bool_, shape[:masked]))
    return Case((shape,), args=(mask,))
