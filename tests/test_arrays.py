"""autograder/arrays.py: plain arrays only, never a pickle; byte-stable .npz files."""

import io
import zipfile

import numpy as np
import pytest

from autograder.arrays import FIXED_DATE, ArrayError, decode, encode, read_npz, write_npz


class _Trap:
    """Unpickling this creates a file: proof that something unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _npy_with_pickle(obj_array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, obj_array, allow_pickle=True)
    return buf.getvalue()


def _npy_header_only(shape, dtype="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


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
], ids=["0d-float", "0d-int", "0d-bool", "bool", "int32", "uint8", "float32", "float64-3d", "nonfinite", "empty"])
def test_round_trip(arr):
    back = decode(encode(arr))
    assert back.dtype == arr.dtype
    assert back.shape == arr.shape
    assert np.array_equal(back, arr, equal_nan=arr.dtype.kind == "f")
    if arr.dtype.kind == "f":
        assert np.array_equal(np.signbit(back), np.signbit(arr))


def test_round_trip_of_non_contiguous_arrays():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    for arr in (base.T, base[:, ::2], np.asfortranarray(base)):
        back = decode(encode(arr))
        assert back.shape == arr.shape and np.array_equal(back, arr)
        assert back.flags.c_contiguous


def test_encode_accepts_python_values():
    assert decode(encode([1.0, 2.0])).tolist() == [1.0, 2.0]
    assert decode(encode(3)).shape == ()


def test_decode_refuses_object_dtype_without_unpickling(tmp_path):
    marker = tmp_path / "unpickled"
    blob = _npy_with_pickle(np.array([_Trap(marker), 1], dtype=object))
    assert str(marker).encode() in blob and b"open" in blob  # the trap really is in there
    with pytest.raises(ArrayError, match=r"arrays of dtype object are not accepted; return numbers"):
        decode(blob)
    assert not marker.exists()


@pytest.mark.parametrize("arr", [
    np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]),
    np.array(["a", "bc"]),
    np.array([b"a", b"bc"]),
    np.array([1 + 2j]),
    np.array(["2024-01-01"], dtype="datetime64[D]"),
], ids=["structured", "str", "bytes", "complex", "datetime"])
def test_decode_refuses_non_numeric_dtypes(arr):
    with pytest.raises(ArrayError, match="are not accepted"):
        decode(encode(arr))


@pytest.mark.parametrize("data", [b"", b"garbage bytes, not an array", b"\x93NUMPY\x01\x00\xff\xff{"],
                         ids=["empty", "garbage", "bad-header"])
def test_decode_refuses_garbage(data):
    with pytest.raises(ArrayError, match="not a valid array"):
        decode(data)


def test_decode_refuses_truncated_data():
    blob = encode(np.arange(10, dtype=np.float64))
    with pytest.raises(ArrayError, match="not a valid array"):
        decode(blob[:-8])


def test_decode_max_bytes():
    blob = encode(np.zeros(100, dtype=np.float64))  # 800 bytes of data
    assert decode(blob, max_bytes=800).shape == (100,)
    with pytest.raises(ArrayError) as info:
        decode(blob, max_bytes=799)
    assert str(info.value) == "array of shape (100,) is 800 bytes, over the limit of 799"


def test_decode_checks_size_from_header_before_reading():
    # A header that claims 8 GB with no data behind it is refused by its size, not read.
    blob = _npy_header_only((1 << 30,))
    with pytest.raises(ArrayError, match="over the limit of 1000"):
        decode(blob, max_bytes=1000)


def test_write_npz_is_byte_identical(tmp_path):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), np.arange(5, dtype=np.int32)
    first, second, reordered, fortran = (tmp_path / n for n in ("1.npz", "2.npz", "3.npz", "4.npz"))
    write_npz(first, {"a": a, "b": b})
    write_npz(second, {"a": a.copy(), "b": b.copy()})
    write_npz(reordered, {"b": b, "a": a})
    write_npz(fortran, {"a": np.asfortranarray(a), "b": b})
    data = first.read_bytes()
    assert second.read_bytes() == data
    assert reordered.read_bytes() == data
    assert fortran.read_bytes() == data
    write_npz(second, {"a": a, "b": b + 1})
    assert second.read_bytes() != data


def test_write_npz_fixed_dates_and_sorted_names(tmp_path):
    path = tmp_path / "x.npz"
    write_npz(path, {"z": np.zeros(2), "a": np.ones(2)})
    with zipfile.ZipFile(path) as zf:
        assert [i.filename for i in zf.infolist()] == ["a.npy", "z.npy"]
        assert all(i.date_time == FIXED_DATE for i in zf.infolist())


def test_read_npz_round_trip(tmp_path):
    arrays = {"x": np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32),
              "mask": np.array([True, False]), "n": np.array(4), "idx": np.arange(3, dtype=np.int64)}
    path = tmp_path / "case.npz"
    write_npz(path, arrays)
    back = read_npz(path)
    assert set(back) == set(arrays)
    for name, arr in arrays.items():
        assert back[name].dtype == arr.dtype and back[name].shape == arr.shape
        assert np.array_equal(back[name], arr)
