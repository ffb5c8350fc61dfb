"""What a child does to itself before it imports student code: limits, privileges, network, bans.

Runs in the forked child only. When the grader runs as root (as on Gradescope) the child leaves
the network, drops to an unprivileged user and gets a process limit; otherwise the same code path
runs without those three steps (students and CI grade as themselves). Bans are made and installed
by bans.py; the child reaches them through this module.
"""

from __future__ import annotations

import ctypes
import math
import os
import resource

from autograder.sandbox.bans import BanPlan, BannedCall, ban_plan, install_bans  # noqa: F401 - re-exported for the child

__all__ = ["apply_limits", "drop_privileges", "leave_network", "install_bans", "ban_plan", "BanPlan",
           "BannedCall", "SANDBOX_USER", "sandbox_ids"]

SANDBOX_USER = "autograder-student"
_CLONE_NEWNET = 0x40000000


def sandbox_ids(user: str | None = None) -> tuple[int, int]:
    """uid and gid of `user` (default: the sandbox user); `nobody` when no such user exists."""
    import pwd

    for name in (user or SANDBOX_USER, "nobody"):
        try:
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            continue
    return 65534, 65534


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _set(limit, soft, hard=None):
    hard = soft if hard is None else hard
    try:
        cur_soft, cur_hard = resource.getrlimit(limit)
        if cur_hard != resource.RLIM_INFINITY:
            hard = min(hard, cur_hard)
            soft = min(soft, hard)
        resource.setrlimit(limit, (soft, hard))
    except (ValueError, OSError):
        pass


def apply_limits(limits, timeout: float, as_root: bool) -> None:
    """CPU seconds, address space, file size, core dumps; processes only under the sandbox user."""
    cpu = max(1, math.ceil(timeout)) + 1
    _set(resource.RLIMIT_CPU, cpu, cpu + 1)
    _set(resource.RLIMIT_AS, _vm_size_bytes() + limits.memory_mb * 2**20)
    _set(resource.RLIMIT_FSIZE, limits.file_size_mb * 2**20)
    _set(resource.RLIMIT_CORE, 0)
    if as_root:
        _set(resource.RLIMIT_NPROC, limits.processes)


def leave_network() -> bool:
    """Move into a new, empty network namespace (root only). True when it worked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(_CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    os.environ["HOME"] = "/tmp"
    os.environ["USER"] = os.environ["LOGNAME"] = SANDBOX_USER
