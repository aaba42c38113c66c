"""Blocked (and threaded) kernels give the same bits as one whole-array call."""
import numpy as np
import pytest

import tinygrad_optim as tg
from tinygrad_optim.optim import _blocks
from tinygrad_optim.optim.sgd import sgd_kernel, sgd_update

HYPER = dict(lr=0.01, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False,
             maximize=False)


@pytest.mark.parametrize("size", [_blocks.BLOCK + 3, _blocks.THREADED + 12345])
@pytest.mark.parametrize("first_step", [True, False])
def test_sgd_blocked_equals_whole_array(size, first_step):
    rng = np.random.default_rng(size)
    param, grad, buf = (rng.standard_normal(size).astype(np.float32) for _ in range(3))
    whole = [param.copy(), grad, buf.copy()]
    sgd_kernel(*whole, first_step=first_step, **HYPER)
    sgd_update(param, grad, buf, first_step=first_step, **HYPER)
    np.testing.assert_array_equal(param, whole[0])
    np.testing.assert_array_equal(buf, whole[2])


def test_blocked_skips_non_contiguous_arrays():
    calls = []
    param = np.zeros((_blocks.BLOCK, 4), np.float32).T  # a transposed view: not contiguous
    _blocks.run_blocked(lambda p: calls.append(p.shape), (param,))
    assert calls == [param.shape]


def test_sgd_overflow_gives_inf_silently_as_torch():
    # numpy would warn (an error in this suite); torch gives -inf without a word.
    p = tg.tensor([3e38], requires_grad=True)
    p.grad = tg.tensor([1.0])
    tg.optim.SGD([p], lr=0.1, weight_decay=10.0).step()
    assert p.item() == float("-inf")
