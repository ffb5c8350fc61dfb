"""`autograder check [NAME ...]`: everything `autograder build` validates, writing no zips.

Each assignment is validated by build/validate.py's `validate_assignment` (the very function the
build runs), in a scratch folder removed afterwards, collecting every problem instead of stopping
at the first. One line per assignment: `NAME: OK (...)`, or `NAME: FAILED (n problems)` followed
by the problems, indented, each saying what to do.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from autograder.build.processes import run_each, torch_first
from autograder.build.validate import Validation, validate_assignment
from autograder.core.errors import AutograderError

__all__ = ["check_assignment", "check_many", "format_result"]


def check_assignment(repo, name: str) -> tuple[Validation, float]:
    """Validate `name` as the build does; return what was found and the seconds it took."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"autograder-check-{name}-") as tmp:
        found = validate_assignment(repo, name, Path(tmp), fail_fast=False)
    return found, time.monotonic() - start


def format_result(found: Validation, seconds: float) -> str:
    if found.ok:
        return f"{found.name}: OK ({found.summary()}; checked in {seconds:.1f} s)"
    n = len(found.problems)
    lines = [f"{found.name}: FAILED ({n} problem{'' if n == 1 else 's'}; checked in {seconds:.1f} s)"]
    for text in found.problems:
        first, *rest = text.splitlines()
        lines.append(f"  - {first}")
        lines += [f"    {line.strip()}" for line in rest if line.strip()]
    return "\n".join(lines)


def check_many(repo, names: list[str], jobs: int = 1, log=print) -> list[str]:
    """Check each assignment, printing its result as soon as it is known; return the names that
    failed. With `jobs` > 1, that many at a time, each in its own `autograder check NAME` process
    (results then print in the order they finish). No names: every assignment of the repository."""
    names = list(names) or repo.names()
    for name in names:
        repo.assignment_dir(name)  # an unknown name is an error before anything starts
    if not names:
        raise AutograderError(f"{repo.root}: no assignments to check (assignments/*/assignment.yaml)")
    if jobs < 1:
        raise AutograderError(f"--jobs {jobs}: give at least 1")
    if jobs > 1 and len(names) > 1:
        return run_each(repo, torch_first(repo, names), lambda name: ["check", name, "--root", str(repo.root)], jobs)
    failed = []
    for name in names:
        found, seconds = check_assignment(repo, name)
        log(format_result(found, seconds))
        if not found.ok:
            failed.append(name)
    return failed
