"""Hostile rnn submissions, built from the reference: shared by tests/test_hostile.py (which checks
each one's grade) and tests/regression/record.py (which records what each one's grade says).

Each is the rnn reference with one small edit: a graded function wrapped by hostile code (`wrap`),
or code appended or prepended at module level (longer snippets live in tests/fixtures/hostile/).
Hostile code leaves notes in HOSTILE_DIR through `_record` and `_attempt` (fixtures/hostile/record.py),
so HOSTILE_DIR must name a folder the sandbox user may write whenever one of them is graded.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from autograder.spec.bundle import Bundle

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "rnn"
FIXTURES = ROOT / "tests" / "fixtures" / "hostile"
CONTROL = "rnn_forward"  # an honest function graded next to the hostile one
TARGET = "rnn_backward"  # the hostile one: no other graded function or probe calls it

# Imported by the template for children to inherit: as root they run as the sandbox user, who
# cannot read a Python installed under /root (as on this project's machines).
CHILD_MODULES = ("encodings.idna",  # socket needs it for "127.0.0.1"
                 "numpy.testing")  # numpy loads it lazily, and it imports sysconfig


# --- building hostile submissions ---------------------------------------------------------------

def snippet(name: str) -> str:
    return (FIXTURES / f"{name}.py").read_text()


def wrap(function: str, hostile: str) -> str:
    """Module-level code that redefines `function`: run `hostile`, then the reference's answer."""
    body = textwrap.indent(textwrap.dedent(hostile).strip(), "    ")
    return (f"\n_reference_{function} = {function}\n\n\n"
            f"def {function}(*args, **kwargs):\n{body}\n    return _reference_{function}(*args, **kwargs)\n")


