"""`autograder grade-batch`: grade a folder of submissions in parallel, resumably.

DIR holds one folder or `.zip` per student, or is a Gradescope "export submissions" folder
(`submission_<id>/` folders and `submission_metadata.yml`). Worker processes forked from this one
each grade whole submissions with `grade_path`, one after another; each is its own grader (a child
subreaper forking one sandboxed child per test). This process only hands out submissions, collects
reports and writes:
    OUT/results/<student>.json  the Gradescope results of each submission
    OUT/grades.csv              a row a submission: student, ids, score, max, error, a column a test
    OUT/histogram.png           the distribution of scores
    OUT/batch.log               grader-side internal errors, if any
A worker that dies, or overruns its deadline, costs only the submission it was grading: that one
scores 0 with the error noted, and a fresh worker takes over. A rerun skips every submission that
already has results (a failed one is tried again) unless `force`, and warns about results that
another bundle graded (`extra_data.bundle` in each results file names the bundle).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import selectors
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import time
import traceback
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from . import reaper
from .errors import AutograderError
from .results import Report, TestResult, write_json_atomic

__all__ = ["Submission", "Row", "discover", "grade_batch", "summary", "write_histogram", "METADATA"]

METADATA = "submission_metadata.yml"
_IGNORED = {"__MACOSX", "__pycache__"}
_HEADER = struct.Struct(">Q")


@dataclass
class Submission:
    student: str
    path: Path
    submission: str  # folder or zip name, or the Gradescope submission folder
    sid: str = ""
    email: str = ""
    key: str = ""  # results file stem, unique in the batch


@dataclass
class Row:
    sub: Submission
    score: float
    max_score: float
    tests: dict = field(default_factory=dict)  # test name -> score
    error: str = ""
    graded_now: bool = True
    stale: bool = False  # graded earlier by another bundle


def _warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)


# ----------------------------------------------------------------------------- finding submissions

def _metadata_loader():
    """yaml.SafeLoader that reads Gradescope's Ruby tags (`!ruby/object:BigDecimal`) as plain data."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def plain(loader, suffix, node):
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor("!", plain)
    return Loader


def _field(person: dict, name: str) -> str:
    value = person.get(f":{name}", person.get(name))
    return "" if value is None else str(value)


def _read_metadata(path: Path, warn) -> dict:
    """submission folder -> (names, sids, emails); {} with a warning when unreadable or malformed."""
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=_metadata_loader())
    except Exception as e:  # a YAML error, or a value PyYAML cannot construct (a bad timestamp)
        warn(f"{path} could not be read ({str(e).splitlines()[0] if str(e) else type(e).__name__}); "
             "naming students by their submission folders")
        return {}
    if not isinstance(data, dict):
        warn(f"{path} is not a mapping of submission folders to submitters; naming students by their folders")
        return {}
    out = {}
    for folder, entry in data.items():
        people = entry.get(":submitters", entry.get("submitters")) if isinstance(entry, dict) else None
        people = [p for p in people if isinstance(p, dict)] if isinstance(people, list) else []
        names = [_field(p, "name") for p in people if _field(p, "name")]
        if names:
            out[str(folder)] = (" + ".join(names), ";".join(_field(p, "sid") for p in people),
                                ";".join(_field(p, "email") for p in people))
    if data and not out:
        warn(f"{path} names no submitters; naming students by their submission folders")
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:100]


def _unique_keys(subs: list) -> list:
    seen = set()
    for s in subs:
        base = _slug(s.student) or _slug(s.submission) or "submission"
        key, n = base, 2
        if key in seen and _slug(s.submission):
            key = f"{base}-{_slug(s.submission)}"
        while key in seen:
            key, n = f"{base}-{n}", n + 1
        s.key = key
        seen.add(key)
    return subs


