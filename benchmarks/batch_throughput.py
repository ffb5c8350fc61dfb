"""Submissions per minute of `autograder grade-batch` on 2 cores.

    python benchmarks/batch_throughput.py [NAME] [--count 24] [--jobs 2]

Builds a folder of `count` submissions: half copies of the reference solution, half the reference
with one catalogued mistake each (assignments/NAME/mutants.yaml, in turn), so that failing tests
and their explanations are part of the load, as in a real class. Runs `python -m autograder
grade-batch` on it in a fresh interpreter with `--jobs` workers, pinned to 2 CPUs where the machine
has more, and reports the wall time of the whole command (start-up included), the rate, and the
peak memory (PSS) of the whole tree, sampled every 50 ms; and, since other jobs on the machine
slow the wall clock, the CPU seconds one submission takes, and the rate 2 otherwise idle cores
would sustain at that cost.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from grade_one import measure  # noqa: E402


def make_folder(name: str, count: int, dest: Path) -> int:
    """Write `count` submissions into `dest`; return how many carry a mistake."""
    import yaml

    from autograder.spec.repo import Repo

    repo = Repo(ROOT)
    solution = repo.solution_dir(name)
    files = repo.spec(name).files
    catalog = repo.assignment_dir(name) / "mutants.yaml"
    mutants = [m for m in (yaml.safe_load(catalog.read_text()) or [])] if catalog.is_file() else []
    broken = 0
    for i in range(count):
        folder = dest / f"student{i:03d}"
        folder.mkdir(parents=True)
        for f in files:
            shutil.copyfile(solution / f, folder / f)
        if mutants and i % 2:
            m = mutants[(i // 2) % len(mutants)]
            target = folder / m["file"]
            text = target.read_text()
            if text.count(m["old"]) == 1:
                target.write_text(text.replace(m["old"], m["new"]))
                broken += 1
    return broken


def run(name: str = "rnn", count: int = 24, jobs: int = 2) -> dict:
    from autograder.build.cache import cached_bundle
    from autograder.spec.repo import Repo

    bundle = cached_bundle(Repo(ROOT), name)
    tmp = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    try:
        broken = make_folder(name, count, tmp / "submissions")
        cmd = [sys.executable, "-m", "autograder", "grade-batch", name, str(tmp / "submissions"),
               "--out", str(tmp / "out"), "--jobs", str(jobs), "--bundle", str(bundle.root)]
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 2 and shutil.which("taskset"):
            cmd = ["taskset", "-c", f"{cpus[0]},{cpus[1]}", *cmd]
        r = measure(cmd, interval=0.05)  # 5 ms sampling would take a fair share of a core from the workers
        graded = len(list((tmp / "out" / "results").glob("*.json")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"count": count, "broken": broken, "graded": graded, "wall": r.wall, "pss": r.pss, "code": r.code,
            "per_minute": 60 * graded / r.wall, "jobs": jobs, "cpu": r.cpu,
            # what 2 otherwise idle cores would sustain: the CPU seconds one submission needs
            "idle_per_minute": 60 * 2 * graded / r.cpu if r.cpu else 0.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", nargs="?", default="rnn")
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    r = run(args.name, args.count, args.jobs)
    print(f"{args.name}: {r['graded']}/{r['count']} submissions ({r['broken']} with a catalogued mistake) in "
          f"{r['wall']:.1f} s with {r['jobs']} workers: {r['per_minute']:.0f} a minute, "
          f"peak {r['pss']:.0f} MB PSS (exit code {r['code']})")
    print(f"  {r['cpu'] / max(r['graded'], 1):.2f} CPU seconds a submission: {r['idle_per_minute']:.0f} a minute "
          "on 2 otherwise idle cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