def submission(folder: Path, append: str = "", fname: str = "rnn_layers.py", prepend: str = "") -> dict:
    """The reference solution with hostile code put before or after `fname`'s own code."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in sorted(SOLUTION.glob("*.py")):
        text = f.read_text()
        if f.name == fname:
            text = prepend + text + "\n\n" + snippet("record") + "\n" + textwrap.dedent(append)
        (folder / f.name).write_text(text)
    return {f.name: f for f in sorted(folder.glob("*.py"))}


def returning(expr: str) -> str:
    """Module-level code that makes rnn_backward return `expr` (which may use the reference's answer)."""
    return (f"\n_reference_rnn_backward = rnn_backward\n\n\n"
            f"def rnn_backward(*args, **kwargs):\n    return {expr}\n")


def memory_bomb(folder: Path, spec) -> dict:
    """rnn_backward asks for twice its test's memory limit."""
    limit_mb = next(t for t in spec.tests if t.graded == TARGET).limits.memory_mb
    return submission(folder, wrap(TARGET, f"import numpy as np\nbomb = np.zeros({2 * limit_mb} * 2**20, np.uint8)"))


def spawning(folder: Path) -> dict:
    """rnn_backward (otherwise correct) starts processes of every kind on every call."""
    return submission(folder, snippet("spawn_processes") + wrap(TARGET, "_spawn_everything()"))


PRINT_20MB = "import sys\nprint('A' * 20_000_000)\nsys.stderr.write('B' * 20_000_000)"

WRONG_GRADIENTS = returning("tuple(1.5 * g for g in _reference_rnn_backward(*args, **kwargs))")


def patching_everything(folder: Path) -> dict:
    """Everything that could say 'equal' is patched to, and rnn_backward's gradients are wrong."""
    return submission(folder, snippet("patch_everything") + WRONG_GRADIENTS)


def forging_probes(folder: Path) -> dict:
    """rnn_backward and CaptioningRNN.loss raise NotImplementedError; the probes are replaced."""
    stub = ("\n\ndef rnn_backward(dh, cache):\n    raise NotImplementedError\n\n\n"
            "def _stub_loss(self, features, captions):\n    raise NotImplementedError\n")
    files = submission(folder, snippet("probe_forgery") + stub)
    stub_captioning = "\n\nfrom rnn_layers import _stub_loss\nCaptioningRNN.loss = _stub_loss\n"
    (folder / "captioning_rnn.py").write_text((SOLUTION / "captioning_rnn.py").read_text() + stub_captioning)
    return files


def zero_gradients(folder: Path, forge: bool) -> dict:
    """CaptioningRNN.loss returns the right loss and zero gradients (and with `forge`, forges the training probe)."""
    return submission(folder, f"\n_FORGE_TRAJECTORY = {forge}\n" + snippet("zero_gradients"), fname="captioning_rnn.py")


def stealing_reference(folder: Path) -> dict:
    """rnn_forward searches the memory it inherited for the reference output."""
    return submission(folder, snippet("steal_reference"))


TRANSFORMER_FORGERY = FIXTURES / "forge_transformer_probes.py"


def forging_transformer_probes(folder: Path, stub: str) -> dict:
    """The transformer stub `stub` (its starter) plus code that rewrites five probes at import."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "transformer_layers.py").write_text(stub + "\n\n" + TRANSFORMER_FORGERY.read_text())
    return {"transformer_layers.py": folder / "transformer_layers.py"}


# --- choosing tests and editing the bundle ---------------------------------------------------------------

def pick(spec, *graded, kinds=None) -> set:
    """Ids of the tests of these graded functions (of these kinds, if given)."""
    return {t.id for t in spec.tests if t.graded in graded and (kinds is None or t.kind in kinds)}


def first_tests(spec) -> set:
    """The first test of each graded module."""
    return {next(t.id for t in spec.tests if t.module == m) for m in (f[:-3] for f in spec.files)}


def training_test(spec) -> set:
    """The id of the captioning training test (the one whose output is a trajectory)."""
    ids = {t.id for t in spec.tests if t.trajectory}
    assert len(ids) == 1
    return ids


def edited_bundle(bundle, dest: Path, budget=None, timeouts=None, keep=None) -> Bundle:
    """A copy of `bundle` with a new budget, per-test timeouts (id -> s), or only some tests (ids)."""
    shutil.copytree(bundle.root, dest)
    spec = json.loads((dest / "assignment.json").read_text())
    if budget is not None:
        spec["budget"] = budget
    for test in spec["tests"]:
        if timeouts and test["id"] in timeouts:
            test["timeout"] = timeouts[test["id"]]
    if keep is not None:
        spec["tests"] = [t for t in spec["tests"] if t["id"] in keep]
    (dest / "assignment.json").write_text(json.dumps(spec, indent=1))
    return Bundle(dest)


# --- the hostile code, by kind ----------------------------------------------------------------------

IMPORT_HOSTILITY = {
    "raises": ("raise RuntimeError('this module refuses to load')\n",
               "failed: RuntimeError: this module refuses to load at rnn_layers.py line 1"),
    "syntax_error": ("def broken(:\n    pass\n", "has a syntax error"),
    "sys_exit": ("import sys\nsys.exit(0)\n", "called exit() at rnn_layers.py line 2"),
    "os_exit": ("import os\nos._exit(0)\n", "exited with code 0 before answering"),
    "kill_self": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "killed by signal SIGKILL"),
}

CALL_HOSTILITY = {
    "sys_exit_0": ("import sys\nsys.exit(0)", "rnn_backward called exit()"),
    "raise_system_exit": ("raise SystemExit('done')", "rnn_backward called exit()"),
    "keyboard_interrupt": ("raise KeyboardInterrupt", "rnn_backward raised KeyboardInterrupt"),
    "os_exit_0": ("import os\nos._exit(0)", "exited with code 0 before answering"),
    "sigkill_self": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "killed by signal SIGKILL"),
    "sigsegv_self": ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", "killed by signal SIGSEGV"),
    "real_segfault": ("import ctypes\nctypes.string_at(0)", "killed by signal SIGSEGV"),
    "abort": ("import os\nos.abort()", "killed by signal SIGABRT"),
    "unprintable_exception": ("class Nasty(Exception):\n    def __str__(self):\n        raise RuntimeError\n"
                              "raise Nasty()", "rnn_backward raised Nasty: <message could not be shown>"),
    "garbage_on_the_reply_pipe": ("import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'\\xff' * 64)\n"
                                  "    except OSError:\n        pass", "returned something the grader could not read"),
    **{f"forged_reply_{kind}": (
        "import os, struct\n"
        f"head = {header!r}\n"
        "frame = struct.pack('>QQ', len(head), 0) + head\n"
        "for fd in range(3, 64):\n    try:\n        os.write(fd, frame)\n    except OSError:\n        pass\n"
        "os._exit(0)", f"returned something the grader could not read: {said}")
       for kind, header, said in [
           ("nested_deeply", b'{"ok": false, "error": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "reply header is JSON nested too deeply to read"),
           ("line_a_string", b'{"ok": false, "error": {"type": "E", "message": "m", "where": '
                             b'{"file": "f.py", "line": "7", "code": "", "function": "f"}}}',
            "reply header field 'error.where.line' is str, not int"),
           ("no_ok", b'{"banned": []}', "reply header has no 'ok' field"),
           ("banned_a_number", b'{"ok": true, "banned": 5}', "reply header field 'banned' is int, not list"),
           ("error_a_list", b'{"ok": false, "error": ["x"]}', "reply header field 'error' is list, not dict"),
       ]},
}

HANGS = {
    "busy_loop": "while True:\n    pass",
    "sleep": "import time\ntime.sleep(10_000)",  # uses no CPU: only the deadline stops it
    "swallows_everything": ("import time\nwhile True:\n    try:\n        time.sleep(10_000)\n"
                            "    except BaseException:\n        pass"),
    "stops_itself": "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)",
}
HANG_TIMEOUT = 1.0  # the time limit the hanging tests are given


def hanging(folder: Path, kind: str) -> dict:
    return submission(folder, wrap(TARGET, "_record('spawned', [_hostile_os.getpid()])\n" + HANGS[kind]))


RETURNS = {
    "lists": ("tuple(g.tolist() for g in _reference_rnn_backward(*args, **kwargs))",
              "'x' is a list, expected an array"),
    "object_arrays": ("tuple(g.astype(object) for g in _reference_rnn_backward(*args, **kwargs))",
                      "'x' has dtype object"),
    "ndarray_subclass": ("tuple(g.view(type('Liar', (np.ndarray,), {'__eq__': lambda s, o: True})) "
                         "for g in _reference_rnn_backward(*args, **kwargs))",
                         "'x' is a Liar (a subclass of numpy.ndarray)"),
    "giant_array": ("(np.zeros(10_000_000),) + _reference_rnn_backward(*args, **kwargs)[1:]",
                    "returned something the grader could not read: reply of"),
    "nan": ("tuple(np.full_like(g, np.nan) for g in _reference_rnn_backward(*args, **kwargs))",
            "contains NaN at [0, 0]"),
    "one_nan": ("tuple(np.where(np.arange(g.size).reshape(g.shape) == g.size - 1, np.nan, g) "
                "for g in _reference_rnn_backward(*args, **kwargs))", "contains NaN"),
    "inf": ("tuple(np.full_like(g, np.inf) for g in _reference_rnn_backward(*args, **kwargs))",
            "contains inf at [0, 0]"),
}


# --- the catalog: every hostile submission whose grade does not depend on timing or on being root ----

@dataclass(frozen=True)
class Hostile:
    name: str
    build: Callable  # (folder, spec) -> files
    tests: Callable  # spec -> ids graded (None: every test)
    timeouts: Callable | None = None  # spec -> {id: seconds}, for a copy of the bundle


def _control_and_target(spec):
    return pick(spec, CONTROL, TARGET)


def catalog() -> list[Hostile]:
    """The hostile submissions of test_hostile.py that grade the same on every run and as any user.
    Left out: the whole-grade budget (which tests finish in time depends on the machine), the root-only
    limits (network, processes), a file the grader holds open and the emulated Gradescope runs."""
    out = [Hostile(f"import_{k}", lambda d, s, k=k: submission(d, prepend=IMPORT_HOSTILITY[k][0]), first_tests)
           for k in sorted(IMPORT_HOSTILITY)]
    out.append(Hostile("import_sys_exit_every_test", lambda d, s: submission(d, prepend="import sys\nsys.exit(0)\n"),
                       lambda s: None))
    out.append(Hostile("captioning_sys_exit_at_import",
                       lambda d, s: submission(d, fname="captioning_rnn.py", prepend="import sys\nsys.exit(0)\n"),
                       lambda s: {t.id for t in s.tests if t.module == "captioning_rnn"} | first_tests(s)))
    out += [Hostile(f"call_{k}", lambda d, s, k=k: submission(d, wrap(TARGET, CALL_HOSTILITY[k][0])), _control_and_target)
            for k in sorted(CALL_HOSTILITY)]
    out += [Hostile(f"hang_{k}", lambda d, s, k=k: hanging(d, k),
                    lambda s: pick(s, CONTROL) | pick(s, TARGET, kinds=("gradients",)),
                    lambda s: {i: HANG_TIMEOUT for i in pick(s, TARGET, kinds=("gradients",))})
            for k in sorted(HANGS)]
    out += [Hostile("memory_bomb", memory_bomb, _control_and_target),
            Hostile("spawn_processes", lambda d, s: spawning(d), _control_and_target),
            Hostile("print_20mb", lambda d, s: submission(d, wrap(TARGET, PRINT_20MB)), _control_and_target)]
    out += [Hostile(f"returns_{k}", lambda d, s, k=k: submission(d, returning(RETURNS[k][0])), _control_and_target)
            for k in sorted(RETURNS)]
    out += [Hostile("patch_everything", lambda d, s: patching_everything(d), _control_and_target),
            Hostile("probe_forgery", lambda d, s: forging_probes(d), lambda s: pick(s, TARGET) | training_test(s))]
    out += [Hostile(f"zero_gradients_{'forged' if forge else 'honest'}", lambda d, s, f=forge: zero_gradients(d, f),
                    lambda s: training_test(s) | pick(s, "CaptioningRNN", kinds=("gradients", "outputs")))
            for forge in (False, True)]
    out.append(Hostile("steal_reference", lambda d, s: stealing_reference(d), lambda s: pick(s, "rnn_step_forward", CONTROL)))
    return out
