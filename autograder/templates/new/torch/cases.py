"""Case builders for `$name`: each makes the inputs of one case from a private generator.

`builder(rng, **params) -> {name: array}`; the parameters come from the case's entry in
assignment.yaml, and `rng` is seeded from the case's name, so every build gives the same bytes.
Arrays are numpy (float64, so tolerances can be tight); probes.py turns them into tensors.
An input named d<output> is the upstream gradient of that output.
"""

import numpy as np


def layer_norm(rng, N, D, scale=1.0, shift=0.0):
    """Rows of D features with an offset and a spread far from 0 and 1, so that a missing
    mean or variance shows; an upstream gradient for the backward pass."""
    return {"x": shift + scale * rng.standard_normal((N, D)),
            "gamma": 1.0 + 0.5 * rng.standard_normal(D),
            "beta": 0.5 * rng.standard_normal(D),
            "dout": rng.standard_normal((N, D))}
