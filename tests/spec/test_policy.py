"""autograder/policy.py: times, the late-penalty arithmetic, its notes, and the daily-limit window."""

from datetime import datetime, timedelta, timezone

import pytest

from autograder.spec.policy import (LateStep, apply_late, describe_policy, hours_late, late_step, next_graded_at,
                               parse_time, remove_late)
from autograder.spec.model import Policy

COURSE = (LateStep(0, 0.85), LateStep(24, 0.70), LateStep(48, 0.0))
EDT = timezone(timedelta(hours=-4))
DUE = datetime(2026, 5, 17, 23, 59, tzinfo=EDT)


def results(score=37.0, output="Demo: 37 / 37 points."):
    return {"score": score, "output": output, "tests": [{"name": "a", "score": score, "max_score": 37}]}


# ----------------------------------------------------------------------------- times


@pytest.mark.parametrize("text, want", [
    ("2026-05-17T23:59:00-04:00", DUE),
    ("2026-05-17T23:59:00.000000-04:00", DUE),           # Gradescope's JSON
    ("2026-05-17 23:59:00.123456789 -0400", DUE + timedelta(microseconds=123456)),  # nine digits, a space
    ("2026-05-18T03:59:00Z", DUE),                        # Z, which Python 3.10 cannot read itself
    ("2026-05-18T03:59:00+00:00", DUE),
    ("2026-05-17T23:59-04:00", DUE),
])
def test_parse_time_reads_what_gradescope_and_people_write(text, want):
    got = parse_time(text)
    assert got == want and got.utcoffset() is not None


@pytest.mark.parametrize("text, says", [
    ("2026-05-17T23:59:00", "has no time zone offset"),
    ("17 May 2026", "is not an ISO 8601 time"),
    ("", "is not an ISO 8601 time"),
    (None, "is not an ISO 8601 time"),
    ("2026-13-40T23:59:00-04:00", "month must be in 1..12"),
    (datetime(2026, 5, 17), "has no time zone offset"),
])
def test_parse_time_refuses_times_without_offset_or_malformed(text, says):
    with pytest.raises(ValueError, match=says):
        parse_time(text)


def test_hours_late_takes_time_zone_offsets_into_account():
    # 06:59 in Paris (+02:00) on the 18th is 00:59 in New York (-04:00): one hour after 23:59 EDT.
    assert hours_late(parse_time("2026-05-18T06:59:00+02:00"), DUE) == pytest.approx(1.0)
    assert hours_late(parse_time("2026-05-17T20:59:00-07:00"), DUE) == pytest.approx(0.0)
    assert hours_late(parse_time("2026-05-17T22:00:00-04:00"), DUE) < 0


# ----------------------------------------------------------------------------- steps


@pytest.mark.parametrize("hours, keep", [
    (-5, None), (0, None),            # on time, and exactly at the due date
    (0.0001, 0.85), (23.99, 0.85),
    (24, 0.85),                       # exactly 24 h late is not *more* than 24 h
    (24.0001, 0.70), (30, 0.70), (48, 0.70),
    (48.01, 0.0), (500, 0.0),
])
def test_the_step_with_the_largest_hours_exceeded_applies(hours, keep):
    step = late_step(COURSE, hours)
    assert (step.keep if step else None) == keep


def test_thirty_hours_late_keeps_70_percent_and_says_why():
    out = apply_late(results(), COURSE, DUE, DUE + timedelta(hours=30))
    assert out["score"] == pytest.approx(25.9)
    assert out["tests"] == results()["tests"]  # each test keeps its own score
    note = out["output"].splitlines()[-1]
    assert "Submitted 2026-05-19 05:59 -04:00, 30.0 hours after the due date 2026-05-17 23:59 -04:00" in note
    assert "Step applied: more than 24 hours late keeps 70%" in note
    assert "Score 37 before the penalty, 25.9 after" in note
    assert out["output"].startswith("Demo: 37 / 37 points.\n")
    assert out["extra_data"]["late"]["raw_score"] == 37 and out["extra_data"]["late"]["keep"] == 0.7
    assert out["extra_data"]["late"]["hours_late"] == pytest.approx(30)


