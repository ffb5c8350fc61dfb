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
from pathlib import Path

from .checks import CaseContext, diagnosable, run_check
from .mutants import diagnose
from .results import Report, TestResult
from .sandbox import Child, ChildJob, reap_pending, warm
from .template import sync

__all__ = ["grade_files", "grade_path", "preload", "prepare_workdir"]


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
        from .harden import sandbox_ids

        os.chown(bytecode, *sandbox_ids(user))
    return workdir


def _run_test(test, bundle, workdir, visibilities, present, budget_deadline, log, user=None) -> TestResult:
    start = time.monotonic()
    spec = bundle.spec
    cases = spec.casesets[test.cases].select(visibilities)
    result = TestResult(test, 0.0)
    module_file = f"{test.module}.py"
    if module_file not in present:
        result.output = f"Not run: {module_file} is missing from your submission."
        return result
    if time.monotonic() >= budget_deadline:
        result.output = (f"Not run: the whole grade used up its time budget of {spec.budget:g} s before this test; "
                         "make the slow functions faster (see the timings of earlier tests).")
        return result
    deadline = min(start + test.timeout, budget_deadline)
    job = ChildJob(workdir=workdir, probes_path=str(bundle.probes_path), modules=(test.module,),
                   limits=test.limits, timeout=test.timeout, banned=test.banned, user=user)
    child = Child(job)
    problem, passed_cases = None, []
    try:
        verify = bundle.verify_module() if test.kind == "property" else None
        for case in cases:
            ctx = CaseContext(child, test, case, bundle.inputs(test.cases, case), bundle.expected(test.id, case),
                              deadline, verify, budget=spec.budget if deadline == budget_deadline else None)
            problem = run_check(ctx)
            result.cases_run += 1
            if problem:
                problem = f"On the {case.describe()}: {problem}"
                hints = bundle.hints()
                got = diagnosable(ctx) if hints else None
                if got is not None:
                    for name in diagnose(test, got, bundle.mutant_outputs(test.id, case)):
                        problem += f"\nDiagnosis: {hints[name]['hint']}"
                break
            passed_cases.append(case.name)
    except Exception:  # a bug in the grader or in the assignment's verify code: never the student's fault
        log(f"internal error in test {test.id} ({test.name}):\n{traceback.format_exc()}")
        problem = ("The grader itself failed while running this test; this is not your fault. "
                   "Please tell the course staff.")
    finally:
        child.close(wait=False)  # reaped before the next fork, or at the end of the grade
    if problem is None and not cases:
        problem = "This test has no cases to run here."
    lines = []
    if problem is None:
        result.score = test.points
        lines.append(f"Passed {len(passed_cases)} case(s).")
    else:
        lines.append(problem)
        if passed_cases:
            lines.append(f"(Cases passed before this one: {', '.join(passed_cases)}.)")
        if test.hint:
            lines.append(f"Hint: {test.hint}")
    printed = child.printed().strip()
    if printed:
        lines.append("Your code printed:\n" + printed)
    result.output = "\n".join(lines)
    result.elapsed = time.monotonic() - start
    return result


def grade_files(bundle, files: dict, visibilities=("public", "hidden"), notes=(), tests=None,
                log=None, progress=None, user=None) -> Report:
    """Grade the submitted files (name -> path) with every test of the bundle's spec.

    `visibilities` picks the cases ("public" only for a self-check); `tests` restricts to some test
    ids (the others are reported as not run); `progress(result)` is called after each test; `user`
    is the sandbox user children run as when grading as root (default: autograder-student).
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    spec = bundle.spec
    start = time.monotonic()
    preload(spec)
    budget_deadline = start + spec.budget
    workdir = prepare_workdir(files, bundle.support_dir, user)
    sync()  # the template has imported the framework (meanwhile): no test's time limit pays for it
    results = []
    try:
        for test in spec.tests:
            if tests is not None and test.id not in tests:
                continue
            try:
                res = _run_test(test, bundle, workdir, visibilities, set(files), budget_deadline, log, user)
            except Exception:
                log(f"internal error around test {test.id}:\n{traceback.format_exc()}")
                res = TestResult(test, 0.0, "The grader itself failed on this test; this is not your fault. "
                                            "Please tell the course staff.")
            results.append(res)
            if progress:
                progress(res)
    finally:
        reap_pending()  # every child and what it started is gone before the report exists
        shutil.rmtree(workdir, ignore_errors=True)
    return Report(spec.name, spec.title, results, time.monotonic() - start, list(notes))


def grade_path(bundle, path, visibilities=("public", "hidden"), **kw) -> Report:
    """Locate the submitted files under `path`, then grade them; a bad submission still gets a report."""
    from .errors import SubmissionError
    from .submission import locate

    try:
        located = locate(Path(path), bundle.spec.files)
    except SubmissionError as e:
        return grade_files(bundle, {}, visibilities, notes=[str(e)], **kw)
    try:
        return grade_files(bundle, located.files, visibilities, notes=located.notes, **kw)
    finally:
        located.cleanup()
