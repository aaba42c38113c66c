"""The tour's sections 1-5 and 7: they run, draw their figures, and their numbers are right."""
import contextlib
import inspect
import io
import math
import pickle

import numpy as np
import pytest

import tinygrad_optim as tg
from _png import check_png
from tinygrad_optim.tour import _plot, averages, learning_rate, momentum, optimizer_basics, today

# Each section's function and the figures it must write (the docs embed these names).
SECTIONS = {
    "attributes": (optimizer_basics.run_attributes, []),
    "methods": (optimizer_basics.run_methods, []),
    "learning_rate": (learning_rate.run, ["lr_manual_loss.png", "lr_manual_path.png",
                                          "lr_sweep.png", "lr_regimes.png"]),
    "averages": (averages.run, ["ewa_weights.png"]),
    "momentum": (momentum.run, ["momentum_compare.png", "momentum_sweep.png"]),
    "today": (today.run, []),
}
PLOTTING = {name: entry for name, entry in SECTIONS.items() if entry[1]}


def _printed(run, *args, **kwargs) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run(*args, **kwargs)
    return out.getvalue()


@pytest.mark.skipif(not _plot.available(), reason="matplotlib is not installed")
@pytest.mark.parametrize("section", PLOTTING)
def test_section_writes_its_figures_as_pngs(section, tmp_path):
    run, figures = SECTIONS[section]
    printed = _printed(run, str(tmp_path), fast=True)
    for name in figures:
        check_png(tmp_path / name)
        assert f"figure: {tmp_path / name}" in printed


@pytest.mark.parametrize("section", SECTIONS)
def test_section_runs_as_text_only_on_every_device(section, tmp_path, device):
    run, _ = SECTIONS[section]
    assert _printed(run, str(tmp_path), plots=False, device=device, fast=True).strip()
    assert not list(tmp_path.glob("*.png"))


def test_sections_share_the_tours_signature():
    expected = inspect.signature(learning_rate.run)
    assert all(inspect.signature(run) == expected for run, _ in SECTIONS.values())


# ---------------------------------------------------------------- section 2
def test_zero_grad_section_shows_gradients_accumulating():
    printed = _printed(optimizer_basics.zero_grad)
    # The weight's gradient is ones; a backward of weight.sum() adds ones: twos, not ones.
    assert "backward(), which adds ones to it, weight.grad is\ntensor([[2., 2.]," in printed


def test_methods_section_saves_the_state_dict(tmp_path):
    _printed(optimizer_basics.run_methods, str(tmp_path / "new"))
    assert tg.load(tmp_path / "new" / "optimizer_state_dict.pkl")["state"][0]


# ---------------------------------------------------------------- section 3
def test_curvature_of_the_tutorial_function_is_8():
    assert learning_rate.curvature() == 8.0


@pytest.mark.parametrize("factor,words", [
    (0.0, "one step"), (0.5, "without overshooting"), (-0.5, "overshooting"),
    (-1.0, "forever"), (-1.5, "diverges, flipping"), (1.5, "diverges"),
])
def test_regime_names_the_behaviour_of_x_times_factor(factor, words):
    assert words in learning_rate.regime(factor)


def test_lr_one_over_curvature_reaches_the_minimum_in_one_step():
    lr = 1 / learning_rate.curvature()
    _, xs, _ = learning_rate.manual_descent(lr, 3, verbose=False)
    assert xs == [2.0, 0.0, 0.0]


def test_lr_at_the_stability_bound_bounces_forever():
    lr = 2 / learning_rate.curvature()
    _, xs, _ = learning_rate.manual_descent(lr, 6, verbose=False)
    assert xs == [2.0, -2.0] * 3


@pytest.mark.parametrize("lr", [0.3, 1.0])
def test_lr_above_the_bound_diverges_by_the_predicted_factor(lr):
    _, xs, _ = learning_rate.manual_descent(lr, 5, verbose=False)
    ratios = [after / before for before, after in zip(xs, xs[1:])]
    np.testing.assert_allclose(ratios, 1 - 8 * lr, rtol=1e-6)


def test_learning_rate_section_states_the_bound(tmp_path):
    printed = _printed(learning_rate.run, str(tmp_path), plots=False, fast=True)
    assert "0 < lr < 2/8 = 0.25" in printed


# ---------------------------------------------------------------- section 4
@pytest.mark.parametrize("beta", averages.BETAS)
def test_ewa_weights_sum_to_one_minus_beta_to_the_t(beta):
    assert sum(averages.exp_w_func(beta, range(30))) == pytest.approx(1 - beta ** 30)


@pytest.mark.parametrize("beta", averages.BETAS)
def test_ewa_recursion_is_the_weighted_sum(beta, rng):
    values = rng.normal(size=50)
    weighted = np.dot(averages.exp_w_func(beta, range(50)), values[::-1])
    assert averages.ewa(values, beta) == pytest.approx(weighted, abs=1e-12)


