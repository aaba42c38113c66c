"""argmax / argmin: torch's indices (first extreme, NaN counts as the extreme) and errors."""
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_optim as tg


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


FUNCS = ["argmax", "argmin"]
# Small integers make ties likely: both libraries must pick the first extreme.
ARRAYS = hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=3, min_side=1),
                    elements=st.sampled_from([0.0, 1.0, -1.0, 2.0, np.nan]))


@pytest.mark.parametrize("name", FUNCS)
@given(a=ARRAYS, data=st.data())
def test_arg_extreme_matches_torch(torch, name, a, data):
    dim = data.draw(st.none() | st.integers(-max(a.ndim, 1), max(a.ndim, 1) - 1))
    keepdim = data.draw(st.booleans())
    mine = getattr(tg.tensor(a), name)(dim=dim, keepdim=keepdim)
    theirs = getattr(torch.from_numpy(a.copy()), name)(dim=dim, keepdim=keepdim)
    assert mine.dtype is tg.int64 and mine.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_argmax_of_a_flattened_tensor_is_a_flat_index():
    t = tg.tensor([[1.0, 5.0], [7.0, 2.0]])
    assert t.argmax().item() == 2 and tg.argmin(t).item() == 0
    assert t.argmax(keepdim=True).shape == (1, 1)


def test_argmax_records_no_graph():
    t = tg.tensor([1.0, 3.0], requires_grad=True)
    index = t.argmax()
    assert not index.requires_grad and index.grad_fn is None


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("make, kwargs, error, message", [
    (lambda: tg.tensor([]), {}, IndexError,
     "(): Expected reduction dim to be specified for input.numel() == 0."),
    (lambda: tg.zeros((0, 3)), {"dim": -2}, IndexError,
     "(): Expected reduction dim 0 to have non-zero size."),
    (lambda: tg.tensor([True]), {}, RuntimeError, "(): does not support bool input"),
    (lambda: tg.tensor(5.0), {"dim": 1}, IndexError,
     "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
])
def test_arg_extreme_errors_as_torch(name, make, kwargs, error, message):
    with pytest.raises(error) as info:
        getattr(make(), name)(**kwargs)
    expected = message if message.startswith("Dim") else name + message
    assert str(info.value) == expected


def test_arg_extreme_along_an_empty_other_dim_is_empty():
    assert tg.zeros((0, 3)).argmax(dim=1).shape == (0,)
