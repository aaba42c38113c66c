"""SparseTensor and sparse_coo_tensor against torch's sparse COO tensors and numpy."""
import numpy as np
import pytest

import tinygrad_optim as tg
from tinygrad_optim.sparse import SparseTensor, sparse_coo_tensor
from _devices import landed


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def host(x):
    return tg.backend.to_numpy(x._array)


def pair(torch, indices, values, size, device="cpu"):
    """The same sparse tensor in ours and in torch (invariants checked, so torch is quiet)."""
    ours = sparse_coo_tensor(indices, values, size, device=device)
    theirs = torch.sparse_coo_tensor(torch.tensor(indices), torch.tensor(values), size,
                                     check_invariants=True)
    return ours, theirs


def same_layout(ours, theirs, atol=0.0):
    """Equal entries in equal order, equal nnz, flag, shape and dtype (values to ``atol``)."""
    assert ours.shape == tuple(theirs.shape)
    assert ours.is_coalesced() == theirs.is_coalesced()
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(host(ours._indices()), theirs._indices().numpy())
    np.testing.assert_allclose(host(ours._values()), theirs._values().numpy(), rtol=0,
                               atol=atol)


# torch's coalesce adds the repeats of an index in the order of an unstable sort, ours in
# order of appearance: the same terms summed in another order. The difference is at most
# (terms) * eps * (largest partial sum): about 12 N(0, 1) terms per row here, so 1e-5 in
# float32 and 1e-13 in float64 bound it with margin (absolute: sums may cancel to ~0).
COALESCE_ATOL = {np.float32: 1e-5, np.float64: 1e-13}


