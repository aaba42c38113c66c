"""SparseAdam's registry entries, and the sparse-gradient runs it shares with SGD, Adagrad."""
from __future__ import annotations

import contextlib
import functools
import pathlib
from dataclasses import dataclass

import numpy as np

from optim_case_types import AsTensor, Case, ErrorCase

_GROUP = {"lr": 0.05, "betas": (0.8, 0.99)}

CASES: dict[str, list[Case]] = {
    "SparseAdam": [
        # The configurations torch's own suite sweeps (common_optimizers.py) ...
        Case("default", "all defaults", {}, _GROUP),
        Case("lr", "a larger learning rate", {"lr": 0.01}, {"eps": 1e-3}),
        Case("tensor_lr", "lr as a 0-d float32 tensor", {"lr": AsTensor(0.001)}, _GROUP),
        Case("maximize", "ascending", {"maximize": True}, _GROUP),
        # ... and more.
        Case("betas_eps", "small betas and a large eps", {"lr": 0.1, "betas": (0.5, 0.6),
                                                          "eps": 0.1}, {"maximize": True}),
    ],
}

ERROR_CASES: dict[str, list[ErrorCase]] = {
    "SparseAdam": [
        ErrorCase("zero lr", {"lr": 0.0}, ValueError, r"^Invalid learning rate: 0\.0$"),
        ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
                  r"^Tensor lr must be 1-element$"),
        ErrorCase("zero eps", {"eps": 0}, ValueError, r"^Invalid epsilon value: 0$"),
        ErrorCase("beta1 of 1", {"lr": 1e-2, "betas": (1.0, 0.0)}, ValueError,
                  r"^Invalid beta parameter at index 0: 1\.0$"),
        ErrorCase("beta2 of 1", {"betas": (0.5, 1.0)}, ValueError,
                  r"^Invalid beta parameter at index 1: 1\.0$"),
        ErrorCase("negative beta2", {"betas": (0.5, -0.1)}, ValueError,
                  r"^Invalid beta parameter at index 1: -0\.1$"),
        ErrorCase("lr is checked before eps", {"lr": 0, "eps": 0}, ValueError,
                  r"^Invalid learning rate: 0$"),
    ],
}

# Sparse-gradient configurations of the optimizers that accept sparse gradients besides
# SparseAdam (torch refuses weight decay with them; see test_sparse_optim.py).
SPARSE_CASES: dict[str, list[Case]] = {
    "SparseAdam": CASES["SparseAdam"],
    "SGD": [
        Case("plain", "no momentum", {"lr": 0.1}, {"lr": 0.05}),
        Case("maximize", "no momentum, ascending", {"lr": 0.1, "maximize": True}, {}),
        Case("momentum", "momentum", {"lr": 0.05, "momentum": 0.9}, {"momentum": 0.5}),
        Case("nesterov", "Nesterov momentum", {"lr": 0.05, "momentum": 0.9, "nesterov": True},
             {"lr": 0.02}),
        Case("dampening", "momentum with dampening", {"lr": 0.05, "momentum": 0.9,
                                                      "dampening": 0.5}, {"dampening": 0.1}),
        Case("nesterov_maximize", "Nesterov momentum, ascending",
             {"lr": 0.02, "momentum": 0.8, "nesterov": True, "maximize": True},
             {"momentum": 0.3}),
        Case("tensor_lr_momentum", "lr as a tensor, with momentum",
             {"lr": AsTensor(0.01), "momentum": 0.9}, {}),
    ],
    "Adagrad": [
        Case("default", "all defaults", {}, {"lr": 0.05}),
        Case("lr_decay", "learning-rate decay", {"lr": 0.1, "lr_decay": 0.5},
             {"lr_decay": 0.05}),
        Case("initial_accumulator", "a non-zero initial sum (the constructor's value)",
             {"lr": 0.1, "initial_accumulator_value": 0.1},
             {"initial_accumulator_value": 0.5}),
        Case("maximize", "ascending", {"lr": 0.1, "maximize": True}, {"eps": 1e-3}),
        Case("tensor_lr", "lr as a tensor, with decay", {"lr": AsTensor(0.1), "lr_decay": 0.1},
             {}),
    ],
}


