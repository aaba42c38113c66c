"""The stand-in's ``cupy.cuda.runtime``: the few calls that touch devices."""
from __future__ import annotations

from .._core import CUDARuntimeError, current_device, device_count, set_device

__all__ = ["CUDARuntimeError", "getDeviceCount", "getDevice", "setDevice",
           "deviceSynchronize"]


def getDeviceCount() -> int:
    count = device_count()
    if count == 0:
        raise CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
    return count


def getDevice() -> int:
    return current_device()


def setDevice(device: int) -> None:
    set_device(device)


def deviceSynchronize() -> None:
    """Nothing is asynchronous here."""
