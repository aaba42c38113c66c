"""LBFGS's registry entries, its closure-driven problems and the runner shared with torch."""
from __future__ import annotations

import functools
import pathlib
import warnings
from dataclasses import dataclass

import numpy as np

from optim_case_types import AsTensor, ErrorCase

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "lbfgs.npz"
STEPS = 5  # step() calls per run; each runs up to max_iter iterations


@dataclass(frozen=True)
class LBFGSCase:
    """One constructor configuration on one problem.

    Attributes:
        id: stable key of the case in the fixture file.
        description: what the case exercises.
        kwargs: constructor keyword arguments (the one param group uses them).
        problem: ``"rosenbrock<n>"`` (the extended Rosenbrock function in n dimensions, from
            (-1.2, 1, -1.2, 1, ...)) or ``"logistic"`` (a weight matrix and a bias).
        float32: whether float32 runs are compared too. Where the history is short or the
            valley long, float32 roundings change the trajectory within a few steps (a
            counter differs, or the points drift apart by more than 1e-3), so those cases
            are compared in float64 only (see ``RTOL``).
    """

    id: str
    description: str
    kwargs: dict
    problem: str
    float32: bool = True

    def signature(self) -> str:
        """Everything that shapes the trajectory: stored in the fixture to detect staleness."""
        return repr((self.kwargs, self.problem, STEPS))


_WOLFE = {"line_search_fn": "strong_wolfe"}

CASES: dict[str, list[LBFGSCase]] = {
    "LBFGS": [
        # The configurations torch's own suite sweeps (common_optimizers.py) ...
        LBFGSCase("default", "all defaults: 20 iterations per step, fixed steps",
                  {}, "rosenbrock2", float32=False),
        LBFGSCase("lr", "a small learning rate", {"lr": 0.01}, "rosenbrock5"),
        LBFGSCase("tensor_lr", "lr as a 0-d tensor", {"lr": AsTensor(0.1), "max_iter": 4},
                  "logistic"),
        LBFGSCase("tolerance_grad", "a gradient tolerance that stops a step early",
                  {"tolerance_grad": 1e-3, **_WOLFE}, "logistic"),
        LBFGSCase("strong_wolfe", "the line search", _WOLFE, "rosenbrock2", float32=False),
        # ... and more: history sizes, tolerances and evaluation budgets.
        LBFGSCase("wolfe_r10", "the line search in 10 dimensions, 6 iterations per step",
                  {"max_iter": 6, **_WOLFE}, "rosenbrock10", float32=False),
        LBFGSCase("history1", "a one-pair history", {"history_size": 1, "max_iter": 5,
                                                     "lr": 0.2}, "rosenbrock5", float32=False),
        LBFGSCase("history1_wolfe", "a one-pair history with the line search",
                  {"history_size": 1, "max_iter": 8, **_WOLFE}, "rosenbrock5", float32=False),
        LBFGSCase("history3", "a three-pair history", {"history_size": 3, "max_iter": 10,
                                                       "lr": 0.2}, "logistic", float32=False),
        LBFGSCase("history3_wolfe", "a three-pair history with the line search",
                  {"history_size": 3, "max_iter": 10, **_WOLFE}, "rosenbrock10",
                  float32=False),
        LBFGSCase("history100_logistic", "the default history on logistic regression",
                  {"history_size": 100, "max_iter": 10, **_WOLFE}, "logistic"),
        LBFGSCase("tolerance_change", "a change tolerance that stops steps early",
                  {"tolerance_change": 1e-4, **_WOLFE}, "rosenbrock2", float32=False),
        LBFGSCase("max_eval", "an evaluation budget smaller than the iterations need",
                  {"max_iter": 10, "max_eval": 4, **_WOLFE}, "rosenbrock5"),
        LBFGSCase("one_iteration", "one iteration per step: the first step size across steps",
                  {"max_iter": 1}, "logistic"),
    ],
}

ERROR_CASES: dict[str, list[ErrorCase]] = {
    "LBFGS": [
        ErrorCase("negative lr", {"lr": -1}, ValueError, r"^Invalid learning rate: -1$"),
        ErrorCase("negative float lr", {"lr": -0.5}, ValueError,
                  r"^Invalid learning rate: -0\.5$"),
        ErrorCase("tensor lr with two elements", {"lr": AsTensor([0.001, 0.001])}, ValueError,
                  r"^Tensor lr must be 1-element$"),
    ],
}

