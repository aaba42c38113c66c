"""nn: Parameter, Module bookkeeping, layers and losses, checked against torch's behaviour."""
import collections
import copy
import math
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

import tinygrad_optim as tg
import tinygrad_optim.nn as nn
import tinygrad_optim.nn.functional as F
from _devices import landed


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def host(tensor):
    return tensor.detach().cpu().numpy()


def torch_text(text: str) -> str:
    """Our text with torch's module name, for comparing messages and reprs."""
    return text.replace("tinygrad_optim.", "torch.")


def expect_same_error(torch, call):
    """``call(lib)`` raises the same exception type and message in torch and in ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            call(torch)
        with pytest.raises(Exception) as ours:
            call(tg)
    assert type(ours.value) is type(theirs.value)
    assert torch_text(str(ours.value)) == str(theirs.value)


def nn_of(lib):
    """The nn namespace of either library (tinygrad_optim's is imported, not an attribute)."""
    return nn if lib is tg else lib.nn


def mlp(lib, sizes=(4, 8, 8, 3)):
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn_of(lib).Linear(fan_in, fan_out), nn_of(lib).ReLU()]
    return nn_of(lib).Sequential(*layers[:-1])


def block(lib):
    """The same nested architecture, built with either library's nn."""
    lnn = nn_of(lib)

    class Block(lnn.Module):
        def __init__(self):
            super().__init__()
            self.proj = lnn.Linear(3, 4)
            self.scale = lnn.Parameter(lib.ones(4))
            self.head = lnn.Sequential(lnn.Tanh(), lnn.Linear(4, 2, bias=False))
    return Block()


# ---------------------------------------------------------------- Parameter
def test_parameter_requires_grad_and_is_leaf():
    p = nn.Parameter(tg.zeros(2, 3))
    assert p.requires_grad and p.is_leaf and isinstance(p, tg.Tensor)


def test_parameter_shares_storage_with_its_tensor():
    t = tg.zeros(3)
    p = nn.Parameter(t)
    t.add_(1.0)
    np.testing.assert_array_equal(host(p), [1.0, 1.0, 1.0])


@pytest.mark.torch
def test_parameter_shares_version_counter_as_torch(torch):
    counts = []
    for lib in (tg, torch):
        t = lib.zeros(3)
        p = nn_of(lib).Parameter(t)
        t.add_(1.0)
        counts.append(p._version)
    assert counts[0] == counts[1] == 1


def test_parameter_can_be_made_without_grad():
    assert not nn.Parameter(tg.zeros(2), requires_grad=False).requires_grad


def test_parameter_results_of_ops_are_plain_tensors():
    p = nn.Parameter(tg.ones(2))
    assert type(p * 2) is tg.Tensor and type(p.data) is tg.Tensor


@pytest.mark.torch
@pytest.mark.parametrize("args", [((1.0, -2.5),), ((1.0, 2.0), False), ()])
def test_parameter_repr_matches_torch(torch, args):
    data = [tg.tensor(args[0]), *args[1:]] if args else []
    tdata = [torch.tensor(args[0]), *args[1:]] if args else []
    assert torch_text(repr(nn.Parameter(*data))) == repr(torch.nn.Parameter(*tdata))


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda L: nn_of(L).Parameter(L.tensor([1, 2])),
    lambda L: nn_of(L).Parameter([1.0]),
], ids=["integer", "list"])
def test_parameter_errors_match_torch(torch, call):
    expect_same_error(torch, call)


# ---------------------------------------------------------------- Module registration
@pytest.mark.torch
def test_module_parameter_names_and_order_match_torch(torch):
    ours, theirs = block(tg), block(torch)
    assert ([(n, tuple(p.shape)) for n, p in ours.named_parameters()]
            == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()])


@pytest.mark.torch
def test_module_named_modules_match_torch(torch):
    ours, theirs = block(tg), block(torch)
    assert ([(n, type(m).__name__) for n, m in ours.named_modules()]
            == [(n, type(m).__name__) for n, m in theirs.named_modules()])


