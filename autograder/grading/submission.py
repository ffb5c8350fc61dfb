"""Find the submitted files in a folder, a zip or a single file.

Students zip folders in every way imaginable: files at the top, inside one folder, with
`__MACOSX` litter, or under a slightly wrong name. We look at the top and inside nested folders
(shallowest wins), and when a file is missing we say what was expected and what was found.
"""

from __future__ import annotations

import difflib
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.core.errors import SubmissionError

__all__ = ["Located", "locate", "describe", "unpack_zip", "MAX_UNPACKED_MB", "MAX_MEMBERS"]

MAX_UNPACKED_MB = 100
MAX_MEMBERS = 5000
_IGNORED = {"__MACOSX", "__pycache__", ".git", ".ipynb_checkpoints"}


@dataclass
class Located:
    """Submitted file name -> path on disk, plus what is missing and notes for the report."""

    files: dict
    missing: list
    notes: list = field(default_factory=list)
    tmpdir: str | None = None

    def cleanup(self) -> None:
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


def unpack_zip(path: Path, dest: Path) -> None:
    """Extract a zip safely: no absolute paths, no `..`, no links, bounded size and count."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise SubmissionError(f"{path.name} is not a valid zip file; create it again (for example with "
                              "'zip submission.zip *.py') or submit the .py files directly") from None
    except OSError as e:
        raise SubmissionError(f"{path} could not be read: {e.strerror}") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise SubmissionError(f"{path.name} holds {len(members)} entries, more than {MAX_MEMBERS}; "
                                  "submit only your .py files")
        total = 0
        for info in members:
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p not in ("", ".")]
            if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                raise SubmissionError(f"{path.name} contains an unsafe path {info.filename!r}")
            if stat.S_ISLNK(info.external_attr >> 16):
                continue  # links are never followed
            total += info.file_size
            if total > MAX_UNPACKED_MB * 2**20:
                raise SubmissionError(f"{path.name} unpacks to more than {MAX_UNPACKED_MB} MB; "
                                      "submit only your .py files")
            target = dest.joinpath(*parts) if parts else dest
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError) as e:
                raise SubmissionError(f"{path.name}: entry {info.filename!r} could not be extracted ({e}); "
                                      "create the zip again") from None


def _candidates(root: Path, wanted: str, max_depth: int = 3) -> list[Path]:
    found = []
    for p in sorted(root.rglob(wanted)):
        rel = p.relative_to(root).parts
        if len(rel) - 1 > max_depth or any(part in _IGNORED or part.startswith("._") for part in rel):
            continue
        if p.is_file() and not p.is_symlink():
            found.append(p)
    return sorted(found, key=lambda p: (len(p.relative_to(root).parts), str(p)))


def locate(path, expected) -> Located:
    """Find each expected file under `path` (folder, .zip or one file)."""
    path = Path(path)
    tmpdir = None
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or folder")
    if path.is_file() and path.suffix.lower() == ".zip":
        tmpdir = tempfile.mkdtemp(prefix="autograder-sub-")
        try:
            unpack_zip(path, Path(tmpdir))
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        root = Path(tmpdir)
    elif path.is_file():
        if path.name in expected:
            missing = [f for f in expected if f != path.name]
            return Located({path.name: path}, missing, _missing_notes(missing, [path.name]))
        raise SubmissionError(f"{path.name} is not one of the files this assignment grades "
                              f"(expected: {', '.join(expected)})" + _suggest(path.name, expected))
    else:
        root = path
    files, notes = {}, []
    for name in expected:
        hits = _candidates(root, name)
        if hits:
            files[name] = hits[0]
            if len(hits) > 1:
                notes.append(f"Found {len(hits)} copies of {name}; graded {hits[0].relative_to(root)}.")
    missing = [f for f in expected if f not in files]
    present = sorted({p.name for p in root.rglob("*.py")
                      if not any(part in _IGNORED for part in p.relative_to(root).parts)})
    notes += _missing_notes(missing, present)
    return Located(files, missing, notes, tmpdir)


def describe(path, expected) -> dict:
    """What a batch records about a submission besides its grade, as plain data for results.json:
    `problem`, why it cannot be read at all (a broken zip, a stray file; "" when it can);
    `missing`, the expected files it lacks; `files`, how many files it holds (0: empty);
    `notes`, what the student is told about missing files."""
    try:
        located = locate(Path(path), expected)
    except SubmissionError as e:
        return {"problem": str(e), "missing": list(expected), "files": 0, "notes": []}
    try:
        root = Path(located.tmpdir) if located.tmpdir else Path(path)
        files = sum(1 for p in root.rglob("*") if p.is_file()) if root.is_dir() else 1
        return {"problem": "", "missing": list(located.missing), "files": files, "notes": list(located.notes)}
    finally:
        located.cleanup()


def _suggest(name: str, expected) -> str:
    close = difflib.get_close_matches(name, list(expected), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _missing_notes(missing, present) -> list:
    notes = []
    for name in missing:
        close = difflib.get_close_matches(name, present, n=1, cutoff=0.6)
        found = ", ".join(present) if present else "no .py files"
        hint = f" A file named {close[0]} was found: rename it to {name}." if close else ""
        notes.append(f"Missing file: {name} (found: {found}).{hint}")
    return notes
