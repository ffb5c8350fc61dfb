"""Wall time and peak memory of one full grade, for the whole process tree.

    python benchmarks/grade_one.py rnn solutions/rnn [--repeat 3]

Runs `python -m autograder grade NAME PATH` in a fresh interpreter (the bundle is built first, so
the timing is the grade alone), samples the resident memory of the grader and all its children
every 5 ms from /proc, and prints the wall time and the peak of the tree's summed RSS. Prints the
floor beside it: a bare interpreter importing numpy (and torch for torch assignments).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
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


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak tree RSS in MB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    peak = 0
    while proc.poll() is None:
        stack, total = [proc.pid], 0
        while stack:
            pid = stack.pop()
            total += _rss_kb(pid)
            stack.extend(_children(pid))
        peak = max(peak, total)
        time.sleep(0.005)
    return time.perf_counter() - start, peak / 1024, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name")
    ap.add_argument("path")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from autograder.build import cached_bundle
    from autograder.repo import Repo

    bundle = cached_bundle(Repo(ROOT), args.name)  # build outside the measurement
    floor_mod = "torch" if bundle.spec.framework == "torch" else "numpy"
    grade = [sys.executable, "-m", "autograder", "grade", args.name, args.path]
    floor = [sys.executable, "-c", f"import {floor_mod}"]
    rows = []
    for _ in range(args.repeat):
        rows.append((measure(grade), measure(floor)))
    best = min(rows, key=lambda r: r[0][0])
    (g_wall, g_mem, code), (f_wall, f_mem, _) = best
    print(f"assignment {args.name}, submission {args.path} (best of {args.repeat}, exit code {code})")
    print(f"  full grade : {g_wall:6.2f} s wall, {g_mem:7.1f} MB peak (grader + children)")
    print(f"  floor      : {f_wall:6.2f} s wall, {f_mem:7.1f} MB peak (python -c 'import {floor_mod}')")
    print(f"  ratio      : {g_wall / f_wall:6.1f} x time, {g_mem / f_mem:5.1f} x memory of the floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
