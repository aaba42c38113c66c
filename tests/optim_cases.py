"""The optimizer test registry: constructor cases, error cases and a trajectory runner."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class AsTensor:
    """A hyperparameter given as a tensor: made by ``lib.tensor(value)`` in either library."""

    value: float | list

    def __repr__(self):
        return f"tensor({self.value!r})"


@dataclass(frozen=True)
class Case:
    """One constructor configuration, run on two param groups.

    Attributes:
        id: stable key of the case in the fixture file.
        description: what the case exercises.
        kwargs: constructor keyword arguments (group 0 uses them as they are).
        second_group: hyperparameters that group 1 sets for itself.
        lr_gamma: every ``LR_PERIOD`` steps each group's lr is multiplied by this, as a step
            scheduler would; 1 leaves lr alone.
    """

    id: str
    description: str
    kwargs: dict
    second_group: dict = field(default_factory=dict)
    lr_gamma: float = 1.0

    def signature(self) -> str:
        """Everything that shapes the trajectory: stored in the fixture to detect staleness."""
        return repr((self.kwargs, self.second_group, self.lr_gamma))


@dataclass(frozen=True)
class ErrorCase:
    """Constructor kwargs that torch rejects on a valid parameter list."""

    description: str
    kwargs: dict
    exception: type
    match: str  # a regex for the message, which is torch's


_SGD_GROUP = {"lr": 0.05}

CASES: dict[str, list[Case]] = {
    "SGD": [
        # The configurations torch's own suite sweeps (common_optimizers.py) ...
        Case("default", "all defaults", {}, _SGD_GROUP),
        Case("lr", "a larger learning rate", {"lr": 1e-2}, {"lr": 0.03, "momentum": 0.5}),
        Case("tensor_lr", "lr as a 0-d float32 tensor (steps by float32(0.001))",
             {"lr": AsTensor(0.001)}, _SGD_GROUP),
        Case("wd", "weight decay", {"weight_decay": 0.5}, {"lr": 0.05, "weight_decay": 0.1}),
        Case("momentum", "momentum", {"momentum": 0.9}, {"lr": 0.05, "momentum": 0.5}),
        Case("wd_maximize", "weight decay while maximizing",
             {"weight_decay": 0.1, "maximize": True}, _SGD_GROUP),
        Case("dampening", "momentum with dampening", {"momentum": 0.9, "dampening": 0.5},
             {"lr": 0.05, "dampening": 0.1}),
        Case("momentum_wd", "momentum with weight decay", {"momentum": 0.9, "weight_decay": 0.1},
             {"lr": 0.05, "momentum": 0}),
        Case("nesterov_wd", "Nesterov momentum with weight decay",
             {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
             {"lr": 0.05, "momentum": 0.6}),
        # ... and more.
        Case("nesterov_wd_maximize", "Nesterov momentum, weight decay and maximize",
             {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1,
              "maximize": True}, {"lr": 0.02, "weight_decay": 0.01}),
        Case("nesterov", "plain Nesterov momentum", {"lr": 0.01, "momentum": 0.5,
                                                     "nesterov": True}, _SGD_GROUP),
        Case("dampening_wd_maximize", "dampening, weight decay and maximize together",
             {"lr": 0.01, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01,
              "maximize": True}, {"lr": 0.02, "momentum": 0.95, "dampening": 0}),
        Case("momentum_lr_schedule", "momentum while lr halves every LR_PERIOD steps",
             {"lr": 0.05, "momentum": 0.9}, {"lr": 0.1, "weight_decay": 0.05}, lr_gamma=0.5),
        Case("tensor_lr_1d_momentum", "lr as a 1-element 1-d tensor, with momentum",
             {"lr": AsTensor([0.01]), "momentum": 0.9}, {"momentum": 0.3}),
    ],
}

ERROR_CASES: dict[str, list[ErrorCase]] = {
    "SGD": [
        ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("negative tensor lr", {"lr": AsTensor(-0.5)}, ValueError,
                  r"^Invalid learning rate: -0\.5$"),
        ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
                  r"^Tensor lr must be 1-element$"),
        ErrorCase("negative momentum", {"lr": 1e-2, "momentum": -0.5}, ValueError,
                  r"^Invalid momentum value: -0\.5$"),
        ErrorCase("negative weight decay", {"weight_decay": -1e-3}, ValueError,
                  r"^Invalid weight_decay value: -0\.001$"),
        ErrorCase("nesterov without momentum", {"nesterov": True}, ValueError,
                  r"^Nesterov momentum requires a momentum and zero dampening$"),
        ErrorCase("nesterov with dampening", {"momentum": 0.9, "dampening": 0.1,
                                              "nesterov": True}, ValueError,
                  r"^Nesterov momentum requires a momentum and zero dampening$"),
        ErrorCase("lr is checked before momentum", {"lr": -1, "momentum": -1}, ValueError,
                  r"^Invalid learning rate: -1$"),
        ErrorCase("momentum is checked before nesterov", {"momentum": -1, "nesterov": True},
                  ValueError, r"^Invalid momentum value: -1$"),
    ],
}


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