@pytest.mark.torch
def test_module_state_dict_keys_match_torch(torch):
    ours, theirs = mlp(tg), mlp(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_module_parameters_are_registered_in_assignment_order():
    m = nn.Module()
    m.b = nn.Parameter(tg.ones(1))
    m.a = nn.Parameter(tg.ones(2))
    m.child = nn.Linear(1, 1)
    assert [n for n, _ in m.named_parameters()] == ["b", "a", "child.weight", "child.bias"]


def test_module_shared_parameter_is_listed_once():
    m = nn.Module()
    m.first = nn.Linear(2, 2)
    m.second = m.first
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == ["first.weight", "first.bias", "second.weight",
                                    "second.bias"]


def test_module_reassigning_parameter_to_none_removes_it():
    m = nn.Linear(2, 2)
    m.bias = None
    assert [n for n, _ in m.named_parameters()] == ["weight"] and m.bias is None


def test_module_attribute_becomes_parameter_when_assigned_one():
    m = nn.Module()
    m.w = 3
    m.w = nn.Parameter(tg.ones(1))
    assert [n for n, _ in m.named_parameters()] == ["w"]


def test_module_delattr_unregisters():
    m = nn.Linear(2, 2)
    del m.bias
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    with pytest.raises(AttributeError):
        m.bias


def test_module_non_persistent_buffer_is_not_in_state_dict():
    m = nn.Module()
    m.register_buffer("kept", tg.ones(1))
    m.register_buffer("scratch", tg.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["kept"]
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]


def test_module_children_are_the_direct_submodules():
    m = mlp(tg)
    assert list(m.children()) == [m[i] for i in range(5)]


def _with(module, name, value):
    setattr(module, name, value)
    return module


MODULE_ERRORS = {
    "tensor_over_parameter": lambda L: setattr(
        _with(nn_of(L).Module(), "w", nn_of(L).Parameter(L.ones(1))), "w", L.ones(1)),
    "int_over_module": lambda L: setattr(
        _with(nn_of(L).Module(), "sub", nn_of(L).Linear(1, 1)), "sub", 3),
    "register_tensor_as_parameter": lambda L: nn_of(L).Module().register_parameter(
        "a", L.ones(1)),
    "register_dotted_parameter": lambda L: nn_of(L).Module().register_parameter("a.b", None),
    "register_int_buffer": lambda L: nn_of(L).Module().register_buffer("a", 3),
    "add_int_module": lambda L: nn_of(L).Module().add_module("a", 3),
    "missing_forward": lambda L: nn_of(L).Module()(1),
    "train_not_bool": lambda L: nn_of(L).Module().train(1),
    "missing_attribute": lambda L: nn_of(L).Linear(1, 1).foo,
}


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(MODULE_ERRORS))
def test_module_errors_match_torch(torch, case):
    expect_same_error(torch, MODULE_ERRORS[case])


def test_module_parameter_before_init_raises():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tg.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


# ---------------------------------------------------------------- Module behaviour
def test_module_call_runs_forward():
    class Double(nn.Module):
        def forward(self, x):
            return x * 2.0
    np.testing.assert_array_equal(host(Double()(tg.tensor([1.0, 3.0]))), [2.0, 6.0])


def test_module_train_and_eval_reach_every_submodule():
    m = mlp(tg)
    assert not any(sub.training for sub in m.eval().modules())
    assert all(sub.training for sub in m.train().modules())


def test_module_zero_grad_sets_grads_to_none_by_default():
    m = nn.Linear(3, 2)
    m(tg.ones(1, 3)).sum().backward()
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_module_zero_grad_can_fill_zeros_in_place():
    m = nn.Linear(3, 2)
    m(tg.ones(1, 3)).sum().backward()
    grad = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is grad
    np.testing.assert_array_equal(host(grad), np.zeros((2, 3)))


def test_module_state_dict_shares_storage_and_is_detached():
    m = nn.Linear(3, 2)
    state = m.state_dict()
    assert not state["weight"].requires_grad
    m.weight.data.add_(1.0)
    np.testing.assert_array_equal(host(state["weight"]), host(m.weight))


def test_module_load_state_dict_copies_values_into_same_parameters():
    source, target = mlp(tg), mlp(tg)
    weight = target[0].weight
    result = target.load_state_dict(source.state_dict())
    assert target[0].weight is weight
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(host(a), host(b), err_msg=name)
    assert repr(result) == "<All keys matched successfully>"


