"""A course-sized batch: 300 rnn submissions graded with the progress bar, and their report in a browser.

    python benchmarks/class_scale.py [--count 300] [--jobs 2] [--repeat 3] [--keep DIR]

Builds the demo class at course size (benchmarks/demo_class.py: every planted bug of the demo,
then every other submission with a catalogued mistake, the rest the reference), runs
`python -m autograder grade-batch rnn ... --progress` on it in a fresh interpreter with `--jobs`
workers, pinned to 2 CPUs where the machine has more, and reports the wall time (start-up
included), submissions a minute, CPU seconds a submission, and the peak memory (PSS) of the whole
tree, sampled every 50 ms. Then the report: the time `autograder report OUT` takes to rebuild it,
its size, and how long it takes to open in headless Chromium: milliseconds from navigation start
until the DOM is ready, the load event has ended, and the page has been laid out and painted
(measured in the browser: headless.page_timings), beside the same for an empty page, and the wall
time of a whole browser run to a screenshot (start-up and PNG encoding included); median of
--repeat each, interleaved. Any console message of the report itself fails the run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from demo_class import make_class  # noqa: E402
from grade_one import measure  # noqa: E402
from headless import page_timings, render  # noqa: E402

RENDER_TARGET_S = 1.0


def grade(tmp: Path, count: int, jobs: int) -> dict:
    from autograder.build.cache import cached_bundle
    from autograder.spec.repo import Repo

    bundle = cached_bundle(Repo(ROOT), "rnn")  # built outside the measurement
    planted = make_class(tmp / "submissions", count, buggy_fill=True)
    cmd = [sys.executable, "-m", "autograder", "grade-batch", "rnn", str(tmp / "submissions"), "--out",
           str(tmp / "out"), "--jobs", str(jobs), "--bundle", str(bundle.root), "--progress"]
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 2 and shutil.which("taskset"):
        cmd = ["taskset", "-c", f"{cpus[0]},{cpus[1]}", *cmd]
    r = measure(cmd, interval=0.05)
    graded = len(list((tmp / "out" / "results").glob("*.json")))
    buggy = sum(kind != "reference" for kind, _ in planted.values())
    return {"count": count, "graded": graded, "buggy": buggy, "wall": r.wall, "cpu": r.cpu, "pss": r.pss,
            "code": r.code, "per_minute": 60 * graded / r.wall}


def report_timings(out: Path, repeat: int) -> dict:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "report", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    rebuild = time.perf_counter() - start
    blank = out / "blank.html"
    blank.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>blank</title></head><body></body></html>")
    walls, inside, console = {"report": [], "blank": []}, {"report": [], "blank": []}, []
    for i in range(repeat + 1):  # the first round warms the file cache and is not counted
        for name, page in (("blank", blank), ("report", out / "report.html")):
            wall, said = render(page, out / f"{name}.png", 1280, 2400)
            timing = page_timings(page)
            console += said
            if i:
                walls[name].append(wall)
                inside[name].append(timing)
    med = statistics.median
    return {"rebuild": rebuild, "kb": (out / "report.html").stat().st_size / 1024, "console": console,
            "wall": {k: med(v) for k, v in walls.items()},
            "inside": {k: {m: med(t[m] for t in v) for m in ("dom", "load", "painted")} for k, v in inside.items()}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", metavar="DIR", help="keep the submissions and OUT here instead of a temporary folder")
    args = ap.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="class-scale-"))
    if args.keep and tmp.exists():
        shutil.rmtree(tmp)
    try:
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        g = grade(tmp, args.count, args.jobs)
        print(f"grade-batch rnn: {g['graded']}/{g['count']} submissions ({g['buggy']} with a planted bug) in "
              f"{g['wall']:.1f} s with {args.jobs} workers and the progress bar: {g['per_minute']:.0f} a minute; "
              f"{g['cpu'] / max(g['graded'], 1):.2f} CPU s a submission; peak {g['pss']:.0f} MB PSS "
              f"(exit code {g['code']})", flush=True)
        r = report_timings(tmp / "out", args.repeat)
        rep, blank = r["inside"]["report"], r["inside"]["blank"]
        print(f"report: {r['kb']:.0f} KB, rebuilt by 'autograder report' in {r['rebuild']:.2f} s (fresh interpreter)")
        print(f"opened in headless Chromium (median of {args.repeat}, ms from navigation start): DOM ready "
              f"{rep['dom']:.0f}, loaded {rep['load']:.0f}, laid out and painted {rep['painted']:.0f}  "
              f"[{'PASS' if rep['painted'] < 1000 * RENDER_TARGET_S else 'MISS'}: < {1000 * RENDER_TARGET_S:.0f}]; "
              f"an empty page: {blank['dom']:.0f}, {blank['load']:.0f}, {blank['painted']:.0f}")
        print(f"whole browser run to a 1280x2400 screenshot: report {r['wall']['report']:.2f} s, empty page "
              f"{r['wall']['blank']:.2f} s (start-up and PNG encoding included); console: {r['console'] or 'nothing'}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0 if g["code"] == 0 and not r["console"] and rep["painted"] < 1000 * RENDER_TARGET_S else 1
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
