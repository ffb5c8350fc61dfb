"""Hostile submissions: whatever a submission does, its grade is right, complete and written.

Each hostile submission is the rnn reference with one small edit: a graded function wrapped by
hostile code (`wrap`), or code appended at module level (longer snippets live in
tests/fixtures/hostile/). The expected score is computed from the spec: the reference scores full
marks, so a hostile function loses exactly the points of the tests it affects. Every grade here
also checks that every test asked for is reported, that the bundle folder is byte-for-byte
unchanged, that the grader logged no internal error and that no process is left behind.

Hostile code leaves notes (what it tried and what happened, pids it started) in HOSTILE_DIR, a
folder the sandbox user may write, through `_record` and `_attempt` (fixtures/hostile/record.py).

Tests marked `needs root` check the defences that exist only when grading as root (as on
Gradescope): the sandbox user, no network, a process limit, the grader's folders locked.
CI runs as root, so they run there (see test_ci_runs_the_root_only_defences).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from autograder.grading import gradescope
from autograder.sandbox import template
from autograder.build.package import TEMPLATES, engine_files
from autograder.spec.bundle import Bundle
from autograder.grading.grade import grade_files
from autograder.sandbox.reaper import descendants
from autograder.core.zipio import tree_entries, write_zip

from conftest import shared_tmp
from hostile_submissions import (CALL_HOSTILITY, CHILD_MODULES, CONTROL, HANGS, IMPORT_HOSTILITY, PRINT_20MB, RETURNS,
                                 TARGET, edited_bundle, first_tests, forging_probes, hanging,
                                 memory_bomb, patching_everything, pick, returning, snippet, spawning,
                                 stealing_reference, submission, training_test, wrap, zero_gradients)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: a defence that exists only when grading as root")


# --- grading and what every grade must satisfy -----------------------------------------------------

def tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        h.update(str(path.relative_to(folder)).encode())
        h.update(oct(path.stat().st_mode).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def assert_nothing_left(pids=()) -> None:
    """No process the submission started still runs (a second's grace for those being killed),
    and the grader has reaped every process that ended up as its child. Leftovers are cleaned
    up before the asserts, so that no other test trips on them."""
    ours = template.running()  # this process's template and its spare, which serve every grade here
    left = {pid: describe(pid) for pid in descendants(os.getpid()) if pid not in ours}
    deadline = time.monotonic() + 1.0
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    living = [p for p in pids if alive(p)]
    clean_up(living + list(left))
    assert living == [], "processes started by the submission outlived grading"
    assert left == {}, "the grader is left with child processes: dying or dead (zombies), but not reaped"


def describe(pid: int) -> str:
    """'pid (name) state' of a process, for messages."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            head, tail = f.read().rsplit(")", 1)
        return f"{head}) {tail.split()[0]}"
    except OSError:
        return "gone"


