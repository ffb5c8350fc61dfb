"""Read and check the declarative probes of a spec (assignment.yaml `probes:`).

    probes:
      rnn_forward: "h, _ = rnn_forward(x, h0, Wx, Wh, b)"
      rnn_backward:
        - "_, _cache = rnn_forward(x, h0, Wx, Wh, b)"
        - "x, h0, Wx, Wh, b = rnn_backward(dh, _cache)"
      sigmoid: {steps: ["y = sigmoid(x)"], errstate: raise}

A probe is one step, a list of steps, or a mapping (DECL_FIELDS). The step grammar and the child
side are in sandbox/declared.py. Checked here when the spec is read: the syntax of every step,
the functions it calls (when the solution's names are known), names used before they are bound,
the keys of the mapping form, and that what a test names (`outputs:`, `upstream:`) is bound. Checked
at build time, once the case arrays exist (`check_inputs`): every name resolves in every case.
Every message names the file, the probe and the step.
"""

from __future__ import annotations

from autograder.core.fields import NAME_RE, REQUIRED, Fld, Reader, show
from autograder.sandbox.declared import HELPERS, StepError, bound_names, parse_step, used_names

__all__ = ["DECL_FIELDS", "GRAD_FIELDS", "read_probes", "check_tests", "for_test", "check_inputs", "outputs_of",
           "check_names_in_both"]

DECL_FIELDS = {
    "steps": Fld("list", REQUIRED, "the steps, each one line `TARGETS = CALL` or `CALL`"),
    "watch": Fld("names", [], "values whose arrays are copied before the last step and reported with the state "
                              "after it, as <name>[i].before / .after (leading underscore dropped)"),
    "errstate": Fld("str", None, "raise: numpy overflow, invalid and divide-by-zero raise during the steps; "
                                 "ignore: all are silent", choices=("raise", "ignore")),
    "grad": Fld("mapping", None, "torch: {of: {output: upstream case array or null}, wrt: [case arrays and "
                                 "modules]}; the probe returns the gradients only"),
    "optional": Fld("names", [], "case arrays some cases lack: there they are None"),
}

GRAD_FIELDS = {
    "of": Fld("mapping", REQUIRED, "output -> case array holding its upstream gradient (null: the output is a scalar)"),
    "wrt": Fld("names", REQUIRED, "case arrays (made leaf tensors) and bound modules whose gradients are returned"),
}


