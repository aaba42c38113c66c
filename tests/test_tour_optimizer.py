"""The tutorial's optimizer section runs and prints what the same code prints with torch."""
import contextlib
import io

import numpy as np
import pytest

import tinygrad_optim as tg
from tinygrad_optim.tour import optimizer_basics

def _printed(run, *args) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run(*args)
    return out.getvalue()


@pytest.mark.parametrize("section", ["step", "zero_grad", "add_param_group"])
def test_tour_section_prints_torchs_output(section):
    torch = pytest.importorskip("torch")
    run = getattr(optimizer_basics, section)
    assert _printed(run) == _printed(run, torch, torch.optim)


def test_tour_state_dict_prints_torchs_output(tmp_path):
    torch = pytest.importorskip("torch")
    (tmp_path / "torch").mkdir()
    (tmp_path / "ours").mkdir()
    theirs = _printed(optimizer_basics.state_dict, str(tmp_path / "torch"), torch, torch.optim)
    ours = _printed(optimizer_basics.state_dict, str(tmp_path / "ours"))
    assert ours == theirs


def test_tour_attributes_differ_from_torch_only_in_step_count():
    torch = pytest.importorskip("torch")
    theirs = _printed(optimizer_basics.attributes, torch, torch.optim)
    ours = _printed(optimizer_basics.attributes)
    differing = [(a, b) for a, b in zip(ours.splitlines(), theirs.splitlines()) if a != b]
    # The one deliberate departure: _step_count lives on the optimizer here (docs/departures.md).
    assert differing == [("_step_count after one step: 1", "_step_count after one step: None")]


def test_tour_step_moves_weights_by_minus_lr_times_grad():
    weight = optimizer_basics.step()
    np.testing.assert_allclose(weight.detach().numpy(),
                               np.float32(optimizer_basics.WEIGHT) - np.float32(0.1), rtol=1e-6)


def test_tour_state_dict_buffer_is_the_geometric_sum(tmp_path):
    # Ten steps with grad 1 and momentum 0.9: buffer = 1 + 0.9 + ... + 0.9**9.
    optimizer = optimizer_basics.state_dict(str(tmp_path))
    buf = optimizer.state_dict()["state"][0]["momentum_buffer"]
    np.testing.assert_allclose(buf.numpy(), np.full((2, 2), sum(0.9 ** k for k in range(10))),
                               rtol=1e-6)
    assert (tmp_path / "optimizer_state_dict.pkl").is_file()


def test_tour_zero_grad_leaves_none_by_default():
    assert optimizer_basics.zero_grad().grad is None


def test_tour_add_param_group_fills_defaults():
    optimizer = optimizer_basics.add_param_group()
    second = optimizer.param_groups[1]
    assert second["lr"] == 0.0001 and second["momentum"] == 0 and len(second["params"]) == 1
    assert isinstance(second["params"][0], tg.Tensor)
