"""autograder/kit/watch.py: before/after copies of every watched array around one call."""

import numpy as np

from autograder.kit import MISSING, watch


def test_a_call_that_writes_into_its_cache_shows_in_the_after_copy():
    cache = (np.arange(3.0), {"W": np.ones(2)})

    def backward():
        cache[0][1] = 99.0  # the bug an `unchanged` test catches
        return "grads"

    result, seen = watch(backward, cache=cache)
    assert result == "grads"
    assert list(seen) == ["cache[0].before", "cache[0].after", "cache[1]['W'].before", "cache[1]['W'].after"]
    np.testing.assert_array_equal(seen["cache[0].before"], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(seen["cache[0].after"], [0.0, 99.0, 2.0])
    np.testing.assert_array_equal(seen["cache[1]['W'].before"], seen["cache[1]['W'].after"])


def test_an_array_removed_from_a_watched_dict_reports_missing_and_several_values_are_watched():
    grads = {"a": np.zeros(2), "b": np.ones(2)}
    other = [np.full(1, 3.0)]
    _, seen = watch(lambda: grads.pop("b"), grads=grads, other=other)
    assert seen["grads['b'].after"] is MISSING and np.isnan(MISSING).all()
    assert "other[0].before" in seen and "grads['a'].after" in seen


def test_before_copies_are_copies_even_when_the_call_replaces_values():
    x = np.zeros(2)
    box = [x]

    def swap():
        box[0] = np.ones(2)
        x[:] = 5.0

    _, seen = watch(swap, box=box)
    np.testing.assert_array_equal(seen["box[0].before"], [0.0, 0.0])
    np.testing.assert_array_equal(seen["box[0].after"], [1.0, 1.0])
