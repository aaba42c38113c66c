"""Tests of Rprop: its array kernel by hand math, step-size state, checks, convergence."""
import doctest

import numpy as np
import pytest

import tinygrad_optim as tg
import tinygrad_optim.optim.rprop as rprop_module
from optim_cases import CASES, materialize
from tinygrad_optim.optim import Rprop
from tinygrad_optim.optim._blocks import BLOCK, THREADED
from tinygrad_optim.optim.rprop import rprop_kernel, rprop_update

PLAIN = {"etaminus": 0.5, "etaplus": 1.2, "step_size_min": 1e-6, "step_size_max": 50.0,
         "maximize": False}


def _hyper(**changes):
    return {**PLAIN, **changes}


def _arrays(dtype, size=1, lr=0.01, param=1.0):
    """param, prev and step_size as Rprop's state starts them."""
    return (np.full(size, param, dtype), np.zeros(size, dtype), np.full(size, lr, dtype))


# ---------------------------------------------------------------------- the kernel
def test_rprop_update_follows_the_signs_by_hand():
    f = np.float32
    param, prev, step_size = _arrays(f)
    seen = []
    for g in (1.0, 1.0, -1.0, -1.0, 0.0, 1.0):
        rprop_update(param, np.float32([g]), prev, step_size, **_hyper())
        seen.append((param.item(), step_size.item(), prev.item()))
    lr, grown = f(0.01), f(0.01) * f(1.2)  # η₊ applied in float32
    halved = grown * f(0.5)
    moves = [f(1) - lr, f(1) - lr - grown]  # same sign: the step grows
    moves += [moves[-1], moves[-1] + halved]  # a flip: no move; then factor 1
    moves += [moves[-1], moves[-1] - halved]  # g = 0: no move; prev = 0 gives factor 1
    assert seen == [(float(moves[0]), float(lr), 1.0), (float(moves[1]), float(grown), 1.0),
                    (float(moves[2]), float(halved), 0.0), (float(moves[3]), float(halved), -1.0),
                    (float(moves[4]), float(halved), 0.0), (float(moves[5]), float(halved), 1.0)]
    assert seen[1][1] == 0.012000000104308128  # spec §7, seen in torch


def test_rprop_update_keeps_the_gradient_magnitude_in_prev():
    param, prev, step_size = _arrays(np.float64, 2)
    rprop_update(param, np.array([3.5, -0.25]), prev, step_size, **_hyper())
    assert prev.tolist() == [3.5, -0.25] and param.tolist() == [0.99, 1.01]


def test_rprop_update_clamps_the_step_size_at_both_bounds():
    param, prev, step_size = _arrays(np.float64, 2, lr=0.1)
    prev[:] = [1.0, 1.0]
    hyper = _hyper(etaminus=0.1, etaplus=3.0, step_size_min=0.05, step_size_max=0.2)
    rprop_update(param, np.array([1.0, -1.0]), prev, step_size, **hyper)
    assert step_size.tolist() == [0.2, 0.05]  # 0.3 clamped down, 0.01 clamped up
    assert param.tolist() == [0.8, 1.0]  # the flipped element waits


def test_rprop_update_maximize_climbs_and_remembers_the_negated_gradient():
    param, prev, step_size = _arrays(np.float64, 2)
    for _ in range(2):
        rprop_update(param, np.array([2.0, -1.0]), prev, step_size, **_hyper(maximize=True))
    assert param.tolist() == [1.0 + 0.01 + 0.012, 1.0 - 0.01 - 0.012]
    assert prev.tolist() == [-2.0, 1.0] and step_size.tolist() == [0.012, 0.012]


def test_rprop_update_counts_an_underflowing_product_as_no_sign():
    # 1e-30 · 1e-30 is 0 in float32 (torch multiplies in the param's dtype): factor 1.
    results = {}
    for dtype in (np.float32, np.float64):
        param, prev, step_size = _arrays(dtype)
        for _ in range(2):
            rprop_update(param, np.full(1, 1e-30, dtype), prev, step_size, **_hyper())
        results[dtype] = step_size.item()
    assert results[np.float32] == float(np.float32(0.01))
    assert results[np.float64] == 0.01 * 1.2


