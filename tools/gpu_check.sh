#!/usr/bin/env bash
# The one check for a GPU machine (cupy, torch preinstalled, no network): probes, tests, benchmark.
#
# Usage: bash tools/gpu_check.sh [OUTDIR]     (default OUTDIR: gpu_check_logs)
#
# Steps, each under its own `timeout`, each logged to OUTDIR/<n>-<step>.log:
#   1 environment  nvidia-smi, versions, a warning-free `import cupy`, the library sees a GPU
#   2 smoke        every optimizer 20 steps on cpu and cuda (float64, float32), save/load
#   3 gpu-tests    python -m pytest -m gpu: must pass with no skip but the second-GPU ones
#   4 benchmark    python -m benchmarks.gpu --repeat 20 (JSON in OUTDIR/benchmarks-gpu.json)
# It installs nothing. The summary (step, status, seconds) goes to stdout and
# OUTDIR/summary.txt; the exit status is non-zero when any step did not pass.
# Environment: PYTHON (default python3).
set -u

OUTDIR_ARG="${1:-gpu_check_logs}"
# Resolved before the cd below, so that a relative OUTDIR means the caller's folder.
mkdir -p "$OUTDIR_ARG" || exit 1
OUTDIR="$(cd "$OUTDIR_ARG" && pwd)"
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
PYTHON="${PYTHON:-python3}"
export OUTDIR PYTHON PYTHONUNBUFFERED=1

# Seconds per step. Their sum, plus the few seconds each may take to be killed, must stay
# under the 8 minutes the whole check is given; a step never gets more than what is left.
BUDGET=440
KILL_AFTER=3
STEPS=("environment:30" "smoke:80" "gpu-tests:240" "benchmark:90")

# ------------------------------------------------------------------------------ step 1
step_environment() {
    local failed=0 out
    if command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi || { echo "FAIL: nvidia-smi exited with $?"; failed=1; }
    else
        echo "nvidia-smi: not found (continuing: cupy decides whether there is a GPU)"
    fi
    echo "--- $PYTHON --version"
    "$PYTHON" --version || return 1
    echo "--- package versions"
    # Every package the later steps need; a missing one is named, never installed.
    "$PYTHON" -c '
import importlib, sys
missing = []
for name in ("numpy", "cupy", "torch", "pytest", "hypothesis"):
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        missing.append(name)
        print(f"{name}: MISSING ({exc!r})")
    else:
        version = getattr(module, "__version__", "(no __version__)")
        print(f"{name} {version} from {module.__file__}")
if "torch" not in missing:
    import torch
    print(f"torch.cuda.is_available(): {torch.cuda.is_available()}")
names = ", ".join(missing)
sys.exit(f"FAIL: missing {names} (this check installs nothing)" if missing else 0)
' || failed=1
    echo "--- $PYTHON -W error -c 'import cupy' (must print nothing)"
    # cupy warns on import when two cupy wheels are installed or a CUDA library cannot be
    # preloaded, and then may compute wrongly: -W error makes such a warning fatal.
    out="$("$PYTHON" -W error -c 'import cupy' 2>&1)"
    local rc=$?
    if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
        printf '%s\n' "$out"
        echo "FAIL: importing cupy failed or printed something (exit status $rc)"
        failed=1
    else
        echo "ok: no output, no warning"
    fi
    echo "--- what tinygrad_optim sees"
    "$PYTHON" -c '
import sys
import tinygrad_optim as tg
from tinygrad_optim import backend
reason, available = tg.cuda.unavailable_reason(), tg.cuda.is_available()
print(f"unavailable_reason(): {reason!r}")
print(f"is_available(): {available}; device_count(): {tg.cuda.device_count()}")
if reason is not None or not available:
    sys.exit("FAIL: the library cannot use the GPU")
cupy = backend._cupy()
print(f"cupy {cupy.__version__} from {cupy.__file__}")
if getattr(cupy, "STRICT_STAND_IN", False):
    sys.exit("FAIL: the cupy in use is the strict stand-in (tests/strict_cupy), not a GPU")
' || failed=1
    return "$failed"
}

