"""The command line: thin dispatch, clear one-line errors, exit codes people can script."""

import json
import shutil

import pytest

from autograder.cli import main

from tests.helpers.paths import ROOT


def copy_repo(tmp_path):
    """A scratch copy of the parts of the repository the CLI reads."""
    for part in ("assignments", "solutions", "starter"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_list_names_each_assignment(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "rnn" in out and "33 tests, 37 points, numpy" in out


def test_starter_check_passes_on_the_repository(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["starter", "--check"]) == 0


def test_starter_check_fails_on_a_hand_edited_stub_and_starter_repairs_it(tmp_path, capsys, monkeypatch):
    repo = copy_repo(tmp_path)
    stub = repo / "starter" / "rnn" / "rnn_layers.py"
    stub.write_text(stub.read_text() + "\n# edited by hand\n")
    monkeypatch.chdir(repo)
    assert main(["starter", "--check"]) == 1
    assert "starter/rnn/rnn_layers.py differs from what solutions/rnn/rnn_layers.py generates" in capsys.readouterr().err
    assert main(["starter", "rnn"]) == 0
    assert main(["starter", "--check"]) == 0


def test_malformed_marker_is_reported_with_its_line(tmp_path, capsys, monkeypatch):
    repo = copy_repo(tmp_path)
    sol = repo / "solutions" / "rnn" / "rnn_layers.py"
    lines = sol.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "# END SOLUTION")
    del lines[at]
    sol.write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(repo)
    assert main(["starter", "--check"]) == 2
    err = capsys.readouterr().err
    assert "solutions/rnn/rnn_layers.py:" in err and "BEGIN SOLUTION" in err


def test_malformed_yaml_is_one_line_with_the_place(tmp_path, capsys, monkeypatch):
    repo = copy_repo(tmp_path)
    spec = repo / "assignments" / "rnn" / "assignment.yaml"
    spec.write_text(spec.read_text().replace("budget: 300", "budget: [300"))
    monkeypatch.chdir(repo)
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "assignment.yaml: line" in err and "not valid YAML" in err


def test_grade_writes_results_json_and_exits_zero_whatever_the_score(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "results.json"
    assert main(["grade", "rnn", str(ROOT / "starter" / "rnn"), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["score"] == 0 and len(data["tests"]) == 33
    assert "Score: 0 / 37" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["grade", "rnn", "/no/such/submission"], "no such file or folder"),
    (["grade", "nosuch", "."], "unknown assignment 'nosuch' (known: "),
    (["build", "nosuch"], "unknown assignment 'nosuch'"),
])
def test_bad_arguments_are_one_line_errors_with_exit_code_2(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("autograder: ") and message in err
    assert "Traceback" not in err


def test_outside_a_repository_the_error_says_what_is_needed(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOGRADER_REPO", raising=False)
    assert main(["list"]) == 2
    assert "no course repository found" in capsys.readouterr().err


def test_grade_of_a_corrupt_zip_is_one_line_and_exit_code_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    bad = tmp_path / "hw.zip"
    bad.write_bytes(b"PK\x03\x04 cut short")
    assert main(["grade", "rnn", str(bad), "--json", str(tmp_path / "r.json")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not (tmp_path / "r.json").exists()
    assert captured.err.count("\n") == 1 and captured.err.startswith("autograder: hw.zip is not a valid zip file")


def test_grade_verbose_prints_each_failed_tests_whole_message(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    sub = tmp_path / "sub"
    shutil.copytree(ROOT / "solutions" / "rnn", sub)
    layers = sub / "rnn_layers.py"
    layers.write_text(layers.read_text().replace("db = da.sum(axis=0)", "db = da.mean(axis=0)", 1))
    assert main(["grade", "rnn", str(sub), "--json", str(tmp_path / "r.json"), "--verbose"]) == 0
    verbose = capsys.readouterr().out.splitlines()
    assert main(["grade", "rnn", str(sub)]) == 0
    short = capsys.readouterr().out.splitlines()
    failed = [t for t in json.loads((tmp_path / "r.json").read_text())["tests"] if t["status"] == "failed"]
    lines = [line for t in failed for line in t["output"].strip().splitlines()]
    assert failed and len(lines) > len(failed)  # the messages have more than their first line
    assert all("      " + line in verbose for line in lines)
    assert not all("      " + line in short for line in lines)
    assert any(line.startswith("      Diagnosis: ") for line in verbose)
