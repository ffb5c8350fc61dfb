"""The engine's import graph, read from source (every import, including those inside functions),
and the layout rules checked on it (tests/test_layout.py; by hand: `python tests/layout.py`).

Every function takes the engine folder (default: this repository's autograder/), so that the
rules can be tried on a small tree of their own."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "autograder"
ASSIGNMENTS = ROOT / "assignments"
MAX_LINES = 350

# Layers, lowest first. A module may import its own layer and the layers below, never above.
LAYERS = ["core", "kit", "sandbox", "spec", "grading", "selfcheck", "authoring", "build", "batch", "<top>"]


def module_name(path: Path, engine: Path = ENGINE) -> str:
    rel = path.relative_to(engine.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str, engine: Path = ENGINE) -> str:
    parts = module.split(".")
    if len(parts) >= 2 and (engine / parts[1]).is_dir():
        return parts[1]
    return "<top>"


def _resolve(target: str, names, engine: Path) -> list[str]:
    """`from autograder.x import y`: y may be a submodule of package x."""
    out = [target]
    pkg = engine.parent.joinpath(*target.split("."))
    if pkg.is_dir():
        out += [f"{target}.{n}" for n in names if (pkg / f"{n}.py").is_file() or (pkg / n).is_dir()]
    return out


def import_lines(path: Path, engine: Path = ENGINE) -> list[tuple[int, str]]:
    """(line, engine module) for every import of the engine in `path`, anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == engine.name]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}:{node.lineno}: relative import "
                                     f"(write 'from {engine.name}.<layer>.<module> import ...')")
            if node.module and node.module.split(".")[0] == engine.name:
                found += [(node.lineno, t) for t in _resolve(node.module, [a.name for a in node.names], engine)]
    return sorted(found)


def imports_of(path: Path, engine: Path = ENGINE) -> set[str]:
    """Engine modules `path` imports, anywhere in the file."""
    return {module for _, module in import_lines(path, engine)}


def modules(engine: Path = ENGINE) -> dict[str, Path]:
    return {module_name(p, engine): p for p in sorted(engine.rglob("*.py"))}


def graph(engine: Path = ENGINE) -> dict[str, set[str]]:
    mods = modules(engine)
    return {m: {t for t in imports_of(p, engine) if t in mods and t != m} for m, p in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def unknown_layers(g: dict[str, set[str]], engine: Path = ENGINE) -> list[str]:
    """Modules in a subpackage that LAYERS does not place."""
    return [f"{m} (subpackage '{layer_of(m, engine)}' is not in LAYERS)" for m in sorted(g)
            if layer_of(m, engine) not in LAYERS]


def upward_imports(g: dict[str, set[str]], engine: Path = ENGINE) -> list[str]:
    bad = []
    for m, targets in sorted(g.items()):
        for t in sorted(targets):
            if t == engine.name:
                continue
            low, high = layer_of(m, engine), layer_of(t, engine)
            if low in LAYERS and high in LAYERS and LAYERS.index(high) > LAYERS.index(low):
                bad.append(f"{m} ({low}) imports {t} ({high})")
    return bad


def long_modules(engine: Path = ENGINE, limit: int = MAX_LINES) -> list[str]:
    out = []
    for m, path in modules(engine).items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append(f"{path.relative_to(engine.parent)}: {n} lines (at most {limit})")
    return out


def engine_imports_of_assignments(assignments: Path = ASSIGNMENTS, engine: Path = ENGINE) -> list[str]:
    """'assignments/NAME/FILE.py:LINE imports MODULE' for each import of the engine other than the kit."""
    kit = f"{engine.name}.kit"
    out = []
    for path in sorted(assignments.glob("*/*.py")):
        for line, module in import_lines(path, engine):
            if module != kit and not module.startswith(kit + "."):
                out.append(f"{path.relative_to(assignments.parent)}:{line} imports {module}")
    return out


def main() -> int:
    g = graph()
    found = {"import cycles": [" <-> ".join(c) for c in cycles(g)],
             "modules outside LAYERS": unknown_layers(g),
             "upward imports": upward_imports(g),
             f"modules over {MAX_LINES} lines": long_modules(),
             "assignment files importing the engine beyond autograder.kit": engine_imports_of_assignments()}
    for title, lines in found.items():
        print(f"{title}: {len(lines) or 'none'}")
        for line in lines:
            print(f"  {line}")
    return 1 if any(found.values()) else 0
