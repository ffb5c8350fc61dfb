"""autograder/results.py: Gradescope results.json, atomic writes, and the terminal table."""

import json
import os
import stat

import pytest

from autograder.grading import results
from autograder.grading.results import MAX_TEST_OUTPUT, Report, format_table, write_json_atomic
from autograder.spec.model import spec_from_dict

from tests.helpers.reports import per_target


def spec():
    return spec_from_dict({
        "name": "demo",
        "title": "Demo",
        "files": ["layers.py"],
        "cases": {"small": {"builder": "build", "public": [{"name": "p"}], "hidden": [{"name": "h"}]}},
        "tests": [
            {"target": "layers.affine", "title": "forward", "kind": "outputs", "probe": "fwd",
             "cases": "small", "visibility": "public", "points": 2},
            {"target": "layers.affine", "title": "backward", "kind": "gradients", "probe": "bwd",
             "cases": "small", "points": 3},
            {"target": "layers.relu", "title": "forward", "kind": "outputs", "probe": "relu",
             "cases": "small", "points": 1},
        ],
    }, "assignment.yaml")


def report(scores=(2, 1.5, 0), outputs=("", "'dW' differs at [0, 1]\nmore detail", "boom"), notes=()):
    tests = spec().tests
    rows = [results.TestResult(t, s, out, elapsed=0.25 * (i + 1), cases_run=2)
               for i, (t, s, out) in enumerate(zip(tests, scores, outputs))]
    return Report("demo", "Demo", rows, elapsed=4.0, notes=list(notes))


def test_to_gradescope_has_every_test():
    data = report().to_gradescope()
    assert [t["name"] for t in data["tests"]] == ["affine: forward", "affine: backward", "relu: forward"]
    passed_extra = {"function": "affine", "failure": None, "diagnoses": [], "cases_passed": {"public": 0, "hidden": 0}}
    assert data["tests"][0] == {
        "name": "affine: forward", "number": "1", "score": 2, "max_score": 2, "status": "passed",
        "output": "", "visibility": "visible", "execution_time": 0.25, "extra_data": passed_extra,
    }
    failed = dict(data["tests"][1])
    assert failed.pop("extra_data")["failure"]["kind"] == "other"  # failed without a recorded reason
    assert failed == {
        "name": "affine: backward", "number": "2", "score": 1.5, "max_score": 3, "status": "failed",
        "output": "'dW' differs at [0, 1]\nmore detail", "visibility": "after_published", "execution_time": 0.5,
    }
    assert [t["number"] for t in data["tests"]] == ["1", "2", "3"]
    assert data["tests"][2]["visibility"] == "after_published"
    json.dumps(data)  # plain JSON


def test_to_gradescope_top_level():
    data = report(notes=["Missing file: layers.py."]).to_gradescope()
    assert data["score"] == 3.5
    assert data["execution_time"] == 4.0
    assert data["output"] == "Demo: 3.5 / 6 points.\nMissing file: layers.py."
    assert data["visibility"] == "visible"
    assert data["stdout_visibility"] == "hidden"


def test_scores_are_capped_to_zero_and_max():
    rep = report(scores=(5, -1, 1))
    tests = rep.to_gradescope()["tests"]
    assert [t["score"] for t in tests] == [2, 0.0, 1]
    assert [t["status"] for t in tests] == ["passed", "failed", "passed"]
    assert rep.score == 3
    assert rep.max_score == 6
    assert rep.to_gradescope()["score"] == 3


def test_per_target():
    assert per_target(report()) == {"affine": [3.5, 5.0], "relu": [0.0, 1.0]}


def test_long_output_is_truncated():
    long = "x" * (MAX_TEST_OUTPUT + 5000)
    out = report(outputs=("", long, "")).to_gradescope()["tests"][1]["output"]
    assert out.startswith("x" * MAX_TEST_OUTPUT)
    assert out.endswith("\n... [cut]")
    assert len(out) == MAX_TEST_OUTPUT + len("\n... [cut]")
    exact = "y" * MAX_TEST_OUTPUT
    assert report(outputs=("", exact, "")).to_gradescope()["tests"][1]["output"] == exact


