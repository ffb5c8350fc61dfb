"""Assignment `$name` (torch): the reference solution.

The student's starter (starter/$name/$name.py) is generated from this file by
`autograder starter $name`: the lines between the solution markers become
`raise NotImplementedError(...)`, everything else (imports, signatures, docstrings) is kept.
Autograd computes every backward pass. Replace the example below with the functions of your
assignment.
"""

import torch

__all__ = ["layer_norm"]


def layer_norm(x, gamma, beta, eps=1e-5):
    """Layer normalisation over the last axis, then a per-feature scale and shift.

        out = (x - mean(x)) / sqrt(var(x) + eps) * gamma + beta

    with the mean and the variance taken over the D features of each row.

    Args:
        x: tensor of shape (N, D).
        gamma, beta: tensors of shape (D,).
        eps: added to the variance before the square root.

    Returns:
        out: tensor of shape (N, D), of the dtype of x.

    The variance is the biased one (divide by D, not D - 1), as every normalisation layer uses.
    """
    # BEGIN SOLUTION
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, correction=0, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta
    # END SOLUTION
