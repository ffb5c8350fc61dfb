"""A call that watches the arrays it was given: did it write into them?

    results, seen = watch(lambda: m.rnn_backward(dh, cache), cache=cache)

`seen` holds, for every array inside each watched value, a copy taken before the call under
`<path>.before` and the same array after it under `<path>.after` (paths as `kit.leaves` names
them: `cache[0].before`, `grads['W'].after`). A test of kind `unchanged` compares each pair.
"""

from __future__ import annotations

import numpy as np

from autograder.kit.arrays import is_tensor, leaves

__all__ = ["watch", "MISSING"]

MISSING = np.full(1, np.nan)  # stands in for an array the call removed from a watched container


def _copy(arr):
    return arr.detach().clone() if is_tensor(arr) else arr.copy()


def watch(call, **values):
    """Run `call()` and return `(its result, {path.before / path.after: array})`.

    Each keyword names one watched value (the name starts the paths). An array the call removed
    from a watched container reports `MISSING` (one NaN) as its `.after`, which never matches.
    """
    before = [(path, _copy(arr)) for root, value in values.items() for path, arr in leaves(value, root)]
    result = call()
    after = {}
    for root, value in values.items():
        after.update(leaves(value, root))
    seen = {}
    for path, arr in before:
        seen[path + ".before"] = arr
        seen[path + ".after"] = after.get(path, MISSING)
    return result, seen
