"""Tests of Adamax: its array kernel by hand math, the class's state and checks, convergence."""
import doctest

import numpy as np
import pytest

import tinygrad_optim as tg
import tinygrad_optim.optim.adamax as adamax_module
from optim_cases import CASES, materialize
from tinygrad_optim.optim import Adamax
from tinygrad_optim.optim._blocks import BLOCK
from tinygrad_optim.optim.adamax import adamax_kernel, adamax_update

CASE_IDS = [case.id for case in CASES["Adamax"]]


def _update_args(case) -> dict:
    """``adamax_update``'s hyperparameters for a registry case (the class's defaults filled in)."""
    group = Adamax([tg.zeros(1, requires_grad=True)],
                   **materialize(case.kwargs, tg)).param_groups[0]
    beta1, beta2 = group["betas"]
    return {"lr": group["lr"], "beta1": beta1, "beta2": beta2, "eps": group["eps"],
            "weight_decay": group["weight_decay"], "maximize": group["maximize"]}


UPDATE_ARGS = [_update_args(case) for case in CASES["Adamax"]]


def _written_out(theta, grads, *, lr, betas, eps, weight_decay=0.0, maximize=False):
    """The docstring's algorithm element by element in Python floats: θ, m, u at the end."""
    beta1, beta2 = betas
    theta = [float(x) for x in theta]
    m, u = [0.0] * len(theta), [0.0] * len(theta)
    for t, grad in enumerate(grads, start=1):
        for i, g in enumerate(grad):
            d = (-g if maximize else g) + weight_decay * theta[i]
            m[i] = beta1 * m[i] + (1 - beta1) * d
            u[i] = max(beta2 * u[i], abs(d) + eps)
            theta[i] -= lr / (1 - beta1 ** t) * m[i] / u[i]
    return theta, m, u


def _assert_close(actual, expected, rtol):
    """Relative to the largest magnitude: an entry near 0 keeps its neighbours' rounding."""
    expected = np.asarray(expected)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


# ---------------------------------------------------------------------- the kernel
def test_adamax_update_first_step_moves_by_lr_along_the_sign():
    rng = np.random.default_rng(0)
    param, grad = rng.standard_normal(4), rng.standard_normal(4)
    exp_avg, exp_inf, before = np.zeros(4), np.zeros(4), param.copy()
    adamax_update(param, grad, exp_avg, exp_inf, step=1.0, lr=0.1, beta1=0.9, beta2=0.999,
                  eps=1e-8, weight_decay=0.0, maximize=False)
    # m = 0.1 g and u = |g| + eps (eps inside the max, no bias correction on u), so the step
    # is lr / (1 − 0.9) · 0.1 g / (|g| + eps).
    np.testing.assert_allclose(exp_avg, 0.1 * grad, rtol=1e-15)
    np.testing.assert_array_equal(exp_inf, np.abs(grad) + 1e-8)
    np.testing.assert_allclose(param, before - 0.1 * grad / (np.abs(grad) + 1e-8), rtol=1e-15)


@pytest.mark.parametrize("hyper", [
    {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8},
    {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1, "maximize": True},
    {"lr": 0.05, "betas": (0.3, 0.45), "eps": 1e-3, "maximize": True},
    {"lr": 0.01, "betas": (0, 0), "eps": 1e-8, "weight_decay": 0.5},
])
def test_adamax_update_follows_the_algorithm_written_out(hyper):
    rng = np.random.default_rng(1)
    theta = rng.standard_normal(5)
    grads = rng.standard_normal((30, 5)) * 10.0 ** rng.uniform(-2, 1, (30, 1))
    param, exp_avg, exp_inf = theta.copy(), np.zeros(5), np.zeros(5)
    for step, grad in enumerate(grads, start=1):
        adamax_update(param, grad, exp_avg, exp_inf, step=float(step), lr=hyper["lr"],
                      beta1=hyper["betas"][0], beta2=hyper["betas"][1], eps=hyper["eps"],
                      weight_decay=hyper.get("weight_decay", 0.0),
                      maximize=hyper.get("maximize", False))
    # A few roundings per step in a different order (lerp, addcdiv): ~1e-15 after 30 steps.
    for ours, theirs in zip((param, exp_avg, exp_inf), _written_out(theta, grads, **hyper)):
        _assert_close(ours, theirs, rtol=1e-13)


