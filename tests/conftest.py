"""Shared fixtures: the repository, and the rnn bundle built once per session."""

import os
import tempfile
from pathlib import Path

import pytest

from autograder.spec.repo import Repo

ROOT = Path(__file__).resolve().parent.parent


def shared_tmp() -> Path:
    """Where to put folders that sandboxed children and the tests both see. As root, a child's
    /tmp, /var/tmp and /dev/shm are its own (autograder/tmpdirs.py), so such folders go under /run,
    which every user may traverse; otherwise the usual temporary folder."""
    if os.geteuid() != 0 or not os.path.isdir("/run"):
        return Path(tempfile.gettempdir())
    base = Path("/run/autograder-tests")
    base.mkdir(exist_ok=True)
    base.chmod(0o755)
    return base


@pytest.fixture(scope="session")
def repo() -> Repo:
    return Repo(ROOT)


@pytest.fixture(scope="session")
def bundles(repo, tmp_path_factory):
    """name -> full bundle (public and hidden data), staged once per session."""
    from autograder.build.stage import stage_bundle

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = stage_bundle(repo, name, tmp_path_factory.mktemp(f"bundle-{name}") / "bundle")
        return cache[name]

    return get
