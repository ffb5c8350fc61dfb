"""Test results, the Gradescope `results.json`, and the table people read in a terminal.

Each test of results.json carries `extra_data` for tools (the class report, grades.csv reasons):

    {"function": graded name of the test,
     "failure": null (passed) or {"kind", "type", "function", "case", "case_visibility"}
                (kinds: failures.FAILURE_KINDS; `function` is the one blamed, maybe not the test's),
     "diagnoses": [{"id": "mutant:<name>" or "pattern:<kind>", "function", "hint"}],
     "cases_passed": {"public": n, "hidden": m}}
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.failures import FAILURE_KINDS, Failure

__all__ = ["TestResult", "Report", "Failure", "FAILURE_KINDS", "write_json_atomic", "gradescope_visibility",
           "format_table", "ADVISORY_NOTE", "reserve_results", "write_results", "NOT_FINISHED",
           "cannot_start_results"]

MAX_TEST_OUTPUT = 12_000
ADVISORY_NOTE = "(Advisory check: reported so that you can fix it, but it counts for no points.)"


def gradescope_visibility(visibility: str, hidden_visibility: str = "after_published") -> str:
    """What Gradescope is told about a test: public tests are `visible`; hidden ones follow the
    assignment's `policy.hidden_visibility`."""
    return "visible" if visibility == "public" else hidden_visibility
NOT_FINISHED = ("Not graded: the grade stopped before it could write its results (it was interrupted, or ran out "
                "of time or disk space). This is not your fault; please tell the course staff.")


@dataclass
class TestResult:
    test: object  # spec.Test
    score: float
    output: str = ""
    elapsed: float = 0.0
    cases_run: int = 0
    ok: bool = False  # every case passed (what decides an advisory test, which has no points)
    failure: Failure | None = None  # why it failed (None when it passed, or not known)
    diagnoses: list = field(default_factory=list)  # {"id", "function", "hint"} per diagnosis
    cases_passed: dict = field(default_factory=lambda: {"public": 0, "hidden": 0})

    @property
    def max_score(self) -> float:
        return self.test.points

    @property
    def passed(self) -> bool:
        if getattr(self.test, "advisory", False):
            return self.ok
        return self.score >= self.test.points

    def extra_data(self) -> dict:
        failure = None
        if not self.passed:
            failure = (self.failure or Failure("other", function=self.test.graded)).to_dict()
        return {"function": self.test.graded, "failure": failure,
                "diagnoses": [dict(d) for d in self.diagnoses],
                "cases_passed": {v: int(self.cases_passed.get(v, 0)) for v in ("public", "hidden")}}

    def to_gradescope(self, number: int, hidden_visibility: str = "after_published") -> dict:
        text = self.output if len(self.output) <= MAX_TEST_OUTPUT else self.output[:MAX_TEST_OUTPUT] + "\n... [cut]"
        return {
            "name": self.test.name,
            "number": str(number),
            "score": round(min(max(self.score, 0.0), self.max_score), 6),
            "max_score": self.max_score,
            "status": "passed" if self.passed else "failed",
            "output": text,
            "visibility": gradescope_visibility(self.test.visibility, hidden_visibility),
            "execution_time": round(self.elapsed, 3),
            "extra_data": self.extra_data(),
        }


@dataclass
class Report:
    assignment: str
    title: str
    results: list
    elapsed: float = 0.0
    notes: list = field(default_factory=list)
    hidden_visibility: str = "after_published"  # the spec's policy.hidden_visibility

    @property
    def score(self) -> float:
        return sum(min(max(r.score, 0.0), r.max_score) for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)

    def to_gradescope(self) -> dict:
        lines = [f"{self.title}: {self.score:g} / {self.max_score:g} points."]
        lines += self.notes
        return {
            "score": round(self.score, 6),
            "execution_time": round(self.elapsed, 3),
            "output": "\n".join(lines),
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [r.to_gradescope(i + 1, self.hidden_visibility) for i, r in enumerate(self.results)],
        }


