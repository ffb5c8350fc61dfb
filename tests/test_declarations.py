"""Things declared once: spec keys on their dataclass fields, kinds of test and of failure, and the
typed values that replaced strings parsed back (a budget, a refused call)."""

from __future__ import annotations

import dataclasses

import pytest

from autograder.core.errors import SpecError
from autograder.core.fields import REQUIRED, Reader, key, table
from autograder.grading import checks
from autograder.grading.failures import FAILURE_KIND, FAILURE_KINDS, describe_failure, reply_failure
from autograder.sandbox.parent import Reply
from autograder.spec.kinds import CHECK_KINDS, KINDS
from autograder.spec import schema
from autograder.spec.schema import TEST_FIELDS, Limits


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sample:
    size: int = key("int", REQUIRED, "how many")
    names: tuple = key("names", ["a"], "which")
    extra: dict = key("mapping", {}, "more")
    kind: str = key("str", "x", "one of x, y", choices=("x", "y"), name="type")
    note: str = "not a key"


def test_a_key_gives_both_the_table_entry_and_the_attribute_default():
    fields = table(Sample)
    assert list(fields) == ["size", "names", "extra", "type"]  # the declaration order; `note` is no key
    assert fields["names"].default == ["a"] and fields["type"].choices == ("x", "y")
    s = Sample(size=3)
    assert (s.names, s.extra, s.kind) == (("a",), {}, "x")  # a list default is a tuple on the object
    assert Sample(size=1).extra is not s.extra  # a mapping default is fresh for each object
    with pytest.raises(TypeError):
        Sample()  # REQUIRED: the attribute has no default either
    read = Reader("f.yaml").mapping({"size": 2, "type": "y"}, fields, "")
    assert read == {"size": 2, "names": ["a"], "extra": {}, "type": "y"}
    with pytest.raises(SpecError, match=r"f.yaml: type: 'z' is not one of: x, y"):
        Reader("f.yaml").mapping({"size": 2, "type": "z"}, fields, "")


def test_limits_defaults_are_their_declared_key_defaults():
    limits = Limits()
    assert {k: getattr(limits, f.name) for k, f in zip(table(Limits), dataclasses.fields(Limits))} == \
        {k: fld.default for k, fld in table(Limits).items()}


def test_every_test_key_is_an_attribute_of_test():
    names = {f.name for f in dataclasses.fields(schema.Test)}
    assert set(TEST_FIELDS) <= names


def test_every_declared_kind_has_a_check_and_the_kind_key_offers_exactly_them():
    assert set(checks.CHECKS) == set(CHECK_KINDS) == set(KINDS)
    assert TEST_FIELDS["kind"].choices == KINDS


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


def test_become_subreaper_asks_again_only_when_told_the_answer_is_stale(monkeypatch):
    from autograder.sandbox import reaper

    asked = []

    class Libc:
        def prctl(self, *args):
            asked.append(args)
            return 0

    monkeypatch.setattr(reaper.ctypes, "CDLL", lambda *a, **k: Libc())
    monkeypatch.setattr(reaper, "_state", {"subreaper": None})
    assert reaper.become_subreaper() and reaper.become_subreaper()
    assert len(asked) == 1  # cached
    assert reaper.become_subreaper(fresh=True)
    assert len(asked) == 2  # after a fork the kernel's flag must be set again
