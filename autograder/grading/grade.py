"""Grade one submission against a bundle: every test of the spec, each in its own child.

The grader never imports student code and never crashes on it: whatever happens in a child
becomes a failed test with a message, and every test of the spec is in the report.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.checks import CaseContext, case_failure, compared, diagnosable, run_check
from autograder.grading.failures import Failure, failure_kinds_with, hung_key, student_stack
from autograder.grading.diagnosis import diagnose
from autograder.grading.patterns import diagnose_patterns
from autograder.grading.results import ADVISORY_NOTE, Report, TestResult
from autograder.sandbox import tmpdirs
from autograder.sandbox.parent import Child, ChildJob, reap_pending, warm
from autograder.sandbox.template import sync
from autograder.spec.declared import for_test

__all__ = ["grade_files", "grade_path", "preload", "prepare_workdir", "GradeState"]


def preload(spec) -> None:
    """Have the framework (and the spec's `preload` modules) imported once, in the template that
    forks the children; the grader itself imports neither. Returns at once: the template imports
    while the grader prepares the grade."""
    warm((("torch",) if spec.framework == "torch" else ()) + tuple(spec.preload))


def prepare_workdir(files: dict, support_dir: Path, user: str | None = None) -> str:
    """A fresh folder with the submitted files and the support files, readable by the sandbox user.

    Its `__pycache__` folder is the one thing the sandbox user may write: the first child that
    imports a module there leaves its bytecode for the grade's later children (which then skip
    compiling it). Whatever a child writes there reaches only later children of the same grade,
    running the same submission as the same user (`user`, default the sandbox user, when grading
    as root); the grader never imports from the folder."""
    workdir = tempfile.mkdtemp(prefix="autograder-work-")
    try:
        for name, src in files.items():
            shutil.copyfile(src, os.path.join(workdir, name))
        if support_dir.is_dir():
            for item in sorted(support_dir.iterdir()):
                if item.is_file() and item.name not in files:
                    shutil.copyfile(item, os.path.join(workdir, item.name))
        os.chmod(workdir, 0o755)
        for entry in os.listdir(workdir):
            os.chmod(os.path.join(workdir, entry), stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
        bytecode = os.path.join(workdir, "__pycache__")
        os.mkdir(bytecode, 0o755)
        if os.geteuid() == 0:
            from autograder.sandbox.harden import sandbox_ids

            os.chown(bytecode, *sandbox_ids(user))
    except BaseException:
        tmpdirs.remove(workdir)
        raise
    return workdir


# Failures that are not the target's own doing: its hint would point at the wrong code.
_NOT_THE_TARGET = failure_kinds_with("elsewhere")


@dataclass
class GradeState:
    """What one grade knows and learns as it goes, test after test."""

    graded: frozenset  # (module, name) of every graded function or class of the spec
    hung: dict = field(default_factory=dict)  # (module, name) -> name of the test in which it hit its time limit
    waiting: object = None  # waiting(test, seconds): called while a test waits for its child


def _not_run(result, test, kind, text) -> TestResult:
    result.output = text
    result.failure = Failure(kind, function=test.graded)
    return result


def _diagnoses(bundle, test, ctx) -> list[dict]:
    """The catalogued mistakes whose outputs match what a failed case gave back; failing that,
    the patterns (patterns.py) its outputs show."""
    hints = bundle.hints()
    got = diagnosable(ctx) if hints else None
    found = []
    if got is not None:
        found = [{"id": f"mutant:{name}", "function": hints[name].get("function", test.graded),
                  "hint": hints[name]["hint"]} for name in diagnose(test, got, bundle.mutant_outputs(test.id, ctx.case))]
    if not found and ctx.outputs is not None:
        found = diagnose_patterns(test, ctx.outputs, compared(ctx), ctx.case, ctx.inputs)
    return found


def _run_test(test, bundle, workdir, visibilities, present, budget_deadline, log, state, user=None) -> TestResult:
    start = time.monotonic()
    spec = bundle.spec
    cases = spec.casesets[test.cases].select(visibilities)
    result = TestResult(test, 0.0)
    module_file = f"{test.module}.py"
    if module_file not in present:
        return _not_run(result, test, "missing_file", f"Not run: {module_file} is missing from your submission.")
    if time.monotonic() >= budget_deadline:
        return _not_run(result, test, "budget",
                        f"Not run: the whole grade used up its time budget of {spec.budget:g} s before this test; "
                        "make the slow functions faster (see the timings of earlier tests).")
    deadline = min(start + test.timeout, budget_deadline)
    job = ChildJob(workdir=workdir, probes_path=str(bundle.probes_path), modules=(test.module,),
                   limits=test.limits, timeout=test.timeout, banned=test.banned, user=user,
                   refuse=tuple(state.hung),
                   declared=for_test(spec, test))
    child = Child(job)
    if state.waiting is not None:
        child.on_wait = lambda: state.waiting(test, time.monotonic() - start)
    problem, passed_cases = None, []
    try:
        verify = bundle.verify_module() if test.check_kind.takes_verify else None
        for case in cases:
            ctx = CaseContext(child, test, case, bundle.inputs(test.cases, case), bundle.expected(test.id, case),
                              deadline, verify, budget=spec.budget if deadline == budget_deadline else None,
                              graded=state.graded, hung=state.hung)
            problem = run_check(ctx)
            result.cases_run += 1
            if problem:
                problem = f"On the {case.describe()}: {problem}"
                result.failure = case_failure(ctx)
                if result.failure.kind == "timeout":  # later tests that call what hung fail at once
                    key = hung_key(student_stack(ctx.failed_reply.stack), test, state.graded)
                    state.hung.setdefault(key, test.name)
                result.diagnoses = _diagnoses(bundle, test, ctx)
                problem += "".join(f"\nDiagnosis: {d['hint']}" for d in result.diagnoses)
                break
            result.cases_passed[case.visibility] += 1
            passed_cases.append(case.name)
    except Exception:  # a bug in the grader or in the assignment's verify code: never the student's fault
        log(f"internal error in test {test.id} ({test.name}):\n{traceback.format_exc()}")
        problem = ("The grader itself failed while running this test; this is not your fault. "
                   "Please tell the course staff.")
        result.failure = Failure("internal", function=test.graded)
    finally:
        child.close(wait=False)  # reaped before the next fork, or at the end of the grade
    if problem is None and not cases:
        problem = "This test has no cases to run here."
        result.failure = Failure("other", function=test.graded)
    lines = []
    if problem is None:
        result.score, result.ok = test.points, True
        lines.append(f"Passed {len(passed_cases)} case(s).")
    else:
        lines.append(problem)
        if passed_cases:
            lines.append(f"(Cases passed before this one: {', '.join(passed_cases)}.)")
        if test.hint and result.failure.kind not in _NOT_THE_TARGET:
            lines.append(f"Hint: {test.hint}")
    printed = child.printed().strip()
    if printed:
        lines.append("Your code printed:\n" + printed)
    if test.advisory:
        lines.append(ADVISORY_NOTE)
    result.output = "\n".join(lines)
    result.elapsed = time.monotonic() - start
    return result


def grade_files(bundle, files: dict, visibilities=("public", "hidden"), notes=(), tests=None,
                log=None, progress=None, hung=None, waiting=None, user=None) -> Report:
    """Grade the submitted files (name -> path) with every test of the bundle's spec.

    `visibilities` picks the cases ("public" only for a self-check); `tests` restricts to some test
    ids (the others are reported as not run); `progress(result)` is called after each test; `hung`
    ((module, name) -> test name, updated in place) carries the functions that hit a time limit
    from one call to the next (the self-check grades one test per call); `waiting(test, seconds)`
    is called about twice a second while a test waits for its child; `user` is the sandbox user
    children run as when grading as root (default: autograder-student).
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    spec = bundle.spec
    start = time.monotonic()
    preload(spec)
    budget_deadline = start + spec.budget
    state = GradeState(frozenset((t.module, t.graded) for t in spec.tests), hung if hung is not None else {}, waiting)
    results, workdir = [], None
    try:  # from here on, the workdir is removed however the grade ends
        workdir = prepare_workdir(files, bundle.support_dir, user)
        sync()  # the template has imported the framework (meanwhile): no test's time limit pays for it
        for test in spec.tests:
            if tests is not None and test.id not in tests:
                continue
            try:
                res = _run_test(test, bundle, workdir, visibilities, set(files), budget_deadline, log, state, user)
            except Exception:
                log(f"internal error around test {test.id}:\n{traceback.format_exc()}")
                res = TestResult(test, 0.0, "The grader itself failed on this test; this is not your fault. "
                                            "Please tell the course staff.",
                                 failure=Failure("internal", function=test.graded))
            results.append(res)
            if progress:
                progress(res)
    finally:
        reap_pending()  # every child and what it started is gone before the report exists
        tmpdirs.remove(workdir)
    return Report(spec.name, spec.title, results, time.monotonic() - start, list(notes),
                  hidden_visibility=spec.policy.hidden_visibility)


def grade_path(bundle, path, visibilities=("public", "hidden"), **kw) -> Report:
    """Locate the submitted files under `path`, then grade them; a bad submission still gets a report."""
    from autograder.core.errors import SubmissionError
    from autograder.grading.submission import locate

    try:
        located = locate(Path(path), bundle.spec.files)
    except SubmissionError as e:
        return grade_files(bundle, {}, visibilities, notes=[str(e)], **kw)
    try:
        return grade_files(bundle, located.files, visibilities, notes=located.notes, **kw)
    finally:
        located.cleanup()
