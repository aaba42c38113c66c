"""Op tests: the table of tests/_op_table.py against numpy, finite differences and torch."""
import inspect
from typing import NamedTuple

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import tinygrad_optim as tg
from _op_cases import BINARY, Case
from _op_table import OPS
from tinygrad_optim.ops.unary import _kept_where

# `device` is a plain string fixture: sharing it across hypothesis examples is safe.
with_fixtures = settings(suppress_health_check=[*settings.default.suppress_health_check,
                                                HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)
F64 = {"rtol": 1e-12, "atol": 1e-14}  # the same float64 formula up to rounding
# float32 against a float64 reference on the same inputs: sums of up to 27 terms of size <= 2
# (and products up to ~10) accumulate a few ulps, 2e-6 absolute at most.
F32 = {"rtol": 1e-5, "atol": 1e-5}
GRAD = {"rtol": 1e-6, "atol": 1e-7}  # central differences, h = 1e-6: O(h^2 + eps / h) error

FLOAT32_CASES = [pytest.param(spec, kind, id=f"{spec.name}-{kind}") for spec in OPS
                 for kind in (["python", "numpy"] if spec.scalar is not None else ["tensors"])]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ harness
class Drawn(NamedTuple):
    case: Case  # shapes, args, kwargs
    arrays: list  # float64 arrays in the op's domain (bool for where's condition)
    scalar: object  # the Python scalar operand, or None
    rng: np.random.Generator  # for the upstream gradient


def draw(data, spec) -> Drawn:
    """A case of ``spec`` and its operands, mapped into the op's domain."""
    case = data.draw(spec.cases, label="case")
    assert len(case.shapes) == spec.arity
    rng = np.random.default_rng(data.draw(SEEDS, label="seed"))
    operands = [rng.uniform(-2, 2, shape) for shape in case.shapes]
    if spec.scalar is not None:
        operands.append(data.draw(spec.scalar, label="scalar"))
    domain = spec.domain + (None,) * (len(operands) - len(spec.domain))
    # np.asarray: numpy hands back a scalar, not a 0-d array, for f(0-d array).
    operands = [x if f is None else np.asarray(f(np.asarray(x, float)))
                for f, x in zip(domain, operands)]
    if spec.scalar is None:
        return Drawn(case, operands, None, rng)
    return Drawn(case, operands[:-1], np.asarray(operands[-1]).item(), rng)


def lift(lib, value, device=None):
    """Index arrays inside an op's arguments become integer or bool tensors of ``lib``."""
    if isinstance(value, np.ndarray):
        return lib.tensor(value) if device is None else lib.tensor(value, device=device)
    if isinstance(value, tuple):
        return tuple(lift(lib, v, device) for v in value)
    return value


def call(spec, fn, operands, scalar, case, args=None):
    """``fn(*operands, scalar, *args, **kwargs)``, operands in one list for cat and stack."""
    operands = [list(operands)] if spec.packed else list(operands)
    if scalar is not None:
        operands.append(scalar)
    return fn(*operands, *(case.args if args is None else args), **case.kwargs)


def call_ours(spec, tensors, scalar, case, device):
    return call(spec, spec.op, tensors, scalar, case, lift(tg, case.args, device))


def primary(out):
    """The differentiable output: max(dim=...) returns (values, indices)."""
    return out[0] if isinstance(out, tuple) else out


def as_tensors(arrays, dtype, device, requires_grad):
    return [tg.tensor(a.astype(dtype) if a.dtype.kind == "f" else a, device=device,
                      requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]


def host(tensor):
    return tensor.detach().cpu().numpy()


def numerical_grad(f, arrays, g, eps=1e-6):
    """Central differences of ``sum(g * f(*arrays))`` with respect to each float array.

    Returns one array per input (None for bool inputs, which have no gradient).
    """
    def probe(i, j, step):
        moved = list(arrays)
        moved[i] = arrays[i].copy()
        moved[i][j] += step
        return np.sum(g * f(*moved))

    grads = []
    for i, a in enumerate(arrays):
        if a.dtype.kind != "f":
            grads.append(None)
            continue
        grad = np.zeros_like(a)
        for j in np.ndindex(a.shape):
            grad[j] = (probe(i, j, eps) - probe(i, j, -eps)) / (2 * eps)
        grads.append(grad)
    return grads


def assert_output(actual, expected, float_dtype, tol):
    """Shape, dtype (floats in ``float_dtype``, indices int64, comparisons bool) and values."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_output(a, e, float_dtype, tol)
        return
    expected = np.asarray(expected)
    want = {"f": np.dtype(float_dtype), "b": np.dtype(bool)}.get(expected.dtype.kind,
                                                                 np.dtype(np.int64))
    assert actual.dtype.np == want
    assert actual.shape == expected.shape
    np.testing.assert_allclose(host(actual), expected.astype(want), equal_nan=True, **tol)


# ------------------------------------------------------------------ table-driven tests
@pytest.mark.parametrize("spec", OPS, ids=repr)
@with_fixtures
@given(data=st.data())
def test_op_forward_matches_numpy_in_float64(spec, device, data):
    case, arrays, scalar, _ = draw(data, spec)
    out = call_ours(spec, as_tensors(arrays, np.float64, device, False), scalar, case, device)
    assert_output(out, call(spec, spec.ref, arrays, scalar, case), np.float64, F64)


@pytest.mark.parametrize("spec, scalar_kind", FLOAT32_CASES)
@with_fixtures
@given(data=st.data())
def test_op_forward_float32_stays_float32(spec, scalar_kind, device, data):
    """No upcast: float32 in, float32 out, also with a numpy float64 (or int64) scalar."""
    case, arrays, scalar, _ = draw(data, spec)
    arrays = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in arrays]
    operand = scalar
    if scalar_kind == "numpy":
        operand = np.float64(scalar) if isinstance(scalar, float) else np.int64(scalar)
    out = call_ours(spec, as_tensors(arrays, np.float32, device, False), operand, case, device)
    # The reference runs in float64 on the very values the float32 tensors hold.
    wide = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    assert_output(out, call(spec, spec.ref, wide, scalar, case), np.float32, F32)


@pytest.mark.parametrize("spec", [s for s in OPS if s.grad], ids=repr)
@with_fixtures
@given(data=st.data())
def test_op_backward_matches_finite_differences(spec, device, data):
    case, arrays, scalar, rng = draw(data, spec)
    tensors = as_tensors(arrays, np.float64, device, True)
    out = primary(call_ours(spec, tensors, scalar, case, device))
    g = rng.standard_normal(out.shape)
    out.backward(gradient=tg.tensor(g, device=device))
    expected = numerical_grad(lambda *xs: primary(call(spec, spec.ref, xs, scalar, case)),
                              arrays, g)
    for tensor, grad in zip(tensors, expected):
        if grad is not None:
            assert tensor.grad is not None and tensor.grad.dtype is tg.float64
            np.testing.assert_allclose(host(tensor.grad), grad, **GRAD)


def resolve(module, dotted):
    """``resolve(torch, "Tensor.view")``: the callable a dotted name names (Tensor.T's getter)."""
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    if inspect.isdatadescriptor(obj):  # Tensor.T
        return lambda tensor: obj.__get__(tensor, type(tensor))
    return obj


def assert_like_torch(ours, theirs, tol):
    """Same dtype, shape and values as torch's output (a tensor or a (values, indices) pair)."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_like_torch(a, b, tol)
        return
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(host(ours), theirs.detach().numpy(), equal_nan=True, **tol)


@pytest.mark.torch
@pytest.mark.parametrize("spec", OPS, ids=repr)
@with_fixtures
@given(data=st.data())
def test_op_matches_torch(spec, device, torch, data):
    """Values, dtypes and gradients equal torch's for the same float64 inputs."""
    case, arrays, scalar, rng = draw(data, spec)
    ours = as_tensors(arrays, np.float64, device, spec.grad)
    theirs = [torch.tensor(a, requires_grad=spec.grad and a.dtype.kind == "f") for a in arrays]
    out = call_ours(spec, ours, scalar, case, device)
    ref = call(spec, resolve(torch, spec.torch), theirs, scalar, case, lift(torch, case.args))
    assert_like_torch(out, ref, F64)
    if spec.grad:
        g = rng.standard_normal(primary(out).shape)
        primary(out).backward(gradient=tg.tensor(g, device=device))
        primary(ref).backward(gradient=torch.tensor(g))
        for mine, torchs in zip(ours, theirs):
            if torchs.requires_grad:
                assert_like_torch(mine.grad, torchs.grad, F64)


def _aligned(a, b):
    n = max(len(a), len(b))
    return zip((1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b)


EDGE_SHAPES = {
    "0-d": lambda a, b: a == (),
    "size-zero-against-one": lambda a, b: any(m == 0 and n == 1 for m, n in _aligned(a, b)),
    "broadcast-both-ways": lambda a, b: (any(m == 1 < n for m, n in _aligned(a, b))
                                         and any(n == 1 < m for m, n in _aligned(a, b))),
}


@pytest.mark.parametrize("wanted", EDGE_SHAPES.values(), ids=EDGE_SHAPES.keys())
def test_op_table_draws_edge_shapes(wanted):
    """The binary ops' strategy does draw 0-d, size-zero and two-way broadcast pairs."""
    case = find(BINARY, lambda c: wanted(*c.shapes), settings=settings(database=None))
    assert wanted(*case.shapes)


# Ops of tinygrad_optim.ops that the table leaves to other tests, and why.
NOT_IN_TABLE = {
    "getitem": "in the table as operator.getitem, i.e. Tensor.__getitem__",
    "clone": "a copy: tests of Tensor.clone",
    "to_dtype": "a cast: tests of Tensor.to",
    "to_device_op": "a device move: tests of Tensor.to",
    "argmax": "integer indices, no gradient: tests/test_argmax.py against torch",
    "argmin": "integer indices, no gradient: tests/test_argmax.py against torch",
}


def test_op_table_covers_every_op():
    covered = {spec.op for spec in OPS}
    missing = [name for name in tg.ops.__all__
               if getattr(tg.ops, name) not in covered and name not in NOT_IN_TABLE]
    assert missing == []


# ------------------------------------------------------------------ edge semantics, as torch
def _run(lib, expr, values, device=None):
    """``expr(lib, *tensors)`` on float64 leaves; returns the output and the leaves' grads."""
    kw = {} if device is None else {"device": device}
    leaves = [lib.tensor(v, dtype=lib.float64, requires_grad=True, **kw) for v in values]
    out = expr(lib, *leaves)
    g = np.random.default_rng(0).standard_normal(tuple(out.shape))
    out.backward(gradient=lib.tensor(g, **kw))
    grads = [None if x.grad is None else x.grad.detach().cpu().numpy() for x in leaves]
    return out.detach().cpu().numpy(), grads


INF = float("inf")
EDGE_GRADS = {
    # ties: max()/min()/amax/amin share the gradient equally, max(dim) gives it to the index
    # it returns, maximum/minimum split it in halves
    "max_all_ties": (lambda m, x: x.max(), [[1., 3., 3.], [3., 0., 2.]]),
    "min_all_ties": (lambda m, x: x.min(), [[1., 0., 3.], [0., 0., 2.]]),
    "max_dim_ties": (lambda m, x: x.max(dim=1).values, [[1., 3., 3.], [5., 5., 1.]]),
    "min_dim_ties": (lambda m, x: x.min(dim=0, keepdim=True).values, [[1., 3.], [1., 3.]]),
    "amax_ties": (lambda m, x: x.amax(dim=1), [[1., 3., 3.], [5., 5., 5.]]),
    "amax_tuple_ties": (lambda m, x: x.amax(dim=(0, 1)), [[1., 3.], [3., 3.]]),
    "amin_ties": (lambda m, x: m.amin(x, dim=-1, keepdim=True), [[2., 2., 3.], [0., 1., 0.]]),
    "maximum_ties": (lambda m, x, y: m.maximum(x, y), [1., 2., 3.], [1., 0., 3.]),
    "minimum_ties": (lambda m, x, y: m.minimum(x, y), [1., 2., 3.], [1., 5., 3.]),
    "maximum_ties_broadcast": (lambda m, x, y: m.maximum(x, y), [[1.], [2.]], [1., 2., 3.]),
    # kinks: clamp passes the gradient at both bounds, relu and abs pass none at 0
    "clamp_at_bounds": (lambda m, x: x.clamp(-1., 1.), [-2., -1., 0., 1., 2.]),
    "clamp_min_at_bound": (lambda m, x: x.clamp(min=0.), [-1., 0., 1.]),
    "clamp_max_at_bound": (lambda m, x: m.clamp(x, max=0.), [-1., 0., 1.]),
    "clamp_min_above_max": (lambda m, x: x.clamp(1., 0.), [-1., 0., 0.5, 1., 2.]),
    "relu_at_0": (lambda m, x: x.relu(), [-1., 0., -0., 1.]),
    "abs_at_0": (lambda m, x: x.abs(), [-1., 0., -0., 1.]),
    # powers at 0 and with exponent 0
    "pow_exponent_0": (lambda m, x: x ** 0, [-1., 0., 2.]),
    "pow_float_exponent_0": (lambda m, x: x ** 0.0, [-1., 0., 2.]),
    "pow_square_at_0": (lambda m, x: x ** 2, [0., -0.]),
    "pow_half_at_0": (lambda m, x: x ** 0.5, [0., 4.]),
    "pow_negative_at_0": (lambda m, x: x ** -1, [0., -0., 2.]),
    "rpow_base_0": (lambda m, x: 0.0 ** x, [-1., 0., 1.]),
    "rpow_base_1": (lambda m, x: 1 ** x, [-1., 0., 1.]),
    "rpow_negative_base": (lambda m, x: (-2.0) ** x, [-1., 0., 0.5, 2.]),
    "pow_tensors_base_0": (lambda m, x, y: x ** y, [0., 0., 0., 0., 2.], [0., 1., 2., -1., 0.]),
    "pow_tensors_negative_base": (lambda m, x, y: x ** y, [-2., -2.], [2., 0.5]),
    # IEEE specials come out quietly, as in torch
    "div_by_0": (lambda m, x, y: x / y, [1., -1., 0.], [0., 0., 0.]),
    "div_scalar_by_0": (lambda m, x: 1.0 / x, [0., -0.]),
    "log_at_0": (lambda m, x: x.log(), [0., -1.]),
    "sqrt_at_0": (lambda m, x: m.sqrt(x), [0., -1.]),
    "exp_overflow": (lambda m, x: x.exp(), [1000., -1000.]),
    "sigmoid_saturates": (lambda m, x: x.sigmoid(), [-1000., 0., 1000.]),
    "tanh_saturates": (lambda m, x: x.tanh(), [-1000., 1000.]),
    "sin_at_inf": (lambda m, x: x.sin(), [INF]),
    "mul_overflow": (lambda m, x: x * 1e300, [1e300, -1e300]),
    "inf_minus_inf": (lambda m, x, y: x - y, [INF], [INF]),
    # an inf gradient reaches relu and clamp: none of it gets past the dead inputs
    "relu_inf_gradient": (lambda m, x: x.relu() * 1e300 * 1e300, [-1., 1.]),
    "clamp_inf_gradient": (lambda m, x: x.clamp(0., 1.) * 1e300 * 1e300, [-1., 0.5, 2.]),
    "mean_of_nothing": (lambda m, x: x.mean(dim=1), [[], []]),
    # indexing: repeated indices accumulate
    "getitem_repeated": (lambda m, x: x[m.tensor([0, 0, 2, 0])], [1., 2., 3.]),
    "getitem_repeated_2d": (lambda m, x: x[m.tensor([1, 1]), m.tensor([0, 0])],
                            [[1., 2.], [3., 4.]]),
    "getitem_mask": (lambda m, x: x[x > 1.5], [[1., 2.], [3., 0.]]),
    "getitem_mixed": (lambda m, x: x[None, ..., m.tensor([1, 1]), 0], [[[1., 2.], [3., 4.]]]),
    "where_scalar_other": (lambda m, x: m.where(x > 0, x, 0.0), [-1., 0., 2.]),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", EDGE_GRADS.values(), ids=EDGE_GRADS.keys())
def test_op_edge_matches_torch(torch, device, case):
    """Values and gradients at ties, kinks and IEEE specials equal torch's, without warnings."""
    expr, *values = case
    out, grads = _run(tg, expr, values, device)
    want_out, want_grads = _run(torch, expr, values)
    np.testing.assert_allclose(out, want_out, rtol=1e-12, equal_nan=True)
    for grad, want in zip(grads, want_grads):
        np.testing.assert_allclose(grad, want, rtol=1e-12, equal_nan=True)


PROMOTIONS = {
    "int_times_float_scalar": lambda m: m.tensor([1, 2]) * 2.5,
    "float_scalar_times_int": lambda m: 2.5 * m.tensor([1, 2]),
    "int_div_int": lambda m: m.tensor([1, 2]) / m.tensor([2, 4]),
    "int_div_int_scalar": lambda m: m.tensor([1, 3]) / 2,
    "int_scalar_div_int": lambda m: 3 / m.tensor([1, 2]),
    "bool_div_bool": lambda m: m.tensor([True, True]) / m.tensor([True, True]),
    "int32_div_int32": lambda m: m.tensor([1, 3], dtype=m.int32) / m.tensor(2, dtype=m.int32),
    "float32_plus_int64": lambda m: m.ones(2) + m.tensor([1, 2]),
    "int64_plus_float32": lambda m: m.tensor([1, 2]) + m.ones(2),
    "float32_times_0d_float64": lambda m: m.ones(2) * m.tensor(2.5, dtype=m.float64),
    "0d_float64_minus_float32": lambda m: m.tensor(2.5, dtype=m.float64) - m.ones(2),
    "0d_float64_plus_0d_float32": lambda m: m.tensor(2.5, dtype=m.float64) + m.tensor(1.5),
    "0d_float32_times_int64": lambda m: m.tensor(1.5) * m.tensor([1, 2]),
    "0d_int64_plus_int32": lambda m: m.tensor(1) + m.tensor([1, 2], dtype=m.int32),
    "float32_plus_numpy_float64": lambda m: m.ones(2) + np.float64(0.1),
    "numpy_float64_minus_float32": lambda m: np.float64(0.1) - m.ones(2),
    "numpy_float64_times_float32": lambda m: np.float64(3) * m.ones(2),
    "float32_pow_numpy_float64": lambda m: m.ones(2) ** np.float64(0.5),
    "numpy_float64_div_float32": lambda m: np.float64(1) / m.ones(2),
    "float32_times_numpy_int64": lambda m: m.ones(2) * np.int64(3),
    "float16_times_float32": lambda m: m.ones(2, dtype=m.float16) * m.ones(2),
    "float16_times_0d_float64": lambda m: m.ones(2, dtype=m.float16) * m.tensor(2.),
    "bool_plus_bool": lambda m: m.tensor([True, False]) + m.tensor([True, True]),
    "bool_times_int": lambda m: m.tensor([True, False]) * 2,
    "bool_times_float": lambda m: m.tensor([True, False]) * 2.5,
    "int32_times_int_scalar": lambda m: m.tensor([1, 2], dtype=m.int32) * 3,
    "uint8_plus_int8": lambda m: m.tensor([1, 2], dtype=m.uint8) + m.tensor([1], dtype=m.int8),
    "int_pow_int": lambda m: m.tensor([1, 2]) ** 2,
    "int_pow_float": lambda m: m.tensor([1, 2]) ** 0.5,
    "int_pow_negative_int_tensor": lambda m: m.tensor([-1, 1, 2]) ** m.tensor([-1, -2, -1]),
    "int_scalar_pow_negative_int": lambda m: 2 ** m.tensor([-1, 2]),
    "float_scalar_pow_int": lambda m: 2.5 ** m.tensor([1, 2]),
    "bool_pow_int": lambda m: m.tensor([True, False]) ** 2,
    "int_exp": lambda m: m.tensor([1, 2]).exp(),
    "int_sqrt": lambda m: m.sqrt(m.tensor([1, 4])),
    "int_sigmoid": lambda m: m.tensor([1, 2]).sigmoid(),
    "int_abs": lambda m: m.tensor([-1, 2]).abs(),
    "int_relu": lambda m: m.tensor([-1, 2]).relu(),
    "int_clamp_float": lambda m: m.tensor([1, 2]).clamp(0.5, 1.5),
    "int_clamp_int": lambda m: m.tensor([1, 2]).clamp(max=1),
    "bool_clamp_int": lambda m: m.tensor([True, False]).clamp(0),
    "int_maximum_float": lambda m: m.maximum(m.tensor([1, 2]), m.tensor([1.5, 0.5])),
    "float32_minimum_0d_float64": lambda m: m.minimum(m.ones(2), m.tensor(0., dtype=m.float64)),
    "where_int_float_scalar": lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]), 2.5),
    "where_float_scalars": lambda m: m.where(m.tensor([True, False]), 1., 2.),
    "where_int_scalars": lambda m: m.where(m.tensor([True, False]), 1, 2),
    "where_0d_float64": lambda m: m.where(m.tensor([True, False]), m.ones(2),
                                          m.tensor(2., dtype=m.float64)),
    "bool_sum": lambda m: m.tensor([True, False, True]).sum(),
    "int8_sum": lambda m: m.tensor([100, 100], dtype=m.int8).sum(dim=0),
    "bool_amax": lambda m: m.tensor([True, False]).amax(),
    "int_max_dim": lambda m: m.tensor([[1, 5], [7, 2]]).max(dim=1),
    "cat_int_float": lambda m: m.cat([m.ones(2), m.tensor([1, 2])]),
    "cat_float32_float64": lambda m: m.cat([m.ones(2), m.ones(2, dtype=m.float64)]),
    "cat_empty_float64": lambda m: m.cat([m.ones(0, dtype=m.float64), m.ones(2, 2)], dim=1),
    "stack_int_float": lambda m: m.stack([m.tensor([1, 2]), m.ones(2)]),
    "int_gt_float_scalar": lambda m: m.tensor([1, 2]) > 1.5,
    "float_eq_int": lambda m: m.ones(2) == m.tensor([1, 2]),
    "int_le_0d_float": lambda m: m.tensor([1, 2]) <= m.tensor(1.5),
    "bool_ne_int": lambda m: m.tensor([True, False]) != 1,
    "int_matmul_int": lambda m: m.tensor([[1, 2], [3, 4]]) @ m.tensor([1, 1]),
}


@pytest.mark.torch
@pytest.mark.parametrize("expr", PROMOTIONS.values(), ids=PROMOTIONS.keys())
def test_op_promotes_like_torch(torch, expr):
    """Result dtypes (and values) follow torch's promotion, not numpy's."""
    ours, theirs = expr(tg), expr(torch)
    assert isinstance(ours, (tg.Tensor, tuple))
    assert_like_torch(ours, tuple(theirs) if isinstance(theirs, tuple) else theirs,
                      {"rtol": 1e-6})


COMPARISONS = ["__gt__", "__ge__", "__lt__", "__le__", "__eq__", "__ne__"]


@pytest.mark.parametrize("method", COMPARISONS)
def test_comparison_is_bool_and_not_recorded(device, method):
    x = tg.tensor([1., 2., 3.], device=device, requires_grad=True)
    out = getattr(x, method)(tg.tensor([2., 2., 2.], device=device, requires_grad=True))
    assert out.dtype is tg.bool
    assert out.requires_grad is False and out.grad_fn is None


def test_max_dim_indices_are_int64_and_not_recorded(device):
    x = tg.tensor([[1., 5.], [7., 2.]], device=device, requires_grad=True)
    values, indices = x.max(dim=1)
    assert values.requires_grad and indices.dtype is tg.int64
    assert indices.requires_grad is False and indices.tolist() == [1, 0]


def _t(m, *shape, dtype=None):
    """A tensor of ones of ``shape`` (0-d with no sizes) in library ``m``."""
    return m.ones(shape, dtype=dtype or m.float32)


def _assign(tensor, index, value):
    tensor[index] = value
    return tensor


ERRORS = {
    # indexing
    "index_int_out_of_range": lambda m: _t(m, 3)[3],
    "index_negative_out_of_range": lambda m: _t(m, 3)[-4],
    "index_second_dim": lambda m: _t(m, 2, 3)[1, -4],
    "index_position_counts_none": lambda m: _t(m, 2, 3)[None, 1, None, 3],
    "index_after_ellipsis": lambda m: _t(m, 2, 3, 4)[..., 5],
    "index_array_out_of_range": lambda m: _t(m, 3)[m.tensor([0, 5])],
    "index_array_negative": lambda m: _t(m, 3)[m.tensor([[0, -5], [7, 1]])],
    "index_array_after_slice": lambda m: _t(m, 2, 3)[:, m.tensor([0, 3])],
    "index_arrays_second": lambda m: _t(m, 2, 3)[m.tensor([0, 4]), m.tensor([5, 0])],
    "index_array_after_mask": lambda m: _t(m, 2, 3, 4)[_t(m, 2, 3) > 0, m.tensor([0] * 5 + [5])],
    "index_array_size_0": lambda m: _t(m, 0, 3)[m.tensor([0])],
    "index_arrays_shape_mismatch": lambda m: _t(m, 2, 3)[m.tensor([0, 1]), m.tensor([0, 1, 2])],
    "index_mask_shape": lambda m: _t(m, 2, 3)[m.tensor([True, False, True])],
    "index_mask_second_dim": lambda m: _t(m, 2, 3)[:, m.tensor([True, False])],
    "index_too_many": lambda m: _t(m, 3)[0, 0],
    "index_too_many_with_mask": lambda m: _t(m, 2, 3)[_t(m, 2, 3) > 0, 0],
    "index_0d_int": lambda m: _t(m)[0],
    "index_0d_tuple": lambda m: _t(m)[0, ],
    "index_0d_slice": lambda m: _t(m)[:],
    "index_float": lambda m: _t(m, 3)[1.5],
    "setitem_recorded_out_of_range": lambda m: _assign(m.ones(3, requires_grad=True) * 1,
                                                       m.tensor([0, 5]), 1.),
    "setitem_out_of_range": lambda m: _assign(_t(m, 3), 5, 1.),
    "setitem_array_out_of_range": lambda m: _assign(_t(m, 3), m.tensor([0, 5]), 1.),
    "index_float_tensor": lambda m: _t(m, 3)[m.tensor([0., 1.])],
    "index_0d_float_tensor": lambda m: _t(m, 3)[m.tensor(1.)],
    # shapes
    "reshape_size": lambda m: _t(m, 2, 3).reshape(4, 2),
    "reshape_two_inferred": lambda m: _t(m, 2, 3).reshape(-1, -1),
    "reshape_inferred_no_fit": lambda m: _t(m, 2, 3).reshape(-1, 4),
    "reshape_negative": lambda m: _t(m, 2, 3).reshape(-2, 3),
    "reshape_zero_ambiguous": lambda m: _t(m, 0, 3).reshape(-1, 0),
    "reshape_zero_size": lambda m: _t(m, 2, 3).reshape(0, -1),
    "view_size": lambda m: _t(m, 2, 3).view(5),
    "view_not_contiguous": lambda m: _t(m, 2, 3).t().view(6),
    "expand_too_few_sizes": lambda m: _t(m, 2, 3, dtype=m.float64).expand(3),
    "expand_non_singleton": lambda m: _t(m, 2, 3).expand(4, 3),
    "expand_new_dim_inferred": lambda m: _t(m, 2, 3).expand(-1, 2, 3),
    "flatten_start_after_end": lambda m: _t(m, 2, 3, 4).flatten(2, 1),
    "flatten_dim_range": lambda m: _t(m, 2, 3).flatten(0, 2),
    "squeeze_dim_range": lambda m: _t(m, 2, 3).squeeze(2),
    "squeeze_repeated_dim": lambda m: _t(m, 1, 3).squeeze((0, 0)),
    "unsqueeze_dim_range": lambda m: _t(m, 2, 3).unsqueeze(3),
    "transpose_dim_range": lambda m: _t(m, 2, 3).transpose(0, 2),
    "permute_length": lambda m: _t(m, 2, 3).permute(0, 1, 2),
    "permute_repeated": lambda m: _t(m, 2, 3).permute(1, 1),
    "t_3d": lambda m: _t(m, 2, 3, 4).t(),
    "cat_empty_list": lambda m: m.cat([]),
    "cat_ndim": lambda m: m.cat([_t(m, 2, 3), _t(m, 2)]),
    "cat_sizes": lambda m: m.cat([_t(m, 2, 3), _t(m, 0), _t(m, 3, 3)], dim=1),
    "cat_dim_range": lambda m: m.cat([_t(m, 2, 3), _t(m, 2, 3)], dim=2),
    "cat_0d": lambda m: m.cat([_t(m, 2), _t(m)]),
    "stack_empty_list": lambda m: m.stack([]),
    "stack_sizes": lambda m: m.stack([_t(m, 2, 3), _t(m, 3, 3)]),
    "stack_dim_range": lambda m: m.stack([_t(m, 2, 3), _t(m, 2, 3)], dim=-4),
    # broadcasting
    "add_broadcast": lambda m: _t(m, 2, 1) + _t(m, 3, 4),
    "mul_broadcast_inner_dim": lambda m: _t(m, 5, 2, 1) * _t(m, 3, 4),
    "pow_broadcast": lambda m: _t(m, 2, 3) ** _t(m, 4, 2, 4),
    "gt_broadcast": lambda m: _t(m, 2) > _t(m, 3),
    "maximum_broadcast": lambda m: m.maximum(_t(m, 2), _t(m, 3, dtype=m.float64)),
    "where_broadcast": lambda m: m.where(_t(m, 2) > 0, _t(m, 3), _t(m, 4)),
    "where_broadcast_other": lambda m: m.where(_t(m, 2) > 0, _t(m, 2), _t(m, 4)),
    # matmul
    "matmul_0d": lambda m: _t(m) @ _t(m, 3),
    "matmul_dot_sizes": lambda m: _t(m, 3) @ _t(m, 5),
    "matmul_mv_sizes": lambda m: _t(m, 3, 4) @ _t(m, 5),
    "matmul_batched_mv_sizes": lambda m: _t(m, 5, 2, 3) @ _t(m, 4),
    "matmul_vm_sizes": lambda m: _t(m, 3) @ _t(m, 4, 5),
    "matmul_mm_sizes": lambda m: _t(m, 2, 3) @ _t(m, 4, 5),
    "matmul_batched_mm_sizes": lambda m: _t(m, 2, 2, 3) @ _t(m, 4, 2),
    "matmul_bmm_sizes": lambda m: _t(m, 2, 2, 3) @ _t(m, 1, 2, 4, 2),
    "matmul_bmm_right_batched": lambda m: _t(m, 3, 2) @ _t(m, 3, 2, 3, 1),
    "matmul_batch_broadcast": lambda m: _t(m, 4, 2, 2, 3) @ _t(m, 3, 3, 2),
    "matmul_dot_dtype": lambda m: _t(m, 3) @ _t(m, 3, dtype=m.float64),
    "matmul_mv_dtype": lambda m: _t(m, 2, 3) @ _t(m, 3, dtype=m.int64),
    "matmul_mm_dtype": lambda m: _t(m, 2, 3, dtype=m.float64) @ _t(m, 3, 2),
    "matmul_mm_half": lambda m: _t(m, 2, 3, dtype=m.float16) @ _t(m, 3, 2),
    "matmul_bmm_dtype": lambda m: _t(m, 3) @ _t(m, 2, 3, 2, dtype=m.int64),
    # reductions
    "sum_dim_range": lambda m: _t(m, 2, 3).sum(dim=2),
    "sum_repeated_dim": lambda m: _t(m, 2, 3).sum(dim=(1, -1)),
    "sum_0d_dim_range": lambda m: _t(m).sum(dim=1),
    "mean_int": lambda m: m.tensor([1, 2]).mean(),
    "mean_dim_range": lambda m: _t(m, 2, 3).mean(dim=-3),
    "max_dim_range": lambda m: _t(m, 2, 3).max(dim=5),
    "max_empty": lambda m: _t(m, 0, 3).max(),
    "min_dim_empty": lambda m: _t(m, 0, 3).min(dim=0),
    "amax_empty": lambda m: _t(m, 0, 3).amax(),
    "amin_dim_empty": lambda m: _t(m, 0, 3).amin(dim=(0, 1)),
    "amax_repeated_dim": lambda m: _t(m, 2, 3).amax(dim=(1, -1)),
    # operand types
    "neg_bool": lambda m: -m.tensor([True]),
    "abs_bool": lambda m: m.tensor([True]).abs(),
    "relu_bool": lambda m: m.tensor([True]).relu(),
    "int_pow_negative_int": lambda m: m.tensor([1, 2]) ** -1,
    "maximum_scalar": lambda m: m.maximum(_t(m, 2), 1.5),
    "where_float_condition": lambda m: m.where(_t(m, 2), _t(m, 2), 1.),
    "clamp_no_bounds": lambda m: _t(m, 2).clamp(),
}


@pytest.mark.torch
@pytest.mark.parametrize("expr", list(ERRORS.values()), ids=list(ERRORS))
def test_op_error_matches_torch(torch, expr):
    """Bad input raises torch's exception type with torch's message."""
    with pytest.raises(Exception) as theirs:
        expr(torch)
    with pytest.raises(type(theirs.value)) as ours:
        expr(tg)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@given(data=st.data())
def test_kept_where_equals_numpys_where_bit_for_bit(dtype, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    gy = data.draw(hnp.arrays(dtype, shape))  # any bits: inf, nan, -0.0 included
    mask = data.draw(hnp.arrays(np.bool_, shape))
    kept = _kept_where(np, mask == 1, gy)  # a 0-d comparison gives a numpy scalar
    expected = np.where(mask, gy, dtype(0))
    assert kept.dtype == gy.dtype and kept.shape == gy.shape
    assert kept.tobytes() == np.asarray(expected, dtype).tobytes()