@dataclass(frozen=True)
class SparseSetup:
    """Tables, groups and row-sparse gradients of a run.

    Each step, each parameter gets a gradient on 0 to ``max_rows`` rows drawn with
    replacement from a table of a few rows, so repeated rows are frequent, along with
    gradients that store nothing: parameter 0's is empty every ``empty_every`` steps.
    Parameter ``sometimes`` gets no gradient at all (None) every third step.
    """

    seed: int
    shapes: tuple  # the tables; the first axis is the sparse one
    groups: tuple  # parameter indices of group 0 and of group 1
    sometimes: int
    empty_every: int
    max_rows: int
    steps: int
    record: tuple

    def data(self):
        """``(init, offsets, indices, values, has_grad)``; step s of parameter i stored
        ``indices[i][offsets[i][s]:offsets[i][s + 1]]`` and the same rows of ``values[i]``."""
        rng = np.random.default_rng(self.seed)
        init = [rng.standard_normal(shape) for shape in self.shapes]
        offsets, indices, values = [], [], []
        for i, shape in enumerate(self.shapes):
            counts = rng.integers(0, self.max_rows + 1, self.steps)
            if i == 0:
                counts[self.empty_every - 1::self.empty_every] = 0
            offsets.append(np.concatenate([[0], np.cumsum(counts)]))
            indices.append(rng.integers(0, shape[0], offsets[-1][-1]).astype(np.int64))
            scale = np.repeat(rng.choice([-1.0, 1.0], self.steps)
                              * 10.0 ** rng.uniform(-2, 1, self.steps), counts)
            values.append(rng.standard_normal((offsets[-1][-1], *shape[1:]))
                          * scale.reshape((-1,) + (1,) * (len(shape) - 1)))
        has_grad = np.ones((self.steps, len(self.shapes)), dtype=bool)
        has_grad[2::3, self.sometimes] = False
        return init, offsets, indices, values, has_grad


FIXTURE_SETUP = SparseSetup(seed=20240614, shapes=((6, 3), (5,), (4, 2, 2)),
                            groups=((0,), (1, 2)), sometimes=2, empty_every=7, max_rows=8,
                            steps=60, record=(1, 2, 7, 30, 60))
LIVE_SETUP = SparseSetup(seed=11, shapes=((9, 2), (3, 4), (2,)), groups=((0, 1), (2,)),
                         sometimes=1, empty_every=5, max_rows=6, steps=50, record=(1, 25, 50))


def sparse_coo_tensor(lib):
    """``lib.sparse_coo_tensor``: torch's, or this library's (top level or its module)."""
    if hasattr(lib, "sparse_coo_tensor"):
        return lib.sparse_coo_tensor
    from tinygrad_optim.sparse import sparse_coo_tensor as make
    return make


def run(lib, optimizer_cls, case: Case, dtype: str, setup: SparseSetup, data=None,
        device="cpu") -> dict:
    """Run ``case`` with ``setup``'s sparse gradients in ``lib`` and record the results.

    Returns:
        ``{"param{i}": array, "state{i}.{key}": array}`` as ``optim_cases.run`` does; a
        sparse state entry (SGD's momentum buffer) is recorded dense.
    """
    data = setup.data() if data is None else data
    params = [lib.tensor(np.asarray(a, dtype=dtype), device=device, requires_grad=True)
              for a in data[0]]
    first, second = ([params[i] for i in group] for group in setup.groups)
    groups = [{"params": first}, {"params": second, **_materialize(case.second_group, lib)}]
    optimizer = optimizer_cls(groups, **_materialize(case.kwargs, lib))
    records = []
    # Opting in to torch's invariant checks silences the warning its sparse code gives.
    checks = (lib.sparse.check_sparse_tensor_invariants() if lib.__name__ == "torch"
              else contextlib.nullcontext())
    with checks:
        for step in range(setup.steps):
            _step(lib, optimizer, params, step, data, dtype, device)
            if step + 1 in setup.record:
                records.append(snapshot(optimizer, params))
    keys = records[0].keys()
    if any(record.keys() != keys for record in records):
        raise ValueError("the state entries changed between recorded steps: record later")
    return {key: np.stack([record[key] for record in records]) for key in keys}


