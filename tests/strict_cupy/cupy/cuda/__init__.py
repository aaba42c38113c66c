"""The stand-in's ``cupy.cuda``: devices (STRICT_CUPY_DEVICES of them) and a current device."""
from __future__ import annotations

from .. import _core
from . import runtime


class Device:
    """cupy's device: constructed without a check, validated when made current."""

    __hash__ = None  # unhashable, as in cupy

    def __init__(self, device=None):
        if isinstance(device, Device):
            device = device.id
        self.id = _core.current_device() if device is None else int(device)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __enter__(self):
        stack = getattr(_core._local, "stack", None)
        if stack is None:
            stack = _core._local.stack = []
        before = _core.current_device()
        _core.set_device(self.id)
        stack.append(before)
        return self

    def __exit__(self, *exc):
        _core.set_device(_core._local.stack.pop())

    def use(self):
        _core.set_device(self.id)

    def synchronize(self):
        with self:
            pass


def is_available() -> bool:
    try:
        return runtime.getDeviceCount() > 0
    except Exception:
        return False


def get_device_id() -> int:
    return _core.current_device()
