"""``python -m tinygrad_optim``: the tour's command line, and the compare subcommand's wiring."""
import os
import pathlib
import subprocess
import sys

import pytest

import tinygrad_optim as tg
from _png import check_png
from tinygrad_optim.__main__ import SECTIONS, build_parser, main
from tinygrad_optim.tour import DEFAULT_OUT, _plot

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIGURES = ["lr_manual_loss.png", "lr_manual_path.png", "lr_sweep.png", "lr_regimes.png",
           "ewa_weights.png", "momentum_compare.png", "momentum_sweep.png",
           "optimizers_state.png",
           *(f"optimizers_{function}_{kind}.png"
             for function in ("quadratic", "ill_conditioned", "rosenbrock", "beale", "saddle")
             for kind in ("paths", "loss"))]


def _tour(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tinygrad_optim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not _plot.available(), reason="matplotlib is not installed")
def test_tour_runs_every_section_and_writes_its_figures(tmp_path):
    result = _tour("--fast", "--out", "tour", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for number, (title, _) in SECTIONS.items():
        assert f"== {number}. {title} ==" in result.stdout
    for name in FIGURES:
        check_png(tmp_path / "tour" / name)
    assert (tmp_path / "tour" / "optimizer_state_dict.pkl").stat().st_size > 0


def test_tour_runs_one_section(tmp_path, capsys):
    assert main(["--section", "3", "--fast", "--no-plots", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "== 3. " in printed and "== 2. " not in printed and "Iter:19," in printed


def test_tour_without_matplotlib_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_plot, "available", lambda: False)
    assert main(["--section", "4", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err.count(_plot.INSTALL_HINT) == 1 and "memory" in captured.out
    assert not list(tmp_path.glob("*.png"))


def test_tour_no_plots_writes_no_figure_and_no_hint(tmp_path, capsys):
    assert main(["--section", "5", "--fast", "--no-plots", "--out", str(tmp_path)]) == 0
    assert not list(tmp_path.glob("*.png")) and not capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--section", "99"], "invalid choice"),
    (["--device", "tpu"], "invalid choice"),
    (["--section", "3", "compare"], "compare takes neither"),
])
def test_bad_arguments_exit_2_with_a_message(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.skipif(tg.cuda.is_available(), reason="a GPU is usable here")
@pytest.mark.parametrize("command", [[], ["compare"]])
def test_cuda_without_a_gpu_exits_2_with_a_message(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--device", "cuda"])
    assert exit_info.value.code == 2 and "no usable GPU" in capsys.readouterr().err


def test_help_lists_the_sections_options_and_compare(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    printed = capsys.readouterr().out
    assert exit_info.value.code == 0
    for text in ["--section", "--out", "--no-plots", "--device", "--fast", "compare",
                 *(f"{number}. {title}" for number, (title, _) in SECTIONS.items())]:
        assert text in printed


@pytest.mark.parametrize("args", [["--out", "D", "compare"], ["compare", "--out", "D"]])
def test_compare_takes_the_shared_options_before_or_after_its_name(args):
    assert build_parser().parse_args(args).out == "D"


def test_compare_shares_the_tours_defaults():
    tour, compare = build_parser().parse_args([]), build_parser().parse_args(["compare"])
    assert (compare.out, compare.no_plots, compare.device) == (DEFAULT_OUT, False, "cpu")
    assert (tour.out, tour.no_plots, tour.device) == (DEFAULT_OUT, False, "cpu")


@pytest.mark.parametrize("option,value", [
    ("--optimizers", "adam,nosuch"), ("--function", "nosuch"), ("--lr", "-0.1"),
])
def test_compare_rejects_a_bad_value_with_status_2(option, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", option, value])
    err = capsys.readouterr().err
    # A clear message: it names the option and the value at fault.
    assert exit_info.value.code == 2
    assert f"argument {option}" in err and value.split(",")[-1] in err


@pytest.mark.gpu
@pytest.mark.parametrize("command", [["--section", "6", "--fast", "--no-plots"],
                                     ["compare", "--optimizers", "Adam,LBFGS", "--steps", "20"]],
                         ids=["tour race", "compare"])
def test_tour_runs_on_the_gpu(cuda, command, tmp_path, capsys):
    main([*command, "--device", cuda, "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "Adam" in out and "LBFGS" in out
