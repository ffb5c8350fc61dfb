"""`autograder grade-batch`: grade a folder of submissions in parallel, resumably.

DIR holds one folder or `.zip` per student, or is a Gradescope "export submissions" folder
(`submission_<id>/` folders and `submission_metadata.yml`); `batch_inputs` finds them. Worker
processes forked from this one (`batch_workers`) each grade whole submissions with `grade_path`,
one after another; each is its own grader (a child subreaper forking one sandboxed child per test).
This process only hands out submissions, collects reports and writes (`batch_report`, `report`):
    OUT/results/<student>.json  the Gradescope results of each submission (`extra_data` also names
                                the submitters and what was found in the submission)
    OUT/grades.csv              a row a student: who, group, score, max, error (why points were
                                lost), a column a test
    OUT/report.html             the class report; OUT/tests.csv and OUT/diagnoses.csv, its numbers
    OUT/histogram.png           the distribution of scores
    OUT/batch.log               grader-side internal errors, if any
A worker that dies, or overruns its deadline, costs only the submission it was grading: that one
scores 0 with the error noted, and a fresh worker takes over. A rerun skips every submission that
already has results (a failed one is tried again) unless `force`, and warns about results that
another bundle graded (`extra_data.bundle` in each results file names the bundle). With `due`,
the assignment's late policy is applied from the export's submission times (`batch_late`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import deque
from pathlib import Path

from autograder.batch.inputs import METADATA, Submission, discover, print_warning
from autograder.batch.late import LatePolicy, late_info, remove_late
from autograder.batch.tables import Row, extra_data, summary, write_histogram, write_outputs
from autograder.batch.workers import WorkerPool
from autograder.core.errors import AutograderError
from autograder.grading.results import Report, TestResult, write_json_atomic

__all__ = ["Submission", "Row", "discover", "grade_batch", "grade_folder", "check_timeout", "summary", "write_histogram",
           "METADATA"]


def _not_graded(spec, reason: str) -> dict:
    """Gradescope results scoring every test 0, with "Not graded: <reason>." as the batch error."""
    message = f"Not graded: {reason}."
    report = Report(spec.name, spec.title, [TestResult(t, 0.0, message) for t in spec.tests], 0.0, [message])
    data = report.to_gradescope()
    data["extra_data"] = {"batch_error": message}
    return data


def _previous(path: Path):
    """The results a former run wrote for one submission, or None when absent, unreadable or failed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        return None
    return None if extra_data(data).get("batch_error") else data


def check_timeout(timeout) -> None:
    """Refuse a --timeout that is not a positive, finite number of seconds (0 and nan included)."""
    if timeout is not None and not 0 < timeout < float("inf"):
        raise AutograderError(f"--timeout {timeout:g}: give a positive number of seconds "
                              "(default: the assignment's budget + 60)")


