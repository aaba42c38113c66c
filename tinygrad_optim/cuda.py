"""``tinygrad_optim.cuda``: is a GPU usable here (through cupy)?"""
from __future__ import annotations

from . import backend


def is_available() -> bool:
    return backend.cuda_is_available()


def device_count() -> int:
    return backend.cuda_device_count()
