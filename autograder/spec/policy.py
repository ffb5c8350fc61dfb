"""Course policy of an assignment (`policy:` in assignment.yaml): late penalty, when hidden tests are
shown, and a daily limit of graded submissions; and the arithmetic that applies them to results.

    policy:
      late: [{hours: 0, keep: 0.85}, {hours: 24, keep: 0.70}, {hours: 48, keep: 0.0}]
      hidden_visibility: after_published
      daily_limit: 3

A submission more than `hours` hours after the due date keeps `keep` of its score: the step with
the largest `hours` that it exceeds (so exactly 24 hours late is still "more than 0 hours"). Each
test keeps its own score; the top-level score of the results carries the penalty. Times are ISO
8601 with a time zone offset, as Gradescope writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from autograder.core.fields import REQUIRED, Reader, key, show, table

__all__ = ["Policy", "LateStep", "POLICY_FIELDS", "LATE_STEP_FIELDS", "HIDDEN_VISIBILITIES", "read_policy",
           "parse_time", "show_time", "hours_late", "late_step", "describe_step", "apply_late",
           "remove_late", "next_graded_at", "describe_policy"]

HIDDEN_VISIBILITIES = ("after_due_date", "after_published", "hidden", "visible")


@dataclass(frozen=True)
class LateStep:
    hours: float = key("number", REQUIRED, "hours after the due date beyond which this step applies")
    keep: float = key("number", REQUIRED, "fraction of the score kept, from 0 to 1")


@dataclass(frozen=True)
class Policy:
    late: tuple = key("list", [], "late penalty steps [{hours: H, keep: K}]: a submission more than H hours after "
                                  "the due date keeps K of its score (the step with the largest H it exceeds); [] "
                                  "for none")  # LateSteps, by increasing hours
    hidden_visibility: str = key("str", "after_published", "when Gradescope shows students the hidden tests: "
                                 "after_due_date, after_published (when grades are published), hidden (never) "
                                 "or visible (at once)", choices=HIDDEN_VISIBILITIES)
    daily_limit: int | None = key("int", None, "graded submissions per student in any 24 hours; an extra one "
                                               "repeats the latest graded results (null: no limit)", positive=True)


POLICY_FIELDS = table(Policy)
LATE_STEP_FIELDS = table(LateStep)


def read_policy(r: Reader, value) -> Policy:
    """The `policy:` mapping of a spec, checked; every error names the key."""
    top = r.mapping({} if value is None else value, POLICY_FIELDS, "policy")
    steps = []
    for i, raw in enumerate(top["late"]):
        s = r.mapping(raw, LATE_STEP_FIELDS, f"policy.late[{i}]")
        if s["keep"] > 1:
            r.fail(f"policy.late[{i}].keep", f"must be between 0 and 1 (the fraction of the score kept), got {s['keep']}")
        if any(step.hours == s["hours"] for step in steps):
            r.fail(f"policy.late[{i}].hours", f"two steps both start at {s['hours']:g} hours")
        steps.append(LateStep(float(s["hours"]), float(s["keep"])))
    steps.sort(key=lambda s: s.hours)
    for before, after in zip(steps, steps[1:]):
        if after.keep > before.keep:
            r.fail("policy.late", f"a later step keeps more than an earlier one ({after.hours:g} hours: "
                                  f"{after.keep:g}, {before.hours:g} hours: {before.keep:g}); keep must not grow")
    return Policy(tuple(steps), top["hidden_visibility"], top["daily_limit"])


_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)(?:\.(\d+))? ?(Z|[+-]\d\d:?\d\d)?$")


def parse_time(value) -> datetime:
    """An aware datetime from an ISO 8601 string (or an aware datetime); ValueError says what is wrong.

    Accepts what Gradescope writes (`2026-05-17T23:59:00.000000-04:00`, a space before the offset,
    nine fraction digits, `Z`), on Python 3.10, whose fromisoformat takes none of the last three."""
    if isinstance(value, datetime):
        when = value
    else:
        m = _TIME.match(str(value).strip())
        if not m:
            raise ValueError(f"{show(value)} is not an ISO 8601 time such as 2026-05-17T23:59:00-04:00")
        day, clock, fraction, zone = m.groups()
        if zone is None:
            raise ValueError(f"{show(value)} has no time zone offset (write it as in 2026-05-17T23:59:00-04:00)")
        zone = "+00:00" if zone == "Z" else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
        text = f"{day}T{clock}" + (f".{(fraction + '000000')[:6]}" if fraction else "") + zone
        when = datetime.fromisoformat(text)
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{show(value)} has no time zone offset (write it as in 2026-05-17T23:59:00-04:00)")
    return when


def show_time(when: datetime) -> str:
    """2026-05-19 05:59 -04:00: to the minute, in the time's own offset."""
    text = when.strftime("%Y-%m-%d %H:%M %z")
    return text[:-2] + ":" + text[-2:]


