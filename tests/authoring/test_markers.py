"""autograder/markers.py: stubs from marked reference code; malformed markers name their line."""

import ast

import pytest

from autograder.core.errors import MarkerError
from autograder.authoring.markers import find_blocks, make_stub, strip_solution_text

REFERENCE = '''\
"""Layers for the demo assignment."""
import numpy as np

SCALE = 2.0


def affine(x, w, b):
    """Affine map.

    x: (N, D), w: (D, M), b: (M,) -> (N, M)
    """
    n = x.shape[0]  # given code stays
    # BEGIN SOLUTION
    out = x @ w + b
    return out * SCALE
    # END SOLUTION


class Cell:
    """A recurrent cell."""

    def __init__(self, h0):
        self.h = h0

    def step(self, x):
        """One step; returns the new state."""
        if x is None:
            # BEGIN SOLUTION
            x = np.zeros_like(self.h)
            # END SOLUTION
        # BEGIN SOLUTION
        self.h = np.tanh(self.h + x)
        return self.h
        # END SOLUTION
'''

EXPECTED_STUB = '''\
"""Layers for the demo assignment."""
import numpy as np

SCALE = 2.0


def affine(x, w, b):
    """Affine map.

    x: (N, D), w: (D, M), b: (M,) -> (N, M)
    """
    n = x.shape[0]  # given code stays
    raise NotImplementedError("affine: not implemented yet")


class Cell:
    """A recurrent cell."""

    def __init__(self, h0):
        self.h = h0

    def step(self, x):
        """One step; returns the new state."""
        if x is None:
            raise NotImplementedError("step: not implemented yet")
        raise NotImplementedError("step: not implemented yet")
'''


def marker_error(text: str) -> str:
    with pytest.raises(MarkerError) as info:
        find_blocks(text, "solutions/demo/layers.py")
    return str(info.value)


# --- stubs --------------------------------------------------------------------------------------


def test_make_stub_exact():
    assert make_stub(REFERENCE) == EXPECTED_STUB


def test_stub_parses_and_keeps_signatures_and_docstrings():
    stub = make_stub(REFERENCE)
    ref_tree, stub_tree = ast.parse(REFERENCE), ast.parse(stub)

    def functions(tree):
        return {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}

    ref_fns, stub_fns = functions(ref_tree), functions(stub_tree)
    assert set(ref_fns) == set(stub_fns) == {"affine", "__init__", "step"}
    for name in ref_fns:
        assert ast.dump(ref_fns[name].args) == ast.dump(stub_fns[name].args)
        assert ast.get_docstring(ref_fns[name]) == ast.get_docstring(stub_fns[name])
    assert "x @ w" not in stub and "np.tanh" not in stub and "np.zeros_like" not in stub
    assert "BEGIN SOLUTION" not in stub and "END SOLUTION" not in stub


