"""Temporary space of a child: a private TMPDIR, and as root a private, size-bounded /tmp.

The grader makes one folder per child (`make`) and removes it once the child and everything it
started are dead (`remove`). The child points TMPDIR, TEMP, TMP and Python's `tempfile` at it
(`use`). When grading as root, the child first enters a mount namespace of its own, in which
/tmp, /var/tmp and /dev/shm are fresh tmpfs mounts of at most `limits.tmp_mb` MB each
(`private_mounts`); its workdir stays visible at the same path (a bind mount). What it writes there
is never on the grader's disk, cannot fill it, and disappears with the last process of the
namespace. If the kernel refuses (a container without the capability), the private TMPDIR alone
remains.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
import tempfile

__all__ = ["make", "remove", "use", "private_mounts", "PRIVATE_MOUNTS"]

PRIVATE_MOUNTS = ("/tmp", "/var/tmp", "/dev/shm")  # the world-writable places every system has
_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
_MNT_DETACH = 0x2


def make(owner: tuple[int, int] | None = None) -> str:
    """A new folder (mode 0700) for one child; owned by `owner` (uid, gid) when given."""
    path = tempfile.mkdtemp(prefix="autograder-tmp-")
    if owner is not None:
        os.chown(path, *owner)
    return path


def remove(path: str | None) -> None:
    """Remove a folder and all it holds (symbolic links are removed, never followed), even where
    code that ran as the same user took away the permissions that removing needs."""
    if not path:
        return
    shutil.rmtree(path, ignore_errors=True)
    if os.path.lexists(path) and not os.path.islink(path):
        _let_owner_in(path)
        for folder, subfolders, _ in os.walk(path):  # never into a link: os.walk does not follow them
            for name in subfolders:
                _let_owner_in(os.path.join(folder, name))  # before os.walk lists it
        shutil.rmtree(path, ignore_errors=True)


def _let_owner_in(folder: str) -> None:
    if not os.path.islink(folder):
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass  # not ours: what is left in it stays


def use(path: str) -> None:
    """Point every usual way of finding a temporary folder at `path` (in the child)."""
    for name in ("TMPDIR", "TEMP", "TMP"):
        os.environ[name] = path
    tempfile.tempdir = path


def _under(path: str, mount: str) -> bool:
    return path == mount or path.startswith(mount.rstrip("/") + "/")


def code_folders() -> list[str]:
    """Where this interpreter loads code from (its prefixes and every folder on sys.path): bound back
    by `private_mounts` when they lie under /tmp, so that a child can still import what it imports
    lazily (numpy.ma, say) when the grader's Python or virtual environment lives there."""
    found = [sys.prefix, sys.exec_prefix, sys.base_prefix]
    found += [p for p in sys.path if p and os.path.isabs(p)]
    return [p for p in dict.fromkeys(found) if os.path.isdir(p)]


def private_mounts(size_mb: int, keep=()) -> bool:
    """As root, in the child: a new mount namespace whose PRIVATE_MOUNTS are fresh tmpfs mounts,
    with each folder of `keep` that lies under one of them bound back at its own path. True when
    /tmp is private; False (and nothing changed that the child can see) otherwise."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]

    def mount(source, target, fstype, flags, data=None) -> bool:
        enc = (lambda x: None if x is None else os.fsencode(x))
        return libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) == 0

    keep = sorted({os.path.realpath(p) for p in keep}, key=len)
    keep = [p for i, p in enumerate(keep) if not any(_under(p, q) for q in keep[:i])]  # a parent binds its children
    if libc.unshare(_CLONE_NEWNS) != 0:
        return False
    if not mount(None, "/", None, _MS_REC | _MS_PRIVATE):  # nothing mounted here reaches the host
        return False
    # Opened in the new namespace (a mount of another one cannot be bound), before the tmpfs hides them.
    held = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in keep if any(_under(p, m) for m in PRIVATE_MOUNTS)}
    try:
        mounted = []
        for target in PRIVATE_MOUNTS:
            if os.path.isdir(target) and not os.path.islink(target):
                if not mount("tmpfs", target, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={int(size_mb)}m,mode=1777"):
                    if target == "/tmp":
                        return False
                    continue
                mounted.append(target)
        for path, fd in held.items():
            os.makedirs(path, exist_ok=True)
            if not mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC):
                for target in mounted:  # the workdir must stay reachable: undo rather than break it
                    libc.umount2(os.fsencode(target), _MNT_DETACH)
                return False
        return True
    finally:
        for fd in held.values():
            os.close(fd)