ROWS = [[0, 2, 0]]
VALUES = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
REPR_CASES = {
    "uncoalesced": (ROWS, VALUES, (3, 2)),
    "one entry": ([[1]], [[1.5, -2.0]], (3, 2)),
    "float64": (ROWS, np.array(VALUES), (3, 2)),
    "int64 values": ([[0, 1]], [7, 8], (3,)),
    "two sparse dims": ([[0, 1, 1], [2, 0, 2]], [1.0, 2.0, 3.0], (2, 3)),
    "summarized": ([list(range(300))], np.arange(1200, dtype=np.float32).reshape(300, 4),
                   (300, 4)),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", REPR_CASES, ids=list(REPR_CASES))
def test_sparse_repr_matches_torch(torch, case):
    ours, theirs = pair(torch, *REPR_CASES[case])
    assert repr(ours).replace("tinygrad_optim.", "torch.") == repr(theirs)


@pytest.mark.torch
def test_sparse_repr_of_empty_matches_torch(torch):
    ours, theirs = pair(torch, np.zeros((1, 0), np.int64), np.zeros((0, 2), np.float32), (3, 2))
    assert repr(ours) == repr(theirs)


@pytest.mark.torch
def test_sparse_attributes_match_torch(torch):
    ours, theirs = pair(torch, [[0, 1, 1], [2, 0, 2]], [[1.0], [2.0], [3.0]], (2, 3, 1))
    names = ["sparse_dim", "dense_dim", "_nnz", "is_coalesced", "dim", "numel"]
    assert [getattr(ours, n)() for n in names] == [getattr(theirs, n)() for n in names]
    assert (ours.is_sparse, ours.ndim, ours.layout) == (theirs.is_sparse, theirs.ndim,
                                                        str(theirs.layout))
    assert (ours.requires_grad, ours.grad_fn, ours.is_leaf) == (
        theirs.requires_grad, theirs.grad_fn, theirs.is_leaf)
    assert ours.size() == tuple(theirs.size()) and ours.size(1) == theirs.size(1)


def test_sparse_device_and_dtype_follow_the_values(device):
    s = sparse_coo_tensor([[1]], [[2.0, 3.0]], (4, 2), dtype=tg.float64, device=device)
    assert (s.device, s.dtype) == (landed(device), tg.float64)
    assert s._indices().dtype is tg.int64 and s._indices().device == s.device


@pytest.mark.torch
@pytest.mark.parametrize("method", ["indices", "values"])
def test_sparse_accessor_refuses_uncoalesced_like_torch(torch, method):
    ours, theirs = pair(torch, ROWS, VALUES, (3, 2))
    with pytest.raises(RuntimeError) as expected:
        getattr(theirs, method)()
    with pytest.raises(RuntimeError) as got:
        getattr(ours, method)()
    assert str(got.value) == str(expected.value)


@pytest.mark.torch
@pytest.mark.parametrize("method", ["indices", "values"])
def test_sparse_accessor_of_coalesced_matches_torch(torch, method):
    ours, theirs = pair(torch, ROWS, VALUES, (3, 2))
    np.testing.assert_array_equal(host(getattr(ours.coalesce(), method)()),
                                  getattr(theirs.coalesce(), method)().numpy())


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_coalesce_sums_repeats_like_torch(torch, rng, dtype):
    rows = rng.integers(0, 7, size=(1, 40))  # 40 entries over 7 rows: many repeats
    values = rng.standard_normal((40, 3)).astype(dtype)
    ours, theirs = pair(torch, rows, values, (9, 3))
    same_layout(ours.coalesce(), theirs.coalesce(), COALESCE_ATOL[dtype])


@pytest.mark.torch
def test_sparse_coalesce_with_two_sparse_dims_matches_torch(torch, rng):
    indices = rng.integers(0, 3, size=(2, 25))
    ours, theirs = pair(torch, indices, rng.standard_normal(25), (3, 3))
    same_layout(ours.coalesce(), theirs.coalesce(), COALESCE_ATOL[np.float64])


def test_sparse_coalesce_returns_self_when_coalesced():
    s = sparse_coo_tensor(ROWS, VALUES, (3, 2)).coalesce()
    assert s.is_coalesced() and s.coalesce() is s


def test_sparse_coalesce_on_device(device, rng):
    rows = rng.integers(0, 5, size=(1, 30))
    values = rng.standard_normal((30, 2))
    s = sparse_coo_tensor(rows, values, (5, 2), device=device).coalesce()
    expected = np.zeros((5, 2))
    np.add.at(expected, rows[0], values)
    present = np.unique(rows[0])
    np.testing.assert_array_equal(host(s._indices()), present[None])
    np.testing.assert_allclose(host(s._values()), expected[present], rtol=1e-15)


def test_sparse_to_dense_adds_repeats(device, rng):
    rows = rng.integers(0, 6, size=(1, 20))
    values = rng.standard_normal((20, 3))
    expected = np.zeros((6, 3))
    np.add.at(expected, rows[0], values)
    dense = sparse_coo_tensor(rows, values, (6, 3), device=device).to_dense()
    assert dense.device == landed(device) and dense.dtype is tg.float64
    np.testing.assert_array_equal(host(dense), expected)


ADD_CASES = {
    "uncoalesced + uncoalesced": (([[3, 1, 3]], (3, 2)), ([[0, 3]], (2, 2))),
    "coalesced + coalesced": (([[0, 4]], (2, 2)), ([[1, 4]], (2, 2))),
    "equal heads combine": (([[2, 2, 0]], (3, 2)), ([[2, 0, 0]], (3, 2))),
    "empty + some": ((np.zeros((1, 0), np.int64), (0, 2)), ([[1, 0]], (2, 2))),
    "some + empty": (([[1, 0]], (2, 2)), (np.zeros((1, 0), np.int64), (0, 2))),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", ADD_CASES, ids=list(ADD_CASES))
def test_sparse_add_entries_match_torch_cpu(torch, rng, case):
    operands = []
    for rows, values_shape in ADD_CASES[case]:
        s, t = pair(torch, rows, rng.standard_normal(values_shape), (5, 2))
        if case.startswith("coalesced"):
            s, t = s.coalesce(), t.coalesce()
        operands.append((s, t))
    (a, ta), (b, tb) = operands
    same_layout(a + b, ta + tb)


@pytest.mark.torch
def test_sparse_add_promotes_dtype_like_torch(torch):
    a, ta = pair(torch, [[0]], np.ones((1, 2), np.float32), (3, 2))
    b, tb = pair(torch, [[1]], np.ones((1, 2), np.float64), (3, 2))
    assert (a + b).dtype.name == str((ta + tb).dtype).removeprefix("torch.")


def test_sparse_add_sums_on_device(device, rng):
    va, vb = rng.standard_normal((3, 2)), rng.standard_normal((2, 2))
    a = sparse_coo_tensor([[3, 1, 3]], va, (4, 2), device=device)
    b = sparse_coo_tensor([[0, 3]], vb, (4, 2), device=device)
    total = a + b
    np.testing.assert_allclose(host(total.to_dense()), host(a.to_dense()) + host(b.to_dense()))
    assert total.device == landed(device) and not total.is_coalesced()


@pytest.mark.torch
@pytest.mark.parametrize("make_other", [lambda lib: lib.ones(3, 2), lambda lib: 1.0],
                         ids=["tensor", "number"])
def test_sparse_add_dense_raises_torch_error(torch, make_other):
    ours, theirs = pair(torch, ROWS, VALUES, (3, 2))
    with pytest.raises(RuntimeError) as expected:
        theirs + make_other(torch)
    with pytest.raises(RuntimeError) as got:
        ours + make_other(tg)
    assert str(got.value) == str(expected.value)


@pytest.mark.torch
def test_sparse_add_of_other_size_raises_torch_error(torch):
    a, ta = pair(torch, ROWS, VALUES, (3, 2))
    b, tb = pair(torch, ROWS, VALUES, (4, 2))
    with pytest.raises(RuntimeError) as expected:
        ta + tb
    with pytest.raises(RuntimeError) as got:
        a + b
    assert str(got.value) == str(expected.value)


SCALAR_OPS = {"mul": lambda s: s * 2.5, "rmul": lambda s: 3 * s, "neg": lambda s: -s,
              "div": lambda s: s / 4}


@pytest.mark.torch
@pytest.mark.parametrize("op", SCALAR_OPS, ids=list(SCALAR_OPS))
@pytest.mark.parametrize("coalesced", [False, True])
def test_sparse_scalar_ops_match_torch(torch, op, coalesced):
    ours, theirs = pair(torch, ROWS, np.array(VALUES, np.float32), (3, 2))
    if coalesced:
        ours, theirs = ours.coalesce(), theirs.coalesce()
    same_layout(SCALAR_OPS[op](ours), SCALAR_OPS[op](theirs))


@pytest.mark.torch
def test_sparse_scalar_mul_of_int_values_promotes_like_torch(torch):
    ours, theirs = pair(torch, [[0, 1]], [1, 2], (3,))
    same_layout(ours * 2.5, theirs * 2.5)


@pytest.mark.torch
def test_sparse_zero_empties_in_place_like_torch(torch):
    ours, theirs = pair(torch, ROWS, VALUES, (3, 2))
    assert ours.zero_() is ours
    same_layout(ours, theirs.zero_())
    assert repr(ours) == repr(theirs)


def test_sparse_clone_owns_its_arrays():
    s = sparse_coo_tensor(ROWS, VALUES, (3, 2))
    copy = s.clone()
    s._values_array[0, 0] = 100.0
    s._indices_array[0, 0] = 1
    assert copy._values_array[0, 0] == 1.0 and copy._indices_array[0, 0] == 0
    assert copy.is_coalesced() == s.is_coalesced()


def test_sparse_detach_shares_and_requires_grad_false_is_self():
    s = sparse_coo_tensor(ROWS, VALUES, (3, 2))
    assert s.detach()._values_array is s._values_array
    assert s.detach_() is s and s.requires_grad_(False) is s


def test_sparse_requires_grad_true_is_refused():
    with pytest.raises(RuntimeError, match="not supported"):
        sparse_coo_tensor(ROWS, VALUES, (3, 2)).requires_grad_()
    with pytest.raises(RuntimeError, match="not supported"):
        sparse_coo_tensor(ROWS, VALUES, (3, 2), requires_grad=True)


@pytest.mark.parametrize("coalesced", [False, True])
def test_sparse_to_dtype_casts_values_and_keeps_flag(coalesced):
    s = sparse_coo_tensor(ROWS, VALUES, (3, 2))
    s = s.coalesce() if coalesced else s
    wide = s.to(tg.float64)
    assert wide.dtype is tg.float64 and wide.is_coalesced() == coalesced
    np.testing.assert_array_equal(host(wide.to_dense()), host(s.to_dense()))
    assert s.to(tg.float32) is s and s.double().dtype is tg.float64


def test_sparse_to_device_moves_both_arrays(device):
    s = sparse_coo_tensor(ROWS, VALUES, (3, 2)).to(device)
    assert s.device == landed(device) and s._indices().device == s.device
    back = s.cpu()
    assert back.device == tg.device("cpu")
    np.testing.assert_array_equal(host(back._values()), VALUES)


def test_sparse_to_with_copy_gives_a_new_tensor():
    s = sparse_coo_tensor(ROWS, VALUES, (3, 2))
    copy = s.to("cpu", copy=True)
    assert copy is not s and copy._values_array is not s._values_array


@pytest.mark.torch
@pytest.mark.parametrize("indices, values", [([[0, 1]], [1, 2]),
                                             ([[0, 2, 1]], [[1.0], [2.0], [3.0]])])
def test_sparse_coo_tensor_infers_size_like_torch(torch, indices, values):
    ours = sparse_coo_tensor(indices, values)
    theirs = torch.sparse_coo_tensor(indices, values, check_invariants=True)
    same_layout(ours, theirs)


@pytest.mark.torch
@pytest.mark.parametrize("nnz", [0, 1, 2])
def test_sparse_coo_tensor_coalesced_flag_like_torch(torch, nnz):
    ours, theirs = pair(torch, [list(range(nnz))], np.ones((nnz, 2), np.float32), (3, 2))
    assert ours.is_coalesced() == theirs.is_coalesced()


def test_sparse_coo_tensor_casts_indices_to_int64():
    s = sparse_coo_tensor(np.array([[2, 0]], np.int32), [1.0, 2.0], (3,))
    assert s._indices_array.dtype == np.int64


BAD_ARGS = {
    "nnz mismatch": ([[0, 2, 0]], [[1.0, 2.0]] * 2, (3, 2)),
    "values size": ([[0, 2, 0]], [[1.0, 2.0]] * 3, (3, 3)),
    "len(size)": ([[0, 2, 0]], [[1.0, 2.0]] * 3, (3,)),
    "indices rank": ([[[0, 1]]], [[1.0, 2.0]] * 2, (3, 2)),
    "index too large": ([[0, 5]], [[1.0, 2.0]] * 2, (3, 2)),
    "negative index": ([[0, -1]], [[1.0, 2.0]] * 2, (3, 2)),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", BAD_ARGS, ids=list(BAD_ARGS))
def test_sparse_coo_tensor_errors_match_torch(torch, case):
    indices, values, size = BAD_ARGS[case]
    with pytest.raises(RuntimeError) as expected:
        torch.sparse_coo_tensor(indices, values, size, check_invariants=True)
    with pytest.raises(RuntimeError) as got:
        sparse_coo_tensor(indices, values, size)
    assert str(got.value) == str(expected.value)


def test_sparse_tensor_is_exported_type():
    assert isinstance(sparse_coo_tensor(ROWS, VALUES, (3, 2)), SparseTensor)


def test_dense_plus_sparse_is_dense_as_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        sparse = lib.sparse_coo_tensor([[0, 2, 0]], [1.0, 2.0, 3.0], (3,), check_invariants=True)
        return (lib.tensor([1.0, 1.0, 1.0]) + sparse).tolist()
    assert run(tg) == run(torch) == [5.0, 1.0, 3.0]
