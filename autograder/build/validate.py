"""Self-validation of a staged build: nothing is written unless these hold.

- the reference solution scores full marks on the full bundle, every test present, and passes
  every advisory test (0 points, so the score alone would not show it);
- the untouched starter scores 0 on it (and on the starter's own self-check bundle) and passes no
  test, advisory ones included;
- the self-check bundle is exactly the full bundle's public part.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from autograder.spec.bundle import Bundle
from autograder.core.errors import BuildError
from autograder.grading.grade import grade_files

__all__ = ["validate_reference", "validate_starter", "check_public_part"]


def validate_reference(bundle: Bundle, repo, name: str, visibilities):
    """Grade the reference solution with `bundle`; BuildError unless it scores full marks."""
    spec = bundle.spec
    solution = {f: repo.solution_dir(name) / f for f in spec.files}
    ref = grade_files(bundle, solution, visibilities)
    if ref.score < ref.max_score or len(ref.results) != len(spec.tests) or not all(r.passed for r in ref.results):
        bad = [f"  - {r.test.name}: {r.output.splitlines()[0] if r.output else ''}" for r in ref.results if not r.passed]
        raise BuildError(f"{name}: the reference solution scores {ref.score:g}/{ref.max_score:g}, not full marks; "
                         "refusing to write zips:\n" + "\n".join(bad))
    return ref


def validate_starter(bundle: Bundle, name: str, stub_dir: Path, visibilities):
    """Grade the untouched stubs with `bundle`; BuildError unless they score 0 with every test present
    and pass none (an advisory test the stubs pass checks nothing)."""
    spec = bundle.spec
    zero = grade_files(bundle, {f: stub_dir / f for f in spec.files}, visibilities)
    if zero.score != 0 or len(zero.results) != len(spec.tests) or any(r.passed for r in zero.results):
        bad = [f"  - {r.test.name}" for r in zero.results if r.score or r.passed]
        raise BuildError(f"{name}: the untouched starter scores {zero.score:g}, not 0; refusing to write zips. "
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
