"""Making tensors: tensor(), from_numpy() and the factories, compared with torch."""
import math
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

import tinygrad_optim as tg
from _devices import landed

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _numpy(t):
    return t.detach().cpu().numpy()


def _dtype_name(t) -> str:
    return str(t.dtype).rsplit(".", 1)[-1]  # "torch.float32" and "tinygrad_optim.float32"


def _assert_like_torch(ours, theirs, exact=True):
    assert _dtype_name(ours) == _dtype_name(theirs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    if exact:
        np.testing.assert_array_equal(_numpy(ours), _numpy(theirs))
    else:
        # Within float32 rounding: torch's CPU kernels fill vector chunks from a chunk base,
        # so their last bit depends on the machine's SIMD width; ours compute each element.
        scale = max(1.0, float(np.abs(_numpy(theirs)).max(initial=0)))
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-6, atol=1e-6 * scale)


def _assert_raises_like_torch(torch, make, same_message=True):
    """``make(lib)`` fails in tinygrad_optim with the exception type (and message) of torch."""
    with pytest.raises(Exception) as expected:
        make(torch)
    with pytest.raises(expected.type) as got:
        make(tg)
    assert got.type is expected.type
    if same_message:
        assert str(got.value) == str(expected.value)


# ---------------------------------------------------------------------------- tensor()
TENSOR_DATA = {
    "float": 2.5,
    "int": 3,
    "bool": True,
    "float list": [1.5, -2.0],
    "int list": [1, 2, 3],
    "bool list": [True, False],
    "bool and int": [True, 2],
    "int and float": [1, 2.5],
    "nested": [[1, 2], [3, 4]],
    "tuple": ((1.0, 2.0), (3.0, 4.0)),
    "range": range(4),
    "empty": [],
    "empty nested": [[], []],
    "numpy float64 scalar": np.float64(1.25),
    "numpy int32 scalar": np.int32(7),
    "numpy float64 then float": [np.float64(1.5), 2.0],
    "float then numpy float64": [2.0, np.float64(1.5)],
    "numpy float16 and int": [np.float16(1.5), 2],
    "numpy float16 and float": [np.float16(1.5), 2.0],
    "numpy arrays": [np.array([1, 2]), np.array([3, 4])],
    "big int as float": [2**40, 0.5],
}


@pytest.mark.parametrize("data", TENSOR_DATA.values(), ids=TENSOR_DATA.keys())
def test_tensor_infers_dtype_and_shape_as_torch(torch, data):
    with warnings.catch_warnings():
        # torch warns that a list of numpy arrays is slow to convert: not the point here.
        warnings.simplefilter("ignore", UserWarning)
        theirs = torch.tensor(data)
    _assert_like_torch(tg.tensor(data), theirs)


@pytest.mark.parametrize("np_dtype", [np.float16, np.float32, np.float64, np.int8, np.int16,
                                      np.int32, np.int64, np.uint8, np.bool_])
def test_tensor_keeps_numpy_dtype(torch, np_dtype):
    array = np.arange(6).reshape(2, 3).astype(np_dtype)
    _assert_like_torch(tg.tensor(array), torch.tensor(array))


def test_tensor_copies_numpy_data():
    array = np.array([1.0, 2.0])
    t = tg.tensor(array)
    array[0] = 7.0
    assert t.tolist() == [1.0, 2.0]


def test_tensor_from_fortran_array_is_c_contiguous():
    t = tg.tensor(np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    assert t.is_contiguous() and t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


@pytest.mark.parametrize("data, dtype", [([1.7, -2.7], "int64"), ([2**70], "float32"),
                                         ([-1, 255, -128], "uint8"), ([0.5, 0.0], "bool"),
                                         ([-128, 127], "int8"), ([1e300], "float32"),
                                         ([1, 2], "float64"), ([16777217.0], "int64"),
                                         ([True, False], "float16")])
def test_tensor_converts_to_requested_dtype_as_torch(torch, data, dtype):
    ours = tg.tensor(data, dtype=getattr(tg, dtype))
    _assert_like_torch(ours, torch.tensor(data, dtype=getattr(torch, dtype)))


def test_tensor_from_tensor_warns_and_copies_as_torch(torch):
    source = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning) as ours:
        t = tg.tensor(source)
    with pytest.warns(UserWarning) as theirs:
        torch.tensor(torch.tensor([1.0, 2.0], requires_grad=True))
    assert str(ours[0].message) == str(theirs[0].message)
    assert not t.requires_grad and t.is_leaf
    t.data.add_(1)
    assert source.tolist() == [1.0, 2.0]


