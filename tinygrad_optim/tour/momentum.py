"""Section 5, momentum: torch's v = m·v + g, w = w - lr·v, on the tutorial's y = 4x²."""
from __future__ import annotations

import math

import numpy as np

import tinygrad_optim as torch
import tinygrad_optim.optim as optim

from . import _plot, say
from .learning_rate import curvature, func

# The course's figure: lr 0.01 with momentum 0.9 (and 0.63) against lr 0.03 without.
RUNS = [(0.01, 0.9), (0.01, 0.63), (0.03, 0.0)]
SWEEP_LR = 0.01
SWEEP_CURVES = [0.0, 0.3, 0.5, 0.63, 0.8, 0.9, 0.95]


def sgd(lr: float, momentum: float, iterations: int, device: str = "cpu"):
    """The course's loop: optim.SGD on y = 4x² from x = 2.

    Returns:
        (the loss before each step, x at the end).
    """
    x = torch.tensor([2.], requires_grad=True, device=device)
    optimizer = optim.SGD([x], lr=lr, momentum=momentum)
    losses = []
    for _ in range(iterations):
        y = func(x)
        y.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(y.item())
    return losses, x.item()


def by_hand(lr: float, momentum: float, iterations: int, device: str = "cpu") -> float:
    """The same run with torch's formula written out: v = m·v + g; w = w - lr·v.

    Returns:
        x after ``iterations`` steps.
    """
    x = torch.tensor([2.], requires_grad=True, device=device)
    v = torch.zeros(1, device=device)
    for _ in range(iterations):
        func(x).backward()
        v = momentum * v + x.grad
        x.data.sub_(lr * v)
        x.grad.zero_()
    return x.item()


def contraction(lr: float, momentum: float, c: float) -> tuple[float, bool]:
    """How fast SGD with momentum converges on a quadratic with y'' = c, by linear algebra.

    One step maps (w, v) linearly: v' = m·v + c·w, w' = w - lr·v'. Its eigenvalues z solve
    z² - (1 + m - lr·c)·z + m = 0; the error shrinks by max |z| per step, and complex z (a
    negative discriminant) mean it spirals: the loss oscillates while it falls.

    Returns:
        (max |z|, whether the roots are complex).
    """
    b = 1 + momentum - lr * c
    roots = np.roots([1.0, -b, momentum])
    return float(np.max(np.abs(roots))), b * b < 4 * momentum


def shrink(losses: list) -> float:
    """The measured shrink of the error per step: the loss is loss_0·shrink^(2t)."""
    return (losses[-1] / losses[0]) ** (1 / (2 * (len(losses) - 1)))


def _compare(out_dir: str, plots: bool, device: str, iterations: int) -> None:
    """The course's figure: lr 0.01 with momentum 0.9 and 0.63 against lr 0.03 without."""
    c = curvature(device)
    runs = {run: sgd(*run, iterations, device)[0] for run in RUNS}
    print(f"{'lr':>6}{'m':>6}{'lr/(1-m)':>10}{'shrink per step':>17}{'swings':>8}"
          f"{'last loss':>12}")
    for (lr, m), losses in runs.items():
        rate, spirals = contraction(lr, m, c)
        print(f"{lr:6}{m:6}{lr / (1 - m):10.3f}{rate:17.3f}{'yes' if spirals else 'no':>8}"
              f"{losses[-1]:12.3g}")
    say("a gradient that changes slowly piles up in v to about g/(1 - m), so the step is "
        "about lr/(1 - m)·g; too much momentum overshoots: x then swings around the minimum, "
        "and the swings die out only as fast as √m per step")
    if plots:
        slowest = max(runs, key=lambda run: contraction(*run, c)[0])
        _plot_compare(out_dir, runs, slowest)


def _plot_compare(out_dir: str, runs: dict, slowest: tuple) -> None:
    fig, (linear, log) = _plot.figure(1, 2, size=(12, 4.8))
    for (lr, m), losses in runs.items():
        label = f"LR: {lr} M: {m}"
        linear.plot(losses, label=label)
        log.plot(losses, label=label)
    linear.set(xlabel="Iterations", ylabel="Loss value",
               title="SGD on y = 4x² (the tutorial's linear axis)")
    log.set(yscale="log", xlabel="Iterations", ylabel="Loss value (log scale)",
            title=f"Log axis: LR {slowest[0]} M {slowest[1]} swings, and is the slowest")
    for ax in (linear, log):
        ax.grid(True)
        ax.legend()
    _plot.save(fig, out_dir, "momentum_compare.png")


