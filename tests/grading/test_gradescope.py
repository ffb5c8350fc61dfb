"""autograder/gradescope.py: the policy applied from submission_metadata.json, and the daily limit.

Grading itself on the Gradescope layout is in test_e2e.py; these tests give the functions the
metadata Gradescope writes (created_at, assignment.due_date / late_due_date, previous_submissions)
and what a broken or missing file looks like.
"""

import json

import pytest

from autograder.grading.gradescope import LIMITED_PREFIX, late_results, rate_limited, read_metadata
from autograder.spec.policy import LateStep

COURSE = (LateStep(0, 0.85), LateStep(24, 0.70), LateStep(48, 0.0))


def meta(created="2026-05-19T05:59:00.000000-04:00", due="2026-05-17T23:59:00.000000-04:00", late_due=None,
         previous=()):
    return {"id": 7, "created_at": created,
            "assignment": {"due_date": due, "late_due_date": late_due, "title": "RNN", "total_points": "37.0"},
            "users": [{"email": "ada@example.edu", "id": 1, "name": "Ada"}],
            "previous_submissions": list(previous)}


def graded(time, score, extra=None):
    results = {"score": score, "output": f"RNN: {score:g} / 37 points.",
               "tests": [{"name": "rnn_step_forward: output matches reference", "score": score, "max_score": 37,
                          "status": "passed" if score == 37 else "failed", "visibility": "visible"}]}
    if extra:
        results["extra_data"] = extra
    return {"submission_time": time, "score": score, "results": results}


RESULTS = {"score": 37, "output": "RNN: 37 / 37 points.", "tests": []}


# ----------------------------------------------------------------------------- reading the file


def test_read_metadata(tmp_path):
    assert read_metadata(tmp_path) == (None, "submission_metadata.json is missing")
    (tmp_path / "submission_metadata.json").write_text("{not json")
    data, why = read_metadata(tmp_path)
    assert data is None and why.startswith("submission_metadata.json could not be read (")
    (tmp_path / "submission_metadata.json").write_text("[1, 2]")
    assert read_metadata(tmp_path) == (None, "submission_metadata.json is not a JSON object")
    (tmp_path / "submission_metadata.json").write_text(json.dumps(meta()))
    assert read_metadata(tmp_path) == (meta(), "")


# ----------------------------------------------------------------------------- late policy


def test_thirty_hours_late_from_the_metadata_keeps_70_percent():
    out = late_results(RESULTS, COURSE, meta())
    assert out["score"] == pytest.approx(25.9)
    assert "30.0 hours after the due date" in out["output"] and "keeps 70%" in out["output"]


def test_a_late_due_date_in_the_metadata_is_reported_not_used_for_the_hours():
    out = late_results(RESULTS, COURSE, meta(created="2026-05-21T00:00:00-04:00",
                                             late_due="2026-05-20T23:59:00-04:00"))
    assert "48.0 hours" not in out["output"] and "72.0 hours after the due date" in out["output"]
    assert "after the late due date" in out["output"] and out["score"] == 0


@pytest.mark.parametrize("broken, says", [
    (None, "no submission metadata"),
    ({}, "created_at is missing"),
    ({"created_at": "2026-05-19T05:59:00-04:00"}, "assignment is missing"),
    (meta(created="yesterday"), "created_at: 'yesterday' is not an ISO 8601 time"),
    (meta(created="2026-05-19T05:59:00"), "created_at: '2026-05-19T05:59:00' has no time zone offset"),
    (meta(due="2026-05-17"), "due_date: '2026-05-17' is not an ISO 8601 time"),
    (meta(due=17), "due_date: 17 is not an ISO 8601 time"),
])
def test_missing_or_malformed_metadata_grades_without_penalty_and_says_why(broken, says):
    out = late_results(RESULTS, COURSE, broken)
    assert out["score"] == 37
    assert "Late policy: not applied, graded without a late penalty" in out["output"]
    assert says in out["output"]


