"""Sandbox users: the unprivileged accounts student code runs as when the grader runs as root.

On Gradescope, setup.sh creates `autograder-student`. `grade-batch` as root gives each of its
workers a user of its own (`autograder-student-1`, `-2`, ...), created here on demand the same way
(`useradd --system`), so that children of different submissions can neither signal each other nor
share the per-user process limit.
"""

from __future__ import annotations

import pwd
import shutil
import subprocess

from autograder.sandbox.harden import SANDBOX_USER

__all__ = ["exists", "create", "worker_user"]


def exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def create(name: str) -> str | None:
    """Create system user `name` (no home, no login shell) unless it exists; None when it then
    exists, else what went wrong."""
    if exists(name):
        return None
    useradd = shutil.which("useradd") or next((p for p in ("/usr/sbin/useradd", "/sbin/useradd")
                                               if shutil.which(p)), None)
    if useradd is None:
        return "there is no useradd command"
    try:
        proc = subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"useradd failed: {exc}"
    if not exists(name):
        return f"useradd failed: {(proc.stderr or proc.stdout).strip() or f'exit status {proc.returncode}'}"
    return None


def worker_user(slot: int) -> tuple[str | None, str | None]:
    """The user of batch worker `slot` (0, 1, ...) and None; or (None, why) when it cannot be
    created (its children then run as the shared sandbox user)."""
    name = f"{SANDBOX_USER}-{slot + 1}"
    problem = create(name)
    return (name, None) if problem is None else (None, problem)
