"""autograder/build.py: the starter's public bundle checked against the full one; parallel builds."""

import shutil

import numpy as np
import pytest

from autograder.core.arrays import ArrayFile, write_file
from autograder.build.stage import derive_public_bundle
from autograder.build.validate import check_public_part
from autograder.spec.bundle import Bundle
from autograder.cli import main
from autograder.core.errors import BuildError

from test_cli import copy_repo


@pytest.fixture(scope="module")
def rnn_full(bundles):
    return bundles("rnn")


def test_a_derived_public_bundle_is_the_public_part_of_the_full_one(rnn_full, tmp_path):
    public = derive_public_bundle(rnn_full, tmp_path / "selfcheck")
    check_public_part(public, rnn_full, "rnn")  # raises when it is not


def test_a_changed_public_array_is_refused(rnn_full, tmp_path):
    public_dir = tmp_path / "selfcheck"
    derive_public_bundle(rnn_full, public_dir)
    data = ArrayFile(public_dir / "public.arrays")
    arrays = {k: np.array(data.get(k)) for k in data.names()}
    key = next(k for k in sorted(arrays) if k.startswith("out/"))
    arrays[key] = arrays[key] + 1
    write_file(public_dir / "public.arrays", arrays)
    with pytest.raises(BuildError, match=r"rnn: the starter's self-check bundle does not match .* data of test"):
        check_public_part(Bundle(public_dir), rnn_full, "rnn")


def test_hidden_data_in_the_public_bundle_is_refused(rnn_full, tmp_path):
    public_dir = tmp_path / "selfcheck"
    derive_public_bundle(rnn_full, public_dir)
    shutil.copyfile(rnn_full.root / "hidden.arrays", public_dir / "hidden.arrays")
    with pytest.raises(BuildError, match=r"it holds data files for \('public', 'hidden'\)"):
        check_public_part(Bundle(public_dir), rnn_full, "rnn")


def test_a_public_bundle_missing_a_test_is_refused(rnn_full, tmp_path):
    import json

    public_dir = tmp_path / "selfcheck"
    derive_public_bundle(rnn_full, public_dir)
    data = json.loads((public_dir / "assignment.json").read_text())
    data["tests"] = data["tests"][1:]
    (public_dir / "assignment.json").write_text(json.dumps(data))
    with pytest.raises(BuildError, match="its public tests are not those of the full bundle"):
        check_public_part(Bundle(public_dir), rnn_full, "rnn")


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
    from conftest import ROOT

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


@pytest.mark.parametrize("old, new, message", [
    ("probe: rnn_backward_unchanged, cases: rnn_seq, outputs: [dx, dh0, dWx, dWh, db]",
      "probe: rnn_backward_unchanged, cases: rnn_seq, outputs: [dx, dh0, dWx, dWh, dbias]",
     "test 'rnn_backward: leaves its inputs and cache unchanged' names the output(s) dbias, which the reference's "
     "probe rnn_backward_unchanged does not return on the public case 'small'"),
    ("probe: rnn_step_forward, cases: rnn_step, visibility: public}",
     "probe: rnn_step_forward, cases: rnn_step, visibility: public, trajectory: next_h}",
     "test 'rnn_step_forward: output matches reference': the trajectory 'next_h' must be a 1-d float array of at "
     "least two steps; the reference returned float64 of shape (3, 4)"),
])
def test_a_test_naming_outputs_the_reference_does_not_return_is_refused(tmp_path, old, new, message):
    """An `outputs:` name without a reference value would compare nothing (a property test would then
    pass on its judge alone), and a trajectory must be one value per step: the build says so."""
    from autograder.build.stage import stage_bundle
    from autograder.spec.repo import Repo

    repo = copy_repo(tmp_path / "repo")
    path = repo / "assignments" / "rnn" / "assignment.yaml"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    with pytest.raises(BuildError) as err:
        stage_bundle(Repo(repo), "rnn", tmp_path / "bundle")
    assert message in str(err.value)
