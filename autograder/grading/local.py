"""`autograder grade`: one submission graded on this machine as Gradescope would, its table printed
and, when asked, its Gradescope results written."""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.core.errors import AutograderError
from autograder.grading.grade import grade_path
from autograder.grading.results import Report, format_table, reserve_results, write_results
from autograder.grading.submission import locate
from autograder.sandbox.template import prestart

__all__ = ["grade_one"]


def grade_one(path, open_bundle, json_path=None, public_only: bool = False, verbose: bool = False) -> Report:
    """Grade the submission at `path` (a folder, a .zip or a .py file) with the bundle
    `open_bundle()` returns, print the table, and write results.json content to `json_path`.

    The bundle is opened only after the sandbox's template has started, so that the template
    never holds reference data."""
    path = Path(path)
    if not path.exists():
        raise AutograderError(f"{path}: no such file or folder (give a submission folder, a .zip or a .py file)")
    prestart()  # forked before any bundle is built or loaded here: it never holds reference data
    bundle = open_bundle()
    locate(path, bundle.spec.files).cleanup()  # a submission that cannot be read (a broken zip): one line, exit 2
    visibilities = ("public",) if public_only else bundle.visibilities()
    if json_path:
        try:
            reserve_results(json_path, bundle.spec)
        except OSError as exc:
            raise AutograderError(f"{json_path}: cannot be written ({exc.strerror or exc})") from None
    report = grade_path(bundle, path, visibilities)
    print(format_table(report, verbose=verbose))
    if json_path:
        write_results(json_path, report.to_gradescope(), log=lambda msg: print(msg, file=sys.stderr))
        print(f"wrote {json_path}")
    return report
