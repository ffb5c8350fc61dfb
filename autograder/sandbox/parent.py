"""The grader's side of the sandbox: a child per test, forked by the template; talk to it, end it.

The child is forked by the template process (template.py, forkserver.py), which never holds
reference data: numpy and torch are imported there, and nothing secret is. The template is the
child's parent and a child subreaper: when the grader ends a test, or its deadline passes, the
template kills the child's process group and whole tree, and reaps them all. Replies are read with
limits and decoded without pickles (see protocol.py); each child gets a private temporary folder
(tmpdirs.py), removed once everything it started is dead.
"""

from __future__ import annotations

import dataclasses
import os
import selectors
import signal
import time
from dataclasses import dataclass, field

import numpy as np

from autograder.sandbox import template
from autograder.sandbox import tmpdirs
from autograder.sandbox.child import ChildJob
from autograder.sandbox.protocol import FrameReader, ProtocolError, check_reply, pack
from autograder.sandbox.reaper import become_subreaper, reap_tree
from autograder.sandbox.stack import HANG_SIGNAL
from autograder.sandbox.template import PRELOAD, warm

__all__ = ["ChildJob", "Child", "Reply", "warm", "PRELOAD", "reap_pending"]


def reap_pending() -> None:
    """Every child ended without waiting (`close(wait=False)`) is dead and reaped, with what it
    started, and its temporary folder removed; so is anything re-parented to this process."""
    template.sync()
    reap_tree(0, [], lambda: None)  # should a template have died: what it left came to us


@dataclass
class Reply:
    """What one call gave back. `failure` is None on success, else one of:
    'error' (the code raised), 'import', 'timeout', 'died', 'protocol', 'output', 'internal'
    (a problem of the grader's own files, such as a missing probe)."""

    failure: str | None
    arrays: dict = field(default_factory=dict)  # everything the reply carried, by wire name
    outputs: dict = field(default_factory=dict)
    many: list = field(default_factory=list)  # call_many: one outputs dict per input set
    inputs_after: dict = field(default_factory=dict)
    error: dict = field(default_factory=dict)
    banned: list = field(default_factory=list)
    detail: str = ""
    stack: list = field(default_factory=list)  # timeout: the student frames running when it was stopped


