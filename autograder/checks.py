"""The four kinds of check. Each judges one case, in the grader, on plain arrays.

- outputs:   every output (or those named in `outputs:`) against the reference, with the test's
             tolerance; a `trajectory:` output (one value per step) is compared step by step;
- gradients: the backward outputs against the reference, then against central differences of
             the student's own forward pass (when the test names a forward probe);
- unchanged: the outputs named in `outputs:` match the reference, then the probe's inputs are
             bit-for-bit what was sent, and every `X.before` output equals its `X.after` (for
             caches and other state the probe snapshots);
- property:  the outputs named in `outputs:` match the reference, every other output has the
             reference's name and shape, then a function of the assignment's verify.py judges them
             (weights sum to 1, permuted inputs give permuted outputs, ...).

The scoring rule: a case passes only on outputs that match reference values computed at build
time on inputs the grader chose. What the child merely reports (an input it says it left alone,
a flag, a banned call) is judged after that and can only fail the case, never pass it; the spec
loader refuses a property or unchanged test that names no reference-compared outputs.

A check returns None when the case passes, or one message for the student.
"""

from __future__ import annotations

import numpy as np

from .compare import compare, compare_trajectory, same_bits
from .gradcheck import ForwardFailed, GradChecker

__all__ = ["run_check", "describe_failure", "CaseContext", "diagnosable", "BATCH_BYTES"]

BATCH_BYTES = 4 << 20  # inputs sent in one batched request, at most (about)


class CaseContext:
    """What a check needs for one case: the child, the test, the case and its data."""

    def __init__(self, child, test, case, inputs, expected, deadline, verify_module=None, budget=None):
        self.child, self.test, self.case = child, test, case
        self.inputs, self.expected = inputs, expected
        self.deadline = deadline
        self.verify_module = verify_module
        self.failed_reply = None
        self.outputs = None  # what the test's own probe returned, for diagnosis
        self.budget = budget  # the whole grade's budget in seconds, when it (not the test) sets the deadline

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
        """A banned call fails a reply that came back; a timeout names the grade's budget when that
        set the deadline; a failed reply is kept for diagnosis. True when the reply failed."""
        if reply.failure is None and reply.banned:
            reply.failure = "banned"
        if reply.failure == "timeout" and self.budget is not None:
            reply.detail = f"budget:{self.budget:g}"
        if reply.failure is not None:
            self.failed_reply = reply
        return reply.failure is not None


def diagnosable(ctx) -> dict | None:
    """What a failed case gave back, to match against catalogued mistakes: its outputs (and its
    inputs after the call), or the signature of the exception it raised."""
    from .mutants import ERROR_KEY, error_signature

    if ctx.outputs is not None:
        return ctx.outputs
    reply = ctx.failed_reply
    if reply is not None and reply.failure == "error" and reply.error:
        return {ERROR_KEY: error_signature(reply.error)}
    return None


def describe_failure(reply, test) -> str:
    """One sentence on why a call gave no usable result; never grader internals."""
    who = test.graded
    limit = f"{test.timeout:g} s"
    err = reply.error or {}
    where = err.get("where")
    at = ""
    if where:
        at = f" at {where['file']} line {where['line']}"
        if where.get("code"):
            at += f": `{where['code']}`"
    if reply.failure == "banned" or err.get("type") == "BannedCall" or reply.banned:
        names = ", ".join(dict.fromkeys(reply.banned)) or err.get("message", "")
        return f"{who} uses {names}, which this assignment does not allow; write that part yourself"
    if reply.failure == "import":
        mod = err.get("module", "your module")
        kind = "has a syntax error" if err.get("type") in ("SyntaxError", "IndentationError", "TabError") else "failed"
        if err.get("type") == "SystemExit":
            return f"importing {mod}.py called exit(){at}; remove top-level code that exits or runs long jobs"
        return f"importing {mod}.py {kind}: {err.get('type')}: {err.get('message')}{at}"
    if reply.failure == "error":
        if err.get("type") == "ContractError":  # a probe's own words about the contract
            return f"{who}: {err.get('message')}"
        if err.get("type") == "NotImplementedError":
            return f"{who} is not implemented yet (it raises NotImplementedError{at})"
        if err.get("type") == "SystemExit":
            return f"{who} called exit(){at}; a graded function must return its result"
        if where is None:
            return (f"{err.get('type')}: {err.get('message')}, raised while the grader used what {who} returned; "
                    "check the number, order, types and shapes of the values it returns")
        return f"{who} raised {err.get('type')}: {err.get('message')}{at}"
    if reply.failure == "output":
        return f"{who} returned a value the grader cannot use: {err.get('message')}"
    if reply.failure == "timeout" and reply.detail.startswith("budget:"):
        return (f"{who} was stopped because the whole grade used up its time budget of {reply.detail[7:]} s "
                "while this test ran; make the slow functions faster (see the timings of earlier tests)")
    if reply.failure == "timeout":
        return (f"{who} did not finish within this test's time limit of {limit} "
                "(an endless loop, a blocking call, or far too slow: avoid Python loops over array entries)")
    if reply.failure == "died":
        return f"the process running {who} {reply.detail}"
    if reply.failure == "internal":
        raise RuntimeError(f"grader problem: {err.get('message')}")
    if reply.failure == "protocol":
        return f"{who} returned something the grader could not read: {reply.detail}"
    return f"{who} failed ({reply.failure})"


