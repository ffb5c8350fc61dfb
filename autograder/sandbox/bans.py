"""Banned calls: each name a spec bans stands for an operation, refused in the child by every route.

A spec bans library callables by dotted name (`torch.nn.functional.layer_norm`, `torch.nn.LSTM`,
`numpy.einsum`). The grader turns the names into a plan once, before it forks (`ban_plan`); each
child installs it before it imports the student's code (`install_bans`). What a name bans:

- **the object**, wherever a loaded module exposes it: rebound there to a refusal (numpy functions
  are banned this way only);
- **a class**, patched in place: constructing it or calling its `forward` refuses, whatever alias,
  subclass or import path reached it. A torch.nn class also bans the callables its forward is built
  on (FORWARD_ROUTES, the one table here: what a module's forward runs cannot be found by running
  it, as its constructor's arguments are unknown);
- **a torch function**: its aten operation, the one of the same name (torch's functions, Tensor
  methods, `torch._C._nn`, `torch._VF` and `torch.ops.aten` are bindings of aten operations named
  as they are), with every overload and the in-place twin (`cumsum_`), and the operations it
  reaches whose name contains its own (`layer_norm` reaches `native_layer_norm`), found by running
  it once on tiny CPU tensors under torch's profiler. The building blocks it reaches
  (`mm`, `bmm`, `_safe_softmax`, views) are not banned: students may use them.

In the child a banned operation gets a refusing kernel (torch.library) at each dispatch key where
it has one, so every route that reaches it refuses, a torch.jit or C++ caller included. No other
operation changes: no cost per operation, unlike a TorchFunctionMode or TorchDispatchMode, which
sees every call (see the README's security model for the figures). A refusal is recorded (reported
to the grader even if the student catches the exception) and names the banned name, the route the
student's line took and the operation.
"""

from __future__ import annotations

import builtins
import linecache
import os
import re
import sys
import types
import warnings

__all__ = ["BannedCall", "BanPlan", "ban_plan", "install_bans", "FORWARD_ROUTES"]

# torch.nn classes -> the torch callables their forward is built on, banned with the class.
FORWARD_ROUTES = {
    "torch.nn.LayerNorm": ("torch.nn.functional.layer_norm",),
    "torch.nn.MultiheadAttention": ("torch.nn.functional.multi_head_attention_forward",
                                    "torch._native_multi_head_attention"),
    "torch.nn.LSTM": ("torch.lstm",),
    "torch.nn.LSTMCell": ("torch.lstm_cell",),
    "torch.nn.GRU": ("torch.gru",),
    "torch.nn.GRUCell": ("torch.gru_cell",),
    "torch.nn.RNN": ("torch.rnn_tanh", "torch.rnn_relu"),
    "torch.nn.RNNCell": ("torch.rnn_tanh_cell", "torch.rnn_relu_cell"),
    "torch.nn.TransformerEncoderLayer": ("torch._transformer_encoder_layer_fwd",),
}
# Dispatch keys that hold an operation's computation (the others wrap it and pass the call down).
_KEYS = ("CompositeImplicitAutograd", "CompositeExplicitAutograd", "CompositeExplicitAutogradNonFunctional",
         "CPU", "CUDA", "Meta", "MPS", "XPU")
_TINY = {"Tensor": lambda torch: torch.full((2, 2, 2), 0.5), "List[int]": lambda torch: [2],
         "int": lambda torch: 1, "float": lambda torch: 0.5, "bool": lambda torch: False}
_HEAPTYPE = 1 << 9  # a class defined in Python: its methods can be replaced
_CALLEE = re.compile(r"([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\(")


class BannedCall(Exception):
    """Raised in the child when student code reaches a banned library call."""


def _resolve(dotted: str):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        mod = sys.modules.get(".".join(parts[:cut]))
        if mod is None:
            continue
        obj = mod
        try:
            for p in parts[cut:]:
                obj = getattr(obj, p)
        except AttributeError:
            return None
        return obj
    return None


def _from_torch(obj) -> bool:
    owner = getattr(obj, "__objclass__", None)  # a Tensor method
    module = getattr(obj if owner is None else owner, "__module__", None)
    return isinstance(module, str) and (module == "torch" or module.startswith("torch."))


def _aten(torch, name: str):
    try:
        return getattr(torch.ops.aten, name)
    except (AttributeError, RuntimeError):
        return None


def _tiny_args(torch, schema):
    """The required positional arguments of `schema` as tiny values, or None when one has no rule."""
    args = []
    for arg in schema.arguments:
        if arg.has_default_value():
            break
        kind = str(arg.type)
        if arg.kwarg_only or (kind not in _TINY and not kind.startswith("Optional[")):
            return None
        args.append(None if kind.startswith("Optional[") else _TINY[kind](torch))
    return args


