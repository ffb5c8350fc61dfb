"""The class report: outcomes read back from results, the figures, the CSVs, the page and its rendering."""

import csv
import json
import os
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder.batch import outcomes
from autograder.cli import main
from autograder.batch.class_report import build, write_report

from tests.helpers.hostile_submissions import edited_bundle
from tests.helpers.paths import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import headless  # noqa: E402

HOSTILE = '<img src=x onerror="alert(1)">'
SCRIPT = "</td><script>alert('owned')</script>"

# ----------------------------------------------------------------------------- results, as the contract has them


def failure(kind, function, visibility="public", type_="", case="small"):
    return {"kind": kind, "type": type_, "function": function, "case": case, "case_visibility": visibility}


def entry(name, points, passed, fail=None, diagnoses=(), output="", public=True, elapsed=0.1):
    return {"name": name, "number": "1", "score": points if passed else 0, "max_score": points,
            "status": "passed" if passed else "failed", "output": output or ("Passed 3 case(s)." if passed else "failed"),
            "visibility": "visible" if public else "after_published", "execution_time": elapsed,
            "extra_data": {"function": name.split(":")[0], "failure": None if passed else fail,
                           "diagnoses": [{"id": i, "function": f, "hint": h} for i, f, h in diagnoses],
                           "cases_passed": {"public": 1, "hidden": 0}}}


T1, T2, T3 = "f: output matches reference", "f: gradients match reference", "g: output matches reference"
M1 = ("mutant:m1", "f", "Your f forgets the <bias> & the mean.")
P1 = ("pattern:batch_axis", "f", "Sum over the batch axis.")


def results(key, tests, members=None, batch_error="", submission=None, elapsed=1.0):
    members = members or [[key.replace("_", " "), "", ""]]
    extra = {"submitter": {"student": " + ".join(m[0] for m in members), "submission": f"folder_{key}",
                           "members": members}, "title": "Toy assignment"}
    if batch_error:
        extra["batch_error"] = batch_error
    if submission is not None:
        extra["submission"] = submission
    return {"score": sum(t["score"] for t in tests), "execution_time": elapsed, "output": "Toy: x points.",
            "tests": tests, "extra_data": extra}


def toy_class() -> dict:
    """key -> results of seven submissions whose figures are worked out by hand in the tests below."""
    ok = {"problem": "", "missing": [], "files": 2, "notes": []}
    return {
        "Ada": results("Ada", [entry(T1, 1, True), entry(T2, 2, True), entry(T3, 1, True)], submission=ok, elapsed=2.0),
        "Ben": results("Ben", [entry(T1, 1, False, failure("mismatch", "f", "hidden"), [M1]),
                               entry(T2, 2, False, failure("mismatch", "f", "public"), [M1]),
                               entry(T3, 1, True)], submission=ok, elapsed=5.0),
        "Cy": results("Cy", [entry(T1, 1, True), entry(T2, 2, False, failure("shape", "f")),
                             entry(T3, 1, False, failure("exception", "g", "hidden", "TypeError"))], submission=ok),
        "Duo": results("Duo", [entry(T1, 1, False, failure("mismatch", "f", "hidden"), [P1]), entry(T2, 2, True),
                               entry(T3, 1, False, failure("timeout", "g"), elapsed=20.0)],
                       members=[["Ann Lee", "1", "ann@x"], ["Bo Wu", "2", "bo@x"]], submission=ok, elapsed=21.0),
        "Eve": results("Eve", [entry(n, p, False) for n, p in ((T1, 1), (T2, 2), (T3, 1))],
                       batch_error="Not graded: grading took longer than 360 s and was stopped."),
        "Zoë_Ní": results("Zoë_Ní", [entry(n, p, False, failure("import", n.split(":")[0], type_="SyntaxError"),
                                            output=f"importing f.py has a syntax error {SCRIPT}")
                                      for n, p in ((T1, 1), (T2, 2), (T3, 1))],
                          members=[[HOSTILE, "", ""]], submission=ok),
        "Gus": results("Gus", [entry(T1, 1, False, failure("mismatch", "f", "hidden"), [M1]), entry(T2, 2, True),
                               entry(T3, 1, True)], submission=ok),
    }


def write_class(out: Path, data=None) -> list:
    (out / "results").mkdir(parents=True)
    for key, d in (data or toy_class()).items():
        (out / "results" / f"{key}.json").write_text(json.dumps(d), encoding="utf-8")
    return outcomes.load(out / "results")


# ----------------------------------------------------------------------------- reading results back


