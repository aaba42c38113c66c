"""Tests that format_tensor reproduces PyTorch's repr(tensor) text."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_optim._tensor_str import format_tensor

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]
GRAD_MODES = ["none", "requires_grad", "grad_fn"]
NAN, INF = float("nan"), float("inf")


def _arr(values, dtype="float32"):
    """Builds an array, silencing overflow when a value does not fit the dtype."""
    with np.errstate(all="ignore"):
        return np.array(values, dtype=dtype)


def _ours(array, grad="none", device="cpu"):
    """Formats with torch-style names so the text is comparable with torch."""
    return format_tensor(
        array,
        dtype_name="torch." + array.dtype.name,
        device=device,
        requires_grad=grad == "requires_grad",
        grad_fn_name="CloneBackward0" if grad == "grad_fn" else None,
    )


def _theirs(torch, array, grad="none"):
    """Returns torch's repr of the same data, with the requested autograd state."""
    tensor = torch.from_numpy(array)
    if grad != "none":
        tensor = tensor.detach().clone().requires_grad_()
    if grad == "grad_fn":
        tensor = tensor.clone()
    return repr(tensor)


def _theirs_on_device(torch, monkeypatch, array, grad):
    """Torch repr as if on a non-default device, labelled 'xpu' (same length as 'cpu')."""
    # A CPU-only torch never prints a device; pretending the default device is
    # something else makes it print device='cpu' exactly where cuda:0 would go.
    monkeypatch.setattr(torch._C, "_get_default_device", lambda: "meta")
    text = _theirs(torch, array, grad)
    assert "device='cpu'" in text
    return text.replace("device='cpu'", "device='xpu'")


def _grad_modes(array):
    """Autograd variants torch allows for this dtype (only floats can require grad)."""
    return GRAD_MODES if array.dtype.kind == "f" else ["none"]


_big_with_outlier = np.arange(2000, dtype=np.float32)
_big_with_outlier[1000] = 1e10  # hidden by summarization, so it must not force sci mode

