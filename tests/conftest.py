"""Shared fixtures: the repository, and the rnn bundle built once per session."""

from pathlib import Path

import pytest

from autograder.repo import Repo

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Repo:
    return Repo(ROOT)


@pytest.fixture(scope="session")
def bundles(repo, tmp_path_factory):
    """name -> full bundle (public and hidden data), staged once per session."""
    from autograder.build import stage_bundle

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = stage_bundle(repo, name, tmp_path_factory.mktemp(f"bundle-{name}") / "bundle")
        return cache[name]

    return get
