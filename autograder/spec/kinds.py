"""The kinds of test, declared once: what each takes in assignment.yaml and how it is run.

The spec loader checks a test's keys against its kind (a `forward:` only where `takes_forward`),
the build asks the reference's probe to send its inputs back where `returns_inputs`, and
grading/checks.py implements one check per kind (registered under the kind's name; importing it
fails when a kind here has none).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CheckKind", "CHECK_KINDS", "KINDS", "OUTPUTS", "GRADIENTS", "UNCHANGED", "PROPERTY", "check_kind",
           "kinds_with", "spoken"]


@dataclass(frozen=True)
class CheckKind:
    name: str
    summary: str  # one line: what a test of this kind checks
    outputs_required: bool = False  # points come only from the outputs named in `outputs:`, which it needs
    takes_verify: bool = False  # judged by a function of verify.py (`verify:`), in the grader
    takes_forward: bool = False  # may name a forward probe (`forward:`, `upstream:`) for a numerical check
    takes_trajectory: bool = False  # may name a `trajectory:` output, compared step by step
    returns_inputs: bool = False  # the probe's inputs come back after the call, to see they are unchanged
    label: str = ""  # how messages name an output: label + name ("d" + "x" for gradients)
    advisory: bool = False  # advisory (0 points) unless a test or `defaults.advisory_kinds` says otherwise


OUTPUTS = CheckKind("outputs", "every output (or those named) against the reference", takes_trajectory=True)
GRADIENTS = CheckKind("gradients", "the backward outputs against the reference, then against central "
                                   "differences of the student's own forward pass", takes_forward=True, label="d")
UNCHANGED = CheckKind("unchanged", "the named outputs match, then the inputs and snapshotted state are "
                                   "bit-for-bit unchanged", outputs_required=True, returns_inputs=True,
                      advisory=True)
PROPERTY = CheckKind("property", "the named outputs match, then a function of verify.py judges them",
                     outputs_required=True, takes_verify=True, takes_trajectory=True)

CHECK_KINDS = {k.name: k for k in (OUTPUTS, GRADIENTS, UNCHANGED, PROPERTY)}
KINDS = tuple(CHECK_KINDS)


def check_kind(name: str) -> CheckKind:
    return CHECK_KINDS[name]


def kinds_with(flag: str) -> tuple[str, ...]:
    """Names of the kinds whose `flag` is set, in declaration order."""
    return tuple(k.name for k in CHECK_KINDS.values() if getattr(k, flag))


def spoken(names, quote: str = "") -> str:
    """'a, b or c' (each name between `quote`s)."""
    names = [f"{quote}{n}{quote}" for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
