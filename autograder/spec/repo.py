"""The course repository: where assignments, solutions and generated starters live."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from autograder.core.errors import AutograderError, SpecError
from autograder.core.fields import Reader
from autograder.spec.declared import check_names_in_both, check_tests
from autograder.spec.model import Spec, load_spec

__all__ = ["Repo", "find_repo"]


def find_repo(start=None) -> "Repo":
    """The nearest folder at or above `start` (default: cwd) that has an `assignments/` folder."""
    env = os.environ.get("AUTOGRADER_REPO")
    here = Path(env or start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "assignments").is_dir() and (folder / "solutions").is_dir():
            return Repo(folder)
    raise AutograderError(f"no course repository found at or above {here} (it needs assignments/ and "
                          "solutions/ folders); run this from the repository, or set AUTOGRADER_REPO")


def _defined(path: Path) -> set:
    """Top-level functions and assigned names of a probes.py (read, never imported); empty when there is none."""
    if not path.is_file():
        return set()
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as e:
        raise SpecError(f"{path}:{e.lineno}: does not parse: {e.msg}") from None
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    names |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    return names


class Repo:
    def __init__(self, root):
        self.root = Path(root).resolve()

    def names(self) -> list[str]:
        return sorted(p.parent.name for p in (self.root / "assignments").glob("*/assignment.yaml"))

    def assignment_dir(self, name: str) -> Path:
        folder = self.root / "assignments" / name
        if not (folder / "assignment.yaml").is_file():
            known = ", ".join(self.names()) or "none"
            raise AutograderError(f"unknown assignment '{name}' (known: {known})")
        return folder

    def solution_dir(self, name: str) -> Path:
        return self.root / "solutions" / name

    def starter_dir(self, name: str) -> Path:
        return self.root / "starter" / name

    def solution_names(self, name: str) -> dict[str, set]:
        """module -> top-level functions and classes its solution defines (read, never imported)."""
        out = {}
        folder = self.solution_dir(name)
        if not folder.is_dir():
            raise SpecError(f"{folder}: missing; every assignment needs its reference solution there")
        for path in sorted(folder.glob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except SyntaxError as e:
                raise SpecError(f"{path}:{e.lineno}: the solution does not parse: {e.msg}") from None
            out[path.stem] = {n.name for n in tree.body
                              if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        return out

    def spec(self, name: str) -> Spec:
        folder = self.assignment_dir(name)
        spec = load_spec(folder / "assignment.yaml", self.solution_names(name))
        if spec.name != name:
            raise SpecError(f"{folder / 'assignment.yaml'}: name: '{spec.name}' must match its folder name '{name}'")
        for f in spec.files:
            if not (self.solution_dir(name) / f).is_file():
                raise SpecError(f"{folder / 'assignment.yaml'}: files: {f} has no reference in solutions/{name}/")
        for f in spec.support:
            if not (folder / f).is_file():
                raise SpecError(f"{folder / 'assignment.yaml'}: support: {f} is not in assignments/{name}/")
            if f in spec.files:
                raise SpecError(f"{folder / 'assignment.yaml'}: support: {f} is also a submitted file")
        probes_py = _defined(folder / "probes.py")
        reader = Reader(str(folder / "assignment.yaml"))
        check_names_in_both(reader, spec.declared, probes_py)
        check_tests(reader, spec.declared, spec.tests, probes_py)
        for f in spec.local_checks:
            if not (folder / f).is_file():
                raise SpecError(f"{folder / 'assignment.yaml'}: local_checks: {f} is not in assignments/{name}/")
        return spec
