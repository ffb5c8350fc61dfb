"""Case builders for `$name`: each makes the inputs of one case from a private generator.

`builder(rng, **params) -> {name: array}`; the parameters come from the case's entry in
assignment.yaml, and `rng` is seeded from the case's name, so every build gives the same bytes.
Inputs are float64 so that the numerical gradient check is exact enough.
"""

import numpy as np


def softmax_loss(rng, N, C, scale=1.0):
    """Scores of N examples over C classes and their labels; a large `scale` makes a naive
    exp overflow."""
    return {"x": scale * rng.standard_normal((N, C)),
            "y": rng.integers(0, C, size=N).astype(np.int64)}
