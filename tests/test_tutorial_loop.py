"""The tutorial's manual learning-rate loop prints exactly what torch 2.13 prints."""
import contextlib
import io
import pathlib

import pytest

from tinygrad_optim.tour import learning_rate

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "tutorial_manual_loop.txt"


def _printed(run) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run()
    return out.getvalue().splitlines()


def test_manual_loop_prints_torchs_lines():
    # The fixture was printed by torch 2.13 (tests/fixtures/make_tutorial_fixture.py).
    assert _printed(learning_rate.manual_descent) == FIXTURE.read_text().splitlines()


def test_manual_loop_shrinks_x_by_0_92_per_step():
    _, xs, _ = learning_rate.manual_descent(verbose=False)
    for before, after in zip(xs, xs[1:]):
        assert after == pytest.approx(0.92 * before, rel=1e-6)


def test_manual_loop_losses_convert_for_plotting():
    # The tutorial appends the loss tensors themselves and plots the list: numpy must accept it.
    np = pytest.importorskip("numpy")
    _, _, losses = learning_rate.manual_descent(verbose=False)
    values = np.asarray(losses, dtype=float).ravel()
    assert values[0] == 16.0 and values[-1] < values[0]


def test_manual_loop_matches_live_torch():
    torch = pytest.importorskip("torch")
    x = torch.tensor([2.], requires_grad=True)
    expected = []
    for _ in range(20):
        y = torch.pow(2 * x, 2)
        y.backward()
        expected.append((x.item(), x.grad.item(), y.item()))
        x.data.sub_(0.01 * x.grad)
        x.grad.zero_()
    _, xs, losses = learning_rate.manual_descent(verbose=False)
    assert [(xv, loss.item()) for xv, loss in zip(xs, losses)] == [(e[0], e[2]) for e in expected]
