"""The stand-in's ``cupyx``: the deprecated scatter functions, warning as cupy 14 warns."""
from __future__ import annotations

import warnings

import cupy


def scatter_add(a, slices, value):
    a.scatter_add(slices, value)


def scatter_max(a, slices, value):
    warnings.warn("`ndarray.scatter_max` is deprecated Please use `cupy.maximum.at` instead.",
                  DeprecationWarning, stacklevel=2)
    cupy.maximum.at(a, slices, value)


def scatter_min(a, slices, value):
    warnings.warn("`ndarray.scatter_min` is deprecated Please use `cupy.minimum.at` instead.",
                  DeprecationWarning, stacklevel=2)
    cupy.minimum.at(a, slices, value)
