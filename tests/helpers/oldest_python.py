"""The oldest Python the project claims (pyproject's requires-python), found on this machine, and a
virtual environment of it with only what Gradescope's image gets from setup.sh (the numpy pin),
plus pytest for the starter's self-check.

Looked for in this order: $AUTOGRADER_PY310 (set by .ci/run from pyenv), `python3.10` on PATH,
pyenv's versions ($PYENV_ROOT or ~/.pyenv). Not found: the test is skipped on a developer's
machine, and fails under CI=true, so CI never passes without having run it.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT


def claimed_minimum() -> str:
    """"3.10" from `requires-python = ">=3.10"`."""
    text = (ROOT / "pyproject.toml").read_text()
    m = re.search(r'^requires-python\s*=\s*">=\s*(\d+\.\d+)"', text, re.M)
    assert m, "pyproject.toml has no requires-python = \">=X.Y\""
    return m.group(1)


def _version(python: str) -> str:
    try:
        proc = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=60)
    except OSError:
        return ""
    return proc.stdout.strip()


def find(version: str) -> str | None:
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = [os.environ.get("AUTOGRADER_PY310"), shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"), reverse=True)
    for python in candidates:
        if python and os.access(python, os.X_OK) and _version(python) == version:
            return python
    return None


def require() -> str:
    """The interpreter of the claimed minimum; skip (or, under CI=true, fail) when there is none."""
    version = claimed_minimum()
    python = find(version)
    if python is None:
        where = f"$AUTOGRADER_PY310, python{version} on PATH, pyenv's versions/{version}.*"
        message = (f"no Python {version} interpreter found (looked at {where}); install one, for example "
                   f"`pyenv install {version}`, or set AUTOGRADER_PY310")
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: " + message, pytrace=False)
        pytest.skip(message)
    return python


def venv(packages: list[str]) -> Path:
    """The python of a venv of the oldest Python with `packages`, kept in .cache/ between runs."""
    python = require()
    key = re.sub(r"[^A-Za-z0-9.=_-]+", "_", "-".join([_version(python), *packages]))
    dest = ROOT / ".cache" / f"venv-{key}"
    if not (dest / "ready").is_file():
        shutil.rmtree(dest, ignore_errors=True)  # left half made by an interrupted run
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".venv-staging-", dir=dest.parent))
        try:
            subprocess.run([python, "-m", "venv", str(tmp / "env")], check=True, capture_output=True, timeout=300)
            proc = subprocess.run([str(tmp / "env" / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                   "--disable-pip-version-check", *packages],
                                  capture_output=True, text=True, timeout=900)
            assert proc.returncode == 0, f"pip install {' '.join(packages)} for Python {version_of(python)}:\n" \
                                         f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            (tmp / "env" / "ready").write_text("\n".join(packages) + "\n")
            try:
                (tmp / "env").rename(dest)
            except OSError:  # another process finished first
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest / "bin" / "python"


def version_of(python) -> str:
    return _version(str(python))
