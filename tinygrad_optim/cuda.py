"""``tinygrad_optim.cuda``: is a GPU usable here (through cupy), and if not, why not?"""
from __future__ import annotations

from . import backend


def is_available() -> bool:
    """Whether cupy imports cleanly here and sees at least one GPU (it is imported only now)."""
    return backend.cuda_is_available()


def device_count() -> int:
    """How many GPUs cupy sees; 0 without cupy, without a driver or with a broken cupy."""
    return backend.cuda_device_count()


def unavailable_reason() -> str | None:
    """Why CUDA cannot be used here, or None when it can.

    The reason tells an absent GPU (``no CUDA device here``, ``cupy is not installed``) from a
    broken installation (``importing cupy warned: ...``, ``cupy cannot use the GPU: ...``), so
    that a broken cupy is reported instead of silently running everything on the CPU.
    """
    return backend.cuda_status().reason
