"""The backward engine: order, accumulation, freeing, errors and memory; torch is the oracle."""
import functools
import gc
import operator
import sys
import weakref

import numpy as np
import pytest

import tinygrad_optim as tg
from tinygrad_optim.function import Function
from _devices import landed


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def no_cyclic_gc():
    """Run with the cyclic collector off: whatever dies must die by reference counting."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def _numpy(t):
    return t.detach().cpu().numpy()


def _assert_raises_like_torch(torch, make):
    with pytest.raises(Exception) as expected:
        make(torch)
    with pytest.raises(expected.type) as got:
        make(tg)
    assert got.type is expected.type and str(got.value) == str(expected.value)


class Counted(Function):
    """The identity, counting how often backward runs and what gradient it receives."""

    calls = []

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        Counted.calls.append(gy.copy())
        return (gy,)


@pytest.fixture
def counted():
    Counted.calls = []
    return Counted


# ---------------------------------------------------------------------------- values
def _mlp_grads(lib, device=None):
    rng = np.random.default_rng(0)
    w1 = lib.tensor(rng.standard_normal((3, 4)), dtype=lib.float32, requires_grad=True)
    w2 = lib.tensor(rng.standard_normal((4, 1)), dtype=lib.float32, requires_grad=True)
    x = lib.tensor(rng.standard_normal((5, 3)), dtype=lib.float32)
    if device is not None:
        w1, w2, x = (t.detach().to(device).requires_grad_(t.requires_grad) for t in (w1, w2, x))
    loss = ((x @ w1).tanh() @ w2).sigmoid().mean()
    loss.backward()
    return w1.grad, w2.grad


def test_backward_matches_torch_on_a_small_network(torch, device):
    for ours, theirs in zip(_mlp_grads(tg, device), _mlp_grads(torch)):
        assert ours.device == landed(device) and ours.dtype is tg.float32
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-5, atol=1e-7)


def test_backward_of_a_diamond_matches_torch(torch):
    def grad(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        a, b = x * 2, x.exp()
        (a * b + a).sum().backward()
        return x.grad
    np.testing.assert_allclose(_numpy(grad(tg)), _numpy(grad(torch)), rtol=1e-6)


def test_backward_runs_a_shared_node_once_with_the_summed_gradient(counted):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = counted.apply(x)
    (h * 2 + h * 3).sum().backward()
    assert len(counted.calls) == 1 and counted.calls[0].tolist() == [5.0, 5.0]
    assert x.grad.tolist() == [5.0, 5.0]


def test_backward_waits_for_the_longest_path(counted):
    # h feeds the output directly and through a chain of five operations: a recursive
    # depth-first walk would reach h before the long path has delivered its share.
    x = tg.tensor([1.0], requires_grad=True)
    h = counted.apply(x)
    long = h
    for _ in range(5):
        long = long * 2
    (long + h).sum().backward()
    assert len(counted.calls) == 1 and counted.calls[0].tolist() == [33.0]


def test_backward_through_a_100000_op_chain_without_recursion():
    x = tg.tensor([1.0, -1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = -y  # the cheapest recorded op: the test is about depth, not arithmetic
    assert sys.getrecursionlimit() < 100_000
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    del y  # tearing the chain down must not overflow the C stack either


def test_backward_on_a_leaf_seeds_its_grad():
    x = tg.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_backward_accepts_a_gradient_for_a_non_scalar(torch):
    def grad(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * x).backward(lib.tensor([1.0, 0.5, -1.0]))
        return x.grad
    np.testing.assert_array_equal(_numpy(grad(tg)), _numpy(grad(torch)))


@pytest.mark.parametrize("gradient", [lambda lib: [lib.ones(3)],
                                      lambda lib: lib.ones(3, dtype=lib.int64),
                                      lambda lib: lib.ones(3, dtype=lib.float64)])
def test_backward_gradient_forms_torch_accepts(torch, gradient):
    def grad(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * 2).backward(gradient(lib))
        return x.grad
    ours = grad(tg)
    assert ours.dtype is tg.float32
    np.testing.assert_array_equal(_numpy(ours), _numpy(grad(torch)))


def test_backward_inside_no_grad_still_computes_gradients(torch):
    def grad(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        with lib.no_grad():
            y.backward()
        return x.grad
    np.testing.assert_array_equal(_numpy(grad(tg)), _numpy(grad(torch)))


# ---------------------------------------------------------------------------- accumulation
def test_backward_adds_into_grad_and_never_clears_it(torch):
    def grads(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * 3).sum().backward()
        return first, x.grad
    for ours, theirs in zip(grads(tg), grads(torch)):
        np.testing.assert_array_equal(_numpy(ours), _numpy(theirs))


def test_backward_updates_the_grad_tensor_in_place():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    grad, storage = x.grad, x.grad.numpy()
    (x * x).sum().backward()
    assert x.grad is grad and x.grad.numpy() is storage and storage.tolist() == [4.0, 8.0]


def test_retain_graph_allows_a_second_pass_that_accumulates(torch):
    def grad(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    np.testing.assert_allclose(_numpy(grad(tg)), _numpy(grad(torch)), rtol=1e-6)


def test_second_pass_through_a_freed_graph_raises_as_torch(torch):
    def make(lib):
        y = (lib.tensor([1.0, 2.0], requires_grad=True).exp()).sum()
        y.backward()
        y.backward()
    _assert_raises_like_torch(torch, make)


def test_second_pass_through_a_graph_with_nothing_saved_works_as_torch(torch):
    def grad(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x + 1).sum()
        y.backward()
        y.backward()
        return x.grad
    np.testing.assert_array_equal(_numpy(grad(tg)), _numpy(grad(torch)))


def test_backward_frees_saved_arrays(no_cyclic_gc):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).exp()  # exp saves its output array for backward
    saved = weakref.ref(y.detach().numpy())
    loss = y.sum()
    del y
    assert saved() is not None  # only the graph holds it now
    loss.backward()
    assert saved() is None


# ---------------------------------------------------------------------------- non-leaves
def test_non_leaf_keeps_no_grad(torch):
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        (h * h).sum().backward()
        with pytest.warns(UserWarning, match="not a leaf Tensor"):
            assert h.grad is None


def test_retain_grad_keeps_a_non_leaf_grad_as_torch(torch):
    def grad(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        y = (h * h).sum()
        y.backward(retain_graph=True)
        y.backward()
        return h.grad
    np.testing.assert_array_equal(_numpy(grad(tg)), _numpy(grad(torch)))


# ---------------------------------------------------------------------------- errors
BACKWARD_ERRORS = {
    "non-scalar without gradient": lambda lib: (lib.ones(3, requires_grad=True) * 2).backward(),
    "no grad anywhere": lambda lib: lib.ones(3).sum().backward(),
    "non-scalar, no grad anywhere": lambda lib: lib.ones(3).backward(),
    "gradient of another shape": lambda lib: (lib.ones(3, requires_grad=True) * 2).backward(
        lib.ones(2)),
    "gradient for a 0-d output": lambda lib: lib.ones(3, requires_grad=True).sum().backward(
        lib.ones(1)),
    "shape checked first": lambda lib: lib.ones(3).backward(lib.ones(2)),
    "gradient as a list of floats": lambda lib: (lib.ones(3, requires_grad=True) * 2).backward(
        [1.0, 1.0, 1.0]),
    "gradient as a numpy array": lambda lib: (lib.ones(3, requires_grad=True) * 2).backward(
        np.ones(3)),
    "gradient as a float": lambda lib: (lib.ones(3, requires_grad=True) * 2).backward(2.0),
    "no gradients at all": lambda lib: (lib.ones(3, requires_grad=True) * 2).backward([]),
}


@pytest.mark.parametrize("make", BACKWARD_ERRORS.values(), ids=BACKWARD_ERRORS.keys())
def test_backward_errors_match_torch(torch, make):
    _assert_raises_like_torch(torch, make)


def test_backward_reports_a_function_with_a_wrong_gradient_count():
    class TwoGrads(Function):
        def forward(self, x):
            return x * 1

        def backward(self, gy):
            return gy, gy

    with pytest.raises(RuntimeError, match=r"returned an incorrect number of gradients "
                                           r"\(expected 1, got 2\)"):
        TwoGrads.apply(tg.ones(2, requires_grad=True)).sum().backward()


def test_backward_continues_past_a_node_that_passes_no_gradient():
    # x reaches the output through a node whose backward returns None and through x * 3:
    # the engine must still count the silent path down, or x would never get its grad.
    class Stop(Function):
        def forward(self, x):
            return x.copy()

        def backward(self, gy):
            return (None,)

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (Stop.apply(x * 2) + x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


# ---------------------------------------------------------------------------- memory
def test_intermediate_dies_with_its_name_after_backward(no_cyclic_gc):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    node = weakref.ref(h.grad_fn)
    alive = weakref.ref(h)
    loss = (h * h).sum()
    loss.backward()
    del h
    assert alive() is None  # the graph holds nodes and arrays, never output tensors
    del loss
    assert node() is None  # and nothing refers back to a node: no cycle keeps it


def test_graph_dies_without_backward(no_cyclic_gc):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = ((x * 2).exp() * x).sum()
    nodes = weakref.ref(loss.grad_fn)
    del loss
    assert nodes() is None


def test_retained_non_leaf_is_freed_after_use(no_cyclic_gc):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    alive = weakref.ref(h)
    del h
    assert alive() is None


def test_leaf_and_its_grad_die_with_their_name(no_cyclic_gc):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    leaf, grad = weakref.ref(x), weakref.ref(x.grad)
    del x
    assert leaf() is None and grad() is None


# ---------------------------------------------------------------------------- dtypes, layout
def _every_op(x, w):
    """A graph through most ops, returning each intermediate for inspection."""
    steps = [x + 1.5, x - w, x * 2, x / 3, 2 / (x + 5), x ** 2, x.abs() ** 1.5, x.exp(),
             (x * x + 1).log(), (x * x).sqrt(), x.tanh(), x.sigmoid(), x.relu(), x.sin(),
             x.cos(), x.clamp(-1, 1), x @ w.T, x.sum(), x.mean(0), x.max(), x.amax(1),
             x.reshape(-1), x.T, x[0], x[:, 1:], tg.cat([x, w]), tg.stack([x, w]),
             tg.where(x > 0, x, w), tg.maximum(x, w), x.unsqueeze(0).squeeze(0),
             x + tg.tensor(0.5, dtype=tg.float64), x * tg.tensor(2, dtype=tg.int64)]
    return steps


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_op_and_every_grad_keeps_the_dtype(device, dtype):
    dt = getattr(tg, dtype)
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((2, 3)), dtype=dt, device=device, requires_grad=True)
    w = tg.tensor(rng.standard_normal((2, 3)), dtype=dt, device=device, requires_grad=True)
    steps = _every_op(x, w)
    assert [s.dtype for s in steps] == [dt] * len(steps)
    sum(s.sum() for s in steps).backward()
    assert x.grad.dtype is dt and w.grad.dtype is dt


def test_gradient_through_a_transpose_is_c_contiguous():
    w = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (w.T * tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    assert w.grad.is_contiguous() and w.grad.stride() == w.stride()
    (w.T * 2).sum().backward()  # accumulating keeps the layout too
    assert w.grad.is_contiguous()
    assert w.grad.tolist() == [[3.0, 5.0, 7.0], [4.0, 6.0, 8.0]]


def test_gradient_takes_the_layout_of_a_fortran_parameter():
    w = tg.from_numpy(np.asfortranarray(np.ones((2, 3)))).requires_grad_()
    (w * 2).sum().backward()
    assert w.grad.stride() == w.stride() == (1, 2)


# ---------------------------------------------------------------------------- devices
def _needs_devices(n):
    if tg.cuda.device_count() < n:
        pytest.skip(f"needs {n} GPUs")


@pytest.mark.gpu
@pytest.mark.parametrize("devices, named", [(("cpu", "cuda:0"), "cuda:0 and cpu"),
                                            (("cuda:0", "cpu"), "cuda:0 and cpu"),
                                            (("cuda:1", "cuda:0"), "cuda:1 and cuda:0"),
                                            (("cuda:0", "cuda:0", "cpu"), "cuda:0 and cpu")])
def test_device_mismatch_is_named_as_torch_names_it(cuda, devices, named):
    # torch's message, as it prints it for a CUDA tensor meeting a CPU tensor.
    _needs_devices(2 if "cuda:1" in devices else 1)
    tensors = [tg.ones(2, device=d) for d in devices]
    with pytest.raises(RuntimeError) as info:
        functools.reduce(operator.add, tensors)
    assert str(info.value) == ("Expected all tensors to be on the same device, but found at "
                               f"least two devices, {named}!")


@pytest.mark.gpu
def test_tensors_on_one_gpu_combine(cuda):
    assert (tg.ones(2, device="cuda:0") + tg.ones(2, device="cuda")).tolist() == [2.0, 2.0]


@pytest.mark.gpu
@pytest.mark.parametrize("combine", [lambda x, s: x + s, lambda x, s: s * x,
                                     lambda x, s: tg.where(x > 1.5, x, s),
                                     lambda x, s: tg.maximum(x, s)],
                         ids=["add", "reflected mul", "where", "maximum"])
def test_zero_dim_cpu_tensor_joins_a_gpu_operation_as_in_torch(cuda, combine):
    # torch treats a 0-d CPU tensor as a number in a CUDA operation; its gradient comes
    # back to the CPU.
    x = tg.tensor([1.0, 2.0], device=cuda, requires_grad=True)
    s = tg.tensor(3.0, requires_grad=True)
    out = combine(x, s)
    assert out.device == landed(cuda)
    out.sum().backward()
    assert s.grad.device == tg.device("cpu") and x.grad.device == landed(cuda)
    x0, s0 = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor(3.0, requires_grad=True)
    combine(x0, s0).sum().backward()
    assert out.tolist() == combine(x0, s0).tolist()
    assert (x.grad.tolist(), s.grad.item()) == (x0.grad.tolist(), s0.grad.item())


@pytest.mark.gpu
@pytest.mark.parametrize("write", [lambda x, s: x.add_(s), lambda x, s: x.mul_(s),
                                   lambda x, s: x.copy_(s), lambda x, s: x.__setitem__(0, s),
                                   lambda x, s: x.lerp_(x * 0, s)],
                         ids=["add_", "mul_", "copy_", "setitem", "lerp_ weight"])
def test_zero_dim_cpu_tensor_feeds_a_gpu_in_place_operation(cuda, write):
    x, x0 = tg.tensor([1.0, 2.0], device=cuda), tg.tensor([1.0, 2.0])
    write(x, tg.tensor(0.25))
    write(x0, tg.tensor(0.25))
    assert x.device == landed(cuda) and x.tolist() == x0.tolist()


@pytest.mark.gpu
def test_one_dim_cpu_tensor_still_cannot_join_a_gpu_operation(cuda):
    with pytest.raises(RuntimeError, match="found at least two devices, cuda:0 and cpu!"):
        tg.ones(2, device=cuda) + tg.ones(1)


@pytest.mark.gpu
def test_zero_dim_cpu_tensor_cannot_take_a_gpu_result_in_place(cuda):
    with pytest.raises(RuntimeError, match="found at least two devices, cuda:0 and cpu!"):
        tg.tensor(1.0).add_(tg.ones((), device=cuda))
