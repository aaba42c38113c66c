"""Optimizer step time against torch CPU's default path, as ratios measured in one run.

Run: ``python -m benchmarks.optim [--size N] [--repeat R] [--json PATH]``. For each optimizer
configuration it times ``step()`` on one float32 parameter of N elements (10M by default)
with a fixed gradient, in tinygrad_optim and in torch (its default single-tensor path on the
CPU), and prints milliseconds and the ratio ours / torch. It also prints the effective
bandwidth of our step against a numpy in-place add on the same machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

import tinygrad_optim as tg
import tinygrad_optim.optim as tg_optim

# name -> (class name, kwargs, bytes touched per element by one step in float32)
# SGD with momentum reads grad and buffer and param, writes buffer and param: 5 x 4 bytes.
CONFIGS = {
    "SGD(momentum=0.9)": ("SGD", {"lr": 0.01, "momentum": 0.9}, 20),
}


def _median(fn, repeat: int) -> float:
    """Median of ``repeat`` timed calls after one warm-up call (seconds)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ours(cls_name, kwargs, grad):
    param = tg.tensor(np.zeros_like(grad), requires_grad=True)
    param.grad = tg.from_numpy(grad)
    opt = getattr(tg_optim, cls_name)([param], **kwargs)
    return opt.step


def _torch(torch, cls_name, kwargs, grad):
    param = torch.zeros(grad.shape, requires_grad=True)
    param.grad = torch.from_numpy(grad)
    opt = getattr(torch.optim, cls_name)([param], **kwargs)  # foreach=None: single-tensor
    return opt.step


def _add_bandwidth(size: int, repeat: int) -> float:
    """Bytes per second of ``a += b`` (reads 2 arrays, writes 1) on float32."""
    a, b = np.ones(size, np.float32), np.ones(size, np.float32)
    seconds = _median(lambda: np.add(a, b, out=a), repeat)
    return 12 * size / seconds


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: printing our times only")
    grad = np.random.default_rng(0).standard_normal(args.size).astype(np.float32)
    bandwidth = _add_bandwidth(args.size, args.repeat)
    print(f"numpy in-place add: {bandwidth / 1e9:.1f} GB/s on {args.size:,} float32 elements")
    print(f"{'optimizer':<22}{'ours ms':>10}{'torch ms':>10}{'ratio':>8}{'of bound':>10}")
    results = {"size": args.size, "add_bandwidth_GBps": bandwidth / 1e9, "rows": []}
    for name, (cls_name, kwargs, nbytes) in CONFIGS.items():
        ours = _median(_ours(cls_name, kwargs, grad), args.repeat)
        theirs = _median(_torch(torch, cls_name, kwargs, grad), args.repeat) if torch else None
        bound = nbytes * args.size / bandwidth  # time at the measured memory bandwidth
        ratio = f"{ours / theirs:8.2f}" if theirs else f"{'-':>8}"
        print(f"{name:<22}{ours * 1e3:10.2f}{(theirs or 0) * 1e3:10.2f}{ratio}"
              f"{ours / bound:10.2f}")
        results["rows"].append({"optimizer": name, "ours_ms": ours * 1e3,
                                "torch_ms": theirs * 1e3 if theirs else None,
                                "ratio": ours / theirs if theirs else None,
                                "ratio_to_bandwidth_bound": ours / bound})
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
