"""Autograd overhead against torch CPU: a chain of tiny ops, and one MLP training step.

The MLP step is also written by hand in numpy, without autograd (``numpy_mlp_case``): what
no numpy library can beat, timed in the same run, so the table shows how much of the gap to
torch is ours and how much is numpy's (its BLAS).

Run ``python -m benchmarks.autograd [--json PATH] [--repeat N] [--profile]`` from the
repository root; ``--profile`` also prints where tinygrad_optim spends the time (cProfile).
Each case is warmed up, then timed ``repeat`` times with ``time.perf_counter``; the table
shows the best and the median run. The ratio to torch compares the best runs: other load on
the machine only ever adds time, so the minimum is the steadiest estimate of the cost itself
(the medians show how noisy the run was). torch is optional: without it only
tinygrad_optim's column is filled.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import time

import numpy as np

import tinygrad_optim as tg
import tinygrad_optim.nn as tnn
import tinygrad_optim.nn.functional as tF

from ._load import around

try:
    import torch
except ImportError:  # the benchmark still measures tinygrad_optim alone
    torch = None

CHAIN_STEPS = 500  # each step is one mul and one add: a 1000-op chain
MLP_SIZES = (784, 256, 256, 10)
BATCH = 64
LR = 0.01


def measure(fn, repeat: int, number: int, warmup: int = 3) -> dict:
    """Seconds per call of ``fn``: best and median of ``repeat`` runs of ``number`` calls."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return {"best": min(runs), "median": statistics.median(runs)}


# ---------------------------------------------------------------- (1) tiny-op chain
def chain_case(lib):
    """Forward and backward of ``y = y * 1.0001 + 0.0001`` repeated on a 1-element float32."""
    x = lib.tensor([1.0], dtype=lib.float32, requires_grad=True)

    def run():
        y = x
        for _ in range(CHAIN_STEPS):
            y = y * 1.0001 + 0.0001
        y.backward()
        x.grad = None
    return run


