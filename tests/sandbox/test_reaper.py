"""autograder/sandbox/reaper.py: nothing a child starts outlives it, not even a process that called setsid.

Each test starts a small tree of processes with subprocess (in a session of its own, as a sandboxed
child is), ends it with the reaper, and looks in /proc for survivors."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from autograder.sandbox import reaper

# Forks a process that starts a session of its own (leaving the process group and the tree) and
# forks again: the grandchild prints its pid and sleeps, orphaned. The script then goes on with
# what the test appends (sleeping, or exiting at once).
ESCAPE = textwrap.dedent("""
    import os, sys, time
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork():
            os._exit(0)
        print(os.getpid(), flush=True)
        time.sleep(60)
        os._exit(0)
    os.waitpid(pid, 0)
""")


def alive(pid: int) -> bool:
    """A process that runs (a zombie does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def exists(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


def wait_until(cond, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def escaped_pid(proc) -> int:
    """The pid of ESCAPE's grandchild, once it was re-parented to us (we are a subreaper)."""
    line = proc.stdout.readline()
    assert line, "the escaping process printed nothing"
    pid = int(line)
    assert wait_until(lambda: parent_of(pid) == os.getpid()), "the orphan was not re-parented to us"
    return pid


@pytest.fixture
def started():
    procs = []

    def start(code: str, **kw):
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                                start_new_session=True, **kw)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:  # whatever a failing test left
        for pid in [proc.pid, *reaper.descendants(proc.pid)]:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        proc.wait()
    reaper.reap_tree(0, [], lambda: None)


def test_the_grader_can_become_a_subreaper_and_asking_twice_is_harmless():
    assert reaper.become_subreaper() is True
    assert reaper.become_subreaper() is True


def test_descendants_lists_children_before_their_children(started):
    proc = started("import subprocess, sys, time\n"
                   "inner = subprocess.Popen([sys.executable, '-c', 'import subprocess, sys, time; '\n"
                   "    'p = subprocess.Popen([sys.executable, \"-c\", \"import time; time.sleep(60)\"]); '\n"
                   "    'print(p.pid, flush=True); time.sleep(60)'], stdout=subprocess.PIPE, text=True)\n"
                   "print(inner.pid, inner.stdout.readline().strip(), flush=True)\n"
                   "time.sleep(60)\n")
    child, grandchild = map(int, proc.stdout.readline().split())
    assert wait_until(lambda: reaper.descendants(proc.pid) == [child, grandchild])
    assert reaper.descendants(grandchild) == []
    assert reaper.descendants(2**22 + 7) == []  # no such process: nothing, no error


def test_kill_tree_kills_the_process_its_group_and_every_descendant(started):
    assert reaper.become_subreaper()
    proc = started("import os, subprocess, sys, time\n"
                   "if os.fork() == 0:\n"  # a member of the group that is no descendant once orphaned
                   "    if os.fork():\n"
                   "        os._exit(0)\n"
                   "    print('group', os.getpid(), flush=True)\n"
                   "    time.sleep(60)\n"
                   "    os._exit(0)\n"
                   "os.wait()\n"
                   "a = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                   "b = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],\n"
                   "                     start_new_session=True)\n"
                   "print('tree', a.pid, b.pid, flush=True)\n"
                   "time.sleep(60)\n")
    said = dict(proc.stdout.readline().split(" ", 1) for _ in range(2))
    a, b = map(int, said["tree"].split())
    member = int(said["group"])
    assert wait_until(lambda: parent_of(member) == os.getpid())
    tree = reaper.kill_tree(proc.pid)
    assert sorted(tree) == sorted([a, b])
    assert wait_until(lambda: not alive(a) and not alive(b))  # b left the group: killed as a descendant
    assert wait_until(lambda: not alive(member))  # in the group, though no longer in the tree
    proc.wait(timeout=10)
    assert proc.returncode == -9
    reaper.reap_tree(proc.pid, tree, lambda: None)
    assert not exists(a) and not exists(b) and not exists(member)  # killed, and reaped once re-parented to us


def test_a_process_that_escaped_with_setsid_is_killed_and_reaped(started):
    assert reaper.become_subreaper()
    proc = started(ESCAPE + "time.sleep(60)\n")
    escaped = escaped_pid(proc)
    assert alive(escaped) and os.getsid(escaped) not in (os.getsid(0), proc.pid)
    assert escaped not in reaper.descendants(proc.pid)  # no longer in the child's tree

    statuses = []
    reaper.kill_everything_from(proc.pid, lambda: statuses.append(proc.wait(timeout=10)))
    assert statuses == [-9]  # the caller reaps the child itself and keeps its status
    assert not exists(escaped) and not alive(proc.pid)


def test_reap_tree_after_the_child_is_gone_still_finds_what_it_left(started):
    assert reaper.become_subreaper()
    proc = started(ESCAPE)  # exits at once, leaving its escaped grandchild behind
    escaped = escaped_pid(proc)
    proc.wait(timeout=10)
    reaper.reap_tree(proc.pid, [], lambda: None)
    assert not exists(escaped)


def test_reap_is_quiet_about_a_process_that_is_not_ours():
    reaper.reap(1)  # init: not our child
    reaper.reap(2**22 + 7)  # no such process


def test_become_subreaper_asks_again_only_when_told_the_answer_is_stale(monkeypatch):
    from autograder.sandbox import reaper

    asked = []

    class Libc:
        def prctl(self, *args):
            asked.append(args)
            return 0

    monkeypatch.setattr(reaper.ctypes, "CDLL", lambda *a, **k: Libc())
    monkeypatch.setattr(reaper, "_state", {"subreaper": None})
    assert reaper.become_subreaper() and reaper.become_subreaper()
    assert len(asked) == 1  # cached
    assert reaper.become_subreaper(fresh=True)
    assert len(asked) == 2  # after a fork the kernel's flag must be set again
