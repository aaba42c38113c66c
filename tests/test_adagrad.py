"""Tests of Adagrad: its array kernel by hand math, the class's eager state, convergence."""
import doctest
import math

import numpy as np
import pytest

import tinygrad_optim as tg
import tinygrad_optim.optim.adagrad as adagrad_module
from optim_cases import CASES, materialize
from tinygrad_optim.optim import Adagrad, _blocks
from tinygrad_optim.optim.adagrad import adagrad_kernel, adagrad_update

PLAIN = {"clr": 0.1, "weight_decay": 0.0, "eps": 1e-10, "maximize": False}
# torch's flags for implementations this library does not have.


def _hyper(**changes):
    return {**PLAIN, **changes}


def _kernel_hyper(case):
    """The kernel's arguments at the first step of a registry case, as Adagrad.step makes them."""
    group = Adagrad([tg.zeros(1, requires_grad=True)], **materialize(case.kwargs, tg))
    group = group.param_groups[0]
    return {"clr": float(group["lr"]), "weight_decay": float(group["weight_decay"]),
            "eps": float(group["eps"]), "maximize": bool(group["maximize"])}


HYPERS = [_kernel_hyper(case) for case in CASES["Adagrad"]]
IDS = [case.id for case in CASES["Adagrad"]]


# ---------------------------------------------------------------------- the kernel
def test_adagrad_update_by_hand():
    param, grad = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    state_sum = np.full(2, 0.25)
    adagrad_update(param, grad, state_sum, **_hyper(eps=0.5))
    # s = 0.25 + g² = [0.5, 9.25]; θ − 0.1 g / (√s + 0.5), ε after the square root
    expected = [1.0 - 0.1 * 0.5 / (math.sqrt(0.5) + 0.5),
                -2.0 - 0.1 * 3.0 / (math.sqrt(9.25) + 0.5)]
    np.testing.assert_allclose(state_sum, [0.5, 9.25], rtol=1e-15)
    np.testing.assert_allclose(param, expected, rtol=1e-15)


def test_adagrad_update_maximize_negates_before_weight_decay():
    param, grad, state_sum = np.array([2.0]), np.array([1.0]), np.zeros(1)
    adagrad_update(param, grad, state_sum, **_hyper(weight_decay=0.25, maximize=True, eps=0.0))
    # d = −g + λθ = −1 + 0.5 = −0.5 (the decay still pulls θ towards 0); s = 0.25;
    # θ = 2 − 0.1 · (−0.5) / 0.5 = 2.1
    assert state_sum.tolist() == [0.25]
    np.testing.assert_allclose(param, [2.1], rtol=1e-15)


