"""autograder/build/notebook_runs.py: every notebook run top to bottom, on the reference and as handed out."""

import shutil

import pytest

from autograder.selfcheck.notebook_checks import STRICT_ENV
from autograder.build.notebook_runs import execute, figures, stage_run
from autograder.authoring.notebooks import expected_student, notebook_names
from autograder.spec.repo import Repo

from tests.helpers.paths import ROOT

NAMES = notebook_names(Repo(ROOT))


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom_against_the_reference(repo, bundles, name, tmp_path):
    nb_path = stage_run(repo, name, tmp_path / name, bundle_dir=bundles(name).root)
    nb = execute(nb_path, strict=True)  # raises on the first failing cell; a FAILed check raises too
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "FAIL" not in printed and printed.count("PASS  ") >= len(
        [t for t in repo.spec(name).tests if t.visibility == "public"])
    tagged = [t for c in nb.cells for t in c.metadata.get("tags", []) if t.startswith("figure:")]
    pngs = figures(nb, name)
    assert len(pngs) == len(tagged) >= 1
    assert all(png.startswith(b"\x89PNG") and len(png) > 10_000 for png in pngs.values())


def run_student_notebook(repo, bundles, name, folder, modules_from):
    """The student notebook (its exercises stubbed), in a starter-like folder with the modules of
    `modules_from`, run top to bottom the way a student's "Run all" runs it (not strict)."""
    stage_run(repo, name, folder, bundle_dir=bundles(name).root)
    for f in repo.spec(name).files:
        shutil.copyfile(modules_from / f, folder / f)
    nb_path = folder / f"{name}.ipynb"
    nb_path.write_text(expected_student(repo, name), encoding="utf-8")
    nb = execute(nb_path, strict=False)  # raises on a cell that fails
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    return nb, outputs, "".join(o.get("text", "") for o in outputs)


@pytest.mark.slow
def test_rnn_notebook_runs_top_to_bottom_with_only_the_graded_functions_done(repo, bundles, tmp_path, monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    nb, outputs, printed = run_student_notebook(repo, bundles, "rnn", tmp_path / "rnn", repo.solution_dir("rnn"))
    assert "FAIL" not in printed and printed.count("PASS  ") == len(
        [t for t in repo.spec("rnn").tests if t.visibility == "public"])
    assert "Skipped the rest of this cell: input_gradient_norms (in a cell above) is not implemented yet" in printed
    assert "Skipped this cell: it needs " in printed  # the plot of what it would have computed
    assert not any(o.get("output_type") in ("error", "execute_result") for o in outputs)  # no True/False
    assert set(figures_shown(nb)) == {"figure:loss", "figure:captions"}  # training and captions ran


@pytest.mark.slow
def test_rnn_notebook_runs_top_to_bottom_on_the_untouched_starter(repo, bundles, tmp_path, monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    nb, outputs, printed = run_student_notebook(repo, bundles, "rnn", tmp_path / "rnn", repo.starter_dir("rnn"))
    assert "PASS" not in printed and "FAIL  rnn_step_forward" in printed
    assert "Skipped the rest of this cell: rnn_forward (rnn_layers.py) is not implemented yet" in printed
    assert not any(o.get("output_type") in ("error", "execute_result") for o in outputs)
    assert figures_shown(nb) == []
    assert "features (1000, 512)" in printed  # cells that need nothing unfinished still run


@pytest.mark.slow
def test_charlm_notebook_runs_top_to_bottom_on_the_untouched_starter(repo, bundles, tmp_path, monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    nb, outputs, printed = run_student_notebook(repo, bundles, "charlm", tmp_path / "charlm", repo.starter_dir("charlm"))
    assert "PASS" not in printed and "FAIL  batchify" in printed
    assert "Skipped the rest of this cell: batchify (char_rnn.py) is not implemented yet" in printed
    assert "Skipped the rest of this cell: stacked_rnn_forward (char_rnn.py) is not implemented yet" in printed
    assert not any(o.get("output_type") in ("error", "execute_result") for o in outputs)
    assert figures_shown(nb) == []


def figures_shown(nb):
    return [t for c in nb.cells for t in c.metadata.get("tags", []) if t.startswith("figure:")
            and any("image/png" in o.get("data", {}) for o in c.outputs)]
