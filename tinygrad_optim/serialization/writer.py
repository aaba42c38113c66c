"""save: an object tree to a manifest and aligned buffers, written atomically to a path."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import stat
import struct
from collections import defaultdict

import numpy as np

from ..backend import to_numpy
from ..tensor import Tensor
from .format import ARRAY_DTYPES, CONTAINERS, HEADER, MAGIC, TEXT_MODE, VERSION, align

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
        raise TypeError(f"save() {TEXT_MODE}")
    chunks = _serialize(obj)
    if is_path:
        _write_atomic(os.fsdecode(os.fspath(f)), chunks)
    else:
        for chunk in chunks:
            f.write(memoryview(chunk))


class _Frame:
    """A container being encoded: its children are visited before its own node is added."""

    __slots__ = ("obj", "kind", "children", "keys", "indices")

    def __init__(self, writer, obj, path):
        self.obj, self.kind, self.indices = obj, CONTAINERS[type(obj)], []
        if isinstance(obj, dict):
            self.keys = [writer.key(key, path) for key in obj]
            self.children = ((value, (path, key)) for key, value in obj.items())
        else:
            self.children = ((value, (path, i)) for i, value in enumerate(obj))

    def node(self) -> dict:
        """The container's manifest node, once every child has its index."""
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
        """Append ``node`` to the manifest; returns its index."""
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
        if index is not None or kind in CONTAINERS:
            return index
        if isinstance(obj, Tensor):
            return self.array(obj, "tensor", to_numpy(obj._array), device=str(obj.device),
                              requires_grad=obj.requires_grad)
        # By name: a big-endian float32 is saved (little-endian) and loads as a float32.
        if kind is np.ndarray and obj.dtype.name in ARRAY_DTYPES:
            return self.array(obj, "ndarray", obj)
        if isinstance(obj, np.generic) and obj.dtype.name in ARRAY_DTYPES:
            return self.array(obj, "numpy_scalar", np.asarray(obj))
        what = f"{kind.__qualname__} of dtype {obj.dtype}" if kind is np.ndarray else (
            kind.__qualname__ if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}")
        raise TypeError(f"cannot save an object of type {what} at {_where(path)}: save() takes "
                        "dicts, lists, tuples, None, bool, int, float, str, Tensors and numeric "
                        f"numpy arrays{_HINTS.get(kind, '')}")

    def key(self, key, path) -> int:
        """The node of a dict key, which must be a str, int or bool."""
        if type(key) not in (str, int, bool):
            raise TypeError(f"cannot save a dict key of type {type(key).__qualname__} at "
                            f"{_where(path)}: keys must be str, int or bool")
        return self.leaf(key, path)

    def array(self, obj, kind: str, host: np.ndarray, **fields) -> int:
        """Queue ``host``'s bytes, little-endian, at the next aligned offset; returns its node."""
        little = np.ascontiguousarray(host, dtype=host.dtype.newbyteorder("<"))
        offset = align(self.data_nbytes)
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
    header = HEADER.pack(MAGIC, VERSION, 0, len(manifest), writer.data_nbytes)
    padding = align(HEADER.size + len(manifest)) - HEADER.size - len(manifest)
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
    """A new file with an unused name in ``directory``: its descriptor and its path."""
    # Not tempfile.NamedTemporaryFile: it creates mode 0600, and a saved file should get the
    # permissions open() gives (0666 less the umask), which O_CREAT with 0o666 applies for us.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _where(path) -> str:
    """A ``(parent, key)`` chain as the subscripts that reach it: ``['state'][0]``."""
    parts = []
    while path is not None:
        path, key = path
        parts.append(f"[{key!r}]")
    return "".join(reversed(parts)) or "the top level"
