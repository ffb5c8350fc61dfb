"""autograder/protocol.py: frames of a JSON header and .npy blobs, read with limits."""

import io
import json
import os
import re
import struct

import numpy as np
import pytest

from autograder.sandbox.protocol import MAX_HEADER, FrameReader, ProtocolError, check_reply, pack, read_frame_blocking

MB = 2**20


def raw_frame(head: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">QQ", len(head), len(payload)) + head + payload


def feed_all(data: bytes, max_payload: int = MB):
    return FrameReader(max_payload).feed(data)


def test_pack_and_read_byte_by_byte():
    arrays = {"out": np.arange(6, dtype=np.float64).reshape(2, 3), "mask": np.array([True, False]),
              "loss": np.array(1.5, dtype=np.float32)}
    data = pack({"status": "ok", "stdout": "hi\n", "n": 3}, arrays)
    reader = FrameReader(MB)
    for i in range(len(data) - 1):
        assert reader.feed(data[i:i + 1]) is None
    meta, got = reader.feed(data[-1:])
    assert meta == {"status": "ok", "stdout": "hi\n", "n": 3}
    assert list(got) == ["out", "mask", "loss"]
    for name, arr in arrays.items():
        assert got[name].dtype == arr.dtype and np.array_equal(got[name], arr)
    assert reader.buf == bytearray()


def test_frame_without_arrays():
    meta, arrays = feed_all(pack({"status": "error", "message": "boom"}))
    assert meta == {"status": "error", "message": "boom"} and arrays == {}


def test_two_frames_back_to_back():
    data = pack({"i": 1}, {"a": np.ones(2)}) + pack({"i": 2}, {"a": np.zeros(3)})
    reader = FrameReader(MB)
    meta, arrays = reader.feed(data)
    assert meta == {"i": 1} and arrays["a"].tolist() == [1.0, 1.0]
    meta, arrays = reader.feed(b"")
    assert meta == {"i": 2} and arrays["a"].tolist() == [0.0, 0.0, 0.0]


def test_pack_refuses_nan_in_header():
    with pytest.raises(ValueError):
        pack({"loss": float("nan")})


def test_payload_over_the_limit_is_refused_from_the_prefix():
    data = pack({}, {"big": np.zeros(1000)})  # 8 KB of data
    reader = FrameReader(max_payload=4096)
    with pytest.raises(ProtocolError, match=r"over the limit"):
        reader.feed(data[:16])  # refused before the payload is buffered


def test_payload_at_the_limit_is_read():
    data = pack({}, {"x": np.zeros(10)})
    plen = struct.unpack(">QQ", data[:16])[1]
    meta, arrays = FrameReader(max_payload=plen).feed(data)
    assert arrays["x"].shape == (10,)
    with pytest.raises(ProtocolError):
        FrameReader(max_payload=plen - 1).feed(data)


def test_header_over_max_header_is_refused():
    prefix = struct.pack(">QQ", MAX_HEADER + 1, 0)
    with pytest.raises(ProtocolError, match=f"header of {MAX_HEADER + 1} bytes is over the limit"):
        FrameReader(MB).feed(prefix)
    # Exactly MAX_HEADER is allowed: the reader waits for the rest.
    assert FrameReader(MB).feed(struct.pack(">QQ", MAX_HEADER, 0)) is None


@pytest.mark.parametrize("head", [b"\xff\xfe not utf8", b"{not json", b"", b"[1, 2]", b'"text"',
                                  b'{"arrays": "x"}'],
                         ids=["not-utf8", "not-json", "empty", "list", "string", "arrays-not-list"])
def test_bad_header_is_refused(head):
    with pytest.raises(ProtocolError, match="reply header is not"):
        feed_all(raw_frame(head))


def test_a_header_nested_too_deeply_is_refused_by_name():
    head = b'{"ok": false, "error": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ProtocolError, match="nested too deeply"):
        feed_all(raw_frame(head))


WHERE = {"file": "f.py", "line": 3, "code": "x = 1", "function": "f"}


@pytest.mark.parametrize("meta", [
    {"ok": True}, {"ok": True, "banned": ["torch.nn.LSTM"]},
    {"ok": False, "error": {"type": "ValueError", "message": "m", "where": None, "stage": "call"}},
    {"ok": False, "error": {"type": "E", "message": "m", "where": WHERE, "stage": "import", "module": "mod"}},
], ids=["ok", "banned", "error", "error-with-where"])
def test_replies_the_child_sends_pass_the_check(meta):
    check_reply(meta)


