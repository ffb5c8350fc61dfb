"""autograder/spec/repo.py: the course repository, found from where a command runs, and each
assignment's spec checked against the files around it."""

import shutil

import pytest

from autograder.core.errors import AutograderError, SpecError
from autograder.spec.repo import Repo, find_repo

from tests.helpers.paths import ROOT


def course(tmp_path, names=("rnn",)):
    """A scratch repository with the assignments and solutions of `names`."""
    for name in names:
        for part in ("assignments", "solutions"):
            shutil.copytree(ROOT / part / name, tmp_path / part / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def edit_spec(root, old, new):
    path = root / "assignments" / "rnn" / "assignment.yaml"
    text = path.read_text()
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1))


def test_names_are_the_folders_that_hold_an_assignment_yaml(tmp_path):
    root = course(tmp_path)
    (root / "assignments" / "drafts").mkdir()  # no assignment.yaml: not an assignment
    shutil.copytree(root / "assignments" / "rnn", root / "assignments" / "attn")
    assert Repo(root).names() == ["attn", "rnn"]


def test_an_unknown_assignment_names_the_known_ones(tmp_path):
    root = course(tmp_path)
    with pytest.raises(AutograderError, match=r"unknown assignment 'nosuch' \(known: rnn\)"):
        Repo(root).assignment_dir("nosuch")
    with pytest.raises(AutograderError, match=r"unknown assignment 'rnn' \(known: none\)"):
        Repo(tmp_path / "empty").assignment_dir("rnn")


def test_solution_names_are_read_from_the_source_never_imported(tmp_path):
    root = course(tmp_path)
    (root / "solutions" / "rnn" / "extra.py").write_text(
        "raise SystemExit('importing this would end the grader')\n\n"
        "def top(x):\n    def inner():\n        pass\n    return x\n\n"
        "class Model:\n    def method(self):\n        pass\n\nVALUE = 3\n")
    names = Repo(root).solution_names("rnn")
    assert names["extra"] == {"top", "Model"}
    assert {"rnn_step_forward", "rnn_step_backward"} <= names["rnn_layers"]


def test_a_solution_that_does_not_parse_or_is_missing_is_a_spec_error(tmp_path):
    root = course(tmp_path)
    (root / "solutions" / "rnn" / "broken.py").write_text("def f(:\n")
    with pytest.raises(SpecError, match=r"broken.py:1: the solution does not parse"):
        Repo(root).solution_names("rnn")
    shutil.rmtree(root / "solutions" / "rnn")
    with pytest.raises(SpecError, match="missing; every assignment needs its reference solution there"):
        Repo(root).solution_names("rnn")


def test_the_spec_of_an_assignment_loads(tmp_path):
    spec = Repo(course(tmp_path)).spec("rnn")
    assert spec.name == "rnn" and spec.files == ("rnn_layers.py", "captioning_rnn.py")


@pytest.mark.parametrize("old, new, says", [
    ("name: rnn\n", "name: rnn2\n", "name: 'rnn2' must match its folder name 'rnn'"),
    ("files: [rnn_layers.py, captioning_rnn.py]", "files: [rnn_layers.py, captioning_rnn.py, extra.py]",
     "files: extra.py has no reference in solutions/rnn/"),
    ("local_checks: [test_training.py]", "local_checks: [test_training.py, test_more.py]",
     "local_checks: test_more.py is not in assignments/rnn/"),
    ("local_checks: [test_training.py]", "support: [helpers.py]\nlocal_checks: [test_training.py]",
     "support: helpers.py is not in assignments/rnn/"),
])
def test_a_spec_that_disagrees_with_the_files_around_it_says_which(tmp_path, old, new, says):
    root = course(tmp_path)
    edit_spec(root, old, new)
    with pytest.raises(SpecError) as err:
        Repo(root).spec("rnn")
    assert str(err.value).endswith(says) and "assignment.yaml" in str(err.value)


def test_a_support_file_that_is_also_submitted_is_refused(tmp_path):
    root = course(tmp_path)
    shutil.copyfile(root / "solutions" / "rnn" / "rnn_layers.py", root / "assignments" / "rnn" / "rnn_layers.py")
    edit_spec(root, "local_checks: [test_training.py]", "support: [rnn_layers.py]\nlocal_checks: [test_training.py]")
    with pytest.raises(SpecError, match="support: rnn_layers.py is also a submitted file"):
        Repo(root).spec("rnn")


def test_the_repository_is_found_at_or_above_where_a_command_runs(tmp_path, monkeypatch):
    root = course(tmp_path / "course")
    deep = root / "assignments" / "rnn" / "sub"
    deep.mkdir()
    monkeypatch.delenv("AUTOGRADER_REPO", raising=False)
    assert find_repo(deep).root == root.resolve()
    monkeypatch.chdir(deep)
    assert find_repo().root == root.resolve()


def test_autograder_repo_wins_and_without_a_repository_the_error_says_what_to_do(tmp_path, monkeypatch):
    root = course(tmp_path / "course")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("AUTOGRADER_REPO", str(root))
    assert find_repo(elsewhere).root == root.resolve()
    monkeypatch.delenv("AUTOGRADER_REPO")
    (elsewhere / "assignments").mkdir()  # solutions/ is needed too
    with pytest.raises(AutograderError) as err:
        find_repo(elsewhere)
    assert f"no course repository found at or above {elsewhere.resolve()}" in str(err.value)
    assert "set AUTOGRADER_REPO" in str(err.value)