def _step(lib, optimizer, params, step: int, data, dtype: str, device) -> None:
    """Give each parameter its sparse gradient (or None) of ``step``, then step."""
    _, offsets, indices, values, has_grad = data
    make = sparse_coo_tensor(lib)
    for i, param in enumerate(params):
        lo, hi = offsets[i][step], offsets[i][step + 1]
        rows = lib.tensor(np.asarray(indices[i][lo:hi]).reshape(1, -1), device=device)
        grad = lib.tensor(np.asarray(values[i][lo:hi], dtype=dtype), device=device)
        param.grad = make(rows, grad, param.shape) if has_grad[step, i] else None
    optimizer.step()


def _materialize(kwargs: dict, lib) -> dict:
    return {key: lib.tensor(value.value) if isinstance(value, AsTensor) else value
            for key, value in kwargs.items()}


def snapshot(optimizer, params) -> dict:
    """Copies of every parameter and state entry as numpy arrays (sparse ones made dense)."""
    out = {f"param{i}": _to_numpy(p) for i, p in enumerate(params)}
    for index, entries in optimizer.state_dict()["state"].items():
        for key, value in entries.items():
            out[f"state{index}.{key}"] = _to_numpy(value)
    return out


def _to_numpy(value) -> np.ndarray:
    if getattr(value, "is_sparse", False):
        value = value.to_dense()
    if hasattr(value, "detach"):
        return np.array(value.detach().cpu().numpy())  # a copy, on the host
    return np.asarray(value)


FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "sparse.npz"
# Tolerances relative to the largest magnitude an entry reaches, as in test_optimizer.py:
# about one rounding per operation per step (numpy rounds a*y before adding where torch's
# CPU kernels fuse, and SGD sums a coalesced momentum buffer where torch adds its entries
# one by one), adding up like a random walk over 60 steps: ~1e-15 in float64, ~1e-6 at
# worst in float32 (measured: a few ulps).
RTOL = {"float64": 1e-12, "float32": 1e-6}


@functools.lru_cache(maxsize=None)
def _fixture() -> dict:
    with np.load(FIXTURE, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def fixture_run(name: str, case: Case, dtype: str) -> tuple:
    """``(data, reference)`` of ``case`` from the committed torch trajectories."""
    import optim_cases  # here: optim_cases may import this module (its registry)
    fixture = _fixture()
    stale = "the sparse cases changed: rerun tests/fixtures/make_sparse_fixtures.py"
    assert str(fixture["meta/setup"]) == repr(FIXTURE_SETUP), stale
    assert str(fixture[f"signature/{name}/{case.id}"]) == case.signature(), stale
    count = len(FIXTURE_SETUP.shapes)
    data = tuple([fixture[f"{part}/{i}"] for i in range(count)]
                 for part in ("init", "offsets", "indices", "values")) + (fixture["has_grad"],)
    reference = optim_cases.unpack(fixture[f"{name}/{case.id}/{dtype}/layout"],
                                   fixture[f"{name}/{case.id}/{dtype}/values"])
    return data, reference


def assert_matches(ours: dict, reference: dict, dtype: str) -> None:
    """Every parameter and state entry of two runs agrees within ``RTOL``, dtypes exactly."""
    assert ours.keys() == reference.keys()
    for key, expected in reference.items():
        assert ours[key].dtype == expected.dtype, key
        scale = np.abs(expected).max(initial=0.0)
        np.testing.assert_allclose(ours[key], expected, rtol=RTOL[dtype],
                                   atol=RTOL[dtype] * scale, err_msg=key)
