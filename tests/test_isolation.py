"""What a child cannot reach: the grader's memory, its frames, other children's files, the disk.

Children are forked by the template (autograder/template.py), a process that never holds
reference data, results or hints. These tests attack that from inside a child, with the hostile
snippets of tests/fixtures/hostile/ and the helpers of test_hostile.py: each fails when its
defence is removed (children forked from the grader again, a /tmp shared with the host, no space
reserved for results.json).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from autograder.core.arrays import ArrayFile
from autograder.grading.results import MAX_TEST_OUTPUT
from autograder.spec.model import Limits

from conftest import ROOT, shared_tmp
from hostile_submissions import SOLUTION
from test_hostile import (CONTROL, Notes, check_score, grade, gradescope_root, needs_root,  # noqa: F401
                          notes, pick, rnn, run_gradescope, snippet, submission)

MASK = bytes.fromhex("693ce1963c5ac3a5")  # as in fixtures/hostile/scan_memory.py


def masked(data: bytes) -> bytes:
    key = (MASK * (len(data) // 8 + 1))[:len(data)]
    return bytes(a ^ b for a, b in zip(data, key))


def array_needles(bundle) -> list[bytes]:
    """16 distinctive bytes of every hidden reference array (reference and mutant outputs), as
    stored and as the float64 copy a comparison makes: two or four entries in a row that are all
    different and not round numbers."""
    data = ArrayFile(bundle.root / "hidden.arrays")
    needles = set()
    for key in data.names():
        arr = data.get(key)
        if key.startswith("in/") or arr.dtype.kind != "f":
            continue
        for flat in {arr.dtype.str: arr.reshape(-1), "<f8": arr.reshape(-1).astype(np.float64)}.values():
            width = 16 // flat.itemsize
            for i in range(0, max(0, flat.size - width + 1)):
                window = flat[i:i + width]
                if len(set(window.tolist())) == width and np.all(window * 1024 != np.round(window * 1024)):
                    needles.add(window.tobytes())
                    break
    return sorted(needles)


def message_needles(report) -> list[bytes]:
    """The expected values quoted by the failure messages of a grade ('expected -0.0123457, got')."""
    found = set()
    for r in report.results:
        found.update(m.group(0).encode() for m in re.finditer(r"expected -?\d+\.\d{3,}(e[-+]\d+)?, got", r.output))
    return sorted(found)


def write_needles(folder: Path, needles) -> None:
    with open(folder / "needles", "wb") as f:
        for n in needles:
            f.write(len(n).to_bytes(2, "big") + masked(n))


SKEW = '''

def _skew(fn):
    def skewed(*args, **kwargs):
        out = fn(*args, **kwargs)
        if isinstance(out, tuple):
            return tuple(x * 1.001 if isinstance(x, np.ndarray) else x for x in out)
        return out * 1.001 if isinstance(out, np.ndarray) else out
    return skewed


for _name in [n for n in list(globals()) if n.endswith(("_forward", "_backward")) and callable(globals()[n])]:
    globals()[_name] = _skew(globals()[_name])
'''


def prying_submission(folder: Path, pry: bool) -> dict:
    """rnn_layers.py whose forward and backward outputs are all off by 0.1% (so that the grader
    fills its memory with failure messages quoting expected values), and captioning_rnn.py, whose
    children (graded last) search their memory and climb their stack when `pry`."""
    folder.mkdir(parents=True, exist_ok=True)
    record = snippet("record")
    (folder / "rnn_layers.py").write_text((SOLUTION / "rnn_layers.py").read_text() + "\n" + record + SKEW)
    caption = (SOLUTION / "captioning_rnn.py").read_text()
    if pry:
        caption += "\n" + record + "\n" + snippet("walk_frames") + "\n" + snippet("scan_memory")
    (folder / "captioning_rnn.py").write_text(caption)
    return {f.name: f for f in sorted(folder.glob("*.py"))}


GRADER_FILES = {"grade.py", "checks.py", "sandbox.py", "bundle.py", "results.py", "gradescope.py", "batch_workers.py"}


@pytest.mark.parametrize("via", ["grade_files", "command"])
def test_a_child_finds_no_hidden_reference_bytes_and_no_grader_frame(rnn, tmp_path, notes, via):
    """Every test of rnn runs; those of rnn_layers fail with messages that quote expected values.
    Then each child of captioning_rnn (graded last) searches every writable mapping of its own
    memory for 16 bytes of every hidden reference array and for the quoted expected values, and
    climbs sys._getframe() and the garbage collector's objects: it finds nothing of the grader.
    `grade_files` grades in this process (the template is a fresh interpreter); `command` runs
    `autograder grade` (the template is forked from it before the bundle is loaded)."""
    first = grade(rnn, prying_submission(tmp_path / "plain", pry=False))
    needles = array_needles(rnn)
    quoted = message_needles(first)
    assert len(needles) > 100 and len(quoted) > 20
    write_needles(notes.folder, needles + quoted)
    files = prying_submission(tmp_path / "prying", pry=True)
    if via == "grade_files":
        report = grade(rnn, files)
        assert [r.output for r in report.results][:5] == [r.output for r in first.results][:5]
    else:
        proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "rnn", str(tmp_path / "prying"),
                               "--bundle", str(rnn.root)], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
    captioning = [t for t in rnn.spec.tests if t.module == "captioning_rnn"]
    scans = notes("memory_scan")
    assert len(scans) == len(captioning), scans
    for scan in scans:
        assert scan["control_found"] and scan["searched"] > 8 << 20, scan  # the search works
        assert scan["found"] == [], f"{len(scan['found'])} secrets found in a child's memory"
    walks = notes("frames")
    assert len(walks) == len(captioning)
    for walk in walks:
        files_seen = {frame.split(":")[0] for frame in walk["frames"]}
        assert "child.py" in files_seen, walk["frames"]  # the walk went up from the child's entry point
        assert not files_seen & GRADER_FILES, walk["frames"]
        assert walk["reached"] == [] and walk["objects"] == [], walk


def hostile_tmp_runs(rnn, tmp_path, notes) -> list:
    for place in ("/tmp", "/var/tmp", "/dev/shm"):
        Path(place, "hostile-left-behind").unlink(missing_ok=True)
    files = submission(tmp_path, snippet("tmp_files"))
    ids = pick(rnn.spec, "rnn_step_forward", "rnn_step_backward", CONTROL)
    check_score(grade(rnn, files, ids), set())  # temporary files cost nothing
    runs = notes("tmp_files")
    assert len(runs) >= len(ids)
    return runs


@needs_root
def test_as_root_a_childs_tmp_is_private_bounded_and_gone_with_it(rnn, tmp_path, notes, monkeypatch):
    """Needs root. Each child leaves a file in /tmp, /var/tmp, /dev/shm and its TMPDIR, looks for
    those of the earlier children of the grade, and fills /tmp with files just under the file-size
    limit: it sees no earlier child's file, /tmp holds at most `limits.tmp_mb`, and afterwards the
    host's /tmp has none of it."""
    monkeypatch.setenv("HOSTILE_FILL_TMP", "1")
    runs = hostile_tmp_runs(rnn, tmp_path, notes)
    tmp_mb = Limits().tmp_mb
    for run in runs:
        assert run["seen"] == [], run
        assert {"/tmp", "/var/tmp", "/dev/shm"} <= set(run["left"]), run
        assert run["tmpdir"] == run["tmpdir_env"] == "/tmp"
        assert run["stopped"] == "OSError" and tmp_mb - 16 <= run["written_mb"] <= tmp_mb, run
    for place in ("/tmp", "/var/tmp", "/dev/shm"):
        assert not Path(place, "hostile-left-behind").exists()
    assert not [p for p in os.listdir("/tmp") if p.startswith("hostile-fill-")]


