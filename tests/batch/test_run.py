"""Batch grading: discovery, parallel workers that survive anything, the outputs, resuming."""

import csv
import json
import os
import shutil
import signal
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from autograder.grading import grade
from autograder.sandbox import reaper
from autograder.sandbox import template
from autograder.batch.run import discover, grade_batch, summary
from autograder.batch.inputs import Member, file_key
from autograder.spec.bundle import Bundle
from autograder.cli import main
from autograder.core.errors import AutograderError

from tests.helpers.hostile_submissions import edited_bundle
from tests.helpers.paths import ROOT

SOLUTION = ROOT / "solutions" / "rnn"
FILES = ("rnn_layers.py", "captioning_rnn.py")
CLIP_TIMEOUT = 1.0
PNG = b"\x89PNG\r\n\x1a\n"


def submission(folder: Path, edits=None, prefix=None) -> Path:
    """A copy of the reference in `folder`, with `edits` {file: (old, new)} and `prefix` {file: text} applied."""
    folder.mkdir(parents=True)
    for f in FILES:
        text = (SOLUTION / f).read_text()
        old, new = (edits or {}).get(f, ("", ""))
        if old:
            assert old in text, old
            text = text.replace(old, new, 1)
        (folder / f).write_text((prefix or {}).get(f, "") + text)
    return folder


@pytest.fixture(scope="module")
def quick_bundle(bundles, tmp_path_factory):
    """The rnn bundle with a short time limit on the clip_grad_norm tests, where our hang is."""
    rnn = bundles("rnn")
    clip = {t.id: CLIP_TIMEOUT for t in rnn.spec.tests if t.target.endswith(".clip_grad_norm")}
    return edited_bundle(rnn, tmp_path_factory.mktemp("quick") / "bundle", timeouts=clip)


def leftovers() -> list:
    """Processes still below this one, but for its own template and spare (which serve its grades)."""
    ours = template.running()
    return [pid for pid in reaper.descendants(os.getpid()) if pid not in ours]


def points(spec, keep=lambda t: True) -> float:
    return sum(t.points for t in spec.tests if keep(t))


def read_csv(path):
    with open(path, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


# ----------------------------------------------------------------------------- finding submissions


def test_discover_takes_folders_and_zips_and_skips_the_rest(tmp_path):
    (tmp_path / "bob").mkdir()
    (tmp_path / "alice.zip").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".DS_Store").write_text("x")
    (tmp_path / "__MACOSX").mkdir()
    warnings = []
    subs = discover(tmp_path, warn=warnings.append)
    assert [(s.student, s.submission, s.key) for s in subs] == [("alice", "alice.zip", "alice"), ("bob", "bob", "bob")]
    assert warnings == [f"skipped 1 entries of {tmp_path} that are neither folders nor zips: notes.txt"]


def test_discover_gives_every_submission_its_own_results_file(tmp_path):
    for name in ("Ann Lee", "Ann Lee.zip", "../x", "é"):
        if name.endswith(".zip"):
            (tmp_path / name).write_bytes(b"")
        elif "/" not in name:
            (tmp_path / name).mkdir()
    keys = [s.key for s in discover(tmp_path, warn=lambda m: None)]
    assert len(set(keys)) == len(keys) == 3
    assert all(k and "/" not in k and " " not in k for k in keys)


@pytest.mark.parametrize("name, key", [
    ("Zoë Ní Bhriain", "Zoë_Ní_Bhriain"), ("李雷", "李雷"), ("हिन्दी नाम", "हिन्दी_नाम"),  # marks kept: still readable
    ("Ze\u0301lia", "Zélia"),  # composed to NFC
    ("../../etc/passwd", "etc_passwd"), ("a\\b:c", "a_b_c"), ("tab\there\nnew\x00line", "tab_here_new_line"),
    ("\u202eexe.txt", "exe.txt"), ("zero\u200bwidth", "zero_width"), (".hidden", "hidden"), ("///", ""),
])
def test_file_keys_keep_names_readable_and_safe(name, key):
    assert file_key(name) == key


