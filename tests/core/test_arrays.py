"""autograder/arrays.py: plain arrays only, described by a checked index; byte-stable data files."""

import json
import mmap
import struct

import numpy as np
import pytest

from autograder.core.arrays import MAGIC, ArrayError, ArrayFile, describe, read_entry, write_file


def round_trip(arr, max_bytes=None):
    entry, data = describe("x", arr)
    return read_entry(entry, bytes(data), 0, max_bytes)[1]


@pytest.mark.parametrize("arr", [
    np.array(3.5),
    np.array(7, dtype=np.int64),
    np.array(True),
    np.array([True, False, True]),
    np.arange(12, dtype=np.int32).reshape(3, 4),
    np.arange(6, dtype=np.uint8),
    np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5),
    np.random.default_rng(0).standard_normal((2, 3, 4)),
    np.array([np.nan, np.inf, -np.inf, -0.0]),
    np.zeros((0, 3)),
    np.arange(4, dtype=">f8"),
], ids=["0d-float", "0d-int", "0d-bool", "bool", "int32", "uint8", "float32", "float64-3d", "nonfinite",
        "empty", "big-endian"])
def test_round_trip(arr):
    back = round_trip(arr)
    assert back.dtype == arr.dtype
    assert back.shape == arr.shape
    assert np.array_equal(back, arr, equal_nan=arr.dtype.kind == "f")
    if arr.dtype.kind == "f":
        assert np.array_equal(np.signbit(back), np.signbit(arr))
    assert not back.flags.writeable


def test_round_trip_of_non_contiguous_arrays():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    for arr in (base.T, base[:, ::2], np.asfortranarray(base)):
        back = round_trip(arr)
        assert back.shape == arr.shape and np.array_equal(back, arr)
        assert back.flags.c_contiguous


def test_describe_accepts_python_values():
    assert round_trip([1.0, 2.0]).tolist() == [1.0, 2.0]
    assert round_trip(3).shape == ()


@pytest.mark.parametrize("arr", [
    np.array([{"a": 1}, None], dtype=object),
    np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]),
    np.array(["a", "bc"]),
    np.array([b"a", b"bc"]),
    np.array([1 + 2j]),
    np.array(["2024-01-01"], dtype="datetime64[D]"),
], ids=["object", "structured", "str", "bytes", "complex", "datetime"])
def test_describe_refuses_non_numeric_dtypes(arr):
    with pytest.raises(ArrayError, match="only bool, int and float arrays are accepted"):
        describe("out", arr)


@pytest.mark.parametrize("dtype", ["|O", "O", "<U3", "|S2", "<c16", "<M8[D]", "|V8", "f8,i4", "<f8 ", 8, None,
                                   "[('a', '<f8')]", "<f" + "9" * 40],
                         ids=["object", "object-bare", "unicode", "bytes", "complex", "datetime", "void",
                              "record", "trailing-space", "int", "none", "list-literal", "huge-size"])
def test_read_entry_refuses_dtypes_that_are_not_plain_numbers(dtype):
    with pytest.raises(ArrayError, match="dtype"):
        read_entry(["out", dtype, [1], 8], b"\0" * 8, 0)


@pytest.mark.parametrize("entry, why", [
    (["x", "<f8", [2], 8], "do not make an array"),
    (["x", "<f8", [1], 8.0], "do not make an array"),
    (["x", "<f8", [-1], -8], "is not a list of"),
    (["x", "<f8", [1.5], 8], "is not a list of"),
    (["x", "<f8", [True], 8], "is not a list of"),
    (["x", "<f8", "1", 8], "is not a list of"),
    (["x", "<f8", [1] * 33, 8], "is not a list of"),
    (["x", "<f8", [4], 32], "are not all there"),
    (["x", "<f8", [1]], "description is not"),
    ([1, "<f8", [1], 8], "description is not"),
    ("x", "description is not"),
], ids=["size-mismatch", "size-not-int", "negative", "float-dim", "bool-dim", "shape-str", "too-many-dims",
        "missing-bytes", "no-size", "name-not-str", "not-a-list"])
def test_read_entry_refuses_descriptions_that_do_not_fit(entry, why):
    with pytest.raises(ArrayError, match=why):
        read_entry(entry, b"\0" * 16, 0)


def test_read_entry_max_bytes():
    entry, data = describe("x", np.zeros(100, dtype=np.float64))  # 800 bytes of data
    assert read_entry(entry, bytes(data), 0, max_bytes=800)[1].shape == (100,)
    with pytest.raises(ArrayError) as info:
        read_entry(entry, bytes(data), 0, max_bytes=799)
    assert str(info.value) == "'x': array of shape (100,) is 800 bytes, over the limit of 799"


def test_read_entry_checks_size_from_the_description_before_reading():
    # A description that claims 8 GB with no data behind it is refused by its size, not read.
    with pytest.raises(ArrayError, match="over the limit of 1000"):
        read_entry(["x", "<f8", [1 << 30], 8 << 30], b"", 0, max_bytes=1000)


def test_write_file_is_byte_identical(tmp_path):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), np.arange(5, dtype=np.int32)
    first, second, reordered, fortran = (tmp_path / f"{n}.arrays" for n in range(4))
    write_file(first, {"a": a, "b": b})
    write_file(second, {"a": a.copy(), "b": b.copy()})
    write_file(reordered, {"b": b, "a": a})
    write_file(fortran, {"a": np.asfortranarray(a), "b": b})
    data = first.read_bytes()
    assert data.startswith(MAGIC)
    assert second.read_bytes() == data
    assert reordered.read_bytes() == data
    assert fortran.read_bytes() == data
    write_file(second, {"a": a, "b": b + 1})
    assert second.read_bytes() != data


def test_read_file_round_trip_into_one_private_mapping(tmp_path):
    arrays = {"x": np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32),
              "mask": np.array([True, False]), "n": np.array(4), "idx": np.arange(3, dtype=np.int64),
              "empty": np.zeros((0, 2))}
    path = tmp_path / "case.arrays"
    write_file(path, arrays)
    data = ArrayFile(path)
    back, mapping = {name: data.get(name) for name in data.names()}, data.mapping
    assert isinstance(mapping, mmap.mmap)
    assert set(back) == set(arrays)
    for name, arr in arrays.items():
        assert back[name].dtype == arr.dtype and back[name].shape == arr.shape
        assert np.array_equal(back[name], arr)
        assert not back[name].flags.writeable
        assert back[name].ctypes.data % 64 == 0 or arr.size == 0  # aligned for fast reads
    # Dropping the mapping's pages zeroes every array at once (what a forked child does).
    mapping.madvise(mmap.MADV_DONTNEED)
    assert not back["x"].any() and not back["idx"].any()


def test_read_file_refuses_other_files_with_a_reason(tmp_path):
    other = tmp_path / "old.npz"
    other.write_bytes(b"PK\x03\x04 a zip, not ours")
    with pytest.raises(ArrayError, match="not an array data file"):
        ArrayFile(other)
    damaged = tmp_path / "damaged.arrays"
    head = b"{not json"
    damaged.write_bytes(MAGIC + struct.pack("<Q", len(head)) + head)
    with pytest.raises(ArrayError, match="index is damaged"):
        ArrayFile(damaged)
    lying = tmp_path / "lying.arrays"
    head = json.dumps({"arrays": [["x", "<f8", [4], 32, 0]]}).encode()
    lying.write_bytes(MAGIC + struct.pack("<Q", len(head)) + head + b"\0" * 8)
    with pytest.raises(ArrayError, match="are not all there"):
        ArrayFile(lying).get("x")  # each entry is checked when first asked for
