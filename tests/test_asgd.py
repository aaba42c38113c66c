"""Tests of ASGD: its array kernel by hand math, eta/mu bookkeeping, checks, convergence."""
import doctest
import warnings

import numpy as np
import pytest

import tinygrad_optim as tg
import tinygrad_optim.optim.asgd as asgd_module
from optim_cases import CASES, materialize
from tinygrad_optim.optim import ASGD
from tinygrad_optim.optim._blocks import BLOCK, THREADED
from tinygrad_optim.optim.asgd import asgd_kernel, asgd_update, next_eta

PLAIN = {"eta": 0.5, "mu": 1.0, "lambd": 0.0, "weight_decay": 0.0, "maximize": False}
F32_LR = float(np.float32(0.01))  # the first eta of lr=0.01: float32(0.01)


def _hyper(**changes):
    return {**PLAIN, **changes}


def _f32(value):
    return float(np.float32(value))


# ---------------------------------------------------------------------- the kernel
def test_asgd_update_decays_then_steps_and_copies_into_ax():
    param, grad, ax = np.array([1.0]), np.array([1.0]), np.array([7.0])
    asgd_update(param, grad, ax, **_hyper(eta=F32_LR, lambd=1e-4))
    expected = 1.0 * (1 - 1e-4 * F32_LR) - F32_LR * 1.0
    assert param.tolist() == [expected] == [0.9899990002235398]  # spec §7, seen in torch
    assert ax.tolist() == [expected]  # mu == 1: ax is a copy


def test_asgd_update_weight_decay_uses_the_undecayed_param():
    param, grad, ax = np.array([2.0]), np.array([1.0]), np.zeros(1)
    asgd_update(param, grad, ax, **_hyper(lambd=0.1, weight_decay=0.5))
    # d = 1 + 0.5·2 = 2 (from θ = 2, not the decayed 1.9); θ = 2·(1 − 0.05) − 0.5·2
    np.testing.assert_allclose(param, [0.9], rtol=1e-15)


@pytest.mark.parametrize("weight_decay, expected", [(0.0, 2.5), (0.25, 2.25)])
def test_asgd_update_maximize_negates_before_weight_decay(weight_decay, expected):
    param, grad, ax = np.array([2.0]), np.array([1.0]), np.zeros(1)
    asgd_update(param, grad, ax, **_hyper(weight_decay=weight_decay, maximize=True))
    # d = −1 + λ·2; θ = 2 − 0.5·d: the decay still pulls θ towards 0
    assert param.tolist() == [expected]


def test_asgd_update_averages_with_mu():
    param, grad, ax = np.array([1.0, -3.0]), np.zeros(2), np.array([4.0, 1.0])
    asgd_update(param, grad, ax, **_hyper(mu=0.25))
    assert param.tolist() == [1.0, -3.0]  # no decay, no gradient: θ stays
    assert ax.tolist() == [4.0 + 0.25 * (1.0 - 4.0), 1.0 + 0.25 * (-3.0 - 1.0)]


def test_asgd_update_shrinks_the_param_even_with_a_zero_gradient():
    param, grad, ax = (np.float32([value]) for value in (2.0, 0.0, 0.0))
    asgd_update(param, grad, ax, **_hyper(eta=0.5, lambd=0.1))
    assert param.tolist() == [np.float32(2.0) * np.float32(0.95)] and param.dtype == np.float32


def _kernel_hyper(case):
    """The kernel's arguments for a registry case's first step (eta = lr, mu = 1)."""
    kwargs = materialize(case.kwargs, tg)
    return _hyper(eta=float(kwargs.get("lr", 1e-2)), lambd=kwargs.get("lambd", 1e-4),
                  weight_decay=kwargs.get("weight_decay", 0.0),
                  maximize=kwargs.get("maximize", False))


ASGD_HYPERS = [_kernel_hyper(case) for case in CASES["ASGD"]]
ASGD_IDS = [case.id for case in CASES["ASGD"]]