def test_file_keys_fit_a_file_name_and_differ_ignoring_case(tmp_path):
    long = file_key("Ã" * 300)
    assert len(long.encode()) <= 120 and set(long) == {"Ã"}
    for name in ("Zoë", "zoë", "ZOË"):
        (tmp_path / name).mkdir()
    keys = [s.key for s in discover(tmp_path, warn=lambda m: None)]
    assert len({k.casefold() for k in keys}) == 3
    for k in keys:
        (tmp_path / f"{k}.json").write_text("{}")  # each is a file name the file system takes


METADATA = """\
submission_111:
  :submitters:
  - :name: Ada Lovelace
    :sid: '0001'
    :email: ada@example.edu
  :created_at: 2025-03-01 12:00:00.123456789 -08:00
  :score: !ruby/object:BigDecimal 18:0.1E2
  :status: processed
submission_222:
  :submitters:
  - :name: Alan Turing
    :sid: '0002'
    :email: alan@example.edu
  - :name: Grace Hopper
    :sid: '0003'
    :email: grace@example.edu
"""


def export_folder(root: Path, metadata=METADATA) -> Path:
    for sid in ("111", "222", "333"):
        (root / f"submission_{sid}").mkdir(parents=True)
    if metadata is not None:
        (root / "submission_metadata.yml").write_text(metadata)
    return root


def test_a_gradescope_export_names_students_from_its_metadata(tmp_path):
    warnings = []
    subs = discover(export_folder(tmp_path / "assignment_9_export"), warn=warnings.append)
    assert [(s.student, s.sid, s.email, s.submission) for s in subs] == [
        ("Ada Lovelace", "0001", "ada@example.edu", "submission_111"),
        ("Alan Turing + Grace Hopper", "0002;0003", "alan@example.edu;grace@example.edu", "submission_222"),
        ("submission_333", "", "", "submission_333")]
    assert subs[1].key == "Alan_Turing_Grace_Hopper"
    assert subs[1].members == [Member("Alan Turing", "0002", "alan@example.edu"),
                               Member("Grace Hopper", "0003", "grace@example.edu")]
    assert subs[1].group == "Alan Turing + Grace Hopper" and subs[0].group == ""
    assert subs[2].members == [Member("submission_333")]
    assert warnings == ["submission_333 is not in submission_metadata.yml; naming it by its folder"]
    # The unzipped export's own top folder is looked into.
    assert [s.student for s in discover(tmp_path, warn=lambda m: None)][:1] == ["Ada Lovelace"]


@pytest.mark.parametrize("metadata, says", [
    (None, "looks like a Gradescope export without submission_metadata.yml"),
    ("submission_111: [unclosed", "could not be read"),
    ("!!python/object/apply:os.system ['echo pwned']", "could not be read"),
    ("- just\n- a list\n", "is not a mapping"),
    ("submission_111: {':submitters': 3}\n", "names no submitters"),
])
def test_a_missing_or_malformed_metadata_file_falls_back_to_folder_names(tmp_path, metadata, says):
    warnings = []
    subs = discover(export_folder(tmp_path, metadata), warn=warnings.append)
    assert [s.student for s in subs] == ["submission_111", "submission_222", "submission_333"]
    assert any(says in w for w in warnings), warnings


