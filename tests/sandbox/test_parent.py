"""The sandbox: a forked child per test that survives anything the student's code does."""

import dataclasses
import os
import textwrap
import time

import numpy as np
import pytest

from tests.helpers.workdirs import prepare_workdir
from autograder.sandbox.parent import Child, ChildJob
from autograder.spec.model import Limits

PROBES = textwrap.dedent('''
    import numpy as np

    def call(m, c, p):
        return {"y": m.f(c["x"])}

    def with_params(m, c, p):
        return {"y": m.f(c["x"]) * p["scale"]}
''')


def make_child(tmp_path, student_source, timeout=5.0, limits=Limits(), user=None):
    sub = tmp_path / "sub"
    sub.mkdir(exist_ok=True)
    (sub / "mod.py").write_text(textwrap.dedent(student_source))
    probes = tmp_path / "probes.py"
    probes.write_text(PROBES)
    workdir = prepare_workdir({"mod.py": sub / "mod.py"}, tmp_path / "no-support")
    return Child(ChildJob(workdir, str(probes), ("mod",), limits, timeout, user=user))


def call(child, probe="call", x=None, timeout=5.0, **kw):
    x = np.arange(6.0).reshape(2, 3) if x is None else x
    return child.call("mod", probe, {"x": x}, time.monotonic() + timeout, **kw)


def test_plain_call_returns_arrays_and_params_reach_the_probe(tmp_path):
    child = make_child(tmp_path, "def f(x):\n    return x * 2\n")
    try:
        reply = call(child)
        assert reply.failure is None
        np.testing.assert_array_equal(reply.outputs["y"], np.arange(6.0).reshape(2, 3) * 2)
        reply = call(child, "with_params", params={"scale": 3})
        np.testing.assert_array_equal(reply.outputs["y"], np.arange(6.0).reshape(2, 3) * 6)
    finally:
        child.close()


def test_exception_names_type_message_and_the_students_line(tmp_path):
    child = make_child(tmp_path, "def f(x):\n    y = x + 1\n    raise ValueError('shapes do not match')\n")
    try:
        reply = call(child)
    finally:
        child.close()
    assert reply.failure == "error"
    assert reply.error["type"] == "ValueError"
    assert reply.error["message"] == "shapes do not match"
    assert reply.error["where"] == {"file": "mod.py", "line": 3, "code": "raise ValueError('shapes do not match')",
                                    "function": "f"}


def test_a_failed_call_leaves_the_child_serving_the_next_one(tmp_path):
    child = make_child(tmp_path, "def f(x):\n    if x.sum() < 0:\n        raise KeyError('neg')\n    return x\n")
    try:
        assert call(child, x=-np.ones(2)).failure == "error"
        assert call(child, x=np.ones(2)).failure is None
    finally:
        child.close()


@pytest.mark.parametrize("source, kind, etype", [
    ("import sys\nsys.exit(3)\ndef f(x):\n    return x\n", "import", "SystemExit"),
    ("def f(x:\n    return x\n", "import", "SyntaxError"),
    ("import no_such_module_here\n", "import", "ModuleNotFoundError"),
    ("def f(x):\n    raise SystemExit(1)\n", "error", "SystemExit"),
    ("def f(x):\n    raise KeyboardInterrupt\n", "error", "KeyboardInterrupt"),
])
def test_exits_and_import_failures_are_reported_not_fatal(tmp_path, source, kind, etype):
    child = make_child(tmp_path, source)
    try:
        reply = call(child)
    finally:
        child.close()
    assert reply.failure == kind
    assert reply.error["type"] == etype


def test_syntax_error_points_at_the_students_line(tmp_path):
    child = make_child(tmp_path, "import numpy as np\n\ndef f(x:\n    return x\n")
    try:
        reply = call(child)
    finally:
        child.close()
    assert reply.error["where"]["file"] == "mod.py"
    assert reply.error["where"]["line"] == 3


def test_os_exit_is_a_death_with_its_code(tmp_path):
    child = make_child(tmp_path, "import os\ndef f(x):\n    os._exit(7)\n")
    try:
        reply = call(child)
    finally:
        child.close()
    assert reply.failure == "died"
    assert "code 7" in reply.detail


def test_a_signal_is_named(tmp_path):
    child = make_child(tmp_path, "import os, signal\ndef f(x):\n    os.kill(os.getpid(), signal.SIGSEGV)\n")
    try:
        reply = call(child)
    finally:
        child.close()
    assert reply.failure == "died"
    assert "SIGSEGV" in reply.detail


def test_endless_loop_times_out_and_the_child_is_gone(tmp_path):
    child = make_child(tmp_path, "def f(x):\n    while True:\n        pass\n")
    reply = call(child, timeout=1.0)
    child.close()
    assert reply.failure == "timeout"
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)