def read_probes(r: Reader, raw, framework: str, solution_names: dict | None = None) -> dict:
    """The `probes:` mapping as {name: normalised declaration}; fails naming probe and step."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        r.fail("probes", f"expected a mapping of probe names to steps, got {show(raw)}")
    helpers_or_module = None
    if solution_names is not None:
        helpers_or_module = set(HELPERS).union(*solution_names.values()) if solution_names else set(HELPERS)
    out = {}
    for name, decl in raw.items():
        path = f"probes.{name}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            r.fail(path, "probe names must be Python names")
        if isinstance(decl, str):
            decl = {"steps": [decl]}
        elif isinstance(decl, list):
            decl = {"steps": decl}
        d = r.mapping(decl, DECL_FIELDS, path)
        if not d["steps"]:
            r.fail(f"{path}.steps", "list at least one step")
        bound: set = set()
        parsed = []
        for i, text in enumerate(d["steps"]):
            spath = f"{path}.steps[{i}]"
            try:
                step = parse_step(text)
            except StepError as e:
                r.fail(spath, f"{show(text)}: {e}")
            for used in used_names(step):
                if used.startswith("_") and used not in bound:
                    r.fail(spath, f"{show(text)}: '{used}' is used before a step binds it")
            if step["on"] is None and step["fn"].startswith("_") and step["fn"] not in bound:
                r.fail(spath, f"{show(text)}: '{step['fn']}' is called before a step binds it")
            if step["on"] is None and helpers_or_module is not None and step["fn"] not in helpers_or_module \
                    and step["fn"] not in bound:
                r.fail(spath, f"{show(text)}: '{step['fn']}' is neither a helper ({', '.join(sorted(HELPERS))}) nor "
                              "defined in the solution's modules")
            if step["fn"] in HELPERS and step["on"] is None and framework != "torch":
                r.fail(spath, f"{show(text)}: the helper '{step['fn']}' is for torch assignments")
            bound |= set(bound_names(step))
            parsed.append(step)
        before_last = set().union(*[bound_names(s) for s in parsed[:-1]]) if len(parsed) > 1 else set()
        for w in d["watch"]:
            if w.startswith("_") and w not in before_last:
                r.fail(f"{path}.watch", f"'{w}' must be bound by a step before the last one (the watched call)")
        if d["grad"] is not None:
            if framework != "torch":
                r.fail(f"{path}.grad", "gradients by backward need framework: torch; a numpy assignment calls "
                                       "its own backward functions in the steps")
            g = r.mapping(d["grad"], GRAD_FIELDS, f"{path}.grad")
            for out_name, dout in g["of"].items():
                if out_name not in bound:
                    r.fail(f"{path}.grad.of.{out_name}", f"'{out_name}' is not bound by any step")
                if dout is not None and (not isinstance(dout, str) or not NAME_RE.match(dout)):
                    r.fail(f"{path}.grad.of.{out_name}", f"expected a case array name or null, got {show(dout)}")
            if not g["wrt"]:
                r.fail(f"{path}.grad.wrt", "name at least one case array or module")
            for w in g["wrt"]:
                if w.startswith("_") and w not in bound:
                    r.fail(f"{path}.grad.wrt", f"'{w}' is not bound by any step")
            d["grad"] = {"of": dict(g["of"]), "wrt": list(g["wrt"])}
        out[name] = {"steps": list(d["steps"]), "watch": list(d["watch"]), "errstate": d["errstate"],
                     "grad": d["grad"], "optional": list(d["optional"]), "framework": framework}
    return out


def outputs_of(decl: dict) -> set | None:
    """The output names a declaration returns, or None when they depend on a module (grad of one)."""
    if decl["grad"]:
        if any(w.startswith("_") for w in decl["grad"]["wrt"]):
            return None
        return set(decl["grad"]["wrt"])
    names = {n for s in decl["steps"] for n in bound_names(parse_step(s)) if not n.startswith("_")}
    return names  # watched pairs are named by their paths, known only when the probe runs


def check_tests(r: Reader, declared: dict, tests, probes_py: set | None = None) -> None:
    """What tests name of declared probes must exist: outputs they compare, the forward's outputs
    their upstream gradients belong to. `probes_py`: the names probes.py defines, when known."""
    for i, t in enumerate(tests):
        path = f"tests[{i}]"
        if probes_py is not None:
            for key in ("probe", "forward"):
                name = getattr(t, key)
                if name and name not in declared and name not in probes_py:
                    r.fail(f"{path}.{key}", f"no probe '{name}': declare it under probes: or define it in probes.py")
        decl = declared.get(t.probe)
        if decl is not None and not t.check_kind.returns_inputs:  # an unchanged test also names what it snapshots
            have = outputs_of(decl)
            missing = [o for o in (*t.outputs, *([t.trajectory] if t.trajectory else [])) if have is not None
                       and o not in have]
            if missing:
                r.fail(f"{path}.outputs", f"the declared probe '{t.probe}' never binds {', '.join(missing)} "
                                          f"(it returns: {', '.join(sorted(have)) or 'nothing'})")
        fwd = declared.get(t.forward) if t.forward else None
        if fwd is not None:
            have = outputs_of(fwd)
            for out_name in t.upstream:
                if have is not None and out_name not in have:
                    r.fail(f"{path}.upstream.{out_name}", f"the declared forward probe '{t.forward}' never binds "
                                                          f"'{out_name}' (it returns: {', '.join(sorted(have))})")


def check_names_in_both(r: Reader, declared: dict, probes_py: set) -> None:
    """A probe is declared or written in probes.py, never both."""
    both = sorted(set(declared) & set(probes_py))
    if both:
        r.fail(f"probes.{both[0]}", f"'{both[0]}' is declared here and also defined in probes.py; keep one")


def for_test(spec, test) -> dict:
    """The declarations a test's child needs (its probe and forward probe), for ChildJob.declared."""
    declared = getattr(spec, "declared", None) or {}
    return {n: declared[n] for n in (test.probe, test.forward) if n and n in declared}


def check_inputs(spec, inputs: dict) -> None:
    """At build time: every name a declared probe reads resolves in every case it runs on (an
    earlier target, a case array, a case parameter, or an optional array). `inputs` is keyed as
    in a bundle (`in/<caseset>/<case>/<name>`)."""
    r = Reader(spec.source)
    declared = getattr(spec, "declared", None) or {}
    seen = set()
    for test in spec.tests:
        for name in (test.probe, test.forward):
            decl = declared.get(name) if name else None
            if decl is None or (name, test.cases) in seen:
                continue
            seen.add((name, test.cases))
            cs = spec.casesets[test.cases]
            for case in cs.cases:
                prefix = f"in/{cs.name}/{case.name}/"
                arrays = {k[len(prefix):] for k in inputs if k.startswith(prefix)}
                if not arrays:
                    continue  # a visibility not built here
                _check_case(r, name, decl, arrays, set(case.params), f"case '{case.name}' of case set '{cs.name}'")


def _check_case(r: Reader, name: str, decl: dict, arrays: set, params: set, where: str) -> None:
    bound: set = set()
    known = arrays | params | set(decl["optional"])
    for i, text in enumerate(decl["steps"]):
        step = parse_step(text)
        for used in [a for a in used_names(step) if a != step["on"]]:
            if used not in bound and used not in known:
                r.fail(f"probes.{name}.steps[{i}]", f"{show(text)}: '{used}' is not bound by an earlier step, "
                                                   f"and the {where} has no such array or parameter "
                                                   f"(arrays: {', '.join(sorted(arrays))})")
        bound |= set(bound_names(step))
    if decl["grad"]:
        for w in decl["grad"]["wrt"]:
            if not w.startswith("_") and w not in arrays:
                r.fail(f"probes.{name}.grad.wrt", f"'{w}' is not an array of the {where}")
        for out_name, dout in decl["grad"]["of"].items():
            if dout is not None and dout not in arrays:
                r.fail(f"probes.{name}.grad.of.{out_name}", f"'{dout}' is not an array of the {where}")
    for w in decl["watch"]:
        if not w.startswith("_") and w not in bound and w not in arrays:
            r.fail(f"probes.{name}.watch", f"'{w}' is neither bound by a step nor an array of the {where}")
