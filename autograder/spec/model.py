"""Load an assignment spec (assignment.yaml, or its JSON copy in a bundle) into typed objects.

Every key has a type, a default (or is required) and a description, declared once with the
dataclass that holds it (schema.py: `Test`, `Spec`, `Limits`; policy.py for `policy:`) and checked
by fields.Reader; the kinds of test are declared in kinds.py. Every error names the file, the path
inside it and what is wrong:
    assignments/rnn/assignment.yaml: tests[3].rtol: expected a number, got 'tight'
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.core.errors import SpecError
from autograder.core.fields import NAME_RE, Fld, Reader, show
from autograder.kit.cases import edge_cases
from autograder.kit.judges import check_args
from autograder.spec.declared import check_tests, read_probes
from autograder.spec.kinds import KINDS, check_kind, kinds_with, spoken
from autograder.spec.policy import Policy, read_policy
from autograder.spec.schema import (CASESET_FIELDS, DEFAULT_FIELDS, FRAMEWORKS, LIMIT_FIELDS, SPEC_FIELDS,
                                    TEST_FIELDS, VISIBILITIES, Case, CaseSet, Limits, Spec, Test, case_seed)

__all__ = [
    "Spec", "Test", "CaseSet", "Case", "Limits", "load_spec", "spec_from_dict",
    "KINDS", "VISIBILITIES", "FRAMEWORKS", "Policy",
    "LIMIT_FIELDS", "DEFAULT_FIELDS", "SPEC_FIELDS", "CASESET_FIELDS", "TEST_FIELDS", "case_seed",
]


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


def _kind_rules(r: Reader, t: dict, path: str) -> None:
    """What a test's kind requires of its keys and allows (kinds.py)."""
    kind = check_kind(t["kind"])
    only = lambda flag: spoken(kinds_with(flag), "'")  # noqa: E731
    if kind.takes_forward and t["upstream"] and not t["forward"]:
        r.fail(f"{path}.upstream", "upstream is only used with forward (the numerical gradient check)")
    if t["forward"] and not kind.takes_forward:
        r.fail(f"{path}.forward", f"only tests of kind {only('takes_forward')} take a forward probe")
    if t["forward"] and not t["upstream"]:
        r.fail(f"{path}.upstream", f"a {kind.name} test with a forward probe needs upstream: "
                                   "{output: case input or null}")
    for out_name, src in t["upstream"].items():
        if src is not None and not isinstance(src, str):
            r.fail(f"{path}.upstream.{out_name}", f"expected a case input name or null, got {show(src)}")
    if kind.takes_verify and not t["verify"]:
        r.fail(f"{path}.verify", f"a {kind.name} test needs verify: the function in verify.py that judges it")
    if t["verify"] and not kind.takes_verify:
        r.fail(f"{path}.verify", f"only tests of kind {only('takes_verify')} take verify")
    if isinstance(t["verify"], dict):
        problem = check_args(t["verify"]["kit"], {k: v for k, v in t["verify"].items() if k != "kit"})
        if problem:
            r.fail(f"{path}.verify", problem)
    if kind.outputs_required and not t["outputs"]:
        article = "an" if kind.name[0] in "aeiou" else "a"
        r.fail(f"{path}.outputs", f"{article} {kind.name} test earns points only from outputs that match the "
                                  "reference; name them (outputs: [...]): what is judged besides them can only "
                                  "fail it")
    if t["trajectory"] and (not kind.takes_trajectory or (t["outputs"] and t["trajectory"] not in t["outputs"])):
        r.fail(f"{path}.trajectory", f"'{t['trajectory']}' must be an output this test compares with the "
                                     f"reference (kind {spoken(kinds_with('takes_trajectory'))}, listed in outputs: "
                                     "when given)")


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
        _kind_rules(r, t, path)
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
                defaults=defaults, declared=declared, tests=tuple(tests), policy=policy, local_checks=tuple(top["local_checks"]), source=source,
                raw=data)


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
