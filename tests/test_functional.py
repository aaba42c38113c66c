"""nn.functional against torch (values, gradients, errors) and against finite differences."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_optim as tg
import tinygrad_optim.nn.functional as F

# Agreement with torch: rtol 1e-6 in float32 (a few ulps after a reduction of ~1000 terms
# summed in another order) and 1e-9 in float64. The absolute part scales rtol by the largest
# expected magnitude, so entries near zero produced by cancellation (softmax - one_hot) are
# judged against the tensor's scale, not their own.
RTOL = {"float32": 1e-6, "float64": 1e-9}


def assert_close(actual, expected, dtype="float64"):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    rtol = RTOL[str(dtype)]
    scale = float(np.abs(expected).max()) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def host(tensor):
    return tensor.detach().cpu().numpy()


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def pair(torch, array, device="cpu", requires_grad=True):
    """The same data as a tinygrad_optim tensor on ``device`` and as a torch tensor."""
    ours = tg.tensor(array, device=device, requires_grad=requires_grad)
    theirs = torch.tensor(array, requires_grad=requires_grad)
    return ours, theirs


def backward_both(ours, theirs, rng):
    """Backpropagate the same random cotangent through both outputs."""
    cotangent = rng.standard_normal(tuple(ours.shape)).astype(host(ours).dtype)
    ours.backward(tg.tensor(cotangent, device=ours.device))
    theirs.backward(theirs.new_tensor(cotangent))


def numerical_grads(fn, arrays, cotangent, eps=1e-6):
    """Central differences of ``sum(fn(*arrays) * cotangent)`` for each float64 array."""
    def objective():
        out = fn(*[tg.tensor(a) for a in arrays])
        return float(np.sum(host(out) * cotangent))
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            keep = a[i]
            a[i] = keep + eps
            up = objective()
            a[i] = keep - eps
            down = objective()
            a[i] = keep
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def check_finite_differences(fn, arrays, rng):
    """Our backward of ``fn`` agrees with central differences in float64."""
    tensors = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    cotangent = rng.standard_normal(tuple(out.shape))
    out.backward(tg.tensor(cotangent))
    for t, expected in zip(tensors, numerical_grads(fn, arrays, cotangent)):
        np.testing.assert_allclose(host(t.grad), expected, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- linear
@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("x_shape", [(6, 5), (5,), (2, 3, 5), (0, 5)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_torch(torch, device, rng, dtype, x_shape, with_bias):
    x, tx = pair(torch, rng.standard_normal(x_shape).astype(dtype), device)
    w, tw = pair(torch, rng.standard_normal((4, 5)).astype(dtype), device)
    b, tb = pair(torch, rng.standard_normal(4).astype(dtype), device) if with_bias else (None,
                                                                                         None)
    y, ty = F.linear(x, w, b), torch.nn.functional.linear(tx, tw, tb)
    assert_close(host(y), host(ty), dtype)
    backward_both(y, ty, rng)
    for ours, theirs in [(x, tx), (w, tw)] + ([(b, tb)] if with_bias else []):
        assert_close(host(ours.grad), host(theirs.grad), dtype)


def test_linear_weight_grad_is_contiguous(rng):
    # The optimizer updates parameters in place: a transposed gradient would slow that down.
    x = tg.tensor(rng.standard_normal((8, 5)))
    w = tg.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    F.linear(x, w).sum().backward()
    assert w.grad.is_contiguous()


def test_linear_skips_input_grad_when_not_needed(rng):
    x = tg.tensor(rng.standard_normal((3, 5)))
    w = tg.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    F.linear(x, w).sum().backward()
    assert x.grad is None and w.grad is not None


GRAD_FN_CASES = {
    "linear": lambda L, F, x: F.linear(x, L.ones(4, 5)),
    "linear_bias": lambda L, F, x: F.linear(x, L.ones(4, 5), L.ones(4)),
    "softmax": lambda L, F, x: F.softmax(x, 1),
    "log_softmax": lambda L, F, x: F.log_softmax(x, 1),
    "mse_loss": lambda L, F, x: F.mse_loss(x, L.ones(3, 5)),
    "cross_entropy": lambda L, F, x: F.cross_entropy(x, L.tensor([0, 1, 2])),
    "bce_with_logits": lambda L, F, x: F.binary_cross_entropy_with_logits(x, L.ones(3, 5)),
    "embedding": lambda L, F, x: F.embedding(L.tensor([0, 2]), x),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(GRAD_FN_CASES))
def test_functional_grad_fn_name_matches_torch(torch, case):
    ours = GRAD_FN_CASES[case](tg, F, tg.ones(3, 5, requires_grad=True)).grad_fn.name()
    theirs = GRAD_FN_CASES[case](torch, torch.nn.functional,
                                 torch.ones(3, 5, requires_grad=True)).grad_fn
    assert ours == type(theirs).__name__


@pytest.mark.torch
@pytest.mark.parametrize("x_shape", [(3, 5), (5,)])
def test_linear_accepts_1d_weight_as_torch(torch, rng, x_shape):
    x, tx = pair(torch, rng.standard_normal(x_shape))
    w, tw = pair(torch, rng.standard_normal(5))
    y, ty = F.linear(x, w), torch.nn.functional.linear(tx, tw)
    assert_close(host(y), host(ty))
    backward_both(y, ty, rng)
    assert_close(host(w.grad), host(tw.grad))


def test_linear_matches_finite_differences(rng):
    check_finite_differences(F.linear, [rng.standard_normal((3, 4)),
                                        rng.standard_normal((2, 4)), rng.standard_normal(2)], rng)


# ---------------------------------------------------------------- activations
ACTIVATIONS = ["relu", "sigmoid", "tanh"]


@pytest.mark.torch
@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_matches_torch(torch, device, rng, name, dtype):
    x, tx = pair(torch, (3 * rng.standard_normal((4, 5))).astype(dtype), device)
    y, ty = getattr(F, name)(x), getattr(torch.nn.functional, name)(tx)
    assert_close(host(y), host(ty), dtype)
    backward_both(y, ty, rng)
    assert_close(host(x.grad), host(tx.grad), dtype)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_activation_matches_finite_differences(rng, name):
    check_finite_differences(getattr(F, name), [rng.standard_normal((3, 4))], rng)


def test_relu_inplace_overwrites_input_and_backpropagates(rng):
    a = rng.standard_normal(6)
    x = tg.tensor(a, requires_grad=True)
    h = x * 2.0
    out = F.relu(h, inplace=True)
    assert out is h
    np.testing.assert_array_equal(host(h), np.maximum(2 * a, 0))
    out.sum().backward()
    np.testing.assert_array_equal(host(x.grad), 2.0 * (a > 0))


@pytest.mark.torch
def test_relu_inplace_on_leaf_raises_as_torch(torch):
    expect_same_error(torch, lambda L, F: F.relu(L.ones(3, requires_grad=True), inplace=True))


# ---------------------------------------------------------------- softmax / log_softmax
@pytest.mark.torch
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,dim", [((4, 5), 1), ((4, 5), 0), ((2, 3, 4), -1), ((2, 3, 4), 1),
                                       ((7,), 0), ((), 0), ((0, 3), 1), ((0, 3), 0)])
def test_softmax_matches_torch(torch, device, rng, name, dtype, shape, dim):
    x, tx = pair(torch, rng.standard_normal(shape).astype(dtype), device)
    y, ty = getattr(F, name)(x, dim), getattr(torch.nn.functional, name)(tx, dim)
    assert_close(host(y), host(ty), dtype)
    backward_both(y, ty, rng)
    assert_close(host(x.grad), host(tx.grad), dtype)


@given(rows=st.integers(1, 6), classes=st.integers(1, 12), scale=st.sampled_from([1.0, 50.0]))
def test_log_softmax_is_log_of_softmax(rows, classes, scale):
    x = tg.tensor(scale * np.random.default_rng(rows * 100 + classes).standard_normal(
        (rows, classes)))
    np.testing.assert_allclose(host(F.log_softmax(x, 1)), np.log(host(F.softmax(x, 1))),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1])
def test_softmax_matches_finite_differences(rng, name, dim):
    check_finite_differences(lambda x: getattr(F, name)(x, dim), [rng.standard_normal((3, 4))],
                             rng)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_stays_finite_for_extreme_logits(name):
    x = tg.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    y = getattr(F, name)(x, 1)
    (y * tg.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])).sum().backward()
    assert np.isfinite(host(y)).all() and np.isfinite(host(x.grad)).all()
    expected = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    got = host(y) if name == "softmax" else np.exp(host(y))
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_implicit_dim_warns_and_picks_torch_dim(torch, rng, name):
    a = rng.standard_normal((2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        ours = getattr(F, name)(tg.tensor(a))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        theirs = getattr(torch.nn.functional, name)(torch.tensor(a))
    assert_close(host(ours), host(theirs))


def test_softmax_dtype_casts_first():
    y = F.softmax(tg.tensor([1, 2, 3]), 0, dtype=tg.float64)
    e = np.exp([1.0, 2.0, 3.0])
    assert y.dtype is tg.float64
    np.testing.assert_allclose(host(y), e / e.sum(), rtol=1e-15)


# ---------------------------------------------------------------- mse_loss
@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mse_loss_matches_torch(torch, device, rng, reduction, dtype):
    x, tx = pair(torch, rng.standard_normal((4, 5)).astype(dtype), device)
    t, tt = pair(torch, rng.standard_normal((4, 5)).astype(dtype), device)
    y = F.mse_loss(x, t, reduction=reduction)
    ty = torch.nn.functional.mse_loss(tx, tt, reduction=reduction)
    assert_close(host(y), host(ty), dtype)
    backward_both(y, ty, rng)
    assert_close(host(x.grad), host(tx.grad), dtype)
    assert_close(host(t.grad), host(tt.grad), dtype)


@pytest.mark.torch
def test_mse_loss_broadcasts_with_torch_warning(torch, rng):
    x, tx = pair(torch, rng.standard_normal((3, 4)))
    t, tt = pair(torch, rng.standard_normal(4))
    with pytest.warns(UserWarning, match="different to the input size"):
        y = F.mse_loss(x, t)
    with pytest.warns(UserWarning, match="different to the input size"):
        ty = torch.nn.functional.mse_loss(tx, tt)
    assert_close(host(y), host(ty))
    backward_both(y, ty, rng)
    assert_close(host(t.grad), host(tt.grad))


def test_mse_loss_promotes_mixed_float_dtypes():
    y = F.mse_loss(tg.ones(3, dtype=tg.float32), tg.zeros(3, dtype=tg.float64))
    assert y.dtype is tg.float64


def test_mse_loss_mean_of_empty_is_nan():
    assert np.isnan(F.mse_loss(tg.ones(0), tg.ones(0)).item())


def test_mse_loss_matches_finite_differences(rng):
    check_finite_differences(lambda x, t: F.mse_loss(x, t, reduction="sum"),
                             [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))], rng)


# ---------------------------------------------------------------- cross_entropy
def ce_pair(torch, rng, shape, dtype="float64", device="cpu", scale=1.0):
    classes = shape[1] if len(shape) > 1 else shape[0]
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    x = pair(torch, (scale * rng.standard_normal(shape)).astype(dtype), device)
    target = rng.integers(0, classes, target_shape)
    return x, (tg.tensor(target, device=device), torch.tensor(target))


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_torch(torch, device, rng, reduction, dtype, weighted, smoothing):
    (x, tx), (t, tt) = ce_pair(torch, rng, (6, 5), dtype, device)
    w, tw = pair(torch, rng.random(5).astype(dtype), device, False) if weighted else (None, None)
    y = F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=smoothing)
    ty = torch.nn.functional.cross_entropy(tx, tt, weight=tw, reduction=reduction,
                                           label_smoothing=smoothing)
    assert_close(host(y), host(ty), dtype)
    backward_both(y, ty, rng)
    assert_close(host(x.grad), host(tx.grad), dtype)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(5,), (2, 4, 3), (2, 3, 2, 2)])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_matches_torch_for_other_ranks(torch, rng, shape, reduction):
    (x, tx), (t, tt) = ce_pair(torch, rng, shape)
    y = F.cross_entropy(x, t, reduction=reduction, label_smoothing=0.1)
    ty = torch.nn.functional.cross_entropy(tx, tt, reduction=reduction, label_smoothing=0.1)
    assert_close(host(y), host(ty))
    backward_both(y, ty, rng)
    assert_close(host(x.grad), host(tx.grad))


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_ignore_index_matches_torch(torch, rng, reduction, ignore_index):
    x, tx = pair(torch, rng.standard_normal((5, 4)))
    target = np.array([0, ignore_index, 3, ignore_index, 1])
    w = rng.random(4)
    y = F.cross_entropy(x, tg.tensor(target), weight=tg.tensor(w), ignore_index=ignore_index,
                        reduction=reduction)
    ty = torch.nn.functional.cross_entropy(tx, torch.tensor(target), weight=torch.tensor(w),
                                           ignore_index=ignore_index, reduction=reduction)
    assert_close(host(y), host(ty))
    backward_both(y, ty, rng)
    assert_close(host(x.grad), host(tx.grad))


def test_cross_entropy_all_ignored_mean_is_nan_with_zero_grad():
    x = tg.ones(3, 4, requires_grad=True)
    loss = F.cross_entropy(x, tg.full((3,), -100))
    loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(host(x.grad), np.zeros((3, 4)))


def test_cross_entropy_accepts_uint8_targets(rng):
    x = tg.tensor(rng.standard_normal((4, 3)))
    target = np.array([0, 2, 1, 2])
    expected = F.cross_entropy(x, tg.tensor(target))
    assert F.cross_entropy(x, tg.tensor(target.astype(np.uint8))).item() == expected.item()


def test_cross_entropy_equals_log_softmax_formula(rng):
    a = rng.standard_normal((5, 4))
    target = rng.integers(0, 4, 5)
    shifted = a - a.max(1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    loss = F.cross_entropy(tg.tensor(a), tg.tensor(target))
    np.testing.assert_allclose(loss.item(), -log_p[np.arange(5), target].mean(), rtol=1e-14)


@given(batch=st.integers(1, 16), classes=st.integers(1, 12),
       reduction=st.sampled_from(["mean", "sum", "none"]), smoothing=st.sampled_from([0.0, 0.3]))
def test_cross_entropy_gradient_is_softmax_minus_one_hot(batch, classes, reduction, smoothing):
    rng = np.random.default_rng(batch * 31 + classes)
    a = rng.standard_normal((batch, classes))
    target = rng.integers(0, classes, batch)
    x = tg.tensor(a, requires_grad=True)
    F.cross_entropy(x, tg.tensor(target), reduction=reduction,
                    label_smoothing=smoothing).sum().backward()
    p = np.exp(a) / np.exp(a).sum(1, keepdims=True)
    soft = (1 - smoothing) * np.eye(classes)[target] + smoothing / classes
    expected = (p - soft) / (batch if reduction == "mean" else 1)
    np.testing.assert_allclose(host(x.grad), expected, rtol=1e-10, atol=1e-14)


@pytest.mark.torch
@given(batch=st.integers(1, 9), classes=st.integers(1, 9), weighted=st.booleans())
def test_cross_entropy_matches_torch_over_sizes(batch, classes, weighted):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(batch * 17 + classes)
    (x, tx), (t, tt) = ce_pair(torch, rng, (batch, classes), "float32")
    w = rng.random(classes).astype(np.float32) if weighted else None
    y = F.cross_entropy(x, t, weight=None if w is None else tg.tensor(w))
    ty = torch.nn.functional.cross_entropy(tx, tt, weight=None if w is None else
                                           torch.tensor(w))
    assert_close(host(y), host(ty), "float32")
    y.backward()
    ty.backward()
    assert_close(host(x.grad), host(tx.grad), "float32")


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_stays_finite_for_extreme_logits(torch, rng, dtype):
    a = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    x, tx = pair(torch, a)
    target = np.array([1, 1, 2])
    y = F.cross_entropy(x, tg.tensor(target), reduction="none")
    ty = torch.nn.functional.cross_entropy(tx, torch.tensor(target), reduction="none")
    y.sum().backward()
    ty.sum().backward()
    assert np.isfinite(host(y)).all() and np.isfinite(host(x.grad)).all()
    assert_close(host(y), host(ty), dtype)
    assert_close(host(x.grad), host(tx.grad), dtype)


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_matches_finite_differences(rng, smoothing):
    target, weight = tg.tensor([2, 0, 1]), tg.tensor(rng.random(4))
    check_finite_differences(lambda x: F.cross_entropy(x, target, weight=weight,
                                                       label_smoothing=smoothing),
                             [rng.standard_normal((3, 4))], rng)


def test_cross_entropy_frees_saved_arrays_after_backward(rng):
    loss = F.cross_entropy(tg.tensor(rng.standard_normal((3, 4)), requires_grad=True),
                           tg.tensor([0, 1, 2]))
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


# ---------------------------------------------------------------- binary_cross_entropy_with_logits
@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted,pos_weighted", [(False, False), (True, False), (False, True),
                                                   (True, True)])
def test_bce_with_logits_matches_torch(torch, device, rng, reduction, dtype, weighted,
                                       pos_weighted):
    x, tx = pair(torch, (3 * rng.standard_normal((4, 5))).astype(dtype), device)
    t, tt = pair(torch, rng.random((4, 5)).astype(dtype), device)
    w, tw = pair(torch, rng.random(5).astype(dtype), device, False) if weighted else (None, None)
    pw, tpw = (pair(torch, 3 * rng.random(5).astype(dtype), device, False) if pos_weighted
               else (None, None))
    y = F.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction, pos_weight=pw)
    ty = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, tt, weight=tw, reduction=reduction, pos_weight=tpw)
    assert_close(host(y), host(ty), dtype)
    backward_both(y, ty, rng)
    assert_close(host(x.grad), host(tx.grad), dtype)
    assert_close(host(t.grad), host(tt.grad), dtype)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_logits_stays_finite_for_extreme_logits(torch, dtype):
    a = np.array([1e4, -1e4, 1e4, -1e4, 30.0, -30.0], dtype=dtype)
    target = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 1.0], dtype=dtype)
    x, tx = pair(torch, a)
    pw, tpw = pair(torch, np.full(6, 2.0, dtype=dtype), requires_grad=False)
    y = F.binary_cross_entropy_with_logits(x, tg.tensor(target), reduction="none", pos_weight=pw)
    ty = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, torch.tensor(target), reduction="none", pos_weight=tpw)
    y.sum().backward()
    ty.sum().backward()
    assert np.isfinite(host(y)).all() and np.isfinite(host(x.grad)).all()
    assert_close(host(y), host(ty), dtype)
    assert_close(host(x.grad), host(tx.grad), dtype)


def test_bce_with_logits_matches_finite_differences(rng):
    weight, pos_weight = tg.tensor(rng.random(4)), tg.tensor(2 * rng.random(4))
    check_finite_differences(
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, weight=weight,
                                                        pos_weight=pos_weight),
        [rng.standard_normal((3, 4)), rng.random((3, 4))], rng)


# ---------------------------------------------------------------- embedding
@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(torch, device, rng, dtype, padding_idx):
    w, tw = pair(torch, rng.standard_normal((6, 3)).astype(dtype), device)
    indices = np.array([[0, 2, 2, 5], [5, 2, 1, 0]])  # repeats, and the padding rows
    y = F.embedding(tg.tensor(indices, device=device), w, padding_idx=padding_idx)
    ty = torch.nn.functional.embedding(torch.tensor(indices), tw, padding_idx=padding_idx)
    assert_close(host(y), host(ty), dtype)
    backward_both(y, ty, rng)
    assert_close(host(w.grad), host(tw.grad), dtype)


def test_embedding_repeated_indices_accumulate():
    w = tg.zeros(4, 2, requires_grad=True)
    F.embedding(tg.tensor([1, 1, 1, 3]), w).sum().backward()
    np.testing.assert_array_equal(host(w.grad), [[0, 0], [3, 3], [0, 0], [1, 1]])


def test_embedding_padding_row_gets_no_gradient():
    w = tg.ones(4, 2, requires_grad=True)
    out = F.embedding(tg.tensor([0, 1, 1]), w, padding_idx=1)
    out.sum().backward()
    np.testing.assert_array_equal(host(w.grad), [[1, 1], [0, 0], [0, 0], [0, 0]])
    np.testing.assert_array_equal(host(out)[1], [1, 1])  # the forward still reads the row


@pytest.mark.parametrize("index_dtype", [tg.int64, tg.int32])
def test_embedding_accepts_int64_and_int32_indices(rng, index_dtype):
    a = rng.standard_normal((5, 2))
    out = F.embedding(tg.tensor([4, 0], dtype=index_dtype), tg.tensor(a))
    np.testing.assert_array_equal(host(out), a[[4, 0]])


def test_embedding_of_0d_index_is_one_row(rng):
    a = rng.standard_normal((5, 3))
    out = F.embedding(tg.tensor(2), tg.tensor(a))
    np.testing.assert_array_equal(host(out), a[2])


# ---------------------------------------------------------------- errors, checked against torch
def expect_same_error(torch, call):
    """``call(lib, F)`` raises the same exception type and message in torch and in ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some calls warn before they raise, in both
        with pytest.raises(Exception) as theirs:
            call(torch, torch.nn.functional)
        with pytest.raises(Exception) as ours:
            call(tg, F)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value).replace("tinygrad_optim.", "torch.") == str(theirs.value)