def test_a_missing_due_date_means_no_penalty():
    out = late_results(RESULTS, COURSE, meta(due=None))
    assert out["score"] == 37 and "has no due date" in out["output"]


# ----------------------------------------------------------------------------- daily limit


def test_under_the_limit_a_submission_is_graded_and_told_its_count():
    previous = [graded("2026-05-18T09:00:00-04:00", 20), graded("2026-05-10T09:00:00-04:00", 10)]
    repeat, note = rate_limited(2, meta(created="2026-05-18T12:00:00-04:00", previous=previous))
    assert repeat is None
    assert note == "Daily limit: graded submission 2 of 2 in the last 24 hours."


def test_over_the_limit_the_latest_graded_results_are_repeated_with_the_next_graded_time():
    previous = [graded("2026-05-17T13:00:00-04:00", 10), graded("2026-05-18T09:00:00-04:00", 30),
                graded("2026-05-18T11:00:00-04:00", 20)]
    repeat, note = rate_limited(2, meta(created="2026-05-18T12:00:00-04:00", previous=previous))
    assert note == ""
    assert repeat["score"] == 20  # the latest graded one, not the best
    assert repeat["tests"] == previous[2]["results"]["tests"]
    first = repeat["output"].splitlines()[0]
    assert first.startswith(LIMITED_PREFIX)
    assert "you have had 2 graded submissions in the last 24 hours" in first
    assert "those of your graded submission of 2026-05-18 11:00 -04:00" in first
    assert "A submission made after 2026-05-19 09:00 -04:00 will be graded." in first  # 09:00 leaves the window
    assert repeat["output"].endswith("RNN: 20 / 37 points.")
    assert repeat["extra_data"]["rate_limited"] is True


def test_submissions_that_were_not_graded_do_not_count():
    limited = graded("2026-05-18T10:00:00-04:00", 20, extra={"rate_limited": True})
    by_text = graded("2026-05-18T10:30:00-04:00", 20)
    by_text["results"]["output"] = f"{LIMITED_PREFIX} ..."
    previous = [graded("2026-05-18T09:00:00-04:00", 20), limited, by_text]
    repeat, note = rate_limited(2, meta(created="2026-05-18T12:00:00-04:00", previous=previous))
    assert repeat is None and "graded submission 2 of 2" in note


def test_the_window_is_rolling_and_offsets_count():
    # 09:00 -04:00 is 13:00 UTC; 24 hours later, 13:00:01 UTC the next day, it has left the window.
    previous = [graded("2026-05-18T09:00:00-04:00", 20)]
    assert rate_limited(1, meta(created="2026-05-19T13:00:01Z", previous=previous))[0] is None
    assert rate_limited(1, meta(created="2026-05-19T12:59:00Z", previous=previous))[0] is not None


@pytest.mark.parametrize("broken, says", [
    (None, "no submission metadata"),
    ({"previous_submissions": []}, "created_at is missing"),
    ({"created_at": "2026-05-18T12:00:00-04:00", "previous_submissions": {"a": 1}},
     "previous_submissions is not a list"),
])
def test_a_broken_metadata_file_never_blocks_grading(broken, says):
    repeat, note = rate_limited(1, broken)
    assert repeat is None and says in note and note.endswith("this submission is graded.")


def test_over_the_limit_without_the_previous_results_the_submission_is_graded():
    entry = {"submission_time": "2026-05-18T11:00:00-04:00", "score": 20}  # no results object
    repeat, note = rate_limited(1, meta(created="2026-05-18T12:00:00-04:00", previous=[entry]))
    assert repeat is None and "are not in the metadata, so this one is graded" in note


def test_unreadable_previous_times_are_skipped():
    previous = [graded("last week", 20), "junk", graded("2026-05-18T11:00:00-04:00", 25)]
    repeat, _ = rate_limited(1, meta(created="2026-05-18T12:00:00-04:00", previous=previous))
    assert repeat["score"] == 25
