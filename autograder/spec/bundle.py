"""A built assignment as the grader sees it: spec, probes, verify functions, support files, data.

Layout of a bundle folder (inside the grader zip it is `source/bundle/`; in a starter it is
`selfcheck/`):
    assignment.json   the validated spec (hidden tests and cases left out of a starter's copy)
    probes.py         calls into the student's code; runs only in children
    verify.py         judges property tests; runs in the grader (optional)
    mutants.json      hints of the catalogued mistakes (optional; outputs under `mut/` keys)
    support/          files the probes and students may import (optional)
    gradescope_only.json  a starter's only: titles and points of the tests it does not hold
    public.arrays     inputs and reference outputs of public cases (format: arrays.py)
    hidden.arrays     the same for hidden cases (grader zip only)
Array keys: `in/<caseset>/<case>/<input>`, `out/<test id>/<case>/<output>`, and
`mut/<mutant>/<test id>/<case>/<output>` where a catalogued mistake gives other outputs.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

from autograder.core.arrays import ArrayFile
from autograder.core.errors import AutograderError
from autograder.spec.model import load_spec

__all__ = ["Bundle", "input_key", "output_key", "mutant_key", "key_case", "GRADESCOPE_ONLY"]

GRADESCOPE_ONLY = "gradescope_only.json"

def input_key(caseset: str, case: str, name: str = "") -> str:
    return f"in/{caseset}/{case}/{name}"


def output_key(test_id: str, case: str, name: str = "") -> str:
    return f"out/{test_id}/{case}/{name}"


def mutant_key(mutant: str, test_id: str, case: str, name: str = "") -> str:
    return f"mut/{mutant}/{test_id}/{case}/{name}"


def key_case(key: str) -> tuple[str, str, str]:
    """Whose case an array key belongs to: ("in", case set, case) for an input, ("out", test id,
    case) for a reference output or a mutant's."""
    parts = key.split("/")
    if parts[0] == "mut":
        parts = ["out", *parts[2:]]
    return parts[0], parts[1], parts[2]


class Bundle:
    def __init__(self, root):
        self.root = Path(root).resolve()
        if not (self.root / "assignment.json").is_file():
            raise AutograderError(f"{self.root} is not an assignment bundle (no assignment.json)")
        self.spec = load_spec(self.root / "assignment.json")
        self._data: dict[str, tuple] = {}  # visibility -> (prefix index, ArrayFile)
        self._verify = None
        self._hints = None

    @property
    def probes_path(self) -> Path:
        return self.root / "probes.py"

    @property
    def support_dir(self) -> Path:
        return self.root / "support"

    def visibilities(self) -> tuple[str, ...]:
        return tuple(v for v in ("public", "hidden") if (self.root / f"{v}.arrays").is_file())

    def load(self, visibilities=None) -> None:
        """Read the array files of `visibilities` (default: all this bundle has) now rather than when
        first asked for, so that processes forked afterwards share them."""
        for vis in self.visibilities() if visibilities is None else visibilities:
            self._arrays(vis)

    def _arrays(self, visibility: str) -> tuple:
        """Prefix ('in/<caseset>/<case>/' or 'out/<test>/<case>/') -> {name: full key}, and the
        file behind them; loaded once, each array checked and viewed when first asked for."""
        if visibility not in self._data:
            path = self.root / f"{visibility}.arrays"
            if not path.is_file():
                raise AutograderError(f"{path} is missing: this bundle has no {visibility} cases")
            data = ArrayFile(path)
            index: dict[str, dict] = {}
            for key in data.names():
                prefix, _, name = key.rpartition("/")
                index.setdefault(prefix + "/", {})[name] = key
            self._data[visibility] = (index, data)
        return self._data[visibility]

    def _under(self, visibility: str, prefix: str) -> dict[str, np.ndarray]:
        index, data = self._arrays(visibility)
        return {name: data.get(key) for name, key in index.get(prefix, {}).items()}

    def inputs(self, caseset: str, case) -> dict[str, np.ndarray]:
        """Fresh, writeable copies of one case's inputs."""
        return {k: np.array(v) for k, v in self._under(case.visibility, input_key(caseset, case.name)).items()}

    def expected(self, test_id: str, case) -> dict[str, np.ndarray]:
        return self._under(case.visibility, output_key(test_id, case.name))

    def mutant_outputs(self, test_id: str, case) -> dict[str, dict]:
        """Mutant name -> its recorded outputs for this test and case (only where it differs)."""
        out = {}
        for name in self.hints():
            got = self._under(case.visibility, mutant_key(name, test_id, case.name))
            if got:
                out[name] = got
        return out

    def hints(self) -> dict:
        """Mutant name -> {"function", "hint"}, from mutants.json (empty without a catalog)."""
        if self._hints is None:
            path = self.root / "mutants.json"
            self._hints = json.loads(path.read_text()) if path.is_file() else {}
        return self._hints

    def gradescope_only(self) -> list[tuple[str, float]]:
        """(name, points) of the tests a starter's bundle leaves out (they run only on Gradescope)."""
        path = self.root / GRADESCOPE_ONLY
        if not path.is_file():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return [(str(name), float(points)) for name, points in data.get("tests", [])]
        except (ValueError, TypeError, AttributeError):
            return []

    def verify_module(self):
        """The assignment's verify.py, imported in the grader (trusted code, plain arrays only)."""
        if self._verify is None:
            path = self.root / "verify.py"
            if not path.is_file():
                return None
            name = f"_autograder_verify_{self.spec.name}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            self._verify = module
        return self._verify