def _sweep(out_dir: str, plots: bool, device: str, iterations: int, points: int) -> None:
    """Momentum from 0 to 0.98 at lr 0.01: the shrink per step, measured and predicted."""
    c = curvature(device)
    lr = SWEEP_LR
    best = (1 - math.sqrt(lr * c)) ** 2  # where the discriminant of contraction() is 0
    print()
    say(f"momentum sweep at lr {lr}: the fastest m is (1 - √(lr·y''))² = {best:.3f}, "
        f"shrinking the error by √m = {math.sqrt(best):.3f} per step, against "
        f"{1 - lr * c:.3f} without momentum; below it x creeps, above it x swings")
    curves = {m: sgd(lr, m, iterations, device)[0] for m in SWEEP_CURVES}
    print(f"{'m':>6}{'shrink per step':>17}{'measured':>10}{'last loss':>12}")
    for m, losses in curves.items():
        print(f"{m:6}{contraction(lr, m, c)[0]:17.3f}{shrink(losses):10.3f}{losses[-1]:12.3g}")
    if plots:
        grid = np.linspace(0.0, 0.98, points).tolist()
        measured = [shrink(sgd(lr, m, iterations, device)[0]) for m in grid]
        _plot_sweep(out_dir, curves, grid, measured, best, c)


def _plot_sweep(out_dir: str, curves: dict, grid: list, measured: list, best: float,
                c: float) -> None:
    """Loss curves for a few m, and the shrink per step against m, predicted and measured."""
    fig, (losses_ax, rate_ax) = _plot.figure(1, 2, size=(12, 4.8))
    for m, losses in curves.items():
        losses_ax.plot(losses, label=f"m = {m}")
    losses_ax.set(yscale="log", xlabel="Iterations", ylabel="Loss value (log scale)",
                  title=f"SGD lr = {SWEEP_LR} on y = 4x², momentum m")
    losses_ax.legend()
    m_t = np.linspace(0.0, 0.98, 400)
    rate_ax.plot(m_t, [contraction(SWEEP_LR, m, c)[0] for m in m_t], color="black",
                 label=r"predicted: largest $|z|$ with $z^2 - (1 + m - 8\,lr)\,z + m = 0$")
    rate_ax.plot(grid, measured, "o", color="tab:red", markersize=4,
                 label=r"measured: $(loss_t / loss_0)^{1/2t}$")
    rate_ax.axvline(best, color="gray", linestyle="--", label=f"best m = {best:.3f}")
    rate_ax.set(xlabel="momentum m", ylabel="error shrink per step (lower is faster)",
                title="Too little momentum creeps, too much swings")
    rate_ax.legend()
    for ax in (losses_ax, rate_ax):
        ax.grid(True)
    _plot.save(fig, out_dir, "momentum_sweep.png")


def run(out_dir: str, *, plots: bool = True, device: str = "cpu", fast: bool = False) -> None:
    """Section 5: torch's momentum formula, the course's comparison, and a sweep of m.

    Args:
        out_dir: where the two figures go.
        plots: draw them (needs matplotlib).
        device: where the tensors live.
        fast: 30 iterations per run and 8 values of m in the sweep, instead of 100 and 50.
    """
    iterations = 30 if fast else 100
    print("torch's SGD with momentum (dampening 0): v = m·v + g;  w = w - lr·v")
    for lr, m in RUNS[:2]:
        say(f"lr {lr}, m {m}, {iterations} steps: the formula by hand ends at x = "
            f"{by_hand(lr, m, iterations, device):.9g}, optim.SGD at x = "
            f"{sgd(lr, m, iterations, device)[1]:.9g}", indent="  ")
    _compare(out_dir, plots, device, iterations)
    _sweep(out_dir, plots, device, iterations, 8 if fast else 50)
