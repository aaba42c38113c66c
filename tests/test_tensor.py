"""The Tensor: attributes, conversions, .grad and .data, in-place methods; torch is the oracle."""
import math
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_optim as tg
from _devices import landed


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _numpy(t):
    return t.detach().cpu().numpy()


def _assert_raises_like_torch(torch, make, prefix_only=False, same_message=True):
    """``make(lib)`` raises in tinygrad_optim what it raises in torch, with torch's message."""
    with pytest.raises(Exception) as expected:
        make(torch)
    with pytest.raises(expected.type) as got:
        make(tg)
    assert got.type is expected.type
    if prefix_only:  # messages whose tail names a torch-only tool
        assert str(got.value).split(" Hint:")[0] == str(expected.value).split(" Hint:")[0]
    elif same_message:
        assert str(got.value) == str(expected.value)


def _warning_of(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    return [str(w.message) for w in caught]


def _torch_warning_text(message: str) -> str:
    return message.split(" (Triggered internally at")[0]


# ---------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("name", ["float16", "float32", "float64", "int8", "int16", "int32",
                                  "int64", "uint8", "bool", "half", "float", "double", "short",
                                  "int", "long"])
def test_dtype_exposed_like_torch(torch, name):
    ours, theirs = getattr(tg, name), getattr(torch, name)
    assert repr(ours) == repr(theirs).replace("torch.", "tinygrad_optim.")
    assert ours.is_floating_point == theirs.is_floating_point
    assert ours.itemsize == theirs.itemsize


# ---------------------------------------------------------------------------- attributes
def test_tensor_attributes_describe_a_leaf(device):
    t = tg.ones(2, 3, device=device)
    assert t.shape == (2, 3) and isinstance(t.shape, tg.Size) and t.ndim == 2
    assert t.dtype is tg.float32 and t.device == landed(device)
    assert t.is_leaf and not t.requires_grad and t.grad_fn is None and t.grad is None


def test_size_repr_like_torch(torch):
    assert repr(tg.zeros(2, 3).size()) == repr(torch.zeros(2, 3).size()).replace(
        "torch.", "tinygrad_optim.")


@pytest.mark.parametrize("method", ["size", "dim", "numel"])
def test_shape_methods_match_torch(torch, method):
    assert getattr(tg.zeros(2, 3, 4), method)() == getattr(torch.zeros(2, 3, 4), method)()


@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_size_of_one_dim_matches_torch(torch, dim):
    assert tg.zeros(2, 3).size(dim) == torch.zeros(2, 3).size(dim)


def test_size_dim_out_of_range_as_torch(torch):
    _assert_raises_like_torch(torch, lambda lib: lib.zeros(2).size(2))


def test_stride_counts_elements_like_torch(torch):
    assert tg.zeros(2, 3, 4).stride() == torch.zeros(2, 3, 4).stride()
    assert tg.zeros(2, 3).T.stride() == torch.zeros(2, 3).T.stride()
    assert tg.zeros(2, 3).stride(-1) == 1


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_t_property_reverses_dims(shape):
    array = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    np.testing.assert_array_equal(_numpy(tg.tensor(array).T), array.T)


@pytest.mark.parametrize("shape", [(), (2, 3, 4)])
def test_t_property_warns_as_torch(torch, shape):
    array = np.zeros(shape, dtype=np.float32)
    ours = _warning_of(lambda: tg.tensor(array).T)
    theirs = _warning_of(lambda: torch.tensor(array).T)
    assert ours == [_torch_warning_text(m) for m in theirs]


# ---------------------------------------------------------------------------- conversions
def test_item_and_tolist_match_torch(torch):
    data = [[1.5, -2.0], [3.25, 4.0]]
    assert tg.tensor(data).tolist() == torch.tensor(data).tolist()
    assert tg.tensor(data)[1, 0].item() == torch.tensor(data)[1, 0].item()
    assert tg.tensor(7).item() == 7 and isinstance(tg.tensor(7).item(), int)


