"""Byte-stable zip files: sorted entries, fixed dates and modes, so two builds are identical."""

from __future__ import annotations

import zipfile
from pathlib import Path

__all__ = ["write_zip", "tree_entries", "FIXED_DATE"]

FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold

_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}


def tree_entries(folder: Path, prefix: str = "") -> dict[str, Path]:
    """Archive name -> file for everything under `folder`, caches left out."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(p in _SKIP_PARTS for p in rel.parts) and path.suffix != ".pyc":
            out[(prefix + "/" if prefix else "") + rel.as_posix()] = path
    return out


def write_zip(dest: Path, entries: dict, executables=()) -> None:
    """Write `entries` (archive name -> bytes or Path) to `dest`, deterministically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            data = entries[name]
            if isinstance(data, Path):
                data = data.read_bytes()
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = ((0o755 if name in executables else 0o644) | 0o100000) << 16
            zf.writestr(info, data)
    tmp.replace(dest)
