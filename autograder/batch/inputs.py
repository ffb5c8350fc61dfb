"""Finding the submissions of a `grade-batch` folder and naming their students.

A folder holds one submission a sub-folder or `.zip`, or is a Gradescope "export submissions"
folder: `submission_<id>/` folders beside `submission_metadata.yml`, which names the submitters
of each (the unzipped export may also sit one folder down; a group submission names several).
Without usable metadata a student is named by the folder or zip. Every submission gets a key,
unique in the batch, that names its results file: the student's name with letters of every script
kept, and nothing a file name must not hold (separators, control or invisible characters).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from autograder.core.errors import AutograderError

__all__ = ["Member", "Submission", "discover", "print_warning", "file_key", "METADATA", "metadata_loader"]

METADATA = "submission_metadata.yml"
_IGNORED = {"__MACOSX", "__pycache__"}
_EXPORT_FOLDER = re.compile(r"submission_\d+")
_KEY_BYTES = 120  # file names may hold 255 bytes; a suffix and a counter must still fit


@dataclass(frozen=True)
class Member:
    """One student of a submission (a group submission has several)."""

    name: str
    sid: str = ""
    email: str = ""


@dataclass
class Submission:
    student: str  # the student's name; a group's names joined with " + "
    path: Path
    submission: str  # folder or zip name, or the Gradescope submission folder
    sid: str = ""  # a group's ids joined with ";"
    email: str = ""
    key: str = ""  # results file stem, unique in the batch
    members: list = field(default_factory=list)  # a Member a student; one for a solo submission

    def __post_init__(self):
        if not self.members:
            self.members = [Member(self.student, self.sid, self.email)]

    @property
    def group(self) -> str:
        """The group's name ("Ann Lee + Bo Wu") for a group submission, "" for one student."""
        return self.student if len(self.members) > 1 else ""


def print_warning(msg: str) -> None:
    """The default `warn` of the batch functions: one line on stderr."""
    print(f"warning: {msg}", file=sys.stderr)


def metadata_loader():
    """yaml.SafeLoader that reads Gradescope's Ruby tags (`!ruby/object:BigDecimal`) as plain data."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def untagged(loader, suffix, node):
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor("!", untagged)
    return Loader


def _field(person: dict, name: str) -> str:
    """One submitter's `name`, `sid` or `email`; Gradescope writes the keys as Ruby symbols (`:name`)."""
    value = person.get(f":{name}", person.get(name))
    return "" if value is None else str(value)


def _read_metadata(path: Path, warn) -> dict:
    """submission folder -> [Member, ...]; {} with a warning when unreadable or malformed."""
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=metadata_loader())
    except Exception as e:  # a YAML error, or a value PyYAML cannot construct (a bad timestamp)
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        warn(f"{path} could not be read ({reason}); naming students by their submission folders")
        return {}
    if not isinstance(data, dict):
        warn(f"{path} is not a mapping of submission folders to submitters; naming students by their folders")
        return {}
    found = {}
    for folder, entry in data.items():
        people = entry.get(":submitters", entry.get("submitters")) if isinstance(entry, dict) else None
        people = [p for p in people if isinstance(p, dict)] if isinstance(people, list) else []
        members = [Member(_field(p, "name"), _field(p, "sid"), _field(p, "email")) for p in people
                   if _field(p, "name")]
        if members:
            found[str(folder)] = members
    if data and not found:
        warn(f"{path} names no submitters; naming students by their submission folders")
    return found


def file_key(text: str) -> str:
    """`text` as a safe file name stem that people can still read: "Zoë Ní Bhriain" -> "Zoë_Ní_Bhriain".

    Letters, marks (accents, vowel signs) and digits of any script, `.`, `-` and `_` stay (composed
    to NFC); every other run of characters (spaces, path separators, punctuation, control, format
    and invisible characters) becomes one `_`. No leading dot; at most 120 bytes of UTF-8; "" when
    nothing readable is left."""
    kept = [c if c in "._-" or unicodedata.category(c)[0] in "LMN" else "\0"
            for c in unicodedata.normalize("NFC", text)]
    key = re.sub("\0+", "_", "".join(kept)).strip("._-")
    key = key.encode("utf-8")[:_KEY_BYTES].decode("utf-8", "ignore")  # cut between characters
    return key.strip("._-")


def _unique_keys(subs: list) -> list:
    """Give each submission a file-safe key: the student's name, then the folder, then a counter.

    Keys differ even ignoring case, as file names do on macOS and Windows."""
    seen = set()
    for s in subs:
        base = file_key(s.student) or file_key(s.submission) or "submission"
        key, n = base, 2
        if key.casefold() in seen and file_key(s.submission):
            key = f"{base}-{file_key(s.submission)}"
        while key.casefold() in seen:
            key, n = f"{base}-{n}", n + 1
        s.key = key
        seen.add(key.casefold())
    return subs


def discover(folder, exclude=(), warn=print_warning) -> list:
    """The submissions in `folder`, sorted by their folder or zip name, each with a unique key."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AutograderError(f"{folder}: not a folder (give a folder of submission folders or zips, "
                              "or an unzipped Gradescope export)")
    exclude = {Path(p).resolve() for p in exclude}
    entries = [e for e in sorted(folder.iterdir()) if e.resolve() not in exclude
               and not e.name.startswith(".") and e.name not in _IGNORED and e.name != METADATA]
    dirs = [e for e in entries if e.is_dir()]
    if not (folder / METADATA).exists() and len(dirs) == 1 and (dirs[0] / METADATA).is_file():
        return discover(dirs[0], exclude, warn)  # the unzipped export's own top folder
    meta = {}
    if (folder / METADATA).exists():
        meta = _read_metadata(folder / METADATA, warn)
    elif dirs and all(_EXPORT_FOLDER.fullmatch(d.name) for d in dirs):
        warn(f"{folder} looks like a Gradescope export without {METADATA}; naming students by their folders")
    subs, skipped = [], []
    for e in entries:
        if not (e.is_dir() or e.suffix.lower() == ".zip"):
            skipped.append(e.name)
            continue
        if meta and e.name not in meta:
            warn(f"{e.name} is not in {METADATA}; naming it by its folder")
        members = meta.get(e.name) or [Member(e.name if e.is_dir() else e.stem)]
        subs.append(Submission(" + ".join(m.name for m in members), e, e.name, ";".join(m.sid for m in members),
                               ";".join(m.email for m in members), members=members))
    if skipped:
        warn(f"skipped {len(skipped)} entries of {folder} that are neither folders nor zips: "
             + ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else ""))
    return _unique_keys(subs)
