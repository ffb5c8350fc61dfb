"""Staging a bundle: every case's inputs from its named seed, the reference's outputs recorded by
running solutions/ in the same sandbox as students, each catalogued mutant's outputs where they
differ, and the spec as the bundle stores it. Also the starter's public part of a bundle."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from autograder.build.cases import build_inputs, load_module_from
from autograder.build.mutants import apply_mutant, load_catalog
from autograder.core.arrays import write_file
from autograder.core.errors import BuildError
from autograder.grading.checks import CaseContext, describe_failure, diagnosable
from autograder.grading.diagnosis import diagnose
from autograder.grading.grade import prepare_workdir, preload
from autograder.sandbox.parent import Child, ChildJob
from autograder.spec.bundle import GRADESCOPE_ONLY, Bundle, input_key, key_case, mutant_key, output_key
from autograder.spec.declared import check_inputs, for_test

__all__ = ["stage_bundle", "derive_public_bundle"]


def _keep_cases(caseset: dict, visibilities) -> None:
    """Drop from a case set's raw spec the cases of the other visibilities (and, without hidden
    cases, its `edges:`, which would add hidden cases again)."""
    for vis in ("public", "hidden"):
        if vis not in visibilities:
            caseset.pop(vis, None)
    if "hidden" not in visibilities:
        caseset.pop("edges", None)


def _bundle_spec_dict(spec, visibilities) -> dict:
    """The spec as a bundle stores it: ids fixed, only the chosen visibilities' tests and cases."""
    raw = json.loads(json.dumps(spec.raw))
    cases = raw["cases"]
    for cs in cases.values():
        _keep_cases(cs, visibilities)
    tests = []
    for test, raw_test in zip(spec.tests, raw["tests"]):
        if "hidden" in visibilities or test.visibility == "public":
            tests.append(dict(raw_test, id=test.id))
    raw["tests"] = tests
    return raw


def _record(bundle_dir: Path, spec, inputs: dict, files: dict, visibilities, tests=None, strict=True) -> dict:
    """Run the probes of `tests` (default: all) on `files`; return the outputs keyed as in a bundle.

    With `strict`, a failing call is a BuildError (the reference must work); otherwise that case
    is left out (a mutant may crash, and a crash is not matched by outputs).
    """
    probes_path = bundle_dir / "probes.py"
    workdir = Path(prepare_workdir(files, bundle_dir / "support"))
    out = {}
    try:
        for test in spec.tests if tests is None else tests:
            job = ChildJob(str(workdir), str(probes_path), (test.module,), test.limits, test.timeout * 5, test.banned,
                           declared=for_test(spec, test))
            child = Child(job)
            try:
                for case in spec.casesets[test.cases].select(visibilities):
                    case_inputs = {k.rsplit("/", 1)[1]: v.copy() for k, v in inputs.items()
                                   if k.startswith(input_key(test.cases, case.name))}
                    ctx = CaseContext(child, test, case, case_inputs, {}, time.monotonic() + test.timeout * 5)
                    reply = ctx.call(test.probe, return_inputs=test.check_kind.returns_inputs)
                    if reply.failure and strict:
                        raise BuildError(f"{spec.name}: the reference fails test '{test.name}' on the "
                                         f"{case.describe()}: {describe_failure(reply, test)}\n{child.printed()}")
                    got = diagnosable(ctx)
                    if strict:
                        _check_named_outputs(spec, test, case, got)
                    for name, arr in (got or {}).items():
                        out[output_key(test.id, case.name, name)] = arr
                    if child.dead:  # a later case needs a live child
                        child.close()
                        child = Child(job)
            finally:
                child.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def _check_named_outputs(spec, test, case, got: dict) -> None:
    """What a test names (`outputs:`, `trajectory:`) must be among the reference's outputs: a name
    without a reference value would compare nothing, and a property test would pass on its judge."""
    missing = [k for k in test.outputs if k not in got]
    if missing:
        raise BuildError(f"{spec.name}: test '{test.name}' names the output(s) {', '.join(missing)}, which the "
                         f"reference's probe {test.probe} does not return on the {case.describe()} "
                         f"(it returns {', '.join(sorted(got)) or 'nothing'})")
    steps = got.get(test.trajectory) if test.trajectory else None
    if test.trajectory and (steps is None or steps.ndim != 1 or steps.dtype.kind != "f" or len(steps) < 2):
        raise BuildError(f"{spec.name}: test '{test.name}': the trajectory '{test.trajectory}' must be a 1-d "
                         f"float array of at least two steps; the reference returned "
                         f"{'nothing' if steps is None else f'{steps.dtype} of shape {steps.shape}'}")


