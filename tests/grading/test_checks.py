"""autograder/grading/checks.py: the four kinds of check, judged in the grader on plain arrays.

No sandbox here: a stand-in child answers each probe with a Reply made by the test, so every
rule of the scoring is seen on its own (points only for outputs that match the reference; what
the child merely reports can only fail a case)."""

import dataclasses
import time
from types import SimpleNamespace

import numpy as np
import pytest

from autograder.grading.checks import CaseContext, case_failure, compared, diagnosable, run_check
from autograder.sandbox.parent import Reply
from autograder.spec.model import Case
from autograder.spec.model import Test as SpecTest

X = np.arange(6.0).reshape(2, 3)
CASE = Case("small", "public", {}, 3)


def make_test(**changes) -> SpecTest:
    base = SpecTest(id="t", target="mod.f", title="works", kind="outputs", probe="call", cases="cs", points=1.0,
                visibility="public", timeout=5.0, rtol=1e-6, atol=1e-8)
    return dataclasses.replace(base, **changes)


class FakeChild:
    """Answers `call` with answer(probe, inputs, return_inputs) and `call_many` with many(probe, batch);
    records every call."""

    def __init__(self, answer=None, many=None):
        self.answer, self.many, self.calls = answer, many, []

    def call(self, module, probe, inputs, deadline, seed=0, return_inputs=False, params=None):
        self.calls.append((module, probe, seed))
        return self.answer(probe, inputs, return_inputs)

    def call_many(self, module, probe, batch, deadline, seed=0, params=None):
        self.calls.append((module, probe, len(batch)))
        return self.many(probe, batch)


def ok(**outputs) -> Reply:
    return Reply(None, outputs=outputs)


def context(test, answer, expected, inputs=None, many=None, verify=None, budget=None) -> CaseContext:
    child = FakeChild(answer, many)
    return CaseContext(child, test, CASE, {"x": X.copy()} if inputs is None else inputs, expected,
                       time.monotonic() + 5, verify, budget=budget, graded=frozenset({("mod", "f")}))


# ----------------------------------------------------------------------------------- outputs

def test_outputs_that_match_pass_and_the_probe_is_called_with_the_cases_seed():
    ctx = context(make_test(), lambda probe, inputs, r: ok(y=inputs["x"] * 2), {"y": X * 2})
    assert run_check(ctx) is None
    assert ctx.child.calls == [("mod", "call", CASE.seed)]
    np.testing.assert_array_equal(ctx.outputs["y"], X * 2)  # kept for diagnosis


def test_a_wrong_output_is_named_with_those_that_match_and_fails_as_a_mismatch():
    ctx = context(make_test(), lambda *a: ok(y=X * 2, z=X + 1), {"y": X * 2, "z": X})
    message = run_check(ctx)
    assert "'z'" in message and "(These match: y.)" in message
    assert case_failure(ctx).kind == "mismatch" and case_failure(ctx).case == "small"


def test_a_wrong_shape_and_a_missing_output_get_their_own_kinds():
    ctx = context(make_test(), lambda *a: ok(y=X.T), {"y": X})
    assert run_check(ctx) and case_failure(ctx).kind == "shape"
    ctx = context(make_test(), lambda *a: ok(), {"y": X})
    assert run_check(ctx) == "'y' is missing from what your code returned"
    assert case_failure(ctx).kind == "output"


def test_only_the_named_outputs_are_compared_and_one_without_a_reference_value_is_never_a_pass():
    named = make_test(outputs=("y",))
    ctx = context(named, lambda *a: ok(y=X, extra=X + 100), {"y": X, "extra": X})
    assert run_check(ctx) is None and list(compared(ctx)) == ["y"]
    ctx = context(make_test(outputs=("y", "w")), lambda *a: ok(y=X, w=X), {"y": X})
    with pytest.raises(LookupError, match="no reference value for the output"):
        run_check(ctx)


