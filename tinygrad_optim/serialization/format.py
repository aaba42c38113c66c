"""The save format's constants, shared by writer and reader: docs/save_format.md in code."""
import hashlib
import re
import struct
from collections import OrderedDict

import numpy as np

from .. import dtypes

# The layout is specified in docs/save_format.md; keep the two in step, and raise VERSION
# whenever a reader of the old version could misread a new file.
MAGIC = b"\x89TGO\r\n\x1a\n"  # PNG's trick: a non-ASCII byte, then CR LF / SUB / LF
VERSION = 1
HEADER = struct.Struct("<8sIIQQ")  # magic, version, flags, manifest bytes, data bytes
ALIGN = 64  # the data section and every buffer start on a multiple of this
DIGEST_SIZE = hashlib.sha256().digest_size  # the SHA-256 checksum that ends the file

# Element types by the name the manifest uses; buffers are little-endian. Plain numbers only:
# object, string and datetime arrays have no fixed-size byte form that is safe to load.
ARRAY_DTYPES = {np.dtype(name).name: np.dtype(name).newbyteorder("<") for name in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128")}
TENSOR_DTYPES = {d.name: ARRAY_DTYPES[d.np.name] for d in dtypes.ALL}

# The container node types, by the Python type each one saves and loads as.
CONTAINERS = {dict: "dict", OrderedDict: "ordered_dict", list: "list", tuple: "tuple"}

# Every node has a "type" and exactly these members, of exactly these JSON types.
_ARRAY_FIELDS = {"dtype": str, "offset": int, "nbytes": int}
NODE_FIELDS = {
    "none": {}, "bool": {"value": bool}, "int": {"value": str}, "float": {"bits": str},
    "str": {"value": str}, "list": {"items": list}, "tuple": {"items": list},
    "dict": {"keys": list, "values": list}, "ordered_dict": {"keys": list, "values": list},
    "tensor": {**_ARRAY_FIELDS, "shape": list, "device": str, "requires_grad": bool},
    "ndarray": {**_ARRAY_FIELDS, "shape": list}, "numpy_scalar": _ARRAY_FIELDS,
}
INT_VALUE = re.compile(r"-?0x(0|[1-9a-f][0-9a-f]*)")  # Python's hex(): no digit limit
FLOAT_BITS = re.compile(r"[0-9a-f]{16}")  # struct.pack(">d", x).hex(): exact for any float
DEVICE = re.compile(r"cpu|cuda:(0|[1-9][0-9]*)")

# Shared by save() and load(): the one mistake both sides report in the same words.
TEXT_MODE = "needs a binary file object (opened with 'rb' or 'wb'), not a text one"


def align(n: int) -> int:
    """``n`` rounded up to the next multiple of :data:`ALIGN`."""
    return -(-n // ALIGN) * ALIGN