def test_stub_raises_not_implemented_with_the_function_name():
    import numpy as np

    namespace = {}
    exec(compile(make_stub(REFERENCE), "layers.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"^affine: "):
        namespace["affine"](np.ones((2, 3)), np.ones((3, 4)), np.ones(4))
    cell = namespace["Cell"](0.0)
    assert cell.h == 0.0  # __init__ had no markers and still works
    with pytest.raises(NotImplementedError, match=r"^step: "):
        cell.step(1.0)


def test_file_without_markers_is_unchanged():
    text = "def f(x):\n    return x + 1\n"
    assert find_blocks(text) == []
    assert make_stub(text) == text


def test_find_blocks_lines_indents_and_names():
    assert find_blocks(REFERENCE) == [
        (13, 16, "    ", "affine"),
        (28, 30, "            ", "step"),
        (31, 34, "        ", "step"),
    ]


def test_block_in_nested_function_is_named_after_the_inner_function():
    text = (
        "def outer(x):\n"
        '    """Outer."""\n'
        "    def inner(y):\n"
        '        """Inner."""\n'
        "        # BEGIN SOLUTION\n"
        "        return y * 2\n"
        "        # END SOLUTION\n"
        "    return inner(x)\n"
    )
    stub = make_stub(text)
    assert '        raise NotImplementedError("inner: not implemented yet")\n' in stub
    assert "    return inner(x)\n" in stub


def test_block_as_first_statement_of_a_function_without_docstring():
    # Not every reference function has a docstring; the block is still inside the function body.
    text = "def double(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n"
    assert make_stub(text) == 'def double(x):\n    raise NotImplementedError("double: not implemented yet")\n'


def test_strip_solution_text_returns_marked_lines():
    assert strip_solution_text(REFERENCE) == [
        "out = x @ w + b",
        "return out * SCALE",
        "x = np.zeros_like(self.h)",
        "self.h = np.tanh(self.h + x)",
        "return self.h",
    ]


def test_strip_solution_text_skips_blank_lines():
    text = 'def f(x):\n    """f."""\n    # BEGIN SOLUTION\n    y = x\n\n    return y\n    # END SOLUTION\n'
    assert strip_solution_text(text) == ["y = x", "return y"]


# --- malformed markers --------------------------------------------------------------------------


def _fn(body: str) -> str:
    return 'def f(x):\n    """Doc."""\n' + body


@pytest.mark.parametrize("text, line, fragment", [
    (_fn("    # BEGIN SOLUTION\n    return x\n"), 3, "BEGIN SOLUTION is never closed by END SOLUTION"),
    (_fn("    y = x\n    # END SOLUTION\n    return y\n"), 4, "END SOLUTION without a BEGIN SOLUTION"),
    (_fn("    # BEGIN SOLUTION\n    y = x\n    # BEGIN SOLUTION\n    return y\n    # END SOLUTION\n"),
     5, "BEGIN SOLUTION inside the block opened at line 3"),
    (_fn("    if x:\n        # BEGIN SOLUTION\n        x = 1\n    # END SOLUTION\n    return x\n"),
     6, "END SOLUTION is indented differently from the BEGIN SOLUTION at line 4"),
    ("import os\n# BEGIN SOLUTION\nX = 1\n# END SOLUTION\n", 2, "solution block is not inside a function body"),
    ("class A:\n    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION\n", 2, "not inside a function body"),
    (_fn("    # BEGIN SOLUTION: the easy part\n    return x\n    # END SOLUTION\n"), 3, "malformed solution marker"),
    (_fn("    # BEGIN SOLUTION\n    return x\n    # END SOLUTION here\n"), 5, "malformed solution marker"),
    (_fn("    # begin solution\n    return x\n    # END SOLUTION\n"), 3, "malformed solution marker"),
    (_fn("    # Begin Solution\n    return x\n"), 3, "malformed solution marker"),
    (_fn("    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"), 3, "malformed solution marker"),
    (_fn("    #BEGIN SOLUTION\n    return x\n    #END SOLUTION\n"), 3, "malformed solution marker"),
], ids=["begin-without-end", "end-without-begin", "nested-begin", "end-indented-differently",
        "module-level", "class-body", "begin-trailing-text", "end-trailing-text", "lower-case",
        "title-case", "triple-hash", "no-space"])
def test_malformed_markers_name_the_line(text, line, fragment):
    msg = marker_error(text)
    assert msg.startswith(f"solutions/demo/layers.py:{line}: "), msg
    assert fragment in msg


def test_malformed_marker_message_shows_the_right_spelling():
    msg = marker_error(_fn("    # begin solution\n    return x\n    # END SOLUTION\n"))
    assert "'# BEGIN SOLUTION'" in msg and "'# END SOLUTION'" in msg


def test_solution_that_does_not_parse():
    with pytest.raises(MarkerError, match=r"^layers\.py:2: the solution does not parse"):
        make_stub("def f(x):\n    return (x\n", "layers.py")


def test_stub_that_does_not_parse_is_refused():
    # Marking only the body of an `if` leaves a valid stub; marking the `if` line without its body
    # does not, and the error says so instead of shipping a broken starter.
    text = _fn("    # BEGIN SOLUTION\n    if x:\n    # END SOLUTION\n        return 1\n    return 0\n")
    with pytest.raises(MarkerError, match="the stub made from this file does not parse"):
        make_stub(text, "layers.py")


def test_strip_solution_text_reports_marker_errors():
    with pytest.raises(MarkerError, match=r"^x\.py:3: "):
        strip_solution_text(_fn("    # BEGIN SOLUTION\n    return x\n"), "x.py")
