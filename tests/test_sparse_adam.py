"""Tests of SparseAdam: torch parity with sparse gradients, its errors, and its cost."""
import tracemalloc

import numpy as np
import pytest

import cases_sparse_adam as cases
import tinygrad_optim as tg
from cases_sparse_adam import CASES, ERROR_CASES, FIXTURE_SETUP, LIVE_SETUP
from tinygrad_optim.optim import SparseAdam

make_sparse = cases.sparse_coo_tensor(tg)
SPARSE_ADAM_CASES = CASES["SparseAdam"]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _rows_grad(lib, rows, values, shape):
    return cases.sparse_coo_tensor(lib)(lib.tensor([rows]), lib.tensor(values), shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", SPARSE_ADAM_CASES, ids=[c.id for c in SPARSE_ADAM_CASES])
def test_sparse_adam_matches_torch_fixture(case, dtype, device):
    data, reference = cases.fixture_run("SparseAdam", case, dtype)
    ours = cases.run(tg, SparseAdam, case, dtype, FIXTURE_SETUP, data, device)
    cases.assert_matches(ours, reference, dtype)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", SPARSE_ADAM_CASES, ids=[c.id for c in SPARSE_ADAM_CASES])
def test_sparse_adam_matches_live_torch(torch, case, dtype):
    data = LIVE_SETUP.data()
    reference = cases.run(torch, torch.optim.SparseAdam, case, dtype, LIVE_SETUP, data)
    ours = cases.run(tg, SparseAdam, case, dtype, LIVE_SETUP, data)
    cases.assert_matches(ours, reference, dtype)


@pytest.mark.parametrize("case", ERROR_CASES["SparseAdam"],
                         ids=[c.description for c in ERROR_CASES["SparseAdam"]])
@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_sparse_adam_rejects_invalid_hyperparameters(lib_name, case):
    lib = pytest.importorskip(lib_name)
    with pytest.raises(case.exception, match=case.match):
        lib.optim.SparseAdam([lib.zeros(2, requires_grad=True)],
                             **cases._materialize(case.kwargs, lib))


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_sparse_adam_rejects_a_dense_gradient(lib_name):
    lib = pytest.importorskip(lib_name)
    param = lib.zeros(3, requires_grad=True)
    opt = lib.optim.SparseAdam([param])
    param.grad = lib.ones(3)
    with pytest.raises(RuntimeError, match=r"^SparseAdam does not support dense gradients, "
                                           r"please consider Adam instead$"):
        opt.step()


def test_sparse_adam_counts_every_step_of_a_group_before_a_dense_gradient_fails():
    first, second = tg.zeros(3, requires_grad=True), tg.zeros(3, requires_grad=True)
    opt = SparseAdam([first, second], lr=0.1)
    first.grad = _rows_grad(tg, [1], [1.0], (3,))
    second.grad = tg.ones(3)
    with pytest.raises(RuntimeError):
        opt.step()
    # torch's order: the group's steps are counted, then the dense gradient refused.
    assert opt.state[first]["step"] == 1 and first.tolist() == [0.0, 0.0, 0.0]


def test_sparse_adam_step_is_a_python_int_counted_even_for_an_empty_gradient():
    param = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    opt = SparseAdam([param], lr=0.1)
    param.grad = make_sparse(tg.zeros((1, 0), dtype=tg.int64), tg.zeros((0, 2)), (2, 2))
    opt.step()
    opt.step()
    state = opt.state[param]
    assert type(state["step"]) is int and state["step"] == 2
    assert param.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert state["exp_avg"].tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_sparse_adam_moves_only_the_rows_in_the_gradient():
    param = tg.tensor(np.arange(8.0, dtype=np.float32).reshape(4, 2), requires_grad=True)
    opt = SparseAdam([param], lr=0.5, betas=(0.5, 0.75), eps=0.25)
    param.grad = _rows_grad(tg, [2, 0, 2], [[1.0, -2.0], [4.0, 4.0], [1.0, -2.0]], (4, 2))
    opt.step()
    # Hand math for t = 1: g = (2, -4) on row 2 (repeats summed), (4, 4) on row 0;
    # m = 0.5 g, v = 0.25 g², step size = 0.5 * sqrt(0.25) / 0.5 = 0.5,
    # θ -= 0.5 * m / (sqrt(v) + 0.25) = 0.5 * 0.5 g / (0.5 |g| + 0.25).
    expected = np.arange(8.0).reshape(4, 2)
    for row, g in ((2, np.array([2.0, -4.0])), (0, np.array([4.0, 4.0]))):
        expected[row] -= 0.25 * g / (0.5 * np.abs(g) + 0.25)
    np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-6)
    assert opt.state[param]["exp_avg_sq"].tolist()[1] == [0.0, 0.0]
    assert opt.state[param]["exp_avg_sq"].tolist()[2] == [1.0, 4.0]


def test_sparse_adam_step_allocates_nothing_of_the_table_size():
    rows, dim = 200_000, 8  # a 12.8 MB float64 table; the gradient holds 64 rows
    param = tg.zeros((rows, dim), dtype=tg.float64, requires_grad=True)
    opt = SparseAdam([param])
    index = np.random.default_rng(0).integers(0, rows, (1, 64))
    param.grad = make_sparse(tg.tensor(index), tg.ones((64, dim), dtype=tg.float64),
                             (rows, dim))
    opt.step()  # the state is made here, once
    tracemalloc.start()
    try:
        opt.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < rows * dim * 8 / 100, peak  # a few gradient-sized temporaries only


