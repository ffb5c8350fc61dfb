"""One check per kind of test (the kinds are declared in spec/kinds.py). Each judges one case, in
the grader, on plain arrays.

- outputs:   every output (or those named in `outputs:`) against the reference, with the test's
             tolerance; a `trajectory:` output (one value per step) is compared step by step;
- gradients: the backward outputs against the reference, then against central differences of
             the student's own forward pass (when the test names a forward probe);
- unchanged: the outputs named in `outputs:` match the reference, then the probe's inputs are
             bit-for-bit what was sent, and every `X.before` output equals its `X.after` (for
             caches and other state the probe snapshots);
- property:  the outputs named in `outputs:` match the reference, every other output has the
             reference's name and shape, then a judge (a function of the assignment's verify.py, or a
             standard judge of autograder.kit.judges) judges them
             (weights sum to 1, permuted inputs give permuted outputs, ...).

The scoring rule: a case passes only on outputs that match reference values computed at build
time on inputs the grader chose. What the child merely reports (an input it says it left alone,
a flag, a banned call) is judged after that and can only fail the case, never pass it; the spec
loader refuses a property or unchanged test that names no reference-compared outputs.

A check returns None when the case passes, or one message for the student.
"""

from __future__ import annotations

import numpy as np

from autograder.grading.compare import compare, compare_trajectory, same_bits
from autograder.grading.failures import Failure, describe_failure, reply_failure
from autograder.grading.gradcheck import ForwardFailed, GradChecker
from autograder.kit.judges import resolve
from autograder.spec.kinds import CHECK_KINDS, GRADIENTS, OUTPUTS, PROPERTY, UNCHANGED

__all__ = ["run_check", "describe_failure", "CaseContext", "diagnosable", "compared", "case_failure", "BATCH_BYTES",
           "CHECKS"]

BATCH_BYTES = 4 << 20  # inputs sent in one batched request, at most (about)

CHECKS: dict = {}  # kind name -> its check


def _checks(kind):
    """Register the decorated function as the check of `kind` (a kinds.CheckKind)."""
    def register(fn):
        CHECKS[kind.name] = fn
        return fn
    return register