ERRORS = {
    "linear_shapes": lambda L, F: F.linear(L.ones(3, 5), L.ones(4, 6)),
    "linear_1d_input_shapes": lambda L, F: F.linear(L.ones(6), L.ones(4, 5)),
    "linear_3d_input_shapes": lambda L, F: F.linear(L.ones(2, 3, 6), L.ones(4, 5)),
    "linear_dtypes": lambda L, F: F.linear(L.ones(3, 5), L.ones(4, 5, dtype=L.float64)),
    "linear_bias_dtype": lambda L, F: F.linear(L.ones(3, 5), L.ones(4, 5),
                                               L.ones(4, dtype=L.float64)),
    "linear_bias_shape": lambda L, F: F.linear(L.ones(3, 5), L.ones(4, 5), L.ones(3)),
    "linear_0d_input": lambda L, F: F.linear(L.tensor(1.0), L.ones(4, 5)),
    "linear_3d_weight": lambda L, F: F.linear(L.ones(3, 5), L.ones(2, 4, 5)),
    "linear_1d_weight_with_bias": lambda L, F: F.linear(L.ones(3, 5), L.ones(5), L.ones(1)),
    "softmax_dim": lambda L, F: F.softmax(L.ones(3, 5), 2),
    "softmax_int_last_dim": lambda L, F: F.softmax(L.tensor([1, 2]), 0),
    "softmax_int": lambda L, F: F.softmax(L.tensor([[1, 2]]), 0),
    "log_softmax_int": lambda L, F: F.log_softmax(L.tensor([1, 2]), 0),
    "mse_shapes": lambda L, F: F.mse_loss(L.ones(3, 5), L.ones(4)),
    "mse_reduction": lambda L, F: F.mse_loss(L.ones(3), L.ones(3), reduction="foo"),
    "mse_int": lambda L, F: F.mse_loss(L.tensor([1, 2]), L.tensor([1, 2])),
    "ce_target_too_large": lambda L, F: F.cross_entropy(L.ones(3, 5), L.tensor([0, 1, 5])),
    "ce_target_negative": lambda L, F: F.cross_entropy(L.ones(3, 5), L.tensor([0, -1, 2])),
    "ce_target_too_large_none": lambda L, F: F.cross_entropy(L.ones(3, 5), L.tensor([0, 1, 5]),
                                                             reduction="none"),
    "ce_batch": lambda L, F: F.cross_entropy(L.ones(3, 5), L.tensor([0, 1])),
    "ce_spatial_batch": lambda L, F: F.cross_entropy(L.ones(2, 5, 3),
                                                     L.zeros(3, 3, dtype=L.int64)),
    "ce_target_int32": lambda L, F: F.cross_entropy(L.ones(3, 5),
                                                    L.tensor([0, 1, 2], dtype=L.int32)),
    "ce_target_float": lambda L, F: F.cross_entropy(L.ones(3, 5), L.tensor([0.0, 1.0, 2.0])),
    "ce_weight_size": lambda L, F: F.cross_entropy(L.ones(3, 5), L.tensor([0, 1, 2]),
                                                   weight=L.ones(3)),
    "ce_weight_dtype": lambda L, F: F.cross_entropy(L.ones(3, 5), L.tensor([0, 1, 2]),
                                                    weight=L.ones(5, dtype=L.float64)),
    "ce_weight_requires_grad": lambda L, F: F.cross_entropy(
        L.ones(3, 5), L.tensor([0, 1, 2]), weight=L.ones(5, requires_grad=True)),
    "ce_1d_target_size": lambda L, F: F.cross_entropy(L.ones(5), L.tensor([1, 2])),
    "ce_multi_target": lambda L, F: F.cross_entropy(L.ones(2, 5), L.zeros(2, 1, dtype=L.int64)),
    "ce_spatial_target": lambda L, F: F.cross_entropy(L.ones(2, 5, 3),
                                                      L.zeros(2, 4, dtype=L.int64)),
    "ce_0d_target": lambda L, F: F.cross_entropy(L.ones(2, 5), L.tensor(1)),
    "ce_0d_input": lambda L, F: F.cross_entropy(L.tensor(1.0), L.tensor(0)),
    "ce_reduction": lambda L, F: F.cross_entropy(L.ones(3, 5), L.tensor([0, 1, 2]),
                                                 reduction="avg"),
    "ce_label_smoothing": lambda L, F: F.cross_entropy(L.ones(3, 5), L.tensor([0, 1, 2]),
                                                       label_smoothing=1.5),
    "ce_int_input": lambda L, F: F.cross_entropy(L.ones(3, 5, dtype=L.int64),
                                                 L.tensor([0, 1, 2])),
    "bce_target_shape": lambda L, F: F.binary_cross_entropy_with_logits(L.ones(3, 5), L.ones(5)),
    "bce_weight_shape": lambda L, F: F.binary_cross_entropy_with_logits(
        L.ones(3, 5), L.ones(3, 5), weight=L.ones(4)),
    "bce_pos_weight_shape": lambda L, F: F.binary_cross_entropy_with_logits(
        L.ones(3, 5), L.ones(3, 5), pos_weight=L.ones(4)),
    "bce_reduction": lambda L, F: F.binary_cross_entropy_with_logits(L.ones(3), L.ones(3),
                                                                     reduction="x"),
    "bce_int_target": lambda L, F: F.binary_cross_entropy_with_logits(
        L.ones(3), L.ones(3, dtype=L.int64)),
    "bce_int_input": lambda L, F: F.binary_cross_entropy_with_logits(
        L.ones(3, dtype=L.int64), L.ones(3)),
    "bce_weight_requires_grad": lambda L, F: F.binary_cross_entropy_with_logits(
        L.ones(3), L.ones(3), weight=L.ones(3, requires_grad=True)),
    "bce_pos_weight_requires_grad": lambda L, F: F.binary_cross_entropy_with_logits(
        L.ones(3), L.ones(3), pos_weight=L.ones(3, requires_grad=True)),
    "embedding_float_indices": lambda L, F: F.embedding(L.tensor([1.0]), L.ones(4, 2)),
    "embedding_byte_indices": lambda L, F: F.embedding(L.tensor([1], dtype=L.uint8),
                                                       L.ones(4, 2)),
    "embedding_index_too_large": lambda L, F: F.embedding(L.tensor([1, 4]), L.ones(4, 2)),
    "embedding_index_negative": lambda L, F: F.embedding(L.tensor([1, -1]), L.ones(4, 2)),
    "embedding_padding_idx": lambda L, F: F.embedding(L.tensor([1]), L.ones(4, 2),
                                                      padding_idx=4),
    "embedding_negative_padding_idx": lambda L, F: F.embedding(L.tensor([1]), L.ones(4, 2),
                                                               padding_idx=-5),
    "embedding_1d_weight": lambda L, F: F.embedding(L.tensor([1]), L.ones(4)),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(ERRORS))