# ----------------------------------------------------------------------------- grading a folder


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Correct, partial, hanging, crashing and zipped submissions, and the score each must get."""
    root = tmp_path_factory.mktemp("mixed") / "submissions"
    submission(root / "correct")
    submission(root / "partial", {"rnn_layers.py": ("    total_norm = float(", "    raise ValueError('todo')\n"
                                                                            "    total_norm = float(")})
    submission(root / "hanging", {"rnn_layers.py": ("    total_norm = float(", "    while True:\n        pass\n"
                                                                            "    total_norm = float(")})
    submission(root / "crashing", prefix={"captioning_rnn.py": "import ctypes\nctypes.string_at(0)\n"})
    with zipfile.ZipFile(root / "zipped.zip", "w") as zf:
        for f in FILES:
            zf.write(SOLUTION / f, f"homework/{f}")

    def expected(spec):
        clip = lambda t: t.graded == "clip_grad_norm"  # noqa: E731
        full = spec.max_score
        return {"correct": full, "zipped": full, "partial": full - points(spec, clip), "hanging": full - points(spec, clip),
                "crashing": full - points(spec, lambda t: t.module == "captioning_rnn")}
    return root, expected


@pytest.mark.slow
def test_a_mixed_folder_is_graded_resumed_and_forced(quick_bundle, mixed, tmp_path):
    root, expected = mixed
    spec = quick_bundle.spec
    want = expected(spec)
    assert 0 < want["crashing"] < want["partial"] == want["hanging"] < spec.max_score
    out = tmp_path / "out"
    rows = grade_batch(quick_bundle, root, out, jobs=2, progress=False)
    assert {r.sub.student: r.score for r in rows} == want
    assert all(r.graded_now and not r.error for r in rows)
    table = read_csv(out / "grades.csv")
    assert set(table) == set(want)
    names = [t.name for t in spec.tests]
    for student, score in want.items():
        row = table[student]
        assert float(row["score"]) == score and float(row["max"]) == spec.max_score and row["error"] == ""
        assert sum(float(row[n]) for n in names) == score
        data = json.loads((out / "results" / f"{student}.json").read_text())
        assert data["score"] == score and [t["name"] for t in data["tests"]] == names
    assert table["zipped"]["submission"] == "zipped.zip"
    clip = next(n for n in names if n.startswith("clip_grad_norm: clipped"))
    assert float(table["partial"][clip]) == 0 and float(table["correct"][clip]) == 1
    said = {name: next(t["output"] for t in json.loads((out / "results" / f"{name}.json").read_text())["tests"]
                       if t["name"] == clip) for name in ("partial", "hanging")}
    assert "clip_grad_norm raised ValueError: todo" in said["partial"]
    assert "did not finish within this test's time limit" in said["hanging"]
    assert (out / "histogram.png").read_bytes()[:8] == PNG
    text = summary(rows, spec)
    assert "5 submissions (5 graded now" in text and "full marks: 2" in text and clip in text
    assert leftovers() == []  # no worker, template or sandboxed child is left behind

    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir()}
    again = grade_batch(quick_bundle, root, out, jobs=2, progress=False)
    assert not any(r.graded_now for r in again)
    assert {r.sub.student: r.score for r in again} == want
    assert {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir()} == stamps
    assert read_csv(out / "grades.csv") == table

    changed = tmp_path / "changed"  # another bundle: results are kept, with a warning
    shutil.copytree(quick_bundle.root, changed)
    (changed / "assignment.json").write_text((changed / "assignment.json").read_text() + "\n")
    warnings = []
    kept = grade_batch(Bundle(changed), root, out, jobs=2, progress=False, warn=warnings.append)
    assert not any(r.graded_now for r in kept)
    assert any("5 results" in w and "--force" in w for w in warnings), warnings

    some = tmp_path / "some"  # --force regrades what DIR holds, even with results; two keep this quick
    for name in ("partial", "crashing"):
        shutil.copytree(root / name, some / name)
    forced = grade_batch(quick_bundle, some, out, jobs=2, force=True, progress=False)
    assert all(r.graded_now for r in forced) and {r.sub.student: r.score for r in forced} == {
        "partial": want["partial"], "crashing": want["crashing"]}
    assert {p.name for p in (out / "results").iterdir() if p.stat().st_mtime_ns > stamps[p.name]} == {
        "partial.json", "crashing.json"}


@pytest.mark.slow
def test_a_dead_or_stuck_worker_costs_only_its_own_submission(quick_bundle, tmp_path, monkeypatch):
    root = tmp_path / "submissions"
    for name in ("doomed", "stuck", "survivor"):
        submission(root / name, prefix={f: "raise SystemExit('no grading today')\n" for f in FILES})
    real = grade.grade_path

    def hostile(bundle, path, *args, **kw):  # runs in the forked worker, as an escaped student might
        if path.name == "doomed":
            os.kill(os.getpid(), signal.SIGKILL)
        if path.name == "stuck":
            time.sleep(600)
        return real(bundle, path, *args, **kw)

    monkeypatch.setattr(grade, "grade_path", hostile)
    out = tmp_path / "out"
    rows = {r.sub.student: r for r in grade_batch(quick_bundle, root, out, jobs=2, timeout=8, progress=False)}
    assert rows["survivor"].error == "" and rows["survivor"].score == 0
    assert "killed by SIGKILL" in rows["doomed"].error
    assert "took longer than 8 s" in rows["stuck"].error
    for name in ("doomed", "stuck"):
        data = json.loads((out / "results" / f"{name}.json").read_text())
        assert data["score"] == 0 and len(data["tests"]) == len(quick_bundle.spec.tests)
        assert all(t["output"].startswith("Not graded:") for t in data["tests"])
    assert leftovers() == []
    assert "not graded: doomed" in summary(list(rows.values()), quick_bundle.spec)

    monkeypatch.setattr(grade, "grade_path", real)  # a rerun tries the failed ones again, only those
    survivor = (out / "results" / "survivor.json").stat().st_mtime_ns
    again = {r.sub.student: r for r in grade_batch(quick_bundle, root, out, jobs=2, progress=False)}
    assert again["doomed"].graded_now and again["stuck"].graded_now and not again["survivor"].graded_now
    assert not any(r.error for r in again.values())
    assert (out / "results" / "survivor.json").stat().st_mtime_ns == survivor


@pytest.mark.slow
def test_the_command_grades_a_gradescope_export(quick_bundle, tmp_path, capsys):
    export = tmp_path / "export"
    submission(export / "submission_111")
    submission(export / "submission_222", prefix={"captioning_rnn.py": "raise ImportError('oops')\n"})
    (export / "submission_metadata.yml").write_text(METADATA)
    out = tmp_path / "out"
    code = main(["grade-batch", "rnn", str(export), "--out", str(out), "--jobs", "2",
                 "--bundle", str(quick_bundle.root), "--progress"])
    assert code == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "grading rnn: 100%" in captured.err  # the bar, although stderr is no terminal here
    spec = quick_bundle.spec
    assert "rnn: 2 submissions (2 graded now, 0 from earlier runs)" in printed and "full marks: 1" in printed
    table = read_csv(out / "grades.csv")
    assert float(table["Ada Lovelace"]["score"]) == spec.max_score
    assert table["Ada Lovelace"]["sid"] == "0001" and table["Ada Lovelace"]["submission"] == "submission_111"
    assert table["Ada Lovelace"]["group"] == ""
    # A group submission: a row for each student, the same score and tests, the group named.
    assert set(table) == {"Ada Lovelace", "Alan Turing", "Grace Hopper"}
    alan, grace = table["Alan Turing"], table["Grace Hopper"]
    assert float(alan["score"]) == spec.max_score - points(spec, lambda t: t.module == "captioning_rnn")
    assert (alan["sid"], alan["email"], grace["sid"], grace["email"]) == ("0002", "alan@example.edu", "0003",
                                                                          "grace@example.edu")
    assert {k: v for k, v in alan.items() if k not in ("student", "sid", "email")} == {
        k: v for k, v in grace.items() if k not in ("student", "sid", "email")}
    assert alan["group"] == "Alan Turing + Grace Hopper" and alan["submission"] == "submission_222"
    assert "2 submissions (2 graded now, 0 from earlier runs), 3 students" in printed
    assert sorted(p.name for p in (out / "results").iterdir()) == ["Ada_Lovelace.json", "Alan_Turing_Grace_Hopper.json"]
    assert (out / "histogram.png").read_bytes()[:8] == PNG
    assert all((out / f).is_file() for f in ("report.html", "tests.csv", "diagnoses.csv"))


NEIGHBOUR = """import os as _o, time as _t
_d = _o.environ["NEIGHBOURS"]
try:  # once per sandbox user: note this process, wait for the other submission's, try to signal it
    _fd = _o.open(f"{_d}/pid-{_o.getuid()}", _o.O_CREAT | _o.O_EXCL | _o.O_WRONLY)
