"""autograder/build/check.py and `autograder check`: what the build validates, on a scaffolded
assignment in a scratch repository, with every problem named and exit code 1; and the build
itself refusing what check refuses (they share build/validate.validate_assignment)."""

from pathlib import Path

import pytest

from autograder.build.check import check_assignment, format_result
from autograder.build.package import build_assignment
from autograder.cli import main
from autograder.core.errors import BuildError
from autograder.spec.repo import Repo

ROOT = Path(__file__).resolve().parents[2]  # the repository


def new(tmp_path, framework="numpy", name="demo"):
    root = tmp_path / "course"
    assert main(["new", name, "--framework", framework, "--root", str(root)]) == 0
    return Repo(root)


def edit(path, old, new_text):
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new_text))


def run_check(capsys, *argv):
    code = main(["check", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_passes_on_the_scaffold_and_says_what_it_checked(tmp_path, capsys):
    repo = new(tmp_path)
    capsys.readouterr()
    code, out, _ = run_check(capsys, "--root", str(repo.root))
    assert code == 0
    assert out.startswith("demo: OK (reference 4/4 in ") and "starter 0/4; 2 tests; 1 mutant caught and diagnosed" in out
    assert list(tmp_path.rglob("*.zip")) == []  # check writes no zips


def test_check_fails_with_the_reason_once_the_reference_is_broken(tmp_path, capsys, monkeypatch):
    repo = new(tmp_path)
    # inside the solution block: the starter stays current, only the reference is wrong
    edit(repo.solution_dir("demo") / "demo.py", "loss = -log_probs[np.arange(N), y].sum() / N",
         "loss = -log_probs[np.arange(N), y].sum()")
    capsys.readouterr()
    monkeypatch.chdir(repo.root)  # found from the current folder when there is no --root
    code, out, _ = run_check(capsys, "demo")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("demo: FAILED (1 problem; checked in ")
    assert lines[1] == "  - the reference solution scores 2/4, not full marks; it fails:"
    assert lines[2].startswith("    - softmax_loss: gradient matches reference and your loss: On the public case 'small'")
    assert "numerical derivative of your own forward pass" in lines[2]


@pytest.mark.slow
def test_check_fails_with_the_reason_when_the_torch_reference_raises(tmp_path, capsys):
    repo = new(tmp_path, "torch")
    edit(repo.solution_dir("demo") / "demo.py", "torch.sqrt(var + eps) * gamma + beta", "torch.sqrt(var + eps) * gamma + bias")
    capsys.readouterr()
    code, out, _ = run_check(capsys, "--root", str(repo.root))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("demo: FAILED (1 problem; checked in ")
    assert lines[1].startswith("  - the reference fails test 'layer_norm: output matches reference' on the public "
                               "case 'small' (N=3, D=4): layer_norm raised NameError: name 'bias' is not defined")


@pytest.mark.slow
def test_check_fails_when_the_torch_reference_cuts_the_autograd_graph(tmp_path, capsys):
    """A torch reference is compared with itself, so its gradient test also checks autograd against
    central differences of the reference's own forward: a detached mean is caught."""
    repo = new(tmp_path, "torch")
    edit(repo.solution_dir("demo") / "demo.py", "mean = x.mean(dim=-1, keepdim=True)",
         "mean = x.mean(dim=-1, keepdim=True).detach()")
    capsys.readouterr()
    code, out, _ = run_check(capsys, "--root", str(repo.root))
    assert code == 1
    assert "layer_norm: gradients match reference and your forward" in out
    assert "numerical derivative of your own forward pass" in out


def test_check_lists_every_problem_with_its_fix(tmp_path, capsys):
    repo = new(tmp_path)
    edit(repo.starter_dir("demo") / "demo.py", "import numpy as np", "import numpy as np  # edited by hand")
    edit(repo.starter_dir("demo") / "demo.ipynb", "Softmax cross-entropy", "Softmax loss")
    # a mutant that changes nothing observable: no hidden case can catch it
    edit(repo.assignment_dir("demo") / "mutants.yaml", '  old: "dx /= N\\n    return loss, dx"\n  new: "return loss, dx"',
         '  old: "N = x.shape[0]"\n  new: "N = len(x)"')
    capsys.readouterr()
    code, out, _ = run_check(capsys, "--root", str(repo.root))
    assert code == 1
    assert out.startswith("demo: FAILED (3 problems;")
    assert ("  - starter/ is stale (starter/demo/demo.py differs from what solutions/demo/demo.py generates); "
            "run 'autograder starter demo'") in out
    assert ("  - starter/demo/demo.ipynb differs from what assignments/demo/notebook.py generates; "
            "run 'autograder notebooks demo'") in out
    assert "  - mutant 'gradient_not_averaged' is not caught: it passes every hidden case" in out


def test_a_mutant_whose_outputs_are_not_its_own_is_not_diagnosed(tmp_path):
    """The hint is shown only when the failing outputs match those recorded for the mutant at
    build time; a mutant whose outputs change from run to run is caught but never diagnosed."""
    repo = new(tmp_path)
    edit(repo.assignment_dir("demo") / "mutants.yaml", '  old: "dx /= N\\n    return loss, dx"\n  new: "return loss, dx"',
         '  old: "dx /= N"\n  new: "dx /= N * (1.0 + __import__(\'time\').perf_counter() % 1.0)"')
    found, seconds = check_assignment(repo, "demo")
    assert [p.split(":")[0] for p in found.problems] == ["mutant 'gradient_not_averaged' fails softmax_loss"]
    assert "is not diagnosed: no failing test shows its hint" in found.problems[0]
    assert format_result(found, seconds).startswith("demo: FAILED (1 problem;")


def test_the_build_refuses_what_check_refuses_and_writes_nothing(tmp_path):
    repo = new(tmp_path)
    edit(repo.assignment_dir("demo") / "mutants.yaml", '  old: "dx /= N\\n    return loss, dx"\n  new: "return loss, dx"',
         '  old: "N = x.shape[0]"\n  new: "N = len(x)"')
    out = tmp_path / "dist"
    out.mkdir()
    with pytest.raises(BuildError, match=r"demo: mutant 'gradient_not_averaged' is not caught.*\n\(no zips written\)"):
        build_assignment(repo, "demo", out, log=lambda *a: None)
    assert list(out.iterdir()) == []


def test_the_scaffold_builds_both_zips_and_no_zip_holds_a_template_solution(tmp_path):
    import zipfile

    repo = new(tmp_path)
    grader, starter = build_assignment(repo, "demo", tmp_path / "dist", log=lambda *a: None)
    assert grader.name == "demo-autograder.zip" and starter.name == "demo-starter.zip"
    solution_line = "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))"
    assert solution_line in (repo.solution_dir("demo") / "demo.py").read_text()
    for path in (grader, starter):
        with zipfile.ZipFile(path) as zf:
            assert not [n for n in zf.namelist() if n.startswith("autograder/templates/new/")]
            assert "autograder/authoring/scaffold.py" in zf.namelist()  # the engine itself ships whole
            leaked = [n for n in zf.namelist() if solution_line.encode() in zf.read(n)]
            assert leaked == [], (path.name, leaked)


@pytest.mark.parametrize("argv, message", [
    (["check", "nosuch"], "unknown assignment 'nosuch' (known: "),
    (["check", "--root", "/nonexistent/course"], "/nonexistent/course: not a course repository"),
])
def test_check_argument_errors(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_check_of_an_empty_repository_says_there_is_nothing_to_check(tmp_path, capsys):
    for part in ("assignments", "solutions"):
        (tmp_path / part).mkdir()
    assert main(["check", "--root", str(tmp_path)]) == 2
    assert "no assignments to check" in capsys.readouterr().err



def test_check_of_every_assignment_reports_each_and_fails_when_one_does(tmp_path, capsys):
    repo = new(tmp_path, name="good")
    assert main(["new", "bad", "--framework", "numpy", "--root", str(repo.root)]) == 0
    edit(repo.assignment_dir("bad") / "assignment.yaml", "budget: 60", "budget: [60")
    capsys.readouterr()
    code, out, _ = run_check(capsys, "--root", str(repo.root))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("bad: FAILED (1 problem;")
    assert lines[1].startswith(f"  - {repo.root}/assignments/bad/assignment.yaml: line ") and "not valid YAML" in lines[1]
    assert lines[2].startswith("good: OK (")


def test_a_case_builder_that_raises_is_the_authors_error_with_its_line(tmp_path, capsys):
    repo = new(tmp_path)
    edit(repo.assignment_dir("demo") / "cases.py", '    return {"x": normal(rng, N, C, scale=scale)',
         '    assert C > 4, "C too small"\n    return {"x": normal(rng, N, C, scale=scale)')
    capsys.readouterr()
    code, out, err = run_check(capsys, "--root", str(repo.root))
    assert code == 1 and "internal error" not in err
    assert (f"  - {repo.root}/assignments/demo/cases.py: softmax_loss(...) for public case 'small' (N=3, C=4) of case "
            "set 'softmax_loss': AssertionError: C too small (at line 15: assert C > 4, \"C too small\")") in out


def test_check_jobs_runs_each_assignment_in_its_own_process_and_fails_when_one_does(tmp_path, capfd):
    repo = new(tmp_path, name="good")
    assert main(["new", "bad", "--framework", "numpy", "--root", str(repo.root)]) == 0
    edit(repo.solution_dir("bad") / "bad.py", "loss = -log_probs[np.arange(N), y].sum() / N",
         "loss = -log_probs[np.arange(N), y].sum()")
    capfd.readouterr()
    assert main(["check", "--root", str(repo.root), "--jobs", "2"]) == 1
    out = capfd.readouterr().out
    assert sorted(line.split(":")[0] + ":" + line.split(":")[1].split("(")[0] for line in out.splitlines()
                  if not line.startswith(" ")) == ["bad: FAILED ", "good: OK "]
    assert "  - the reference solution scores 2/4, not full marks; it fails:" in out
    assert main(["check", "--root", str(repo.root), "--jobs", "0"]) == 2
