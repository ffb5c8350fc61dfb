"""autograder/compare.py: a match within tolerance, or one message saying what differs and where."""

import numpy as np
import pytest

from autograder.grading.compare import compare, compare_trajectory, fmt_index, fmt_num, same_bits

RTOL, ATOL = 1e-6, 1e-8


def cmp(got, exp, rtol=RTOL, atol=ATOL, name="out"):
    return compare(name, np.asarray(got), np.asarray(exp), rtol, atol)


# --- matches ------------------------------------------------------------------------------------


def test_exact_match():
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert cmp(x, x.copy()) is None


def test_match_within_tolerance():
    exp = np.array([[1.0, -2.0], [100.0, 0.0]])
    got = exp + np.array([[5e-7, -1e-6], [9e-5, 5e-9]])  # each under atol + rtol * |exp|
    assert cmp(got, exp) is None


def test_float32_student_against_float64_reference():
    exp = np.linspace(-1, 1, 7)
    assert cmp(exp.astype(np.float32), exp, rtol=1e-6, atol=1e-7) is None


def test_nan_and_inf_in_both_at_the_same_place_pass():
    exp = np.array([1.0, np.nan, np.inf, -np.inf])
    assert cmp(exp.copy(), exp) is None


def test_integer_exact_and_any_integer_width():
    exp = np.array([1, 2, 3], dtype=np.int64)
    assert cmp(exp.astype(np.int32), exp) is None
    assert cmp(exp.astype(np.uint8), exp) is None


def test_bool_match():
    exp = np.array([True, False])
    assert cmp(exp.copy(), exp) is None


def test_zero_d_match():
    assert cmp(np.array(2.0), np.array(2.0 + 1e-9)) is None


# --- shape and dtype ----------------------------------------------------------------------------


def test_wrong_shape():
    assert cmp(np.zeros((3, 2)), np.zeros((2, 3))) == "'out' has shape (3, 2), expected (2, 3)"


def test_zero_d_against_one_element():
    assert cmp(np.zeros(1), np.array(0.0)) == "'out' has shape (1,), expected ()"


@pytest.mark.parametrize("got, exp, family", [
    (np.array([1.0, 2.0]), np.array([1, 2]), "integer"),
    (np.array([1, 2]), np.array([1.0, 2.0]), "floating-point"),
    (np.array([1, 0]), np.array([True, False]), "boolean"),
    (np.array([True, False]), np.array([1.0, 0.0]), "floating-point"),
    (np.array([True, False]), np.array([1, 0]), "integer"),
], ids=["float-for-int", "int-for-float", "int-for-bool", "bool-for-float", "bool-for-int"])
def test_wrong_dtype_family(got, exp, family):
    msg = cmp(got, exp)
    assert msg.startswith(f"'out' has dtype {got.dtype}, expected ")
    assert msg.endswith(f"{family} array (like {exp.dtype})")


# --- non-finite values --------------------------------------------------------------------------


def test_nan_in_got_names_index_and_count():
    exp = np.ones((2, 3))
    got = exp.copy()
    got[1, 2] = np.nan
    got[0, 1] = np.nan
    msg = cmp(got, exp)
    assert msg.startswith("'out' contains NaN at [0, 1] (expected 1); 2 of 6 entries are not finite.")
    assert "overflow" in msg


def test_inf_in_got_names_index():
    exp = np.zeros(4)
    got = exp.copy()
    got[2] = -np.inf
    msg = cmp(got, exp)
    assert msg.startswith("'out' contains inf at [2] (expected 0); 1 of 4 entries are not finite")


def test_inf_of_the_wrong_sign():
    msg = cmp(np.array([np.inf]), np.array([-np.inf]))
    assert msg.startswith("'out' contains inf at [0] (expected -inf)")


def test_finite_value_where_the_reference_has_inf_fails():
    msg = cmp(np.array([1.0, 5.0]), np.array([1.0, np.inf]))
    assert msg is not None and "[1]" in msg


def test_zero_d_nan_has_no_index():
    msg = cmp(np.array(np.nan), np.array(0.5))
    assert msg.startswith("'out' contains NaN (expected 0.5); 1 of 1 entries are not finite")
    assert " at [" not in msg


# --- value mismatches ---------------------------------------------------------------------------


def test_mismatch_names_output_worst_index_values_and_count():
    exp = np.arange(12, dtype=np.float64).reshape(3, 4)
    got = exp.copy()
    got[0, 1] += 1e-3   # off, but not the worst
    got[2, 3] += 0.5    # the worst
    got[1, 0] += 1e-12  # within tolerance
    msg = cmp(got, exp, name="h")
    assert msg == ("'h' differs from the reference: at [2, 3] expected 11, got 11.5 "
                   "(relative error 4.55e-02; tolerance rtol=1e-06, atol=1e-08); "
                   "2 of 12 entries are outside the tolerance")


