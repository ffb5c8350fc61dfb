"""core/fields.py: key() declares a dataclass field and its YAML key at once; table() derives the reader's table."""

from __future__ import annotations

import dataclasses

import pytest

from autograder.core.errors import SpecError
from autograder.core.fields import REQUIRED, Reader, key, table


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
