"""grading/failures.py: typed failures (a budget, a refused call) instead of strings parsed back; failure kinds declared once."""

from __future__ import annotations

from autograder.grading.failures import FAILURE_KIND, FAILURE_KINDS, describe_failure, reply_failure
from autograder.sandbox.parent import Reply
from autograder.spec import schema



def _test(**kw):
    return schema.Test(target="layers.step", title="t", kind="outputs", probe="p", cases="c", points=1,
                       visibility="public", timeout=2, rtol=1e-6, atol=1e-8, id="t01", **kw)

def test_a_timeout_names_the_budget_only_when_the_budget_set_the_deadline():
    reply = Reply("timeout")
    own = describe_failure(reply, _test())
    budget = describe_failure(reply, _test(), budget=300)
    assert "this test's time limit of 2 s" in own and "budget" not in own
    assert "time budget of 300 s" in budget
    assert reply_failure(reply, _test(), budget=300).kind == "budget"
    assert reply_failure(reply, _test()).kind == "timeout"
    assert reply.detail == ""  # nothing written into the reply to be read back


def test_a_refused_call_is_matched_by_its_module_and_name_and_a_malformed_one_is_not():
    hung = {("layers", "step"): "step: earlier"}
    error = {"type": "RefusedCall", "message": "m", "refused": ["layers", "step"]}
    failure = reply_failure(Reply("error", error=error), _test(), hung=hung)
    assert failure.kind == "hung_before" and failure.function == "step"
    for forged in ("layers:step", ["layers"], ["layers", "step", "x"], [1, 2], None):
        got = reply_failure(Reply("error", error=dict(error, refused=forged)), _test(), hung=hung)
        assert got.kind != "hung_before", forged


def test_failure_kinds_are_declared_once_with_their_labels():
    assert len(set(FAILURE_KINDS)) == len(FAILURE_KINDS)
    assert all(FAILURE_KIND[k].label for k in FAILURE_KINDS)
    from autograder.batch.outcomes import Failure as Read

    assert Read("exception", "TypeError").label == "exception: TypeError"
    assert Read("mismatch", "TypeError").label == "wrong values"
    assert Read("made_up").label == "made_up"  # a kind this engine does not know reads as itself
