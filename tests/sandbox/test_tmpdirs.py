"""autograder/sandbox/tmpdirs.py: `remove` takes a folder away whatever code of the same user did
to it, and never follows a link out of it.

Done in a forked process that runs as a plain user (nobody, when the suite runs as root: root's
removal ignores permissions, so only a plain user shows the difference)."""

import os
import tempfile

from autograder.sandbox import tmpdirs

NOBODY = 65534


def as_plain_user(body) -> int:
    """Run body() in a forked process (as nobody when we are root); its exit code (0: body returned True)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the forked process)
        code = 1
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            code = 0 if body() else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_folder_whose_permissions_were_taken_away_is_removed_all_the_same():
    def body():
        top = tempfile.mkdtemp(prefix="autograder-tmp-", dir=tempfile.gettempdir())
        outside = tempfile.mkdtemp(prefix="tmpdirs-outside-", dir=tempfile.gettempdir())
        open(os.path.join(outside, "keep.txt"), "w").close()
        os.makedirs(os.path.join(top, "a", "b"))
        open(os.path.join(top, "a", "b", "f.txt"), "w").close()
        os.symlink(outside, os.path.join(top, "a", "link"))
        os.chmod(os.path.join(top, "a", "b"), 0)  # nothing listed, nothing removed in it
        os.chmod(os.path.join(top, "a"), 0o500)  # nothing removed from it
        os.chmod(top, 0o500)
        tmpdirs.remove(top)
        kept = os.path.exists(os.path.join(outside, "keep.txt"))  # the link was removed, not followed
        os.unlink(os.path.join(outside, "keep.txt"))
        os.rmdir(outside)
        return not os.path.lexists(top) and kept

    assert as_plain_user(body) == 0


def test_remove_of_nothing_or_of_a_folder_already_gone_is_quiet(tmp_path):
    tmpdirs.remove(None)
    tmpdirs.remove("")
    tmpdirs.remove(str(tmp_path / "never-made"))
    made = tmpdirs.make()
    assert os.path.isdir(made) and (os.stat(made).st_mode & 0o777) == 0o700
    tmpdirs.remove(made)
    assert not os.path.exists(made)