def test_tensor_of_one_element_tensors_stacks_their_values(torch):
    def make(lib):
        return lib.tensor([lib.tensor(1.0), lib.tensor([2.0], dtype=lib.float64)])
    _assert_like_torch(make(tg), make(torch))


def test_tensor_requires_grad_makes_a_leaf():
    t = tg.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None


def test_tensor_lands_on_requested_device(device):
    t = tg.tensor([[1, 2], [3, 4]], device=device)
    assert t.device == landed(device) and t.tolist() == [[1, 2], [3, 4]]


TENSOR_ERRORS = {
    "ragged": lambda lib: lib.tensor([[1, 2], [3]]),
    "ragged deeper": lambda lib: lib.tensor([[[1]], [[2, 3]]]),
    "number where a list belongs": lambda lib: lib.tensor([[1, 2], 3]),
    "list where an int belongs": lambda lib: lib.tensor([1, [2, 3]]),
    "list where a float belongs": lambda lib: lib.tensor([1.0, [2, 3]]),
    "string": lambda lib: lib.tensor("abc"),
    "bytes": lambda lib: lib.tensor(b"ab"),
    "list of strings": lambda lib: lib.tensor(["a", "b"]),
    "string inside": lambda lib: lib.tensor([1, "b"]),
    "None": lambda lib: lib.tensor(None),
    "None inside": lambda lib: lib.tensor([1, None]),
    "dict": lambda lib: lib.tensor({1: 2}),
    "object": lambda lib: lib.tensor(object()),
    "int beyond int64": lambda lib: lib.tensor(2**70),
    "many-element tensor inside": lambda lib: lib.tensor([lib.ones(2), lib.ones(2)]),
    "numpy object array": lambda lib: lib.tensor(np.array([1, None])),
    "dtype as string": lambda lib: lib.tensor([1.0], dtype="float32"),
    "dtype as numpy type": lambda lib: lib.tensor([1.0], dtype=np.float32),
    "int requires grad": lambda lib: lib.tensor([1, 2], requires_grad=True),
    "beyond uint8": lambda lib: lib.tensor([-1, 300], dtype=lib.uint8),
    "negative float to uint8": lambda lib: lib.tensor([-1.5], dtype=lib.uint8),
    "beyond int8": lambda lib: lib.tensor([200], dtype=lib.int8),
    "beyond int32": lambda lib: lib.tensor([2.5e9], dtype=lib.int32),
    "nan to int64": lambda lib: lib.tensor([math.nan], dtype=lib.int64),
    "inf to int16": lambda lib: lib.tensor([math.inf], dtype=lib.int16),
}


@pytest.mark.parametrize("make", TENSOR_ERRORS.values(), ids=TENSOR_ERRORS.keys())
def test_tensor_rejects_bad_data_as_torch(torch, make):
    # numpy object arrays: torch lists more dtypes than we hold, so compare the type only.
    _assert_raises_like_torch(torch, make, same_message=make is not TENSOR_ERRORS[
        "numpy object array"])


# ---------------------------------------------------------------------------- from_numpy()
def test_from_numpy_shares_memory_both_ways():
    array = np.zeros(3, dtype=np.float32)
    t = tg.from_numpy(array)
    array[0] = 5.0
    t.add_(1.0)
    assert t.tolist() == [6.0, 1.0, 1.0] and array.tolist() == [6.0, 1.0, 1.0]


@pytest.mark.parametrize("np_dtype", [np.float16, np.float64, np.int32, np.bool_])
def test_from_numpy_keeps_dtype(np_dtype):
    assert tg.from_numpy(np.zeros(2, np_dtype)).dtype.np == np.dtype(np_dtype)


def test_from_numpy_rejects_a_list(torch):
    _assert_raises_like_torch(torch, lambda lib: lib.from_numpy([1, 2]))