def test_a_childs_tmpdir_is_its_own_and_removed_after_its_test(rnn, tmp_path, notes, monkeypatch):
    """Graded as a non-root user (no mount namespace then): every child's TMPDIR is a folder of
    its own, which no later child sees and which is gone once its test ends."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    try:
        runs = hostile_tmp_runs(rnn, tmp_path, notes)
    finally:
        for place in ("/tmp", "/var/tmp", "/dev/shm"):
            Path(place, "hostile-left-behind").unlink(missing_ok=True)
    folders = [run["tmpdir"] for run in runs]
    assert len(set(folders)) == len(folders) and all(f == run["tmpdir_env"] for f, run in zip(folders, runs))
    assert all(run["tmpdir"] not in run["seen"] for run in runs)
    assert not any(os.path.exists(f) for f in folders)


@needs_root
def test_a_submission_that_fills_the_disk_leaves_a_complete_results_json(rnn, tmp_path, notes, monkeypatch):
    """Needs root. The emulated /autograder lies on a small disk (a 24 MB tmpfs) with a folder the
    sandbox user may write; the submission (otherwise the reference) fills that disk at once with
    files just under the file-size limit, then page by page. The space reserved at the start of the
    grade still takes the complete results: full marks, every test, nothing else left in results/."""
    disk = Path(tempfile.mkdtemp(prefix="small-disk-", dir=shared_tmp()))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=755", "tmpfs", str(disk)], check=True)
    try:
        spill = disk / "spill"
        spill.mkdir()
        spill.chmod(0o1777)
        files = submission(tmp_path / "sub", snippet("fill_disk"))
        root = gradescope_root(rnn, disk, files)
        monkeypatch.setenv("HOSTILE_SPILL", str(spill))
        monkeypatch.setenv("AUTOGRADER_ROOT", str(root))
        result = run_gradescope(root, rnn.spec)
        fills = notes("fill_disk")
        assert len(fills) == 1 and fills[0]["stopped"] == "OSError" and fills[0]["written_mb"] > 10, fills
        # The only space left is what the reserve gave back: without it, no room for the results.
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        assert free < (128 << 10) + len(rnn.spec.tests) * (12 * MAX_TEST_OUTPUT + 4096), free
        assert result["score"] == rnn.spec.max_score, [t["output"][:200] for t in result["tests"] if t["score"] == 0]
        assert sorted(os.listdir(root / "results")) == ["results.json"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        shutil.rmtree(disk, ignore_errors=True)