def test_write_json_atomic_replaces_existing_file(tmp_path):
    path = tmp_path / "results" / "results.json"
    path.parent.mkdir()
    path.write_text('{"old": true, "padding": "' + "p" * 1000 + '"}')
    write_json_atomic(path, {"score": 3.5})
    assert json.loads(path.read_text()) == {"score": 3.5}
    assert os.listdir(path.parent) == ["results.json"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_write_json_atomic_creates_parent(tmp_path):
    path = tmp_path / "a" / "b" / "results.json"
    write_json_atomic(path, {"tests": []})
    assert json.loads(path.read_text()) == {"tests": []}


def test_write_json_atomic_replaces_a_symlink_not_its_target(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "precious.txt"
    target.write_text("do not touch")
    out = tmp_path / "out"
    out.mkdir()
    path = out / "results.json"
    path.symlink_to(target)
    write_json_atomic(path, {"score": 1})
    assert not path.is_symlink()
    assert json.loads(path.read_text()) == {"score": 1}
    assert target.read_text() == "do not touch"
    assert os.listdir(out) == ["results.json"]
    assert os.listdir(elsewhere) == ["precious.txt"]


def test_write_json_atomic_leaves_no_temp_file_on_failure(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"old": 1}')
    with pytest.raises(TypeError):
        write_json_atomic(path, {"bad": object()})
    assert os.listdir(tmp_path) == ["results.json"]
    assert json.loads(path.read_text()) == {"old": 1}


def test_format_table():
    text = format_table(report(notes=["Found 2 copies of layers.py; graded layers.py."]))
    lines = text.splitlines()
    assert lines[0].startswith("PASS  affine: forward ")
    assert lines[0].rstrip().endswith("2 / 2")
    assert lines[1].startswith("FAIL  affine: backward")
    assert "1.5 / 3" in lines[1]
    assert lines[2] == "      'dW' differs at [0, 1]"  # first line of the output only
    assert lines[3].startswith("FAIL  relu: forward")
    assert lines[4] == "      boom"
    assert lines[5] == ""
    assert lines[6] == "Found 2 copies of layers.py; graded layers.py."
    assert lines[7] == "Score: 3.5 / 6   (4.0 s)"
    assert "more detail" not in text


def test_format_table_caps_scores_and_cuts_long_lines():
    text = format_table(report(scores=(9, 0, 1), outputs=("", "z" * 500, "")), width=80)
    lines = text.splitlines()
    assert "2 / 2" in lines[0] and "9" not in lines[0]
    assert lines[2] == "      " + "z" * 71 + "..."
    assert len(lines[2]) == 80
    assert lines[-1].startswith("Score: 3 / 6")


def advisory_report(ok: bool, hidden_visibility="after_published"):
    data = {
        "name": "demo", "title": "Demo", "files": ["layers.py"],
        "cases": {"small": {"builder": "build", "public": [{"name": "p"}], "hidden": [{"name": "h"}]}},
        "tests": [
            {"target": "layers.affine", "title": "forward", "kind": "outputs", "probe": "fwd", "cases": "small",
             "points": 2},
            {"target": "layers.affine", "title": "leaves its inputs unchanged", "kind": "unchanged",
             "probe": "same", "cases": "small", "outputs": ["out"]},
        ],
    }
    graded, advisory = spec_from_dict(data, "assignment.yaml").tests
    rows = [results.TestResult(graded, 2, "Passed 2 case(s).", ok=True),
            results.TestResult(advisory, 0, "Passed 2 case(s)." if ok else "'dnext_c' was modified in place",
                               ok=ok)]
    return Report("demo", "Demo", rows, notes=[], hidden_visibility=hidden_visibility)


@pytest.mark.parametrize("ok", [True, False])
def test_an_advisory_test_has_max_score_0_a_status_and_changes_no_score(ok):
    rep = advisory_report(ok)
    data = rep.to_gradescope()
    entry = data["tests"][1]
    assert (entry["score"], entry["max_score"]) == (0, 0)
    assert entry["status"] == ("passed" if ok else "failed")
    assert data["score"] == 2 and rep.max_score == 2
    assert rep.results[1].passed is ok
    table = format_table(rep).splitlines()
    assert table[1].startswith("PASS" if ok else "FAIL") and table[1].rstrip().endswith("advisory")


@pytest.mark.parametrize("setting", ["after_due_date", "after_published", "hidden", "visible"])
def test_hidden_tests_get_the_assignments_visibility_and_public_ones_stay_visible(setting):
    data = advisory_report(True, setting).to_gradescope()
    assert [t["visibility"] for t in data["tests"]] == [setting, setting]
    pub = report().to_gradescope()["tests"][0]
    assert pub["visibility"] == "visible"
def test_extra_data_carries_the_failure_the_diagnoses_and_the_cases_passed():
    test = spec().tests[1]
    failure = results.Failure("dependency", "NotImplementedError", "relu", "h", "hidden")
    diagnosis = {"id": "mutant:no_sum", "function": "affine", "hint": "Sum over the batch."}
    row = results.TestResult(test, 0.0, "msg", failure=failure, diagnoses=[diagnosis],
                             cases_passed={"public": 1, "hidden": 0})
    extra = row.to_gradescope(2)["extra_data"]
    assert extra == {
        "function": "affine",
        "failure": {"kind": "dependency", "type": "NotImplementedError", "function": "relu", "case": "h",
                    "case_visibility": "hidden"},
        "diagnoses": [diagnosis],
        "cases_passed": {"public": 1, "hidden": 0},
    }
    assert extra["failure"]["kind"] in results.FAILURE_KINDS
    json.dumps(extra)


def test_a_passed_test_has_no_failure_even_if_one_was_recorded():
    row = results.TestResult(spec().tests[0], 2.0, failure=results.Failure("mismatch", function="affine"))
    assert row.to_gradescope(1)["extra_data"]["failure"] is None
def test_the_space_for_results_is_reserved_with_every_test_listed(tmp_path):
    """At the start of a grade: a results file listing every test, not graded yet, and a reserve
    beside it big enough for the real one at its longest; at the end the reserve is gone."""
    path = tmp_path / "results" / "results.json"
    path.parent.mkdir()
    reserve = results.reserve_results(path, spec())
    placeholder = json.loads(path.read_text())
    assert [t["name"] for t in placeholder["tests"]] == [t.name for t in spec().tests]
    assert placeholder["score"] == 0 and all(t["output"] == results.NOT_FINISHED for t in placeholder["tests"])
    longest = report(outputs=("\U0001F600" * (2 * MAX_TEST_OUTPUT),) * 3, notes=["x" * 1000])
    assert reserve.stat().st_size >= len(json.dumps(longest.to_gradescope(), indent=2))
    results.write_results(path, report().to_gradescope())
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"]
    assert json.loads(path.read_text()) == report().to_gradescope()


def test_results_that_cannot_be_written_whole_are_written_short_or_what_was_there_stays(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    results.reserve_results(path, spec())
    real, calls, logged = results.write_json_atomic, [], []

    def full_disk_once(where, data):  # the disk is full for the whole report, not for a short one
        calls.append(data)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        real(where, data)

    monkeypatch.setattr(results, "write_json_atomic", full_disk_once)
    long_output = report(outputs=("a" * 5000, "b" * 5000, "c" * 5000))
    results.write_results(path, long_output.to_gradescope(), log=logged.append)
    data = json.loads(path.read_text())
    assert [t["score"] for t in data["tests"]] == [2, 1.5, 0]  # the scores survive
    assert all(len(t["output"]) < 500 and "No space left on device" in t["output"] for t in data["tests"])
    assert logged and "No space left" in logged[0]

    monkeypatch.setattr(results, "write_json_atomic", lambda where, data: (_ for _ in ()).throw(OSError(28, "full")))
    results.write_results(path, long_output.to_gradescope(), log=logged.append)
    assert json.loads(path.read_text()) == data and "nor a shorter version" in logged[-1]
