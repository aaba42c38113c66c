"""Tests of LBFGS: torch parity step for step, its errors, its state, resuming and convergence."""
import doctest
import warnings

import numpy as np
import pytest

import cases_lbfgs as cases
import tinygrad_optim as tg
from cases_lbfgs import CASES, ERROR_CASES
from tinygrad_optim.optim import LBFGS
from tinygrad_optim.optim import _line_search
from tinygrad_optim.optim import lbfgs as lbfgs_module

LBFGS_CASES = CASES["LBFGS"]
DTYPE_CASES = [pytest.param(case, dtype, id=f"{case.id}-{dtype}") for case in LBFGS_CASES
               for dtype in (("float64", "float32") if case.float32 else ("float64",))]
LIBS = ["tinygrad_optim", pytest.param("torch", marks=[pytest.mark.torch])]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _rosenbrock_closure(optimizer, x):
    def closure():
        optimizer.zero_grad()
        loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
        loss.backward()
        return loss
    return closure


def _rosenbrock(lib, start=(-1.2, 1.0, -1.2), **kwargs):
    x = lib.tensor(start, dtype=lib.float64, requires_grad=True)
    optimizer = lib.optim.LBFGS([x], **kwargs)
    return x, optimizer, _rosenbrock_closure(optimizer, x)


def _step(optimizer, closure):
    with warnings.catch_warnings():  # torch's LBFGS calls float() on a loss requiring grad
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
        return optimizer.step(closure)


# ---------------------------------------------------------------------- parity with torch
@pytest.mark.parametrize("case, dtype", DTYPE_CASES)
def test_lbfgs_matches_torch_fixture(case, dtype, device):
    ours = cases.run(tg, case, dtype, device)
    cases.assert_matches(ours, cases.fixture_run(case, dtype), dtype)


@pytest.mark.torch
@pytest.mark.parametrize("case, dtype", DTYPE_CASES)
def test_lbfgs_matches_live_torch(torch, case, dtype):
    cases.assert_matches(cases.run(tg, case, dtype), cases.run(torch, case, dtype), dtype)


def _state(optimizer, x) -> dict:
    """Every state entry as a type name and its values as a flat float64 array."""
    out = {}
    for key, value in optimizer.state_dict()["state"][0].items():
        items = value if isinstance(value, list) else [value]
        arrays = [np.asarray(v.detach().numpy() if hasattr(v, "detach") else v,
                             dtype=np.float64).reshape(-1) for v in items if v is not None]
        out[key] = (type(value).__name__, [type(v).__name__ for v in items],
                    np.concatenate(arrays) if arrays else np.zeros(0))
    return out


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", [{"max_iter": 1}, {"max_iter": 4, "history_size": 2},
                                    {"max_iter": 5, "line_search_fn": "strong_wolfe"}],
                         ids=["first_iteration", "history2", "strong_wolfe"])
def test_lbfgs_every_state_entry_matches_torch(torch, kwargs):
    states = []
    for lib in (tg, torch):
        x, optimizer, closure = _rosenbrock(lib, **kwargs)
        for _ in range(3):
            _step(optimizer, closure)
        states.append(_state(optimizer, x))
    ours, theirs = states
    assert list(ours) == list(theirs)  # the same keys, in torch's order
    for key, (kind, item_kinds, values) in theirs.items():
        assert ours[key][:2] == (kind, item_kinds), key
        # float64, 3 to 15 iterations: a few roundings per iteration (see cases_lbfgs.RTOL).
        np.testing.assert_allclose(ours[key][2], values, rtol=1e-10, err_msg=key)