def test_rprop_update_etas_that_round_to_one_freeze_a_float32_param():
    # float32(1 − 1e-8) == 1: every factor then equals etaminus and every direction is zeroed,
    # as in torch; in float64 the same etas move the parameter.
    hyper = _hyper(etaminus=1 - 1e-8, etaplus=1 + 1e-8)
    for dtype, moves in ((np.float32, False), (np.float64, True)):
        param, prev, step_size = _arrays(dtype)
        rprop_update(param, np.full(1, 0.5, dtype), prev, step_size, **hyper)
        assert (param.item() != 1.0) == moves and (prev.item() != 0.0) == moves


def _kernel_hyper(case):
    kwargs = materialize(case.kwargs, tg)
    etas, bounds = kwargs.get("etas", (0.5, 1.2)), kwargs.get("step_sizes", (1e-6, 50))
    return _hyper(etaminus=etas[0], etaplus=etas[1], step_size_min=bounds[0],
                  step_size_max=bounds[1], maximize=kwargs.get("maximize", False))


RPROP_CASES = [case for case in CASES["Rprop"] if case.id != "etas_near_one"]  # it never moves
RPROP_HYPERS = [_kernel_hyper(case) for case in RPROP_CASES]


@pytest.mark.parametrize("hyper", RPROP_HYPERS, ids=[case.id for case in RPROP_CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rprop_update_works_in_place_and_never_writes_the_gradient(hyper, dtype):
    rng = np.random.default_rng(0)
    param, grad, prev = (rng.standard_normal((3, 2)).astype(dtype) for _ in range(3))
    step_size = np.full((3, 2), 0.01, dtype)
    grad.flags.writeable = False  # any write into the gradient raises
    arrays = (param, prev, step_size)
    before, grad_before = [a.copy() for a in arrays], grad.copy()
    rprop_update(param, grad, prev, step_size, **hyper)
    assert all(a.dtype == dtype for a in arrays) and np.array_equal(grad, grad_before)
    assert all(not np.array_equal(a, b) for a, b in zip(arrays, before))


@pytest.mark.parametrize("shape", [(), (0,), (2, 0)])
def test_rprop_update_handles_scalar_and_empty_arrays(shape):
    param, prev, step_size = (np.full(shape, v, np.float32) for v in (1.0, 1.0, 0.5))
    rprop_update(param, np.full(shape, -1.0, np.float32), prev, step_size, **_hyper())
    assert {a.shape for a in (param, prev, step_size)} == {shape}
    assert {a.dtype for a in (param, prev, step_size)} == {np.dtype(np.float32)}
    for array, value in ((param, 1.0), (prev, 0.0), (step_size, 0.25)):  # a sign flip
        np.testing.assert_array_equal(array, np.full(shape, value, np.float32))


@pytest.mark.parametrize("size", [BLOCK + 3, THREADED + 12345])
def test_rprop_update_blocked_equals_whole_array(size):
    rng = np.random.default_rng(size)
    param, grad, prev = (rng.standard_normal(size).astype(np.float32) for _ in range(3))
    step_size = rng.uniform(1e-3, 1e-1, size).astype(np.float32)
    hyper = _hyper(step_size_min=2e-3, step_size_max=0.1, maximize=True)
    whole = [param.copy(), grad, prev.copy(), step_size.copy()]
    rprop_kernel(*whole, **hyper)
    rprop_update(param, grad, prev, step_size, **hyper)
    for ours, expected in zip((param, prev, step_size), whole[::2] + whole[3:]):
        np.testing.assert_array_equal(ours, expected)


# ---------------------------------------------------------------------- the class
def test_rprop_defaults_in_torchs_order():
    opt = Rprop([tg.zeros(1, requires_grad=True)])
    # torch 2.13's defaults, implementation flags included, in its order
    assert list(opt.defaults.items()) == [
        ("lr", 0.01), ("etas", (0.5, 1.2)), ("step_sizes", (1e-06, 50)), ("foreach", None),
        ("maximize", False), ("differentiable", False), ("capturable", False)]


@pytest.mark.torch
def test_rprop_group_keys_match_torch():
    torch = pytest.importorskip("torch")
    theirs = list(torch.optim.Rprop([torch.zeros(1, requires_grad=True)]).param_groups[0])
    assert list(Rprop([tg.zeros(1, requires_grad=True)]).param_groups[0]) == theirs


def test_rprop_checks_hyperparameters_before_params():
    with pytest.raises(ValueError, match=r"^Invalid eta values: 2\.0, 3\.0$"):
        Rprop([], etas=(2.0, 3.0))


def test_rprop_state_starts_at_lr_beside_the_param(device):
    p = tg.tensor([1.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    opt = Rprop([p], lr=0.25)
    p.grad = tg.tensor([1.0, -1.0], dtype=tg.float64, device=device)
    opt.step()
    state = opt.state[p]
    assert list(state) == ["step", "prev", "step_size"]  # torch's order
    assert state["step"].shape == () and state["step"].dtype == tg.float32
    assert state["step"].device.type == "cpu" and state["step"].item() == 1.0
    for key in ("prev", "step_size"):
        assert state[key].dtype == tg.float64 and state[key].device == p.device, key
    assert state["step_size"].tolist() == [0.25, 0.25] and p.tolist() == [0.75, 2.25]


def test_rprop_step_sizes_ignore_later_lr_changes():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = Rprop([p], lr=0.1)
    p.grad = tg.tensor([1.0], dtype=tg.float64)
    opt.step()
    opt.param_groups[0]["lr"] = 10.0  # a scheduler would do this
    opt.step()
    assert opt.state[p]["step_size"].tolist() == [0.1 * 1.2] and p.item() == 1 - 0.1 - 0.12


def test_rprop_a_param_added_later_starts_at_its_groups_current_lr():
    p, q = (tg.tensor([1.0], dtype=tg.float64, requires_grad=True) for _ in range(2))
    opt = Rprop([p], lr=0.1)
    opt.add_param_group({"params": [q]})
    opt.param_groups[1]["lr"] = 0.3
    p.grad = q.grad = tg.tensor([1.0], dtype=tg.float64)
    opt.step()
    assert opt.state[q]["step_size"].tolist() == [0.3] and q.item() == 0.7


def test_rprop_tensor_lr_starts_step_sizes_at_its_float32_value():
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    p.grad = tg.tensor([-1.0], dtype=tg.float64)
    opt = Rprop([p], lr=tg.tensor([0.001]))
    opt.step()
    assert opt.state[p]["step_size"].tolist() == [0.0010000000474974513]  # float32(0.001)


def test_rprop_skips_params_without_grad():
    p, q = tg.tensor([1.0], requires_grad=True), tg.tensor([5.0], requires_grad=True)
    opt = Rprop([p, q])
    p.grad = tg.tensor([1.0])
    opt.step()
    assert q.tolist() == [5.0] and q not in opt.state and p in opt.state


def test_rprop_zero_gradient_leaves_the_param_and_step_size_alone():
    p = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = Rprop([p], lr=0.1)
    p.grad = tg.tensor([1.0, 1.0])
    opt.step()
    before = (p.tolist(), opt.state[p]["step_size"].tolist())
    p.grad = tg.zeros(2)
    opt.step()
    assert (p.tolist(), opt.state[p]["step_size"].tolist()) == before
    assert opt.state[p]["prev"].tolist() == [0.0, 0.0]


def test_rprop_setstate_makes_a_tensor_of_a_number_step():
    p = tg.tensor([1.0], requires_grad=True)
    opt = Rprop([p])
    opt.load_state_dict({"state": {0: {"step": 4, "prev": tg.tensor([1.0]),
                                       "step_size": tg.tensor([0.5])}},
                         "param_groups": [{"lr": 0.01, "etas": (0.5, 1.2),
                                           "step_sizes": (1e-6, 50), "params": [0]}]})
    step = opt.state[p]["step"]
    assert opt.param_groups[0]["maximize"] is False
    assert isinstance(step, tg.Tensor) and step.dtype == tg.float32 and step.item() == 4.0
    p.grad = tg.tensor([1.0])
    opt.step()
    assert step.item() == 5.0 and p.item() == 1.0 - 0.5 * np.float32(1.2)


@pytest.mark.torch
def test_rprop_special_gradients_match_torch():
    torch = pytest.importorskip("torch")
    grads = [[1e-30, 2.0, -3.0, 0.0], [1e-30, -2.0, -3.0, 5.0], [-1e-30, -2.0, 3.0, 0.0]]

    def run(lib):
        p = lib.tensor([1.0, 1.0, 1.0, 1.0], requires_grad=True)
        opt = lib.optim.Rprop([p], lr=0.05, etas=(0.25, 1.75), step_sizes=(0.01, 0.08))
        for g in grads:
            p.grad = lib.tensor(g)
            opt.step()
        return p.tolist(), {k: v.tolist() for k, v in opt.state[p].items()}
    assert run(tg) == run(torch)


# ---------------------------------------------------------------------- docs and convergence
def test_rprop_docstring_has_the_algorithm_and_a_runnable_example():
    assert ".. math::" in Rprop.__doc__ and "Riedmiller" in Rprop.__doc__
    failed, attempted = doctest.testmod(rprop_module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0


def test_rprop_converges_on_a_quadratic():
    scales = tg.tensor([1.0, 10.0], dtype=tg.float64)
    w = tg.tensor([3.0, -2.0], dtype=tg.float64, requires_grad=True)
    opt = Rprop([w], lr=0.1, step_sizes=(1e-12, 1.0))
    for _ in range(200):
        opt.zero_grad()
        (scales * w * w).sum().backward()  # minimum at 0; curvatures 2 and 20
        opt.step()
    assert np.abs(w.tolist()).max() < 1e-6


def test_rprop_converges_on_rosenbrock():
    w = tg.tensor([-1.5, 2.0], dtype=tg.float64, requires_grad=True)
    # The default smallest step, 1e-6, makes the iterate zig-zag across the curved valley
    # about 4e-4 short of the minimum; a smaller bound lets it settle.
    opt = Rprop([w], lr=1e-3, etas=(0.7, 1.1), step_sizes=(1e-12, 1.0))
    for _ in range(8000):
        x, y = w.tolist()  # the gradient by hand: 8000 steps in a fraction of a second
        w.grad = tg.tensor([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
                           dtype=tg.float64)
        opt.step()
    np.testing.assert_allclose(w.tolist(), [1.0, 1.0], atol=1e-6)


NONFINITE_GRADS = ([1.0, float("nan"), float("inf")], [1.0, 1.0, 1.0],
                   [float("nan"), -1.0, 1.0], [-1.0, float("-inf"), 1.0])


def _nonfinite_run(lib, device="cpu"):
    x = lib.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    optimizer = lib.optim.Rprop([x], lr=0.1)
    for grad in NONFINITE_GRADS:
        x.grad = lib.tensor(grad, device=device)
        optimizer.step()
    state = optimizer.state[x]
    return [np.array(t.detach().cpu().numpy()) for t in (x, state["prev"], state["step_size"])]


def test_rprop_nan_gradient_leaves_the_element_and_its_step_size(device):
    # torch's sign(NaN) is 0: a NaN gradient moves nothing and keeps the step size (with
    # numpy's sign the parameter became NaN for good).
    x = tg.tensor([1.0, 2.0], device=device, requires_grad=True)
    optimizer = Rprop([x], lr=0.1)
    x.grad = tg.tensor([1.0, float("nan")], device=device)
    optimizer.step()
    lr = float(np.float32(0.1))  # the step sizes are float32, as the parameter
    assert x.tolist()[1] == 2.0 and optimizer.state[x]["step_size"].tolist()[1] == lr
    x.grad = tg.tensor([1.0, 1.0], device=device)
    optimizer.step()  # prev is NaN there: sign(NaN·g) = 0, factor 1, then a normal step
    assert np.isfinite(x.tolist()).all() and x.tolist()[1] < 2.0


@pytest.mark.torch
def test_rprop_with_nan_and_inf_gradients_matches_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_nonfinite_run(tg), _nonfinite_run(torch)):
        np.testing.assert_array_equal(ours, theirs)
