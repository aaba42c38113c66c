"""The optimizer race of tour section 6 and the compare subcommand: functions, runs, state."""
import argparse
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_optim as tg
from _png import check_png
from tinygrad_optim.tour import _plot, compare, optimizers
from tinygrad_optim.tour.functions import PROBLEMS
from tinygrad_optim.tour.race import (FIXED, LEARNING_RATES, OPTIMIZERS, TOLERANCE, Run,
                                      default_settings, race, table)

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The state entries each optimizer shows with the race's settings, and their widths: one
# column per coordinate for a vector, one for a number or a list's length.
STATE = {
    "SGD": {"momentum_buffer": 2},
    "Adagrad": {"sum": 2},
    "RMSprop": {"square_avg": 2},
    "Adadelta": {"square_avg": 2, "acc_delta": 2},
    "Adam": {"exp_avg": 2, "exp_avg_sq": 2},
    "AdamW": {"exp_avg": 2, "exp_avg_sq": 2},
    "Adamax": {"exp_avg": 2, "exp_inf": 2},
    "SparseAdam": {"exp_avg": 2, "exp_avg_sq": 2},
    "ASGD": {"eta": 1, "mu": 1, "ax": 2},
    "Rprop": {"prev": 2, "step_size": 2},
    "LBFGS": {"t": 1, "len(old_dirs)": 1, "H_diag": 1},
}


def _gradient(problem, point):
    x = tg.tensor(point, dtype=tg.float64, requires_grad=True)
    problem.value(x).backward()
    return x.grad.numpy()


