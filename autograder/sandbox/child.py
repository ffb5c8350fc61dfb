"""The child side of the sandbox: import the submission, run probes, send back plain arrays.

Everything here runs in a process forked from the template (template.py), which the grader kills
when the test ends. It never returns into the template's code: `serve` always ends in `os._exit`.
"""

from __future__ import annotations

import importlib
import os
import random
import sys
import traceback
import types
from dataclasses import dataclass, field

import numpy as np

from autograder.core.errors import ContractError
from autograder.kit.arrays import NotArray, to_array
from autograder.sandbox import declared as declared_probes
from autograder.sandbox import harden
from autograder.sandbox import stack as stacks
from autograder.sandbox import tmpdirs
from autograder.sandbox.protocol import pack, read_frame_blocking

__all__ = ["ChildJob", "serve", "to_plain", "NotPlain", "ContractError"]

EXIT_INTERNAL = 70


@dataclass(frozen=True)
class ChildJob:
    """Everything a child needs: where the code is, what to import, its limits, whose user it runs as
    (None: the sandbox user). The grader adds, per child, its environment, whether it grades as root,
    and the child's private temporary folder (`env`, `as_root`, `tmpdir`; see sandbox.Child)."""

    workdir: str
    probes_path: str
    modules: tuple[str, ...]
    limits: object
    timeout: float
    banned: tuple[str, ...] = ()
    refuse: tuple[tuple[str, str], ...] = ()  # (module, function or <module>) that hung earlier: raise at once
    user: str | None = None
    env: dict | None = None
    as_root: bool = False
    tmpdir: str | None = None
    declared: dict = field(default_factory=dict)  # probe name -> declaration (declared.py), run instead of probes.py


NotPlain = NotArray  # a probe output that is not a plain numeric array


def to_plain(name: str, value) -> np.ndarray:
    """Accept numpy arrays, numpy/python scalars and torch tensors; refuse the rest by name."""
    return to_array(value, name)


_PROBES_CODE: dict = {}


def probes_code(path: str):
    """The compiled probes.py, compiled once in the grader (before forking) per version of the file."""
    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    if key not in _PROBES_CODE:
        _PROBES_CODE.clear()
        with open(path, "rb") as f:
            _PROBES_CODE[key] = compile(f.read(), path, "exec", dont_inherit=True)
    return _PROBES_CODE[key]


def _load_probes(path: str):
    module = types.ModuleType("_autograder_probes")
    module.__file__ = path
    sys.modules[module.__name__] = module
    exec(probes_code(path), module.__dict__)
    return module


def _describe_exception(exc: BaseException, workdir: str) -> dict:
    """Type, message and the student's own line; nothing from the grader's internals."""
    def safe_str(x):
        try:
            text = str(x)
        except BaseException:  # a hostile __str__
            text = "<message could not be shown>"
        return text if len(text) <= 600 else text[:600] + " ..."

    where = None
    def is_student(filename) -> bool:
        return bool(filename) and os.path.dirname(filename) == workdir and os.path.isfile(filename)

    if isinstance(exc, SyntaxError) and is_student(exc.filename):
        where = {"file": os.path.basename(exc.filename), "line": exc.lineno or 0,
                 "code": (exc.text or "").strip()[:200], "function": ""}
    else:
        try:
            frames = traceback.extract_tb(exc.__traceback__)
        except BaseException:
            frames = []
        for fr in frames:
            if is_student(fr.filename):
                where = {"file": os.path.basename(fr.filename), "line": fr.lineno or 0,
                         "code": (fr.line or "").strip()[:200], "function": fr.name}
    exc_type = type(exc)
    refused = {"refused": list(exc.key)} if isinstance(exc, stacks.RefusedCall) else {}
    try:
        stack = stacks.student_frames(traceback.walk_tb(exc.__traceback__), workdir)
    except BaseException:
        stack = []
    return {"type": getattr(exc_type, "__name__", "Exception"), "message": safe_str(exc), "where": where,
            "stack": stack, **refused}



def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def serve(job, req_fd: int, rep_fd: int, out_fd: int) -> None:
    """Child entry point after fork. Never returns."""
    status = EXIT_INTERNAL
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        # The grader's own sys.stdout may be a wrapper of another fd (pytest's capture, say).
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
        _close_all_but(req_fd, rep_fd)
        status = _serve(job, req_fd, rep_fd)
    except BaseException:
        status = EXIT_INTERNAL
        if os.environ.get("AUTOGRADER_DEBUG"):  # for engine developers: the child's own traceback
            traceback.print_exc()
    finally:
        os._exit(status)


