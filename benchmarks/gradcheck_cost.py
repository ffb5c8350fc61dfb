"""Random-direction gradient checks against element-wise central differences: cost and detection.

    python benchmarks/gradcheck_cost.py [--seeds 3] [--no-large]

On the backward passes of `solutions/rnn/rnn_layers.py` (loaded by path: this is a developers'
tool, not the grader), correct and deliberately broken, at two sizes:
  medium     N=8, T=6, D=H=16: both methods run in full, so their time and detection compare
             directly;
  realistic  N=64, T=32, D=H=128 (vocabulary 1000): the projection check runs in full; the
             element-wise pass over every input entry would take hours, so its time is the
             measured cost of a sample of entries times the number of entries.
`projection` is `autograder.grading.gradcheck.GradChecker.check` (one random unit direction per input,
two forward evaluations each), without its explaining pass; `element-wise` perturbs every entry of
every float input (two forward evaluations each) with the same step and tolerance. Both evaluate
L = sum(upstream * output) in float64, in this process (the engine runs the same forward passes
in the sandboxed child, which adds a round trip of a few ms to each evaluation).

The broken variants: every catalogued mutant (assignments/rnn/mutants.yaml) of a backward function
checked here, and the edits in BROKEN below. Left out: a variant whose gradients change shape (the
numerical check skips it; the comparison with the reference catches it) and one whose gradients
are right (modifying an input in place, say: the `unchanged` tests catch it).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# One BLAS thread, as in the grader's children: at these sizes OpenBLAS's own threads only contend
# with other work (on this project's busy 2-core machine, a 64x128 @ 128x512 product took 55 ms
# with 2 threads and 1.8 ms with one).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grading.gradcheck import GradChecker  # noqa: E402

SOLUTION = ROOT / "solutions" / "rnn" / "rnn_layers.py"
CATALOG = ROOT / "assignments" / "rnn" / "mutants.yaml"

# name -> (function whose body is edited, old text, new text); `old` occurs once in that function.
BROKEN = {
    "rnn_dWh_transposed": ("rnn_step_backward", "dWh = prev_h.T @ da", "dWh = (prev_h.T @ da).T"),
    "rnn_db_drops_last_example": ("rnn_step_backward", "db = da.sum(axis=0)", "db = da[:-1].sum(axis=0)"),
    "rnn_first_step_weight_grad_lost": ("rnn_backward", "dWx += dWx_t", "dWx += dWx_t if t else 0"),
    "lstm_df_uses_f": ("lstm_step_backward", "df = dc * prev_c", "df = dc * f"),
    "lstm_cell_grad_not_carried": ("lstm_backward", "dh[:, t] + dprev_h, dprev_c, steps[t])",
                                   "dh[:, t] + dprev_h, 0 * dprev_c, steps[t])"),
    "gru_dz_sign": ("gru_step_backward", "dz = dnext_h * (prev_h - n)", "dz = dnext_h * (n - prev_h)"),
    "gru_drops_reset_path": ("gru_step_backward", "dprev_h = dnext_h * z + drh * r + da_rz @ Wh_rz.T",
                             "dprev_h = dnext_h * z + da_rz @ Wh_rz.T"),
    "affine_dw_first_step_only": ("temporal_affine_backward", "dw = x.reshape(-1, D).T @ dout.reshape(-1, M)",
                                  "dw = x[:, 0].T @ dout[:, 0]"),
}


@dataclass(frozen=True)
class Problem:
    """One forward/backward pair, how to call it, and its inputs at a given size."""

    forward: str
    backward: str
    inputs: dict  # name -> array (float64 for checked inputs)
    upstream: str  # name of the output the upstream gradient belongs to
    grads: tuple  # names of the backward's results, in order (None: not an input)


def problems(size: str, rng: np.random.Generator) -> list[Problem]:
    if size == "medium":
        N, T, D, H, V, M = 8, 6, 16, 16, 50, 40
    else:
        N, T, D, H, V, M = 64, 32, 128, 128, 1000, 1000

    def w(*shape, scale=0.1):
        return rng.standard_normal(shape) * scale

    seq = ("x", "h0", "Wx", "Wh", "b")
    out = [Problem("rnn_forward", "rnn_backward", {"x": w(N, T, D, scale=1), "h0": w(N, H, scale=1),
                                                   "Wx": w(D, H), "Wh": w(H, H), "b": w(H)}, "h", seq),
           Problem("lstm_forward", "lstm_backward", {"x": w(N, T, D, scale=1), "h0": w(N, H, scale=1),
                                                     "Wx": w(D, 4 * H), "Wh": w(H, 4 * H), "b": w(4 * H)}, "h", seq),
           Problem("gru_forward", "gru_backward", {"x": w(N, T, D, scale=1), "h0": w(N, H, scale=1),
                                                   "Wx": w(D, 3 * H), "Wh": w(H, 3 * H), "b": w(3 * H)}, "h", seq),
           Problem("word_embedding_forward", "word_embedding_backward",
                   {"x": rng.integers(0, V, (N, T)), "W": w(V, D, scale=1)}, "out", ("W",)),
           Problem("temporal_affine_forward", "temporal_affine_backward",
                   {"x": w(N, T, D, scale=1), "w": w(D, M), "b": w(M)}, "out", ("x", "w", "b"))]
    return out


def load(text: str, tag: str):
    path = Path(tempfile.mkdtemp(prefix="gradcheck-bench-")) / f"rnn_layers_{tag}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def edit_in_function(source: str, function: str, old: str, new: str) -> str:
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == function)
    first = node.body[1] if ast.get_docstring(node) else node.body[0]  # code only, not the docstring
    lines = source.splitlines(keepends=True)
    start, end = sum(map(len, lines[:first.lineno - 1])), sum(map(len, lines[:node.end_lineno]))
    body = source[start:end]
    if body.count(old) != 1:
        raise ValueError(f"{function}: {old!r} occurs {body.count(old)} times")
    return source[:start] + body.replace(old, new) + source[end:]


def variants(source: str) -> dict:
    """name -> (backward function it breaks, module)."""
    out = {}
    for name, (function, old, new) in BROKEN.items():
        out[name] = (function, load(edit_in_function(source, function, old, new), name))
    if CATALOG.is_file():
        import yaml

        for m in yaml.safe_load(CATALOG.read_text()) or []:
            if m["file"] == "rnn_layers.py" and m["function"].endswith("_backward") and source.count(m["old"]) == 1:
                out[f"catalog:{m['name']}"] = (m["function"], load(source.replace(m["old"], m["new"]), m["name"]))
    return out


class _Detector(GradChecker):
    def explain(self, *args):  # detection only; the explaining pass is timed separately, if at all
        return "detected"


def _setup(module, p: Problem, rng):
    fwd, bwd = getattr(module, p.forward), getattr(module, p.backward)
    out, cache = fwd(**p.inputs)
    upstream = rng.standard_normal(out.shape)
    grads = bwd(upstream, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    named = {n: np.asarray(g, dtype=np.float64) for n, g in zip(p.grads, grads) if n}

    def forward(inputs):
        return {p.upstream: fwd(**inputs)[0]}
    return forward, {p.upstream: upstream}, named


def projection(module, p: Problem, seed: int):
    """(detected, seconds) of GradChecker's check of `module`'s backward against its own forward."""
    forward, upstream, grads = _setup(module, p, np.random.default_rng(seed))
    start = time.perf_counter()
    problem = _Detector(forward, upstream, seed).check(p.inputs, grads)
    return problem is not None, time.perf_counter() - start


def elementwise(module, p: Problem, seed: int, sample: int | None = None):
    """(detected, seconds) of central differences over every entry of every checked input.

    With `sample`, only that many entries per input are evaluated and the time is scaled to all.
    """
    forward, upstream, grads = _setup(module, p, np.random.default_rng(seed))
    checker = GradChecker(forward, upstream, seed)
    inputs = {k: (v.astype(np.float64) if v.dtype.kind == "f" else v) for k, v in p.inputs.items()}
    scale = abs(checker.loss(inputs))
    rng = np.random.default_rng(seed)
    detected, seconds = False, 0.0
    for name, grad in grads.items():
        x = inputs[name]
        if grad.shape != x.shape:
            continue
        entries = np.arange(x.size) if sample is None else rng.choice(x.size, min(sample, x.size), replace=False)
        start = time.perf_counter()
        for i in entries:
            plus, minus = x.copy(), x.copy()
            plus.flat[i] += checker.step
            minus.flat[i] -= checker.step
            num = (checker.loss(dict(inputs, **{name: plus})) - checker.loss(dict(inputs, **{name: minus}))) / (2 * checker.step)
            if not checker._close(num, float(grad.flat[i]), scale):
                detected = True
        seconds += (time.perf_counter() - start) * x.size / len(entries)
    return detected, seconds


def kind_of_bug(module, reference, p: Problem) -> str:
    """'shape' (gradients change shape), 'none' (same gradients: not a gradient bug) or 'values'."""
    _, _, grads = _setup(module, p, np.random.default_rng(0))
    _, _, ref = _setup(reference, p, np.random.default_rng(0))
    if any(g.shape != p.inputs[n].shape for n, g in grads.items()):
        return "shape"
    return "none" if all(np.allclose(grads[n], ref[n], rtol=1e-9, atol=0) for n in ref) else "values"


def measure(seeds: int = 3, large: bool = True, log=print) -> dict:
    source = SOLUTION.read_text()
    reference = load(source, "reference")
    broken = variants(source)
    results = {}
    for size in ("medium", "realistic") if large else ("medium",):
        probs = {p.backward: p for p in problems(size, np.random.default_rng(0))}
        by_backward = {}
        for name, (function, module) in broken.items():
            target = next((b for b in probs if function.split("_step")[0] == b.split("_backward")[0]
                           or function == b), None)
            kind = kind_of_bug(module, reference, probs[target]) if target else "unchecked function"
            if kind == "values":
                by_backward.setdefault(target, []).append((name, module))
            else:
                log(f"  {size:9s} {name:40s} left out: {'gradients change shape' if kind == 'shape' else 'gradients are right'}")
        row = {"proj_time": [], "elem_time": [], "proj_hits": 0, "elem_hits": 0, "runs": 0, "elem_runs": 0,
               "false_proj": 0, "false_elem": 0, "variants": sum(len(v) for v in by_backward.values())}
        full = size == "medium"
        for backward, p in probs.items():
            for s in range(seeds):
                hit, t = projection(reference, p, s)
                row["false_proj"] += hit
                row["proj_time"].append(t)
            hit, t = elementwise(reference, p, 0, None if full else 8)
            row["elem_time"].append(t)
            row["false_elem"] += hit if full else 0
            for name, module in by_backward.get(backward, []):
                hits = sum(projection(module, p, s)[0] for s in range(seeds))
                row["proj_hits"] += hits
                row["runs"] += seeds
                elem = elementwise(module, p, 0)[0] if full else None
                row["elem_hits"] += bool(elem)
                row["elem_runs"] += full
                log(f"  {size:9s} {name:40s} projection {hits}/{seeds}"
                    + ("" if elem is None else f", element-wise {'caught' if elem else 'MISSED'}"))
        row["proj_s"] = statistics.mean(row["proj_time"])
        row["elem_s"] = statistics.mean(row["elem_time"])
        results[size] = row
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="random directions tried per function and variant")
    ap.add_argument("--no-large", action="store_true", help="skip the realistic size")
    args = ap.parse_args()
    res = measure(args.seeds, not args.no_large)
    for size, r in res.items():
        elem = (f"{r['elem_hits']}/{r['elem_runs']} variants" if r["elem_runs"] else "not run (hours)")
        print(f"{size}: {r['variants']} broken variants over 5 backward functions")
        print(f"  projection  : {1000 * r['proj_s']:9.1f} ms per function, detected {r['proj_hits']}/{r['runs']} runs, "
              f"false alarms {r['false_proj']}")
        print(f"  element-wise: {1000 * r['elem_s']:9.1f} ms per function{'' if r['elem_runs'] else ' (extrapolated)'}, "
              f"detected {elem}")
        print(f"  ratio       : {r['elem_s'] / r['proj_s']:9.0f} x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
