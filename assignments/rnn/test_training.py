"""A training run, as a check you run yourself: `pytest test_training.py` (well under a second).

Adam on your CaptioningRNN's loss and gradients must memorise four random captions. It is not part
of your grade as such: Gradescope runs the same loop on sets it chose and compares the loss at every
step with the reference's (the test "CaptioningRNN: memorises a tiny captioning set").
"""

import numpy as np
import pytest

from captioning_rnn import CaptioningRNN


def tiny_set(rng, N=4, T=6, V=12, D=8):
    """N random captions of T words (between <START> and <END>) for N random feature vectors."""
    words = rng.integers(3, V, size=(N, T + 1))
    words[:, 0], words[:, -1] = 1, 2  # <START>, <END>
    word_to_idx = {"<NULL>": 0, "<START>": 1, "<END>": 2, **{f"w{i}": i for i in range(3, V)}}
    return rng.standard_normal((N, D)), words, word_to_idx


@pytest.mark.parametrize("cell_type", ["rnn", "lstm", "gru"])
def test_a_tiny_captioning_set_is_memorised(cell_type, steps=150, lr=0.02):
    rng = np.random.default_rng(0)
    features, captions, word_to_idx = tiny_set(rng)
    np.random.seed(0)  # CaptioningRNN draws its initial weights from np.random
    model = CaptioningRNN(word_to_idx, input_dim=features.shape[1], wordvec_dim=8, hidden_dim=16,
                          cell_type=cell_type, dtype=np.float64)
    moments = {name: (np.zeros_like(w), np.zeros_like(w)) for name, w in model.params.items()}
    losses = []
    for step in range(1, steps + 1):  # Adam, as the grader runs it
        loss, grads = model.loss(features, captions)
        losses.append(float(loss))
        for name, w in model.params.items():
            m1, m2 = moments[name]
            m1 = 0.9 * m1 + 0.1 * grads[name]
            m2 = 0.999 * m2 + 0.001 * grads[name] ** 2
            moments[name] = (m1, m2)
            size = lr * np.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step)
            model.params[name] = w - size * m1 / (np.sqrt(m2) + 1e-8)
    final, _ = model.loss(features, captions)
    assert final < 0.5, (
        f"{cell_type}: after {steps} Adam steps the loss went from {losses[0]:.4g} to {final:.4g}, but a model that "
        "can memorise four captions gets below 0.5. If it does not fall at all, check that loss() returns the "
        "gradients of the loss it reports (the gradient tests tell you which one is wrong).")
