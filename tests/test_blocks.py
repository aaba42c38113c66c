"""Blocked (and threaded) kernels give the same bits as one whole-array call."""
import threading

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


def _many(count=8, size=_blocks.SHARED // 4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(size).astype(np.float32) for _ in range(count)]


def test_one_step_shares_small_calls_between_threads():
    threads = set()
    params = _many()
    with _blocks.one_step():
        for param in params:
            _blocks.run_blocked(lambda p, g: threads.add(threading.get_ident()), (param, None))
        assert not threads  # queued until the step ends
    assert len(threads) == min(2, _blocks._WORKERS)


def test_one_step_keeps_a_small_step_in_this_thread():
    threads = set()
    with _blocks.one_step():
        _blocks.run_blocked(lambda p, g: threads.add(threading.get_ident()),
                            (np.zeros(3, np.float32), None))
    assert threads == {threading.get_ident()}


@pytest.mark.parametrize("name", ["SGD", "Adam", "ASGD", "Rprop"])
def test_optimizer_on_many_params_equals_one_param_at_a_time(name):
    grads = _many()
    shared = [tg.zeros(g.shape, requires_grad=True) for g in grads]
    alone = [tg.zeros(g.shape, requires_grad=True) for g in grads]
    for param, grad in zip(shared + alone, grads + grads):
        param.grad = tg.from_numpy(grad)
    together = getattr(tg.optim, name)(shared, lr=0.01)
    single = [getattr(tg.optim, name)([p], lr=0.01) for p in alone]
    for _ in range(3):
        together.step()
        for optimizer in single:
            optimizer.step()
    for a, b in zip(shared, alone):
        np.testing.assert_array_equal(a.numpy(force=True), b.numpy(force=True))


def test_a_parameter_listed_twice_is_updated_twice_in_order():
    param = tg.zeros(_blocks.SHARED, requires_grad=True)
    param.grad = tg.ones(_blocks.SHARED)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optimizer = tg.optim.SGD([param, param], lr=0.5)
    optimizer.step()
    assert param.numpy(force=True).max() == param.numpy(force=True).min() == -1.0


def test_independent_calls_may_share_a_gradient_but_not_written_memory():
    a, b, g = _many(3)
    assert _blocks._independent([(None, (a, g), {}), (None, (b, g), {})])
    assert not _blocks._independent([(None, (a, g), {}), (None, (a[1:], g), {})])
    assert not _blocks._independent([(None, (a, g), {}), (None, (b, a), {})])


def test_one_step_runs_the_queued_calls_when_the_step_raises():
    param = np.zeros(4, np.float32)
    with pytest.raises(RuntimeError, match="later"):
        with _blocks.one_step():
            _blocks.run_blocked(lambda p, g: p.fill(1.0), (param, None))
            raise RuntimeError("a later parameter's error")
    assert (param == 1.0).all()


def test_scratch_reuses_one_buffer_per_slot_and_dtype():
    like = np.zeros((3, 4), np.float32)
    first, again = _blocks.scratch(like, 1), _blocks.scratch(like, 1)
    assert first.shape == like.shape and first.dtype == like.dtype
    assert np.shares_memory(first, again)
    assert not np.shares_memory(first, _blocks.scratch(like, 2))
    assert not np.shares_memory(first, _blocks.scratch(like.astype(np.float64), 1))


def test_scratch_of_an_array_larger_than_a_block_is_fresh():
    like = np.zeros(_blocks.BLOCK + 1, np.float32)
    assert not np.shares_memory(_blocks.scratch(like, 1), _blocks.scratch(like, 1))


def test_scratch_buffers_belong_to_one_thread():
    like = np.zeros(8, np.float32)
    mine = _blocks.scratch(like, 1)
    theirs = _blocks._executor().submit(_blocks.scratch, like, 1).result()
    assert not np.shares_memory(mine, theirs)


BIT_EQUAL_CONFIGS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adagrad", {"lr_decay": 0.01, "weight_decay": 0.01}),
    ("RMSprop", {"momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    ("Adadelta", {"weight_decay": 0.01, "maximize": True}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {}),
    ("Adamax", {"weight_decay": 0.01}),
    ("ASGD", {"t0": 0, "weight_decay": 0.01}),
    ("Rprop", {}),
]


def _three_steps(name, kwargs, size):
    rng = np.random.default_rng(7)
    param = tg.tensor(rng.standard_normal(size).astype(np.float32), requires_grad=True)
    optimizer = getattr(tg.optim, name)([param], **kwargs)
    for _ in range(3):
        param.grad = tg.tensor(rng.standard_normal(size).astype(np.float32))
        optimizer.step()
    return [param] + [value for value in optimizer.state[param].values()]


@pytest.mark.parametrize("name, kwargs", BIT_EQUAL_CONFIGS, ids=lambda c: str(c))
def test_blocked_threaded_step_equals_one_whole_array_call_bit_for_bit(name, kwargs,
                                                                       monkeypatch):
    size = _blocks.THREADED + 12345  # blocked, shared by the threads, with a ragged last block
    blocked = _three_steps(name, kwargs, size)
    monkeypatch.setattr(_blocks, "BLOCK", 2 * size)  # now one call over the whole array
    whole = _three_steps(name, kwargs, size)
    for a, b in zip(blocked, whole):
        np.testing.assert_array_equal(a.numpy(force=True), b.numpy(force=True))