PYTHON_CONVERSION_ERRORS = {
    "item of two": lambda lib: lib.tensor([1.0, 2.0]).item(),
    "float of two": lambda lib: float(lib.tensor([2.5, 1.0])),
    "int of two": lambda lib: int(lib.tensor([2, 1])),
    "bool of two": lambda lib: bool(lib.tensor([1.0, 2.0])),
    "bool of none": lambda lib: bool(lib.tensor([])),
    "len of 0-d": lambda lib: len(lib.tensor(1.0)),
    "iter of 0-d": lambda lib: iter(lib.tensor(1.0)),
    "index of float": lambda lib: [0, 1][lib.tensor(1.0)],
    "contains a string": lambda lib: "a" in lib.tensor([1.0]),
    "numpy of requires grad": lambda lib: lib.tensor([1.0], requires_grad=True).numpy(),
}


@pytest.mark.parametrize("make", PYTHON_CONVERSION_ERRORS.values(),
                         ids=PYTHON_CONVERSION_ERRORS.keys())
def test_python_conversion_errors_match_torch(torch, make):
    _assert_raises_like_torch(torch, make)


@pytest.mark.parametrize("convert", [float, int, bool, lambda t: [10, 20, 30][t]])
def test_one_element_tensor_converts_like_torch(torch, convert):
    assert convert(tg.tensor([2])) == convert(torch.tensor([2]))


def test_numpy_shares_memory():
    t = tg.zeros(3)
    t.numpy()[1] = 4.0
    assert t.tolist() == [0.0, 4.0, 0.0]


def test_array_protocol_works_even_when_requires_grad():
    # A deliberate departure from torch (which raises): the tutorial plots a list of loss
    # tensors that require grad, and numpy must be able to read them.
    losses = [tg.tensor(4.0, requires_grad=True) * k for k in (1.0, 0.5)]
    np.testing.assert_array_equal(np.asarray(losses), [4.0, 2.0])
    np.testing.assert_array_equal(np.asarray(tg.ones(2, requires_grad=True)), [1.0, 1.0])


def test_len_and_iteration_walk_the_first_dim(torch):
    ours, theirs = tg.tensor([[1, 2], [3, 4], [5, 6]]), torch.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(ours) == len(theirs) == 3
    assert [row.tolist() for row in ours] == [row.tolist() for row in theirs]


def test_hash_is_identity_and_eq_is_elementwise():
    a, b = tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0])
    state = {a: "a", b: "b"}
    assert state[a] == "a" and state[b] == "b" and len(state) == 2
    assert (a == b).tolist() == [True, True] and (a == b).dtype is tg.bool


@pytest.mark.parametrize("element", [2.0, 5, "tensor"])
def test_contains_matches_torch(torch, element):
    def check(lib):
        value = lib.tensor(3.0) if element == "tensor" else element
        return value in lib.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert check(tg) == check(torch)


@pytest.mark.parametrize("method, dtype", [("float", "float32"), ("double", "float64"),
                                           ("long", "int64"), ("int", "int32"),
                                           ("half", "float16"), ("bool", "bool")])
def test_cast_methods_match_torch(torch, method, dtype):
    data = [-1.7, 0.0, 2.5]
    ours = getattr(tg.tensor(data), method)()
    assert ours.dtype is getattr(tg, dtype)
    np.testing.assert_array_equal(_numpy(ours), _numpy(getattr(torch.tensor(data), method)()))


def test_to_returns_self_when_nothing_changes(device):
    t = tg.ones(2, device=device)
    assert t.to(tg.float32) is t and t.to(device) is t and t.float() is t
    assert t.to(tg.float32, copy=True) is not t


def test_to_accepts_device_dtype_and_tensor(torch):
    def convert(lib):
        x = lib.tensor([1, 2])
        return x.to("cpu", lib.float64), x.to(lib.tensor([1.0])), x.to(dtype=lib.float16)
    for ours, theirs in zip(convert(tg), convert(torch)):
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        np.testing.assert_array_equal(_numpy(ours), _numpy(theirs))


def test_to_integer_drops_requires_grad_as_torch(torch):
    # An integer result has no gradient: torch gives a plain tensor, not a graph node.
    for lib in (tg, torch):
        t = lib.tensor([1.5, 2.5], requires_grad=True).long()
        assert not t.requires_grad and t.is_leaf and t.grad_fn is None


def test_to_records_the_cast_for_backward(torch):
    def grad(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x.double() * lib.tensor([3.0, 4.0], dtype=lib.float64)).sum().backward()
        return x.grad
    ours = grad(tg)
    assert ours.dtype is tg.float32
    np.testing.assert_array_equal(_numpy(ours), _numpy(grad(torch)))


