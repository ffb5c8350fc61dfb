"""Nothing a child starts may outlive its test, not even a process that called setsid.

The grader becomes a child subreaper (Linux), so that orphans of its children are re-parented to
it rather than to init. Ending a test kills the child's process group, every process still in its
tree, and every orphan that was re-parented to the grader from another session.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

__all__ = ["become_subreaper", "descendants", "kill_everything_from", "kill_tree", "reap_tree", "reap"]

_PR_SET_CHILD_SUBREAPER = 36
_state = {"subreaper": None}


def become_subreaper(fresh: bool = False) -> bool:
    """Ask Linux to re-parent our orphaned descendants to us. True when it worked.

    The answer is cached; `fresh` asks again, as a process forked from one that asked must (the
    cached answer came through fork, the kernel's flag did not)."""
    if fresh or _state["subreaper"] is None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            _state["subreaper"] = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError):
            _state["subreaper"] = False
    return _state["subreaper"]


def _children(pid: int) -> list[int]:
    found = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(x) for x in f.read().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, children first."""
    out, stack = [], [pid]
    while stack:
        for child in _children(stack.pop()):
            if child not in out:
                out.append(child)
                stack.append(child)
    return out


def _stat(pid: int):
    """(ppid, session id) of a process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[3])
    except (OSError, IndexError, ValueError):
        return None


def _orphans_from_other_sessions() -> list[int]:
    """Our children that are not in our session: re-parented leftovers of a sandboxed child."""
    me, my_sid = os.getpid(), os.getsid(0)
    out = []
    for pid in _children(me):
        st = _stat(pid)
        if st and st[0] == me and st[1] != my_sid:
            out.append(pid)
    return out


def _kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def reap(pid: int) -> None:
    """Wait for our child `pid` to end; nothing if it is not (or no longer) ours."""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def kill_tree(pid: int) -> list[int]:
    """Send SIGKILL to `pid`, its process group and every descendant; returns the descendants."""
    tree = descendants(pid)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _kill([pid, *tree])
    return tree


def reap_tree(pid: int, tree: list[int], reap_pid) -> None:
    """After kill_tree: wait for `pid` (`reap_pid()`, whose caller keeps the exit status), then
    kill and reap whatever was re-parented to us (from another session, or from `tree`). A killed process's children are re-parented
    before it can be reaped, so when `pid` had no descendants and no orphan is found once it is
    reaped, nothing is left; otherwise the orphan passes repeat until one finds nothing twice in
    a row (their own children are re-parented only as they die)."""
    reap_pid()
    quiet, me = 0, os.getpid()
    for _ in range(200):  # bounded: at most about a second of waiting for stragglers
        orphans = [o for o in _orphans_from_other_sessions() if o != pid]
        alive = [p for p in tree if _stat(p) is not None]
        # Killed members of the tree in our own session (a worker's template, say) come to us too.
        orphans += [p for p in alive if p not in orphans and (_stat(p) or (0,))[0] == me]
        alive = [p for p in alive if p not in orphans]
        if not orphans and not alive:
            quiet += 1
            if quiet >= 2 or not tree:
                return
            time.sleep(0.002)
            continue
        quiet = 0
        _kill(orphans + alive)
        for orphan in orphans:
            reap(orphan)
        if alive and not orphans:
            time.sleep(0.005)


def kill_everything_from(pid: int, reap_pid) -> None:
    """Kill `pid`, its process group and all its descendants, including escaped ones, and reap
    everything that ends up as our child (kill_tree, then reap_tree)."""
    reap_tree(pid, kill_tree(pid), reap_pid)