class CaseContext:
    """What a check needs for one case: the child, the test, the case and its data."""

    def __init__(self, child, test, case, inputs, expected, deadline, verify_module=None, budget=None,
                 graded=frozenset(), hung=None):
        self.child, self.test, self.case = child, test, case
        self.inputs, self.expected = inputs, expected
        self.deadline = deadline
        self.verify_module = verify_module
        self.failed_reply = None
        self.outputs = None  # what the test's own probe returned, for diagnosis
        self.budget = budget  # the whole grade's budget in seconds, when it (not the test) sets the deadline
        self.graded = graded  # the spec's (module, name) pairs, to blame a function the target calls
        self.hung = hung if hung is not None else {}  # (module, name) -> test in which it hit its time limit
        self.kind = None  # what kind of failure a check found in the values ('shape', 'output', ...)

    def describe(self, reply) -> str:
        """describe_failure, with what this grade knows (graded names, earlier hangs, the budget)."""
        return describe_failure(reply, self.test, self.graded, self.hung, self.budget)

    def call(self, probe: str, inputs: dict | None = None, return_inputs: bool = False):
        reply = self.child.call(self.test.module, probe, self.inputs if inputs is None else inputs,
                                self.deadline, seed=self.case.seed, return_inputs=return_inputs,
                                params=self.case.params)
        self._settle(reply)
        if reply.failure is None and probe == self.test.probe and self.outputs is None:
            self.outputs = dict(reply.outputs)
            self.outputs.update({f"input:{k}": v for k, v in reply.inputs_after.items()})
        return reply

    def call_many(self, probe: str, batch: list[dict]):
        """The probe on every input set of `batch`, in as few round trips as the size limits allow."""
        per_set = max(1, sum(arr.nbytes for arr in batch[0].values())) if batch else 1
        chunk = max(1, min(len(batch), BATCH_BYTES // per_set))
        many = []
        for start in range(0, len(batch), chunk):
            reply = self.child.call_many(self.test.module, probe, batch[start:start + chunk], self.deadline,
                                         seed=self.case.seed, params=self.case.params)
            if self._settle(reply):
                return reply, None
            many += reply.many
        return None, many

    def _settle(self, reply) -> bool:
        """A banned call fails a reply that came back; a failed reply is kept for diagnosis. True
        when the reply failed."""
        if reply.failure is None and reply.banned:
            reply.failure = "banned"
        if reply.failure is not None:
            self.failed_reply = reply
        return reply.failure is not None


def compared(ctx) -> dict:
    """The reference outputs whose values the test's check compares (name -> array)."""
    return _select(ctx.expected, ctx.test.outputs)


def diagnosable(ctx) -> dict | None:
    """What a failed case gave back, to match against catalogued mistakes: its outputs (and its
    inputs after the call), or the signature of the exception it raised."""
    from autograder.grading.diagnosis import ERROR_KEY, error_signature

    if ctx.outputs is not None:
        return ctx.outputs
    reply = ctx.failed_reply
    if reply is not None and reply.failure == "error" and reply.error:
        return {ERROR_KEY: error_signature(reply.error)}
    return None


def _select(expected: dict, wanted) -> dict:
    """The reference values of the outputs `wanted` (all of them when it is empty). A named output
    without a reference value is the bundle's fault, never a pass."""
    if not wanted:
        return dict(expected)
    missing = [k for k in wanted if k not in expected]
    if missing:
        raise LookupError(f"the bundle holds no reference value for the output(s) {', '.join(missing)}")
    return {k: expected[k] for k in wanted}


def _compare_all(ctx, got: dict, expected: dict, label=lambda k: k) -> str | None:
    """Every output that differs, one line each (a student fixing dWx wants to know dx is fine).
    Notes on `ctx` what kind of difference it was: 'shape' over 'output' (a missing output) over
    'mismatch'."""
    test = ctx.test
    problems, kinds = [], set()
    for name, exp in expected.items():
        if name not in got:
            problems.append(f"'{label(name)}' is missing from what your code returned")
            kinds.add("output")
            continue
        if got[name].shape != exp.shape:
            kinds.add("shape")
        if name == test.trajectory:
            problem = compare_trajectory(label(name), got[name], exp, test.rtol, test.atol)
        else:
            problem = compare(label(name), got[name], exp, test.rtol, test.atol, test.blocks.get(name))
        if problem:
            problems.append(problem)
    if not problems:
        return None
    ctx.kind = next(k for k in ("shape", "output", "mismatch") if k in kinds or k == "mismatch")
    ok = [label(n) for n in expected if n in got and not any(f"'{label(n)}'" in p for p in problems)]
    tail = f"\n(These match: {', '.join(ok)}.)" if ok and len(expected) > 1 else ""
    return "\n".join(problems) + tail


@_checks(OUTPUTS)
def check_outputs(ctx: CaseContext) -> str | None:
    reply = ctx.call(ctx.test.probe)
    if reply.failure:
        return ctx.describe(reply)
    return _compare_all(ctx, reply.outputs, _select(ctx.expected, ctx.test.outputs))


@_checks(GRADIENTS)
def check_gradients(ctx: CaseContext) -> str | None:
    test = ctx.test
    reply = ctx.call(test.probe)
    if reply.failure:
        return ctx.describe(reply)
    grads = reply.outputs
    problem = _compare_all(ctx, grads, _select(ctx.expected, test.outputs), label=lambda k: test.check_kind.label + k)
    if problem or not test.forward:
        return problem

    def forward_many(batch):
        failed, many = ctx.call_many(test.forward, batch)
        if failed:
            raise ForwardFailed(failed)
        return many

    upstream = {out: (None if src is None else ctx.inputs[src].astype(np.float64))
                for out, src in test.upstream.items()}
    checker = GradChecker(None, upstream, seed=ctx.case.seed, forward_many=forward_many)
    try:
        return checker.check(ctx.inputs, {k: v for k, v in grads.items() if k in ctx.inputs})
    except ForwardFailed as e:
        return "while checking gradients numerically, " + ctx.describe(e.reply)
    except KeyError as e:
        ctx.kind = "output"
        return f"your forward pass did not return the output {e}"


@_checks(UNCHANGED)
def check_unchanged(ctx: CaseContext) -> str | None:
    reply = ctx.call(ctx.test.probe, return_inputs=True)
    if reply.failure:
        return ctx.describe(reply)
    # The call's results must match the reference first: a child that skipped the call (or forged
    # the probe) earns nothing for inputs it never touched.
    problem = _compare_all(ctx, reply.outputs, _select(ctx.expected, ctx.test.outputs))
    if problem:
        return f"this test looks at the inputs once the results are right, and they are not yet: {problem}"
    for name, sent in ctx.inputs.items():
        after = reply.inputs_after.get(name)
        if after is None or not same_bits(after, sent):
            return (f"{ctx.test.graded} modified its input '{name}' in place; "
                    "work on a copy (x = x.copy(), or out-of-place operations like a = a + b)")
    for name, before in reply.outputs.items():
        if name.endswith(".before"):
            key = name[: -len(".before")]
            after = reply.outputs.get(key + ".after")
            if after is None or not same_bits(after, before):
                return (f"{ctx.test.graded} modified '{key}' in place; "
                        "do not write into arrays you were given or stored in the cache")
    return None


@_checks(PROPERTY)
def check_property(ctx: CaseContext) -> str | None:
    test = ctx.test
    reply = ctx.call(test.probe)
    if reply.failure:
        return ctx.describe(reply)
    # Points come from these outputs only: they match the reference's on the same inputs. The
    # judge below sees everything the child returned and can only fail the case.
    problem = _compare_all(ctx, reply.outputs, _select(ctx.expected, test.outputs))
    if problem:
        return problem
    for name, exp in ctx.expected.items():
        got = reply.outputs.get(name)
        if got is None:
            ctx.kind = "output"
            return f"'{name}' is missing from what your code returned"
        if got.shape != exp.shape:
            ctx.kind = "shape"
            return f"'{name}' has shape {got.shape}, expected {exp.shape}"
    params = dict(ctx.case.params)
    if isinstance(test.verify, dict):  # a standard judge of the kit, with the test's settings
        settings = {k: v for k, v in test.verify.items() if k != "kit"}
        return resolve(test.verify["kit"])(ctx.inputs, reply.outputs, params, **settings)
    judge = getattr(ctx.verify_module, test.verify, None)
    if judge is None:
        raise LookupError(f"verify function {test.verify} is missing")
    return judge(ctx.inputs, reply.outputs, params)


_missing = set(CHECK_KINDS) - set(CHECKS)
if _missing:
    raise ImportError(f"no check is registered for the kind(s) {', '.join(sorted(_missing))} of spec/kinds.py")


def run_check(ctx: CaseContext) -> str | None:
    return CHECKS[ctx.test.kind](ctx)


def case_failure(ctx: CaseContext) -> Failure:
    """The typed record of why a case failed: from the failed reply when a call failed, else from
    what the check found in the values (a wrong value, an in-place write, a property not met:
    'mismatch'; a wrong shape: 'shape'; a missing output: 'output')."""
    reply = ctx.failed_reply
    if reply is not None:
        failure = reply_failure(reply, ctx.test, ctx.graded, ctx.hung, ctx.budget)
    else:
        failure = Failure(ctx.kind or "mismatch", function=ctx.test.graded)
    failure.case, failure.case_visibility = ctx.case.name, ctx.case.visibility
    return failure