# ---------------------------------------------------------------------------- factories
FACTORIES = {
    "zeros sizes": lambda lib, **kw: lib.zeros(2, 3, **kw),
    "zeros tuple": lambda lib, **kw: lib.zeros((2, 3), **kw),
    "zeros list": lambda lib, **kw: lib.zeros([2, 3], **kw),
    "zeros size kw": lambda lib, **kw: lib.zeros(size=(2,), **kw),
    "zeros 0-d": lambda lib, **kw: lib.zeros((), **kw),
    "zeros zero-size": lambda lib, **kw: lib.zeros(0, 3, **kw),
    "zeros int32": lambda lib, **kw: lib.zeros(2, dtype=lib.int32, **kw),
    "ones": lambda lib, **kw: lib.ones(3, **kw),
    "ones bool": lambda lib, **kw: lib.ones(2, 2, dtype=lib.bool, **kw),
    "ones Size": lambda lib, **kw: lib.ones(lib.Size([2, 1]), **kw),
    "full int": lambda lib, **kw: lib.full((2,), 3, **kw),
    "full float": lambda lib, **kw: lib.full((2, 2), 3.5, **kw),
    "full bool": lambda lib, **kw: lib.full((2,), True, **kw),
    "full numpy float": lambda lib, **kw: lib.full((2,), np.float64(1.5), **kw),
    "full 0-d tensor": lambda lib, **kw: lib.full((2,), lib.tensor(4), **kw),
    "full truncates to int": lambda lib, **kw: lib.full([2], 3.7, dtype=lib.int64, **kw),
    "full 0-d shape": lambda lib, **kw: lib.full((), 1.0, **kw),
    "eye": lambda lib, **kw: lib.eye(3, **kw),
    "eye rectangular int": lambda lib, **kw: lib.eye(2, 3, dtype=lib.int64, **kw),
    "eye empty": lambda lib, **kw: lib.eye(0, **kw),
    "arange int": lambda lib, **kw: lib.arange(5, **kw),
    "arange float end": lambda lib, **kw: lib.arange(5.0, **kw),
    "arange end kw": lambda lib, **kw: lib.arange(end=4, **kw),
    "arange negative step": lambda lib, **kw: lib.arange(5, 1, -1, **kw),
    "arange empty": lambda lib, **kw: lib.arange(1, 1, **kw),
    "arange to int64": lambda lib, **kw: lib.arange(0.5, 5, dtype=lib.int64, **kw),
    "arange to int32": lambda lib, **kw: lib.arange(0.5, 3, 0.7, dtype=lib.int32, **kw),
    "arange 0-d tensor": lambda lib, **kw: lib.arange(lib.tensor(3), **kw),
    "arange bool bound": lambda lib, **kw: lib.arange(True, **kw),
    "linspace int dtype": lambda lib, **kw: lib.linspace(0, 10, 7, dtype=lib.int64, **kw),
    "linspace int truncates ends": lambda lib, **kw: lib.linspace(10.7, 0.5, 5,
                                                                  dtype=lib.int64, **kw),
    "linspace one step": lambda lib, **kw: lib.linspace(2, 3, 1, **kw),
    "linspace no steps": lambda lib, **kw: lib.linspace(2, 3, 0, **kw),
    "linspace float64": lambda lib, **kw: lib.linspace(0, 1, 3, dtype=lib.float64, **kw),
}


@pytest.mark.parametrize("make", FACTORIES.values(), ids=FACTORIES.keys())
def test_factory_matches_torch(torch, device, make):
    ours = make(tg, device=device)
    assert ours.device == landed(device) and ours.is_leaf and not ours.requires_grad
    _assert_like_torch(ours, make(torch))


ROUNDED = {
    "arange float32 steps": lambda lib: lib.arange(0, 10, 0.7),
    "arange float32 long": lambda lib: lib.arange(-3.3, 10.1, 0.37),
    "arange float32 fine": lambda lib: lib.arange(1, 2.5, 0.01),
    "arange float64": lambda lib: lib.arange(0.1, 1.0, 0.1, dtype=lib.float64),
    "linspace": lambda lib: lib.linspace(-1.3, 7.9, 11),
    "linspace sevenths": lambda lib: lib.linspace(0, 1, 7),
    "linspace long": lambda lib: lib.linspace(-5, 3.3, 1001),
}


@pytest.mark.parametrize("make", ROUNDED.values(), ids=ROUNDED.keys())
def test_float_ranges_match_torch_within_rounding(torch, make):
    _assert_like_torch(make(tg), make(torch), exact=False)


def test_arange_counts_as_torch_near_a_bound(torch):
    # ceil((end - start) / step) in double: 1.0 / 0.1 is 10.000000000000002, so 11 elements.
    assert len(tg.arange(0, 1.0 + 1e-15, 0.1)) == len(torch.arange(0, 1.0 + 1e-15, 0.1))
    assert len(tg.arange(0.0, 1.0, 0.1)) == len(torch.arange(0.0, 1.0, 0.1)) == 10


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like"])
def test_like_factory_copies_shape_dtype_device(device, name):
    source = tg.ones(2, 3, dtype=tg.int32, device=device)
    out = getattr(tg, name)(source)
    assert (out.shape, out.dtype, out.device) == (source.shape, tg.int32, landed(device))