def test_on_time_keeps_everything_and_says_so():
    out = apply_late(results(), COURSE, DUE, DUE - timedelta(minutes=5))
    assert out["score"] == 37
    assert "on time (due 2026-05-17 23:59 -04:00): no penalty; score 37 of 37 kept" in out["output"]


def test_exactly_24_hours_late_keeps_85_percent():
    out = apply_late(results(20), COURSE, DUE, DUE + timedelta(hours=24))
    assert out["score"] == pytest.approx(17)
    assert "24.0 hours after" in out["output"] and "more than 0 hours late keeps 85%" in out["output"]


def test_lateness_counts_from_the_due_date_not_the_late_due_date():
    late_due = DUE + timedelta(days=3)
    out = apply_late(results(), COURSE, DUE, DUE + timedelta(hours=30), late_due)
    assert out["score"] == pytest.approx(25.9)
    assert "late due date" not in out["output"]
    after = apply_late(results(), COURSE, DUE, late_due + timedelta(hours=1), late_due)
    assert after["score"] == 0
    assert "(This came after the late due date, 2026-05-20 23:59 -04:00.)" in after["output"]


def test_a_submission_in_another_time_zone_is_measured_in_absolute_time():
    submitted = parse_time("2026-05-19T11:59:00+02:00")  # 05:59 EDT: 30 hours late
    out = apply_late(results(), COURSE, DUE, submitted)
    assert out["score"] == pytest.approx(25.9) and "30.0 hours after" in out["output"]


def test_a_grace_period_before_the_first_step_costs_nothing_and_says_how_late():
    grace = (LateStep(2, 0.9),)
    out = apply_late(results(), grace, DUE, DUE + timedelta(hours=1))
    assert out["score"] == 37 and "1.0 hours after the due date" in out["output"] and "no penalty" in out["output"]
    assert apply_late(results(), grace, DUE, DUE + timedelta(hours=3))["score"] == pytest.approx(33.3)


def test_no_due_date_means_no_penalty_and_says_so():
    out = apply_late(results(), COURSE, None, DUE + timedelta(hours=100))
    assert out["score"] == 37
    assert "the assignment has no due date, so no late penalty applies" in out["output"]


def test_unreadable_times_mean_no_penalty_and_say_why():
    out = apply_late(results(), COURSE, DUE, None, problem="created_at: 'soon' is not an ISO 8601 time")
    assert out["score"] == 37
    assert out["output"].endswith("Late policy: not applied, graded without a late penalty "
                                  "(created_at: 'soon' is not an ISO 8601 time).")


def test_applying_again_starts_from_the_score_before_the_penalty():
    once = apply_late(results(), COURSE, DUE, DUE + timedelta(hours=30))
    twice = apply_late(once, COURSE, DUE, DUE + timedelta(hours=30))
    assert twice == once
    moved = apply_late(once, COURSE, DUE + timedelta(days=2), DUE + timedelta(hours=30))
    assert moved["score"] == 37 and moved["output"].count("Late policy") == 1
    assert remove_late(once) == results()


def test_scores_are_rounded_not_floored():
    out = apply_late(results(1), (LateStep(0, 1 / 3),), DUE, DUE + timedelta(hours=1))
    assert out["score"] == pytest.approx(0.333333, abs=1e-6)


# ----------------------------------------------------------------------------- daily limit


def test_next_graded_at_counts_a_rolling_24_hour_window():
    now = DUE
    times = [now - timedelta(hours=h) for h in (30, 20, 5, 1)]
    assert next_graded_at(times, now, 4) is None                       # 3 in the window: a 4th is allowed
    assert next_graded_at(times, now, 3) == now - timedelta(hours=20) + timedelta(hours=24)
    assert next_graded_at(times, now, 1) == now - timedelta(hours=1) + timedelta(hours=24)
    # A submission exactly 24 hours old has left the window.
    assert next_graded_at([now - timedelta(hours=24)], now, 1) is None


def test_students_are_told_the_policy():
    text = describe_policy(Policy(COURSE, "after_published", 2))
    assert "more than 0 hours late keeps 85%; more than 24 hours late keeps 70%; more than 48 hours late keeps 0%" in text
    assert "At most 2 submission(s) in any 24 hours are graded" in text
    assert describe_policy(Policy()) == ""