@pytest.mark.parametrize("name", PROBLEMS)
def test_function_gradient_matches_central_differences(name):
    problem = PROBLEMS[name]
    point = np.array(problem.start) + np.array([0.3, -0.2])  # off any axis of symmetry
    h = 1e-6
    expected = [(problem.f(*(point + step)) - problem.f(*(point - step))) / (2 * h)
                for step in (np.array([h, 0.0]), np.array([0.0, h]))]
    np.testing.assert_allclose(_gradient(problem, point), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", PROBLEMS)
def test_function_tensor_and_numpy_values_agree(name):
    problem = PROBLEMS[name]
    point = np.array(problem.start) + np.array([0.3, -0.2])
    value = problem.value(tg.tensor(point, dtype=tg.float64)).item()
    assert value == pytest.approx(problem.f(*point), rel=1e-14)


@pytest.mark.parametrize("name", PROBLEMS)
def test_function_minima_are_stationary_with_the_stated_value(name):
    problem = PROBLEMS[name]
    for minimum in problem.minima:
        assert problem.f(*minimum) == pytest.approx(problem.f_min, abs=1e-15)
        np.testing.assert_allclose(_gradient(problem, minimum), [0.0, 0.0], atol=1e-12)
    _, _, z = problem.grid(101)  # nothing drawn lies below the stated minimum
    assert z.min() >= problem.f_min - 1e-12


def test_learning_rates_cover_every_function_and_optimizer():
    assert set(LEARNING_RATES) == set(PROBLEMS)
    for rates in LEARNING_RATES.values():
        assert set(rates) == set(OPTIMIZERS)
        assert all(rate > 0 for rate in rates.values())


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_decreases_the_quadratic(name, device):
    problem = PROBLEMS["quadratic"]
    run = race(problem, name, default_settings(name, "quadratic"), 20, device)
    gap = run.gap(problem)
    assert not run.diverged and gap[-1] < gap[0]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_log_has_each_entry_after_each_step(name):
    run = race(PROBLEMS["rosenbrock"], name, default_settings(name, "rosenbrock"), 7)
    assert {key: values.shape for key, values in run.state.items()} == {
        key: (7, width) for key, width in STATE[name].items()}
    assert run.path.shape == (8, 2) and run.evals.shape == (8,)


def test_state_log_of_rprop_starts_at_lr():
    # The first step has no previous gradient to compare signs with: the sizes stay at lr.
    run = race(PROBLEMS["beale"], "Rprop", {"lr": 0.05}, 3)
    np.testing.assert_array_equal(run.state["step_size"][0], [0.05, 0.05])


def test_lbfgs_history_grows_to_history_size_and_stays():
    run = race(PROBLEMS["rosenbrock"], "LBFGS", default_settings("LBFGS", "rosenbrock"), 30)
    length = run.state["len(old_dirs)"][:, 0]
    assert np.all(np.diff(length) >= 0)
    assert length.max() == FIXED["LBFGS"]["history_size"]


def test_lbfgs_spends_closure_calls_in_its_line_search():
    run = race(PROBLEMS["rosenbrock"], "LBFGS", default_settings("LBFGS", "rosenbrock"), 10)
    assert run.evals[0] == 0 and np.all(np.diff(run.evals) >= 2)  # f at x, then the search


def test_asgd_average_starts_at_t0():
    settings = {**default_settings("ASGD", "quadratic"), "t0": 5}
    run = race(PROBLEMS["quadratic"], "ASGD", settings, 8)
    # mu is 1 until t0 steps are done (ax is then a copy of the iterate), 1/(t - t0) after.
    np.testing.assert_allclose(run.state["mu"][:, 0], [1, 1, 1, 1, 1, 1, 1 / 2, 1 / 3])
    np.testing.assert_allclose(run.state["ax"][4], run.path[5])


def test_sparse_adam_follows_adam_on_one_row():
    problem = PROBLEMS["beale"]
    settings = default_settings("Adam", "beale")
    adam = race(problem, "Adam", settings, 25)
    sparse = race(problem, "SparseAdam", settings, 25)
    # Only ε's place differs (before or after the bias correction): 1e-8 against √v ≈ 1.
    np.testing.assert_allclose(sparse.path, adam.path, rtol=1e-6, atol=1e-7)


def test_converged_at_is_the_step_from_which_the_gap_stays_below():
    problem = PROBLEMS["quadratic"]
    start, low = list(problem.start), list(problem.minima[0])
    run = Run("SGD", {"lr": 0.1}, 4, np.array([start, low, start, low, low]), np.arange(5))
    assert run.converged_at(problem) == 3
    bounced = Run("SGD", {"lr": 0.1}, 2, np.array([start, low, start]), np.arange(3))
    assert bounced.converged_at(problem) is None


def test_a_diverging_run_stops_and_the_table_says_so():
    problem = PROBLEMS["rosenbrock"]
    run = race(problem, "SGD", {"lr": 1.0}, 100)
    assert run.diverged and len(run.path) < 101 and np.all(np.isfinite(run.path))
    assert f"diverged at step {len(run.path)}" in table(problem, [run])


def test_table_has_a_row_per_run_with_its_numbers():
    problem = PROBLEMS["quadratic"]
    runs = [race(problem, name, default_settings(name, "quadratic"), 200)
            for name in ("LBFGS", "AdamW")]
    rows = table(problem, runs).splitlines()
    lbfgs = next(row for row in rows if row.startswith("LBFGS "))
    adamw = next(row for row in rows if row.startswith("AdamW "))
    step = runs[0].converged_at(problem)
    assert lbfgs.split()[1:4] == ["1", str(step), str(runs[0].evals[step])]
    assert adamw.split()[2:4] == ["—", "—"]  # weight decay keeps it above the tolerance
    assert runs[1].gap(problem)[-1] > TOLERANCE


def _compare_args(*argv, out, plots=False):
    parser = argparse.ArgumentParser()
    compare.configure(parser)
    args = parser.parse_args(list(argv))
    args.out, args.no_plots, args.device = str(out), not plots, "cpu"
    return args


@pytest.mark.parametrize("option,value", [
    ("--optimizers", "adam,nosuch"), ("--function", "nosuch"), ("--lr", "-1"),
    ("--lr", "nan"), ("--steps", "0"), ("--param", "momentum"),
])
def test_compare_options_refuse_bad_values(option, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _compare_args(option, value, out=tmp_path)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert f"argument {option}" in err and value.split(",")[-1] in err


def test_compare_reads_names_in_any_case_once_each(tmp_path):
    args = _compare_args("--optimizers", "ADAM, lbfgs,Adam", out=tmp_path)
    assert args.optimizers == ["Adam", "LBFGS"]


def test_compare_gives_a_param_only_to_the_optimizers_that_take_it(tmp_path, capsys):
    args = _compare_args("--function", "saddle", "--optimizers", "sgd,adam", "--steps", "5",
                         "--param", "momentum=0.5", "--param", "betas=(0.8, 0.9)",
                         out=tmp_path)
    assert compare.run(args) == 0
    printed = capsys.readouterr().out
    assert "  SGD: momentum=0.5\n" in printed and "  Adam: betas=(0.8, 0.9)\n" in printed


@pytest.mark.parametrize("param,named", [("momentum=0.5", "momentum"),
                                         ("betas=(0.9, 1.5)", "beta")])
def test_compare_refuses_a_param_with_status_2(param, named, tmp_path, capsys):
    args = _compare_args("--optimizers", "adam", "--param", param, out=tmp_path)
    assert compare.run(args) == 2
    assert named in capsys.readouterr().err


def test_compare_refuses_a_setting_only_step_checks_with_status_2(tmp_path, capsys):
    args = _compare_args("--optimizers", "lbfgs", "--steps", "2", "--param",
                         "line_search_fn='foo'", out=tmp_path)
    assert compare.run(args) == 2
    assert "only 'strong_wolfe' is supported" in capsys.readouterr().err


@pytest.mark.skipif(not _plot.available(), reason="matplotlib is not installed")
def test_compare_writes_its_three_figures(tmp_path, capsys):
    args = _compare_args("--function", "beale", "--optimizers", "rprop,lbfgs", "--steps", "15",
                         out=tmp_path, plots=True)
    assert compare.run(args) == 0
    for kind in ("paths", "loss", "state"):
        check_png(tmp_path / f"compare_beale_{kind}.png")
    assert "Rprop" in capsys.readouterr().out


def test_section_prints_a_table_per_function(capsys):
    optimizers.run("unused", plots=False, fast=True)
    printed = capsys.readouterr().out
    for problem in PROBLEMS.values():
        assert f"\n{problem.title}: {problem.lesson}\n" in printed
    assert printed.count("\nSparseAdam ") == len(PROBLEMS)


@pytest.mark.parametrize("argv,named", [(["--lr", "-0.5"], "-0.5"),
                                        (["--optimizers", "adam", "--param", "nesterov=1"],
                                         "nesterov")])
def test_compare_command_exits_with_status_2_and_says_why(argv, named, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "tinygrad_optim", "compare", "--no-plots",
                             "--out", str(tmp_path), *argv], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and named in result.stderr
