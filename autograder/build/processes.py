"""Several assignments at once, each in its own `autograder ...` process: a fresh interpreter, so
one assignment's imports and sandboxed children never touch another's (`build --jobs`,
`check --jobs`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

__all__ = ["torch_first", "run_each"]


def torch_first(repo, names: list[str]) -> list[str]:
    """`names` with the torch assignments first, as they take longest (a spec that does not load
    goes first too: its process fails at once and says why)."""
    def key(name):
        try:
            return repo.spec(name).framework != "torch"
        except Exception:
            return False
    return sorted(names, key=key)


def run_each(repo, names: list[str], argv, jobs: int) -> list[str]:
    """Run `autograder *argv(name)` for each name in order, `jobs` at a time, in the repository
    (AUTOGRADER_REPO set to it); each process prints its own output. Returns the names whose
    process failed, sorted."""
    env = dict(os.environ, AUTOGRADER_REPO=str(repo.root))
    order, running, failed = list(names), {}, []
    while order or running:
        while order and len(running) < jobs:
            name = order.pop(0)
            running[name] = subprocess.Popen([sys.executable, "-m", "autograder", *argv(name)], cwd=repo.root, env=env)
        for name, proc in list(running.items()):
            if proc.poll() is not None:
                del running[name]
                if proc.returncode != 0:
                    failed.append(name)
        time.sleep(0.05)
    return sorted(failed)
