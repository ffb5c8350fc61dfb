"""The class report: what a class got right and wrong, from the results of every submission.

    OUT/report.html     one self-contained page (report_html renders it)
    OUT/tests.csv       test, passed, failed, hidden_only
    OUT/diagnoses.csv   diagnosis, function, students, share

Only graded submissions count in the test and diagnosis figures (a submission the batch could not
grade says nothing about the tests); a group submission counts once. `hidden_only` counts the
submissions that passed a test's public cases and failed a hidden one: where the public cases
were too weak to warn the student. A diagnosis that one submission shows in the tests of several
functions (a pattern in rnn_step_backward is also seen in the functions that call it) counts once,
under the first of them in the spec's order, where the tests of a function come before those of
its callers; the others are listed beside it ("also seen in").
"""

from __future__ import annotations

import csv
import math
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch.outcomes import limits, load, reason
from autograder.core.errors import AutograderError
from autograder.grading.failures import failure_kinds_with

__all__ = ["TestStats", "DiagnosisStats", "FailureGroup", "ClassReport", "build", "write_csvs", "write_report",
           "report_folder"]

TOP_FAILURES = 20  # undiagnosed failure groups shown
KNOCK_ON = failure_kinds_with("knock_on")  # failures that follow from another function's: counted where they start
TOP_SLOWEST = 10
WHOLE_SUBMISSION = failure_kinds_with("whole_file")  # failures of every test of a file, not of a function
WHOLE = "(whole file)"


@dataclass
class TestStats:
    name: str
    function: str
    points: float
    public: bool
    passed: int = 0
    failed: int = 0
    hidden_only: int = 0


@dataclass
class DiagnosisStats:
    id: str  # "mutant:<name>" or "pattern:<kind>"
    function: str
    hint: str
    students: int
    share: float  # of graded submissions
    also: dict = field(default_factory=dict)  # function -> submissions where it also showed, counted here


@dataclass
class FailureGroup:
    function: str
    kind: str  # the failure's label: "exception (TypeError)", "wrong shape", "time limit", ...
    students: int
    share: float
    tests: list  # names of the tests it failed
    example: str  # the first line of one such test's output


@dataclass
class ClassReport:
    title: str
    max_score: float
    outcomes: list  # every submission, lowest score first
    graded: int
    students: int
    scores: list
    histogram: list  # [(low, high, count)], at most 20 bins from 0 to max_score
    tests: list = field(default_factory=list)
    diagnoses: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # the most common undiagnosed failures
    slowest: list = field(default_factory=list)
    limited: list = field(default_factory=list)  # [(outcome, Counter of (what, function) -> tests)]
    reasons: dict = field(default_factory=dict)  # outcome key -> reason (see outcomes.reason)

    def stat(self, name: str) -> float:
        """mean, median, min or max of the scores (0 when there are none)."""
        fn = {"mean": statistics.mean, "median": statistics.median, "min": min, "max": max}[name]
        return fn(self.scores) if self.scores else 0.0

    @property
    def full_marks(self) -> int:
        return sum(o.score >= self.max_score > 0 for o in self.outcomes)

    @property
    def zeros(self) -> int:
        return sum(o.score <= 0 for o in self.outcomes)

    @property
    def not_graded(self) -> int:
        return len(self.outcomes) - self.graded


def _histogram(scores: list, max_score: float) -> list:
    """Bins of a round width (1, 2, 5, 10, 20, 50, ... points) from 0 to `max_score`, at most 25 of
    them; the last one holds full marks."""
    top = max_score if max_score > 0 else 1.0
    width = next(w * 10 ** k for k in range(0 if top >= 5 else -3, 12) for w in (1, 2, 5) if top / (w * 10 ** k) <= 25)
    bins = max(1, math.ceil(top / width - 1e-9))
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, max(0, int(s / width)))] += 1
    return [(round(i * width, 9), round(min(top, (i + 1) * width), 9), n) for i, n in enumerate(counts)]


def _share(n: int, total: int) -> float:
    return n / total if total else 0.0


