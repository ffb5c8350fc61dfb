"""autograder/grading/grade.py: a grade leaves nothing in the temporary folder, however it ends.

The suite runs in a temporary folder of its own (tests/conftest.py), so what is new in it after a
grade is that grade's doing."""

import os
import tempfile

import pytest

from autograder.grading import grade
from autograder.grading.grade import grade_files, prepare_workdir

from tests.helpers.paths import ROOT

SOLUTION = ROOT / "solutions" / "rnn"
OURS = ("autograder-work-", "autograder-tmp-")  # a grade's workdir, a child's private folder


def ours_in_tmp() -> set:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith(OURS)}


@pytest.fixture
def rnn(bundles):
    bundle = bundles("rnn")
    files = {f: SOLUTION / f for f in bundle.spec.files}
    first = bundle.spec.tests[0]
    return bundle, files, first


def test_a_grade_removes_its_workdir_and_every_childs_folder(rnn):
    bundle, files, first = rnn
    before = ours_in_tmp()
    seen = []
    report = grade_files(bundle, files, tests={first.id}, progress=lambda r: seen.append(ours_in_tmp() - before))
    assert report.results[0].passed
    assert any(name.startswith("autograder-work-") for name in seen[0])  # it was there while grading
    assert ours_in_tmp() == before


def test_a_grade_that_fails_part_way_removes_its_workdir(rnn):
    bundle, files, first = rnn
    before = ours_in_tmp()

    def progress(result):
        raise KeyboardInterrupt  # the grader is stopped between two tests

    with pytest.raises(KeyboardInterrupt):
        grade_files(bundle, files, tests={first.id}, progress=progress)
    assert ours_in_tmp() == before


def test_a_grade_whose_template_fails_before_any_test_removes_its_workdir(rnn, monkeypatch):
    bundle, files, first = rnn
    before = ours_in_tmp()

    def broken_sync():
        raise RuntimeError("the template is gone")

    monkeypatch.setattr(grade, "sync", broken_sync)
    with pytest.raises(RuntimeError, match="the template is gone"):
        grade_files(bundle, files, tests={first.id})
    assert ours_in_tmp() == before


def test_a_workdir_that_cannot_be_filled_is_removed(tmp_path):
    before = ours_in_tmp()
    (tmp_path / "a.py").write_text("x = 1\n")
    with pytest.raises(FileNotFoundError):
        prepare_workdir({"a.py": tmp_path / "a.py", "b.py": tmp_path / "missing.py"}, tmp_path / "no-support")
    assert ours_in_tmp() == before
