"""Composite expressions (an MLP, a softmax, indexing with cat/stack ...) against torch."""
import numpy as np
import pytest

import tinygrad_optim as tg

pytestmark = pytest.mark.torch

# float32: numpy and torch sum products in different orders (BLAS kernels, pairwise sums),
# each off by a few ulps (~1e-7) and compounded over a handful of ops; float64 likewise at
# ~1e-16 per op. Entries far below the tensor's largest one are held to the same absolute
# error as it (cancellation makes their relative error meaningless).
TOLERANCES = [pytest.param("float32", 1e-6, id="float32"),
              pytest.param("float64", 1e-9, id="float64")]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def mlp(m, x, w1, b1, w2, b2):
    """Two layers, tanh then sigmoid, and a squared error against fixed targets."""
    hidden = (x @ w1 + b1).tanh()
    out = (hidden @ w2 + b2).sigmoid()
    target = m.tensor([[0., 1.], [1., 0.], [1., 1.], [0., 0.]], dtype=x.dtype, device=x.device)
    return ((out - target) ** 2).mean()


def softmax_cross_entropy(m, logits):
    """Softmax from exp and sum (max-shifted), then the picked classes' mean -log."""
    shifted = logits - logits.amax(dim=1, keepdim=True)
    e = shifted.exp()
    probs = e / e.sum(dim=1, keepdim=True)
    return -probs[m.arange(3), m.tensor([2, 0, 2])].log().mean()


def quadratic_form(m, x, a, b):
    """x^T A x + b.x per row, once with 2-D products and once batched (broadcast A)."""
    rows = ((x @ a) * x).sum(dim=1) + x @ b
    batched = (x.unsqueeze(1) @ a @ x.unsqueeze(2)).squeeze((1, 2))
    return (rows * 0.5 + batched / 4).sum() + (a + a.T).amax()


def index_cat_stack(m, a, b):
    """Slices, repeated indices, a mask, cat and stack feeding one scalar."""
    c = m.cat([a[1:3], b, a[m.tensor([0, 0])]], dim=0)
    s = m.stack([c, c * 2, -c], dim=1)
    picked = s[m.tensor([True, False, True, False, True, False])]
    return (s[:, 0] * s[:, 1]).sum() + picked.sum() * s[..., 2].mean() + s[None, 1, :, 0].sum()


def diamond(m, x, w):
    """One shared subexpression feeding several branches that join again."""
    u = x * 2 + w
    v = u.exp()
    s = u.sin()
    y = u.sigmoid()
    z = v * s + y * y + y.relu() - y.clamp(0.3, 0.7) + m.maximum(u, s)
    return (z.reshape(-1) / (1 + u.abs().reshape(-1))).sum() + u.view(2, 6).T.sum(dim=0).max()


CASES = {
    "mlp_tanh_sigmoid": (mlp, {"x": (4, 3), "w1": (3, 5), "b1": (5,), "w2": (5, 2),
                               "b2": (2,)}),
    "softmax_cross_entropy": (softmax_cross_entropy, {"logits": (3, 4)}),
    "quadratic_form": (quadratic_form, {"x": (5, 3), "a": (3, 3), "b": (3,)}),
    "index_cat_stack": (index_cat_stack, {"a": (4, 3), "b": (2, 3)}),
    "diamond": (diamond, {"x": (3, 4), "w": (4,)}),
}


def run(lib, fn, arrays, device=None):
    """``fn`` on leaves made from ``arrays``; returns the value and every leaf's gradient."""
    kw = {} if device is None else {"device": device}
    leaves = {name: lib.tensor(a, requires_grad=True, **kw) for name, a in arrays.items()}
    out = fn(lib, **leaves)
    out.backward()
    return out.item(), {name: t.grad.detach().cpu().numpy() for name, t in leaves.items()}


def assert_close(actual, expected, rtol):
    scale = np.max(np.abs(expected), initial=0)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
@pytest.mark.parametrize("name", CASES)
def test_composite_matches_torch(torch, device, name, dtype, rtol):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(sorted(CASES).index(name))
    arrays = {k: rng.uniform(-1, 1, shape).astype(dtype) for k, shape in shapes.items()}
    value, grads = run(tg, fn, arrays, device)
    want_value, want_grads = run(torch, fn, arrays)
    assert_close(value, want_value, rtol)
    assert grads.keys() == want_grads.keys()
    for leaf, grad in grads.items():
        assert grad.dtype == np.dtype(dtype)
        assert_close(grad, want_grads[leaf], rtol)
