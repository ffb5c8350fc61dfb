"""Grading whole submissions: failures stay with the functions they affect, messages say where."""

import copy
import dataclasses
import re
import zipfile

from autograder.grading.grade import grade_files, grade_path

from tests.helpers.paths import ROOT

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


def ids_of(bundle, *names):
    """The ids of the tests with these reported names."""
    found = {t.name: t.id for t in bundle.spec.tests}
    return {found[n] for n in names}


def stubbed(tmp_path, *done, fname="rnn_layers.py"):
    """The starter with the reference bodies of `done` put in, plus the other file's reference."""
    starter = (ROOT / "starter" / "rnn" / fname).read_text()
    solution = (SOLUTION / fname).read_text()

    def body(src, name):
        match = re.search(rf"^def {name}\(.*?(?=^def |^class |\Z)", src, re.S | re.M)
        assert match, name
        return match.group(0)

    for name in done:
        starter = starter.replace(body(starter, name), body(solution, name))
    (tmp_path / fname).write_text(starter)
    other = "captioning_rnn.py" if fname == "rnn_layers.py" else "rnn_layers.py"
    (tmp_path / other).write_text((SOLUTION / other).read_text())
    return {f: tmp_path / f for f in ("rnn_layers.py", "captioning_rnn.py")}




def test_extra_data_records_a_value_mismatch_with_its_mutant_diagnosis(bundles, tmp_path):
    bundle = bundles("rnn")
    files = broken_copy(tmp_path, "db = da.sum(axis=0)             # (H,)", "db = da.mean(axis=0)            # (H,)")
    name = "rnn_step_backward: gradients match reference and your forward"
    (result,) = grade_files(bundle, files, tests=ids_of(bundle, name)).results
    extra = result.to_gradescope(1)["extra_data"]
    assert extra["function"] == "rnn_step_backward"
    assert extra["failure"] == {"kind": "mismatch", "type": "", "function": "rnn_step_backward",
                                "case": "small", "case_visibility": "public"}
    assert [d["id"] for d in extra["diagnoses"]] == ["mutant:bias_grad_averaged"]
    assert extra["diagnoses"][0]["function"] == "rnn_step_backward"
    assert f"Diagnosis: {extra['diagnoses'][0]['hint']}" in result.output
    assert extra["cases_passed"] == {"public": 0, "hidden": 0}


def test_extra_data_counts_the_cases_passed_before_a_hidden_failure(bundles, tmp_path):
    bundle = bundles("rnn")
    files = broken_copy(tmp_path, "    out = W[x]  # (N, T, D)", "    out = W[x].squeeze()")  # wrong for N = T = 1 only
    (result,) = grade_files(bundle, files, tests=ids_of(bundle, "word_embedding_forward: output matches reference")).results
    extra = result.extra_data()
    assert extra["cases_passed"] == {"public": 1, "hidden": 1}
    assert extra["failure"] == {"kind": "shape", "type": "", "function": "word_embedding_forward",
                                "case": "n1_t1", "case_visibility": "hidden"}
    assert "(Cases passed before this one: small, repeats.)" in result.output


def test_extra_data_says_shape_for_an_unsummed_bias_gradient(bundles, tmp_path):
    bundle = bundles("rnn")
    files = broken_copy(tmp_path, "db = da.sum(axis=0)             # (H,)", "db = da")
    name = "rnn_step_backward: gradients match reference and your forward"
    (result,) = grade_files(bundle, files, tests=ids_of(bundle, name)).results
    assert result.failure.kind == "shape"
    assert "'db' has shape (3, 4), expected (4,)" in result.output


def test_a_missing_file_and_a_stub_are_typed_failures(bundles, tmp_path):
    bundle = bundles("rnn")
    (tmp_path / "rnn_layers.py").write_text((ROOT / "starter" / "rnn" / "rnn_layers.py").read_text())
    report = grade_files(bundle, {"rnn_layers.py": tmp_path / "rnn_layers.py"},
                         tests=ids_of(bundle, "rnn_step_forward: output matches reference",
                                        "CaptioningRNN: loss matches reference (rnn)"))
    kinds = {r.test.graded: r.extra_data()["failure"] for r in report.results}
    assert kinds["rnn_step_forward"]["kind"] == "not_implemented"
    assert kinds["rnn_step_forward"]["type"] == "NotImplementedError"
    assert kinds["CaptioningRNN"]["kind"] == "missing_file"


