"""Property judges for `vit` that the kit's standard judges do not cover, run in the grader on
plain arrays. `judge(inputs, outputs, params) -> None | str` (None passes)."""

import numpy as np

from autograder.kit.judges import first_nonfinite, index_text


def rollout_share(inputs, outputs, params):
    """The rollout R[:, 0, 1:] is non-negative and sums to less than 1 per image (the rest,
    R[:, 0, 0], is the class token's own share)."""
    found = first_nonfinite(outputs, ["rollout"])
    if found:
        return f"'rollout' is not finite at {index_text(found[1])}"
    r = np.asarray(outputs["rollout"], dtype=np.float64)
    if (r < 0).any():
        i = np.unravel_index(int(np.argmin(r)), r.shape)
        return f"the rollout at {index_text(i)} is {r[i]:.9g}, but a share of the class token is never negative"
    sums = r.sum(axis=1)
    n = int(np.argmax(sums))
    if sums[n] >= 1:
        return (f"the patches' shares of image {n} sum to {sums[n]:.9g}, but they must leave the class token a "
                "share of its own (less than 1 in all): add the identity to each block's mean attention and "
                "renormalise the rows")
    return None
