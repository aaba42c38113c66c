"""save / load: round trips, the documented file layout, broken files, atomicity, map_location."""
import enum
import errno
import hashlib
import io
import json
import os
import pathlib
import pickle
import stat
import struct
from collections import OrderedDict, defaultdict, namedtuple

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_optim as tg
from tinygrad_optim import Tensor
from tinygrad_optim.serialization import load, save
from _devices import landed

# The layout as docs/save_format.md specifies it, written out independently of the module so
# that these helpers check the document as much as the code.
MAGIC = b"\x89TGO\r\n\x1a\n"
HEADER = struct.Struct("<8sIIQQ")
NUMPY_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "float16", "float32", "float64", "complex64", "complex128"]
TENSOR_DTYPES = [tg.bool, tg.uint8, tg.int8, tg.int16, tg.int32, tg.int64, tg.float16,
                 tg.float32, tg.float64]
CPU_ONLY = pytest.mark.skipif(tg.cuda.is_available(), reason="needs a machine without a GPU")
POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX file permissions and symlinks")


def _dump(obj) -> bytes:
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


def _load(blob: bytes, **kwargs):
    return load(io.BytesIO(blob), **kwargs)


def _round_trip(obj, **kwargs):
    return _load(_dump(obj), **kwargs)


def _split(blob: bytes):
    """A file's header fields, its manifest (parsed) and its data section."""
    magic, version, flags, manifest_nbytes, data_nbytes = HEADER.unpack_from(blob)
    start = -(-(HEADER.size + manifest_nbytes) // 64) * 64
    manifest = json.loads(blob[HEADER.size:HEADER.size + manifest_nbytes])
    return (magic, version, flags), manifest, blob[start:start + data_nbytes]


def _pack(manifest, data: bytes, *, magic=MAGIC, version=1, flags=0, padding=0) -> bytes:
    """A file holding ``manifest`` (a dict, or raw bytes) and ``data``, checksum recomputed."""
    text = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    head = HEADER.pack(magic, version, flags, len(text), len(data))
    pad = bytearray(-(HEADER.size + len(text)) % 64)
    if padding:
        pad[0] = padding
    content = head + text + bytes(pad) + data
    return content + hashlib.sha256(content).digest()


def _edit(obj, change, data_change=None) -> bytes:
    """The file of ``obj`` after ``change(manifest)``, with a valid checksum."""
    _, manifest, data = _split(_dump(obj))
    change(manifest)
    return _pack(manifest, data if data_change is None else data_change(data))


def _node(manifest, kind):
    return next(node for node in manifest["nodes"] if node["type"] == kind)


def _bits(x: float) -> bytes:
    return struct.pack(">d", x)


def _host(t: Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _same(a, b) -> bool:
    """Equal values of identical types, floats and arrays compared bit for bit."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Tensor):
        return (a.dtype is b.dtype and a.device == b.device and a.requires_grad == b.requires_grad
                and _same(_host(a), _host(b)))
    if isinstance(a, (np.ndarray, np.generic)):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return _bits(a) == _bits(b)
    if isinstance(a, dict):
        return ([(type(k), k) for k in a] == [(type(k), k) for k in b]
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


# ------------------------------------------------------------------------------ round trips
@pytest.mark.parametrize("value", [None, True, False, 0, -7, 2**64 + 1, -(2**200), 0.1, -0.0,
                                   float("inf"), float("-inf"), float("nan"), "", "lr",
                                   "héllo, 世界", "\ud800 lone surrogate"])
def test_save_scalar_round_trips_with_its_type(value):
    assert _same(_round_trip(value), value)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_save_float_is_bit_exact(value):
    assert _bits(_round_trip(value)) == _bits(value)


@pytest.mark.parametrize("bits", ["7ff8000000000123", "fff8000000000001", "7ff0000000000001",
                                  "0000000000000001", "8000000000000000"])
def test_save_float_keeps_nan_payloads_and_subnormals(bits):
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert _bits(_round_trip(value)).hex() == bits


@given(st.integers() | st.integers(min_value=2**63, max_value=2**4000).map(lambda n: -n))
def test_save_int_of_any_size(value):
    assert _round_trip(value) == value


def test_save_int_beyond_the_decimal_digit_limit():
    value = 7 << 100_000  # ~30 000 decimal digits: str(value) would raise in Python >= 3.11
    assert _round_trip(value) == value


def test_save_keeps_tuples_and_lists_apart():
    out = _round_trip({"betas": (0.9, 0.999), "params": [0, 1], "nested": ([()], [[]])})
    assert type(out["betas"]) is tuple and type(out["params"]) is list
    assert type(out["nested"]) is tuple and type(out["nested"][0][0]) is tuple


def test_save_int_keys_stay_ints():
    out = _round_trip({0: "int", "0": "str", -3: "neg", True: "bool"})
    assert [(type(k), k) for k in out] == [(int, 0), (str, "0"), (int, -3), (bool, True)]


def test_save_keeps_insertion_order():
    keys = ["zeta", 3, "alpha", 1, "mid"]
    assert list(_round_trip(dict.fromkeys(keys, None))) == keys


def test_save_ordered_dict_stays_ordered_dict():
    out = _round_trip(OrderedDict([("b", 1), ("a", 2)]))
    assert type(out) is OrderedDict and list(out.items()) == [("b", 1), ("a", 2)]


@pytest.mark.parametrize("empty", [{}, [], (), "", OrderedDict(), [[], {}, ()]])
def test_save_empty_containers(empty):
    assert _same(_round_trip(empty), empty)


def test_save_deep_nesting_needs_no_recursion():
    depth = 50_000  # far beyond the recursion limit
    obj = []
    for _ in range(depth):
        obj = [obj]
    out = _round_trip(obj)
    for _ in range(depth):
        assert type(out) is list and len(out) == 1
        out = out[0]
    assert out == []


def test_save_object_twice_loads_as_one_object():
    # torch.save pickles, and pickle memoises: a tensor or list saved twice loads as one object
    t, shared = tg.tensor([1.0, 2.0]), [1, 2]
    out = _round_trip({"a": t, "b": t, "l1": shared, "l2": [shared]})
    assert out["a"] is out["b"] and out["l1"] is out["l2"][0]


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_save_ndarray_every_dtype(dtype, rng):
    array = rng.integers(0, 2, (3, 4)).astype(dtype) if dtype == "bool" else (
        (rng.standard_normal((3, 4)) * 100).astype(dtype))
    out = _round_trip(array)
    assert type(out) is np.ndarray and _same(out, array)


@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (1,), (2, 1, 3)])
def test_save_ndarray_zero_d_and_size_zero(shape, rng):
    array = rng.standard_normal(shape).astype(np.float32)
    assert _same(_round_trip(array), array)


@pytest.mark.parametrize("view", [lambda a: a.T, lambda a: a[::2, 1::3], lambda a: a[:, ::-1],
                                  lambda a: np.asfortranarray(a)],
                         ids=["transposed", "strided", "reversed", "fortran"])
def test_save_non_contiguous_ndarray(view, rng):
    array = view(rng.standard_normal((6, 9)))
    out = _round_trip(array)
    assert np.array_equal(out, array) and out.flags.c_contiguous


def test_save_big_endian_array_loads_in_native_order():
    array = np.arange(5, dtype=">i4") * 1000
    out = _round_trip(array)
    assert out.dtype == np.dtype("int32") and out.dtype.isnative and np.array_equal(out, array)


def test_load_ndarray_owns_writable_memory():
    out = _round_trip(np.arange(12.0).reshape(3, 4))
    assert out.flags.owndata and out.flags.writeable


@pytest.mark.parametrize("value", [np.float32(1.5), np.int64(-3), np.bool_(True),
                                   np.complex64(1 - 2j), np.float16(np.inf)])
def test_save_numpy_scalar_keeps_its_type(value):
    assert _same(_round_trip(value), value)


@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, min_side=0, max_side=4),
                  elements=st.floats(width=32, allow_nan=True)))
def test_save_float32_array_and_tensor_bit_exact(array):
    out = _round_trip([array, tg.from_numpy(array)])
    assert out[0].view(np.uint32).tobytes() == array.view(np.uint32).tobytes()
    assert _host(out[1]).view(np.uint32).tobytes() == array.view(np.uint32).tobytes()


_leaves = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
           | hnp.arrays(st.sampled_from(NUMPY_DTYPES),
                        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
           | hnp.arrays(st.sampled_from([d.np for d in TENSOR_DTYPES]),
                        hnp.array_shapes(min_dims=0, max_dims=2, min_side=0)).map(tg.tensor))
_trees = st.recursive(_leaves, lambda kids: (
    st.lists(kids, max_size=4) | st.lists(kids, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=4) | st.integers(), kids, max_size=4)), max_leaves=16)


@given(_trees)
def test_save_any_tree_round_trips(tree):
    assert _same(_round_trip(tree), tree)


# ------------------------------------------------------------------------------ tensors
@pytest.mark.parametrize("dtype", TENSOR_DTYPES, ids=lambda d: d.name)
def test_save_tensor_keeps_dtype_shape_device(dtype, device, rng):
    t = tg.tensor(rng.integers(-50, 50, (2, 3)), dtype=dtype, device=device)
    out = _round_trip(t)
    assert type(out) is Tensor and out.dtype is dtype and out.shape == (2, 3)
    assert out.device == t.device and np.array_equal(_host(out), _host(t))


@pytest.mark.parametrize("requires_grad", [True, False])
def test_save_tensor_keeps_requires_grad_as_a_leaf(requires_grad):
    out = _round_trip(tg.tensor([1.0, 2.0], requires_grad=requires_grad))
    assert out.requires_grad is requires_grad and out.is_leaf and out.grad is None


def test_save_non_leaf_tensor_loads_as_leaf_requiring_grad():
    # torch.load gives a leaf that requires grad for a saved non-leaf (checked live in torch)
    out = _round_trip(tg.tensor([1.0, 2.0], requires_grad=True) * 3)
    assert out.is_leaf and out.requires_grad and np.array_equal(_host(out), [3.0, 6.0])


@pytest.mark.parametrize("shape", [(), (0,), (2, 0)])
def test_save_tensor_zero_d_and_size_zero(shape, device):
    t = tg.zeros(shape, device=device) + 2.5
    out = _round_trip(t)
    assert out.shape == t.shape and np.array_equal(_host(out), _host(t))


def test_save_non_contiguous_tensor(device):
    t = tg.arange(12, dtype=tg.float32, device=device).reshape(3, 4).T
    out = _round_trip(t)
    assert np.array_equal(_host(out), np.arange(12.0).reshape(3, 4).T) and out.is_contiguous()


def test_load_tensor_is_independent_of_the_saved_one():
    t = tg.tensor([1.0, 2.0])
    blob = _dump(t)
    t.add_(10)
    out = _load(blob)
    out.add_(1)
    assert np.array_equal(_host(out), [2.0, 3.0]) and np.array_equal(_host(t), [11.0, 12.0])


def test_save_lbfgs_style_state_dict():
    # LBFGS keeps lists of tensors, 0-d tensors, None inside lists, ints and floats
    state = {"state": {0: {"func_evals": 3, "n_iter": 3, "t": 1, "prev_loss": -0.16666,
                           "d": tg.tensor([-6.9e-08, -6.9e-08]),
                           "al": [tg.tensor(-3.5e-15), tg.tensor(1.04e-07), None],
                           "old_dirs": [tg.tensor([-3.0, -3.0]), tg.tensor([-4.0, -4.0])],
                           "old_stps": [tg.tensor([-0.5, -0.5]), tg.tensor([-0.667, -0.667])],
                           "ro": [tg.tensor(0.333), tg.tensor(0.1875)], "H_diag": tg.tensor(0.17),
                           "prev_flat_grad": tg.tensor([4.17e-07, 4.17e-07])}},
             "param_groups": [{"lr": 1, "max_iter": 20, "tolerance_grad": 1e-07,
                               "line_search_fn": None, "betas": (0.9, 0.999), "params": [0]}]}
    assert _same(_round_trip(state), state)


# ------------------------------------------------------------------------------ the layout
def test_save_writes_the_documented_layout():
    blob = _dump({"a": np.arange(3, dtype=np.int16), "b": tg.ones(5), "c": [1.5, None]})
    (magic, version, flags), manifest, data = _split(blob)
    manifest_nbytes, data_nbytes = HEADER.unpack_from(blob)[3:]
    start = -(-(HEADER.size + manifest_nbytes) // 64) * 64
    assert (magic, version, flags) == (MAGIC, 1, 0)
    assert len(blob) == start + data_nbytes + 32
    assert blob[-32:] == hashlib.sha256(blob[:-32]).digest()
    assert manifest["root"] == len(manifest["nodes"]) - 1
    buffers = [n for n in manifest["nodes"] if "offset" in n]
    assert [n["offset"] % 64 for n in buffers] == [0, 0]
    assert data[buffers[0]["offset"]:][:6] == np.arange(3, dtype="<i2").tobytes()


def test_load_file_from_an_independent_writer():
    data = np.array([1.5, -2.0], dtype="<f8").tobytes()
    nodes = [{"type": "str", "value": "w"}, {"type": "str", "value": "hp"},
             {"type": "ndarray", "dtype": "float64", "shape": [2, 1], "offset": 0,
              "nbytes": 16},
             {"type": "int", "value": "-0xff"}, {"type": "float", "bits": "3ff8000000000000"},
             {"type": "tuple", "items": [3, 4]},
             {"type": "dict", "keys": [0, 1], "values": [2, 5]}]
    out = _load(_pack({"root": 6, "nodes": nodes}, data))
    assert _same(out, {"w": np.array([[1.5], [-2.0]]), "hp": (-255, 1.5)})


# ------------------------------------------------------------------------------ refused objects
class _Color(enum.IntEnum):
    RED = 1


_Point = namedtuple("_Point", "x y")


@pytest.mark.parametrize("value, name", [
    ({1, 2}, "set"), (frozenset(), "frozenset"), (lambda: 0, "function"), (object(), "object"),
    (1j, "complex"), (b"raw", "bytes"), (defaultdict(list), "defaultdict"),
    (_Point(1, 2), "_Point"), (_Color.RED, "_Color"), (np.array(["a"]), "<U1"),
    (np.array([None]), "object"), (np.ma.masked_array([1.0]), "MaskedArray"),
    (np.datetime64("2020-01-01"), "datetime64")])
def test_save_unsupported_type_names_type_and_place(value, name):
    with pytest.raises(TypeError, match=rf"{name}.* at \['state'\]\[0\]\['momentum_buffer'\]"):
        _dump({"state": {0: {"momentum_buffer": value}}})


@pytest.mark.parametrize("key", [1.5, (1, 2), None])
def test_save_unsupported_dict_key_names_type_and_place(key):
    with pytest.raises(TypeError, match=rf"key of type {type(key).__name__} at \['state'\]"):
        _dump({"state": {key: 1}})


def test_save_unsupported_type_at_top_level():
    with pytest.raises(TypeError, match="set at the top level"):
        _dump({1})


def test_save_rejects_a_container_inside_itself():
    loop = {"a": [1]}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r"contains itself \(at \['a'\]\[1\]\)"):
        _dump(loop)


def test_save_rejects_target_without_write():
    with pytest.raises(AttributeError, match="file-like object with a 'write' attribute"):
        save({}, 5)


def test_save_rejects_text_file_object():
    with pytest.raises(TypeError, match="binary file object"):
        save({}, io.StringIO())


def test_save_missing_parent_directory(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .*missing does not exist"):
        save({}, tmp_path / "missing" / "x.tgo")


def test_save_onto_a_directory(tmp_path):
    with pytest.raises(RuntimeError, match="Is a directory"):
        save({}, tmp_path)


# ------------------------------------------------------------------------------ paths and files
@pytest.mark.parametrize("as_path", [str, pathlib.Path, os.fsencode])
def test_save_to_any_path_type_and_file_name(as_path, tmp_path):
    target = as_path(tmp_path / "optimizer_state_dict.pkl")  # the tutorial's file name
    save({"lr": 0.01}, target)
    assert load(target) == {"lr": 0.01}


def test_save_several_objects_to_one_stream():
    buf = io.BytesIO()
    save({"first": 1}, buf)
    save([tg.ones(2)], buf)
    buf.seek(0)
    first, second = load(buf), load(buf)
    assert first == {"first": 1} and np.array_equal(_host(second[0]), [1.0, 1.0])
    assert buf.read() == b""


def test_save_to_file_object_writes_nothing_on_failure():
    buf = io.BytesIO()
    with pytest.raises(TypeError):
        save({"ok": tg.ones(3), "bad": {1}}, buf)
    assert buf.getvalue() == b""


def test_load_rejects_source_without_read():
    with pytest.raises(AttributeError, match="'read' attribute"):
        load(5)


def test_load_rejects_text_file_object():
    with pytest.raises(TypeError, match="binary file object"):
        load(io.StringIO("text"))


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.tgo")


# ------------------------------------------------------------------------------ atomic saves
def _previous_file(tmp_path):
    """A saved checkpoint and its bytes, for the tests that try to overwrite it."""
    target = tmp_path / "ckpt.tgo"
    save({"step": 1, "w": np.arange(1000.0)}, target)
    return target, target.read_bytes()


def test_save_failing_late_leaves_previous_file(tmp_path):
    target, before = _previous_file(tmp_path)
    with pytest.raises(TypeError):
        save({"step": 2, "w": np.zeros(1000), "zzz": [1, 2, {3}]}, target)
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.tgo"]


def test_save_disk_full_while_writing_leaves_previous_file(tmp_path, monkeypatch):
    target, before = _previous_file(tmp_path)
    real_write, calls = os.write, []

    def write_then_fill_disk(fd, data):
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, memoryview(data)[:10])  # a short write, then the disk is full

    monkeypatch.setattr(os, "write", write_then_fill_disk)
    with pytest.raises(OSError) as info:
        save({"step": 2, "w": np.zeros(1000)}, target)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC and len(calls) == 2
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.tgo"]


def test_save_completes_short_writes(tmp_path, monkeypatch):
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, memoryview(data)[:7]))
    state = {"w": np.arange(100.0), "name": "short writes"}
    save(state, tmp_path / "ckpt.tgo")
    monkeypatch.undo()
    assert _same(load(tmp_path / "ckpt.tgo"), state)


def test_save_failing_fsync_leaves_previous_file(tmp_path, monkeypatch):
    target, before = _previous_file(tmp_path)

    def fsync_fails(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", fsync_fails)
    with pytest.raises(OSError, match="Input/output error|I/O"):
        save({"step": 2}, target)
    monkeypatch.undo()
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.tgo"]


def test_save_replaces_previous_file(tmp_path):
    target, _ = _previous_file(tmp_path)
    save({"step": 2}, target)
    assert load(target) == {"step": 2} and os.listdir(tmp_path) == ["ckpt.tgo"]


@POSIX
def test_save_new_file_gets_the_permissions_open_gives(tmp_path):
    (tmp_path / "by_open").write_bytes(b"")
    save({}, tmp_path / "by_save")
    assert (stat.S_IMODE((tmp_path / "by_save").stat().st_mode)
            == stat.S_IMODE((tmp_path / "by_open").stat().st_mode))


@POSIX
def test_save_keeps_permissions_of_replaced_file(tmp_path):
    target, _ = _previous_file(tmp_path)
    target.chmod(0o600)
    save({"step": 2}, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@POSIX
def test_save_through_symlink_writes_its_target(tmp_path):
    real, link = tmp_path / "real.tgo", tmp_path / "link.tgo"
    real.write_bytes(b"old")
    link.symlink_to(real)
    save({"new": True}, link)
    assert link.is_symlink() and load(real) == {"new": True}


# ------------------------------------------------------------------------------ broken files
def test_load_empty_file(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(RuntimeError, match="the file is empty"):
        load(tmp_path / "empty")


@pytest.mark.parametrize("keep", [4, 20, 40, -33, -1], ids=["magic", "header", "manifest",
                                                            "data", "checksum"])
def test_load_truncated_file(keep):
    blob = _dump({"w": np.arange(10.0), "name": "a somewhat longer string"})
    with pytest.raises(RuntimeError, match="truncated"):
        _load(blob[:keep])


def test_load_garbage_bytes():
    with pytest.raises(RuntimeError, match="wrong magic bytes"):
        _load(b"certainly not a checkpoint, just some text" * 4)


def test_load_wrong_magic():
    blob = _dump({"a": 1})
    with pytest.raises(RuntimeError, match="wrong magic bytes"):
        _load(b"\x89TGX" + blob[4:])


def test_load_future_version():
    _, manifest, data = _split(_dump({"a": 1}))
    with pytest.raises(RuntimeError, match="format version 2, newer .* upgrade"):
        _load(_pack(manifest, data, version=2))


def test_load_version_zero():
    _, manifest, data = _split(_dump({"a": 1}))
    with pytest.raises(RuntimeError, match="unknown format version 0"):
        _load(_pack(manifest, data, version=0))


def test_load_unknown_flags():
    _, manifest, data = _split(_dump({"a": 1}))
    with pytest.raises(RuntimeError, match="unknown header flags 0x4"):
        _load(_pack(manifest, data, flags=4))


def test_load_checksum_mismatch():
    blob = bytearray(_dump({"w": np.arange(10.0)}))
    blob[-40] ^= 1  # one bit of the last element
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        _load(bytes(blob))


def test_load_nonzero_padding():
    _, manifest, data = _split(_dump({"a": 1}))
    with pytest.raises(RuntimeError, match="padding"):
        _load(_pack(manifest, data, padding=7))


def test_load_trailing_bytes_in_file(tmp_path):
    (tmp_path / "f").write_bytes(_dump({"a": 1}) + b"\0")
    with pytest.raises(RuntimeError, match="unexpected bytes after the end"):
        load(tmp_path / "f")


def test_load_refuses_pickle_without_running_it(tmp_path):
    class Trap:
        def __reduce__(self):
            return os.mkdir, (str(tmp_path / "pwned"),)

    with pytest.raises(RuntimeError, match="a pickle.*never unpickles"):
        _load(pickle.dumps(Trap()))
    assert not (tmp_path / "pwned").exists()


@pytest.mark.torch
@pytest.mark.parametrize("zipfile, what", [(True, "zip archive, as torch.save writes"),
                                           (False, "pickle")])
def test_load_refuses_torch_save_file(zipfile, what, tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "ckpt.pt", _use_new_zipfile_serialization=zipfile)
    with pytest.raises(RuntimeError, match=what):
        load(tmp_path / "ckpt.pt")


def test_load_refuses_npy_file(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(3))
    with pytest.raises(RuntimeError, match="numpy.load"):
        load(tmp_path / "a.npy")


@pytest.mark.parametrize("field, value, message", [
    ("offset", 10_000, "outside the 32-byte data section"),
    ("offset", -8, "outside"),
    ("nbytes", 40, "40 bytes do not hold a float64 array of shape"),
    ("shape", [3, 2], "do not hold"),
    ("dtype", "float32", "do not hold"),
    ("dtype", "object", "unsupported dtype 'object'"),
    ("dtype", "float128", "unsupported dtype"),
    ("shape", [-2, -2], "bad shape"),
    ("shape", [1] * 65, "bad shape"),
    ("shape", [2**40, 2**40], "too large"),
    ("shape", [2, True], "bad shape")])
def test_load_inconsistent_array_node(field, value, message):
    blob = _edit({"a": np.ones((2, 2))}, lambda m: _node(m, "ndarray").update({field: value}))
    with pytest.raises(RuntimeError, match=message):
        _load(blob)


def test_load_bool_buffer_with_other_bytes():
    blob = _edit(np.array([True, False]), lambda m: None, lambda data: b"\x01\x02" + data[2:])
    with pytest.raises(RuntimeError, match="bool buffer holds bytes other than 0 and 1"):
        _load(blob)


@pytest.mark.parametrize("field, value, message", [
    ("requires_grad", True, "int64 tensor cannot require grad"),
    ("device", "tpu", "bad device 'tpu'"),
    ("device", "cuda:01", "bad device"),
    ("dtype", "uint16", "unsupported dtype 'uint16'")])
def test_load_inconsistent_tensor_node(field, value, message):
    blob = _edit(tg.tensor([1, 2]), lambda m: _node(m, "tensor").update({field: value}))
    with pytest.raises(RuntimeError, match=message):
        _load(blob)


@pytest.mark.parametrize("nodes, root, message", [
    ([{"type": "list", "items": [0]}], 0, "child 0 is not an earlier node"),
    ([{"type": "none"}], 1, "root 1 is not one of the 1 nodes"),
    ([{"type": "set", "items": []}], 0, "known 'type'"),
    ([{"type": ["str"]}], 0, "known 'type'"),
    ([{"type": "none", "extra": 1}], 0, "exactly the fields"),
    ([{"type": "bool", "value": 1}], 0, "exactly the fields"),
    ([{"type": "int", "value": "12"}], 0, "bad int '12'"),
    ([{"type": "int", "value": "0x012"}], 0, "bad int"),
    ([{"type": "float", "bits": "3ff"}], 0, "bad float bits"),
    ([{"type": "str", "value": "k"}, {"type": "dict", "keys": [0, 0], "values": [0, 0]}], 1,
     "duplicate dict keys"),
    ([{"type": "float", "bits": "0" * 16}, {"type": "dict", "keys": [0], "values": [0]}], 1,
     "dict keys must be str, int or bool"),
    ([{"type": "none"}, {"type": "dict", "keys": [0], "values": []}], 1, "1 keys, 0 values")])
def test_load_malformed_manifest_node(nodes, root, message):
    with pytest.raises(RuntimeError, match=message):
        _load(_pack({"root": root, "nodes": nodes}, b""))


@pytest.mark.parametrize("text", [b"{", b'{"root": 0, "nodes": [{"type": "float", "bits": NaN}]}',
                                  b'{"root": 0, "root": 0, "nodes": []}', b"\xff\xfe",
                                  b"[" * 100_000])
def test_load_manifest_that_is_not_json(text):
    with pytest.raises(RuntimeError, match="the manifest is not valid JSON"):
        _load(_pack(text, b""))


@pytest.mark.parametrize("manifest", [[], {"root": 0}, {"root": "0", "nodes": []},
                                      {"root": 0, "nodes": [], "writer": "x"}])
def test_load_manifest_without_root_and_nodes(manifest):
    with pytest.raises(RuntimeError, match="exactly 'root' and 'nodes'"):
        _load(_pack(manifest, b""))


# ------------------------------------------------------------------------------ map_location
def _cuda_file():
    """A float tensor saved from cuda:0, made without a GPU by editing a CPU tensor's node."""
    return _edit({"w": tg.tensor([1.5, 2.5], requires_grad=True)},
                 lambda m: _node(m, "tensor").update(device="cuda:0"))


@pytest.mark.parametrize("map_location", ["cpu", tg.device("cpu"), {"cuda:0": "cpu"},
                                          {"cuda": "cpu"}])
def test_load_map_location_moves_cuda_tensor_to_cpu(map_location):
    out = _load(_cuda_file(), map_location=map_location)["w"]
    assert out.device == tg.device("cpu") and out.requires_grad
    assert np.array_equal(_host(out), [1.5, 2.5])


@CPU_ONLY
def test_load_cuda_tensor_without_gpu_suggests_map_location():
    with pytest.raises(RuntimeError, match="CUDA device but tinygrad_optim.cuda.is_available"
                                           r"\(\) is False.*map_location='cpu'"):
        _load(_cuda_file())


@CPU_ONLY
def test_load_map_location_to_cuda_without_gpu():
    with pytest.raises(RuntimeError, match="is_available"):
        _load(_dump(tg.ones(2)), map_location="cuda")


@pytest.mark.gpu
def test_load_cuda_device_that_does_not_exist(cuda):
    count = tg.cuda.device_count()
    blob = _edit(tg.ones(2), lambda m: _node(m, "tensor").update(device=f"cuda:{count}"))
    with pytest.raises(RuntimeError, match=f"CUDA device {count} but .*device_count"):
        _load(blob)


def test_load_map_location_to_device(device):
    out = _load(_dump({"w": tg.ones(3)}), map_location=device)["w"]
    assert out.device == landed(device) and np.array_equal(_host(out), [1.0, 1.0, 1.0])


def test_load_map_location_dict_leaves_other_devices():
    out = _load(_dump(tg.ones(2)), map_location={"cuda:1": "cuda:0"})
    assert out.device == tg.device("cpu")


def test_load_map_location_leaves_numpy_arrays_on_host():
    assert type(_round_trip(np.ones(2), map_location="cpu")) is np.ndarray


@pytest.mark.parametrize("map_location, error", [(3.5, TypeError), (lambda s, loc: s, TypeError),
                                                 ("tpu", RuntimeError)])
def test_load_bad_map_location(map_location, error):
    with pytest.raises(error):
        _load(_dump(tg.ones(2)), map_location=map_location)


def test_load_accepts_weights_only_like_torch():
    assert _load(_dump({"a": 1}), weights_only=True) == {"a": 1}


# ------------------------------------------------------------------------------ torch parity
def _from_torch(obj, torch):
    """A torch state dict with its tensors turned into ours (values, dtype, requires_grad)."""
    if isinstance(obj, torch.Tensor):
        return tg.tensor(obj.detach().numpy(), requires_grad=obj.requires_grad)
    if isinstance(obj, dict):
        return type(obj)((k, _from_torch(v, torch)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_from_torch(v, torch) for v in obj)
    return obj


@pytest.mark.torch
@pytest.mark.parametrize("name, kwargs", [("LBFGS", {"history_size": 3}),
                                          ("Adam", {"betas": (0.8, 0.9), "amsgrad": True}),
                                          ("SGD", {"lr": 0.1, "momentum": 0.9})])
def test_save_keeps_what_torch_save_keeps(name, kwargs, tmp_path):
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = getattr(torch.optim, name)([param], **kwargs)

    def closure():
        opt.zero_grad()
        loss = (param ** 4).sum()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    torch.save(opt.state_dict(), tmp_path / "torch.pt")
    expected = _from_torch(torch.load(tmp_path / "torch.pt"), torch)
    save(_from_torch(opt.state_dict(), torch), tmp_path / "ours.tgo")
    assert _same(load(tmp_path / "ours.tgo"), expected)


@pytest.mark.torch
def test_save_bad_target_message_matches_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(AttributeError) as theirs:
        torch.save({}, 5)
    with pytest.raises(AttributeError) as ours:
        save({}, 5)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.torch
def test_save_missing_directory_message_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        torch.save({}, tmp_path / "missing" / "x.pt")
    with pytest.raises(RuntimeError) as ours:
        save({}, tmp_path / "missing" / "x.pt")
    assert str(ours.value) == str(theirs.value)
