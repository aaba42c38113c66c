"""Tests of Adadelta: its array kernel by hand math, the class's state, convergence."""
import doctest
import math

import numpy as np
import pytest

import tinygrad_optim as tg
import tinygrad_optim.optim.adadelta as adadelta_module
from optim_cases import CASES, materialize
from tinygrad_optim.optim import Adadelta, _blocks
from tinygrad_optim.optim.adadelta import adadelta_kernel, adadelta_update

PLAIN = {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0, "maximize": False}
# torch's flags for implementations this library does not have.


def _hyper(**changes):
    return {**PLAIN, **changes}


def _kernel_hyper(case):
    """The kernel's arguments for a registry case, as Adadelta.step makes them."""
    group = Adadelta([tg.zeros(1, requires_grad=True)], **materialize(case.kwargs, tg))
    group = group.param_groups[0]
    return {**{key: float(group[key]) for key in ("lr", "rho", "eps", "weight_decay")},
            "maximize": bool(group["maximize"])}


HYPERS = [_kernel_hyper(case) for case in CASES["Adadelta"]]
IDS = [case.id for case in CASES["Adadelta"]]


def _run(theta, grads, **hyper):
    """The kernel over ``grads`` on a one-element float64 parameter; returns its arrays."""
    param, square_avg, acc_delta = np.array([theta]), np.zeros(1), np.zeros(1)
    for g in grads:
        adadelta_update(param, np.array([g]), square_avg, acc_delta, **_hyper(**hyper))
    return param, square_avg, acc_delta


# ---------------------------------------------------------------------- the kernel
def test_adadelta_update_first_step_by_hand():
    param, square_avg, acc_delta = _run(1.0, [2.0], lr=0.5)
    # v = 0.1 · 4; Δ = √ε / √(v + ε) · g; u = 0.1 Δ²; θ = 1 − 0.5 Δ
    delta = math.sqrt(1e-6) / math.sqrt(0.4 + 1e-6) * 2.0
    np.testing.assert_allclose(square_avg, [0.4], rtol=1e-15)
    np.testing.assert_allclose(acc_delta, [0.1 * delta * delta], rtol=1e-15)
    np.testing.assert_allclose(param, [1.0 - 0.5 * delta], rtol=1e-15)


def test_adadelta_update_scales_by_the_update_average_from_before_the_step():
    grads = [2.0, -1.0, 0.5]
    param, square_avg, acc_delta = _run(1.0, grads, rho=0.8, eps=1e-3, lr=0.7)
    theta, v, u = 1.0, 0.0, 0.0
    for g in grads:
        v = 0.8 * v + 0.2 * g * g
        delta = math.sqrt(u + 1e-3) / math.sqrt(v + 1e-3) * g  # u not yet updated
        u = 0.8 * u + 0.2 * delta * delta
        theta -= 0.7 * delta
    np.testing.assert_allclose([param[0], square_avg[0], acc_delta[0]], [theta, v, u],
                               rtol=1e-14)  # a few roundings apart: torch's order


