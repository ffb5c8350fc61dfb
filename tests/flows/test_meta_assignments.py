"""Meta-tests over every assignment: structure, freshness, reference full marks, starter zero."""

import ast
import shutil
import subprocess
import sys

import pytest

from autograder.grading.grade import grade_files
from autograder.authoring.markers import find_blocks
from autograder.spec.repo import Repo
from autograder.authoring.starter import expected_starter, stale_files

from tests.helpers.paths import ROOT

NAMES = Repo(ROOT).names()


def test_the_three_assignments_exist():
    assert set(NAMES) >= {"rnn"}


@pytest.mark.parametrize("name", NAMES)
def test_starter_is_generated_from_the_solutions_and_current(repo, name):
    assert stale_files(repo, name) == []


@pytest.mark.parametrize("name", NAMES)
def test_every_graded_name_has_a_stub_tests_points_and_both_kinds_of_case(repo, name):
    spec = repo.spec(name)
    stubs = expected_starter(repo, name)
    graded = {t.target for t in spec.tests}
    for target in graded:
        module, obj = target.rsplit(".", 1)
        tree = ast.parse(stubs[f"{module}.py"])
        assert obj in {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}, target
        mine = [t for t in spec.tests if t.target == target]
        assert sum(t.points for t in mine) > 0, target
        assert any(t.visibility == "public" for t in mine), f"{target} has no public test"
        visibilities = {c.visibility for t in mine for c in spec.casesets[t.cases].cases}
        assert visibilities == {"public", "hidden"}, target
    # every function with a solution block is graded by some test
    for fname in spec.files:
        text = (repo.solution_dir(name) / fname).read_text()
        marked = {block[3] for block in find_blocks(text)}
        tree = ast.parse(text)
        top = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        methods = {m.name: n.name for n in tree.body if isinstance(n, ast.ClassDef)
                   for m in n.body if isinstance(m, ast.FunctionDef)}
        for fn in marked:
            owner = fn if fn in top else methods.get(fn)
            if owner and not owner.startswith("_"):
                assert f"{fname[:-3]}.{owner}" in graded, f"{fname}:{fn} has a solution but no test"


@pytest.mark.parametrize("name", NAMES)
def test_hidden_cases_differ_from_public_ones_in_shape(repo, name):
    spec = repo.spec(name)
    for cs in spec.casesets.values():
        public = [c.params for c in cs.select(("public",))]
        hidden = [c.params for c in cs.select(("hidden",))]
        assert hidden, cs.name
        for params in hidden:
            assert params not in public, f"hidden case of {cs.name} repeats a public one"
        assert len({c.seed for c in cs.cases}) == len(cs.cases)


@pytest.mark.parametrize("name", NAMES)
def test_reference_scores_full_and_starter_zero_with_every_test_present(repo, bundles, name, tmp_path):
    bundle = bundles(name)
    spec = bundle.spec
    solution = {f: repo.solution_dir(name) / f for f in spec.files}
    full = grade_files(bundle, solution)
    assert [r.test.id for r in full.results] == [t.id for t in spec.tests]
    assert [r.test.name for r in full.results if not r.passed] == []  # advisory tests included
    assert full.score == spec.max_score == sum(t.points for t in spec.tests if not t.advisory) > 0
    entries = full.to_gradescope()["tests"]
    advisory = [e for e, t in zip(entries, spec.tests) if t.advisory]
    assert all(e["max_score"] == 0 and e["status"] == "passed" for e in advisory)
    for fname, text in expected_starter(repo, name).items():
        (tmp_path / fname).write_text(text)
    zero = grade_files(bundle, {f: tmp_path / f for f in spec.files})
    assert [r.test.id for r in zero.results] == [t.id for t in spec.tests]
    assert zero.score == 0
    assert [r.test.name for r in zero.results if r.passed] == []  # an advisory test the stubs pass checks nothing
    assert all("not implemented yet" in r.output for r in zero.results)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in NAMES if Repo(ROOT).spec(n).local_checks])
def test_the_local_checks_pass_for_the_reference_and_fail_for_the_starter(repo, name, tmp_path):
    """The pytest files the starter ships for students to run themselves (the full training runs),
    in a folder laid out as the unzipped starter: they pass with the reference solution and fail,
    naming what is not implemented, with the untouched stubs."""
    spec = repo.spec(name)
    stubs = expected_starter(repo, name)
    for which in ("reference", "starter"):
        work = tmp_path / which
        work.mkdir()
        for fname in spec.files:
            if which == "reference":
                shutil.copyfile(repo.solution_dir(name) / fname, work / fname)
            else:
                (work / fname).write_text(stubs[fname])
        for fname in spec.support + spec.local_checks:
            shutil.copyfile(repo.assignment_dir(name) / fname, work / fname)
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *spec.local_checks],
                             cwd=work, capture_output=True, text=True, timeout=600)
        if which == "reference":
            assert run.returncode == 0, run.stdout[-3000:]
            assert " passed" in run.stdout and "failed" not in run.stdout
        else:
            assert run.returncode == 1, run.stdout[-3000:]
            assert "NotImplementedError" in run.stdout and " passed" not in run.stdout
