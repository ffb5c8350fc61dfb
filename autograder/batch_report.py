"""What `grade-batch` reports: a Row per submission, grades.csv, histogram.png, the terminal summary.

A Row is read back from the Gradescope results of one submission (the ones just graded, or the
ones an earlier run left in OUT/results), so that a resumed run reports exactly like a fresh one.
"""

from __future__ import annotations

import csv
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .batch_inputs import Submission

__all__ = ["Row", "extra_data", "write_outputs", "write_csv", "write_histogram", "summary"]


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

    @classmethod
    def from_results(cls, sub: Submission, results: dict, graded_now: bool) -> "Row":
        """The row of `sub` from its Gradescope results; entries that are not mappings are ignored."""
        tests = [t for t in results.get("tests", []) if isinstance(t, dict)]
        late = extra_data(results).get("late")
        late = late if isinstance(late, dict) else {}
        return cls(sub, float(results.get("score", 0)), sum(float(t.get("max_score", 0)) for t in tests),
                   {t.get("name"): float(t.get("score", 0)) for t in tests},
                   str(extra_data(results).get("batch_error", "")), graded_now,
                   raw_score=late.get("raw_score"), hours_late=late.get("hours_late"))


def write_outputs(out: Path, rows: list, spec) -> None:
    """OUT/grades.csv for `rows`, and OUT/histogram.png of their scores when there is any."""
    write_csv(out / "grades.csv", rows, spec)
    if rows:
        scores = [r.score for r in rows]
        write_histogram(out / "histogram.png", scores, spec.max_score,
                        f"{spec.name}: {len(rows)} submissions, mean {statistics.mean(scores):.1f}")


def write_csv(path, rows: list, spec) -> None:
    """A row a submission: who, raw score and hours late (with --due), score, max, error, then a
    column a test of the spec (atomic write)."""
    path = Path(path)
    names = [t.name for t in spec.tests]
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "sid", "email", "submission", "raw_score", "hours_late", "score", "max", "error",
                    *names])
        for r in rows:
            raw = r.score if r.raw_score is None else r.raw_score
            late = "" if r.hours_late is None else f"{r.hours_late:.2f}"
            w.writerow([r.sub.student, r.sub.sid, r.sub.email, r.sub.submission, f"{raw:g}", late, f"{r.score:g}",
                        f"{r.max_score:g}", r.error, *(f"{r.tests.get(n, 0.0):g}" for n in names)])
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
    lines = [f"{spec.name}: {len(rows)} submissions ({now} graded now, {len(rows) - now} from earlier runs)"]
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
    for r in rows:
        if r.error:
            lines.append(f"  not graded: {r.sub.student} ({r.sub.submission}): {r.error}")
    return "\n".join(lines)