@pytest.mark.parametrize("make", [lambda t: t.double(), lambda t: t.clone()],
                         ids=["cast", "clone"])
def test_cast_and_clone_name_their_history_as_torch(torch, make):
    ours = make(tg.ones(2, requires_grad=True)).grad_fn.name()
    assert ours == make(torch.ones(2, requires_grad=True)).grad_fn.name()


def test_cpu_returns_self_on_the_cpu():
    t = tg.ones(2)
    assert t.cpu() is t


@pytest.mark.gpu
def test_cuda_moves_and_gradient_comes_back(cuda):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.cuda()
    assert y.device == tg.device("cuda:0") and y.cuda() is y
    (y * y).sum().backward()
    assert x.grad.device == tg.device("cpu") and x.grad.tolist() == [2.0, 4.0]


def test_legacy_constructor_matches_torch(torch):
    assert tg.Tensor(2, 3).shape == torch.Tensor(2, 3).shape
    assert tg.Tensor(2, 3).dtype is tg.float32
    assert tg.Tensor([1, 2]).tolist() == torch.Tensor([1, 2]).tolist()
    assert tg.Tensor([1, 2]).dtype is tg.float32


def test_legacy_constructor_rejects_a_number_as_torch(torch):
    _assert_raises_like_torch(torch, lambda lib: lib.Tensor(2.5))


# ---------------------------------------------------------------------------- requires_grad
def test_requires_grad_flag_returns_self_and_marks_the_leaf():
    t = tg.zeros(2)
    assert t.requires_grad_() is t and t.requires_grad and t.is_leaf
    t.requires_grad = False
    assert not t.requires_grad


def test_requires_grad_on_a_non_leaf_may_stay_true(torch):
    for lib in (tg, torch):
        y = lib.ones(2, requires_grad=True) * 2
        assert y.requires_grad_(True) is y and y.requires_grad


REQUIRES_GRAD_ERRORS = {
    "integer tensor": lambda lib: lib.zeros(2, dtype=lib.int64).requires_grad_(),
    "non-leaf off": lambda lib: (lib.ones(2, requires_grad=True) * 2).requires_grad_(False),
    "non-leaf attribute on": lambda lib: setattr(lib.ones(2, requires_grad=True) * 2,
                                                 "requires_grad", True),
    "non-leaf attribute off": lambda lib: setattr(lib.ones(2, requires_grad=True) * 2,
                                                  "requires_grad", False),
    "retain_grad without grad": lambda lib: lib.ones(2).retain_grad(),
    "detach_ of a view": lambda lib: lib.ones(3, requires_grad=True)[1:].detach_(),
}


@pytest.mark.parametrize("make", REQUIRES_GRAD_ERRORS.values(), ids=REQUIRES_GRAD_ERRORS.keys())
def test_requires_grad_errors_match_torch(torch, make):
    _assert_raises_like_torch(torch, make)


def test_detach_shares_storage_and_leaves_the_graph():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 3).detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    d2 = x.detach()
    d2.add_(1.0)
    assert x.tolist() == [2.0, 3.0]


def test_detach_in_place_makes_a_non_leaf_a_plain_leaf():
    y = tg.ones(2, requires_grad=True) * 2
    assert y.detach_() is y and y.is_leaf and not y.requires_grad and y.grad_fn is None