def test_adamax_update_infinity_norm_decays_to_eps_and_stays():
    param, grad = np.array([1.0, 1.0]), np.array([1.0, 1e-8])
    exp_avg, exp_inf = np.zeros(2), np.zeros(2)
    hyper = {"lr": 0.01, "beta1": 0.9, "beta2": 0.5, "eps": 1e-8, "weight_decay": 0.0,
             "maximize": False}
    adamax_update(param, grad, exp_avg, exp_inf, step=1.0, **hyper)
    assert exp_inf.tolist() == [1.0 + 1e-8, 2e-8]
    for step in (2.0, 3.0):  # zero gradients: u = max(β2·u, eps)
        adamax_update(param, np.zeros(2), exp_avg, exp_inf, step=step, **hyper)
    assert exp_inf.tolist() == [(1.0 + 1e-8) / 4, 1e-8]


@pytest.mark.parametrize("hyper", UPDATE_ARGS, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adamax_update_works_in_place_and_never_writes_the_gradient(hyper, dtype):
    rng = np.random.default_rng(0)
    param, grad = (rng.standard_normal((3, 2)).astype(dtype) for _ in range(2))
    grad.flags.writeable = False  # any write into the gradient raises
    exp_avg, exp_inf = np.zeros_like(param), np.zeros_like(param)
    before, grad_before = param.copy(), grad.copy()
    for step in (1.0, 2.0):
        adamax_update(param, grad, exp_avg, exp_inf, step=step, **hyper)
    assert param.dtype == exp_avg.dtype == exp_inf.dtype == dtype
    assert not np.array_equal(param, before) and np.array_equal(grad, grad_before)
    assert exp_avg.all() and (exp_inf > 0).all()


@pytest.mark.parametrize("shape", [(), (0,), (2, 0)])
@pytest.mark.parametrize("hyper", UPDATE_ARGS, ids=CASE_IDS)
def test_adamax_update_handles_scalar_and_empty_arrays(shape, hyper):
    param, grad = np.full(shape, 2.0, np.float32), np.full(shape, 1.0, np.float32)
    exp_avg, exp_inf = np.zeros_like(param), np.zeros_like(param)
    for step in (1.0, 2.0):
        adamax_update(param, grad, exp_avg, exp_inf, step=step, **hyper)
    assert param.shape == exp_inf.shape == shape and param.dtype == np.float32
    assert np.isfinite(param).all() and (param != 2.0).all()


def test_adamax_update_in_blocks_gives_the_bits_of_one_kernel_call():
    rng = np.random.default_rng(3)
    size = 5 * BLOCK + 7  # several blocks, shared by threads, and a ragged last one
    arrays = [rng.standard_normal(size).astype(np.float32) for _ in range(3)]
    arrays.append(np.abs(rng.standard_normal(size)).astype(np.float32))
    whole = [a.copy() for a in arrays]
    lr, beta1, step = 0.01, 0.9, 10.0
    adamax_update(*arrays, step=step, lr=lr, beta1=beta1, beta2=0.999, eps=1e-8,
                  weight_decay=0.1, maximize=True)
    adamax_kernel(*whole, one_minus_beta1=1 - beta1, beta2=0.999, eps=1e-8, weight_decay=0.1,
                  clr=lr / (1 - beta1 ** step), maximize=True)
    for blocked, one_call in zip(arrays, whole):
        np.testing.assert_array_equal(blocked, one_call)


# ---------------------------------------------------------------------- the class
def test_adamax_defaults_in_torchs_order():
    opt = Adamax([tg.zeros(1, requires_grad=True)])
    # torch 2.13's defaults, implementation flags included, in its order
    assert list(opt.defaults.items()) == [
        ("lr", 0.002), ("betas", (0.9, 0.999)), ("eps", 1e-08), ("weight_decay", 0),
        ("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False)]


@pytest.mark.torch
def test_adamax_group_keys_and_values_match_torch():
    torch = pytest.importorskip("torch")

    def group(lib):
        opt = lib.optim.Adamax([lib.zeros(2, requires_grad=True)], lr=0.01, betas=[0, 0.5],
                               maximize=True)
        return {k: v for k, v in opt.param_groups[0].items()
                if k != "params"}
    ours, theirs = group(tg), group(torch)
    assert list(ours) == list(theirs) and ours == theirs
    assert ours["betas"] == [0, 0.5]  # kept as given: unlike Adam, no tuple and no type check


def test_adamax_state_is_made_at_the_first_step(device):
    p = tg.tensor([1.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    q = tg.tensor([3.0], dtype=tg.float64, device=device, requires_grad=True)
    opt = Adamax([p, q])
    assert len(opt.state) == 0
    p.grad = tg.ones(2, dtype=tg.float64, device=device)
    opt.step()
    assert q not in opt.state and list(opt.state[p]) == ["step", "exp_avg", "exp_inf"]
    step = opt.state[p]["step"]  # torch keeps it a float32 scalar on the CPU
    assert step.dtype == tg.float32 and step.shape == () and step.device.type == "cpu"
    assert step.item() == 1.0
    for key in ("exp_avg", "exp_inf"):
        state = opt.state[p][key]
        assert state.dtype == tg.float64 and state.device == p.device
        assert state.shape == p.shape and not state.requires_grad


def test_adamax_each_param_counts_its_own_steps():
    p, q = tg.tensor([1.0], requires_grad=True), tg.tensor([1.0], requires_grad=True)
    opt = Adamax([p, q])
    for q_has_grad in (True, False, False, True, False):
        p.grad, q.grad = tg.tensor([1.0]), tg.tensor([1.0]) if q_has_grad else None
        opt.step()
    assert opt.state[p]["step"].item() == 5.0 and opt.state[q]["step"].item() == 2.0


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adamax_int_betas_of_zero_give_sign_descent(lib_name):
    # betas (0, 0): m = d and u = |d| + eps, so θ moves by lr·d / (|d| + eps) every step.
    lib = pytest.importorskip(lib_name)
    p = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.Adamax([p], lr=0.1, betas=(0, 0), eps=0.5)
    for grad in ([1.0, -0.5], [-2.0, 0.5]):
        p.grad = lib.tensor(grad, dtype=lib.float64)
        opt.step()
    # [1 − 0.1·(1/1.5) + 0.1·(2/2.5), −2 + 0.1·(0.5/1) − 0.1·(0.5/1)]
    np.testing.assert_allclose(p.tolist(), [1.0 - 0.1 / 1.5 + 0.08, -2.0], rtol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [
    {"betas": (0.2, 0.6)},  # 1 − β1 is not a float32: torch rounds it
    {"lr": [0.01], "betas": (0.9, [0.99]), "weight_decay": 0.2, "maximize": True},
], ids=["0-d betas, float lr", "1-d beta2, tensor lr"])
def test_adamax_tensor_betas_match_torch(kwargs, dtype):
    # Each scalar (1 − β1, the bias correction, clr) is then 0-d float32 arithmetic, as in
    # torch; float64 arithmetic on the same values drifts from torch by ~1e-9 here.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    init = rng.standard_normal((2, 6))
    grads = rng.standard_normal((40, 2, 6)) * 10.0 ** rng.uniform(-2, 1, (40, 1, 1))

    def run(lib):
        params = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in init]
        hyper = {**kwargs, "betas": tuple(lib.tensor(b) for b in kwargs["betas"])}
        if "lr" in hyper:
            hyper["lr"] = lib.tensor(hyper["lr"])
        opt = lib.optim.Adamax(params, **hyper)
        for step_grads in grads:
            for param, grad in zip(params, step_grads):
                param.grad = lib.tensor(grad, dtype=getattr(lib, dtype))
            opt.step()
        return [p.detach().numpy().copy() for p in params] + [
            v.numpy().copy() for s in opt.state.values() for v in s.values()]
    # float64: only the lerp's rounding differs (torch fuses it), ~1e-16 a step.
    rtol = 1e-13 if dtype == "float64" else 1e-6  # float32: see test_optimizer's RTOL
    for ours, theirs in zip(run(tg), run(torch)):
        _assert_close(ours, theirs, rtol=rtol)


def test_adamax_step_evaluates_the_closure_first_and_returns_its_loss():
    p = tg.tensor([1.0, -2.0], dtype=tg.float64, requires_grad=True)
    opt = Adamax([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with tg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0 and loss.grad_fn is not None
    # The first step moves θ by lr against the sign of its gradient 2θ.
    np.testing.assert_allclose(p.tolist(), [0.9, -1.9], rtol=1e-7)


def test_adamax_numpy_scalar_hyperparameters_keep_float32_arithmetic():
    grads = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    results = []
    for cast in (float, np.float64):
        p = tg.tensor([1.0, 2.0, -3.0, 0.5], requires_grad=True)
        opt = Adamax([p], lr=cast(0.01), betas=(cast(0.8), cast(0.9)), eps=cast(1e-6),
                     weight_decay=cast(0.1))
        for grad in grads:
            p.grad = tg.tensor(grad)
            opt.step()
        results.append(p.detach().numpy().copy())
    assert results[1].dtype == np.float32
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adamax_checks_hyperparameters_before_params(lib_name):
    lib = pytest.importorskip(lib_name)
    with pytest.raises(ValueError, match=r"^Invalid beta parameter at index 1: 1\.0$"):
        lib.optim.Adamax([], betas=(0.0, 1.0))


# ---------------------------------------------------------------------- state_dict
@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_adamax_load_state_dict_makes_a_number_step_a_float32_tensor(lib_name):
    lib = pytest.importorskip(lib_name)
    p = lib.tensor([1.0, -2.0], requires_grad=True)
    opt = lib.optim.Adamax([p])
    p.grad = lib.tensor([0.5, 0.25])
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = 7  # as saved by old torch versions
    del sd["param_groups"][0]["maximize"]  # ... from before maximize existed
    opt.load_state_dict(sd)
    step = opt.state[p]["step"]
    assert isinstance(step, lib.Tensor) and step.dtype == lib.float32 and step.item() == 7.0
    assert opt.param_groups[0]["maximize"] is False


# ---------------------------------------------------------------------- docs and convergence
def test_adamax_docstring_has_the_algorithm_and_a_runnable_example():
    assert ".. math::" in Adamax.__doc__ and "Reference:" in Adamax.__doc__
    failed, attempted = doctest.testmod(adamax_module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0


@pytest.mark.parametrize("kwargs", [{"lr": 0.05}, {"lr": 0.05, "weight_decay": 1e-3}])
def test_adamax_converges_on_a_quadratic(kwargs):
    scales = tg.tensor([1.0, 10.0], dtype=tg.float64)
    w = tg.tensor([3.0, -2.0], dtype=tg.float64, requires_grad=True)
    opt = Adamax([w], **kwargs)
    for _ in range(800):
        opt.zero_grad()
        (scales * w * w).sum().backward()  # minimum at 0; curvatures 2 and 20
        opt.step()
    assert np.abs(w.tolist()).max() < 1e-8


def test_adamax_converges_on_rosenbrock():
    w = tg.tensor([-1.5, 2.0], dtype=tg.float64, requires_grad=True)
    opt = Adamax([w], lr=0.02)
    for _ in range(6000):
        opt.zero_grad()
        x, y = w[0], w[1]
        ((1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)).backward()
        opt.step()
    np.testing.assert_allclose(w.tolist(), [1.0, 1.0], atol=1e-5)
