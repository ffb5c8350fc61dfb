"""Plain arrays in and out: `.npy` bytes without pickles, and byte-stable `.npz` files.

Everything that crosses from a child to the grader goes through `decode`, which refuses pickled
objects, object dtypes and anything larger than the caller allows.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

__all__ = ["encode", "decode", "ArrayError", "write_npz", "read_npz", "PLAIN_KINDS", "FIXED_DATE"]

PLAIN_KINDS = "biuf"  # bool, signed int, unsigned int, float
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


class ArrayError(ValueError):
    """A value is not a plain numeric array."""


def encode(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    arr = np.asarray(arr)
    np.lib.format.write_array(buf, arr if arr.flags.c_contiguous else arr.copy(order="C"), allow_pickle=False)
    return buf.getvalue()


def decode(data: bytes, max_bytes: int | None = None) -> np.ndarray:
    """Read one `.npy` blob; never unpickles. Raises ArrayError with a reason.

    The result is a read-only view of `data` (no copy): the grader only reads it.
    """
    buf = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(buf)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(buf)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(buf)
    except Exception as e:  # malformed header
        raise ArrayError(f"not a valid array ({e})") from None
    if dtype.hasobject or dtype.kind not in PLAIN_KINDS or dtype.fields is not None:
        raise ArrayError(f"arrays of dtype {dtype} are not accepted; return numbers (bool, int or float)")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if max_bytes is not None and count * dtype.itemsize > max_bytes:
        raise ArrayError(f"array of shape {shape} is {count * dtype.itemsize} bytes, over the limit of {max_bytes}")
    offset = buf.tell()
    if len(data) - offset != count * dtype.itemsize:
        raise ArrayError(f"not a valid array (header says {count * dtype.itemsize} bytes of data, "
                         f"{len(data) - offset} follow)")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order="F" if fortran else "C")


def write_npz(path, arrays: dict[str, np.ndarray]) -> None:
    """An `.npz` whose bytes depend only on the arrays (sorted names, fixed dates)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(name + ".npy", date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, encode(np.asarray(arrays[name])))


def read_npz(path, pool: list | None = None) -> dict[str, np.ndarray]:
    """Every array of an `.npz` (grader-owned data, still decoded without pickles).

    All arrays are read-only views into one bytearray; when `pool` is given it is appended there,
    so that its owner can zero every array at once (see bundle.scrub_all).
    """
    with zipfile.ZipFile(path) as zf:
        members = [(info.filename[:-4], zf.read(info)) for info in zf.infolist() if info.filename.endswith(".npy")]
    buffer = bytearray(sum(len(data) for _, data in members))
    view, out, pos = memoryview(buffer), {}, 0
    for name, data in members:
        view[pos:pos + len(data)] = data
        arr = decode(view[pos:pos + len(data)])
        arr.flags.writeable = False
        out[name] = arr
        pos += len(data)
    if pool is not None:
        pool.append(buffer)
    return out
