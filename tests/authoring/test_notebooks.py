"""autograder/authoring/notebooks.py: sources, student notebooks, leaks, and the starter hook.
(The check helper is in tests/selfcheck/test_notebook_checks.py, the runs top to bottom in
tests/build/test_notebook_runs.py.)"""

import json
import re
import shutil

import nbformat
import pytest

from autograder.cli import main
from autograder.core.errors import AutograderError, BuildError, MarkerError
from autograder.authoring.markers import strip_solution_text
from autograder.authoring.notebooks import (SETUP_TEMPLATE, build_notebook, expected_student, leaks,
                                  notebook_names, parse_source, setup_source, stale, starter_entries,
                                  student_path, write_student)
from autograder.spec.repo import Repo

from tests.helpers.paths import ROOT

NAMES = notebook_names(Repo(ROOT))

SOURCE = '''\
# Notes for instructors: not published.

# %% [markdown]
# # Demo
#
# The mean is $\\mu$.
# %%
import math

# %% tags=["figure:demo", "extra"]
def root(x):
    """Square root, scaled."""
    # BEGIN SOLUTION
    return math.sqrt(x) * 1234.5
    # END SOLUTION


print(root(4))
'''


def test_parse_source_gives_cells_with_kinds_tags_and_lines():
    cells = parse_source(SOURCE)
    assert [c.kind for c in cells] == ["markdown", "code", "code"]
    assert cells[0].source == "# Demo\n\nThe mean is $\\mu$."
    assert cells[1].source == "import math"
    assert cells[2].tags == ("figure:demo", "extra")
    assert cells[2].line == 11 and cells[2].source.startswith("def root(x):")


@pytest.mark.parametrize("text, message", [
    ("x = 1\n# %%\ny = 2\n", "notebook.py:1: code before the first '# %%' cell header"),
    ("# %%\nx = 1\n# %%[markdown]\n", "notebook.py:3: malformed cell header"),
    ("# %%\nx = 1\n# %% [raw]\n", "notebook.py:3: unknown cell kind [raw] in '# %% [raw]'; write '# %%' (code), "
                                   "'# %% [markdown]' or '# %% [setup]'"),
    ("# %% [markdown]\n# Hi\n# %%\nx = 1\n# %% [setup]\n",
     "notebook.py:5: '# %% [setup]' must come before every other code cell (one starts on line 4)"),
    ("# %% tags=[1]\nx = 1\n", "notebook.py:1: tags must be a JSON list of strings"),
    ("# %% [markdown]\n# fine\nnot a comment\n", "notebook.py:3: a markdown line must start with '# '"),
    ("# only a comment\n", "notebook.py: no cells"),
])
def test_malformed_sources_name_their_line(text, message):
    with pytest.raises(AutograderError, match=re.escape(message)):
        parse_source(text)


def test_setup_directive_expands_the_template_with_the_name_then_the_cells_own_lines():
    text = '# %% [markdown]\n# # Demo\n\n# %% [setup] tags=["setup"]\nimport math\n\n# %%\nprint(math.pi)\n'
    cells = parse_source(text, name="demo")
    assert [c.kind for c in cells] == ["markdown", "code", "code"]
    setup = cells[1]
    assert setup.source == setup_source("demo", "import math") and setup.tags == ("setup",)
    assert setup.source.startswith("# Setup. In Colab, first upload demo-starter.zip")
    assert 'zipfile.ZipFile("/content/demo-starter.zip").extractall("/content/demo")' in setup.source
    assert "from autograder.selfcheck.notebook_checks import check" in setup.source and "%autoreload 2" in setup.source
    assert setup.source.endswith('plt.rcParams.update({"figure.dpi": 100})\n\nimport math')
    assert "{{" not in setup.source and cells[2].source == "print(math.pi)"
    assert parse_source("# %% [setup]\n", name="demo")[0].source == setup_source("demo")


def test_setup_directive_errors_name_their_line():
    with pytest.raises(AutograderError, match=re.escape("notebook.py:2: '# %% [setup]' needs the assignment's name")):
        parse_source("# notes\n# %% [setup]\n")
    with pytest.raises(MarkerError, match=re.escape("notebook.py:1: solution markers do not belong in the setup")):
        parse_source("# %% [setup]\ndef f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", name="demo")


def test_setup_template_names_no_assignment():
    template = SETUP_TEMPLATE.read_text()
    assert "{{name}}" in template and not any(name in template for name in NAMES)


def test_student_version_stubs_exercises_and_keeps_everything_else():
    cells = parse_source(SOURCE)
    student = build_notebook(cells, student=True)
    solution = build_notebook(cells, student=False)
    code = student.cells[2].source
    assert 'raise NotImplementedError("root: not implemented yet")' in code
    assert "1234.5" not in code and "SOLUTION" not in code
    assert '"""Square root, scaled."""' in code and code.endswith("print(root(4))")
    assert "1234.5" in solution.cells[2].source
    assert [c.id for c in student.cells] == [c.id for c in solution.cells]
    assert student.cells[2].metadata["tags"] == ["figure:demo", "extra"]


