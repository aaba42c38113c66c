"""``tinygrad_optim.cuda``: is a GPU usable here (through cupy)?"""
from __future__ import annotations

from . import backend


def is_available() -> bool:
    """Whether cupy imports here and sees at least one GPU (it is imported only now)."""
    return backend.cuda_is_available()


def device_count() -> int:
    """How many GPUs cupy sees; 0 without cupy or without a driver."""
    return backend.cuda_device_count()
