"""autograder/spec/bundle.py: a built assignment as the grader reads it.

The spec comes from the staged rnn bundle; the data files are written here, so that what each
case, test and mutant gets back is known exactly."""

import json
import shutil

import numpy as np
import pytest

from autograder.core.arrays import write_file
from autograder.core.errors import AutograderError
from autograder.spec.bundle import GRADESCOPE_ONLY, Bundle, input_key, output_key
from autograder.spec.model import Case

SMALL = Case("small", "public", {}, 1)
SMALL2 = Case("small2", "public", {}, 2)  # a name that starts like another
DEEP = Case("deep", "hidden", {}, 3)


@pytest.fixture
def folder(bundles, tmp_path):
    """A bundle folder with rnn's spec and probes, and data files of our own."""
    root = tmp_path / "bundle"
    shutil.copytree(bundles("rnn").root, root)
    for extra in ("hidden.arrays", "mutants.json", "verify.py", GRADESCOPE_ONLY):
        (root / extra).unlink(missing_ok=True)
    write_file(root / "public.arrays", {
        input_key("cs", "small", "x"): np.arange(4.0),
        input_key("cs", "small", "h"): np.ones((2, 2)),
        input_key("cs", "small2", "x"): np.full(3, 7.0),
        output_key("t1", "small", "y"): np.arange(4.0) * 2,
        output_key("t1", "small2", "y"): np.zeros(3),
        "mut/swap/t1/small/y": np.arange(4.0)[::-1].copy(),
    })
    return root


def test_a_folder_without_a_spec_is_not_a_bundle(tmp_path):
    with pytest.raises(AutograderError, match=f"{tmp_path} is not an assignment bundle \\(no assignment.json\\)"):
        Bundle(tmp_path)


def test_the_spec_paths_and_visibilities_come_from_the_folder(folder):
    bundle = Bundle(folder)
    assert bundle.spec.name == "rnn"
    assert bundle.probes_path == folder.resolve() / "probes.py" and bundle.support_dir == folder.resolve() / "support"
    assert bundle.visibilities() == ("public",)
    write_file(folder / "hidden.arrays", {input_key("cs", "deep", "x"): np.zeros(1)})
    assert bundle.visibilities() == ("public", "hidden")


def test_a_case_gets_its_own_inputs_only_as_fresh_writeable_copies(folder):
    bundle = Bundle(folder)
    got = bundle.inputs("cs", SMALL)
    assert sorted(got) == ["h", "x"]  # nothing of 'small2'
    np.testing.assert_array_equal(got["x"], np.arange(4.0))
    got["x"][:] = -1  # the student's code may write into what it is given
    np.testing.assert_array_equal(bundle.inputs("cs", SMALL)["x"], np.arange(4.0))
    assert sorted(bundle.inputs("cs", SMALL2)) == ["x"]
    assert bundle.inputs("other", SMALL) == {}


def test_expected_outputs_are_those_of_the_test_and_case(folder):
    bundle = Bundle(folder)
    np.testing.assert_array_equal(bundle.expected("t1", SMALL)["y"], np.arange(4.0) * 2)
    np.testing.assert_array_equal(bundle.expected("t1", SMALL2)["y"], np.zeros(3))
    assert bundle.expected("t2", SMALL) == {}


def test_hidden_cases_of_a_bundle_without_them_are_an_error_that_says_so(folder):
    with pytest.raises(AutograderError, match=r"hidden.arrays is missing: this bundle has no hidden cases"):
        Bundle(folder).inputs("cs", DEEP)


def test_mutant_outputs_only_for_catalogued_mistakes_that_recorded_some(folder):
    assert Bundle(folder).hints() == {} and Bundle(folder).mutant_outputs("t1", SMALL) == {}  # no catalog
    hints = {"swap": {"function": "f", "hint": "swapped"}, "silent": {"function": "f", "hint": "same outputs"}}
    (folder / "mutants.json").write_text(json.dumps(hints))
    bundle = Bundle(folder)
    assert bundle.hints() == hints
    got = bundle.mutant_outputs("t1", SMALL)
    assert list(got) == ["swap"]
    np.testing.assert_array_equal(got["swap"]["y"], [3.0, 2.0, 1.0, 0.0])
    assert bundle.mutant_outputs("t1", SMALL2) == {}


@pytest.mark.parametrize("text, expected", [
    (None, []),
    ('{"tests": [["rnn_step_forward: hidden", 2], ["gru: hidden", "1.5"]]}',
     [("rnn_step_forward: hidden", 2.0), ("gru: hidden", 1.5)]),
    ("not json", []),
    ('{"tests": [["only a name"]]}', []),
    ('["a list"]', []),
])
def test_the_tests_a_starter_leaves_out_are_read_or_nothing(folder, text, expected):
    if text is not None:
        (folder / GRADESCOPE_ONLY).write_text(text)
    assert Bundle(folder).gradescope_only() == expected


def test_verify_is_imported_once_in_the_grader_and_absent_without_a_file(folder):
    assert Bundle(folder).verify_module() is None
    (folder / "verify.py").write_text("LOADS = []\nLOADS.append(1)\n\n\n"
                                      "def judge(inputs, outputs, params):\n    return None\n")
    bundle = Bundle(folder)
    module = bundle.verify_module()
    assert bundle.verify_module() is module and module.LOADS == [1]
    assert module.judge({}, {}, {}) is None
