"""The stand-in's ``cupy.random``: cupy's Generator API over numpy's generator.

The streams differ from cupy's XORWOW streams (nothing here may depend on their values);
what is checked is the API: only the methods cupy's Generator has, with its parameters.
"""
from __future__ import annotations

import numpy as np

from .. import _core


class Generator:
    """cupy.random.Generator: no normal, permutation, choice or shuffle (cupy has none)."""

    def __init__(self, bit_generator):
        self.bit_generator = bit_generator
        self._np = np.random.default_rng(bit_generator)


def _method(name, params):
    sig = _core.signature(params)

    def method(self, *args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        out = bound.arguments.pop("out", None)
        if out is not None and not isinstance(out, _core.ndarray):
            raise _core.unsupported(out)
        result = _core.call_numpy(getattr(self._np, name), bound.args, bound.kwargs)
        if name == "integers" and not isinstance(result, _core.ndarray):
            result = _core.ndarray._new(np.asarray(result), _core.current_device())
        if out is not None:
            if out.dtype != result.dtype:
                raise TypeError("Supplied output array has the wrong type. Expected "
                                f"{result.dtype.name}, got {out.dtype.name}")
            out[...] = result
            return out
        return result

    method.__name__ = name
    return method


for _name, _params in _core.NAMES["Generator"].items():
    if hasattr(np.random.Generator, _name):
        setattr(Generator, _name, _method(_name, _params))


def default_rng(seed=None):
    if isinstance(seed, Generator):
        return seed
    return Generator(seed)


def __getattr__(name):
    if name in _core.NAMES["random"]:
        raise NotImplementedError(f"cupy.random.{name} is not modelled by the strict cupy "
                                  "stand-in")
    raise AttributeError(f"module 'cupy.random' has no attribute '{name}'")
