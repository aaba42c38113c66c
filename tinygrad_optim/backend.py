"""Array backends: numpy on the CPU, cupy on CUDA devices (the only module that imports cupy)."""
from __future__ import annotations

import contextlib
import importlib
import threading
from typing import Any

import numpy as np

_cupy_module: Any = None
_cupy_error: Exception | None = None


def _cupy():
    """Import cupy on first use, so that ``import tinygrad_optim`` never needs it."""
    global _cupy_module, _cupy_error
    if _cupy_module is None and _cupy_error is None:
        try:
            _cupy_module = importlib.import_module("cupy")
        except Exception as exc:  # ImportError, or a cupy wheel that cannot find its CUDA libs
            _cupy_error = exc
    if _cupy_module is None:
        raise RuntimeError(
            "CUDA support needs cupy: pip install 'tinygrad_optim[cuda12x]' "
            f"(or [cuda13x]); importing cupy failed with: {_cupy_error}")
    return _cupy_module


def cuda_is_available() -> bool:
    """True when cupy imports and sees at least one GPU."""
    return cuda_device_count() > 0


def cuda_device_count() -> int:
    try:
        return _cupy().cuda.runtime.getDeviceCount()
    except Exception:  # no cupy, no driver, or no device: all mean "no CUDA here"
        return 0


class device:
    """A device name, spelled and compared as torch does: ``device('cuda:0')``, ``str(d)``."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments: {type!r}")
        name, _, idx = type.partition(":")
        if name not in ("cpu", "cuda") or (idx and not idx.isdigit()):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}")
        if idx:
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            index = int(idx)
        if name == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
        self.type, self.index = name, (None if name == "cpu" else index)

    def __eq__(self, other):
        # torch.device('cpu') == 'cpu' is False in torch too: compare devices with devices.
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")


def as_device(spec: str | device | int | None) -> device:
    """Normalise a user's device argument; a bare 'cuda' means the first GPU, as in torch."""
    if spec is None:
        return CPU
    if isinstance(spec, int):
        return device("cuda", spec)
    dev = spec if isinstance(spec, device) else device(spec)
    if dev.type == "cuda" and dev.index is None:
        return device("cuda", 0)
    return dev


def is_numpy(array) -> bool:
    return isinstance(array, np.ndarray)


def get_array_module(array):
    """The module (numpy or cupy) that works on ``array``: the device follows the data."""
    if isinstance(array, np.ndarray) or _cupy_module is None:
        return np
    return _cupy_module.get_array_module(array)


def device_of(array) -> device:
    if isinstance(array, np.ndarray):
        return CPU
    return device("cuda", array.device.id)


def array_module(dev: device):
    return np if dev.type == "cpu" else _cupy()


def on_device(dev: device):
    """A context in which cupy allocates on ``dev``; nothing to do on the CPU."""
    if dev.type == "cpu":
        return contextlib.nullcontext()
    return _cupy().cuda.Device(dev.index)


def to_device(array, dev: device):
    """Move an array to ``dev``; returns the same array when it is already there."""
    if device_of(array) == dev:
        return array
    if dev.type == "cpu":
        return array.get()
    with on_device(dev):
        return _cupy().asarray(array)


def to_numpy(array) -> np.ndarray:
    return array if isinstance(array, np.ndarray) else array.get()


def scatter_add(target, indices, values) -> None:
    """``target[indices] += values`` where repeated indices all count (plain ``+=`` keeps one)."""
    if isinstance(target, np.ndarray):
        np.add.at(target, indices, values)
    else:
        importlib.import_module("cupyx").scatter_add(target, indices, values)


# One generator per device, so that seeding is reproducible and never crosses devices.
_generators: dict[device, Any] = {}
_generator_lock = threading.Lock()
_DEFAULT_SEED = 67280421310721  # torch's default seed: any fixed number would do


def manual_seed(seed: int) -> None:
    """Seed every device's generator: the same seed gives the same numbers, run after run
    (a generator made later, for a device first used later, is seeded from ``seed`` too).

    As in torch, a seed may be any integer in [-2**63, 2**64); a negative one counts as
    ``seed mod 2**64``.

    Raises:
        ValueError: for a seed outside that range (torch's message).
    """
    global _DEFAULT_SEED
    seed = int(seed)
    if not -2**63 <= seed < 2**64:
        raise ValueError("Overflow when unpacking long long")
    seed %= 2**64
    with _generator_lock:
        _DEFAULT_SEED = seed
        _generators.clear()


def generator(dev: device):
    """The random generator of ``dev`` (numpy's or cupy's ``default_rng``), made on first use."""
    with _generator_lock:
        gen = _generators.get(dev)
        if gen is None:
            if dev.type == "cpu":
                gen = np.random.default_rng(_DEFAULT_SEED)
            else:
                with on_device(dev):
                    gen = _cupy().random.default_rng(_DEFAULT_SEED)
            _generators[dev] = gen
        return gen
