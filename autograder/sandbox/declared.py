"""Declarative probes: the step grammar, and running a declaration in the sandboxed child.

A declaration (assignment.yaml `probes:`; read and checked by spec/declared.py) is a list of
steps, each one line of Python read with `ast`, never evaluated:

    TARGETS = CALL        or        CALL

CALL is `fn(arg, ..., kw=arg)` or `obj.method(...)`; `fn` is a name bound by an earlier step (a
module called: `out = _m(x)`), a helper of HELPERS, or a name of the student's module. An
argument is a name or a literal (number, string, None, True/False, or a list of those). Names
resolve to, in order: targets of earlier steps, the case's arrays, the case's parameters (and,
for `obj` only, the student's module); a name listed in `optional` that the case's
arrays lack is None, even when a parameter has that name. TARGETS is a name or a tuple of names;
`_` discards a value, names starting with `_` stay in the child, every other target is an output.

`parse_step` is shared by the build-time check and the child; `make_probe` turns a normalised
declaration (a JSON-friendly dict: steps, watch, errstate, grad, optional, framework) into a
probe function `probe(module, arrays, params) -> {output: value}` like those of probes.py.
"""

from __future__ import annotations

import ast

import numpy as np

from autograder.core.errors import ContractError
from autograder.kit.watch import watch as watch_call

__all__ = ["StepError", "parse_step", "make_probe", "HELPERS", "bound_names", "used_names"]


class StepError(ValueError):
    """A step that is not `TARGETS = CALL` or `CALL` of the grammar; the message says why."""


HELPERS = {"load": "kit.torch.load_strict(module, the case's arrays, prefix='param.'): module in eval mode"}

_LITERALS = (int, float, str, bool, type(None))


def _arg(node, where: str):
    """One argument: ("name", x) or ("value", literal)."""
    if isinstance(node, ast.Name):
        return ["name", node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, _LITERALS):
        return ["value", node.value]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return ["value", -node.operand.value]
    if isinstance(node, ast.List):
        items = [_arg(x, where) for x in node.elts]
        if any(kind != "value" or isinstance(v, list) for kind, v in items):
            raise StepError(f"{where}: a list argument may hold only numbers, strings, None and booleans")
        return ["value", [v for _, v in items]]
    raise StepError(f"{where}: an argument must be a name or a literal (number, string, None, True, False, "
                    f"or a list of those), not `{ast.unparse(node)}`")


def parse_step(text: str) -> dict:
    """Parse one step into {"targets": [names] or None, "on": name or None, "fn": name,
    "args": [arg...], "kwargs": {key: arg}}; raise StepError saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise StepError("a step must be one line of the form `outputs = function(args)` or `function(args)`")
    try:
        tree = ast.parse(text.strip(), mode="exec")
    except SyntaxError as e:
        raise StepError(f"not valid Python: {e.msg}") from None
    if len(tree.body) != 1:
        raise StepError("a step is a single statement; write one step per list entry")
    stmt = tree.body[0]
    targets, unpack = None, False
    if isinstance(stmt, ast.Assign):
        if len(stmt.targets) != 1:
            raise StepError("write one assignment per step (`a = b = f()` is not allowed)")
        target = stmt.targets[0]
        elts = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
        if not elts or not all(isinstance(t, ast.Name) for t in elts):
            raise StepError(f"the left side must be a name or names separated by commas, not `{ast.unparse(target)}`")
        targets = [t.id for t in elts]
        unpack = isinstance(target, (ast.Tuple, ast.List))  # `a, = f()` unpacks one value
        seen = [t for t in targets if t and t != "_"]
        if len(seen) != len(set(seen)):
            raise StepError("a name appears twice on the left side")
        call = stmt.value
    elif isinstance(stmt, ast.Expr):
        call = stmt.value
    else:
        raise StepError("a step is `outputs = function(args)` or `function(args)`")
    if not isinstance(call, ast.Call):
        raise StepError(f"the right side must be a call such as `f(x)`, not `{ast.unparse(call)}`")
    func = call.func
    if isinstance(func, ast.Name):
        on, fn = None, func.id
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        on, fn = func.value.id, func.attr
    else:
        raise StepError(f"call a name (`f(...)`) or a method of a name (`_model.loss(...)`), not `{ast.unparse(func)}`")
    args = []
    for a in call.args:
        if isinstance(a, ast.Starred):
            raise StepError("`*args` is not allowed in a step")
        args.append(_arg(a, f"argument {len(args) + 1} of {fn}"))
    kwargs = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise StepError("`**kwargs` is not allowed in a step")
        kwargs[kw.arg] = _arg(kw.value, f"argument {kw.arg}= of {fn}")
    return {"targets": targets, "unpack": unpack, "on": on, "fn": fn, "args": args, "kwargs": kwargs}


def bound_names(step: dict) -> list[str]:
    """The names a parsed step binds (without `_`)."""
    return [t for t in (step["targets"] or []) if t != "_"]


def used_names(step: dict) -> list[str]:
    """The names a parsed step reads: its arguments' names and the object of a method call."""
    names = [v for kind, v in [*step["args"], *step["kwargs"].values()] if kind == "name"]
    return ([step["on"]] if step["on"] else []) + names


def output_name(name: str) -> str:
    """How a bound or watched name is reported: its leading underscores dropped."""
    return name.lstrip("_") or name


