"""save / load: trees of containers, tensors, arrays and scalars in a pickle-free file format."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import re
import secrets
import stat
import struct
import sys
from collections import OrderedDict, defaultdict

import numpy as np

from . import dtypes
from .backend import as_device, cuda_device_count, device, to_device, to_numpy
from .tensor import Tensor

# The layout is specified in docs/save_format.md; keep the two in step.
MAGIC = b"\x89TGO\r\n\x1a\n"  # PNG's trick: a non-ASCII byte, then CR LF / SUB / LF
VERSION = 1
_HEADER = struct.Struct("<8sIIQQ")  # magic, version, flags, manifest bytes, data bytes
_ALIGN = 64  # the data section and every buffer start on a multiple of this
_DIGEST = hashlib.sha256().digest_size
_CHUNK = 1 << 24  # read in steps, so a forged length cannot make us allocate it up front
_MAXDIMS = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32  # numpy's ndim limit

# Element types by the name the manifest uses; buffers are little-endian. Plain numbers only:
# object, string and datetime arrays have no fixed-size byte form that is safe to load.
_ARRAY_DTYPES = {np.dtype(name).name: np.dtype(name).newbyteorder("<") for name in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128")}
_TENSOR_DTYPES = {d.name: _ARRAY_DTYPES[d.np.name] for d in dtypes.ALL}
_CONTAINERS = {dict: "dict", OrderedDict: "ordered_dict", list: "list", tuple: "tuple"}
_TEXT_MODE = "needs a binary file object (opened with 'rb' or 'wb'), not a text one"
_HINTS = {set: "; save a sorted list instead", frozenset: "; save a sorted list instead",
          defaultdict: "; convert it with dict(...) (a default_factory is code)"}


def save(obj, f) -> None:
    """Write ``obj`` to ``f`` in the tinygrad_optim format (docs/save_format.md); no pickle.

    The whole payload is built before a byte is written, so an unsupported object anywhere in
    the tree leaves ``f`` untouched. A path is written atomically: to a temporary file beside
    it, flushed to disk, then renamed over the target, so a crash or a full disk never leaves
    a half-written file in place of the previous one.

    Args:
        obj: dicts (str, int or bool keys; ``OrderedDict`` too), lists, tuples, None, bools,
            ints, floats, strs, Tensors (dtype, shape, device, requires_grad), numpy arrays
            and numpy scalars of numeric dtypes, nested in any way without cycles. Objects
            that appear twice come back as one object, as with ``torch.save``.
        f: a path (str, bytes or os.PathLike) or a binary file object with ``write``.

    Raises:
        TypeError: for an object of any other type, naming it and where it sits in ``obj``
            (or for a text-mode file object).
        ValueError: when a container contains itself.
        AttributeError: when ``f`` is neither a path nor has ``write`` (as torch.save).
        RuntimeError: when the path's directory does not exist or the path is a directory.
        OSError: when writing fails (the previous file, if any, is left as it was).

    Example:
        >>> save({"model": model.state_dict(), "optimizer": opt.state_dict()}, "ckpt.pt")
        >>> opt.load_state_dict(load("ckpt.pt")["optimizer"])
    """
    is_path = isinstance(f, (str, bytes, os.PathLike))
    if not is_path and not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'write' attribute")
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"save() {_TEXT_MODE}")
    chunks = _serialize(obj)
    if is_path:
        _write_atomic(os.fsdecode(os.fspath(f)), chunks)
    else:
        for chunk in chunks:
            f.write(memoryview(chunk))


def load(f, map_location=None, *, weights_only=None):
    """Read an object written by :func:`save`, checking the whole file before building it.

    Args:
        f: a path (str, bytes or os.PathLike) or a binary file object with ``read``; a file
            object is read from its position to the end of one saved object.
        map_location: where tensors go: None (the device they were saved from), a device
            (``'cpu'``, ``'cuda:1'``, ``tinygrad_optim.device``) for all of them, or a dict
            from saved device to target device. numpy arrays always load on the host.
        weights_only: accepted for compatibility with torch.load and ignored: loading never
            runs code, whatever the file holds.

    Returns:
        The saved object; tensors and arrays own fresh, writable memory.

    Raises:
        RuntimeError: the file is not a valid tinygrad_optim file (empty, truncated, a pickle
            or torch.save archive, a newer format version, a checksum mismatch, an
            inconsistent manifest), or a tensor's device does not exist here.
        TypeError: ``map_location`` is of another type, or ``f`` is a text-mode file.
        AttributeError: ``f`` is neither a path nor has ``read``.
        OSError: the path cannot be opened (FileNotFoundError, IsADirectoryError ...).
    """
    placement = _placement(map_location)
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "rb") as fh:
            head, body = _read_record(fh)
            if fh.read(1):
                raise _invalid("unexpected bytes after the end of the saved object")
    elif isinstance(f, io.TextIOBase):
        raise TypeError(f"load() {_TEXT_MODE}")
    elif hasattr(f, "read"):
        head, body = _read_record(f)
    else:
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'read' attribute")
    manifest, data = _verify(head, body)
    plans, root = _check_manifest(manifest, data, placement)
    return _build(plans, data)[root]


# ------------------------------------------------------------------------------ writing
class _Frame:
    """A container being encoded: its children are visited before its own node is added."""

    __slots__ = ("obj", "kind", "children", "keys", "indices")

    def __init__(self, writer, obj, path):
        self.obj, self.kind, self.indices = obj, _CONTAINERS[type(obj)], []
        if isinstance(obj, dict):
            self.keys = [writer.key(key, path) for key in obj]
            self.children = ((value, (path, key)) for key, value in obj.items())
        else:
            self.children = ((value, (path, i)) for i, value in enumerate(obj))

    def node(self) -> dict:
        if isinstance(self.obj, dict):
            return {"type": self.kind, "keys": self.keys, "values": self.indices}
        return {"type": self.kind, "items": self.indices}


class _Writer:
    """Turns an object tree into manifest nodes, children first, and aligned byte buffers."""

    def __init__(self):
        self.nodes: list[dict] = []
        self.buffers: list[tuple[int, np.ndarray]] = []  # (offset, uint8 view)
        self.data_nbytes = 0
        self.memo: dict[int, int] = {}  # id(obj) -> node: an object saved twice loads as one

    def add(self, node: dict) -> int:
        self.nodes.append(node)
        return len(self.nodes) - 1

    def encode(self, root) -> int:
        """Add ``root`` and everything under it; returns the index of root's node."""
        index = self.leaf(root, None)
        if index is not None:
            return index
        # An explicit stack, not recursion: deep nesting must not hit the recursion limit.
        stack, open_ids = [_Frame(self, root, None)], {id(root)}
        while True:
            frame = stack[-1]
            item = next(frame.children, None)
            if item is None:  # all children are in: the container's node comes after them
                stack.pop()
                open_ids.discard(id(frame.obj))
                index = self.memo[id(frame.obj)] = self.add(frame.node())
                if not stack:
                    return index
                stack[-1].indices.append(index)
                continue
            obj, path = item
            index = self.leaf(obj, path)
            if index is None:  # a container not seen before, or one we are inside of
                if id(obj) in open_ids:
                    raise ValueError(f"cannot save a container that contains itself (at "
                                     f"{_where(path)})")
                open_ids.add(id(obj))
                stack.append(_Frame(self, obj, path))
                continue
            frame.indices.append(index)

    def leaf(self, obj, path) -> int | None:
        """The node of a scalar, tensor or array; None for a container (a frame encodes it)."""
        kind = type(obj)
        if obj is None:
            return self.add({"type": "none"})
        if kind is bool or kind is str:
            return self.add({"type": kind.__name__, "value": obj})
        if kind is int:  # hex: int(s, 16) has no digit limit, unlike decimal strings
            return self.add({"type": "int", "value": hex(obj)})
        if kind is float:  # the IEEE-754 bits: exact for nan payloads, inf and -0.0
            return self.add({"type": "float", "bits": struct.pack(">d", obj).hex()})
        # Every object in the tree stays alive while we save, so its id() is never reused.
        index = self.memo.get(id(obj))  # containers enter the memo only once complete
        if index is not None or kind in _CONTAINERS:
            return index
        if isinstance(obj, Tensor):
            return self.array(obj, "tensor", to_numpy(obj._array), device=str(obj.device),
                              requires_grad=obj.requires_grad)
        # By name: a big-endian float32 is saved (little-endian) and loads as a float32.
        if kind is np.ndarray and obj.dtype.name in _ARRAY_DTYPES:
            return self.array(obj, "ndarray", obj)
        if isinstance(obj, np.generic) and obj.dtype.name in _ARRAY_DTYPES:
            return self.array(obj, "numpy_scalar", np.asarray(obj))
        what = f"{kind.__qualname__} of dtype {obj.dtype}" if kind is np.ndarray else (
            kind.__qualname__ if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}")
        raise TypeError(f"cannot save an object of type {what} at {_where(path)}: save() takes "
                        "dicts, lists, tuples, None, bool, int, float, str, Tensors and numeric "
                        f"numpy arrays{_HINTS.get(kind, '')}")

    def key(self, key, path) -> int:
        if type(key) not in (str, int, bool):
            raise TypeError(f"cannot save a dict key of type {type(key).__qualname__} at "
                            f"{_where(path)}: keys must be str, int or bool")
        return self.leaf(key, path)

    def array(self, obj, kind: str, host: np.ndarray, **fields) -> int:
        little = np.ascontiguousarray(host, dtype=host.dtype.newbyteorder("<"))
        offset = _align(self.data_nbytes)
        self.buffers.append((offset, little.reshape(-1).view(np.uint8)))
        self.data_nbytes = offset + little.nbytes
        node = {"type": kind, "dtype": host.dtype.name}
        if kind != "numpy_scalar":
            node["shape"] = list(host.shape)
        node.update(fields, offset=offset, nbytes=little.nbytes)
        self.memo[id(obj)] = index = self.add(node)
        return index


