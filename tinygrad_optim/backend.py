"""Array backends: numpy on the CPU, cupy on CUDA devices (the only module that imports cupy)."""
from __future__ import annotations

import contextlib
import importlib
import os
import threading
import warnings
from typing import Any, NamedTuple

import numpy as np

_cupy_module: Any = None
_cupy_status: CudaStatus | None = None

_INSTALL = "pip install 'tinygrad_optim[cuda12x]' (or [cuda13x])"


class CudaStatus(NamedTuple):
    """Whether CUDA is usable here and, when it is not, why.

    ``broken`` tells "cupy is installed but unusable" (an import that fails or warns, a driver
    that refuses) from "there is simply no GPU here" (no cupy, no driver, no device): the first
    is an error to report, the second a reason to run on the CPU.
    """

    available: bool
    reason: str | None = None
    broken: bool = False


def _import_cupy():
    """Import cupy once; a warning during the import (two cupy wheels, a library it could not
    preload) makes it unusable, since cupy itself says it may then compute wrongly."""
    global _cupy_module
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module = importlib.import_module("cupy")
        except ModuleNotFoundError as exc:
            if exc.name != "cupy":  # cupy is there but something it needs is not
                return CudaStatus(False, f"importing cupy failed: {exc!r}", broken=True)
            return CudaStatus(False, f"cupy is not installed ({_INSTALL})")
        except Exception as exc:  # a wheel that cannot find its CUDA libraries, say
            return CudaStatus(False, f"importing cupy failed: {exc!r}", broken=True)
    if caught:
        text = "; ".join(f"{w.category.__name__}: {str(w.message).strip()}" for w in caught)
        return CudaStatus(False, f"importing cupy warned: {text}", broken=True)
    _cupy_module = module
    return _count_devices(module)


def _count_devices(cupy) -> CudaStatus:
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        message = str(exc)
        # No device, or no driver at all (no NVIDIA kernel module): a machine without a GPU.
        # An old driver on a machine that has one is a broken installation instead.
        if "cudaErrorNoDevice" in message or (
                "cudaErrorInsufficientDriver" in message and not _nvidia_driver_loaded()):
            return CudaStatus(False, f"no CUDA device here ({message})")
        return CudaStatus(False, f"cupy cannot use the GPU: {message}", broken=True)
    if count == 0:
        return CudaStatus(False, "no CUDA device here")
    return CudaStatus(True)


def _nvidia_driver_loaded() -> bool:
    return os.path.exists("/proc/driver/nvidia/version")


def cuda_status() -> CudaStatus:
    """Find out once whether CUDA is usable (importing cupy on the first call only)."""
    global _cupy_status
    if _cupy_status is None:
        _cupy_status = _import_cupy()
    return _cupy_status


def _cupy():
    """cupy, imported on first use, so that ``import tinygrad_optim`` never needs it."""
    if _cupy_module is None:
        status = cuda_status()
        if _cupy_module is None:
            raise RuntimeError(f"CUDA support needs a working cupy: {status.reason}")
    return _cupy_module


def cuda_is_available() -> bool:
    """True when cupy imports cleanly and sees at least one GPU."""
    return cuda_status().available


def cuda_device_count() -> int:
    if not cuda_is_available():
        return 0
    return _cupy_module.cuda.runtime.getDeviceCount()


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


_HERE = contextlib.nullcontext()


def on_device_of(array):
    """A context in which cupy computes on ``array``'s GPU: a cupy kernel runs on the current
    device, wherever its operands live, so work on ``cuda:1`` must enter it. Nothing to do
    for numpy arrays and scalars."""
    if isinstance(array, (np.ndarray, np.generic)):
        return _HERE
    return _cupy().cuda.Device(array.device.id)


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


def writeable(array) -> bool:
    """Whether ``array`` may be written to: numpy marks broadcast views, borrowed memory and
    its scalars read-only; cupy has no such flag (its ``flags`` has no ``writeable``) and
    every cupy array is."""
    if isinstance(array, (np.ndarray, np.generic)):  # numpy scalars are read-only too
        return array.flags.writeable
    return True


# The dtypes of cupy 14's atomic add behind ``cupy.add.at`` with integer-array indices.
_CUPY_ADD_AT = frozenset(map(np.dtype, ("int32", "int64", "uint32", "uint64", "float16",
                                        "float32", "float64")))


def scatter_add(target, indices, values) -> None:
    """``target[indices] += values`` where repeated indices all count (plain ``+=`` keeps one).

    cupy has no atomic add for 8- and 16-bit integers or bools: those add in 64 bits and are
    cast back, which wraps around (and, for bools, ORs) exactly as adding in place would.
    """
    if isinstance(target, np.ndarray):
        np.add.at(target, indices, values)
        return
    cupy = _cupy()
    with on_device_of(target):
        if target.dtype in _CUPY_ADD_AT:
            cupy.add.at(target, indices, values)
            return
        wide = target.astype(np.uint64 if target.dtype.kind == "u" else np.int64)
        if isinstance(values, type(target)):
            values = values.astype(wide.dtype)
        cupy.add.at(wide, indices, values)
        target[...] = wide.astype(target.dtype)


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
