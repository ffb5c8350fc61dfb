"""Mutant catalogs: the mistakes students make, as small named edits of the reference.

`assignments/NAME/mutants.yaml` lists mutants:

    - name: lstm_gate_order
      file: rnn_layers.py
      function: lstm_step_forward        # where the bug is
      affects: [lstm_forward, ...]       # graded names that may fail through it (besides `function`)
      old: "i, f, o, g = ..."             # text of the reference, found exactly once in `file`
      new: "f, i, o, g = ..."
      hint: "what the symptom means and where to look"

At build time each mutant's outputs are recorded on the same cases as the reference, for the tests
of the functions it affects. At grading time, a failing test whose outputs match a mutant's (within
the test's tolerance, on every output) gets that mutant's hint. A correct submission never fails,
and an unrelated bug does not match, so neither gets a hint.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder.grading.diagnosis import ERROR_KEY, error_signature  # noqa: F401 (mutant outputs use the same signature)
from autograder.core.errors import SpecError
from autograder.core.fields import REQUIRED, Reader, key, table
from autograder.grading.grade import grade_files

__all__ = ["Mutant", "load_catalog", "apply_mutant", "mutation_report", "MUTANT_FIELDS"]


@dataclass(frozen=True, kw_only=True)
class Mutant:
    """One entry of mutants.yaml: a named edit of the reference."""

    name: str = key("name", REQUIRED, "unique name of the mistake")
    file: str = key("str", REQUIRED, "submitted file the edit applies to")
    function: str = key("name", REQUIRED, "graded function or class where the mistake is")
    affects: tuple = key("names", [], "other graded names whose tests may fail through this mistake")
    old: str = key("str", REQUIRED, "reference text, found exactly once in the file")
    new: str = key("str", "", "what replaces it")
    hint: str = key("str", REQUIRED, "what a good teaching assistant would say: the symptom and where to look")

    @property
    def graded(self) -> set:
        return {self.function, *self.affects}


MUTANT_FIELDS = table(Mutant)


def load_catalog(path: Path, spec, solution_dir: Path | None = None) -> list[Mutant]:
    """Read and check mutants.yaml; every error names the file and the entry."""
    if not path.is_file():
        return []
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise SpecError(f"{path}: {where}not valid YAML: {getattr(e, 'problem', e)}") from None
    r = Reader(str(path))
    if not isinstance(data, list):
        r.fail("", "expected a list of mutants")
    graded = {t.graded for t in spec.tests}
    out, names = [], set()
    for i, raw in enumerate(data):
        m = r.mapping(raw, MUTANT_FIELDS, f"[{i}]")
        if m["name"] in names:
            r.fail(f"[{i}].name", f"mutant '{m['name']}' appears twice")
        names.add(m["name"])
        if m["file"] not in spec.files:
            r.fail(f"[{i}].file", f"'{m['file']}' is not a submitted file ({', '.join(spec.files)})")
        for j, g in enumerate([m["function"], *m["affects"]]):
            if g not in graded:
                r.fail(f"[{i}].{'function' if j == 0 else 'affects'}", f"'{g}' is not graded by any test")
        mutant = Mutant(**dict(m, affects=tuple(m["affects"])))
        if solution_dir is not None:
            count = (solution_dir / mutant.file).read_text(encoding="utf-8").count(mutant.old)
            if count != 1:
                r.fail(f"[{i}].old", f"found {count} times in solutions/{solution_dir.name}/{mutant.file}; "
                                     "it must appear exactly once")
        out.append(mutant)
    return out


def apply_mutant(mutant: Mutant, solution_dir: Path, dest: Path, files) -> dict:
    """Copy the solution's files to `dest` with the mutant's edit; return name -> path."""
    dest.mkdir(parents=True, exist_ok=True)
    out = {}
    for f in files:
        shutil.copyfile(solution_dir / f, dest / f)
        out[f] = dest / f
    target = dest / mutant.file
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace(mutant.old, mutant.new, 1), encoding="utf-8")
    return out


def mutation_report(repo, name: str, bundle, log=None) -> list[dict]:
    """Grade every mutant of the catalog with `bundle`: caught by hidden cases (an advisory test
    counts: it is reported failed)? points lost? unrelated tests still passing? diagnosed with its
    own hint? One row per mutant."""
    import tempfile


    spec = bundle.spec
    catalog = load_catalog(repo.assignment_dir(name) / "mutants.yaml", spec, repo.solution_dir(name))
    rows = []
    with tempfile.TemporaryDirectory(prefix="autograder-mutation-") as tmp:
        for mutant in catalog:
            files = apply_mutant(mutant, repo.solution_dir(name), Path(tmp) / mutant.name, spec.files)
            report = grade_files(bundle, files, ("hidden",), log=log,
                                 tests={t.id for t in spec.tests if t.diagnose})
            failing = [r for r in report.results if not r.passed]
            hint_line = f"Diagnosis: {mutant.hint}"
            other_hints = [m for m in catalog if m.name != mutant.name
                           and any(f"Diagnosis: {m.hint}" in r.output for r in failing)]
            rows.append({
                "mutant": mutant.name,
                "function": mutant.function,
                "caught": bool(failing),
                "failing": [r.test.name for r in failing],
                "unrelated": [r.test.name for r in failing if r.test.graded not in mutant.graded],
                "diagnosed": any(hint_line in r.output for r in failing),
                "points_lost": sum(r.max_score - min(max(r.score, 0.0), r.max_score) for r in report.results),
                "wrong_hints": [m.name for m in other_hints],
            })
    return rows
