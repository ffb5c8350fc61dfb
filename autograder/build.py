"""`autograder build`: stage a bundle, compute reference outputs, self-validate, write the zips.

Steps for one assignment:
 1. load and check the spec against the solution (names read from the source, never imported);
 2. build every case's inputs from its named seed;
 3. run the reference solution through the same sandbox as students, recording its outputs;
 4. grade the reference (must be full marks) and the untouched starter (must be 0, every test
    present) with the staged bundle; check that the starter's public bundle is the full one's
    public part (same tests, cases and arrays) and that the starter scores 0 on it too; refuse
    to write anything otherwise;
 5. write NAME-autograder.zip (engine, bundle with hidden data, setup.sh, run_autograder; no
    solution source) and NAME-starter.zip (stubs, public data, self-check, README).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import textwrap
import time
from pathlib import Path

from .arrays import write_file
from .bundle import GRADESCOPE_ONLY, Bundle, output_key
from .cases import build_inputs, load_module_from
from .checks import CaseContext, describe_failure, diagnosable
from .errors import BuildError
from .grade import prepare_workdir, preload
from .mutants import apply_mutant, diagnose, load_catalog
from .results import cannot_start_results
from .notebooks import starter_entries as notebook_starter_entries
from .policy import describe_policy
from .sandbox import Child, ChildJob
from .starter import expected_starter, stale_files
from .validate import check_public_part, validate_reference, validate_starter
from .zipio import tree_entries, write_zip

__all__ = ["stage_bundle", "build_assignment", "build_many", "cached_bundle", "engine_files", "setup_script",
           "ENGINE_DIR", "PINS", "CPU_INDEX"]

ENGINE_DIR = Path(__file__).resolve().parent
TEMPLATES = ENGINE_DIR / "templates"
_SUPPORTED_PYTHON = "3.10"
# Versions setup.sh installs on Gradescope's Ubuntu 22.04 image (system Python 3.10).
PINS = {"numpy": ["numpy==2.2.6"], "torch": ["numpy==2.2.6", "torch==2.13.0"]}
# PyTorch's CPU-only wheels (no CUDA libraries): setup.sh takes torch from here first.
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def setup_script(framework: str) -> str:
    """setup.sh of a grader zip. For torch, torch itself comes first from PyTorch's CPU-only index
    (no CUDA libraries; Gradescope has no GPU); the pinned install that follows then finds it
    installed (`torch==X` is met by `X+cpu`) and adds only its dependencies. If that index cannot
    be reached, a log line says so and the pinned install takes torch from the default index."""
    torch_first = ""
    pin = next((p for p in PINS[framework] if p.startswith("torch==")), None)
    if pin:
        torch_first = (
            f"# torch {pin.split('==')[1]} from PyTorch's CPU-only wheels ({CPU_INDEX}); on failure, the default index.\n"
            f"if ! $PIP --no-deps --index-url {CPU_INDEX} {pin}; then\n"
            f"    echo \"setup.sh: could not install {pin} from PyTorch's CPU-only index {CPU_INDEX};"
            f" falling back to the default index, whose torch wheel pulls in the CUDA libraries"
            f" (several GB more)\" >&2\n"
            "fi\n")
    return _render("setup.sh", requirements=" ".join(PINS[framework]), python=_SUPPORTED_PYTHON,
                   torch_first=torch_first)


def engine_files() -> dict[str, Path]:
    return {k: v for k, v in tree_entries(ENGINE_DIR, "autograder").items()}


def _bundle_spec_dict(spec, visibilities) -> dict:
    """The spec as a bundle stores it: ids fixed, only the chosen visibilities' tests and cases."""
    raw = json.loads(json.dumps(spec.raw))
    cases = raw["cases"]
    for cs in cases.values():
        for vis in ("public", "hidden"):
            if vis not in visibilities:
                cs.pop(vis, None)
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
            job = ChildJob(str(workdir), str(probes_path), (test.module,), test.limits, test.timeout * 5, test.banned)
            child = Child(job)
            try:
                for case in spec.casesets[test.cases].select(visibilities):
                    case_inputs = {k.rsplit("/", 1)[1]: v.copy() for k, v in inputs.items()
                                   if k.startswith(f"in/{test.cases}/{case.name}/")}
                    ctx = CaseContext(child, test, case, case_inputs, {}, time.monotonic() + test.timeout * 5)
                    reply = ctx.call(test.probe, return_inputs=test.kind == "unchanged")
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
                            arrays[f"mut/{mutant.name}/{test.id}/{case.name}/{out_name}"] = arr
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
    shutil.copyfile(adir / "probes.py", dest / "probes.py")
    if (adir / "verify.py").is_file():
        shutil.copyfile(adir / "verify.py", dest / "verify.py")
    if spec.support:
        (dest / "support").mkdir()
        for f in spec.support:
            shutil.copyfile(adir / f, dest / "support" / f)
    cases_module = load_module_from(adir / "cases.py", f"_autograder_cases_{name}")
    inputs = build_inputs(spec, cases_module, str(adir / "cases.py"), visibilities)
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
        cs.pop("hidden", None)
    data["tests"] = [t for t, test in zip(data["tests"], full.spec.tests) if test.visibility == "public"]
    (dest / "assignment.json").write_text(json.dumps(data, indent=1) + "\n")
    # What the self-check cannot run, by title and points, for its summary (no data, no cases).
    only = {"tests": [[t.name, t.points] for t in full.spec.tests if t.visibility == "hidden"]}
    (dest / GRADESCOPE_ONLY).write_text(json.dumps(only, indent=1) + "\n")
    return Bundle(dest)