def _select(expected: dict, wanted) -> dict:
    """The reference values of the outputs `wanted` (all of them when it is empty). A named output
    without a reference value is the bundle's fault, never a pass."""
    if not wanted:
        return dict(expected)
    missing = [k for k in wanted if k not in expected]
    if missing:
        raise LookupError(f"the bundle holds no reference value for the output(s) {', '.join(missing)}")
    return {k: expected[k] for k in wanted}


def _compare_all(got: dict, expected: dict, test, label=lambda k: k) -> str | None:
    """Every output that differs, one line each (a student fixing dWx wants to know dx is fine)."""
    problems = []
    for name, exp in expected.items():
        if name not in got:
            problems.append(f"'{label(name)}' is missing from what your code returned")
            continue
        if name == test.trajectory:
            problem = compare_trajectory(label(name), got[name], exp, test.rtol, test.atol)
        else:
            problem = compare(label(name), got[name], exp, test.rtol, test.atol, test.blocks.get(name))
        if problem:
            problems.append(problem)
    if not problems:
        return None
    ok = [label(n) for n in expected if n in got and not any(f"'{label(n)}'" in p for p in problems)]
    tail = f"\n(These match: {', '.join(ok)}.)" if ok and len(expected) > 1 else ""
    return "\n".join(problems) + tail


def check_outputs(ctx: CaseContext) -> str | None:
    reply = ctx.call(ctx.test.probe)
    if reply.failure:
        return describe_failure(reply, ctx.test)
    return _compare_all(reply.outputs, _select(ctx.expected, ctx.test.outputs), ctx.test)


def check_gradients(ctx: CaseContext) -> str | None:
    test = ctx.test
    reply = ctx.call(test.probe)
    if reply.failure:
        return describe_failure(reply, test)
    grads = reply.outputs
    problem = _compare_all(grads, _select(ctx.expected, test.outputs), test, label=lambda k: f"d{k}")
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
        return "while checking gradients numerically, " + describe_failure(e.reply, test)
    except KeyError as e:
        return f"your forward pass did not return the output {e}"


def check_unchanged(ctx: CaseContext) -> str | None:
    reply = ctx.call(ctx.test.probe, return_inputs=True)
    if reply.failure:
        return describe_failure(reply, ctx.test)
    # The call's results must match the reference first: a child that skipped the call (or forged
    # the probe) earns nothing for inputs it never touched.
    problem = _compare_all(reply.outputs, _select(ctx.expected, ctx.test.outputs), ctx.test)
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


def check_property(ctx: CaseContext) -> str | None:
    test = ctx.test
    reply = ctx.call(test.probe)
    if reply.failure:
        return describe_failure(reply, test)
    # Points come from these outputs only: they match the reference's on the same inputs. The
    # judge below sees everything the child returned and can only fail the case.
    problem = _compare_all(reply.outputs, _select(ctx.expected, test.outputs), test)
    if problem:
        return problem
    for name, exp in ctx.expected.items():
        got = reply.outputs.get(name)
        if got is None:
            return f"'{name}' is missing from what your code returned"
        if got.shape != exp.shape:
            return f"'{name}' has shape {got.shape}, expected {exp.shape}"
    judge = getattr(ctx.verify_module, test.verify, None)
    if judge is None:
        raise LookupError(f"verify function {test.verify} is missing")
    params = dict(ctx.case.params)
    return judge(ctx.inputs, reply.outputs, params)


_KINDS = {"outputs": check_outputs, "gradients": check_gradients,
          "unchanged": check_unchanged, "property": check_property}


def run_check(ctx: CaseContext) -> str | None:
    return _KINDS[ctx.test.kind](ctx)
