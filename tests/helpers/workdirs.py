"""Workdirs for tests that fork children by hand (not through grade_files, which removes its own).

`prepare_workdir` is the engine's, with every folder it makes remembered; `remove_all` removes
them. The suite's conftest calls it after each test, and it also runs when the interpreter exits
(for tests that make children in an interpreter of their own)."""

import atexit

from autograder.grading import grade
from autograder.sandbox import tmpdirs

_made: list[str] = []


def prepare_workdir(*args, **kwargs) -> str:
    path = grade.prepare_workdir(*args, **kwargs)
    _made.append(path)
    return path


def remove_all() -> None:
    while _made:
        tmpdirs.remove(_made.pop())


atexit.register(remove_all)
