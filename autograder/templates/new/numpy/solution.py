"""Assignment `$name` (numpy): the reference solution.

The student's starter (starter/$name/$name.py) is generated from this file by
`autograder starter $name`: the lines between the solution markers become
`raise NotImplementedError(...)`, everything else (imports, signatures, docstrings) is kept.
Replace the example below with the functions of your assignment.
"""

import numpy as np

__all__ = ["softmax_loss"]


def softmax_loss(x, y):
    """Softmax cross-entropy loss, averaged over the batch, and its gradient.

    Args:
        x: scores, shape (N, C); x[i, j] is the score of class j for example i.
        y: labels, shape (N,), integers in [0, C).

    Returns:
        loss: the mean over the batch of -log softmax(x[i])[y[i]] (a float).
        dx: the gradient of loss with respect to x, shape (N, C).

    Subtract each row's maximum before exponentiating: exp(1000) overflows, and the
    softmax does not change when a row is shifted.
    """
    # BEGIN SOLUTION
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].sum() / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1.0
    dx /= N
    return loss, dx
    # END SOLUTION
