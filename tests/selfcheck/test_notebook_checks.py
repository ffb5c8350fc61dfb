"""autograder/selfcheck/notebook_checks.py: check(), the public checks of one function, one line each."""

import shutil

import pytest

from autograder.selfcheck.notebook_checks import STRICT_ENV, check


@pytest.fixture
def rnn_folder(repo, bundles, tmp_path):
    """A starter-like folder: the stubs, and the rnn bundle as selfcheck/."""
    shutil.copytree(bundles("rnn").root, tmp_path / "selfcheck")
    for f in repo.spec("rnn").files:
        shutil.copyfile(repo.starter_dir("rnn") / f, tmp_path / f)
    return tmp_path


def test_check_prints_one_line_per_public_test(repo, rnn_folder, capsys, monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    shutil.copyfile(repo.solution_dir("rnn") / "rnn_layers.py", rnn_folder / "rnn_layers.py")
    assert check("rnn_step_forward", "rnn_step_backward", folder=rnn_folder) is None  # a check cell shows no True
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["PASS  rnn_step_forward: output matches reference",
                     "PASS  rnn_step_backward: gradients match reference and your forward",
                     "PASS  rnn_step_backward: leaves its inputs and cache unchanged"]


def test_check_on_a_stub_prints_the_first_line_of_each_failure(rnn_folder, capsys, monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    assert check("sigmoid", folder=rnn_folder) is None  # nor False
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL  sigmoid: output matches reference without overflow: On the public case")
    assert "not implemented yet" in out[0]
    assert out[1] == "1 of 1 check(s) failed; 'pytest -k sigmoid' in this folder shows the whole message."
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(AssertionError, match="1 of 1 check"):
        check("sigmoid", folder=rnn_folder)


def test_check_names_the_known_functions_for_an_unknown_one(rnn_folder, capsys, monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    check("lstm_step_fwd", folder=rnn_folder)
    out = capsys.readouterr().out
    assert "No public check for 'lstm_step_fwd' in 'rnn'; public checks exist for: rnn_step_forward," in out


def test_check_outside_a_starter_folder_says_where_to_run(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    check("sigmoid", folder=tmp_path)
    assert "No selfcheck/ folder in" in capsys.readouterr().out
