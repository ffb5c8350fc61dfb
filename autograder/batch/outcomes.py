"""Graded results read back: one Outcome a submission, from the Gradescope results it got.

grades.csv, the summary and the class report are all built from results files, so that a report
of earlier results reads exactly like a fresh one. What a test failed on comes from its
`extra_data`: the kind of failure, the function blamed, the case and whether it was public or
hidden, and the diagnoses. A file written without it (by an older engine, or by hand) still reads:
its failures are of kind "other", blamed on the function the test's name starts with. Whatever a
results file holds, reading it never fails: values of the wrong type are ignored.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch.inputs import Member
from autograder.grading.failures import FAILURE_KIND, Failure, failure_kinds_with  # Failure: the record results hold

__all__ = ["Failure", "Diagnosis", "TestOutcome", "Outcome", "read", "load", "reason", "limits",
           "KIND_LABELS", "LIMIT_KINDS"]

# How each failure kind reads in a table or a sentence, and those that mean a limit was hit
# (declared with the kinds, in grading/failures.py).
KIND_LABELS = {k.name: k.label for k in FAILURE_KIND.values()}
LIMIT_KINDS = failure_kinds_with("limit")


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Diagnosis:
    id: str  # "mutant:<name>" or "pattern:<kind>"
    function: str
    hint: str = ""


@dataclass
class TestOutcome:
    name: str
    function: str  # the graded function or class the test is about
    score: float
    max_score: float
    public: bool  # shown to students at once (Gradescope "visible")
    elapsed: float
    message: str  # the first line of the test's output
    failure: Failure | None = None  # None when it passed
    diagnoses: tuple = ()

    @property
    def passed(self) -> bool:
        return self.failure is None

    @property
    def hidden_only(self) -> bool:
        """Failed on a hidden case, after every public case before it passed (public cases run first)."""
        return self.failure is not None and self.failure.case_visibility == "hidden"


@dataclass
class Outcome:
    key: str  # the results file's stem
    student: str
    submission: str
    members: list  # [Member]
    score: float
    max_score: float
    elapsed: float
    tests: list = field(default_factory=list)
    not_graded: str = ""  # why the batch could not grade it ("" when it did)
    problem: str = ""  # why the submission could not be read ("" when it could)
    missing: list = field(default_factory=list)  # expected files it lacks
    files: int = -1  # how many files it holds (-1: not recorded)
    notes: list = field(default_factory=list)  # what the student was told about missing files
    title: str = ""

    @property
    def graded(self) -> bool:
        return not self.not_graded


def _test(entry: dict) -> TestOutcome:
    extra = _mapping(entry.get("extra_data"))
    name = _text(entry.get("name"))
    function = _text(extra.get("function")) or name.split(":")[0].strip()
    score, max_score = _number(entry.get("score")), _number(entry.get("max_score"))
    output = _text(entry.get("output")).strip()
    failed = score < max_score or entry.get("status") == "failed"
    failure = None
    if failed:
        f = _mapping(extra.get("failure"))
        failure = Failure(_text(f.get("kind")) or "other", _text(f.get("type")),
                          _text(f.get("function")) or function, _text(f.get("case")), _text(f.get("case_visibility")))
    diagnoses = tuple(Diagnosis(_text(d.get("id")), _text(d.get("function")) or function, _text(d.get("hint")))
                      for d in extra.get("diagnoses") or () if isinstance(d, dict) and _text(d.get("id")))
    return TestOutcome(name, function, score, max_score, entry.get("visibility") == "visible",
                       _number(entry.get("execution_time")), output.splitlines()[0] if output else "",
                       failure, diagnoses)


def read(data, key: str = "") -> Outcome:
    """The Outcome of one submission's results (a parsed results.json); `key` names its file."""
    data = _mapping(data)
    extra = _mapping(data.get("extra_data"))
    who = _mapping(extra.get("submitter"))
    sub = _mapping(extra.get("submission"))
    members = [Member(*(_text(x) for x in m[:3])) for m in who.get("members") or ()
               if isinstance(m, list) and m and _text(m[0])]
    student = _text(who.get("student")) or " + ".join(m.name for m in members) or key
    tests = [_test(t) for t in data.get("tests") or () if isinstance(t, dict)]
    files = sub.get("files")
    return Outcome(key, student, _text(who.get("submission")) or key, members or [Member(student)],
                   _number(data.get("score")), sum(t.max_score for t in tests), _number(data.get("execution_time")),
                   tests, _text(extra.get("batch_error")), _text(sub.get("problem")),
                   [_text(m) for m in sub.get("missing") or () if _text(m)],
                   files if isinstance(files, int) and not isinstance(files, bool) else -1,
                   [_text(n) for n in sub.get("notes") or () if _text(n)], _text(extra.get("title")))


def load(folder, warn=None) -> list:
    """The Outcome of every `*.json` results file in `folder`, by file name; unreadable ones are skipped
    with a warning."""
    warn = warn or (lambda msg: print(f"warning: {msg}", file=sys.stderr))
    found = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            warn(f"{path} could not be read ({type(e).__name__}); left out of the report")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
            warn(f"{path} is not Gradescope results (no list of tests); left out of the report")
            continue
        found.append(read(data, path.stem))
    return found


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def reason(o: Outcome) -> str:
    """Why the submission lost its points, in one line, for grades.csv's `error` column: why it was
    not graded or could not be read, the files it lacks, or (for a zero) what its tests failed on.
    "" for a submission that was read and scored above zero."""
    if o.not_graded:
        return o.not_graded
    if o.problem:
        return _cut(o.problem)
    if o.missing and o.files == 0:
        return f"empty submission: it holds no files (expected {', '.join(o.missing)})"
    if o.missing:
        return _cut(" ".join(o.notes) or f"missing file: {', '.join(o.missing)}")
    failed = [t for t in o.tests if not t.passed]
    if o.score > 0 or not failed:
        return ""
    kinds = Counter(t.failure.label for t in failed)
    what = ", ".join(label if n == len(failed) else f"{label}: {n}" for label, n in kinds.most_common(3))
    what = "" if what == KIND_LABELS["other"] else f" ({what}{', ...' if len(kinds) > 3 else ''})"
    every = "all" if len(failed) == len(o.tests) else f"{len(failed)} of {len(o.tests)}"
    return _cut(f"scored 0: {every} tests failed{what}; first: {failed[0].name}: {failed[0].message}")


def limits(o: Outcome) -> Counter:
    """(what, function) -> tests, for each limit the submission hit: a time limit, the time budget,
    a process that died, memory; ("not graded", "") when the batch itself had to stop it."""
    hit = Counter()
    if o.not_graded:
        hit["not graded", ""] += 1
    for t in o.tests:
        f = t.failure
        if f is not None and (f.kind in LIMIT_KINDS or f.type == "MemoryError"):
            hit[KIND_LABELS.get(f.kind, f.kind) if f.type != "MemoryError" else "memory", f.function] += 1
    return hit