def test_adadelta_update_maximize_negates_before_weight_decay():
    param, square_avg, _ = _run(2.0, [1.0], weight_decay=0.25, maximize=True, rho=0.0)
    # d = −g + λθ = −0.5 (the decay still pulls θ towards 0); ρ = 0: v = d², and
    # Δ = √ε / √(d² + ε) · d
    delta = math.sqrt(1e-6) / math.sqrt(0.25 + 1e-6) * -0.5
    assert square_avg.tolist() == [0.25]
    np.testing.assert_allclose(param, [2.0 - delta], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adadelta_update_with_rho_one_is_plain_gradient_descent(dtype):
    rng = np.random.default_rng(1)
    param, grads = rng.standard_normal(6).astype(dtype), rng.standard_normal((5, 6))
    square_avg, acc_delta = np.zeros(6, dtype), np.zeros(6, dtype)
    expected = param.copy()
    for grad in grads.astype(dtype):
        adadelta_update(param, grad, square_avg, acc_delta, **_hyper(lr=0.1, rho=1.0))
        expected -= dtype(0.1) * grad  # both averages stay 0, so Δ = √ε / √ε · g = g
    np.testing.assert_array_equal(param, expected)
    assert not square_avg.any() and not acc_delta.any()


@pytest.mark.parametrize("hyper", HYPERS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adadelta_update_works_in_place_and_never_writes_the_gradient(hyper, dtype):
    rng = np.random.default_rng(0)
    param, grad = (rng.standard_normal((3, 2)).astype(dtype) for _ in range(2))
    grad.flags.writeable = False  # any write into the gradient raises
    square_avg, acc_delta = np.zeros_like(param), np.zeros_like(param)
    before, grad_before = param.copy(), grad.copy()
    for _ in range(2):
        adadelta_update(param, grad, square_avg, acc_delta, **hyper)
    assert param.dtype == square_avg.dtype == acc_delta.dtype == dtype
    assert not np.array_equal(param, before) and np.array_equal(grad, grad_before)
    assert (np.count_nonzero(square_avg) == 6) == (hyper["rho"] != 1)


def _two_steps(shape, hyper):
    param, grad = np.full(shape, 2.0, np.float32), np.full(shape, 1.0, np.float32)
    square_avg, acc_delta = np.zeros_like(param), np.zeros_like(param)
    for _ in range(2):
        adadelta_update(param, grad, square_avg, acc_delta, **hyper)
    for array in (param, square_avg, acc_delta):
        assert array.shape == shape and array.dtype == np.float32
    return param, square_avg, acc_delta


@pytest.mark.parametrize("hyper", HYPERS, ids=IDS)
def test_adadelta_update_steps_a_scalar_as_a_one_element_vector(hyper):
    for scalar, vector in zip(_two_steps((), hyper), _two_steps((1,), hyper)):
        assert scalar.reshape(1).tolist() == vector.tolist()


@pytest.mark.parametrize("shape", [(0,), (2, 0)])
@pytest.mark.parametrize("hyper", HYPERS, ids=IDS)
def test_adadelta_update_handles_empty_arrays(shape, hyper):
    _two_steps(shape, hyper)


@pytest.mark.parametrize("size", [_blocks.BLOCK + 3, _blocks.THREADED + 12345])
def test_adadelta_blocked_equals_whole_array(size):
    rng = np.random.default_rng(size)
    param, grad, square_avg, acc_delta = (rng.standard_normal(size).astype(np.float32)
                                          for _ in range(4))
    square_avg, acc_delta = np.abs(square_avg), np.abs(acc_delta)
    whole = [param.copy(), grad, square_avg.copy(), acc_delta.copy()]
    hyper = _hyper(weight_decay=0.01, maximize=True)
    adadelta_kernel(*whole, **hyper)
    adadelta_update(param, grad, square_avg, acc_delta, **hyper)
    for got, expected in zip((param, square_avg, acc_delta), whole[:1] + whole[2:]):
        np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------------- the class
def test_adadelta_defaults_in_torchs_order():
    opt = Adadelta([tg.zeros(1, requires_grad=True)])
    # torch 2.13's defaults, implementation flags included, in its order
    assert list(opt.defaults.items()) == [
        ("lr", 1.0), ("rho", 0.9), ("eps", 1e-06), ("weight_decay", 0), ("maximize", False),
        ("capturable", False), ("foreach", None), ("differentiable", False)]


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adadelta_state_is_made_at_the_first_step_with_a_gradient(lib_name):
    lib = pytest.importorskip(lib_name)
    p, q = (lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True) for _ in range(2))
    opt = lib.optim.Adadelta([p, q])
    assert len(opt.state) == 0
    for _ in range(2):
        p.grad = lib.tensor([0.5, -0.5], dtype=lib.float64)
        opt.step()
    assert q not in opt.state and list(opt.state[p]) == ["step", "square_avg", "acc_delta"]
    step = opt.state[p]["step"]
    assert step.dtype == lib.float32 and step.shape == () and step.item() == 2.0
    for key in ("square_avg", "acc_delta"):
        assert opt.state[p][key].dtype == lib.float64 and opt.state[p][key].shape == p.shape


def test_adadelta_state_sits_beside_its_param_and_step_on_the_cpu(device):
    p = tg.tensor([1.0, 2.0], device=device, requires_grad=True)
    opt = Adadelta([p])
    p.grad = tg.ones(2, device=device)
    opt.step()
    assert opt.state[p]["step"].device == tg.device("cpu")
    assert all(opt.state[p][key].device == p.device for key in ("square_avg", "acc_delta"))


def test_adadelta_tensor_lr_steps_by_its_float32_value():
    p = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    p.grad = tg.tensor([1.0, -3.0], dtype=tg.float64)
    Adadelta([p], lr=tg.tensor(0.001), rho=1.0).step()  # ρ = 1: Δ = g exactly
    step = 0.0010000000474974513  # float32(0.001), exactly (torch moves by this too)
    np.testing.assert_array_equal(p.tolist(), [1.0 - step, 2.0 + 3 * step])


def test_adadelta_reads_a_changed_group_lr_at_the_next_step():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = Adadelta([p], lr=0.5, rho=1.0)  # ρ = 1: Δ = g, so θ moves by lr · g
    p.grad = tg.tensor([1.0], dtype=tg.float64)
    opt.step()
    opt.param_groups[0]["lr"] = 0.25
    opt.step()
    assert p.tolist() == [0.25]


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adadelta_checks_hyperparameters_before_params(lib_name):
    lib = pytest.importorskip(lib_name)
    with pytest.raises(ValueError, match=r"^Invalid rho value: 1\.5$"):
        lib.optim.Adadelta([], rho=1.5)


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adadelta_makes_nan_silently(lib_name):
    lib = pytest.importorskip(lib_name)
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    p.grad = lib.tensor([0.0, 1.0])
    lib.optim.Adadelta([p], eps=0.0).step()  # Δ = √0 / √0 · 0 (numpy would warn)
    assert np.isnan(p.detach().numpy()[0]) and p.detach().numpy()[1] == 2.0


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adadelta_load_fills_old_flags_and_makes_a_number_step_a_tensor(lib_name):
    lib = pytest.importorskip(lib_name)
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    first = lib.optim.Adadelta([p])
    p.grad = lib.tensor([1.0, 1.0])
    first.step()
    sd = first.state_dict()
    sd["state"][0]["step"] = 4  # as torch < 1.12 saved it
    del sd["param_groups"][0]["maximize"]
    opt = lib.optim.Adadelta([p], maximize=True)
    opt.load_state_dict(sd)
    step = opt.state[p]["step"]
    assert isinstance(step, lib.Tensor) and step.dtype == lib.float32 and step.item() == 4.0
    assert opt.param_groups[0]["maximize"] is False


# ---------------------------------------------------------------------- docs and convergence
def test_adadelta_docstring_has_the_algorithm_and_a_runnable_example():
    assert ".. math::" in Adadelta.__doc__ and "Zeiler" in Adadelta.__doc__
    failed, attempted = doctest.testmod(adadelta_module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0


@pytest.mark.parametrize("kwargs", [{"rho": 0.99, "eps": 1e-4},
                                    {"rho": 0.95, "eps": 1e-2, "lr": 0.1}])
def test_adadelta_converges_on_a_quadratic(kwargs):
    scales = tg.tensor([1.0, 10.0], dtype=tg.float64)
    w = tg.tensor([3.0, -2.0], dtype=tg.float64, requires_grad=True)
    opt = Adadelta([w], **kwargs)
    for _ in range(1000):
        opt.zero_grad()
        (scales * w * w).sum().backward()  # minimum at 0; curvatures 2 and 20
        opt.step()
    assert np.abs(w.tolist()).max() < 1e-6


def _rosenbrock_grad(w):
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def test_adadelta_with_a_decaying_lr_converges_on_rosenbrock():
    # Adadelta's unit-free steps keep circling the curved valley's floor at a fixed lr;
    # halving lr every 1000 steps, as a step scheduler would, lets it settle.
    w = tg.tensor([-1.5, 2.0], dtype=tg.float64, requires_grad=True)
    opt = Adadelta([w])
    for step in range(1, 10_001):
        w.grad = tg.tensor(_rosenbrock_grad(w.detach().numpy()))  # numpy: keeps it fast
        opt.step()
        if step % 1000 == 0:
            opt.param_groups[0]["lr"] /= 2
    np.testing.assert_allclose(w.tolist(), [1.0, 1.0], atol=1e-3)
