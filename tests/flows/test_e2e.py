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

from autograder.build.package import PINS, TEMPLATES, build_assignment, engine_files
from autograder.authoring.markers import strip_solution_text
from autograder.spec.repo import Repo
from autograder.authoring.starter import expected_starter

from tests.helpers import oldest_python
from tests.helpers.paths import FIXTURES, ROOT

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


def run_gradescope(tmp_path, grader_zip, submission_files, metadata=None, policy=None, python=None) -> dict:
    """Unzip the grader into ROOT/source, the files into ROOT/submission, `metadata` (if any) into
    ROOT/submission_metadata.json, and run run_autograder as Gradescope does; `policy` replaces keys
    of the bundle's policy; `python` is the interpreter (default: this one, without site-packages)."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(grader_zip) as zf:
        zf.extractall(root / "source")
    if policy:
        spec_path = root / "source" / "bundle" / "assignment.json"
        spec = json.loads(spec_path.read_text())
        spec["policy"] = {**spec.get("policy", {}), **policy}
        spec_path.write_text(json.dumps(spec))
    (root / "submission").mkdir()
    for f in submission_files:
        shutil.copyfile(f, root / "submission" / f.name)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    runner = root / "source" / "run_autograder"
    os.chmod(runner, 0o755)
    env = isolated_env(tmp_path) if python is None else {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["AUTOGRADER_ROOT"] = str(root)
    env["AUTOGRADER_PYTHON"] = f"{sys.executable} -S" if python is None else str(python)
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


def run_selfcheck(tmp_path, starter_zip, replace=None, python=None, args=()):
    folder = tmp_path / "starter"
    with zipfile.ZipFile(starter_zip) as zf:
        zf.extractall(folder)
    for src in replace or []:
        shutil.copyfile(src, folder / src.name)
    if python is None:
        cmd, env = [sys.executable, "-S"], isolated_env(tmp_path)
    else:
        cmd, env = [str(python)], {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([*cmd, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def test_starter_selfcheck_runs_in_a_fresh_folder(rnn_zips, repo, tmp_path):
    _, starter_zip = rnn_zips
    names = set(zipfile.ZipFile(starter_zip).namelist())
    assert {"rnn_layers.py", "captioning_rnn.py", "README.md", "conftest.py", "test_selfcheck.py",
            "selfcheck/public.arrays"} <= names
    assert "selfcheck/hidden.arrays" not in names
    assert set(repo.spec("rnn").local_checks) == {"test_training.py"} <= names
    public = [t for t in repo.spec("rnn").tests if t.visibility == "public"]
    local = 3  # test_training.py: one training run per cell type, beside the public tests
    stub_run = run_selfcheck(tmp_path / "stub", starter_zip)
    assert stub_run.returncode == 1
    assert f"{len(public) + local} failed" in stub_run.stdout
    assert "not implemented yet" in stub_run.stdout
    assert "self-check points" in stub_run.stdout
    hidden = [t for t in repo.spec("rnn").tests if t.visibility == "hidden"]
    summary = stub_run.stdout[stub_run.stdout.index("runs only on Gradescope"):]
    assert hidden and all(t.name in summary for t in hidden)
    assert not any(f"{t.name}  (" in summary for t in public)
    ref_run = run_selfcheck(tmp_path / "ref", starter_zip, sorted(repo.solution_dir("rnn").glob("*.py")))
    assert ref_run.returncode == 0, ref_run.stdout[-3000:]
    assert f"{len(public) + local} passed" in ref_run.stdout
    total = sum(t.points for t in public)
    assert f"total" in ref_run.stdout and f"{total:g} / {total:g}" in ref_run.stdout


# ----------------------------------------------------------------------------- course policy on Gradescope

DUE = "2026-05-17T23:59:00.000000-04:00"
INDEPENDENT = FIXTURES / "submissions" / "rnn_independent"


def metadata(created: str, due=DUE, previous=()) -> dict:
    """submission_metadata.json as Gradescope writes it (the keys the grader reads, and some others)."""
    return {"id": 123456, "created_at": created, "submission_method": "upload",
            "assignment": {"due_date": due, "late_due_date": None, "group_size": None, "group_submission": False,
                           "id": 25828, "course_id": 1234, "release_date": "2026-05-01T00:00:00.000000-04:00",
                           "title": "RNN", "total_points": "37.0"},
            "users": [{"email": "student@example.edu", "id": 1234, "name": "Student User"}],
            "previous_submissions": list(previous)}


def test_gradescope_run_30_hours_late_keeps_70_percent_and_says_why(rnn_zips, repo, tmp_path):
    grader_zip, _ = rnn_zips
    spec = repo.spec("rnn")
    solution = sorted(repo.solution_dir("rnn").glob("*.py"))
    late = run_gradescope(tmp_path / "late", grader_zip, solution, metadata("2026-05-19T05:59:00.000000-04:00"))
    assert late["score"] == pytest.approx(0.70 * spec.max_score)
    assert sum(t["score"] for t in late["tests"]) == spec.max_score  # every test keeps its own score
    assert "Submitted 2026-05-19 05:59 -04:00, 30.0 hours after the due date 2026-05-17 23:59 -04:00" in late["output"]
    assert "Step applied: more than 24 hours late keeps 70%" in late["output"]
    assert f"Score {spec.max_score:g} before the penalty, {0.7 * spec.max_score:g} after" in late["output"]
    on_time = run_gradescope(tmp_path / "on_time", grader_zip, solution, metadata("2026-05-17T23:58:59.000000-04:00"))
    assert on_time["score"] == spec.max_score
    assert "on time (due 2026-05-17 23:59 -04:00): no penalty" in on_time["output"]
    no_file = run_gradescope(tmp_path / "no_metadata", grader_zip, solution)
    assert no_file["score"] == spec.max_score
    assert "graded without a late penalty (submission_metadata.json is missing)" in no_file["output"]


def test_an_in_place_update_alone_keeps_full_marks_and_shows_the_advisory_test_failed(rnn_zips, repo, tmp_path):
    """The classic `dnext_c += ...` in lstm_step_backward: right gradients, the caller's array changed."""
    text = (INDEPENDENT / "rnn_layers.py").read_text()
    old = "    dc = dnext_c + dnext_h * o * (1 - tc * tc)\n"
    assert text.count(old) == 1
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "rnn_layers.py").write_text(text.replace(old, "    dnext_c += dnext_h * o * (1 - tc * tc)\n"
                                                            "    dc = dnext_c\n"))
    shutil.copyfile(INDEPENDENT / "captioning_rnn.py", folder / "captioning_rnn.py")
    result = run_gradescope(tmp_path, rnn_zips[0], sorted(folder.glob("*.py")), metadata(DUE))
    spec = repo.spec("rnn")
    assert result["score"] == spec.max_score
    failed = [t for t in result["tests"] if t["status"] == "failed"]
    assert [t["name"] for t in failed] == ["lstm_step_backward: leaves its inputs and cache unchanged"]
    assert failed[0]["score"] == failed[0]["max_score"] == 0
    assert "modified its input 'dnext_c'" in failed[0]["output"] and "counts for no points" in failed[0]["output"]


