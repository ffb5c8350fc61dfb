"""Load an assignment spec (assignment.yaml, or its JSON copy in a bundle) into typed objects.

Every key has a type, a default (or is required) and a description; see `TEST_FIELDS`,
`SPEC_FIELDS` and friends (checked by fields.Reader), and `policy.POLICY_FIELDS` for `policy:`. Every error names the file, the path inside
it and what is wrong:
    assignments/rnn/assignment.yaml: tests[3].rtol: expected a number, got 'tight'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.core.errors import SpecError
from autograder.core.fields import NAME_RE, REQUIRED, Fld, Reader, show
from autograder.kit.cases import edge_cases
from autograder.spec.declared import check_tests, read_probes
from autograder.spec.policy import Policy, read_policy

__all__ = [
    "Spec", "Test", "CaseSet", "Case", "Limits", "load_spec", "spec_from_dict",
    "KINDS", "VISIBILITIES", "FRAMEWORKS", "Policy",
]

KINDS = ("outputs", "gradients", "unchanged", "property")
VISIBILITIES = ("public", "hidden")
FRAMEWORKS = ("numpy", "torch")


LIMIT_FIELDS = {
    "memory_mb": Fld("int", 1024, "address space the child may add beyond what it inherits, in MB", positive=True),
    "file_size_mb": Fld("int", 16, "largest file the child may write, in MB", positive=True),
    "processes": Fld("int", 32, "processes the sandbox user may run at once (enforced when grading as root)", positive=True),
    "output_kb": Fld("int", 10, "student stdout/stderr kept per test, in KB", positive=True),
    "result_mb": Fld("int", 64, "largest reply (all returned arrays together) a child may send, in MB", positive=True),
    "tmp_mb": Fld("int", 64, "size of each of the child's private /tmp, /var/tmp and /dev/shm (as root), in MB",
                  positive=True),
}

DEFAULT_FIELDS = {
    "points": Fld("number", 1, "points of a test that sets none"),
    "timeout": Fld("number", 10, "seconds a test may take (all its cases and calls together)", positive=True),
    "rtol": Fld("number", 1e-6, "relative tolerance of value comparisons"),
    "atol": Fld("number", 1e-8, "absolute tolerance of value comparisons"),
    "visibility": Fld("str", "hidden", "public (self-check and shown at once) or hidden", choices=VISIBILITIES),
    "banned": Fld("names", [], "dotted names of library callables no graded call may use"),
    "limits": Fld("mapping", {}, "resource limits of the child process (see LIMIT_FIELDS)"),
    "advisory_kinds": Fld("names", ["unchanged"], "kinds of test that are advisory unless a test sets "
                                                 "advisory: false (reported passed or failed, 0 points)"),
}

SPEC_FIELDS = {
    "name": Fld("name", REQUIRED, "assignment name; also the folder names under assignments/ and solutions/"),
    "title": Fld("str", REQUIRED, "human title shown to students"),
    "framework": Fld("str", "numpy", "numpy or torch: what the grader preloads and installs", choices=FRAMEWORKS),
    "files": Fld("files", REQUIRED, "files a student submits (python modules)"),
    "support": Fld("files", [], "files from the assignment folder shipped with both zips (data, helpers)"),
    "local_checks": Fld("files", [], "pytest files (test_*.py) from the assignment folder shipped only in the "
                                     "starter: checks students run themselves (a full training run), never graded"),
    "preload": Fld("names", [], "modules the grader imports before forking, so that children start warm"),
    "budget": Fld("number", 600, "seconds the whole grade may take; later tests fail with a timeout", positive=True),
    "defaults": Fld("mapping", {}, "defaults for every test (see DEFAULT_FIELDS)"),
    "cases": Fld("mapping", REQUIRED, "named case sets: builder, public and hidden cases"),
    "tests": Fld("list", REQUIRED, "the graded tests, in the order they are reported"),
    "probes": Fld("mapping", {}, "declarative probes: name -> steps (see spec/declared.py)"),
    "policy": Fld("mapping", {}, "course policy: late penalty, visibility of hidden tests, daily limit "
                                 "(see policy.POLICY_FIELDS)"),
}

CASESET_FIELDS = {
    "builder": Fld("name", REQUIRED, "function in the assignment's cases.py that builds one case"),
    "public": Fld("list", [], "cases shipped with the starter; each a mapping with `name` and builder arguments"),
    "hidden": Fld("list", [], "cases only in the grader zip"),
    "edges": Fld("mapping", {}, "edge shapes added as hidden cases, e.g. {N: 1, T: 1} (see kit.cases.edge_cases)"),
}

TEST_FIELDS = {
    "target": Fld("str", REQUIRED, "graded function or class as module.name, e.g. rnn_layers.rnn_forward"),
    "title": Fld("str", REQUIRED, "what the test checks; the reported name is '<name>: <title>'"),
    "kind": Fld("str", REQUIRED, "outputs, gradients, unchanged or property", choices=KINDS),
    "probe": Fld("name", REQUIRED, "probe calling the student's code on one case: declared under probes:, else "
                                   "a function in probes.py"),
    "cases": Fld("name", REQUIRED, "the case set to run"),
    "points": Fld("number", None, "points (default: defaults.points)"),
    "visibility": Fld("str", None, "public or hidden (default: defaults.visibility)", choices=VISIBILITIES),
    "timeout": Fld("number", None, "seconds for the whole test (default: defaults.timeout)", positive=True),
    "rtol": Fld("number", None, "relative tolerance (default: defaults.rtol)"),
    "atol": Fld("number", None, "absolute tolerance (default: defaults.atol)"),
    "outputs": Fld("names", [], "outputs compared with the reference (default: every output); required by "
                                "property and unchanged tests, whose points come only from these"),
    "trajectory": Fld("name", None, "an output holding one value per step (say a loss per training step), "
                                    "compared step by step: a failure names the step where it departs"),
    "forward": Fld("name", None, "gradients: probe giving the outputs of the student's forward pass"),
    "upstream": Fld("mapping", {}, "gradients: output name -> case input holding its upstream gradient (null: 1)"),
    "verify": Fld("name", None, "property: function in verify.py judging the outputs (runs in the grader)"),
    "banned": Fld("names", None, "dotted names of callables this test's calls may not use (adds to defaults)"),
    "limits": Fld("mapping", {}, "resource limits for this test (override defaults.limits)"),
    "hint": Fld("str", "", "one line shown to students when the test fails"),
    "blocks": Fld("mapping", {}, "output -> names of the equal blocks of its last axis (e.g. gates [i, f, o, g])"),
    "diagnose": Fld("bool", True, "run in mutant analysis and match failures against the catalog; switch off "
                                  "for long training checks"),
    "advisory": Fld("bool", None, "reported passed or failed with its message, but max_score 0 and no effect on "
                                  "the score (default: true for the kinds in defaults.advisory_kinds)"),
    "id": Fld("name", None, "set by the build in a bundle's copy of the spec; never written by hand"),
}


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 1024
    file_size_mb: int = 16
    processes: int = 32
    output_kb: int = 10
    result_mb: int = 64
    tmp_mb: int = 64


@dataclass(frozen=True)
class Case:
    name: str
    visibility: str
    params: dict
    seed: int

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.visibility} case '{self.name}'" + (f" ({shown})" if shown else "")


@dataclass(frozen=True)
class CaseSet:
    name: str
    builder: str
    cases: tuple[Case, ...]

    def select(self, visibilities) -> tuple[Case, ...]:
        return tuple(c for c in self.cases if c.visibility in visibilities)


@dataclass(frozen=True)
class Test:
    id: str
    target: str
    title: str
    kind: str
    probe: str
    cases: str
    points: float
    visibility: str
    timeout: float
    rtol: float
    atol: float
    outputs: tuple[str, ...] = ()
    trajectory: str | None = None
    forward: str | None = None
    upstream: dict = field(default_factory=dict)
    verify: str | None = None
    banned: tuple[str, ...] = ()
    limits: Limits = Limits()
    hint: str = ""
    blocks: dict = field(default_factory=dict)
    diagnose: bool = True
    advisory: bool = False  # reported, 0 points (points is then 0)

    @property
    def graded(self) -> str:
        """The graded function or class, without its module."""
        return self.target.rsplit(".", 1)[-1]

    @property
    def module(self) -> str:
        return self.target.rsplit(".", 1)[0]

    @property
    def name(self) -> str:
        return f"{self.graded}: {self.title}"


@dataclass(frozen=True)
class Spec:
    name: str
    title: str
    framework: str
    files: tuple[str, ...]
    support: tuple[str, ...]
    budget: float
    preload: tuple[str, ...]
    casesets: dict
    tests: tuple[Test, ...]
    policy: Policy = Policy()
    local_checks: tuple[str, ...] = ()
    source: str = "assignment.yaml"
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    declared: dict = field(default_factory=dict)  # probe name -> declaration (spec/declared.py)

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(f[:-3] for f in self.files if f.endswith(".py"))

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests)

    def test(self, test_id: str) -> Test:
        for t in self.tests:
            if t.id == test_id:
                return t
        raise KeyError(test_id)


def case_seed(assignment: str, caseset: str, visibility: str, name: str) -> int:
    """The named seed of one case: stable across machines and Python versions."""
    digest = hashlib.sha256(f"{assignment}/{caseset}/{visibility}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _limits(r: Reader, base: dict, override: dict, path: str) -> Limits:
    merged = dict(base)
    given = r.mapping(override, {k: Fld(f.kind, None, f.help, positive=f.positive)
                                 for k, f in LIMIT_FIELDS.items()}, path)
    merged.update({k: v for k, v in given.items() if v is not None})
    return Limits(**{k: v for k, v in merged.items() if v is not None})


def _blocks(r: Reader, value: dict, path: str) -> dict:
    for key, names in value.items():
        if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) and n for n in names):
            r.fail(f"{path}.{key}", f"expected a list of at least two block names, got {show(names)}")
    return {k: tuple(v) for k, v in value.items()}


def spec_from_dict(data, source: str = "assignment.yaml", solution_names: dict | None = None) -> Spec:
    """Validate a parsed spec. `solution_names` maps module -> names it defines, when known."""
    r = Reader(source)
    top = r.mapping(data, SPEC_FIELDS, "")
    name = top["name"]
    for i, f in enumerate(top["files"]):
        if not f.endswith(".py") or not NAME_RE.match(f[:-3]):
            r.fail(f"files[{i}]", f"'{f}' must be a Python module file such as layers.py")
    if not top["files"]:
        r.fail("files", "must name at least one file")
    for i, f in enumerate(top["local_checks"]):
        if not (f.startswith("test_") and f.endswith(".py")) or "/" in f:
            r.fail(f"local_checks[{i}]", f"'{f}' must be a pytest file in the assignment folder, named test_*.py")
    defaults = r.mapping(top["defaults"], DEFAULT_FIELDS, "defaults")
    base_limits = r.mapping(defaults["limits"], LIMIT_FIELDS, "defaults.limits")
    for i, kind in enumerate(defaults["advisory_kinds"]):
        if kind not in KINDS:
            r.fail(f"defaults.advisory_kinds[{i}]", f"'{kind}' is not one of: {', '.join(KINDS)}")
    policy = read_policy(r, top["policy"])
    modules = {f[:-3] for f in top["files"]}
    declared = read_probes(r, top["probes"], top["framework"], solution_names)

    casesets = {}
    for cs_name, cs in top["cases"].items():
        path = f"cases.{cs_name}"
        if not isinstance(cs_name, str) or not NAME_RE.match(cs_name):
            r.fail(path, "case set names must be Python names")
        cs = r.mapping(cs, CASESET_FIELDS, path)
        try:
            cs["hidden"] = cs["hidden"] + edge_cases(cs["public"], cs["hidden"], cs["edges"])
        except (ValueError, TypeError, AttributeError) as e:
            r.fail(f"{path}.edges", str(e))
        cases = []
        for vis in VISIBILITIES:
            seen = set()
            for i, c in enumerate(cs[vis]):
                cpath = f"{path}.{vis}[{i}]"
                if not isinstance(c, dict):
                    r.fail(cpath, f"expected a mapping with a name and builder arguments, got {show(c)}")
                cname = c.get("name")
                if not isinstance(cname, str) or not NAME_RE.match(cname):
                    r.fail(f"{cpath}.name", f"every case needs a name that is a Python name, got {show(cname)}")
                if cname in seen:
                    r.fail(f"{cpath}.name", f"case '{cname}' appears twice")
                seen.add(cname)
                params = {k: v for k, v in c.items() if k != "name"}
                for k, v in params.items():
                    if not isinstance(v, (int, float, str, bool)) and not (
                            isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)):
                        r.fail(f"{cpath}.{k}", f"builder arguments must be numbers, strings or lists of numbers, got {show(v)}")
                cases.append(Case(cname, vis, params, case_seed(name, cs_name, vis, cname)))
        casesets[cs_name] = CaseSet(cs_name, cs["builder"], tuple(cases))

    if not isinstance(top["tests"], list) or not top["tests"]:
        r.fail("tests", "must list at least one test")
    tests, names = [], set()
    for i, raw in enumerate(top["tests"]):
        path = f"tests[{i}]"
        t = r.mapping(raw, TEST_FIELDS, path)
        if t["id"] and source.endswith((".yaml", ".yml")):
            r.fail(f"{path}.id", "test ids are set by the build; remove this key")
        module, _, graded = t["target"].rpartition(".")
        if module not in modules or not NAME_RE.match(graded or "-"):
            r.fail(f"{path}.target", f"'{t['target']}' must be module.name with module one of: {', '.join(sorted(modules))}")
        if solution_names is not None and graded not in solution_names.get(module, ()):
            r.fail(f"{path}.target", f"'{graded}' is not defined in the solution module {module}.py")
        if t["cases"] not in casesets:
            r.fail(f"{path}.cases", f"no case set named '{t['cases']}' (defined: {', '.join(sorted(casesets)) or 'none'})")
        if t["kind"] == "gradients" and t["upstream"] and not t["forward"]:
            r.fail(f"{path}.upstream", "upstream is only used with forward (the numerical gradient check)")
        if t["forward"] and t["kind"] != "gradients":
            r.fail(f"{path}.forward", "only tests of kind 'gradients' take a forward probe")
        if t["forward"] and not t["upstream"]:
            r.fail(f"{path}.upstream", "a gradients test with a forward probe needs upstream: {output: case input or null}")
        for out_name, src in t["upstream"].items():
            if src is not None and not isinstance(src, str):
                r.fail(f"{path}.upstream.{out_name}", f"expected a case input name or null, got {show(src)}")
        if t["kind"] == "property" and not t["verify"]:
            r.fail(f"{path}.verify", "a property test needs verify: the function in verify.py that judges it")
        if t["verify"] and t["kind"] != "property":
            r.fail(f"{path}.verify", "only tests of kind 'property' take verify")
        if t["kind"] in ("property", "unchanged") and not t["outputs"]:
            article = "an" if t["kind"] == "unchanged" else "a"
            r.fail(f"{path}.outputs", f"{article} {t['kind']} test earns points only from outputs that match the "
                                      "reference; name them (outputs: [...]): what is judged besides them can only "
                                      "fail it")
        if t["trajectory"] and (t["kind"] not in ("outputs", "property") or
                                (t["outputs"] and t["trajectory"] not in t["outputs"])):
            r.fail(f"{path}.trajectory", f"'{t['trajectory']}' must be an output this test compares with the "
                                         "reference (kind outputs or property, listed in outputs: when given)")
        pick = lambda key: defaults[key] if t[key] is None else t[key]  # noqa: E731
        advisory = t["kind"] in defaults["advisory_kinds"] if t["advisory"] is None else t["advisory"]
        if advisory and t["points"]:
            why = "" if t["advisory"] else f" (tests of kind '{t['kind']}' are advisory unless they say advisory: false)"
            r.fail(f"{path}.points", f"an advisory test carries no points{why}; set advisory: false to grade it")
        test = Test(
            id=t["id"] or f"t{i + 1:02d}", target=t["target"], title=t["title"], kind=t["kind"],
            probe=t["probe"], cases=t["cases"], points=0 if advisory else pick("points"), visibility=pick("visibility"),
            timeout=pick("timeout"), rtol=pick("rtol"), atol=pick("atol"), outputs=tuple(t["outputs"]),
            trajectory=t["trajectory"], forward=t["forward"], upstream=dict(t["upstream"]), verify=t["verify"],
            banned=tuple(dict.fromkeys(list(defaults["banned"]) + list(t["banned"] or []))),
            limits=_limits(r, base_limits, t["limits"], f"{path}.limits"), hint=t["hint"],
            blocks=_blocks(r, t["blocks"], f"{path}.blocks"), diagnose=t["diagnose"], advisory=advisory,
        )
        if test.name in names:
            r.fail(f"{path}.title", f"two tests are both named '{test.name}'")
        names.add(test.name)
        cs = casesets[test.cases]
        if test.visibility == "public" and not cs.select(("public",)):
            r.fail(f"{path}.visibility", f"a public test needs public cases, and case set '{cs.name}' has none")
        if source.endswith((".yaml", ".yml")) and not cs.select(("hidden",)):
            r.fail(f"{path}.cases", f"case set '{cs.name}' has no hidden cases; grading needs cases students never saw")
        tests.append(test)
    check_tests(r, declared, tests)

    return Spec(name=name, title=top["title"], framework=top["framework"], files=tuple(top["files"]),
                support=tuple(top["support"]), budget=top["budget"], preload=tuple(top["preload"]), casesets=casesets,
                tests=tuple(tests), policy=policy, local_checks=tuple(top["local_checks"]), source=source,
                raw=data, declared=declared)


def load_spec(path, solution_names: dict | None = None) -> Spec:
    """Read assignment.yaml (or a bundle's assignment.json) and validate it."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such file; an assignment needs an assignment.yaml")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(f"{path}: line {e.lineno}: not valid JSON: {e.msg}") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            problem = getattr(e, "problem", None) or str(e)
            raise SpecError(f"{path}: {where}not valid YAML: {problem}") from None
    return spec_from_dict(data, str(path), solution_names)
