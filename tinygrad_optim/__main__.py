"""``python -m tinygrad_optim``: the tour of the tutorial (see ``--help``)."""
from __future__ import annotations

import argparse
import sys

from .tour import learning_rate

SECTIONS = {
    3: ("Learning rate: gradient descent by hand on y = 4x²", learning_rate.manual_descent),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_optim",
        description="A tour of PyTorch's optimizers, rebuilt from scratch: each section runs "
                    "the tutorial's code with tinygrad_optim in place of torch.")
    parser.add_argument("--section", type=int, choices=sorted(SECTIONS),
                        help="run only this section")
    args = parser.parse_args(argv)
    for number, (title, run) in SECTIONS.items():
        if args.section is None or args.section == number:
            print(f"\n== {number}. {title} ==")
            run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
