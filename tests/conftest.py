"""Shared fixtures: the repository, the bundles built once per session, and a suite that leaves
nothing behind: no folder in the temporary folder, no process of one test file for the next."""

import getpass
import os
import re
import tempfile
from pathlib import Path

import pytest

from autograder.sandbox import tmpdirs
from autograder.spec.repo import Repo
from tests.helpers import workdirs
from tests.helpers.paths import ROOT


def torch_cache_dir() -> str:
    """Where torch keeps its compiled-kernel cache by default: torchinductor_<user> in the usual
    temporary folder (torch._inductor.runtime.cache_dir_utils.default_cache_dir)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid_{os.getuid()}"
    return os.path.join(tempfile.gettempdir(), "torchinductor_" + re.sub(r'[\\/:*?"<>|]', "_", user))


@pytest.fixture(scope="session", autouse=True)
def suite_tmp(tmp_path_factory):
    """The temporary folder of this run: a fresh folder (mode 1777, as /tmp) that TMPDIR and Python's
    `tempfile` point at, for the engine, the children and every process the tests start. Whatever is
    in it once the run ends was left behind by the suite (other runs on the machine do not count):
    the run fails, naming each entry. The folder is removed either way."""
    tmp_path_factory.getbasetemp()  # pytest's own folders stay where they were
    caches = {"TORCHINDUCTOR_CACHE_DIR": torch_cache_dir()}  # torch's cache too: kept between runs by design
    caches = {k: v for k, v in caches.items() if k not in os.environ}
    os.environ.update(caches)
    root = Path(tempfile.mkdtemp(prefix="autograder-suite-"))
    root.chmod(0o1777)
    saved = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = str(root), str(root)
    before = sorted(os.listdir(root))
    try:
        yield root
    finally:
        from autograder.sandbox.parent import reap_pending

        reap_pending()  # children ended without waiting: their folders go once they are dead
        workdirs.remove_all()
        if saved[0] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved[0]
        tempfile.tempdir = saved[1]
        for name in caches:
            os.environ.pop(name, None)
    left = sorted(set(os.listdir(root)) - set(before))
    tmpdirs.remove(str(root))  # the names say what was left; the folder itself goes either way
    if left:
        pytest.fail(f"the suite left {len(left)} entr{'y' if len(left) == 1 else 'ies'} in its temporary folder: "
                    f"{', '.join(left)} (a test, a fixture or the engine made it and did not remove it)",
                    pytrace=False)


@pytest.fixture(scope="module", autouse=True)
def _no_process_outlives_its_module():
    """What a test file left as a child of this process (a subreaper once anything was graded:
    orphans come to it), such as the helpers of a headless Chromium that outlive it a moment, is
    killed and reaped before the next file, whose tests may count this process's children."""
    from autograder.sandbox import reaper, template

    before = set(reaper.descendants(os.getpid()))
    yield
    ours = set(template.running())  # the template and its spare serve every later grade
    for pid in reaper.descendants(os.getpid()):
        if pid not in before and pid not in ours:
            reaper.kill_everything_from(pid, lambda pid=pid: reaper.reap(pid))


@pytest.fixture(autouse=True)
def _remove_workdirs():
    """Workdirs that tests made by hand (tests/helpers/workdirs.py) go once the test is over."""
    yield
    workdirs.remove_all()


@pytest.fixture(scope="session")
def repo() -> Repo:
    return Repo(ROOT)


@pytest.fixture(scope="session")
def bundles(repo, tmp_path_factory):
    """name -> full bundle (public and hidden data), staged once per session."""
    from autograder.build.stage import stage_bundle

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = stage_bundle(repo, name, tmp_path_factory.mktemp(f"bundle-{name}") / "bundle")
        return cache[name]

    return get