def test_lbfgs_first_iteration_scales_the_gradient_by_its_l1_norm():
    x, optimizer, closure = _rosenbrock(tg, start=(0.5, 0.5), max_iter=1, lr=0.7)
    loss = optimizer.step(closure)
    # Hand math at (0.5, 0.5): f = 100 (0.25)^2 + 0.25 = 6.5, g = (-51, 50), |g|_1 = 101,
    # so the step is x - 0.7 / 101 * g; a second step() would no longer scale by 1/|g|_1.
    assert loss.item() == pytest.approx(6.5)
    np.testing.assert_allclose(x.detach().numpy(), [0.5 + 0.7 * 51 / 101, 0.5 - 0.7 * 50 / 101],
                               rtol=1e-15)
    assert optimizer.state[x]["t"].item() == pytest.approx(0.7 / 101, rel=1e-15)


def test_lbfgs_two_loop_equals_the_dense_bfgs_inverse_hessian():
    rng = np.random.default_rng(1)
    grad = rng.standard_normal(4)
    pairs = [(rng.standard_normal(4), rng.standard_normal(4)) for _ in range(3)]
    pairs = [(y, s if y @ s > 0 else -s) for y, s in pairs]  # positive curvature
    y_last, s_last = pairs[-1]
    h = (y_last @ s_last) / (y_last @ y_last)
    inverse = h * np.eye(4)
    for y, s in pairs:  # H = (I - rho s y^T) H (I - rho y s^T) + rho s s^T, oldest first
        rho = 1 / (y @ s)
        left = np.eye(4) - rho * np.outer(s, y)
        inverse = left @ inverse @ left.T + rho * np.outer(s, s)
    direction, _ = lbfgs_module.two_loop(grad, [y for y, _ in pairs], [s for _, s in pairs],
                                         [1 / (y @ s) for y, s in pairs], h)
    np.testing.assert_allclose(direction, -inverse @ grad, rtol=1e-12)


def test_lbfgs_cubic_interpolate_finds_the_minimum_of_a_cubic():
    # f(x) = x^3 - 3x has its local minimum at x = 1; f' = 3x^2 - 3.
    def f(x): return x ** 3 - 3 * x
    def df(x): return 3 * x ** 2 - 3
    assert _line_search.cubic_interpolate(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0)) == \
        pytest.approx(1.0, rel=1e-14)
    # Clamped to the bounds; the middle of the bounds when the cubic has no minimiser.
    assert _line_search.cubic_interpolate(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0),
                                          bounds=(1.5, 3.0)) == 1.5
    assert _line_search.cubic_interpolate(0.0, 0.0, 1.0, 1.0, 2.0, 5.0) == 0.5


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("case", ERROR_CASES["LBFGS"],
                         ids=[c.description for c in ERROR_CASES["LBFGS"]])
@pytest.mark.parametrize("lib_name", LIBS)
def test_lbfgs_rejects_invalid_hyperparameters(lib_name, case):
    lib = pytest.importorskip(lib_name)
    with pytest.raises(case.exception, match=case.match):
        lib.optim.LBFGS([lib.zeros(2, requires_grad=True)],
                        **cases.materialize(case.kwargs, lib))


@pytest.mark.parametrize("lib_name", LIBS)
def test_lbfgs_refuses_two_param_groups(lib_name):
    lib = pytest.importorskip(lib_name)
    groups = [{"params": [lib.zeros(2, requires_grad=True)]},
              {"params": [lib.ones(2, requires_grad=True)], "lr": 0.1}]
    with pytest.raises(ValueError, match=r"^LBFGS doesn't support per-parameter options "
                                         r"\(parameter groups\)$"):
        lib.optim.LBFGS(groups)


@pytest.mark.parametrize("lib_name", LIBS)
def test_lbfgs_step_after_add_param_group_fails(lib_name):
    lib = pytest.importorskip(lib_name)
    x, optimizer, closure = _rosenbrock(lib)
    optimizer.add_param_group({"params": [lib.zeros(1, requires_grad=True)]})
    with pytest.raises(AssertionError, match=r"^Expected exactly one param_group, but got 2$"):
        optimizer.step(closure)