def discover(folder, exclude=(), warn=_warn) -> list:
    """The submissions in `folder`, sorted by their folder or zip name, each with a unique key."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AutograderError(f"{folder}: not a folder (give a folder of submission folders or zips, "
                              "or an unzipped Gradescope export)")
    exclude = {Path(p).resolve() for p in exclude}
    entries = [e for e in sorted(folder.iterdir()) if e.resolve() not in exclude
               and not e.name.startswith(".") and e.name not in _IGNORED and e.name != METADATA]
    dirs = [e for e in entries if e.is_dir()]
    if not (folder / METADATA).exists() and len(dirs) == 1 and (dirs[0] / METADATA).is_file():
        return discover(dirs[0], exclude, warn)  # the unzipped export's own top folder
    meta = {}
    if (folder / METADATA).exists():
        meta = _read_metadata(folder / METADATA, warn)
    elif dirs and all(re.fullmatch(r"submission_\d+", d.name) for d in dirs):
        warn(f"{folder} looks like a Gradescope export without {METADATA}; naming students by their folders")
    subs, skipped = [], []
    for e in entries:
        if e.is_dir() or e.suffix.lower() == ".zip":
            name = e.name if e.is_dir() else e.stem
            student, sid, email = meta.get(e.name, (name, "", ""))
            if meta and e.name not in meta:
                warn(f"{e.name} is not in {METADATA}; naming it by its folder")
            subs.append(Submission(student, e, e.name, sid, email))
        else:
            skipped.append(e.name)
    if skipped:
        warn(f"skipped {len(skipped)} entries of {folder} that are neither folders nor zips: "
             + ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else ""))
    return _unique_keys(subs)


# ----------------------------------------------------------------------------- workers

def _send(fd: int, msg: dict) -> None:
    data = json.dumps(msg).encode()
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _worker(bundle, subs, visibilities, task_fd: int, result_fd: int) -> None:
    """Grade the submissions whose indices arrive on `task_fd`, one reply each; return at EOF."""
    from .grade import grade_path

    reaper._state["subreaper"] = None  # the cached answer came through fork; the kernel flag did not
    reaper.become_subreaper()
    with os.fdopen(task_fd, "r") as tasks:
        for line in tasks:
            i, logs, start = int(line), [], time.monotonic()
            try:
                report = grade_path(bundle, subs[i].path, visibilities, log=logs.append)
                msg = {"i": i, "results": report.to_gradescope()}
            except Exception:
                logs.append(traceback.format_exc())
                msg = {"i": i, "error": "the grader failed on this submission (see batch.log)"}
            msg.update(log=logs, elapsed=time.monotonic() - start)
            _send(result_fd, msg)


@dataclass
class _Worker:
    pid: int
    tasks: int
    results: int
    tmp: str
    current: int | None = None
    started: float = 0.0
    buf: bytearray = field(default_factory=bytearray)


class _Pool:
    """Workers forked from this process; each grades one submission at a time."""

    def __init__(self, bundle, subs, visibilities, jobs, tmp):
        self.bundle, self.subs, self.visibilities, self.jobs, self.tmp = bundle, subs, visibilities, jobs, tmp
        self.workers: dict[int, _Worker] = {}
        self.sel = selectors.DefaultSelector()

    def spawn(self) -> _Worker:
        task_r, task_w = os.pipe()
        res_r, res_w = os.pipe()
        tmp = tempfile.mkdtemp(prefix="w", dir=self.tmp)
        os.chmod(tmp, 0o711)  # work folders inside must stay reachable by the sandbox user
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
                _worker(self.bundle, self.subs, self.visibilities, task_r, res_w)
                status = 0
            finally:
                os._exit(status)
        os.close(task_r)
        os.close(res_w)
        os.set_blocking(res_r, False)
        w = _Worker(pid, task_w, res_r, tmp)
        self.workers[pid] = w
        self.sel.register(res_r, selectors.EVENT_READ, w)
        return w

    def assign(self, w: _Worker, i: int) -> bool:
        w.current, w.started = i, time.monotonic()
        try:
            os.write(w.tasks, f"{i}\n".encode())
            return True
        except OSError:
            return False  # it died; its end of file arrives soon

    def retire(self, w: _Worker) -> None:
        """No more work for `w`: closing its task pipe ends its loop."""
        try:
            os.close(w.tasks)
        except OSError:
            pass
        w.tasks = -1

    def bury(self, w: _Worker) -> str:
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
        for fd in (w.tasks, w.results):
            try:
                os.close(fd)
            except OSError:
                pass
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
            while len(w.buf) >= _HEADER.size:
                (n,) = _HEADER.unpack_from(w.buf)
                if len(w.buf) < _HEADER.size + n:
                    break
                msg = json.loads(bytes(w.buf[_HEADER.size:_HEADER.size + n]))
                del w.buf[:_HEADER.size + n]
                yield w, msg

    def shutdown(self) -> None:
        for w in list(self.workers.values()):
            self.bury(w)
        self.sel.close()


# ----------------------------------------------------------------------------- grading a folder

def _failure_results(spec, message: str) -> dict:
    report = Report(spec.name, spec.title, [TestResult(t, 0.0, message) for t in spec.tests], 0.0, [message])
    data = report.to_gradescope()
    data["extra_data"] = {"batch_error": message}
    return data


def _row(sub, data: dict, graded_now: bool) -> Row:
    tests = {t.get("name"): float(t.get("score", 0)) for t in data.get("tests", []) if isinstance(t, dict)}
    max_score = sum(float(t.get("max_score", 0)) for t in data.get("tests", []) if isinstance(t, dict))
    extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
    error = str(extra.get("batch_error", ""))
    return Row(sub, float(data.get("score", 0)), max_score, tests, error, graded_now)


def _previous(path: Path):
    """The results a former run wrote for one submission, or None when absent, unreadable or failed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        return None
    extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
    return None if extra.get("batch_error") else data


