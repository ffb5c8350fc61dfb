"""Diagnosis by known mistakes: a failing test whose outputs match a mutant's recorded outputs
(within the test's tolerance, on every output) is that mistake. The catalog and the recording are
the build's (autograder.build.mutants); this is the part grading needs."""

from __future__ import annotations

import numpy as np

from autograder.grading.compare import compare

__all__ = ["ERROR_KEY", "error_signature", "diagnose"]

ERROR_KEY = "!error"  # output key under which a case's raised exception is recorded


def error_signature(error: dict):
    """An exception as a comparable array: its type and message, UTF-8 bytes."""
    text = f"{error.get('type')}: {error.get('message')}"
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def diagnose(test, got: dict, candidates: dict) -> list[str]:
    """Names of the mutants (name -> recorded outputs) whose every output matches `got`."""
    matched = []
    for name, outputs in candidates.items():
        if not outputs:
            continue
        if all(k in got and compare(k, got[k], exp, test.rtol, test.atol) is None for k, exp in outputs.items()):
            matched.append(name)
    return matched
