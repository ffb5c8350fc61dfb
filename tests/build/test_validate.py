"""autograder/build/validate.py: the starter's public bundle checked against the full one."""

import shutil

import numpy as np
import pytest

from autograder.core.arrays import ArrayFile, write_file
from autograder.build.stage import derive_public_bundle
from autograder.build.validate import check_public_part
from autograder.spec.bundle import Bundle
from autograder.core.errors import BuildError


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
