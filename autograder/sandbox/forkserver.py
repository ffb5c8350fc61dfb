"""The template process: forks each test's child, and kills and reaps it when the grader says so.

It runs `serve` on its end of a unix socketpair with the grader (template.py is the grader's
side). It holds numpy, torch and the spec's `preload` modules, the compiled probes and the ban
plans, and never anything secret. It is a child subreaper (reaper.py): every process a child
starts, even one that called setsid or double-forked, ends up as its child, so that `end`
kills the child's process group and its whole tree and reaps all of them, as the grader did when
it forked children itself.

Requests (JSON, one message each, answered in order, each reply also saying which pid is the
spare): warm (import modules), fork (the job, with the child's three pipe ends as SCM_RIGHTS),
wait (for a child to exit by itself, up to a timeout), end (kill and reap a child and all it
started; its exit status), status.

The next child is forked ahead of time (the spare), waiting for its job on a socket of its own,
so that a fork request is answered by handing the job over: under load every process a request
waits on costs a time slice. A spare is retired (it exits and is reaped) when modules are
imported after it was forked, so that every child starts with everything the grader asked for.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import socket
import sys
import time
from types import SimpleNamespace

from autograder.sandbox import reaper

__all__ = ["serve", "MAX_MESSAGE"]

MAX_MESSAGE = 1 << 20
_SPARE: dict = {}  # "pid", "sock": the spare, when there is one
_EXITED: dict = {}  # pid -> exit status of children `wait` reaped before their `end`


def serve(sock: socket.socket) -> None:
    """The template's life: answer requests on `sock` until the grader closes its end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C stops the grader, which closes the socket
    reaper.become_subreaper(fresh=True)  # a cached answer may have come through fork; the flag did not
    sock.settimeout(None)
    try:
        _loop(sock)
    finally:  # the grader is done: nothing of ours outlives us, not even as a zombie
        if _SPARE:
            _retire()
        reaper.reap_tree(0, [], lambda: None)


def _loop(sock: socket.socket) -> None:
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 8)
        except OSError:
            return
        if not data:
            return
        job = None
        try:
            request = json.loads(data)
            op = request.get("op")
            if op == "warm":
                reply = _import(request["modules"])
            elif op == "fork":
                job = _job(request["job"], fds)
                reply = {"ok": True, "pid": _hand_over(request["job"], job, fds, sock)}
            elif op == "wait":
                reply = {"ok": True, "status": _wait(int(request["pid"]), float(request["timeout"]))}
            elif op == "end":
                reply = {"ok": True, "status": _end(int(request["pid"]))}
            elif op == "status":
                reply = {"ok": True}
            else:
                reply = {"ok": False, "error": f"unknown request {op!r}"}
        except Exception as exc:  # a bad job or a failed fork: the grader reports it
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        finally:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        reply["spare"] = _SPARE.get("pid")
        sock.send(json.dumps(reply).encode())
        try:
            if job is not None:  # what the next children need, made once here
                from autograder.sandbox import harden
                from autograder.sandbox.child import probes_code

                harden.ban_plan(job.banned)
                probes_code(job.probes_path)
            if not _SPARE:
                _SPARE["pid"], _SPARE["sock"] = _fork(sock, _wait_for_job)
        except Exception:  # the next request forks its child itself
            _SPARE.clear()


def _import(modules) -> dict:
    before, failed = len(sys.modules), []
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # ImportError, or whatever a module raises at import
            failed.append(f"{name} ({type(exc).__name__}: {exc})")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    if len(sys.modules) != before and _SPARE:
        _retire()  # it lacks what was just imported
    return {"ok": not failed, "error": "could not import " + ", ".join(failed) if failed else None}


def _job(wire: dict, fds):
    from autograder.sandbox.child import ChildJob

    if len(fds) != 3:
        raise ValueError(f"a fork request carries {len(fds)} file descriptors, not 3")
    return ChildJob(**dict(wire, modules=tuple(wire["modules"]), banned=tuple(wire["banned"]),
                           refuse=tuple(tuple(key) for key in wire["refuse"]),
                           limits=SimpleNamespace(**wire["limits"])))


def _retire() -> None:
    """Close the spare's socket: it exits at once, and is reaped here."""
    pid, spare_sock = _SPARE.pop("pid"), _SPARE.pop("sock")
    spare_sock.close()
    reaper.reap(pid)


def _hand_over(wire: dict, job, fds, sock) -> int:
    """The pid of the child that serves `job`: the spare, or else a child forked now."""
    if _SPARE:
        try:
            socket.send_fds(_SPARE["sock"], [json.dumps({"job": wire}).encode()], list(fds))
        except OSError:  # it died (a child of the same user may have killed it): fork afresh
            _retire()
        else:
            pid = _SPARE.pop("pid")
            _SPARE.pop("sock").close()
            return pid
    return _fork(sock, lambda: _run(job, fds))[0]


def _fork(sock, body):
    """Fork a process that runs `body(...)` and exits; (pid, our end of its socket or None).
    The spare (`body` is _wait_for_job) gets a socket to wait for its job on."""
    ours = theirs = None
    if body is _wait_for_job:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()  # a child's collector then leaves the template's objects (and their pages) alone
    try:
        pid = os.fork()
    finally:
        gc.unfreeze()
    if pid == 0:
        try:
            sock.close()
            for other in (ours, _SPARE.get("sock")):
                if other is not None:
                    other.close()
            body(theirs) if theirs is not None else body()
        finally:
            os._exit(0)
    if theirs is not None:
        theirs.close()
    return pid, ours


def _wait_for_job(sock: socket.socket) -> None:
    """The spare's life: wait for a job and its three pipe ends, then be that job's child."""
    try:
        data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 8)
    except OSError:
        return
    sock.close()
    if data:
        _run(_job(json.loads(data)["job"], fds), fds)


def _run(job, fds) -> None:
    from autograder.sandbox.child import serve as serve_child

    signal.signal(signal.SIGINT, signal.default_int_handler)
    serve_child(job, *fds)  # never returns


def _wait(pid: int, timeout: float):
    """Give a child up to `timeout` seconds to exit by itself; its exit status, or None."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return _EXITED.get(pid, -1)
        if done:
            _EXITED[pid] = status
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)


def _end(pid: int) -> int:
    """Kill a child, its process group and everything it started; reap them all; its exit status
    (-1 when it was not ours)."""
    status = [_EXITED.pop(pid, None)]

    def reap_child():
        if status[0] is None:
            try:
                status[0] = os.waitpid(pid, 0)[1]
            except ChildProcessError:
                status[0] = -1

    reaper.kill_everything_from(pid, reap_child)
    return status[0]
