"""Sections 1 and 2: the optimizer's attributes and its methods, as the tutorial shows them.

Every function takes the library as arguments (``torch`` and ``optim``), so that the same code
runs on tinygrad_optim and, in the tests, on PyTorch itself: the printed numbers must agree.
The tutorial starts from ``torch.randn`` with a seed; the weights here are fixed numbers
instead, because no library reproduces another's random stream.
"""
from __future__ import annotations

import os

import tinygrad_optim
import tinygrad_optim.optim

WEIGHT = [[0.6614, 0.2669], [0.0617, 0.6213]]  # what torch.randn gives after seed 1, rounded


def _weight(torch, device):
    weight = torch.tensor(WEIGHT, requires_grad=True, device=device)
    weight.grad = torch.ones((2, 2), device=device)
    return weight


def attributes(torch=tinygrad_optim, optim=tinygrad_optim.optim, device="cpu"):
    """The four attributes the tutorial lists: defaults, state, param_groups, _step_count."""
    weight = _weight(torch, device)
    optimizer = optim.SGD([weight], lr=0.1, momentum=0.9)
    print("defaults (the hyperparameters a param group gets unless it sets its own):\n ",
          optimizer.defaults)
    print("state (per-parameter buffers, keyed by the parameter; empty until a step):\n ",
          dict(optimizer.state))
    print("param_groups (a list of dicts: the parameters and their hyperparameters):\n ",
          optimizer.param_groups)
    optimizer.step()
    print("state after one step (SGD with momentum keeps a momentum_buffer per parameter):\n ",
          dict(optimizer.state))
    # torch 2.13 keeps this counter on its LR schedulers; here it stays on the optimizer.
    print("_step_count after one step:", getattr(optimizer, "_step_count", None))
    return optimizer


def step(torch=tinygrad_optim, optim=tinygrad_optim.optim, device="cpu"):
    """One SGD step moves each weight by -lr * grad (lr 0.1, grad 1: minus 0.1)."""
    weight = _weight(torch, device)
    optimizer = optim.SGD([weight], lr=0.1)
    print("weight before step:{}".format(weight.data))
    optimizer.step()
    print("weight after step:{}".format(weight.data))
    return weight


def zero_grad(torch=tinygrad_optim, optim=tinygrad_optim.optim, device="cpu"):
    """Gradients accumulate until cleared; the optimizer clears the very tensor it holds.

    ``backward()`` adds into ``.grad``. ``set_to_none=False`` zeroes it in place, as the
    tutorial's version of zero_grad does; the default (torch 2.x) sets ``.grad`` to None.
    """
    weight = _weight(torch, device)
    optimizer = optim.SGD([weight], lr=0.1)
    optimizer.step()
    same = optimizer.param_groups[0]["params"][0] is weight
    print("the optimizer holds the weight itself: {}".format(same))
    print("weight.grad is {}\n".format(weight.grad))
    weight.sum().backward()
    print("after weight.sum().backward(), which adds ones to it, weight.grad is\n{}\n".format(
        weight.grad))
    optimizer.zero_grad(set_to_none=False)
    print("after optimizer.zero_grad(set_to_none=False), weight.grad is\n{}".format(weight.grad))
    optimizer.zero_grad()
    print("after optimizer.zero_grad(), weight.grad is {}".format(weight.grad))
    return weight


def add_param_group(torch=tinygrad_optim, optim=tinygrad_optim.optim, device="cpu"):
    """A second group with its own learning rate; the other settings come from defaults."""
    weight = _weight(torch, device)
    optimizer = optim.SGD([weight], lr=0.1)
    print("optimizer.param_groups is\n{}".format(optimizer.param_groups))
    w2 = torch.tensor([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]], requires_grad=True,
                      device=device)
    optimizer.add_param_group({"params": w2, "lr": 0.0001})
    print("optimizer.param_groups is\n{}".format(optimizer.param_groups))
    return optimizer


def state_dict(out_dir: str, torch=tinygrad_optim, optim=tinygrad_optim.optim, device="cpu"):
    """state_dict before and after 10 steps of SGD with momentum, saved and loaded back."""
    weight = _weight(torch, device)
    optimizer = optim.SGD([weight], lr=0.1, momentum=0.9)
    print("state_dict before step:\n", optimizer.state_dict())
    for _ in range(10):
        optimizer.step()
    print("state_dict after step:\n", optimizer.state_dict())
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "optimizer_state_dict.pkl")  # the tutorial's file name
    torch.save(optimizer.state_dict(), path)

    optimizer = optim.SGD([weight], lr=0.1, momentum=0.9)
    loaded = torch.load(path)
    print("state_dict before load state:\n", optimizer.state_dict())
    optimizer.load_state_dict(loaded)
    print("state_dict after load state:\n", optimizer.state_dict())
    return optimizer


def run_attributes(out_dir: str, *, plots: bool = True, device: str = "cpu",
                   fast: bool = False) -> None:
    """Section 1 (prints only: ``out_dir``, ``plots`` and ``fast`` have nothing to change)."""
    attributes(device=device)


def run_methods(out_dir: str, *, plots: bool = True, device: str = "cpu",
                fast: bool = False) -> None:
    """Section 2: step, zero_grad, add_param_group, then state_dict saved into ``out_dir``.

    It draws no figure and is instant, so ``plots`` and ``fast`` change nothing.
    """
    for title, show in (("step()", step), ("zero_grad()", zero_grad),
                        ("add_param_group()", add_param_group)):
        print(f"\n-- {title} --")
        show(device=device)
    print("\n-- state_dict() and load_state_dict() --")
    state_dict(out_dir, device=device)
