"""The mutant catalog: every catalogued mistake is caught, stays local, and is diagnosed by name."""

import pytest

from autograder.core.errors import SpecError
from autograder.grading.grade import grade_files
from autograder.build.mutants import apply_mutant, load_catalog, mutation_report
from autograder.spec.repo import Repo

from tests.helpers.paths import ROOT

WITH_CATALOG = [n for n in Repo(ROOT).names() if (ROOT / "assignments" / n / "mutants.yaml").is_file()]
INDEPENDENT = ROOT / "tests" / "fixtures" / "submissions" / "rnn_independent"


@pytest.mark.slow
@pytest.mark.parametrize("name", WITH_CATALOG)
def test_mutation_score_is_100_percent_with_precise_diagnoses(repo, bundles, name):
    rows = mutation_report(repo, name, bundles(name))
    assert rows, "an empty catalog"
    assert [r["mutant"] for r in rows if not r["caught"]] == []          # every mutant fails a hidden case
    assert {r["mutant"]: r["unrelated"] for r in rows if r["unrelated"]} == {}  # unrelated tests pass
    assert [r["mutant"] for r in rows if not r["diagnosed"]] == []       # its own hint is shown
    assert {r["mutant"]: r["wrong_hints"] for r in rows if r["wrong_hints"]} == {}
    # Only the in-place mistakes, caught by advisory tests, cost nothing; every other one costs points.
    assert {r["mutant"] for r in rows if r["points_lost"] == 0} == FREE_OF_CHARGE.get(name, set())


FREE_OF_CHARGE = {"rnn": {"upstream_modified_in_place", "clip_in_place"}}


def test_an_in_place_mistake_alone_keeps_full_marks_with_its_advisory_test_failed(repo, bundles, tmp_path):
    catalog = {m.name: m for m in load_catalog(repo.assignment_dir("rnn") / "mutants.yaml", repo.spec("rnn"))}
    bundle = bundles("rnn")
    for name, failing in (("upstream_modified_in_place", "rnn_step_backward: leaves its inputs and cache unchanged"),
                          ("clip_in_place", "clip_grad_norm: leaves the gradients it was given unchanged")):
        files = apply_mutant(catalog[name], repo.solution_dir("rnn"), tmp_path / name, bundle.spec.files)
        report = grade_files(bundle, files)
        assert report.score == report.max_score == bundle.spec.max_score
        assert [r.test.name for r in report.results if not r.passed] == [failing]
        entry = next(t for t in report.to_gradescope()["tests"] if t["name"] == failing)
        assert (entry["status"], entry["score"], entry["max_score"]) == ("failed", 0, 0)
        assert f"Diagnosis: {catalog[name].hint}" in entry["output"]


def test_the_rnn_catalog_covers_the_classic_mistakes(repo):
    names = {m.name for m in load_catalog(repo.assignment_dir("rnn") / "mutants.yaml", repo.spec("rnn"))}
    assert {"lstm_gate_order", "embedding_loses_repeats", "bias_grad_averaged", "upstream_modified_in_place",
            "lstm_missing_tanh_prime", "gru_reset_after_matmul", "softmax_over_time",
            "loss_averaged_over_time"} <= names


def student_files(tmp_path, edits):
    """The independently written submission, with edits in its own style: (old, new) pairs."""
    text = (INDEPENDENT / "rnn_layers.py").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    (tmp_path / "rnn_layers.py").write_text(text)
    (tmp_path / "captioning_rnn.py").write_text((INDEPENDENT / "captioning_rnn.py").read_text())
    return {f: tmp_path / f for f in ("rnn_layers.py", "captioning_rnn.py")}


def diagnoses(report):
    return {r.test.name: [line for line in r.output.splitlines() if line.startswith("Diagnosis:")]
            for r in report.results if not r.passed}


def test_a_student_who_splits_the_gates_in_the_wrong_order_is_told_so(bundles, tmp_path):
    files = student_files(tmp_path, [(
        "    i = sigmoid(a[:, 0:H])\n    f = sigmoid(a[:, H:2 * H])\n"
        "    o = sigmoid(a[:, 2 * H:3 * H])\n    g = np.tanh(a[:, 3 * H:4 * H])\n",
        "    i, f, g, o = np.split(a, 4, axis=1)\n"
        "    i, f, o, g = sigmoid(i), sigmoid(f), sigmoid(o), np.tanh(g)\n")])
    found = diagnoses(grade_files(bundles("rnn"), files))
    lines = found["lstm_step_forward: output matches reference"]
    assert len(lines) == 1 and "input, forget, output, candidate" in lines[0]


def test_a_student_whose_embedding_gradient_loses_repeats_is_told_so(bundles, tmp_path):
    files = student_files(tmp_path, [("    np.add.at(dW, idx, dout)\n", "    dW[idx] += dout\n")])
    found = diagnoses(grade_files(bundles("rnn"), files))
    lines = found["word_embedding_backward: gradient matches reference and your forward"]
    assert len(lines) == 1 and "appear several times" in lines[0]


def test_an_unrelated_bug_and_a_correct_submission_get_no_diagnosis(bundles, tmp_path):
    files = student_files(tmp_path, [("    i = sigmoid(a[:, 0:H])\n", "    i = np.tanh(a[:, 0:H])\n")])
    report = grade_files(bundles("rnn"), files)
    found = diagnoses(report)
    assert "lstm_step_forward: output matches reference" in found
    assert all(lines == [] for lines in found.values()), found
    correct = grade_files(bundles("rnn"), {f: INDEPENDENT / f for f in ("rnn_layers.py", "captioning_rnn.py")})
    assert not any("Diagnosis:" in r.output for r in correct.results)


@pytest.mark.parametrize("entry, message", [
    ("- {name: m, file: rnn_layers.py, function: sigmoid, old: 'no such text', new: x, hint: h}",
     "[0].old: found 0 times in solutions/rnn/rnn_layers.py"),
    ("- {name: m, file: other.py, function: sigmoid, old: a, new: b, hint: h}",
     "[0].file: 'other.py' is not a submitted file"),
    ("- {name: m, file: rnn_layers.py, function: nothing_graded, old: a, new: b, hint: h}",
     "[0].function: 'nothing_graded' is not graded by any test"),
    ("- {name: m, file: rnn_layers.py, function: sigmoid, old: a, new: b}",
     "[0].hint: missing required key"),
    ("- {name: m, file: rnn_layers.py, function: sigmoid, old: a, new: b, hint: h, typo: 1}",
     "[0].typo: unknown key"),
])
def test_catalog_errors_name_the_entry(repo, tmp_path, entry, message):
    path = tmp_path / "mutants.yaml"
    path.write_text(entry + "\n")
    with pytest.raises(SpecError) as err:
        load_catalog(path, repo.spec("rnn"), repo.solution_dir("rnn"))
    assert message in str(err.value)
