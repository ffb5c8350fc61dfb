"""autograder/template.py and forkserver.py: the clean process that forks every child."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from autograder.sandbox import template
from autograder.sandbox.parent import Child
from autograder.sandbox.template import Template, TemplateError

from tests.helpers.paths import ROOT
from tests.sandbox.test_parent import call, make_child

PARENTS = '''
    import os, sys
    import numpy as np
    def f(x):
        return np.array([os.getppid(), os.getpid(), int("colorsys" in sys.modules), len(os.environ.get("AG_SEEN", ""))])
'''


def test_children_are_forked_by_the_template_not_by_the_grader(tmp_path):
    """The child's parent is this process's template, a fresh interpreter running the fork server."""
    child = make_child(tmp_path, PARENTS)
    try:
        parent, pid, _, _ = call(child).outputs["y"]
    finally:
        child.close()
    assert parent != os.getpid() and parent == template.shared().pid
    with open(f"/proc/{parent}/cmdline", "rb") as f:
        assert b"autograder.sandbox.forkserver" in f.read()
    assert not os.path.exists(f"/proc/{pid}"), "the child was not reaped"


def test_the_environment_and_modules_asked_for_since_reach_the_next_child(tmp_path, monkeypatch):
    """The spare child forked ahead of time is retired when the grader asks for a module it lacks;
    the grader's environment at the time of the test, not the template's, is the child's."""
    first = make_child(tmp_path, PARENTS)
    first.close()  # a spare now waits, forked before colorsys was asked for
    template.warm(("colorsys",))
    monkeypatch.setenv("AG_SEEN", "four")
    child = make_child(tmp_path, PARENTS)
    try:
        _, _, has_colorsys, seen = call(child).outputs["y"]
    finally:
        child.close()
    assert has_colorsys == 1 and seen == 4


def test_a_template_that_died_is_replaced(tmp_path):
    old = template.shared()
    old_pid = old.pid
    os.kill(old_pid, 9)
    deadline = time.monotonic() + 5
    while old.alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    child = make_child(tmp_path, PARENTS)
    try:
        parent = call(child).outputs["y"][0]
    finally:
        child.close()
    assert parent == template.shared().pid != old_pid


def test_a_module_the_template_cannot_import_fails_every_fork_naming_it(tmp_path):
    own = Template.start()
    try:
        own.warm(["no_such_module_for_the_template"])
        made = make_child(tmp_path, PARENTS)  # (that child came from the shared template)
        made.close()  # only its job is wanted
        job = made.job
        with pytest.raises(TemplateError, match="could not import no_such_module_for_the_template"):
            Child(job, forker=own)
    finally:
        own.close()
    assert not own.alive()


def test_prestart_forks_the_template_from_the_calling_process(tmp_path):
    """As the `grade` and `gradescope` entry points do before loading a bundle: the template is a
    fork of the caller (no second interpreter start), and serves children as the other one does."""
    code = f"""
import os, sys, textwrap, time
sys.path[:0] = [{str(ROOT)!r}]
from autograder.sandbox import template
t = template.prestart()
assert t._proc is None and open(f"/proc/{{t.pid}}/stat").read().split()[3] == str(os.getpid())
from pathlib import Path
from tests.sandbox.test_parent import make_child, call
from tests.sandbox import test_template
child = make_child(Path({str(tmp_path)!r}), test_template.PARENTS)
print(int(call(child).outputs["y"][0]) == t.pid)
child.close()
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "True", proc.stderr[-2000:]
