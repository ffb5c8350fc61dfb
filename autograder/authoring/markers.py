"""Solution markers: turn a reference module into a student stub.

Inside a function body, the lines from `# BEGIN SOLUTION` to `# END SOLUTION` (inclusive) are the
reference implementation. The stub keeps everything else (signatures, docstrings, given code) and
puts `raise NotImplementedError(...)` where each marked block was, at the marker's indentation.
"""

from __future__ import annotations

import ast
import re

from autograder.core.errors import MarkerError

__all__ = ["BEGIN", "END", "find_blocks", "make_stub", "strip_solution_text"]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
_MARKER = re.compile(r"^(?P<indent>[ \t]*)#+\s*(?P<which>BEGIN|END)\s+SOLUTION\b(?P<rest>.*)$")
_LOOSE = re.compile(r"(BEGIN|END)\s+SOLUTION", re.IGNORECASE)


def _enclosing_functions(tree: ast.AST) -> list[tuple[int, int, str]]:
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            spans.append((node.lineno + 1, node.end_lineno, node.name))  # the body: after the def line
    return spans


def find_blocks(text: str, filename: str = "<source>") -> list[tuple[int, int, str, str]]:
    """Return (begin_line, end_line, indent, function_name) for each marked block, 1-based.

    Raises MarkerError naming the line for: a marker that is not alone on its line, a BEGIN inside
    a block, an END without BEGIN, a BEGIN never closed, an END at another indentation, a block
    outside a function body, or a block that spans two functions.
    """
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as e:
        raise MarkerError(f"{filename}:{e.lineno}: the solution does not parse: {e.msg}") from None
    spans = _enclosing_functions(tree)
    blocks, open_at = [], None
    for no, line in enumerate(text.splitlines(), start=1):
        m = _MARKER.match(line)
        if not m:
            if _LOOSE.search(line) and line.lstrip().startswith("#"):
                raise MarkerError(f"{filename}:{no}: malformed solution marker {line.strip()!r}; "
                                  f"write '{BEGIN}' or '{END}' alone on the line")
            continue
        if m.group("rest").strip() or not line.strip().startswith(("# BEGIN", "# END")):
            raise MarkerError(f"{filename}:{no}: malformed solution marker {line.strip()!r}; "
                              f"write '{BEGIN}' or '{END}' alone on the line")
        if m.group("which") == "BEGIN":
            if open_at is not None:
                raise MarkerError(f"{filename}:{no}: BEGIN SOLUTION inside the block opened at line {open_at[0]}; "
                                  "close it with END SOLUTION first (blocks do not nest)")
            open_at = (no, m.group("indent"))
        else:
            if open_at is None:
                raise MarkerError(f"{filename}:{no}: END SOLUTION without a BEGIN SOLUTION before it")
            begin, indent = open_at
            if m.group("indent") != indent:
                raise MarkerError(f"{filename}:{no}: END SOLUTION is indented differently from the "
                                  f"BEGIN SOLUTION at line {begin}")
            inside = [s for s in spans if s[0] <= begin and no <= s[1] + 1]
            if not inside:
                raise MarkerError(f"{filename}:{begin}: solution block is not inside a function body")
            name = max(inside, key=lambda s: s[0])[2]
            blocks.append((begin, no, indent, name))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{filename}:{open_at[0]}: BEGIN SOLUTION is never closed by END SOLUTION")
    return blocks


def make_stub(text: str, filename: str = "<source>") -> str:
    """The student version of a solution module."""
    blocks = find_blocks(text, filename)
    lines = text.splitlines()
    out, i = [], 0
    for begin, end, indent, name in blocks:
        out.extend(lines[i:begin - 1])
        out.append(f'{indent}raise NotImplementedError("{name}: not implemented yet")')
        i = end
    out.extend(lines[i:])
    stub = "\n".join(out) + "\n"
    try:
        ast.parse(stub, filename=filename)
    except SyntaxError as e:
        raise MarkerError(f"{filename}: the stub made from this file does not parse (line {e.lineno}: {e.msg}); "
                          "check that each marked block is a whole run of statements") from None
    return stub


def strip_solution_text(text: str, filename: str = "<source>") -> list[str]:
    """The non-blank lines of every marked block, for leak checks."""
    lines = text.splitlines()
    found = []
    for begin, end, _indent, _name in find_blocks(text, filename):
        found.extend(line.strip() for line in lines[begin:end - 1] if line.strip())
    return found