@pytest.mark.parametrize("beta", averages.BETAS)
def test_ewa_memory_is_where_a_weight_falls_to_about_1_over_e(beta):
    assert beta ** averages.memory(beta) == pytest.approx(1 / math.e, abs=0.05)


# ---------------------------------------------------------------- section 5
@pytest.mark.parametrize("lr,m", momentum.RUNS)
def test_sgd_follows_torchs_momentum_formula(lr, m, device):
    assert momentum.sgd(lr, m, 50, device)[1] == momentum.by_hand(lr, m, 50, device)


@pytest.mark.parametrize("m", [0.0, 0.3, 0.9])
def test_contraction_predicts_the_measured_shrink(m):
    # Over many steps the slowest mode dominates; swinging runs wobble around it, hence 2 %.
    predicted, _ = momentum.contraction(0.01, m, 8.0)
    measured = momentum.shrink(momentum.sgd(0.01, m, 100)[0])
    assert measured == pytest.approx(predicted, rel=0.02)


def test_contraction_without_momentum_is_plain_gradient_descent():
    assert momentum.contraction(0.03, 0.0, 8.0) == (pytest.approx(1 - 0.03 * 8), False)


def test_critical_momentum_is_the_fastest():
    lr, c = 0.01, 8.0
    best = (1 - math.sqrt(lr * c)) ** 2
    grid = np.linspace(0.0, 0.99, 199)
    rates = [momentum.contraction(lr, m, c)[0] for m in grid]
    assert abs(grid[int(np.argmin(rates))] - best) < 0.01


def test_large_momentum_swings():
    assert momentum.contraction(0.01, 0.9, 8.0)[1] and not momentum.contraction(0.01, 0.3, 8.0)[1]


# ---------------------------------------------------------------- section 7: ours
def test_today_prints_every_difference_with_a_live_line():
    printed = _printed(today.run, "unused")
    for number, difference in enumerate(today.DIFFERENCES, 1):
        assert f"{number}. {difference.title}" in printed
    assert printed.count("run here:") == len(today.DIFFERENCES)


@pytest.mark.parametrize("difference", today.DIFFERENCES, ids=lambda d: d.title)
def test_today_demo_is_one_line(difference, device):
    assert "\n" not in difference.demo(device)


# ---------------------------------------------------------------- section 7: torch's side
def _torch_sgd(torch, **kwargs):
    weight = torch.ones(2, requires_grad=True)
    weight.grad = torch.ones(2)
    return weight, torch.optim.SGD([weight], **kwargs)


@pytest.mark.torch
def test_torch_zero_grad_leaves_none_as_section_7_says():
    torch = pytest.importorskip("torch")
    weight, optimizer = _torch_sgd(torch, lr=0.1)
    optimizer.zero_grad()
    assert weight.grad is None


@pytest.mark.torch
def test_torch_keeps_no_step_count_on_the_optimizer_as_section_7_says():
    torch = pytest.importorskip("torch")
    _, optimizer = _torch_sgd(torch, lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    optimizer.step()
    scheduler.step()
    assert not hasattr(optimizer, "_step_count") and scheduler._step_count == 2


@pytest.mark.torch
def test_torch_sgd_lr_default_is_ours_as_section_7_says():
    torch = pytest.importorskip("torch")
    theirs = inspect.signature(torch.optim.SGD).parameters["lr"].default
    assert theirs == inspect.signature(tg.optim.SGD).parameters["lr"].default == 0.001


class _Anything:
    """A class torch.load's weights_only unpickler does not allow."""


@pytest.mark.torch
def test_torch_load_refuses_other_objects_by_default_as_section_7_says(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"anything": _Anything()}, tmp_path / "a.pt")
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        torch.load(tmp_path / "a.pt")
    assert isinstance(torch.load(tmp_path / "a.pt", weights_only=False)["anything"], _Anything)


@pytest.mark.torch
def test_torch_numpy_of_a_grad_tensor_raises_where_ours_converts_as_section_7_says():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        np.asarray([torch.ones(1, requires_grad=True) * 2])
    assert np.asarray([tg.ones(1, requires_grad=True) * 2]).tolist() == [[2.0]]


@pytest.mark.torch
def test_torch_state_dict_keys_as_section_7_says():
    torch = pytest.importorskip("torch")
    theirs = _torch_sgd(torch, lr=0.1)[1].state_dict()["param_groups"][0]
    ours = _torch_sgd(tg, lr=0.1)[1].state_dict()["param_groups"][0]
    assert theirs["params"] == ours["params"] == [0]
    assert list(theirs) == list(ours)  # the flags included, as section 7 says
