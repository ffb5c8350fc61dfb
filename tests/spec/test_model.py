"""autograder/spec.py: a spec loads into typed objects; every error names file, key path and problem."""

import copy
import hashlib
import json

import pytest

from autograder.core.errors import SpecError
from autograder.spec import model as specmod
from autograder.spec.model import Case, CaseSet, Limits, Spec, load_spec, spec_from_dict

SOURCE = "assignments/demo/assignment.yaml"


def minimal() -> dict:
    """The smallest spec that loads: one file, one case set, two tests."""
    return {
        "name": "demo",
        "title": "Demo assignment",
        "files": ["layers.py"],
        "cases": {
            "small": {
                "builder": "build_small",
                "public": [{"name": "c", "N": 2}],
                "hidden": [{"name": "c", "N": 2}, {"name": "wide", "N": 5, "scale": 0.5}],
            },
        },
        "tests": [
            {"target": "layers.affine", "title": "forward", "kind": "outputs",
             "probe": "affine_probe", "cases": "small"},
            {"target": "layers.affine", "title": "backward", "kind": "gradients",
             "probe": "affine_grad_probe", "cases": "small"},
        ],
    }


def load_error(data, source=SOURCE, **kw) -> str:
    with pytest.raises(SpecError) as info:
        spec_from_dict(data, source, **kw)
    return str(info.value)


# --- a valid spec -------------------------------------------------------------------------------


def test_minimal_spec_loads_into_typed_objects_with_defaults():
    spec = spec_from_dict(minimal(), SOURCE)
    assert isinstance(spec, Spec)
    assert spec.name == "demo" and spec.title == "Demo assignment"
    assert spec.framework == "numpy"
    assert spec.files == ("layers.py",) and spec.modules == ("layers",)
    assert spec.support == () and spec.preload == ()
    assert spec.budget == 600
    assert spec.source == SOURCE
    assert [type(t) for t in spec.tests] == [specmod.Test, specmod.Test]
    t = spec.tests[0]
    assert (t.points, t.visibility, t.timeout, t.rtol, t.atol) == (1, "hidden", 10, 1e-6, 1e-8)
    assert t.limits == Limits() == Limits(1024, 16, 32, 10, 64)
    assert t.outputs == () and t.banned == () and t.hint == "" and t.forward is None
    assert spec.max_score == 2


def test_ids_names_and_lookup():
    spec = spec_from_dict(minimal(), SOURCE)
    assert [t.id for t in spec.tests] == ["t01", "t02"]
    assert [t.name for t in spec.tests] == ["affine: forward", "affine: backward"]
    assert spec.tests[0].graded == "affine" and spec.tests[0].module == "layers"
    assert spec.test("t02") is spec.tests[1]
    with pytest.raises(KeyError):
        spec.test("t03")


def test_case_sets_and_seeds():
    spec = spec_from_dict(minimal(), SOURCE)
    cs = spec.casesets["small"]
    assert isinstance(cs, CaseSet) and cs.builder == "build_small"
    assert all(isinstance(c, Case) for c in cs.cases)
    assert [(c.visibility, c.name) for c in cs.cases] == [("public", "c"), ("hidden", "c"), ("hidden", "wide")]
    assert cs.cases[2].params == {"N": 5, "scale": 0.5}
    assert [c.name for c in cs.select(("hidden",))] == ["c", "wide"]
    # The seed is the first 8 bytes of sha256("assignment/caseset/visibility/name"): stable everywhere.
    want = int.from_bytes(hashlib.sha256(b"demo/small/public/c").digest()[:8], "big")
    assert cs.cases[0].seed == want
    # Same case name, other visibility: another seed, so hidden inputs are not the public ones.
    assert cs.cases[0].seed != cs.cases[1].seed
    assert len({c.seed for c in cs.cases}) == 3
    again = spec_from_dict(minimal(), SOURCE).casesets["small"]
    assert [c.seed for c in again.cases] == [c.seed for c in cs.cases]


def test_seed_depends_on_assignment_name():
    other = minimal()
    other["name"] = "demo2"
    a = spec_from_dict(minimal(), SOURCE).casesets["small"].cases[0].seed
    b = spec_from_dict(other, SOURCE).casesets["small"].cases[0].seed
    assert a != b


def test_case_describe():
    case = spec_from_dict(minimal(), SOURCE).casesets["small"].cases[2]
    assert case.describe() == "hidden case 'wide' (N=5, scale=0.5)"


