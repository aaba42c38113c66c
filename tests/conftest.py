"""Shared fixtures: the device parametrization, the cupy choice and the hypothesis profiles."""
import importlib
import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tinygrad_optim as tg
from tinygrad_optim import backend

# `dev` explores more; `ci` keeps a run within budget on two cores. TG_HYPOTHESIS picks one.
settings.register_profile("dev", max_examples=200, deadline=None)
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("TG_HYPOTHESIS", "ci" if os.environ.get("CI") else "dev"))

STRICT_CUPY = os.path.join(os.path.dirname(__file__), "strict_cupy")
# cuda:1 checks that an operation on a second GPU computes there, not on the current one.
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu),
           pytest.param("cuda:1", marks=pytest.mark.gpu)]


def pytest_addoption(parser):
    parser.addoption(
        "--cupy", choices=("installed", "strict"), default="installed",
        help="which cupy the `cuda` cases use: the installed one (they skip without a GPU) or "
             "the strict stand-in in tests/strict_cupy (they must all run and pass)")


def pytest_configure(config):
    if config.getoption("--cupy") == "strict":
        # Before anything imports cupy; subprocesses (the tour, examples) see it too.
        sys.path.insert(0, STRICT_CUPY)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [STRICT_CUPY] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        sys.modules.pop("cupy", None)
        backend._cupy_status = None


def require_cuda(count=1):
    """Skip where there are fewer GPUs; fail, naming the cause, where cupy is broken."""
    status = backend.cuda_status()
    if status.broken:
        pytest.fail(f"cupy is installed but unusable: {status.reason}", pytrace=False)
    if not status.available:
        pytest.skip(status.reason)
    if tg.cuda.device_count() < count:
        pytest.skip(f"needs {count} GPUs")


def _torch_installed() -> bool:
    try:
        importlib.import_module("torch")
    except ImportError:  # the tests' own importorskip("torch") skips on the same condition
        return False
    return True


def pytest_collection_modifyitems(config, items):
    """Under --cupy=strict without torch (an optional test dependency; CI has none), the
    `cuda` cases that compare with a live torch cannot run: they are deselected, and said
    so, rather than skipped, so that any skip left is a failure."""
    if config.getoption("--cupy") != "strict" or _torch_installed():
        return
    kept, dropped = [], []
    for item in items:
        needs_torch = "torch" in getattr(item, "fixturenames", ())
        (dropped if needs_torch and item.get_closest_marker("gpu") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        config._torch_deselected = len(dropped)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With the strict stand-in every `cuda` case must run: a skip there is a failure."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and item.config.getoption("--cupy") == "strict"
            and item.get_closest_marker("gpu") is not None and not hasattr(report, "wasxfail")):
        report.outcome = "failed"
        report.longrepr = f"a gpu case skipped under --cupy=strict: {report.longrepr}"


def pytest_terminal_summary(terminalreporter, config):
    dropped = getattr(config, "_torch_deselected", 0)
    if dropped:
        terminalreporter.write_line(
            f"strict cupy stand-in: {dropped} gpu cases that compare with a live torch were "
            "deselected (torch is not installed); every other gpu case ran, none may skip")


@pytest.fixture(params=DEVICES)
def device(request):
    """Every test that takes `device` runs on the CPU and, where a GPU is usable, on CUDA."""
    if request.param != "cpu":
        require_cuda(tg.device(request.param).index + 1 if ":" in request.param else 1)
    return request.param


@pytest.fixture
def cuda():
    """For a test that only makes sense on a GPU (mark it `gpu`): the device name."""
    require_cuda()
    return "cuda"


@pytest.fixture(autouse=True)
def _no_leaked_grad_mode():
    """Fail a test that leaves grad mode switched off (global state leaking between tests)."""
    yield
    assert tg.is_grad_enabled(), "a test left grad mode disabled"


@pytest.fixture
def rng():
    return np.random.default_rng(0)