TRICKY = [
    pytest.param(_arr(3.5), id="scalar-float"),
    pytest.param(_arr(7, "int64"), id="scalar-int"),
    pytest.param(_arr(True, "bool"), id="scalar-bool"),
    pytest.param(_arr(NAN), id="scalar-nan"),
    pytest.param(_arr(-0.0), id="scalar-neg-zero"),
    pytest.param(_arr(1e-7, "float64"), id="scalar-tiny"),
    pytest.param(_arr([1, 2, 3]), id="int-valued-floats"),
    pytest.param(_arr([1.5, 2, -3.25]), id="fixed"),
    pytest.param(_arr([1e-5, 1.0]), id="sci-small"),
    pytest.param(_arr([1e9, 1.0]), id="sci-large"),
    pytest.param(_arr([1.0, 1001.0]), id="sci-ratio"),
    pytest.param(_arr([1.0, 1000.0]), id="ratio-exactly-1000"),
    pytest.param(_arr([1e8], "float64"), id="exactly-1e8"),
    pytest.param(_arr([1e-4], "float64"), id="exactly-1e-4-f64"),
    pytest.param(_arr([1e-4], "float32"), id="1e-4-f32-rounds-below"),
    pytest.param(_arr([1e20, -3.0]), id="sci-int-mode"),
    pytest.param(_arr([NAN, INF, -INF]), id="only-nonfinite"),
    pytest.param(_arr([0.0, NAN]), id="zero-and-nan"),
    pytest.param(_arr([1.0, NAN, 100.0]), id="int-mode-nan-padding"),
    pytest.param(_arr([1.5, NAN, -INF]), id="fixed-nonfinite"),
    pytest.param(_arr([1e-5, 1.0, NAN, -INF, -0.0]), id="sci-nonfinite-neg-zero"),
    pytest.param(_arr([-0.0, 0.0]), id="neg-zero-int-mode"),
    pytest.param(_arr([-0.0, 1.5]), id="neg-zero-fixed"),
    pytest.param(_arr([[0.0, 0.0], [0.0, 0.0]]), id="all-zeros"),
    pytest.param(_arr([0.1, 65504.0, -2.5], "float16"), id="float16"),
    pytest.param(_arr([5e-324, 1e300], "float64"), id="ratio-overflows"),
    pytest.param(_arr([np.finfo(np.float32).max, -1.0]), id="float32-max"),
    pytest.param(_arr([2**62, -(2**63), 5], "int64"), id="large-int64"),
    pytest.param(_arr([0, 255, 7], "uint8"), id="uint8"),
    pytest.param(_arr([-128, 127], "int8"), id="int8"),
    pytest.param(_arr([-32768, 1], "int16"), id="int16"),
    pytest.param(_arr([-(2**31), 1], "int32"), id="int32"),
    pytest.param(_arr([True, False, True], "bool"), id="bool-padded"),
    pytest.param(_arr([[True], [True]], "bool"), id="bool-all-true"),
    pytest.param(np.arange(30, dtype=np.float32) / 3, id="wrap-1d"),
    pytest.param(np.arange(100), id="wrap-ints"),
    pytest.param(np.arange(90, dtype=np.float64).reshape(3, 30) * 1.5, id="wrap-2d"),
    pytest.param(np.arange(24, dtype=np.int16).reshape(2, 3, 4), id="3d-blank-line"),
    pytest.param(np.arange(48, dtype=np.float32).reshape(2, 2, 3, 4) - 20.5, id="4d-blank-lines"),
    pytest.param(_arr([[[5.0]]]), id="size-one-dims"),
    pytest.param(np.arange(1001), id="summarize-1d"),
    pytest.param(np.arange(1001, dtype=np.float32) / 7, id="summarize-1d-float"),
    pytest.param(np.arange(1600, dtype=np.float64).reshape(40, 40) / 3, id="summarize-2d"),
    pytest.param(np.arange(1331, dtype=np.int32).reshape(11, 11, 11), id="summarize-3d"),
    pytest.param(np.arange(2000).reshape(2, 1000) % 7 == 0, id="summarize-bool"),
    pytest.param(np.arange(1000), id="threshold-not-exceeded"),
    pytest.param(_big_with_outlier, id="summarize-hides-outlier"),
    pytest.param(np.zeros(0, np.float32), id="empty-1d"),
    pytest.param(np.zeros((0, 3), np.float32), id="empty-2d"),
    pytest.param(np.zeros((2, 0, 4), np.float64), id="empty-3d-float64"),
    pytest.param(np.zeros(0, np.int64), id="empty-int64"),
    pytest.param(np.zeros((3, 0), np.bool_), id="empty-bool"),
    pytest.param(np.zeros(0, np.float16), id="empty-float16"),
    pytest.param(np.arange(12, dtype=np.float32).reshape(3, 4).T, id="transposed"),
    pytest.param(np.arange(20, dtype=np.int8)[::3], id="strided"),
    pytest.param(np.arange(27, dtype=np.float64) + 0.5, id="dtype-suffix-wraps"),
    pytest.param(np.arange(24, dtype=np.float64).reshape(1, 24) + 0.5, id="dtype-after-matrix"),
    pytest.param(np.arange(18, dtype=np.float16) + 0.5, id="float16-suffix"),
]


# Every tricky case paired with each autograd state torch allows for its dtype.
TRICKY_WITH_GRAD = [
    pytest.param(case.values[0], grad, id=f"{case.id}-{grad}")
    for case in TRICKY
    for grad in _grad_modes(case.values[0])
]


@pytest.mark.torch
@pytest.mark.parametrize(("array", "grad"), TRICKY_WITH_GRAD)
def test_tricky_cases_match_torch(array, grad):
    torch = pytest.importorskip("torch")
    assert _ours(array, grad) == _theirs(torch, array, grad)


@pytest.mark.torch
@pytest.mark.parametrize(("array", "grad"), TRICKY_WITH_GRAD)
def test_device_suffix_matches_torch(array, grad, monkeypatch):
    torch = pytest.importorskip("torch")
    assert _ours(array, grad, device="xpu") == _theirs_on_device(torch, monkeypatch, array, grad)


