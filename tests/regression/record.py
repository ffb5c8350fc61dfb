"""Regression baseline: what students see, test by test, for a fixed set of submissions.

    python tests/regression/record.py --write [NAME...]  # grade (these / all), write them into baseline.json
    python tests/regression/record.py --check [NAME...]  # grade again, print what changed (exit 1 if anything)

For each assignment it grades, as Gradescope does (grade_path on a folder, public and hidden
cases): the reference solution, the starter generated from it, every fixture under
tests/fixtures/submissions/ whose files are that assignment's, every mutant of its catalog, and
(for rnn, the assignment they are written against) the hostile submissions of
tests/helpers/hostile_submissions.py, each on the tests test_hostile.py grades it on. Per test it keeps
the name, score, max_score, status, visibility and the message text of results.json; per
submission, the total and the top-level message. Only what legitimately varies from run to run is
normalised: temporary paths, pids and measured durations.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT)]

from autograder.authoring.starter import expected_starter  # noqa: E402
from autograder.build.mutants import apply_mutant, load_catalog  # noqa: E402
from autograder.grading.grade import grade_path  # noqa: E402
from autograder.sandbox import template  # noqa: E402
from autograder.spec.repo import Repo  # noqa: E402

from tests.helpers import hostile_submissions as hostile  # noqa: E402

BASELINE = Path(os.environ.get("REGRESSION_BASELINE", HERE / "baseline.json"))
NAMES = ("rnn", "attention", "transformer", "charlm", "vit")
FIXTURES = ROOT / "tests" / "fixtures" / "submissions"
FORMAT = 1
KEPT = ("name", "score", "max_score", "status", "visibility", "output")  # of each test in results.json


# --- normalising what varies from run to run ---------------------------------------------------------

_TEMP_ROOTS = sorted({tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm", "/run/autograder-tests"}, key=len,
                     reverse=True)
_TEMP = re.compile("(?:" + "|".join(re.escape(r) for r in _TEMP_ROOTS) + r")(?:/[^\s'\":,)\]]*)?")
_PID = re.compile(r"\b(pid|process) \d+\b", re.IGNORECASE)
_SECONDS = re.compile(r"\b(took|after|in) \d+(?:\.\d+)? ?(s|ms|seconds)\b")


def normalise(text: str) -> str:
    """`text` with temporary paths, pids and measured durations replaced by placeholders."""
    text = _TEMP.sub("<tmp>", text)
    text = _PID.sub(lambda m: f"{m.group(1)} <pid>", text)
    return _SECONDS.sub(lambda m: f"{m.group(1)} <seconds> {m.group(2)}", text)


def summary(report) -> dict:
    """The student-facing part of a report, as results.json has it."""
    data = report.to_gradescope()
    tests = [{k: (normalise(t[k]) if k == "output" else t[k]) for k in KEPT} for t in data["tests"]]
    return {"score": data["score"], "output": normalise(data["output"]), "tests": tests}


# --- what is graded ---------------------------------------------------------------------------------

def _copy(folder: Path, src: Path, files) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(src / f, folder / f)


def fixtures_of(spec) -> list[Path]:
    """The fixture folders holding exactly the files this assignment's students submit."""
    if not FIXTURES.is_dir():
        return []
    return [d for d in sorted(FIXTURES.iterdir()) if d.is_dir()
            and sorted(p.name for p in d.glob("*.py")) == sorted(spec.files)]


def cases(repo, name: str, spec) -> list[tuple]:
    """(label, build(folder) -> None, test ids or None, timeouts or None) per submission to grade."""
    solution = repo.solution_dir(name)
    out = [("reference", lambda d: _copy(d, solution, spec.files), None, None)]

    def starter(d):
        d.mkdir(parents=True, exist_ok=True)
        for fname, text in expected_starter(repo, name).items():
            (d / fname).write_text(text)
    out.append(("starter", starter, None, None))
    out += [(f"fixture:{f.name}", lambda d, f=f: _copy(d, f, spec.files), None, None) for f in fixtures_of(spec)]
    catalog = load_catalog(repo.assignment_dir(name) / "mutants.yaml", spec, solution)
    out += [(f"mutant:{m.name}", lambda d, m=m: apply_mutant(m, solution, d, spec.files), None, None)
            for m in sorted(catalog, key=lambda m: m.name)]
    if name == "transformer":  # tests/test_forged_probes.py: the starter, forging five probes at import
        out.append(("hostile:forge_transformer_probes",
                    lambda d: hostile.forging_transformer_probes(d, expected_starter(repo, name)["transformer_layers.py"]),
                    None, None))
    if name == "rnn":
        out += [(f"hostile:{h.name}", lambda d, h=h: h.build(d, spec), h.tests(spec),
                 h.timeouts(spec) if h.timeouts else None) for h in hostile.catalog()]
    return out


