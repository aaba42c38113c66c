"""Shared fixtures: the device parametrization and the hypothesis profiles."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tinygrad_optim as tg

# `dev` explores more; `ci` keeps a run within budget on two cores. TG_HYPOTHESIS picks one.
settings.register_profile("dev", max_examples=200, deadline=None)
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("TG_HYPOTHESIS", "ci" if os.environ.get("CI") else "dev"))

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.fixture(params=DEVICES)
def device(request):
    """Every test that takes `device` runs on the CPU and, where a GPU is usable, on CUDA."""
    if request.param == "cuda" and not tg.cuda.is_available():
        pytest.skip("no CUDA device (cupy with a GPU) here")
    return request.param


@pytest.fixture(autouse=True)
def _no_leaked_grad_mode():
    """Fail a test that leaves grad mode switched off (global state leaking between tests)."""
    yield
    assert tg.is_grad_enabled(), "a test left grad mode disabled"


@pytest.fixture
def rng():
    return np.random.default_rng(0)
