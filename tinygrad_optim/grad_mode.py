"""The thread-local switch that says whether operations record a graph for backward()."""
from __future__ import annotations

import functools
import inspect
import threading


class _State(threading.local):
    # A class attribute, not getattr's default: each thread starts with grad enabled, as in
    # torch, and reading the flag never goes through a caught AttributeError (every op reads
    # it, and the exception made that read cost more than the op's numpy call).
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    """Whether operations in this thread record a graph for ``backward()``."""
    return _state.enabled


def _set_enabled(mode: bool) -> None:
    _state.enabled = mode


class _GradMode:
    """Base of the grad-mode contexts: each works as a ``with`` block and as a decorator.

    An instance keeps a stack of the modes it replaced, so that re-entering the same
    instance (``ctx = no_grad()``, then ``with ctx: with ctx:``) restores every level.
    """

    mode = True

    def __enter__(self) -> None:
        self.__dict__.setdefault("_saved", []).append(is_grad_enabled())
        _set_enabled(self.mode)

    def __exit__(self, *exc) -> bool:
        _set_enabled(self._saved.pop())
        return False

    def __call__(self, func):
        """Decorate ``func`` (or a generator function) to run in this mode."""
        mode = self.mode
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(func, mode)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            # A fresh context per call: the decorated function may run in several threads.
            with _Fixed(mode):
                return func(*args, **kwargs)
        return wrapper


def _wrap_generator(func, mode: bool):
    """The generator runs in ``mode`` each time it resumes, and the caller's mode between."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with _Fixed(mode):
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with _Fixed(mode):
                        gen.close()
                    raise
                except BaseException as exc:  # thrown in by the caller: hand it on
                    with _Fixed(mode):
                        response = gen.throw(exc)
                else:
                    with _Fixed(mode):
                        response = gen.send(request)
        except StopIteration as stop:  # the generator returned: pass its value on
            return stop.value
    return wrapper


class no_grad(_GradMode):
    """Operations inside record nothing: ``with no_grad():``, ``@no_grad()`` or ``@no_grad``.

    Example:
        >>> with no_grad():
        ...     w.sub_(0.1 * w.grad)   # an update that autograd must not see
    """

    mode = False

    def __new__(cls, func=None):
        # torch also accepts the bare decorator form ``@no_grad``.
        instance = super().__new__(cls)
        if callable(func):
            return instance(func)
        return instance

    def __init__(self, func=None):
        pass


class enable_grad(no_grad):
    """Re-enable recording inside a ``no_grad`` region (context or decorator)."""

    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches recording off now (function form), for a ``with``
    block, or for the calls of a function it decorates.

    Raises:
        TypeError: when ``mode`` is not a bool (torch's message).
    """

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError("set_grad_enabled(): argument 'enabled' (position 1) must be bool, "
                            f"not {type(mode).__name__}")
        self._prev = is_grad_enabled()
        self.mode = mode
        _set_enabled(mode)

    def __enter__(self) -> None:
        pass  # the switch happened in __init__

    def __exit__(self, *exc) -> bool:
        _set_enabled(self._prev)
        return False

    def __call__(self, func):
        # Used as a decorator, the switch applies to the calls, not to the decoration itself.
        _set_enabled(self._prev)
        return super().__call__(func)


class _Fixed(_GradMode):
    """A plain context setting one mode, made afresh for each call of a decorated function."""

    def __init__(self, mode: bool):
        self.mode = mode
