"""Sparse embedding gradients: the backward, the engine's accumulation, zero_grad, nn.Embedding."""
import numpy as np
import pytest

import tinygrad_optim as tg
from tinygrad_optim.nn import functional as F
from tinygrad_optim.sparse import SparseTensor, sparse_coo_tensor
from _devices import landed


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def host(x):
    return tg.backend.to_numpy(x._array)


def leaf_pair(torch, array, device="cpu"):
    return (tg.tensor(array, device=device, requires_grad=True),
            torch.tensor(array, requires_grad=True))


def same_sparse(ours, theirs):
    """Same entries in the same order (nnz, indices, values), flag and shape as torch's."""
    assert isinstance(ours, SparseTensor) and theirs.is_sparse
    assert ours.shape == tuple(theirs.shape) and ours.is_coalesced() == theirs.is_coalesced()
    np.testing.assert_array_equal(host(ours._indices()), theirs._indices().numpy())
    np.testing.assert_array_equal(host(ours._values()), theirs._values().numpy())


def weighted_sum(lib, out, coef):
    # A weighted sum, not a bare .sum(): its gradient is a contiguous array in torch, which
    # decides how torch's CPU kernel adds two sparse gradients (see sparse.add_sparse).
    return (out * lib.tensor(coef, device=out.device)).sum()


INDEX_CASES = {
    "1-D with repeats": [3, 1, 3, 0, 3],
    "2-D": [[0, 2, 2, 5], [5, 2, 1, 0]],
    "one index": [4],
    "empty": np.zeros(0, np.int64),
}


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("case", INDEX_CASES, ids=list(INDEX_CASES))
def test_embedding_sparse_grad_matches_torch(torch, device, rng, dtype, padding_idx, case):
    indices = np.asarray(INDEX_CASES[case], np.int64)
    w, tw = leaf_pair(torch, rng.standard_normal((6, 3)).astype(dtype), device)
    coef = rng.standard_normal(indices.shape + (3,)).astype(dtype)
    out = F.embedding(tg.tensor(indices, device=device), w, padding_idx, sparse=True)
    tout = torch.nn.functional.embedding(torch.tensor(indices), tw, padding_idx, sparse=True)
    np.testing.assert_array_equal(host(out), tout.detach().numpy())
    weighted_sum(tg, out, coef).backward()
    weighted_sum(torch, tout, coef).backward()
    assert w.grad.device == landed(device)
    same_sparse(w.grad, tw.grad)


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_sparse_grad_equals_dense_grad(device, rng, padding_idx):
    table = rng.standard_normal((5, 4))
    indices = tg.tensor(rng.integers(0, 5, size=(3, 7)), device=device)
    coef = tg.tensor(rng.standard_normal((3, 7, 4)), device=device)
    grads = []
    for sparse in (False, True):
        w = tg.tensor(table, device=device, requires_grad=True)
        (F.embedding(indices, w, padding_idx, sparse=sparse) * coef).sum().backward()
        grads.append(w.grad if not sparse else w.grad.to_dense())
    # The dense path scatter-adds in input order as to_dense does: the same sums exactly.
    np.testing.assert_array_equal(host(grads[1]), host(grads[0]))


def test_embedding_sparse_grad_of_padding_only_batch_is_empty():
    w = tg.ones(4, 2, requires_grad=True)
    F.embedding(tg.tensor([1, 1]), w, padding_idx=1, sparse=True).sum().backward()
    assert w.grad._nnz() == 0 and w.grad.shape == (4, 2)
    np.testing.assert_array_equal(host(w.grad.to_dense()), np.zeros((4, 2)))


def test_embedding_sparse_grad_owns_its_values():
    w = tg.ones(4, 2, requires_grad=True)
    out = F.embedding(tg.tensor([0, 3]), w, sparse=True)
    gy = tg.ones(2, 2)
    out.backward(gy)
    gy[0, 0] = 7.0  # changing the incoming gradient afterwards must not reach .grad
    np.testing.assert_array_equal(host(w.grad._values()), np.ones((2, 2)))


