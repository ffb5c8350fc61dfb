"""autograder/sandbox/declared.py: declarations run in the child as probes.py functions would."""

import textwrap
import time
import types

import numpy as np
import pytest

from autograder.core.errors import ContractError
from autograder.grading.grade import prepare_workdir
from autograder.sandbox.declared import StepError, make_probe, parse_step
from autograder.sandbox.parent import Child, ChildJob
from autograder.spec.model import Limits


def decl(*steps, **kw):
    return {"steps": list(steps), "watch": [], "errstate": None, "grad": None, "optional": [],
            "framework": "numpy", **kw}


def student(**functions):
    return types.SimpleNamespace(**functions)


def test_parse_step_reads_targets_call_and_arguments():
    step = parse_step("a, _, _c = obj.f(x, 2, -1.5, 'mode', None, [1, 2], k=True)")
    assert step == {"targets": ["a", "_", "_c"], "unpack": True, "on": "obj", "fn": "f",
                    "args": [["name", "x"], ["value", 2], ["value", -1.5], ["value", "mode"], ["value", None],
                             ["value", [1, 2]]], "kwargs": {"k": ["value", True]}}
    assert parse_step("f(x)")["targets"] is None
    assert parse_step("y = f(x)")["unpack"] is False and parse_step("y, = f(x)")["unpack"] is True
    with pytest.raises(StepError, match="a single statement"):
        parse_step("y = f(x); z = f(y)")


def test_outputs_are_the_public_targets_and_names_resolve_targets_then_arrays_then_params():
    m = student(fwd=lambda x, w: (x * w, "cache"), scale=lambda y, by: y * by)
    probe = make_probe(decl("y, _c = fwd(x, w)", "z = scale(y, by=k)", "_ = scale(z, 2)"))
    got = probe(m, {"x": np.arange(3.0), "w": np.full(3, 2.0)}, {"k": 10})
    assert list(got) == ["y", "z"]
    np.testing.assert_array_equal(got["z"], np.arange(3.0) * 20)
    probe = make_probe(decl("x = scale(x, 3)", "y = scale(x, 1)"))  # a target shadows the case array
    np.testing.assert_array_equal(probe(m, {"x": np.ones(2)}, {})["y"], [3.0, 3.0])


def test_a_method_of_a_bound_object_and_a_bound_object_called():
    class Model:
        def __init__(self, k):
            self.k = k

        def loss(self, x):
            return float(self.k * x.sum()), {"W": x}

        def __call__(self, x):
            return x + self.k

    probe = make_probe(decl("_m = Model(k)", "loss, _ = _m.loss(x)", "out = _m(x)"))
    got = probe(student(Model=Model), {"x": np.ones(4)}, {"k": 2})
    assert got["loss"] == 8.0 and got["out"].tolist() == [3.0] * 4


def test_wrong_return_counts_fail_with_pythons_own_unpack_messages():
    probe = make_probe(decl("a, b = f(x)"))
    for value in ((1, 2, 3), (1,), None):
        with pytest.raises((ValueError, TypeError)) as mine:
            probe(student(f=lambda x: value), {"x": np.zeros(1)}, {})
        with pytest.raises((ValueError, TypeError)) as python:
            a, b = value
        assert (type(mine.value), str(mine.value)) == (type(python.value), str(python.value))


def test_a_name_no_case_has_is_a_contract_error_unless_optional():
    probe = make_probe(decl("y = f(x, mask)"))
    with pytest.raises(ContractError, match="needs 'mask'"):
        probe(student(f=lambda x, mask: x), {"x": np.zeros(1)}, {})
    probe = make_probe(decl("y = f(x, mask)", optional=["mask"]))
    f = student(f=lambda x, mask: x + (mask is None))
    assert probe(f, {"x": np.zeros(1)}, {})["y"] == 1
    assert probe(f, {"x": np.zeros(1)}, {"mask": "a parameter"})["y"] == 1  # an optional array is never a parameter
    assert probe(f, {"x": np.zeros(1), "mask": np.ones(1)}, {})["y"] == 0


def test_watch_reports_the_cache_before_and_after_the_last_step():
    def forward(x):
        return x * 2, (x.copy(), {"h": x * 3})

    def backward(d, cache):
        cache[1]["h"][0] = -1.0  # writes into its cache
        return d * 2

    probe = make_probe(decl("_, _cache = forward(x)", "dx = backward(d, _cache)", watch=["_cache"]))
    got = probe(student(forward=forward, backward=backward), {"x": np.ones(2), "d": np.ones(2)}, {})
    assert list(got) == ["dx", "cache[0].before", "cache[0].after", "cache[1]['h'].before", "cache[1]['h'].after"]
    np.testing.assert_array_equal(got["cache[0].before"], got["cache[0].after"])
    assert got["cache[1]['h'].before"].tolist() == [3.0, 3.0] and got["cache[1]['h'].after"].tolist() == [-1.0, 3.0]