# Tolerances relative to the largest magnitude a recorded entry reaches. float64: dot products
# and sums are accumulated in another order than torch's (BLAS vs numpy, one rounding each)
# and x + a*y is not fused, ~1e-16 per operation; L-BFGS feeds each iteration's error into
# the next through the history, which the ill-conditioned Rosenbrock valley amplifies to
# ~1e-11 over 5 steps (measured), so 1e-8 leaves a wide margin. float32: the same effects at
# eps = 6e-8 give ~1e-5 after tens of iterations; 1e-3 keeps the test about trajectories,
# not roundings. Counters (func_evals, n_iter) must agree exactly in both.
RTOL = {"float64": 1e-8, "float32": 1e-3}


def materialize(kwargs: dict, lib) -> dict:
    return {key: lib.tensor(value.value) if isinstance(value, AsTensor) else value
            for key, value in kwargs.items()}


def problem_data(problem: str) -> list[np.ndarray]:
    """The float64 initial parameters (and, for ``logistic``, the data) of a problem."""
    if problem.startswith("rosenbrock"):
        size = int(problem[len("rosenbrock"):])
        return [np.resize([-1.2, 1.0], size)]
    rng = np.random.default_rng(20240615)
    features = rng.standard_normal((40, 3))
    labels = np.sign(features @ [1.5, -2.0, 0.5] + 0.3 + rng.standard_normal(40))
    return [0.1 * rng.standard_normal((3, 1)), np.zeros(1), features, labels]


def make_closure(lib, problem: str, params: list, data: list, optimizer):
    """A closure that zeroes the gradients, evaluates the loss and back-propagates."""
    if problem.startswith("rosenbrock"):
        def loss_fn():
            x = params[0]
            return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    else:
        # The data lives where the parameters live, in their dtype.
        features, labels = (lib.tensor(a, dtype=params[0].dtype, device=params[0].device)
                            for a in data[2:])

        def loss_fn():  # mean log(1 + exp(-y z)) with z = X w + b
            margins = (features @ params[0]).reshape(-1) + params[1]
            return lib.log(1 + lib.exp(-labels * margins)).mean()

    def closure():
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss
    return closure


def run(lib, case: LBFGSCase, dtype: str, device="cpu", steps: int = STEPS) -> dict:
    """Run ``case`` in ``lib`` (torch or tinygrad_optim) and record every step.

    Returns:
        ``{"x": flat parameters, "loss": the value step() returned, "func_evals",
        "n_iter"}``, each stacked over the steps (first axis).
    """
    data = problem_data(case.problem)
    count = 1 if case.problem.startswith("rosenbrock") else 2
    params = [lib.tensor(np.asarray(a, dtype=dtype), device=device, requires_grad=True)
              for a in data[:count]]
    optimizer = lib.optim.LBFGS(params, **materialize(case.kwargs, lib))
    closure = make_closure(lib, case.problem, params, data, optimizer)
    records = {"x": [], "loss": [], "func_evals": [], "n_iter": []}
    for _ in range(steps):
        with warnings.catch_warnings():
            # torch's own LBFGS calls float() on the loss, which requires grad: it warns.
            warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
            loss = optimizer.step(closure)
        state = optimizer.state[params[0]]
        records["x"].append(np.concatenate([_numpy(p).reshape(-1) for p in params]))
        records["loss"].append(float(loss.detach()))
        records["func_evals"].append(state["func_evals"])
        records["n_iter"].append(state["n_iter"])
    return {key: np.array(values) for key, values in records.items()}


def _numpy(tensor) -> np.ndarray:
    return np.array(tensor.detach().cpu().numpy())


@functools.lru_cache(maxsize=None)
def _fixture() -> dict:
    with np.load(FIXTURE, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def fixture_run(case: LBFGSCase, dtype: str) -> dict:
    """The committed torch record of ``case``."""
    fixture = _fixture()
    stale = "the LBFGS cases changed: rerun tests/fixtures/make_lbfgs_fixtures.py"
    assert str(fixture[f"signature/{case.id}"]) == case.signature(), stale
    keys = ("x", "loss", "func_evals", "n_iter")
    return {key: fixture[f"{case.id}/{dtype}/{key}"] for key in keys}


def assert_matches(ours: dict, reference: dict, dtype: str) -> None:
    """Counters equal; parameters and losses within ``RTOL`` of the largest magnitude."""
    np.testing.assert_array_equal(ours["func_evals"], reference["func_evals"])
    np.testing.assert_array_equal(ours["n_iter"], reference["n_iter"])
    for key in ("x", "loss"):
        scale = np.abs(reference[key]).max(initial=0.0)
        np.testing.assert_allclose(ours[key], reference[key], rtol=RTOL[dtype],
                                   atol=RTOL[dtype] * scale, err_msg=key)
