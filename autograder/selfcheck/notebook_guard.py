"""Notebooks that run top to bottom with any mix of stubs and finished code.

`guard_cells()` (called by the setup cell) wraps every later cell of the IPython session: when a
cell raises NotImplementedError (it calls a function that is still a stub, directly or through
another function), it prints one line naming that function, instead of a traceback, and the
notebook goes on; the names the cell assigns are removed, so that a later cell that needs them
says which earlier cell could not compute them (and why) instead of running on half-made
values. Every other error is shown as usual and stops a "Run all", as it should.

A wrapped cell still shows the value of its last expression. With AUTOGRADER_NOTEBOOK_STRICT=1
(CI, against the reference solutions) nothing is wrapped, so a stub there is an error.
"""

from __future__ import annotations

import ast
import os
import sys
import traceback

__all__ = ["guard_cells", "CellGuard"]

_GUARD = "__autograder_cell_guard__"
_LAST = "__autograder_last_value__"


def _bound_names(tree: ast.Module) -> list[str]:
    """Names a cell binds at its top level (assignments, loops, imports, defs, with-as)."""
    names: list[str] = []

    class Finder(ast.NodeVisitor):
        def visit_Name(self, node):
            if isinstance(node.ctx, ast.Store):
                names.append(node.id)

        def visit_FunctionDef(self, node):
            names.append(node.name)  # not its body: those names are local

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_ClassDef(self, node):
            names.append(node.name)

        def visit_Lambda(self, node):
            pass

        def visit_comprehension(self, node):
            pass

        def visit_alias(self, node):
            names.append(node.asname or node.name.split(".")[0])

    for stmt in tree.body:
        Finder().visit(stmt)
    return [n for n in dict.fromkeys(names) if n not in (_GUARD, _LAST)]


def _stub_name(exc: BaseException) -> tuple[str, str]:
    """(function, where) of the innermost frame: the stub that raised, and its file (none for a
    function defined in a notebook cell)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "a function", ""
    last = frames[-1]
    path = last.filename or ""
    in_file = path.endswith(".py") and "ipykernel" not in path
    return last.name, f" ({os.path.basename(path)})" if in_file else " (in a cell above)"


class CellGuard:
    """What the wrapped cells call: the bookkeeping of what could not be computed, and why."""

    def __init__(self, namespace: dict, say=print):
        self.namespace = namespace
        self.say = say
        self.missing: dict[str, str] = {}  # name -> why an earlier cell could not compute it

    def succeeded(self, names) -> None:
        for name in names:
            self.missing.pop(name, None)

    def not_implemented(self, exc: BaseException, names) -> None:
        function, where = _stub_name(exc)
        reason = f"{function}{where} is not implemented yet"
        self.say(f"Skipped the rest of this cell: {reason}. The notebook goes on; run this cell again once "
                 f"{function} is written.")
        self._forget(names, reason)

    def name_error(self, exc: NameError, names) -> bool:
        """True when the name is one an earlier skipped cell should have made (then this cell is
        skipped too); False for any other NameError, which the cell then raises as usual."""
        name = getattr(exc, "name", None)
        if name not in self.missing:
            return False
        self.say(f"Skipped this cell: it needs '{name}', which an earlier cell could not compute "
                 f"({self.missing[name]}).")
        self._forget(names, self.missing[name])
        return True

    def _forget(self, names, reason: str) -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")  # no half-drawn figure of a skipped cell (inline figures close after each cell)
        for name in names:
            self.namespace.pop(name, None)
            self.missing[name] = reason


class _Wrap(ast.NodeTransformer):
    """try: <cell> except NotImplementedError / NameError: <guard>, keeping the last value shown."""

    def visit_Module(self, node: ast.Module) -> ast.Module:
        if not node.body:
            return node
        names = _bound_names(node)
        body = list(node.body)
        last_expr = isinstance(body[-1], ast.Expr)
        if last_expr:
            body[-1] = ast.Assign(targets=[ast.Name(_LAST, ast.Store())], value=body[-1].value)
        code = ast.parse(
            f"{_LAST} = None\n"
            "try:\n    pass\n"
            f"except NotImplementedError as __e:\n    {_GUARD}.not_implemented(__e, {names!r})\n"
            f"except NameError as __e:\n    if not {_GUARD}.name_error(__e, {names!r}):\n        raise\n"
            f"else:\n    {_GUARD}.succeeded({names!r})\n")
        code.body[1].body = body
        if last_expr:
            code.body.append(ast.Expr(ast.Name(_LAST, ast.Load())))
        return ast.fix_missing_locations(ast.copy_location(code, node))


def guard_cells(shell=None) -> CellGuard | None:
    """Wrap every later cell of this IPython session (see the module docstring); None outside IPython
    or in strict mode."""
    from autograder.selfcheck.notebook_checks import STRICT_ENV

    if os.environ.get(STRICT_ENV) == "1":
        return None
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return None
        shell = get_ipython()
    if shell is None:
        return None
    shell.ast_transformers[:] = [t for t in shell.ast_transformers if not isinstance(t, _Wrap)]
    guard = CellGuard(shell.user_ns)
    shell.user_ns[_GUARD] = guard
    shell.ast_transformers.append(_Wrap())
    return guard
