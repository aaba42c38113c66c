"""Section 4, exponentially weighted averages: how much each past value counts, and how long."""
from __future__ import annotations

import math

import numpy as np

from . import _plot, say

BETAS = [0.98, 0.95, 0.9, 0.8]  # the tutorial's
NUM_POINT = 100


def exp_w_func(beta, time_list):
    """The tutorial's weights: the value t steps back counts (1 - β)·β^t in the average."""
    return [(1 - beta) * np.power(beta, exp) for exp in time_list]


def ewa(values, beta: float) -> float:
    """The running average v ← β·v + (1 - β)·value over ``values``, from v = 0."""
    v = 0.0
    for value in values:
        v = beta * v + (1 - beta) * value
    return v


def memory(beta: float) -> float:
    """1/(1 - β): roughly how many recent steps the average remembers."""
    return 1 / (1 - beta)


def _check_recursion(time_list) -> None:
    """The recursion and the weighted sum with the tutorial's weights are the same average."""
    values = np.random.default_rng(0).normal(size=len(time_list))
    newest_first = values[::-1]
    gaps = [abs(ewa(values, beta) - float(np.dot(exp_w_func(beta, time_list), newest_first)))
            for beta in BETAS]
    say(f"v ← β·v + (1 - β)·value gives the same number as the weighted sum with these "
        f"weights (largest difference over the four β: {max(gaps):.1e})")


def _table(time_list) -> None:
    """Each β's newest weight, memory, and how the weight splits over time."""
    print(f"{'β':>5}{'1 - β (newest)':>16}{'memory 1/(1-β)':>16}{'β^(1/(1-β))':>13}"
          f"{'weight of those steps':>24}{f'sum of {len(time_list)}':>12}")
    for beta in BETAS:
        steps = memory(beta)
        weights = exp_w_func(beta, time_list)
        # round, not ceil: 1 / (1 - 0.9) is 10.000000000000002 in floating point.
        print(f"{beta:5}{weights[0]:16.3f}{steps:16.0f}{beta ** steps:13.3f}"
              f"{sum(weights[:round(steps)]):24.3f}{sum(weights):11.3f}")
    say(f"after 1/(1-β) steps a weight has fallen to about 1/e = {1 / math.e:.3f} of the "
        f"newest one's, and those steps hold about 1 - 1/e = {1 - 1 / math.e:.3f} of all "
        "the weight: the average remembers about 1/(1-β) steps")
    say("the weights of t steps sum to 1 - β^t, less than 1: started from v = 0, the average "
        "is biased towards 0 at first (Adam divides by 1 - β^t to correct this)")


def _plot_weights(out_dir: str, time_list) -> None:
    """The tutorial's figure, with each β's memory 1/(1 - β) marked."""
    fig, ax = _plot.figure(size=(8, 5))
    for beta in BETAS:
        (line,) = ax.plot(time_list, exp_w_func(beta, time_list), label=f"β = {beta}")
        ax.axvline(memory(beta), color=line.get_color(), linestyle=":")
    ax.set(xlabel="t: steps back in time (0 = the newest value)",
           ylabel=r"weight $(1 - \beta)\,\beta^t$",
           title="Exponentially weighted average: the weight of each past value\n"
                 "(dotted: the memory 1/(1 - β) of each β)")
    ax.grid(True)
    ax.legend()
    _plot.save(fig, out_dir, "ewa_weights.png")


def run(out_dir: str, *, plots: bool = True, device: str = "cpu", fast: bool = False) -> None:
    """Section 4: the weights for β in 0.98, 0.95, 0.9, 0.8 over 100 steps, and their memory.

    Args:
        out_dir: where ``ewa_weights.png`` goes.
        plots: draw it (needs matplotlib).
        device: unused: the weights are plain numpy arithmetic, no tensors.
        fast: unused: the section takes milliseconds.
    """
    time_list = np.arange(NUM_POINT).tolist()
    say("v_t = β·v_(t-1) + (1 - β)·θ_t unrolls to a weighted sum of all past θ: the value "
        "t steps back gets weight (1 - β)·β^t")
    _table(time_list)
    _check_recursion(time_list)
    if plots:
        _plot_weights(out_dir, time_list)
