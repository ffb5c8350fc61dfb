"""autograder/stack.py: student frames, the report of where code runs, and refusing what hung."""

import importlib
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.sandbox import stack
from autograder.sandbox.protocol import pack
from autograder.sandbox.stack import RefusedCall, refuse_calls, refuse_imports, student_frames


@pytest.fixture
def submission(tmp_path):
    """Two submitted modules in a folder on sys.path: `layers` and `model`, which imports from it."""
    (tmp_path / "layers.py").write_text(textwrap.dedent("""
        def step(x):
            return x + 1

        def run(x):
            return step(x) * 2

        class Model:
            def loss(self, x):
                return run(x)

            def sample(self, x):
                return step(x)
    """))
    (tmp_path / "model.py").write_text("from layers import step as my_step, run\n\ndef go(x):\n    return my_step(x)\n")
    sys.path.insert(0, str(tmp_path))
    yield str(tmp_path)
    sys.path.remove(str(tmp_path))
    for name in ("layers", "model"):
        sys.modules.pop(name, None)
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, stack._RefusedImports)]


def test_refused_function_raises_through_every_name_bound_to_it(submission):
    layers, model = importlib.import_module("layers"), importlib.import_module("model")
    refuse_calls([("layers", "step")], submission)
    for call in (lambda: layers.step(1), lambda: layers.run(1), lambda: model.go(1), lambda: model.my_step(1)):
        with pytest.raises(RefusedCall) as info:
            call()
        assert info.value.key == ("layers", "step")


def test_a_refused_method_leaves_the_other_methods_alone(submission):
    layers = importlib.import_module("layers")
    refuse_calls([("layers", "Model.loss")], submission)
    with pytest.raises(RefusedCall):
        layers.Model().loss(1)
    assert layers.Model().sample(1) == 2
    assert layers.run(1) == 4


def test_refusals_of_unknown_or_malformed_names_change_nothing(submission):
    layers = importlib.import_module("layers")
    refuse_calls([("layers", "nothing"), ("nomodule", "step"), "garbage", ("layers",), ("layers", "Model.nothing"),
                  ("", ""), ("layers", 3)], submission)
    assert layers.run(1) == 4 and layers.Model().loss(1) == 4


def test_a_module_whose_top_level_hung_is_refused_at_import(submission):
    refuse_imports([("layers", "<module>")])
    with pytest.raises(RefusedCall) as info:
        importlib.import_module("model")  # imports layers
    assert info.value.key == ("layers", "<module>")


def test_student_frames_keep_only_the_submissions_files_outermost_first(submission):
    layers = importlib.import_module("layers")
    layers.step = lambda x: 1 / 0  # raises inside run, in this test file's frame
    import traceback

    try:
        layers.Model().loss(1)
    except ZeroDivisionError as exc:
        frames = student_frames(traceback.walk_tb(exc.__traceback__), submission)
    assert [f["qualname"] for f in frames] == ["Model.loss", "run"]
    assert frames[1]["file"] == "layers.py" and frames[1]["code"] == "return step(x) * 2"


def test_the_report_marks_the_call_that_ran_through_both_signals(submission):
    """The handler answers the second signal only, marking as steady the frames of calls that
    were already running at the first."""
    read_fd, write_fd = os.pipe()
    old = signal.getsignal(stack.HANG_SIGNAL)
    try:
        stack._KEPT.clear()
        stack.report_when_stopped(write_fd, submission, pack)
        (Path(submission) / "loop.py").write_text(textwrap.dedent("""
            import os, signal

            def inner(n):
                os.kill(os.getpid(), signal.SIGUSR1)
                return n

            def outer():
                inner(1)   # the first signal, in one call of inner
                inner(2)   # the second, in another call
        """))
        importlib.import_module("loop").outer()
        from autograder.sandbox.protocol import read_frame_blocking

        meta, _ = read_frame_blocking(read_fd)
    finally:
        signal.signal(stack.HANG_SIGNAL, old)
        stack._KEPT.clear()
        sys.modules.pop("loop", None)
        os.close(read_fd)
        os.close(write_fd)
    assert [(f["qualname"], f["steady"]) for f in meta["hung"]] == [("outer", True), ("inner", False)]


def test_qualified_names_without_co_qualname_come_from_self_or_cls():
    """Python 3.10 (Gradescope's) has no co_qualname: a method's class comes from its first argument."""
    from types import SimpleNamespace

    class CaptioningModel:
        pass

    def frame(varnames, argcount, local):
        code = SimpleNamespace(co_name="loss", co_argcount=argcount, co_varnames=varnames)
        return SimpleNamespace(f_code=code, f_locals=local)

    assert stack._qualname(frame(("self", "x"), 2, {"self": CaptioningModel()})) == "CaptioningModel.loss"
    assert stack._qualname(frame(("cls",), 1, {"cls": CaptioningModel})) == "CaptioningModel.loss"
    assert stack._qualname(frame(("x",), 1, {"x": 1})) == "loss"
    assert stack._qualname(frame((), 0, {})) == "loss"