# ------------------------------------------------------------------------------ step 2
step_smoke() {
    # Read from stdin, so the repository root (the current folder) is on sys.path.
    "$PYTHON" - <<'PY'
"""Smoke probes: every optimizer on cpu and on cuda from identical data, then save/load."""
import os
import sys
import tempfile
import traceback

import numpy as np

import tinygrad_optim as tg
from tinygrad_optim import optim

STEPS = 20
# rel = max |cpu - cuda| / max |cpu| over a whole tensor (a max-norm): an element that merely
# passes near zero cannot blow it up.
LIMITS = {"float64": 1e-10, "float32": 1e-4}
CONFIGS = {
    "SGD(momentum=0.9)": ("SGD", {"lr": 0.01, "momentum": 0.9}),
    "SGD(nesterov, wd)": ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True,
                                  "weight_decay": 0.01}),
    "Adagrad": ("Adagrad", {"lr": 0.1}),
    "RMSprop": ("RMSprop", {"lr": 0.01}),
    "RMSprop(centered, mom)": ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    "Adadelta": ("Adadelta", {"lr": 1.0}),
    "Adam": ("Adam", {"lr": 0.01}),
    "Adam(amsgrad)": ("Adam", {"lr": 0.01, "amsgrad": True}),
    "AdamW": ("AdamW", {"lr": 0.01}),
    "Adamax": ("Adamax", {"lr": 0.02}),
    "ASGD(t0=5)": ("ASGD", {"lr": 0.01, "t0": 5}),  # t0=5: the averaging runs too
    "Rprop": ("Rprop", {"lr": 0.01}),
}
DATA = np.random.default_rng(0)
START, TARGET, SCALE = (DATA.standard_normal((8, 16)), DATA.standard_normal((8, 16)),
                        DATA.uniform(0.5, 2.0, (8, 16)))
ROWS = DATA.integers(0, 50, (STEPS, 4, 6))  # the rows each SparseAdam step looks up


