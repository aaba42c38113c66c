"""``python -m benchmarks``: every benchmark in one run, one table each, and one JSON file.

Run: ``python -m benchmarks [--json PATH] [--repeat R]``. It runs, in order,
``benchmarks.optim`` (every optimizer, one 10M-element parameter and 200 of 50K, against
torch's default/foreach/fused CPU paths and a naive numpy step), ``benchmarks.sparse``
(SparseAdam against dense Adam on a 1M × 64 table, 1 % of rows touched) and
``benchmarks.autograd`` (tiny-op overhead and an MLP training step against torch), and writes
their results under the keys ``optim``, ``sparse`` and ``autograd`` (default file:
``benchmarks.json``).
"""
from __future__ import annotations

import argparse
import json
import platform

import numpy as np

from . import autograd, optim, sparse


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", default="benchmarks.json",
                        help="where to write the results (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=9, help="timed steps per case")
    args = parser.parse_args(argv)
    repeat = ["--repeat", str(args.repeat)]
    results = {"python": platform.python_version(), "numpy": np.__version__}
    print("== optimizers ==")
    results["optim"] = optim.main(repeat)
    print("\n== SparseAdam ==")
    results["sparse"] = sparse.main(repeat)
    print("\n== autograd ==")
    results["autograd"] = autograd.main(repeat)
    with open(args.json, "w") as out:
        json.dump(results, out, indent=2)
    print(f"\nresults: {args.json}")
    return results


if __name__ == "__main__":
    main()