except FileExistsError:
    pass
else:
    _o.write(_fd, str(_o.getpid()).encode())
    _o.close(_fd)
    _end, _others = _t.time() + 10, []
    while _t.time() < _end and not _others:
        _others = [n for n in _o.listdir(_d) if n.startswith("pid-") and n != f"pid-{_o.getuid()}"]
        _t.sleep(0.05)
    _said = "saw no other submission"
    for _n in _others:
        try:
            _o.kill(int(open(f"{_d}/{_n}").read()), 0)
            _said = "signalled it"
        except OSError as _e:
            _said = type(_e).__name__
    with open(f"{_d}/said-{_o.getuid()}", "w") as _f:
        _f.write(_said)
    _t.sleep(1.0)  # alive while the other one tries
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: sandbox users exist only when grading as root")
def test_submissions_graded_side_by_side_run_as_different_users(bundles, tmp_path, monkeypatch):
    """Needs root. Two submissions, two workers: each submission's code notes its process, waits
    for the other's and tries to signal it. They run as two different sandbox users (one per
    worker, created on demand), and each attempt is refused."""
    from tests.helpers.paths import shared_tmp

    neighbours = Path(tempfile.mkdtemp(prefix="neighbours-", dir=shared_tmp()))
    neighbours.chmod(0o777)
    monkeypatch.setenv("NEIGHBOURS", str(neighbours))
    root = tmp_path / "submissions"
    for name in ("left", "right"):
        submission(root / name, prefix={"rnn_layers.py": NEIGHBOUR})
    try:
        rows = grade_batch(bundles("rnn"), root, tmp_path / "out", jobs=2, progress=False)
        said = {p.name: p.read_text() for p in neighbours.iterdir() if p.name.startswith("said-")}
    finally:
        shutil.rmtree(neighbours, ignore_errors=True)
    assert all(not r.error for r in rows)
    assert len(said) == 2, said  # two users, each saw the other
    assert set(said.values()) == {"PermissionError"}, said
    assert leftovers() == []