def _record_mutants(bundle_dir, spec, inputs, expected, repo, name, visibilities) -> tuple[dict, dict]:
    """Outputs of each catalogued mutant where they differ from the reference, and the hints."""
    catalog = load_catalog(repo.assignment_dir(name) / "mutants.yaml", spec, repo.solution_dir(name))
    arrays, hints = {}, {}
    with tempfile.TemporaryDirectory(prefix="autograder-mutants-") as tmp:
        for mutant in catalog:
            files = apply_mutant(mutant, repo.solution_dir(name), Path(tmp) / mutant.name, spec.files)
            tests = [t for t in spec.tests if t.graded in mutant.graded and t.diagnose]
            got = _record(bundle_dir, spec, inputs, files, visibilities, tests, strict=False)
            for test in tests:
                for case in spec.casesets[test.cases].select(visibilities):
                    prefix = output_key(test.id, case.name)
                    mine = {k[len(prefix):]: v for k, v in got.items() if k.startswith(prefix)}
                    ref = {k[len(prefix):]: v for k, v in expected.items() if k.startswith(prefix)}
                    if mine and diagnose(test, mine, {"reference": ref}) == []:
                        for out_name, arr in mine.items():
                            arrays[mutant_key(mutant.name, test.id, case.name, out_name)] = arr
            hints[mutant.name] = {"function": mutant.function, "hint": mutant.hint}
    return arrays, hints


def stage_bundle(repo, name: str, dest: Path, visibilities=("public", "hidden")) -> Bundle:
    """Write a complete bundle for `name` into `dest` (created fresh)."""
    dest = Path(dest).resolve()
    spec = repo.spec(name)
    adir = repo.assignment_dir(name)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if (adir / "probes.py").is_file():
        shutil.copyfile(adir / "probes.py", dest / "probes.py")
    else:  # every probe is declared in assignment.yaml; the child still loads a probes.py
        (dest / "probes.py").write_text('"""No Python probes: they are all declared in assignment.yaml."""\n')
    if (adir / "verify.py").is_file():
        shutil.copyfile(adir / "verify.py", dest / "verify.py")
    if spec.support:
        (dest / "support").mkdir()
        for f in spec.support:
            shutil.copyfile(adir / f, dest / "support" / f)
    cases_module = load_module_from(adir / "cases.py", f"_autograder_cases_{name}")
    inputs = build_inputs(spec, cases_module, str(adir / "cases.py"), visibilities)
    check_inputs(spec, inputs)
    preload(spec)
    solution = {f: repo.solution_dir(name) / f for f in spec.files}
    expected = _record(dest, spec, inputs, solution, visibilities)
    mutant_arrays, hints = _record_mutants(dest, spec, inputs, expected, repo, name, visibilities)
    if hints:
        (dest / "mutants.json").write_text(json.dumps(hints, indent=1, sort_keys=True) + "\n")
    # Key order as written in assignment.yaml (deterministic), so case parameters read naturally.
    (dest / "assignment.json").write_text(json.dumps(_bundle_spec_dict(spec, visibilities), indent=1) + "\n")
    for vis in visibilities:
        mine = {k: v for k, v in {**inputs, **expected, **mutant_arrays}.items() if _visibility_of(k, spec) == vis}
        write_file(dest / f"{vis}.arrays", mine)
    return Bundle(dest)


def derive_public_bundle(full: Bundle, dest: Path) -> Bundle:
    """The starter's bundle: the full bundle without hidden tests, hidden cases or hidden data."""
    shutil.copytree(full.root, dest, ignore=shutil.ignore_patterns("hidden.arrays", "assignment.json", "__pycache__"))
    data = json.loads((full.root / "assignment.json").read_text())
    for cs in data["cases"].values():
        _keep_cases(cs, ("public",))
    data["tests"] = [t for t, test in zip(data["tests"], full.spec.tests) if test.visibility == "public"]
    (dest / "assignment.json").write_text(json.dumps(data, indent=1) + "\n")
    # What the self-check cannot run, by title and points, for its summary (no data, no cases).
    only = {"tests": [[t.name, t.points] for t in full.spec.tests if t.visibility == "hidden"]}
    (dest / GRADESCOPE_ONLY).write_text(json.dumps(only, indent=1) + "\n")
    return Bundle(dest)


def _visibility_of(key: str, spec) -> str:
    kind, first, case = key_case(key)
    if kind == "in":
        cs = spec.casesets[first]
    else:
        cs = spec.casesets[spec.test(first).cases]
    return next(c.visibility for c in cs.cases if c.name == case)
