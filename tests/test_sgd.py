"""Tests of SGD: its array kernel by hand math, the class's state and checks, convergence."""
import doctest

import numpy as np
import pytest

import tinygrad_optim as tg
import tinygrad_optim.optim.sgd as sgd_module
from optim_cases import CASES, materialize
from tinygrad_optim.optim import SGD
from tinygrad_optim.optim.sgd import sgd_update

PLAIN = {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False,
         "maximize": False}


def _hyper(**changes):
    return {**PLAIN, **changes}


# ---------------------------------------------------------------------- the kernel
def test_sgd_update_nesterov_first_step_by_hand():
    param, grad = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    buffer = np.zeros(2)
    sgd_update(param, grad, buffer, first_step=True,
               **_hyper(momentum=0.9, nesterov=True, weight_decay=0.1))
    # d = g + 0.1 θ = [0.6, 0.05]; v = d; θ − 0.1 (d + 0.9 v) = θ − 0.19 d
    np.testing.assert_allclose(buffer, [0.6, 0.05], rtol=1e-15)
    np.testing.assert_allclose(param, [0.886, -2.0095], rtol=1e-15)


def test_sgd_update_dampening_skips_the_first_step():
    param, grad, buffer = np.array([1.0]), np.array([1.0]), np.zeros(1)
    hyper = _hyper(lr=1.0, momentum=0.9, dampening=0.5)
    sgd_update(param, grad, buffer, first_step=True, **hyper)
    assert buffer.tolist() == [1.0] and param.tolist() == [0.0]  # v = g, undamped
    sgd_update(param, grad, buffer, first_step=False, **hyper)
    np.testing.assert_allclose(buffer, [1.4], rtol=1e-15)  # 0.9 · 1 + 0.5 · 1
    np.testing.assert_allclose(param, [-1.4], rtol=1e-15)


def test_sgd_update_maximize_negates_before_weight_decay():
    param, grad, buffer = np.array([2.0]), np.array([1.0]), np.zeros(1)
    sgd_update(param, grad, buffer, first_step=True,
               **_hyper(momentum=0.5, weight_decay=0.25, maximize=True))
    # d = −g + λθ = −1 + 0.5 = −0.5 (the decay still pulls θ towards 0)
    assert buffer.tolist() == [-0.5] and param.tolist() == [2.05]


def test_sgd_update_is_the_tutorials_momentum_formula_bit_for_bit():
    rng = np.random.default_rng(3)
    w, grads = rng.standard_normal(6), rng.standard_normal((20, 6))
    param, buffer = w.copy(), np.zeros(6)
    v = None
    for step, g in enumerate(grads):
        sgd_update(param, g, buffer, first_step=step == 0, **_hyper(lr=0.05, momentum=0.8))
        v = g.copy() if v is None else 0.8 * v + g  # v = m·v + g
        w = w - 0.05 * v  # w = w − lr·v
    np.testing.assert_array_equal(buffer, v)
    np.testing.assert_array_equal(param, w)


def _kernel_hyper(case):
    """The kernel's arguments for a registry case, as SGD.step computes them."""
    kwargs = materialize(case.kwargs, tg)
    return _hyper(**{k: float(v) if isinstance(v, tg.Tensor) else v for k, v in kwargs.items()})


SGD_HYPERS = [_kernel_hyper(case) for case in CASES["SGD"]]


@pytest.mark.parametrize("hyper", SGD_HYPERS, ids=[c.id for c in CASES["SGD"]])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_update_works_in_place_and_never_writes_the_gradient(hyper, dtype):
    rng = np.random.default_rng(0)
    param, grad = rng.standard_normal((3, 2)).astype(dtype), rng.standard_normal((3, 2))
    grad = grad.astype(dtype)
    grad.flags.writeable = False  # any write into the gradient raises
    buffer = np.zeros_like(param)
    before, grad_before = param.copy(), grad.copy()
    for first_step in (True, False):
        sgd_update(param, grad, buffer, first_step=first_step, **hyper)
    assert param.dtype == buffer.dtype == dtype
    assert not np.array_equal(param, before) and np.array_equal(grad, grad_before)
    assert (np.count_nonzero(buffer) > 0) == (hyper["momentum"] != 0)


@pytest.mark.parametrize("shape", [(), (0,), (2, 0)])
@pytest.mark.parametrize("hyper", SGD_HYPERS, ids=[c.id for c in CASES["SGD"]])
def test_sgd_update_handles_scalar_and_empty_arrays(shape, hyper):
    param, grad = np.full(shape, 2.0, np.float32), np.full(shape, 1.0, np.float32)
    buffer = np.zeros_like(param)
    sgd_update(param, grad, buffer, first_step=True, **hyper)
    sgd_update(param, grad, buffer, first_step=False, **hyper)
    assert param.shape == buffer.shape == shape and param.dtype == np.float32


# ---------------------------------------------------------------------- the class
def test_sgd_defaults_in_torchs_order():
    opt = SGD([tg.zeros(1, requires_grad=True)])
    # torch 2.13's defaults, implementation flags included, in its order
    assert list(opt.defaults.items()) == [
        ("lr", 0.001), ("momentum", 0), ("dampening", 0), ("weight_decay", 0), ("nesterov", False),
        ("maximize", False), ("foreach", None), ("differentiable", False), ("fused", None)]


@pytest.mark.parametrize("kwargs, match", [
    ({"nesterov": True}, r"^Nesterov momentum requires a momentum and zero dampening$"),
    ({"lr": -1}, r"^Invalid learning rate: -1$"),
])
@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_sgd_checks_hyperparameters_before_params(lib_name, kwargs, match):
    lib = pytest.importorskip(lib_name)
    with pytest.raises(ValueError, match=match):
        lib.optim.SGD([], **kwargs)