def _visibility_of(key: str, spec) -> str:
    parts = key.split("/")
    if parts[0] == "mut":  # mut/<mutant>/<test>/<case>/<output>
        parts = ["out", *parts[2:]]
    kind, first, case = parts[:3]
    if kind == "in":
        cs = spec.casesets[first]
    else:
        cs = spec.casesets[spec.test(first).cases]
    return next(c.visibility for c in cs.cases if c.name == case)


def _content_hash(repo, name: str) -> str:
    h = hashlib.sha256()
    for folder in (repo.assignment_dir(name), repo.solution_dir(name), ENGINE_DIR):
        for arc, path in sorted(tree_entries(folder).items()):
            h.update(arc.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cached_bundle(repo, name: str) -> Bundle:
    """A full bundle for local grading, rebuilt only when the assignment, solution or engine changed.

    Safe when several processes ask at once: each stages into its own folder and the first rename
    wins; older versions are removed only after a new one is in place.
    """
    cache = repo.root / ".cache" / "bundles"
    dest = cache / f"{name}-{_content_hash(repo, name)}"
    if not (dest / "assignment.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-staging-", dir=cache))
        try:
            stage_bundle(repo, name, tmp / "bundle")
            try:
                (tmp / "bundle").rename(dest)
            except OSError:  # another process finished first
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in cache.glob(f"{name}-*"):
            if old != dest:
                shutil.rmtree(old, ignore_errors=True)
    return Bundle(dest)


def _render(template: str, **values) -> str:
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    return text


def _student_readme(spec) -> str:
    rows = [f"| `{graded}` | {pub:g} | {hid:g} |" for graded, (pub, hid) in _points_by_target(spec).items()]
    policy = describe_policy(spec.policy)
    advisory = [t for t in spec.tests if t.advisory]
    notes = []
    if advisory:
        notes.append(f"{len(advisory)} more check(s) are advisory (for example, that a function leaves the "
                     "arrays it was given unchanged): they are reported passed or failed, but carry no points.")
    if policy:
        notes.append(policy)
    local = ""
    if spec.local_checks:
        local = (f"\n`pytest` also runs {', '.join(f'`{f}`' for f in spec.local_checks)}: longer checks for your\n"
                 "own machine (such as a full training run), not part of your grade.\n")
    return _render("STUDENT_README.md", title=spec.title, name=spec.name,
                   files=", ".join(f"`{f}`" for f in spec.files), points_table="\n".join(rows),
                   total=f"{spec.max_score:g}", local_checks=local,
                   notes="".join(f"\n{textwrap.fill(p, 96)}\n" for n in notes for p in n.split("\n\n")))


