"""``python -m tinygrad_optim`` runs the tour and writes into --out."""
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _tour(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tinygrad_optim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_tour_runs_every_section(tmp_path):
    result = _tour("--out", str(tmp_path / "tour"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for title in ("== 1. Optimizer attributes", "== 2. Optimizer methods", "== 3. Learning rate"):
        assert title in result.stdout
    assert (tmp_path / "tour" / "optimizer_state_dict.pkl").stat().st_size > 0


def test_tour_runs_one_section(tmp_path):
    result = _tour("--section", "3", "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "== 1." not in result.stdout and "Iter:19," in result.stdout


def test_tour_rejects_an_unknown_section(tmp_path):
    result = _tour("--section", "99", cwd=tmp_path)
    assert result.returncode == 2 and "invalid choice" in result.stderr
