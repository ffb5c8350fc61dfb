"""End to end: build the zips, grade in an emulated Gradescope layout, run the starter's self-check.

Both run in fresh interpreters that cannot see the development install of the engine (`python -S`
skips site-packages' .pth files), and where `import torch` fails, as on a machine without torch.
"""

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.build import build_assignment
from autograder.markers import strip_solution_text

pytestmark = pytest.mark.slow


def isolated_env(tmp_path: Path) -> dict:
    """Environment for `python -S`: numpy and pytest importable; torch and the dev engine not."""
    blocker = tmp_path / "no-torch"
    (blocker / "torch").mkdir(parents=True, exist_ok=True)
    (blocker / "torch" / "__init__.py").write_text("raise ImportError('torch is not installed here')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), *site.getsitepackages()])
    env.pop("AUTOGRADER_REPO", None)
    return env


@pytest.fixture(scope="module")
def rnn_zips(repo, tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    return build_assignment(repo, "rnn", out, log=lambda *a: None)


def run_gradescope(tmp_path, grader_zip, submission_files) -> dict:
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(grader_zip) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    for f in submission_files:
        shutil.copyfile(f, root / "submission" / f.name)
    runner = root / "source" / "run_autograder"
    os.chmod(runner, 0o755)
    env = isolated_env(tmp_path)
    env["AUTOGRADER_ROOT"] = str(root)
    env["AUTOGRADER_PYTHON"] = f"{sys.executable} -S"
    proc = subprocess.run(["bash", str(runner)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "could not start" not in (root / "results" / "results.json").read_text(), proc.stderr
    return json.loads((root / "results" / "results.json").read_text())


def solution_lines(repo, name):
    """Distinctive lines from inside the solution markers."""
    lines = []
    for f in repo.solution_dir(name).glob("*.py"):
        lines += [line for line in strip_solution_text(f.read_text(), str(f)) if len(line) > 25]
    return lines


@pytest.mark.parametrize("which", [0, 1])
def test_zips_hold_no_solution_code(rnn_zips, repo, which):
    names = zipfile.ZipFile(rnn_zips[which]).namelist()
    with zipfile.ZipFile(rnn_zips[which]) as zf:
        text = "\n".join(zf.read(n).decode("utf-8", "replace") for n in names if not n.endswith(".arrays"))
    lines = solution_lines(repo, "rnn")
    assert len(lines) > 50
    assert [line for line in lines if line in text] == []


def test_grader_zip_holds_engine_and_data(rnn_zips):
    names = set(zipfile.ZipFile(rnn_zips[0]).namelist())
    assert {"setup.sh", "run_autograder", "bundle/hidden.arrays", "bundle/public.arrays", "autograder/cli.py"} <= names
    assert not any(n.startswith("solutions/") or "__pycache__" in n for n in names)


def test_two_builds_give_identical_zips(repo, rnn_zips, tmp_path):
    again = build_assignment(repo, "rnn", tmp_path, log=lambda *a: None)
    for first, second in zip(rnn_zips, again):
        assert first.read_bytes() == second.read_bytes()


def test_gradescope_run_scores_reference_full_and_starter_zero(rnn_zips, repo, tmp_path):
    grader_zip, _ = rnn_zips
    spec = repo.spec("rnn")
    full = run_gradescope(tmp_path / "ref", grader_zip, sorted(repo.solution_dir("rnn").glob("*.py")))
    assert len(full["tests"]) == len(spec.tests)
    assert full["score"] == spec.max_score
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in full["tests"])
    assert all(t["name"].split(":")[0] in {x.graded for x in spec.tests} for t in full["tests"])
    zero = run_gradescope(tmp_path / "stub", grader_zip, sorted(repo.starter_dir("rnn").glob("*.py")))
    assert len(zero["tests"]) == len(spec.tests)
    assert zero["score"] == 0
    assert {t["visibility"] for t in zero["tests"]} == {"visible", "after_published"}


def test_gradescope_run_with_nothing_submitted_lists_every_test(rnn_zips, repo, tmp_path):
    grader_zip, _ = rnn_zips
    result = run_gradescope(tmp_path, grader_zip, [])
    assert len(result["tests"]) == len(repo.spec("rnn").tests)
    assert result["score"] == 0
    assert "Missing file: rnn_layers.py" in result["output"]


def test_a_grader_that_cannot_start_still_lists_every_test(rnn_zips, repo, tmp_path):
    """The interpreter run_autograder calls does not even start: results.json is the list of every
    test (scored 0, 'could not start') that the build put in the grader zip."""
    grader_zip, _ = rnn_zips
    root = tmp_path / "autograder"
    with zipfile.ZipFile(grader_zip) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON="false")
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((root / "results" / "results.json").read_text())
    assert [t["name"] for t in result["tests"]] == [t.name for t in repo.spec("rnn").tests]
    assert result["score"] == 0 and all("could not start" in t["output"] for t in result["tests"])


def test_a_planted_results_file_is_replaced(rnn_zips, repo, tmp_path):
    grader_zip, _ = rnn_zips
    root = tmp_path / "autograder"
    (root / "results").mkdir(parents=True)
    (root / "results" / "results.json").write_text('{"score": 1000}')
    result = run_gradescope(tmp_path, grader_zip, sorted(repo.starter_dir("rnn").glob("*.py")))
    assert result["score"] == 0


def run_selfcheck(tmp_path, starter_zip, replace=None):
    folder = tmp_path / "starter"
    with zipfile.ZipFile(starter_zip) as zf:
        zf.extractall(folder)
    for src in replace or []:
        shutil.copyfile(src, folder / src.name)
    env = isolated_env(tmp_path)
    return subprocess.run([sys.executable, "-S", "-m", "pytest", "-p", "no:cacheprovider"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def test_starter_selfcheck_runs_in_a_fresh_folder(rnn_zips, repo, tmp_path):
    _, starter_zip = rnn_zips
    names = set(zipfile.ZipFile(starter_zip).namelist())
    assert {"rnn_layers.py", "captioning_rnn.py", "README.md", "conftest.py", "test_selfcheck.py",
            "selfcheck/public.arrays"} <= names
    assert "selfcheck/hidden.arrays" not in names
    public = [t for t in repo.spec("rnn").tests if t.visibility == "public"]
    stub_run = run_selfcheck(tmp_path / "stub", starter_zip)
    assert stub_run.returncode == 1
    assert f"{len(public)} failed" in stub_run.stdout
    assert "not implemented yet" in stub_run.stdout
    assert "self-check points" in stub_run.stdout
    ref_run = run_selfcheck(tmp_path / "ref", starter_zip, sorted(repo.solution_dir("rnn").glob("*.py")))
    assert ref_run.returncode == 0, ref_run.stdout[-3000:]
    assert f"{len(public)} passed" in ref_run.stdout
    total = sum(t.points for t in public)
    assert f"total" in ref_run.stdout and f"{total:g} / {total:g}" in ref_run.stdout
