"""Optimizer step time on a CUDA GPU against torch's CUDA optimizers, as ratios from one run.

Run: ``python -m benchmarks.gpu [--repeat R] [--size N] [--json PATH] [--allow-stand-in]``.
For each elementwise optimizer it times ``step()`` on one float32 parameter of N elements
(10M by default) on ``cuda``, with a fixed gradient, after a few warm-up steps, synchronizing
the device around every timed step; in the same run it times torch's CUDA optimizer of the same
configuration (its default path and, where torch has it, ``fused=True``) when torch sees a GPU.
It also measures the device-to-device copy bandwidth (a cupy ``a[...] = b`` of N float32) and
gives, per optimizer, the bandwidth bound (bytes the step must touch / that bandwidth) and our
time / that bound. Every number is a ratio to something measured in the same run.

Without a usable GPU it prints why and exits with status 2. ``--allow-stand-in`` lets it run on
the test suite's strict cupy stand-in (``PYTHONPATH=tests/strict_cupy``), with N = 4096 by
default, only to prove the code paths work: those numbers are meaningless.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time

import numpy as np

import tinygrad_optim as tg
import tinygrad_optim.optim as tg_optim
from tinygrad_optim import backend

from ._load import busy, load, load_line
from .optim import CONFIGS as _ALL_CONFIGS

NAMES = ("SGD(momentum=0.9)", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax",
         "ASGD", "Rprop")
# name -> (class name, kwargs, float32 arrays read + written per element), as benchmarks.optim
# counts them, so that the two benchmarks' bounds mean the same thing.
CONFIGS = {name: _ALL_CONFIGS[name] for name in NAMES}
FUSED_ON_CUDA = {"SGD", "Adagrad", "Adam", "AdamW"}  # torch 2.13's fused=True kernels
NO_FUSED = "torch has no fused kernel for it"
DEFAULT_SIZE, STAND_IN_SIZE = 10_000_000, 4096
NO_GPU = 2  # exit status without a usable GPU, so that tools/gpu_check.sh notices
COPIES = 10  # device copies per timed call when measuring the bandwidth


def _median_ms(step, sync, warmup: int, repeat: int) -> float:
    """Median milliseconds of ``repeat`` synchronized calls after ``warmup`` untimed ones.

    The device is synchronized after every call, so a time covers the kernels the call
    launched, not only their launching; the synchronize before the first timed call keeps the
    warm-up's kernels out of it.
    """
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _cupy_sync(cupy):
    device = cupy.cuda.Device(0)  # every array here lives on cuda:0
    return device.synchronize


def _copy_bandwidth(cupy, size: int, warmup: int, repeat: int) -> float:
    """Bytes per second of a device-to-device ``a[...] = b`` (one read and one write).

    Each timed call makes COPIES copies: one copy of 40 MB takes tens of microseconds on a
    current GPU, where one synchronize's own cost would visibly lower the bandwidth, and this
    bandwidth is the yardstick of every bound below.
    """
    with cupy.cuda.Device(0):
        a, b = cupy.empty(size, dtype=cupy.float32), cupy.ones(size, dtype=cupy.float32)

    def copies():
        for _ in range(COPIES):
            a[...] = b
    return 8 * size * COPIES / (_median_ms(copies, _cupy_sync(cupy), warmup, repeat) / 1e3)


def _ours(cls_name: str, kwargs: dict, grad: np.ndarray):
    """Our optimizer over one zero parameter on cuda with ``grad`` as its fixed gradient."""
    param = tg.zeros(grad.shape, device="cuda", requires_grad=True)
    param.grad = tg.tensor(grad, device="cuda")
    return getattr(tg_optim, cls_name)([param], **kwargs)


def _theirs(torch, cls_name: str, kwargs: dict, grad: np.ndarray):
    """torch's optimizer, set up as ``_ours`` sets up ours."""
    param = torch.zeros(grad.shape, device="cuda", requires_grad=True)
    param.grad = torch.from_numpy(grad).to("cuda")
    return getattr(torch.optim, cls_name)([param], **kwargs)