def differences(a, b):
    """(max abs, max-norm relative) difference of two arrays."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size == 0:
        return 0.0, 0.0
    gap = float(np.max(np.abs(a - b)))
    return gap, gap / max(float(np.max(np.abs(a))), np.finfo(np.float64).tiny)


def host(value):
    return value.numpy(force=True) if isinstance(value, tg.Tensor) else np.asarray(value)


def state_arrays(optimizer):
    """Every tensor in the optimizer's state, by a readable key, on the host."""
    arrays = {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            if isinstance(value, tg.Tensor):
                arrays[f"{index}.{key}"] = host(value)
    return arrays


def run_elementwise(cls_name, kwargs, device, dtype):
    dtype = getattr(tg, dtype)
    param = tg.tensor(START, dtype=dtype, device=device, requires_grad=True)
    target, scale = (tg.tensor(a, dtype=dtype, device=device) for a in (TARGET, SCALE))
    optimizer = getattr(optim, cls_name)([param], **kwargs)
    for _ in range(STEPS):
        optimizer.zero_grad()
        ((param - target) ** 2 * scale).sum().backward()
        optimizer.step()
    return {"param": host(param)}, state_arrays(optimizer)


def run_sparse_adam(device, dtype):
    tg.manual_seed(0)  # the table is drawn on the CPU, then moved: the same on both
    table = tg.nn.Embedding(50, 8, sparse=True, dtype=getattr(tg, dtype)).to(device)
    optimizer = optim.SparseAdam(table.parameters(), lr=0.01)
    for rows in ROWS:
        optimizer.zero_grad()
        ((table(tg.tensor(rows, device=device)) - 0.5) ** 2).sum().backward()
        optimizer.step()
    return {"weight": host(table.weight)}, state_arrays(optimizer)


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def run_lbfgs(device, dtype):
    x = tg.tensor([-1.2, 1.0, -0.5, 0.8], dtype=getattr(tg, dtype), device=device,
                  requires_grad=True)
    # One iteration per step: 20 steps stop mid-descent, where a device difference shows,
    # rather than at the minimum, where both would agree whatever happened on the way.
    optimizer = optim.LBFGS([x], lr=1, max_iter=1, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss
    for _ in range(STEPS):
        loss = optimizer.step(closure)
    return {"param": host(x), "loss": host(loss)}, {}


def worst_state(cpu_state, cuda_state):
    """The state tensor that differs most (relatively) between the devices, and how much."""
    if cpu_state.keys() != cuda_state.keys():
        raise AssertionError(f"state keys differ: {sorted(cpu_state)} != {sorted(cuda_state)}")
    gaps = {key: differences(cpu_state[key], cuda_state[key]) for key in cpu_state}
    key = max(gaps, key=lambda k: gaps[k][1], default=None)
    return (f"state[{key}]", gaps[key]) if key else None


def compare(name, run):
    """Run on cpu and cuda in both dtypes; True when every difference is within its limit."""
    ok = True
    for dtype, limit in LIMITS.items():
        cpu_values, cpu_state = run("cpu", dtype)
        cuda_values, cuda_state = run("cuda", dtype)
        worst = {what: differences(cpu_values[what], cuda_values[what]) for what in cpu_values}
        state = worst_state(cpu_state, cuda_state)
        if state:
            worst[state[0]] = state[1]
        within = all(rel <= limit for _, rel in worst.values())
        ok &= within
        cells = "; ".join(f"{what}: abs {gap:.1e} rel {rel:.1e}"
                          for what, (gap, rel) in worst.items())
        print(f"{'PASS' if within else 'FAIL'}  {name:<24}{dtype:<8} {cells} (limit {limit:g})")
    return ok


def tensors_of(tree, where=""):
    """Every tensor in a state_dict, with where it sits."""
    if isinstance(tree, tg.Tensor):
        yield where, tree
    elif isinstance(tree, dict):
        for key, value in tree.items():
            yield from tensors_of(value, f"{where}[{key!r}]")
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            yield from tensors_of(value, f"{where}[{i}]")


def adam_steps(param, optimizer, count):
    for _ in range(count):
        optimizer.zero_grad()
        (param ** 2).sum().backward()
        optimizer.step()


def check_loaded(path, location, expected):
    """The state_dict loaded with ``map_location=location`` is all there, on it, equal."""
    device = tg.device("cuda", 0) if location == "cuda" else tg.device(location)
    found = dict(tensors_of(tg.load(path, map_location=location)))
    bad = [where for where, t in found.items()
           if t.device != device or not np.array_equal(host(t), expected.get(where))]
    ok = found.keys() == expected.keys() and not bad
    detail = "" if ok else f"; wrong device or value: {bad or 'keys differ'}"
    print(f"{'PASS' if ok else 'FAIL'}  save on cuda, load map_location={location!r}: "
          f"{len(found)} tensors on {device}{detail}")
    return ok


def save_load():
    """An Adam state_dict saved from cuda loads on cpu and on cuda, equal value for value,
    and a fresh optimizer resumed from it takes the very step the original takes."""
    param = tg.tensor(START, dtype=tg.float32, device="cuda", requires_grad=True)
    optimizer = optim.Adam([param], lr=0.01, amsgrad=True)
    adam_steps(param, optimizer, 3)
    expected = {where: host(t) for where, t in tensors_of(optimizer.state_dict())}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "adam.pt")
        tg.save(optimizer.state_dict(), path)
        ok = check_loaded(path, "cpu", expected) & check_loaded(path, "cuda", expected)
        resumed_param = tg.tensor(host(param), device="cuda", requires_grad=True)
        resumed = optim.Adam([resumed_param], lr=0.01, amsgrad=True)
        resumed.load_state_dict(tg.load(path, map_location="cuda"))
    adam_steps(param, optimizer, 1)
    adam_steps(resumed_param, resumed, 1)
    same = resumed_param.device == param.device and np.array_equal(host(param),
                                                                   host(resumed_param))
    print(f"{'PASS' if same else 'FAIL'}  resume on cuda from the loaded state_dict: the next "
          f"step {'matches' if same else 'differs from'} the original optimizer's")
    return ok and same


def probe(name, check):
    """One probe; an exception is its failure, reported, and the others still run."""
    try:
        return check()
    except Exception:
        print(f"FAIL  {name}: raised")
        traceback.print_exc(file=sys.stdout)
        return False


def main():
    reason = tg.cuda.unavailable_reason()
    if reason is not None:
        print(f"FAIL  no usable GPU: {reason}")
        return 1
    print(f"{STEPS} steps each on cpu and cuda; rel = max|cpu - cuda| / max|cpu| per tensor")
    results = [probe(name, lambda name=name, c=c, k=k: compare(
                   name, lambda device, dtype: run_elementwise(c, k, device, dtype)))
               for name, (c, k) in CONFIGS.items()]
    results.append(probe("SparseAdam", lambda: compare("SparseAdam(Embedding)",
                                                       run_sparse_adam)))
    results.append(probe("LBFGS", lambda: compare("LBFGS(strong_wolfe)", run_lbfgs)))
    results.append(probe("save/load", save_load))
    failed = results.count(False)
    print(f"{'PASS' if not failed else 'FAIL'}: {len(results) - failed} of {len(results)} "
          "probes passed")
    return 1 if failed else 0


sys.exit(main())
PY
}

