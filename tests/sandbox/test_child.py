"""autograder/sandbox/child.py: what a child sends back, and its request loop.

The loop is driven here without the template: the test forks, the forked process runs `serve`
(not as root: no mount namespace, no user switch), and the test speaks the protocol over pipes."""

import os
import textwrap
import time

import numpy as np
import pytest
import torch

from autograder.sandbox.child import ChildJob, NotPlain, probes_code, serve, to_plain
from autograder.sandbox.protocol import pack, read_frame_blocking
from autograder.spec.model import Limits

# ----------------------------------------------------------------------------------- to_plain


@pytest.mark.parametrize("value, dtype, shape", [
    (np.arange(6.0).reshape(2, 3), np.float64, (2, 3)),
    (np.int32(4), np.int32, ()),
    (True, np.bool_, ()),
    (2.5, np.float64, ()),
    (torch.ones(2, 2, dtype=torch.float32), np.float32, (2, 2)),
    (torch.nn.Parameter(torch.zeros(3)), np.float32, (3,)),
])
def test_numbers_arrays_and_tensors_become_plain_arrays(value, dtype, shape):
    arr = to_plain("y", value)
    assert type(arr) is np.ndarray and arr.dtype == dtype and arr.shape == shape


def test_a_tensor_with_a_pending_negation_or_on_autograd_comes_back_as_its_values():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    np.testing.assert_array_equal(to_plain("y", x * 3), [3.0, -6.0])
    z = torch.tensor([1 + 2j]).conj().imag  # a lazily negated view
    np.testing.assert_array_equal(to_plain("y", z), [-2.0])


@pytest.mark.parametrize("value, says", [
    (np.ma.masked_array([1.0, 2.0]), "'y' is a MaskedArray (a subclass of numpy.ndarray); return a plain numpy array"),
    ([1.0, 2.0], "'y' is a list, expected an array"),
    ("1.0", "'y' is a str, expected an array"),
    (np.array(["a"]), "'y' has dtype <U1; expected numbers"),
    (np.array([object()]), "'y' has dtype object; expected numbers"),
    (np.array([1j]), "'y' has dtype complex128; expected numbers"),
])
def test_anything_else_is_refused_by_name(value, says):
    with pytest.raises(NotPlain) as err:
        to_plain("y", value)
    assert str(err.value).startswith(says)


def test_probes_are_compiled_once_per_version_of_the_file(tmp_path):
    path = tmp_path / "probes.py"
    path.write_text("A = 1\n")
    first = probes_code(str(path))
    assert probes_code(str(path)) is first
    path.write_text("A = 22\n")  # another size: another version
    second = probes_code(str(path))
    assert second is not first
    scope = {}
    exec(second, scope)
    assert scope["A"] == 22


# ----------------------------------------------------------------------------------- serve

PROBES = '''
import numpy as np

def double(m, c, p):
    return {"y": m.f(c["x"]) * p.get("scale", 1)}

def noise(m, c, p):
    return {"r": np.random.rand(3)}

def not_a_dict(m, c, p):
    return [1, 2]

def text(m, c, p):
    return {"y": "words"}

def crash(m, c, p):
    return {"y": m.g(c["x"])}

def numpy_crash(m, c, p):
    return {"y": m.h(c["x"])}

def probe_error(m, c, p):
    raise KeyError("the probe's own")

def env(m, c, p):
    import os
    return {"n": np.array(len(os.environ.get("CHILD_TEST_MARK", "")))}
'''

STUDENT = '''
def f(x):
    return x * 2


def g(x):
    y = x + 1
    raise ValueError("shapes do not match")


def h(x):
    import numpy as np
    return np.reshape(x, (7, 7))
'''


class Served:
    """A forked process running serve(job); `ask` sends one request and reads its reply."""

    def __init__(self, tmp_path, student=STUDENT, env=None):
        work = tmp_path / "work"
        work.mkdir()
        (work / "mod.py").write_text(textwrap.dedent(student))
        (tmp_path / "probes.py").write_text(PROBES)
        self.job = ChildJob(str(work), str(tmp_path / "probes.py"), ("mod",), Limits(), 10.0, env=env)
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        self.out_r, out_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover (the forked process; serve never returns)
            serve(self.job, req_r, rep_w, out_w)
        for fd in (req_r, rep_w, out_w):
            os.close(fd)

    def ask(self, probe, x=None, seed=0, return_inputs=False, params=None, batch=None):
        meta = {"module": "mod", "probe": probe, "seed": seed, "return_inputs": return_inputs, "params": params or {}}
        arrays = {"x": np.arange(6.0).reshape(2, 3) if x is None else x}
        if batch is not None:
            meta["batch"] = len(batch)
            arrays = {f"{i}/{k}": v for i, one in enumerate(batch) for k, v in one.items()}
        os.write(self.req_w, pack(meta, arrays))
        return read_frame_blocking(self.rep_r)

    def finish(self) -> int:
        """Close the request pipe (EOF); the exit code of the child."""
        os.close(self.req_w)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.rep_r)
                os.close(self.out_r)
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.02)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        raise AssertionError("the child did not exit at the end of its requests")


