"""Optimizer step time against torch CPU's default path, as ratios measured in one run.

Run: ``python -m benchmarks.optim [--size N] [--many K:M] [--repeat R] [--only NAME] [--json
PATH]``. For each optimizer configuration it times ``step()`` with fixed float32 gradients on
two layouts: one parameter of N elements (10M by default) and K parameters of M elements (200
of 50K by default), in tinygrad_optim and in torch (its default single-tensor path on the CPU,
and also ``foreach=True`` and, where torch has it on the CPU, ``fused=True``). For the
many-parameter layout it also times our optimizer given one ``FlatParameter`` over the same
parameters. It also times a naive numpy implementation (``benchmarks/naive.py``, checked to
compute the same). It prints milliseconds, the ratios ours / torch's default path, ours / torch
fused and naive / ours, and our effective memory bandwidth (bytes one step touches / time)
against a plain numpy copy and a numpy in-place add measured on the same machine in the same
run.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

import tinygrad_optim as tg
import tinygrad_optim.optim as tg_optim

from . import naive
from ._load import around

# name -> (class name, kwargs, float32 arrays read + written per element by one step).
# E.g. SGD with momentum reads grad, buffer and param and writes buffer and param: 5 arrays.
CONFIGS = {
    "SGD(momentum=0.9)": ("SGD", {"lr": 0.01, "momentum": 0.9}, 5),
    "Adagrad": ("Adagrad", {"lr": 0.01}, 5),
    "RMSprop": ("RMSprop", {"lr": 0.01}, 5),
    "RMSprop(centered, mom)": ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}, 9),
    "Adadelta": ("Adadelta", {}, 7),
    "Adam": ("Adam", {"lr": 1e-3}, 7),
    "Adam(amsgrad=True)": ("Adam", {"lr": 1e-3, "amsgrad": True}, 9),
    "AdamW": ("AdamW", {"lr": 1e-3}, 7),
    "Adamax": ("Adamax", {"lr": 2e-3}, 7),
    "ASGD": ("ASGD", {"lr": 0.01}, 4),  # ax is a copy of θ until t0: written, not read
    "ASGD(t0=0)": ("ASGD", {"lr": 0.01, "t0": 0}, 5),
    "Rprop": ("Rprop", {"lr": 0.01}, 7),
}
FUSED_ON_CPU = {"SGD", "Adagrad", "Adam", "AdamW"}  # torch 2.13's fused=True CPU kernels


def _median(fn, repeat: int) -> float:
    """Median of ``repeat`` timed calls after one warm-up call (seconds)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _step(lib, optim_module, cls_name, kwargs, grads, flat=False):
    """An optimizer of ``lib`` over one parameter per gradient; returns its ``step``.

    ``flat``: the parameters go to the optimizer as one ``FlatParameter`` (ours only).
    """
    params = []
    for grad in grads:
        param = lib.zeros(grad.shape, requires_grad=True)
        param.grad = lib.from_numpy(grad)
        params.append(param)
    if flat:
        params = [optim_module.FlatParameter(params)]
    return getattr(optim_module, cls_name)(params, **kwargs).step


def _bandwidths(size: int, repeat: int) -> dict:
    """Bytes per second of a numpy copy (1 read, 1 write) and in-place add (2 reads, 1 write)."""
    a, b = np.ones(size, np.float32), np.ones(size, np.float32)
    copy = _median(lambda: np.copyto(a, b), repeat)
    add = _median(lambda: np.add(a, b, out=a), repeat)
    return {"copy": 8 * size / copy, "add": 12 * size / add}


def _torch_times(torch, cls_name, kwargs, grads, repeat) -> dict:
    """Seconds per step of torch's default, foreach and (where it exists) fused paths."""
    if torch is None:
        return {}
    paths = {"default": {}, "foreach": {"foreach": True}}
    if cls_name in FUSED_ON_CPU:
        paths["fused"] = {"fused": True}
    return {path: _median(_step(torch, torch.optim, cls_name, {**kwargs, **flags}, grads),
                          repeat) for path, flags in paths.items()}


def _check_naive(cls_name, kwargs) -> None:
    """The naive baseline computes what the library computes (else its time means nothing)."""
    grads = [np.random.default_rng(1).standard_normal(64).astype(np.float32)]
    ours, baseline = _step(tg, tg_optim, cls_name, kwargs, grads), naive.make_step(
        cls_name, kwargs, grads)
    for _ in range(3):
        ours()
        baseline()
    np.testing.assert_allclose(ours.__self__.param_groups[0]["params"][0].numpy(force=True),
                               baseline.params[0], rtol=1e-4, atol=1e-6)