def test_clone_copies_storage_and_passes_gradient_back(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c = x.clone()
        with lib.no_grad():
            c.mul_(10)
        (c * c).sum().backward()
        return x, c
    (x, c), (tx, _) = run(tg), run(torch)
    assert x.tolist() == [1.0, 2.0] and c.tolist() == [10.0, 20.0] and c.grad_fn is not None
    np.testing.assert_array_equal(_numpy(x.grad), _numpy(tx.grad))


# ---------------------------------------------------------------------------- .grad
def test_grad_is_added_into_the_same_tensor_object():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    first = x.grad
    (x * x).sum().backward()
    assert x.grad is first and first.tolist() == [4.0, 8.0]


def test_grad_is_assignable_and_clearable():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.grad = tg.tensor([0.5, 0.5])
    (3 * x).sum().backward()
    assert x.grad.tolist() == [3.5, 3.5]
    x.grad = None
    assert x.grad is None


GRAD_ASSIGNMENT_ERRORS = {
    "list": lambda lib: [1.0, 2.0, 3.0],
    "numpy array": lambda lib: np.ones(3, np.float32),
    "wrong shape": lambda lib: lib.zeros(2),
    "float64 for float32": lambda lib: lib.zeros(3, dtype=lib.float64),
    "int64 for float32": lambda lib: lib.zeros(3, dtype=lib.int64),
    "float16 for float32": lambda lib: lib.zeros(3, dtype=lib.float16),
    "uint8 for float32": lambda lib: lib.zeros(3, dtype=lib.uint8),
}


@pytest.mark.parametrize("make", GRAD_ASSIGNMENT_ERRORS.values(),
                         ids=GRAD_ASSIGNMENT_ERRORS.keys())
def test_grad_assignment_checks_as_torch(torch, make):
    _assert_raises_like_torch(
        torch, lambda lib: setattr(lib.ones(3, requires_grad=True), "grad", make(lib)))


def test_grad_assignment_to_float64_checks_as_torch(torch):
    _assert_raises_like_torch(torch, lambda lib: setattr(
        lib.ones(3, dtype=lib.float64, requires_grad=True), "grad", lib.zeros(3)))


def test_grad_of_non_leaf_warns_as_torch(torch):
    ours = _warning_of(lambda: (tg.ones(2, requires_grad=True) * 2).grad)
    theirs = _warning_of(lambda: (torch.ones(2, requires_grad=True) * 2).grad)
    assert len(ours) == 1 and ours == [_torch_warning_text(m) for m in theirs]


def test_grad_of_non_leaf_with_assigned_grad_does_not_warn():
    y = tg.ones(2, requires_grad=True) * 2
    y.grad = tg.ones(2)
    assert _warning_of(lambda: y.grad) == []


# ---------------------------------------------------------------------------- .data
def test_data_shares_memory_and_records_nothing():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.grad = tg.tensor([10.0, 10.0])
    update = x.data.sub_(0.1 * x.grad)
    assert x.tolist() == [0.0, 1.0]
    assert x.is_leaf and x.grad_fn is None and update.grad_fn is None
    assert not x.data.requires_grad and x.data.is_leaf


def test_data_update_goes_unseen_by_saved_tensors_as_torch(torch):
    # x.data changes are invisible to the version counter: backward uses the new values.
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        x.data.sub_(1.0)
        y.backward()
        return x.grad
    np.testing.assert_array_equal(_numpy(run(tg)), _numpy(run(torch)))


def test_data_assignment_replaces_storage(torch):
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        new = lib.zeros(2, dtype=lib.float64)
        x.data = new
        new.add_(5)
        return x
    ours, theirs = run(tg), run(torch)
    assert ours.dtype is tg.float64 and ours.requires_grad and ours.is_leaf
    np.testing.assert_array_equal(_numpy(ours), _numpy(theirs))


def test_data_assignment_rejects_non_tensors_as_torch(torch):
    _assert_raises_like_torch(torch, lambda lib: setattr(lib.ones(2), "data", [1.0]))


# ---------------------------------------------------------------------------- in place
class _Operands:
    """The operands of the in-place table, made by one library in one dtype on one device."""

    def __init__(self, lib, dtype="float32", device="cpu"):
        self.lib, self.dtype, self.device = lib, getattr(lib, dtype), device

    def t(self, data, dtype=None):
        dtype = self.dtype if dtype is None else getattr(self.lib, dtype)
        return self.lib.tensor(data, dtype=dtype, device=self.device)

    def a(self):
        return self.t([1.5, -2.0, 3.0, 0.25])

    def b(self):
        return self.t([0.5, 4.0, -1.0, 2.0])


INPLACE = {
    "add_": lambda s, o: s.add_(o.b()),
    "add_ alpha": lambda s, o: s.add_(o.b(), alpha=2.5),
    "add_ scalar": lambda s, o: s.add_(2),
    "add_ scalar alpha": lambda s, o: s.add_(2, alpha=-1.5),
    "add_ 0-d float64": lambda s, o: s.add_(o.t(0.1, "float64")),
    "add_ int tensor": lambda s, o: s.add_(o.t([1, 2, 3, 4], "int64")),
    "sub_": lambda s, o: s.sub_(o.b()),
    "sub_ alpha": lambda s, o: s.sub_(o.b(), alpha=0.3),
    "sub_ scalar": lambda s, o: s.sub_(2.5),
    "sub_ scalar alpha": lambda s, o: s.sub_(0.5, alpha=3),
    "mul_": lambda s, o: s.mul_(o.b()),
    "mul_ scalar": lambda s, o: s.mul_(3),
    "mul_ 0-d": lambda s, o: s.mul_(o.t(-0.7)),
    "div_": lambda s, o: s.div_(o.b()),
    "div_ scalar": lambda s, o: s.div_(3),
    "pow_ scalar": lambda s, o: s.pow_(2),
    "pow_ tensor": lambda s, o: s.abs_().pow_(o.t([2.0, 0.5, 1.5, 3.0])),
    "neg_": lambda s, o: s.neg_(),
    "sqrt_": lambda s, o: s.abs_().sqrt_(),
    "zero_": lambda s, o: s.zero_(),
    "fill_": lambda s, o: s.fill_(2.5),
    "fill_ 0-d tensor": lambda s, o: s.fill_(o.t(7.0)),
    "copy_": lambda s, o: s.copy_(o.b()),
    "copy_ int source": lambda s, o: s.copy_(o.t([1, 2, 3, 4], "int64")),
    "copy_ broadcast": lambda s, o: s.copy_(o.t(9.0)),
    "clamp_": lambda s, o: s.clamp_(-1, 2),
    "clamp_ min": lambda s, o: s.clamp_(min=0.5),
    "clamp_ max": lambda s, o: s.clamp_(max=0),
    "addcmul_": lambda s, o: s.addcmul_(o.b(), o.a(), value=0.3),
    "addcdiv_": lambda s, o: s.addcdiv_(o.b(), o.a(), value=-0.7),
    "lerp_ small weight": lambda s, o: s.lerp_(o.b(), 0.3),
    "lerp_ large weight": lambda s, o: s.lerp_(o.b(), 0.7),
    "lerp_ 0-d tensor weight": lambda s, o: s.lerp_(o.b(), o.t(0.45)),
    "lerp_ tensor weight": lambda s, o: s.lerp_(o.b(), o.t([0.1, 0.6, 0.9, -1.0])),
    "sign_": lambda s, o: s.sign_(),
    "abs_": lambda s, o: s.abs_(),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", INPLACE.values(), ids=INPLACE.keys())
def test_inplace_matches_torch_and_returns_self(torch, device, op, dtype):
    mine = _Operands(tg, dtype, device).a()
    theirs = _Operands(torch, dtype).a()
    out = op(mine, _Operands(tg, dtype, device))
    op(theirs, _Operands(torch, dtype))
    assert out is mine and mine.dtype.name == dtype and mine.device == landed(device)
    # Elementwise IEEE operations done in torch's order give torch's bits in float32; pow
    # may round its last bit differently (another libm), and in float64 torch's fused
    # multiply-adds round once where numpy rounds twice: one rounding of the operands'
    # magnitude (at most 4) is the slack.
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(_numpy(mine), _numpy(theirs), rtol=eps, atol=4 * eps)


@pytest.mark.parametrize("name", ["add", "sub"])
def test_add_and_sub_scale_a_number_by_alpha_as_torch(torch, name):
    def run(lib):
        return getattr(lib, name)(lib.tensor([1.0, 2.0]), 2, alpha=-1.5)
    np.testing.assert_array_equal(_numpy(run(tg)), _numpy(run(torch)))


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.4999999, 0.5, 0.7, 1.0, -0.8, 2.5])
def test_lerp_is_bit_equal_to_torch_in_float32(torch, weight):
    rng = np.random.default_rng(3)
    start, end = (rng.standard_normal(1000).astype(np.float32) * 10 for _ in range(2))
    ours = tg.tensor(start).lerp_(tg.tensor(end), weight)
    theirs = torch.tensor(start).lerp_(torch.tensor(end), weight)
    np.testing.assert_array_equal(_numpy(ours), _numpy(theirs))