def test_defaults_and_per_test_overrides():
    data = minimal()
    data["defaults"] = {"points": 2, "timeout": 30, "rtol": 1e-4, "visibility": "public",
                        "banned": ["numpy.linalg.solve"]}
    data["tests"][0].update({"points": 5, "timeout": 3, "atol": 0.0, "visibility": "hidden",
                             "banned": ["numpy.einsum"], "outputs": ["out"], "hint": "check the bias"})
    spec = spec_from_dict(data, SOURCE)
    t0, t1 = spec.tests
    assert (t0.points, t0.timeout, t0.rtol, t0.atol, t0.visibility) == (5, 3, 1e-4, 0.0, "hidden")
    assert (t1.points, t1.timeout, t1.rtol, t1.atol, t1.visibility) == (2, 30, 1e-4, 1e-8, "public")
    assert t0.banned == ("numpy.linalg.solve", "numpy.einsum")
    assert t1.banned == ("numpy.linalg.solve",)
    assert t0.outputs == ("out",) and t0.hint == "check the bias"
    assert spec.max_score == 7


def test_per_test_limits_override_builtin_limits():
    data = minimal()
    data["tests"][0]["limits"] = {"memory_mb": 512, "result_mb": 8}
    t0, t1 = spec_from_dict(data, SOURCE).tests
    assert t0.limits == Limits(memory_mb=512, result_mb=8)
    assert t1.limits == Limits()


def test_default_limits_apply_to_every_test_and_merge_with_per_test_limits():
    data = minimal()
    data["defaults"] = {"limits": {"memory_mb": 2048, "output_kb": 4}}
    data["tests"][0]["limits"] = {"memory_mb": 512}
    t0, t1 = spec_from_dict(data, SOURCE).tests
    assert t1.limits == Limits(memory_mb=2048, output_kb=4)
    assert t0.limits == Limits(memory_mb=512, output_kb=4)


def test_gradients_test_with_forward_and_property_test_with_verify():
    data = minimal()
    data["tests"][1].update({"forward": "affine_forward_probe", "upstream": {"out": "dout", "loss": None}})
    data["tests"].append({"target": "layers.affine", "title": "shape", "kind": "property",
                          "probe": "affine_probe", "cases": "small", "verify": "check_shape", "outputs": ["out"]})
    spec = spec_from_dict(data, SOURCE)
    assert spec.tests[1].forward == "affine_forward_probe"
    assert spec.tests[1].upstream == {"out": "dout", "loss": None}
    assert spec.tests[2].verify == "check_shape" and spec.tests[2].id == "t03"
    assert spec.tests[2].outputs == ("out",)


def test_a_trajectory_and_local_checks_load():
    data = minimal()
    data["local_checks"] = ["test_training.py"]
    data["tests"][0].update(outputs=["losses", "weights"], trajectory="losses")
    spec = spec_from_dict(data, SOURCE)
    assert spec.tests[0].trajectory == "losses" and spec.tests[1].trajectory is None
    assert spec.local_checks == ("test_training.py",) and spec_from_dict(minimal(), SOURCE).local_checks == ()
    data["tests"][0].update(outputs=[])  # every output compared, the trajectory among them
    assert spec_from_dict(data, SOURCE).tests[0].trajectory == "losses"


def test_solution_names_accepts_defined_target():
    spec = spec_from_dict(minimal(), SOURCE, solution_names={"layers": {"affine", "relu"}})
    assert spec.tests[0].target == "layers.affine"


# --- errors: file, key path, what is wrong ------------------------------------------------------


