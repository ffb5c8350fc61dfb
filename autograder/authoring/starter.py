"""`autograder starter`: regenerate starter/<name>/ from solutions/<name>/, or check it is current."""

from __future__ import annotations

from autograder.authoring.markers import make_stub

__all__ = ["expected_starter", "write_starter", "stale_files"]


def expected_starter(repo, name: str) -> dict[str, str]:
    """File name -> the stub text generated from each solution module."""
    out = {}
    for path in sorted(repo.solution_dir(name).glob("*.py")):
        out[path.name] = make_stub(path.read_text(encoding="utf-8"), str(path.relative_to(repo.root)))
    return out


def write_starter(repo, name: str) -> list[str]:
    """Write the stubs; return the files that changed."""
    folder = repo.starter_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    changed = []
    expected = expected_starter(repo, name)
    for fname, text in expected.items():
        target = folder / fname
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            changed.append(str(target.relative_to(repo.root)))
    for extra in sorted(folder.glob("*.py")):
        if extra.name not in expected:
            extra.unlink()
            changed.append(str(extra.relative_to(repo.root)) + " (removed)")
    return changed


def stale_files(repo, name: str) -> list[str]:
    """What differs between starter/<name>/ and what the solutions generate."""
    folder = repo.starter_dir(name)
    expected = expected_starter(repo, name)
    stale = []
    for fname, text in expected.items():
        target = folder / fname
        if not target.is_file():
            stale.append(f"starter/{name}/{fname} is missing")
        elif target.read_text(encoding="utf-8") != text:
            stale.append(f"starter/{name}/{fname} differs from what solutions/{name}/{fname} generates")
    for extra in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        if extra.name not in expected:
            stale.append(f"starter/{name}/{extra.name} has no solution module")
    return stale
