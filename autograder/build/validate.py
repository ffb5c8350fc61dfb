"""Self-validation of a staged build: nothing is written unless these hold.

- the committed starter/ and student notebook are what solutions/ and notebook.py generate (and
  the notebook leaks no solution text);
- the reference solution scores full marks on the full bundle, every test present, and passes
  every advisory test (0 points, so the score alone would not show it);
- the untouched starter scores 0 on it (and on the starter's own self-check bundle) and passes no
  test, advisory ones included;
- the self-check bundle is exactly the full bundle's public part;
- every mutant of the catalog is caught by a hidden case, diagnosed with its own hint (and no
  other's), and fails only tests of the functions it declares.

`validate_assignment` runs them all, for `autograder build` (which stops at the first problem
and then writes the zips) and `autograder check` (which reports every problem, writing nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.authoring import notebooks
from autograder.authoring.starter import expected_starter, stale_files
from autograder.build.mutants import mutation_report
from autograder.build.stage import derive_public_bundle, stage_bundle
from autograder.core.errors import AutograderError, BuildError
from autograder.grading.grade import grade_files
from autograder.spec.bundle import Bundle

__all__ = ["validate_assignment", "Validation", "validate_reference", "validate_starter", "check_public_part",
           "mutant_problems"]


def validate_reference(bundle: Bundle, repo, name: str, visibilities):
    """Grade the reference solution with `bundle`; BuildError unless it scores full marks."""
    spec = bundle.spec
    solution = {f: repo.solution_dir(name) / f for f in spec.files}
    ref = grade_files(bundle, solution, visibilities)
    if ref.score < ref.max_score or len(ref.results) != len(spec.tests) or not all(r.passed for r in ref.results):
        bad = [f"  - {r.test.name}: {r.output.splitlines()[0] if r.output else ''}" for r in ref.results if not r.passed]
        raise BuildError(f"{name}: the reference solution scores {ref.score:g}/{ref.max_score:g}, not full marks; "
                         "it fails:\n" + "\n".join(bad))
    return ref


def validate_starter(bundle: Bundle, name: str, stub_dir: Path, visibilities):
    """Grade the untouched stubs with `bundle`; BuildError unless they score 0 with every test present
    and pass none (an advisory test the stubs pass checks nothing)."""
    spec = bundle.spec
    zero = grade_files(bundle, {f: stub_dir / f for f in spec.files}, visibilities)
    if zero.score != 0 or len(zero.results) != len(spec.tests) or any(r.passed for r in zero.results):
        bad = [f"  - {r.test.name}" for r in zero.results if r.score or r.passed]
        raise BuildError(f"{name}: the untouched starter scores {zero.score:g}, not 0. "
                         "Tests the stubs pass:\n" + "\n".join(bad))
    return zero


def check_public_part(public: Bundle, full: Bundle, name: str) -> None:
    """The starter's bundle grades public cases exactly as the full one does: the same test and
    case definitions, the same arrays, and nothing hidden. With the reference's full marks on the
    full bundle, this stands in for grading the reference a second time (training included)."""
    problems = []
    if public.visibilities() != ("public",):
        problems.append(f"it holds data files for {public.visibilities()}")
    full_raw = {t["id"]: t for t in json.loads((full.root / "assignment.json").read_text())["tests"]}
    pub_data = json.loads((public.root / "assignment.json").read_text())
    for raw, test in zip(pub_data["tests"], public.spec.tests):
        if test.visibility != "public" or full_raw.get(test.id) != raw:
            problems.append(f"test {test.id} differs from the full bundle's or is not public")
            continue
        for case in public.spec.casesets[test.cases].cases:
            if case.visibility != "public":
                problems.append(f"case {case.name} of {test.cases} is not public")
                continue
            for got, want in ((public.inputs(test.cases, case), full.inputs(test.cases, case)),
                              (public.expected(test.id, case), full.expected(test.id, case))):
                if got.keys() != want.keys() or any(
                        got[k].dtype != want[k].dtype or not np.array_equal(got[k], want[k], equal_nan=True)
                        for k in got):
                    problems.append(f"the data of test {test.id}, case {case.name} differ from the full bundle's")
    expected_ids = [t.id for t in full.spec.tests if t.visibility == "public"]
    if [t.id for t in public.spec.tests] != expected_ids:
        problems.append("its public tests are not those of the full bundle")
    if problems:
        raise BuildError(f"{name}: the starter's self-check bundle does not match the grader's: " + "; ".join(problems[:5]))


def mutant_problems(rows: list[dict]) -> list[str]:
    """What mutation_report's rows show to be wrong with the catalog or the cases, one line each."""
    out = []
    for r in rows:
        m = r["mutant"]
        if not r["caught"]:
            out.append(f"mutant '{m}' is not caught: it passes every hidden case (add a hidden case on which "
                       "its outputs differ from the reference's, or drop the mutant)")
            continue
        if not r["diagnosed"]:
            out.append(f"mutant '{m}' fails {', '.join(r['failing'])} but is not diagnosed: no failing test shows "
                       "its hint (its outputs differ from those recorded for it at build time)")
        if r["unrelated"]:
            out.append(f"mutant '{m}' also fails {', '.join(r['unrelated'])}, of functions its catalog entry does "
                       "not list (add them to its affects:)")
        if r["wrong_hints"]:
            out.append(f"mutant '{m}' also gets the hint of {', '.join(r['wrong_hints'])} (make the two mutants' "
                       "outputs differ on some case)")
    return out