@pytest.mark.torch
def test_embedding_sparse_two_lookups_in_one_backward_match_torch(torch, rng):
    w, tw = leaf_pair(torch, rng.standard_normal((5, 2)))
    first, second = np.array([3, 1, 3]), np.array([0, 3])
    coefs = rng.standard_normal((3, 2)), rng.standard_normal((2, 2))
    for lib, weight in ((tg, w), (torch, tw)):
        losses = [weighted_sum(lib, lib.nn.functional.embedding(lib.tensor(i), weight,
                                                                sparse=True), c)
                  for i, c in zip((first, second), coefs)]
        (losses[0] + losses[1]).backward()
    same_sparse(w.grad, tw.grad)


@pytest.mark.torch
def test_embedding_sparse_grads_accumulate_across_backward_like_torch(torch, rng):
    w, tw = leaf_pair(torch, rng.standard_normal((5, 2)))
    grad = None
    for rows in ([3, 1, 3], [0, 3], [4]):
        coef = rng.standard_normal((len(rows), 2))
        for lib, weight in ((tg, w), (torch, tw)):
            out = lib.nn.functional.embedding(lib.tensor(rows), weight, sparse=True)
            weighted_sum(lib, out, coef).backward()
        assert grad is None or w.grad is grad  # sparse += sparse keeps the .grad object
        grad = w.grad
        same_sparse(w.grad, tw.grad)


@pytest.mark.torch
def test_embedding_sparse_and_dense_uses_give_dense_grad_like_torch(torch, rng):
    w, tw = leaf_pair(torch, rng.standard_normal((5, 2)))
    coef = rng.standard_normal((5, 2))
    for lib, weight in ((tg, w), (torch, tw)):
        out = lib.nn.functional.embedding(lib.tensor([4, 0, 4]), weight, sparse=True)
        (out.sum() + (weight * lib.tensor(coef)).sum()).backward()
    assert not w.grad.is_sparse and tw.grad.layout == torch.strided
    np.testing.assert_allclose(host(w.grad), tw.grad.numpy(), rtol=1e-15)


@pytest.mark.torch
def test_embedding_sparse_through_non_leaf_weight_gives_dense_grad(torch, rng):
    w, tw = leaf_pair(torch, rng.standard_normal((5, 2)))
    for lib, weight in ((tg, w), (torch, tw)):
        out = lib.nn.functional.embedding(lib.tensor([1, 1, 2]), weight * 3.0, sparse=True)
        weighted_sum(lib, out, np.arange(6.0).reshape(3, 2)).backward()
    assert not w.grad.is_sparse
    np.testing.assert_array_equal(host(w.grad), tw.grad.to_dense().numpy())


@pytest.mark.torch
def test_grad_sparse_then_dense_backward_gives_dense_like_torch(torch, rng):
    w, tw = leaf_pair(torch, rng.standard_normal((5, 2)))
    w.grad = sparse_coo_tensor([[4, 4]], np.ones((2, 2)), (5, 2))
    tw.grad = torch.sparse_coo_tensor([[4, 4]], np.ones((2, 2)), (5, 2), check_invariants=True)
    coef = rng.standard_normal((5, 2))
    (w * tg.tensor(coef)).sum().backward()
    (tw * torch.tensor(coef)).sum().backward()
    assert not w.grad.is_sparse and tw.grad.layout == torch.strided
    np.testing.assert_array_equal(host(w.grad), tw.grad.numpy())