def write_json_atomic(path, data: dict) -> None:
    """Write JSON so that a reader sees the old file or the whole new one, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


CANNOT_START = ("Not graded: the autograder could not start (see its log). This is not your fault; please tell "
                "the course staff.")


def cannot_start_results(spec) -> bytes:
    """The results.json run_autograder copies when the grader could not even start: every test of
    `spec` listed, scored 0 (shipped in the grader zip, written at build time)."""
    report = Report(spec.name, spec.title, [TestResult(t, 0.0, CANNOT_START) for t in spec.tests], 0.0, [CANNOT_START])
    return (json.dumps(report.to_gradescope(), indent=2) + "\n").encode()


def _reserve_path(path: Path) -> Path:
    return path.parent / f".{path.name}.reserve"


def reserve_results(path, spec) -> Path:
    """At the start of a grade: write a results file at `path` that lists every test of `spec`
    (scored 0, "not graded"), and reserve beside it the space the real one can take (each test's
    output at its longest, every character escaped): a submission that fills the disk cannot make
    the final results unwritable. Returns the reserve file, for `write_results`."""
    path = Path(path)
    write_json_atomic(path, Report(spec.name, spec.title, [TestResult(t, 0.0, NOT_FINISHED) for t in spec.tests],
                                   0.0, [NOT_FINISHED]).to_gradescope())
    size = (64 << 10) + len(spec.tests) * (12 * MAX_TEST_OUTPUT + 4096)  # a character outside the BMP: 12 bytes
    reserve = _reserve_path(path)
    with open(reserve, "wb") as f:
        try:
            os.posix_fallocate(f.fileno(), 0, size)
        except OSError:  # a file system without fallocate: write the bytes
            f.write(bytes(size))
        f.flush()
        os.fsync(f.fileno())
    return reserve


def write_results(path, data: dict, log=None) -> None:
    """At the end of a grade: free the reserve, then write `data` (Gradescope results) atomically. If even that fails,
    write it again with each test's output cut short (the scores are what must survive); failing
    that too, the file `reserve_results` wrote (every test listed, "not graded") stays."""
    path = Path(path)
    try:
        os.unlink(_reserve_path(path))
    except OSError:
        pass
    try:
        write_json_atomic(path, data)
        return
    except OSError as exc:
        problem = f"could not write {path} ({exc})"
    for test in data["tests"]:
        test["output"] = test["output"][:300] + f"\n... [cut: the grader {problem}]"
    try:
        write_json_atomic(path, data)
    except OSError as exc:
        problem += f", nor a shorter version ({exc})"
    if log is not None:
        log(f"autograder: {problem}")


def format_table(report: Report, width: int = 100, verbose: bool = False) -> str:
    """A plain-text table: one row a test (under a failed one, the first line of its message, or
    with `verbose` the whole message), then the notes and the score."""
    rows = []
    name_w = min(max((len(r.test.name) for r in report.results), default=10), width - 24)
    for r in report.results:
        mark = "PASS" if r.passed else "FAIL"
        name = r.test.name if len(r.test.name) <= name_w else r.test.name[: name_w - 3] + "..."
        points = "advisory" if getattr(r.test, "advisory", False) else f"{min(r.score, r.max_score):>5g} / {r.max_score:<5g}"
        rows.append(f"{mark}  {name:<{name_w}}  {points}")
        if not r.passed and r.output and verbose:
            rows += ["      " + line for line in r.output.strip().splitlines()]
        elif not r.passed and r.output:
            first = r.output.strip().splitlines()[0]
            rows.append("      " + (first if len(first) <= width - 6 else first[: width - 9] + "..."))
    rows.append("")
    for note in report.notes:
        rows.append(note)
    rows.append(f"Score: {report.score:g} / {report.max_score:g}   ({report.elapsed:.1f} s)")
    return "\n".join(rows)
