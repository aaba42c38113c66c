"""Sparse gradients in SGD and Adagrad (torch parity) and every other optimizer's refusal."""
import numpy as np
import pytest

import cases_sparse_adam as cases
import tinygrad_optim as tg
from tinygrad_optim import optim
from cases_sparse_adam import FIXTURE_SETUP, LIVE_SETUP, SPARSE_CASES

SGD_ADAGRAD = [(name, case) for name in ("SGD", "Adagrad") for case in SPARSE_CASES[name]]
IDS = [f"{name}-{case.id}" for name, case in SGD_ADAGRAD]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _grad(lib, rows=(0, 2, 0)):
    """A sparse gradient of a (4, 2) table with a repeated row."""
    values = np.arange(2.0 * len(rows), dtype=np.float32).reshape(-1, 2) + 1
    return cases.sparse_coo_tensor(lib)(lib.tensor([list(rows)]), lib.tensor(values), (4, 2))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, case", SGD_ADAGRAD, ids=IDS)
def test_sparse_gradient_matches_torch_fixture(name, case, dtype, device):
    data, reference = cases.fixture_run(name, case, dtype)
    ours = cases.run(tg, getattr(tg.optim, name), case, dtype, FIXTURE_SETUP, data, device)
    cases.assert_matches(ours, reference, dtype)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, case", SGD_ADAGRAD, ids=IDS)
def test_sparse_gradient_matches_live_torch(torch, name, case, dtype):
    data = LIVE_SETUP.data()
    reference = cases.run(torch, getattr(torch.optim, name), case, dtype, LIVE_SETUP, data)
    ours = cases.run(tg, getattr(tg.optim, name), case, dtype, LIVE_SETUP, data)
    cases.assert_matches(ours, reference, dtype)


ADAM_MESSAGE = r"^Adam does not support sparse gradients, please consider SparseAdam instead$"
SPARSE_ADD = (r"^add\(sparse, dense\) is not supported\. Use add\(dense, sparse\) "
              r"instead\.$")
# (optimizer, constructor kwargs, torch's message for a sparse gradient)
REFUSALS = [
    ("Adam", {}, ADAM_MESSAGE),
    ("AdamW", {}, ADAM_MESSAGE),
    ("Adamax", {}, r"^Adamax does not support sparse gradients$"),
    ("RMSprop", {}, r"^RMSprop does not support sparse gradients$"),
    ("Adadelta", {}, r"^Adadelta does not support sparse gradients$"),
    ("ASGD", {}, r"^ASGD does not support sparse gradients$"),
    ("Rprop", {}, r"^Rprop does not support sparse gradients$"),
    ("Adagrad", {"weight_decay": 0.1},
     r"^weight_decay option is not compatible with sparse gradients$"),
    ("SGD", {"weight_decay": 0.1}, SPARSE_ADD),
    ("SGD", {"weight_decay": 0.1, "momentum": 0.9}, SPARSE_ADD),
]


@pytest.mark.parametrize("name, kwargs, match", REFUSALS,
                         ids=[f"{row[0]}-{'-'.join(row[1])}" for row in REFUSALS])
@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_optimizer_refuses_a_sparse_gradient(lib_name, name, kwargs, match):
    lib = pytest.importorskip(lib_name)
    param = lib.zeros((4, 2), requires_grad=True)
    opt = getattr(lib.optim, name)([param], **kwargs)
    param.grad = _grad(lib)
    with pytest.raises(RuntimeError, match=match):
        opt.step()
    assert param.tolist() == [[0.0, 0.0]] * 4


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_sgd_refuses_a_dense_gradient_after_a_sparse_momentum_buffer(lib_name):
    lib = pytest.importorskip(lib_name)
    param = lib.zeros((4, 2), requires_grad=True)
    opt = lib.optim.SGD([param], lr=0.1, momentum=0.9)
    param.grad = _grad(lib)
    opt.step()
    param.grad = lib.ones((4, 2))
    with pytest.raises(RuntimeError, match=SPARSE_ADD):
        opt.step()


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_sgd_sparse_gradient_after_a_dense_momentum_buffer(lib_name, nesterov):
    lib = pytest.importorskip(lib_name)
    param = lib.zeros((4, 2), requires_grad=True)
    opt = lib.optim.SGD([param], lr=0.5, momentum=0.5, nesterov=nesterov)
    param.grad = lib.ones((4, 2))
    opt.step()
    param.grad = _grad(lib)
    if nesterov:  # torch adds the dense buffer to the sparse gradient: refused
        with pytest.raises(RuntimeError, match=SPARSE_ADD):
            opt.step()
        return
    opt.step()  # dense buffer + sparse gradient stays dense: v = 0.5 + g
    buffer = opt.state[param]["momentum_buffer"]
    assert not buffer.is_sparse
    # Hand math: rows 0 and 2 get g = (1+5, 2+6) and (3, 4); θ = −0.5 − 0.5·v.
    expected_buffer = np.array([[6.5, 8.5], [0.5, 0.5], [3.5, 4.5], [0.5, 0.5]])
    np.testing.assert_array_equal(buffer.numpy(), expected_buffer)
    np.testing.assert_array_equal(param.detach().numpy(), -0.5 - 0.5 * expected_buffer)