@pytest.mark.parametrize("lib_name", LIBS)
def test_lbfgs_step_requires_a_closure(lib_name):
    lib = pytest.importorskip(lib_name)
    _, optimizer, _ = _rosenbrock(lib)
    with pytest.raises(TypeError, match=r"^LBFGS\.step\(\) missing 1 required positional "
                                        r"argument: 'closure'$"):
        optimizer.step()
    with pytest.raises(TypeError, match=r"^'NoneType' object is not callable$"):
        optimizer.step(None)


@pytest.mark.parametrize("lib_name", LIBS)
def test_lbfgs_unknown_line_search_fails_only_when_a_search_starts(lib_name):
    lib = pytest.importorskip(lib_name)
    x, optimizer, closure = _rosenbrock(lib, start=(1.0, 1.0), line_search_fn="armijo")
    _step(optimizer, closure)  # the minimum: the gradient is 0, no search is needed
    with lib.no_grad():
        x.sub_(0.5)
    with pytest.raises(RuntimeError, match=r"^only 'strong_wolfe' is supported$"):
        _step(optimizer, closure)
    assert optimizer.state[x]["func_evals"] == 2 and optimizer.state[x]["n_iter"] == 1


# ---------------------------------------------------------------------- behaviour
@pytest.mark.parametrize("lib_name", LIBS)
def test_lbfgs_defaults_and_max_eval(lib_name):
    lib = pytest.importorskip(lib_name)
    x = lib.zeros(2, requires_grad=True)
    group = lib.optim.LBFGS([x], max_iter=7).param_groups[0]
    assert [k for k in group if k != "params"] == [
        "lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size",
        "line_search_fn"]
    assert (group["lr"], group["max_eval"], group["history_size"]) == (1, 8, 100)
    assert lib.optim.LBFGS([x], max_iter=7, max_eval=3).param_groups[0]["max_eval"] == 3


@pytest.mark.torch
def test_lbfgs_repr_matches_torch(torch):
    assert repr(LBFGS([tg.zeros(2, requires_grad=True)], lr=0.5)) == \
        repr(torch.optim.LBFGS([torch.zeros(2, requires_grad=True)], lr=0.5))


def test_lbfgs_step_returns_the_first_closure_value_unchanged():
    x, optimizer, closure = _rosenbrock(tg)
    first = []

    def recording_closure():
        loss = closure()
        first.append(loss)
        return loss
    assert optimizer.step(recording_closure) is first[0]
    assert len(first) == optimizer.state[x]["func_evals"] > 1
    assert first[0].grad_fn is not None  # evaluated with grad on, inside a no_grad step


def test_lbfgs_optimal_start_touches_no_other_state():
    x, optimizer, closure = _rosenbrock(tg, start=(1.0, 1.0))
    optimizer.step(closure)
    assert optimizer.state[x] == {"func_evals": 1, "n_iter": 0}
    assert x.tolist() == [1.0, 1.0]


