"""Typed fields of a YAML/JSON mapping and a reader that checks a mapping against a table of them.

Shared by the assignment spec (spec/), the course policy and the mutant catalog (build/mutants.py).
A key is declared once, as a field of the dataclass that holds its value:

    @dataclass(frozen=True)
    class Limits:
        memory_mb: int = key("int", 1024, "address space ..., in MB", positive=True)

and `table(Limits)` is the field table the reader checks a mapping against. Every error names the
file, the path inside it and what is wrong:
    assignments/rnn/assignment.yaml: tests[3].rtol: expected a number, got 'tight'
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.core.errors import SpecError

__all__ = ["Fld", "Reader", "REQUIRED", "NAME_RE", "show", "join", "key", "table"]

REQUIRED = object()  # the default of a key that must be given
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Fld:
    """One key of a mapping in the spec: its type, default and meaning."""

    kind: str  # str, int, number, bool, name, names, files, mapping, list, judge
    default: Any = REQUIRED
    help: str = ""
    choices: tuple = ()
    positive: bool = False


_FLD = "autograder.fld"  # metadata entry of a dataclass field that is a key of a mapping


def key(kind: str, default: Any = REQUIRED, help: str = "", *, choices: tuple = (), positive: bool = False,
        value: Any = dataclasses.MISSING, name: str = ""):
    """A dataclass field that is also a key of a mapping: its type, default (REQUIRED: none) and meaning.

    The attribute's own default follows from `default` (a list becomes a tuple, a mapping a fresh
    dict, REQUIRED none) unless `value` gives it (`Limits()` for a `limits:` mapping), and `name`
    is the key when it differs from the attribute's name."""
    fld = Fld(kind, default, help, tuple(choices), positive)
    meta = {_FLD: (name, fld)}
    if value is REQUIRED:
        return dataclasses.field(metadata=meta)
    if value is not dataclasses.MISSING:
        return dataclasses.field(default=value, metadata=meta)
    if default is REQUIRED:
        return dataclasses.field(metadata=meta)
    if isinstance(default, list):
        return dataclasses.field(default=tuple(default), metadata=meta)
    if isinstance(default, dict):
        return dataclasses.field(default_factory=lambda: dict(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def table(cls) -> dict:
    """Key -> Fld of the dataclass `cls`'s fields declared with `key`, in their order."""
    out = {}
    for f in dataclasses.fields(cls):
        if _FLD in f.metadata:
            name, fld = f.metadata[_FLD]
            out[name or f.name] = fld
    return out


class Reader:
    """Checks one mapping against a field table, naming the file and the path on every error."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, msg: str):
        where = f"{self.source}: {path}" if path else self.source
        raise SpecError(f"{where}: {msg}")

    def mapping(self, value, fields: dict, path: str) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {show(value)}")
        out = {}
        for key in value:
            if key not in fields:
                near = ", ".join(sorted(fields))
                self.fail(join(path, key), f"unknown key '{key}' (allowed: {near})")
        for key, fld in fields.items():
            sub = join(path, key)
            if key not in value:
                if fld.default is REQUIRED:
                    self.fail(sub, f"missing required key ({fld.help})")
                out[key] = fld.default
                continue
            out[key] = self.value(value[key], fld, sub)
        return out

    def value(self, v, fld: Fld, path: str):
        kind = fld.kind
        if v is None and fld.default is None:
            return None
        if kind in ("str", "name"):
            if not isinstance(v, str) or not v.strip():
                self.fail(path, f"expected a non-empty string, got {show(v)}")
            if kind == "name" and not NAME_RE.match(v):
                self.fail(path, f"'{v}' is not a valid Python name")
            if fld.choices and v not in fld.choices:
                self.fail(path, f"'{v}' is not one of: {', '.join(fld.choices)}")
            return v
        if kind in ("int", "number"):
            ok = isinstance(v, int) if kind == "int" else isinstance(v, (int, float))
            if isinstance(v, bool) or not ok:
                want = "a whole number" if kind == "int" else "a number"
                self.fail(path, f"expected {want}, got {show(v)}")
            if v != v or v in (float("inf"), float("-inf")):
                self.fail(path, f"expected a finite number, got {v}")
            if fld.positive and v <= 0:
                self.fail(path, f"must be greater than 0, got {v}")
            if v < 0:
                self.fail(path, f"must not be negative, got {v}")
            return v
        if kind == "bool":
            if not isinstance(v, bool):
                self.fail(path, f"expected true or false, got {show(v)}")
            return v
        if kind in ("names", "files", "list"):
            if not isinstance(v, list):
                self.fail(path, f"expected a list, got {show(v)}")
            if kind == "list":
                return v
            for i, item in enumerate(v):
                if not isinstance(item, str) or not item:
                    self.fail(f"{path}[{i}]", f"expected a non-empty string, got {show(item)}")
                if kind == "files" and (item.startswith("/") or ".." in Path(item).parts or "\\" in item):
                    self.fail(f"{path}[{i}]", f"'{item}' must be a plain relative file name")
            if len(set(v)) != len(v):
                self.fail(path, "lists the same entry twice")
            return list(v)
        if kind == "judge":  # a function name, or {kit: NAME, setting: value, ...}
            if isinstance(v, dict):
                if not isinstance(v.get("kit"), str) or not NAME_RE.match(v["kit"]):
                    self.fail(path, f"a standard judge is written {{kit: NAME, setting: value}}; got {show(v)}")
                return dict(v)
            return self.value(v, Fld("name", fld.default, fld.help), path)
        if kind == "mapping":
            if not isinstance(v, dict):
                self.fail(path, f"expected a mapping, got {show(v)}")
            return v
        raise AssertionError(kind)


def show(v) -> str:
    """A value as an error message shows it: its repr, cut at 60 characters."""
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def join(path: str, key) -> str:
    """The path of `key` inside the mapping at `path`: tests[3] + rtol -> tests[3].rtol."""
    return f"{path}.{key}" if path else str(key)
