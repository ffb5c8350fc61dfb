"""What runs on Gradescope: grade ROOT/submission with ROOT/source/bundle, write ROOT/results.

Whatever happens, a results.json is written, by this process only, after every child is gone,
with every test of the spec present. The assignment's `policy:` is applied with what Gradescope
writes to ROOT/submission_metadata.json: `created_at` (this submission's time),
`assignment.due_date` and `assignment.late_due_date` for the late penalty, and
`previous_submissions` (each with `submission_time` and its `results`) for the daily limit.
Missing or malformed metadata never costs a student anything: the submission is graded, without
penalty or limit, and the results' output says why.
The template that forks the children is started first,
while this process holds no reference data (template.py); then, once the spec is read, a
results.json listing every test is written and the space for the real one reserved
(results.reserve_results), so that a submission filling the disk cannot make it unwritable.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from autograder.spec.policy import apply_late, next_graded_at, parse_time, show_time
from autograder.grading.results import Report, TestResult, format_table, reserve_results, write_results

__all__ = ["run", "read_metadata", "late_results", "rate_limited", "METADATA_FILE", "LIMITED_PREFIX"]

METADATA_FILE = "submission_metadata.json"
LIMITED_PREFIX = "Not graded (daily limit):"


def _lock_down(root: Path) -> None:
    """As root: grader code, reference data and results are not readable by the sandbox user."""
    if os.geteuid() != 0:
        return
    for folder in (root / "source", root / "results"):
        try:
            folder.mkdir(exist_ok=True)
            os.chmod(folder, 0o700)
        except OSError:
            pass


def read_metadata(root: Path) -> tuple[dict | None, str]:
    """ROOT/submission_metadata.json as a mapping, or (None, why it cannot be used)."""
    path = Path(root) / METADATA_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{METADATA_FILE} is missing"
    except (OSError, ValueError) as e:
        return None, f"{METADATA_FILE} could not be read ({str(e).splitlines()[0][:80]})"
    if not isinstance(data, dict):
        return None, f"{METADATA_FILE} is not a JSON object"
    return data, ""


def _time(mapping, key: str, optional: bool = False):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if value is None:
        if optional:
            return None
        raise ValueError(f"{key} is missing")
    try:
        return parse_time(value)
    except ValueError as e:
        raise ValueError(f"{key}: {e}") from None


def late_results(results: dict, steps, meta: dict | None, problem: str = "") -> dict:
    """`results` with the late policy `steps` applied from the metadata (or a note why not)."""
    if meta is None:
        return apply_late(results, steps, None, None, problem=problem or "no submission metadata")
    try:
        submitted = _time(meta, "created_at")
        assignment = meta.get("assignment")
        if not isinstance(assignment, dict):
            raise ValueError("assignment is missing")
        due = _time(assignment, "due_date", optional=True)
        late_due = _time(assignment, "late_due_date", optional=True)
    except ValueError as e:
        return apply_late(results, steps, None, None, problem=f"{METADATA_FILE}: {e}")
    return apply_late(results, steps, due, submitted, late_due)


def _was_graded(entry: dict) -> bool:
    results = entry.get("results")
    if not isinstance(results, dict):
        return True
    extra = results.get("extra_data")
    if isinstance(extra, dict) and extra.get("rate_limited"):
        return False
    return not str(results.get("output", "")).startswith(LIMITED_PREFIX)


def rate_limited(limit: int, meta: dict | None, problem: str = "") -> tuple[dict | None, str]:
    """(results to write instead of grading, "") when this submission is over the daily limit of
    graded submissions; (None, note for the output) when it is graded."""
    if meta is None:
        return None, f"Daily limit: not applied ({problem or 'no submission metadata'}); this submission is graded."
    try:
        now = _time(meta, "created_at")
        previous = meta.get("previous_submissions") or []
        if not isinstance(previous, list):
            raise ValueError("previous_submissions is not a list")
    except ValueError as e:
        return None, f"Daily limit: not applied ({METADATA_FILE}: {e}); this submission is graded."
    graded = []
    for entry in previous:
        if isinstance(entry, dict) and _was_graded(entry):
            try:
                when = _time(entry, "submission_time")
            except ValueError:
                continue
            if when <= now:
                graded.append((when, entry))
    graded.sort(key=lambda pair: pair[0])
    again = next_graded_at([when for when, _ in graded], now, limit)
    if again is None:
        used = sum(1 for when, _ in graded if (now - when).total_seconds() < 24 * 3600)
        return None, f"Daily limit: graded submission {used + 1} of {limit} in the last 24 hours."
    when, entry = graded[-1]
    results = entry.get("results")
    if not isinstance(results, dict) or not isinstance(results.get("tests"), list):
        return None, (f"Daily limit: over {limit} graded submissions in 24 hours, but the results of your "
                      "latest graded submission are not in the metadata, so this one is graded.")
    data = json.loads(json.dumps(results))
    if not isinstance(data.get("score"), (int, float)):
        data["score"] = entry.get("score", 0)
    note = (f"{LIMITED_PREFIX} you have had {limit} graded submission{'s' if limit != 1 else ''} in the last "
            f"24 hours, the most this assignment allows. The score and tests below are those of your graded "
            f"submission of {show_time(when.astimezone(now.tzinfo))}. A submission made after "
            f"{show_time(again.astimezone(now.tzinfo))} will be graded.")
    output = data.get("output") or ""
    data["output"] = f"{note}\n\n{output}" if output else note
    extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
    data["extra_data"] = {**extra, "rate_limited": True, "repeats": when.isoformat()}
    return data, ""


def _with_policy(data: dict, policy, meta, problem: str, limit_note: str) -> dict:
    try:
        if policy.late:
            data = late_results(data, policy.late, meta, problem)
    except Exception:  # a bug here must not cost the grade that was just computed
        traceback.print_exc()
        data["output"] = data.get("output", "") + "\nLate policy: not applied (internal error); no penalty."
    if limit_note:
        data["output"] = data.get("output", "") + "\n" + limit_note
    return data


def run(root: Path) -> int:
    start = time.monotonic()
    results_path = root / "results" / "results.json"
    spec = None
    try:
        from autograder.spec.bundle import Bundle
        from autograder.grading.grade import grade_path
        from autograder.sandbox.template import prestart

        _lock_down(root)
        prestart()  # forked now, before the bundle is loaded: it never holds reference data
        bundle = Bundle(root / "source" / "bundle")
        spec = bundle.spec
        try:
            reserve_results(results_path, spec)
        except OSError as exc:  # grade anyway; the results are written at the end if they can be
            print(f"autograder: could not reserve space for {results_path}: {exc}", file=sys.stderr)
        meta, problem = read_metadata(root)
        repeat, limit_note = None, ""
        if spec.policy.daily_limit:
            try:
                repeat, limit_note = rate_limited(spec.policy.daily_limit, meta, problem)
            except Exception:
                traceback.print_exc()
                limit_note = "Daily limit: not applied (internal error); this submission is graded."
        if repeat is not None:
            print(repeat["output"].splitlines()[0])
            data = repeat
        else:
            report = grade_path(bundle, root / "submission", bundle.visibilities())
            print(format_table(report))
            data = _with_policy(report.to_gradescope(), spec.policy, meta, problem, limit_note)
    except BaseException:
        traceback.print_exc()
        print("autograder: internal error; writing a results file that says so", file=sys.stderr)
        message = "The grader itself failed; this is not your fault. Please tell the course staff."
        tests = [TestResult(t, 0.0, message) for t in spec.tests] if spec else []
        report = Report(spec.name if spec else "?", spec.title if spec else "Autograder", tests,
                        time.monotonic() - start, [message],
                        hidden_visibility=spec.policy.hidden_visibility if spec else "after_published")
        data = report.to_gradescope()
    write_results(results_path, data, log=lambda msg: print(msg, file=sys.stderr))
    return 0