def test_errstate_raise_turns_overflow_into_an_error():
    m = student(sigmoid=lambda x: 1 / (1 + np.exp(-x)))
    x = {"x": np.array([-1000.0, 0.0])}
    with np.errstate(over="ignore"):
        assert make_probe(decl("y = sigmoid(x)"))(m, x, {})["y"].tolist() == [0.0, 0.5]
        with pytest.raises(FloatingPointError, match="overflow"):
            make_probe(decl("y = sigmoid(x)", errstate="raise"))(m, x, {})
    assert np.geterr()["over"] == "warn"  # restored afterwards


def test_the_child_runs_a_declared_probe_named_in_its_job(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "mod.py").write_text(textwrap.dedent("""
        def fwd(x, w):
            return x @ w, None

        def broken(x):
            raise ValueError('shapes do not match')
    """))
    (tmp_path / "probes.py").write_text("def python_probe(m, c, p):\n    return {'y': c['x']}\n")
    workdir = prepare_workdir({"mod.py": sub / "mod.py"}, tmp_path / "no-support")
    declared = {"fwd": decl("out, _ = fwd(x, w)"), "broken": decl("y = broken(x)"), "bad": decl("y = fwd(x, w)")}
    child = Child(ChildJob(workdir, str(tmp_path / "probes.py"), ("mod",), Limits(), 10.0, declared=declared))
    inputs = {"x": np.eye(2), "w": np.arange(4.0).reshape(2, 2)}
    try:
        reply = child.call("mod", "fwd", inputs, time.monotonic() + 10)
        assert reply.failure is None and list(reply.outputs) == ["out"]
        np.testing.assert_array_equal(reply.outputs["out"], inputs["w"])
        reply = child.call("mod", "python_probe", inputs, time.monotonic() + 10)  # probes.py still answers
        assert reply.failure is None and "y" in reply.outputs
        reply = child.call("mod", "broken", inputs, time.monotonic() + 10)
        assert reply.failure == "error" and reply.error["type"] == "ValueError"
        assert reply.error["where"]["file"] == "mod.py" and "raise ValueError" in reply.error["where"]["code"]
        reply = child.call("mod", "bad", inputs, time.monotonic() + 10)  # returns a tuple, not an array
        assert reply.failure == "output" and "'y' is a tuple, expected an array" in reply.error["message"]
    finally:
        child.close()


# --- torch: grad -----------------------------------------------------------------------------

def torch_student():
    torch = pytest.importorskip("torch")

    def make():
        torch.manual_seed(0)
        return torch.nn.Linear(3, 2, dtype=torch.float64)

    def total(m, x):
        return (m(x) ** 2).sum()

    return torch, student(make=make, total=total)


def test_grad_returns_the_gradients_of_case_arrays_and_of_every_module_parameter():
    torch, m = torch_student()
    x, dout = np.random.default_rng(0).standard_normal((4, 3)), np.random.default_rng(1).standard_normal((4, 2))
    probe = make_probe(decl("_m = make()", "out = _m(x)", framework="torch",
                            grad={"of": {"out": "dout"}, "wrt": ["x", "_m"]}))
    got = probe(m, {"x": x.copy(), "dout": dout}, {})
    assert sorted(got) == ["bias", "weight", "x"]
    lin = m.make()
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    (lin(xt) * torch.from_numpy(dout)).sum().backward()
    np.testing.assert_allclose(got["x"].numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["weight"].numpy(), lin.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["bias"].numpy(), dout.sum(axis=0), rtol=1e-12)


def test_grad_of_a_scalar_and_the_contract_errors_of_backward():
    torch, m = torch_student()
    x = np.ones((2, 3))
    probe = make_probe(decl("_m = make()", "loss = total(_m, x)", framework="torch",
                            grad={"of": {"loss": None}, "wrt": ["x"]}))
    got = probe(m, {"x": x.copy()}, {})
    assert list(got) == ["x"] and got["x"].shape == (2, 3) and torch.count_nonzero(got["x"]) > 0
    probe = make_probe(decl("_m = make()", "out = _m(x)", framework="torch", grad={"of": {"out": "dout"}, "wrt": ["x"]}))
    with pytest.raises(ContractError, match=r"'out' has shape \(2, 2\), expected \(2, 5\)"):
        probe(m, {"x": x.copy(), "dout": np.ones((2, 5))}, {})
    probe = make_probe(decl("_m = make()", "out = _m(x)", framework="torch", grad={"of": {"out": None}, "wrt": ["x"]}))
    with pytest.raises(ContractError, match="should be a single number"):
        probe(m, {"x": x.copy()}, {})


def test_torch_steps_get_tensors_of_the_stored_dtypes():
    torch, _ = torch_student()
    seen = {}
    probe = make_probe(decl("y = f(x, i, b)", framework="torch"))
    probe(student(f=lambda *a: seen.setdefault("dtypes", [t.dtype for t in a]) and a[0]),
          {"x": np.zeros(2), "i": np.zeros(2, dtype=np.int64), "b": np.zeros(2, dtype=bool)}, {})
    assert seen["dtypes"] == [torch.float64, torch.int64, torch.bool]