def test_functional_errors_match_torch(torch, case):
    expect_same_error(torch, ERRORS[case])


def test_cross_entropy_rejects_probability_targets_explicitly():
    with pytest.raises(NotImplementedError, match="class-probability targets"):
        F.cross_entropy(tg.ones(3, 5), tg.ones(3, 5) / 5)


# ---------------------------------------------------------------- non-finite input, silently
NON_FINITE = {
    "softmax": lambda L, F, x: F.softmax(x, 1),
    "log_softmax": lambda L, F, x: F.log_softmax(x, 1),
    "cross_entropy": lambda L, F, x: F.cross_entropy(x, L.tensor([0, 1]), reduction="none"),
    "mse_loss": lambda L, F, x: F.mse_loss(x, L.zeros(2, 3), reduction="none"),
    "bce_with_logits": lambda L, F, x: F.binary_cross_entropy_with_logits(
        x, L.full((2, 3), 0.5), reduction="none"),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(NON_FINITE))
def test_non_finite_input_gives_torch_values_without_warning(torch, case):
    # filterwarnings = error turns any numpy RuntimeWarning into a failure here.
    a = np.array([[np.inf, 0.0, 1.0], [3e38, -np.inf, np.nan]], dtype=np.float32)
    ours = NON_FINITE[case](tg, F, tg.tensor(a))
    theirs = NON_FINITE[case](torch, torch.nn.functional, torch.tensor(a))
    np.testing.assert_allclose(host(ours), host(theirs), rtol=1e-6)  # inf and nan: equal
