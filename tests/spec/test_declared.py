"""autograder/spec/declared.py: declarative probes are read, normalised and checked when the spec
is read (and against the case arrays at build time); every error names file, probe and step."""

import copy

import numpy as np
import pytest

from autograder.core.errors import SpecError
from autograder.core.fields import Reader
from autograder.spec.declared import check_inputs, check_names_in_both, check_tests, for_test
from autograder.spec.model import spec_from_dict

SOURCE = "assignments/demo/assignment.yaml"
SOLUTION = {"layers": {"affine_forward", "affine_backward", "make"}}


def spec_dict(probes, framework="numpy", tests=None) -> dict:
    return {
        "name": "demo", "title": "Demo", "framework": framework, "files": ["layers.py"],
        "cases": {"small": {"builder": "b", "public": [{"name": "c", "N": 2}], "hidden": [{"name": "h", "N": 3}]}},
        "probes": probes,
        "tests": tests or [
            {"target": "layers.affine_forward", "title": "forward", "kind": "outputs", "probe": "fwd",
             "cases": "small", "outputs": ["out"]},
            {"target": "layers.affine_backward", "title": "backward", "kind": "gradients", "probe": "bwd",
             "forward": "fwd", "upstream": {"out": "dout"}, "cases": "small"},
        ],
    }


GOOD = {
    "fwd": "out, _ = affine_forward(x, w, b)",
    "bwd": ["_, _cache = affine_forward(x, w, b)", "x, w, b = affine_backward(dout, _cache)"],
}


def error(probes, framework="numpy", tests=None, solution=SOLUTION) -> str:
    with pytest.raises(SpecError) as info:
        spec_from_dict(spec_dict(probes, framework, tests), SOURCE, solution)
    return str(info.value)


def test_the_three_forms_normalise_to_one_declaration():
    probes = dict(GOOD, same={"steps": ["out = affine_forward(x, w, b)"], "watch": ["x"], "errstate": "raise"})
    spec = spec_from_dict(spec_dict(probes), SOURCE, SOLUTION)
    assert spec.declared["fwd"] == {"steps": ["out, _ = affine_forward(x, w, b)"], "watch": [], "errstate": None,
                                    "grad": None, "optional": [], "framework": "numpy"}
    assert spec.declared["bwd"]["steps"] == GOOD["bwd"]
    assert spec.declared["same"]["watch"] == ["x"] and spec.declared["same"]["errstate"] == "raise"
    assert for_test(spec, spec.tests[1]) == {"bwd": spec.declared["bwd"], "fwd": spec.declared["fwd"]}
    assert spec_from_dict(spec_dict(GOOD), SOURCE).declared.keys() == {"fwd", "bwd"}  # no solution names: fine


@pytest.mark.parametrize("step, path, words", [
    ("out = affine_forward(x", "probes.fwd.steps[0]", "not valid Python"),
    ("out = x", "probes.fwd.steps[0]", "the right side must be a call"),
    ("out = affine_forward(x + 1)", "probes.fwd.steps[0]", "must be a name or a literal"),
    ("out = affine_forward(*x)", "probes.fwd.steps[0]", "`*args` is not allowed"),
    ("out[0] = affine_forward(x)", "probes.fwd.steps[0]", "the left side must be a name"),
    ("out = np.linalg.norm(x)", "probes.fwd.steps[0]", "call a name"),
    ("import os", "probes.fwd.steps[0]", "is `outputs = function(args)`"),
    ("out = relu(x)", "probes.fwd.steps[0]", "'relu' is neither a helper"),
    ("out, out = affine_forward(x)", "probes.fwd.steps[0]", "a name appears twice"),
    ("out = affine_forward(_cache)", "probes.fwd.steps[0]", "'_cache' is used before a step binds it"),
])
def test_bad_steps_are_refused_naming_file_probe_and_step(step, path, words):
    msg = error(dict(GOOD, fwd=step))
    assert msg.startswith(f"{SOURCE}: {path}: ") and words in msg, msg


@pytest.mark.parametrize("decl, path, words", [
    ({"steps": []}, "probes.fwd.steps", "list at least one step"),
    ({"steps": ["out, _ = affine_forward(x, w, b)"], "watch": ["_c"]}, "probes.fwd.watch", "before the last one"),
    ({"steps": ["out, _ = affine_forward(x, w, b)"], "errstate": "warn"}, "probes.fwd.errstate", "not one of"),
    ({"steps": ["out, _ = affine_forward(x, w, b)"], "step": []}, "probes.fwd.step", "unknown key 'step'"),
    ({"steps": ["out, _ = affine_forward(x, w, b)"], "grad": {"of": {"out": "dout"}, "wrt": ["x"]}},
     "probes.fwd.grad", "need framework: torch"),
    (42, "probes.fwd", "expected a mapping"),
])
def test_bad_mappings_are_refused(decl, path, words):
    msg = error(dict(GOOD, fwd=decl))
    assert f"{SOURCE}: {path}: " in msg and words in msg, msg


