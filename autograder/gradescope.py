"""What runs on Gradescope: grade ROOT/submission with ROOT/source/bundle, write ROOT/results.

Whatever happens, a results.json is written, by this process only, after every child is gone,
with every test of the spec present. The template that forks the children is started first,
while this process holds no reference data (template.py); then, once the spec is read, a
results.json listing every test is written and the space for the real one reserved
(results.reserve_results), so that a submission filling the disk cannot make it unwritable.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from .results import Report, TestResult, format_table, reserve_results, write_results

__all__ = ["run"]


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


def run(root: Path) -> int:
    start = time.monotonic()
    results_path = root / "results" / "results.json"
    spec = None
    try:
        from .bundle import Bundle
        from .grade import grade_path
        from .template import prestart

        _lock_down(root)
        prestart()  # forked now, before the bundle is loaded: it never holds reference data
        bundle = Bundle(root / "source" / "bundle")
        spec = bundle.spec
        try:
            reserve_results(results_path, spec)
        except OSError as exc:  # grade anyway; the results are written at the end if they can be
            print(f"autograder: could not reserve space for {results_path}: {exc}", file=sys.stderr)
        report = grade_path(bundle, root / "submission", bundle.visibilities())
        print(format_table(report))
    except BaseException:
        traceback.print_exc()
        print("autograder: internal error; writing a results file that says so", file=sys.stderr)
        message = "The grader itself failed; this is not your fault. Please tell the course staff."
        tests = [TestResult(t, 0.0, message) for t in spec.tests] if spec else []
        report = Report(spec.name if spec else "?", spec.title if spec else "Autograder", tests,
                        time.monotonic() - start, [message])
    write_results(results_path, report, log=lambda msg: print(msg, file=sys.stderr))
    return 0