def test_an_outcome_reads_every_field_of_the_contract():
    o = outcomes.read(toy_class()["Duo"], "Duo")
    assert (o.student, o.submission, o.score, o.max_score, o.elapsed) == ("Ann Lee + Bo Wu", "folder_Duo", 2, 4, 21.0)
    assert [m.name for m in o.members] == ["Ann Lee", "Bo Wu"] and o.members[1].email == "bo@x"
    first, second, third = o.tests
    assert second.passed and not first.passed and first.hidden_only and not third.hidden_only
    assert first.diagnoses == (outcomes.Diagnosis(*P1),)
    assert third.failure == outcomes.Failure("timeout", "", "g", "small", "public")
    assert third.failure.label == "time limit"
    assert outcomes.limits(o) == {("time limit", "g"): 1}


def test_results_without_extra_data_or_with_garbage_still_read():
    old = {"score": 1, "tests": [{"name": "h: works", "score": 0, "max_score": 1, "output": "went wrong\nmore"},
                                 {"name": "h: also", "score": 1, "max_score": 1}, "not a test", 7]}
    o = outcomes.read(old, "old")
    assert [t.name for t in o.tests] == ["h: works", "h: also"] and o.student == "old"
    assert o.tests[0].failure == outcomes.Failure("other", "", "h") and o.tests[0].message == "went wrong"
    garbage = {"score": "lots", "tests": [{"name": 3, "score": None, "extra_data": {"failure": [1],
                                                                                     "diagnoses": "x"}}],
               "extra_data": {"submitter": {"members": "nobody"}, "submission": {"files": "many"}}}
    g = outcomes.read(garbage, "g")
    assert g.score == 0 and g.files == -1 and g.members[0].name == "g"
    assert outcomes.read(None, "n").tests == []


@pytest.mark.parametrize("extra, says", [
    ({"batch_error": "Not graded: the grading process killed by SIGKILL."}, "killed by SIGKILL"),
    ({"submission": {"problem": "hw.zip is not a valid zip file; create it again", "files": 0}}, "not a valid zip"),
    ({"submission": {"missing": ["a.py", "b.py"], "files": 0, "notes": []}}, "empty submission: it holds no files"),
    ({"submission": {"missing": ["b.py"], "files": 3, "notes": ["Missing file: b.py (found: a.py, B.py)."]}},
     "Missing file: b.py (found: a.py, B.py)."),
])
def test_a_zero_always_has_a_reason(extra, says):
    data = results("x", [entry(T1, 1, False, failure("missing_file", "f"))])
    data["extra_data"].update(extra)
    assert says in outcomes.reason(outcomes.read(data, "x"))


def test_a_zero_from_failing_tests_names_what_they_failed_on():
    why = outcomes.reason(outcomes.read(toy_class()["Zoë_Ní"], "z"))
    assert why.startswith("scored 0: all tests failed (import error: SyntaxError); first: f: output matches")
    mixed = results("m", [entry(T1, 1, False, failure("not_implemented", "f")), entry(T2, 2, False, failure("shape", "f"))])
    assert "(not implemented: 1, wrong shape: 1)" in outcomes.reason(outcomes.read(mixed, "m"))
    assert outcomes.reason(outcomes.read(toy_class()["Ben"], "b")) == ""  # scored above zero, nothing missing


# ----------------------------------------------------------------------------- the figures


def test_the_figures_of_a_class_are_counted_per_graded_submission(tmp_path):
    r = build(write_class(tmp_path))
    assert (len(r.outcomes), r.graded, r.students, r.not_graded, r.zeros, r.full_marks) == (7, 6, 8, 1, 2, 1)
    assert r.stat("mean") == pytest.approx(11 / 7) and r.stat("max") == 4 and r.title == "Toy assignment"
    assert [o.score for o in r.outcomes] == sorted(o.score for o in r.outcomes)
    assert {t.name: (t.passed, t.failed, t.hidden_only) for t in r.tests} == {
        T1: (2, 4, 3), T2: (3, 3, 0), T3: (3, 3, 1)}  # Eve, not graded, is in none of them
    assert [(d.id, d.function, d.students, round(d.share, 4)) for d in r.diagnoses] == [
        ("mutant:m1", "f", 2, 0.3333), ("pattern:batch_axis", "f", 1, 0.1667)]  # Ben's two tests count once
    assert {(g.function, g.kind): (g.students, len(g.tests)) for g in r.failures} == {
        ("(whole file)", "import error: SyntaxError"): (1, 3), ("f", "wrong shape"): (1, 1),
        ("g", "exception: TypeError"): (1, 1), ("g", "time limit"): (1, 1)}
    assert [o.key for o in r.slowest[:2]] == ["Duo", "Ben"]
    assert {o.key: dict(hit) for o, hit in r.limited} == {"Duo": {("time limit", "g"): 1},
                                                          "Eve": {("not graded", ""): 1}}
    assert sum(n for _, _, n in r.histogram) == 7 and r.histogram[-1][2] == 1 and r.histogram[0][2] == 2


