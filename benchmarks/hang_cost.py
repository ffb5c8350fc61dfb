"""What a hanging function costs one grade: the reference with `while True: pass` in one function.

    python benchmarks/hang_cost.py rnn rnn_step_forward

Grades (full bundle, every test) a copy of the reference solution whose function FUNCTION starts
with an endless loop, and prints the grade's wall time, how many tests reached their time limit,
how many failed at once because they call what hung (`hung_before`), and what those tests would
have waited had each run into its own time limit (the behaviour before fail-fast, issue 17).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name")
    ap.add_argument("function")
    args = ap.parse_args()

    from autograder.build.cache import cached_bundle
    from autograder.grading.grade import grade_files
    from autograder.spec.repo import Repo

    repo = Repo(ROOT)
    bundle = cached_bundle(repo, args.name)
    spec = bundle.spec
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for f in spec.files:
            files[f] = Path(tmp) / f
            files[f].write_text((repo.solution_dir(args.name) / f).read_text())
        path = next(p for p in files.values() if re.search(rf"^\s*def {args.function}\(", p.read_text(), re.M))
        text = path.read_text()
        start = re.search(rf"^(\s*)def {args.function}\(.*?# BEGIN SOLUTION\n", text, re.M | re.S)
        if start is None:
            raise SystemExit(f"no '# BEGIN SOLUTION' in {args.function}")
        indent = re.match(r"\s*", text[start.end():]).group(0)
        path.write_text(text[:start.end()] + f"{indent}while True:\n{indent}    pass\n" + text[start.end():])
        t0 = time.monotonic()
        report = grade_files(bundle, files)
        wall = time.monotonic() - t0
    kinds = [r.failure.kind for r in report.results if not r.passed and r.failure is not None]
    limits = [r.test.timeout for r in report.results if not r.passed and r.failure is not None
              and r.failure.kind in ("timeout", "hung_before")]
    print(f"{args.name}, while True in {args.function}: {len(report.results)} tests graded in {wall:.1f} s wall")
    print(f"  tests that reached their time limit: {kinds.count('timeout')}")
    print(f"  tests that failed at once because they call what hung: {kinds.count('hung_before')}")
    print(f"  had each of those {len(limits)} tests waited its own limit: {sum(limits):g} s "
          f"(the grade's budget is {spec.budget:g} s)")


if __name__ == "__main__":
    main()
