"""autograder/submission.py: find the submitted files in a folder, a zip or one file."""

import os
import stat
import tempfile
import zipfile
from pathlib import Path

import pytest

from autograder.core.errors import SubmissionError
from autograder.grading.submission import locate

EXPECTED = ["rnn_layers.py", "captioning_rnn.py"]


def write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_zip(path: Path, members: dict) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Route tempfile.mkdtemp into a folder of our own, to see what locate leaves behind."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def test_files_at_the_top(tmp_path):
    a, b = write(tmp_path, "rnn_layers.py"), write(tmp_path, "captioning_rnn.py")
    write(tmp_path, "notes.txt", "hello")
    found = locate(tmp_path, EXPECTED)
    assert found.files == {"rnn_layers.py": a, "captioning_rnn.py": b}
    assert found.missing == [] and found.notes == [] and found.tmpdir is None


def test_files_inside_one_nested_folder(tmp_path):
    a = write(tmp_path, "hw3/rnn_layers.py")
    b = write(tmp_path, "hw3/captioning_rnn.py")
    found = locate(tmp_path, EXPECTED)
    assert found.files == {"rnn_layers.py": a, "captioning_rnn.py": b}
    assert found.missing == [] and found.notes == []


def test_macosx_litter_is_ignored(tmp_path):
    a = write(tmp_path, "hw3/rnn_layers.py")
    b = write(tmp_path, "hw3/captioning_rnn.py")
    write(tmp_path, "__MACOSX/rnn_layers.py", "\x00\x05junk")
    write(tmp_path, "__MACOSX/hw3/._rnn_layers.py", "\x00\x05junk")
    write(tmp_path, "hw3/__pycache__/captioning_rnn.py", "stale")
    found = locate(tmp_path, EXPECTED)
    assert found.files == {"rnn_layers.py": a, "captioning_rnn.py": b}
    assert found.notes == []  # the litter is not counted as another copy


def test_file_only_in_macosx_is_missing(tmp_path):
    write(tmp_path, "captioning_rnn.py")
    write(tmp_path, "__MACOSX/rnn_layers.py")
    found = locate(tmp_path, EXPECTED)
    assert found.missing == ["rnn_layers.py"]
    assert found.notes == ["Missing file: rnn_layers.py (found: captioning_rnn.py)."]


def test_shallowest_copy_wins_with_a_note(tmp_path):
    top = write(tmp_path, "rnn_layers.py", "new = 1\n")
    write(tmp_path, "old/rnn_layers.py", "old = 1\n")
    write(tmp_path, "old/backup/rnn_layers.py", "older = 1\n")
    write(tmp_path, "captioning_rnn.py")
    found = locate(tmp_path, EXPECTED)
    assert found.files["rnn_layers.py"] == top
    assert found.notes == ["Found 3 copies of rnn_layers.py; graded rnn_layers.py."]


def test_shallowest_copy_in_nested_folders(tmp_path):
    write(tmp_path, "b/deep/rnn_layers.py")
    shallow = write(tmp_path, "z/rnn_layers.py")
    found = locate(tmp_path, ["rnn_layers.py"])
    assert found.files["rnn_layers.py"] == shallow
    assert found.notes == [f"Found 2 copies of rnn_layers.py; graded {Path('z', 'rnn_layers.py')}."]


def test_zip(tmp_path, private_tmp):
    sub = make_zip(tmp_path / "submission.zip", {
        "hw3/rnn_layers.py": "A = 1\n",
        "hw3/captioning_rnn.py": "B = 2\n",
        "__MACOSX/hw3/._rnn_layers.py": "junk",
    })
    found = locate(sub, EXPECTED)
    try:
        assert found.missing == [] and found.notes == []
        assert found.files["rnn_layers.py"].read_text() == "A = 1\n"
        assert found.files["captioning_rnn.py"].read_text() == "B = 2\n"
        assert Path(found.tmpdir).parent == private_tmp
        assert found.files["rnn_layers.py"].is_relative_to(found.tmpdir)
    finally:
        found.cleanup()
    assert found.tmpdir is None
    assert list(private_tmp.iterdir()) == []