def test_a_diagnosis_seen_in_several_functions_counts_once_where_it_first_shows():
    def shows(key, *functions):
        return outcomes.read(results(key, [entry(f"{fn}: grads", 1, False, failure("mismatch", fn), [
            ("pattern:sign", fn, "Flip the sign.")]) for fn in functions] + [entry("h: ok", 1, True)]), key)

    r = build([shows("a", "step_backward", "seq_backward", "Model"), shows("b", "step_backward"),
               shows("c", "seq_backward", "Model"), shows("d")])
    assert [(d.id, d.function, d.students, d.also) for d in r.diagnoses] == [
        ("pattern:sign", "step_backward", 2, {"seq_backward": 1, "Model": 1}),
        ("pattern:sign", "seq_backward", 1, {"Model": 1})]


def test_the_csvs_hold_the_same_numbers(tmp_path):
    write_report(tmp_path, write_class(tmp_path))
    with open(tmp_path / "tests.csv", newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == [["test", "passed", "failed", "hidden_only"], [T1, "2", "4", "3"],
                                       [T2, "3", "3", "0"], [T3, "3", "3", "1"]]
    with open(tmp_path / "diagnoses.csv", newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == [["diagnosis", "function", "students", "share"],
                                       ["mutant:m1", "f", "2", "0.3333"], ["pattern:batch_axis", "f", "1", "0.1667"]]


# ----------------------------------------------------------------------------- the page


class Page(HTMLParser):
    """Every tag with its attributes, the text of each table's cells by table id, and the summary cards."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.tables, self.cards, self.ids = [], {}, {}, set()
        self._table, self._row, self._cell, self._dt, self._in = None, None, None, None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in ("dt", "dd"):
            self._in = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "dt":
            self._dt, self._in = "".join(self._in), None
        elif tag == "dd":
            self.cards[self._dt], self._in = "".join(self._in), None

    def handle_data(self, data):
        for part in (self._cell, self._in):
            if part is not None:
                part.append(data)

    def rows(self, table_id):
        return self.tables[table_id][1:]  # without the header


def test_the_page_shows_every_figure(tmp_path):
    write_report(tmp_path, write_class(tmp_path))
    page = Page((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert {"summary", "distribution", "tests", "diagnoses", "failures", "time", "students", "histogram"} <= page.ids
    assert page.cards == {"submissions": "7", "students": "8", "mean": "1.57", "median": "1", "min": "0", "max": "4",
                          "full marks": "1", "zero": "2", "not graded": "1"}
    assert [(r[0], r[2], r[3], r[5]) for r in page.rows("tests-table")] == [
        (T1, "2", "4", "3"), (T2, "3", "3", "0"), (T3, "3", "3", "1")]
    assert [(r[1], r[2], r[3]) for r in page.rows("diagnoses-table")] == [("f", "2", "33%"), ("f", "1", "17%")]
    assert page.rows("diagnoses-table")[0][0] == "mutant:m1" + M1[2]  # the hint, unescaped by the parser
    students = page.rows("students-table")
    assert len(students) == 8 and [float(r[2]) for r in students] == sorted(float(r[2]) for r in students)
    assert [r[1] for r in students if r[0] in ("Ann Lee", "Bo Wu")] == ["Ann Lee + Bo Wu"] * 2
    bins = [int(a["data-count"]) for tag, a in page.tags if tag == "rect" and "data-count" in a]
    assert sum(bins) == 7
    assert [r[0] for r in page.rows("limits-table")] == ["Ann Lee + Bo Wu", "Eve"]


def test_the_page_is_self_contained_and_escapes_what_submissions_wrote(tmp_path):
    write_report(tmp_path, write_class(tmp_path))
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = Page(text)
    names = {tag for tag, _ in page.tags}
    assert not names & {"script", "img", "iframe", "link", "object", "embed", "base", "form"}, names
    for tag, attrs in page.tags:
        assert not any(a.startswith("on") or a == "src" for a in attrs), (tag, attrs)
        if "href" in attrs:
            assert attrs["href"].startswith("#") or (attrs["href"].startswith("results/")
                                                     and attrs["href"].endswith(".json")), attrs
    assert ("meta", {"http-equiv": "Content-Security-Policy", "content": "default-src 'none'; "
                     "style-src 'unsafe-inline'; img-src data:"}) in page.tags
    assert "url(" not in text and "@import" not in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    # The hostile name and message arrive as text, exactly as written, and nowhere as markup.
    assert page.rows("students-table")[0][:4] == [HOSTILE, "", "0", "4"]  # lowest score, and '<' sorts first
    assert any(SCRIPT in r[-1] for r in page.rows("failures-table"))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert ("a", {"href": "results/Zo%C3%AB_N%C3%AD.json"}) in page.tags  # a non-ASCII key, percent-encoded


def test_every_student_links_to_their_own_results_file(tmp_path):
    write_report(tmp_path, write_class(tmp_path))
    page = Page((tmp_path / "report.html").read_text(encoding="utf-8"))
    from urllib.parse import unquote

    links = [unquote(a["href"]) for t, a in page.tags if t == "a" and a.get("href", "").startswith("results/")]
    assert links and all((tmp_path / link).is_file() for link in links)
    assert {Path(link).stem for link in links} == set(toy_class())


def test_the_report_command_rebuilds_the_report_from_results(tmp_path, capsys):
    write_class(tmp_path / "out")
    assert main(["report", str(tmp_path / "out")]) == 0
    assert "7 submissions" in capsys.readouterr().out
    assert all((tmp_path / "out" / f).is_file() for f in ("report.html", "tests.csv", "diagnoses.csv"))
    (tmp_path / "out" / "results" / "broken.json").write_text("{not json")
    assert main(["report", str(tmp_path / "out")]) == 0
    assert "broken.json could not be read" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty" / "results").mkdir(parents=True)
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "holds no results files" in capsys.readouterr().err


# ----------------------------------------------------------------------------- in a real browser


def browser() -> str:
    """Chromium. Without it CI fails (.ci/run installs it first, so there it is never missing); on a
    developer's machine, where `make test` needs only Python and pip, the render is skipped with a
    line saying how to get it (the page's structure and numbers are still checked by parsing)."""
    found = headless.chromium()
    if found is None:
        why = ("chromium not found: install it (as root: apt-get install -y chromium) or set CHROMIUM; "
               "the report's browser tests need it")
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI={os.environ.get('CI')!r})")
        pytest.skip(why)
    return found


def looks_drawn(png: Path, size) -> None:
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == size
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20  # not a blank page


def test_the_console_check_sees_a_page_that_errs(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><title>x</title><script>console.error('planted')</script>"
                    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">')
    _, console = headless.render(page, tmp_path / "bad.png", 400, 300, browser())
    assert any("planted" in line for line in console), console


def test_the_report_renders_headless_without_console_errors(tmp_path):
    write_report(tmp_path, write_class(tmp_path))
    seconds, console = headless.render(tmp_path / "report.html", tmp_path / "report.png", 1280, 1800, browser())
    assert console == []
    looks_drawn(tmp_path / "report.png", (1280, 1800))


# ----------------------------------------------------------------------------- the demo class


@pytest.fixture(scope="module")
def quick_bundle(bundles, tmp_path_factory):
    """The rnn bundle with a 2 s time limit on the clip_grad_norm tests, where the demo's hang is."""
    rnn = bundles("rnn")
    clip = {t.id: 2.0 for t in rnn.spec.tests if t.target.endswith(".clip_grad_norm")}
    return edited_bundle(rnn, tmp_path_factory.mktemp("quick") / "bundle", timeouts=clip)


@pytest.mark.slow
def test_the_demo_class_gets_one_diagnosis_per_planted_bug(quick_bundle, tmp_path):
    import demo_class

    from autograder.batch.run import grade_batch

    planted = demo_class.make_class(tmp_path / "class")  # the class of the README's `make demo`
    assert len(planted) >= 30 and sum(kind in ("mutant", "pattern") for kind, _ in planted.values()) >= 30
    out = tmp_path / "out"
    rows = grade_batch(quick_bundle, tmp_path / "class", out, jobs=2, progress=False)
    assert len(rows) == len(planted) and not any(r.error for r in rows)
    with open(out / "diagnoses.csv", newline="", encoding="utf-8") as f:
        found = {(d["diagnosis"], d["function"]): int(d["students"]) for d in csv.DictReader(f)}
    assert found == dict(demo_class.expected_diagnoses(planted))
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        grades = list(csv.DictReader(f))
    by_entry = {}
    for g in grades:
        by_entry.setdefault(g["submission"], []).append(g)
    assert all(g["error"] for g in grades if float(g["score"]) == 0)
    says = {"corrupt zip": "is not a valid zip file", "empty folder": "empty submission", "syntax error": "SyntaxError",
            "missing file": "Missing file: captioning_rnn.py", "starter": "not implemented"}
    for entry_name, (kind, label) in planted.items():
        if kind == "whole":
            assert says[label] in by_entry[entry_name][0]["error"], (label, by_entry[entry_name][0]["error"])
    groups = [rows_ for rows_ in by_entry.values() if len(rows_) > 1]
    assert len(groups) == 1 and len({g["score"] for g in groups[0]}) == 1 and " + " in groups[0][0]["group"]
    _, console = headless.render(out / "report.html", tmp_path / "demo.png", 1280, 2400, browser())
    assert console == []