def _element_strategy(dtype, style):
    """Elements for one array; the style steers which print mode is likely."""
    if dtype == "bool":
        return st.booleans()
    if not dtype.startswith("float"):
        info = np.iinfo(dtype)
        lowest, highest = int(info.min), int(info.max)
        return st.one_of(st.integers(max(-3, lowest), 3), st.integers(lowest, highest))
    specials = st.sampled_from([0.0, -0.0, NAN, INF, -INF, 1e-4, 1e8, 1000.0, 5e-324])
    small_ints = st.integers(-1000, 1000).map(float)
    styles = {
        "int": st.one_of(small_ints, st.integers(-(10**12), 10**12).map(float)),
        "fixed": st.floats(-999, 999, allow_subnormal=False),
        "tiny": st.floats(1e-12, 1e-3).flatmap(lambda v: st.sampled_from([v, -v])),
        "huge": st.floats(1e7, 1e40).flatmap(lambda v: st.sampled_from([v, -v])),
        "wild": st.floats(),
    }
    return st.one_of(styles[style], styles[style], styles[style], small_ints, specials)


def _layout(base, how):
    """Returns an array equal to base, laid out contiguously, transposed or strided."""
    if how == "transposed":
        return np.ascontiguousarray(base.T).T
    if how == "strided" and base.ndim:
        return np.repeat(base, 2, axis=-1)[..., ::2]
    return base