def test_a_stub_the_test_calls_first_is_blamed_without_the_targets_hint(bundles, tmp_path):
    bundle = bundles("rnn")
    files = stubbed(tmp_path, "rnn_step_backward", "word_embedding_backward")
    names = ("rnn_step_backward: gradients match reference and your forward",
             "word_embedding_backward: gradient matches reference and your forward")
    bad = {r.test.name: r for r in grade_files(bundle, files, tests=ids_of(bundle, *names)).results}
    step = bad[names[0]]
    assert "this test first calls your rnn_step_forward, which is not implemented yet" in step.output
    assert "rnn_step_backward is not implemented" not in step.output
    assert step.extra_data()["failure"] == {"kind": "dependency", "type": "NotImplementedError",
                                            "function": "rnn_step_forward", "case": "small",
                                            "case_visibility": "public"}
    embed = bad[names[1]]
    assert "this test first calls your word_embedding_forward, which is not implemented yet" in embed.output
    assert "Hint:" not in embed.output  # the hint is about word_embedding_backward's own code


def test_a_finished_class_whose_helper_is_a_stub_names_the_helper(bundles, tmp_path):
    bundle = bundles("rnn")
    done = [t.graded for t in bundle.spec.tests if t.module == "rnn_layers" and t.graded != "word_embedding_forward"]
    files = stubbed(tmp_path, *dict.fromkeys(done))
    (result,) = grade_files(bundle, files, tests=ids_of(bundle, "CaptioningRNN: loss matches reference (rnn)")).results
    assert "your CaptioningRNN.loss calls your word_embedding_forward, which is not implemented yet" in result.output
    assert "CaptioningRNN is not implemented" not in result.output
    assert result.failure.function == "word_embedding_forward"


def test_a_helper_that_raises_inside_the_target_is_named_with_its_line(bundles, tmp_path):
    bundle = bundles("rnn")
    files = broken_copy(tmp_path, "next_h = np.tanh(x @ Wx + prev_h @ Wh + b)", "next_h = np.tanh(x @ Wh + prev_h @ Wh + b)")
    names = ("rnn_step_forward: output matches reference", "rnn_forward: output matches reference")
    bad = failing(grade_files(bundle, files, tests=ids_of(bundle, *names)))
    assert bad[names[0]].split(": ", 1)[1].startswith("rnn_step_forward raised ValueError")
    assert "your rnn_forward calls your rnn_step_forward, which raised ValueError" in bad[names[1]]
    line = 1 + next(i for i, text in enumerate((tmp_path / "rnn_layers.py").read_text().splitlines())
                    if "x @ Wh + prev_h" in text)
    assert f"rnn_layers.py line {line}: `next_h = np.tanh(x @ Wh + prev_h @ Wh + b)" in bad[names[1]]


def with_time_limits(bundle, seconds):
    """The same bundle, every test with a time limit of `seconds` (hangs cost less to test)."""
    view = copy.copy(bundle)
    view.spec = dataclasses.replace(bundle.spec, tests=tuple(dataclasses.replace(t, timeout=seconds)
                                                             for t in bundle.spec.tests))
    return view


def kinds(report):
    return {r.test.name: r.failure.kind for r in report.results if not r.passed}


def test_a_hanging_function_costs_one_time_limit_per_grade_not_one_per_test(bundles, tmp_path):
    bundle = with_time_limits(bundles("rnn"), 2)
    old = "next_h = np.tanh(x @ Wx + prev_h @ Wh + b)  # (N, H)"
    files = broken_copy(tmp_path, old, "while True:\n        pass\n    " + old)
    report = grade_files(bundle, files)
    found = kinds(report)
    first = "rnn_step_forward: output matches reference"
    assert [name for name, kind in found.items() if kind == "timeout"] == [first]
    later = [name for name in found if name != first]
    assert {found[name] for name in later} == {"hung_before"}
    assert {"rnn_step_backward", "rnn_forward", "rnn_backward", "CaptioningRNN"} == {n.split(":")[0] for n in later}
    by_name = {r.test.name: r for r in report.results}
    for name in later:
        assert (f"this test calls your rnn_step_forward, which did not finish within the time limit in the "
                f"earlier test '{first}'") in by_name[name].output
        assert by_name[name].failure.function == "rnn_step_forward"
    assert by_name["lstm_forward: output matches reference"].passed  # what does not call it is graded as usual