@pytest.mark.parametrize("name", ["addcmul_", "addcdiv_"])
def test_addc_ops_are_bit_equal_to_torch_in_float32(torch, name):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(1000).astype(np.float32) + 3 for _ in range(3)]

    def run(lib):
        s, t1, t2 = (lib.tensor(a) for a in arrays)
        return getattr(s, name)(t1, t2, value=-0.0123)
    np.testing.assert_array_equal(_numpy(run(tg)), _numpy(run(torch)))


@pytest.mark.parametrize("op", INPLACE.values(), ids=INPLACE.keys())
def test_inplace_on_leaf_requiring_grad_raises_as_torch(torch, op):
    _assert_raises_like_torch(
        torch, lambda lib: op(_Operands(lib).a().requires_grad_(), _Operands(lib)))


@pytest.mark.parametrize("op", INPLACE.values(), ids=INPLACE.keys())
def test_inplace_on_leaf_under_no_grad_changes_it_quietly(torch, op):
    def run(lib):
        leaf = _Operands(lib).a().requires_grad_()
        with lib.no_grad():
            op(leaf, _Operands(lib))
        return leaf
    ours, theirs = run(tg), run(torch)
    assert ours.is_leaf and ours.requires_grad and ours.grad_fn is None
    np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=np.finfo(np.float32).eps)