def _param(optimizer) -> np.ndarray:
    param = optimizer.param_groups[0]["params"][0]
    if isinstance(param, tg.Tensor):
        return param.numpy(force=True)
    return param.detach().cpu().numpy()


def _torch_status():
    """(torch, None) when torch can run on CUDA here, else (None, why not)."""
    try:
        import torch
    except ImportError as exc:
        return None, f"torch is not installed ({exc})"
    if not torch.cuda.is_available():
        return None, (f"torch {torch.__version__} has no usable CUDA "
                      "(torch.cuda.is_available() is False)")
    return torch, None


def _torch_paths(torch, cls_name, kwargs, grad, warmup, repeat, ours_param):
    """torch's default and fused median ms (None where absent), why a path failed, and the
    largest difference of torch's default parameter from ours after as many steps."""
    paths = {"default": {}}
    if cls_name in FUSED_ON_CUDA:
        paths["fused"] = {"fused": True}
    times, failed, difference = {}, {}, None
    for path, flags in paths.items():
        try:
            optimizer = _theirs(torch, cls_name, {**kwargs, **flags}, grad)
            times[path] = _median_ms(optimizer.step, torch.cuda.synchronize, warmup, repeat)
        except RuntimeError as exc:  # a torch build without this fused kernel, say
            times[path], failed[path] = None, f"torch {path} failed: {exc}"
            continue
        if path == "default":
            difference = float(np.max(np.abs(_param(optimizer) - ours_param)))
        del optimizer
    return times, failed, difference


def _ratio(ours, theirs):
    return ours / theirs if theirs else None


def _bench_one(name, torch, grad, bandwidth, args) -> dict:
    cls_name, kwargs, arrays = CONFIGS[name]
    cupy = backend._cupy()
    optimizer = _ours(cls_name, kwargs, grad)
    ours = _median_ms(optimizer.step, _cupy_sync(cupy), args.warmup, args.repeat)
    ours_param = _param(optimizer)
    del optimizer  # frees its state before torch allocates its own
    times, failed, difference = ({}, {}, None) if torch is None else _torch_paths(
        torch, cls_name, kwargs, grad, args.warmup, args.repeat, ours_param)
    bound_ms = 1e3 * 4 * arrays * grad.size / bandwidth
    return {"optimizer": name, "ours_ms": ours,
            "torch_ms": times.get("default"), "torch_fused_ms": times.get("fused"),
            "ratio": _ratio(ours, times.get("default")),
            "ratio_to_fused": _ratio(ours, times.get("fused")),
            "bytes_touched": 4 * arrays * grad.size, "bound_ms": bound_ms,
            "bound_ratio": ours / bound_ms, "max_abs_diff_vs_torch": difference,
            "torch_failed": failed,
            "torch_fused_absent": None if cls_name in FUSED_ON_CUDA else NO_FUSED}


def _cell(value, width: int, spec: str = ".3f") -> str:
    return f"{value:{width}{spec}}" if value is not None else f"{'-':>{width}}"


def _header() -> str:
    return (f"{'optimizer':<20}{'ours ms':>10}{'torch ms':>10}{'ratio':>8}{'fused ms':>10}"
            f"{'/fused':>8}{'bound ms':>10}{'/bound':>8}{'diff':>10}")


def _line(row) -> str:
    return (f"{row['optimizer']:<20}{_cell(row['ours_ms'], 10)}{_cell(row['torch_ms'], 10)}"
            f"{_cell(row['ratio'], 8, '.2f')}{_cell(row['torch_fused_ms'], 10)}"
            f"{_cell(row['ratio_to_fused'], 8, '.2f')}{_cell(row['bound_ms'], 10)}"
            f"{_cell(row['bound_ratio'], 8, '.2f')}"
            f"{_cell(row['max_abs_diff_vs_torch'], 10, '.1e')}")


def _legend() -> str:
    return ("torch ms: torch's default CUDA path; ratio: ours / that; fused ms: torch "
            "fused=True (- where torch has none); /fused: ours / that; bound ms: bytes the "
            "step must touch / the copy bandwidth above; /bound: ours / that (1.0 is the "
            "memory-bandwidth limit); diff: max |our param - torch default's| after the same "
            "steps")


