"""Shared fixtures: the device parametrization, the cupy choice and the hypothesis profiles."""
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


# The one reason a `cuda` case may skip under --cupy=strict: it compares with a live torch,
# an optional test dependency (CI has none; its fixture files stand in for it elsewhere).
_NO_TORCH = "could not import 'torch'"
_torch_skips = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With the strict stand-in every `cuda` case must run: a skip there is a failure."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and item.config.getoption("--cupy") == "strict"
            and item.get_closest_marker("gpu") is not None and not hasattr(report, "wasxfail")):
        if _NO_TORCH in str(report.longrepr):
            _torch_skips.append(item.nodeid)
            return
        report.outcome = "failed"
        report.longrepr = f"a gpu case skipped under --cupy=strict: {report.longrepr}"


def pytest_terminal_summary(terminalreporter, config):
    if config.getoption("--cupy") == "strict" and _torch_skips:
        terminalreporter.write_line(
            f"strict cupy stand-in: {len(_torch_skips)} gpu cases that compare with a live "
            "torch skipped (torch is not installed); any other skip failed")


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
