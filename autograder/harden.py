"""What a child does to itself before it imports student code: limits, privileges, network, bans.

Runs in the forked child only. When the grader runs as root (as on Gradescope) the child leaves
the network, drops to an unprivileged user and gets a process limit; otherwise the same code path
runs without those three steps (students and CI grade as themselves).
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
import sys

__all__ = ["apply_limits", "drop_privileges", "leave_network", "install_bans", "ban_plan", "BanPlan",
           "SANDBOX_USER", "sandbox_ids"]

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


class BannedCall(Exception):
    """Raised in the child when student code calls a banned library function."""


def _resolve(dotted: str):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        mod = sys.modules.get(".".join(parts[:cut]))
        if mod is None:
            continue
        obj = mod
        try:
            for p in parts[cut:]:
                obj = getattr(obj, p)
        except AttributeError:
            return None
        return obj
    return None


class BanPlan:
    """The banned callables (the objects themselves) and every place a loaded module exposes them.

    Finding the places means reading every loaded module's namespace (about 0.1 s with torch
    loaded), so the grader makes the plan once, before forking; each child only rebinds the
    places, then looks through the modules that the student's imports added."""

    def __init__(self, names):
        self.names = tuple(names)
        self.originals = {}  # id -> (dotted name, object)
        for dotted in self.names:
            obj = _resolve(dotted)
            if obj is not None:
                self.originals[id(obj)] = (dotted, obj)
        self.known = set(sys.modules)
        self.sites = self.scan(list(sys.modules.values()))

    def scan(self, modules) -> list:
        """(module, attribute, object) wherever one of `modules` exposes a banned object."""
        sites = []
        if not self.originals:
            return sites
        for mod in modules:
            namespace = getattr(mod, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for attr, value in list(namespace.items()):
                hit = self.originals.get(id(value))
                if hit is not None and hit[1] is value:
                    sites.append((mod, attr, value))
        return sites

    def new_modules(self) -> list:
        return [mod for name, mod in list(sys.modules.items()) if name not in self.known]


_PLANS: dict = {}


def ban_plan(names) -> BanPlan:
    """The plan for `names`, made again only when modules were loaded since."""
    key = tuple(names)
    plan = _PLANS.get(key)
    if plan is None or len(plan.known) != len(sys.modules) or not plan.known.issuperset(sys.modules):
        plan = _PLANS[key] = BanPlan(key)
    return plan


def install_bans(plan: BanPlan, record: list, sites=None) -> None:
    """Replace each banned callable at `sites` (default: every place the plan found) by one that
    refuses. The refusal is recorded in `record` (reported to the grader even if the student
    catches the exception) and raised as BannedCall naming the function."""
    def make(dotted, original):
        if isinstance(original, type):
            def __init__(self, *a, **k):
                record.append(dotted)
                raise BannedCall(f"{dotted} is not allowed in this assignment; write it yourself")
            return type(original.__name__, (original,), {"__init__": __init__, "__module__": original.__module__})

        def refused(*a, **k):
            record.append(dotted)
            raise BannedCall(f"{dotted} is not allowed in this assignment; write it yourself")
        refused.__name__ = getattr(original, "__name__", "banned")
        return refused

    replacements = {}
    for mod, attr, original in plan.sites if sites is None else sites:
        key = id(original)
        if key not in replacements:
            replacements[key] = make(plan.originals[key][0], original)
        try:
            setattr(mod, attr, replacements[key])
        except (AttributeError, TypeError):
            pass
