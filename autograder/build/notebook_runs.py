"""Running a notebook against the reference: a scratch folder laid out like an unzipped starter
with the reference modules in place of the stubs, executed in a fresh kernel (CI, `autograder
notebooks --figures`), and the images of its cells tagged figure:SLUG."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from pathlib import Path

from autograder.authoring.notebooks import FIGURE_TAG, build_notebook, cells_of, dumps
from autograder.build.stage import stage_bundle
from autograder.core.errors import AutograderError
from autograder.selfcheck.notebook_checks import STRICT_ENV

__all__ = ["stage_run", "execute", "figures", "render_figures"]


def stage_run(repo, name: str, dest: Path, bundle_dir: Path | None = None) -> Path:
    """A fresh folder laid out like an unzipped starter, with the reference modules in place of the
    stubs and a self-check bundle (a copy of `bundle_dir`, else a public bundle staged here);
    returns the path of the solution version of the notebook in it."""
    spec = repo.spec(name)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if bundle_dir is not None:
        shutil.copytree(bundle_dir, dest / "selfcheck")
    else:
        stage_bundle(repo, name, dest / "selfcheck", visibilities=("public",))
    for f in spec.files:
        shutil.copyfile(repo.solution_dir(name) / f, dest / f)
    for f in spec.support:
        shutil.copyfile(repo.assignment_dir(name) / f, dest / f)
    cells, rel = cells_of(repo, name)
    nb_path = dest / f"{name}.ipynb"
    nb_path.write_text(dumps(build_notebook(cells, student=False, filename=rel)), encoding="utf-8")
    return nb_path


def execute(nb_path: Path, timeout: int = 300, strict: bool = True):
    """Run every cell of the notebook at `nb_path` in a fresh python3 kernel started in its folder;
    raises nbclient's CellExecutionError on the first failing cell. Returns the executed notebook
    (also written back to `nb_path`)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(nb_path, as_version=4)
    env = dict(os.environ)  # with autograder's one-thread settings for numpy and torch
    if strict:
        env[STRICT_ENV] = "1"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(nb_path.parent)}})
    try:
        client.execute(env=env)
    finally:
        nb_path.write_text(dumps(nb), encoding="utf-8")
    return nb


def figures(nb, name: str) -> dict[str, bytes]:
    """'NAME-SLUG.png' -> the last PNG shown by each cell tagged figure:SLUG."""
    out = {}
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            if tag.startswith(FIGURE_TAG):
                pngs = [o["data"]["image/png"] for o in cell.get("outputs", [])
                        if "image/png" in o.get("data", {})]
                if not pngs:
                    raise AutograderError(f"{name}: the cell tagged {tag} showed no image")
                out[f"{name}-{tag[len(FIGURE_TAG):]}.png"] = base64.b64decode(pngs[-1])
    return out


def render_figures(repo, name: str, out_dir: Path) -> list[Path]:
    """Run the notebook against the reference and save its tagged figures as out_dir/NAME-SLUG.png."""
    with tempfile.TemporaryDirectory(prefix=f"autograder-notebook-{name}-") as tmp:
        nb = execute(stage_run(repo, name, Path(tmp) / name))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fname, png in figures(nb, name).items():
        (out_dir / fname).write_bytes(png)
        written.append(out_dir / fname)
    return written
