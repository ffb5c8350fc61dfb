"""Every measurement of the issue, each beside its target, with PASS or MISS.

    python benchmarks/run_all.py              # everything (several minutes on 2 cores)
    python benchmarks/run_all.py --quick      # one repeat, no build, medium gradient sizes only

Ratios are taken within this one run (a measurement and its floor alternate), so they hold when
the machine is busy; absolute times do not, and the load average is printed at the start and the
end. Each part runs in its own interpreter, so that one assignment's torch import never warms
another's measurement. The parts, also runnable alone:
  grade_one.py        wall time and peak memory (PSS, RSS) of one full grade, against the floor
  isolation.py        a forked child per test against a fresh interpreter per test
  gradcheck_cost.py   random-direction projections against element-wise central differences
  batch_throughput.py submissions a minute of grade-batch with 2 workers
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

RNN_WALL_S = 3.0  # one full grade of rnn
TORCH_EXTRA_S = 3.0  # one full grade of a torch assignment, beyond the torch import floor (issue 12)
PEAK_MB = 300.0  # whole grading tree, every assignment (issue 12)
GRADCHECK_SPEEDUP = 100.0  # at equal detection
BUILD_S = 120.0  # all zips, self-validation included
BATCH_PER_MINUTE = 60.0  # rnn, 2 cores

ROWS: list[tuple[str, str, str, bool]] = []


def row(what: str, measured: str, target: str, ok: bool) -> None:
    ROWS.append((what, measured, target, ok))
    print(f"  {'PASS' if ok else 'MISS'}  {what}: {measured}   (target: {target})", flush=True)


def part(code: str) -> dict:
    """Run `code` (which prints one JSON object last) in a fresh interpreter of this venv."""
    out = subprocess.run([sys.executable, "-c", f"import sys, json; sys.path[:0] = [{str(HERE)!r}, {str(ROOT)!r}]\n{code}"],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def build(names) -> None:
    print("build: every assignment's zips, self-validation included", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-build-") as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "autograder", "build", *names, "--out", out], cwd=ROOT,
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
    ok = proc.returncode == 0
    if not ok:
        print(proc.stderr.strip()[-2000:])
    for line in proc.stdout.splitlines():
        print(f"    {line}")
    row(f"build of {', '.join(names)}", f"{wall:.0f} s" + ("" if ok else " (FAILED)"), f"< {BUILD_S:.0f} s",
        ok and wall < BUILD_S)


def grades(repo, names, repeat: int) -> None:
    print(f"full grade of each reference solution in a fresh interpreter (median of {repeat})", flush=True)
    for name in names:
        rep = repeat
        r = part(f"from grade_one import compare_to_floor; from dataclasses import asdict\n"
                 f"g, f, mod = compare_to_floor({name!r}, 'solutions/{name}', {rep})\n"
                 f"print(json.dumps(dict(g=asdict(g), f=asdict(f), mod=mod)))")
        g, f, mod = r["g"], r["f"], r["mod"]
        print(f"    {name}: grade {g['wall']:.2f} s wall, {g['cpu']:.2f} s CPU, peak {g['pss']:.0f} MB PSS "
              f"({g['rss']:.0f} MB summed RSS, up to {g['processes']} processes); floor (import {mod}) "
              f"{f['wall']:.2f} s, {f['pss']:.0f} MB PSS; {g['wall'] / f['wall']:.1f} x the floor's time, "
              f"{g['pss'] / f['pss']:.1f} x its memory", flush=True)
        if mod == "numpy":
            row(f"{name} full grade wall time", f"{g['wall']:.2f} s", f"<= {RNN_WALL_S:g} s", g["wall"] <= RNN_WALL_S)
        else:
            extra = g["wall"] - f["wall"]
            row(f"{name} full grade wall time beyond the torch import",
                f"{extra:.2f} s ({g['wall']:.2f} s - {f['wall']:.2f} s)", f"<= {TORCH_EXTRA_S:g} s", extra <= TORCH_EXTRA_S)
        slow = ", ".join(f"{t} {s:.1f} s" for t, s in g["slowest"])
        if slow:
            print(f"    {name}: slowest tests: {slow}", flush=True)
        if mod != "numpy" and g["slowest"]:
            test, seconds = g["slowest"][0]
            print(f"    {name}: without its slowest test ({test}), {g['wall'] - f['wall'] - seconds:.2f} s beyond "
                  "the torch import", flush=True)
        row(f"{name} peak memory of the grading tree", f"{g['pss']:.0f} MB PSS", f"< {PEAK_MB:.0f} MB", g["pss"] < PEAK_MB)
        if g["code"] != 0:
            print(f"    (the grade exited with code {g['code']})")


def isolation(names, repeat: int) -> None:
    print("isolation per test: forked child of the warm grader vs a fresh interpreter", flush=True)
    for name in names:
        m = part(f"from isolation import measure; print(json.dumps(measure({name!r}, {repeat})))")
        print(f"    {name}: fork {m['fork_ms']:.1f} ms, fresh interpreter {m['fresh_ms']:.0f} ms "
              f"({m['fresh_ms'] / m['fork_ms']:.0f} x), one more call to a live child {m['call_ms']:.2f} ms "
              f"(on '{m['test']}')", flush=True)


def gradcheck(seeds: int, large: bool) -> None:
    print(f"gradient checks on rnn's backward passes, correct and broken ({seeds} random directions each)", flush=True)
    res = part(f"from gradcheck_cost import measure; print(json.dumps(measure({seeds}, {large}, log=lambda m: None)))")
    for size, r in res.items():
        full = bool(r["elem_runs"])
        elem_det = f"{r['elem_hits']}/{r['elem_runs']}" if full else "not run"
        speed = r["elem_s"] / r["proj_s"]
        print(f"    {size}: projection {1000 * r['proj_s']:.1f} ms per function, caught {r['proj_hits']}/{r['runs']} "
              f"runs on {r['variants']} broken variants, {r['false_proj']} false alarms; element-wise "
              f"{r['elem_s']:.1f} s per function{'' if full else ' (extrapolated from a sample)'}, caught {elem_det}",
              flush=True)
        proj_rate = r["proj_hits"] / max(r["runs"], 1)
        if full:
            elem_rate = r["elem_hits"] / max(r["elem_runs"], 1)
            row(f"gradient check speed-up ({size} size, both in full)",
                f"{speed:.0f} x, detection {proj_rate:.0%} vs {elem_rate:.0%}", f">= {GRADCHECK_SPEEDUP:.0f} x at equal detection",
                speed >= GRADCHECK_SPEEDUP and proj_rate >= elem_rate and r["false_proj"] == 0)
        else:
            row(f"gradient check speed-up ({size} size, element-wise extrapolated)",
                f"{speed:.0f} x, projection detection {proj_rate:.0%}", f">= {GRADCHECK_SPEEDUP:.0f} x",
                speed >= GRADCHECK_SPEEDUP and proj_rate == 1.0 and r["false_proj"] == 0)


def batch(count: int) -> None:
    print(f"grade-batch of {count} rnn submissions with 2 workers", flush=True)
    r = part(f"from batch_throughput import run; print(json.dumps(run('rnn', {count}, 2)))")
    print(f"    {r['graded']}/{r['count']} graded ({r['broken']} with a catalogued mistake) in {r['wall']:.1f} s, "
          f"peak {r['pss']:.0f} MB PSS; {r['cpu'] / max(r['graded'], 1):.2f} CPU s a submission, so "
          f"{r['idle_per_minute']:.0f} a minute on 2 otherwise idle cores", flush=True)
    row("rnn submissions a minute, 2 workers", f"{r['per_minute']:.0f}", f">= {BATCH_PER_MINUTE:.0f}",
        r["per_minute"] >= BATCH_PER_MINUTE and r["graded"] == r["count"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one repeat, no build, medium gradient sizes, 12 submissions")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from autograder.build.cache import cached_bundle
    from autograder.spec.repo import Repo

    repo = Repo(ROOT)
    names = repo.names()
    repeat = 1 if args.quick else args.repeat
    start = time.perf_counter()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start; assignments: {', '.join(names)}")
    if not (args.quick or args.skip_build):
        build(names)
    for name in names:
        cached_bundle(repo, name)  # built once here, outside every measurement
    grades(repo, names, repeat)
    isolation(names, 3 if args.quick else 5)
    gradcheck(2 if args.quick else 3, large=not args.quick)
    batch(12 if args.quick else 24)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end; {time.perf_counter() - start:.0f} s in all")
    width = max(len(r[0]) for r in ROWS)
    for what, measured, target, ok in ROWS:
        print(f"{'PASS' if ok else 'MISS'}  {what:<{width}}  {measured}  (target {target})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