_UNPACKERS: dict = {}


def _unpack(value, n: int):
    """Unpack `value` into n values with Python's own statement (and so its own messages, such as
    'not enough values to unpack (expected 2, got 1)'). The code is made from the count only."""
    if n not in _UNPACKERS:
        names = ", ".join(f"v{i}" for i in range(n))
        scope: dict = {}
        exec(compile(f"def unpack(value):\n    {names}, = value\n    return [{names}]\n",
                     "<declared probe>", "exec", dont_inherit=True), scope)
        _UNPACKERS[n] = scope["unpack"]
    return _UNPACKERS[n](value)


def _backward(pairs) -> None:
    """One backward of the scalar sum(out * dout) over (name, out, dout); dout None: out itself.
    Checked here first, so that the message names the output (kit.torch.scalar_backward's own
    checks then never fire)."""
    import torch

    from autograder.kit.torch import scalar_backward

    for name, out, dout in pairs:
        if not torch.is_tensor(out):
            raise ContractError(f"'{name}' is a {type(out).__name__}, not a torch tensor: its gradient cannot be taken")
        if dout is None and out.numel() != 1:
            raise ContractError(f"'{name}' should be a single number (a loss); it has shape {tuple(out.shape)}")
        if dout is not None and tuple(out.shape) != tuple(dout.shape):
            raise ContractError(f"'{name}' has shape {tuple(out.shape)}, expected {tuple(dout.shape)}")
    scalar_backward([(out, dout) for _, out, dout in pairs])


def make_probe(decl: dict):
    """The probe function of a normalised declaration (see spec/declared.py: `normalise`)."""
    steps = [parse_step(s) for s in decl["steps"]]
    torch_mode = decl.get("framework") == "torch"
    watched = list(decl.get("watch") or ())
    optional = set(decl.get("optional") or ())
    grad = decl.get("grad")
    errstate = decl.get("errstate")

    def probe(module, arrays, params):
        case = arrays
        if torch_mode:
            import torch

            wrt = set(grad["wrt"]) if grad else set()
            case = {}
            for k, a in arrays.items():
                t = torch.from_numpy(a)
                case[k] = t.requires_grad_(True) if k in wrt and t.is_floating_point() else t
        env: dict = {}

        def resolve(name, allow_module=False):
            if name in env:
                return env[name]
            if name in case:
                return case[name]
            if name in optional:  # a case array this case lacks, even where a parameter has its name
                return None
            if name in params:
                return params[name]
            if allow_module and hasattr(module, name):
                return getattr(module, name)
            raise ContractError(f"the declared probe needs '{name}', which this case does not have")

        def value(arg):
            kind, v = arg
            return resolve(v) if kind == "name" else v

        def function(step):
            if step["on"] is not None:
                return getattr(resolve(step["on"], allow_module=True), step["fn"])
            if step["fn"] in env:  # a bound object called: `out = _m(x)`
                return env[step["fn"]]
            if step["fn"] in HELPERS:
                return _helper(step["fn"], arrays)
            return getattr(module, step["fn"])

        outputs, seen = {}, {}
        ctx = np.errstate(over="raise", invalid="raise", divide="raise", under="ignore") if errstate == "raise" \
            else np.errstate(all="ignore") if errstate == "ignore" else None
        if ctx is not None:
            ctx.__enter__()
        try:
            for i, step in enumerate(steps):
                fn = function(step)
                args = [value(a) for a in step["args"]]
                kwargs = {k: value(a) for k, a in step["kwargs"].items()}
                if i == len(steps) - 1 and watched:
                    result, seen = watch_call(lambda: fn(*args, **kwargs),
                                              **{output_name(w): resolve(w) for w in watched})
                else:
                    result = fn(*args, **kwargs)
                targets = step["targets"]
                if targets is None:
                    continue
                values = _unpack(result, len(targets)) if step["unpack"] else [result]
                for name, got in zip(targets, values):
                    if name != "_":
                        env[name] = got
                        if not name.startswith("_"):
                            outputs[name] = got
        finally:
            if ctx is not None:
                ctx.__exit__(None, None, None)
        if grad:
            return _gradients(grad, env, case, resolve)
        outputs.update(seen)
        return outputs

    return probe


def _helper(name: str, arrays: dict):
    if name == "load":
        from autograder.kit.torch import load_strict

        return lambda module, prefix="param.": load_strict(module, arrays, prefix=prefix)
    raise ContractError(f"unknown helper {name!r}")  # the spec reader lets none through


def _gradients(grad: dict, env: dict, case: dict, resolve) -> dict:
    import torch

    modules = [w for w in grad["wrt"] if w not in case]
    for name in modules:
        resolve(name).zero_grad(set_to_none=True)
    pairs = []
    for out, dout in grad["of"].items():
        d = None if dout is None else resolve(dout)
        if d is not None and not torch.is_tensor(d):
            d = torch.as_tensor(np.asarray(d))
        pairs.append((output_name(out), resolve(out), d))
    # the modules' parameters are leaves already; zero_grad made their grads None before this
    _backward(pairs)
    from autograder.kit.torch import grads_of

    result = {}
    for name in grad["wrt"]:  # in the declared order: a case array under its name, a module's parameters under theirs
        result.update(grads_of({name: case[name]}) if name in case else grads_of(module=resolve(name)))
    return result