def test_processes_the_student_starts_die_with_the_test(tmp_path):
    child = make_child(tmp_path, '''
        import subprocess
        import numpy as np
        def f(x):
            proc = subprocess.Popen(["sleep", "60"])
            return np.array(proc.pid)
    ''')
    reply = call(child)
    child.close()
    assert reply.failure is None
    pid = int(reply.outputs["y"])
    time.sleep(0.05)
    gone = False
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            gone = f.read().split()[2] == "Z"  # a zombie waiting for init is dead
    except ProcessLookupError:
        gone = True
    assert gone


def test_huge_output_is_truncated_and_changes_nothing_else(tmp_path):
    child = make_child(tmp_path, "def f(x):\n    print('A' * 20_000_000)\n    return x\n",
                       limits=Limits(output_kb=2))
    try:
        reply = call(child, timeout=20)
    finally:
        child.close()
    assert reply.failure is None
    text = child.printed()
    assert text.startswith("A" * 100)
    assert len(text) < 3000
    assert "more bytes of output not shown" in text


@pytest.mark.parametrize("ret, fragment", [
    ("[1, 2, 3]", "is a list"),
    ("np.array([object()], dtype=object)", "dtype object"),
    ("np.array(['a'])", "dtype <U1"),
    ("np.ma.masked_array([1.0])", "subclass of numpy.ndarray"),
    ("None", "is a NoneType"),
])
def test_values_that_are_not_plain_arrays_are_refused_by_name(tmp_path, ret, fragment):
    child = make_child(tmp_path, f"import numpy as np\ndef f(x):\n    return {ret}\n")
    try:
        reply = call(child)
    finally:
        child.close()
    assert reply.failure == "output"
    assert "'y'" in reply.error["message"]
    assert fragment in reply.error["message"]


def test_a_reply_over_the_size_limit_is_refused(tmp_path):
    child = make_child(tmp_path, "import numpy as np\ndef f(x):\n    return np.zeros(3 * 2**20 // 8)\n",
                       limits=Limits(result_mb=1))
    try:
        reply = call(child)
    finally:
        child.close()
    assert reply.failure == "protocol"
    assert "over the limit" in reply.detail


def test_in_place_modification_is_visible_to_the_grader(tmp_path):
    child = make_child(tmp_path, "def f(x):\n    x += 1\n    return x\n")
    try:
        reply = call(child, return_inputs=True)
    finally:
        child.close()
    np.testing.assert_array_equal(reply.inputs_after["x"], np.arange(6.0).reshape(2, 3) + 1)


def test_memory_bomb_fails_with_memory_error_and_grader_lives(tmp_path):
    child = make_child(tmp_path, "import numpy as np\ndef f(x):\n    return np.ones((40_000, 40_000))\n",
                       limits=Limits(memory_mb=256))
    try:
        reply = call(child)
    finally:
        child.close()
    assert reply.failure == "error"
    assert reply.error["type"] in ("MemoryError", "_ArrayMemoryError")


def test_a_process_that_escapes_with_setsid_and_double_fork_is_killed(tmp_path):
    child = make_child(tmp_path, '''
        import os, time
        import numpy as np
        def f(x):
            r, w = os.pipe()
            if os.fork() == 0:          # first fork: leaves the session
                os.setsid()
                if os.fork() == 0:      # second fork: a daemon whose parent exits
                    os.write(w, str(os.getpid()).encode().ljust(16))
                    time.sleep(120)
                    os._exit(0)
                os._exit(0)
            pid = int(os.read(r, 16).decode())
            time.sleep(0.2)             # let the middle process exit: the daemon is now an orphan
            return np.array(pid)
    ''')
    reply = call(child)
    child.close()
    assert reply.failure is None, reply.error
    pid = int(reply.outputs["y"])
    alive = True
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            alive = f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        alive = False
    assert not alive


def test_a_child_that_closes_its_reply_pipe_and_hangs_does_not_hang_the_grader(tmp_path):
    child = make_child(tmp_path, '''
        import os
        def f(x):
            for fd in range(3, 64):
                try:
                    os.close(fd)
                except OSError:
                    pass
            while True:
                pass
    ''')
    reply = call(child, timeout=30)
    child.close()
    assert reply.failure == "died"
    assert "SIGKILL" in reply.detail


