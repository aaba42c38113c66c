"""Tests of RMSprop: its array kernel by hand math, torch's lerp, state keys, convergence."""
import doctest
import math

import numpy as np
import pytest

import tinygrad_optim as tg
import tinygrad_optim.optim.rmsprop as rmsprop_module
from optim_cases import CASES, materialize
from tinygrad_optim.optim import RMSprop, _blocks
from tinygrad_optim.optim.rmsprop import rmsprop_kernel, rmsprop_update

PLAIN = {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
         "maximize": False}
# torch's flags for implementations this library does not have.


def _hyper(**changes):
    return {**PLAIN, **changes}


def _by_hand(theta, grads, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
             centered=False, maximize=False):
    """RMSprop on one scalar in Python floats, straight from the formulas."""
    square_avg = grad_avg = buffer = 0.0
    for g in grads:
        d = (-g if maximize else g) + weight_decay * theta
        square_avg = alpha * square_avg + (1 - alpha) * d * d
        if centered:
            grad_avg = alpha * grad_avg + (1 - alpha) * d
            r = math.sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            r = math.sqrt(square_avg) + eps
        if momentum > 0:
            buffer = momentum * buffer + d / r
            theta -= lr * buffer
        else:
            theta -= lr * d / r
    return theta, square_avg, grad_avg, buffer


def _run(theta, grads, centered=False, **hyper):
    """The kernel over ``grads`` on a one-element float64 parameter; returns its arrays."""
    param, square_avg = np.array([theta]), np.zeros(1)
    grad_avg = np.zeros(1) if centered else None
    buffer = np.zeros(1) if hyper.get("momentum", 0) > 0 else None
    for g in grads:
        rmsprop_update(param, np.array([g]), square_avg, grad_avg, buffer, **_hyper(**hyper))
    return param, square_avg, grad_avg, buffer


def _kernel_args(case):
    """The kernel's keyword arguments and its (centered, momentum) layout for a case."""
    group = RMSprop([tg.zeros(1, requires_grad=True)], **materialize(case.kwargs, tg))
    group = group.param_groups[0]
    keys = ("lr", "alpha", "eps", "weight_decay", "momentum")
    hyper = {key: float(group[key]) for key in keys}
    return {**hyper, "maximize": bool(group["maximize"])}, bool(group["centered"])


ARGS = [_kernel_args(case) for case in CASES["RMSprop"]]
IDS = [case.id for case in CASES["RMSprop"]]


def _state(param, centered, momentum):
    return (np.zeros_like(param), np.zeros_like(param) if centered else None,
            np.zeros_like(param) if momentum > 0 else None)


# ---------------------------------------------------------------------- the kernel
def test_rmsprop_update_adds_eps_after_the_square_root():
    param, square_avg, _, _ = _run(1.0, [1e-3], alpha=0.0, eps=1e-2)
    # α = 0: v = g² = 1e-6; r = √v + ε = 0.011 (ε inside the root would give ≈ 0.1)
    np.testing.assert_allclose(square_avg, [1e-6], rtol=1e-15)
    np.testing.assert_allclose(param, [1.0 - 0.01 * 1e-3 / 0.011], rtol=1e-15)