def bundle_fingerprint(bundle) -> str:
    """A hash of every file of the bundle: results stamped with another one are stale."""
    h = hashlib.sha256()
    for path in sorted(p for p in bundle.root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(bundle.root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _relate(data: dict, late, sub, path: Path) -> dict:
    """Earlier results with this run's late policy (or none); rewritten when that changes them."""
    new = late.apply(sub, data) if late else remove_late(data)
    if late_info(new) != late_info(data):
        write_json_atomic(path, new)
    return new


def grade_batch(bundle, folder, out, jobs=None, force=False, visibilities=None, timeout=None,
                progress=None, warn=print_warning, due=None) -> list:
    """Grade every submission in `folder` into `out`; return one Row a submission, in folder order.

    `jobs` workers (default: the usable CPUs) grade in parallel; `timeout` seconds (default: the
    spec's budget + 60) bound one submission; `progress` shows a bar (default: when stderr is a TTY);
    `due` (an aware datetime) applies the spec's late policy to each submission's time.
    """
    spec, out = bundle.spec, Path(out)
    visibilities = tuple(visibilities or bundle.visibilities())
    check_timeout(timeout)
    timeout = spec.budget + 60 if timeout is None else timeout
    subs = discover(folder, exclude=[out], warn=warn)
    (out / "results").mkdir(parents=True, exist_ok=True)
    stamp = {"bundle": bundle_fingerprint(bundle), "visibilities": "+".join(visibilities)}
    late = LatePolicy(spec.policy.late, due, warn) if due is not None else None
    rows: dict[int, Row] = {}
    for i, sub in enumerate(subs):
        data = None if force else _previous(out / "results" / f"{sub.key}.json")
        if data is not None:
            data = _relate(data, late, sub, out / "results" / f"{sub.key}.json")
            rows[i] = Row.from_results(sub, data, graded_now=False)
            rows[i].stale = any(extra_data(data).get(k) != v for k, v in stamp.items())
    stale = sum(r.stale for r in rows.values())
    if stale:
        warn(f"{stale} results in {out / 'results'} were graded with another bundle or other cases (the "
             "assignment, its solution or the engine changed since); rerun with --force to regrade them")
    todo = deque(i for i in range(len(subs)) if i not in rows)
    try:
        if todo:
            _run(bundle, subs, visibilities, todo, rows, out, jobs, timeout, progress, stamp, warn, late)
    finally:  # also after an interrupt: what was graded is in the table
        done = [rows[i] for i in range(len(subs)) if i in rows]
        write_outputs(out, done, spec)
    return done


def grade_folder(open_bundle, folder, out, jobs=None, force=False, public_only=False, timeout=None,
                 due_text=None, progress=False) -> list:
    """`autograder grade-batch`: the arguments checked before anything starts, then grade_batch
    with the bundle `open_bundle()` returns; prints the summary and what was written."""
    from autograder.spec.policy import parse_time

    if jobs is not None and jobs < 1:
        raise AutograderError(f"--jobs {jobs}: give at least 1 worker")
    check_timeout(timeout)
    bundle = open_bundle()
    due = None
    if due_text:
        try:
            due = parse_time(due_text)
        except ValueError as e:
            raise AutograderError(f"--due: {e}") from None
    out = Path(out)
    rows = grade_batch(bundle, Path(folder), out, jobs=jobs, force=force,
                       visibilities=("public",) if public_only else None, timeout=timeout, due=due,
                       progress=True if progress else None)
    print(summary(rows, bundle.spec))
    print(f"wrote {out / 'report.html'}, {out / 'grades.csv'}, {out / 'tests.csv'}, {out / 'diagnoses.csv'}, "
          f"{out / 'histogram.png'} and {out / 'results'}/<student>.json")
    return rows


def _run(bundle, subs, visibilities, todo, rows, out, jobs, timeout, progress, stamp, warn, late=None) -> None:
    """Grade the submissions indexed in `todo` with `jobs` workers, filling `rows` and OUT/results."""
    from tqdm import tqdm

    spec = bundle.spec
    jobs = max(1, min(jobs or len(os.sched_getaffinity(0)), len(todo)))
    log_path = out / "batch.log"
    tqdm.monitor_interval = 0  # no monitor thread: this process forks

    def record(i: int, data: dict, logs=()) -> None:
        sub = subs[i]
        who = {"student": sub.student, "submission": sub.submission,
               "members": [[m.name, m.sid, m.email] for m in sub.members]}
        data["extra_data"] = {**(data.get("extra_data") or {}), **stamp, "submitter": who, "title": spec.title}
        if late is not None and not extra_data(data).get("batch_error"):
            data = late.apply(sub, data)
        write_json_atomic(out / "results" / f"{sub.key}.json", data)
        rows[i] = Row.from_results(sub, data, graded_now=True)
        if logs:
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(f"--- {sub.submission} ({sub.student})\n" + "\n".join(logs) + "\n")
        bar.update(1)
        bar.set_postfix(failed=sum(1 for r in rows.values() if r.error), refresh=False)

    with (WorkerPool(bundle, subs, visibilities, warn=warn) as pool,
          tqdm(total=len(todo), desc=f"grading {spec.name}", unit="sub", file=sys.stderr, dynamic_ncols=True,
               disable=None if progress is None else not progress) as bar):
        while todo or any(w.current is not None for w in pool.workers.values()):
            while todo and len(pool.workers) < jobs:
                pool.assign(pool.spawn(), todo.popleft())
            for w, msg in list(pool.poll(0.2)):
                if msg is None:  # the worker is gone
                    if w.pid in pool.workers:
                        how = pool.bury(w)
                        if w.current is not None:
                            record(w.current, _not_graded(spec, f"the grading process {how} "
                                                                "while grading this submission"))
                    continue
                if "results" in msg:
                    record(msg["i"], msg["results"], msg.get("log"))
                else:
                    record(msg["i"], _not_graded(spec, msg["error"]), msg.get("log"))
                w.current = None
                if todo:
                    pool.assign(w, todo.popleft())
                else:
                    pool.retire(w)
            now = time.monotonic()
            for w in list(pool.workers.values()):
                if w.current is not None and now - w.started > timeout:
                    pool.bury(w)  # w.current stays set: it is the submission lost
                    record(w.current, _not_graded(spec, f"grading took longer than {timeout:g} s "
                                                        "and was stopped"))