def test_the_first_child_leaves_bytecode_that_later_children_load(tmp_path):
    child = make_child(tmp_path, "def f(x):\n    return x * 2\n")
    workdir = child.job.workdir
    try:
        assert call(child).failure is None
    finally:
        child.close()
    pyc = [p for p in os.listdir(os.path.join(workdir, "__pycache__")) if p.startswith("mod.")]
    assert len(pyc) == 1, "the first child wrote no bytecode for the submission"
    st = os.stat(os.path.join(workdir, "__pycache__"))
    if os.geteuid() == 0:  # only the sandbox user may write there, never into the workdir itself
        from autograder.sandbox.harden import sandbox_ids
        assert (st.st_uid, st.st_gid) == sandbox_ids()
        assert os.stat(workdir).st_uid == 0 and os.stat(workdir).st_mode & 0o022 == 0
    # A second child of the same grade imports the module from that bytecode: it is not compiled
    # again (the pyc file is left as it was) and still behaves the same.
    stamp = os.stat(os.path.join(workdir, "__pycache__", pyc[0])).st_mtime_ns
    second = Child(child.job)
    try:
        reply = call(second)
        assert reply.failure is None
        np.testing.assert_array_equal(reply.outputs["y"], np.arange(6.0).reshape(2, 3) * 2)
    finally:
        second.close()
    assert os.stat(os.path.join(workdir, "__pycache__", pyc[0])).st_mtime_ns == stamp


def test_call_many_answers_each_input_set_in_order_in_one_round_trip(tmp_path):
    child = make_child(tmp_path, "CALLS = []\ndef f(x):\n    CALLS.append(1)\n    return x * len(CALLS)\n")
    batch = [{"x": np.full(2, float(i))} for i in range(3)]
    try:
        reply = child.call_many("mod", "call", batch, time.monotonic() + 5)
        assert reply.failure is None
        # one probe call per set, in order, in the same process (the counter keeps going)
        assert [r["y"].tolist() for r in reply.many] == [[0.0, 0.0], [2.0, 2.0], [6.0, 6.0]]
    finally:
        child.close()


def test_call_many_fails_as_a_whole_at_the_first_failing_set(tmp_path):
    child = make_child(tmp_path, "def f(x):\n    if x[0] < 0:\n        raise ValueError('negative')\n    return x\n")
    batch = [{"x": np.ones(2)}, {"x": -np.ones(2)}, {"x": np.ones(2)}]
    try:
        reply = child.call_many("mod", "call", batch, time.monotonic() + 5)
    finally:
        child.close()
    assert reply.failure == "error" and reply.many == []
    assert reply.error["type"] == "ValueError" and reply.error["where"]["line"] == 3


def test_a_child_closed_without_waiting_is_gone_with_what_it_started_once_reaped(tmp_path):
    from autograder.sandbox.parent import reap_pending

    source = """
        import os, time
        def f(x):
            pid = os.fork()
            if pid == 0:
                os.setsid()
                time.sleep(60)
                os._exit(0)
            return x * 0 + pid
    """
    child = make_child(tmp_path, source)
    reply = call(child)
    escaped = int(reply.outputs["y"].flat[0])
    child.close(wait=False)
    assert child.dead
    reap_pending()
    for pid in (child.pid, escaped):
        deadline = time.monotonic() + 2
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not os.path.exists(f"/proc/{pid}"), f"process {pid} survived (or was not reaped)"


USERS_SOURCE = '''
    import os, time
    import numpy as np
    def f(x):
        if x[0] == 0:  # hold as many processes as the limit allows
            held = 0
            while held < 100:
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                held += 1
            return np.array([os.getpid(), held, os.getuid()])
        try:  # signal the holder, then start one process
            os.kill(int(x[1]), 0)
            signalled = 1
        except PermissionError:
            signalled = 0
        try:
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
            forked = 1
        except OSError:
            forked = 0
        return np.array([signalled, forked, os.getuid()])
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: sandbox users exist only when grading as root")
def test_children_of_different_sandbox_users_cannot_signal_each_other_or_share_a_process_limit(tmp_path):
    """Needs root. A child running as autograder-student-1 holds every process its limit allows;
    a child running as autograder-student-2 (as a second batch worker's would) can neither signal
    it nor is it short of processes, while one more child of the first user can do both."""
    from autograder.sandbox import users

    for name in ("autograder-student-1", "autograder-student-2"):
        assert users.create(name) is None
    limits = Limits(processes=4)
    holder = make_child(tmp_path, USERS_SOURCE, limits=limits, user="autograder-student-1")
    others = {}
    try:  # all alive at once: ending one child also ends what is left of other tests
        pid, held, uid = call(holder, x=np.array([0.0, 0.0])).outputs["y"]
        assert held == limits.processes - 1  # the child itself counts
        for user in ("autograder-student-2", "autograder-student-1"):
            others[user] = Child(dataclasses.replace(holder.job, user=user))
        results = {}
        for user, other in others.items():
            reply = call(other, x=np.array([1.0, float(pid)]))
            assert reply.failure is None, (user, reply)
            results[user] = reply.outputs["y"].tolist()
    finally:
        for child in [holder, *others.values()]:
            child.close()
    signalled, forked, other_uid = results["autograder-student-2"]
    assert (signalled, forked) == (0, 1) and other_uid != uid
    assert results["autograder-student-1"] == [1, 0, uid]  # same user: it may signal, and has no process left