def test_over_the_daily_limit_the_latest_graded_results_are_repeated(rnn_zips, repo, tmp_path):
    grader_zip, _ = rnn_zips
    spec = repo.spec("rnn")
    solution = sorted(repo.solution_dir("rnn").glob("*.py"))
    first = run_gradescope(tmp_path / "first", grader_zip, solution, metadata("2026-05-15T09:00:00.000000-04:00"),
                           policy={"daily_limit": 1})
    assert first["score"] == spec.max_score
    assert "Daily limit: graded submission 1 of 1 in the last 24 hours." in first["output"]
    previous = [{"submission_time": "2026-05-15T09:00:00.000000-04:00", "score": first["score"], "results": first}]
    stubs = sorted(repo.starter_dir("rnn").glob("*.py"))  # graded, these would score 0
    extra = run_gradescope(tmp_path / "extra", grader_zip, stubs, metadata("2026-05-15T20:00:00.000000-04:00",
                           previous=previous), policy={"daily_limit": 1})
    assert extra["score"] == spec.max_score and extra["tests"] == first["tests"]
    assert extra["output"].startswith("Not graded (daily limit): you have had 1 graded submission in the last 24 hours")
    assert "A submission made after 2026-05-16 09:00 -04:00 will be graded." in extra["output"]
    later = run_gradescope(tmp_path / "later", grader_zip, stubs, metadata("2026-05-16T09:00:01.000000-04:00",
                           previous=previous + [{"submission_time": "2026-05-15T20:00:00.000000-04:00",
                                                 "score": extra["score"], "results": extra}]),
                           policy={"daily_limit": 1})
    assert later["score"] == 0 and "graded submission 1 of 1" in later["output"]


