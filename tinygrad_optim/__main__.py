"""``python -m tinygrad_optim``: the tour of the tutorial (see ``--help``)."""
from __future__ import annotations

import argparse
import os
import sys

from .tour import learning_rate, optimizer_basics


def _methods(out_dir: str) -> None:
    optimizer_basics.step()
    optimizer_basics.zero_grad()
    optimizer_basics.add_param_group()
    optimizer_basics.state_dict(out_dir)


SECTIONS = {
    1: ("Optimizer attributes: defaults, state, param_groups, _step_count",
        lambda out_dir: optimizer_basics.attributes()),
    2: ("Optimizer methods: step, zero_grad, add_param_group, state_dict", _methods),
    3: ("Learning rate: gradient descent by hand on y = 4x²",
        lambda out_dir: learning_rate.manual_descent()),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_optim",
        description="A tour of PyTorch's optimizers, rebuilt from scratch: each section runs "
                    "the tutorial's code with tinygrad_optim in place of torch.")
    parser.add_argument("--section", type=int, choices=sorted(SECTIONS),
                        help="run only this section")
    parser.add_argument("--out", default="tinygrad_optim_tour",
                        help="folder for the files the tour writes (default: %(default)s)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for number, (title, run) in SECTIONS.items():
        if args.section is None or args.section == number:
            print(f"\n== {number}. {title} ==")
            run(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