@pytest.mark.parametrize("hyper", HYPERS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adagrad_update_works_in_place_and_never_writes_the_gradient(hyper, dtype):
    rng = np.random.default_rng(0)
    param, grad = (rng.standard_normal((3, 2)).astype(dtype) for _ in range(2))
    grad.flags.writeable = False  # any write into the gradient raises
    state_sum = np.full_like(param, 0.1)
    before, grad_before = param.copy(), grad.copy()
    for _ in range(2):
        adagrad_update(param, grad, state_sum, **hyper)  # returns nothing: writes in place
    assert param.dtype == state_sum.dtype == dtype and np.all(state_sum > 0.1)
    assert not np.array_equal(param, before) and np.array_equal(grad, grad_before)


def _two_steps(shape, hyper):
    param, grad = np.full(shape, 2.0, np.float32), np.full(shape, 1.0, np.float32)
    state_sum = np.zeros_like(param)
    for _ in range(2):
        adagrad_update(param, grad, state_sum, **hyper)
    assert param.shape == state_sum.shape == shape
    assert param.dtype == state_sum.dtype == np.float32
    return param, state_sum


@pytest.mark.parametrize("hyper", HYPERS, ids=IDS)
def test_adagrad_update_steps_a_scalar_as_a_one_element_vector(hyper):
    for scalar, vector in zip(_two_steps((), hyper), _two_steps((1,), hyper)):
        assert scalar.reshape(1).tolist() == vector.tolist()


@pytest.mark.parametrize("shape", [(0,), (2, 0)])
@pytest.mark.parametrize("hyper", HYPERS, ids=IDS)
def test_adagrad_update_handles_empty_arrays(shape, hyper):
    _two_steps(shape, hyper)


@pytest.mark.parametrize("size", [_blocks.BLOCK + 3, _blocks.THREADED + 12345])
def test_adagrad_blocked_equals_whole_array(size):
    rng = np.random.default_rng(size)
    param, grad, state_sum = (rng.standard_normal(size).astype(np.float32) for _ in range(3))
    state_sum = np.abs(state_sum)
    whole = [param.copy(), grad, state_sum.copy()]
    hyper = _hyper(weight_decay=0.01, maximize=True)
    adagrad_kernel(*whole, **hyper)
    adagrad_update(param, grad, state_sum, **hyper)
    np.testing.assert_array_equal(param, whole[0])
    np.testing.assert_array_equal(state_sum, whole[2])


# ---------------------------------------------------------------------- the class
def test_adagrad_defaults_in_torchs_order():
    opt = Adagrad([tg.zeros(1, requires_grad=True)])
    # torch 2.13's defaults, implementation flags included, in its order
    assert list(opt.defaults.items()) == [
        ("lr", 0.01), ("lr_decay", 0), ("eps", 1e-10), ("weight_decay", 0),
        ("initial_accumulator_value", 0), ("foreach", None), ("maximize", False),
        ("differentiable", False), ("fused", None)]


def test_adagrad_lr_decay_by_hand():
    # The worked example of the reference notes, run in torch 2.13: θ = 1, g = 2, three steps.
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = Adagrad([p], lr=0.1, lr_decay=0.5)
    theta, total, seen = 1.0, 0.0, []
    for t in (1, 2, 3):
        p.grad = tg.tensor([2.0], dtype=tg.float64)
        opt.step()
        total += 4.0
        theta -= 0.1 / (1 + (t - 1) * 0.5) * 2.0 / (math.sqrt(total) + 1e-10)
        seen.append(p.item())
        assert p.item() == pytest.approx(theta, rel=1e-15)
    np.testing.assert_allclose(seen, [0.900000000005, 0.8528595479275636, 0.8239920344689157],
                               rtol=1e-15)
    assert opt.state[p]["step"].item() == 3.0


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adagrad_makes_state_in_the_constructor_with_the_constructors_value(lib_name):
    lib = pytest.importorskip(lib_name)
    p, q = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
    opt = lib.optim.Adagrad([{"params": [p]}, {"params": [q], "initial_accumulator_value": 0.5}],
                            initial_accumulator_value=0.1)
    assert list(opt.state_dict()["state"]) == [0, 1]  # before any step, no gradient needed
    for param in (p, q):
        step, total = opt.state[param]["step"], opt.state[param]["sum"]
        assert step.dtype == lib.float32 and step.shape == () and step.item() == 0.0
        assert total.dtype == param.dtype and total.shape == param.shape
        np.testing.assert_array_equal(total.numpy(), np.full(param.shape, 0.1, np.float32))


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adagrad_added_group_gets_state_at_its_first_step_from_the_defaults(lib_name):
    lib = pytest.importorskip(lib_name)
    p, q = lib.tensor([1.0], requires_grad=True), lib.tensor([3.0, 4.0], requires_grad=True)
    opt = lib.optim.Adagrad([p], initial_accumulator_value=0.25)
    opt.add_param_group({"params": [q], "initial_accumulator_value": 7.0})
    assert q not in opt.state
    p.grad = lib.tensor([1.0])
    opt.step()
    assert q not in opt.state  # no gradient yet: still nothing
    q.grad = lib.tensor([0.5, 1.0])
    opt.step()
    # sum = 0.25 (the defaults' value, not the group's 7) + g²
    np.testing.assert_array_equal(opt.state[q]["sum"].numpy(), np.float32([0.5, 1.25]))
    assert opt.state[q]["step"].item() == 1.0 and opt.state[p]["step"].item() == 2.0


def test_adagrad_counts_steps_only_for_params_with_a_gradient():
    p, q = tg.tensor([1.0], requires_grad=True), tg.tensor([2.0], requires_grad=True)
    opt = Adagrad([p, q])
    for _ in range(3):
        p.grad = tg.tensor([1.0])
        opt.step()
    assert opt.state[p]["step"].item() == 3.0 and opt.state[q]["step"].item() == 0.0
    assert q.tolist() == [2.0] and opt.state[q]["sum"].tolist() == [0.0]


def test_adagrad_state_sits_beside_its_param_and_step_on_the_cpu(device):
    p = tg.tensor([1.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    opt = Adagrad([p])
    p.grad = tg.ones(2, dtype=tg.float64, device=device)
    opt.step()
    total, step = opt.state[p]["sum"], opt.state[p]["step"]
    assert total.device == p.device and total.dtype == tg.float64
    assert step.device == tg.device("cpu") and step.dtype == tg.float32


def test_adagrad_tensor_lr_decays_in_float32_arithmetic():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = Adagrad([p], lr=tg.tensor(0.05), lr_decay=0.3)
    for _ in range(2):
        p.grad = tg.tensor([2.0], dtype=tg.float64)
        opt.step()
    # torch divides the float32 tensor lr by float32(1 + 0.3) in float32 arithmetic.
    lr32 = np.float32(0.05)
    clr1, clr2 = float(lr32), float(lr32 / np.float32(1.3))
    expected = 1.0 - clr1 * 2.0 / (2.0 + 1e-10)
    expected -= clr2 * 2.0 / (math.sqrt(8.0) + 1e-10)
    assert clr2 != float(lr32) / 1.3  # the float64 division would step differently
    assert p.item() == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adagrad_checks_hyperparameters_before_params(lib_name):
    lib = pytest.importorskip(lib_name)
    with pytest.raises(ValueError, match=r"^Invalid lr_decay value: -1$"):
        lib.optim.Adagrad([], lr_decay=-1)


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adagrad_makes_nan_silently(lib_name):
    lib = pytest.importorskip(lib_name)
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    p.grad = lib.tensor([0.0, 1.0])
    lib.optim.Adagrad([p], eps=0.0).step()  # (−γ·0) / (√0 + 0) (numpy would warn)
    assert np.isnan(p.detach().numpy()[0]) and np.isfinite(p.detach().numpy()[1])


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adagrad_load_fills_old_flags_and_makes_a_number_step_a_tensor(lib_name):
    lib = pytest.importorskip(lib_name)
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    sd = lib.optim.Adagrad([p]).state_dict()
    sd["state"][0]["step"] = 4  # as torch < 1.12 saved it
    del sd["param_groups"][0]["maximize"]
    opt = lib.optim.Adagrad([p], maximize=True)
    opt.load_state_dict(sd)
    step = opt.state[p]["step"]
    assert isinstance(step, lib.Tensor) and step.dtype == lib.float32 and step.item() == 4.0
    assert opt.param_groups[0]["maximize"] is False
    p.grad = lib.tensor([1.0, 1.0])
    opt.step()
    assert opt.state[p]["step"].item() == 5.0


# ---------------------------------------------------------------------- docs and convergence
def test_adagrad_docstring_has_the_algorithm_and_a_runnable_example():
    assert ".. math::" in Adagrad.__doc__ and "Duchi" in Adagrad.__doc__
    failed, attempted = doctest.testmod(adagrad_module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0


@pytest.mark.parametrize("kwargs", [{"lr": 0.5},
                                    {"lr": 0.5, "initial_accumulator_value": 0.1}])
def test_adagrad_converges_on_a_quadratic(kwargs):
    scales = tg.tensor([1.0, 10.0], dtype=tg.float64)
    w = tg.tensor([3.0, -2.0], dtype=tg.float64, requires_grad=True)
    opt = Adagrad([w], **kwargs)
    for _ in range(300):
        opt.zero_grad()
        (scales * w * w).sum().backward()  # minimum at 0; curvatures 2 and 20
        opt.step()
    assert np.abs(w.tolist()).max() < 1e-6


def _rosenbrock_grad(w):
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def test_adagrad_converges_on_rosenbrock():
    # Adagrad's steps shrink with every gradient it has seen, so the crawl along the curved
    # valley takes ~20 000 steps: the gradient is computed in numpy to keep that fast.
    w = tg.tensor([-1.2, 1.0], dtype=tg.float64, requires_grad=True)
    opt = Adagrad([w], lr=1.0, initial_accumulator_value=0.1)
    for _ in range(20_000):
        w.grad = tg.tensor(_rosenbrock_grad(w.detach().numpy()))
        opt.step()
    np.testing.assert_allclose(w.tolist(), [1.0, 1.0], atol=1e-6)