def test_a_trajectory_output_is_compared_step_by_step():
    test = make_test(trajectory="loss")
    steps = np.array([3.0, 2.0, 1.0])
    assert run_check(context(test, lambda *a: ok(loss=steps), {"loss": steps})) is None
    message = run_check(context(test, lambda *a: ok(loss=np.array([3.0, 2.0, 5.0])), {"loss": steps}))
    assert message.startswith("'loss' departs from the reference at step 3 of 3") and "steps 1 to 2 match" in message


def test_a_reply_that_reports_a_banned_call_fails_even_with_the_right_outputs():
    ctx = context(make_test(), lambda *a: Reply(None, outputs={"y": X}, banned=["torch.layer_norm"]), {"y": X})
    message = run_check(ctx)
    assert "torch.layer_norm" in message and "does not allow" in message
    assert ctx.failed_reply.failure == "banned" and case_failure(ctx).kind == "banned"


def test_a_timeout_set_by_the_whole_grades_budget_says_so():
    ctx = context(make_test(), lambda *a: Reply("timeout"), {"y": X}, budget=30)
    message = run_check(ctx)
    assert "time budget of 30 s" in message and case_failure(ctx).kind == "budget"
    ctx = context(make_test(), lambda *a: Reply("timeout"), {"y": X})
    message = run_check(ctx)
    assert "budget" not in message and case_failure(ctx).kind == "timeout"


def test_diagnosable_gives_the_outputs_or_the_signature_of_the_error():
    ctx = context(make_test(), lambda *a: ok(y=X + 1), {"y": X})
    run_check(ctx)
    assert set(diagnosable(ctx)) == {"y"}
    error = {"type": "ValueError", "message": "bad shape", "where": None, "stack": []}
    ctx = context(make_test(), lambda *a: Reply("error", error=error), {"y": X})
    assert run_check(ctx)
    got = diagnosable(ctx)
    assert got is not None and len(got) == 1 and "y" not in got
    ctx = context(make_test(), lambda *a: Reply("died", detail="exited"), {"y": X})
    run_check(ctx)
    assert diagnosable(ctx) is None


# ----------------------------------------------------------------------------------- unchanged

def unchanged_reply(outputs, after):
    def answer(probe, inputs, return_inputs):
        return Reply(None, outputs=outputs, inputs_after=after if return_inputs else {})

    return answer


def test_unchanged_passes_when_results_match_and_inputs_come_back_bit_for_bit():
    test = make_test(kind="unchanged", outputs=("y",))
    ctx = context(test, unchanged_reply({"y": X}, {"x": X.copy()}), {"y": X})
    assert run_check(ctx) is None


def test_unchanged_names_an_input_modified_in_place():
    test = make_test(kind="unchanged", outputs=("y",))
    ctx = context(test, unchanged_reply({"y": X}, {"x": X + 1}), {"y": X})
    assert run_check(ctx).startswith("f modified its input 'x' in place")
    assert case_failure(ctx).kind == "mismatch"
    ctx = context(test, unchanged_reply({"y": X}, {}), {"y": X})  # an input that never came back
    assert run_check(ctx).startswith("f modified its input 'x' in place")


def test_unchanged_earns_nothing_for_inputs_left_alone_when_the_results_are_wrong():
    test = make_test(kind="unchanged", outputs=("y",))
    ctx = context(test, unchanged_reply({"y": X + 1}, {"x": X.copy()}), {"y": X})
    assert run_check(ctx).startswith("this test looks at the inputs once the results are right")


def test_unchanged_compares_each_before_snapshot_with_its_after():
    test = make_test(kind="unchanged", outputs=("y",))
    outputs = {"y": X, "cache.before": X, "cache.after": X * 0}
    ctx = context(test, unchanged_reply(outputs, {"x": X.copy()}), {"y": X})
    assert run_check(ctx).startswith("f modified 'cache' in place")
    outputs = {"y": X, "cache.before": X}  # an after that never came back is not unchanged either
    assert "modified 'cache'" in run_check(context(test, unchanged_reply(outputs, {"x": X.copy()}), {"y": X}))


# ----------------------------------------------------------------------------------- property

