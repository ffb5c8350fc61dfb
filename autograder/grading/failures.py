"""Why a call gave no usable result: one sentence for the student, and a typed record for reports.

A failed reply (sandbox.Reply) says what happened in the child: the code raised, timed out, died,
returned something unusable. Here that becomes
- a message in plain words, naming the function to blame: the test's own target, or a function it
  calls that is a stub or raises ("this test first calls your rnn_step_forward, which is not
  implemented yet"), or one that hung earlier in the grade;
- a `Failure`: kind, exception type, blamed function, case (results.json `extra_data`).

The blamed function is found from the student frames of the exception's traceback (the child
sends them, innermost last): the innermost frame that belongs to a graded name of the spec (a
graded function, or a method or nested function of one). Frames are untrusted data from the
child and are checked here before use.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Failure", "FailureKind", "FAILURE_KIND", "FAILURE_KINDS", "Blame", "student_stack", "blame",
           "describe_failure", "reply_failure", "hung_key", "failure_kinds_with"]


@dataclass(frozen=True)
class FailureKind:
    """A kind of failure, declared once: how it reads, and how reports and hints treat it."""

    name: str
    label: str  # how it reads in a table or a sentence
    limit: bool = False  # a limit was hit (time, budget, a process that died)
    elsewhere: bool = False  # not the target's own doing: the test's hint would point at the wrong code
    knock_on: bool = False  # follows from another function's failure: counted where that one starts
    whole_file: bool = False  # fails every test of a file, not of one function
    shows_type: bool = False  # its label names the exception type


FAILURE_KIND = {k.name: k for k in (
    FailureKind("mismatch", "wrong values"),
    FailureKind("shape", "wrong shape"),
    FailureKind("exception", "exception", shows_type=True),
    FailureKind("timeout", "time limit", limit=True),
    FailureKind("budget", "time budget used up", limit=True, elsewhere=True),
    FailureKind("banned", "banned call"),
    FailureKind("import", "import error", whole_file=True, shows_type=True),
    FailureKind("died", "process died", limit=True),
    FailureKind("output", "unusable output"),
    FailureKind("missing_file", "missing file", elsewhere=True, whole_file=True),
    FailureKind("not_implemented", "not implemented"),
    FailureKind("dependency", "a function it calls failed", elsewhere=True, knock_on=True),
    FailureKind("hung_before", "hung in an earlier test", limit=True, elsewhere=True, knock_on=True),
    FailureKind("protocol", "broke the protocol"),
    FailureKind("internal", "grader error", elsewhere=True),
    FailureKind("other", "failed"),
)}
FAILURE_KINDS = tuple(FAILURE_KIND)


def failure_kinds_with(flag: str) -> tuple[str, ...]:
    """Names of the failure kinds whose `flag` is set."""
    return tuple(k.name for k in FAILURE_KIND.values() if getattr(k, flag))


_MAX_FRAMES = 64


@dataclass
class Failure:
    """Why a test failed, for tools (see FAILURE_KINDS); the student reads the message instead."""

    kind: str
    type: str = ""  # the exception type, for exception, import, not_implemented and dependency
    function: str = ""  # the function blamed: the test's target, or one it calls
    case: str = ""
    case_visibility: str = ""

    @property
    def label(self) -> str:
        """How it reads in a table: 'wrong shape', 'exception: TypeError'; an unknown kind (from an
        older results file) as itself."""
        known = FAILURE_KIND.get(self.kind)
        words = known.label if known else self.kind
        return f"{words}: {self.type}" if self.type and known and known.shows_type else words

    def to_dict(self) -> dict:
        return {"kind": self.kind, "type": self.type, "function": self.function, "case": self.case,
                "case_visibility": self.case_visibility}


def _text(value, limit=200) -> str:
    return value[:limit] if isinstance(value, str) else ""


def student_stack(frames) -> list[dict]:
    """The child's list of student frames, outermost first, reduced to checked strings."""
    if not isinstance(frames, list):
        return []
    out = []
    for fr in frames[-_MAX_FRAMES:]:
        if not isinstance(fr, dict):
            continue
        line = fr.get("line")
        out.append({"file": _text(fr.get("file")), "function": _text(fr.get("function")),
                    "qualname": _text(fr.get("qualname")) or _text(fr.get("function")),
                    "line": line if isinstance(line, int) and not isinstance(line, bool) else 0,
                    "code": _text(fr.get("code")), "steady": fr.get("steady") is True})
    return out


