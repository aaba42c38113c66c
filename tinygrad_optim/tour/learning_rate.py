"""Section 3, the learning rate: gradient descent by hand on y = 4x², as the tutorial does it."""
from __future__ import annotations

import numpy as np

import tinygrad_optim as torch  # the tutorial's code, with only the import changed

from . import _plot, say

SWEEP = np.linspace(0.01, 0.2, 10).tolist()  # the course's ten learning rates
# lr: steps to draw. 0.125 is 1/y'', 0.25 the stability bound; 1 explodes, so 3 steps do.
REGIMES = {0.125: 4, 0.2: 12, 0.25: 6, 0.3: 8, 1.0: 3}
TINY_LOSS = 1e-6  # "converged" in the sweep's table


def func(x_t):
    """y = (2x)² = 4x²: its minimum is at x = 0 and its gradient is 8x."""
    return torch.pow(2 * x_t, 2)


def manual_descent(lr: float = 0.01, max_iteration: int = 20, x0: float = 2.0,
                   verbose: bool = True, device: str = "cpu"):
    """Gradient descent by hand: ``x.data.sub_(lr * x.grad); x.grad.zero_()``.

    The gradient has to be zeroed by hand because ``backward()`` adds into ``.grad``.
    Each step multiplies x by (1 - 8·lr): 0.92 for lr = 0.01.

    Returns:
        (iterations, x values, losses) as lists; the losses are the loss tensors themselves,
        as the tutorial records them (they convert to numpy for plotting).
    """
    x = torch.tensor([x0], requires_grad=True, device=device)
    iter_rec, loss_rec, x_rec = [], [], []
    for i in range(max_iteration):
        y = func(x)
        y.backward()
        if verbose:
            # .cpu(), a no-op on the CPU, lets the tutorial's line run on a GPU too.
            print("Iter:{}, X:{:8}, X.grad:{:8}, loss:{:10}".format(
                i, x.detach().cpu().numpy()[0], x.grad.detach().cpu().numpy()[0], y.item()))
        x_rec.append(x.item())
        x.data.sub_(lr * x.grad)
        x.grad.zero_()
        iter_rec.append(i)
        loss_rec.append(y)
    return iter_rec, x_rec, loss_rec


def curvature(device: str = "cpu") -> float:
    """The slope of the gradient, y'' (8 for 4x²), read from autograd at x = 1.

    The gradient 8x is linear and 0 at x = 0, so its value at 1 is its slope. A step of
    gradient descent maps x to x - lr·y''·x = (1 - lr·y'')·x.
    """
    x = torch.tensor([1.0], requires_grad=True, device=device)
    func(x).backward()
    return x.grad.item()


def regime(factor: float) -> str:
    """What x ← factor·x does from any start, in words."""
    if factor == 0:
        return "reaches the minimum in one step"
    if 0 < factor < 1:
        return "converges without overshooting"
    if -1 < factor < 0:
        return "converges, overshooting the minimum at every step"
    if factor == -1:
        return "bounces between +x0 and -x0 forever"
    return "diverges" + (", flipping sign at every step" if factor < 0 else "")


def _manual(out_dir: str, plots: bool, device: str) -> None:
    """The tutorial's loop (lr 0.01, 20 iterations) and its two figures."""
    lr = 0.01
    iter_rec, x_rec, loss_rec = manual_descent(lr, device=device)
    factor = 1 - lr * curvature(device)
    say(f"each step multiplies x by 1 - lr·y'' = {factor:.2f}, so the loss by "
        f"{factor ** 2:.4f}: at iteration {iter_rec[-1]} x = {x_rec[-1]:.4f}, still far "
        "from 0")
    if not plots:
        return
    fig, ax = _plot.figure()
    # .item(), not the tutorial's plt.plot(iter_rec, loss_rec), which converts the tensors
    # with numpy: that works here on the CPU only (section 7), and this runs on a GPU too.
    ax.plot(iter_rec, [y.item() for y in loss_rec], "-ro")
    ax.set(xlabel="Iteration", ylabel="Loss value",
           title=f"y = 4x², x0 = 2, lr = {lr}: loss × {factor ** 2:.4f} per step")
    ax.grid(True)
    _plot.save(fig, out_dir, "lr_manual_loss.png")

    fig, ax = _plot.figure()
    x_t = np.linspace(-3, 3, 100)
    ax.plot(x_t, 4 * x_t ** 2, label="y = 4x²")
    ax.plot(x_rec, [4 * x ** 2 for x in x_rec], "-ro", label=f"x after each step, lr = {lr}")
    ax.set(xlabel="x", ylabel="y", title=f"lr = {lr}: small steps down the parabola, never past 0")
    ax.grid(True)
    ax.legend()
    _plot.save(fig, out_dir, "lr_manual_path.png")