def _ms(seconds):
    return seconds * 1e3 if seconds else None


def _row(name, layout, ours, theirs, baseline, touched_bytes, bandwidths) -> dict:
    default, fused = theirs.get("default"), theirs.get("fused")
    return {"optimizer": name, "layout": layout, "ours_ms": ours * 1e3,
            "naive_numpy_ms": baseline * 1e3, "naive_over_ours": baseline / ours,
            "torch_ms": _ms(default), "torch_foreach_ms": _ms(theirs.get("foreach")),
            "torch_fused_ms": _ms(fused),
            "ratio": ours / default if default else None,
            "ratio_to_fused": ours / fused if fused else None,
            "GBps": touched_bytes / ours / 1e9,
            "of_copy_bandwidth": touched_bytes / ours / bandwidths["copy"],
            "bound_ratio": ours / (touched_bytes / bandwidths["add"])}


def _cell(value, width: int) -> str:
    return f"{value:{width}.2f}" if value else f"{'-':>{width}}"


def _print(row) -> None:
    torch_cells = "".join(_cell(row[key], width) for key, width in (
        ("torch_ms", 9), ("ratio", 7), ("torch_foreach_ms", 9), ("torch_fused_ms", 9),
        ("ratio_to_fused", 7)))
    print(f"{row['optimizer']:<26}{row['layout']:<15}{row['ours_ms']:9.2f}{torch_cells}"
          f"{row['naive_numpy_ms']:9.2f}{row['naive_over_ours']:7.2f}"
          f"{row['GBps']:8.1f}{row['of_copy_bandwidth']:9.2f}{row['bound_ratio']:8.2f}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.optim",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--many", default="200:50000", help="K:M, K parameters of M elements")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", help="run only configurations whose name contains this")
    parser.add_argument("--json", help="also write the results to this file")
    return parser


def _run(args) -> dict:
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: printing our times only")
    rng = np.random.default_rng(0)
    count, each = (int(n) for n in args.many.split(":"))
    many = [rng.standard_normal(each, np.float32) for _ in range(count)]
    layouts = {f"1x{args.size:.0e}": [rng.standard_normal(args.size, np.float32)],
               f"{count}x{each:.0e}": many}
    bandwidths = _bandwidths(args.size, args.repeat)
    print(f"numpy on {args.size:,} float32: copy {bandwidths['copy'] / 1e9:.1f} GB/s, "
          f"in-place add {bandwidths['add'] / 1e9:.1f} GB/s")
    print(f"{'optimizer':<26}{'layout':<15}{'ours ms':>9}{'torch ms':>9}{'ratio':>7}"
          f"{'foreach':>9}{'fused':>9}{'/fused':>7}{'naive':>9}{'speed':>7}{'GB/s':>8}"
          f"{'of copy':>9}{'bound':>8}")
    results = {"size": args.size, "many": args.many,
               "bandwidth_GBps": {k: v / 1e9 for k, v in bandwidths.items()}, "rows": []}
    for name, (cls_name, kwargs, arrays) in CONFIGS.items():
        if args.only and args.only not in name:
            continue
        for layout, grads in layouts.items():
            ours = _median(_step(tg, tg_optim, cls_name, kwargs, grads), args.repeat)
            theirs = _torch_times(torch, cls_name, kwargs, grads, args.repeat)
            _check_naive(cls_name, kwargs)
            baseline = _median(naive.make_step(cls_name, kwargs, grads), args.repeat)
            touched = 4 * arrays * sum(g.size for g in grads)
            rows = [_row(name, layout, ours, theirs, baseline, touched, bandwidths)]
            if len(grads) > 1:  # the same parameters as one FlatParameter, against the same
                flat = _median(_step(tg, tg_optim, cls_name, kwargs, grads, flat=True),
                               args.repeat)
                rows.append(_row(name, layout + " flat", flat, theirs, baseline, touched,
                                 bandwidths))
            for row in rows:
                _print(row)
                results["rows"].append(row)
    print("flat: our optimizer given one FlatParameter over the same parameters (the torch "
          "and naive columns repeat the layout's own)")
    print("torch ms: its default path; ratio: ours / that; foreach, fused: torch's other paths "
          "(ms); /fused: ours / fused; naive: the naive numpy step (benchmarks/naive.py, ms); "
          "speed: naive / ours; of copy: our GB/s / numpy copy's; bound: our time / "
          "(bytes touched at numpy in-place add's bandwidth)")
    return results


def main(argv=None) -> dict:
    args = _parser().parse_args(argv)
    results = around(lambda: _run(args))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