def bundle_fingerprint(bundle) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in bundle.root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(bundle.root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _warm_up(bundle, visibilities) -> None:
    """Import the framework and load every array once here, so that forked workers share them."""
    from .grade import preload
    from .sandbox import warm

    warm()
    preload(bundle.spec)
    for vis in visibilities:
        bundle._arrays(vis)  # a public Bundle.load() would be nicer
    bundle.verify_module()
    getattr(bundle, "hints", dict)()


def grade_batch(bundle, folder, out, jobs=None, force=False, visibilities=None, timeout=None,
                progress=None, warn=_warn) -> list:
    """Grade every submission in `folder` into `out`; return one Row a submission, in folder order.

    `jobs` workers (default: the usable CPUs) grade in parallel; `timeout` seconds (default: the
    spec's budget + 60) bound one submission; `progress` shows a bar (default: when stderr is a TTY).
    """
    spec, out = bundle.spec, Path(out)
    visibilities = tuple(visibilities or bundle.visibilities())
    timeout = timeout or spec.budget + 60
    subs = discover(folder, exclude=[out], warn=warn)
    (out / "results").mkdir(parents=True, exist_ok=True)
    stamp = {"bundle": bundle_fingerprint(bundle), "visibilities": "+".join(visibilities)}
    rows: dict[int, Row] = {}
    for i, sub in enumerate(subs):
        data = None if force else _previous(out / "results" / f"{sub.key}.json")
        if data is not None:
            rows[i] = _row(sub, data, graded_now=False)
            extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
            rows[i].stale = any(extra.get(k) != v for k, v in stamp.items())
    stale = sum(r.stale for r in rows.values())
    if stale:
        warn(f"{stale} results in {out / 'results'} were graded with another bundle or other cases (the "
             "assignment, its solution or the engine changed since); rerun with --force to regrade them")
    todo = deque(i for i in range(len(subs)) if i not in rows)
    try:
        if todo:
            _run(bundle, subs, visibilities, todo, rows, out, jobs, timeout, progress, stamp)
    finally:  # also after an interrupt: what was graded is in the table
        done = [rows[i] for i in range(len(subs)) if i in rows]
        write_csv(out / "grades.csv", done, spec)
        if done:
            scores = [r.score for r in done]
            write_histogram(out / "histogram.png", scores, spec.max_score,
                            f"{spec.name}: {len(done)} submissions, mean {statistics.mean(scores):.1f}")
    return done


def _run(bundle, subs, visibilities, todo, rows, out, jobs, timeout, progress, stamp) -> None:
    from tqdm import tqdm

    spec = bundle.spec
    jobs = max(1, min(jobs or len(os.sched_getaffinity(0)), len(todo)))
    _warm_up(bundle, visibilities)
    reaper.become_subreaper()  # a worker that dies leaves its sandboxed children to us
    tqdm.monitor_interval = 0  # no monitor thread: this process forks
    bar = tqdm(total=len(todo), desc=f"grading {spec.name}", unit="sub", disable=None if progress is None
               else not progress, file=sys.stderr, dynamic_ncols=True)
    tmp = tempfile.mkdtemp(prefix="autograder-batch-")
    os.chmod(tmp, 0o711)
    pool = _Pool(bundle, subs, visibilities, jobs, tmp)
    log_path = out / "batch.log"

    def record(i: int, data: dict, logs=()) -> None:
        data["extra_data"] = {**(data.get("extra_data") or {}), **stamp}
        write_json_atomic(out / "results" / f"{subs[i].key}.json", data)
        rows[i] = _row(subs[i], data, graded_now=True)
        if logs:
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(f"--- {subs[i].submission} ({subs[i].student})\n" + "\n".join(logs) + "\n")
        bar.update(1)
        bar.set_postfix(failed=sum(1 for r in rows.values() if r.error), refresh=False)

    try:
        while todo or any(w.current is not None for w in pool.workers.values()):
            while todo and len(pool.workers) < jobs:
                w = pool.spawn()
                pool.assign(w, todo.popleft())
            for w, msg in list(pool.poll(0.2)):
                if msg is None:  # the worker is gone
                    if w.pid in pool.workers:
                        how = pool.bury(w)
                        if w.current is not None:
                            record(w.current, _failure_results(spec, f"Not graded: the grading process {how} "
                                   "while grading this submission."))
                    continue
                if "results" in msg:
                    record(msg["i"], msg["results"], msg.get("log"))
                else:
                    record(msg["i"], _failure_results(spec, f"Not graded: {msg['error']}."), msg.get("log"))
                w.current = None
                if todo:
                    pool.assign(w, todo.popleft())
                else:
                    pool.retire(w)
            now = time.monotonic()
            for w in list(pool.workers.values()):
                if w.current is not None and now - w.started > timeout:
                    i = w.current
                    pool.bury(w)
                    record(i, _failure_results(spec, f"Not graded: grading took longer than {timeout:g} s "
                                                     "and was stopped."))
    finally:
        try:
            pool.shutdown()
        finally:
            bar.close()
            shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- what comes out

def write_csv(path, rows: list, spec) -> None:
    path = Path(path)
    names = [t.name for t in spec.tests]
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "sid", "email", "submission", "score", "max", "error", *names])
        for r in rows:
            w.writerow([r.sub.student, r.sub.sid, r.sub.email, r.sub.submission, f"{r.score:g}",
                        f"{r.max_score:g}", r.error, *(f"{r.tests.get(n, 0.0):g}" for n in names)])
    os.replace(tmp, path)


