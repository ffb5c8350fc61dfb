"""The torch assignments' reference solutions on a CUDA GPU, compared with the CPU.

    python benchmarks/cuda_check.py [NAME ...]        (needs torch and a CUDA device)

Grading runs on CPUs (Gradescope has no GPU), but students train on GPUs (Colab), so the
reference code and the support files students run must work there too. For every torch
assignment this script:
 1. runs every probe of every test on every case (public and hidden), in this process, with the
    reference solution (trusted code: no sandbox), once on the CPU and once with torch's default
    device set to the GPU and every case tensor moved there; outputs of outputs, gradients and
    unchanged tests must agree within the test's tolerances; property tests are judged by the
    assignment's verify.py on the GPU outputs;
 2. runs the assignment's support training (toy_task.py, lm_task.py, image_task.py) on a model moved to the
    GPU with .to(device), as a student would, with torch's default device left on the CPU.
Prints one line per test and a summary; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.build.cases import build_inputs, load_module_from  # noqa: E402
from autograder.grading.compare import compare  # noqa: E402
from autograder.kit import judges  # noqa: E402
from autograder.spec.repo import Repo  # noqa: E402


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _plain(value):
    import torch

    if torch.is_tensor(value):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _run_probe(torch, probe, module, inputs, params, seed, device):
    """`probe` (a probes.py function or a declared probe) with torch's default device set to
    `device` and every case tensor made there: probes and kit.torch make them with torch.from_numpy,
    which always gives a CPU tensor, so it is wrapped for the call."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    arrays = {k: np.array(v) for k, v in inputs.items()}
    from_numpy = torch.from_numpy
    torch.from_numpy = lambda a: from_numpy(a).to(torch.get_default_device())
    try:
        with torch.device(device):
            return {k: _plain(v) for k, v in probe(module, arrays, dict(params)).items()}
    finally:
        torch.from_numpy = from_numpy


def _probe(spec, probes, name):
    """The probe called `name`: declared in assignment.yaml, or a function of probes.py."""
    from autograder.sandbox.declared import make_probe

    declared = getattr(spec, "declared", None) or {}
    return make_probe(declared[name]) if name in declared else getattr(probes, name)


def probe_parity(repo: Repo, name: str, device: str) -> list[str]:
    """Part 1: every probe on the CPU and on `device`; returns the failures."""
    import torch

    spec = repo.spec(name)
    adir = repo.assignment_dir(name)
    sys.path[:0] = [str(repo.solution_dir(name)), str(adir)]
    modules = {f[:-3]: _load(repo.solution_dir(name) / f, f[:-3]) for f in spec.files}
    probes = _load(adir / "probes.py", f"_cuda_probes_{name}")
    verify = _load(adir / "verify.py", f"_cuda_verify_{name}") if (adir / "verify.py").is_file() else None
    inputs = build_inputs(spec, load_module_from(adir / "cases.py", f"_cuda_cases_{name}"), str(adir / "cases.py"))
    failures = []
    for test in spec.tests:
        start, problems = time.perf_counter(), []
        for case in spec.casesets[test.cases].cases:
            prefix = f"in/{test.cases}/{case.name}/"
            case_inputs = {k[len(prefix):]: v for k, v in inputs.items() if k.startswith(prefix)}
            try:
                probe = _probe(spec, probes, test.probe)
                on_gpu = _run_probe(torch, probe, modules[test.module], case_inputs, case.params, case.seed, device)
                if test.kind == "property" and isinstance(test.verify, dict):  # a standard judge of the kit
                    settings = {k: v for k, v in test.verify.items() if k != "kit"}
                    problem = judges.resolve(test.verify["kit"])(case_inputs, on_gpu, dict(case.params), **settings)
                elif test.kind == "property":
                    problem = getattr(verify, test.verify)(case_inputs, on_gpu, dict(case.params))
                else:
                    on_cpu = _run_probe(torch, probe, modules[test.module], case_inputs, case.params, case.seed,
                                        "cpu")
                    problem = next((p for k in on_cpu for p in [
                        f"'{k}' missing on the GPU" if k not in on_gpu else
                        compare(k, on_gpu[k], on_cpu[k], test.rtol, test.atol)] if p), None)
            except Exception as exc:
                problem = f"raised {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
            if problem:
                problems.append(f"{case.name}: {problem}")
        status = "ok  " if not problems else "FAIL"
        print(f"  {status} {name}: {test.name} ({time.perf_counter() - start:.1f} s)", flush=True)
        for p in problems:
            print(f"         {p}")
            failures.append(f"{name}: {test.name}: {p}")
    return failures


def support_training(repo: Repo, name: str, device: str) -> list[str]:
    """Part 2: the support files' training on a model moved to `device`, as a student runs it."""
    import torch

    adir = repo.assignment_dir(name)
    solution = sys.modules[repo.spec(name).files[0][:-3]]
    failures = []
    start = time.perf_counter()
    try:
        if (adir / "toy_task.py").is_file():
            toy = _load(adir / "toy_task.py", "toy_task")
            train_src, train_tgt, test_src, test_tgt = toy.make_splits()
            model = toy.make_model(solution, "additive", seed=0).to(device)
            losses = toy.train(model, train_src, train_tgt)
            score = toy.exact_match(model, test_src, test_tgt)
            line = f"toy_task: loss {losses[0]:.3f} -> {losses[-1]:.3f}, exact match {score:.1%}"
            ok = score >= 0.9
        elif (adir / "lm_task.py").is_file():
            lm = _load(adir / "lm_task.py", "lm_task")
            model = lm.build_model(solution, seed=0).to(device)
            losses = lm.train(model, seed=0)
            score = lm.evaluate(model)
            line = f"lm_task: loss {losses[0]:.3f} -> {losses[-1]:.3f}, score {score:.3f} nats (< {lm.THRESHOLD})"
            ok = score < lm.THRESHOLD
        elif (adir / "image_task.py").is_file():
            task = _load(adir / "image_task.py", "image_task")
            model = task.build_model(solution, seed=0).to(device)
            losses = task.train(model, seed=0)
            score = task.accuracy(model)
            line = f"image_task: loss {losses[0]:.3f} -> {losses[-1]:.3f}, accuracy {score:.1%} (>= {task.TARGET:.0%})"
            ok = score >= task.TARGET
        else:
            return failures
        if next(model.parameters()).device.type != torch.device(device).type:
            ok, line = False, line + "; the model left the GPU"
    except Exception as exc:
        ok, line = False, f"raised {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        traceback.print_exc()
    print(f"  {'ok  ' if ok else 'FAIL'} {name}: support training on {device}: {line} "
          f"({time.perf_counter() - start:.1f} s)", flush=True)
    if not ok:
        failures.append(f"{name}: support training: {line}")
    return failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", metavar="NAME")
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: run this on a machine with a GPU", file=sys.stderr)
        return 2
    repo = Repo(ROOT)
    names = args.names or [n for n in repo.names() if repo.spec(n).framework == "torch"]
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device
    print(f"torch {torch.__version__} on {where}")
    failures = []
    for name in names:
        failures += probe_parity(repo, name, args.device)
        failures += support_training(repo, name, args.device)
    print(f"\n{len(failures)} failure(s)" + "".join(f"\n  {f}" for f in failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