@dataclass
class Validation:
    """What validating one assignment found: the problems (empty when it may be built) and, as far
    as it got, the staged bundles, the stubs and the grades."""
    name: str
    problems: list = field(default_factory=list)
    spec: object = None
    full: Bundle | None = None
    public: Bundle | None = None
    stubs: Path | None = None
    ref: object = None
    zero: object = None
    mutants: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line on what passed."""
        caught = len(self.mutants)
        return (f"reference {self.ref.score:g}/{self.ref.max_score:g} in {self.ref.elapsed:.1f} s; "
                f"starter {self.zero.score:g}/{self.zero.max_score:g}; {len(self.spec.tests)} tests; "
                f"{caught} mutant{'' if caught == 1 else 's'} caught and diagnosed")


class _Stop(Exception):
    pass


def validate_assignment(repo, name: str, work: Path, fail_fast: bool = True) -> Validation:
    """Run every self-validation of the build for `name`, staging into `work` (an empty folder the
    caller removes). With `fail_fast` (the build), the first problem is a BuildError; otherwise
    every problem found is listed in the result, and a step that needs a failed one is skipped.
    A problem in the spec or a case builder (SpecError and the like) is one problem, and the end."""
    v = Validation(name)
    prefix = f"{name}: "

    def problem(text: str, fatal: bool = False):
        text = text[len(prefix):] if text.startswith(prefix) else text
        if fail_fast:
            raise BuildError(prefix + text)
        v.problems.append(text)
        if fatal:
            raise _Stop

    def step(call, *args, fatal=False):
        try:
            return call(*args)
        except AutograderError as e:
            if fail_fast:
                raise  # the build's error as it always was (a SpecError stays one)
            problem(str(e), fatal)
            return None

    try:
        stale = step(stale_files, repo, name, fatal=True)
        if stale:
            problem(f"starter/ is stale ({'; '.join(stale)}); run 'autograder starter {name}'")
        nb = step(notebooks.problems, repo, name)
        if nb:
            problem(nb)
        v.spec = step(repo.spec, name, fatal=True)
        work = Path(work)
        v.full = step(stage_bundle, repo, name, work / "bundle", fatal=True)
        v.public = derive_public_bundle(v.full, work / "selfcheck")
        v.stubs = work / "stubs"
        v.stubs.mkdir()
        for fname, text in expected_starter(repo, name).items():
            (v.stubs / fname).write_text(text, encoding="utf-8")
        both = ("public", "hidden")
        v.ref = step(validate_reference, v.full, repo, name, both)
        v.zero = step(validate_starter, v.full, name, v.stubs, both)
        step(check_public_part, v.public, v.full, name)
        step(validate_starter, v.public, name, v.stubs, ("public",))
        v.mutants = step(mutation_report, repo, name, v.full) or []
        for text in mutant_problems(v.mutants):
            problem(text)
    except _Stop:
        pass
    return v