def write_histogram(path, scores: list, max_score: float, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    bins = max(1, min(20, int(max_score) or 1))
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.hist(scores, bins=bins, range=(0, max_score or 1), color="#4C72B0", edgecolor="white")
    ax.set_xlabel(f"score (of {max_score:g})")
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def summary(rows: list, spec, top: int = 5) -> str:
    """Count, mean, median, extremes, full marks, failures, and the tests failed most often."""
    scores = [r.score for r in rows]
    now = sum(r.graded_now for r in rows)
    lines = [f"{spec.name}: {len(rows)} submissions ({now} graded now, {len(rows) - now} from earlier runs)"]
    if not rows:
        return lines[0]
    lines += [f"  score (of {spec.max_score:g}):  mean {statistics.mean(scores):.2f}   median "
              f"{statistics.median(scores):g}   min {min(scores):g}   max {max(scores):g}",
              f"  full marks: {sum(s >= spec.max_score for s in scores)}   not graded: {sum(bool(r.error) for r in rows)}"]
    failed = Counter(n for r in rows if not r.error for n, t in zip([t.name for t in spec.tests], spec.tests)
                     if r.tests.get(n, 0.0) < t.points)
    if failed:
        lines.append("  tests failed most often:")
        lines += [f"    {count:4d}  {name}" for name, count in failed.most_common(top)]
    for r in rows:
        if r.error:
            lines.append(f"  not graded: {r.sub.student} ({r.sub.submission}): {r.error}")
    return "\n".join(lines)