def test_sgd_sparse_momentum_buffer_is_sparse_and_coalesced():
    param = tg.zeros((4, 2), requires_grad=True)
    opt = tg.optim.SGD([param], lr=0.1, momentum=0.9)
    grad = _grad(tg)
    param.grad = grad
    opt.step()
    param.grad = _grad(tg, rows=(1, 1))
    opt.step()
    buffer = opt.state[param]["momentum_buffer"]
    assert buffer.is_sparse and buffer.is_coalesced() and buffer._nnz() == 3
    # Hand math: v = 0.9·(rows 0: (1+5, 2+6), 2: (3, 4)) + (row 1: (1+3, 2+4)).
    np.testing.assert_allclose(buffer.to_dense().numpy(),
                               [[5.4, 7.2], [4.0, 6.0], [2.7, 3.6], [0.0, 0.0]], rtol=1e-6)
    assert grad._values_array.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]  # not aliased


def test_sgd_sparse_gradient_without_momentum_keeps_no_state():
    param = tg.zeros((4, 2), requires_grad=True)
    opt = tg.optim.SGD([param], lr=0.5)
    param.grad = _grad(tg)
    opt.step()
    assert len(opt.state) == 0
    assert param.tolist() == [[-3.0, -4.0], [0.0, 0.0], [-1.5, -2.0], [0.0, 0.0]]


def test_adagrad_counts_an_empty_sparse_gradient_and_moves_nothing():
    param = tg.ones((4, 2), requires_grad=True)
    opt = tg.optim.Adagrad([param], initial_accumulator_value=0.5)
    param.grad = cases.sparse_coo_tensor(tg)(tg.zeros((1, 0), dtype=tg.int64),
                                             tg.zeros((0, 2)), (4, 2))
    opt.step()
    assert opt.state[param]["step"].item() == 1.0
    assert param.tolist() == [[1.0, 1.0]] * 4
    assert opt.state[param]["sum"].tolist() == [[0.5, 0.5]] * 4


def test_adagrad_sparse_gradient_sums_repeats_before_squaring():
    param = tg.zeros((4, 2), requires_grad=True)
    opt = tg.optim.Adagrad([param], lr=1.0)
    param.grad = _grad(tg)
    opt.step()
    # Rows 0 (g = (6, 8)) and 2 (g = (3, 4)): s = g², θ = −g / (|g| + 1e-10) ≈ −1.
    assert opt.state[param]["sum"].tolist() == [[36.0, 64.0], [0.0, 0.0], [9.0, 16.0],
                                                [0.0, 0.0]]
    np.testing.assert_allclose(param.detach().numpy(), [[-1, -1], [0, 0], [-1, -1], [0, 0]])


def test_sgd_load_state_dict_casts_a_sparse_momentum_buffer_to_the_param_dtype():
    weight = tg.zeros(4, 2, dtype=tg.float32, requires_grad=True)
    opt = optim.SGD([weight], lr=0.1, momentum=0.9)
    weight.grad = tg.sparse_coo_tensor([[1, 3]], [[1.0, 2.0], [3.0, 4.0]], (4, 2))
    opt.step()
    state = opt.state_dict()
    double = tg.zeros(4, 2, dtype=tg.float64, requires_grad=True)
    fresh = optim.SGD([double], lr=0.1, momentum=0.9)
    fresh.load_state_dict(state)
    buffer = fresh.state[double]["momentum_buffer"]
    assert buffer.is_sparse and buffer.dtype == tg.float64
    np.testing.assert_array_equal(buffer.to_dense().numpy(),
                                  state["state"][0]["momentum_buffer"].to_dense().numpy())
