"""spec/kinds.py: each check kind is declared once, and grading has a check for each."""

from __future__ import annotations

from autograder.grading import checks
from autograder.spec import schema
from autograder.spec.kinds import CHECK_KINDS, KINDS
from autograder.spec.schema import TEST_FIELDS


def test_every_declared_kind_has_a_check_and_the_kind_key_offers_exactly_them():
    assert set(checks.CHECKS) == set(CHECK_KINDS) == set(KINDS)
    assert TEST_FIELDS["kind"].choices == KINDS


def _test(**kw):
    return schema.Test(target="layers.step", title="t", kind="outputs", probe="p", cases="c", points=1,
                visibility="public", timeout=2, rtol=1e-6, atol=1e-8, id="t01", **kw)
