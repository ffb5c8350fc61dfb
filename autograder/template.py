"""The template: a clean process whose only job is to fork each test's child.

A child forked from the grader would inherit the grader's memory: freed copies of earlier tests'
reference arrays, the results of earlier tests (whose messages carry expected values), the bundle
and the spec, all readable through /proc/self/mem or by walking sys._getframe(). So the process
that holds reference data never forks student code. The template imports numpy (and torch and the
spec's `preload` modules when asked), compiles the probes, makes the ban plan and forks one child
per test on request; it is never sent reference data, results or hints, only what the child is
told anyway (paths, limits, the grader's environment).

It is started in one of two ways. `prestart()` forks it from a process that holds nothing secret
yet: the `grade` and `gradescope` entry points call it before they load a bundle (a fork costs a
few milliseconds, and the template inherits the numpy the grader has already imported). Otherwise
`shared()` runs a fresh interpreter (`python -c`) for it, as tests, batch workers and the build
need: their memory may already hold reference data. Either way a process has one template for all
its grades; a process forked from it starts its own.

Plumbing. Grader and template share a unix socketpair (SOCK_SEQPACKET: whole messages, in order).
A request is JSON, {"op": "warm", "modules": [...]} or {"op": "fork", "job": {...}} with the
child's three pipe ends attached (SCM_RIGHTS); each gets one reply, {"ok": true[, "pid": N]} or
{"ok": false, "error": "..."}. To fork, the template forks a middle process that forks the child
and exits at once: the child is re-parented to the grader, a child subreaper (reaper.py), so the
grader alone waits for the child, kills its process group and tree, reaps what escaped with setsid
or a double fork, and reads its exit status, as it did when it forked children itself. The
template ends when the grader closes its end of the socket.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

__all__ = ["Template", "TemplateError", "PRELOAD", "warm", "shared", "prestart", "running"]

# Imported in the template so that children start warm, and so that code running as the sandbox
# user never needs to read them from disk (a Python installed under a private home directory, as
# on some developer machines, is not readable by that user).
PRELOAD = ("numpy", "numpy.random", "numpy.linalg", "numpy.fft", "secrets", "math", "random", "copy",
           "collections", "itertools", "functools", "dataclasses", "typing", "warnings", "heapq", "bisect",
           "statistics", "string", "json", "re", "time", "subprocess", "tempfile")

_MAX_MESSAGE = 1 << 20
_REPLY_TIMEOUT = 300.0  # seconds: importing torch on a loaded machine takes several
_WANTED: dict = dict.fromkeys(PRELOAD)  # every module asked for in this process, in order
_SHARED: dict = {}  # os.getpid() -> this process's Template


class TemplateError(RuntimeError):
    """The template could not start, import a module it was asked for, or fork a child."""


class Template:
    """The grader's handle on one template process."""

    def __init__(self, sock: socket.socket, pid: int, proc=None):
        self.sock, self.pid, self._proc = sock, pid, proc
        self._owed = 0  # replies to warm requests not read yet
        self._warmed: set = set()
        self._error: str | None = None

    @classmethod
    def start(cls, fork: bool = False) -> "Template":
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        proc = None
        if fork:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                status = 1
                try:
                    ours.close()
                    _main(theirs)
                    status = 0
                finally:
                    os._exit(status)
        else:
            package = __name__.rpartition(".")[0]
            code = (f"import sys; sys.path[:] = [sys.argv[1]] + [p for p in sys.path if p]; "
                    f"from {package}.template import main; main(int(sys.argv[2]))")
            argv = [sys.executable, *subprocess._args_from_interpreter_flags(), "-c", code,
                    str(Path(__file__).resolve().parent.parent), str(theirs.fileno())]
            try:
                proc = subprocess.Popen(argv, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
            except OSError as exc:
                ours.close()
                theirs.close()
                raise TemplateError(f"could not start the template process ({sys.executable}): {exc}") from None
            pid = proc.pid
        theirs.close()
        template = cls(ours, pid, proc)
        template.warm(list(_WANTED))
        return template

    def warm(self, modules) -> None:
        """Ask the template to import `modules` (the reply is read before the next fork)."""
        new = [m for m in modules if m not in self._warmed]
        if new:
            self._warmed.update(new)
            self._send({"op": "warm", "modules": new})
            self._owed += 1

    def spawn(self, job: dict, fds) -> int:
        """Fork a child serving `job` on the pipe ends `fds` (request, reply, output); its pid."""
        while self._owed:
            reply = self._receive()
            self._owed -= 1
            if not reply.get("ok"):
                self._error = str(reply.get("error"))
        if self._error:
            raise TemplateError(self._error)
        self._send({"op": "fork", "job": job}, fds)
        reply = self._receive()
        if not reply.get("ok") or not isinstance(reply.get("pid"), int):
            raise TemplateError(f"the template could not fork a child: {reply.get('error')}")
        return reply["pid"]

    def _send(self, message: dict, fds=()) -> None:
        data = json.dumps(message).encode()
        try:
            socket.send_fds(self.sock, [data], list(fds)) if fds else self.sock.send(data)
        except OSError as exc:
            raise TemplateError(f"the template process is gone ({exc})") from None

    def _receive(self) -> dict:
        self.sock.settimeout(_REPLY_TIMEOUT)
        try:
            data = self.sock.recv(_MAX_MESSAGE)
        except TimeoutError:
            raise TemplateError(f"the template process did not answer within {_REPLY_TIMEOUT:g} s") from None
        except OSError as exc:
            raise TemplateError(f"the template process is gone ({exc})") from None
        if not data:
            raise TemplateError("the template process ended")
        return json.loads(data)

    def alive(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        try:
            return os.waitpid(self.pid, os.WNOHANG)[0] == 0
        except ChildProcessError:
            return False

    def close(self) -> None:
        """Close the socket (the template then exits) and wait for the process."""
        self.sock.close()
        try:
            if self._proc is not None:
                self._proc.wait(timeout=5)
            else:
                os.waitpid(self.pid, 0)
        except (ChildProcessError, subprocess.TimeoutExpired):
            pass


def shared() -> Template:
    """This process's template, started (as a fresh interpreter) if there is none or it died."""
    template = _SHARED.get(os.getpid())
    if template is None or not template.alive():
        if template is not None:
            template.close()
        template = _SHARED[os.getpid()] = Template.start()
    return template


def prestart() -> Template:
    """Start this process's template by forking this process now. Call it only while the process
    holds no reference data, results, hints or spec (first thing in an entry point)."""
    if os.getpid() not in _SHARED:
        _SHARED[os.getpid()] = Template.start(fork=True)
    return _SHARED[os.getpid()]


def warm(modules=PRELOAD) -> None:
    """Children start with `modules` imported: the template imports them once."""
    _WANTED.update(dict.fromkeys(modules))
    shared().warm(list(modules))


def running() -> list[int]:
    """The pid of this process's template, if it has one (tests tell it from leftovers)."""
    template = _SHARED.get(os.getpid())
    return [template.pid] if template is not None else []


def _forget() -> None:
    """In a forked process: the parent's template is not ours (its socket is closed here)."""
    for template in _SHARED.values():
        try:
            template.sock.close()
        except OSError:
            pass
    _SHARED.clear()


def _close_all() -> None:
    for template in list(_SHARED.values()):
        template.close()
    _SHARED.clear()


os.register_at_fork(after_in_child=_forget)
atexit.register(_close_all)


# --- the template process ---------------------------------------------------------------------

def main(fd: int) -> None:
    """Entry point of a template started as a fresh interpreter: serve socket `fd`."""
    _main(socket.socket(fileno=fd))


def _main(sock: socket.socket) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C stops the grader, which closes the socket
    sock.settimeout(None)
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, _MAX_MESSAGE, 8)
        except OSError:
            return
        if not data:
            return
        try:
            request = json.loads(data)
            if request.get("op") == "warm":
                reply = _import(request["modules"])
            elif request.get("op") == "fork":
                reply = {"ok": True, "pid": _fork_child(request["job"], fds, sock)}
            else:
                reply = {"ok": False, "error": f"unknown request {request.get('op')!r}"}
        except Exception as exc:  # a bad job or a failed fork: the grader reports it
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        finally:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        sock.send(json.dumps(reply).encode())


def _import(modules) -> dict:
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # ImportError, or whatever a module raises at import
            failed.append(f"{name} ({type(exc).__name__}: {exc})")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    return {"ok": not failed, "error": "could not import " + ", ".join(failed) if failed else None}


def _fork_child(wire: dict, fds, sock) -> int:
    from . import harden
    from .child import ChildJob, probes_code, serve

    if len(fds) != 3:
        raise ValueError(f"a fork request carries {len(fds)} file descriptors, not 3")
    job = ChildJob(**dict(wire, modules=tuple(wire["modules"]), banned=tuple(wire["banned"]),
                          limits=SimpleNamespace(**wire["limits"])))
    harden.ban_plan(job.banned)  # made here once rather than in every child
    probes_code(job.probes_path)
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()  # a child's collector then leaves the template's objects (and their pages) alone
    try:
        middle = os.fork()
    except BaseException:
        gc.unfreeze()
        os.close(r)
        os.close(w)
        raise
    if middle == 0:
        status = 1
        try:
            os.close(r)
            pid = os.fork()
            if pid == 0:
                os.close(w)
                sock.close()
                signal.signal(signal.SIGINT, signal.default_int_handler)
                serve(job, *fds)  # never returns
            os.write(w, pid.to_bytes(8, "big"))
            status = 0
        finally:
            os._exit(status)  # the child is re-parented to the grader
    gc.unfreeze()
    os.close(w)
    try:
        data = b""
        while len(data) < 8:
            chunk = os.read(r, 8 - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
        os.waitpid(middle, 0)
    if len(data) != 8:
        raise OSError("the middle process could not fork the child")
    return int.from_bytes(data, "big")
