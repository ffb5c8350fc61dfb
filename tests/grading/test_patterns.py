"""autograder/patterns.py: diagnoses from the shape of a mistake, on plain arrays."""

from types import SimpleNamespace

import numpy as np
import pytest

from autograder.grading.patterns import PATTERNS, diagnose_patterns

RNG = np.random.default_rng(7)
N, T, D, H = 3, 5, 4, 6


def make_test(kind="gradients"):
    return SimpleNamespace(kind=kind, graded="layer_backward", rtol=1e-6, atol=1e-8)


CASE = SimpleNamespace(params={"N": N, "T": T, "D": D, "H": H, "name_only": "x", "flag": True})
INPUTS = {"x": RNG.standard_normal((N, T, D)), "w": RNG.standard_normal((D, H)), "b": RNG.standard_normal(H)}
EXPECTED = {"x": RNG.standard_normal((N, T, D)), "w": RNG.standard_normal((D, H)), "b": RNG.standard_normal(H),
            "h0": RNG.standard_normal((N, H)), "prev": RNG.standard_normal((N, H))}


def diagnosed(got, expected=EXPECTED, test=None):
    return diagnose_patterns(test or make_test(), {**expected, **got}, expected, CASE, INPUTS)


def ids(found):
    assert all(d["id"].split(":", 1)[1] in PATTERNS for d in found)
    return [d["id"] for d in found]


def test_an_unsummed_bias_gradient_gets_sum_over_the_batch_axis():
    per_example = RNG.standard_normal((N, H))
    per_example[-1] = EXPECTED["b"] - per_example[:-1].sum(axis=0)  # sums to the reference
    (found,) = diagnosed({"b": per_example})
    assert found["id"] == "pattern:batch_axis" and found["function"] == "layer_backward"
    assert found["hint"].startswith(f"'db' has shape ({N}, {H}) where ({H},) is expected")
    assert "sum over the batch axis" in found["hint"]


def test_two_extra_leading_axes_summed_over_batch_and_time():
    per_step = RNG.standard_normal((N, T, H))
    per_step[-1, -1] = EXPECTED["b"] - per_step.reshape(-1, H)[:-1].sum(axis=0)
    (found,) = diagnosed({"b": per_step})
    assert found["id"] == "pattern:batch_axis" and "its first 2 axes (length 3 x 5)" in found["hint"]


def test_keepdims_is_a_reshape_not_a_batch_axis():
    assert ids(diagnosed({"b": EXPECTED["b"][None, :]})) == ["pattern:reshape"]


def test_a_transposed_weight_gradient():
    (found,) = diagnosed({"w": EXPECTED["w"].T.copy()})
    assert found["id"] == "pattern:transposed" and found["hint"].startswith("'dw' is the transpose")


def test_a_square_transposed_result_is_found_but_a_symmetric_one_cannot_be():
    square = RNG.standard_normal((H, H))
    assert ids(diagnosed({"m": square.T.copy()}, {"m": square})) == ["pattern:transposed"]
    symmetric = square + square.T
    assert diagnosed({"m": symmetric * 1.5}, {"m": symmetric}) == []


def test_a_flipped_sign():
    (found,) = diagnosed({"h0": -EXPECTED["h0"]})
    assert found["id"] == "pattern:sign" and "'dh0'" in found["hint"]


@pytest.mark.parametrize("factor, name", [(N, "N"), (T, "T"), (N * T, "N*T")])
def test_off_by_a_factor_that_is_a_dimension(factor, name):
    (divided,) = diagnosed({"w": EXPECTED["w"] / factor})
    assert divided["id"] == "pattern:factor"
    assert f"divided by exactly {factor} ({factor} is {name})" in divided["hint"]
    (times,) = diagnosed({"w": EXPECTED["w"] * factor})
    assert f"exactly {factor} times the reference" in times["hint"]


def test_a_factor_that_is_no_dimension_is_not_diagnosed():
    assert diagnosed({"w": EXPECTED["w"] * 7}) == []  # 7 is neither a parameter, a product nor an axis length


def test_gradients_returned_in_the_wrong_order():
    (found,) = diagnosed({"h0": EXPECTED["prev"], "prev": EXPECTED["h0"]})
    assert found["id"] == "pattern:swapped"
    assert found["hint"].startswith("'dh0' and 'dprev' are swapped")


def test_an_output_holding_another_outputs_reference():
    (found,) = diagnosed({"h0": EXPECTED["prev"]})
    assert found["hint"].startswith("'dh0' holds what the reference has for 'dprev'")


def test_swapped_outputs_of_different_shapes():
    (found,) = diagnosed({"x": EXPECTED["w"], "w": EXPECTED["x"]})
    assert found["id"] == "pattern:swapped"


def test_correct_outputs_and_unrelated_mistakes_get_no_pattern():
    assert diagnosed({}) == []
    assert diagnosed({"w": RNG.standard_normal((D, H)), "b": RNG.standard_normal((N, H))}) == []
    assert diagnosed({"w": EXPECTED["w"] + 1e-3}) == []
    assert diagnosed({"w": np.full((D, H), np.nan)}) == []


def test_all_zero_references_say_nothing_about_sign_or_factor():
    zero = {"z": np.zeros((N, H))}
    assert diagnosed({"z": np.zeros((N, H)) + 1.0}, zero) == []


def test_names_follow_the_check_kind():
    test = make_test("unchanged")
    expected = {"dW": EXPECTED["w"]}  # an unchanged test's results are named as the call returns them
    (found,) = diagnose_patterns(test, {"dW": -EXPECTED["w"]}, expected, CASE, INPUTS)
    assert "'dW' is the reference with its sign flipped" in found["hint"]
    (found,) = diagnose_patterns(make_test("outputs"), {"out": -EXPECTED["w"]}, {"out": EXPECTED["w"]}, CASE, INPUTS)
    assert found["hint"].startswith("'out'")