@pytest.mark.parametrize("mu", [1.0, 0.5])
@pytest.mark.parametrize("hyper", ASGD_HYPERS, ids=ASGD_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_asgd_update_works_in_place_and_never_writes_the_gradient(hyper, dtype, mu):
    rng = np.random.default_rng(0)
    param, grad, ax = (rng.standard_normal((3, 2)).astype(dtype) for _ in range(3))
    grad.flags.writeable = False  # any write into the gradient raises
    arrays = (param, ax)
    before, grad_before = [a.copy() for a in arrays], grad.copy()
    asgd_update(param, grad, ax, **{**hyper, "mu": mu})
    assert param.dtype == ax.dtype == dtype and np.array_equal(grad, grad_before)
    assert all(not np.array_equal(a, b) for a, b in zip(arrays, before))


@pytest.mark.parametrize("shape", [(), (0,), (2, 0)])
@pytest.mark.parametrize("mu", [1.0, 0.5])
def test_asgd_update_handles_scalar_and_empty_arrays(shape, mu):
    param, grad = np.full(shape, 2.0, np.float32), np.full(shape, 1.0, np.float32)
    ax = np.zeros_like(param)
    asgd_update(param, grad, ax, **_hyper(mu=mu, lambd=0.1, weight_decay=0.1))
    assert param.shape == ax.shape == shape and param.dtype == ax.dtype == np.float32
    np.testing.assert_array_equal(param, np.full(shape, np.float32(2 * 0.95 - 0.5 * 1.2)))


@pytest.mark.parametrize("size", [BLOCK + 3, THREADED + 12345])
@pytest.mark.parametrize("mu", [1.0, 0.25])
def test_asgd_update_blocked_equals_whole_array(size, mu):
    rng = np.random.default_rng(size)
    param, grad, ax = (rng.standard_normal(size).astype(np.float32) for _ in range(3))
    hyper = _hyper(eta=0.01, mu=mu, lambd=1e-3, weight_decay=0.1, maximize=True)
    whole = [param.copy(), grad, ax.copy()]
    asgd_kernel(*whole, **hyper)
    asgd_update(param, grad, ax, **hyper)
    np.testing.assert_array_equal(param, whole[0])
    np.testing.assert_array_equal(ax, whole[2])


# ---------------------------------------------------------------------- eta and mu
def test_next_eta_rounds_the_float64_value_to_float32():
    exact = 0.1 / (1 + 0.01 * 0.1 * 3) ** 0.75
    assert next_eta(0.1, 0.01, 0.75, 3.0) == _f32(exact) != exact


def test_next_eta_with_a_tensor_lr_rounds_every_operation():
    lr, lambd, alpha, step = np.float32(0.05), np.float32(0.01), 0.75, np.float32(7)
    base = np.float32(lambd * lr * step + np.float32(1))  # float32 products and sum
    expected = lr / np.float32(float(base) ** alpha)  # the power in float64, then rounded
    assert next_eta(tg.tensor(0.05), 0.01, alpha, 7.0) == float(expected)
    assert next_eta(tg.tensor(0.05, dtype=tg.float64), 0.01, alpha, 7.0) == (
        0.05 / (1 + 0.01 * 0.05 * 7) ** alpha)


@pytest.mark.torch
def test_next_eta_with_a_tensor_lr_matches_torch_step_by_step():
    torch = pytest.importorskip("torch")
    lr, lambd, alpha = 0.05, 0.01, 0.75
    theirs = [torch.as_tensor(torch.tensor(lr) / ((1 + lambd * torch.tensor(lr) * t) ** alpha))
              .item() for t in range(1, 31)]
    ours = [next_eta(tg.tensor(lr), lambd, alpha, float(t)) for t in range(1, 31)]
    assert ours == theirs
    # ... and differs from the float64 formula, so this test tells the two apart.
    assert ours != [next_eta(float(np.float32(lr)), lambd, alpha, float(t))
                    for t in range(1, 31)]


def _hand_asgd(theta, grads, lr, lambd, alpha, t0):
    """ASGD on float64 numbers, written from the class docstring's math."""
    eta, mu, ax, out = _f32(lr), 1.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        theta = theta * (1 - lambd * eta) - eta * g
        ax = theta if mu == 1 else ax + mu * (theta - ax)
        eta = _f32(lr / (1 + lambd * lr * t) ** alpha)
        mu = _f32(1 / max(1, t - t0))
        out.append((theta, ax, eta, mu))
    return out


def test_asgd_eta_and_mu_from_the_previous_step_start_averaging_after_t0():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = ASGD([p], lr=0.1, lambd=0.01, t0=2)
    grads = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5]
    expected = _hand_asgd(1.0, grads, 0.1, 0.01, 0.75, 2)
    mus = []
    for g, (theta, ax, eta, mu) in zip(grads, expected):
        p.grad = tg.tensor([g], dtype=tg.float64)
        opt.step()
        state = opt.state[p]
        assert (p.item(), state["ax"].item(), state["eta"].item()) == (theta, ax, eta)
        mus.append(state["mu"].item())
    assert mus == [1.0, 1.0, 1.0, 0.5, _f32(1 / 3), 0.25]  # spec §7, seen in torch
    assert expected[3][1] == expected[3][0] and expected[4][1] != expected[4][0]