@pytest.mark.parametrize("op", INPLACE.values(), ids=INPLACE.keys())
def test_inplace_on_non_leaf_records_history_as_torch(torch, op):
    def run(lib):
        o = _Operands(lib)
        x = o.a().requires_grad_()
        y = x * 1.5
        op(y, o)
        (y * o.t([1.0, 2.0, 3.0, 4.0])).sum().backward()
        return y, x.grad
    (y, grad), (their_y, their_grad) = run(tg), run(torch)
    assert y.requires_grad and not y.is_leaf
    eps = np.finfo(np.float32).eps
    np.testing.assert_allclose(_numpy(y), _numpy(their_y), rtol=eps, atol=4 * eps)
    # The history is an out-of-place composite (lerp as s + w * (e - s)), whose gradient
    # formula rounds differently from torch's dedicated one: a few units of float32.
    np.testing.assert_allclose(_numpy(grad), _numpy(their_grad), rtol=1e-6)


@pytest.mark.parametrize("name", ["addcmul_", "addcdiv_", "lerp_", "copy_", "mul_"])
def test_inplace_gradient_reaches_operands_as_torch(torch, name):
    def run(lib):
        o = _Operands(lib)
        target = o.a() * 1  # a plain tensor that becomes part of the graph
        operand = o.b().requires_grad_()
        args = {"addcmul_": (operand, o.a()), "addcdiv_": (operand, o.a()),
                "lerp_": (operand, 0.25), "copy_": (operand,), "mul_": (operand,)}[name]
        getattr(target, name)(*args)
        assert target.requires_grad and not target.is_leaf
        (target * o.t([1.0, -2.0, 3.0, 0.5])).sum().backward()
        return operand.grad
    np.testing.assert_allclose(_numpy(run(tg)), _numpy(run(torch)), rtol=2e-7)


