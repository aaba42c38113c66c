"""Tests of the Optimizer base class, and of every registered optimizer against torch.optim."""
import copy
import functools
import inspect
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import cases_lbfgs
import cases_sparse_adam
import optim_cases
import tinygrad_optim as tg
import tinygrad_optim.optim as optim
from optim_cases import CASES, ERROR_CASES, FIXTURE_SETUP, LIVE_SETUP, materialize
from tinygrad_optim.optim.optimizer import Optimizer, required

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
ALL_CASES = [(name, case) for name, cases in CASES.items() for case in cases]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _leaves(lib):
    return lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)


def _build(lib, name, case, params):
    """The optimizer of ``case`` over two groups: ``params[:1]`` and ``params[1:]``."""
    groups = [{"params": params[:1]},
              {"params": params[1:], **materialize(case.second_group, lib)}]
    return getattr(lib.optim, name)(groups, **materialize(case.kwargs, lib))


# ---------------------------------------------------------------------- constructor errors
# (description, build(lib, p, q), exception, torch's message as a regex). Every row is also
# checked against torch itself by test_optimizer_construction_errors_match_torch.
CONSTRUCTION_ERRORS = [
    ("a single tensor", lambda lib, p, q: lib.optim.SGD(p), TypeError,
     r"^params argument given to the optimizer should be an iterable of Tensors or dicts, but "
     r"got torch\.FloatTensor$"),
    ("a single float64 tensor", lambda lib, p, q: lib.optim.SGD(p.double()), TypeError,
     r"but got torch\.DoubleTensor$"),
    ("an empty list", lambda lib, p, q: lib.optim.SGD([]), ValueError,
     r"^optimizer got an empty parameter list$"),
    ("an empty generator", lambda lib, p, q: lib.optim.SGD(iter([])), ValueError,
     r"^optimizer got an empty parameter list$"),
    ("a non-leaf tensor", lambda lib, p, q: lib.optim.SGD([p * 2]), ValueError,
     r"^can't optimize a non-leaf Tensor$"),
    ("a parameter in two groups",
     lambda lib, p, q: lib.optim.SGD([{"params": [p]}, {"params": [q, p]}]), ValueError,
     r"^some parameters appear in more than one parameter group$"),
    ("a set as a group's params", lambda lib, p, q: lib.optim.SGD([{"params": {p}}]), TypeError,
     r"^optimizer parameters need to be organized in ordered collections, but the ordering of "
     r"tensors in sets will change between runs\. Please use a list instead\.$"),
    ("names for some params only", lambda lib, p, q: lib.optim.SGD([("w", p), q]), ValueError,
     r"^all optimizer params should be with/without names\. Some param names are missing$"),
    ("a named group after an unnamed one",
     lambda lib, p, q: lib.optim.SGD([{"params": [p]}, {"params": [("w", q)]}]), ValueError,
     r"^all optimizer param groups should be with/without names\. cannot add param group "
     r"with names to the optimizer$"),
    ("an unnamed group after a named one",
     lambda lib, p, q: lib.optim.SGD([{"params": [("w", q)]}, {"params": [p]}]), ValueError,
     r"cannot add param group without names to the optimizer$"),
    ("a tensor after a group", lambda lib, p, q: lib.optim.SGD([{"params": [p]}, q]), TypeError,
     r"^param_group must be a dict, but got <class '[\w.]+'>$"),
    ("a group after a tensor", lambda lib, p, q: lib.optim.SGD([p, {"params": [q]}]), TypeError,
     r"^optimizer can only optimize Tensors, but one of the params is dict$"),
    ("a dict as params", lambda lib, p, q: lib.optim.SGD({"w": p}), TypeError,
     r"^optimizer can only optimize Tensors, but one of the params is str$"),
    ("an int among the params", lambda lib, p, q: lib.optim.SGD([p, 1]), TypeError,
     r"^optimizer can only optimize Tensors, but one of the params is int$"),
    ("an ndarray among the params", lambda lib, p, q: lib.optim.SGD([np.zeros(2)]), TypeError,
     r"^optimizer can only optimize Tensors, but one of the params is numpy\.ndarray$"),
    ("a group without params", lambda lib, p, q: lib.optim.SGD([{"lr": 0.1}]), KeyError,
     r"params"),
]

ADD_GROUP_ERRORS = [
    ("a list", lambda lib, p, q: [q], TypeError,
     r"^param_group must be a dict, but got <class 'list'>$"),
    ("no params", lambda lib, p, q: {"lr": 0.1}, KeyError, r"params"),
    ("a parameter already in a group", lambda lib, p, q: {"params": p}, ValueError,
     r"^some parameters appear in more than one parameter group$"),
    ("a set", lambda lib, p, q: {"params": {q}}, TypeError, r"ordering of tensors in sets"),
    ("a non-leaf tensor", lambda lib, p, q: {"params": [q * 2]}, ValueError,
     r"^can't optimize a non-leaf Tensor$"),
    ("a named group", lambda lib, p, q: {"params": [("w", q)]}, ValueError,
     r"cannot add param group with names to the optimizer$"),
    ("a string", lambda lib, p, q: {"params": [q, "w"]}, TypeError,
     r"but one of the params is str$"),
]