def test_the_command_refuses_a_missing_folder_and_a_bad_job_count(tmp_path, bundles, capsys):
    bundle = str(bundles("rnn").root)
    assert main(["grade-batch", "rnn", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--bundle", bundle]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["grade-batch", "rnn", str(tmp_path), "--out", str(tmp_path / "o"), "--jobs", "0",
                 "--bundle", bundle]) == 2
    assert "--jobs 0" in capsys.readouterr().err


# ----------------------------------------------------------------------------- --due: the late policy


LATE_METADATA = """\
submission_111:
  :submitters:
  - :name: Ada Lovelace
    :sid: '0001'
    :email: ada@example.edu
  :created_at: 2026-05-19 05:59:00.000000000 -04:00
submission_222:
  :submitters:
  - :name: Alan Turing
    :sid: '0002'
    :email: alan@example.edu
  :created_at: 2026-05-18 03:00:00.000000000 +00:00
submission_444:
  :submitters:
  - :name: Grace Hopper
    :sid: '0003'
    :email: grace@example.edu
"""


@pytest.mark.slow
def test_grade_batch_due_applies_the_late_policy_from_the_export(quick_bundle, tmp_path, capsys):
    export = tmp_path / "export"
    for sid in ("111", "222", "333", "444"):
        submission(export / f"submission_{sid}")
    (export / "submission_metadata.yml").write_text(LATE_METADATA)
    out = tmp_path / "out"
    spec = quick_bundle.spec
    full = spec.max_score
    assert [(s.hours, s.keep) for s in spec.policy.late] == [(0, 0.85), (24, 0.7), (48, 0)]

    def run(*due):
        assert main(["grade-batch", "rnn", str(export), "--out", str(out), "--jobs", "2",
                     "--bundle", str(quick_bundle.root), *due]) == 0
        capsys.readouterr()
        return read_csv(out / "grades.csv")

    table = run("--due", "2026-05-17T23:59:00-04:00")
    ada, alan = table["Ada Lovelace"], table["Alan Turing"]
    assert (float(ada["raw_score"]), float(ada["hours_late"]), float(ada["score"])) == (full, 30.0, round(0.7 * full, 6))
    # 03:00 UTC on the 18th is 23:00 EDT on the 17th: 59 minutes early, in another time zone.
    assert (float(alan["raw_score"]), float(alan["hours_late"]), float(alan["score"])) == (full, -0.98, full)
    for who in ("submission_333", "Grace Hopper"):  # not in the metadata / no created_at: no penalty
        assert (float(table[who]["score"]), table[who]["hours_late"]) == (full, "")
    said = json.loads((out / "results" / "Ada_Lovelace.json").read_text())
    assert "30.0 hours after the due date" in said["output"] and "keeps 70%" in said["output"]
    assert sum(t["score"] for t in said["tests"]) == full  # each test keeps its score
    assert "no created_at" in json.loads((out / "results" / "Grace_Hopper.json").read_text())["output"]

    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir()}
    moved = run("--due", "2026-05-18T23:59:00-04:00")  # a day later: rescored from the raw score, not regraded
    assert float(moved["Ada Lovelace"]["score"]) == round(0.85 * full, 6)
    assert float(moved["Ada Lovelace"]["hours_late"]) == 6.0
    assert float(moved["Alan Turing"]["score"]) == full
    assert {p.name for p in (out / "results").iterdir()
            if p.stat().st_mtime_ns != stamps[p.name]} <= {"Ada_Lovelace.json", "Alan_Turing.json"}
    plain = run()  # without --due: the scores as graded
    assert float(plain["Ada Lovelace"]["score"]) == full and plain["Ada Lovelace"]["hours_late"] == ""
    assert "Late policy" not in json.loads((out / "results" / "Ada_Lovelace.json").read_text())["output"]


