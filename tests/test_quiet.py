"""Operations make inf and nan silently (as torch) without changing numpy's error state."""
import threading

import numpy as np

import tinygrad_optim as tg


def test_division_by_zero_is_silent_and_leaves_numpy_state_alone():
    before = np.geterr()
    y = tg.tensor([1.0, -1.0, 0.0]) / 0.0  # warnings are errors in this suite
    assert np.isinf(y.numpy()[:2]).all() and np.isnan(y.numpy()[2])
    assert np.geterr() == before


def test_numpy_still_warns_for_the_user_after_an_op():
    tg.tensor([1.0]) / 0.0
    with np.errstate(divide="raise"):
        try:
            np.float64(1.0) / np.zeros(1)
        except FloatingPointError:
            return
    raise AssertionError("the user's numpy error state was overridden")


def test_silent_state_does_not_leak_into_other_threads():
    seen = []

    def worker():
        tg.tensor([1.0]) / 0.0
        seen.append(np.geterr())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [np.geterr()]
