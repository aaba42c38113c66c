"""FlatParameter: one buffer for many parameters gives the same steps as the parameters do."""
import doctest

import numpy as np
import pytest

import tinygrad_optim as tg
from tinygrad_optim.optim import flat as flat_module
from tinygrad_optim.optim.flat import FlatParameter

SHAPES = [(3, 4), (4,), (2, 5, 2), ()]
CONFIGS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1}),
    ("Adadelta", {}),
    ("Adamax", {"lr": 0.01}),
    ("ASGD", {"lr": 0.01, "t0": 0}),
    ("Rprop", {"lr": 0.01}),
]


def _params(seed=0, device="cpu"):
    rng = np.random.default_rng(seed)
    return [tg.tensor(rng.standard_normal(shape), dtype=tg.float32, device=device,
                      requires_grad=True) for shape in SHAPES]


def _loss(params):
    return sum(((p * p).sum() * (i + 1) + p.sum()) for i, p in enumerate(params))


def _train(optimizer, params, steps=5, set_to_none=True):
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=set_to_none)
        _loss(params).backward()
        optimizer.step()
    return [p.numpy(force=True).copy() for p in params]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=lambda c: str(c))
@pytest.mark.parametrize("set_to_none", [True, False])
def test_flat_steps_equal_the_steps_of_the_separate_parameters(name, kwargs, set_to_none,
                                                               device):
    separate = _params(device=device)
    expected = _train(getattr(tg.optim, name)(separate, **kwargs), separate,
                      set_to_none=set_to_none)
    members = _params(device=device)
    optimizer = getattr(tg.optim, name)([FlatParameter(members)], **kwargs)
    for ours, theirs in zip(_train(optimizer, members, set_to_none=set_to_none), expected):
        np.testing.assert_array_equal(ours, theirs)  # elementwise kernels: the same bits


def test_members_keep_their_identity_and_live_in_the_buffer():
    members = _params()
    model_view = list(members)
    flat = FlatParameter(members)
    assert flat.members == tuple(model_view) and flat.numel() == sum(p.numel() for p in members)
    with tg.no_grad():
        flat.fill_(2.0)
    assert all((p.numpy(force=True) == 2.0).all() for p in members)


def test_backward_adds_into_the_gathered_buffer_without_copies():
    members = _params()
    flat = FlatParameter(members)
    _loss(members).backward()
    first = flat.grad
    _loss(members).backward()  # accumulates into the members' grads: views of the buffer
    assert flat.grad is first
    separate = _params()
    _loss(separate).backward()
    _loss(separate).backward()
    expected = np.concatenate([p.grad.numpy().reshape(-1) for p in separate])
    np.testing.assert_array_equal(flat.grad.numpy(), expected)


def test_no_member_gradient_means_no_flat_gradient_and_no_step():
    members = _params()
    flat = FlatParameter(members)
    optimizer = tg.optim.SGD([flat], lr=0.1)
    before = flat.numpy(force=True).copy()
    optimizer.step()
    assert flat.grad is None
    np.testing.assert_array_equal(flat.numpy(force=True), before)


def test_a_member_without_gradient_counts_as_zero_gradient():
    # The documented trade-off: torch would skip the member; here momentum still moves it.
    members = _params()
    optimizer = tg.optim.SGD([FlatParameter(members)], lr=0.1, momentum=0.9)
    _loss(members).backward()
    optimizer.step()
    still = members[0].numpy(force=True).copy()
    for member in members:
        member.grad = None
    members[1].grad = tg.zeros(members[1].shape)
    optimizer.step()
    moved = members[0].numpy(force=True)
    assert not np.array_equal(moved, still)


def test_assigning_none_clears_every_member_gradient():
    members = _params()
    flat = FlatParameter(members)
    _loss(members).backward()
    flat.grad = None
    assert all(p.grad is None for p in members) and flat.grad is None


def test_assigning_a_gradient_fills_the_members():
    members = _params()
    flat = FlatParameter(members)
    flat.grad = tg.arange(flat.numel(), dtype=tg.float32)
    assert members[1].grad.tolist() == [12.0, 13.0, 14.0, 15.0]


def test_an_in_place_step_fails_a_backward_that_needed_a_member():
    members = _params()
    optimizer = tg.optim.SGD([FlatParameter(members)], lr=0.1)
    loss = _loss(members)
    _loss(members).backward()
    optimizer.step()  # changes the members' storage, which `loss`'s graph saved
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("make, message", [
    (lambda: [], "at least one parameter"),
    (lambda: [tg.zeros(2, requires_grad=True)] * 2, "twice"),
    (lambda: [tg.zeros(2)], "require grad"),
    (lambda: [tg.zeros(2, requires_grad=True) * 2], "leaf"),
    (lambda: [tg.zeros(2, requires_grad=True),
              tg.zeros(2, dtype=tg.float64, requires_grad=True)], "one dtype and device"),
])
def test_bad_members_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        FlatParameter(make())


def test_a_gradient_reaching_the_buffer_itself_is_refused_not_lost():
    flat = FlatParameter(_params())
    with pytest.raises(RuntimeError, match="compute with the parameters themselves"):
        (flat * flat).sum().backward()


def test_sparse_member_gradient_is_refused():
    embedding = tg.nn.Embedding(5, 2, sparse=True)
    flat = FlatParameter(embedding.parameters())
    embedding(tg.tensor([1, 3])).sum().backward()
    with pytest.raises(RuntimeError, match="dense gradients only"):
        flat.grad


def test_docstring_example_runs():
    failures, attempted = doctest.testmod(flat_module, optionflags=doctest.ELLIPSIS)
    assert failures == 0 and attempted >= 4