@pytest.mark.parametrize("meta, says", [
    ({}, "has no 'ok' field"),
    ({"ok": "yes"}, "field 'ok' is str, not bool"),
    ({"ok": True, "banned": "torch"}, "field 'banned' is str, not list"),
    ({"ok": True, "banned": [1]}, "'banned' holds something that is not a string"),
    ({"ok": False}, "says the call failed but has no 'error' field"),
    ({"ok": False, "error": "boom"}, "field 'error' is str, not dict"),
    ({"ok": False, "error": {"message": "m"}}, "has no 'error.type' field"),
    ({"ok": False, "error": {"type": "E", "message": 5}}, "field 'error.message' is int, not str"),
    ({"ok": False, "error": {"type": "E", "message": "m", "where": "f.py"}}, "'error.where' is str, not dict or null"),
    ({"ok": False, "error": {"type": "E", "message": "m", "where": dict(WHERE, line=True)}},
     "field 'error.where.line' is bool, not int"),
    ({"ok": False, "error": {"type": "E", "message": "m", "where": {"file": "f.py"}}}, "has no 'error.where.line'"),
], ids=["no-ok", "ok-str", "banned-str", "banned-int", "no-error", "error-str", "no-type", "message-int",
        "where-str", "line-bool", "where-partial"])
def test_a_malformed_reply_header_is_refused_naming_the_field(meta, says):
    with pytest.raises(ProtocolError, match=re.escape(says)):
        check_reply(meta)


@pytest.mark.parametrize("listing, payload, why", [
    ([["x", "<f8", [100], 800]], b"", "are not all there"),
    ([["x", "<f8", [2], 16]], b"123", "are not all there"),
    ([["x", "<f8", [1]]], b"", "description is not"),
    ([[1, "<f8", [1], 8]], b"\0" * 8, "description is not"),
    ([["x", "<f8", [1], -8]], b"", "do not make an array"),
    ([["x", "<f8", [1], "8"]], b"\0" * 8, "do not make an array"),
    (["x"], b"", "description is not"),
], ids=["missing", "short", "no-size", "name-not-str", "negative", "size-not-int", "not-a-list"])
def test_header_listing_an_array_it_does_not_carry(listing, payload, why):
    head = json.dumps({"arrays": listing}).encode()
    with pytest.raises(ProtocolError, match=why):
        feed_all(raw_frame(head, payload))


def test_bytes_no_description_accounts_for_are_refused():
    head = json.dumps({"arrays": [["x", "<f8", [1], 8]]}).encode()
    with pytest.raises(ProtocolError, match="8 bytes that no array description accounts for"):
        feed_all(raw_frame(head, b"\0" * 16))


def test_object_array_inside_a_frame_is_refused_without_unpickling(tmp_path):
    # A pickled object array, described as an object array: refused by its dtype, never loaded.
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    blob = buf.getvalue()
    head = json.dumps({"status": "ok", "arrays": [["out", "|O", [2], len(blob)]]}).encode()
    with pytest.raises(ProtocolError, match=r"^output 'out': dtype '\|O' is not accepted"):
        feed_all(raw_frame(head, blob))


def test_array_over_the_per_array_limit_is_refused_by_name():
    data = pack({}, {"out": np.zeros(100)})
    with pytest.raises(ProtocolError, match=r"^output 'out': array of shape \(100,\) is 800 bytes, over the limit"):
        _unpack_with_limit(data, 799)


def _unpack_with_limit(data, limit):
    from autograder.sandbox.protocol import _unpack
    hlen, plen = struct.unpack(">QQ", data[:16])
    return _unpack(data[16:16 + hlen], data[16 + hlen:], limit)


def test_read_frame_blocking_over_a_pipe():
    r, w = os.pipe()
    try:
        first = pack({"call": "probe", "args": [1, 2]}, {"x": np.arange(4.0)})
        second = pack({"call": "exit"})
        os.write(w, first + second)
        os.close(w)
        w = None
        meta, arrays = read_frame_blocking(r)
        assert meta == {"call": "probe", "args": [1, 2]}
        assert arrays["x"].tolist() == [0.0, 1.0, 2.0, 3.0]
        assert read_frame_blocking(r) == ({"call": "exit"}, {})
        with pytest.raises(EOFError):
            read_frame_blocking(r)
    finally:
        os.close(r)
        if w is not None:
            os.close(w)


def test_read_frame_blocking_truncated_frame_is_eof():
    r, w = os.pipe()
    try:
        os.write(w, pack({"a": 1}, {"x": np.zeros(3)})[:-5])
        os.close(w)
        with pytest.raises(EOFError):
            read_frame_blocking(r)
    finally:
        os.close(r)
