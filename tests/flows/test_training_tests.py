"""The training tests (a trajectory of the assignment's own loop against the reference's) still fail
the models the from-scratch runs were there to fail, and toy_task's Adam is torch's.

Each model below is the reference with one edit; only its training test is graded. A model that
leaks the future, skips the positional encoding or mis-orders the LSTM gates computes another loss
before any update, so it departs at step 1; the rnn edit that breaks only gradients departs at 2.
"""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from autograder.grading.grade import grade_files

from tests.helpers.paths import ROOT

pytestmark = pytest.mark.slow  # builds the torch bundles

EDITS = [
    ("transformer", "leaks the future", "transformer_layers.py",
     "x = layer(x, src_mask=mask)  # (N, T, E)", "x = layer(x)  # (N, T, E)", 1),
    ("transformer", "skips the positional encoding", "transformer_layers.py",
     "x = self.positional_encoding(self.embedding(tokens))  # (N, T, E)", "x = self.embedding(tokens)  # (N, T, E)", 1),
    ("vit", "never adds pos_embed", "vit.py",
     "x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed",
     "x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)", 1),
    ("attention", "mis-orders the gates", "attention.py",
     "i, f, o, g = a.chunk(4, dim=1)", "i, f, g, o = a.chunk(4, dim=1)", 1),
    ("rnn", "mis-orders the gates", "rnn_layers.py",
     "o = sigmoid(a[:, 2 * H:3 * H])\n    g = np.tanh(a[:, 3 * H:4 * H])",
     "o = sigmoid(a[:, 3 * H:4 * H])\n    g = np.tanh(a[:, 2 * H:3 * H])", 1),
    ("rnn", "drops the gradient carried back in time", "rnn_layers.py",
     "rnn_step_backward(dh[:, t] + dprev_h, steps[t])", "rnn_step_backward(dh[:, t], steps[t])", 2),
]


@pytest.mark.parametrize("name, what, fname, old, new, step", EDITS, ids=[f"{e[0]}-{e[1]}" for e in EDITS])
def test_a_model_that_is_wrong_fails_its_training_test_at_the_step_that_shows_it(bundles, tmp_path, name, what,
                                                                                 fname, old, new, step):
    bundle = bundles(name)
    (test,) = [t for t in bundle.spec.tests if t.trajectory]
    solution = ROOT / "solutions" / name
    for f in bundle.spec.files:
        shutil.copyfile(solution / f, tmp_path / f)
    text = (tmp_path / fname).read_text()
    assert text.count(old) == 1, old
    (tmp_path / fname).write_text(text.replace(old, new))
    report = grade_files(bundle, {f: tmp_path / f for f in bundle.spec.files}, tests={test.id})
    (result,) = report.results
    assert result.score == 0
    assert f"'losses' departs from the reference at step {step} of " in result.output, result.output


def test_toy_task_adam_is_torch_adam_bit_for_bit():
    """toy_task writes Adam out (torch.optim imports torch._dynamo, seconds of every grade); its
    update is the one torch.optim.Adam makes, with gradient clipping in between as in fit()."""
    import torch

    spec = importlib.util.spec_from_file_location("_toy_task_adam", ROOT / "assignments" / "attention" / "toy_task.py")
    toy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(toy)
    torch.manual_seed(0)
    mine = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3)).double()
    theirs.load_state_dict(mine.state_dict())
    optimizers = ((mine, toy.Adam(mine.parameters(), lr=2e-2)),
                  (theirs, torch.optim.Adam(theirs.parameters(), lr=2e-2)))
    for _ in range(25):
        x = torch.randn(11, 5, dtype=torch.float64)
        for model, opt in optimizers:
            opt.zero_grad()
            model(x).pow(2).sum().backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    assert all(torch.equal(a, b) for a, b in zip(mine.parameters(), theirs.parameters()))


def test_vit_image_task_needs_the_positional_embedding():
    """The reference reaches the task's target; the same model with pos_embed frozen at zero sees
    its patches as a set and stays near chance (25%), as the contract says."""
    import sys

    import torch

    sys.path.insert(0, str(ROOT / "solutions" / "vit"))
    try:
        spec = importlib.util.spec_from_file_location("_vit_image_task", ROOT / "assignments" / "vit" / "image_task.py")
        task = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(task)
        import vit
    finally:
        sys.path.pop(0)
    torch.set_num_threads(1)
    scores = {}
    for pos in (True, False):
        model = task.build_model(vit, seed=0, pos_embed=pos)
        task.train(model, seed=0)
        scores[pos] = task.accuracy(model)
    assert scores[True] >= task.TARGET, scores
    assert scores[False] < 0.4, scores
