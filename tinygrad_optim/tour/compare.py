"""``python -m tinygrad_optim compare``: race any optimizers, with any settings, on one function.

Example::

    python -m tinygrad_optim compare --function rosenbrock --optimizers adam,rmsprop,lbfgs \\
        --lr 0.01 --steps 500 --param momentum=0.5

prints the same table as tour section 6 and writes ``compare_<function>_paths.png``,
``compare_<function>_loss.png`` and ``compare_<function>_state.png``.
"""
from __future__ import annotations

import argparse
import ast
import inspect
import sys

import tinygrad_optim as torch

from .functions import PROBLEMS
from .optimizers import show
from .race import OPTIMIZERS, canonical_name, default_settings, race

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``compare`` options to ``parser`` (``--out``, ``--no-plots`` and
    ``--device`` come from the caller)."""
    names = ", ".join(name.lower() for name in OPTIMIZERS)
    parser.add_argument("--function", type=str.lower, choices=list(PROBLEMS),
                        default="rosenbrock", help="the test function (default: %(default)s)")
    parser.add_argument("--optimizers", type=optimizer_list, default=None,
                        metavar="NAME[,NAME...]",
                        help=f"comma-separated, any case, from: {names} (default: all)")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help="one learning rate for all of them (default: each one's lr "
                             "from the grid search of tour section 6, for this function)")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="steps per optimizer (default: section 6's, for this function)")
    parser.add_argument("--param", type=setting, action="append", default=[],
                        metavar="KEY=VALUE",
                        help="another constructor argument, given to every chosen optimizer "
                             "that takes it: momentum=0.5, betas=(0.8,0.99), amsgrad=True, "
                             "line_search_fn=None ... (repeatable)")


def optimizer_list(text: str) -> list:
    """``"adam,RMSprop"`` → ``["Adam", "RMSprop"]``, in order, without repeats."""
    chosen = []
    for name in text.split(","):
        try:
            canonical = canonical_name(name)
        except KeyError:
            known = ", ".join(known.lower() for known in OPTIMIZERS)
            raise argparse.ArgumentTypeError(
                f"unknown optimizer {name.strip()!r} (choose from {known})") from None
        if canonical not in chosen:
            chosen.append(canonical)
    return chosen


def positive_float(text: str) -> float:
    """A float > 0 (NaN and infinity rejected)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def positive_int(text: str) -> int:
    """An int > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def setting(text: str) -> tuple:
    """``"key=value"`` → ``(key, value)``, the value read as a Python literal if it is one
    (``0.5``, ``(0.8, 0.99)``, ``True``, ``None``) and as a string otherwise."""
    key, equals, raw = text.partition("=")
    key = key.strip()
    if not equals or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    if key == "lr":
        raise argparse.ArgumentTypeError("give the learning rate with --lr")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        value = raw.strip()
    return key, value


def run(args: argparse.Namespace) -> int:
    """Race the chosen optimizers; print the table and write the figures.

    Args:
        args: the parsed options of :func:`configure`, with ``out`` (folder),
            ``no_plots`` and ``device``.

    Returns:
        0, or 2 after a message on stderr when a setting is refused: one that no chosen
        optimizer takes, or that its constructor or its first step rejects.
    """
    problem = PROBLEMS[args.function]
    names = args.optimizers or list(OPTIMIZERS)
    try:
        _check_keys(names, args.param)
        settings = {name: _settings(name, problem.name, args.lr, args.param) for name in names}
    except ValueError as error:
        print(f"compare: error: {error}", file=sys.stderr)
        return 2
    try:
        runs = [race(problem, name, settings[name], args.steps or problem.steps, args.device)
                for name in names]
    except (RuntimeError, ValueError) as error:  # a setting only step() checks (LBFGS's)
        print(f"compare: error: {error}", file=sys.stderr)
        return 2
    show(problem, runs, args.out, prefix="compare", plots=not args.no_plots,
         state_name=f"compare_{problem.name}_state.png")
    return 0


def _settings(name: str, function: str, lr: float | None, params: list) -> dict:
    """Section 6's settings for ``name`` with ``lr`` and the ``params`` it takes.

    Raises:
        ValueError: for settings the optimizer's constructor refuses (its own message,
            after the call that failed).
    """
    cls = OPTIMIZERS[name]
    settings = default_settings(name, function)
    if lr is not None:
        settings["lr"] = lr
    settings.update((key, value) for key, value in params if key in _arguments(cls))
    try:  # on a stand-in parameter, so that a bad setting fails before any race runs
        cls([torch.zeros(2, requires_grad=True)], **settings)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name}({_call(settings)}): {error}") from None
    return settings


def _check_keys(names: list, params: list) -> None:
    """Raises ValueError for a ``--param`` key that none of ``names`` takes, naming those
    that would."""
    for key, _ in params:
        if not any(key in _arguments(OPTIMIZERS[name]) for name in names):
            takers = [name for name, cls in OPTIMIZERS.items() if key in _arguments(cls)]
            raise ValueError(f"no chosen optimizer ({', '.join(names)}) takes {key!r}"
                             + (f"; {', '.join(takers)} would" if takers else ""))


def _arguments(cls) -> set:
    """The keyword arguments of an optimizer's constructor, ``params`` aside."""
    return set(inspect.signature(cls).parameters) - {"params"}


def _call(settings: dict) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in settings.items())