def _reached(torch, packet) -> list:
    """Operations that `packet` reaches on tiny CPU inputs whose names contain its own. Recorded by
    torch's legacy profiler, which sees composite operations too and, unlike a dispatch mode, does
    not import torch._dynamo (1.3 s)."""
    from torch.autograd.profiler_legacy import profile

    if "default" not in packet.overloads():
        return []
    args = _tiny_args(torch, packet.default._schema)
    if args is None:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with torch.no_grad(), profile() as prof:
                packet.default(*args)
            names = [event.name for event in prof.function_events]
        except Exception:  # the tiny inputs did not fit
            return []
    stem = packet.__name__.strip("_")
    found = [_aten(torch, n[6:]) for n in dict.fromkeys(names) if n.startswith("aten::") and stem in n]
    return [p for p in found if p is not None and p is not packet]


def _operations(torch, obj) -> list[str]:
    """Qualified names of the aten operations (every overload) that torch callable `obj` stands for."""
    if isinstance(obj, torch._ops.OpOverload):
        obj = obj.overloadpacket
    if isinstance(obj, torch._ops.OpOverloadPacket):
        packet = obj if obj._qualified_op_name.startswith("aten::") else None
    elif _from_torch(obj) and isinstance(getattr(obj, "__name__", None), str):
        packet = _aten(torch, obj.__name__)
    else:
        packet = None
    if packet is None:
        return []
    family = [packet] + [p for p in (_aten(torch, packet.__name__ + "_"),) if p is not None]
    family += [p for p in _reached(torch, packet) if p not in family]
    return [getattr(p, overload).name() for p in family for overload in p.overloads()]