@pytest.mark.parametrize("options", [
    {}, {"momentum": 0.9}, {"centered": True}, {"centered": True, "momentum": 0.1},
    {"weight_decay": 0.1, "maximize": True}, {"alpha": 0.3, "centered": True, "momentum": 0.5},
], ids=["plain", "momentum", "centered", "centered_momentum", "wd_maximize", "small_alpha"])
def test_rmsprop_update_matches_the_formulas_by_hand(options):
    grads = [0.5, -2.0, 1.5, 0.25, -0.75]
    got = _run(1.0, grads, **options)
    expected = _by_hand(1.0, grads, **options)
    for array, value in zip(got, expected):
        if array is not None:  # a few roundings apart: torch's order is not Python's
            np.testing.assert_allclose(array, [value], rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha", [0.99, 0.2])
def test_rmsprop_update_centers_with_torchs_two_formula_lerp(alpha, dtype):
    rng = np.random.default_rng(5)
    start, end = (rng.standard_normal(4000).astype(dtype) for _ in range(2))
    grad_avg = start.copy()
    rmsprop_update(np.zeros_like(start), end, np.ones_like(start), grad_avg, None,
                   **_hyper(alpha=alpha))
    w = dtype(1 - alpha)  # the weight in the arrays' precision, as torch's kernel holds it
    near_start = start + w * (end - start)  # torch's formula for w < 0.5
    near_end = end - (end - start) * (dtype(1) - w)  # and for w >= 0.5
    expected, other = (near_start, near_end) if w < 0.5 else (near_end, near_start)
    np.testing.assert_array_equal(grad_avg, expected)
    assert not np.array_equal(grad_avg, other)  # the formulas do round differently here


@pytest.mark.parametrize("args", ARGS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rmsprop_update_works_in_place_and_never_writes_the_gradient(args, dtype):
    hyper, centered = args
    rng = np.random.default_rng(0)
    param, grad = (rng.standard_normal((3, 2)).astype(dtype) for _ in range(2))
    grad.flags.writeable = False  # any write into the gradient raises
    state = _state(param, centered, hyper["momentum"])
    before, grad_before = param.copy(), grad.copy()
    for _ in range(2):
        rmsprop_update(param, grad, *state, **hyper)
    assert not np.array_equal(param, before) and np.array_equal(grad, grad_before)
    for array in state:
        if array is not None:
            assert array.dtype == dtype and np.count_nonzero(array) == array.size


def _two_steps(shape, hyper, centered):
    param, grad = np.full(shape, 2.0, np.float32), np.full(shape, 1.0, np.float32)
    state = _state(param, centered, hyper["momentum"])
    for _ in range(2):
        rmsprop_update(param, grad, *state, **hyper)
    for array in (param, *state):
        if array is not None:
            assert array.shape == shape and array.dtype == np.float32
    return [param] + [array for array in state if array is not None]


@pytest.mark.parametrize("args", ARGS, ids=IDS)
def test_rmsprop_update_steps_a_scalar_as_a_one_element_vector(args):
    for scalar, vector in zip(_two_steps((), *args), _two_steps((1,), *args)):
        assert scalar.reshape(1).tolist() == vector.tolist()


@pytest.mark.parametrize("shape", [(0,), (2, 0)])
@pytest.mark.parametrize("args", ARGS, ids=IDS)
def test_rmsprop_update_handles_empty_arrays(shape, args):
    _two_steps(shape, *args)


@pytest.mark.parametrize("size", [_blocks.BLOCK + 3, _blocks.THREADED + 12345])
def test_rmsprop_blocked_equals_whole_array(size):
    rng = np.random.default_rng(size)
    param, grad, grad_avg, buffer = (rng.standard_normal(size).astype(np.float32)
                                     for _ in range(4))
    square_avg = grad_avg * grad_avg + 1.0
    whole = [param.copy(), grad, square_avg.copy(), grad_avg.copy(), buffer.copy()]
    hyper = _hyper(momentum=0.5, weight_decay=0.01)
    rmsprop_kernel(*whole, **hyper)
    rmsprop_update(param, grad, square_avg, grad_avg, buffer, **hyper)
    for got, expected in zip((param, square_avg, grad_avg, buffer), whole[:1] + whole[2:]):
        np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------------- the class
def test_rmsprop_defaults_in_torchs_order():
    opt = RMSprop([tg.zeros(1, requires_grad=True)])
    # torch 2.13's defaults, implementation flags included, in its order
    assert list(opt.defaults.items()) == [
        ("lr", 0.01), ("momentum", 0), ("alpha", 0.99), ("eps", 1e-08), ("centered", False),
        ("weight_decay", 0), ("capturable", False), ("foreach", None), ("maximize", False),
        ("differentiable", False)]


@pytest.mark.parametrize("group, keys", [
    ({}, ["step", "square_avg"]),
    ({"momentum": 0.5}, ["step", "square_avg", "momentum_buffer"]),
    ({"centered": True}, ["step", "square_avg", "grad_avg"]),
    ({"momentum": 0.5, "centered": True}, ["step", "square_avg", "momentum_buffer",
                                           "grad_avg"]),
    ({"momentum": -0.5}, ["step", "square_avg"]),  # group values are not validated
], ids=["plain", "momentum", "centered", "both", "negative_momentum"])
@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_rmsprop_state_keys_follow_the_group_at_the_first_step(lib_name, group, keys):
    lib = pytest.importorskip(lib_name)
    p = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.RMSprop([{"params": [p], **group}])
    assert p not in opt.state
    p.grad = lib.tensor([0.5, -0.5], dtype=lib.float64)
    opt.step()
    assert list(opt.state[p]) == keys
    step = opt.state[p]["step"]
    assert step.dtype == lib.float32 and step.shape == () and step.item() == 1.0
    for key in keys[1:]:
        assert opt.state[p][key].dtype == lib.float64 and opt.state[p][key].shape == p.shape


@pytest.mark.parametrize("switch, missing", [
    ({"momentum": 0.9}, "momentum_buffer"), ({"centered": True}, "grad_avg"),
    ({"momentum": 0.9, "centered": True}, "momentum_buffer"),  # torch looks it up first
], ids=["momentum", "centered", "both"])
@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_rmsprop_state_keys_are_fixed_at_the_first_step(lib_name, switch, missing):
    lib = pytest.importorskip(lib_name)
    fresh, old = lib.tensor([1.0], requires_grad=True), lib.tensor([2.0], requires_grad=True)
    opt = lib.optim.RMSprop([fresh, old])
    old.grad = lib.tensor([1.0])
    opt.step()  # old gets its state: no momentum_buffer, no grad_avg
    opt.param_groups[0].update(switch)
    fresh.grad = lib.tensor([1.0])
    with pytest.raises(KeyError, match=missing):
        opt.step()
    # The group's state is gathered before any update, as in torch: fresh got its state
    # (with the new key) but neither parameter moved and no step was counted.
    assert fresh.item() == 1.0 and opt.state[fresh]["step"].item() == 0.0
    assert missing in opt.state[fresh] and opt.state[old]["step"].item() == 1.0


def test_rmsprop_switched_off_momentum_leaves_its_buffer_alone():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = RMSprop([p], lr=0.1, alpha=0.0, eps=0.0, momentum=0.9)
    p.grad = tg.tensor([2.0], dtype=tg.float64)
    opt.step()  # v = 4, b = 2 / 2 = 1, θ = 1 − 0.1
    opt.param_groups[0]["momentum"] = 0
    p.grad = tg.tensor([-4.0], dtype=tg.float64)
    opt.step()  # v = 16, θ = 0.9 − 0.1 · (−4 / 4): a plain step
    assert opt.state[p]["momentum_buffer"].tolist() == [1.0]
    np.testing.assert_allclose(p.tolist(), [1.0], rtol=1e-15)


def test_rmsprop_tensor_lr_steps_by_its_float32_value():
    p = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    p.grad = tg.tensor([1.0, -3.0], dtype=tg.float64)
    RMSprop([p], lr=tg.tensor(0.001), alpha=0.0, eps=0.0).step()  # d / r = sign(g)
    step = 0.0010000000474974513  # float32(0.001), exactly (torch moves by this too)
    np.testing.assert_array_equal(p.tolist(), [1.0 - step, 2.0 + step])


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_rmsprop_checks_hyperparameters_before_params(lib_name):
    lib = pytest.importorskip(lib_name)
    with pytest.raises(ValueError, match=r"^Invalid alpha value: -1$"):
        lib.optim.RMSprop([], alpha=-1)


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_rmsprop_makes_nan_silently(lib_name):
    lib = pytest.importorskip(lib_name)
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    p.grad = lib.tensor([0.0, 1.0])
    lib.optim.RMSprop([p], eps=0.0).step()  # (γ·0) / (√0 + 0) (numpy would warn)
    assert np.isnan(p.detach().numpy()[0]) and np.isfinite(p.detach().numpy()[1])


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_rmsprop_load_fills_old_flags_and_makes_a_number_step_a_tensor(lib_name):
    lib = pytest.importorskip(lib_name)
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    first = lib.optim.RMSprop([p])
    p.grad = lib.tensor([1.0, 1.0])
    first.step()
    sd = first.state_dict()
    sd["state"][0]["step"] = 4  # as torch < 1.12 saved it
    for flag in ("momentum", "centered", "maximize"):
        del sd["param_groups"][0][flag]
    opt = lib.optim.RMSprop([p], momentum=0.9, centered=True, maximize=True)
    opt.load_state_dict(sd)
    step = opt.state[p]["step"]
    assert isinstance(step, lib.Tensor) and step.dtype == lib.float32 and step.item() == 4.0
    group = opt.param_groups[0]
    assert (group["momentum"], group["centered"], group["maximize"]) == (0, False, False)


# ---------------------------------------------------------------------- docs and convergence
def test_rmsprop_docstring_has_the_algorithm_and_a_runnable_example():
    assert ".. math::" in RMSprop.__doc__ and "Graves" in RMSprop.__doc__
    failed, attempted = doctest.testmod(rmsprop_module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0


@pytest.mark.parametrize("kwargs", [{"lr": 0.01}, {"lr": 0.01, "centered": True},
                                    {"lr": 0.01, "momentum": 0.9, "centered": True}])
def test_rmsprop_converges_on_a_quadratic(kwargs):
    scales = tg.tensor([1.0, 10.0], dtype=tg.float64)
    w = tg.tensor([3.0, -2.0], dtype=tg.float64, requires_grad=True)
    opt = RMSprop([w], **kwargs)
    for _ in range(1000):
        opt.zero_grad()
        (scales * w * w).sum().backward()  # minimum at 0; curvatures 2 and 20
        opt.step()
    assert np.abs(w.tolist()).max() < 1e-6


def _rosenbrock_grad(w):
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


@pytest.mark.parametrize("kwargs", [{"lr": 1e-3, "momentum": 0.9},
                                    {"lr": 1e-3, "momentum": 0.9, "centered": True}])
def test_rmsprop_with_momentum_converges_on_rosenbrock(kwargs):
    w = tg.tensor([-1.5, 2.0], dtype=tg.float64, requires_grad=True)
    opt = RMSprop([w], **kwargs)
    for _ in range(4000):
        w.grad = tg.tensor(_rosenbrock_grad(w.detach().numpy()))  # numpy: keeps it fast
        opt.step()
    # Steps are about lr in size wherever the gradient is, so at a fixed lr the iterate
    # keeps circling the minimum at that scale (measured: within 5e-4 after 4000 steps).
    np.testing.assert_allclose(w.tolist(), [1.0, 1.0], atol=1e-3)