def hours_late(submitted: datetime, due: datetime) -> float:
    """Hours after the due date (negative: before it); offsets are taken into account."""
    return (submitted - due).total_seconds() / 3600.0


def late_step(steps, hours: float):
    """The step with the largest `hours` that `hours` late exceeds, or None (on time)."""
    applies = [s for s in steps if hours > s.hours]
    return applies[-1] if applies else None


def describe_step(step: LateStep) -> str:
    return f"more than {step.hours:g} hours late keeps {step.keep * 100:g}%"


def describe_policy(policy: Policy) -> str:
    """What students are told of the policy (a README section), or "" when there is none to tell."""
    lines = []
    if policy.late:
        steps = "; ".join(describe_step(s) for s in policy.late)
        lines.append(f"Late submissions: a submission {steps} of its score (hours after the due date on "
                     "Gradescope). Each test keeps its points; the total carries the penalty, and the "
                     "autograder output says how late the submission was.")
    if policy.daily_limit:
        lines.append(f"At most {policy.daily_limit} submission(s) in any 24 hours are graded. A submission "
                     "beyond that is not graded: it shows the results of your latest graded one and says "
                     "when the next one will be graded.")
    return "\n\n".join(lines)


def _extra(results: dict) -> dict:
    extra = results.get("extra_data")
    return dict(extra) if isinstance(extra, dict) else {}


def _undo(results: dict) -> tuple[dict, float]:
    """Results as they were before a late policy was applied to them, and their score."""
    data = dict(results)
    extra = _extra(data)
    prev = extra.pop("late", None)
    if isinstance(prev, dict) and isinstance(prev.get("raw_score"), (int, float)):
        note = prev.get("note", "")
        output = data.get("output", "")
        if note and isinstance(output, str) and output.endswith(note):
            data["output"] = output[: -len(note)].rstrip("\n")
        data["score"] = prev["raw_score"]
    data["extra_data"] = extra
    if not extra:
        data.pop("extra_data")
    return data, float(data.get("score", 0) or 0)


def remove_late(results: dict) -> dict:
    """Results as they were before a late policy was applied to them (the same when none was)."""
    return _undo(results)[0]


def apply_late(results: dict, steps, due, submitted, late_due=None, problem: str = "") -> dict:
    """New results with the late policy `steps` applied to the top-level score, and a note saying how
    late, which step and the score before and after. `due`, `submitted`, `late_due` are aware
    datetimes or None. `problem` (why a time could not be read) means: no penalty, and say why.
    Applying again (with other times) starts from the score before the first application."""
    data, raw = _undo(results)
    info = {"raw_score": raw, "hours_late": None, "keep": 1.0}
    if problem or submitted is None:
        note = f"Late policy: not applied, graded without a late penalty ({problem or 'no submission time'})."
    elif due is None:
        note = "Late policy: the assignment has no due date, so no late penalty applies."
    else:
        hours = hours_late(submitted, due)
        step = late_step(steps, hours)
        info.update(hours_late=round(hours, 4), due=due.isoformat(), submitted=submitted.isoformat())
        when = f"Submitted {show_time(submitted)}"
        if hours <= 0:
            note = (f"Late policy: {when}, on time (due {show_time(due)}): no penalty; "
                    f"score {raw:g} of {raw:g} kept.")
        elif step is None:
            note = (f"Late policy: {when}, {hours:.1f} hours after the due date {show_time(due)}; no step of "
                    f"the policy applies yet: no penalty; score {raw:g} of {raw:g} kept.")
        else:
            info["keep"] = step.keep
            after = round(raw * step.keep, 6)
            note = (f"Late policy: {when}, {hours:.1f} hours after the due date {show_time(due)}. "
                    f"Step applied: {describe_step(step)}. Score {raw:g} before the penalty, {after:g} after.")
            data["score"] = after
        if late_due is not None and submitted > late_due:
            note += f" (This came after the late due date, {show_time(late_due)}.)"
    info["note"] = note
    output = data.get("output") or ""
    data["output"] = f"{output}\n{note}" if output else note
    data["extra_data"] = {**_extra(data), "late": info}
    return data


def next_graded_at(graded_times, now: datetime, limit: int):
    """When a graded submission is possible again, given the times of graded submissions, or None
    when one is possible `now` (fewer than `limit` in the 24 hours up to now)."""
    window = sorted(t for t in graded_times if now - timedelta(hours=24) < t <= now)
    if len(window) < limit:
        return None
    return window[len(window) - limit] + timedelta(hours=24)