def test_asgd_state_scalars_are_float32_tensors_beside_the_param(device):
    p = tg.tensor([1.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    opt = ASGD([p], lr=0.01)
    p.grad = tg.ones(2, dtype=tg.float64, device=device)
    opt.step()
    state = opt.state[p]
    assert list(state) == ["step", "eta", "mu", "ax"]  # torch's order
    for key in ("step", "eta", "mu"):
        assert state[key].shape == () and state[key].dtype == tg.float32, key
        assert state[key].device == p.device, key
    assert state["ax"].dtype == tg.float64 and state["ax"].device == p.device
    assert state["step"].item() == 1.0 and state["mu"].item() == 1.0
    assert state["eta"].item() == next_eta(0.01, 1e-4, 0.75, 1.0)


def test_asgd_first_step_moves_a_float64_param_by_the_float32_lr():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    p.grad = tg.tensor([1.0], dtype=tg.float64)
    ASGD([p], lr=0.01).step()
    assert p.item() == 0.9899990002235398 != 1.0 * (1 - 1e-4 * 0.01) - 0.01


def test_asgd_changes_the_weights_even_with_a_zero_gradient():
    # Why torch's "a zero gradient is a no-op" check does not apply to ASGD.
    p = tg.tensor([2.0], dtype=tg.float64, requires_grad=True)
    p.grad = tg.zeros(1, dtype=tg.float64)
    ASGD([p], lr=0.5, lambd=0.1).step()
    assert p.item() == 2.0 * (1 - 0.1 * 0.5)


def test_asgd_eta_follows_a_changed_lr_one_step_late():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = ASGD([p], lr=0.1, lambd=0.0)  # lambd = 0: eta is just lr
    p.grad = tg.tensor([1.0], dtype=tg.float64)
    opt.step()  # θ = 1 − f32(0.1)
    opt.param_groups[0]["lr"] = 0.5
    opt.step()  # still moves by the eta stored at step 1
    assert p.item() == 1.0 - _f32(0.1) - _f32(0.1)
    opt.step()
    assert p.item() == 1.0 - _f32(0.1) - _f32(0.1) - 0.5


def test_asgd_tensor_lr_starts_eta_at_its_float32_value():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    p.grad = tg.tensor([1.0], dtype=tg.float64)
    opt = ASGD([p], lr=tg.tensor([0.001]), lambd=0.0)
    opt.step()
    assert p.item() == 1.0 - 0.0010000000474974513  # float32(0.001), exactly


def test_asgd_negative_lambd_takes_the_real_part_of_eta_with_torchs_warning():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    p.grad = tg.tensor([1.0], dtype=tg.float64)
    opt = ASGD([p], lr=1.0, lambd=-3.0)  # lambd is not checked; 1 − 3·1·1 < 0
    with pytest.warns(UserWarning, match=r"^Casting complex values to real discards the "
                                         r"imaginary part$"):
        opt.step()
    assert opt.state[p]["eta"].item() == _f32((1.0 / (1 - 3.0) ** 0.75).real)


@pytest.mark.torch
def test_asgd_negative_lambd_matches_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        p = lib.tensor([1.0], requires_grad=True)
        opt = lib.optim.ASGD([p], lr=1.0, lambd=-3.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(3):
                p.grad = lib.ones(1)
                opt.step()
        return p.item(), opt.state[p]["eta"].item(), opt.state[p]["ax"].item()
    assert run(tg) == run(torch)


# ---------------------------------------------------------------------- the class
def test_asgd_defaults_in_torchs_order():
    opt = ASGD([tg.zeros(1, requires_grad=True)])
    # torch 2.13's defaults, implementation flags included, in its order
    assert list(opt.defaults.items()) == [
        ("lr", 0.01), ("lambd", 0.0001), ("alpha", 0.75), ("t0", 1000000.0), ("weight_decay", 0),
        ("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False)]


@pytest.mark.torch
def test_asgd_group_keys_match_torch():
    torch = pytest.importorskip("torch")
    theirs = list(torch.optim.ASGD([torch.zeros(1, requires_grad=True)]).param_groups[0])
    assert list(ASGD([tg.zeros(1, requires_grad=True)]).param_groups[0]) == theirs


def test_asgd_takes_torchs_positional_arguments():
    # torch's positional order: foreach comes before maximize, which is positional too.
    opt = ASGD([tg.zeros(1, requires_grad=True)], 0.01, 1e-4, 0.75, 1e6, 0, True, True)
    assert (opt.defaults["foreach"], opt.defaults["maximize"]) == (True, True)


def test_asgd_checks_hyperparameters_before_params():
    with pytest.raises(ValueError, match=r"^Invalid weight_decay value: -1$"):
        ASGD([], weight_decay=-1)


def test_asgd_skips_params_without_grad():
    p, q = tg.tensor([1.0], requires_grad=True), tg.tensor([5.0], requires_grad=True)
    opt = ASGD([p, q], lambd=0.5)
    p.grad = tg.tensor([1.0])
    opt.step()
    assert q.tolist() == [5.0] and q not in opt.state and p in opt.state


def _stepped(dtype=tg.float32, steps=3):
    p = tg.tensor([1.0, -2.0], dtype=dtype, requires_grad=True)
    opt = ASGD([p], lr=0.05, t0=1)
    for _ in range(steps):
        p.grad = tg.tensor([0.5, 0.25], dtype=dtype)
        opt.step()
    return p, opt


def test_asgd_load_state_dict_casts_eta_and_mu_to_a_float64_param_and_continues():
    _, source = _stepped(tg.float32)
    p, straight = _stepped(tg.float64, steps=4)
    q = tg.tensor(p.detach().numpy(), requires_grad=True)  # any start: compare eta and mu
    loaded = ASGD([q])
    loaded.load_state_dict(source.state_dict())
    state = loaded.state[q]
    assert state["eta"].dtype == state["mu"].dtype == tg.float64  # as torch casts them
    assert state["step"].dtype == tg.float32
    q.grad = tg.tensor([0.5, 0.25], dtype=tg.float64)
    loaded.step()
    # The new values are still float32-rounded: as_tensor of a Python float is float32.
    for key in ("eta", "mu"):
        assert state[key].item() == straight.state[p][key].item(), key


@pytest.mark.torch
def test_asgd_load_state_dict_then_step_matches_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        first = [lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)]
        opt = lib.optim.ASGD(first, lr=0.05, t0=1)
        for _ in range(3):
            first[0].grad = lib.tensor([0.5, 0.25], dtype=lib.float64)
            opt.step()
        second = [lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)]
        resumed = lib.optim.ASGD(second)
        resumed.load_state_dict(opt.state_dict())
        for _ in range(3):
            second[0].grad = lib.tensor([0.5, -0.25], dtype=lib.float64)
            resumed.step()
        state = resumed.state[second[0]]
        return {"param": second[0].tolist(), **{k: (v.tolist(), str(v.dtype).split(".")[1])
                                                for k, v in state.items()}}
    assert run(tg) == run(torch)


def test_asgd_setstate_makes_tensors_of_number_state():
    # Old state dicts stored step, eta and mu as Python numbers.
    p = tg.tensor([1.0], requires_grad=True)
    opt = ASGD([p], lr=0.1, lambd=0.0)
    opt.load_state_dict({"state": {0: {"step": 2, "eta": 0.25, "mu": 1.0,
                                       "ax": tg.tensor([0.0])}},
                         "param_groups": [{"lr": 0.1, "lambd": 0.0, "alpha": 0.75, "t0": 1e6,
                                           "weight_decay": 0, "params": [0]}]})
    state = opt.state[p]
    assert opt.param_groups[0]["maximize"] is False
    for key in ("step", "eta", "mu"):
        assert isinstance(state[key], tg.Tensor) and state[key].dtype == tg.float32, key
    p.grad = tg.tensor([1.0])
    opt.step()
    assert p.item() == 0.75 and state["step"].item() == 3.0  # moved by the loaded eta


# ---------------------------------------------------------------------- docs and convergence
def test_asgd_docstring_has_the_algorithm_and_a_runnable_example():
    assert ".. math::" in ASGD.__doc__ and "Polyak" in ASGD.__doc__
    failed, attempted = doctest.testmod(asgd_module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0


def test_asgd_converges_on_a_quadratic():
    scales = tg.tensor([1.0, 10.0], dtype=tg.float64)
    w = tg.tensor([3.0, -2.0], dtype=tg.float64, requires_grad=True)
    opt = ASGD([w], lr=0.05, lambd=0.0)
    for _ in range(300):
        opt.zero_grad()
        (scales * w * w).sum().backward()  # minimum at 0; curvatures 2 and 20
        opt.step()
    assert np.abs(w.tolist()).max() < 1e-6


def test_asgd_average_beats_the_iterate_on_a_noisy_quadratic():
    # Polyak averaging's point: with noisy gradients θ keeps jittering at a scale set by the
    # step size, while ax (averaged from t0 on) settles far closer to the minimum at 0.
    curvature = np.array([1.0, 10.0])
    errors = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        w = tg.tensor([3.0, -2.0], dtype=tg.float64, requires_grad=True)
        opt = ASGD([w], lr=0.05, t0=200)
        for _ in range(2000):
            w.grad = tg.tensor(curvature * w.detach().numpy() + rng.standard_normal(2))
            opt.step()
        errors.append((w.tolist(), opt.state[w]["ax"].tolist()))
    theta_rms, ax_rms = np.sqrt(np.mean(np.square(errors), axis=(0, 2)))
    assert ax_rms < 0.05 and ax_rms < theta_rms / 3


def test_asgd_converges_on_rosenbrock():
    w = tg.tensor([-1.5, 2.0], dtype=tg.float64, requires_grad=True)
    opt = ASGD([w], lr=1.5e-3)
    for _ in range(20000):
        x, y = w.tolist()  # the gradient by hand: 20 000 steps in well under a second
        w.grad = tg.tensor([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
                           dtype=tg.float64)
        opt.step()
    # lambd = 1e-4 shrinks θ a little every step: the fixed point sits ~3e-4 from (1, 1).
    np.testing.assert_allclose(w.tolist(), [1.0, 1.0], atol=1e-3)