@pytest.mark.parametrize("setting", ["after_due_date", "hidden"])
def test_hidden_tests_reach_gradescope_with_the_assignments_visibility(rnn_zips, repo, tmp_path, setting):
    result = run_gradescope(tmp_path, rnn_zips[0], [], policy={"hidden_visibility": setting})
    spec = repo.spec("rnn")
    want = ["visible" if t.visibility == "public" else setting for t in spec.tests]
    assert [t["visibility"] for t in result["tests"]] == want


# ----------------------------------------------------------------------------- the oldest Python we claim


def test_the_rnn_zip_grades_under_the_oldest_python_claimed(rnn_zips, repo, tmp_path):
    """What Gradescope's image does: its Python (3.10), numpy at the pin setup.sh installs, nothing else."""
    python = oldest_python.venv([*PINS["numpy"], "pytest"])
    assert oldest_python.version_of(python) == oldest_python.claimed_minimum() == "3.10"
    grader_zip, starter_zip = rnn_zips
    spec = repo.spec("rnn")
    solution = sorted(repo.solution_dir("rnn").glob("*.py"))
    full = run_gradescope(tmp_path / "ref", grader_zip, solution, metadata("2026-05-19T05:59:00-04:00"), python=python)
    assert [t["status"] for t in full["tests"]] == ["passed"] * len(spec.tests)
    assert sum(t["score"] for t in full["tests"]) == spec.max_score
    assert full["score"] == pytest.approx(0.70 * spec.max_score) and "30.0 hours after" in full["output"]
    zero = run_gradescope(tmp_path / "stub", grader_zip, sorted(repo.starter_dir("rnn").glob("*.py")), python=python)
    assert zero["score"] == 0 and len(zero["tests"]) == len(spec.tests)
    ref_run = run_selfcheck(tmp_path / "selfcheck", starter_zip, solution, python=python)
    assert ref_run.returncode == 0, ref_run.stdout[-3000:]


def notebook_code(path: Path) -> str:
    """The code cells of a notebook as one module, IPython magics and shell lines commented out."""
    import nbformat

    cells = [c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code"]
    lines = [("# " + line if line.lstrip().startswith(("%", "!")) else line)
             for cell in cells for line in cell.splitlines()]
    return "\n".join(lines) + "\n"


def shipped_python(repo, name) -> dict:
    """Archive name -> Python text, for everything the two zips of `name` ship that Python runs: the
    engine (its .py.tmpl templates too), the bundle's probes, verifiers and support modules (in the
    grader's bundle/ and the starter's selfcheck/), the stubs and support modules at the starter's
    top, its conftest.py, test_selfcheck.py and local checks, and the notebook's code cells. Collected from the
    sources the build copies; test_the_collected_python_is_what_the_rnn_zips_ship keeps it honest."""
    spec, adir = repo.spec(name), repo.assignment_dir(name)
    out = {arc: path.read_text() for arc, path in engine_files().items() if arc.endswith((".py", ".py.tmpl"))}
    for f in ("probes.py", "verify.py"):
        if (adir / f).is_file():
            out[f"bundle/{f}"] = out[f"selfcheck/{f}"] = (adir / f).read_text()
    for f in spec.support:
        if f.endswith(".py"):
            out[f"bundle/support/{f}"] = out[f"selfcheck/support/{f}"] = out[f] = (adir / f).read_text()
    out.update(expected_starter(repo, name))
    for f in ("conftest.py", "test_selfcheck.py"):
        out[f] = (TEMPLATES / f"{f}.tmpl").read_text()
    for f in spec.local_checks:  # the longer checks students run on their own machine
        out[f] = (adir / f).read_text()
    notebook = repo.starter_dir(name) / f"{name}.ipynb"
    if notebook.is_file():
        out[f"{name}.ipynb"] = notebook_code(notebook)
    return out


def vermin(files: dict, folder: Path, minimum: str) -> subprocess.CompletedProcess:
    """Run vermin over `files` (written under `folder`): exit 0 when each runs on `minimum` or older."""
    for arc, text in files.items():
        dest = folder / (arc if arc.endswith(".py") else arc + ".py")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    return subprocess.run([sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())",
                           f"-t={minimum}-", "--violations", "--eval-annotations", "--no-tips", "-q", str(folder)],
                          capture_output=True, text=True, timeout=300)


