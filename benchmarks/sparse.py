"""SparseAdam's step on an embedding table against dense Adam's and torch's SparseAdam.

Run: ``python -m benchmarks.sparse [--rows N] [--dim D] [--touched F] [--repeat R]
[--json PATH]``. On an
N × D float32 table (1 000 000 × 64 by default) each step's gradient holds F·N random rows
(1 % by default, with repeats, as an embedding lookup of a batch gives). It times one
``step()`` of our SparseAdam with that sparse gradient, of our dense Adam with the same
gradient made dense, and, when torch is installed, of torch's SparseAdam with the same
gradient; it prints the median milliseconds and the ratios dense Adam / SparseAdam (the target
is ≥ 20) and ours / torch's SparseAdam (the target is ≤ 1.5).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

import tinygrad_optim as tg
from tinygrad_optim.optim import Adam, SparseAdam
from tinygrad_optim.sparse import sparse_coo_tensor

from ._load import around


def _median_ms(step, repeat: int) -> float:
    step()  # the first step makes the state
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _time(lib, optimizer_cls, table: np.ndarray, grad, repeat: int) -> float:
    param = lib.tensor(table, requires_grad=True)
    optimizer = optimizer_cls([param], lr=1e-3)

    def step():
        param.grad = grad  # the same gradient every step: its making is not timed
        optimizer.step()
    return _median_ms(step, repeat)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sparse",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--touched", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    results = around(lambda: _run(args))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    return results


def _run(args) -> dict:
    rng = np.random.default_rng(0)
    table = rng.standard_normal((args.rows, args.dim), dtype=np.float32)
    count = int(args.rows * args.touched)
    rows = rng.integers(0, args.rows, (1, count))
    values = rng.standard_normal((count, args.dim), dtype=np.float32)
    shape = (args.rows, args.dim)
    grad = sparse_coo_tensor(tg.tensor(rows), tg.tensor(values), shape)
    ours = _time(tg, SparseAdam, table, grad, args.repeat)
    dense = _time(tg, Adam, table, grad.to_dense(), args.repeat // 4 + 1)
    print(f"table {args.rows} x {args.dim} float32, {count} rows per step ({args.touched:.1%})")
    print(f"  SparseAdam (ours)        {ours:9.3f} ms")
    print(f"  Adam, dense grad (ours)  {dense:9.3f} ms   dense / sparse = {dense / ours:6.1f}x")
    results = {"rows": args.rows, "dim": args.dim, "touched": args.touched,
               "sparse_adam_ms": ours, "dense_adam_ms": dense, "dense_over_sparse": dense / ours}
    try:
        import torch
    except ImportError:
        print("  torch not installed: no comparison with torch.optim.SparseAdam")
        return results
    torch.set_num_threads(torch.get_num_threads())
    with torch.sparse.check_sparse_tensor_invariants(enable=False):
        grad = torch.sparse_coo_tensor(torch.from_numpy(rows), torch.from_numpy(values), shape)
        theirs = _time(torch, torch.optim.SparseAdam, table, grad, args.repeat)
    print(f"  SparseAdam (torch)       {theirs:9.3f} ms   ours / torch   = {ours / theirs:6.2f}x")
    return {**results, "torch_sparse_adam_ms": theirs, "ours_over_torch": ours / theirs}


if __name__ == "__main__":
    main()