def _points_by_target(spec) -> dict:
    """Graded name -> [public points, hidden points]."""
    out = {}
    for t in spec.tests:
        pair = out.setdefault(t.graded, [0.0, 0.0])
        pair[0 if t.visibility == "public" else 1] += t.points
    return out


def build_assignment(repo, name: str, out_dir: Path, log=print) -> tuple[Path, Path]:
    """Build, self-validate and write both zips; return their paths."""
    start = time.monotonic()
    stale = stale_files(repo, name)
    if stale:
        raise BuildError(f"{name}: starter/ is stale ({'; '.join(stale)}); run 'autograder starter {name}'")
    spec = repo.spec(name)
    with tempfile.TemporaryDirectory(prefix=f"autograder-build-{name}-") as tmp:
        tmp = Path(tmp)
        full = stage_bundle(repo, name, tmp / "bundle")
        public = derive_public_bundle(full, tmp / "selfcheck")
        stubs = tmp / "stubs"
        stubs.mkdir()
        for fname, text in expected_starter(repo, name).items():
            (stubs / fname).write_text(text, encoding="utf-8")
        ref = validate_reference(full, repo, name, ("public", "hidden"))
        zero = validate_starter(full, name, stubs, ("public", "hidden"))
        check_public_part(public, full, name)
        validate_starter(public, name, stubs, ("public",))
        log(f"{name}: reference {ref.score:g}/{ref.max_score:g} in {ref.elapsed:.1f} s; "
            f"starter {zero.score:g}/{zero.max_score:g}; {len(spec.tests)} tests")

        grader = dict(engine_files())
        grader.update(tree_entries(tmp / "bundle", "bundle"))
        grader["setup.sh"] = setup_script(spec.framework).encode()
        grader["run_autograder"] = _render("run_autograder").encode()
        grader["requirements.txt"] = ("\n".join(PINS[spec.framework]) + "\n").encode()
        grader["fallback_results.json"] = cannot_start_results(spec)
        grader_zip = out_dir / f"{name}-autograder.zip"
        write_zip(grader_zip, grader, executables=("setup.sh", "run_autograder"))

        starter = dict(engine_files())
        starter.update(tree_entries(tmp / "selfcheck", "selfcheck"))
        for fname in spec.files:
            starter[fname] = stubs / fname
        for fname in spec.support + spec.local_checks:
            starter[fname] = repo.assignment_dir(name) / fname
        starter["conftest.py"] = _render("conftest.py.tmpl").encode()
        starter["test_selfcheck.py"] = _render("test_selfcheck.py.tmpl").encode()
        starter["README.md"] = _student_readme(spec).encode()
        starter.update(notebook_starter_entries(repo, name, starter["README.md"]))  # NAME.ipynb, README section
        starter_zip = out_dir / f"{name}-starter.zip"
        write_zip(starter_zip, starter)
    log(f"{name}: wrote {grader_zip} and {starter_zip} ({time.monotonic() - start:.1f} s)")
    return grader_zip, starter_zip


def build_many(repo, names: list[str], out_dir: Path, jobs: int, log=print) -> list[str]:
    """Build several assignments, `jobs` at a time, each in its own `autograder build NAME` process
    (a fresh interpreter: one assignment's imports and children never touch another's). Torch
    assignments start first, as they take longest. Returns the names whose build failed; each
    failed build has printed its own reason."""
    import os
    import subprocess
    import sys

    order = sorted(names, key=lambda n: repo.spec(n).framework != "torch")
    env = dict(os.environ, AUTOGRADER_REPO=str(repo.root))
    running, failed = {}, []
    while order or running:
        while order and len(running) < jobs:
            name = order.pop(0)
            cmd = [sys.executable, "-m", "autograder", "build", name, "--out", str(Path(out_dir).resolve())]
            running[name] = subprocess.Popen(cmd, cwd=repo.root, env=env)
        for name, proc in list(running.items()):
            if proc.poll() is not None:
                del running[name]
                if proc.returncode != 0:
                    failed.append(name)
        time.sleep(0.05)
    failed.sort()
    if failed:
        log(f"build failed for: {', '.join(failed)} (see the messages above)")
    return failed