def _ids(table):
    return [row[0] for row in table]


@pytest.mark.parametrize("desc, build, exc, match", CONSTRUCTION_ERRORS,
                         ids=_ids(CONSTRUCTION_ERRORS))
def test_optimizer_construction_errors(desc, build, exc, match):
    with pytest.raises(exc, match=match):
        build(tg, *_leaves(tg))


@pytest.mark.torch
@pytest.mark.parametrize("desc, build, exc, match", CONSTRUCTION_ERRORS,
                         ids=_ids(CONSTRUCTION_ERRORS))
def test_optimizer_construction_errors_match_torch(torch, desc, build, exc, match):
    with pytest.raises(exc, match=match):
        build(torch, *_leaves(torch))


@pytest.mark.parametrize("desc, make, exc, match", ADD_GROUP_ERRORS, ids=_ids(ADD_GROUP_ERRORS))
@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_add_param_group_errors(lib_name, desc, make, exc, match):
    lib = pytest.importorskip(lib_name)
    p, q = _leaves(lib)
    opt = lib.optim.SGD([p])
    with pytest.raises(exc, match=match):
        opt.add_param_group(make(lib, p, q))
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_optimizer_duplicate_params_warn(lib_name):
    lib = pytest.importorskip(lib_name)
    p, _ = _leaves(lib)
    with pytest.warns(UserWarning, match=r"^optimizer contains a parameter group with "
                      r"duplicate parameters; in future, this will cause an error; see "
                      r"github\.com/pytorch/pytorch/issues/40967 for more information$"):
        lib.optim.SGD([p, p])


def _needs_lr(base, required_default):
    class NeedsLr(base):
        def __init__(self, params):
            super().__init__(params, {"lr": required_default, "beta": 0.5})
    return NeedsLr


def test_optimizer_required_hyperparameter_missing():
    with pytest.raises(ValueError, match=r"^parameter group didn't specify a value of required "
                                         r"optimization parameter lr$"):
        _needs_lr(Optimizer, required)([_leaves(tg)[0]])


@pytest.mark.torch
def test_optimizer_required_matches_torch(torch):
    from torch.optim.optimizer import required as torch_required
    assert repr(required) == repr(torch_required)
    with pytest.raises(ValueError, match=r"required optimization parameter lr$"):
        _needs_lr(torch.optim.Optimizer, torch_required)([_leaves(torch)[0]])


def test_optimizer_required_hyperparameter_given_per_group():
    p, _ = _leaves(tg)
    opt = _needs_lr(Optimizer, required)([{"params": [p], "lr": 0.3}])
    assert opt.param_groups[0]["lr"] == 0.3 and opt.param_groups[0]["beta"] == 0.5


@pytest.mark.torch
def test_optimizer_accepts_a_top_level_set_like_torch(torch):
    # torch rejects sets only as a group's params; a set of params becomes one group.
    p, _ = _leaves(tg)
    assert optim.SGD({p}).param_groups[0]["params"] == [p]
    assert torch.optim.SGD({_leaves(torch)[0]}).param_groups[0]["params"]


def test_optimizer_accepts_a_non_leaf_that_retains_grad():
    x = tg.tensor([1.0], requires_grad=True) * 2
    x.retain_grad()
    assert optim.SGD([x]).param_groups[0]["params"][0] is x


# ---------------------------------------------------------------------- param groups
@pytest.mark.torch
def test_optimizer_group_key_order_matches_torch(torch):
    def keys(lib):
        p, q = _leaves(lib)
        opt = lib.optim.SGD([{"lr": 0.5, "params": [p], "custom": 1}, {"params": q}],
                            momentum=0.9)
        return [list(g) for g in opt.param_groups]
    assert keys(tg) == keys(torch)
    assert keys(tg)[1] == ["params", "lr", "momentum", "dampening", "weight_decay",
                           "nesterov", "maximize", "foreach", "differentiable", "fused"]


