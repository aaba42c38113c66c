"""The thread-local switch that says whether operations record a graph for backward()."""
from __future__ import annotations

import functools
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_state, "enabled", True)


def _set_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradMode:
    """Base of the grad-mode contexts: each works as ``with`` block and as decorator."""

    mode = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set_enabled(self.mode)
        return None

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            # A fresh context per call: the decorated function may run in several threads.
            with _Fixed(self.mode):
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Operations inside record nothing (``with no_grad():`` or ``@no_grad()``)."""

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
    """Re-enable recording inside a ``no_grad`` region."""

    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches recording off now, or for a ``with`` block."""

    def __init__(self, mode: bool):
        self._prev = is_grad_enabled()
        self.mode = bool(mode)
        _set_enabled(self.mode)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
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
