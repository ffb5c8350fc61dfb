"""Command line: parse arguments and dispatch; the work happens in the modules it calls.

    autograder list
    autograder starter [NAME ...] [--check]
    autograder notebooks [NAME ...] [--check] [--figures DIR]
    autograder build [NAME ...] [--out DIR] [--jobs N]
    autograder new NAME --framework numpy|torch [--title TEXT] [--root DIR]
    autograder check [NAME ...] [--root DIR] [--jobs N]
    autograder grade NAME PATH [--json FILE] [--public-only] [--bundle DIR] [--verbose]
    autograder grade-batch NAME DIR --out OUT [--jobs N] [--force] [--timeout S] [--public-only] [--bundle DIR]
                           [--due ISO8601] [--progress]
    autograder report OUT
    autograder gradescope [--root DIR]          (what run_autograder calls)
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from autograder.core.errors import AutograderError

__all__ = ["main"]


def _names(repo, names):
    return names or repo.names()


def _report_check(problems: list[str], label: str, fix: str, ok: str) -> int:
    """What a --check prints: each problem and the fix on stderr (exit 1), or that all is well."""
    for line in problems:
        print(f"{label}: {line}", file=sys.stderr)
    if problems:
        print(fix, file=sys.stderr)
        return 1
    print(ok)
    return 0


def cmd_list(args) -> int:
    from autograder.spec.repo import find_repo

    repo = find_repo()
    for name in repo.names():
        spec = repo.spec(name)
        print(f"{name:<12} {spec.title}  ({len(spec.tests)} tests, {spec.max_score:g} points, {spec.framework})")
    return 0


def cmd_starter(args) -> int:
    from autograder.spec.repo import find_repo
    from autograder.authoring.starter import stale_files, write_starter

    repo = find_repo()
    if args.check:
        stale = [s for name in _names(repo, args.names) for s in stale_files(repo, name)]
        return _report_check(stale, "stale", "run 'autograder starter' to regenerate starter/ from solutions/",
                             "starter/ is up to date")
    for name in _names(repo, args.names):
        changed = write_starter(repo, name)
        print(f"{name}: " + (", ".join(changed) if changed else "up to date"))
    return 0


def cmd_notebooks(args) -> int:
    from autograder.authoring import notebooks
    from autograder.build.notebook_runs import render_figures
    from autograder.spec.repo import find_repo

    repo = find_repo()
    names = args.names or notebooks.notebook_names(repo)
    if args.check:
        problems = [p for name in names for p in notebooks.stale(repo, name) + notebooks.leaks(repo, name)]
        return _report_check(problems, "notebook", "run 'autograder notebooks' to regenerate the student notebooks",
                             "notebooks are up to date")
    for name in names:
        changed = notebooks.write_student(repo, name)
        print(f"{name}: " + (f"wrote {notebooks.student_path(repo, name).relative_to(repo.root)}" if changed
                             else "up to date"))
        for path in render_figures(repo, name, Path(args.figures)) if args.figures else []:
            print(f"{name}: wrote {path}")
    return 0


def cmd_build(args) -> int:
    from autograder.build.package import build_assignments
    from autograder.spec.repo import find_repo

    return 1 if build_assignments(find_repo(), args.names, args.out, args.jobs) else 0


def cmd_new(args) -> int:
    from autograder.authoring.scaffold import course_repo, scaffold

    repo = course_repo(args.root)
    for path in scaffold(repo, args.name, args.framework, args.title):
        print(f"wrote {path.relative_to(repo.root)}")
    print(f"next: edit solutions/{args.name}/{args.name}.py and assignments/{args.name}/, run "
          f"'autograder starter {args.name}' and 'autograder notebooks {args.name}' after each change, "
          f"and 'autograder check {args.name}'")
    return 0


def cmd_check(args) -> int:
    from autograder.build.check import check_many
    from autograder.spec.repo import repo_at

    return 1 if check_many(repo_at(args.root), args.names, jobs=1 if args.jobs is None else args.jobs) else 0


def cmd_grade(args) -> int:
    from autograder.build.cache import open_bundle
    from autograder.grading.local import grade_one

    grade_one(args.path, lambda: open_bundle(args.name, args.bundle), args.json, args.public_only, args.verbose)
    return 0


def cmd_grade_batch(args) -> int:
    from autograder.batch.run import grade_folder
    from autograder.build.cache import open_bundle

    grade_folder(lambda: open_bundle(args.name, args.bundle), args.dir, args.out, jobs=args.jobs, force=args.force,
                 public_only=args.public_only, timeout=args.timeout, due_text=args.due, progress=args.progress)
    return 0


def cmd_report(args) -> int:
    from autograder.batch.class_report import report_folder

    report_folder(args.out)
    return 0


def cmd_gradescope(args) -> int:
    from autograder.grading.gradescope import run

    return run(Path(args.root))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autograder", description="Build, check and grade sequence-model assignments.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("list", help="list the assignments of this repository")
    s.set_defaults(func=cmd_list)
    s = sub.add_parser("starter", help="regenerate starter/ from solutions/ (or --check it is current)")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.add_argument("--check", action="store_true", help="exit 1 if starter/ is stale, writing nothing")
    s.set_defaults(func=cmd_starter)
    s = sub.add_parser("notebooks", help="regenerate the student notebooks from assignments/NAME/notebook.py "
                                         "(or --check they are current and leak no solution)")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.add_argument("--check", action="store_true", help="exit 1 if a notebook is stale or leaks solution text")
    s.add_argument("--figures", metavar="DIR", help="also run each notebook against the reference solutions "
                                                    "and save its figure:SLUG cells to DIR/NAME-SLUG.png")
    s.set_defaults(func=cmd_notebooks)
    s = sub.add_parser("build", help="build and self-validate the Gradescope and starter zips")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.add_argument("--out", default="dist", help="output folder (default: dist)")
    s.add_argument("--jobs", type=int, metavar="N",
                   help="assignments built at once, each in its own process (default: the number of CPUs)")
    s.set_defaults(func=cmd_build)
    s = sub.add_parser("new", help="scaffold a new assignment (assignments/NAME, solutions/NAME, starter/NAME) "
                                   "that builds as it is")
    s.add_argument("name", metavar="NAME", help="assignment name: a Python identifier, also the submitted module")
    s.add_argument("--framework", required=True, metavar="numpy|torch",
                   help="numpy (hand-written gradients) or torch (autograd)")
    s.add_argument("--title", help="the title students see (default: 'NAME: a new assignment')")
    s.add_argument("--root", metavar="DIR", help="course repository to add it to (created if needed; "
                                                 "default: the one found from the current folder)")
    s.set_defaults(func=cmd_new)
    s = sub.add_parser("check", help="validate assignments as 'build' does (reference full marks, starter 0, "
                                     "mutants caught and diagnosed, starter and notebook current), writing no zips")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.add_argument("--root", metavar="DIR", help="course repository (default: the one found from the current folder)")
    s.add_argument("--jobs", type=int, metavar="N",
                   help="assignments checked at once, each in its own process (default: 1, in order)")
    s.set_defaults(func=cmd_check)
    s = sub.add_parser("grade", help="grade one submission (folder, .zip or .py) as Gradescope would")
    s.add_argument("name", metavar="NAME")
    s.add_argument("path", metavar="PATH")
    s.add_argument("--json", metavar="FILE", help="also write Gradescope results.json content to FILE")
    s.add_argument("--public-only", action="store_true", help="run only public cases (what the self-check sees)")
    s.add_argument("--bundle", metavar="DIR", help="grade with a built bundle folder instead of the repository")
    s.add_argument("--verbose", "-v", action="store_true", help="print each failed test's whole message, not its first line")
    s.set_defaults(func=cmd_grade)
    s = sub.add_parser("grade-batch", help="grade a folder of submissions in parallel into OUT (resumable)")
    s.add_argument("name", metavar="NAME")
    s.add_argument("dir", metavar="DIR", help="one folder or .zip per student, or an unzipped Gradescope export")
    s.add_argument("--out", required=True, metavar="OUT",
                   help="results/, grades.csv, report.html, tests.csv, diagnoses.csv and histogram.png go here")
    s.add_argument("--jobs", type=int, metavar="N", help="submissions graded at once (default: the number of CPUs)")
    s.add_argument("--force", action="store_true", help="regrade submissions that already have results in OUT")
    s.add_argument("--timeout", type=float, metavar="S",
                   help="stop grading one submission after S seconds (default: the assignment's budget + 60)")
    s.add_argument("--public-only", action="store_true", help="run only public cases")
    s.add_argument("--bundle", metavar="DIR", help="grade with a built bundle folder instead of the repository")
    s.add_argument("--due", metavar="ISO8601", help="due date with its offset, e.g. 2026-05-17T23:59:00-04:00: apply "
                                                   "the assignment's late policy to the export's submission times")
    s.add_argument("--progress", action="store_true",
                   help="show the progress bar even when stderr is not a terminal (a log file, CI)")
    s.set_defaults(func=cmd_grade_batch)
    s = sub.add_parser("report", help="write OUT/report.html, tests.csv and diagnoses.csv from the results in OUT/results")
    s.add_argument("out", metavar="OUT", help="the --out folder of a grade-batch run")
    s.set_defaults(func=cmd_report)
    s = sub.add_parser("gradescope", help="grade ROOT/submission into ROOT/results/results.json (run_autograder)")
    s.add_argument("--root", default="/autograder")
    s.set_defaults(func=cmd_gradescope)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AutograderError as e:
        print(f"autograder: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autograder: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print("autograder: internal error (the traceback above is for the developers)", file=sys.stderr)
        return 3
