"""The full training run of the notebook, as a check you run yourself: `pytest test_training.py`.

About 7 s on one CPU thread. It is not part of your grade: Gradescope runs the first steps of the
same loop (lm_task.train) from weights it chose and compares every loss with the reference's. To
watch the loss fall, run `python lm_task.py transformer_layers.py`.
"""

import torch

import lm_task
import transformer_layers


def test_the_model_learns_the_sonnets():
    torch.set_num_threads(1)
    model = lm_task.build_model(transformer_layers, seed=0)
    losses = lm_task.train(model, seed=0)
    score = lm_task.evaluate(model)
    assert score < lm_task.THRESHOLD, (
        f"after {len(losses)} steps (training loss {losses[0]:.3f} -> {losses[-1]:.3f}) the cross-entropy of the "
        f"next character is {score:.3f} nats, but should be below {lm_task.THRESHOLD} (a correct model gets about "
        f"0.1; character frequencies alone give {lm_task.unigram_entropy():.2f}; a model whose positional "
        "encoding is missing or wrong typically ends near 0.4). Make the other tests pass first.")
