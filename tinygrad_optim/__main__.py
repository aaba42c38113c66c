"""``python -m tinygrad_optim``: the tour of the tutorial, and ``compare`` (see ``--help``)."""
from __future__ import annotations

import argparse
import os
import sys
import time

from . import cuda
from .tour import (DEFAULT_OUT, averages, compare, learning_rate, momentum, optimizer_basics,
                   optimizers, plots_possible, today)

# number: (title, the function that runs the section: run(out_dir, *, plots, device, fast))
SECTIONS = {
    1: ("Optimizer attributes: defaults, state, param_groups, _step_count",
        optimizer_basics.run_attributes),
    2: ("Optimizer methods: step, zero_grad, add_param_group, state_dict",
        optimizer_basics.run_methods),
    3: ("Learning rate: gradient descent by hand on y = 4x², too small, right, too large",
        learning_rate.run),
    4: ("Exponentially weighted averages: the weights (1 - β)·β^t and their memory",
        averages.run),
    5: ("Momentum: torch's v = m·v + g, w = w - lr·v", momentum.run),
    6: ("The ten optimizers, raced on test functions", optimizers.run),
    7: ("The tutorial and today's PyTorch: what prints differently, and why", today.run),
}

DESCRIPTION = """\
A tour of PyTorch's optimizers, rebuilt from scratch: each section runs the tutorial's code
with tinygrad_optim in place of torch, prints its results and saves its figures as PNG files.

sections:
""" + "\n".join(f"  {number}. {title}" for number, (title, _) in SECTIONS.items())

EPILOG = f"""\
examples:
  python -m tinygrad_optim                      the whole tour, figures in ./{DEFAULT_OUT}
  python -m tinygrad_optim --section 3          the learning-rate section only
  python -m tinygrad_optim --no-plots           text only (no matplotlib needed)
  python -m tinygrad_optim compare --help       race any optimizers on any test function

Figures need matplotlib (pip install ".[examples]" in the repository). Without it the tour says so
and prints its text only."""


def _add_output_options(parser: argparse.ArgumentParser, *, with_defaults: bool) -> None:
    """--out, --no-plots and --device, which the tour and compare share.

    The compare subcommand takes them without defaults (argparse.SUPPRESS): a subparser's
    default would overwrite a value given before the subcommand's name, so that
    ``--out D compare`` and ``compare --out D`` both work only this way.
    """
    def default(value):
        return value if with_defaults else argparse.SUPPRESS

    parser.add_argument("--out", metavar="DIR", default=default(DEFAULT_OUT),
                        help=f"folder for the figures and files (default: ./{DEFAULT_OUT})")
    parser.add_argument("--no-plots", action="store_true", default=default(False),
                        help="print text only, draw no figures (for machines without "
                             "matplotlib)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=default("cpu"),
                        help="where the tensors live; cuda needs cupy and a GPU "
                             "(default: cpu)")


def build_parser() -> argparse.ArgumentParser:
    """The command line: the tour's options, and the ``compare`` subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_optim", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--section", type=int, choices=sorted(SECTIONS), metavar="N",
                        help=f"run only section N ({min(SECTIONS)}-{max(SECTIONS)})")
    parser.add_argument("--fast", action="store_true",
                        help="fewer iterations, used by the tests (the numbers change; the "
                             "figures stay readable)")
    _add_output_options(parser, with_defaults=True)
    commands = parser.add_subparsers(dest="command", metavar="{compare}",
                                     title="instead of the tour")
    race = commands.add_parser(
        "compare", help="run any optimizers with any hyperparameters on a test function, "
                        "and write the table and figures",
        description="Run a subset of the optimizers on one test function, with the "
                    "hyperparameters given, and write the tour's table and figures for them.")
    _add_output_options(race, with_defaults=False)
    compare.configure(race)
    return parser


def _tour(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    for number, (title, run) in SECTIONS.items():
        if args.section in (None, number):
            print(f"\n== {number}. {title} ==")
            run(args.out, plots=not args.no_plots, device=args.device, fast=args.fast)
    print(f"\nfinished in {time.perf_counter() - began:.1f} s; files in "
          f"{os.path.abspath(args.out)}")
    return 0


def main(argv=None) -> int:
    """Parse ``argv`` (default: the command line), run the tour or compare; the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "compare" and (args.section is not None or args.fast):
        parser.error("--section and --fast choose what the tour runs; compare takes neither")
    if args.device == "cuda" and not cuda.is_available():
        parser.error("--device cuda: no usable GPU here (it needs a CUDA device and cupy: "
                     'pip install "tinygrad_optim[cuda12x]")')
    # Without matplotlib, text only rather than an error: the README's first command is
    # ``pip install . && python -m tinygrad_optim``, which installs no matplotlib.
    args.no_plots = args.no_plots or not plots_possible()
    os.makedirs(args.out, exist_ok=True)
    if args.command == "compare":
        return compare.run(args)
    return _tour(args)


if __name__ == "__main__":
    sys.exit(main())
