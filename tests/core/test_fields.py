"""autograder/fields.py: a mapping checked against a field table, every error naming its place."""

import pytest

from autograder.core.errors import SpecError
from autograder.core.fields import REQUIRED, Fld, Reader, join, show

TABLE = {
    "name": Fld("name", REQUIRED, "a python name"),
    "rtol": Fld("number", 1e-7, "relative tolerance", positive=True),
    "kind": Fld("str", "outputs", "what to check", choices=("outputs", "gradients")),
    "files": Fld("files", [], "plain relative file names"),
    "on": Fld("bool", False, "a switch"),
}


def test_defaults_fill_what_is_not_given():
    got = Reader("a.yaml").mapping({"name": "x"}, TABLE, "tests[0]")
    assert got == {"name": "x", "rtol": 1e-7, "kind": "outputs", "files": [], "on": False}


@pytest.mark.parametrize("value, message", [
    ({"name": "x", "rtl": 1}, "a.yaml: tests[0].rtl: unknown key 'rtl' (allowed: files, kind, name, on, rtol)"),
    ({}, "a.yaml: tests[0].name: missing required key (a python name)"),
    ({"name": "1x"}, "a.yaml: tests[0].name: '1x' is not a valid Python name"),
    ({"name": "x", "rtol": "tight"}, "a.yaml: tests[0].rtol: expected a number, got 'tight'"),
    ({"name": "x", "rtol": True}, "a.yaml: tests[0].rtol: expected a number, got True"),
    ({"name": "x", "rtol": 0}, "a.yaml: tests[0].rtol: must be greater than 0, got 0"),
    ({"name": "x", "rtol": float("nan")}, "a.yaml: tests[0].rtol: expected a finite number, got nan"),
    ({"name": "x", "kind": "vibes"}, "a.yaml: tests[0].kind: 'vibes' is not one of: outputs, gradients"),
    ({"name": "x", "files": ["../secret.py"]}, "a.yaml: tests[0].files[0]: '../secret.py' must be a plain relative file name"),
    ({"name": "x", "files": ["a.py", "a.py"]}, "a.yaml: tests[0].files: lists the same entry twice"),
    ({"name": "x", "on": "yes"}, "a.yaml: tests[0].on: expected true or false, got 'yes'"),
    ("not a mapping", "a.yaml: tests[0]: expected a mapping, got 'not a mapping'"),
])
def test_each_bad_value_is_one_error_naming_file_path_and_problem(value, message):
    with pytest.raises(SpecError) as info:
        Reader("a.yaml").mapping(value, TABLE, "tests[0]")
    assert str(info.value) == message


def test_show_cuts_long_values_and_join_builds_paths():
    assert show("x" * 100).endswith("...") and len(show("x" * 100)) == 60
    assert join("", "tests") == "tests" and join("tests[3]", "rtol") == "tests[3].rtol"