def test_a_loop_around_a_correct_helper_is_blamed_on_the_loop(bundles, tmp_path):
    """rnn_forward calls the (correct) rnn_step_forward forever: rnn_forward is what hung, and the
    greedy sample, which calls rnn_step_forward itself, is still graded."""
    bundle = with_time_limits(bundles("rnn"), 2)
    old = "    prev_h = h0\n"
    files = broken_copy(tmp_path, old, old + "    while True:\n        rnn_step_forward(x[:, 0], h0, Wx, Wh, b)\n")
    names = ("rnn_forward: output matches reference", "rnn_backward: gradients match reference and your forward",
             "CaptioningRNN: greedy sample matches reference")
    report = grade_files(bundle, files, tests=ids_of(bundle, *names))
    assert kinds(report) == {names[0]: "timeout", names[1]: "hung_before"}
    by_name = {r.test.name: r.output for r in report.results}
    assert "it was running" not in by_name[names[0]]
    assert f"calls your rnn_forward, which did not finish within the time limit in the earlier test '{names[0]}'" \
        in by_name[names[1]]


def test_a_hanging_method_refuses_that_method_only(bundles, tmp_path):
    bundle = with_time_limits(bundles("rnn"), 2)
    end_of_docstring = '        it nothing.\n        """\n'
    files = broken_copy(tmp_path, end_of_docstring, end_of_docstring + "        while True:\n            pass\n",
                        "captioning_rnn.py")
    text = (tmp_path / "captioning_rnn.py").read_text()
    assert text.index("while True") > text.index("def loss(")  # the edit landed in loss()
    names = ("CaptioningRNN: loss matches reference (rnn)", "CaptioningRNN: gradients match reference and the loss (rnn)",
             "CaptioningRNN: greedy sample matches reference")
    report = grade_files(bundle, files, tests=ids_of(bundle, *names))
    assert kinds(report) == {names[0]: "timeout", names[1]: "hung_before"}
    assert "this test calls your CaptioningRNN.loss, which did not finish" in report.results[1].output


def test_a_module_whose_import_hangs_is_not_imported_again(bundles, tmp_path):
    bundle = with_time_limits(bundles("rnn"), 2)
    files = broken_copy(tmp_path, "import numpy as np\n", "import numpy as np\nwhile True:\n    pass\n")
    names = ("rnn_step_forward: output matches reference", "rnn_forward: output matches reference",
             "CaptioningRNN: loss matches reference (rnn)")
    report = grade_files(bundle, files, tests=ids_of(bundle, *names))
    assert kinds(report) == {names[0]: "timeout", names[1]: "hung_before", names[2]: "hung_before"}
    first, second, third = (r.output for r in report.results)
    assert "importing rnn_layers.py did not finish within this test's time limit of 2 s" in first
    assert f"importing rnn_layers.py did not finish within the time limit in the earlier test '{names[0]}'" in second
    assert f"importing rnn_layers.py did not finish within the time limit in the earlier test '{names[0]}'" in third


def test_an_unsummed_bias_gradient_is_told_to_sum_over_the_batch_axis(bundles, tmp_path):
    bundle = bundles("rnn")
    files = broken_copy(tmp_path, "db = da.sum(axis=0)             # (H,)", "db = da")
    names = ("rnn_step_backward: gradients match reference and your forward",
             "rnn_step_backward: leaves its inputs and cache unchanged")
    report = grade_files(bundle, files, tests=ids_of(bundle, *names))
    for result in report.results:
        assert "'db' has shape (3, 4), expected (4,)" in result.output  # named, not numbered, in both
        assert [d["id"] for d in result.diagnoses] == ["pattern:batch_axis"]
        assert "Diagnosis: 'db' has shape (3, 4) where (4,) is expected" in result.output
        assert "sum over the batch axis" in result.output


def test_gradients_returned_in_the_wrong_order_are_diagnosed(bundles, tmp_path):
    bundle = bundles("rnn")
    old = "    return dx, dprev_h, dWx, dWh, db\n"
    files = broken_copy(tmp_path, old, "    return dx, dprev_h, dWh, dWx, db\n")
    name = "rnn_step_backward: gradients match reference and your forward"
    (result,) = grade_files(bundle, files, tests=ids_of(bundle, name)).results
    assert "Diagnosis: 'dWx' and 'dWh' are swapped" in result.output or \
        "Diagnosis: 'dWh' and 'dWx' are swapped" in result.output
    assert result.extra_data()["diagnoses"][0]["id"] == "pattern:swapped"
