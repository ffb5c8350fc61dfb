"""The local bundle cache: a staged full bundle per assignment under .cache/bundles, keyed by a
hash of the assignment, its solution and the engine, so local grading stages only after a change."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from autograder.build.stage import stage_bundle
from autograder.core.errors import AutograderError
from autograder.core.zipio import tree_entries
from autograder.spec.bundle import Bundle
from autograder.spec.repo import find_repo

__all__ = ["cached_bundle", "open_bundle", "ENGINE_DIR"]

ENGINE_DIR = Path(__file__).resolve().parents[1]  # the autograder package


def _content_hash(repo, name: str) -> str:
    h = hashlib.sha256()
    for folder in (repo.assignment_dir(name), repo.solution_dir(name), ENGINE_DIR):
        for arc, path in sorted(tree_entries(folder).items()):
            h.update(arc.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cached_bundle(repo, name: str) -> Bundle:
    """A full bundle for local grading, rebuilt only when the assignment, solution or engine changed.

    Safe when several processes ask at once: each stages into its own folder and the first rename
    wins; older versions are removed only after a new one is in place.
    """
    cache = repo.root / ".cache" / "bundles"
    dest = cache / f"{name}-{_content_hash(repo, name)}"
    if not (dest / "assignment.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-staging-", dir=cache))
        try:
            stage_bundle(repo, name, tmp / "bundle")
            try:
                (tmp / "bundle").rename(dest)
            except OSError:  # another process finished first
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in cache.glob(f"{name}-*"):
            if old != dest:
                shutil.rmtree(old, ignore_errors=True)
    return Bundle(dest)


def open_bundle(name: str, bundle_dir=None) -> Bundle:
    """The bundle to grade `name` with: the built bundle folder `bundle_dir` when given, else the
    repository's cached one (staged when stale). A bundle of another assignment is an error."""
    bundle = Bundle(bundle_dir) if bundle_dir else cached_bundle(find_repo(), name)
    if bundle.spec.name != name:
        raise AutograderError(f"the bundle is for '{bundle.spec.name}', not '{name}'")
    return bundle