def _serialize(obj) -> list:
    """The whole file as a list of byte chunks, the checksum last."""
    writer = _Writer()
    root = writer.encode(obj)
    manifest = json.dumps({"root": root, "nodes": writer.nodes}, ensure_ascii=True,
                          allow_nan=False, separators=(",", ":")).encode("ascii")
    header = _HEADER.pack(MAGIC, VERSION, 0, len(manifest), writer.data_nbytes)
    padding = _align(_HEADER.size + len(manifest)) - _HEADER.size - len(manifest)
    chunks = [header, manifest, bytes(padding)]
    position = 0
    for offset, view in writer.buffers:
        chunks += [bytes(offset - position), view]
        position = offset + view.nbytes
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return [chunk for chunk in chunks if len(chunk)] + [digest.digest()]


def _write_atomic(path: str, chunks: list) -> None:
    """Write to a new file beside ``path``, fsync it, then rename it over ``path``."""
    path = os.path.realpath(path)  # through a symlink, as open(path, "wb") would write
    directory, name = os.path.split(path)
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    if os.path.isdir(path):
        raise RuntimeError(f"cannot save to {path}: Is a directory")
    fd, tmp = _create_temp(directory, name)
    try:
        try:
            if os.path.exists(path):  # replacing a file must not change who can read it
                os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
            for chunk in chunks:
                view = memoryview(chunk)
                while view:  # os.write may write less than asked (and caps at 2 GiB on Linux)
                    view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # make the rename itself durable; Windows cannot open a directory
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            with contextlib.suppress(OSError):  # some file systems refuse: the data is safe
                os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _create_temp(directory: str, name: str) -> tuple[int, str]:
    # Not tempfile.NamedTemporaryFile: it creates mode 0600, and a saved file should get the
    # permissions open() gives (0666 less the umask), which O_CREAT with 0o666 applies for us.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _align(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def _where(path) -> str:
    parts = []
    while path is not None:
        path, key = path
        parts.append(f"[{key!r}]")
    return "".join(reversed(parts)) or "the top level"


