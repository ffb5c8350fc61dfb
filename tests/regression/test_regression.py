"""Students see what baseline.json says they see: every submission record.py grades (reference,
starter, fixtures, mutants, hostile submissions) gets the same test names, scores, statuses,
visibility and messages, test by test. After an intended change, re-record it with
`python tests/regression/record.py --write` and review the diff of baseline.json.

REGRESSION_BASELINE=path compares with another baseline file (e.g. an edited copy, to see it fail).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("regression_record", Path(__file__).with_name("record.py"))
record = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = record
_spec.loader.exec_module(record)


@pytest.fixture(scope="module")
def baseline():
    return record.load_baseline(record.BASELINE)


@pytest.mark.slow
@pytest.mark.parametrize("name", record.NAMES)
def test_grades_match_the_baseline(repo, bundles, baseline, name):
    assert name in baseline, f"{record.BASELINE} has no {name}: record it with tests/regression/record.py --write"
    now = record.grade_assignment(repo, name, bundles(name), log=lambda msg: None)
    changes = record.diff(baseline[name], now, name)
    if changes:
        pytest.fail(f"what students see has changed (re-record with record.py --write if intended):\n{changes}",
                    pytrace=False)


def test_the_diff_names_the_submission_test_and_field_that_changed():
    """diff() reports a changed score, message, missing test and missing submission; nothing when equal."""
    test = {"name": "f: output", "score": 1.0, "max_score": 1.0, "status": "passed", "visibility": "visible",
            "output": "line one\nall good"}
    old = {"reference": {"score": 1.0, "output": "T: 1 / 1 points.", "tests": [test]},
           "starter": {"score": 0.0, "output": "T: 0 / 1 points.", "tests": []}}
    assert record.diff(old, old, "demo") == ""
    changed = {"score": 0.0, "output": "T: 0 / 1 points.",
               "tests": [dict(test, score=0.0, status="failed", output="line one\nall bad")]}
    text = record.diff(old, {"reference": changed}, "demo")
    assert "demo starter: no longer graded" in text
    assert "demo reference:" in text and "test 'f: output':" in text
    assert "score: 1.0 -> 0.0" in text and "status: 'passed' -> 'failed'" in text
    assert "-all good" in text and "+all bad" in text
    gone = record.diff(old, {**old, "reference": dict(old["reference"], tests=[])}, "demo")
    assert "test gone: f: output" in gone


def test_normalise_replaces_only_what_varies_between_runs():
    text = "wrote /tmp/autograder-work-x1y2/rnn_layers.py (pid 4242) and took 1.25 s; time limit of 1 s"
    assert record.normalise(text) == "wrote <tmp> (pid <pid>) and took <seconds> s; time limit of 1 s"
    assert record.normalise("'dx' differs at [0, 1] expected 0.5, got 1.5") == \
        "'dx' differs at [0, 1] expected 0.5, got 1.5"


def test_the_baseline_file_is_written_in_a_stable_form():
    """Keys sorted and the same bytes for the same data, so a re-record changes only what changed."""
    data = {"format": record.FORMAT, "assignments": {"b": {"x": 1}, "a": {"y": [2, 1]}}}
    text = record.dumps(data)
    assert text == record.dumps({"assignments": {"a": {"y": [2, 1]}, "b": {"x": 1}}, "format": record.FORMAT})
    assert text.index('"a"') < text.index('"b"')
    assert record.BASELINE.is_file(), "tests/regression/baseline.json is missing: record.py --write"
