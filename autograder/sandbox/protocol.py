"""Framing of the messages between the grader and a child: a JSON header and raw array bytes.

A frame is 16 bytes (header length, payload length, big-endian), the JSON header, then the
payload: the arrays that header["arrays"] describes as [name, dtype, shape, nbytes] entries
(see arrays.py), back to back. Nothing here unpickles; every entry is checked before use.
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np

from autograder.core.arrays import ArrayError, describe, read_entry

__all__ = ["pack", "FrameReader", "read_frame_blocking", "ProtocolError", "MAX_HEADER", "check_reply"]

_HEAD = struct.Struct(">QQ")
MAX_HEADER = 1 << 20


class ProtocolError(ValueError):
    """A frame that is malformed or over a limit."""


def pack(meta: dict, arrays: dict[str, np.ndarray] | None = None) -> bytes:
    described = [describe(name, arr) for name, arr in (arrays or {}).items()]
    meta = dict(meta, arrays=[entry for entry, _ in described])
    head = json.dumps(meta, allow_nan=False).encode()
    payload = b"".join(data for _, data in described)
    return _HEAD.pack(len(head), len(payload)) + head + payload


def _unpack(head: bytes, payload: bytes, max_array_bytes: int | None):
    try:
        meta = json.loads(head.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProtocolError("reply header is not valid JSON") from None
    except RecursionError:
        raise ProtocolError("reply header is JSON nested too deeply to read") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("arrays", []), list):
        raise ProtocolError("reply header is not a mapping")
    arrays, pos = {}, 0
    for entry in meta.pop("arrays", []):
        try:
            name, arr = read_entry(entry, payload, pos, max_array_bytes)
        except ArrayError as e:
            raise ProtocolError(f"output {e}") from None
        arrays[name] = arr
        pos += arr.nbytes
    if pos != len(payload):
        raise ProtocolError(f"reply carries {len(payload) - pos} bytes that no array description accounts for")
    return meta, arrays


class FrameReader:
    """Incremental reader for one frame, with limits on both parts (used by the grader)."""

    def __init__(self, max_payload: int):
        self.max_payload = max_payload
        self.buf = bytearray()

    def feed(self, data: bytes):
        self.buf += data
        if len(self.buf) < _HEAD.size:
            return None
        hlen, plen = _HEAD.unpack_from(self.buf)
        if hlen > MAX_HEADER:
            raise ProtocolError(f"reply header of {hlen} bytes is over the limit")
        if plen > self.max_payload:
            raise ProtocolError(f"reply of {plen / 2**20:.1f} MB is over the limit of "
                                f"{self.max_payload / 2**20:.0f} MB")
        total = _HEAD.size + hlen + plen
        if len(self.buf) < total:
            return None
        head = bytes(self.buf[_HEAD.size:_HEAD.size + hlen])
        payload = bytes(self.buf[_HEAD.size + hlen:total])
        del self.buf[:total]
        return _unpack(head, payload, self.max_payload)


def _read_exact(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame_blocking(fd: int):
    """Read one frame from a trusted sender (the grader, in the child). EOFError at end."""
    hlen, plen = _HEAD.unpack(_read_exact(fd, _HEAD.size))
    head = _read_exact(fd, hlen)
    payload = _read_exact(fd, plen)
    meta, arrays = _unpack(head, payload, None)
    return meta, {k: np.array(v) for k, v in arrays.items()}  # writeable copies for the student's code


# What a child's reply header holds besides its arrays: field -> (type, required). Every reply
# has "ok"; a failed one has "error", whose "where" (the student's line) may be null.
_REPLY = {"ok": (bool, True), "banned": (list, False), "error": (dict, False)}
_ERROR = {"type": (str, True), "message": (str, True), "stage": (str, False), "module": (str, False),
          "where": ((dict, type(None)), False)}
_WHERE = {"file": (str, True), "line": (int, True), "code": (str, True), "function": (str, True)}


def _check_fields(obj: dict, fields: dict, path: str) -> None:
    for name, (kind, required) in fields.items():
        where = f"{path}{name}"
        if name not in obj:
            if required:
                raise ProtocolError(f"reply header has no '{where}' field")
            continue
        value = obj[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            expected = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            raise ProtocolError(f"reply header field '{where}' is {type(value).__name__}, not {expected}")


def check_reply(meta: dict) -> None:
    """Check the fields the grader reads from a child's reply header (after `arrays`); a missing
    field or one of the wrong type is a ProtocolError naming it."""
    _check_fields(meta, _REPLY, "")
    if not all(isinstance(b, str) for b in meta.get("banned", [])):
        raise ProtocolError("reply header field 'banned' holds something that is not a string")
    if not meta["ok"]:
        if "error" not in meta:
            raise ProtocolError("reply header says the call failed but has no 'error' field")
        _check_fields(meta["error"], _ERROR, "error.")
        if meta["error"].get("where") is not None:
            _check_fields(meta["error"]["where"], _WHERE, "error.where.")
