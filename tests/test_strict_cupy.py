"""The strict cupy stand-in is strict: it refuses what real cupy 14 refuses.

Each test names a rule of real cupy and checks that the stand-in enforces it, so that a
library bug of that kind fails the `cuda` cases on every CI run. Where the stand-in is
stricter than cupy (numpy functions never dispatch to it), docs/gpu.md says so. The tests
under "the bugs it found" run the library's old code patterns, which must fail here.
"""
import json
import os
import sys
import warnings

import numpy as np
import pytest

from conftest import STRICT_CUPY

with open(os.path.join(STRICT_CUPY, "cupy", "_cupy14.json")) as f:
    REAL = json.load(f)  # what real cupy 14.2 has, written by tools/cupy_names.py


@pytest.fixture
def cupy(monkeypatch):
    """The stand-in, as ``cupy``: the one in use under --cupy=strict, else imported for this
    test alone (and removed after it, so that nothing else sees a cupy)."""
    current = sys.modules.get("cupy")
    if getattr(current, "STRICT_STAND_IN", False):
        yield current
        return
    for name in [n for n in sys.modules if n.split(".")[0] in ("cupy", "cupyx")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(STRICT_CUPY)
    import cupy as stand_in
    assert stand_in.STRICT_STAND_IN
    yield stand_in
    for name in [n for n in sys.modules if n.split(".")[0] in ("cupy", "cupyx")]:
        del sys.modules[name]


@pytest.fixture
def cupyx(cupy):
    import cupyx as module
    return module


# ---------------------------------------------------------------- only cupy 14's names
def test_module_offers_only_names_real_cupy_has(cupy):
    ours = {n for n in dir(cupy) if not n.startswith("_")} - {"STRICT_STAND_IN"}
    assert ours <= set(REAL["module"]), sorted(ours - set(REAL["module"]))


def test_array_offers_only_members_real_cupy_has(cupy):
    ours = {n for n in dir(cupy.ndarray) if not n.startswith("_") or n.startswith("__")}
    assert ours - {"__weakref__"} <= set(REAL["ndarray"])


def test_generator_offers_only_cupys_methods(cupy):
    ours = {n for n in dir(cupy.random.Generator) if not n.startswith("_")}
    assert ours - {"bit_generator"} <= set(REAL["Generator"])
    assert not hasattr(cupy.random.default_rng(0), "normal")  # numpy's has it, cupy's not


def test_names_cupy_lacks_are_missing(cupy, cupyx):
    assert not hasattr(cupy, "errstate") and not hasattr(cupy, "scatter_add")
    assert hasattr(cupy, "put_along_axis") and hasattr(cupyx, "scatter_add")


# ---------------------------------------------------------------- the wall between host and GPU
def test_implicit_conversion_to_numpy_is_refused(cupy):
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(cupy.ones(2))


@pytest.mark.parametrize("combine", [lambda c, n: c + n, lambda c, n: n * c,
                                     lambda c, n: c.__iadd__(n)],
                         ids=["cupy + numpy", "numpy * cupy", "cupy += numpy"])
def test_numpy_operand_is_refused(cupy, combine):
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        combine(cupy.ones(2), np.ones(2))


def test_numpy_out_is_refused(cupy):
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        cupy.add(cupy.ones(2), 1.0, out=np.empty(2))


@pytest.mark.parametrize("call", [np.exp, np.sum, lambda a: np.add.at(a, [0], 1)],
                         ids=["ufunc", "function", "ufunc.at"])
def test_numpy_functions_refuse_its_arrays(cupy, call):
    with pytest.raises(TypeError):
        call(cupy.ones(2))


def test_numpy_scalars_and_python_numbers_are_operands(cupy):
    a = cupy.ones(2, dtype=cupy.float32)
    assert (a * np.float32(2)).dtype == np.float32 and (a + 1).dtype == np.float32


def test_non_scalar_numpy_value_cannot_fill_a_slice(cupy):
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray cannot be used for fill"):
        cupy.zeros(2)[:] = np.ones(2)


def test_results_stay_on_the_gpu_as_0d_arrays(cupy):
    a = cupy.arange(3.0)
    assert type(a.sum()) is cupy.ndarray and a.sum().shape == ()
    assert type(a[0]) is cupy.ndarray and float(a[0]) == 0.0


def test_python_scalars_are_weak_as_in_numpy_2(cupy):
    assert (cupy.ones(2, dtype=cupy.float16) * 7e4).dtype == np.float16


# ---------------------------------------------------------------- devices
def test_kernel_refuses_an_array_of_another_device(cupy):
    with cupy.cuda.Device(1):
        a = cupy.ones(2)
    with pytest.raises(ValueError, match=r"resides \(1\) is different from the current device "
                                         r"\(0\)"):
        a + 1
    with cupy.cuda.Device(1):
        assert (a + 1).device.id == 1


def test_views_need_no_kernel_on_any_device(cupy):
    with cupy.cuda.Device(1):
        a = cupy.ones((2, 3))
    assert a.reshape(-1).device.id == 1 and a.T.device.id == 1


def test_a_missing_device_fails_when_used(cupy):
    with pytest.raises(cupy.cuda.runtime.CUDARuntimeError, match="invalid device ordinal"):
        with cupy.cuda.Device(cupy.cuda.runtime.getDeviceCount()):
            pass


def test_asarray_copies_an_array_to_the_current_device(cupy):
    with cupy.cuda.Device(1):
        a = cupy.ones(2)
    b = cupy.asarray(a)
    assert b.device.id == 0 and b is not a


# ---------------------------------------------------------------- indices and scatters
def test_integer_array_indices_wrap_around(cupy):
    a = cupy.arange(3.0)
    assert a[cupy.asarray([3, -4])].tolist() == [0.0, 2.0]


def test_integer_index_out_of_range_raises(cupy):
    with pytest.raises(IndexError, match="Index 3 is out of bounds for axis 0 with size 3"):
        cupy.arange(3.0)[3]


def test_add_at_counts_every_repeat(cupy):
    a = cupy.zeros(3)
    cupy.add.at(a, cupy.asarray([0, 0, 2]), 1.0)
    assert a.tolist() == [2.0, 0.0, 1.0]


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "uint16", "bool"])
def test_add_at_has_no_small_integer_kernel(cupy, dtype):
    with pytest.raises(TypeError, match="cupy.add.at only supports int32, int64"):
        cupy.add.at(cupy.zeros(3, dtype=dtype), cupy.asarray([0]), 1)


def test_at_exists_for_seven_ufuncs_only(cupy):
    with pytest.raises(NotImplementedError, match="`cupy_multiply.at` is not supported yet"):
        cupy.multiply.at(cupy.ones(3), cupy.asarray([0]), 2.0)


# ---------------------------------------------------------------- the bugs it found
def test_old_accumulation_read_a_flag_cupy_lacks(cupy):
    # Item 1: backward read array.flags.writeable on a gradient's second contribution.
    with pytest.raises(AttributeError, match="writeable"):
        cupy.ones(2).flags.writeable


def test_old_scatter_add_warns_deprecated(cupy, cupyx):
    # Item 2: every scatter-add path called cupyx.scatter_add (an error under -W error).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DeprecationWarning, match="Please use `cupy.add.at` instead"):
            cupyx.scatter_add(cupy.zeros(3), cupy.asarray([0]), 1.0)

