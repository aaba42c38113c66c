"""A whole-PNG check for the tests of the tour and the examples (standard library only)."""
import pathlib
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the empty IEND chunk with its CRC


def check_png(path: pathlib.Path) -> None:
    """Assert that ``path`` holds a whole PNG: signature, a valid IHDR with a size, IEND."""
    data = path.read_bytes()
    assert len(data) > 33, f"{path} is too short for a PNG ({len(data)} bytes)"
    assert data[:8] == PNG_SIGNATURE, f"{path} does not start with the PNG signature"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13, f"{path}: the first chunk is not an IHDR"
    (crc,) = struct.unpack(">I", data[29:33])
    assert zlib.crc32(data[12:29]) == crc, f"{path}: the IHDR chunk fails its CRC"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0, f"{path} is {width}x{height} pixels"
    assert data.endswith(PNG_END), f"{path} is truncated (no IEND chunk at the end)"