def _sweep(out_dir: str, plots: bool, device: str, iterations: int) -> None:
    """The course's ten learning rates from 0.01 to 0.2, run side by side."""
    c = curvature(device)
    runs = [np.array([y.item() for y in manual_descent(lr, iterations, verbose=False,
                                                       device=device)[2]]) for lr in SWEEP]
    print(f"\nten learning rates, {iterations} iterations each:")
    print(f"{'lr':>8}{'factor 1-8·lr':>15}{'final loss':>13}   iterations to loss < {TINY_LOSS}")
    for lr, losses in zip(SWEEP, runs):
        below = np.flatnonzero(losses < TINY_LOSS)
        reached = f"{below[0]}" if below.size else f"more than {iterations}"
        print(f"{lr:8.4f}{1 - lr * c:15.4f}{losses[-1]:13.3g}   {reached}")
    best = min(SWEEP, key=lambda lr: abs(1 - lr * c))
    say(f"fastest: lr = {best:.4f}, whose factor is nearest 0 (lr = 1/y'' = {1 / c:g} would "
        f"reach 0 in one step); above {1 / c:g} the factor is negative: x overshoots 0, and "
        "the larger the lr, the slower it settles")
    if plots:
        _plot_sweep(out_dir, runs)


def _plot_sweep(out_dir: str, runs: list) -> None:
    """The sweep's losses: the first 20 iterations as the tutorial draws them, then all of
    them on a log axis, where a geometric decay is a straight line."""
    fig, (linear, log) = _plot.figure(1, 2, size=(12, 4.8))
    for lr, losses in zip(SWEEP, runs):
        label = f"lr = {lr:.4f}"
        linear.plot(losses[:20], label=label)
        # A loss that has reached exactly 0 (float32 underflow) has no place on a log axis.
        log.plot(np.where(losses > 0, losses, np.nan), label=label)
    linear.set(xlabel="Iterations", ylabel="Loss value",
               title="The first 20 iterations (the tutorial's linear axis)")
    log.set(yscale="log", xlabel="Iterations", ylabel="Loss value (log scale)",
            title="Log axis: slope 2·log|1 - 8·lr|; a line ends where the loss hits 0")
    for ax in (linear, log):
        ax.grid(True)
    log.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
    _plot.save(fig, out_dir, "lr_sweep.png")


def _regimes(out_dir: str, plots: bool, device: str) -> None:
    """Single runs at lrs that converge in one step, overshoot, bounce and diverge."""
    c = curvature(device)
    print()
    say(f"each step multiplies x by 1 - lr·y'' (y'' = {c:g}), so |x| shrinks only while "
        f"|1 - {c:g}·lr| < 1; the stability bound is")
    print(f"  0 < lr < 2/{c:g} = {2 / c:g}")
    paths = {}
    for lr, steps in REGIMES.items():
        paths[lr] = manual_descent(lr, steps + 1, verbose=False, device=device)[1]
        print(f"lr = {lr}: x ← {1 - lr * c:.2f}·x, {regime(1 - lr * c)}")
        say("x: " + ", ".join(f"{x:.4g}" for x in paths[lr]), indent="    ")
    if plots:
        _plot_regimes(out_dir, paths, c)


def _plot_regimes(out_dir: str, paths: dict, c: float) -> None:
    """Each run's iterates on the parabola, and |1 - lr·y''| against lr."""
    fig, axes = _plot.figure(2, 3, size=(13, 7.5))
    for ax, (lr, xs) in zip(axes.flat, paths.items()):
        reach = 1.15 * max(abs(x) for x in xs)
        x_t = np.linspace(-reach, reach, 200)
        ax.plot(x_t, 4 * x_t ** 2, color="tab:blue", label="y = 4x²")
        ax.plot(xs, [4 * x ** 2 for x in xs], "-ro", label=f"{len(xs) - 1} steps from x = 2")
        ax.set(xlabel="x", ylabel="y", title=f"lr = {lr}: x ← {1 - lr * c:.2f}·x per step\n"
                                             f"{regime(1 - lr * c)}")
        ax.grid(True)
        ax.legend(loc="upper center", fontsize="small")
    _plot_factor(axes.flat[-1], list(paths), c)
    _plot.save(fig, out_dir, "lr_regimes.png")


def _plot_factor(ax, lrs: list, c: float) -> None:
    """|1 - lr·y''| against lr: below 1 gradient descent converges."""
    lr_t = np.geomspace(0.01, 1.2, 400)
    ax.plot(lr_t, np.abs(1 - lr_t * c), color="black", label=f"|1 - {c:g}·lr|")
    ax.axhline(1, color="gray", linestyle="--")
    ax.axvspan(lr_t[0], 2 / c, color="tab:green", alpha=0.15, label=f"stable: lr < {2 / c:g}")
    ax.plot(lrs, [abs(1 - lr * c) for lr in lrs], "ro", label="the runs drawn here")
    ax.set(xscale="log", xlabel="learning rate (log scale)", ylabel="|factor| per step",
           title=f"|x| is multiplied by |1 - {c:g}·lr| per step")
    ax.grid(True)
    ax.legend(fontsize="small")


def run(out_dir: str, *, plots: bool = True, device: str = "cpu", fast: bool = False) -> None:
    """Section 3: the tutorial's loop, the course's learning-rate sweep, and the regimes.

    Args:
        out_dir: where the four figures go.
        plots: draw them (needs matplotlib).
        device: where the tensors live.
        fast: 20 iterations per learning rate in the sweep instead of 100.
    """
    _manual(out_dir, plots, device)
    _sweep(out_dir, plots, device, 20 if fast else 100)
    _regimes(out_dir, plots, device)
