"""Child side: where the student's code is running, and refusing functions that hung earlier.

Runs only in the sandboxed child. Three pieces:
- `student_frames`: the frames of a traceback (or of a live stack) that run a submitted file,
  as plain data (file, line, function, qualified name, code);
- `report_when_stopped`: a handler of HANG_SIGNAL. At a test's time limit the grader sends the
  signal twice, a moment apart; the first time the handler keeps the student frames running
  then, the second time it sends them back, each marked `steady` when the very same call was
  running both times (frames are kept alive in between, so identity means the same call). The
  innermost steady frame of a graded function is the one that hung;
- `refuse_imports` / `refuse_calls`: in later children, a function (or a module's top level)
  that hung is replaced by one that raises `RefusedCall` at once, wherever the submission's
  modules refer to it, so that each later test that needs it fails at once.

What the child sends is untrusted data for the grader, like everything else it sends.
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["HANG_SIGNAL", "RefusedCall", "student_frames", "report_when_stopped", "refuse_imports",
           "refuse_calls", "SENDING"]

HANG_SIGNAL = signal.SIGUSR1
SENDING = [False]  # True while the child writes a reply: the handler must not interleave its own
_MAX_FRAMES = 64


class RefusedCall(Exception):
    """Raised instead of running a function that hit its time limit earlier in this grade."""

    def __init__(self, module: str, qual: str):
        super().__init__(f"{module}:{qual} hit its time limit earlier in this grade and is not run again")
        self.key = (module, qual)  # what hung: (module, `function`, `Class.method` or `<module>`)


def _qualname(frame) -> str:
    """`Class.method` or `function.<locals>.inner` (co_qualname from Python 3.11; before, the
    class of a `self` or `cls` first argument)."""
    code = frame.f_code
    qual = getattr(code, "co_qualname", None)
    if isinstance(qual, str):
        return qual
    if code.co_argcount and code.co_varnames[0] in ("self", "cls"):
        first = frame.f_locals.get(code.co_varnames[0])
        owner = first if code.co_varnames[0] == "cls" and isinstance(first, type) else type(first)
        name = getattr(owner, "__name__", None)
        if isinstance(name, str):
            return f"{name}.{code.co_name}"
    return code.co_name


def _is_student(frame, workdir: str) -> bool:
    filename = frame.f_code.co_filename
    return bool(filename) and os.path.dirname(filename) == workdir


def _describe(frame, lineno, workdir: str) -> dict:
    import linecache

    filename = frame.f_code.co_filename
    return {"file": os.path.basename(filename), "line": lineno or 0, "function": frame.f_code.co_name,
            "qualname": _qualname(frame)[:200], "code": linecache.getline(filename, lineno or 0).strip()[:200]}


def student_frames(frames, workdir: str) -> list[dict]:
    """The (frame, lineno) pairs, outermost first, that run a file of the submission folder."""
    return [_describe(f, n, workdir) for f, n in frames if _is_student(f, workdir)][-_MAX_FRAMES:]


_KEPT: list = []  # the student frames of the first signal, alive until the second


def report_when_stopped(rep_fd: int, workdir: str, pack) -> None:
    """Install the HANG_SIGNAL handler (see the module docstring); `pack(meta)` frames a reply."""
    def handler(signum, frame):
        if SENDING[0]:
            return
        live = []
        while frame is not None:
            live.append(frame)
            frame = frame.f_back
        mine = [f for f in reversed(live) if _is_student(f, workdir)][-_MAX_FRAMES:]
        if not _KEPT:
            _KEPT.append(mine)
            return
        before = _KEPT[0]
        stack = [dict(_describe(f, f.f_lineno, workdir), steady=any(f is g for g in before)) for f in mine]
        view = memoryview(pack({"ok": False, "hung": stack}))
        while view:
            view = view[os.write(rep_fd, view):]

    signal.signal(HANG_SIGNAL, handler)


class _RefusedImports:
    """A meta path finder that refuses to import the modules whose top level hung."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name in self.names:
            raise RefusedCall(name, "<module>")
        return None


def _split(keys):
    """The well-formed (module, qual) pairs of `keys`."""
    for key in keys:
        if isinstance(key, (tuple, list)) and len(key) == 2 and all(isinstance(k, str) and k for k in key):
            yield tuple(key)


def refuse_imports(keys) -> None:
    """Before the submission is imported: modules whose top level hung raise RefusedCall."""
    names = [module for module, qual in _split(keys) if qual == "<module>"]
    if names:
        sys.meta_path.insert(0, _RefusedImports(names))


def _refuser(module: str, qual: str):
    def refused(*args, **kwargs):
        raise RefusedCall(module, qual)
    return refused


def refuse_calls(keys, workdir: str) -> None:
    """After the import: each (module, `function`) or (module, `Class.method`) of `keys` raises
    RefusedCall, through every name a submitted module binds to it."""
    mine = [m for m in list(sys.modules.values())
            if os.path.dirname(getattr(m, "__file__", None) or "") == workdir]
    for module_name, qual in _split(keys):
        module = sys.modules.get(module_name)
        if module is None or qual == "<module>":
            continue
        owner_name, _, method = qual.partition(".")
        original = module.__dict__.get(owner_name)
        if original is None:
            continue
        if method:
            if isinstance(original, type) and method in original.__dict__:
                setattr(original, method, _refuser(module_name, qual))
            continue
        replacement = _refuser(module_name, qual)
        for m in mine:
            for name, value in list(vars(m).items()):
                if value is original:
                    setattr(m, name, replacement)