@pytest.mark.parametrize("due, says", [
    ("2026-05-17T23:59:00", "--due: '2026-05-17T23:59:00' has no time zone offset"),
    ("tomorrow", "--due: 'tomorrow' is not an ISO 8601 time"),
])
def test_grade_batch_refuses_a_due_date_it_cannot_read(tmp_path, bundles, capsys, due, says):
    bundle = str(bundles("rnn").root)
    assert main(["grade-batch", "rnn", str(tmp_path), "--out", str(tmp_path / "o"), "--due", due,
                 "--bundle", bundle]) == 2
    assert says in capsys.readouterr().err
@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf"])
def test_the_command_refuses_a_timeout_that_is_not_a_positive_number(value, tmp_path, bundles, capsys):
    assert main(["grade-batch", "rnn", str(tmp_path), "--out", str(tmp_path / "o"), "--timeout", value,
                 "--bundle", str(bundles("rnn").root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"autograder: --timeout {value}") and "positive number of seconds" in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(AutograderError, match="positive number"):
        grade_batch(bundles("rnn"), tmp_path, tmp_path / "o", timeout=0)


def test_every_zero_gets_a_reason_in_grades_csv_and_the_summary(bundles, tmp_path):
    root = tmp_path / "submissions"
    (root / "empty").mkdir(parents=True)
    (root / "corrupt.zip").write_bytes(b"PK\x03\x04 cut short")
    submission(root / "syntax", {"rnn_layers.py": ("def sigmoid(x):", "def sigmoid(x)")})
    submission(root / "half")
    (root / "half" / "captioning_rnn.py").rename(root / "half" / "captioning-rnn.py")
    spec = bundles("rnn").spec
    rows = grade_batch(bundles("rnn"), root, tmp_path / "out", jobs=2, progress=False)
    table = read_csv(tmp_path / "out" / "grades.csv")
    assert {name: float(row["score"]) for name, row in table.items()} == {
        "empty": 0, "corrupt": 0, "syntax": 0, "half": spec.max_score - points(spec, lambda t: t.module == "captioning_rnn")}
    assert table["empty"]["error"] == "empty submission: it holds no files (expected rnn_layers.py, captioning_rnn.py)"
    assert table["corrupt"]["error"].startswith("corrupt.zip is not a valid zip file")
    assert table["syntax"]["error"].startswith("scored 0: all tests failed (import error: SyntaxError); first: ")
    assert "rnn_layers.py line 213" in table["syntax"]["error"]
    assert table["half"]["error"] == ("Missing file: captioning_rnn.py (found: captioning-rnn.py, rnn_layers.py). "
                                      "A file named captioning-rnn.py was found: rename it to captioning_rnn.py.")
    text = summary(rows, spec)
    assert "  zero (3), with the reason grades.csv gives:" in text.splitlines()
    for name, entry in (("empty", "empty"), ("corrupt", "corrupt.zip"), ("syntax", "syntax")):
        why = table[name]["error"].removeprefix("scored 0: ")
        assert f"    scored 0: {name} ({entry}): {why}" in text.splitlines(), text