def test_worst_is_relative_to_the_tolerance():
    # An absolute error of 1 on 1e6 is within rtol=1e-5; 0.01 on 0 is not.
    exp = np.array([1e6, 0.0])
    got = np.array([1e6 + 1, 0.01])
    msg = cmp(got, exp, rtol=1e-5, atol=1e-8)
    assert "at [1] expected 0, got 0.01" in msg
    assert "1 of 2 entries are outside the tolerance" in msg


def test_zero_d_mismatch_has_no_index():
    msg = cmp(np.array(2.5), np.array(2.0), name="loss")
    assert msg.startswith("'loss' differs from the reference: expected 2, got 2.5 ")
    assert " at [" not in msg


def test_integer_mismatch_is_exact():
    exp = np.array([[1, 2], [3, 4]])
    got = exp.copy()
    got[1, 0] = 30
    got[1, 1] = 40
    assert cmp(got, exp, name="idx") == "'idx' differs at [1, 0]: expected 3, got 30 (2 of 4 entries differ)"
    # Tolerances do not apply to integers.
    assert cmp(exp + 1, exp, rtol=1.0, atol=10.0) is not None


def test_bool_mismatch():
    msg = cmp(np.array([True, True]), np.array([True, False]), name="mask")
    assert msg == "'mask' differs at [1]: expected False, got True (1 of 2 entries differ)"


def test_zero_d_integer_mismatch_has_no_index():
    assert cmp(np.array(3), np.array(4), name="n") == "'n' differs: expected 4, got 3 (1 of 1 entries differ)"


# --- helpers ------------------------------------------------------------------------------------


def test_fmt_helpers():
    assert fmt_index((np.int64(1), 2)) == "[1, 2]"
    assert fmt_num(np.float32(0.1)) == "0.1"
    assert fmt_num(1234567.0) == "1.23457e+06"
    assert fmt_num(np.bool_(True)) == "True"


def test_same_bits():
    a = np.array([1.0, np.nan, 3.0])
    assert same_bits(a, a.copy())
    b = a.copy()
    b[2] = np.nextafter(3.0, 4.0)
    assert not same_bits(a, b)
    assert not same_bits(a, a.astype(np.float32))
    assert not same_bits(a, a.reshape(3, 1))
    assert same_bits(np.arange(4), np.arange(4))
    assert not same_bits(np.arange(4), np.arange(4)[::-1])
    assert not same_bits(np.array([True]), np.array([1]))


# --- trajectories: one value per step, the first departure named ---------------------------------

REF_LOSSES = np.array([2.5, 2.05, 1.7, 1.2, 0.9])


def traj(got, rtol=1e-6, atol=0.0):
    return compare_trajectory("losses", np.asarray(got, dtype=np.float64), REF_LOSSES, rtol, atol)


def test_a_trajectory_within_tolerance_at_every_step_matches():
    assert traj(REF_LOSSES * (1 + 5e-7)) is None
    assert traj(REF_LOSSES.astype(np.float32)) is None  # float32 steps against a float64 reference


def test_the_first_step_that_departs_is_named_with_both_values():
    got = REF_LOSSES.copy()
    got[2:] = [2.31, 2.2, 2.1]  # stops learning after step 2
    msg = traj(got)
    assert msg.startswith("'losses' departs from the reference at step 3 of 5: got 2.31, expected 1.7 ")
    assert "relative error 3.59e-01; tolerance rtol=1e-06, atol=0" in msg
    assert msg.endswith("steps 1 to 2 match")


def test_a_trajectory_wrong_from_the_start_says_no_step_matches():
    msg = traj(REF_LOSSES + 1)
    assert "at step 1 of 5: got 3.5, expected 2.5" in msg and msg.endswith("no step matches")
    assert traj(np.r_[REF_LOSSES[:1], REF_LOSSES[1:] + 1]).endswith("step 1 matches")


def test_a_diverging_trajectory_names_the_step_of_the_first_nan():
    got = REF_LOSSES.copy()
    got[3:] = np.nan
    msg = traj(got)
    assert msg.startswith("'losses' is NaN at step 4 of 5 where the reference is 1.2 (steps 1 to 3 match)")
    assert "diverging update" in msg


def test_a_trajectory_of_the_wrong_length_or_shape_is_refused():
    assert traj(REF_LOSSES[:3]) == "'losses' has 3 steps, the reference 5 (steps 1 to 3 match)"
    assert traj(np.r_[REF_LOSSES, 0.5]) == "'losses' has 6 steps, the reference 5 (steps 1 to 5 match)"
    assert traj(REF_LOSSES[None]) == "'losses' has shape (1, 5), expected one value per step, shape (5,)"
    assert "departs from the reference at step 2" in traj([2.5, 9.0])  # short and wrong: the step first
    assert "has dtype bool" in compare_trajectory("losses", np.ones(5, bool), REF_LOSSES, 1e-6, 0)
