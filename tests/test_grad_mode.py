"""Grad mode: no_grad / enable_grad / set_grad_enabled in every form, thread by thread."""
import threading

import pytest

import tinygrad_optim as tg


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _records(x) -> bool:
    """Whether an operation on ``x`` (which requires grad) is recorded right now."""
    return (x * 2).requires_grad


@pytest.fixture
def x():
    return tg.ones(2, requires_grad=True)


def test_no_grad_context_records_nothing_and_restores(x):
    with tg.no_grad():
        assert not tg.is_grad_enabled() and not _records(x)
        y = x * 2
    assert tg.is_grad_enabled() and _records(x)
    assert y.is_leaf and y.grad_fn is None


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ValueError):
        with tg.no_grad():
            raise ValueError
    assert tg.is_grad_enabled()


def test_enable_grad_inside_no_grad_records(x):
    with tg.no_grad():
        with tg.enable_grad():
            assert _records(x)
        assert not _records(x)


def test_no_grad_as_context_yields_none():
    with tg.no_grad() as value:
        assert value is None


@pytest.mark.parametrize("decorate", [tg.no_grad(), tg.no_grad],
                         ids=["no_grad()", "bare no_grad"])
def test_no_grad_decorator_applies_to_calls_only(x, decorate):
    @decorate
    def step(value):
        """Docstring kept by the decorator."""
        return _records(value), tg.is_grad_enabled()

    assert tg.is_grad_enabled()
    assert step(x) == (False, False)
    assert tg.is_grad_enabled() and step.__name__ == "step" and "kept" in step.__doc__


@pytest.mark.parametrize("decorate", [tg.enable_grad(), tg.enable_grad],
                         ids=["enable_grad()", "bare enable_grad"])
def test_enable_grad_decorator_records_inside_no_grad(x, decorate):
    step = decorate(lambda: _records(x))
    with tg.no_grad():
        assert step() and not tg.is_grad_enabled()


def test_set_grad_enabled_function_form_switches_now(x):
    tg.set_grad_enabled(False)
    try:
        assert not tg.is_grad_enabled() and not _records(x)
    finally:
        tg.set_grad_enabled(True)
    assert _records(x)


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_context_restores(mode):
    with tg.no_grad():
        with tg.set_grad_enabled(mode):
            assert tg.is_grad_enabled() is mode
        assert not tg.is_grad_enabled()


def test_set_grad_enabled_decorator_switches_at_call_time():
    @tg.set_grad_enabled(False)
    def inside():
        return tg.is_grad_enabled()

    assert tg.is_grad_enabled()  # decorating switched nothing
    assert inside() is False and tg.is_grad_enabled()


def test_set_grad_enabled_rejects_a_non_bool_as_torch(torch):
    with pytest.raises(TypeError) as expected:
        torch.set_grad_enabled("yes")
    with pytest.raises(TypeError) as got:
        tg.set_grad_enabled("yes")
    assert str(got.value) == str(expected.value)
    assert tg.is_grad_enabled()


def test_decorated_generator_runs_each_resume_in_the_mode(torch):
    def trace(lib):
        def gen():
            yield lib.is_grad_enabled()
            yield lib.is_grad_enabled()

        it = lib.no_grad()(gen)()
        return [next(it), lib.is_grad_enabled(), next(it)]

    assert trace(tg) == trace(torch) == [False, True, False]


def test_decorated_generator_passes_sends_and_returns():
    @tg.no_grad()
    def echo():
        received = yield tg.is_grad_enabled()
        return received * 2

    it = echo()
    assert next(it) is False
    with pytest.raises(StopIteration) as stop:
        it.send(21)
    assert stop.value.value == 42


def test_reentering_one_instance_restores_every_level():
    # torch leaves grad disabled here (its instance keeps one saved mode); we keep a stack.
    ctx = tg.no_grad()
    with ctx:
        with ctx:
            pass
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_grad_mode_is_per_thread(x):
    seen = {}

    def worker():
        seen["start"] = tg.is_grad_enabled()
        tg.set_grad_enabled(False)  # must not leak into the main thread
        seen["records"] = _records(x)

    with tg.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert not tg.is_grad_enabled()
    assert seen == {"start": True, "records": False}
    assert tg.is_grad_enabled() and _records(x)


def test_decorated_function_keeps_its_mode_in_several_threads(x):
    results = []

    @tg.no_grad()
    def step():
        results.append(_records(x))

    threads = [threading.Thread(target=step) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [False] * 4 and tg.is_grad_enabled()