def _gpu_problem(allow_stand_in: bool) -> tuple[str | None, bool]:
    """(why this run cannot go on, or None; whether the cupy in use is the strict stand-in)."""
    reason = tg.cuda.unavailable_reason()
    if reason is not None:
        return f"no usable GPU: {reason}", False
    stand_in = getattr(backend._cupy(), "STRICT_STAND_IN", False) is True
    if stand_in and not allow_stand_in:
        return ("no usable GPU: the cupy in use is the test suite's strict stand-in "
                "(tests/strict_cupy), which has no GPU; pass --allow-stand-in to run it anyway "
                "with meaningless numbers"), True
    return None, stand_in


def _count(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a median of no timings is nothing)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=_count, default=None,
                        help=f"elements of the parameter (default {DEFAULT_SIZE:,}; "
                             f"{STAND_IN_SIZE} on the stand-in)")
    parser.add_argument("--repeat", type=_count, default=15, help="timed steps per case")
    parser.add_argument("--warmup", type=_count, default=3,
                        help="untimed steps first (the first makes the state, early ones "
                             "compile kernels)")
    parser.add_argument("--json", metavar="PATH", default="benchmarks-gpu.json",
                        help="where to write the results (default: %(default)s)")
    parser.add_argument("--allow-stand-in", action="store_true",
                        help="run on the strict cupy stand-in (tests/strict_cupy) to check the "
                             "code paths; its numbers mean nothing")
    return parser


def _environment(cupy, torch, stand_in: bool) -> dict:
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "cupy": cupy.__version__, "stand_in": stand_in,
            "cuda_devices": tg.cuda.device_count()}
    properties = getattr(cupy.cuda.runtime, "getDeviceProperties", None)
    if properties is not None and not stand_in:
        name = properties(0).get("name", b"")
        info["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_gpu"] = torch.cuda.get_device_name(0)
    return info


def main(argv=None) -> dict:
    args = _parser().parse_args(argv)
    problem, stand_in = _gpu_problem(args.allow_stand_in)
    if problem is not None:
        print(problem, file=sys.stderr)
        raise SystemExit(NO_GPU)
    size = args.size or (STAND_IN_SIZE if stand_in else DEFAULT_SIZE)
    cupy = backend._cupy()
    torch, torch_missing = _torch_status()
    results = {**_environment(cupy, torch, stand_in), "size": size, "repeat": args.repeat,
               "warmup": args.warmup, "torch_missing": torch_missing, "rows": []}
    if stand_in:
        print("STAND-IN RUN: the cupy in use is the strict stand-in (numpy underneath, no GPU); "
              "it only proves the code paths work. THE NUMBERS BELOW ARE MEANINGLESS.")
    if torch_missing:
        print(f"torch columns absent: {torch_missing}; printing our times only")
    results["load_before"] = load_before = load()
    print(load_line("before", load_before))
    bandwidth = _copy_bandwidth(cupy, size, args.warmup, args.repeat)
    results["copy_bandwidth_GBps"] = bandwidth / 1e9
    print(f"cupy on cuda:0, {size:,} float32: device-to-device copy {bandwidth / 1e9:.1f} GB/s")
    grad = np.random.default_rng(0).standard_normal(size, dtype=np.float32)
    print(_header())
    for name in CONFIGS:
        row = _bench_one(name, torch, grad, bandwidth, args)
        results["rows"].append(row)
        print(_line(row))
        for note in row["torch_failed"].values():
            print(f"    {note}")
    results["load_after"] = load_after = load()
    print(load_line("after", load_after))
    results["unreliable"] = stand_in or busy(load_before, load_after)
    print(_legend())
    if stand_in:
        print("STAND-IN RUN: the numbers above are meaningless.")
    with open(args.json, "w") as out:
        json.dump(results, out, indent=2)
    print(f"results: {args.json}")
    return results


if __name__ == "__main__":
    main()
