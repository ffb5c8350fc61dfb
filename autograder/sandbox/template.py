"""The template: a clean process whose only job is to fork each test's child (this is the grader's
handle on it; forkserver.py is the process itself).

A child forked from the grader would inherit the grader's memory: freed copies of earlier tests'
reference arrays, the results of earlier tests (whose messages carry expected values), the bundle
and the spec, all readable through /proc/self/mem or by walking sys._getframe(). So the process
that holds reference data never forks student code. The template imports numpy (and torch and the
spec's `preload` modules when asked), compiles the probes, makes the ban plans and forks one child
per test; it is never sent reference data, results or hints, only what a child is told anyway
(paths, limits, the grader's environment).

It starts in one of two ways. `prestart()` forks it from a process that holds nothing secret yet:
the `grade` and `gradescope` entry points call it before they load a bundle (a fork takes a
millisecond, and the template inherits the numpy the grader has imported already). Otherwise
`shared()` runs a fresh interpreter for it, as tests, batch workers and the build need, whose
memory may hold reference data already. A process has one template for all its grades; a process
forked from it starts its own.

Plumbing: a unix socketpair (SOCK_SEQPACKET: whole messages, in order). Each request is one JSON
message; a fork request carries the child's three pipe ends (SCM_RIGHTS). Replies come in order;
those the grader does not wait for (warm, and `end` without waiting) are read before the next fork,
so that, as before, every child of a test is dead and reaped before the next test's child exists.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from autograder.sandbox.forkserver import MAX_MESSAGE, serve
from autograder.sandbox.reaper import become_subreaper

__all__ = ["Template", "TemplateError", "PRELOAD", "warm", "shared", "prestart", "sync", "running",
           "close_all"]

# Imported in the template so that children start warm, and so that code running as the sandbox
# user never needs to read them from disk (a Python installed under a private home directory, as
# on some developer machines, is not readable by that user).
PRELOAD = ("numpy", "numpy.random", "numpy.linalg", "numpy.fft", "secrets", "math", "random", "copy",
           "collections", "itertools", "functools", "dataclasses", "typing", "warnings", "heapq", "bisect",
           "statistics", "string", "json", "re", "time", "subprocess", "tempfile")

REPLY_TIMEOUT = 300.0  # seconds: importing torch on a loaded machine takes several
_WANTED: dict = dict.fromkeys(PRELOAD)  # every module asked for in this process, in order
_SHARED: dict = {}  # os.getpid() -> this process's Template


class TemplateError(RuntimeError):
    """The template could not start, import a module it was asked for, or fork a child."""


class Template:
    """The grader's handle on one template process."""

    def __init__(self, sock: socket.socket, pid: int, proc=None):
        self.sock, self.pid, self._proc = sock, pid, proc
        self._owed = collections.deque()  # one handler (or None) per reply not read yet
        self._warmed: set = set()
        self._error: str | None = None
        self.spare: int | None = None  # the pre-forked next child, as last reported

    @classmethod
    def start(cls, fork: bool = False) -> "Template":
        become_subreaper()  # should the template die, what it leaves comes back to us
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        proc = None
        if fork:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                try:
                    ours.close()
                    serve(theirs)
                finally:
                    os._exit(0)
        else:
            package = __name__.rpartition(".")[0]
            code = (f"import socket, sys; sys.path[:] = [sys.argv[1]] + [p for p in sys.path if p]; "
                    f"from {package}.forkserver import serve; serve(socket.socket(fileno=int(sys.argv[2])))")
            argv = [sys.executable, *subprocess._args_from_interpreter_flags(), "-c", code,
                    str(Path(__file__).resolve().parents[2]), str(theirs.fileno())]
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

    # --- requests ---

    def warm(self, modules) -> None:
        """Ask the template to import `modules` (the reply is read before the next fork)."""
        new = [m for m in modules if m not in self._warmed]
        if new:
            self._warmed.update(new)
            self._request({"op": "warm", "modules": new}, handler=self._warmed_up)

    def spawn(self, job: dict, fds, forked) -> None:
        """Have a child forked to serve `job` on the pipe ends `fds` (request, reply, output).
        Returns at once; `forked(pid, error)` is called when the reply is read (at the latest by
        the next request that waits, or `sync`): the grader can talk to the child meanwhile."""
        self.sync()
        if self._error:
            raise TemplateError(self._error)

        def settle(reply):
            ok = reply.get("ok") and isinstance(reply.get("pid"), int)
            forked(reply["pid"] if ok else None, None if ok else f"the template could not fork a child: "
                                                                 f"{reply.get('error')}")

        self._request({"op": "fork", "job": job}, fds, handler=settle)

    def wait(self, pid: int, timeout: float):
        """The exit status of child `pid` if it exits within `timeout` seconds, else None."""
        return self._call({"op": "wait", "pid": pid, "timeout": max(0.0, timeout)}).get("status")

    def end(self, pid: int, done=None):
        """Kill child `pid`, its process group and all it started, and reap them. Without `done`,
        wait and return its exit status; else return at once and call `done(status)` later."""
        if done is None:
            return self._call({"op": "end", "pid": pid}).get("status")
        self._request({"op": "end", "pid": pid}, handler=lambda reply: done(reply.get("status")))
        return None

    def sync(self) -> None:
        """Read every reply still owed (so every child ended so far is dead and reaped)."""
        while self._owed:
            handler = self._owed.popleft()
            reply = self._receive()
            if handler is not None:
                handler(reply)

    def status(self) -> dict:
        return self._call({"op": "status"})

    def _warmed_up(self, reply: dict) -> None:
        if not reply.get("ok"):
            self._error = str(reply.get("error"))

    def _call(self, message: dict, fds=()) -> dict:
        self.sync()
        self._send(message, fds)
        return self._receive()

    def _request(self, message: dict, fds=(), handler=None) -> None:
        self._send(message, fds)
        self._owed.append(handler)

    def _send(self, message: dict, fds=()) -> None:
        data = json.dumps(message).encode()
        try:
            socket.send_fds(self.sock, [data], list(fds)) if fds else self.sock.send(data)
        except OSError as exc:
            raise TemplateError(f"the template process is gone ({exc})") from None

    def _receive(self) -> dict:
        self.sock.settimeout(REPLY_TIMEOUT)
        try:
            data = self.sock.recv(MAX_MESSAGE)
        except TimeoutError:
            raise TemplateError(f"the template process did not answer within {REPLY_TIMEOUT:g} s") from None
        except OSError as exc:
            raise TemplateError(f"the template process is gone ({exc})") from None
        if not data:
            raise TemplateError("the template process ended")
        reply = json.loads(data)
        self.spare = reply.get("spare")
        return reply

    # --- the process ---

    def alive(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        try:
            return os.waitpid(self.pid, os.WNOHANG)[0] == 0
        except ChildProcessError:
            return False

    def close(self) -> None:
        """Close the socket (the template and its spare then exit) and wait for the template."""
        try:
            if self.alive():
                self.sync()
        except TemplateError:
            pass
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


def sync() -> None:
    """Every child this process's template was told to end is dead and reaped."""
    template = _SHARED.get(os.getpid())
    if template is not None and template.alive():
        template.sync()


def running() -> list[int]:
    """The pids of this process's template and its spare, if there are (tests tell them from
    leftovers of a grade)."""
    template = _SHARED.get(os.getpid())
    if template is None or not template.alive():
        return []
    template.status()
    return [template.pid] + ([template.spare] if template.spare else [])


def _forget() -> None:
    """In a forked process: the parent's template is not ours (its socket is closed here)."""
    for template in _SHARED.values():
        try:
            template.sock.close()
        except OSError:
            pass
    _SHARED.clear()


def close_all() -> None:
    """End this process's template (a process that leaves by os._exit calls this first)."""
    template = _SHARED.pop(os.getpid(), None)
    if template is not None:
        template.close()


os.register_at_fork(after_in_child=_forget)
atexit.register(close_all)