@pytest.fixture
def served(tmp_path):
    made = []

    def start(**kw):
        made.append(Served(tmp_path, **kw))
        return made[-1]

    yield start
    for s in made:
        try:
            os.kill(s.pid, 9)
            os.waitpid(s.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def test_a_call_sends_back_its_outputs_and_the_child_exits_cleanly_at_eof(served):
    child = served()
    meta, arrays = child.ask("double", params={"scale": 3})
    assert meta["ok"] is True and meta["banned"] == []
    assert set(arrays) == {"out/y"}
    np.testing.assert_array_equal(arrays["out/y"], np.arange(6.0).reshape(2, 3) * 6)
    meta, arrays = child.ask("double", return_inputs=True)
    assert set(arrays) == {"out/y", "in/x"}  # what the probe's inputs were after the call
    assert child.finish() == 0


def test_each_call_is_seeded_from_its_request(served):
    child = served()
    a = child.ask("noise", seed=5)[1]["out/r"]
    b = child.ask("noise", seed=5)[1]["out/r"]
    c = child.ask("noise", seed=6)[1]["out/r"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    child.finish()


def test_failures_are_described_by_stage_with_the_students_own_line(served):
    child = served()
    meta, arrays = child.ask("crash")
    assert meta["ok"] is False and arrays == {}
    error = meta["error"]
    assert (error["type"], error["message"], error["stage"]) == ("ValueError", "shapes do not match", "call")
    assert error["where"] == {"file": "mod.py", "line": 8, "code": 'raise ValueError("shapes do not match")',
                              "function": "g"}
    where = child.ask("numpy_crash")[0]["error"]["where"]  # raised inside numpy: the student's line that called it
    assert (where["file"], where["line"], where["function"]) == ("mod.py", 13, "h")
    assert child.ask("probe_error")[0]["error"]["where"] is None  # not the student's code: no line of theirs
    error = child.ask("not_a_dict")[0]["error"]
    assert error["type"] == "TypeError" and error["message"] == "probe not_a_dict returned list, not a dict"
    error = child.ask("text")[0]["error"]
    assert (error["type"], error["stage"]) == ("WrongType", "output") and "'y' is a str" in error["message"]
    error = child.ask("no_such_probe")[0]["error"]
    assert (error["type"], error["stage"]) == ("GraderError", "internal") and "no_such_probe" in error["message"]
    meta, arrays = child.ask("double")  # and the child goes on serving
    assert meta["ok"] is True
    child.finish()


def test_a_batch_runs_the_probe_on_each_input_set_and_stops_at_the_first_failure(served):
    child = served()
    sets = [{"x": np.full(2, float(i))} for i in range(3)]
    meta, arrays = child.ask("double", batch=sets)
    assert meta["ok"] is True and sorted(arrays) == ["0/out/y", "1/out/y", "2/out/y"]
    np.testing.assert_array_equal(arrays["2/out/y"], [4.0, 4.0])
    meta, arrays = child.ask("crash", batch=sets)
    assert meta["ok"] is False and meta["error"]["type"] == "ValueError"
    child.finish()


def test_an_import_failure_answers_every_request_with_the_same_error(served):
    child = served(student="import sys\nx = 1\nraise RuntimeError('at import')\n")
    for _ in range(2):
        meta, _ = child.ask("double")
        error = meta["error"]
        assert meta["ok"] is False
        assert (error["stage"], error["module"], error["type"]) == ("import", "mod", "RuntimeError")
        assert error["where"]["line"] == 3
    child.finish()


def test_the_child_runs_with_the_environment_of_its_job(served, monkeypatch):
    monkeypatch.setenv("CHILD_TEST_MARK", "from the process that forked")
    child = served(env={"CHILD_TEST_MARK": "abc", "PATH": os.environ["PATH"]})
    assert int(child.ask("env")[1]["out/n"]) == 3
    child.finish()
