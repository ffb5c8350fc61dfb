"""Exceptions the engine raises for problems a person has to fix."""

__all__ = ["AutograderError", "SpecError", "MarkerError", "SubmissionError", "BuildError"]


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