class Child:
    """One forked child serving probe calls for one test."""

    def __init__(self, job: ChildJob, forker=None):
        become_subreaper()
        self.template = forker or template.shared()
        self.job = job
        self.output = bytearray()
        self.output_total = 0
        self.exit_status = None
        self.dead = False
        self.on_wait = None  # called at least twice a second while a reply is awaited (progress)
        self._ended = False
        self._reader = FrameReader(job.limits.result_mb * 2**20)
        as_root = os.geteuid() == 0
        if as_root:
            from autograder.sandbox.harden import sandbox_ids

            self.tmpdir = tmpdirs.make(sandbox_ids(job.user))
        else:
            self.tmpdir = tmpdirs.make()
        wire = dataclasses.asdict(dataclasses.replace(job, env=dict(os.environ), as_root=as_root, tmpdir=self.tmpdir))
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        self._out_r, out_w = os.pipe()
        self._pid, self._spawn_error = None, None
        try:
            self.template.spawn(wire, (req_r, rep_w, out_w), self._forked)
        except BaseException:
            for fd in (self._req_w, self._rep_r, self._out_r):
                os.close(fd)
            tmpdirs.remove(self.tmpdir)
            raise
        finally:
            for fd in (req_r, rep_w, out_w):
                os.close(fd)
        for fd in (self._req_w, self._rep_r, self._out_r):
            os.set_blocking(fd, False)

    def _forked(self, pid, error) -> None:
        self._pid, self._spawn_error = pid, error

    @property
    def pid(self) -> int:
        """The child's pid (read from the template's reply the first time it is needed)."""
        if self._pid is None and self._spawn_error is None:
            self.template.sync()
        if self._pid is None:
            raise template.TemplateError(self._spawn_error or "the template never said which child it forked")
        return self._pid

    def call(self, module: str, probe: str, inputs: dict[str, np.ndarray], deadline: float,
             seed: int = 0, return_inputs: bool = False, params: dict | None = None) -> Reply:
        meta = {"module": module, "probe": probe, "seed": seed, "return_inputs": return_inputs,
                "params": params or {}}
        reply = self._request(meta, inputs, deadline)
        if reply.failure is None:
            reply.outputs = {k[4:]: v for k, v in reply.arrays.items() if k.startswith("out/")}
            reply.inputs_after = {k[3:]: v for k, v in reply.arrays.items() if k.startswith("in/")}
        return reply

    def call_many(self, module: str, probe: str, batch: list[dict], deadline: float, seed: int = 0,
                  params: dict | None = None) -> Reply:
        """The same probe on each input set of `batch`, in one round trip; each call is seeded alike.
        On success `reply.many` holds one outputs dict per input set; the first failure fails all."""
        meta = {"module": module, "probe": probe, "seed": seed, "params": params or {}, "batch": len(batch)}
        inputs = {f"{i}/{name}": arr for i, one in enumerate(batch) for name, arr in one.items()}
        reply = self._request(meta, inputs, deadline)
        if reply.failure is None:
            reply.many = [{} for _ in batch]
            for key, arr in reply.arrays.items():
                index, _, rest = key.partition("/out/")
                if index.isdigit() and int(index) < len(batch):
                    reply.many[int(index)][rest] = arr
        return reply

    def _request(self, meta: dict, inputs: dict, deadline: float) -> Reply:
        if self.dead:
            return self._death_reply()
        try:
            frame = self._exchange(pack(meta, inputs), deadline)
        except ProtocolError as e:
            self.kill()
            return Reply("protocol", detail=str(e))
        if frame == "timeout":
            stack = self._where_stopped()
            self.kill()
            return Reply("timeout", stack=stack)
        if frame is None:
            return self._death_reply()
        meta, arrays = frame
        try:
            check_reply(meta)
        except ProtocolError as e:  # the child wrote it, so student code did: the submission's fault
            self.kill()
            return Reply("protocol", detail=str(e))
        banned = meta.get("banned", [])[:20]
        if not meta["ok"]:
            err = meta["error"]
            stage = err.get("stage")
            failure = {"import": "import", "output": "output", "internal": "internal"}.get(stage, "error")
            return Reply(failure, error=err, banned=banned)
        return Reply(None, arrays=arrays, banned=banned)

    def _where_stopped(self, settle: float = 0.2, wait: float = 0.5) -> list:
        """At a time limit: the student frames the child runs, asked for twice, `settle` s apart
        (see stack.py); [] when it does not answer within `wait` s (say, busy inside native code)."""
        try:
            os.kill(self.pid, HANG_SIGNAL)
            time.sleep(settle)
            os.kill(self.pid, HANG_SIGNAL)
            frame = self._exchange(b"", time.monotonic() + wait)
        except (OSError, ProtocolError):
            return []
        hung = frame[0].get("hung") if isinstance(frame, tuple) else None
        return hung if isinstance(hung, list) else []

    def _exchange(self, request: bytes, deadline: float):
        """Send a request and read one reply frame, draining student output all the while."""
        view = memoryview(request)
        sel = selectors.DefaultSelector()
        sel.register(self._rep_r, selectors.EVENT_READ, "reply")
        sel.register(self._out_r, selectors.EVENT_READ, "output")
        if view:
            sel.register(self._req_w, selectors.EVENT_WRITE, "request")
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout"
                events = sel.select(timeout=min(left, 0.5))
                if self.on_wait is not None:
                    self.on_wait()
                for key, _ in events:
                    if key.data == "request":
                        try:
                            n = os.write(self._req_w, view)
                        except BlockingIOError:
                            continue
                        except (BrokenPipeError, OSError):
                            sel.unregister(self._req_w)
                            continue
                        view = view[n:]
                        if not view:
                            sel.unregister(self._req_w)
                    elif key.data == "output":
                        if self._drain_output() == 0:
                            sel.unregister(self._out_r)
                    else:
                        try:
                            chunk = os.read(self._rep_r, 1 << 20)
                        except BlockingIOError:
                            continue
                        if not chunk:  # the child exited, or closed its end of the pipe
                            self._await_exit(min(deadline, time.monotonic() + 1.0))
                            return None
                        frame = self._reader.feed(chunk)
                        if frame is not None:
                            return frame
        finally:
            sel.close()

    def _drain_output(self) -> int:
        """Read what the child printed: bytes read, 0 at end of output, -1 if nothing is there now."""
        keep = self.job.limits.output_kb * 1024
        try:
            chunk = os.read(self._out_r, 1 << 16)
        except BlockingIOError:
            return -1
        except OSError:
            return 0
        self.output_total += len(chunk)
        self.output += chunk[:max(0, keep - len(self.output))]
        return len(chunk)

    def _await_exit(self, until: float) -> None:
        """Give the child until `until` to exit by itself (to report its own status), then kill it."""
        if self.exit_status is None and not self._ended:
            status = self.template.wait(self.pid, until - time.monotonic())
            if status is not None:
                self.exit_status = status
        self.kill()

    def _death_reply(self) -> Reply:
        self.kill()
        status = self.exit_status
        if status is not None and status >= 0 and os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
            hint = {"SIGXCPU": " (it used up its CPU time limit)", "SIGXFSZ": " (it wrote a file over the size limit)",
                    "SIGKILL": " (killed: often a memory limit)", "SIGSEGV": " (a crash inside native code)"}
            return Reply("died", detail=f"was killed by signal {name}{hint.get(name, '')}")
        code = os.WEXITSTATUS(status) if status is not None and status >= 0 else None
        return Reply("died", detail=f"exited with code {code} before answering (os._exit or a crash)")

    def kill(self) -> None:
        """Kill the child, its process group and every process it started; reap them (the
        template does); remove its temporary folder; idempotent."""
        if not self._ended:
            self._ended = True
            if self.pid_known():
                status = self.template.end(self.pid)
                if self.exit_status is None:
                    self.exit_status = status
        self.dead = True
        tmpdirs.remove(self.tmpdir)

    def close(self, wait: bool = True) -> None:
        """End the test: kill everything, collect what was printed, free the pipes.

        With `wait=False` the template kills and reaps while the grader goes on: the next fork,
        or `reap_pending()`, waits for it to be done (and then removes the temporary folder)."""
        if wait or self.dead:
            self.kill()
        elif self.pid_known():
            self._ended = self.dead = True
            self.template.end(self.pid, done=lambda status, tmp=self.tmpdir: tmpdirs.remove(tmp))
        else:
            self._ended = self.dead = True
        while self._out_r is not None and self._drain_output() > 0:
            pass  # what is left in the pipe; stop at EOF or when nothing more is there now
        for fd in (self._req_w, self._rep_r, self._out_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._out_r = None

    def pid_known(self) -> bool:
        """False when the template could not fork the child (there is nothing to end)."""
        try:
            return self.pid > 0
        except template.TemplateError:
            return False

    def printed(self) -> str:
        """Student output, truncated and stripped of control characters."""
        text = bytes(self.output).decode("utf-8", errors="replace")
        text = "".join(ch if ch in "\n\t" or ch.isprintable() else "?" for ch in text)
        if self.output_total > len(self.output):
            text += f"\n... [{self.output_total - len(self.output)} more bytes of output not shown]"
        return text