def clean_up(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    ours = template.running()  # alive and serving: never waited for here
    for pid in descendants(os.getpid()):
        if pid in ours:
            continue
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def grade(bundle, files: dict, ids=None, **kw):
    """grade_files, checked: every test asked for is reported, in order; the bundle is unchanged;
    the grader logged no internal error; no process is left, of those the submission noted either."""
    logs = []
    before = tree_hash(bundle.root)
    report = grade_files(bundle, files, tests=ids, log=logs.append, **kw)
    assert tree_hash(bundle.root) == before, "the grader's bundle folder changed"
    assert logs == []
    wanted = [t.name for t in bundle.spec.tests if ids is None or t.id in ids]
    assert [r.test.name for r in report.results] == wanted
    assert_nothing_left(Notes.current().pids())
    return report


def check_score(report, failing: set) -> None:
    """The tests in `failing` (ids) score 0, every other test full marks; the total follows."""
    got = {r.test.id: r.score for r in report.results}
    assert got == {r.test.id: (0.0 if r.test.id in failing else r.max_score) for r in report.results}, \
        {r.test.name: r.output[:300] for r in report.results}
    assert report.score == sum(r.max_score for r in report.results if r.test.id not in failing)


def outputs(report, ids) -> list[str]:
    return [r.output for r in report.results if r.test.id in ids]


class Notes:
    """What hostile code recorded in HOSTILE_DIR."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __call__(self, kind: str) -> list:
        return [json.loads(p.read_text()) for p in sorted(self.folder.glob(f"{kind}.*"))]

    def pids(self) -> list[int]:
        return [pid for pids in self("spawned") for pid in pids]

    @staticmethod
    def current() -> "Notes":
        """The notes of the running test (the `notes` fixture sets HOSTILE_DIR)."""
        return Notes(Path(os.environ["HOSTILE_DIR"]))


@pytest.fixture
def notes(monkeypatch):
    template.warm(CHILD_MODULES)
    folder = Path(tempfile.mkdtemp(prefix="hostile-notes-", dir=shared_tmp()))
    folder.chmod(0o777)  # the sandbox user writes here when grading as root
    monkeypatch.setenv("HOSTILE_DIR", str(folder))
    yield Notes(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def rnn(bundles):
    return bundles("rnn")


@pytest.fixture(scope="module")
def edited(bundles, tmp_path_factory):
    """edited(budget=..., timeouts=..., keep=...): a copy of the rnn bundle, made once per module,
    so that its data is read once."""
    cache = {}

    def get(**changes):
        key = json.dumps(changes, sort_keys=True, default=sorted)
        if key not in cache:
            bundle = edited_bundle(bundles("rnn"), tmp_path_factory.mktemp("edited") / "bundle", **changes)
            for cases in bundle.spec.casesets.values():  # read the data now, not inside a timed grade
                for case in cases.cases:
                    bundle.inputs(cases.name, case)
            cache[key] = bundle
        return cache[key]

    return get


# --- import time -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(IMPORT_HOSTILITY))
def test_a_module_hostile_at_import_fails_every_test_that_imports_it(rnn, tmp_path, notes, kind):
    """rnn_layers.py misbehaves at import (even 'successfully', with exit code 0): every test
    scores 0 with a message that says why, those of captioning_rnn too, which imports it."""
    code, message = IMPORT_HOSTILITY[kind]
    files = submission(tmp_path, prepend=code)
    ids = first_tests(rnn.spec)
    report = grade(rnn, files, ids)
    check_score(report, ids)
    for r in report.results:
        said = message if kind in ("os_exit", "kill_self") else f"importing {r.test.module}.py {message}"
        assert said in r.output, r.output


def test_a_module_exiting_at_import_scores_zero_with_every_test_listed(rnn, tmp_path, notes):
    """The whole spec for rnn_layers.py calling sys.exit(0) at import: all tests reported, all 0."""
    files = submission(tmp_path, prepend="import sys\nsys.exit(0)\n")
    report = grade(rnn, files)
    check_score(report, {t.id for t in rnn.spec.tests})
    assert all("called exit()" in r.output for r in report.results)


def test_a_module_exiting_at_import_costs_only_the_tests_that_import_it(rnn, tmp_path, notes):
    """captioning_rnn.py calls sys.exit(0) at import: only CaptioningRNN's tests fail."""
    files = submission(tmp_path, fname="captioning_rnn.py", prepend="import sys\nsys.exit(0)\n")
    captioning = {t.id for t in rnn.spec.tests if t.module == "captioning_rnn"}
    ids = captioning | first_tests(rnn.spec)
    report = grade(rnn, files, ids)
    check_score(report, captioning)
    assert all("importing captioning_rnn.py called exit()" in text for text in outputs(report, captioning))


# --- one hostile function: crashes and exits ---------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(CALL_HOSTILITY))
def test_a_function_that_crashes_or_exits_fails_alone(rnn, tmp_path, notes, kind):
    """rnn_backward exits, is killed, crashes, scribbles on the reply pipe or sends a forged reply
    header (nested too deeply to read, a field of the wrong type, a field missing): its tests score
    0 with a message naming what happened, as the submission's doing (the grader logs no internal
    error); the honest function graded next to it keeps its points."""
    code, message = CALL_HOSTILITY[kind]
    files = submission(tmp_path, wrap(TARGET, code))
    ids = pick(rnn.spec, CONTROL, TARGET)
    report = grade(rnn, files, ids)
    hostile = pick(rnn.spec, TARGET)
    check_score(report, hostile)
    for text in outputs(report, hostile):
        assert message in text, text


# --- one hostile function: never returns ---------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(HANGS))
def test_a_function_that_never_returns_times_out_and_is_killed(rnn, edited, tmp_path, notes, kind):
    """rnn_backward loops, sleeps (using no CPU time), catches every exception in its loop, or
    stops itself: at the test's time limit the child is killed and the test fails with a timeout
    message; the honest function keeps its points."""
    timeout = 1.0
    gradients = pick(rnn.spec, TARGET, kinds=("gradients",))
    bundle = edited(timeouts={i: timeout for i in gradients})
    files = hanging(tmp_path, kind)
    ids = pick(rnn.spec, CONTROL) | gradients
    report = grade(bundle, files, ids)
    check_score(report, gradients)
    for r in report.results:
        if r.test.id in gradients:
            assert f"did not finish within this test's time limit of {timeout:g} s" in r.output
            assert r.elapsed < timeout + 1.5
    assert notes.pids()


# --- one hostile function: resources -------------------------------------------------------------------

def test_a_memory_bomb_fails_with_a_memory_error(rnn, tmp_path, notes):
    """rnn_backward asks for twice the memory limit (zeroed pages, so without the limit it would
    succeed without touching the machine's memory): a MemoryError, reported as such."""
    files = memory_bomb(tmp_path, rnn.spec)
    report = grade(rnn, files, pick(rnn.spec, CONTROL, TARGET))
    hostile = pick(rnn.spec, TARGET)
    check_score(report, hostile)
    for text in outputs(report, hostile):
        assert "MemoryError" in text, text


def test_processes_a_function_starts_are_gone_after_grading(rnn, tmp_path, notes):
    """rnn_backward (otherwise correct) starts a child, a child in its own session, a
    double-forked daemon and plain forks, every call: full marks, and none of them survives."""
    files = spawning(tmp_path)
    report = grade(rnn, files, pick(rnn.spec, CONTROL, TARGET))
    check_score(report, set())
    pids = notes.pids()
    assert len(pids) >= 6


@needs_root
def test_the_number_of_processes_is_bounded_as_root(rnn, tmp_path, notes):
    """Needs root. rnn_backward tries to fork twice the process limit (once per child; bounded,
    never a real fork bomb): the sandbox user's process limit stops it; all are gone afterwards."""
    test = next(t for t in rnn.spec.tests if t.graded == TARGET)
    tries = 2 * test.limits.processes
    hostile = f"""
        global _forked
        if "_forked" not in globals():
            _forked, refused = [], None
            import time
            for _ in range({tries}):
                try:
                    pid = _hostile_os.fork()
                except OSError as exc:
                    refused = type(exc).__name__
                    break
                if pid == 0:
                    try:
                        time.sleep(300)
                    finally:
                        _hostile_os._exit(0)
                _forked.append(pid)
            _record("spawned", _forked)
            _record("refused", refused)
    """
    files = submission(tmp_path, wrap(TARGET, hostile))
    report = grade(rnn, files, {test.id})
    check_score(report, set())
    assert notes("refused") and all(r == "BlockingIOError" for r in notes("refused")), notes("refused")
    assert all(len(pids) < test.limits.processes for pids in notes("spawned"))


def test_printing_20_megabytes_changes_nothing_but_a_truncation_note(rnn, tmp_path, notes):
    """rnn_backward (otherwise correct) prints 20 MB to stdout and to stderr on every call: full
    marks, and what is kept of the output is small and says how much was cut."""
    files = submission(tmp_path, wrap(TARGET, PRINT_20MB))
    report = grade(rnn, files, pick(rnn.spec, CONTROL, TARGET))
    check_score(report, set())
    for r in report.results:
        if r.test.graded == TARGET:
            assert "Your code printed:\nAAAA" in r.output
            assert "more bytes of output not shown" in r.output
            assert len(r.output) < r.test.limits.output_kb * 1024 + 2000


# --- one hostile function: what it returns --------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(RETURNS))
def test_a_function_returning_unusable_values_fails_with_a_named_reason(rnn, tmp_path, notes, kind):
    """rnn_backward returns the right numbers in the wrong container (a list, an object array, a
    subclass with a lying __eq__), a reply over the size limit, or NaN/inf: its gradients test
    fails with a message naming the problem, and so does the check of its inputs (which counts
    only once the results are right); the honest function keeps its points."""
    expr, message = RETURNS[kind]
    files = submission(tmp_path, returning(expr))
    report = grade(rnn, files, pick(rnn.spec, CONTROL, TARGET))
    gradients = pick(rnn.spec, TARGET, kinds=("gradients",))
    check_score(report, gradients | pick(rnn.spec, TARGET, kinds=("unchanged",)))
    for text in outputs(report, gradients):
        assert message in text, text


# --- hostile code against the grader's machinery ----------------------------------------------------------

def test_monkeypatching_numpy_builtins_and_the_grader_inside_the_child_changes_no_verdict(rnn, tmp_path, notes):
    """rnn_layers.py makes np.allclose, np.testing, ndarray methods, builtins and the grader's own
    compare/check/result code (as loaded in the child) say 'equal', and rnn_backward returns
    wrong gradients: they still fail; everything else still passes."""
    files = patching_everything(tmp_path)
    report = grade(rnn, files, pick(rnn.spec, CONTROL, TARGET))
    gradients = pick(rnn.spec, TARGET, kinds=("gradients",))
    check_score(report, gradients | pick(rnn.spec, TARGET, kinds=("unchanged",)))
    assert all("'dx' differs from the reference" in text for text in outputs(report, gradients))
    patched = notes("patched")
    assert patched and "numpy.allclose" in patched[0]
    assert "autograder.grading.compare.compare" in patched[0] or "unreachable:autograder.grading.compare" in patched[0]


def test_patching_the_probes_in_the_child_earns_no_points(rnn, tmp_path, notes):
    """rnn_backward and CaptioningRNN.loss are not implemented (they raise NotImplementedError);
    rnn_layers.py replaces the probes that run next to it, so that the 'unchanged' probe never
    calls rnn_backward and the 'memorises' probe reports a loss that fell. Not one point."""
    files = forging_probes(tmp_path)
    ids = pick(rnn.spec, TARGET) | training_test(rnn.spec)
    assert len(ids) == 3
    report = grade(rnn, files, ids)
    assert notes("patched")
    check_score(report, ids)


@pytest.mark.parametrize("forge", [False, True], ids=["honest", "forged_trajectory"])
def test_a_captioning_model_with_zero_gradients_cannot_earn_the_training_points(rnn, tmp_path, notes, forge):
    """CaptioningRNN.loss returns the right loss and all-zero gradients, so nothing is learnt; with
    `forge`, captioning_rnn.py also rewrites the training probe to report the true first loss and
    then a loss that falls to nothing. Step 1 matches the reference either way, and the training
    test fails at step 2, where the first update shows (a check of the first loss and a bound on the
    last would have passed the forged run); its gradient tests fail too, and nothing else."""
    files = zero_gradients(tmp_path, forge)
    training = training_test(rnn.spec)
    gradients = pick(rnn.spec, "CaptioningRNN", kinds=("gradients",))
    ids = training | gradients | pick(rnn.spec, "CaptioningRNN", kinds=("outputs",))
    report = grade(rnn, files, ids)
    check_score(report, training | gradients)
    (message,) = outputs(report, training)
    assert "'losses' departs from the reference at step 2 of 151" in message and "step 1 matches" in message
    assert bool(notes("patched")) == forge


def test_reference_values_are_not_in_the_memory_a_child_inherits(rnn, tmp_path, notes):
    """rnn_forward implements nothing: it searches the memory it inherited from the grader (by
    fork) for the reference output of the case it is given. It must find nothing to return."""
    ids = pick(rnn.spec, "rnn_step_forward", CONTROL)  # the first test loads the reference data
    files = stealing_reference(tmp_path)
    report = grade(rnn, files, ids)
    check_score(report, pick(rnn.spec, CONTROL))
    assert notes("stolen") and not any(notes("stolen")), "the child found reference outputs in its memory"


def test_a_file_the_grader_holds_open_is_not_open_in_the_child(rnn, tmp_path, notes):
    """The grader happens to hold hidden.arrays open at a high descriptor: rnn_backward looks for
    every open regular file among its descriptors and finds none."""
    hostile = """
        import stat
        found = []
        for fd in range(3, 4096):
            try:
                if stat.S_ISREG(_hostile_os.fstat(fd).st_mode):
                    found.append([fd, len(_hostile_os.pread(fd, 1 << 20, 0))])
            except OSError:
                pass
        _record("open_files", found)
    """
    files = submission(tmp_path, wrap(TARGET, hostile))
    fd = os.open(rnn.root / "hidden.arrays", os.O_RDONLY)
    try:
        os.dup2(fd, 1000, inheritable=False)
        report = grade(rnn, files, pick(rnn.spec, TARGET, kinds=("gradients",)))
    finally:
        os.close(fd)
        os.close(1000)
    check_score(report, set())
    assert notes("open_files") and all(found == [] for found in notes("open_files")), notes("open_files")


@needs_root
def test_the_network_is_unreachable_as_root(rnn, tmp_path, notes):
    """Needs root. A server listens on 127.0.0.1 in the grader's own process; rnn_backward
    (otherwise correct) tries to connect and send to it: it cannot, and the server sees nobody."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    port = server.getsockname()[1]
    hostile = f"""
        import socket
        def connect():
            with socket.create_connection(("127.0.0.1", {port}), timeout=2) as s:
                s.sendall(b"stolen")
        _attempt("connect", connect)
    """
    try:
        files = submission(tmp_path, wrap(TARGET, hostile))
        report = grade(rnn, files, pick(rnn.spec, CONTROL, TARGET))
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()
    check_score(report, set())
    attempts = notes("connect")
    assert attempts and not any(a["ok"] for a in attempts), attempts
    assert all(a["error"] in ("OSError", "ConnectionRefusedError", "TimeoutError") for a in attempts), attempts


# --- the emulated Gradescope run: results.json, budget, the grader's files ------------------------------------

def gradescope_root(bundle: Bundle, base: Path, files: dict) -> Path:
    """ROOT with source/bundle (a copy of `bundle`) and submission/; results/ is created by the run."""
    root = base / "autograder"
    shutil.copytree(bundle.root, root / "source" / "bundle")
    (root / "submission").mkdir(parents=True)
    for f in files.values():
        shutil.copyfile(f, root / "submission" / f.name)
    (root / "results").mkdir()
    return root


def read_results(root: Path) -> dict:
    return json.loads((root / "results" / "results.json").read_text())


def run_gradescope(root: Path, spec) -> dict:
    """What run_autograder runs, in this process; checked like `grade`. Returns results.json."""
    before = tree_hash(root / "source" / "bundle")
    assert gradescope.run(root) == 0
    assert tree_hash(root / "source" / "bundle") == before, "the grader's bundle folder changed"
    result = read_results(root)
    assert [t["name"] for t in result["tests"]] == [t.name for t in spec.tests]
    assert_nothing_left(Notes.current().pids())
    return result


def test_a_slow_submission_is_stopped_by_the_whole_grade_budget(rnn, edited, tmp_path, notes, monkeypatch):
    """Every import of rnn_layers.py takes 0.4 s, with a budget of 3 s for the whole grade: the
    grade ends near the budget, results.json is written with every test, the tests run in time
    pass and the others fail with a message about the budget."""
    budget, delay = 3.0, 0.4
    bundle = edited(budget=budget)
    files = submission(tmp_path / "sub", prepend=f"import time\ntime.sleep({delay})\n")
    root = gradescope_root(bundle, tmp_path, files)
    monkeypatch.setenv("AUTOGRADER_ROOT", str(root))
    start = time.monotonic()
    result = run_gradescope(root, bundle.spec)
    assert time.monotonic() - start < budget + 3
    ran = [t for t in result["tests"] if not t["output"].startswith("Not run")]
    cut = [t for t in result["tests"] if t["output"].startswith("Not run")]
    assert 0 < len(ran) <= budget / delay + 1 and cut
    assert all("used up its time budget of 3 s" in t["output"] and t["score"] == 0 for t in cut)
    assert result["score"] == sum(t["score"] for t in ran if t["status"] == "passed")
    assert all(t["status"] == "passed" for t in ran[:-1])  # the last may have been cut while running


def test_a_test_cut_short_by_the_budget_says_so(rnn, edited, tmp_path, notes):
    """rnn_step_forward never returns and the whole grade has 1.5 s (its own limit is 20 s):
    its message must name the budget that stopped it, not a 20 s limit it never reached."""
    bundle = edited(budget=1.5)
    files = submission(tmp_path / "sub", wrap("rnn_step_forward", "while True:\n    pass"))
    ids = pick(rnn.spec, "rnn_step_forward", "rnn_step_backward")
    start = time.monotonic()
    report = grade(bundle, files, ids)
    assert time.monotonic() - start < 4
    check_score(report, ids)
    first, *rest = report.results
    assert "budget" in first.output, first.output
    assert all("used up its time budget" in r.output for r in rest)


def test_a_submission_cannot_forge_results_json(rnn, tmp_path, notes, monkeypatch):
    """Graded as a non-root user (as on a developer machine, where the child can write the results
    folder): rnn_layers.py overwrites results.json at import, prints fake JSON, registers exit hooks
    that forge it again, and leaves a daemon that overwrites the grader's results.json once it
    appears. The grader's own results.json is what remains, the exit hooks never ran, the daemon is gone."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # the grader and its children behave as non-root
    keep = pick(rnn.spec, CONTROL, TARGET)
    bundle = edited_bundle(rnn, tmp_path / "bundle", keep=keep)
    files = submission(tmp_path / "sub", snippet("forge_results"))
    root = gradescope_root(bundle, tmp_path, files)
    monkeypatch.setenv("AUTOGRADER_ROOT", str(root))
    result = run_gradescope(root, bundle.spec)
    time.sleep(0.5)  # the daemon, were it alive, would have overwritten results.json by now
    assert read_results(root) == result
    assert result["score"] == bundle.spec.max_score
    assert notes("forged_during_grading") and all(n["ok"] for n in notes("forged_during_grading"))
    assert notes("exit_hook_ran") == []
    assert notes.pids()


@pytest.fixture(scope="module")
def gradescope_as_root(bundles, tmp_path_factory):
    """run_autograder, as root, in an emulated /autograder that the sandbox user could traverse
    were it not for the grader's own lock-down; the submission is the reference plus
    fixtures/hostile/grader_files.py. Returns what the tests below inspect."""
    bundle = bundles("rnn")
    work = tmp_path_factory.mktemp("gradescope-root")
    base = Path(tempfile.mkdtemp(prefix="hostile-gradescope-", dir=shared_tmp()))  # traversable by anyone
    notes_dir = Path(tempfile.mkdtemp(prefix="hostile-notes-", dir=shared_tmp()))
    try:
        base.chmod(0o755)
        notes_dir.chmod(0o777)
        root = base / "autograder"
        grader_zip = work / "rnn-autograder.zip"
        entries = dict(engine_files())
        entries.update(tree_entries(bundle.root, "bundle"))
        entries["run_autograder"] = TEMPLATES / "run_autograder"
        write_zip(grader_zip, entries, executables=("run_autograder",))
        with zipfile.ZipFile(grader_zip) as zf:
            zf.extractall(root / "source")
        bundle_hash = tree_hash(root / "source" / "bundle")
        (root / "submission").mkdir()
        for f in submission(work / "sub", snippet("grader_files")).values():
            shutil.copyfile(f, root / "submission" / f.name)
        for folder in (root, root / "submission"):
            folder.chmod(0o755)
        env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable,
                   HOSTILE_DIR=str(notes_dir))
        proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        yield {"result": read_results(root), "notes": Notes(notes_dir), "spec": bundle.spec,
               "bundle_unchanged": tree_hash(root / "source" / "bundle") == bundle_hash,
               "results_folder": sorted(p.name for p in (root / "results").iterdir()), "stderr": proc.stderr}
    finally:
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(notes_dir, ignore_errors=True)


