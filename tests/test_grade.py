"""Grading whole submissions: failures stay with the functions they affect, messages say where."""

import re
import zipfile

from autograder.grade import grade_files, grade_path

from conftest import ROOT

SOLUTION = ROOT / "solutions" / "rnn"


def broken_copy(tmp_path, old, new, fname="rnn_layers.py"):
    """The reference with one edit, plus the other file untouched."""
    text = (SOLUTION / fname).read_text()
    assert old in text, old
    (tmp_path / fname).write_text(text.replace(old, new, 1))
    other = "captioning_rnn.py" if fname == "rnn_layers.py" else "rnn_layers.py"
    (tmp_path / other).write_text((SOLUTION / other).read_text())
    return {f: tmp_path / f for f in ("rnn_layers.py", "captioning_rnn.py")}


def failing(report):
    return {r.test.name: r.output for r in report.results if not r.passed}


def test_an_independent_correct_submission_scores_full_marks(bundles):
    bundle = bundles("rnn")
    report = grade_path(bundle, ROOT / "tests" / "fixtures" / "submissions" / "rnn_independent")
    assert failing(report) == {}
    assert report.score == bundle.spec.max_score


def test_a_wrong_bias_gradient_fails_only_its_function_and_names_db(bundles, tmp_path):
    bundle = bundles("rnn")
    files = broken_copy(tmp_path, "db = da.sum(axis=0)             # (H,)", "db = da[0]")
    report = grade_files(bundle, files)
    bad = failing(report)
    assert set(bad) >= {"rnn_step_backward: gradients match reference and your forward"}
    assert all(name.startswith(("rnn_step_backward", "rnn_backward", "CaptioningRNN")) for name in bad), bad
    message = bad["rnn_step_backward: gradients match reference and your forward"]
    assert "'db' differs from the reference" in message
    assert re.search(r"at \[\d+\] expected -?[\d.e+-]+, got -?[\d.e+-]+", message)


def test_a_backward_inconsistent_with_its_own_forward_is_explained_entry_by_entry(bundles, tmp_path):
    bundle = bundles("rnn")
    files = broken_copy(tmp_path, "    out = W[x]  # (N, T, D)", "    out = 2 * W[x]  # (N, T, D)")
    report = grade_files(bundle, files)
    bad = failing(report)
    forward = bad["word_embedding_forward: output matches reference"]
    assert "'out' differs from the reference" in forward
    grad = bad["word_embedding_backward: gradient matches reference and your forward"]
    assert "numerical derivative of your own forward" in grad
    assert re.search(r"dW\[\d+, \d+\]", grad)


def test_a_submission_zip_in_a_nested_folder_is_found(bundles, tmp_path):
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in SOLUTION.glob("*.py"):
            zf.write(f, f"my_homework/{f.name}")
        zf.writestr("__MACOSX/my_homework/._rnn_layers.py", "junk")
    report = grade_path(bundles("rnn"), archive)
    assert report.score == report.max_score


def test_a_misnamed_file_gets_a_rename_hint_and_every_test_is_listed(bundles, tmp_path):
    (tmp_path / "rnn_layer.py").write_text((SOLUTION / "rnn_layers.py").read_text())
    (tmp_path / "captioning_rnn.py").write_text((SOLUTION / "captioning_rnn.py").read_text())
    report = grade_path(bundles("rnn"), tmp_path)
    assert len(report.results) == len(bundles("rnn").spec.tests)
    assert report.score == 0
    assert any("rename it to rnn_layers.py" in note for note in report.notes)


def test_a_broken_zip_still_yields_a_full_report(bundles, tmp_path):
    archive = tmp_path / "submission.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    report = grade_path(bundles("rnn"), archive)
    assert len(report.results) == len(bundles("rnn").spec.tests)
    assert report.score == 0
    assert "not a valid zip file" in report.notes[0]


def test_a_wrong_gate_gradient_names_the_gate_block_and_what_still_matches(bundles, tmp_path):
    files = broken_copy(tmp_path, "    do = dnext_h * tanh_c\n", "    do = 2 * dnext_h * tanh_c\n")
    report = grade_files(bundles("rnn"), files, tests={"t11"})
    (result,) = report.results
    assert result.test.name == "lstm_step_backward: gradients match reference and your forward"
    assert "'dWx' differs from the reference" in result.output
    assert "(in block 'o' of i, f, o, g)" in result.output
    assert "These match: dprev_c" in result.output
