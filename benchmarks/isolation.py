"""What isolating one test costs: a child forked from the warm grader versus a fresh interpreter.

    python benchmarks/isolation.py [NAME ...] [--repeat N]

For each assignment, on the first test of its spec and that test's first case, with the reference
solution as the submission:
  fork     the engine's way: `sandbox.Child` forks the grader (numpy/torch already imported), the
           child loads the probes, imports the submission, answers one probe call, and is killed;
  fresh    the alternative: a new `python` process imports the framework, loads the probes, imports
           the submission, reads the case from an .npz, runs the probe and writes its outputs;
  call     one more probe call in a child that is already running (what every further case or
           numerical-gradient evaluation of the same test costs).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_FRESH = """
import sys, importlib.util
import numpy as np
{framework}
sys.path.insert(0, {workdir!r})
spec = importlib.util.spec_from_file_location("_probes", {probes!r})
probes = importlib.util.module_from_spec(spec); spec.loader.exec_module(probes)
declared = {declared!r}
if {probe!r} in declared:  # a probe declared in assignment.yaml, built as the child builds it
    from autograder.sandbox.declared import make_probe
    setattr(probes, {probe!r}, make_probe(declared[{probe!r}]))
module = __import__({module!r})
with np.load({case!r}) as f:
    arrays = {{k: f[k] for k in f.files}}
out = getattr(probes, {probe!r})(module, arrays, {params!r})
np.savez({result!r}, **{{k: np.asarray(v.detach().numpy() if hasattr(v, "detach") else v) for k, v in out.items()}})
"""


def measure(name: str, repeat: int = 5, calls: int = 200) -> dict:
    """Median milliseconds of each way, for assignment `name`."""
    from autograder.build.cache import cached_bundle
    from autograder.grading.grade import prepare_workdir, preload
    from autograder.spec.repo import Repo
    from autograder.sandbox.parent import Child, ChildJob, warm
    from autograder.spec.declared import for_test

    repo = Repo(ROOT)
    bundle = cached_bundle(repo, name)
    spec = bundle.spec
    test = spec.tests[0]
    case = spec.casesets[test.cases].select(("public",))[0]
    inputs = bundle.inputs(test.cases, case)
    warm()
    preload(spec)
    workdir = prepare_workdir({f: repo.solution_dir(name) / f for f in spec.files}, bundle.support_dir)
    job = ChildJob(workdir, str(bundle.probes_path), (test.module,), test.limits, test.timeout, test.banned,
                   declared=for_test(spec, test))
    try:
        forked = []
        for _ in range(repeat * 4):
            start = time.perf_counter()
            child = Child(job)
            reply = child.call(test.module, test.probe, inputs, time.monotonic() + 60, seed=case.seed,
                               params=case.params)
            child.close()
            forked.append(time.perf_counter() - start)
            assert reply.failure is None, reply
        child = Child(job)
        child.call(test.module, test.probe, inputs, time.monotonic() + 60, seed=case.seed, params=case.params)
        start = time.perf_counter()
        for _ in range(calls):
            child.call(test.module, test.probe, inputs, time.monotonic() + 60, seed=case.seed, params=case.params)
        per_call = (time.perf_counter() - start) / calls
        child.close()

        tmp = Path(tempfile.mkdtemp(prefix="isolation-"))
        np.savez(tmp / "case.npz", **inputs)
        script = _FRESH.format(framework="import torch; torch.set_num_threads(1)" if spec.framework == "torch" else "",
                               workdir=workdir, probes=str(bundle.probes_path), module=test.module,
                               case=str(tmp / "case.npz"), probe=test.probe, params=dict(case.params),
                               declared=for_test(spec, test),
                               result=str(tmp / "out.npz"))
        fresh = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp)
            fresh.append(time.perf_counter() - start)
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"assignment": name, "test": test.name, "fork_ms": 1000 * statistics.median(forked),
            "fresh_ms": 1000 * statistics.median(fresh), "call_ms": 1000 * per_call}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from autograder.spec.repo import Repo

    for name in args.names or Repo(ROOT).names():
        # One process per assignment: a torch assignment must not find torch already imported.
        if len(args.names) != 1:
            subprocess.run([sys.executable, __file__, name, "--repeat", str(args.repeat)], check=True)
            continue
        m = measure(name, args.repeat)
        print(f"{name}: per test, on '{m['test']}'")
        print(f"  forked child from the warm grader : {m['fork_ms']:8.1f} ms")
        print(f"  fresh interpreter                 : {m['fresh_ms']:8.1f} ms   ({m['fresh_ms'] / m['fork_ms']:.0f} x)")
        print(f"  one more call to a running child  : {m['call_ms']:8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
