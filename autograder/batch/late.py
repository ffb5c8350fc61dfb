"""`grade-batch --due`: the assignment's late policy applied to a Gradescope export.

The export's `submission_metadata.yml` has each submission's time (`:created_at`); with a due date
given on the command line, each submission's results get the penalty of `policy.late`, exactly as
on Gradescope (policy.apply_late): per-test scores unchanged, the top-level score carries it, the
output says how late and which step. A submission with no time in the metadata is graded without
a penalty, and its output says so. Applying again with another due date (a rerun) starts from the
score before the penalty, which the results keep in `extra_data.late`.
"""

from __future__ import annotations

from pathlib import Path

from autograder.batch.inputs import METADATA, metadata_loader
from autograder.spec.policy import apply_late, parse_time, remove_late

__all__ = ["LatePolicy", "submission_times", "late_info", "remove_late"]


def submission_times(path: Path) -> dict:
    """submission folder -> its time (aware datetime) or why there is none (str), from one
    submission_metadata.yml; {} when the file is missing or unreadable (discover warns about that)."""
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=metadata_loader())
    except Exception:
        return {}
    out = {}
    for folder, entry in (data.items() if isinstance(data, dict) else ()):
        value = entry.get(":created_at", entry.get("created_at")) if isinstance(entry, dict) else None
        if value is None:
            out[str(folder)] = f"{METADATA} has no created_at for it"
            continue
        try:
            out[str(folder)] = parse_time(value)
        except ValueError as e:
            out[str(folder)] = f"{METADATA}: created_at: {e}"
    return out


def late_info(results: dict) -> dict:
    """The `extra_data.late` record of results ({} when no late policy was applied)."""
    extra = results.get("extra_data")
    late = extra.get("late") if isinstance(extra, dict) else None
    return late if isinstance(late, dict) else {}


class LatePolicy:
    """The late policy of one batch: the spec's steps, the due date, and the times of the export."""

    def __init__(self, steps, due, warn):
        self.steps, self.due, self.warn = tuple(steps), due, warn
        self._times: dict = {}
        if not self.steps:
            warn("--due: the assignment's policy.late has no steps, so no penalty applies; "
                 "grades.csv still shows hours_late")

    def _time_of(self, sub):
        meta = Path(sub.path).parent / METADATA
        if meta not in self._times:
            self._times[meta] = submission_times(meta) if meta.is_file() else {}
        got = self._times[meta].get(sub.submission)
        if got is None:
            return None, f"no submission time for {sub.submission} (it is not in a {METADATA})"
        return (got, "") if not isinstance(got, str) else (None, got)

    def apply(self, sub, results: dict) -> dict:
        when, problem = self._time_of(sub)
        return apply_late(results, self.steps, self.due, when, problem=problem)
