"""autograder/authoring/scaffold.py and `autograder new`: a new assignment that builds as it is,
written into a scratch course repository (never into this one), and the names it refuses."""

import ast
from pathlib import Path

import pytest

from autograder.authoring.markers import find_blocks
from autograder.authoring.notebooks import expected_student, stale as notebook_stale
from autograder.authoring.scaffold import FRAMEWORKS, LAYOUT, TEMPLATES, render, scaffold
from autograder.authoring.starter import stale_files
from autograder.build.check import check_assignment
from autograder.build.notebook_runs import execute, stage_run
from autograder.cli import main
from autograder.core.errors import AutograderError
from autograder.spec.repo import Repo

ROOT = Path(__file__).resolve().parents[2]  # the repository


def new(tmp_path, framework, name="demo"):
    """`autograder new NAME --framework F --root tmp_path/course`; the scratch repository."""
    root = tmp_path / "course"
    assert main(["new", name, "--framework", framework, "--root", str(root)]) == 0
    return Repo(root)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_template_is_written_and_every_placeholder_filled(framework):
    assert sorted(p.name for p in (TEMPLATES / framework).iterdir()) == sorted(f"{k}.tmpl" for k in LAYOUT)
    files = render(framework, "layer_norm", "Normalisation layers")
    assert sorted(files) == sorted(v.format(name="layer_norm") for v in LAYOUT.values())
    for rel, text in files.items():
        assert "$name" not in text and "${" not in text, rel
        if rel.endswith(".py"):
            ast.parse(text, rel)  # the notebook source too: it is plain Python
    assert 'title: "Normalisation layers"' in files["assignments/layer_norm/assignment.yaml"]
    assert "files: [layer_norm.py]" in files["assignments/layer_norm/assignment.yaml"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_scaffold_is_a_complete_assignment_with_nothing_stale(tmp_path, framework, capsys):
    repo = new(tmp_path, framework)
    out = capsys.readouterr().out
    assert "wrote solutions/demo/demo.py" in out and "wrote starter/demo/demo.ipynb" in out
    assert repo.names() == ["demo"]
    spec = repo.spec("demo")
    assert spec.framework == framework and spec.files == ("demo.py",)
    assert {t.kind for t in spec.tests} == {"outputs", "gradients"}
    assert {t.probe for t in spec.tests} | {t.forward for t in spec.tests if t.forward} <= set(spec.declared)
    assert not (repo.assignment_dir("demo") / "probes.py").exists()  # every probe declared
    assert stale_files(repo, "demo") == [] and notebook_stale(repo, "demo") == []
    # one example function, with a solution block, graded by every test
    text = (repo.solution_dir("demo") / "demo.py").read_text()
    blocks = find_blocks(text)
    assert len(blocks) == 1 and {t.graded for t in spec.tests} == {blocks[0][3]}
    (cs,) = spec.casesets.values()
    public = [c.params for c in cs.select(("public",))]
    hidden = [c.params for c in cs.select(("hidden",))]
    assert public and hidden and not any(h in public for h in hidden)
    assert any(h["N"] == 1 for h in hidden)  # a batch of one, from `edges:`
    assert all(t.visibility == "public" for t in spec.tests)
    # the kit-only rule: assignment files import nothing from the engine but autograder.kit
    for path in (repo.root / "assignments" / "demo").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograder"):
                assert node.module == "autograder.kit", path
    assert not (ROOT / "assignments" / "demo").exists()


def test_numpy_scaffold_checks_ok_with_its_mutant_caught_and_diagnosed(tmp_path):
    repo = new(tmp_path, "numpy")
    found, _ = check_assignment(repo, "demo")
    assert found.problems == []
    assert found.ref.score == found.ref.max_score == repo.spec("demo").max_score > 0
    assert found.zero.score == 0 and not any(r.passed for r in found.zero.results)
    assert [(r["mutant"], r["caught"], r["diagnosed"], r["unrelated"], r["wrong_hints"]) for r in found.mutants] == [
        ("gradient_not_averaged", True, True, [], [])]


@pytest.mark.slow
def test_torch_scaffold_checks_ok_with_its_mutant_caught_and_diagnosed(tmp_path):
    repo = new(tmp_path, "torch")
    found, _ = check_assignment(repo, "demo")
    assert found.problems == []
    assert found.ref.score == found.ref.max_score == repo.spec("demo").max_score > 0
    assert found.zero.score == 0
    assert [(r["mutant"], r["caught"], r["diagnosed"]) for r in found.mutants] == [("unbiased_variance", True, True)]


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_scaffold_notebook_runs_against_the_reference_and_skips_on_the_starter(tmp_path, framework, monkeypatch):
    from autograder.selfcheck.notebook_checks import STRICT_ENV

    repo = new(tmp_path, framework)
    nb = execute(stage_run(repo, "demo", tmp_path / "run"), strict=True)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "FAIL" not in printed and printed.count("PASS  ") == len(repo.spec("demo").tests)
    monkeypatch.delenv(STRICT_ENV, raising=False)
    folder = tmp_path / "student"
    stage_run(repo, "demo", folder)
    (folder / "demo.py").write_text((repo.starter_dir("demo") / "demo.py").read_text())
    (folder / "demo.ipynb").write_text(expected_student(repo, "demo"))
    nb = execute(folder / "demo.ipynb", strict=False)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "PASS" not in printed and "FAIL  " in printed and "is not implemented yet" in printed


@pytest.mark.parametrize("name, message", [
    ("2layers", "must be a Python identifier"),
    ("layer-norm", "must be a Python identifier"),
    ("layer norm", "must be a Python identifier"),
    ("", "must be a Python identifier"),
    ("class", "is a Python keyword"),
    ("numpy", "would shadow the engine file or library 'numpy'"),
    ("probes", "would shadow the engine file or library 'probes'"),
    ("random", "would shadow the standard library module 'random'"),
])
def test_a_name_that_cannot_be_a_module_is_refused_and_nothing_written(tmp_path, capsys, name, message):
    root = tmp_path / "course"
    assert main(["new", name, "--framework", "numpy", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"autograder: '{name}' cannot be an assignment name: " in err and message in err
    assert list((root / "assignments").iterdir()) == [] and list((root / "solutions").iterdir()) == []


def test_an_unknown_framework_is_refused(tmp_path, capsys):
    assert main(["new", "demo", "--framework", "jax", "--root", str(tmp_path)]) == 2
    assert "autograder: unknown framework 'jax': choose one of numpy, torch" in capsys.readouterr().err
    assert not (tmp_path / "assignments" / "demo").exists()


def test_an_existing_assignment_is_refused_and_left_as_it_was(tmp_path, capsys):
    repo = new(tmp_path, "numpy")
    solution = repo.solution_dir("demo") / "demo.py"
    solution.write_text(solution.read_text() + "\n# mine\n")
    assert main(["new", "demo", "--framework", "torch", "--root", str(repo.root)]) == 2
    err = capsys.readouterr().err
    assert "assignment 'demo' exists already (assignments/demo, solutions/demo, starter/demo)" in err
    assert solution.read_text().endswith("# mine\n") and repo.spec("demo").framework == "numpy"
    with pytest.raises(AutograderError, match="exists already"):  # a leftover solutions/NAME counts too
        (repo.root / "solutions" / "other").mkdir()
        scaffold(repo, "other", "numpy")


def test_a_title_that_would_break_the_yaml_is_refused(tmp_path, capsys):
    assert main(["new", "demo", "--framework", "numpy", "--title", 'say "hi"', "--root", str(tmp_path)]) == 2
    assert "--title: write it without double quotes" in capsys.readouterr().err


def test_outside_a_course_repository_new_says_to_give_a_root(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOGRADER_REPO", raising=False)
    assert main(["new", "demo", "--framework", "numpy"]) == 2
    assert "no course repository found" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_new_in_the_current_repository_writes_there(tmp_path, monkeypatch):
    root = tmp_path / "course"
    for part in ("assignments", "solutions"):
        (root / part).mkdir(parents=True)
    monkeypatch.chdir(root)
    monkeypatch.delenv("AUTOGRADER_REPO", raising=False)
    assert main(["new", "demo", "--framework", "torch"]) == 0
    assert Repo(root).names() == ["demo"] and (root / "starter" / "demo" / "demo.py").is_file()