# ------------------------------------------------------------------------------ step 3
step_gpu_tests() {
    local log rc skipped allowed
    log="$(mktemp)"
    # CI=true: the suite's `ci` hypothesis profile. The shell's timeout bounds the run
    # (pytest-timeout may not be installed). -rs lists every skip with its reason.
    CI=true "$PYTHON" -m pytest -m gpu -q -p no:cacheprovider -x -rs 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    # Skips: the total from pytest's last line; allowed, the cases that need a second GPU
    # (cuda:1), which skip legitimately on a one-GPU machine. -rs lines read
    # "SKIPPED [3] tests/x.py:12: needs 2 GPUs".
    skipped="$(grep -E ' in [0-9.]+s' "$log" | tail -n 1 | grep -oE '[0-9]+ skipped' \
               | grep -oE '[0-9]+')"
    skipped="${skipped:-0}"
    allowed="$(grep -E '^SKIPPED \[[0-9]+\] .*needs (2|two) GPUs' "$log" \
               | sed -E 's/^SKIPPED \[([0-9]+)\].*/\1/' | awk '{n += $1} END {print n + 0}')"
    rm -f "$log"
    echo "--- skipped: $skipped in all, $allowed of them needing a second GPU (allowed)"
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: pytest exited with $rc"
        return 1
    fi
    if [ "$skipped" -gt "$allowed" ]; then
        echo "FAIL: $((skipped - allowed)) GPU test(s) skipped for another reason (see above)"
        return 1
    fi
    echo "PASS"
}

# ------------------------------------------------------------------------------ step 4
step_benchmark() {
    # Exits 2 without a usable GPU (the stand-in included): a failure here.
    "$PYTHON" -m benchmarks.gpu --repeat 20 --json "$OUTDIR/benchmarks-gpu.json"
}

export -f step_environment step_smoke step_gpu_tests step_benchmark

# ------------------------------------------------------------------------------ driver
SUMMARY="$OUTDIR/summary.txt"
START=$SECONDS
FAILED=0
ROWS=()

record() {  # step status seconds
    ROWS+=("$(printf '%-14s %-8s %7s' "$1" "$2" "$3")")
}

run_step() {  # number name limit
    local number=$1 name=$2 limit=$3 left log began rc status
    left=$((BUDGET - (SECONDS - START)))
    [ "$limit" -gt "$left" ] && limit=$left
    if [ "$limit" -lt 5 ]; then
        echo "== $number $name: not run, ${limit}s left of the check's ${BUDGET}s"
        record "$name" "NOT-RUN" 0
        FAILED=1
        return
    fi
    log="$OUTDIR/$number-$name.log"
    echo "== $number $name (at most ${limit}s; log: $log)"
    began=$SECONDS
    timeout --kill-after="$KILL_AFTER" "$limit" bash -u -c "step_${name//-/_}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    case "$rc" in
        0) status=PASS ;;
        124 | 137) status=TIMEOUT; echo "TIMEOUT: $name ran past ${limit}s" | tee -a "$log" ;;
        *) status=FAIL ;;
    esac
    [ "$status" = PASS ] || FAILED=1
    record "$name" "$status" "$((SECONDS - began))"
}

number=0
for entry in "${STEPS[@]}"; do
    number=$((number + 1))
    run_step "$number" "${entry%%:*}" "${entry##*:}"
done

{
    printf '%-14s %-8s %7s\n' step status seconds
    printf '%s\n' "${ROWS[@]}"
    printf '%-14s %-8s %7s\n' overall "$([ "$FAILED" = 0 ] && echo PASS || echo FAIL)" \
        "$((SECONDS - START))"
} > "$SUMMARY"
echo "== summary ($SUMMARY)"
cat "$SUMMARY"
exit "$FAILED"