def test_zip_with_uppercase_suffix(tmp_path):
    sub = make_zip(tmp_path / "SUB.ZIP", {"rnn_layers.py": "A = 1\n"})
    found = locate(sub, ["rnn_layers.py"])
    try:
        assert found.files["rnn_layers.py"].read_text() == "A = 1\n"
    finally:
        found.cleanup()


def test_broken_zip(tmp_path, private_tmp):
    sub = tmp_path / "submission.zip"
    sub.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(SubmissionError) as info:
        locate(sub, EXPECTED)
    msg = str(info.value)
    assert msg.startswith("submission.zip is not a valid zip file")
    assert "submit the .py files directly" in msg
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize("evil", ["../evil.py", "hw/../../evil.py", "/tmp/evil.py", "..\\evil.py", "C:/evil.py"])
def test_zip_with_unsafe_path(tmp_path, private_tmp, evil):
    sub = make_zip(tmp_path / "submission.zip", {"rnn_layers.py": "A = 1\n", evil: "import os\n"})
    with pytest.raises(SubmissionError) as info:
        locate(sub, EXPECTED)
    assert str(info.value) == f"submission.zip contains an unsafe path {evil!r}"
    assert not (tmp_path / "evil.py").exists()
    assert list(private_tmp.iterdir()) == []  # the half-unpacked folder is removed


def test_zip_symlink_member_is_not_extracted(tmp_path):
    sub = tmp_path / "submission.zip"
    with zipfile.ZipFile(sub, "w") as zf:
        zf.writestr("rnn_layers.py", "A = 1\n")
        link = zipfile.ZipInfo("captioning_rnn.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    found = locate(sub, EXPECTED)
    try:
        assert list(found.files) == ["rnn_layers.py"]
        assert found.missing == ["captioning_rnn.py"]
        assert not os.path.lexists(Path(found.tmpdir) / "captioning_rnn.py")
    finally:
        found.cleanup()


def test_single_file_with_the_right_name(tmp_path):
    f = write(tmp_path, "rnn_layers.py")
    found = locate(f, EXPECTED)
    assert found.files == {"rnn_layers.py": f}
    assert found.missing == ["captioning_rnn.py"]
    assert found.notes == ["Missing file: captioning_rnn.py (found: rnn_layers.py)."]


def test_single_file_with_a_wrong_name(tmp_path):
    f = write(tmp_path, "rnn_layer.py")
    with pytest.raises(SubmissionError) as info:
        locate(f, EXPECTED)
    assert str(info.value) == ("rnn_layer.py is not one of the files this assignment grades "
                               "(expected: rnn_layers.py, captioning_rnn.py); did you mean rnn_layers.py?")


def test_single_file_with_an_unrelated_name(tmp_path):
    f = write(tmp_path, "homework.py")
    with pytest.raises(SubmissionError) as info:
        locate(f, EXPECTED)
    assert str(info.value).endswith("(expected: rnn_layers.py, captioning_rnn.py)")


def test_missing_file_lists_what_was_found_and_suggests_a_rename(tmp_path):
    write(tmp_path, "rnn_layer.py")
    write(tmp_path, "captioning_rnn.py")
    write(tmp_path, "sub/helpers.py")
    found = locate(tmp_path, EXPECTED)
    assert found.missing == ["rnn_layers.py"]
    assert found.notes == ["Missing file: rnn_layers.py (found: captioning_rnn.py, helpers.py, rnn_layer.py). "
                           "A file named rnn_layer.py was found: rename it to rnn_layers.py."]


def test_empty_folder(tmp_path):
    found = locate(tmp_path, EXPECTED)
    assert found.files == {} and found.missing == EXPECTED
    assert found.notes == ["Missing file: rnn_layers.py (found: no .py files).",
                           "Missing file: captioning_rnn.py (found: no .py files)."]


def test_nonexistent_path(tmp_path):
    with pytest.raises(SubmissionError) as info:
        locate(tmp_path / "nowhere", EXPECTED)
    assert str(info.value) == f"{tmp_path / 'nowhere'}: no such file or folder"
