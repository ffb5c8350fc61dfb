"""Plain arrays in and out: raw bytes described by a small JSON-able index, never a pickle.

One format serves both the messages between grader and child (protocol.py) and the bundle's
data files. An array travels as `[name, dtype, shape, nbytes]` (dtype a short string such as
'<f8', '|b1', '<i8') plus its C-ordered bytes. `read_entry` checks every field of that index
before it looks at a byte: only bool, integer and float dtypes are accepted, so nothing can ask
for objects, strings or records, and the byte count must agree with the shape.

A data file (`*.arrays`) is the 8-byte magic, the index length, the JSON index (names sorted,
offsets 64-byte aligned), then the data: its bytes depend only on the arrays. `ArrayFile` loads
it into one private anonymous mapping. (No child is ever forked from a process that holds one:
children come from the template, template.py.)
"""

from __future__ import annotations

import json
import mmap
import re
import struct

import numpy as np

__all__ = ["ArrayError", "ArrayFile", "PLAIN_KINDS", "describe", "read_entry", "write_file", "MAGIC"]

PLAIN_KINDS = "biuf"  # bool, signed int, unsigned int, float
MAGIC = b"AGARR01\n"
_ALIGN = 64
_MAX_NDIM = 32
_DTYPE = re.compile(r"[<>|=]?[biuf][1-9][0-9]?")


class ArrayError(ValueError):
    """A value is not a plain numeric array, or its description does not fit its bytes."""


def describe(name: str, arr) -> tuple[list, memoryview]:
    """`([name, dtype, shape, nbytes], data)` for one array (copied only if not C-contiguous)."""
    arr = np.asarray(arr)
    if arr.dtype.hasobject or arr.dtype.kind not in PLAIN_KINDS or arr.dtype.fields is not None:
        raise ArrayError(f"'{name}' has dtype {arr.dtype}; only bool, int and float arrays are accepted")
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    data = memoryview(arr.reshape(-1).view(np.uint8)) if arr.size else memoryview(b"")
    return [name, arr.dtype.str, list(arr.shape), arr.nbytes], data


def _dtype(name: str, text) -> np.dtype:
    refused = ArrayError(f"'{name}': dtype {text!r} is not accepted; use numbers (bool, int or float)")
    if not isinstance(text, str) or not _DTYPE.fullmatch(text):
        raise refused
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise refused from None
    if dtype.kind not in PLAIN_KINDS:
        raise refused
    return dtype


def read_entry(entry, buffer, offset: int, max_bytes: int | None = None) -> tuple[str, np.ndarray]:
    """Check one index entry and view its bytes at `offset` of `buffer` (no copy, read-only)."""
    if not isinstance(entry, list) or len(entry) != 4 or not isinstance(entry[0], str):
        raise ArrayError("(unnamed): its description is not [name, dtype, shape, nbytes]")
    name, dtype, shape, nbytes = entry
    dtype = _dtype(name, dtype)
    if (not isinstance(shape, list) or len(shape) > _MAX_NDIM
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise ArrayError(f"'{name}': shape {shape!r} is not a list of at most {_MAX_NDIM} sizes")
    count = 1
    for n in shape:
        count *= n
    size = count * dtype.itemsize
    if type(nbytes) is not int or nbytes != size:
        raise ArrayError(f"'{name}': {nbytes!r} bytes do not make an array of shape {tuple(shape)} and dtype {dtype}")
    if max_bytes is not None and size > max_bytes:
        raise ArrayError(f"'{name}': array of shape {tuple(shape)} is {size} bytes, over the limit of {max_bytes}")
    if offset < 0 or offset + size > len(buffer):
        raise ArrayError(f"'{name}': its {size} bytes are not all there")
    arr = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset).reshape(shape)
    arr.flags.writeable = False
    return name, arr


def write_file(path, arrays: dict) -> None:
    """A data file whose bytes depend only on the arrays (names sorted, fixed alignment)."""
    index, chunks, pos = [], [], 0
    for name in sorted(arrays):
        entry, data = describe(name, arrays[name])
        pad = -pos % _ALIGN
        chunks += [b"\0" * pad, data]
        pos += pad
        index.append(entry + [pos])
        pos += len(data)
    head = json.dumps({"arrays": index}, separators=(",", ":")).encode()
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<Q", len(head)) + head)
        for chunk in chunks:
            f.write(chunk)


class ArrayFile:
    """A data file loaded into one private anonymous mapping; each array is checked and viewed
    (read-only, no copy) the first time it is asked for. `mapping` backs every array."""

    def __init__(self, path):
        with open(path, "rb") as f:
            prefix = f.read(len(MAGIC) + 8)
            if len(prefix) != len(MAGIC) + 8 or prefix[:len(MAGIC)] != MAGIC:
                raise ArrayError(f"{path} is not an array data file (it was written by another version?)")
            (hlen,) = struct.unpack("<Q", prefix[len(MAGIC):])
            try:
                index = json.loads(f.read(hlen))["arrays"]
            except (ValueError, KeyError, TypeError):
                raise ArrayError(f"{path}: the index is damaged") from None
            start = f.tell()
            f.seek(0, 2)
            size = f.tell() - start
            f.seek(start)
            self.mapping = mmap.mmap(-1, max(size, 1), flags=mmap.MAP_PRIVATE)
            if f.readinto(self.mapping) != size:
                raise ArrayError(f"{path} is truncated")
        if not isinstance(index, list) or not all(isinstance(e, list) and len(e) == 5 and isinstance(e[0], str)
                                                  and type(e[4]) is int for e in index):
            raise ArrayError(f"{path}: the index is damaged")
        self.path = path
        self._entries = {e[0]: e for e in index}
        self._arrays: dict[str, np.ndarray] = {}

    def names(self) -> list[str]:
        return list(self._entries)

    def get(self, name: str) -> np.ndarray:
        arr = self._arrays.get(name)
        if arr is None:
            entry = self._entries[name]
            try:
                arr = self._arrays[name] = read_entry(entry[:4], self.mapping, entry[4])[1]
            except ArrayError as e:
                raise ArrayError(f"{self.path}: {e}") from None
        return arr
