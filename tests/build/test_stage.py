"""autograder/build/stage.py: a staged bundle; what a test names must be among the reference's outputs."""

import pytest

from autograder.core.errors import BuildError

from tests.test_cli import copy_repo


@pytest.mark.parametrize("old, new, message", [
    ("probe: rnn_backward_unchanged, cases: rnn_seq, outputs: [dx, dh0, dWx, dWh, db]",
      "probe: rnn_backward_unchanged, cases: rnn_seq, outputs: [dx, dh0, dWx, dWh, dbias]",
     "test 'rnn_backward: leaves its inputs and cache unchanged' names the output(s) dbias, which the reference's "
     "probe rnn_backward_unchanged does not return on the public case 'small'"),
    ("probe: rnn_step_forward, cases: rnn_step, visibility: public}",
     "probe: rnn_step_forward, cases: rnn_step, visibility: public, trajectory: next_h}",
     "test 'rnn_step_forward: output matches reference': the trajectory 'next_h' must be a 1-d float array of at "
     "least two steps; the reference returned float64 of shape (3, 4)"),
])
def test_a_test_naming_outputs_the_reference_does_not_return_is_refused(tmp_path, old, new, message):
    """An `outputs:` name without a reference value would compare nothing (a property test would then
    pass on its judge alone), and a trajectory must be one value per step: the build says so."""
    from autograder.build.stage import stage_bundle
    from autograder.spec.repo import Repo

    repo = copy_repo(tmp_path / "repo")
    path = repo / "assignments" / "rnn" / "assignment.yaml"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    with pytest.raises(BuildError) as err:
        stage_bundle(Repo(repo), "rnn", tmp_path / "bundle")
    assert message in str(err.value)
