"""The engine's import graph, read from source (every import, including those inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "autograder"

# Layers, lowest first. A module may import its own layer and the layers below, never above.
LAYERS = ["core", "kit", "sandbox", "spec", "grading", "selfcheck", "authoring", "build", "batch", "<top>"]


def module_name(path: Path) -> str:
    rel = path.relative_to(ENGINE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) >= 2 and (ENGINE / parts[1]).is_dir():
        return parts[1]
    return "<top>"


def _resolve(target: str, names) -> list[str]:
    """`from autograder.x import y`: y may be a submodule of package x."""
    out = [target]
    pkg = ENGINE.parent.joinpath(*target.split("."))
    if pkg.is_dir():
        out += [f"{target}.{n}" for n in names if (pkg / f"{n}.py").is_file() or (pkg / n).is_dir()]
    return out


def imports_of(path: Path) -> set[str]:
    """Engine modules `path` imports, anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "autograder"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}: relative import (write 'from autograder.<layer>.<module> import ...')")
            if node.module and node.module.split(".")[0] == "autograder":
                found |= set(_resolve(node.module, [a.name for a in node.names]))
    return found


def graph() -> dict[str, set[str]]:
    mods = {module_name(p): p for p in sorted(ENGINE.rglob("*.py"))}
    return {m: {t for t in imports_of(p) if t in mods and t != m} for m, p in mods.items()}


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


def upward_imports(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for m, targets in sorted(g.items()):
        for t in sorted(targets):
            if t == "autograder":
                continue
            if LAYERS.index(layer_of(t)) > LAYERS.index(layer_of(m)):
                bad.append(f"{m} ({layer_of(m)}) imports {t} ({layer_of(t)})")
    return bad


if __name__ == "__main__":
    g = graph()
    print("cycles:", cycles(g))
    print("\n".join(upward_imports(g)))
