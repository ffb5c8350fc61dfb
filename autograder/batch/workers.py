"""The forked worker processes of `grade-batch`, and the pipes between them and this process.

The pool loads the bundle's arrays once, then forks workers that share them. A worker reads
submission indices, one a line, from its task pipe and grades each whole with `grade_path`, in its
own subreaper with its own temporary folder and its own template (a fresh interpreter, started at
its first grade: the worker's memory holds reference data, so its children must not be forked
from it; see template.py); it answers each on its result pipe with one frame: an 8-byte big-endian
length, then JSON ({"i", "results"} or {"i", "error"}, with "log" and "elapsed"). When grading as
root, worker slot k runs its children as the user `autograder-student-<k+1>`, created on demand
(users.py), so that submissions graded side by side cannot signal each other or share a process
limit. The pool only moves indices and frames; deciding what to grade next and what a death or an
overrun costs is up to `batch`.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import struct
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field

from autograder.sandbox import reaper

__all__ = ["Worker", "WorkerPool"]

_LENGTH = struct.Struct(">Q")


def _reachable_tmp(prefix: str, parent: str | None = None) -> str:
    """A new temporary folder whose sub-folders the sandbox user can still reach (mode 0o711)."""
    path = tempfile.mkdtemp(prefix=prefix, dir=parent)
    os.chmod(path, 0o711)
    return path


def _close(fd: int) -> None:
    """Close `fd`; one closed already (-1 after `retire`) is no error."""
    try:
        os.close(fd)
    except OSError:
        pass


def _send(fd: int, msg: dict) -> None:
    data = json.dumps(msg).encode()
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _warm_up(bundle, visibilities) -> None:
    """Load every array once here, so that forked workers share them (the framework is imported by
    each worker's template, not here)."""
    bundle.load(visibilities)
    bundle.verify_module()
    getattr(bundle, "hints", dict)()


def _serve(bundle, subs, visibilities, task_fd: int, result_fd: int, user: str | None = None) -> None:
    """A worker's life: grade each submission whose index arrives on `task_fd`; return at EOF."""
    from autograder.grading.grade import grade_path  # looked up in the worker, so that a replaced one takes effect
    from autograder.grading.submission import describe

    reaper.become_subreaper(fresh=True)  # the cached answer came through fork; the kernel flag did not
    with os.fdopen(task_fd, "r") as tasks:
        for line in tasks:
            i, logs, start = int(line), [], time.monotonic()
            try:
                report = grade_path(bundle, subs[i].path, visibilities, log=logs.append, user=user)
                msg = {"i": i, "results": report.to_gradescope()}
            except Exception:
                logs.append(traceback.format_exc())
                msg = {"i": i, "error": "the grader failed on this submission (see batch.log)"}
            if "results" in msg:  # what was found, for the reason grades.csv gives a zero (one more unzip)
                try:
                    found = describe(subs[i].path, bundle.spec.files)
                    msg["results"].setdefault("extra_data", {})["submission"] = found
                except Exception:
                    logs.append(traceback.format_exc())
            msg.update(log=logs, elapsed=time.monotonic() - start)
            _send(result_fd, msg)
    from autograder.sandbox.template import close_all

    close_all()  # this worker's template and its spare end with it


@dataclass
class Worker:
    pid: int
    tasks: int  # write end of its task pipe; -1 once retired
    results: int  # read end of its result pipe (non-blocking)
    tmp: str
    slot: int = 0  # 0, 1, ...: which sandbox user its children run as (when grading as root)
    current: int | None = None  # the submission it is grading
    started: float = 0.0  # time.monotonic() when it was handed `current`
    buf: bytearray = field(default_factory=bytearray)


class WorkerPool:
    """Workers forked from this process; each grades one submission at a time. A context manager."""

    def __init__(self, bundle, subs, visibilities, warn=None):
        _warm_up(bundle, visibilities)
        reaper.become_subreaper()  # a worker that dies leaves its sandboxed children to us
        self.bundle, self.subs, self.visibilities = bundle, subs, visibilities
        self.workers: dict[int, Worker] = {}
        self.sel = selectors.DefaultSelector()
        self.tmp = _reachable_tmp("autograder-batch-")
        self.warn = warn or (lambda msg: print(f"warning: {msg}", file=sys.stderr))
        self.users: dict[int, str | None] = {}  # slot -> its sandbox user (None: the shared one)

    def _user(self, slot: int) -> str | None:
        """Slot `slot`'s own sandbox user when grading as root, created the first time."""
        if os.geteuid() != 0:
            return None
        if slot not in self.users:
            from autograder.sandbox.users import worker_user

            self.users[slot], problem = worker_user(slot)
            if problem:
                self.warn(f"could not create a sandbox user for worker {slot + 1} ({problem}); its submissions' "
                          "code runs as the shared sandbox user, so submissions graded side by side may signal "
                          "each other and share one process limit")
        return self.users[slot]

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    def spawn(self) -> Worker:
        busy = {w.slot for w in self.workers.values()}
        slot = next(k for k in range(len(busy) + 1) if k not in busy)
        user = self._user(slot)
        task_r, task_w = os.pipe()
        res_r, res_w = os.pipe()
        tmp = _reachable_tmp("w", self.tmp)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                for fd in [task_w, res_r] + [x for w in self.workers.values() for x in (w.tasks, w.results)]:
                    if fd >= 0:
                        os.close(fd)
                tempfile.tempdir = tmp  # work folders and unpacked zips: removed with the worker
                _serve(self.bundle, self.subs, self.visibilities, task_r, res_w, user)
                status = 0
            finally:
                os._exit(status)
        os.close(task_r)
        os.close(res_w)
        os.set_blocking(res_r, False)
        w = Worker(pid, task_w, res_r, tmp, slot)
        self.workers[pid] = w
        self.sel.register(res_r, selectors.EVENT_READ, w)
        return w

    def assign(self, w: Worker, i: int) -> bool:
        w.current, w.started = i, time.monotonic()
        try:
            os.write(w.tasks, f"{i}\n".encode())
            return True
        except OSError:
            return False  # it died; its end of file arrives soon

    def retire(self, w: Worker) -> None:
        """No more work for `w`: closing its task pipe ends its loop."""
        _close(w.tasks)
        w.tasks = -1

    def bury(self, w: Worker) -> str:
        """Kill `w` and everything it started (escaped children re-parented here too); say how it ended."""
        ended = [0]

        def reap():
            try:
                ended[0] = os.waitpid(w.pid, 0)[1]
            except ChildProcessError:
                pass

        reaper.kill_everything_from(w.pid, reap)
        status = ended[0]
        self.sel.unregister(w.results)
        _close(w.tasks)
        _close(w.results)
        shutil.rmtree(w.tmp, ignore_errors=True)
        del self.workers[w.pid]
        if os.WIFSIGNALED(status):
            return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
        return f"exited with code {os.WEXITSTATUS(status)}"

    def poll(self, timeout: float):
        """Yield (worker, message) for each reply, and (worker, None) when a worker's pipe closed."""
        for key, _ in self.sel.select(timeout):
            w = key.data
            try:
                chunk = os.read(w.results, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                yield w, None
                continue
            w.buf += chunk
            while len(w.buf) >= _LENGTH.size:
                (n,) = _LENGTH.unpack_from(w.buf)
                if len(w.buf) < _LENGTH.size + n:
                    break
                msg = json.loads(bytes(w.buf[_LENGTH.size:_LENGTH.size + n]))
                del w.buf[:_LENGTH.size + n]
                yield w, msg

    def shutdown(self) -> None:
        """Bury every worker left, then remove the pool's temporary folder."""
        try:
            for w in list(self.workers.values()):
                self.bury(w)
            self.sel.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
