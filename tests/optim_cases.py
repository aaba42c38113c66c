"""The optimizer test registry: constructor cases, error cases and a trajectory runner."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import cases_sgd
import cases_adagrad
import cases_rmsprop
import cases_adadelta
import cases_adam
import cases_adamax
import cases_asgd
import cases_rprop
from optim_case_types import AsTensor, Case, ErrorCase  # noqa: F401  (re-exported)

# One module per optimizer holds its entries; they are merged here, in this order.
_MODULES = (cases_sgd, cases_adagrad, cases_rmsprop, cases_adadelta, cases_adam, cases_adamax,
            cases_asgd, cases_rprop)
CASES: dict[str, list[Case]] = {name: cases for module in _MODULES
                                for name, cases in module.CASES.items()}
ERROR_CASES: dict[str, list[ErrorCase]] = {name: cases for module in _MODULES
                                           for name, cases in module.ERROR_CASES.items()}


def materialize(kwargs: dict, lib) -> dict:
    """``kwargs`` with every ``AsTensor`` made a tensor of ``lib`` (torch or tinygrad_optim)."""
    return {key: lib.tensor(value.value) if isinstance(value, AsTensor) else value
            for key, value in kwargs.items()}


# ---------------------------------------------------------------------- trajectories
LR_PERIOD = 10


@dataclass(frozen=True)
class Setup:
    """Parameters, groups and gradients of a run.

    Gradients are Gaussian times a per-(step, parameter) factor of random sign and a
    magnitude between 1e-2 and 10, so they change sign and scale from step to step.
    """

    seed: int
    shapes: tuple
    groups: tuple  # parameter indices of group 0 and of group 1
    never: int  # the parameter that never receives a gradient
    sometimes: int  # the parameter that receives one only when step % 3 != 0
    steps: int
    record: tuple  # the steps after which params and state are recorded

    def data(self):
        """Initial values, gradients (float64) and the has-gradient mask [step, param]."""
        rng = np.random.default_rng(self.seed)
        init = [rng.standard_normal(shape) for shape in self.shapes]
        grads = []
        for shape in self.shapes:
            scale = rng.choice([-1.0, 1.0], self.steps) * 10.0 ** rng.uniform(-2, 1, self.steps)
            grads.append(rng.standard_normal((self.steps, *shape))
                         * scale.reshape((-1,) + (1,) * len(shape)))
        has_grad = np.ones((self.steps, len(self.shapes)), dtype=bool)
        has_grad[:, self.never] = False
        has_grad[2::3, self.sometimes] = False  # steps 3, 6, 9, ...
        return init, grads, has_grad


FIXTURE_SETUP = Setup(seed=20240613, shapes=((3, 4), (5,), (), (2, 3), (4,)),
                      groups=((0, 1), (2, 3, 4)), never=4, sometimes=3, steps=100,
                      record=(1, 2, 10, 50, 100))
# Live comparisons use other seeds and shapes than the fixtures, a size-zero one included.
LIVE_SETUP = Setup(seed=7, shapes=((7,), (2, 2, 2), (0,), (), (3, 1)),
                   groups=((0, 1, 2), (3, 4)), never=1, sometimes=4, steps=30,
                   record=(1, 15, 30))


def run(lib, optimizer_cls, case: Case, dtype: str, setup: Setup, data=None,
        device="cpu") -> dict:
    """Run ``case`` in ``lib`` (torch or tinygrad_optim, same API) and record the results.

    ``data`` is ``setup.data()`` or the same triple read back from a fixture file.

    Returns:
        ``{"param{i}": array, "state{i}.{key}": array}`` for every parameter and every state
        entry (by ``state_dict()`` index), each stacked over ``setup.record`` (first axis).
    """
    init, grads, has_grad = setup.data() if data is None else data
    params = [lib.tensor(np.asarray(a, dtype=dtype), device=device, requires_grad=True)
              for a in init]
    first, second = ([params[i] for i in group] for group in setup.groups)
    groups = [{"params": first},
              {"params": second, **materialize(case.second_group, lib)}]
    optimizer = optimizer_cls(groups, **materialize(case.kwargs, lib))
    records = []
    for step in range(1, setup.steps + 1):
        if case.lr_gamma != 1.0 and step % LR_PERIOD == 1 and step > 1:
            for group in optimizer.param_groups:
                group["lr"] *= case.lr_gamma
        for i, param in enumerate(params):
            given = has_grad[step - 1, i]
            grad = np.asarray(grads[i][step - 1], dtype=dtype)
            param.grad = lib.tensor(grad, device=device) if given else None
        optimizer.step()
        if step in setup.record:
            records.append(snapshot(optimizer, params))
    keys = records[0].keys()
    if any(record.keys() != keys for record in records):
        raise ValueError("the state entries changed between recorded steps: record later")
    return {key: np.stack([record[key] for record in records]) for key in keys}


def snapshot(optimizer, params) -> dict:
    """Copies of every parameter and every state entry, as numpy arrays."""
    out = {f"param{i}": _to_numpy(p) for i, p in enumerate(params)}
    for index, entries in optimizer.state_dict()["state"].items():
        for key, value in entries.items():
            out[f"state{index}.{key}"] = _to_numpy(value)
    return out


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        return np.array(value.detach().cpu().numpy())  # a copy, on the host
    return np.asarray(value)


def pack(result: dict) -> tuple[np.ndarray, np.ndarray]:
    """``run``'s result as a layout (``"key|dtype|shape"`` strings) and one float64 matrix.

    One matrix per case instead of one array per entry keeps the fixture files small (each
    array in an .npz costs a few hundred bytes of headers); float64 holds float32 values and
    integer counters exactly, and the layout restores their dtypes.
    """
    layout = np.array([f"{key}|{value.dtype.str}|{','.join(map(str, value.shape[1:]))}"
                       for key, value in result.items()])
    values = np.concatenate([value.reshape(len(value), -1).astype(np.float64)
                             for value in result.values()], axis=1)
    return layout, values


def unpack(layout: np.ndarray, values: np.ndarray) -> dict:
    """The inverse of ``pack``."""
    out, start = {}, 0
    for entry in layout:
        key, dtype, dims = str(entry).split("|")
        shape = tuple(int(n) for n in dims.split(",") if n)
        size = int(np.prod(shape))
        block = values[:, start:start + size]
        out[key] = block.reshape((len(values),) + shape).astype(dtype)
        start += size
    return out
