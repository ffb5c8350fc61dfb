"""`autograder new NAME --framework numpy|torch`: a new assignment that builds as it is.

The files are templates kept as data, in `autograder/templates/new/<framework>/`, rendered with
`string.Template` (`$name`, `$title`). What the scaffold holds: assignments/NAME/ (the spec
with one case set of public and hidden cases, its probes declared, an outputs test and a
gradients test; the case builders, a mutant catalog with one mistake, a CONTRACT.md skeleton
and the notebook source; no probes.py, which only a probe that needs Python calls for) and solutions/NAME/NAME.py (one example function with a solution block); then
the generated starter/NAME/ (stub and student notebook), so that nothing is stale.
`autograder check NAME` then validates it exactly as `autograder build` does.
"""

from __future__ import annotations

import keyword
import shutil
import string
import sys
from pathlib import Path

from autograder.authoring import notebooks
from autograder.authoring.starter import write_starter
from autograder.core.errors import AutograderError
from autograder.core.fields import NAME_RE
from autograder.spec.repo import Repo, repo_at

__all__ = ["FRAMEWORKS", "LAYOUT", "TEMPLATES", "check_name", "render", "scaffold", "course_repo"]

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "new"
FRAMEWORKS = ("numpy", "torch")
# template (templates/new/<framework>/<key>.tmpl) -> where it goes in the course repository
LAYOUT = {
    "assignment.yaml": "assignments/{name}/assignment.yaml",
    "cases.py": "assignments/{name}/cases.py",
    "mutants.yaml": "assignments/{name}/mutants.yaml",
    "CONTRACT.md": "assignments/{name}/CONTRACT.md",
    "notebook.py": "assignments/{name}/notebook.py",
    "solution.py": "solutions/{name}/{name}.py",
}
# Names the submitted module may not take: the engine's own modules, loaded next to it in the
# child or the starter (probes, cases, verify, conftest, ...), and the libraries it would shadow.
_RESERVED = {"probes", "cases", "verify", "conftest", "selfcheck", "bundle", "autograder", "numpy", "torch",
             "np", "test_selfcheck", "setup", "support"}


def check_name(name: str) -> None:
    """AutograderError unless `name` can be an assignment, a folder and the submitted module."""
    what = f"'{name}' cannot be an assignment name"
    if not NAME_RE.match(name) or not name.isidentifier():
        raise AutograderError(f"{what}: it must be a Python identifier (letters, digits and underscores, "
                              "not starting with a digit), for it is also the submitted module's name; "
                              "try, say, 'layer_norm'")
    if keyword.iskeyword(name):
        raise AutograderError(f"{what}: it is a Python keyword, and 'import {name}' would not parse; choose another")
    if name in _RESERVED or name in sys.stdlib_module_names:
        raise AutograderError(f"{what}: a module named {name}.py would shadow "
                              f"{'the engine file or library' if name in _RESERVED else 'the standard library module'} "
                              f"'{name}' in the student's folder; choose another name")


def render(framework: str, name: str, title: str) -> dict[str, str]:
    """Relative path -> text of every scaffold file for `name`."""
    folder = TEMPLATES / framework
    out = {}
    for template, dest in LAYOUT.items():
        path = folder / f"{template}.tmpl"
        try:
            text = string.Template(path.read_text(encoding="utf-8")).substitute(name=name, title=title)
        except (KeyError, ValueError) as e:  # a template bug, not the user's: say which file
            raise AutograderError(f"{path}: bad template placeholder ({e}); write $$ for a literal $") from None
        out[dest.format(name=name)] = text
    return out


def course_repo(root=None) -> Repo:
    """Where `new` writes: the course repository at `root`, made one (assignments/ and solutions/)
    when it is not yet; without `root`, the one found from the current folder."""
    if root is None:
        try:
            return repo_at(None)
        except AutograderError as e:
            raise AutograderError(f"{e}; or give --root DIR to start a course repository in DIR") from None
    path = Path(root)
    if path.exists() and not path.is_dir():
        raise AutograderError(f"--root {root}: not a folder")
    for part in ("assignments", "solutions"):
        (path / part).mkdir(parents=True, exist_ok=True)
    return Repo(path)


def scaffold(repo, name: str, framework: str, title: str | None = None) -> list[Path]:
    """Write a new assignment `name` into `repo` (a spec.repo.Repo); return the files written.
    Refuses a bad name, an unknown framework or an assignment that exists; on any failure,
    removes what it had created."""
    if framework not in FRAMEWORKS:
        raise AutograderError(f"unknown framework '{framework}': choose one of {', '.join(FRAMEWORKS)}")
    check_name(name)
    title = title or f"{name}: a new assignment"
    if '"' in title or "\\" in title or "\n" in title:
        raise AutograderError("--title: write it without double quotes, backslashes or line breaks "
                              "(it goes into assignment.yaml as a quoted string)")
    root = Path(repo.root)
    folders = [root / "assignments" / name, root / "solutions" / name, repo.starter_dir(name)]
    taken = [str(f.relative_to(root)) for f in folders if f.exists()]
    if taken:
        raise AutograderError(f"assignment '{name}' exists already ({', '.join(taken)}); choose another name, "
                              "or remove those folders first")
    files = render(framework, name, title)
    written = []
    try:
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
        write_starter(repo, name)
        notebooks.write_student(repo, name)
    except BaseException:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    written += sorted(repo.starter_dir(name).iterdir())
    return written