def build(outcomes: list, title: str = "") -> ClassReport:
    """Every figure of the report, from the Outcome of each submission."""
    graded = [o for o in outcomes if o.graded]
    max_score = max((o.max_score for o in outcomes), default=0.0)
    ordered = sorted(outcomes, key=lambda o: (o.score, o.student.casefold(), o.key))
    report = ClassReport(title or next((o.title for o in outcomes if o.title), ""), max_score, ordered, len(graded),
                         sum(len(o.members) for o in outcomes), [o.score for o in outcomes],
                         _histogram([o.score for o in outcomes], max_score),
                         reasons={o.key: reason(o) for o in outcomes})
    tests: dict[str, TestStats] = {}
    diagnosed: dict[tuple, set] = {}
    hints: dict[tuple, str] = {}
    failing: dict[tuple, set] = {}
    failing_tests: dict[tuple, list] = {}
    examples: dict[tuple, str] = {}
    also: dict[tuple, dict] = {}
    for o in graded:
        first: dict[str, str] = {}  # diagnosis id -> the function this submission's count goes to
        for t in o.tests:
            s = tests.setdefault(t.name, TestStats(t.name, t.function, t.max_score, t.public))
            s.passed += t.passed
            s.failed += not t.passed
            s.hidden_only += t.hidden_only
            for d in t.diagnoses:
                root = first.setdefault(d.id, d.function)
                diagnosed.setdefault((d.id, root), set()).add(o.key)
                hints.setdefault((d.id, root), d.hint)
                if d.function != root:
                    also.setdefault((d.id, root), {}).setdefault(d.function, set()).add(o.key)
            if t.failure is not None and not t.diagnoses and t.failure.kind not in KNOCK_ON:
                whole = t.failure.kind in WHOLE_SUBMISSION  # one line for the submission, not one per function
                group = (WHOLE if whole else t.failure.function, t.failure.label)
                failing.setdefault(group, set()).add(o.key)
                names = failing_tests.setdefault(group, [])
                if t.name not in names:
                    names.append(t.name)
                examples.setdefault(group, t.message)
    n = len(graded)
    report.tests = list(tests.values())
    report.diagnoses = sorted((DiagnosisStats(i, f, hints[i, f], len(keys), _share(len(keys), n),
                                              {g: len(k) for g, k in also.get((i, f), {}).items()})
                               for (i, f), keys in diagnosed.items()), key=lambda d: (-d.students, d.id, d.function))
    groups = sorted(failing.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP_FAILURES]
    report.failures = [FailureGroup(f, k, len(keys), _share(len(keys), n), failing_tests[f, k], examples[f, k])
                       for (f, k), keys in groups]
    report.slowest = sorted(graded, key=lambda o: (-o.elapsed, o.key))[:TOP_SLOWEST]
    report.limited = [(o, hit) for o in sorted(outcomes, key=lambda o: (o.student.casefold(), o.key))
                      if (hit := limits(o))]
    return report


def _write_rows(path: Path, header: list, rows) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def write_csvs(out, report: ClassReport) -> None:
    """OUT/tests.csv and OUT/diagnoses.csv: the report's numbers for a spreadsheet."""
    out = Path(out)
    _write_rows(out / "tests.csv", ["test", "passed", "failed", "hidden_only"],
                ([t.name, t.passed, t.failed, t.hidden_only] for t in report.tests))
    _write_rows(out / "diagnoses.csv", ["diagnosis", "function", "students", "share"],
                ([d.id, d.function, d.students, f"{d.share:.4f}"] for d in report.diagnoses))


def write_report(out, outcomes: list, title: str = "") -> ClassReport:
    """Write OUT/report.html, OUT/tests.csv and OUT/diagnoses.csv for `outcomes`; return the figures."""
    from autograder.batch.report_html import render

    out = Path(out)
    report = build(outcomes, title)
    write_csvs(out, report)
    tmp = out / ".report.html.tmp"
    tmp.write_text(render(report), encoding="utf-8")
    os.replace(tmp, out / "report.html")
    return report


def report_folder(out) -> ClassReport:
    """`autograder report`: the class report of the results in OUT/results (a grade-batch run's),
    written into OUT; prints what it found and wrote."""
    out = Path(out)
    results = out / "results"
    if not results.is_dir():
        raise AutograderError(f"{results}: no such folder (give the --out folder of a grade-batch run)")
    found = load(results)
    if not found:
        raise AutograderError(f"{results} holds no results files (run grade-batch with --out {out} first)")
    report = write_report(out, found)
    print(f"{len(found)} submissions, mean {report.stat('mean'):.2f} of {report.max_score:g}, "
          f"{len(report.diagnoses)} diagnoses")
    print(f"wrote {out / 'report.html'}, {out / 'tests.csv'} and {out / 'diagnoses.csv'}")
    return report