def test_notebooks_are_valid_v4_without_outputs_and_reproducible():
    a = build_notebook(parse_source(SOURCE), student=True)
    b = build_notebook(parse_source(SOURCE), student=True)
    nbformat.validate(a)
    assert a.nbformat == 4 and a.metadata.kernelspec.name == "python3"
    assert all(c.outputs == [] and c.execution_count is None for c in a.cells if c.cell_type == "code")
    assert nbformat.writes(a) == nbformat.writes(b)


def test_malformed_markers_name_the_line_of_the_source():
    broken = SOURCE.replace("    # END SOLUTION\n", "")
    with pytest.raises(MarkerError, match=r"notebook\.py:13: BEGIN SOLUTION is never closed"):
        build_notebook(parse_source(broken), student=True, filename="notebook.py")
    outside = "# %%\n# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n"
    with pytest.raises(MarkerError, match=r"notebook\.py:2: solution block is not inside a function"):
        build_notebook(parse_source(outside), student=True, filename="notebook.py")
    in_markdown = "# %% [markdown]\n# BEGIN SOLUTION\n"
    with pytest.raises(MarkerError, match="solution markers belong in code cells"):
        build_notebook(parse_source(in_markdown), student=True, filename="notebook.py")


# ---------------------------------------------------------------------------------------------
# the repository's notebooks

def test_every_assignment_has_a_notebook(repo):
    assert set(repo.names()) <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_committed_student_notebook_is_current(repo, name):
    assert stale(repo, name) == [], f"run 'autograder notebooks {name}'"
    nb = nbformat.read(student_path(repo, name), as_version=4)
    nbformat.validate(nb)
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", NAMES)
def test_first_code_cell_is_the_setup_for_this_assignment(repo, name):
    source = (repo.root / "assignments" / name / "notebook.py").read_text()
    assert len(re.findall(r"^# %% \[setup\]$", source, re.M)) == 1
    assert "google.colab" not in source  # the setup comes from the template, not a copy
    nb = nbformat.read(student_path(repo, name), as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code").source
    assert setup.startswith(setup_source(name))
    assert f'os.chdir("/content/{name}")' in setup and f"upload {name}-starter.zip" in setup
    assert not any(other in setup for other in NAMES if other != name)


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_leaks_no_solution_text(repo, name):
    assert leaks(repo, name) == []
    assert "BEGIN SOLUTION" not in student_path(repo, name).read_text()


@pytest.mark.parametrize("name", NAMES)
def test_a_planted_solution_line_is_found(repo, name):
    module = sorted(repo.solution_dir(name).glob("*.py"))[0]
    line = next(line for line in strip_solution_text(module.read_text()) if len(line) > 30)
    nb = json.loads(expected_student(repo, name))
    nb["cells"][-1]["source"] = nb["cells"][-1]["source"] + ["\n", line]
    assert any(line in found for found in leaks(repo, name, json.dumps(nb)))


@pytest.mark.parametrize("name", NAMES)
def test_a_check_cell_follows_every_publicly_checked_function(repo, name):
    nb = nbformat.read(student_path(repo, name), as_version=4)
    checked = [m for c in nb.cells if c.cell_type == "code" for m in re.findall(r'^check\("(\w+)"\)', c.source, re.M)]
    public = list(dict.fromkeys(t.graded for t in repo.spec(name).tests if t.visibility == "public"))
    assert checked == public


def test_cli_check_fails_on_a_hand_edited_notebook_and_regenerating_repairs_it(tmp_path, capsys, monkeypatch):
    for part in ("assignments", "solutions", "starter"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    assert main(["notebooks", "--check"]) == 0
    path = tmp_path / "starter" / "rnn" / "rnn.ipynb"
    path.write_text(path.read_text().replace("Recurrent networks", "Recurrent nets"))
    assert main(["notebooks", "--check"]) == 1
    assert "starter/rnn/rnn.ipynb differs from what assignments/rnn/notebook.py generates" in capsys.readouterr().err
    with pytest.raises(BuildError, match="rnn: starter/rnn/rnn.ipynb differs"):
        starter_entries(Repo(tmp_path), "rnn", b"# README\n")
    assert main(["notebooks", "rnn"]) == 0
    assert main(["notebooks", "--check"]) == 0
    assert write_student(Repo(tmp_path), "rnn") is False


def test_starter_gets_the_notebook_and_a_readme_section(repo):
    entries = starter_entries(repo, "rnn", b"# Title\n\nText.\n")
    assert entries["rnn.ipynb"] == student_path(repo, "rnn").read_bytes()
    readme = entries["README.md"].decode()
    assert readme.startswith("# Title\n\nText.\n") and "## The notebook" in readme
    assert "jupyter lab rnn.ipynb" in readme and "rnn-starter.zip" in readme

