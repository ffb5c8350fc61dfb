"""autograder.kit: the public API for assignment authors.

Assignments import nothing from the engine but this package. Its modules:
    judges   standard judges for property tests, run in the grader on plain arrays
    optim    Adam, written out (numpy adam_step, torch Adam)
    torch    torch helpers for probes (imports torch): tensors, strict loading, scalar backward,
             gradients by name, pinned dropout
"""

from autograder.core.errors import ContractError

__all__ = ["ContractError"]
