"""pytest plugin for the student self-check: public tests, run through the grading engine.

The starter's conftest.py loads this plugin; test_selfcheck.py parametrizes over
`public_tests(__file__)`. After the run, a summary shows points earned per function.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .bundle import Bundle
from .grade import grade_files

__all__ = ["public_tests", "SelfCheck"]

_BUNDLE_DIR = "selfcheck"
_EARNED: dict = {}


def _bundle_for(anchor) -> Bundle:
    folder = Path(anchor).resolve().parent
    return Bundle(folder / _BUNDLE_DIR)


def public_tests(anchor) -> list:
    """The public tests of the bundle next to `anchor` (the test file), in spec order."""
    return [t for t in _bundle_for(anchor).spec.tests if t.visibility == "public"]


class SelfCheck:
    """Runs one public test at a time on the student's files in the starter folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.bundle = Bundle(folder / _BUNDLE_DIR)

    def check(self, test) -> None:
        spec = self.bundle.spec
        files = {f: self.folder / f for f in spec.files if (self.folder / f).is_file()}
        report = grade_files(self.bundle, files, ("public",), tests={test.id})
        result = report.results[0]
        earned, possible = _EARNED.get(test.graded, (0.0, 0.0))
        _EARNED[test.graded] = (earned + min(result.score, result.max_score), possible + result.max_score)
        if not result.passed:
            pytest.fail(result.output, pytrace=False)


_CHECKERS: dict = {}


@pytest.fixture
def selfcheck(request) -> SelfCheck:
    """The self-check of the starter folder that holds the requesting test file."""
    folder = Path(str(request.path)).resolve().parent
    if not (folder / _BUNDLE_DIR / "assignment.json").is_file():
        raise pytest.UsageError(f"no {_BUNDLE_DIR}/ folder next to {request.path}; unzip the starter again")
    if folder not in _CHECKERS:
        _CHECKERS[folder] = SelfCheck(folder)
    return _CHECKERS[folder]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _EARNED:
        return
    tr = terminalreporter
    tr.section("self-check points (public tests)")
    width = max(len(k) for k in _EARNED)
    total_e = total_p = 0.0
    for name, (earned, possible) in _EARNED.items():
        tr.write_line(f"{name:<{width}}  {earned:>5g} / {possible:g}")
        total_e += earned
        total_p += possible
    tr.write_line(f"{'total':<{width}}  {total_e:>5g} / {total_p:g}")