ERRORS = [
    # (id, mutate(data), key path, fragment of the problem)
    ("unknown test key", lambda d: d["tests"][1].update(tolerence=1e-3),
     "tests[1].tolerence", "unknown key 'tolerence'"),
    ("unknown top key", lambda d: d.update(tittle="x"), "tittle", "unknown key 'tittle'"),
    ("unknown default key", lambda d: d.update(defaults={"rtl": 1}), "defaults.rtl", "unknown key"),
    ("unknown limit key", lambda d: d["tests"][0].update(limits={"memory": 5}),
     "tests[0].limits.memory", "unknown key"),
    ("missing probe", lambda d: d["tests"][0].pop("probe"), "tests[0].probe", "missing required key"),
    ("missing title", lambda d: d.pop("title"), "title", "missing required key"),
    ("missing builder", lambda d: d["cases"]["small"].pop("builder"), "cases.small.builder",
     "missing required key"),
    ("rtol string", lambda d: d["tests"][0].update(rtol="tight"), "tests[0].rtol",
     "expected a number, got 'tight'"),
    ("points bool", lambda d: d["tests"][0].update(points=True), "tests[0].points",
     "expected a number, got True"),
    ("memory float", lambda d: d.update(defaults={"limits": {"memory_mb": 1.5}}),
     "defaults.limits.memory_mb", "expected a whole number, got 1.5"),
    ("files string", lambda d: d.update(files="layers.py"), "files", "expected a list, got 'layers.py'"),
    ("tests mapping", lambda d: d.update(tests={"a": 1}), "tests", "expected a list"),
    ("title list", lambda d: d["tests"][0].update(title=["a"]), "tests[0].title",
     "expected a non-empty string, got ['a']"),
    ("probe not a name", lambda d: d["tests"][0].update(probe="my-probe"), "tests[0].probe",
     "'my-probe' is not a valid Python name"),
    ("timeout zero", lambda d: d["tests"][0].update(timeout=0), "tests[0].timeout",
     "must be greater than 0, got 0"),
    ("budget negative", lambda d: d.update(budget=-5), "budget", "must be greater than 0, got -5"),
    ("rtol negative", lambda d: d["tests"][0].update(rtol=-1e-3), "tests[0].rtol",
     "must not be negative, got -0.001"),
    ("rtol nan", lambda d: d["tests"][0].update(rtol=float("nan")), "tests[0].rtol", "expected a finite number"),
    ("test limit zero", lambda d: d["tests"][1].update(limits={"memory_mb": 0}),
     "tests[1].limits.memory_mb", "must be greater than 0, got 0"),
    ("default limit negative", lambda d: d.update(defaults={"limits": {"output_kb": -1}}),
     "defaults.limits.output_kb", "must be greater than 0, got -1"),
    ("bad visibility", lambda d: d["tests"][0].update(visibility="secret"), "tests[0].visibility",
     "'secret' is not one of: public, hidden"),
    ("bad default visibility", lambda d: d.update(defaults={"visibility": "visible"}),
     "defaults.visibility", "'visible' is not one of: public, hidden"),
    ("bad kind", lambda d: d["tests"][0].update(kind="output"), "tests[0].kind",
     "'output' is not one of: outputs, gradients, unchanged, property"),
    ("bad framework", lambda d: d.update(framework="jax"), "framework", "'jax' is not one of: numpy, torch"),
    ("target module not in files", lambda d: d["tests"][1].update(target="other.affine"), "tests[1].target",
     "'other.affine' must be module.name with module one of: layers"),
    ("target without module", lambda d: d["tests"][0].update(target="affine"), "tests[0].target",
     "must be module.name"),
    ("file not a module", lambda d: d.update(files=["layers.py", "notes.txt"]), "files[1]",
     "'notes.txt' must be a Python module file"),
    ("file escapes", lambda d: d.update(support=["../secret.npz"]), "support[0]",
     "must be a plain relative file name"),
    ("file twice", lambda d: d.update(files=["layers.py", "layers.py"]), "files", "lists the same entry twice"),
    ("no files", lambda d: d.update(files=[]), "files", "must name at least one file"),
    ("no tests", lambda d: d.update(tests=[]), "tests", "must list at least one test"),
    ("case set missing", lambda d: d["tests"][1].update(cases="big"), "tests[1].cases",
     "no case set named 'big' (defined: small)"),
    ("public test without public cases",
     lambda d: (d["cases"]["small"].update(public=[]), d["tests"][0].update(visibility="public")),
     "tests[0].visibility", "a public test needs public cases, and case set 'small' has none"),
    ("case set without hidden cases", lambda d: d["cases"]["small"].update(hidden=[]), "tests[0].cases",
     "case set 'small' has no hidden cases"),
    ("duplicate test names", lambda d: d["tests"][1].update(title="forward"), "tests[1].title",
     "two tests are both named 'affine: forward'"),
    ("duplicate case names", lambda d: d["cases"]["small"]["hidden"].append({"name": "wide", "N": 9}),
     "cases.small.hidden[2].name", "case 'wide' appears twice"),
    ("case without name", lambda d: d["cases"]["small"]["public"].append({"N": 9}),
     "cases.small.public[1].name", "every case needs a name"),
    ("case not a mapping", lambda d: d["cases"]["small"]["hidden"].append("big"),
     "cases.small.hidden[2]", "expected a mapping"),
    ("case argument nested", lambda d: d["cases"]["small"]["hidden"][0].update(shape={"a": 1}),
     "cases.small.hidden[0].shape", "builder arguments must be numbers, strings or lists of numbers"),
    ("case set name", lambda d: d["cases"].update({"my-set": {"builder": "b"}}), "cases.my-set",
     "case set names must be Python names"),
    ("upstream without forward", lambda d: d["tests"][1].update(upstream={"out": None}), "tests[1].upstream",
     "upstream is only used with forward"),
    ("forward without upstream", lambda d: d["tests"][1].update(forward="fwd"), "tests[1].upstream",
     "needs upstream"),
    ("forward on outputs test", lambda d: d["tests"][0].update(forward="fwd", upstream={"out": None}),
     "tests[0].forward", "only tests of kind 'gradients' take a forward probe"),
    ("upstream not a name", lambda d: d["tests"][1].update(forward="fwd", upstream={"out": 3}),
     "tests[1].upstream.out", "expected a case input name or null, got 3"),
    ("property without verify", lambda d: d["tests"][0].update(kind="property", outputs=["out"]), "tests[0].verify",
     "a property test needs verify"),
    ("property without reference outputs", lambda d: d["tests"][0].update(kind="property", verify="v"),
     "tests[0].outputs", "a property test earns points only from outputs that match the reference; name them"),
    ("unchanged without reference outputs", lambda d: d["tests"][0].update(kind="unchanged"),
     "tests[0].outputs", "an unchanged test earns points only from outputs that match the reference"),
    ("trajectory of a gradients test", lambda d: d["tests"][1].update(trajectory="losses"), "tests[1].trajectory",
     "'losses' must be an output this test compares with the reference"),
    ("trajectory not compared", lambda d: d["tests"][0].update(outputs=["out"], trajectory="losses"),
     "tests[0].trajectory", "listed in outputs: when given"),
    ("local check not a pytest file", lambda d: d.update(local_checks=["training.py"]), "local_checks[0]",
     "'training.py' must be a pytest file in the assignment folder, named test_*.py"),
    ("verify on outputs test", lambda d: d["tests"][0].update(verify="v"), "tests[0].verify",
     "only tests of kind 'property' take verify"),
]


