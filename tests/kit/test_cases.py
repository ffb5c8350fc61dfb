"""autograder/kit/cases.py: seeded case helpers and edge-case shapes declared once."""

import numpy as np
import pytest

from autograder.kit import edge_cases, ints, mask, normal, one_hot, permutation


def rng(seed=0):
    return np.random.default_rng(seed)


def test_normal_is_scale_times_standard_normal_from_the_same_stream():
    np.testing.assert_array_equal(normal(rng(), 3, 4, scale=0.5), 0.5 * rng().standard_normal((3, 4)))
    assert normal(rng(), 5).shape == (5,) and normal(rng(), 2, 3).dtype == np.float64


def test_ints_always_repeat_a_value_and_stay_in_range():
    for seed in range(20):
        x = ints(rng(seed), 50, 2, 3, low=5)
        assert x.dtype == np.int64 and x.shape == (2, 3)
        assert x.min() >= 5 and x.max() < 50
        assert x.flat[0] == x.flat[-1]
    y = ints(rng(1), 1000, 4, repeat=False)
    np.testing.assert_array_equal(y, rng(1).integers(0, 1000, size=(4,)))


@pytest.mark.parametrize("kind", ["random", "single", "prefix", "leading"])
def test_every_mask_kind_opens_at_least_one_entry_per_row(kind):
    for seed in range(10):
        m = mask(rng(seed), 6, 5, kind, p=0.9 if kind == "leading" else 0.5)
        assert m.dtype == np.bool_ and m.shape == (6, 5)
        assert m.any(axis=1).all()


def test_mask_kinds_keep_their_shape_rules():
    for seed in range(10):
        assert not mask(rng(seed), 4, 6, "random").all(axis=1).any()  # one blocked per row when L >= 2
        assert (mask(rng(seed), 4, 6, "single").sum(axis=1) == 1).all()
        p = mask(rng(seed), 4, 6, "prefix")
        assert p[0].all() and all((np.diff(row.astype(int)) <= 0).all() for row in p)  # open, then padding
        assert mask(rng(seed), 4, 6, "leading")[:, 0].all()
    with pytest.raises(ValueError, match="unknown mask kind 'causal'"):
        mask(rng(), 2, 2, "causal")


def test_permutation_is_never_the_identity():
    for seed in range(30):
        perm = permutation(rng(seed), 2)
        assert perm.tolist() == [1, 0] and perm.dtype == np.int64
        assert sorted(permutation(rng(seed), 5).tolist()) == [0, 1, 2, 3, 4]
    assert permutation(rng(), 1).tolist() == [0]


def test_one_hot_and_its_range_check():
    np.testing.assert_array_equal(one_hot([[0, 2]], 3), [[[1, 0, 0], [0, 0, 1]]])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        one_hot([3], 3)


def test_edges_add_hidden_cases_from_the_first_public_one_and_keep_spelled_out_ones():
    public = [{"name": "small", "N": 2, "T": 3, "D": 4}]
    hidden = [{"name": "t1", "N": 3, "T": 1, "D": 6}]
    added = edge_cases(public, hidden, {"N": 1, "T": 1})
    assert added == [{"name": "n1", "N": 1, "T": 3, "D": 4}]  # t1 is written out already: kept as it is
    assert edge_cases([], [{"name": "big", "N": 9}], {"N": 1}) == [{"name": "n1", "N": 1}]
    with pytest.raises(ValueError, match="has no argument 'L'.*N, T, D"):
        edge_cases(public, [], {"L": 1})