@pytest.mark.torch
def test_module_load_state_dict_errors_match_torch(torch):
    def call(L):
        m = mlp(L)
        state = m.state_dict()
        state.pop("0.bias")
        state["extra"] = L.ones(1)
        state["2.weight"] = L.ones(2, 2)
        m.load_state_dict(state)
    expect_same_error(torch, call)


@pytest.mark.torch
def test_module_load_state_dict_non_strict_reports_keys_as_torch(torch):
    ours = mlp(tg).load_state_dict({"x": tg.ones(1)}, strict=False)
    theirs = mlp(torch).load_state_dict({"x": torch.ones(1)}, strict=False)
    assert (ours.missing_keys, ours.unexpected_keys) == (theirs.missing_keys,
                                                         theirs.unexpected_keys)


def test_module_to_dtype_keeps_parameter_objects():
    m = nn.Linear(3, 2)
    m(tg.ones(1, 3)).sum().backward()
    weight, before = m.weight, host(m.weight)
    m.to(tg.float64)
    assert m.weight is weight and weight.dtype is tg.float64 and weight.grad.dtype is tg.float64
    np.testing.assert_array_equal(host(weight), before.astype(np.float64))


def test_module_to_device_moves_parameters(device):
    m = nn.Linear(3, 2).to(device)
    assert all(p.device == landed(device) for p in m.parameters())
    out = m(tg.ones(4, 3, device=device))
    assert out.device == landed(device)


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda L, m: m.to("cpu", L.float64, True),
    lambda L, m: m.to(L.float64, non_blocking=True),
    lambda L, m: m.to(L.zeros(1, dtype=L.float64)),
    lambda L, m: m.to(device="cpu", dtype=L.float64),
], ids=["device_dtype_non_blocking", "dtype_non_blocking_keyword", "tensor", "keywords"])
def test_module_to_accepts_torch_forms(torch, call):
    for lib in (tg, torch):
        m = nn_of(lib).Linear(3, 2)
        assert call(lib, m) is m
        assert m.weight.dtype is lib.float64 and m.bias.dtype is lib.float64


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda L: nn_of(L).Linear(3, 2).to(L.int64),
    lambda L: nn_of(L).Linear(3, 2).to(device="cpu", dtype=L.bool),
    lambda L: nn_of(L).Linear(3, 2).to(L.zeros(1, dtype=L.int64)),
], ids=["dtype", "keyword", "tensor"])
def test_module_to_non_floating_dtype_error_matches_torch(torch, call):
    expect_same_error(torch, call)


def test_module_float_and_double_cast_floating_state_only():
    m = nn.Linear(3, 2)
    m.register_buffer("counts", tg.zeros(2, dtype=tg.int64))
    assert m.double() is m and m.weight.dtype is tg.float64 and m.counts.dtype is tg.int64
    assert m.float().bias.dtype is tg.float32 and m.counts.dtype is tg.int64


def test_module_cpu_and_cuda_move_parameters(device):
    dev = tg.device(device)
    m = nn.Linear(3, 2).cpu() if dev.type == "cpu" else nn.Linear(3, 2).cuda(dev.index)
    assert [p.device for p in m.parameters()] == [landed(device)] * 2


def test_module_requires_grad_freezes_every_parameter():
    m = mlp(tg)
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    assert not m(tg.ones(1, 4)).requires_grad
    assert all(p.requires_grad for p in m.requires_grad_().parameters())


@pytest.mark.torch
def test_module_apply_visits_children_before_parents_as_torch(torch):
    visits = []
    for lib in (tg, torch):
        seen = []
        lnn = nn_of(lib)
        model = lnn.Sequential(lnn.Linear(2, 2), lnn.Sequential(lnn.Tanh(), lnn.ReLU()))
        assert model.apply(lambda module: seen.append(type(module).__name__)) is model
        visits.append(seen)
    assert visits[0] == visits[1] == ["Linear", "Tanh", "ReLU", "Sequential", "Sequential"]


