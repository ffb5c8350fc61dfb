"""`check("rnn_step_forward")` in a notebook: the public checks of one function, one line each.

The checks run through the grading engine (each test in a sandboxed child, on the public cases of
the `selfcheck/` bundle next to the notebook), on the files as they are saved on disk, exactly as
`pytest` in the starter folder runs them. Set AUTOGRADER_NOTEBOOK_STRICT=1 to turn a failure or an
unknown name into an exception (CI runs the notebooks that way against the reference solutions).
"""

from __future__ import annotations

import os
from pathlib import Path

from autograder.spec.bundle import Bundle
from autograder.grading.grade import grade_files

__all__ = ["check", "STRICT_ENV"]

STRICT_ENV = "AUTOGRADER_NOTEBOOK_STRICT"
_BUNDLE_DIR = "selfcheck"


def _problem(message: str) -> None:
    if os.environ.get(STRICT_ENV) == "1":
        raise AssertionError(message)
    print(message)


def check(*names: str, folder=None) -> None:
    """Run the public tests of each graded function or class in `names`; print PASS/FAIL per test.

    `folder` is the starter folder (default: the current directory, where Jupyter starts a
    notebook). Returns nothing, so that a check cell shows only its lines (no stray True/False).
    """
    folder = Path(folder or Path.cwd()).resolve()
    if not (folder / _BUNDLE_DIR / "assignment.json").is_file():
        return _problem(f"No {_BUNDLE_DIR}/ folder in {folder}: run this notebook from the unzipped starter "
                        "folder (the one that holds README.md and selfcheck/).")
    bundle = Bundle(folder / _BUNDLE_DIR)
    spec = bundle.spec
    public = [t for t in spec.tests if t.visibility == "public"]
    known = list(dict.fromkeys(t.graded for t in public))
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        return _problem(f"No public check for {', '.join(map(repr, unknown)) or 'nothing'} in '{spec.name}'; "
                        f"public checks exist for: {', '.join(known) or 'none yet'}.")
    files = {f: folder / f for f in spec.files if (folder / f).is_file()}
    ids = {t.id for t in public if t.graded in names}
    said = [0.0]

    def waiting(test, seconds):  # a line every few seconds instead of silence while a check runs long
        if seconds >= said[0] + 5:
            said[0] = seconds
            print(f"      ... {test.name}: still running after {seconds:.0f} s (time limit {test.timeout:g} s)")

    report = grade_files(bundle, files, ("public",), tests=ids, waiting=waiting)
    failed = []
    for r in report.results:
        if r.passed:
            print(f"PASS  {r.test.name}")
        else:
            first = r.output.strip().splitlines()[0] if r.output.strip() else "failed"
            print(f"FAIL  {r.test.name}: {first}")
            failed.append(r.test.name)
    if failed:
        _problem(f"{len(failed)} of {len(report.results)} check(s) failed; "
                 f"'pytest -k {names[0]}' in this folder shows the whole message.")