def test_sparse_adam_resumed_from_state_dict_continues_bit_for_bit():
    rng = np.random.default_rng(3)
    init = rng.standard_normal((5, 2)).astype(np.float32)
    grads = [(rng.integers(0, 5, (1, 4)), rng.standard_normal((4, 2)).astype(np.float32))
             for _ in range(6)]

    def run(param, opt, steps):
        for rows, values in steps:
            param.grad = make_sparse(tg.tensor(rows), tg.tensor(values), (5, 2))
            opt.step()

    straight = tg.tensor(init, requires_grad=True)
    run(straight, SparseAdam([straight], lr=0.1), grads)
    first = tg.tensor(init, requires_grad=True)
    first_opt = SparseAdam([first], lr=0.1)
    run(first, first_opt, grads[:3])
    resumed = tg.tensor(first.detach().numpy(), requires_grad=True)
    resumed_opt = SparseAdam([resumed])
    resumed_opt.load_state_dict(first_opt.state_dict())
    run(resumed, resumed_opt, grads[3:])
    assert resumed_opt.state[resumed]["step"] == 6
    np.testing.assert_array_equal(resumed.detach().numpy(), straight.detach().numpy())


@pytest.mark.torch
def test_sparse_adam_group_keys_and_repr_match_torch(torch):
    def build(lib):
        return lib.optim.SparseAdam([lib.zeros(2, requires_grad=True)], lr=0.01)
    ours, theirs = build(tg), build(torch)
    assert ours.param_groups[0].keys() == theirs.param_groups[0].keys()
    assert repr(ours) == repr(theirs)


def test_sparse_adam_chunks_give_the_bits_of_one_call():
    from tinygrad_optim.optim import sparse_adam
    rng = np.random.default_rng(5)
    rows = rng.choice(5000, size=3000, replace=False)  # unique: a coalesced gradient's
    values = rng.standard_normal((3000, 16)).astype(np.float32)
    arrays = [rng.standard_normal((5000, 16)).astype(np.float32) for _ in range(2)]
    arrays.append(np.abs(arrays[1]))  # a second moment is never negative
    hyper = dict(step_size=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, maximize=False)
    whole = [a.copy() for a in arrays]
    sparse_adam.sparse_adam_kernel(whole[0], rows[None], values, whole[1], whole[2], **hyper)
    assert 3000 * 16 > sparse_adam.CHUNK  # several chunks
    sparse_adam.sparse_adam_update(arrays[0], rows[None], values, arrays[1], arrays[2], **hyper)
    for got, expected in zip(arrays, whole):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("as_groups", [False, True], ids=["list", "groups"])
def test_sparse_adam_refuses_sparse_params_with_torchs_message(as_groups):
    torch = pytest.importorskip("torch")

    def message(lib):
        sparse = lib.sparse_coo_tensor([[0]], [1.0], (3,), check_invariants=True)
        params = [sparse]
        if as_groups:  # the message lists [group, position]: here [[1, 1]]
            params = [{"params": [lib.zeros(3, requires_grad=True)]},
                      {"params": [lib.ones(3, requires_grad=True), sparse]}]
        with pytest.raises(ValueError) as error:
            lib.optim.SparseAdam(params)
        return str(error.value)
    assert message(tg) == message(torch)



def _duplicated_run(lib, steps: int, device="cpu"):
    """SparseAdam for ``steps`` steps on one table listed twice (torch warns about it)."""
    w = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], device=device, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optimizer = lib.optim.SparseAdam([w, w], lr=0.1)
    for step in range(steps):
        values = lib.tensor([[1.0, -1.0], [0.5, 0.25 * step]], device=device)
        indices = lib.tensor([[0, 2]], device=device)
        # Checked invariants keep torch quiet; ours are always checked.
        w.grad = lib.sparse_coo_tensor(indices, values, (3, 2), check_invariants=True)
        optimizer.step()
    return w.detach().cpu().numpy(), optimizer.state[w]["step"]


def test_sparse_adam_steps_a_parameter_listed_twice_at_t_and_t_plus_1(device):
    # torch counts the group's steps first and gives each entry the count it had when
    # counted; listed twice, a parameter's step() is two updates at steps t and t + 1:
    # with the same gradient, the same as two step() calls with it listed once.
    twice = _duplicated_run(tg, 3, device)
    assert twice[1] == 6
    np.testing.assert_array_equal(twice[0], _twice_each(device))


def _twice_each(device):
    """Listed once, each of the 3 gradients applied in two step() calls."""
    w = tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], device=device, requires_grad=True)
    optimizer = tg.optim.SparseAdam([w], lr=0.1)
    for step in range(3):
        values = tg.tensor([[1.0, -1.0], [0.5, 0.25 * step]], device=device)
        for _ in range(2):
            w.grad = tg.sparse_coo_tensor(tg.tensor([[0, 2]], device=device), values, (3, 2))
            optimizer.step()
    return w.detach().cpu().numpy()


@pytest.mark.torch
def test_sparse_adam_with_a_parameter_listed_twice_matches_torch(torch):
    ours, theirs = _duplicated_run(tg, 3), _duplicated_run(torch, 3)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    assert ours[1] == theirs[1]