def test_lbfgs_flattens_several_params_and_leaves_unused_ones_alone():
    # Rosenbrock in (a, b) split over two tensors, and a third tensor the loss never uses.
    a, b = tg.tensor([-1.2], requires_grad=True), tg.tensor([1.0], requires_grad=True)
    unused = tg.tensor([3.0, 4.0], requires_grad=True)
    joint = tg.tensor([-1.2, 1.0], requires_grad=True)
    split_opt = LBFGS([a, unused, b], line_search_fn="strong_wolfe", max_iter=5)
    joint_opt = LBFGS([joint], line_search_fn="strong_wolfe", max_iter=5)

    def split_closure():
        split_opt.zero_grad()
        loss = (100 * (b - a ** 2) ** 2 + (1 - a) ** 2).sum()
        loss.backward()
        return loss
    split_opt.step(split_closure)
    joint_opt.step(_rosenbrock_closure(joint_opt, joint))
    assert unused.tolist() == [3.0, 4.0] and unused.grad is None
    assert [a.item(), b.item()] == joint.tolist()  # the same arithmetic, bit for bit
    assert split_opt.state[a]["d"].shape == (4,)  # zeros stand in for the missing gradient


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_resume_from_file_equals_straight_run(tmp_path, device, line_search_fn):
    kwargs = {"max_iter": 4, "history_size": 3, "line_search_fn": line_search_fn}
    start = (-1.2, 1.0, -1.2, 1.0)
    straight = tg.tensor(start, dtype=tg.float64, device=device, requires_grad=True)
    straight_opt = LBFGS([straight], **kwargs)
    for _ in range(6):
        straight_opt.step(_rosenbrock_closure(straight_opt, straight))

    first = tg.tensor(start, dtype=tg.float64, device=device, requires_grad=True)
    opt = LBFGS([first], **kwargs)
    for _ in range(3):
        opt.step(_rosenbrock_closure(opt, first))
    tg.save({"x": first.detach(), "optimizer": opt.state_dict()}, tmp_path / "ckpt")
    saved = tg.load(tmp_path / "ckpt")
    resumed = saved["x"].requires_grad_()
    opt = LBFGS([resumed], lr=123.0)  # hyperparameters come from the file
    opt.load_state_dict(saved["optimizer"])
    for _ in range(3):
        opt.step(_rosenbrock_closure(opt, resumed))
    for key in ("n_iter", "func_evals"):
        assert opt.state[resumed][key] == straight_opt.state[straight][key]
    np.testing.assert_array_equal(resumed.cpu().detach().numpy(),
                                  straight.cpu().detach().numpy())


def test_lbfgs_state_survives_deepcopy_and_load_state_dict():
    x, optimizer, closure = _rosenbrock(tg, max_iter=3)
    optimizer.step(closure)
    twin_x = tg.tensor(x.tolist(), dtype=tg.float64, requires_grad=True)
    twin = LBFGS([twin_x])
    twin.load_state_dict(optimizer.state_dict())
    optimizer.step(closure)
    twin.step(_rosenbrock_closure(twin, twin_x))
    assert twin_x.tolist() == x.tolist()
    assert twin.state[twin_x]["old_dirs"][0] is not optimizer.state[x]["old_dirs"][0]


@pytest.mark.parametrize("dims", [2, 6])
def test_lbfgs_strong_wolfe_converges_on_rosenbrock(dims):
    # With the default tolerance_change (1e-9 on the loss) torch and this library both stop
    # near 2e-5 from the minimum; tighter tolerances let the search finish the valley.
    x, optimizer, closure = _rosenbrock(tg, start=tuple(np.resize([-1.2, 1.0], dims)),
                                        line_search_fn="strong_wolfe", max_iter=100,
                                        tolerance_grad=1e-10, tolerance_change=1e-14)
    optimizer.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), np.ones(dims), rtol=0, atol=1e-6)
    assert optimizer.state[x]["func_evals"] < 100  # a quasi-Newton rate, not a crawl


def test_lbfgs_keeps_float32_float32():
    x = tg.tensor([-1.2, 1.0, 0.5], requires_grad=True)
    optimizer = LBFGS([x], line_search_fn="strong_wolfe", max_iter=5)
    optimizer.step(_rosenbrock_closure(optimizer, x))
    state = optimizer.state[x]
    assert x.dtype == tg.float32
    assert {state[key].dtype for key in ("d", "H_diag", "prev_flat_grad")} == {tg.float32}
    assert {t.dtype for key in ("old_dirs", "old_stps", "ro") for t in state[key]} == \
        {tg.float32}


def test_lbfgs_docstring_has_the_algorithm_and_a_runnable_example():
    assert ".. math::" in LBFGS.__doc__ and "Nocedal" in LBFGS.__doc__
    failed, attempted = doctest.testmod(lbfgs_module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0