def test_the_collected_python_is_what_the_rnn_zips_ship(rnn_zips, repo):
    in_zips = set()
    for z in rnn_zips:
        in_zips |= {n for n in zipfile.ZipFile(z).namelist() if n.endswith((".py", ".py.tmpl", ".ipynb"))}
    assert set(shipped_python(repo, "rnn")) == in_zips


@pytest.mark.parametrize("name", Repo(ROOT).names())
def test_everything_a_zip_ships_runs_on_the_oldest_python_claimed(repo, tmp_path, name):
    minimum = oldest_python.claimed_minimum()
    files = shipped_python(repo, name)
    assert len(files) > 40 and f"{name}.ipynb" in files
    proc = vermin(files, tmp_path / "shipped", minimum)
    assert proc.returncode == 0, f"code that needs a Python newer than {minimum}:\n{proc.stdout}{proc.stderr}"


def test_the_version_check_catches_newer_python(tmp_path):
    newer = {"a.py": "import tomllib\n", "b.py": "try:\n    pass\nexcept* ValueError:\n    pass\n"}
    for arc, text in newer.items():
        proc = vermin({arc: text}, tmp_path / arc[0], "3.10")
        assert proc.returncode != 0 and "3.11" in proc.stdout, (arc, proc.stdout)


@pytest.mark.parametrize("ci", ["true", ""])
def test_without_the_oldest_python_ci_fails_and_a_developer_is_told_how_to_get_it(monkeypatch, tmp_path, ci):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("AUTOGRADER_PY310", "")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", ci)
    outcome = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(outcome, match="no Python 3.10 interpreter found .*pyenv install 3.10"):
        oldest_python.require()


def test_starter_selfcheck_shows_progress_while_a_test_waits_and_pays_for_a_hang_once(rnn_zips, repo, tmp_path):
    """rnn_forward loops forever: its check prints "still running" lines instead of silence, and
    the check of rnn_backward, which calls it, fails at once, naming the check it hung in."""
    _, starter_zip = rnn_zips
    solution = repo.solution_dir("rnn")
    text = (solution / "rnn_layers.py").read_text()
    hanging = tmp_path / "rnn_layers.py"
    hanging.write_text(text.replace("    prev_h = h0\n", "    prev_h = h0\n    while True:\n        pass\n", 1))
    run = run_selfcheck(tmp_path, starter_zip, [hanging, solution / "captioning_rnn.py"],
                        args=["-k", "rnn_forward or rnn_backward"])
    out = run.stdout
    assert "rnn_forward: output matches reference: still running after 5 s" in out
    selected = [t for t in repo.spec("rnn").tests if t.visibility == "public" and t.graded in ("rnn_forward", "rnn_backward")]
    assert f"{len(selected)} failed" in out
    assert ("calls your rnn_forward, which did not finish within the time limit in the earlier test "
            "'rnn_forward: output matches reference'") in out
    assert out.count("still running after") < 2 * 20 / 5  # one test waited, not two
