"""Student notebooks: a percent-format source per assignment, turned into a validated .ipynb.

The source is `assignments/NAME/notebook.py`, plain Python that diffs well:

    # %% [markdown]
    # # Title, then text with equations: $h_t = \\tanh(a_t)$
    # %%
    x = 1
    # %% tags=["figure:heatmap"]
    plot(x)

`# %%` starts a code cell, `# %% [markdown]` a markdown cell whose lines all start with `# `
(or are `#` alone). `# %% [setup]` is the first code cell, the same in every notebook: the
template `templates/notebook_setup.py.tmpl` (Colab unpacking, autoreload, `check`) with `{{name}}`
replaced by the assignment's name, then the cell's own lines. Comment lines before the first cell
are notes for instructors and are not published. In code cells, `# BEGIN SOLUTION` /
`# END SOLUTION` mark an exercise exactly as in `solutions/` (inside a function body); the
student notebook gets the stub. A code cell tagged `figure:SLUG` is the one whose image
`autograder notebooks --figures DIR` saves as `DIR/NAME-SLUG.png`.

The generated student notebook, outputs cleared, is committed at `starter/NAME/NAME.ipynb` and
ships in the starter zip; a test fails when it is stale or when solution text leaks into it.
Executing a notebook (CI, figures) runs the solution version against the reference modules in a
scratch folder laid out like an unzipped starter.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder.core.errors import AutograderError, BuildError, MarkerError
from autograder.authoring.markers import make_stub, strip_solution_text

__all__ = ["SOURCE", "SETUP_TEMPLATE", "Cell", "setup_source", "parse_source", "build_notebook",
           "notebook_names", "student_path", "expected_student", "write_student", "stale", "leaks", "problems",
           "starter_entries", "cells_of", "dumps", "FIGURE_TAG"]

SOURCE = "notebook.py"
_HEADER = re.compile(r"^# %%(?P<rest>.*)$")
_HEADER_REST = re.compile(r"^(?:\s+\[(?P<kind>[^\]]*)\])?(?:\s+tags=(?P<tags>\[.*\]))?\s*$")
_SETUP = "setup"
_HEADERS = "'# %%' (code), '# %% [markdown]' or '# %% [setup]'"
_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
SETUP_TEMPLATE = _TEMPLATES / "notebook_setup.py.tmpl"  # `# %% [setup]`, for every assignment
README_TEMPLATE = _TEMPLATES / "NOTEBOOK_README.md"  # appended to the starter's README.md
FIGURE_TAG = "figure:"
_MARKER_WORDS = re.compile(r"(BEGIN|END)\s+SOLUTION", re.IGNORECASE)  # as loose as markers.py's check
_LEAK_MIN_CHARS = 26  # shorter solution lines ("return out, cache") are too common to count as leaks


@dataclass(frozen=True)
class Cell:
    kind: str  # "code" or "markdown"
    source: str
    tags: tuple[str, ...]
    line: int  # 1-based line of the first source line in notebook.py


def _render(template: Path, name: str) -> str:
    return template.read_text(encoding="utf-8").replace("{{name}}", name)


def setup_source(name: str, extra: str = "") -> str:
    """The setup cell of assignment `name`: the template with its name in, then `extra` lines."""
    text = _render(SETUP_TEMPLATE, name).rstrip("\n")
    return text + "\n\n" + extra if extra else text


def parse_source(text: str, filename: str = SOURCE, name: str | None = None) -> list[Cell]:
    """The cells of a percent-format source, `# %% [setup]` expanded for assignment `name`;
    a malformed header or markdown line names its line."""
    cells, current = [], None

    def close():
        if current is None:
            return
        kind, tags, start, lines = current
        while lines and not lines[-1].strip():
            lines.pop()
        skip = 0
        while skip < len(lines) and not lines[skip].strip():
            skip += 1
        body = "\n".join(lines[skip:])
        if kind == _SETUP:
            cells.append(_setup_cell(body, tags, start, name, filename, cells))
        elif body:
            cells.append(Cell(kind, body, tags, start + skip))

    for no, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m:
            close()
            rest = _HEADER_REST.match(m.group("rest"))
            if not rest:
                raise AutograderError(f"{filename}:{no}: malformed cell header {line!r}; write {_HEADERS}, "
                                      "optionally followed by tags=[\"...\"]")
            kind = rest.group("kind")
            if kind not in (None, "markdown", _SETUP):
                raise AutograderError(f"{filename}:{no}: unknown cell kind [{kind}] in {line!r}; "
                                      f"write {_HEADERS} (the setup cell, from {SETUP_TEMPLATE.name})")
            try:
                tags = tuple(json.loads(rest.group("tags") or "[]"))
            except json.JSONDecodeError as e:
                raise AutograderError(f"{filename}:{no}: tags must be a JSON list of strings ({e.msg})") from None
            if not all(isinstance(t, str) for t in tags):
                raise AutograderError(f"{filename}:{no}: tags must be a JSON list of strings")
            current = (kind or "code", tags, no + 1, [])
        elif current is None:
            if line.strip() and not line.startswith("#"):
                raise AutograderError(f"{filename}:{no}: code before the first '# %%' cell header")
        elif current[0] == "markdown":
            if line.strip() and not (line == "#" or line.startswith("# ")):
                raise AutograderError(f"{filename}:{no}: a markdown line must start with '# ' "
                                      f"(or be '#' alone), got {line!r}")
            current[3].append(line[2:])
        else:
            current[3].append(line)
    close()
    if not cells:
        raise AutograderError(f"{filename}: no cells (start each one with a '# %%' line)")
    return cells


def _setup_cell(body: str, tags, start: int, name, filename: str, before: list[Cell]) -> Cell:
    """`# %% [setup]` (its header on line start - 1) as a code cell; it must be the first one, since
    it unpacks the starter in Colab and imports `check`."""
    where = f"{filename}:{start - 1}"
    code = [c for c in before if c.kind == "code"]
    if code:
        raise AutograderError(f"{where}: '# %% [setup]' must come before every other code cell (one starts "
                              f"on line {code[0].line}): it unpacks the starter in Colab and imports check")
    if name is None:
        raise AutograderError(f"{where}: '# %% [setup]' needs the assignment's name (parse_source(name=...))")
    if _MARKER_WORDS.search(body):
        raise MarkerError(f"{where}: solution markers do not belong in the setup cell")
    return Cell("code", setup_source(name, body), tags, start)


def _offset(cell: Cell) -> str:
    return "\n" * (cell.line - 1)  # marker errors then name the line of notebook.py


def _has_markers(cell: Cell) -> bool:
    return bool(_MARKER_WORDS.search(cell.source))


def _student_source(cell: Cell, filename: str) -> str:
    if not _has_markers(cell):
        return cell.source
    if cell.kind == "markdown":
        raise MarkerError(f"{filename}:{cell.line}: solution markers belong in code cells")
    return make_stub(_offset(cell) + cell.source, filename)[cell.line - 1:].rstrip("\n")


def _cell_id(source: str, seen: set) -> str:
    base = hashlib.sha1(source.encode()).hexdigest()[:8]
    cid, n = base, 1
    while cid in seen:
        n += 1
        cid = f"{base}-{n}"
    seen.add(cid)
    return cid


def build_notebook(cells: list[Cell], student: bool, filename: str = SOURCE):
    """An nbformat v4 notebook (validated, no outputs): the student or the solution version."""
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    seen: set = set()
    for cell in cells:
        text = _student_source(cell, filename) if student else cell.source
        new = v4.new_markdown_cell(text) if cell.kind == "markdown" else v4.new_code_cell(text)
        new.id = _cell_id(cell.source, seen)  # ids from the full source: the same in both versions
        if cell.tags:
            new.metadata["tags"] = list(cell.tags)
        nb.cells.append(new)
    nbformat.validate(nb)
    return nb


def dumps(nb) -> str:
    import nbformat

    return nbformat.writes(nb).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------------
# the repository's notebooks

def notebook_names(repo) -> list[str]:
    return sorted(p.parent.name for p in (repo.root / "assignments").glob(f"*/{SOURCE}"))


def _source(repo, name: str) -> tuple[Path, str]:
    path = repo.root / "assignments" / name / SOURCE
    if not path.is_file():
        raise AutograderError(f"assignments/{name}/{SOURCE}: no notebook source for '{name}' "
                              f"(notebooks exist for: {', '.join(notebook_names(repo)) or 'none'})")
    return path, path.read_text(encoding="utf-8")


def cells_of(repo, name: str) -> tuple[list[Cell], str]:
    path, text = _source(repo, name)
    rel = str(path.relative_to(repo.root))
    return parse_source(text, rel, name=name), rel


def student_path(repo, name: str) -> Path:
    return repo.starter_dir(name) / f"{name}.ipynb"


def expected_student(repo, name: str) -> str:
    """The student notebook's file content: solutions stubbed, no outputs."""
    cells, rel = cells_of(repo, name)
    return dumps(build_notebook(cells, student=True, filename=rel))


