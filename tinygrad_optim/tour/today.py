"""Section 7: where the tutorial's PyTorch and PyTorch 2.13 differ, and what this library does.

Each difference says what the tutorial shows, what torch 2.13 does (checked against torch 2.13
by tests/test_tour_sections.py when torch is installed) and what this library does; the last
line of each is not text but this library, run live.
"""
from __future__ import annotations

import inspect
import io
import textwrap
from typing import Callable, NamedTuple

import numpy as np

import tinygrad_optim as torch
import tinygrad_optim.optim as optim

from . import WIDTH

LABEL = 15  # the width of the "torch 2.13:" column


class Difference(NamedTuple):
    """One way in which the tutorial's output is not what torch 2.13 prints."""

    title: str
    tutorial: str
    torch: str
    here: str
    demo: Callable[[str], str]  # device -> what this library does, as one line


def _sgd(device: str):
    weight = torch.ones(2, requires_grad=True, device=device)
    weight.grad = torch.ones(2, device=device)
    return weight, optim.SGD([weight], lr=0.1, momentum=0.9)


def _zero_grad(device: str) -> str:
    weight, optimizer = _sgd(device)
    optimizer.zero_grad(set_to_none=False)
    zeros = weight.grad.tolist()
    optimizer.zero_grad()
    return (f"zero_grad(set_to_none=False) leaves .grad = {zeros}; zero_grad() leaves "
            f".grad = {weight.grad}")


def _step_count(device: str) -> str:
    _, optimizer = _sgd(device)
    for _ in range(3):
        optimizer.step()
    return f"after 3 steps, optimizer._step_count = {optimizer._step_count}"


def _lr_default(device: str) -> str:
    default = inspect.signature(optim.SGD).parameters["lr"].default
    return f"optim.SGD's signature reads lr={default}"


def _load(device: str) -> str:
    _, optimizer = _sgd(device)
    optimizer.step()
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    head = buffer.getvalue()[:8]
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    same = loaded["state"][0]["momentum_buffer"].tolist() == [1.0, 1.0]
    try:
        torch.save({"anything": object()}, io.BytesIO())
        refused = "saved it"
    except TypeError:
        refused = "raises TypeError"
    return (f"the file starts with {head!r} (a pickle starts with b'\\x80'); loading it back "
            f"with weights_only=False gives the same state: {same}; saving an arbitrary "
            f"object {refused}")


def _plot_losses(device: str) -> str:
    # On the CPU whatever the device: numpy reads host memory only, so a GPU tensor needs
    # .cpu() first, here as in torch, and that is not the difference shown.
    x = torch.tensor([2.], requires_grad=True)
    loss_rec = [torch.pow(2 * x, 2) for _ in range(2)]
    values = np.asarray(loss_rec).ravel().tolist()
    try:
        loss_rec[0].numpy()
        numpy_says = "works"
    except RuntimeError as error:
        numpy_says = f"raises RuntimeError: {error}"
    return f"np.asarray(loss_rec) gives {values}; loss_rec[0].numpy() {numpy_says}"


def _state_dict_keys(device: str) -> str:
    _, optimizer = _sgd(device)
    group = optimizer.state_dict()["param_groups"][0]
    return f"state_dict()['param_groups'][0] = {group}"


DIFFERENCES = (
    Difference(
        "zero_grad() now leaves None",
        "zero_grad() zeroes each gradient in place (p.grad.detach_(); p.grad.zero_()), so "
        ".grad prints as a tensor of zeros afterwards.",
        "set_to_none=True is the default since torch 2.0: .grad becomes None, which frees its "
        "memory, and the next backward() writes a fresh gradient instead of adding to zeros. "
        "zero_grad(set_to_none=False) still gives the tutorial's zeros.",
        "as torch 2.13, both ways.",
        _zero_grad),
    Difference(
        "_step_count moved to the schedulers",
        "lists _step_count among the optimizer's attributes: the number of updates, used "
        "when adjusting the learning rate. In the PyTorch of its time a learning-rate "
        "scheduler put this counter on the optimizer and counted its step() calls.",
        "an optimizer has no _step_count, not even with a scheduler attached "
        "(hasattr(optimizer, '_step_count') is False); the schedulers keep their own "
        "scheduler._step_count.",
        "kept on the optimizer, as the tutorial describes it: it starts at 0 and counts "
        "completed step() calls, scheduler or not (docs/departures.md).",
        _step_count),
    Difference(
        "SGD's lr has a default",
        "shows optim.SGD(params, lr=<object object>, ...): that object was the 'required' "
        "marker, so SGD without an lr was an error.",
        "lr defaults to 0.001, as Adam's does; optim.SGD(params) runs (slowly, on this "
        "tutorial's problems).",
        "as torch 2.13.",
        _lr_default),
    Difference(
        "torch.load's weights_only",
        "saves the state dict to optimizer_state_dict.pkl, a pickle, and torch.load "
        "unpickles it; unpickling can run any code the file asks for.",
        "torch.load defaults to weights_only=True since torch 2.6: tensors, numbers, strings "
        "and containers load, so a state dict loads as before, while any other pickled object "
        "is refused unless you pass weights_only=False and trust the file.",
        "no pickle at all, whatever the file's name: save writes tensors and containers in "
        "its own format (docs/save_format.md) and load never runs code, so weights_only is "
        "accepted and has nothing to switch.",
        _load),
    Difference(
        "plotting tensors that require grad",
        "appends the loss tensor itself (loss_rec.append(y)) and plots the list with "
        "matplotlib, which converts it to a numpy array.",
        "the conversion raises RuntimeError ('Can't call numpy() on Tensor that requires "
        "grad'): record y.item() or y.detach() instead.",
        "a tensor that requires grad converts with np.asarray, so the tutorial's plot works "
        "unchanged; Tensor.numpy() itself still raises torch's error (docs/departures.md).",
        _plot_losses),
    Difference(
        "how a state dict names its parameters",
        "prints state_dict() before and after ten steps; the PyTorch of its time (up to 1.5) "
        "named each parameter there by id(): a long number that changes from run to run.",
        "positions 0, 1, 2 ... in the order of param_groups (since torch 1.6); each group "
        "also lists maximize, foreach, differentiable and fused.",
        "positions, as torch 2.13, and the same keys: foreach, differentiable and fused are "
        "accepted and stored, and change nothing (one implementation serves them all).",
        _state_dict_keys),
)


def _say(label: str, text: str) -> None:
    print(textwrap.fill(text, WIDTH, initial_indent=f"   {label:<{LABEL - 3}}",
                        subsequent_indent=" " * LABEL))


def run(out_dir: str, *, plots: bool = True, device: str = "cpu", fast: bool = False) -> None:
    """Section 7: each difference in words, then this library's behaviour, run live.

    Args:
        out_dir: unused: nothing is written (the save demo uses a buffer in memory).
        plots: unused: the section is text.
        device: where the demo tensors live.
        fast: unused: the section is instant.
    """
    print("The tutorial was written for an older PyTorch; torch 2.13 prints some of its "
          "examples differently.")
    for number, difference in enumerate(DIFFERENCES, 1):
        print(f"\n{number}. {difference.title}")
        _say("tutorial:", difference.tutorial)
        _say("torch 2.13:", difference.torch)
        _say("here:", difference.here)
        _say("run here:", difference.demo(device))
