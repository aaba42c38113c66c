"""Saving an optimizer to a file and resuming equals an uninterrupted run, bit for bit."""
import numpy as np
import pytest

import tinygrad_optim as tg
from tinygrad_optim.optim import SGD

CONFIGS = [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, nesterov=True,
                                                           weight_decay=0.01),
           dict(lr=0.02, momentum=0.5, dampening=0.3, maximize=True)]


def _grads(steps, shape, dtype):
    rng = np.random.default_rng(7)
    # Gradients that change sign and scale, the same in both runs.
    return [(rng.standard_normal(shape) * 10.0 ** rng.integers(-2, 2)).astype(dtype)
            for _ in range(steps)]


def _run(opt, params, grads):
    for g in grads:
        for p in params:
            p.grad = tg.tensor(g, device=p.device)
        opt.step()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_sgd_resume_from_file_equals_straight_run(tmp_path, device, kwargs, dtype):
    grads = _grads(20, (3, 4), dtype)
    start = np.linspace(-1, 1, 12).reshape(3, 4).astype(dtype)

    straight = tg.tensor(start, device=device, requires_grad=True)
    opt = SGD([straight], **kwargs)
    _run(opt, [straight], grads)

    first = tg.tensor(start, device=device, requires_grad=True)
    opt = SGD([first], **kwargs)
    _run(opt, [first], grads[:10])
    tg.save({"param": first.detach(), "optimizer": opt.state_dict()}, tmp_path / "ckpt.pkl")

    saved = tg.load(tmp_path / "ckpt.pkl")
    resumed = saved["param"].requires_grad_()
    opt = SGD([resumed], lr=123.0)  # hyperparameters come from the file
    opt.load_state_dict(saved["optimizer"])
    _run(opt, [resumed], grads[10:])

    assert resumed.dtype == straight.dtype
    np.testing.assert_array_equal(resumed.cpu().detach().numpy(),
                                  straight.cpu().detach().numpy())
    if kwargs.get("momentum"):
        np.testing.assert_array_equal(opt.state[resumed]["momentum_buffer"].cpu().numpy(),
                                      _buffer_of_straight_run(start, grads, kwargs, device))


def _buffer_of_straight_run(start, grads, kwargs, device):
    p = tg.tensor(start, device=device, requires_grad=True)
    opt = SGD([p], **kwargs)
    _run(opt, [p], grads)
    return opt.state[p]["momentum_buffer"].cpu().numpy()
