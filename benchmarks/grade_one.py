"""Wall time and peak memory of one full grade, for the whole process tree.

    python benchmarks/grade_one.py rnn solutions/rnn [--repeat 3]

Runs `python -m autograder grade NAME PATH` in a fresh interpreter (the bundle is built first, so
the timing is the grade alone), samples the memory of the grader and all its children every 5 ms
from /proc, and prints the wall time and two peaks of the whole tree: summed RSS (counts the pages
a forked child shares with the grader once per process: an upper bound) and summed PSS (shares each
page among the processes that map it: what the tree really holds, the number a container's memory
limit sees). Prints the floor beside it: a bare interpreter importing numpy (torch for torch
assignments).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Run:
    wall: float  # seconds
    rss: float  # peak of the tree's summed RSS, MB
    pss: float  # peak of the tree's summed PSS, MB
    code: int
    processes: int  # most processes seen in the tree at once
    cpu: float = 0.0  # user + system seconds of the whole tree (every process was reaped)
    slowest: list = field(default_factory=list)  # [test name, seconds], slowest first (grades only)


def measure(cmd: list[str], env=None, interval: float = 0.005) -> Run:
    """Run `cmd` and sample its whole process tree every `interval` seconds until it exits (the
    sampling costs CPU of its own: long runs whose peak matters less sample less often)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    peak_rss = peak_pss = most = 0
    while proc.poll() is None:
        stack, rss, pss, n = [proc.pid], 0, 0, 0
        while stack:
            pid = stack.pop()
            rss += _rss_kb(pid)
            pss += _pss_kb(pid)
            n += 1
            stack.extend(_children(pid))
        peak_rss, peak_pss, most = max(peak_rss, rss), max(peak_pss, pss), max(most, n)
        time.sleep(interval)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Run(wall, peak_rss / 1024, peak_pss / 1024, proc.returncode, most, cpu)


def compare_to_floor(name: str, path, repeat: int) -> tuple[Run, Run, str]:
    """Median grade and median floor runs, interleaved so that both see the same machine load."""
    from autograder.build.cache import cached_bundle
    from autograder.spec.repo import Repo

    bundle = cached_bundle(Repo(ROOT), name)  # build outside the measurement
    mod = "torch" if bundle.spec.framework == "torch" else "numpy"
    # --bundle: the grade itself never rebuilds, even when the engine changes while this runs
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        results = Path(tmp) / "results.json"
        grade = [sys.executable, "-m", "autograder", "grade", name, str(path), "--bundle", str(bundle.root),
                 "--json", str(results)]
        floor = [sys.executable, "-c", f"import {mod}"]
        measure(floor)  # the first import warms the file cache for both
        grades, floors = [], []
        for _ in range(repeat):
            floors.append(measure(floor))
            grades.append(measure(grade))
            grades[-1].slowest = _slowest_tests(results)
    return median_run(grades), median_run(floors), mod


def _slowest_tests(results: Path, count: int = 3) -> list:
    """The `count` slowest tests of a grade's results.json, as [name, seconds]."""
    try:
        tests = json.loads(results.read_text())["tests"]
    except (OSError, ValueError, KeyError):
        return []
    timed = sorted(((t["name"], float(t.get("execution_time", 0))) for t in tests), key=lambda x: -x[1])
    return [list(x) for x in timed[:count]]


def median_run(runs: list[Run]) -> Run:
    def med(xs):
        return statistics.median(xs)
    middle = sorted(runs, key=lambda r: r.wall)[len(runs) // 2]
    return Run(med([r.wall for r in runs]), med([r.rss for r in runs]), med([r.pss for r in runs]),
               max(r.code for r in runs), max(r.processes for r in runs), med([r.cpu for r in runs]), middle.slowest)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name")
    ap.add_argument("path")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    g, f, mod = compare_to_floor(args.name, args.path, args.repeat)
    print(f"assignment {args.name}, submission {args.path} (median of {args.repeat}, exit code {g.code})")
    print(f"  full grade : {g.wall:6.2f} s wall, peak {g.pss:7.1f} MB PSS, {g.rss:7.1f} MB RSS "
          f"(grader + children, up to {g.processes} processes)")
    print(f"  floor      : {f.wall:6.2f} s wall, peak {f.pss:7.1f} MB PSS, {f.rss:7.1f} MB RSS (python -c 'import {mod}')")
    print(f"  ratio      : {g.wall / f.wall:6.1f} x time, {g.pss / f.pss:5.1f} x memory (PSS) of the floor")
    print(f"  cpu        : {g.cpu:6.2f} s for the grade, {f.cpu:.2f} s for the floor (user + system, whole tree)")
    for test, seconds in g.slowest:
        print(f"  slow test  : {seconds:6.2f} s  {test}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