# ------------------------------------------------------------------------------ reading
def _invalid(message: str) -> RuntimeError:
    return RuntimeError(f"invalid tinygrad_optim save file: {message}")


def _read_exact(fh, n: int) -> bytearray:
    buf = bytearray()
    while len(buf) < n:
        chunk = fh.read(min(n - len(buf), _CHUNK))
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError(f"load() {_TEXT_MODE}: read() returned {type(chunk).__name__}")
        if not chunk:
            break
        buf += chunk
    return buf


def _read_record(fh) -> tuple[bytearray, bytearray]:
    """The header and the rest of one saved object, after checking the header."""
    head = _read_exact(fh, _HEADER.size)
    if not head:
        raise _invalid("the file is empty")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x80"):
        what = "a zip archive, as torch.save writes" if head[0] == 0x50 else "a pickle"
        raise _invalid(f"this is {what}. tinygrad_optim.load reads only files written by "
                       "tinygrad_optim.save and never unpickles, because unpickling can run "
                       "arbitrary code. Convert the data with the library that wrote it.")
    if head.startswith(b"\x93NUMPY"):
        raise _invalid("this is a .npy file: read it with numpy.load")
    if head[:len(MAGIC)] != MAGIC[:len(head)]:
        raise _invalid(f"wrong magic bytes {bytes(head[:len(MAGIC)])!r} (expected {MAGIC!r})")
    if len(head) < _HEADER.size:
        raise _invalid(f"truncated: {len(head)} bytes, shorter than the {_HEADER.size}-byte "
                       "header")
    _, version, flags, manifest_nbytes, data_nbytes = _HEADER.unpack(head)
    # The version comes first: nothing else in a file of an unknown version can be trusted.
    if version > VERSION:
        raise _invalid(f"written in format version {version}, newer than the version "
                       f"{VERSION} this tinygrad_optim reads: upgrade tinygrad_optim")
    if version < 1:
        raise _invalid(f"unknown format version {version}")
    if flags:
        raise _invalid(f"unknown header flags {flags:#x}")
    size = _align(_HEADER.size + manifest_nbytes) - _HEADER.size + data_nbytes + _DIGEST
    body = _read_exact(fh, size)
    if len(body) < size:
        raise _invalid(f"truncated: the header announces {_HEADER.size + size} bytes, "
                       f"the file ends after {_HEADER.size + len(body)}")
    return head, body


