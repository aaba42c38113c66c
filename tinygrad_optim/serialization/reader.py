"""load: read a saved file, verify its checksum and manifest, then build the objects."""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np

from ..backend import as_device, cuda_device_count, device, to_device
from ..tensor import Tensor
from .format import (ARRAY_DTYPES, CONTAINERS, DEVICE, DIGEST_SIZE, FLOAT_BITS, HEADER, INT_VALUE,
                     MAGIC, NODE_FIELDS, TENSOR_DTYPES, TEXT_MODE, VERSION, align)

_CHUNK = 1 << 24  # read in steps, so a forged length cannot make us allocate it up front
_MAXDIMS = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32  # numpy's ndim limit


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
        raise TypeError(f"load() {TEXT_MODE}")
    elif hasattr(f, "read"):
        head, body = _read_record(f)
    else:
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'read' attribute")
    manifest, data = _verify(head, body)
    plans, root = _check_manifest(manifest, data, placement)
    return _build(plans, data)[root]


def _invalid(message: str) -> RuntimeError:
    """The error for a file that fails a check, for the caller to raise."""
    return RuntimeError(f"invalid tinygrad_optim save file: {message}")


def _read_exact(fh, n: int) -> bytearray:
    """Up to ``n`` bytes from ``fh``; fewer only at the end of the file."""
    buf = bytearray()
    while len(buf) < n:
        chunk = fh.read(min(n - len(buf), _CHUNK))
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError(f"load() {TEXT_MODE}: read() returned {type(chunk).__name__}")
        if not chunk:
            break
        buf += chunk
    return buf


def _read_record(fh) -> tuple[bytearray, bytearray]:
    """The header and the rest of one saved object, after checking the header."""
    head = _read_exact(fh, HEADER.size)
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
    if len(head) < HEADER.size:
        raise _invalid(f"truncated: {len(head)} bytes, shorter than the {HEADER.size}-byte "
                       "header")
    _, version, flags, manifest_nbytes, data_nbytes = HEADER.unpack(head)
    # The version comes first: nothing else in a file of an unknown version can be trusted.
    if version > VERSION:
        raise _invalid(f"written in format version {version}, newer than the version "
                       f"{VERSION} this tinygrad_optim reads: upgrade tinygrad_optim")
    if version < 1:
        raise _invalid(f"unknown format version {version}")
    if flags:
        raise _invalid(f"unknown header flags {flags:#x}")
    size = align(HEADER.size + manifest_nbytes) - HEADER.size + data_nbytes + DIGEST_SIZE
    body = _read_exact(fh, size)
    if len(body) < size:
        raise _invalid(f"truncated: the header announces {HEADER.size + size} bytes, "
                       f"the file ends after {HEADER.size + len(body)}")
    return head, body


def _verify(head: bytearray, body: bytearray) -> tuple[bytes, memoryview]:
    """Check the checksum and the padding; returns the manifest bytes and the data section."""
    manifest_nbytes, data_nbytes = HEADER.unpack(head)[3:]
    content = memoryview(body)[:-DIGEST_SIZE]
    digest = hashlib.sha256(head)
    digest.update(content)
    if digest.digest() != body[-DIGEST_SIZE:]:
        raise _invalid("SHA-256 checksum mismatch: the file is corrupted")
    data_start = len(content) - data_nbytes
    if any(content[manifest_nbytes:data_start]):
        raise _invalid("non-zero bytes in the padding after the manifest")
    return bytes(content[:manifest_nbytes]), content[data_start:]


class _Plan:
    """A checked tensor, array or numpy scalar node: what to read and where."""

    __slots__ = ("kind", "dtype", "shape", "offset", "nbytes", "device", "requires_grad")

    def __init__(self, node, where, data, placement):
        table = TENSOR_DTYPES if node["type"] == "tensor" else ARRAY_DTYPES
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
            if not DEVICE.fullmatch(node["device"]):
                raise _invalid(f"{where}: bad device {node['device']!r}")
            if node["requires_grad"] and self.dtype.kind not in "fc":
                raise _invalid(f"{where}: a {node['dtype']} tensor cannot require grad")
            self.device = _available(placement(device(node["device"])))
            self.requires_grad = node["requires_grad"]

    def raw(self, data, dtype=None) -> np.ndarray:
        """The buffer as a flat read-only view into ``data``, as ``dtype`` (default: its own)."""
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        return np.frombuffer(data, dtype, self.nbytes // dtype.itemsize, self.offset)

    def build(self, data):
        """The Tensor, array or numpy scalar, in fresh memory."""
        # astype copies last: the result owns writable memory, in the machine's byte order.
        array = self.raw(data).reshape(self.shape).astype(self.dtype.newbyteorder("="))
        if self.kind == "tensor":
            return Tensor._wrap(to_device(array, self.device), self.requires_grad)
        return array[()] if self.kind == "numpy_scalar" else array


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
        if not isinstance(kind, str) or kind not in NODE_FIELDS:
            raise _invalid(f"{where}: not an object with a known 'type'")
        schema = NODE_FIELDS[kind]
        if node.keys() != {"type", *schema} or any(
                type(node[name]) is not cls for name, cls in schema.items()):
            fields = ", ".join(f"{name} ({cls.__name__})" for name, cls in schema.items())
            raise _invalid(f"{where}: a {kind!r} node has exactly the fields: type, {fields}")
        plans.append(_plan(node, where, i, plans, data, placement))
    return plans, tree["root"]


def _plan(node, where, i, plans, data, placement):
    """Check the values of node ``i``, whose members are checked; returns its plan."""
    kind = node["type"]
    if kind == "none":
        return ("value", None)
    if kind in ("bool", "str"):
        return ("value", node["value"])
    if kind == "int":
        if not INT_VALUE.fullmatch(node["value"]):
            raise _invalid(f"{where}: bad int {node['value']!r}")
        return ("value", int(node["value"], 16))
    if kind == "float":
        if not FLOAT_BITS.fullmatch(node["bits"]):
            raise _invalid(f"{where}: bad float bits {node['bits']!r}")
        return ("value", struct.unpack(">d", bytes.fromhex(node["bits"]))[0])
    if kind in CONTAINERS.values():
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
    """json's object hook: a member named twice makes the manifest invalid."""
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate field names {keys}")
    return dict(pairs)


def _no_constant(name):
    """json's constant hook: NaN and Infinity are not JSON."""
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
