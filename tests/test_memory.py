"""A step in the steady state allocates nothing in proportion to the parameter's size.

The kernels run over cache-sized blocks (``optim/_blocks.py``), so their temporaries are a
few blocks big whatever the parameter; state buffers are made once, on the first step.
numpy reports its array allocations to tracemalloc, so the peak it traces during a step is
what the step allocated.
"""
import tracemalloc

import pytest

import tinygrad_optim as tg

SIZE = 1 << 23  # 32 MiB of float32: eight 1 MiB blocks per thread

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr_decay": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("Adadelta", {"weight_decay": 0.1}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {}),
    ("Adamax", {"weight_decay": 0.1, "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"t0": 0, "weight_decay": 0.1}),
    ("Rprop", {}),
]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=lambda c: str(c))
def test_steady_state_step_allocates_less_than_a_quarter_of_the_parameter(name, kwargs):
    param = tg.zeros(SIZE, requires_grad=True)
    param.grad = tg.ones(SIZE)
    optimizer = getattr(tg.optim, name)([param], **kwargs)
    for _ in range(3):  # state made, and ASGD past its first steps (averaging with t0=0)
        optimizer.step()
    tracemalloc.start()
    try:
        optimizer.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < param.numel() * 4 / 4, f"{peak / 2**20:.1f} MiB allocated by one step"
