"""The tutorial's optimizer section: attributes, step, zero_grad, add_param_group, state_dict.

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


def _weight(torch):
    weight = torch.tensor(WEIGHT, requires_grad=True)
    weight.grad = torch.ones((2, 2))
    return weight


def attributes(torch=tinygrad_optim, optim=tinygrad_optim.optim):
    """The four attributes the tutorial lists: defaults, state, param_groups, _step_count."""
    weight = _weight(torch)
    optimizer = optim.SGD([weight], lr=0.1, momentum=0.9)
    print("defaults:", optimizer.defaults)
    print("state (empty until the first step):", dict(optimizer.state))
    print("param_groups:", optimizer.param_groups)
    optimizer.step()
    print("state after one step:", dict(optimizer.state))
    # torch 2.13 keeps this counter on its LR schedulers; here it stays on the optimizer.
    print("_step_count after one step:", getattr(optimizer, "_step_count", None))
    return optimizer


def step(torch=tinygrad_optim, optim=tinygrad_optim.optim):
    """One SGD step moves each weight by -lr * grad (lr 0.1, grad 1: minus 0.1)."""
    weight = _weight(torch)
    optimizer = optim.SGD([weight], lr=0.1)
    print("weight before step:{}".format(weight.data))
    optimizer.step()
    print("weight after step:{}".format(weight.data))
    return weight


def zero_grad(torch=tinygrad_optim, optim=tinygrad_optim.optim):
    """The optimizer holds the very tensor (same id); zero_grad clears its gradient.

    ``set_to_none=False`` zeroes in place, as the tutorial's version of zero_grad does; the
    default (torch 2.x) sets ``.grad`` to None.
    """
    weight = _weight(torch)
    optimizer = optim.SGD([weight], lr=0.1)
    optimizer.step()
    same = optimizer.param_groups[0]["params"][0] is weight
    print("the optimizer holds the weight itself: {}".format(same))
    print("weight.grad is {}\n".format(weight.grad))
    optimizer.zero_grad(set_to_none=False)
    print("after optimizer.zero_grad(set_to_none=False), weight.grad is\n{}".format(weight.grad))
    optimizer.zero_grad()
    print("after optimizer.zero_grad(), weight.grad is {}".format(weight.grad))
    return weight


def add_param_group(torch=tinygrad_optim, optim=tinygrad_optim.optim):
    """A second group with its own learning rate; the other settings come from defaults."""
    weight = _weight(torch)
    optimizer = optim.SGD([weight], lr=0.1)
    print("optimizer.param_groups is\n{}".format(optimizer.param_groups))
    w2 = torch.tensor([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]], requires_grad=True)
    optimizer.add_param_group({"params": w2, "lr": 0.0001})
    print("optimizer.param_groups is\n{}".format(optimizer.param_groups))
    return optimizer


def state_dict(out_dir: str, torch=tinygrad_optim, optim=tinygrad_optim.optim):
    """state_dict before and after 10 steps of SGD with momentum, saved and loaded back."""
    weight = _weight(torch)
    optimizer = optim.SGD([weight], lr=0.1, momentum=0.9)
    print("state_dict before step:\n", optimizer.state_dict())
    for _ in range(10):
        optimizer.step()
    print("state_dict after step:\n", optimizer.state_dict())
    path = os.path.join(out_dir, "optimizer_state_dict.pkl")  # the tutorial's file name
    torch.save(optimizer.state_dict(), path)

    optimizer = optim.SGD([weight], lr=0.1, momentum=0.9)
    loaded = torch.load(path)
    print("state_dict before load state:\n", optimizer.state_dict())
    optimizer.load_state_dict(loaded)
    print("state_dict after load state:\n", optimizer.state_dict())
    return optimizer