def test_optimizer_group_values_win_over_defaults_and_are_not_validated():
    p, q = _leaves(tg)
    opt = optim.SGD([{"params": [p]}, {"params": [q], "lr": -1.0}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, -1.0]


def test_optimizer_single_tensor_group_becomes_a_list():
    p, q = _leaves(tg)
    opt = optim.SGD([{"params": p}])
    opt.add_param_group({"params": q, "lr": 0.5})
    assert opt.param_groups[0]["params"] == [p] and opt.param_groups[1]["params"] == [q]


def test_optimizer_named_params_fill_param_names():
    p, q = _leaves(tg)
    opt = optim.SGD([("w", p), ("b", q)])
    group = opt.param_groups[0]
    assert group["param_names"] == ["w", "b"] and group["params"] == [p, q]
    keys = list(opt.state_dict()["param_groups"][0])
    assert keys[0] == "param_names" and keys[-1] == "params"


def test_add_param_group_then_step_uses_the_group_lr():
    p, q = _leaves(tg)
    opt = optim.SGD([p], lr=0.1)
    opt.add_param_group({"params": [q], "lr": 0.5})
    p.grad, q.grad = tg.ones(2), tg.ones(1)
    opt.step()
    # Hand math: theta - lr * g with g = 1.
    np.testing.assert_array_equal(p.detach().numpy(), np.float32([1.0, 2.0]) - np.float32(0.1))
    np.testing.assert_array_equal(q.detach().numpy(), np.float32([2.5]))


# ---------------------------------------------------------------------- zero_grad
def test_zero_grad_default_sets_none_and_step_then_skips():
    p, _ = _leaves(tg)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = tg.ones(2)
    opt.zero_grad()
    opt.step()
    assert p.grad is None and p.tolist() == [1.0, 2.0] and len(opt.state) == 0


def test_zero_grad_in_place_keeps_the_grad_object():
    p, _ = _leaves(tg)
    grad = tg.ones(2)
    p.grad = grad
    optim.SGD([p]).zero_grad(set_to_none=False)
    assert p.grad is grad and grad.tolist() == [0.0, 0.0] and not grad.requires_grad


def test_zero_grad_in_place_detaches_a_grad_with_history():
    p, _ = _leaves(tg)
    source = tg.tensor([1.0, 1.0], requires_grad=True)
    p.grad = source * 3  # a gradient that is itself part of a graph
    optim.SGD([p]).zero_grad(set_to_none=False)
    assert p.grad.grad_fn is None and not p.grad.requires_grad
    assert p.grad.tolist() == [0.0, 0.0] and source.tolist() == [1.0, 1.0]


def test_zero_grad_stops_gradients_accumulating():
    p, _ = _leaves(tg)
    opt = optim.SGD([p])
    (p * p).sum().backward()
    (p * p).sum().backward()
    assert p.grad.tolist() == [4.0, 8.0]  # 2 * (2p): backward adds, never resets
    opt.zero_grad(set_to_none=False)
    (p * p).sum().backward()
    assert p.grad.tolist() == [2.0, 4.0]


# ---------------------------------------------------------------------- step contract
def test_optimizer_step_is_abstract():
    with pytest.raises(NotImplementedError):
        Optimizer([_leaves(tg)[0]], {}).step()


def test_optimizer_step_runs_the_closure_once_with_grad_enabled_and_returns_its_loss():
    p, _ = _leaves(tg)
    opt = optim.SGD([p], lr=0.1)
    seen = []

    def closure():
        seen.append(tg.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with tg.no_grad():
        loss = opt.step(closure)
    assert seen == [True] and loss.grad_fn is not None and loss.item() == 5.0
    np.testing.assert_allclose(p.tolist(), [0.8, 1.6], rtol=1e-6)  # p - 0.1 * 2p
    assert opt.step() is None


def test_optimizer_step_keeps_params_leaves_outside_any_graph():
    p, _ = _leaves(tg)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    p.grad = tg.ones(2)
    opt.step()
    assert p.is_leaf and p.requires_grad and not opt.state[p]["momentum_buffer"].requires_grad


@pytest.mark.parametrize("name", sorted(CASES))
def test_optimizer_step_invalidates_graphs_that_saved_the_param(name):
    p, _ = _leaves(tg)
    loss = (p * p).sum()  # saves p for backward
    p.grad = tg.ones(2)
    getattr(optim, name)([p]).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


# ---------------------------------------------------------------------- _step_count
def test_step_count_counts_completed_steps():
    p, _ = _leaves(tg)
    opt = optim.SGD([p])
    assert opt._step_count == 0
    p.grad = tg.ones(2)
    for expected in (1, 2, 3):
        opt.step()
        assert opt._step_count == expected


def test_step_count_for_a_subclass_written_like_a_torch_optimizer():
    class SignDescent(Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            loss = self._evaluate_closure(closure)
            with tg.no_grad():
                for group in self.param_groups:
                    for param in group["params"]:
                        param.sub_(param.grad.sign() * group["lr"])
            return loss

    p, _ = _leaves(tg)
    p.grad = tg.tensor([1.0, -1.0])
    opt = SignDescent([p])
    assert opt.step(lambda: "loss") == "loss" and opt.step() is None
    assert opt._step_count == 2
    np.testing.assert_allclose(p.tolist(), [0.8, 2.2], rtol=1e-6)


def test_step_count_counts_once_when_an_override_calls_super():
    class Logged(optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    class Inherited(Logged):
        pass

    p, _ = _leaves(tg)
    p.grad = tg.ones(2)
    for cls in (Logged, Inherited):
        opt = cls([p])
        opt.step()
        opt.step()
        assert opt._step_count == 2


def test_step_count_ignores_a_step_that_raises():
    p, _ = _leaves(tg)
    opt = optim.SGD([p])

    def failing():
        raise ArithmeticError("closure failed")

    with pytest.raises(ArithmeticError):
        opt.step(failing)
    assert opt._step_count == 0


# ---------------------------------------------------------------------- state_dict
def _abc_run(lib):
    """Three params in groups [a, b] and [c]; c gets state first and b never does."""
    a, b, c = (lib.tensor([float(i), 1.0], requires_grad=True) for i in range(3))
    opt = lib.optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    c.grad = lib.tensor([1.0, -1.0])
    opt.step()
    a.grad = lib.tensor([0.5, 0.25])
    opt.step()
    return opt


@pytest.mark.torch
def test_state_dict_layout_matches_torch(torch):
    ours, theirs = _abc_run(tg).state_dict(), _abc_run(torch).state_dict()
    assert list(ours) == ["state", "param_groups"]
    assert list(ours["state"]) == list(theirs["state"]) == [2, 0]  # creation order
    assert [list(s) for s in ours["state"].values()] == [["momentum_buffer"]] * 2
    assert ours["param_groups"] == theirs["param_groups"]
    assert [list(g)[-1] for g in ours["param_groups"]] == ["params", "params"]
    for index, entry in ours["state"].items():
        np.testing.assert_array_equal(entry["momentum_buffer"].numpy(),
                                      theirs["state"][index]["momentum_buffer"].numpy())


@pytest.mark.torch
@pytest.mark.parametrize("name, kwargs", [
    ("Adadelta", {"rho": 0.8, "weight_decay": 0.1}),
    ("Adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.2}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adam", {"amsgrad": True}),
    ("AdamW", {}),
    ("Adamax", {}),
    ("ASGD", {}),
    ("Rprop", {}),
], ids=lambda c: str(c))
def test_every_optimizers_state_dict_layout_matches_torch(torch, name, kwargs):
    """Key order of groups and state, group values, state keys: a second group sets its lr,
    and only its parameter has a gradient (Adagrad makes state for both in __init__)."""
    def layout(lib):
        p, q = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
        groups = [{"params": [p]}, {"params": [q], "lr": 0.5}]
        opt = getattr(lib.optim, name)(groups, **kwargs)
        q.grad = lib.tensor([1.0])
        opt.step()
        sd = opt.state_dict()
        groups = sd["param_groups"]
        return [list(g) for g in groups], groups, [(i, list(s)) for i, s in sd["state"].items()]

    assert layout(tg) == layout(torch)


def test_state_dict_holds_live_state_not_copies():
    opt = _abc_run(tg)
    c = opt.param_groups[1]["params"][0]
    entry = opt.state_dict()["state"][2]
    assert entry is opt.state[c] and entry["momentum_buffer"] is opt.state[c]["momentum_buffer"]


@pytest.mark.torch
def test_state_dict_indices_of_a_duplicated_param_match_torch(torch):
    def indices(lib):
        a, b = _leaves(lib)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            opt = lib.optim.SGD([{"params": [a, a]}, {"params": [b]}])
        opt.param_groups[1]["params"].append(a)  # behind add_param_group's back
        return [g["params"] for g in opt.state_dict()["param_groups"]]
    assert indices(tg) == indices(torch) == [[1, 1], [2, 1]]


# ---------------------------------------------------------------------- load_state_dict
def _drop_group(sd):
    sd["param_groups"].pop()


def _shrink_group(sd):
    sd["param_groups"][0]["params"].pop()


LOAD_ERRORS = [
    ("one group fewer", _drop_group, ValueError,
     r"^loaded state dict has a different number of parameter groups$"),
    ("a group one param short", _shrink_group, ValueError,
     r"^loaded state dict contains a parameter group that doesn't match the size of "
     r"optimizer's group$"),
    ("no param_groups", lambda sd: sd.pop("param_groups"), KeyError, r"param_groups"),
    ("no state", lambda sd: sd.pop("state"), KeyError, r"state"),
    ("a group without params", lambda sd: sd["param_groups"][1].pop("params"), KeyError,
     r"params"),
]


@pytest.mark.parametrize("desc, mutate, exc, match", LOAD_ERRORS, ids=_ids(LOAD_ERRORS))
@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_load_state_dict_errors(lib_name, desc, mutate, exc, match):
    lib = pytest.importorskip(lib_name)
    sd = _abc_run(lib).state_dict()
    mutate(sd)
    target = _abc_run(lib)
    with pytest.raises(exc, match=match):
        target.load_state_dict(sd)


@pytest.mark.parametrize("mutate, match", [
    (lambda sd: [], r"^optimizer state_dict must be a dict, but got <class 'list'>$"),
    (lambda sd: None, r"^optimizer state_dict must be a dict, but got <class 'NoneType'>$"),
    (lambda sd: {**sd, "state": []}, r"^state_dict\['state'\] must be a dict"),
    (lambda sd: {**sd, "param_groups": sd["param_groups"][0]},
     r"^state_dict\['param_groups'\] must be a list, but got <class 'dict'>$"),
    (lambda sd: {**sd, "param_groups": ["lr", "lr"]},
     r"^each of state_dict\['param_groups'\] must be a dict, but got <class 'str'>$"),
], ids=["list", "None", "state list", "param_groups dict", "group str"])
def test_load_state_dict_wrong_types_raise_type_error(mutate, match):
    # torch fails here with whatever its first dict operation raises; ours says what is wrong.
    opt = _abc_run(tg)
    with pytest.raises(TypeError, match=match):
        opt.load_state_dict(mutate(opt.state_dict()))


def _float64_run(lib, step_value=None):
    """Load a float32 optimizer's state (plus an optional 'step' entry) into float64 params."""
    sd = _abc_run(lib).state_dict()
    if step_value is not None:
        sd["state"][0]["step"] = lib.tensor(step_value)
    params = [lib.tensor([0.0, 1.0], dtype=lib.float64, requires_grad=True) for _ in range(3)]
    target = lib.optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.7)
    target.load_state_dict(sd)
    return sd, target, params


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_load_state_dict_casts_state_to_the_param_dtype_but_not_step(lib_name):
    lib = pytest.importorskip(lib_name)
    sd, target, params = _float64_run(lib, step_value=3.0)
    state = target.state[params[0]]
    assert state["momentum_buffer"].dtype == lib.float64
    assert state["step"].dtype == lib.float32 and state["step"].item() == 3.0
    np.testing.assert_array_equal(state["momentum_buffer"].numpy(),
                                  sd["state"][0]["momentum_buffer"].numpy().astype(np.float64))


@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_load_state_dict_keeps_the_state_dtype_of_integer_params(lib_name):
    lib = pytest.importorskip(lib_name)
    counts = lib.tensor([1, 2])  # an int64 leaf: optimizers accept it, no grad needed
    opt = lib.optim.SGD([counts], momentum=0.9)
    opt.load_state_dict({"state": {0: {"momentum_buffer": lib.tensor([0.5, 0.25])}},
                         "param_groups": [opt.state_dict()["param_groups"][0]]})
    assert opt.state[counts]["momentum_buffer"].dtype == lib.float32


def test_load_state_dict_deep_copies_the_given_dict():
    sd, target, _ = _float64_run(tg, step_value=3.0)
    same_dtype = optim.SGD([{"params": [tg.tensor([0.0, 1.0], requires_grad=True)
                                        for _ in range(2)]},
                            {"params": [tg.tensor([0.0, 1.0], requires_grad=True)]}])
    same_dtype.load_state_dict(sd)
    loaded = [dict(opt.state[opt.param_groups[0]["params"][0]]) for opt in (target, same_dtype)]
    before = [{k: v.tolist() for k, v in entry.items()} for entry in loaded]
    sd["state"][0]["momentum_buffer"].add_(100.0)
    sd["state"][0]["step"].add_(1.0)
    sd["param_groups"][0]["lr"] = 99.0
    after = [{k: v.tolist() for k, v in entry.items()} for entry in loaded]
    assert after == before
    assert [opt.param_groups[0]["lr"] for opt in (target, same_dtype)] == [0.1, 0.1]


def test_load_state_dict_takes_saved_hyperparameters_and_drops_unknown_keys():
    _, target, params = _float64_run(tg)
    assert [g["lr"] for g in target.param_groups] == [0.1, 0.5]
    assert target.param_groups[0]["params"] == params[:2]
    p, q = _leaves(tg)
    opt = optim.SGD([{"params": [p, q], "custom": 1}], lr=0.3)
    opt.load_state_dict(optim.SGD([p, q], lr=0.2).state_dict())
    assert "custom" not in opt.param_groups[0] and opt.param_groups[0]["lr"] == 0.2


def test_load_state_dict_fills_flags_missing_from_old_state_dicts():
    p, q = _leaves(tg)
    sd = optim.SGD([p, q], momentum=0.5).state_dict()
    del sd["param_groups"][0]["nesterov"], sd["param_groups"][0]["maximize"]
    opt = optim.SGD([p, q], nesterov=True, momentum=0.5, maximize=True)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["nesterov"] is False and opt.param_groups[0]["maximize"] is False


def test_load_state_dict_keeps_state_not_tied_to_a_param():
    p, q = _leaves(tg)
    sd = optim.SGD([p, q]).state_dict()
    sd["state"]["foo"] = {"note": [1, 2]}
    opt = optim.SGD([p, q])
    opt.load_state_dict(sd)
    assert opt.state["foo"] == {"note": [1, 2]} and opt.state["foo"] is not sd["state"]["foo"]


def test_load_state_dict_keeps_current_param_names_when_none_saved():
    p, q = _leaves(tg)
    sd = optim.SGD([p, q]).state_dict()
    opt = optim.SGD([("w", p), ("b", q)])
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]


def test_load_state_dict_maps_state_by_position(device):
    params = [tg.tensor([1.0, 2.0], device=device, requires_grad=True) for _ in range(2)]
    opt = optim.SGD(params, momentum=0.9)
    params[1].grad = tg.tensor([3.0, 4.0], device=device)
    opt.step()
    fresh = [tg.tensor([0.0, 0.0], device=device, requires_grad=True) for _ in range(2)]
    target = optim.SGD(fresh, momentum=0.9)
    target.load_state_dict(opt.state_dict())
    buffer = target.state[fresh[1]]["momentum_buffer"]
    assert fresh[0] not in target.state and buffer.device == fresh[1].device
    assert buffer.tolist() == [3.0, 4.0]


# ---------------------------------------------------------------------- repr, deepcopy
def _repr_setup(lib):
    p, q = _leaves(lib)
    return lib.optim.SGD([{"params": [p]}, {"params": [q], "lr": lib.tensor(0.001),
                                            "weight_decay": 0.5}], lr=0.1, momentum=0.9)


@pytest.mark.torch
def test_optimizer_repr_matches_torch(torch):
    assert repr(_repr_setup(tg)) == repr(_repr_setup(torch))


def test_optimizer_repr_lists_sorted_keys_per_group():
    text = repr(_repr_setup(tg))
    assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False"
                           "\n    foreach: None\n    fused: None\n    lr: 0.1\n")
    assert "Parameter Group 1\n" in text and "lr: 0.0010000000474974513\n" in text
    assert text.endswith("    weight_decay: 0.5\n)")


def test_optimizer_deepcopy_is_independent():
    opt = _abc_run(tg)
    twin = copy.deepcopy(opt)
    twin_a = twin.param_groups[0]["params"][0]
    assert twin._step_count == 2 and twin_a is not opt.param_groups[0]["params"][0]
    assert twin.state[twin_a]["momentum_buffer"].tolist() == [0.5, 0.25]
    twin_a.grad = tg.tensor([1.0, 1.0])
    twin.step()
    assert opt.state_dict()["state"][0]["momentum_buffer"].tolist() == [0.5, 0.25]
    assert twin._step_count == 3 and opt._step_count == 2


# ---------------------------------------------------------------------- every optimizer
def test_every_exported_optimizer_has_cases_and_fixtures():
    exported = [name for name in optim.__all__
                if isinstance(getattr(optim, name), type)
                and issubclass(getattr(optim, name), Optimizer) and name != "Optimizer"]
    assert exported
    for name in exported:
        # Optimizers whose runs need their own runner (sparse gradients only; a closure and
        # a problem) keep their registry and fixture in their own module.
        special = next((m for m in (cases_sparse_adam, cases_lbfgs) if name in m.CASES), None)
        if special is not None:
            cases, errors, fixture = special.CASES[name], special.ERROR_CASES.get(name), \
                special.FIXTURE
        else:
            cases, errors = CASES.get(name), ERROR_CASES.get(name)
            fixture = FIXTURES / f"{name.lower()}.npz"
        assert cases and errors, f"{name} has no registry cases"
        assert fixture.is_file(), f"{name} has no fixture file"
        assert len({case.id for case in cases}) == len(cases)


@functools.lru_cache(maxsize=None)
def _fixture(name):
    with np.load(FIXTURES / f"{name.lower()}.npz", allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


# Tolerances, relative to the largest magnitude an entry reaches over the recorded steps (an
# entry that decays towards 0 keeps the absolute rounding error of its larger past values):
# torch's CPU kernels fuse x + a*y into one FMA where numpy rounds a*y first, so each step may
# differ by about one rounding per operation. Over 100 steps such errors add up like a random
# walk: ~sqrt(100) * a few * eps. float64: eps = 1.1e-16 gives ~1e-14; 1e-12 leaves room for
# amplification by momentum. float32: eps = 6e-8 gives ~1e-6 at worst (measured: 1.6e-7).
RTOL = {"float64": 1e-12, "float32": 1e-6}


def _assert_matches(ours, reference, dtype):
    assert ours.keys() == reference.keys()
    for key, expected in reference.items():
        assert ours[key].dtype == expected.dtype, key
        scale = np.abs(expected).max(initial=0.0)
        np.testing.assert_allclose(ours[key], expected, rtol=RTOL[dtype],
                                   atol=RTOL[dtype] * scale, err_msg=key)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, case", ALL_CASES, ids=[f"{n}-{c.id}" for n, c in ALL_CASES])
def test_optimizer_matches_torch_fixture(name, case, dtype, device):
    fixture = _fixture(name)
    stale = "the registry changed: rerun tests/fixtures/make_optim_fixtures.py"
    assert str(fixture["meta/setup"]) == repr(FIXTURE_SETUP), stale
    assert str(fixture[f"signature/{case.id}"]) == case.signature(), stale
    count = len(FIXTURE_SETUP.shapes)
    data = ([fixture[f"init/{i}"] for i in range(count)],
            [fixture[f"grads/{i}"] for i in range(count)], fixture["has_grad"])
    reference = optim_cases.unpack(fixture[f"{case.id}/{dtype}/layout"],
                                   fixture[f"{case.id}/{dtype}/values"])
    ours = optim_cases.run(tg, getattr(optim, name), case, dtype, FIXTURE_SETUP, data, device)
    _assert_matches(ours, reference, dtype)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, case", ALL_CASES, ids=[f"{n}-{c.id}" for n, c in ALL_CASES])
def test_optimizer_matches_live_torch(torch, name, case, dtype):
    data = LIVE_SETUP.data()
    reference = optim_cases.run(torch, getattr(torch.optim, name), case, dtype, LIVE_SETUP, data)
    ours = optim_cases.run(tg, getattr(optim, name), case, dtype, LIVE_SETUP, data)
    _assert_matches(ours, reference, dtype)


ALL_ERROR_CASES = [(name, case) for name, cases in ERROR_CASES.items() for case in cases]


@pytest.mark.parametrize("name, case", ALL_ERROR_CASES,
                         ids=[f"{n}-{c.description}" for n, c in ALL_ERROR_CASES])
@pytest.mark.parametrize("lib_name", ["tinygrad_optim", pytest.param("torch", marks=[
    pytest.mark.torch])])
def test_optimizer_rejects_invalid_hyperparameters(lib_name, name, case):
    lib = pytest.importorskip(lib_name)
    with pytest.raises(case.exception, match=case.match):
        getattr(lib.optim, name)([_leaves(lib)[0]], **materialize(case.kwargs, lib))


# ---------------------------------------------------------------------- properties
shapes = array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


def _params(rng, shape, dtype, count=2):
    return [tg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
            for _ in range(count)]


def _step_all(opt, params, rng, steps):
    for _ in range(steps):
        for param in params:
            param.grad = tg.tensor(rng.standard_normal(param.shape).astype(param.dtype.np))
        opt.step()


@given(st.sampled_from(ALL_CASES), shapes, st.sampled_from(["float32", "float64"]),
       st.integers(0, 2**32 - 1))
def test_optimizer_keeps_dtype_and_shape_of_params_and_state(named_case, shape, dtype, seed):
    name, case = named_case
    rng = np.random.default_rng(seed)
    params = _params(rng, shape, dtype)
    opt = _build(tg, name, case, params)
    _step_all(opt, params, rng, 3)
    for param in params:
        assert param.dtype.name == dtype and param.shape == shape
        for key, value in opt.state[param].items():
            if not isinstance(value, tg.Tensor):
                continue
            if key in ("step", "eta", "mu"):  # torch's 0-d float32 scalars (ASGD's eta, mu)
                assert value.shape == () and value.dtype == tg.float32, key
            else:
                assert value.dtype == param.dtype and value.shape == param.shape, key
                assert value.device == param.device


@given(st.sampled_from(ALL_CASES), shapes, st.integers(0, 2**32 - 1))
def test_optimizer_leaves_params_without_grad_alone(named_case, shape, seed):
    name, case = named_case
    rng = np.random.default_rng(seed)
    params = _params(rng, shape, "float32", count=3)
    opt = _build(tg, name, case, params)
    idle = params[2]
    before, state_before = idle.tolist(), copy.deepcopy(opt.state.get(idle))
    _step_all(opt, params[:2], rng, 3)
    assert idle.grad is None and idle.tolist() == before
    # No state is created for it (an optimizer that makes state eagerly, as torch's Adagrad
    # does, must leave it as constructed).
    assert (idle in opt.state) == (state_before is not None)
    if state_before is not None:
        assert {k: np.asarray(v).tolist() for k, v in opt.state[idle].items()} == {
            k: np.asarray(v).tolist() for k, v in state_before.items()}


@given(st.sampled_from(ALL_CASES), shapes, st.sampled_from(["float32", "float64"]),
       st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_optimizer_resumed_from_state_dict_continues_bit_for_bit(
        named_case, shape, dtype, split, seed):
    name, case = named_case
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(shape).astype(dtype) for _ in range(2)]
    grads = [[rng.standard_normal(shape).astype(dtype) for _ in range(2)] for _ in range(5)]

    def run(params, opt, steps):
        for step_grads in steps:
            for param, grad in zip(params, step_grads):
                param.grad = tg.tensor(grad)
            opt.step()

    straight = [tg.tensor(a, requires_grad=True) for a in init]
    straight_opt = _build(tg, name, case, straight)
    run(straight, straight_opt, grads)
    first = [tg.tensor(a, requires_grad=True) for a in init]
    first_opt = _build(tg, name, case, first)
    run(first, first_opt, grads[:split])
    resumed = [tg.tensor(p.detach().numpy(), requires_grad=True) for p in first]
    resumed_opt = getattr(optim, name)([{"params": resumed[:1]}, {"params": resumed[1:]}])
    resumed_opt.load_state_dict(first_opt.state_dict())
    run(resumed, resumed_opt, grads[split:])
    expected = optim_cases.snapshot(straight_opt, straight)
    got = optim_cases.snapshot(resumed_opt, resumed)
    assert got.keys() == expected.keys()
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


# ---------------------------------------------------------------------- packaging
def test_optim_is_reachable_from_the_top_level_package():
    code = "import tinygrad_optim as torch; print(torch.optim.SGD.__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=pathlib.Path(__file__).parent.parent)
    assert result.stdout.strip() == "SGD", result.stderr


def test_optim_imports_cleanly_in_a_fresh_interpreter():
    code = ("import tinygrad_optim.optim as o; "
            "print(' '.join(n for n in o.__all__ if hasattr(o, n)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=pathlib.Path(__file__).parent.parent)
    assert result.stdout.split() == optim.__all__ and {"Optimizer", "SGD"} <= set(optim.__all__)
    assert result.stderr == ""


# ---------------------------------------------------------------------- implementation flags
FLAGGED = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "ASGD", "Rprop"]
FUSED = ["SGD", "Adagrad", "Adam", "AdamW"]  # torch 2.13 has fused kernels for these
CAPTURABLE = [name for name in FLAGGED if name not in ("SGD", "Adagrad")]


FLAG_NAMES = ("foreach", "fused", "capturable", "differentiable")


def _flags_of(name):
    parameters = inspect.signature(getattr(optim, name)).parameters
    return [f for f in FLAG_NAMES if f in parameters]


@pytest.mark.parametrize("name", FLAGGED)
@pytest.mark.parametrize("foreach", [None, False, True])
def test_implementation_flags_are_kept_in_groups_and_state_dict(name, foreach):
    p = tg.zeros(2, requires_grad=True)
    kwargs = {"foreach": foreach, **({"fused": False} if name in FUSED else {})}
    opt = getattr(optim, name)([p], lr=0.1, **kwargs)
    p.grad = tg.ones(2)
    opt.step()  # the flags change nothing: one implementation serves every setting
    group = opt.state_dict()["param_groups"][0]
    assert {f for f in group if f in FLAG_NAMES} == set(_flags_of(name))
    assert group["foreach"] is foreach and group["differentiable"] is False


@pytest.mark.parametrize("name", FUSED)
@pytest.mark.parametrize("other, message", [({"foreach": True}, "`fused` and `foreach` cannot be "
                                             "`True` together."),
                                            ({"differentiable": True}, "`fused` does not support "
                                             "`differentiable`")])
def test_fused_with_foreach_or_differentiable_raises_torchs_error(name, other, message):
    with pytest.raises(RuntimeError) as info:
        getattr(optim, name)([tg.zeros(1, requires_grad=True)], fused=True, **other)
    assert str(info.value) == message


@pytest.mark.parametrize("name, flag", [(n, "fused") for n in FUSED]
                         + [(n, "differentiable") for n in FLAGGED])
def test_flags_not_supported_yet_raise_not_implemented(name, flag):
    with pytest.raises(NotImplementedError, match=f"{flag}=True"):
        getattr(optim, name)([tg.zeros(1, requires_grad=True)], **{flag: True})


@pytest.mark.parametrize("name", CAPTURABLE)
def test_capturable_on_the_cpu_fails_at_step_as_in_torch(name):
    p = tg.zeros(2, requires_grad=True)
    opt = getattr(optim, name)([p], capturable=True)
    opt.step()  # nothing to step: torch checks only the parameters it updates
    p.grad = tg.ones(2)
    tensors = "params, mus, etas, and state_steps" if name == "ASGD" else "params and state_steps"
    devices = "'cuda', 'xpu', 'hpu', 'privateuseone'" + ("" if name == "Adadelta" else ", 'xla'")
    with pytest.raises(AssertionError) as info:
        opt.step()
    assert str(info.value) == (f"If capturable=True, {tensors} must be on supported devices: "
                               f"[{devices}].")


@pytest.mark.gpu
def test_capturable_on_a_gpu_is_not_supported_yet(cuda):
    p = tg.zeros(2, device=cuda, requires_grad=True)
    opt = optim.Adam([p], capturable=True)
    p.grad = tg.ones(2, device=cuda)
    with pytest.raises(NotImplementedError, match="capturable=True"):
        opt.step()


@pytest.mark.parametrize("what", ["lr", "betas[0]", "betas[1]"])
def test_adam_tensor_hyperparameter_with_foreach_is_refused_as_in_torch(what):
    kwargs = {"lr": tg.tensor(0.01)} if what == "lr" else {
        "betas": (tg.tensor(0.9), tg.tensor(0.999))}
    with pytest.raises(ValueError) as info:
        optim.Adam([tg.zeros(1, requires_grad=True)], foreach=True, **kwargs)
    first = "lr" if what == "lr" else "betas[0]"
    assert str(info.value) == (f"{first} as a Tensor is not supported for capturable=False and "
                               "foreach=True")


@pytest.mark.parametrize("name, args, flags", [
    ("Adagrad", (0.1, 0, 0, 0, 1e-10, True), {"foreach": True}),
    ("RMSprop", (0.1, 0.99, 1e-8, 0, 0, False, False, True, True),
     {"capturable": False, "foreach": True, "maximize": True}),
    ("Adadelta", (1.0, 0.9, 1e-6, 0, True), {"foreach": True}),
    ("Adamax", (2e-3, (0.9, 0.999), 1e-8, 0, True), {"foreach": True}),
    ("ASGD", (0.01, 1e-4, 0.75, 1e6, 0, True, True), {"foreach": True, "maximize": True}),
])
def test_torchs_positional_arguments_land_on_torchs_parameters(name, args, flags):
    opt = getattr(optim, name)([tg.zeros(1, requires_grad=True)], *args)
    assert {k: opt.defaults[k] for k in flags} == flags


@pytest.mark.torch
@pytest.mark.parametrize("name", FLAGGED)
@pytest.mark.parametrize("flags", [{"foreach": True}, {"foreach": False},
                                   {"fused": True, "foreach": True},
                                   {"fused": True, "differentiable": True}, {"capturable": True},
                                   {"fused": False}],
                         ids=["foreach", "no foreach", "fused+foreach", "fused+differentiable",
                              "capturable", "not fused"])
def test_flags_behave_as_in_torch(torch, name, flags):
    def outcome(lib):
        try:
            p = lib.zeros(2, requires_grad=True)
            opt = getattr(lib.optim, name)([p], lr=0.1, **flags)
            p.grad = lib.ones(2)
            opt.step()
            return "ok", list(opt.param_groups[0])
        except (TypeError, RuntimeError, AssertionError, ValueError) as error:
            return type(error).__name__, str(error).replace(lib.__name__, "lib")
    assert outcome(tg) == outcome(torch)