def test_fill_with_a_tensor_passes_gradient_to_it_as_torch(torch):
    def run(lib):
        value = lib.tensor(2.0, requires_grad=True)
        target = lib.zeros(3)
        target.fill_(value)
        (target * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return value.grad
    assert run(tg).item() == run(torch).item()


def test_fill_of_a_non_leaf_holding_inf_gives_the_value_as_torch(torch):
    def run(lib):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        y = x.log()  # -inf in the first place: a recorded "y * 0 + 3" would give nan
        y.fill_(3.0)
        y.sum().backward()
        return y, x.grad  # log's backward divides the zero gradient by 0: nan, as in torch
    for ours, theirs in zip(run(tg), run(torch)):
        np.testing.assert_array_equal(_numpy(ours), _numpy(theirs))


def test_inplace_bumps_version_and_data_does_not():
    x = tg.zeros(2)
    x.add_(1).mul_(2)
    x.data.add_(1)
    assert x._version == 2


def test_augmented_assignment_updates_in_place_as_torch(torch):
    # The tutorial's update: under no_grad, ``w -= lr * w.grad`` keeps the same leaf.
    def run(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        (w * w).sum().backward()
        before = w
        with lib.no_grad():
            w -= 0.1 * w.grad
            w *= 2
            w += 1
            w /= 4
            w **= 2
        assert w is before and w.is_leaf and w.requires_grad
        return w
    np.testing.assert_array_equal(_numpy(run(tg)), _numpy(run(torch)))


def test_augmented_assignment_on_leaf_with_grad_enabled_raises_as_torch(torch):
    def make(lib):
        w = lib.ones(2, requires_grad=True)
        w += 1
    _assert_raises_like_torch(torch, make)


INPLACE_ERRORS = {
    "int div_": lambda lib: lib.tensor([1, 2]).div_(2),
    "int sqrt_": lambda lib: lib.tensor([1, 4]).sqrt_(),
    "int add_ float": lambda lib: lib.tensor([1, 2]).add_(1.5),
    "int mul_ float tensor": lambda lib: lib.tensor([1, 2]).mul_(lib.tensor([1.5, 2.0])),
    "int pow_ negative": lambda lib: lib.tensor([2, 3]).pow_(-1),
    "int pow_ float": lambda lib: lib.tensor([2, 3]).pow_(0.5),
    "int lerp_": lambda lib: lib.tensor([1, 2]).lerp_(lib.tensor([3, 4]), 0.5),
    "int lerp_ tensor weight": lambda lib: lib.tensor([1, 2]).lerp_(lib.tensor([3, 4]),
                                                                    lib.tensor([1, 2])),
    "int addcdiv_": lambda lib: lib.zeros(2, dtype=lib.int64).addcdiv_(
        lib.ones(2, dtype=lib.int64), lib.ones(2, dtype=lib.int64)),
    "int addcmul_ float": lambda lib: lib.zeros(2, dtype=lib.int64).addcmul_(lib.ones(2),
                                                                             lib.ones(2)),
    "int sub_ float alpha": lambda lib: lib.tensor([2, 3]).sub_(lib.tensor(1), alpha=2.5),
    "bool add_ int": lambda lib: lib.tensor([True, False]).add_(1),
    "bool sub_": lambda lib: lib.tensor([True]).sub_(True),
    "bool neg_": lambda lib: lib.tensor([True, False]).neg_(),
    "bool sqrt_": lambda lib: lib.tensor([True]).sqrt_(),
    "lerp_ end of another dtype": lambda lib: lib.zeros(2, dtype=lib.float64).lerp_(
        lib.ones(2), 0.5),
    "lerp_ weight of another dtype": lambda lib: lib.zeros(2).lerp_(
        lib.ones(2), lib.tensor([0.5, 0.5], dtype=lib.float64)),
    "broadcast mismatch": lambda lib: lib.zeros(2).add_(lib.ones(3)),
    "broadcast mismatch inner": lambda lib: lib.zeros(2).mul_(lib.ones(2, 3)),
    "broadcast grows": lambda lib: lib.zeros(2).add_(lib.ones(2, 2)),
    "broadcast grows addcmul_": lambda lib: lib.zeros(2, 1).addcmul_(lib.ones(3),
                                                                     lib.ones(2, 1)),
    "copy_ shape": lambda lib: lib.zeros(2).copy_(lib.ones(3)),
    "fill_ 1-d tensor": lambda lib: lib.zeros(2).fill_(lib.tensor([3.0])),
    "clamp_ without bounds": lambda lib: lib.zeros(2).clamp_(),
    "add_ string": lambda lib: lib.zeros(2).add_("a"),
    "add_ None": lambda lib: lib.zeros(2).add_(None),
    "add_ list": lambda lib: lib.zeros(2).add_([1, 2]),
    "add_ alpha string": lambda lib: lib.zeros(2).add_(1, alpha="x"),
    "addcmul_ number": lambda lib: lib.zeros(1).addcmul_(1.0, lib.ones(1)),
}


@pytest.mark.parametrize("make", INPLACE_ERRORS.values(), ids=INPLACE_ERRORS.keys())
def test_inplace_rejects_bad_arguments_as_torch(torch, make):
    _assert_raises_like_torch(torch, make)


# torch's messages here are its long listing of overloads, or name the C++ type oddly
# ("long int" for clamp_ only); the exception type is what we match.
INPLACE_TYPE_ERRORS = {
    "int clamp_ float": lambda lib: lib.tensor([1, 2]).clamp_(0.5),
    "lerp_ float end": lambda lib: lib.zeros(2).lerp_(2.0, 0.5),
    "fill_ string": lambda lib: lib.zeros(2).fill_("a"),
    "pow_ string": lambda lib: lib.zeros(2).pow_("a"),
}


@pytest.mark.parametrize("make", INPLACE_TYPE_ERRORS.values(), ids=INPLACE_TYPE_ERRORS.keys())
def test_inplace_rejects_bad_arguments_with_torchs_exception_type(torch, make):
    _assert_raises_like_torch(torch, make, same_message=False)


@pytest.mark.parametrize("data, src", [([1.0, 2.0], [1, 2]), ([2, 3], [1.7, -2.7]),
                                       ([2.0, 3.0], [True, False]), ([True, True], [0.0, 2.0])])
def test_copy_casts_from_any_dtype_as_torch(torch, data, src):
    def run(lib):
        return lib.tensor(data).copy_(lib.tensor(src))
    np.testing.assert_array_equal(_numpy(run(tg)), _numpy(run(torch)))


def test_inplace_on_a_tensor_another_op_saved_fails_backward_as_torch(torch):
    def make(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        y = a * a
        a.add_(1)
        y.sum().backward()
    _assert_raises_like_torch(torch, make, prefix_only=True)


def test_inplace_on_a_saved_output_fails_backward_as_torch(torch):
    def make(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.mul_(2)
        y.sum().backward()
    _assert_raises_like_torch(torch, make, prefix_only=True)


def test_inplace_on_a_saved_leaf_fails_backward_as_torch(torch):
    def make(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        y = x * w
        with lib.no_grad():
            w.add_(1)
        y.sum().backward()
    _assert_raises_like_torch(torch, make, prefix_only=True)


def test_inplace_through_detach_fails_backward_as_torch(torch):
    def make(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        y = a * a
        a.detach().add_(1)
        y.sum().backward()
    _assert_raises_like_torch(torch, make, prefix_only=True)


def test_inplace_on_a_view_of_a_leaf_raises_as_torch(torch):
    _assert_raises_like_torch(torch, lambda lib: lib.ones(3, requires_grad=True)[:2].add_(1))


_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
# A target shape with an operand shape that broadcasts against it (maybe to a larger shape).
_SHAPE_PAIRS = _SHAPES.flatmap(lambda shape: st.tuples(
    st.just(shape), hnp.broadcastable_shapes(shape, max_dims=4, min_side=0)))
_NUMBERS = st.one_of(st.booleans(), st.integers(-2**40, 2**40), st.floats(-1e6, 1e6, width=32))
# Rectangular nested lists of Python numbers of mixed types.
_NESTED = _SHAPES.flatmap(lambda shape: st.lists(
    _NUMBERS, min_size=math.prod(shape), max_size=math.prod(shape)).map(
        lambda flat: np.array(flat, dtype=object).reshape(shape).tolist()))


@given(shapes=_SHAPE_PAIRS, name=st.sampled_from(["add_", "mul_", "copy_", "addcmul_"]))
def test_inplace_broadcasting_matches_torch(shapes, name):
    torch = pytest.importorskip("torch")
    target_shape, operand_shape = shapes

    def run(lib):
        target = lib.arange(math.prod(target_shape), dtype=lib.float32).reshape(target_shape)
        operand = lib.arange(math.prod(operand_shape), dtype=lib.float32).reshape(
            operand_shape) - 1.5
        args = (operand, operand) if name == "addcmul_" else (operand,)
        try:
            return getattr(target, name)(*args)
        except RuntimeError as error:
            return str(error)
    ours, theirs = run(tg), run(torch)
    if isinstance(theirs, str):
        assert ours == theirs
    else:
        np.testing.assert_array_equal(_numpy(ours), _numpy(theirs))


@given(nested=_NESTED)
def test_tensor_of_random_nested_numbers_matches_torch(nested):
    torch = pytest.importorskip("torch")
    ours, theirs = tg.tensor(nested), torch.tensor(nested)
    assert ours.dtype.name == str(theirs.dtype).split(".")[1]
    np.testing.assert_array_equal(_numpy(ours), _numpy(theirs))


@pytest.mark.parametrize("make, expected", [
    (lambda x: x, False),                          # a leaf: retains_grad is only for non-leaves
    (lambda x: x * 2, False),
    (lambda x: _retained(x * 2), True),
])
def test_tensor_retains_grad_matches_torch(make, expected):
    assert make(tg.tensor([1.0], requires_grad=True)).retains_grad is expected


def _retained(t):
    t.retain_grad()
    return t
