"""spec/schema.py: every spec key is declared once, on the dataclass field that holds it."""

from __future__ import annotations

import dataclasses

from autograder.core.fields import table
from autograder.spec import schema
from autograder.spec.schema import TEST_FIELDS, Limits


def test_limits_defaults_are_their_declared_key_defaults():
    limits = Limits()
    assert {k: getattr(limits, f.name) for k, f in zip(table(Limits), dataclasses.fields(Limits))} == \
        {k: fld.default for k, fld in table(Limits).items()}


def test_every_test_key_is_an_attribute_of_test():
    names = {f.name for f in dataclasses.fields(schema.Test)}
    assert set(TEST_FIELDS) <= names
