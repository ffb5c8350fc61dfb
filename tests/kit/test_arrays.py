"""autograder/kit/arrays.py: to_array keeps plain numbers and refuses the rest by name; leaves."""

import numpy as np
import pytest

from autograder.kit import NotArray, leaves, to_array


def test_plain_arrays_pass_through_and_scalars_become_0d_arrays():
    a = np.arange(6.0).reshape(2, 3)
    assert to_array(a) is a
    for value, dtype in ((3, np.int64), (2.5, np.float64), (True, np.bool_), (np.float32(1.5), np.float32)):
        got = to_array(value)
        assert type(got) is np.ndarray and got.shape == () and got.dtype == dtype and got == value


def test_torch_tensors_are_detached_onto_numpy():
    torch = pytest.importorskip("torch")
    t = torch.arange(4.0, requires_grad=True) * 2
    got = to_array(t, "out")
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, [0.0, 2.0, 4.0, 6.0])


class Sub(np.ndarray):
    pass


@pytest.mark.parametrize("value, words", [
    ([1.0, 2.0], "'h' is a list, expected an array"),
    (None, "'h' is a NoneType, expected an array"),
    (np.zeros(3).view(Sub), "'h' is a Sub (a subclass of numpy.ndarray)"),
    (np.array(["a"]), "'h' has dtype <U1; expected numbers"),
    (np.array([1 + 2j]), "'h' has dtype complex128"),
    (np.array([object()]), "'h' has dtype object"),
])
def test_anything_else_is_refused_naming_the_output(value, words):
    with pytest.raises(NotArray) as info:
        to_array(value, "h")
    assert words in str(info.value)
    assert isinstance(info.value, TypeError)


def test_leaves_names_every_array_in_nested_containers_with_its_index_path():
    a, b, c = np.zeros(1), np.ones(2), np.full(3, 2.0)
    cache = (a, [b, "not an array", 7], {"W": c, "n": None})
    got = list(leaves(cache))
    assert [p for p, _ in got] == ["cache[0]", "cache[1][0]", "cache[2]['W']"]
    assert got[0][1] is a and got[1][1] is b and got[2][1] is c
    assert list(leaves(a, "x")) == [("x", a)]


def test_leaves_looks_at_a_bounded_number_of_dict_keys():
    big = {i: np.zeros(1) for i in range(100)}
    assert len(list(leaves(big, "d", limit=10))) == 10


def test_prefixed_keeps_the_arrays_under_a_prefix_without_it_in_order():
    from autograder.kit.arrays import prefixed

    a, b, c = np.zeros(1), np.ones(2), np.full(3, 2.0)
    got = prefixed({"g_b": b, "max_norm": c, "g_a": a, "gx": c}, "g_")
    assert list(got) == ["b", "a"] and got["b"] is b and got["a"] is a
    assert prefixed({"x": a}, "param.") == {}
