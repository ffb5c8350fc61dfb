"""What `grade-batch` reports: a Row per submission, grades.csv, histogram.png, the class report
(report.html, tests.csv, diagnoses.csv: see `report`), and the terminal summary.

A Row is read back from the Gradescope results of one submission (the ones just graded, or the
ones an earlier run left in OUT/results), so that a resumed run reports exactly like a fresh one.
grades.csv has a row a student: a group submission gives each of its students the group's score,
with the group named in the `group` column.
"""

from __future__ import annotations

import csv
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch import outcomes
from autograder.batch.inputs import Submission

__all__ = ["Row", "extra_data", "write_outputs", "write_csv", "write_histogram", "summary"]

MAX_ZERO_LINES = 20  # zeros listed with their reasons in the summary


def extra_data(results: dict) -> dict:
    """The `extra_data` mapping of Gradescope results; {} when it is missing or not a mapping."""
    extra = results.get("extra_data")
    return extra if isinstance(extra, dict) else {}


@dataclass
class Row:
    sub: Submission
    score: float
    max_score: float
    tests: dict = field(default_factory=dict)  # test name -> score
    error: str = ""  # why the submission was not graded; "" when it was
    graded_now: bool = True
    stale: bool = False  # graded earlier by another bundle
    raw_score: float | None = None  # before a late penalty (None: the score)
    hours_late: float | None = None  # None: no due date given, or no submission time
    reason: str = ""  # why it lost its points (grades.csv's `error` column); see outcomes.reason
    outcome: object = None  # outcomes.Outcome, what the class report is built from

    @classmethod
    def from_results(cls, sub: Submission, results: dict, graded_now: bool) -> "Row":
        """The row of `sub` from its Gradescope results; entries that are not mappings are ignored."""
        o = outcomes.read(results, sub.key)
        o.student, o.submission, o.members = sub.student, sub.submission, list(sub.members)
        late = extra_data(results).get("late")
        late = late if isinstance(late, dict) else {}
        return cls(sub, o.score, o.max_score, {t.name: t.score for t in o.tests}, o.not_graded, graded_now,
                   raw_score=late.get("raw_score"), hours_late=late.get("hours_late"),
                   reason=outcomes.reason(o), outcome=o)


def write_outputs(out: Path, rows: list, spec) -> None:
    """OUT/grades.csv and the class report for `rows`, and OUT/histogram.png of their scores when there is any."""
    from autograder.batch.class_report import write_report

    write_csv(out / "grades.csv", rows, spec)
    write_report(out, [r.outcome for r in rows], spec.title)
    if rows:
        scores = [r.score for r in rows]
        write_histogram(out / "histogram.png", scores, spec.max_score,
                        f"{spec.name}: {len(rows)} submissions, mean {statistics.mean(scores):.1f}")


def write_csv(path, rows: list, spec) -> None:
    """A row a student: who, their group, raw score and hours late (with --due), score, max, error
    (why points were lost), then a column a test of the spec (atomic write). Each student of a group
    submission gets the group's row."""
    path = Path(path)
    names = [t.name for t in spec.tests]
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "sid", "email", "group", "submission", "raw_score", "hours_late", "score", "max",
                    "error", *names])
        for r in rows:
            raw = r.score if r.raw_score is None else r.raw_score
            late = "" if r.hours_late is None else f"{r.hours_late:.2f}"
            for m in r.sub.members:
                w.writerow([m.name, m.sid, m.email, r.sub.group, r.sub.submission, f"{raw:g}", late, f"{r.score:g}",
                            f"{r.max_score:g}", r.reason, *(f"{r.tests.get(n, 0.0):g}" for n in names)])
    os.replace(tmp, path)


def write_histogram(path, scores: list, max_score: float, title: str) -> None:
    """A PNG of how many submissions scored what, in at most 20 bins from 0 to `max_score`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    bins = max(1, min(20, int(max_score) or 1))
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.hist(scores, bins=bins, range=(0, max_score or 1), color="#4C72B0", edgecolor="white")
    ax.set_xlabel(f"score (of {max_score:g})")
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def summary(rows: list, spec, top: int = 5) -> str:
    """Count, mean, median, extremes, full marks, failures, and the tests failed most often."""
    scores = [r.score for r in rows]
    now = sum(r.graded_now for r in rows)
    students = sum(len(r.sub.members) for r in rows)
    lines = [f"{spec.name}: {len(rows)} submissions ({now} graded now, {len(rows) - now} from earlier runs)"
             + (f", {students} students" if students != len(rows) else "")]
    if not rows:
        return lines[0]
    lines += [f"  score (of {spec.max_score:g}):  mean {statistics.mean(scores):.2f}   median "
              f"{statistics.median(scores):g}   min {min(scores):g}   max {max(scores):g}",
              f"  full marks: {sum(s >= spec.max_score for s in scores)}   not graded: {sum(bool(r.error) for r in rows)}"]
    failed = Counter(t.name for r in rows if not r.error
                     for t in spec.tests if r.tests.get(t.name, 0.0) < t.points)
    if failed:
        lines.append("  tests failed most often:")
        lines += [f"    {count:4d}  {name}" for name, count in failed.most_common(top)]
    zeros = [r for r in rows if r.error or r.score <= 0]
    if zeros:
        lines.append(f"  zero ({len(zeros)}), with the reason grades.csv gives:")
    for r in zeros[:MAX_ZERO_LINES]:
        what = "not graded" if r.error else "scored 0"
        lines.append(f"    {what}: {r.sub.student} ({r.sub.submission}): {r.reason.removeprefix('scored 0: ')}")
    if len(zeros) > MAX_ZERO_LINES:
        lines.append(f"    ... and {len(zeros) - MAX_ZERO_LINES} more (the `error` column of grades.csv)")
    return "\n".join(lines)