def grade_assignment(repo, name: str, bundle, log=print) -> dict:
    """label -> summary for every submission of `name`, graded with `bundle`."""
    from tests.helpers.paths import shared_tmp

    template.warm(hostile.CHILD_MODULES)
    base = Path(tempfile.mkdtemp(prefix="regression-", dir=shared_tmp()))
    base.chmod(0o755)
    notes = base / "notes"  # HOSTILE_DIR: the sandbox user writes the hostile code's notes here
    notes.mkdir()
    notes.chmod(0o777)
    before = os.environ.get("HOSTILE_DIR")
    os.environ["HOSTILE_DIR"] = str(notes)
    edited = {}
    out = {}
    try:
        for i, (label, build, ids, timeouts) in enumerate(cases(repo, name, bundle.spec)):
            folder = base / f"sub{i}"
            build(folder)
            graded = bundle
            if timeouts:
                key = json.dumps(timeouts, sort_keys=True)
                if key not in edited:
                    edited[key] = hostile.edited_bundle(bundle, base / f"bundle{len(edited)}", timeouts=timeouts)
                graded = edited[key]
            internal = []
            start = time.monotonic()
            report = grade_path(graded, folder, graded.visibilities(), tests=ids, log=internal.append)
            out[label] = summary(report)
            if internal:  # the grader's own log: never shown to students, but a change worth seeing
                out[label]["grader_log"] = [normalise(x).splitlines()[0] for x in internal]
            log(f"  {name} {label}: {report.score:g}/{report.max_score:g} ({time.monotonic() - start:.1f} s)")
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        if before is None:
            os.environ.pop("HOSTILE_DIR", None)
        else:
            os.environ["HOSTILE_DIR"] = before
        shutil.rmtree(base, ignore_errors=True)
    return out


# --- comparing -------------------------------------------------------------------------------------

def _text_diff(old: str, new: str) -> list[str]:
    return ["      " + line for line in difflib.unified_diff(old.splitlines(), new.splitlines(), "baseline", "now",
                                                              lineterm="", n=1)]


def _diff_submission(old: dict, new: dict) -> list[str]:
    lines = []
    for key in ("score", "output", "grader_log"):
        if old.get(key) != new.get(key):
            if key == "output":
                lines += ["    top-level message:"] + _text_diff(old[key], new[key])
            else:
                lines.append(f"    {key}: {old.get(key)!r} -> {new.get(key)!r}")
    old_tests = {t["name"]: t for t in old["tests"]}
    new_tests = {t["name"]: t for t in new["tests"]}
    for name in old_tests.keys() - new_tests.keys():
        lines.append(f"    test gone: {name}")
    for name in new_tests.keys() - old_tests.keys():
        lines.append(f"    test new: {name}")
    common = [n for n in old_tests if n in new_tests]
    if common != [n for n in new_tests if n in old_tests]:
        lines.append("    tests in another order: " + ", ".join(n for n in new_tests if n in old_tests))
    for name in common:
        a, b = old_tests[name], new_tests[name]
        changed = [k for k in KEPT if a.get(k) != b.get(k)]
        if not changed:
            continue
        lines.append(f"    test {name!r}:")
        for k in changed:
            if k == "output":
                lines += ["      message:"] + _text_diff(a[k], b[k])
            else:
                lines.append(f"      {k}: {a.get(k)!r} -> {b.get(k)!r}")
    return lines


def diff(old: dict, new: dict, name: str) -> str:
    """What changed between two {label: summary} of assignment `name`, readable; '' when nothing."""
    lines = []
    for label in sorted(old.keys() | new.keys()):
        if label not in new:
            lines.append(f"{name} {label}: no longer graded")
        elif label not in old:
            lines.append(f"{name} {label}: not in the baseline (run record.py --write if it should be)")
        else:
            changes = _diff_submission(old[label], new[label])
            if changes:
                lines += [f"{name} {label}:"] + changes
    return "\n".join(lines)


def dumps(data: dict) -> str:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=True) + "\n"


def load_baseline(path: Path = BASELINE) -> dict:
    if not path.is_file():
        raise SystemExit(f"{path} does not exist: record it with `python tests/regression/record.py --write`")
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise SystemExit(f"{path} has format {data.get('format')!r}, expected {FORMAT}: record it again with --write")
    return data["assignments"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="grade and write the baseline (of the names given only, "
                                                           "keeping the others as they are)")
    mode.add_argument("--check", action="store_true", help="grade again and print every difference")
    ap.add_argument("names", nargs="*", help=f"assignments to grade (default: {' '.join(NAMES)})")
    ap.add_argument("--baseline", type=Path, default=BASELINE)
    ap.add_argument("--quiet", action="store_true", help="no line per graded submission")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        ap.error(f"unknown assignment(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    from autograder.build.cache import cached_bundle

    repo = Repo(ROOT)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, flush=True))
    old = load_baseline(args.baseline) if args.check or (args.names and args.baseline.is_file()) else {}
    current, failed = {}, False
    for name in args.names or NAMES:
        start = time.monotonic()
        current[name] = grade_assignment(repo, name, cached_bundle(repo, name), log)
        took = time.monotonic() - start
        if args.check:
            text = diff(old.get(name, {}), current[name], name)
            failed |= bool(text)
            print(text or f"{name}: same as the baseline", flush=True)
        print(f"{name}: {len(current[name])} submissions graded in {took:.1f} s", flush=True)
    if args.write:
        args.baseline.write_text(dumps({"format": FORMAT, "assignments": {**old, **current}}))
        print(f"wrote {args.baseline}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