def denied(notes: Notes, kind: str) -> list:
    """The notes of `kind`, asserting there is at least one and every attempt failed."""
    attempts = notes(kind)
    assert attempts, f"no attempt '{kind}' was recorded"
    assert not any(a["ok"] for a in attempts), f"'{kind}' worked in the child: {attempts[:1]}"
    return attempts


@pytest.mark.slow
@needs_root
def test_gradescope_as_root_grades_a_prying_reference_in_full(gradescope_as_root):
    """Needs root. The hostile code only pries, so the reference earns every point, with every
    test listed; the bundle is unchanged; the results folder holds results.json only; the
    processes it started are gone."""
    run = gradescope_as_root
    spec, result = run["spec"], run["result"]
    assert [t["name"] for t in result["tests"]] == [t.name for t in spec.tests], run["stderr"][-3000:]
    assert result["score"] == spec.max_score
    assert run["bundle_unchanged"]
    assert run["results_folder"] == ["results.json"]
    pids = run["notes"].pids()
    living = [p for p in pids if alive(p)]
    ours = template.running()
    clean_up(living + [p for p in descendants(os.getpid()) if p not in ours])  # zombies of the finished grader
    # may land on us
    assert pids and living == []


@pytest.mark.slow
@needs_root
def test_gradescope_as_root_the_child_cannot_read_the_grader_files(gradescope_as_root):
    """Needs root. The child can read ROOT/submission (the control) but not ROOT/source: neither
    bundle/hidden.arrays nor bundle/probes.py, nor even the folder's listing."""
    notes = gradescope_as_root["notes"]
    control = notes("control_read_submission")
    assert control and all(a["ok"] for a in control), control
    for kind in ("read_hidden_data", "read_probes", "list_source"):
        assert all(a["error"] == "PermissionError" for a in denied(notes, kind))


@pytest.mark.slow
@needs_root
def test_gradescope_as_root_the_child_cannot_write_results_or_the_bundle(gradescope_as_root):
    """Needs root. Writing ROOT/results/results.json, adding a file to ROOT/results and
    overwriting the bundle's assignment.json all fail inside the child."""
    notes = gradescope_as_root["notes"]
    for kind in ("write_results", "add_to_results", "write_bundle"):
        assert all(a["error"] == "PermissionError" for a in denied(notes, kind))


@pytest.mark.slow
@needs_root
def test_gradescope_as_root_the_child_cannot_signal_or_inspect_the_grader(gradescope_as_root):
    """Needs root. The child may not send even signal 0 to the grader, nor read its environment."""
    notes = gradescope_as_root["notes"]
    assert all(a["error"] == "PermissionError" for a in denied(notes, "signal_grader"))
    assert all(a["error"] == "PermissionError" for a in denied(notes, "read_grader_environ"))


def test_ci_runs_the_root_only_defences():
    """The tests marked `needs root` are skipped elsewhere; CI must run them."""
    if os.environ.get("CI"):
        assert os.geteuid() == 0, "CI must run the test suite as root, or the sandbox's root-only defences go untested"