def _owner(frame: dict) -> tuple[str, str]:
    """(module, top-level name) a frame belongs to: `CaptioningRNN.loss` -> CaptioningRNN."""
    module = frame["file"][:-3] if frame["file"].endswith(".py") else frame["file"]
    return module, frame["qualname"].split(".", 1)[0]


@dataclass(frozen=True)
class Blame:
    function: str  # the graded name the failure belongs to
    frame: dict | None  # its innermost frame, if any
    caller: str  # the target's outermost frame (`rnn_forward`, `CaptioningRNN.loss`), "" if it was not running


def blame(frames: list[dict], test, graded) -> Blame:
    """The innermost frame belonging to a graded (module, name) of `graded`; the target otherwise."""
    mine = (test.module, test.graded)
    caller = next((fr["qualname"].split(".<locals>", 1)[0] for fr in frames if _owner(fr) == mine), "")
    for fr in reversed(frames):
        module, name = _owner(fr)
        if (module, name) in graded:
            return Blame(name, fr, caller)
    return Blame(test.graded, None, caller)


def hung_key(frames: list[dict], test, graded) -> tuple[str, str]:
    """What hung when a test hit its time limit: (module, `function`, `Class.method` or
    `<module>` for its top level), from the innermost frame that ran through both samples (see
    stack.py) and belongs to a graded name; the test's target when the child could not say."""
    modules = {m for m, _ in graded}
    for fr in reversed([fr for fr in frames if fr.get("steady") is True]):
        module, owner = _owner(fr)
        if fr["qualname"] == "<module>" and module in modules:
            return module, "<module>"
        if (module, owner) in graded:
            return module, ".".join(fr["qualname"].split(".<locals>", 1)[0].split(".")[:2])
    return test.module, test.graded


def _at(where) -> str:
    if not isinstance(where, dict) or not where.get("file"):
        return ""
    at = f" at {_text(where.get('file'))} line {where.get('line') if isinstance(where.get('line'), int) else 0}"
    code = _text(where.get("code"))
    return at + (f": `{code}`" if code else "")


def _dependency_sentence(dep: str, caller: str, what: str) -> str:
    if caller:
        return f"your {caller} calls your {dep}, which {what}"
    return f"this test first calls your {dep}, which {what}"


def describe_failure(reply, test, graded=frozenset(), hung=None, budget: float | None = None) -> str:
    """One sentence on why a call gave no usable result; never grader internals.

    `graded`: the spec's (module, name) pairs, to blame a function the target calls; `hung`:
    (module, name) -> the name of the earlier test in which that function hit its time limit;
    `budget`: the whole grade's budget in seconds when it, not the test's time limit, set the
    deadline of the call (a timeout is then the budget's)."""
    return _describe(reply, test, graded, hung or {}, budget)[0]


def reply_failure(reply, test, graded=frozenset(), hung=None, budget: float | None = None) -> Failure:
    """The typed record of the same failure (case fields left empty)."""
    return _describe(reply, test, graded, hung or {}, budget)[1]


