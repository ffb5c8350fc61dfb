"""Exceptions the engine raises for problems a person has to fix."""

__all__ = ["AutograderError", "SpecError", "MarkerError", "SubmissionError", "BuildError", "ContractError"]


class AutograderError(Exception):
    """Base class: a problem with a clear message and no traceback worth showing."""


class SpecError(AutograderError):
    """An assignment spec is malformed; the message names the file and the key path."""


class MarkerError(AutograderError):
    """Solution markers are malformed; the message names the file and the line."""


class SubmissionError(AutograderError):
    """A submission cannot be read (missing files, broken zip, wrong names)."""


class BuildError(AutograderError):
    """A build was refused (the reference or the starter did not grade as required)."""


class ContractError(Exception):
    """Raised by a probe (in the sandboxed child) when the student's code breaks the contract in a
    way the probe can name (a missing parameter, a wrong attribute): its message is shown to the
    student as it is. Not an AutograderError: it describes the submission, not the course's files."""
