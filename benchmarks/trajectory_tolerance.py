"""How far a correct training trajectory strays from the reference's, and how far a buggy one does.

    python benchmarks/trajectory_tolerance.py [NAME ...]

For every test with a `trajectory:` (the training tests), on each of its cases, runs the test's
probe in this process with the reference solution (no sandbox; the probes and support files are
the assignment's own), then again with changes that keep the arithmetic correct but reorder it,
and with real mistakes:

- threads: torch with 2 threads instead of 1 (other reduction splits);
- rewrites: the reference with equivalent edits (the softmax written out, the gates from one
  concatenated matrix product, a sum of products instead of a matrix product, ...); for rnn also an
  independently written submission (tests/fixtures/submissions/rnn_independent);
- mistakes: every catalogued mutant of the tested module that changes the trajectory, and
  zero gradients (every gradient replaced by zeros before the update);
- for comparison only (not counted as a correct run): the same loop in float32 instead of the
  graded float64 (the model is cast before the loop starts; for rnn the probe builds it in
  float32). In float32, Adam turns rounding noise in near-zero gradients into steps of size lr,
  which is why the grade trains in float64.

For each it prints the largest relative deviation from the reference over the steps, and the
step where a run first leaves the test's tolerance. The tolerance in assignment.yaml is sized
from the correct runs (threads, rewrites: a margin of at least 100x), and every mistake that
changes the trajectory must leave it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.build.cases import load_module_from  # noqa: E402
from autograder.build.mutants import apply_mutant, load_catalog  # noqa: E402
from autograder.spec.repo import Repo  # noqa: E402

# Equivalent edits of the reference: (file, old, new); the results differ only by rounding.
REWRITES = {
    "transformer": [
        ("softmax written out", "transformer_layers.py",
         "weights = self.attn_drop(torch.softmax(scores, dim=-1))  # (N, H, S, T)",
         "e = (scores - scores.amax(-1, keepdim=True)).exp()\n"
         "        weights = self.attn_drop(e / e.sum(-1, keepdim=True))  # (N, H, S, T)"),
        ("LayerNorm through torch.var and a division", "transformer_layers.py",
         "var = (xc * xc).mean(dim=-1, keepdim=True)  # (..., 1)\n"
         "        return xc * torch.rsqrt(var + self.eps)",
         "var = x.var(dim=-1, unbiased=False, keepdim=True)  # (..., 1)\n"
         "        return xc / torch.sqrt(var + self.eps)"),
    ],
    "attention": [
        ("gates from one concatenated product", "attention.py",
         "a = x @ Wx + prev_h @ Wh + b",
         "a = torch.cat([x, prev_h], 1) @ torch.cat([Wx, Wh], 0) + b"),
        ("context and scores as sums of products", "attention.py",
         "scores = hidden @ v                                                  # (N, L)",
         "scores = (hidden * v).sum(-1)                                        # (N, L)"),
    ],
    "rnn": [
        ("hidden state from one concatenated product", "rnn_layers.py",
         "next_h = np.tanh(x @ Wx + prev_h @ Wh + b)",
         "next_h = np.tanh(np.concatenate([x, prev_h], 1) @ np.concatenate([Wx, Wh], 0) + b)"),
    ],
}
INDEPENDENT = {"rnn": ROOT / "tests" / "fixtures" / "submissions" / "rnn_independent"}


def fresh_import(folder: Path, files, module: str):
    """`module` imported from `folder`, with the submitted files it imports, never a cached copy."""
    for f in files:
        sys.modules.pop(f[:-3], None)
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(folder))


def support_module(name: str):
    """The support module a torch probe trains with (imported by the probe from sys.path)."""
    return importlib.import_module({"attention": "toy_task", "transformer": "lm_task"}[name])


@contextlib.contextmanager
def patched(obj, attr, value):
    old = getattr(obj, attr)
    setattr(obj, attr, value)
    try:
        yield
    finally:
        setattr(obj, attr, old)


@contextlib.contextmanager
def around_training(name, probes, before):
    """Call `before(model)` on the model just before the training loop runs."""
    if name == "rnn":
        make = probes._model

        def model(m, c, p, dtype=np.float64):
            return before(make(m, c, p, dtype))
        with patched(probes, "_model", model):
            yield
        return
    support = support_module(name)
    attr = "fit" if name == "attention" else "train"
    loop = getattr(support, attr)
    with patched(support, attr, lambda model, *a, **kw: loop(before(model), *a, **kw)):
        yield


def zero_gradients(name):
    def before(model):
        if name == "rnn":
            loss = model.loss

            def zero_loss(features, captions):
                value, grads = loss(features, captions)
                return value, {k: np.zeros_like(g) for k, g in grads.items()}
            model.loss = zero_loss
        else:
            for p in model.parameters():
                p.register_hook(lambda g: g * 0)
        return model
    return before


def to_float32(model):
    return model.float()


@contextlib.contextmanager
def float32_rnn(probes):
    make = probes._model
    with patched(probes, "_model", lambda m, c, p, dtype=np.float64: make(m, c, p, np.float32)):
        yield


@contextlib.contextmanager
def torch_threads(n):
    import torch
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def measure(repo: Repo, name: str) -> None:
    spec = repo.spec(name)
    adir, sol = repo.assignment_dir(name), repo.solution_dir(name)
    sys.path.insert(0, str(adir))  # support files, as in the child's working folder
    if spec.framework == "torch":
        import torch
        torch.set_num_threads(1)
    cases = load_module_from(adir / "cases.py", f"_bench_cases_{name}")
    probes = load_module_from(adir / "probes.py", "_autograder_probes")
    for test in (t for t in spec.tests if t.trajectory):
        cs = spec.casesets[test.cases]
        with tempfile.TemporaryDirectory(prefix="trajectory-") as tmp:
            tmp = Path(tmp)
            folders = {"reference": sol}
            for label, fname, old, new in REWRITES.get(name, []):
                dest = tmp / label.replace(" ", "_")
                shutil.copytree(sol, dest)
                text = (dest / fname).read_text()
                assert text.count(old) == 1, (label, old)
                (dest / fname).write_text(text.replace(old, new))
                folders[f"rewrite: {label}"] = dest
            if name in INDEPENDENT:
                folders["independently written"] = INDEPENDENT[name]
            mutants = {}
            for mutant in load_catalog(adir / "mutants.yaml", spec, sol):
                if test.graded in mutant.graded:
                    apply_mutant(mutant, sol, tmp / f"mut_{mutant.name}", spec.files)
                    mutants[f"mutant: {mutant.name}"] = tmp / f"mut_{mutant.name}"
            for case in cs.cases:
                arrays = getattr(cases, cs.builder)(np.random.default_rng(case.seed), **case.params)

                def run(folder=sol, context=contextlib.nullcontext, cast=None):
                    module = fresh_import(folder, spec.files, test.module)
                    c = {k: (v.astype(cast) if cast and v.dtype.kind == "f" else v.copy()) for k, v in arrays.items()}
                    with context():
                        out = getattr(probes, test.probe)(module, c, dict(case.params))
                    return np.asarray(out[test.trajectory], dtype=np.float64)

                ref = run()
                rows = []  # (label, "correct" | "mistake" | "compare", trajectory)
                if spec.framework == "torch":
                    rows.append(("threads: 2 instead of 1", "correct", run(context=lambda: torch_threads(2))))
                for label, folder in folders.items():
                    if label != "reference":
                        rows.append((label, "correct", run(folder)))
                if spec.framework == "torch":
                    rows.append(("for comparison: float32 instead of float64", "compare",
                                 run(context=lambda: around_training(name, probes, to_float32))))
                else:
                    rows.append(("for comparison: float32 instead of float64", "compare",
                                 run(context=lambda: float32_rnn(probes), cast=np.float32)))
                rows.append(("mistake: zero gradients", "mistake",
                             run(context=lambda: around_training(name, probes, zero_gradients(name)))))
                for label, folder in mutants.items():
                    try:
                        rows.append((label, "mistake", run(folder)))
                    except Exception as exc:  # a mutant may crash: it fails the test anyway
                        rows.append((f"{label} (raises {type(exc).__name__})", "mistake", None))
                report(name, test, case, ref, rows)
    sys.path.remove(str(adir))


def report(name, test, case, ref, rows) -> None:
    print(f"\n{name}: {test.name}, {case.visibility} case '{case.name}', {len(ref)} steps, "
          f"loss {ref[0]:.4g} -> {ref[-1]:.4g}; tolerance rtol={test.rtol:g}, atol={test.atol:g}")
    worst_ok, mildest_bug = 0.0, np.inf
    for label, kind, got in rows:
        if got is None:
            print(f"  {label:58s}   (no trajectory)")
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(got - ref) / np.abs(ref)
        rel = np.where(np.isnan(rel), np.inf, rel)
        outside = np.flatnonzero(~(np.abs(got - ref) <= test.atol + test.rtol * np.abs(ref)))
        where = f"leaves the tolerance at step {outside[0] + 1}" if outside.size else "within the tolerance"
        print(f"  {label:58s} max {rel.max():8.1e} (step {int(np.argmax(rel)) + 1:3d})  {where}")
        if kind == "correct":
            worst_ok = max(worst_ok, float(rel.max()))
        elif kind == "mistake" and rel.max() > 0:
            mildest_bug = min(mildest_bug, float(rel.max()))
    margin = f"{test.rtol / worst_ok:.0e}x below rtol" if worst_ok else "bit for bit"
    print(f"  largest deviation of a correct run: {worst_ok:.1e} ({margin}); smallest of a mistake that changes "
          f"the trajectory: {mildest_bug:.1e}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    repo = Repo(ROOT)
    for name in args.names or repo.names():
        measure(repo, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
