"""`autograder build`: stage a bundle, compute reference outputs, self-validate, write the zips.

Steps for one assignment:
 1. load and check the spec against the solution (names read from the source, never imported);
 2. build every case's inputs from its named seed;
 3. run the reference solution through the same sandbox as students, recording its outputs;
 4. validate (build/validate.py, shared with `autograder check`): starter/ and the notebook
    current, the reference full marks and the untouched starter 0 (every test present) on the
    staged bundle, the starter's public bundle the full one's public part (and 0 on it too),
    every mutant caught and diagnosed; refuse to write anything otherwise;
 5. write NAME-autograder.zip (engine, bundle with hidden data, setup.sh, run_autograder; no
    solution source) and NAME-starter.zip (stubs, public data, self-check, README).
"""

from __future__ import annotations

import tempfile
import textwrap
import time
from pathlib import Path

from autograder.authoring.notebooks import starter_entries as notebook_starter_entries
from autograder.build.cache import ENGINE_DIR
from autograder.build.processes import run_each, torch_first
from autograder.build.validate import validate_assignment
from autograder.core.errors import AutograderError, BuildError
from autograder.core.zipio import tree_entries, write_zip
from autograder.grading.results import cannot_start_results
from autograder.spec.policy import describe_policy

__all__ = ["build_assignment", "build_many", "build_assignments", "engine_files", "setup_script",
           "ENGINE_DIR", "PINS", "CPU_INDEX"]

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


# The templates of `autograder new` hold example reference solutions: no zip ships them.
_NOT_SHIPPED = ("autograder/templates/new/",)


def engine_files() -> dict[str, Path]:
    return {k: v for k, v in tree_entries(ENGINE_DIR, "autograder").items() if not k.startswith(_NOT_SHIPPED)}


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
    with tempfile.TemporaryDirectory(prefix=f"autograder-build-{name}-") as tmp:
        tmp = Path(tmp)
        try:
            checked = validate_assignment(repo, name, tmp, fail_fast=True)  # a BuildError at the first problem
        except BuildError as e:
            raise BuildError(f"{e}\n(no zips written)") from None
        spec, stubs = checked.spec, checked.stubs
        log(f"{name}: {checked.summary()}")

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
    (build/processes.py), torch assignments first. Returns the names whose build failed; each
    failed build has printed its own reason."""
    out = str(Path(out_dir).resolve())
    failed = run_each(repo, torch_first(repo, names), lambda name: ["build", name, "--out", out], jobs)
    if failed:
        log(f"build failed for: {', '.join(failed)} (see the messages above)")
    return failed


def build_assignments(repo, names: list[str], out_dir, jobs: int | None = None) -> list[str]:
    """`autograder build`: every assignment of `names` (all of the repository's when empty), in
    this process when there is one (or `jobs` is 1), else `jobs` at a time (default: the CPUs).
    Returns the names whose build failed."""
    import os

    names = list(names) or repo.names()
    for name in names:
        repo.assignment_dir(name)  # an unknown name is an error before anything starts
    if jobs is not None and jobs < 1:
        raise AutograderError(f"--jobs {jobs}: give at least 1")
    out_dir = Path(out_dir)
    jobs = jobs or min(len(names), os.cpu_count() or 1)
    if jobs == 1 or len(names) == 1:
        for name in names:
            build_assignment(repo, name, out_dir)
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    return build_many(repo, names, out_dir, jobs)