# ---------------------------------------------------------------- (2) MLP training step
def mlp_data(seed=0):
    """Weights (torch's layout), inputs and labels, as numpy arrays shared by both libraries."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        layers.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                       rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    x = rng.standard_normal((BATCH, MLP_SIZES[0])).astype(np.float32)
    y = rng.integers(0, MLP_SIZES[-1], BATCH)
    return layers, x, y


def mlp_case(lib, nn, F, data):
    """One step: forward, cross entropy, backward, and SGD under no_grad (same code for both)."""
    layers, x_np, y_np = data
    modules = []
    for weight, bias in layers:
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        with lib.no_grad():
            linear.weight.copy_(lib.tensor(weight))
            linear.bias.copy_(lib.tensor(bias))
        modules += [linear, nn.ReLU()]
    model = nn.Sequential(*modules[:-1])
    params = list(model.parameters())
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    losses = []

    def step():
        loss = F.cross_entropy(model(x), y)
        for p in params:
            p.grad = None
        loss.backward()
        with lib.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-LR)
        losses.append(loss.item())
    return step, losses


def numpy_mlp_case(data):
    """The same step written by hand in numpy, no autograd: the floor for a numpy library.

    Forward with each layer as ``(W @ h.T).T`` (OpenBLAS's faster layout here), the
    cross-entropy gradient ``softmax - one_hot``, three GEMMs and a ReLU mask per layer
    backward, and ``W -= lr * gW``: nothing a general autograd library could leave out.
    """
    layers, x, y = data
    weights = [w.copy() for w, _ in layers]
    biases = [b.copy() for _, b in layers]
    rows = np.arange(len(y))
    losses = []

    def step():
        inputs, h = [x], x
        for i, (weight, bias) in enumerate(zip(weights, biases)):
            h = (weight @ h.T).T + bias
            if i < len(weights) - 1:
                np.maximum(h, 0, out=h)
            inputs.append(h)
        shifted = h - h.max(axis=1, keepdims=True)
        exps = np.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        losses.append(float((np.log(sums[:, 0]) - shifted[rows, y]).mean()))
        g = exps / sums
        g[rows, y] -= 1
        g /= len(y)
        for i in reversed(range(len(weights))):
            grad_w, grad_b = g.T @ inputs[i], g.sum(axis=0)
            if i:
                g = g @ weights[i]
                g *= inputs[i] > 0
            weights[i] -= LR * grad_w
            biases[i] -= LR * grad_b
    return step, losses


# ---------------------------------------------------------------- driver
def machine() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "nproc": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__ if torch else None,
            "torch_threads": torch.get_num_threads() if torch else None}


def run(repeat: int) -> dict:
    results = {"machine": machine(), "cases": {}}
    chain_ops = 2 * CHAIN_STEPS
    data = mlp_data()
    cases = {
        "tiny-op chain fwd+bwd": (chain_ops, 1, lambda lib, nn, F: chain_case(lib)),
        "MLP 784-256-256-10 step": (1, 5, lambda lib, nn, F: mlp_case(lib, nn, F, data)[0]),
    }
    libraries = [("tinygrad_optim", (tg, tnn, tF))]
    if torch is not None:
        libraries.append(("torch", (torch, torch.nn, torch.nn.functional)))
    for name, (ops, number, build) in cases.items():
        row = {"ops": ops}
        for lib_name, modules in libraries:
            row[lib_name] = measure(build(*modules), repeat, number)
        results["cases"][name] = row
    floor, _ = numpy_mlp_case(data)
    results["cases"]["MLP 784-256-256-10 step"]["numpy_by_hand"] = measure(floor, repeat, 5)
    results["mlp_losses_match"] = _losses_match(data, libraries)
    fresh, floor_losses = numpy_mlp_case(data)
    for _ in range(3):
        fresh()
    ours, our_losses = mlp_case(tg, tnn, tF, data)
    for _ in range(3):
        ours()
    results["numpy_by_hand_losses_match"] = bool(np.allclose(floor_losses, our_losses,
                                                             rtol=1e-5))
    return results


def _losses_match(data, libraries) -> bool | None:
    """Whether three steps give torch's losses: the two sides time the same computation."""
    if len(libraries) < 2:
        return None
    curves = []
    for _, modules in libraries:
        step, losses = mlp_case(*modules, data)
        for _ in range(3):
            step()
        curves.append(losses)
    return bool(np.allclose(curves[0], curves[1], rtol=1e-5))


def table(results: dict) -> str:
    lines = [f"{'case':<26} {'unit':<7} {'tinygrad_optim':>22} {'torch':>22} {'ratio':>7}",
             f"{'':<26} {'':<7} {'best / median':>22} {'best / median':>22} {'(best)':>7}"]
    for name, row in results["cases"].items():
        per_op = row["ops"] > 1
        unit, scale = ("us/op", 1e6 / row["ops"]) if per_op else ("ms", 1e3)
        cells = []
        for lib in ("tinygrad_optim", "torch"):
            t = row.get(lib)
            cells.append(f"{t['best'] * scale:9.2f} / {t['median'] * scale:9.2f}" if t else
                         f"{'-':>22}")
        ratio = (f"{row['tinygrad_optim']['best'] / row['torch']['best']:6.2f}x"
                 if "torch" in row else f"{'-':>7}")
        lines.append(f"{name:<26} {unit:<7} {cells[0]:>22} {cells[1]:>22} {ratio:>7}")
    floor = results["cases"]["MLP 784-256-256-10 step"]["numpy_by_hand"]
    torch_mlp = results["cases"]["MLP 784-256-256-10 step"].get("torch")
    lines.append(f"{'MLP step, numpy by hand':<26} {'ms':<7} {floor['best'] * 1e3:9.2f} / "
                 f"{floor['median'] * 1e3:9.2f}"
                 + (f"{'':>23} {floor['best'] / torch_mlp['best']:6.2f}x" if torch_mlp else "")
                 + "  (no autograd: the floor for numpy)")
    m = results["machine"]
    torch_text = (f"torch {m['torch']} ({m['torch_threads']} threads)" if m["torch"]
                  else "torch not installed")
    lines.append(f"machine: {m['cpu']}, {m['nproc']} cpus, python {m['python']}, numpy "
                 f"{m['numpy']}, {torch_text}")
    if results["mlp_losses_match"] is not None:
        lines.append(f"MLP losses equal torch's over 3 steps: {results['mlp_losses_match']}")
    lines.append("MLP losses of the numpy-by-hand step equal ours over 3 steps: "
                 f"{results['numpy_by_hand_losses_match']}")
    return "\n".join(lines)


def profile(top: int = 15) -> str:
    """cProfile of tinygrad_optim's two cases, the functions with the most own time first."""
    out = io.StringIO()
    for name, run, calls in [("tiny-op chain", chain_case(tg), 20),
                             ("MLP step", mlp_case(tg, tnn, tF, mlp_data())[0], 50)]:
        run()  # warm-up outside the profile
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [run() for _ in range(calls)])
        out.write(f"--- {name}: {calls} calls, top {top} by own time\n")
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.autograd",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--repeat", type=int, default=21, help="timed runs per case")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of tinygrad_optim's hot path")
    args = parser.parse_args(argv)
    results = around(lambda: run(args.repeat))
    print(table(results))
    if args.profile:
        print(profile())
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    return results


if __name__ == "__main__":
    main()