def test_like_factory_overrides_dtype_and_requires_grad(torch):
    def make(lib):
        return lib.zeros_like(lib.ones(2, dtype=lib.int64), dtype=lib.float64,
                              requires_grad=True)
    ours = make(tg)
    assert ours.requires_grad and ours.is_leaf
    _assert_like_torch(ours, make(torch))


@pytest.mark.parametrize("source, value", [("int64", 2.7), ("float32", 2), ("bool", 2)])
def test_full_like_casts_the_value_to_the_source_dtype(torch, source, value):
    def make(lib):
        return lib.full_like(lib.zeros(3, dtype=getattr(lib, source)), value)
    _assert_like_torch(make(tg), make(torch))


FACTORY_ERRORS = {
    "zeros negative": lambda lib: lib.zeros(-1),
    "zeros negative second": lambda lib: lib.zeros(2, -1),
    "ones negative": lambda lib: lib.ones(2, -1),
    "empty negative": lambda lib: lib.empty(-3),
    "rand negative": lambda lib: lib.rand(-1),
    "zeros float size": lambda lib: lib.zeros(2.5),
    "zeros bool size": lambda lib: lib.zeros(True),
    "zeros float in sizes": lambda lib: lib.zeros(2, 3.0),
    "zeros float in tuple": lambda lib: lib.zeros((2, 3.0)),
    "zeros no size": lambda lib: lib.zeros(),
    "zeros dtype string": lambda lib: lib.zeros(2, dtype="float32"),
    "zeros int requires grad": lambda lib: lib.zeros(2, dtype=lib.int64, requires_grad=True),
    "full int size": lambda lib: lib.full(2, 1.0),
    "full string value": lambda lib: lib.full((2,), "a"),
    "full None value": lambda lib: lib.full((2,), None),
    "full 1-d tensor value": lambda lib: lib.full((2,), lib.tensor([1.5])),
    "zeros_like list": lambda lib: lib.zeros_like([1, 2]),
    "ones_like ndarray": lambda lib: lib.ones_like(np.zeros(2)),
    "arange inconsistent": lambda lib: lib.arange(5, 1),
    "arange zero step": lambda lib: lib.arange(1, 5, 0),
    "arange int64 zero step": lambda lib: lib.arange(0.5, 3, 0.5, dtype=lib.int64),
    "arange infinite": lambda lib: lib.arange(0, math.inf),
    "arange nan": lambda lib: lib.arange(0.5, math.nan),
    "arange bool": lambda lib: lib.arange(3, dtype=lib.bool),
    "arange 1-d tensor": lambda lib: lib.arange(lib.tensor([3.0])),
    "linspace negative steps": lambda lib: lib.linspace(2, 3, -1),
    "eye negative n": lambda lib: lib.eye(-1),
    "eye negative m": lambda lib: lib.eye(2, -1),
    "eye float n": lambda lib: lib.eye(2.5),
    "rand int dtype": lambda lib: lib.rand(2, dtype=lib.int64),
    "rand bool dtype": lambda lib: lib.rand(2, dtype=lib.bool),
    "randn int dtype": lambda lib: lib.randn(2, dtype=lib.int32),
    "randint empty range": lambda lib: lib.randint(3, 3, (5,)),
    "randint reversed range": lambda lib: lib.randint(0, -3, (2,)),
    "randint int size": lambda lib: lib.randint(3, 5),
    "randint float high": lambda lib: lib.randint(0.5, (2,)),
    "randint beyond int64": lambda lib: lib.randint(0, 2**63, (2,)),
    "randint beyond int8": lambda lib: lib.randint(0, 200, (2,), dtype=lib.int8),
    "randint below int8": lambda lib: lib.randint(-200, 2, (2,), dtype=lib.int8),
    "randint beyond uint8": lambda lib: lib.randint(0, 300, (2,), dtype=lib.uint8),
    "randint beyond bool": lambda lib: lib.randint(0, 3, (2,), dtype=lib.bool),
    "randint int requires grad": lambda lib: lib.randint(0, 3, (2,), requires_grad=True),
}


@pytest.mark.parametrize("make", FACTORY_ERRORS.values(), ids=FACTORY_ERRORS.keys())
def test_factory_rejects_bad_arguments_as_torch(torch, make):
    _assert_raises_like_torch(torch, make)


# torch answers these with its long "invalid combination of arguments" listing of every
# overload; we raise the same exception type with a one-line message.
SIGNATURE_ERRORS = {
    "randint size only": lambda lib: lib.randint(3),
    "randint float bounds": lambda lib: lib.randint(0.5, 3.5, (3,)),
    "linspace without steps": lambda lib: lib.linspace(0, 10),
    "linspace float steps": lambda lib: lib.linspace(0, 1, 2.5),
    "eye float m": lambda lib: lib.eye(3, 2.0),
    "arange without end": lambda lib: lib.arange(),
}