def test_module_deepcopy_is_independent():
    m = mlp(tg)
    clone = copy.deepcopy(m)
    assert type(clone[0].weight) is nn.Parameter and clone[0].weight is not m[0].weight
    before = host(m[0].weight).copy()
    clone[0].weight.data.add_(1.0)
    np.testing.assert_array_equal(host(m[0].weight), before)


@pytest.mark.torch
def test_module_repr_matches_torch(torch):
    assert repr(mlp(tg)) == repr(mlp(torch))
    named = collections.OrderedDict([("fc", nn.Linear(2, 3, bias=False)),
                                     ("act", nn.ReLU(inplace=True))])
    tnamed = collections.OrderedDict([("fc", torch.nn.Linear(2, 3, bias=False)),
                                      ("act", torch.nn.ReLU(inplace=True))])
    assert repr(nn.Sequential(named)) == repr(torch.nn.Sequential(tnamed))


# ---------------------------------------------------------------- Linear
def test_linear_init_is_within_torch_bound():
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (m.weight, m.bias):
        assert np.abs(host(p)).max() <= bound
    # U(-b, b) has mean 0 and std b/sqrt(3): 120 000 draws pin both down tightly.
    assert abs(host(m.weight).mean()) < 0.01 * bound
    assert abs(host(m.weight).std() - bound / math.sqrt(3)) < 0.01 * bound


def test_linear_init_follows_the_seed():
    tg.manual_seed(5)
    first = host(nn.Linear(4, 3).weight)
    tg.manual_seed(5)
    again = host(nn.Linear(4, 3).weight)
    other = host(nn.Linear(4, 3).weight)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_linear_shapes_and_dtype(dtype):
    m = nn.Linear(5, 2, dtype=dtype)
    assert m.weight.shape == (2, 5) and m.bias.shape == (2,)
    assert m.weight.dtype is dtype and m(tg.ones(7, 5, dtype=dtype)).shape == (7, 2)


def test_linear_forward_is_affine(rng):
    m = nn.Linear(4, 3)
    a = rng.standard_normal((5, 4)).astype(np.float32)
    expected = a @ host(m.weight).T + host(m.bias)
    np.testing.assert_allclose(host(m(tg.tensor(a))), expected, rtol=1e-6)


def test_linear_without_bias_has_none_bias():
    m = nn.Linear(4, 3, bias=False)
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]


@pytest.mark.torch
@pytest.mark.parametrize("input_dtype,weight_dtype,bias_dtype", [
    ("float64", "float32", "float32"), ("float32", "float64", "float64"),
    ("float32", "float32", "float64"), ("float64", "float32", "float64"),
    ("int64", "float32", "float32"),
    ("float64", "float32", None), ("float32", "float64", None), ("int64", "float32", None),
])
def test_linear_dtype_mismatch_errors_match_torch(torch, input_dtype, weight_dtype, bias_dtype):
    def call(L):
        bias = None if bias_dtype is None else L.ones(2, dtype=getattr(L, bias_dtype))
        return nn_of(L).functional.linear(L.ones(4, 3, dtype=getattr(L, input_dtype)),
                                          L.ones(2, 3, dtype=getattr(L, weight_dtype)), bias)
    expect_same_error(torch, call)


# ---------------------------------------------------------------- Sequential
def test_sequential_applies_modules_in_order():
    seq = nn.Sequential(nn.ReLU(), nn.Tanh())
    np.testing.assert_allclose(host(seq(tg.tensor([-1.0, 2.0]))), [0.0, np.tanh(2.0)],
                               rtol=1e-6)


def test_sequential_indexing_slicing_and_append():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    seq = nn.Sequential(a, b)
    assert seq[0] is a and seq[-1] is b and len(seq) == 2 and list(seq) == [a, b]
    assert list(seq[1:]) == [b] and list(seq[1:]._modules) == ["1"]
    assert seq.append(c) is seq and seq[2] is c


@pytest.mark.torch
@pytest.mark.parametrize("index", [2, -3, "a"])
def test_sequential_bad_index_matches_torch(torch, index):
    expect_same_error(torch, lambda L: nn_of(L).Sequential(nn_of(L).ReLU(),
                                                           nn_of(L).Tanh())[index])


