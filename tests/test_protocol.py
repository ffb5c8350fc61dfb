"""autograder/protocol.py: frames of a JSON header and .npy blobs, read with limits."""

import io
import json
import os
import struct

import numpy as np
import pytest

from autograder.protocol import MAX_HEADER, FrameReader, ProtocolError, pack, read_frame_blocking

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


@pytest.mark.parametrize("listing, payload", [
    ([["x", 100]], b""),
    ([["x", 10]], b"123"),
    ([["x"]], b""),
    ([[1, 0]], b""),
    ([["x", -1]], b""),
    ([["x", "3"]], b"123"),
    (["x"], b""),
], ids=["missing", "short", "no-size", "name-not-str", "negative", "size-not-int", "not-a-pair"])
def test_header_listing_an_array_it_does_not_carry(listing, payload):
    head = json.dumps({"arrays": listing}).encode()
    with pytest.raises(ProtocolError, match="reply lists an array it does not carry"):
        feed_all(raw_frame(head, payload))


def test_object_array_inside_a_frame_is_refused():
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    blob = buf.getvalue()
    head = json.dumps({"status": "ok", "arrays": [["out", len(blob)]]}).encode()
    with pytest.raises(ProtocolError, match=r"^output 'out': arrays of dtype object are not accepted"):
        feed_all(raw_frame(head, blob))


def test_garbage_array_inside_a_frame_is_refused():
    head = json.dumps({"arrays": [["out", 5]]}).encode()
    with pytest.raises(ProtocolError, match=r"^output 'out': not a valid array"):
        feed_all(raw_frame(head, b"12345"))


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