def _verify(head: bytearray, body: bytearray) -> tuple[bytes, memoryview]:
    """Check the checksum and the padding; returns the manifest bytes and the data section."""
    manifest_nbytes, data_nbytes = _HEADER.unpack(head)[3:]
    content = memoryview(body)[:-_DIGEST]
    digest = hashlib.sha256(head)
    digest.update(content)
    if digest.digest() != body[-_DIGEST:]:
        raise _invalid("SHA-256 checksum mismatch: the file is corrupted")
    data_start = len(content) - data_nbytes
    if any(content[manifest_nbytes:data_start]):
        raise _invalid("non-zero bytes in the padding after the manifest")
    return bytes(content[:manifest_nbytes]), content[data_start:]


class _Plan:
    """A checked tensor, array or numpy scalar node: what to read and where."""

    __slots__ = ("kind", "dtype", "shape", "offset", "nbytes", "device", "requires_grad")

    def __init__(self, node, where, data, placement):
        table = _TENSOR_DTYPES if node["type"] == "tensor" else _ARRAY_DTYPES
        self.kind, self.dtype = node["type"], table.get(node["dtype"])
        if self.dtype is None:
            raise _invalid(f"{where}: unsupported dtype {node['dtype']!r}")
        shape = node.get("shape", [])
        if len(shape) > _MAXDIMS or not all(type(n) is int and n >= 0 for n in shape):
            raise _invalid(f"{where}: bad shape {shape!r}")
        # numpy's own limit: the product of the non-zero sizes, in bytes, must fit an intp.
        if math.prod(max(n, 1) for n in shape) * self.dtype.itemsize > sys.maxsize:
            raise _invalid(f"{where}: shape {shape!r} is too large")
        self.shape, self.offset, self.nbytes = tuple(shape), node["offset"], node["nbytes"]
        if self.nbytes != math.prod(self.shape) * self.dtype.itemsize:
            raise _invalid(f"{where}: {self.nbytes} bytes do not hold a {node['dtype']} array "
                           f"of shape {shape}")
        if not 0 <= self.offset <= len(data) - self.nbytes:
            raise _invalid(f"{where}: bytes {self.offset}..{self.offset + self.nbytes} lie "
                           f"outside the {len(data)}-byte data section")
        if self.dtype == np.bool_ and (self.raw(data, np.uint8) > 1).any():
            raise _invalid(f"{where}: a bool buffer holds bytes other than 0 and 1")
        self.device = self.requires_grad = None
        if self.kind == "tensor":
            if not re.fullmatch(r"cpu|cuda:(0|[1-9][0-9]*)", node["device"]):
                raise _invalid(f"{where}: bad device {node['device']!r}")
            if node["requires_grad"] and self.dtype.kind not in "fc":
                raise _invalid(f"{where}: a {node['dtype']} tensor cannot require grad")
            self.device = _available(placement(device(node["device"])))
            self.requires_grad = node["requires_grad"]

    def raw(self, data, dtype=None) -> np.ndarray:
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        return np.frombuffer(data, dtype, self.nbytes // dtype.itemsize, self.offset)

    def build(self, data):
        # astype copies last: the result owns writable memory, in the machine's byte order.
        array = self.raw(data).reshape(self.shape).astype(self.dtype.newbyteorder("="))
        if self.kind == "tensor":
            return Tensor._wrap(to_device(array, self.device), self.requires_grad)
        return array[()] if self.kind == "numpy_scalar" else array


_ARRAY_FIELDS = {"dtype": str, "offset": int, "nbytes": int}
_SCHEMA = {
    "none": {}, "bool": {"value": bool}, "int": {"value": str}, "float": {"bits": str},
    "str": {"value": str}, "list": {"items": list}, "tuple": {"items": list},
    "dict": {"keys": list, "values": list}, "ordered_dict": {"keys": list, "values": list},
    "tensor": {**_ARRAY_FIELDS, "shape": list, "device": str, "requires_grad": bool},
    "ndarray": {**_ARRAY_FIELDS, "shape": list}, "numpy_scalar": _ARRAY_FIELDS,
}
_INT = re.compile(r"-?0x(0|[1-9a-f][0-9a-f]*)")
_FLOAT = re.compile(r"[0-9a-f]{16}")


def _check_manifest(manifest: bytes, data: memoryview, placement) -> tuple[list, int]:
    """Check every node; returns a plan per node (kind, value or spec) and the root index."""
    try:
        tree = json.loads(manifest.decode("utf-8"), object_pairs_hook=_unique_keys,
                          parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _invalid(f"the manifest is not valid JSON ({exc})") from None
    if not (isinstance(tree, dict) and tree.keys() == {"root", "nodes"}
            and isinstance(tree["nodes"], list) and type(tree["root"]) is int):
        raise _invalid("the manifest must be an object with exactly 'root' and 'nodes'")
    nodes, plans = tree["nodes"], []
    if not 0 <= tree["root"] < len(nodes):
        raise _invalid(f"root {tree['root']} is not one of the {len(nodes)} nodes")
    for i, node in enumerate(nodes):
        where = f"node {i}"
        kind = node.get("type") if isinstance(node, dict) else None
        if not isinstance(kind, str) or kind not in _SCHEMA:
            raise _invalid(f"{where}: not an object with a known 'type'")
        schema = _SCHEMA[kind]
        if node.keys() != {"type", *schema} or any(
                type(node[name]) is not cls for name, cls in schema.items()):
            fields = ", ".join(f"{name} ({cls.__name__})" for name, cls in schema.items())
            raise _invalid(f"{where}: a {kind!r} node has exactly the fields: type, {fields}")
        plans.append(_plan(node, where, i, plans, data, placement))
    return plans, tree["root"]


def _plan(node, where, i, plans, data, placement):
    kind = node["type"]
    if kind == "none":
        return ("value", None)
    if kind in ("bool", "str"):
        return ("value", node["value"])
    if kind == "int":
        if not _INT.fullmatch(node["value"]):
            raise _invalid(f"{where}: bad int {node['value']!r}")
        return ("value", int(node["value"], 16))
    if kind == "float":
        if not _FLOAT.fullmatch(node["bits"]):
            raise _invalid(f"{where}: bad float bits {node['bits']!r}")
        return ("value", struct.unpack(">d", bytes.fromhex(node["bits"]))[0])
    if kind in _CONTAINERS.values():
        children = node["items"] if "items" in node else node["values"]
        if "keys" in node:
            if len(node["keys"]) != len(children):
                raise _invalid(f"{where}: {len(node['keys'])} keys, {len(children)} values")
            children = node["keys"] + children
        for child in children:  # children come first: this also rules out cycles
            if not (type(child) is int and 0 <= child < i):
                raise _invalid(f"{where}: child {child!r} is not an earlier node")
        if "keys" in node:
            if any(plans[k][0] != "value" or type(plans[k][1]) not in (str, int, bool)
                   for k in node["keys"]):
                raise _invalid(f"{where}: dict keys must be str, int or bool nodes")
            keys = [plans[k][1] for k in node["keys"]]
            if len(set(keys)) != len(keys):
                raise _invalid(f"{where}: duplicate dict keys")
            return (kind, (keys, node["values"]))
        return (kind, node["items"])
    return ("array", _Plan(node, where, data, placement))


def _unique_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate field names {keys}")
    return dict(pairs)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _placement(map_location):
    """map_location as a function from the saved device to the device to load on."""
    if map_location is None:
        return lambda saved: saved
    if isinstance(map_location, dict):
        table = {as_device(k): as_device(v) for k, v in map_location.items()}
        return lambda saved: table.get(saved, saved)
    if isinstance(map_location, (str, device)):
        target = as_device(map_location)
        return lambda saved: target
    raise TypeError("map_location must be None, a device, a device string or a dict of them, "
                    f"not {type(map_location).__name__}")


def _available(dev: device) -> device:
    """``dev`` when tensors can be made there; torch's errors, and its advice, otherwise."""
    if dev.type == "cuda":
        count = cuda_device_count()
        if count == 0:
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but "
                "tinygrad_optim.cuda.is_available() is False. If you are running on a CPU-only "
                "machine, please use tinygrad_optim.load with map_location='cpu' to map your "
                "tensors to the CPU.")
        if dev.index >= count:
            raise RuntimeError(
                f"Attempting to deserialize object on CUDA device {dev.index} but "
                f"tinygrad_optim.cuda.device_count() is {count}. Please use tinygrad_optim.load "
                "with map_location to map your tensors to an existing device.")
    return dev


def _build(plans, data) -> list:
    """Make the objects, children before parents (every check has passed by now)."""
    built = []
    for kind, spec in plans:
        if kind == "value":
            built.append(spec)
        elif kind == "array":
            built.append(spec.build(data))
        elif kind in ("list", "tuple"):
            items = [built[child] for child in spec]
            built.append(items if kind == "list" else tuple(items))
        else:
            keys, values = spec
            pairs = zip(keys, (built[child] for child in values))
            built.append(dict(pairs) if kind == "dict" else OrderedDict(pairs))
    return built