def test_sgd_without_momentum_keeps_no_state():
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([p], lr=0.1, weight_decay=0.1, maximize=True)
    p.grad = tg.ones(2)
    opt.step()
    opt.step()
    assert len(opt.state) == 0 and opt.state_dict()["state"] == {}


def test_sgd_momentum_buffer_is_a_tensor_beside_its_param(device):
    p = tg.tensor([1.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    opt = SGD([p], momentum=0.9)
    p.grad = tg.ones(2, dtype=tg.float64, device=device)
    opt.step()
    buffer = opt.state[p]["momentum_buffer"]
    assert isinstance(buffer, tg.Tensor) and buffer.dtype == tg.float64
    assert buffer.device == p.device and buffer.shape == p.shape


def test_sgd_momentum_buffer_is_a_copy_of_the_gradient():
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([p], momentum=0.9)
    p.grad = tg.tensor([0.5, -0.5])
    opt.step()
    p.grad.add_(10.0)  # a caller reusing its gradient buffer must not change the state
    assert opt.state[p]["momentum_buffer"].tolist() == [0.5, -0.5]


def test_sgd_tensor_lr_steps_by_its_float32_value():
    p = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    p.grad = tg.tensor([1.0, -3.0], dtype=tg.float64)
    SGD([p], lr=tg.tensor(0.001)).step()
    step = 0.0010000000474974513  # float32(0.001), exactly (torch moves by this too)
    np.testing.assert_array_equal(p.tolist(), [1.0 - step, 2.0 + 3 * step])


def test_sgd_numpy_scalar_hyperparameters_keep_float32_arithmetic():
    grad = np.float32([0.3, -0.7])
    results = []
    for lr, momentum in [(0.1, 0.9), (np.float64(0.1), np.float64(0.9))]:
        p = tg.tensor([1.0, 2.0], requires_grad=True)
        opt = SGD([p], lr=lr, momentum=momentum)
        for _ in range(3):
            p.grad = tg.tensor(grad)
            opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])
    v, w = grad.copy(), np.float32([1.0, 2.0])  # the same steps in float32 numpy
    for step in range(3):
        v = v if step == 0 else v * np.float32(0.9) + grad
        w = w - np.float32(0.1) * v
    np.testing.assert_array_equal(results[0], w)


def test_sgd_reads_a_changed_group_lr_at_the_next_step():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.5)
    p.grad = tg.tensor([1.0], dtype=tg.float64)
    opt.step()  # v = 1, θ = 0.9
    opt.param_groups[0]["lr"] = 0.01
    opt.step()  # v = 0.5 + 1 = 1.5, θ = 0.9 − 0.015
    np.testing.assert_allclose(p.tolist(), [0.885], rtol=1e-15)


def test_sgd_momentum_switched_on_later_starts_from_the_gradient():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = SGD([p], lr=0.1, dampening=0.5)
    p.grad = tg.tensor([2.0], dtype=tg.float64)
    opt.step()
    assert len(opt.state) == 0
    opt.param_groups[0]["momentum"] = 0.9
    opt.step()
    assert opt.state[p]["momentum_buffer"].tolist() == [2.0]  # a copy of d, undamped


def test_sgd_treats_a_none_momentum_buffer_as_missing():
    # State dicts of older torch versions hold momentum_buffer=None for momentum-free steps.
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.load_state_dict({"state": {0: {"momentum_buffer": None}},
                         "param_groups": opt.state_dict()["param_groups"]})
    p.grad = tg.tensor([3.0], dtype=tg.float64)
    opt.step()
    assert opt.state[p]["momentum_buffer"].tolist() == [3.0]


def test_sgd_skips_params_without_grad():
    p, q = tg.tensor([1.0], requires_grad=True), tg.tensor([5.0], requires_grad=True)
    opt = SGD([p, q], lr=0.1, momentum=0.9, weight_decay=0.5)
    p.grad = tg.tensor([1.0])
    opt.step()
    assert q.tolist() == [5.0] and q not in opt.state and p in opt.state


# ---------------------------------------------------------------------- docs and convergence
def test_sgd_docstring_has_the_algorithm_and_a_runnable_example():
    assert ".. math::" in SGD.__doc__ and "v = m" in SGD.__doc__
    failed, attempted = doctest.testmod(sgd_module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0


@pytest.mark.parametrize("kwargs", [{"lr": 0.05, "momentum": 0.9},
                                    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
                                    {"lr": 0.05}])
def test_sgd_converges_on_a_quadratic(kwargs):
    scales = tg.tensor([1.0, 10.0], dtype=tg.float64)
    w = tg.tensor([3.0, -2.0], dtype=tg.float64, requires_grad=True)
    opt = SGD([w], **kwargs)
    for _ in range(300):
        opt.zero_grad()
        (scales * w * w).sum().backward()  # minimum at 0; curvatures 2 and 20
        opt.step()
    assert np.abs(w.tolist()).max() < 1e-6


def test_sgd_with_momentum_converges_on_rosenbrock():
    w = tg.tensor([-1.5, 2.0], dtype=tg.float64, requires_grad=True)
    opt = SGD([w], lr=1e-3, momentum=0.9)
    for _ in range(2500):
        opt.zero_grad()
        x, y = w[0], w[1]
        ((1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)).backward()
        opt.step()
    np.testing.assert_allclose(w.tolist(), [1.0, 1.0], atol=1e-4)