@pytest.mark.parametrize("make", SIGNATURE_ERRORS.values(), ids=SIGNATURE_ERRORS.keys())
def test_factory_rejects_bad_signature_with_torchs_exception_type(torch, make):
    _assert_raises_like_torch(torch, make, same_message=False)


# ---------------------------------------------------------------------------- random
@pytest.mark.parametrize("make, dtype", [(lambda: tg.rand(4, 5), "float32"),
                                         (lambda: tg.randn(4, 5), "float32"),
                                         (lambda: tg.rand(4, 5, dtype=tg.float64), "float64"),
                                         (lambda: tg.randn((4, 5), dtype=tg.float16), "float16"),
                                         (lambda: tg.randint(7, (4, 5)), "int64"),
                                         (lambda: tg.randint(-3, 7, size=(4, 5),
                                                             dtype=tg.int32), "int32")])
def test_random_factory_gives_shape_and_dtype(make, dtype):
    t = make()
    assert t.shape == (4, 5) and t.dtype.name == dtype


def test_rand_lies_in_unit_interval(device):
    tg.manual_seed(0)
    values = _numpy(tg.rand(10_000, device=device))
    assert values.min() >= 0.0 and values.max() < 1.0
    # 10 000 uniform draws: mean 0.5 with standard error 0.0029; 0.02 is ~7 errors away.
    assert abs(values.mean() - 0.5) < 0.02


def test_randn_has_zero_mean_unit_variance(device):
    tg.manual_seed(0)
    values = _numpy(tg.randn(10_000, device=device, dtype=tg.float64))
    # Standard errors: 0.01 for the mean, about 0.007 for the standard deviation.
    assert abs(values.mean()) < 0.05 and abs(values.std() - 1.0) < 0.05


@pytest.mark.parametrize("args, kwargs, low, high", [((5, (2000,)), {}, 0, 5),
                                                     ((-2, 3, (2000,)), {}, -2, 3),
                                                     ((), {"high": 4, "size": (2000,)}, 0, 4),
                                                     ((1,), {"high": 4, "size": (2000,)}, 1, 4),
                                                     ((4,), {"size": (2000,)}, 0, 4)])
def test_randint_draws_every_value_in_half_open_range(args, kwargs, low, high):
    tg.manual_seed(1)
    values = tg.randint(*args, **kwargs).tolist()
    # 2000 draws over at most 5 values: missing one has probability below 5 * 0.8**2000.
    assert sorted(set(values)) == list(range(low, high))


def test_rand_requires_grad_makes_a_leaf():
    t = tg.randn(3, requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_manual_seed_repeats_the_sequence(device):
    tg.manual_seed(123)
    first = _numpy(tg.rand(5, device=device))
    tg.manual_seed(123)
    assert np.array_equal(_numpy(tg.rand(5, device=device)), first)
    assert not np.array_equal(_numpy(tg.rand(5, device=device)), first)


def test_manual_seed_different_seeds_differ():
    tg.manual_seed(1)
    a = tg.randn(8).tolist()
    tg.manual_seed(2)
    assert tg.randn(8).tolist() != a


def test_manual_seed_accepts_negative_seeds_as_torch(torch):
    # torch maps a negative seed to seed mod 2**64; we do the same, so -1 and 2**64 - 1 agree.
    tg.manual_seed(-1)
    a = tg.rand(4).tolist()
    tg.manual_seed(2**64 - 1)
    assert tg.rand(4).tolist() == a
    assert torch.manual_seed(-1).initial_seed() == 2**64 - 1


@pytest.mark.parametrize("seed", [2**64, -2**63 - 1])
def test_manual_seed_rejects_out_of_range_as_torch(torch, seed):
    _assert_raises_like_torch(torch, lambda lib: lib.manual_seed(seed))


_SEEDED_DRAW = ("import tinygrad_optim as tg; tg.manual_seed(2024); "
                "print(tg.rand(3).tolist(), tg.randn(2).tolist(), tg.randint(100, (3,)).tolist())")


def test_manual_seed_gives_same_numbers_run_after_run():
    runs = [subprocess.run([sys.executable, "-c", _SEEDED_DRAW], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].count("[") == 3


@pytest.mark.gpu
def test_manual_seed_keeps_one_generator_per_device(cuda):
    tg.manual_seed(5)
    first = tg.rand(4, device="cuda").tolist()
    tg.manual_seed(5)
    tg.rand(100)  # drawing on the CPU must not move the GPU's stream
    assert tg.rand(4, device="cuda").tolist() == first
