"""torch's elementwise rules where numpy's differ (tinygrad_optim._numerics)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_optim as tg
from tinygrad_optim import _numerics

FLOAT_ARRAYS = hnp.arrays(st.sampled_from([np.float16, np.float32, np.float64]),
                          hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))


@given(x=FLOAT_ARRAYS)
def test_sign_is_numpys_but_zero_at_nan(x):
    with np.errstate(invalid="ignore"):
        expected = np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype)
    ours = _numerics.sign(np, x)
    assert ours.dtype == x.dtype and ours.shape == x.shape
    np.testing.assert_array_equal(ours, expected)


@given(x=FLOAT_ARRAYS)
def test_sign_in_place_gives_the_same_bits(x):
    expected = _numerics.sign(np, x)
    out = x.copy()
    assert _numerics.sign(np, out, out=out) is out
    assert out.tobytes() == np.asarray(expected).tobytes()


def test_sign_of_integers_is_numpys():
    assert _numerics.sign(np, np.array([-3, 0, 5])).tolist() == [-1, 0, 1]


def test_tensor_sign_and_abs_gradient_are_zero_at_nan(device):
    x = tg.tensor([float("nan"), -2.0, 0.0, float("inf")], device=device, requires_grad=True)
    assert x.sign().tolist() == [0.0, -1.0, 0.0, 1.0]
    x.abs().sum().backward()
    assert x.grad.tolist() == [0.0, -1.0, 0.0, 1.0]


@pytest.mark.torch
def test_sign_and_abs_gradient_at_nan_match_torch():
    torch = pytest.importorskip("torch")
    values = [float("nan"), -0.0, 0.0, float("inf"), -float("inf"), 3.0]
    ours, theirs = tg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    ours.abs().sum().backward()
    theirs.abs().sum().backward()
    assert ours.sign().tolist() == theirs.sign().tolist()
    assert ours.grad.tolist() == theirs.grad.tolist()