def _describe(reply, test, graded, hung, budget) -> tuple[str, Failure]:
    who = test.graded
    limit = f"{test.timeout:g} s"
    err = reply.error or {}
    where = err.get("where")
    at = _at(where)
    etype = _text(err.get("type"), 80)
    message = _text(err.get("message"), 700)

    def fail(kind, text, function=who, type_=""):
        return text, Failure(kind, type_, function)

    if reply.failure == "banned" or etype == "BannedCall" or reply.banned:
        names = ", ".join(dict.fromkeys(reply.banned)) or message
        return fail("banned", f"{who} uses {names}, which this assignment does not allow; write that part yourself")
    refused = err.get("refused")  # [module, function or <module>] of a RefusedCall
    refused = (_text(refused[0]), _text(refused[1])) if isinstance(refused, list) and len(refused) == 2 else ()
    if reply.failure in ("import", "error") and etype == "RefusedCall" and refused in hung:
        earlier = hung[refused]
        again = "it is not called again in this run, so that the time goes to the other tests"
        if refused[1] == "<module>":
            return fail("hung_before", f"importing {refused[0]}.py did not finish within the time limit in the "
                                       f"earlier test '{earlier}'; {again}. Remove top-level code that loops or "
                                       "runs long jobs")
        name = refused[1]
        return fail("hung_before", f"this test calls your {name}, which did not finish within the time limit in the "
                                   f"earlier test '{earlier}'; {again}. Fix {name} first (an endless loop, a blocking "
                                   "call, or far too slow)", function=name.split(".", 1)[0])
    if reply.failure == "import":
        mod = _text(err.get("module")) or "your module"
        if etype == "SystemExit":
            return fail("import", f"importing {mod}.py called exit(){at}; remove top-level code that exits or "
                                  "runs long jobs", type_=etype)
        kind = "has a syntax error" if etype in ("SyntaxError", "IndentationError", "TabError") else "failed"
        return fail("import", f"importing {mod}.py {kind}: {etype}: {message}{at}", type_=etype)
    if reply.failure == "error":
        if etype == "ContractError":  # a probe's own words about the contract
            return fail("exception", f"{who}: {message}", type_=etype)
        found = blame(student_stack(err.get("stack")), test, graded)
        if found.function != who:
            dep = found.function
            if etype == "NotImplementedError":
                what = f"is not implemented yet (it raises NotImplementedError{at})"
            elif etype == "SystemExit":
                what = f"called exit(){at}"
            else:
                what = f"raised {etype}: {message}{at}"
            return fail("dependency", _dependency_sentence(dep, found.caller, what), dep, etype)
        if etype == "NotImplementedError":
            return fail("not_implemented", f"{who} is not implemented yet (it raises NotImplementedError{at})",
                        type_=etype)
        if etype == "SystemExit":
            return fail("exception", f"{who} called exit(){at}; a graded function must return its result",
                        type_=etype)
        if not isinstance(where, dict):
            return fail("exception", f"{etype}: {message}, raised while the grader used what {who} returned; "
                                     "check the number, order, types and shapes of the values it returns", type_=etype)
        return fail("exception", f"{who} raised {etype}: {message}{at}", type_=etype)
    if reply.failure == "output":
        return fail("output", f"{who} returned a value the grader cannot use: {message}")
    if reply.failure == "timeout" and budget is not None:
        return fail("budget", f"{who} was stopped because the whole grade used up its time budget of "
                              f"{budget:g} s while this test ran; make the slow functions faster "
                              "(see the timings of earlier tests)")
    if reply.failure == "timeout":
        key = hung_key(student_stack(reply.stack), test, graded)
        if key[1] == "<module>":
            return fail("timeout", f"importing {key[0]}.py did not finish within this test's time limit of {limit}; "
                                   "remove top-level code that loops or runs long jobs")
        where_now = f" (it was running your {key[1]} when it was stopped)" if key[1] != who else ""
        return fail("timeout", f"{who} did not finish within this test's time limit of {limit}{where_now} "
                               "(an endless loop, a blocking call, or far too slow: avoid Python loops over array "
                               "entries)", function=key[1].split(".", 1)[0])
    if reply.failure == "died":
        return fail("died", f"the process running {who} {reply.detail}")
    if reply.failure == "internal":
        raise RuntimeError(f"grader problem: {message}")
    if reply.failure == "protocol":
        return fail("protocol", f"{who} returned something the grader could not read: {reply.detail}")
    return fail("other", f"{who} failed ({reply.failure})")