def test_what_tests_name_must_be_bound_by_the_declaration():
    msg = error(dict(GOOD, fwd="y, _ = affine_forward(x, w, b)"))
    assert f"{SOURCE}: tests[0].outputs: " in msg and "never binds out (it returns: y)" in msg
    tests = spec_dict(GOOD)["tests"]
    tests[0]["outputs"] = []
    msg = error(dict(GOOD, fwd="y, _ = affine_forward(x, w, b)"), tests=tests)
    assert f"{SOURCE}: tests[1].upstream.out: " in msg and "forward probe 'fwd' never binds 'out'" in msg


def test_torch_grad_form_is_checked():
    grad = {"steps": ["_m = make()", "out = _m(x)"], "grad": {"of": {"out": "dout"}, "wrt": ["x", "_m"]}}
    tests = [{"target": "layers.make", "title": "grads", "kind": "outputs", "probe": "g", "cases": "small"}]
    spec = spec_from_dict(spec_dict({"g": grad}, "torch", tests), SOURCE, SOLUTION)
    assert spec.declared["g"]["grad"] == {"of": {"out": "dout"}, "wrt": ["x", "_m"]}
    bad = copy.deepcopy(grad)
    bad["grad"]["of"] = {"loss": None}
    assert "probes.g.grad.of.loss: 'loss' is not bound by any step" in error({"g": bad}, "torch", tests)
    bad = copy.deepcopy(grad)
    bad["grad"]["wrt"] = ["_model"]
    assert "probes.g.grad.wrt: '_model' is not bound" in error({"g": bad}, "torch", tests)
    assert "the helper 'load' is for torch" in error(dict(GOOD, fwd=["_m = make()", "load(_m)", "out = _m(x)"]))


def test_probes_py_and_declarations_may_not_share_a_name_and_every_probe_exists():
    spec = spec_from_dict(spec_dict(GOOD), SOURCE, SOLUTION)
    r = Reader(SOURCE)
    with pytest.raises(SpecError, match=r"probes\.fwd: 'fwd' is declared here and also defined in probes\.py"):
        check_names_in_both(r, spec.declared, {"fwd", "other"})
    check_names_in_both(r, spec.declared, {"other"})
    tests = spec_dict(GOOD)["tests"]
    tests[1]["probe"] = "bwd_py"
    spec = spec_from_dict(spec_dict(GOOD, tests=tests), SOURCE, SOLUTION)
    check_tests(r, spec.declared, spec.tests, {"bwd_py"})
    with pytest.raises(SpecError, match=r"tests\[1\]\.probe: no probe 'bwd_py': declare it"):
        check_tests(r, spec.declared, spec.tests, set())


def test_at_build_time_every_name_must_resolve_in_every_case():
    spec = spec_from_dict(spec_dict(GOOD), SOURCE, SOLUTION)
    arrays = {f"in/small/{case}/{k}": np.zeros(1) for case in ("c", "h") for k in ("x", "w", "b", "dout")}
    check_inputs(spec, arrays)
    del arrays["in/small/h/w"]
    with pytest.raises(SpecError) as info:
        check_inputs(spec, arrays)
    assert str(info.value).startswith(f"{SOURCE}: probes.fwd.steps[0]: ")
    assert "'w' is not bound by an earlier step, and the case 'h' of case set 'small' has no such array" in str(info.value)
    optional = {name: {"steps": [steps] if isinstance(steps, str) else steps, "optional": ["w"]}
                for name, steps in GOOD.items()}
    spec = spec_from_dict(spec_dict(optional), SOURCE, SOLUTION)
    check_inputs(spec, arrays)  # optional: None where a case lacks it
    spec = spec_from_dict(spec_dict(dict(GOOD, fwd="out, _ = affine_forward(x, w, N)")), SOURCE, SOLUTION)
    arrays["in/small/h/w"] = np.zeros(1)
    check_inputs(spec, arrays)  # N is a case parameter


# --- edges: edge-case shapes declared once per case set (spec hook of kit.cases.edge_cases) ----

def test_edges_become_hidden_cases_with_their_own_seeds_and_bad_edges_name_the_case_set():
    data = spec_dict(GOOD)
    data["cases"]["small"]["edges"] = {"N": 1}
    cs = spec_from_dict(data, SOURCE, SOLUTION).casesets["small"]
    n1 = [c for c in cs.cases if c.name == "n1"]
    assert len(n1) == 1 and n1[0].visibility == "hidden" and n1[0].params == {"N": 1}
    assert n1[0].seed not in {c.seed for c in cs.cases if c.name != "n1"}
    data["cases"]["small"]["edges"] = {"T": 1}
    with pytest.raises(SpecError, match=r"cases\.small\.edges: edge 'T': the case 'c' it starts from has no argument"):
        spec_from_dict(data, SOURCE, SOLUTION)