@st.composite
def arrays(draw, shapes):
    """Arrays of every supported dtype with mixed values and memory layouts."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes)
    style = draw(st.sampled_from(["int", "fixed", "tiny", "huge", "wild"]))
    numel = math.prod(shape)
    # A small pool plus a seeded spread keeps large arrays cheap to draw.
    pool_size = max(1, min(numel, 24))
    pool = draw(st.lists(_element_strategy(dtype, style), min_size=1, max_size=pool_size))
    seed = draw(st.integers(0, 2**32 - 1))
    if numel <= len(pool):
        values = pool[:numel]
    else:
        values = [pool[i] for i in np.random.default_rng(seed).integers(0, len(pool), numel)]
    base = _arr(values, dtype).reshape(shape)
    return _layout(base, draw(st.sampled_from(["contiguous", "transposed", "strided"])))


@st.composite
def large_shapes(draw):
    """Shapes with more than 1000 elements, so torch summarizes them."""
    ndim = draw(st.integers(1, 4))
    max_side = {1: 3000, 2: 60, 3: 16, 4: 9}[ndim]
    shape = draw(st.lists(st.integers(1, max_side), min_size=ndim, max_size=ndim))
    rest = math.prod(shape[1:])
    if shape[0] * rest <= 1000:
        shape[0] = 1000 // rest + 1
    return tuple(shape)


SMALL_SHAPES = st.one_of(
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
    hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=30),
)


@pytest.mark.torch
@settings(deadline=None)
@given(array=arrays(SMALL_SHAPES), grad=st.sampled_from(GRAD_MODES), on_device=st.booleans())
def test_random_arrays_match_torch(array, grad, on_device):
    torch = pytest.importorskip("torch")
    grad = grad if grad in _grad_modes(array) else "none"
    if on_device:
        with pytest.MonkeyPatch.context() as monkeypatch:
            expected = _theirs_on_device(torch, monkeypatch, array, grad)
        assert _ours(array, grad, device="xpu") == expected
    else:
        assert _ours(array, grad) == _theirs(torch, array, grad)


@pytest.mark.torch
@settings(deadline=None)
@given(array=arrays(large_shapes()), grad=st.sampled_from(GRAD_MODES))
def test_summarized_arrays_match_torch(array, grad):
    torch = pytest.importorskip("torch")
    grad = grad if grad in _grad_modes(array) else "none"
    assert _ours(array, grad) == _theirs(torch, array, grad)


EXPECTED = [
    pytest.param(
        _arr([2.0]), {"requires_grad": True}, "tensor([2.], requires_grad=True)",
        id="requires-grad",
    ),
    pytest.param(
        _arr([0.6731]),
        {"grad_fn_name": "PowBackward0", "requires_grad": True},
        "tensor([0.6731], grad_fn=<PowBackward0>)",
        id="grad-fn-wins",
    ),
    pytest.param(
        _arr([[1, 2], [3, 4]], "float64"),
        {},
        "tensor([[1., 2.],\n        [3., 4.]], dtype=torch.float64)",
        id="float64-matrix",
    ),
    pytest.param(
        _arr([1, 2], "float64"),
        {"device": "cuda:0", "requires_grad": True},
        "tensor([1., 2.], device='cuda:0', dtype=torch.float64, requires_grad=True)",
        id="suffix-order",
    ),
    pytest.param(np.zeros(0, np.int64), {}, "tensor([], dtype=torch.int64)", id="empty-int64"),
    pytest.param(np.zeros((0, 3), np.float32), {}, "tensor([], size=(0, 3))", id="empty-2d"),
    pytest.param(
        np.zeros((2, 0), np.bool_), {}, "tensor([], size=(2, 0), dtype=torch.bool)",
        id="empty-bool",
    ),
    pytest.param(
        np.arange(1001), {}, "tensor([   0,    1,    2,  ...,  998,  999, 1000])", id="summarized"
    ),
    pytest.param(
        _arr([1e-5, 1.0, NAN, -INF, -0.0]),
        {},
        "tensor([1.0000e-05, 1.0000e+00,        nan,       -inf, -0.0000e+00])",
        id="sci-nonfinite",
    ),
    pytest.param(_arr(-0.0), {}, "tensor(-0.)", id="scalar-neg-zero"),
    pytest.param(_arr([True, False], "bool"), {}, "tensor([ True, False])", id="bool"),
    pytest.param(
        _arr([[[1, 2], [3, 4]], [[5, 6], [7, -8]]], "int8"),
        {},
        "tensor([[[ 1,  2],\n         [ 3,  4]],\n\n"
        "        [[ 5,  6],\n         [ 7, -8]]], dtype=torch.int8)",
        id="3d-int8",
    ),
    pytest.param(
        np.arange(30, dtype=np.float32) / 3,
        {},
        "tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n"
        "        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667,\n"
        "        6.0000, 6.3333, 6.6667, 7.0000, 7.3333, 7.6667, 8.0000, 8.3333, 8.6667,\n"
        "        9.0000, 9.3333, 9.6667])",
        id="wrapped",
    ),
    pytest.param(
        np.arange(24, dtype=np.float64).reshape(1, 24) + 0.5,
        {"device": "cuda:0"},
        "tensor([[ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,\n"
        "          8.5000,  9.5000, 10.5000, 11.5000, 12.5000, 13.5000, 14.5000, 15.5000,\n"
        "         16.5000, 17.5000, 18.5000, 19.5000, 20.5000, 21.5000, 22.5000, 23.5000]],\n"
        "       device='cuda:0', dtype=torch.float64)",
        id="suffix-on-new-line",
    ),
]


@pytest.mark.parametrize(("array", "kwargs", "expected"), EXPECTED)
def test_exact_strings(array, kwargs, expected):
    assert format_tensor(array, dtype_name="torch." + array.dtype.name, **kwargs) == expected


def test_caller_dtype_name_and_prefix():
    matrix = _arr([[1, 2], [3, 4]], "float64")
    text = format_tensor(matrix, dtype_name="tinygrad_optim.float64", prefix="Foo(")
    assert text == "Foo([[1., 2.],\n     [3., 4.]], dtype=tinygrad_optim.float64)"


def test_long_caller_dtype_name_wraps():
    # The 55-character line leaves room for "dtype=torch.float64" but not for
    # the caller's longer name, which must then move to its own line.
    row = np.arange(6, dtype=np.float64) + 0.5
    body = "tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000]"
    assert format_tensor(row, dtype_name="torch.float64") == body + ", dtype=torch.float64)"
    long_name = format_tensor(row, dtype_name="tinygrad_optim.float64")
    assert long_name == body + ",\n       dtype=tinygrad_optim.float64)"


def test_input_array_untouched():
    array = _arr([[NAN, 1.5], [-0.0, INF]])
    before = array.copy()
    format_tensor(array, dtype_name="x")
    np.testing.assert_array_equal(array, before)
