"""The engine's layout: no import cycle (imports inside functions count), no import of a higher
layer, no module over 350 lines, and assignments that reach the engine only through autograder.kit.
(That the CLI only dispatches is checked by eye, in review.) The graph is tests/helpers/layout.py's;
the last tests try its rules on a small tree of their own."""

import textwrap

import pytest

from tests.helpers import layout


@pytest.fixture(scope="module")
def graph():
    return layout.graph()


def test_the_graph_sees_the_engine(graph):
    assert {"autograder.cli", "autograder.grading.grade", "autograder.sandbox.parent"} <= set(graph)
    assert "autograder.sandbox.parent" in graph["autograder.grading.grade"]


def test_no_import_cycle(graph):
    found = layout.cycles(graph)
    assert not found, "import cycles (each line one cycle):\n" + "\n".join(" <-> ".join(c) for c in found)


def test_every_subpackage_is_a_layer(graph):
    found = layout.unknown_layers(graph)
    assert not found, "add the subpackage to LAYERS in tests/helpers/layout.py:\n" + "\n".join(found)


def test_no_module_imports_a_higher_layer(graph):
    found = layout.upward_imports(graph)
    assert not found, f"imports against the layers ({' < '.join(layout.LAYERS)}):\n" + "\n".join(found)


def test_no_module_is_over_350_lines():
    found = layout.long_modules()
    assert not found, "modules to split:\n" + "\n".join(found)


def test_assignments_import_nothing_from_the_engine_but_the_kit():
    found = layout.engine_imports_of_assignments()
    assert not found, "assignment files that import the engine beyond autograder.kit:\n" + "\n".join(found)


# What an assignment's own grader code may come to (probes, judges and case builders; notebook
# sources and files shipped to students do not count): the kit carries the rest.
GRADER_FILES = ("probes.py", "cases.py", "verify.py")
GRADER_LINES = {("rnn", "attention", "transformer"): 1140, ("charlm",): 400, ("vit",): 450}


def grader_lines(name: str) -> int:
    folder = layout.ROOT / "assignments" / name
    return sum(len((folder / f).read_text().splitlines()) for f in GRADER_FILES if (folder / f).is_file())


@pytest.mark.parametrize("names", list(GRADER_LINES), ids="+".join)
def test_assignments_grader_code_stays_within_its_line_budget(names):
    counts = {name: grader_lines(name) for name in names}
    assert all(counts.values()), f"no grader code found for {counts}: has an assignment moved?"
    assert sum(counts.values()) <= GRADER_LINES[names], (
        f"{' + '.join(f'{n} {c}' for n, c in counts.items())} = {sum(counts.values())} lines of probes, judges and "
        f"case builders, over {GRADER_LINES[names]}: move what repeats into autograder.kit or a declaration")


# ----------------------------------------------------------------------------- the rules themselves

def tree(tmp_path, files: dict):
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path / "autograder"


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path):
    engine = tree(tmp_path, {
        "autograder/__init__.py": "",
        "autograder/grading/__init__.py": "",
        "autograder/grading/checks.py": "def run():\n    from autograder.build import mutants\n",
        "autograder/grading/grade.py": "from autograder.grading.checks import run\n",
        "autograder/build/__init__.py": "",
        "autograder/build/mutants.py": "import autograder.grading.grade\n",
    })
    g = layout.graph(engine)
    assert g["autograder.grading.checks"] == {"autograder.build", "autograder.build.mutants"}
    assert layout.cycles(g) == [["autograder.build.mutants", "autograder.grading.checks", "autograder.grading.grade"]]
    assert layout.upward_imports(g, engine) == [
        "autograder.grading.checks (grading) imports autograder.build (build)",
        "autograder.grading.checks (grading) imports autograder.build.mutants (build)"]


def test_a_submodule_named_in_from_import_is_an_edge_and_a_new_subpackage_is_reported(tmp_path):
    engine = tree(tmp_path, {
        "autograder/__init__.py": "",
        "autograder/core/__init__.py": "",
        "autograder/core/errors.py": "from autograder.sandbox import parent\n",
        "autograder/sandbox/__init__.py": "",
        "autograder/sandbox/parent.py": "",
        "autograder/extras/__init__.py": "",
        "autograder/extras/thing.py": "",
    })
    g = layout.graph(engine)
    assert "autograder.sandbox.parent" in g["autograder.core.errors"]
    assert layout.upward_imports(g, engine) == [
        "autograder.core.errors (core) imports autograder.sandbox (sandbox)",
        "autograder.core.errors (core) imports autograder.sandbox.parent (sandbox)"]
    assert layout.unknown_layers(g, engine) == [
        "autograder.extras (subpackage 'extras' is not in LAYERS)",
        "autograder.extras.thing (subpackage 'extras' is not in LAYERS)"]


def test_a_relative_import_is_refused_with_its_line(tmp_path):
    engine = tree(tmp_path, {"autograder/__init__.py": "", "autograder/core/a.py": "\nfrom . import b\n"})
    with pytest.raises(AssertionError, match=r"a.py:2: relative import"):
        layout.graph(engine)


def test_long_modules_and_engine_imports_of_assignments_name_each_file(tmp_path):
    engine = tree(tmp_path, {
        "autograder/__init__.py": "",
        "autograder/core/big.py": "x = 1\n" * 351,
        "autograder/core/ok.py": "x = 1\n" * 350,
        "assignments/demo/probes.py": """\
            import numpy as np
            from autograder.kit import ContractError
            from autograder.kit.arrays import as_numpy

            def probe(m, c, p):
                from autograder.sandbox.child import to_plain
                import autograder
                import autograder.kitbag  # not the kit
        """,
    })
    assert layout.long_modules(engine) == ["autograder/core/big.py: 351 lines (at most 350)"]
    assert layout.engine_imports_of_assignments(tmp_path / "assignments", engine) == [
        "assignments/demo/probes.py:6 imports autograder.sandbox.child",
        "assignments/demo/probes.py:7 imports autograder",
        "assignments/demo/probes.py:8 imports autograder.kitbag"]
