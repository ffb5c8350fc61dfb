"""An assignment whose probes are all declared (no probes.py) stages and grades end to end:
declarations reach the children through ChildJob.declared, the gradient check perturbs the
declared forward, and `unchanged` sees what a declared watch reports."""

import textwrap

import pytest

from autograder.build.stage import stage_bundle
from autograder.core.errors import SpecError
from autograder.grading.grade import grade_files
from autograder.spec.repo import Repo

SPEC = """
name: demo
title: Demo
files: [layers.py]
cases:
  affine:
    builder: affine
    public: [{name: small, N: 2, D: 3, M: 4}]
    hidden: [{name: wide, N: 3, D: 5, M: 2}]
    edges: {N: 1}
probes:
  fwd: "out, _ = affine_forward(x, w, b)"
  bwd: ["_, _cache = affine_forward(x, w, b)", "x, w, b = affine_backward(dout, _cache)"]
  bwd_unchanged:
    steps: ["_, _cache = affine_forward(x, w, b)", "dx, dw, db = affine_backward(dout, _cache)"]
    watch: [_cache]
tests:
  - {target: layers.affine_forward, title: forward, kind: outputs, probe: fwd, cases: affine, visibility: public}
  - {target: layers.affine_backward, title: backward, kind: gradients, probe: bwd, forward: fwd,
     upstream: {out: dout}, cases: affine, visibility: public}
  - {target: layers.affine_backward, title: unchanged, kind: unchanged, probe: bwd_unchanged, cases: affine,
     outputs: [dx, dw, db], visibility: public}
"""

CASES = """
from autograder.kit import normal

def affine(rng, N, D, M):
    return {"x": normal(rng, N, D), "w": normal(rng, D, M), "b": normal(rng, M), "dout": normal(rng, N, M)}
"""

LAYERS = """
def affine_forward(x, w, b):
    return x @ w + b, (x, w)

def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)
"""


def make_repo(tmp_path, spec=SPEC, layers=LAYERS):
    (tmp_path / "assignments" / "demo").mkdir(parents=True)
    (tmp_path / "solutions" / "demo").mkdir(parents=True)
    (tmp_path / "assignments" / "demo" / "assignment.yaml").write_text(spec)
    (tmp_path / "assignments" / "demo" / "cases.py").write_text(textwrap.dedent(CASES))
    (tmp_path / "solutions" / "demo" / "layers.py").write_text(textwrap.dedent(layers))
    return Repo(tmp_path)


def grade(bundle, tmp_path, source):
    path = tmp_path / "submission" / "layers.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(source))
    report = grade_files(bundle, {"layers.py": path})
    return {r.test.title: r for r in report.results}


def test_declared_only_assignment_builds_and_grades(tmp_path):
    repo = make_repo(tmp_path)
    bundle = stage_bundle(repo, "demo", tmp_path / "bundle")
    assert [c.name for c in bundle.spec.casesets["affine"].cases] == ["small", "wide", "n1"]
    results = grade(bundle, tmp_path, LAYERS)
    assert all(r.ok for r in results.values()), {k: r.output for k, r in results.items()}

    wrong_db = LAYERS.replace("dout.sum(axis=0)", "dout.sum(axis=0) * 2")
    results = grade(bundle, tmp_path, wrong_db)
    assert results["forward"].ok and not results["backward"].ok
    assert "'db' differs from the reference" in results["backward"].output

    in_place = LAYERS.replace("return x @ w + b, (x, w)", "return x @ w + b, (x.copy(), w.copy())").replace(
        "    return dout @ w.T, x.T @ dout, dout.sum(axis=0)",
        "    grads = dout @ w.T, x.T @ dout, dout.sum(axis=0)\n    w[0, 0] += 1.0\n    return grads")
    results = grade(bundle, tmp_path, in_place)
    assert results["forward"].ok and results["backward"].ok
    assert not results["unchanged"].ok and "cache[1]" in results["unchanged"].output, results["unchanged"].output


def test_a_name_the_cases_lack_stops_the_build_naming_probe_and_step(tmp_path):
    repo = make_repo(tmp_path, SPEC.replace('affine_forward(x, w, b)"\n  bwd', 'affine_forward(x, W, b)"\n  bwd'))
    with pytest.raises(SpecError) as info:
        stage_bundle(repo, "demo", tmp_path / "bundle")
    assert "probes.fwd.steps[0]" in str(info.value) and "'W' is not bound by an earlier step" in str(info.value)
