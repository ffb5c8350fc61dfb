"""autograder/build/package.py: parallel builds, their argument errors, and the setup.sh a zip ships."""

import pytest

from autograder.cli import main

from tests.test_cli import copy_repo


def test_parallel_build_reports_every_failed_assignment_and_writes_nothing(tmp_path, capfd, monkeypatch):
    repo = copy_repo(tmp_path / "repo")
    for name, stub in (("rnn", "rnn_layers.py"), ("attention", "attention.py")):
        path = repo / "starter" / name / stub
        path.write_text(path.read_text() + "\n# edited by hand\n")
    monkeypatch.chdir(repo)
    monkeypatch.delenv("AUTOGRADER_REPO", raising=False)
    assert main(["build", "rnn", "attention", "--jobs", "2", "--out", str(tmp_path / "dist")]) == 1
    captured = capfd.readouterr()
    assert "rnn: starter/ is stale" in captured.err and "attention: starter/ is stale" in captured.err
    assert "build failed for: attention, rnn (see the messages above)" in captured.out
    assert list((tmp_path / "dist").glob("*.zip")) == []


@pytest.mark.parametrize("argv, message", [
    (["build", "--jobs", "0"], "--jobs 0: give at least 1"),
    (["build", "nosuch"], "unknown assignment 'nosuch'"),
])
def test_build_argument_errors(argv, message, capsys, monkeypatch):
    from tests.helpers.paths import ROOT

    monkeypatch.chdir(ROOT)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


# ----------------------------------------------------------------------------- setup.sh


def test_torch_setup_asks_the_cpu_only_index_first_with_the_same_pins():
    from autograder.build.package import CPU_INDEX, PINS, setup_script

    text = setup_script("torch")
    assert CPU_INDEX == "https://download.pytorch.org/whl/cpu"
    first = text.index(f"--no-deps --index-url {CPU_INDEX} torch==2.13.0")
    pinned = text.index("$PIP numpy==2.2.6 torch==2.13.0")
    assert first < pinned  # torch+cpu is in place before the pinned install, which then only adds its dependencies
    assert PINS["torch"] == ["numpy==2.2.6", "torch==2.13.0"]
    numpy_only = setup_script("numpy")
    assert "torch" not in numpy_only and "$PIP numpy==2.2.6\n" in numpy_only


FAKE_PYTHON = """#!/usr/bin/env bash
# Stands in for python3: records each call; `pip install` fails when MODE says the index does.
echo "$*" >> "$LOG"
if [ "$1 $2 $3" = "-m pip install" ]; then
    case "$*" in *--index-url*) [ "$MODE" = "unreachable" ] && { echo "ERROR: no network" >&2; exit 1; } ;; esac
fi
exit 0
"""


@pytest.mark.parametrize("mode", ["reachable", "unreachable"])
def test_setup_sh_falls_back_to_the_default_index_with_a_log_line(tmp_path, mode):
    import os
    import subprocess

    from autograder.build.package import setup_script

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool, body in (("python3", FAKE_PYTHON), ("id", "#!/bin/sh\nexit 0\n"), ("useradd", "#!/bin/sh\nexit 0\n")):
        (bin_dir / tool).write_text(body)
        (bin_dir / tool).chmod(0o755)
    src = tmp_path / "source"
    src.mkdir()
    (src / "setup.sh").write_text(setup_script("torch"))
    log = tmp_path / "calls.log"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", LOG=str(log), MODE=mode)
    proc = subprocess.run(["bash", str(src / "setup.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    installs = [line for line in log.read_text().splitlines() if line.startswith("-m pip install")]
    assert installs == [
        "-m pip install --no-cache-dir --disable-pip-version-check --no-deps --index-url "
        "https://download.pytorch.org/whl/cpu torch==2.13.0",
        "-m pip install --no-cache-dir --disable-pip-version-check numpy==2.2.6 torch==2.13.0"]
    fallback = ("setup.sh: could not install torch==2.13.0 from PyTorch's CPU-only index "
                "https://download.pytorch.org/whl/cpu; falling back to the default index")
    assert (fallback in proc.stderr) == (mode == "unreachable")