@pytest.mark.parametrize("mutate, path, problem", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_names_file_path_and_problem(mutate, path, problem):
    data = minimal()
    mutate(data)
    msg = load_error(data)
    assert msg.startswith(f"{SOURCE}: {path}: "), msg
    assert problem in msg


def test_unknown_key_lists_allowed_keys():
    data = minimal()
    data["tests"][1]["tolerence"] = 1e-3
    msg = load_error(data)
    assert "tests[1].tolerence" in msg and "unknown key" in msg
    assert "rtol" in msg and "atol" in msg  # the allowed keys, so the typo is easy to spot


def test_missing_key_says_what_it_is_for():
    data = minimal()
    del data["tests"][0]["probe"]
    assert "probes.py" in load_error(data)


def test_top_level_not_a_mapping():
    assert load_error(["name"]) == f"{SOURCE}: expected a mapping, got ['name']"


def test_target_absent_from_solution():
    msg = load_error(minimal(), solution_names={"layers": {"relu"}})
    assert msg.startswith(f"{SOURCE}: tests[0].target: ")
    assert "'affine' is not defined in the solution module layers.py" in msg


def test_hidden_cases_not_required_in_json_copy():
    # A bundle's JSON copy (the starter's) carries no hidden cases; only the authored .yaml needs them.
    data = minimal()
    data["cases"]["small"]["hidden"] = []
    spec = spec_from_dict(data, "assignment.json")
    assert spec.casesets["small"].select(("hidden",)) == ()


def test_id_refused_in_yaml_accepted_in_json():
    data = minimal()
    data["tests"][0]["id"] = "t07"
    assert load_error(copy.deepcopy(data)).startswith(f"{SOURCE}: tests[0].id: test ids are set by the build")
    spec = spec_from_dict(data, "bundle/assignment.json")
    assert [t.id for t in spec.tests] == ["t07", "t02"]


# --- files --------------------------------------------------------------------------------------


def test_load_spec_yaml(tmp_path):
    import yaml

    path = tmp_path / "assignment.yaml"
    path.write_text(yaml.safe_dump(minimal()), encoding="utf-8")
    spec = load_spec(path, solution_names={"layers": ["affine"]})
    assert spec == spec_from_dict(minimal(), str(path))
    assert spec.source == str(path)


def test_load_spec_error_names_the_file(tmp_path):
    import yaml

    data = minimal()
    data["tests"][1]["tolerence"] = 1
    path = tmp_path / "assignment.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value).startswith(f"{path}: tests[1].tolerence: unknown key")


def test_load_spec_malformed_yaml_gives_line_and_column(tmp_path):
    path = tmp_path / "assignment.yaml"
    path.write_text("name: demo\ntitle: Demo\nfiles: [layers.py\ncases: {}\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: line 4, column 6: not valid YAML: ")
    assert "expected ',' or ']'" in msg


def test_load_spec_bad_indentation_yaml(tmp_path):
    path = tmp_path / "assignment.yaml"
    path.write_text("name: demo\n  title: Demo\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"line 2, column \d+: not valid YAML"):
        load_spec(path)


def test_load_spec_malformed_json(tmp_path):
    path = tmp_path / "assignment.json"
    path.write_text('{"name": "demo",\n "title": }\n', encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value).startswith(f"{path}: line 2: not valid JSON")


def test_load_spec_empty_yaml(tmp_path):
    path = tmp_path / "assignment.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value) == f"{path}: expected a mapping, got None"


def test_load_spec_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "assignment.yaml"
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value).startswith(f"{path}: no such file")


def test_load_spec_id_refused_in_yaml_file_accepted_in_json_file(tmp_path):
    import yaml

    data = minimal()
    data["tests"][1]["id"] = "t09"
    ypath = tmp_path / "assignment.yaml"
    ypath.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(ypath)
    assert str(info.value).startswith(f"{ypath}: tests[1].id: ")
    jpath = tmp_path / "assignment.json"
    jpath.write_text(json.dumps(data), encoding="utf-8")
    assert [t.id for t in load_spec(jpath).tests] == ["t01", "t09"]


# --- policy and advisory tests ------------------------------------------------------------------


def with_unchanged(data):
    data["tests"].append({"target": "layers.affine", "title": "leaves its inputs unchanged", "kind": "unchanged",
                          "probe": "affine_unchanged", "cases": "small", "outputs": ["out"]})
    return data


def test_no_policy_means_no_penalty_no_limit_and_hidden_tests_after_publishing():
    spec = spec_from_dict(minimal(), SOURCE)
    assert spec.policy == specmod.Policy((), "after_published", None)


def test_policy_loads_sorted_steps():
    data = minimal()
    data["policy"] = {"late": [{"hours": 48, "keep": 0}, {"hours": 0, "keep": 0.85}, {"hours": 24, "keep": 0.7}],
                      "hidden_visibility": "after_due_date", "daily_limit": 3}
    policy = spec_from_dict(data, SOURCE).policy
    assert [(s.hours, s.keep) for s in policy.late] == [(0, 0.85), (24, 0.7), (48, 0)]
    assert (policy.hidden_visibility, policy.daily_limit) == ("after_due_date", 3)


def test_unchanged_tests_are_advisory_by_default_and_carry_no_points():
    spec = spec_from_dict(with_unchanged(minimal()), SOURCE)
    assert [t.advisory for t in spec.tests] == [False, False, True]
    assert [t.points for t in spec.tests] == [1, 1, 0]
    assert spec.max_score == 2


def test_an_instructor_gives_an_unchanged_test_its_points_back():
    data = with_unchanged(minimal())
    data["tests"][2].update(advisory=False, points=2)
    spec = spec_from_dict(data, SOURCE)
    assert (spec.tests[2].advisory, spec.tests[2].points, spec.max_score) == (False, 2, 4)
    data = with_unchanged(minimal())
    data["defaults"] = {"advisory_kinds": []}  # every unchanged test graded, with defaults.points
    spec = spec_from_dict(data, SOURCE)
    assert (spec.tests[2].advisory, spec.tests[2].points) == (False, 1)


def test_any_kind_can_be_made_advisory():
    data = minimal()
    data["tests"][1]["advisory"] = True
    spec = spec_from_dict(data, SOURCE)
    assert (spec.tests[1].advisory, spec.tests[1].points, spec.max_score) == (True, 0, 1)


POLICY_ERRORS = [
    ("policy not a mapping", lambda d: d.update(policy=["late"]), "policy", "expected a mapping"),
    ("unknown policy key", lambda d: d.update(policy={"lateness": []}), "policy.lateness",
     "unknown key 'lateness' (allowed: daily_limit, hidden_visibility, late)"),
    ("late not a list", lambda d: d.update(policy={"late": {"hours": 0}}), "policy.late", "expected a list"),
    ("step not a mapping", lambda d: d.update(policy={"late": [24]}), "policy.late[0]", "expected a mapping"),
    ("step without keep", lambda d: d.update(policy={"late": [{"hours": 24}]}), "policy.late[0].keep",
     "missing required key"),
    ("step unknown key", lambda d: d.update(policy={"late": [{"hours": 24, "keep": 0.5, "days": 1}]}),
     "policy.late[0].days", "unknown key 'days'"),
    ("keep above 1", lambda d: d.update(policy={"late": [{"hours": 0, "keep": 85}]}), "policy.late[0].keep",
     "must be between 0 and 1 (the fraction of the score kept), got 85"),
    ("keep negative", lambda d: d.update(policy={"late": [{"hours": 0, "keep": -0.1}]}), "policy.late[0].keep",
     "must not be negative"),
    ("hours text", lambda d: d.update(policy={"late": [{"hours": "24h", "keep": 0.5}]}), "policy.late[0].hours",
     "expected a number, got '24h'"),
    ("hours negative", lambda d: d.update(policy={"late": [{"hours": -1, "keep": 0.5}]}), "policy.late[0].hours",
     "must not be negative"),
    ("same hours twice", lambda d: d.update(policy={"late": [{"hours": 24, "keep": 0.7}, {"hours": 24, "keep": 0.5}]}),
     "policy.late[1].hours", "two steps both start at 24 hours"),
    ("keep grows", lambda d: d.update(policy={"late": [{"hours": 0, "keep": 0.5}, {"hours": 24, "keep": 0.9}]}),
     "policy.late", "a later step keeps more than an earlier one"),
    ("bad hidden visibility", lambda d: d.update(policy={"hidden_visibility": "later"}), "policy.hidden_visibility",
     "'later' is not one of: after_due_date, after_published, hidden, visible"),
    ("daily limit zero", lambda d: d.update(policy={"daily_limit": 0}), "policy.daily_limit",
     "must be greater than 0, got 0"),
    ("daily limit float", lambda d: d.update(policy={"daily_limit": 2.5}), "policy.daily_limit",
     "expected a whole number, got 2.5"),
    ("advisory not a bool", lambda d: d["tests"][0].update(advisory="yes"), "tests[0].advisory",
     "expected true or false, got 'yes'"),
    ("points on an advisory test", lambda d: with_unchanged(d)["tests"][2].update(points=2), "tests[2].points",
     "an advisory test carries no points (tests of kind 'unchanged' are advisory unless they say advisory: false); "
     "set advisory: false to grade it"),
    ("points on a test made advisory", lambda d: d["tests"][0].update(advisory=True, points=1), "tests[0].points",
     "an advisory test carries no points; set advisory: false"),
    ("unknown advisory kind", lambda d: d.update(defaults={"advisory_kinds": ["unchanged", "inplace"]}),
     "defaults.advisory_kinds[1]", "'inplace' is not one of: outputs, gradients, unchanged, property"),
]


@pytest.mark.parametrize("mutate, path, problem", [e[1:] for e in POLICY_ERRORS], ids=[e[0] for e in POLICY_ERRORS])
def test_policy_and_advisory_errors_name_file_path_and_problem(mutate, path, problem):
    data = minimal()
    mutate(data)
    msg = load_error(data)
    assert msg.startswith(f"{SOURCE}: {path}: "), msg
    assert problem in msg


def test_every_assignment_sets_the_course_late_policy_and_its_unchanged_tests_are_advisory(repo):
    for name in repo.names():
        spec = repo.spec(name)
        assert [(s.hours, s.keep) for s in spec.policy.late] == [(0, 0.85), (24, 0.70), (48, 0.0)], name
        assert all(t.advisory == (t.kind == "unchanged") for t in spec.tests), name
        assert spec.max_score == sum(t.points for t in spec.tests if not t.advisory) > 0