class BanPlan:
    """What a child refuses for these banned names: functions and where loaded modules expose them,
    classes to patch in place, and (op, dispatch key, banned name) for each refusing kernel.

    Finding where functions are exposed means reading every loaded module's namespace (about 0.1 s
    with torch loaded), so the grader makes the plan once, before forking; each child only rebinds
    the places, then looks through the modules that the student's imports added."""

    def __init__(self, names):
        self.names = tuple(names)
        self.originals = {}  # id -> (banned name, object): rebound wherever a module exposes it
        self.classes = []  # (banned name, class): patched in place
        self.ops = []  # (qualified op name, dispatch key, banned name)
        torch = sys.modules.get("torch")
        wanted = [(dotted, _resolve(dotted)) for dotted in self.names]
        for dotted, obj in list(wanted):
            if isinstance(obj, type):
                for cls_name, routes in FORWARD_ROUTES.items():
                    if _resolve(cls_name) is obj:
                        wanted += [(f"{route}, part of {dotted}", _resolve(route)) for route in routes]
        seen_ops = set()
        for dotted, obj in wanted:
            if obj is None or id(obj) in self.originals or any(obj is c for _, c in self.classes):
                continue
            if isinstance(obj, type) and obj.__flags__ & _HEAPTYPE:
                self.classes.append((dotted, obj))
                continue
            self.originals[id(obj)] = (dotted, obj)
            for op in _operations(torch, obj) if torch is not None else ():
                for key in _KEYS:
                    if (op, key) not in seen_ops and torch._C._dispatch_has_kernel_for_dispatch_key(op, key):
                        seen_ops.add((op, key))
                        self.ops.append((op, key, dotted))
        self.known = set(sys.modules)  # after the runs above, which may load modules
        self.sites = self.scan(list(sys.modules.values()))

    def scan(self, modules) -> list:
        """(module, attribute, object) wherever one of `modules` exposes a banned function."""
        sites = []
        if not self.originals:
            return sites
        for mod in modules:
            namespace = getattr(mod, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for attr, value in list(namespace.items()):
                hit = self.originals.get(id(value))
                if hit is not None and hit[1] is value:
                    sites.append((mod, attr, value))
        return sites

    def new_modules(self) -> list:
        return [mod for name, mod in list(sys.modules.items()) if name not in self.known]


_PLANS: dict = {}


def ban_plan(names) -> BanPlan:
    """The plan for `names`, made again only when modules were loaded since."""
    key = tuple(names)
    plan = _PLANS.get(key)
    if plan is None or len(plan.known) != len(sys.modules) or not plan.known.issuperset(sys.modules):
        plan = _PLANS[key] = BanPlan(key)
    return plan


# --- in the child -------------------------------------------------------------------------------

_KEEP = []  # the kernel registrations last as long as their torch.library.Library objects


def install_bans(plan: BanPlan, record: list, sites=None) -> None:
    """Refuse what `plan` bans. The first call (no `sites`) patches the classes, registers the
    refusing kernels and rebinds every place the plan found; a later call rebinds `sites` only.
    A refusal is appended to `record` and raised as BannedCall."""
    workdir = os.getcwd()  # the child runs in the submission's folder
    if sites is None:
        for dotted, cls in plan.classes:
            _patch_class(cls, dotted, record, workdir)
        torch = sys.modules.get("torch")
        if torch is not None and plan.ops:
            lib = torch.library.Library("aten", "IMPL")
            refusals = {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "overriding a previously registered kernel"
                for op, key, dotted in plan.ops:
                    if op not in refusals:
                        refusals[op] = _refusal(record, dotted, workdir, op=op)
                    try:
                        lib.impl(op.split("::", 1)[1], refusals[op], key)
                    except RuntimeError:
                        pass
            _KEEP.append(lib)
    replacements = {}
    for mod, attr, original in plan.sites if sites is None else sites:
        key = id(original)
        if key not in replacements:
            replacements[key] = _refusing(plan.originals[key][0], original, record, workdir)
        try:
            setattr(mod, attr, replacements[key])
        except (AttributeError, TypeError):
            pass


def _refusal(record, dotted, workdir, op=None, how="called"):
    def refused(*args, **kwargs):
        _refuse(record, dotted, workdir, op=op, how=how)
    return refused


def _refusing(dotted, original, record, workdir):
    """What replaces `original` where a module exposes it: a refusing function, or for a class that
    cannot be patched in place (one defined in C), a subclass that refuses to be constructed."""
    if isinstance(original, type):
        def __init__(self, *args, **kwargs):
            _refuse(record, dotted, workdir, how="constructed")
        return type(original.__name__, (original,), {"__init__": __init__, "__module__": original.__module__})
    refused = _refusal(record, dotted, workdir)
    refused.__name__ = getattr(original, "__name__", "banned")
    return refused


def _patch_class(cls, dotted, record, workdir) -> None:
    refused_init = _refusal(record, dotted, workdir, how="constructed")
    cls.__init__ = lambda self, *args, **kwargs: refused_init()
    if callable(getattr(cls, "forward", None)):
        refused_forward = _refusal(record, dotted, workdir)
        cls.forward = lambda self, *args, **kwargs: refused_forward()


def _refuse(record, dotted, workdir, op=None, how="called"):
    """Record and raise: the banned name, where the student's code reached it and by what route."""
    detail = []
    frame, inner = _student_frame(workdir)
    if frame is not None:
        code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()[:200]
        where = f"{os.path.basename(frame.f_code.co_filename)} line {frame.f_lineno}" + (f": `{code}`" if code else "")
        route = _route(frame, inner, code, op) if op else None
        detail.append(f"reached through {route} at {where}" if route else f"{how} at {where}")
    if op:
        detail.append(f"operation {op}")
    entry = f"{dotted} ({'; '.join(detail)})" if detail else dotted
    if entry not in record:
        record.append(entry)
    raise BannedCall(f"{entry} is not allowed in this assignment; write it yourself")


def _student_frame(workdir):
    """The innermost frame running the student's code, and the frame it called (or None)."""
    frame, inner = sys._getframe(2), None
    while frame is not None:
        filename = frame.f_code.co_filename
        if os.path.isabs(filename) and os.path.realpath(os.path.dirname(filename)) == workdir:
            return frame, inner
        frame, inner = frame.f_back, frame
    return None, None


def _route(frame, inner, code: str, op: str):
    """How the student's line reached `op`: the callee on that line that names the operation
    (`torch.layer_norm`, `x.cumsum_`, `torch.ops.aten.native_layer_norm.default`), else the torch
    function the line called (`torch.nn.modules.normalization.LayerNorm.forward`)."""
    stem = op.split("::", 1)[-1].split(".")[0]
    for expr in _CALLEE.findall(code):
        name = getattr(_lookup(frame, expr), "__name__", None)
        if isinstance(name, str) and name.split(".")[0] == stem:
            return re.sub(r"\s+", "", expr)
    module = inner.f_globals.get("__name__") if inner is not None else None
    if isinstance(module, str) and module.startswith("torch"):
        return f"{module}.{inner.f_code.co_qualname}"
    return None


def _lookup(frame, expr: str):
    """The object a dotted name on the student's line stands for, looked up through modules and
    torch objects only (no student attribute code runs, and a plain module's attributes are read
    from its namespace, so nothing is imported lazily); None when it cannot be told."""
    parts = [p.strip() for p in expr.split(".")]
    missing = object()
    obj = frame.f_locals.get(parts[0], missing)
    if obj is missing:
        obj = frame.f_globals.get(parts[0], getattr(builtins, parts[0], None))
    for part in parts[1:]:
        if type(obj) is types.ModuleType:
            obj = vars(obj).get(part)
            continue
        if not _from_torch(type(obj)):  # torch._VF, torch.ops namespaces, tensors
            return None
        try:
            obj = getattr(obj, part)
        except Exception:
            return None
    return obj