def judges(**functions):
    return SimpleNamespace(**functions)


def test_a_property_is_judged_only_once_the_named_outputs_match():
    seen = []

    def rows_sum_to_one(inputs, outputs, params):
        seen.append(sorted(outputs))
        return None if np.allclose(outputs["w"].sum(-1), 1) else "rows do not sum to 1"

    test = make_test(kind="property", outputs=("y",), verify="rows_sum_to_one")
    verify = judges(rows_sum_to_one=rows_sum_to_one)
    uniform = np.full((2, 3), 1 / 3)
    ctx = context(test, lambda *a: ok(y=X, w=uniform), {"y": X, "w": uniform}, verify=verify)
    assert run_check(ctx) is None and seen == [["w", "y"]]
    ctx = context(test, lambda *a: ok(y=X, w=uniform * 2), {"y": X, "w": uniform}, verify=verify)
    assert run_check(ctx) == "rows do not sum to 1"
    ctx = context(test, lambda *a: ok(y=X + 1, w=uniform), {"y": X, "w": uniform}, verify=verify)
    assert run_check(ctx) and len(seen) == 2  # wrong results: the judge is never asked


def test_a_property_needs_every_reference_output_with_its_shape():
    test = make_test(kind="property", outputs=("y",), verify="never")
    verify = judges(never=lambda *a: pytest.fail("the judge must not run"))
    ctx = context(test, lambda *a: ok(y=X), {"y": X, "w": X}, verify=verify)
    assert run_check(ctx) == "'w' is missing from what your code returned" and case_failure(ctx).kind == "output"
    ctx = context(test, lambda *a: ok(y=X, w=X.T), {"y": X, "w": X}, verify=verify)
    assert run_check(ctx) == "'w' has shape (3, 2), expected (2, 3)" and case_failure(ctx).kind == "shape"


def test_a_missing_judge_is_the_assignments_fault_not_a_pass():
    test = make_test(kind="property", outputs=("y",), verify="no_such_judge")
    with pytest.raises(LookupError, match="no_such_judge"):
        run_check(context(test, lambda *a: ok(y=X), {"y": X}, verify=judges()))


# ----------------------------------------------------------------------------------- gradients

def square_forward(probe, batch):
    return Reply(None, many=[{"out": b["x"] ** 2} for b in batch])


def test_gradients_must_match_the_reference_then_the_students_own_forward():
    test = make_test(kind="gradients", probe="backward", forward="forward", upstream={"out": None})
    right = 2 * X
    ctx = context(test, lambda *a: ok(x=right), {"x": right}, many=square_forward)
    assert run_check(ctx) is None
    assert any(call[1] == "forward" for call in ctx.child.calls)  # checked numerically too

    wrong = right + 1
    ctx = context(test, lambda *a: ok(x=wrong), {"x": right}, many=square_forward)
    assert "'dx'" in run_check(ctx)  # against the reference: labelled as a gradient
    assert all(call[1] != "forward" for call in ctx.child.calls)  # no numerical check then

    ctx = context(test, lambda *a: ok(x=wrong), {"x": wrong}, many=square_forward)  # a reference that agrees
    assert "disagrees with a numerical derivative of your own forward pass" in run_check(ctx)


def test_a_forward_that_fails_or_lacks_an_output_while_checked_numerically_says_so():
    test = make_test(kind="gradients", probe="backward", forward="forward", upstream={"out": None})
    right = 2 * X
    error = {"type": "RuntimeError", "message": "boom", "where": None, "stack": []}
    ctx = context(test, lambda *a: ok(x=right), {"x": right}, many=lambda probe, batch: Reply("error", error=error))
    assert run_check(ctx).startswith("while checking gradients numerically, ")
    ctx = context(test, lambda *a: ok(x=right), {"x": right},
                  many=lambda probe, batch: Reply(None, many=[{"other": b["x"]} for b in batch]))
    assert run_check(ctx) == "your forward pass did not return the output 'out'" and case_failure(ctx).kind == "output"