def _close_all_but(*keep: int) -> None:
    """Close every file descriptor above 2 except `keep`, however high it is."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _send(rep_fd: int, meta: dict, arrays: dict | None = None) -> None:
    for stream in (sys.stdout, sys.stderr):  # what was printed arrives before the reply
        try:
            stream.flush()
        except BaseException:
            pass
    data = pack(meta, arrays)
    view = memoryview(data)
    stacks.SENDING[0] = True  # no report of where the code runs in the middle of this reply
    try:
        while view:
            n = os.write(rep_fd, view)
            view = view[n:]
    finally:
        stacks.SENDING[0] = False


def _serve(job, req_fd: int, rep_fd: int) -> int:
    sys.dont_write_bytecode = True
    if job.env is not None:  # the grader's environment now, not the template's when it started
        os.environ.clear()
        os.environ.update(job.env)
    os.chdir(job.workdir)
    sys.path[:0] = [job.workdir]
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    plan = harden.ban_plan(job.banned)  # made by the template before the fork: no scan here
    probes = _load_probes(job.probes_path)
    as_root = job.as_root
    tmp = job.tmpdir
    if as_root:
        harden.leave_network()
        uid, gid = harden.sandbox_ids(job.user)
        if tmpdirs.private_mounts(job.limits.tmp_mb, keep=(job.workdir, *tmpdirs.code_folders())):
            tmp = "/tmp"  # a tmpfs of this child's own mount namespace, gone with it
        os.chdir(job.workdir)
    if tmp:
        tmpdirs.use(tmp)
    harden.apply_limits(job.limits, job.timeout, as_root)
    if as_root:
        harden.drop_privileges(uid, gid)
    banned_used: list[str] = []
    harden.install_bans(plan, banned_used)

    # Declared probes are made before the student's modules are imported (which could patch the maker).
    made = {name: declared_probes.make_probe(decl) for name, decl in job.declared.items()}
    stacks.report_when_stopped(rep_fd, job.workdir, pack)  # where the code runs, if it hits its time limit
    stacks.refuse_imports(job.refuse)
    modules, import_error = {}, None
    sys.dont_write_bytecode = False  # into workdir/__pycache__, for this grade's later children
    for name in job.modules:
        try:
            modules[name] = importlib.import_module(name)
        except BaseException as exc:  # includes SystemExit and KeyboardInterrupt from student code
            import_error = dict(_describe_exception(exc, job.workdir), stage="import", module=name)
            break
    sys.dont_write_bytecode = True
    # A second pass catches banned callables that modules the student's imports loaded expose.
    harden.install_bans(plan, banned_used, plan.scan(plan.new_modules()))
    stacks.refuse_calls(job.refuse, job.workdir)  # functions that hit a time limit earlier raise at once

    while True:
        try:
            meta, arrays = read_frame_blocking(req_fd)
        except EOFError:
            return 0
        if import_error is not None:
            _send(rep_fd, {"ok": False, "error": import_error, "banned": banned_used})
            continue
        module = modules[meta["module"]]
        if meta["probe"] in made:
            probe = made[meta["probe"]]
        else:
            probe = getattr(probes, meta["probe"], None)
        if probe is None:
            _send(rep_fd, {"ok": False, "error": {"type": "GraderError", "stage": "internal", "where": None,
                                                  "message": f"probes.py has no probe {meta['probe']!r}"}})
            continue
        batch = meta.get("batch")
        if batch is None:  # one call
            sent, error = _call(probe, module, arrays, meta, job.workdir)
        else:  # the same probe on several input sets, '<i>/<name>' -> outputs '<i>/<name>'
            sent, error = {}, None
            for i in range(int(batch)):
                prefix = f"{i}/"
                one = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
                got, error = _call(probe, module, one, meta, job.workdir)
                if error is not None:
                    break
                sent.update({prefix + k: v for k, v in got.items()})
        if error is not None:
            _send(rep_fd, {"ok": False, "error": error, "banned": banned_used})
        else:
            _send(rep_fd, {"ok": True, "banned": banned_used}, sent)


def _call(probe, module, arrays: dict, meta: dict, workdir: str):
    """Run one probe call: (arrays to send back, None), or (None, a description of the failure)."""
    try:
        _seed_everything(int(meta.get("seed", 0)))
    except BaseException as exc:  # student code may have broken the random modules at import
        return None, dict(_describe_exception(exc, workdir), stage="call")
    try:
        result = probe(module, arrays, dict(meta.get("params") or {}))
        if not isinstance(result, dict):
            raise TypeError(f"probe {meta['probe']} returned {type(result).__name__}, not a dict")
        sent = {f"out/{key}": to_plain(key, value) for key, value in result.items()}
    except NotPlain as exc:
        return None, {"type": "WrongType", "stage": "output", "message": str(exc), "where": None}
    except BaseException as exc:
        err = dict(_describe_exception(exc, workdir), stage="call")
        if isinstance(exc, harden.BannedCall):
            err["type"] = "BannedCall"
        return None, err
    if meta.get("return_inputs"):
        sent.update({f"in/{k}": v for k, v in arrays.items()})
    return sent, None