# ---------------------------------------------------------------- activations and losses
@pytest.mark.torch
@pytest.mark.parametrize("name", ["ReLU", "Tanh", "Sigmoid"])
def test_activation_module_matches_torch(torch, rng, name):
    a = rng.standard_normal((3, 4))
    ours = getattr(nn, name)()(tg.tensor(a))
    theirs = getattr(torch.nn, name)()(torch.tensor(a))
    np.testing.assert_allclose(host(ours), host(theirs), rtol=1e-12)
    assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())


@pytest.mark.torch
@pytest.mark.parametrize("name,kwargs,target", [
    ("MSELoss", {"reduction": "sum"}, "values"),
    ("CrossEntropyLoss", {"ignore_index": 1, "label_smoothing": 0.1}, "classes"),
    ("CrossEntropyLoss", {"weight": [0.5, 1.0, 2.0, 1.0], "reduction": "none"}, "classes"),
    ("BCEWithLogitsLoss", {"pos_weight": [1.0, 2.0, 3.0, 4.0]}, "probabilities"),
    ("BCEWithLogitsLoss", {"weight": [1.0, 0.0, 2.0, 1.0], "reduction": "sum"},
     "probabilities"),
])
def test_loss_module_matches_torch(torch, rng, name, kwargs, target):
    a = rng.standard_normal((5, 4))
    t = {"values": rng.standard_normal((5, 4)), "probabilities": rng.random((5, 4)),
         "classes": rng.integers(0, 4, 5)}[target]
    ours_kw = {k: tg.tensor(np.array(v)) if isinstance(v, list) else v
               for k, v in kwargs.items()}
    theirs_kw = {k: torch.tensor(np.array(v)) if isinstance(v, list) else v
                 for k, v in kwargs.items()}
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours = getattr(nn, name)(**ours_kw)(x, tg.tensor(t))
    theirs = getattr(torch.nn, name)(**theirs_kw)(tx, torch.tensor(t))
    np.testing.assert_allclose(host(ours), host(theirs), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(host(x.grad), host(tx.grad), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
def test_loss_weights_are_buffers_in_state_dict_as_torch(torch):
    ours = nn.BCEWithLogitsLoss(weight=tg.ones(2), pos_weight=tg.ones(2))
    theirs = torch.nn.BCEWithLogitsLoss(weight=torch.ones(2), pos_weight=torch.ones(2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(nn.CrossEntropyLoss(tg.ones(3)).state_dict()) == list(
        torch.nn.CrossEntropyLoss(torch.ones(3)).state_dict())


# ---------------------------------------------------------------- a training step against torch
def copy_weights(ours, theirs, dtype):
    with tg.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            p.copy_(tg.tensor(q.detach().numpy().astype(dtype)))


@pytest.mark.torch
@pytest.mark.parametrize("dtype,rtol", [("float32", 1e-6), ("float64", 1e-9)])
def test_mlp_training_step_matches_torch(torch, rng, dtype, rtol):
    theirs = mlp(torch, (20, 16, 16, 5)).to(getattr(torch, dtype))
    ours = mlp(tg, (20, 16, 16, 5)).to(getattr(tg, dtype))
    copy_weights(ours, theirs, dtype)
    a = rng.standard_normal((8, 20)).astype(dtype)
    labels = rng.integers(0, 5, 8)
    loss = F.cross_entropy(ours(tg.tensor(a)), tg.tensor(labels))
    tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(a)), torch.tensor(labels))
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=rtol)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        scale = np.abs(q.grad.numpy()).max()  # norm-relative: small grads come from sums
        np.testing.assert_allclose(host(p.grad), q.grad.numpy(), rtol=rtol, atol=rtol * scale,
                                   err_msg=name)
    with tg.no_grad(), torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            p.add_(p.grad, alpha=-0.1)
            q.add_(q.grad, alpha=-0.1)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(host(p), q.detach().numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("module", ["tinygrad_optim.nn", "tinygrad_optim.nn.functional"])
def test_nn_imports_cleanly_in_a_fresh_interpreter(module):
    root = pathlib.Path(__file__).resolve().parents[1]  # the package is imported from here
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                            text=True, timeout=60, cwd=root)
    assert result.returncode == 0, result.stderr