def write_student(repo, name: str) -> bool:
    """Write starter/NAME/NAME.ipynb; True when it changed."""
    text, path = expected_student(repo, name), student_path(repo, name)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def stale(repo, name: str) -> list[str]:
    path, rel = student_path(repo, name), f"starter/{name}/{name}.ipynb"
    if not path.is_file():
        return [f"{rel} is missing"]
    if path.read_text(encoding="utf-8") != expected_student(repo, name):
        return [f"{rel} differs from what assignments/{name}/{SOURCE} generates"]
    return []


def leaks(repo, name: str, text: str | None = None) -> list[str]:
    """Solution lines (from the notebook's own exercises and from solutions/NAME/) found in `text`
    (default: the committed student notebook), each as 'where: line'."""
    if text is None:
        path = student_path(repo, name)
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
    cells = []
    for cell in json.loads(text)["cells"] if text else []:
        src = cell["source"]
        cells.append(src if isinstance(src, str) else "".join(src))
    student = "\n".join(cells)
    found = []
    own, rel = cells_of(repo, name)
    sources = [(rel, _offset(c) + c.source) for c in own if c.kind == "code" and _has_markers(c)]
    sources += [(str(p.relative_to(repo.root)), p.read_text(encoding="utf-8"))
                for p in sorted(repo.solution_dir(name).glob("*.py"))]
    for where, source in sources:
        for line in strip_solution_text(source, where):
            if len(line) >= _LEAK_MIN_CHARS and line in student:
                found.append(f"{where}: {line}")
    return found


def problems(repo, name: str) -> str | None:
    """What the build refuses about the committed student notebook (stale, or leaking solution
    text), with the fix; None when it is current or the assignment has no notebook."""
    if not (repo.root / "assignments" / name / SOURCE).is_file():
        return None
    found = stale(repo, name) + [f"solution text in the student notebook: {x}" for x in leaks(repo, name)]
    return f"{'; '.join(found)}; run 'autograder notebooks {name}'" if found else None


def starter_entries(repo, name: str, readme: bytes) -> dict:
    """What the starter zip gains from the notebook: NAME.ipynb, and README.md with a section on it.
    Nothing when the assignment has no notebook; a BuildError when the committed one is stale."""
    if not (repo.root / "assignments" / name / SOURCE).is_file():
        return {}
    problem = problems(repo, name)
    if problem:
        raise BuildError(f"{name}: {problem}")
    section = _render(README_TEMPLATE, name)
    return {f"{name}.ipynb": student_path(repo, name).read_bytes(),
            "README.md": readme.rstrip(b"\n") + b"\n\n" + section.encode()}