@pytest.mark.torch
def test_grad_dense_then_sparse_backward_adds_in_place_like_torch(torch, rng):
    w, tw = leaf_pair(torch, rng.standard_normal((5, 2)))
    start = rng.standard_normal((5, 2))
    w.grad, tw.grad = tg.tensor(start), torch.tensor(start)
    grad = w.grad
    for lib, weight in ((tg, w), (torch, tw)):
        lib.nn.functional.embedding(lib.tensor([2, 2, 0]), weight, sparse=True).sum().backward()
    assert w.grad is grad and not grad.is_sparse
    np.testing.assert_array_equal(host(w.grad), tw.grad.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("size, dtype", [((4, 2), np.float32), ((5, 2), np.float64)],
                         ids=["size", "dtype"])
def test_grad_assignment_of_sparse_checks_like_torch(torch, size, dtype):
    w, tw = leaf_pair(torch, np.ones((5, 2), np.float32))
    with pytest.raises(RuntimeError) as expected:
        tw.grad = torch.sparse_coo_tensor([[0]], np.ones((1, 2), dtype), size,
                                          check_invariants=True)
    with pytest.raises(RuntimeError) as got:
        w.grad = sparse_coo_tensor([[0]], np.ones((1, 2), dtype), size)
    assert str(got.value) == str(expected.value)


def test_grad_assignment_of_matching_sparse_is_kept():
    w = tg.ones(5, 2, requires_grad=True)
    grad = sparse_coo_tensor([[1]], [[1.0, 2.0]], (5, 2))
    w.grad = grad
    assert w.grad is grad


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_with_sparse_grad(device, set_to_none):
    table = tg.nn.Embedding(6, 3, sparse=True, device=device)
    table(tg.tensor([1, 5, 1], device=device)).sum().backward()
    grad = table.weight.grad
    tg.optim.SGD(table.parameters(), lr=0.1).zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert table.weight.grad is None
    else:  # emptied in place, as torch's zero_() resizes a sparse tensor to no entries
        assert table.weight.grad is grad and grad._nnz() == 0 and grad.shape == (6, 3)


def test_zero_grad_in_place_then_backward_accumulates_fresh():
    table = tg.nn.Embedding(4, 2, sparse=True)
    table(tg.tensor([0, 3])).sum().backward()
    tg.optim.SGD(table.parameters(), lr=0.1).zero_grad(set_to_none=False)
    table(tg.tensor([2])).sum().backward()
    expected = np.zeros((4, 2), np.float32)
    expected[2] = 1.0
    np.testing.assert_array_equal(host(table.weight.grad.to_dense()), expected)


# ---------------------------------------------------------------- nn.Embedding
def test_embedding_module_draws_standard_normal():
    tg.manual_seed(0)
    weight = host(tg.nn.Embedding(2000, 50).weight)
    # 100 000 N(0, 1) draws: the sample mean is within 5 standard errors (0.016) of 0, and
    # the sample std within 0.02 of 1; a U(-1, 1) or zero init would fail both.
    assert weight.dtype == np.float32 and abs(weight.mean()) < 0.016
    assert abs(weight.std() - 1.0) < 0.02


@pytest.mark.parametrize("padding_idx", [2, -1])
def test_embedding_module_zeroes_padding_row(device, padding_idx):
    table = tg.nn.Embedding(5, 3, padding_idx=padding_idx, device=device)
    weight = host(table.weight)
    np.testing.assert_array_equal(weight[padding_idx], np.zeros(3))
    assert np.all(np.delete(weight, padding_idx % 5, axis=0) != 0)
    assert table.weight.is_leaf and table.weight.grad_fn is None


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": -1}, {"sparse": True},
                                    {"padding_idx": 0, "sparse": True}])
def test_embedding_module_repr_matches_torch(torch, kwargs):
    theirs = repr(torch.nn.Embedding(7, 3, **kwargs))
    assert repr(tg.nn.Embedding(7, 3, **kwargs)) == theirs


@pytest.mark.torch
@pytest.mark.parametrize("padding_idx", [5, -6])
def test_embedding_module_rejects_padding_outside_like_torch(torch, padding_idx):
    with pytest.raises(AssertionError) as expected:
        torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    with pytest.raises(AssertionError) as got:
        tg.nn.Embedding(5, 3, padding_idx=padding_idx)
    assert str(got.value) == str(expected.value)


@pytest.mark.torch
@pytest.mark.parametrize("sparse", [False, True])
def test_embedding_module_forward_and_grad_match_torch(torch, rng, sparse):
    ours = tg.nn.Embedding(6, 2, padding_idx=3, sparse=sparse)
    theirs = torch.nn.Embedding(6, 2, padding_idx=3, sparse=sparse)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(host(ours.weight)))
    indices = np.array([[3, 0], [5, 3]])
    coef = rng.standard_normal((2, 2, 2)).astype(np.float32)
    out, tout = ours(tg.tensor(indices)), theirs(torch.tensor(indices))
    np.testing.assert_array_equal(host(out), tout.detach().numpy())
    weighted_sum(tg, out, coef).backward()
    weighted_sum(torch, tout, coef).backward()
    if sparse:
        same_sparse(ours.weight.grad, theirs.weight.grad)
    else:
        np.testing.assert_array_equal(host(ours.weight.grad), theirs.weight.grad.numpy())
    assert [name for name, _ in ours.named_parameters()] == ["weight"]
