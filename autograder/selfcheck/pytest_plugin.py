"""pytest plugin for the student self-check: public tests, run through the grading engine.

The starter's conftest.py loads this plugin; test_selfcheck.py parametrizes over
`public_tests(__file__)`. While a check waits for the student's code, a line every few seconds
says it is still running (and against which time limit); a function that hit its time limit
fails the later checks that call it at once, for the rest of the run. After the run, a summary
shows points earned per function, and lists by title the tests that run only on Gradescope.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.spec.bundle import Bundle
from autograder.grading.grade import grade_files

__all__ = ["public_tests", "SelfCheck"]

_BUNDLE_DIR = "selfcheck"
_EARNED: dict = {}
_ONLY_ON_GRADESCOPE: dict = {}  # starter folder -> [(test name, points)]
PROGRESS_EVERY = 5.0  # seconds between "still running" lines


def _bundle_for(anchor) -> Bundle:
    folder = Path(anchor).resolve().parent
    return Bundle(folder / _BUNDLE_DIR)


def public_tests(anchor) -> list:
    """The public tests of the bundle next to `anchor` (the test file), in spec order."""
    return [t for t in _bundle_for(anchor).spec.tests if t.visibility == "public"]


class SelfCheck:
    """Runs one public test at a time on the student's files in the starter folder."""

    def __init__(self, folder: Path, say=None):
        self.folder = folder
        self.bundle = Bundle(folder / _BUNDLE_DIR)
        self.hung: dict = {}  # what hit its time limit in this run, for the later checks
        self.say = say or (lambda line: None)
        self._said = 0.0
        _ONLY_ON_GRADESCOPE[folder] = self.bundle.gradescope_only()

    def _waiting(self, test, seconds: float) -> None:
        if seconds >= self._said + PROGRESS_EVERY:
            self._said = seconds
            self.say(f"    ... {test.name}: still running after {seconds:.0f} s (time limit {test.timeout:g} s)")

    def check(self, test) -> None:
        spec = self.bundle.spec
        files = {f: self.folder / f for f in spec.files if (self.folder / f).is_file()}
        self._said = 0.0
        report = grade_files(self.bundle, files, ("public",), tests={test.id}, hung=self.hung, waiting=self._waiting)
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
        _CHECKERS[folder] = SelfCheck(folder, _terminal_line(request.config))
    return _CHECKERS[folder]


def _terminal_line(config):
    """Write one line to the terminal now, even while pytest captures the test's output."""
    def say(line: str) -> None:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        if capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(line)
        else:
            reporter.write_line(line)
    return say


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _EARNED:
        return
    tr = terminalreporter
    _summary_of_points(tr)
    only = [row for rows in _ONLY_ON_GRADESCOPE.values() for row in rows]
    if only:
        tr.section("runs only on Gradescope (hidden tests)")
        for name, points in only:
            tr.write_line(f"{name}  ({points:g} point{'s' if points != 1 else ''})")
        tr.write_line(f"{len(only)} tests, {sum(p for _, p in only):g} points. The public tests above also run "
                      "hidden cases there (other shapes and seeds).")


def _summary_of_points(tr) -> None:
    tr.section("self-check points (public tests)")
    width = max(len(k) for k in _EARNED)
    total_e = total_p = 0.0
    for name, (earned, possible) in _EARNED.items():
        tr.write_line(f"{name:<{width}}  {earned:>5g} / {possible:g}")
        total_e += earned
        total_p += possible
    tr.write_line(f"{'total':<{width}}  {total_e:>5g} / {total_p:g}")
