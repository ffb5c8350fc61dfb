"""Standard judges for property tests, and the helpers to write one.

A judge runs in the GRADER, on the plain numpy arrays the child returned, once the outputs the
test names have matched the reference's; it can only fail a case:

    judge(inputs, outputs, params, **args) -> None | str

None passes; a string tells the student why not. `inputs` are the case's arrays, `params` the
case's parameters from assignment.yaml, `args` the test's own settings. A test uses one of these
without writing Python:

    verify: {kit: distribution, weights: attn_weights}

and a judge of the assignment's verify.py can call them, or the helpers below, to build its own.
Messages print values with 9 significant digits and indices as [i, j].
"""

from __future__ import annotations

import inspect
import math

import numpy as np

__all__ = ["index_text", "first_mismatch", "first_nonfinite", "finite", "distribution", "masked_zero",
           "permutation", "causal", "loss_below", "frequencies", "JUDGES", "resolve", "check_args",
           "SOFTMAX_FINITE"]

SOFTMAX_FINITE = ("with every mask row holding a True, a softmax of finite scores is finite (mask with -inf "
                  "only where the mask is False, and take the softmax over the attended positions)")


# --- helpers ---------------------------------------------------------------------------------

def index_text(index) -> str:
    """An index tuple as '[i, j]'."""
    return "[" + ", ".join(str(int(k)) for k in index) + "]"


def first_mismatch(got, expected, rtol: float = 1e-6, atol: float = 1e-8):
    """None when `got` is close to `expected` everywhere (|got - exp| <= atol + rtol * |exp|, NaN
    never close), else (index, got value, expected value) at the first entry that is not; when the
    shapes differ, ('shape', got shape, expected shape)."""
    got, exp = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != exp.shape:
        return ("shape", got.shape, exp.shape)
    bad = ~(np.abs(got - exp) <= atol + rtol * np.abs(exp))
    if not bad.any():
        return None
    i = np.unravel_index(int(np.argmax(bad)), bad.shape)
    return (i, float(got[i]), float(exp[i]))


def first_nonfinite(outputs: dict, names):
    """(name, index, value) of the first NaN or inf among the outputs `names`, in order, or None."""
    for name in names:
        x = np.asarray(outputs[name], dtype=np.float64)
        if not np.isfinite(x).all():
            i = np.unravel_index(int(np.argmax(~np.isfinite(x))), x.shape)
            return name, i, x[i]
    return None


def _nonfinite_text(outputs, names, hint):
    found = first_nonfinite(outputs, names)
    if found is None:
        return None
    name, i, value = found
    return f"'{name}' contains {value} at {index_text(i)}; {hint}"


# --- judges ----------------------------------------------------------------------------------

def finite(inputs, outputs, params, names=(), hint=SOFTMAX_FINITE):
    """Every output in `names` (default: all, in name order) is free of NaN and inf."""
    return _nonfinite_text(outputs, list(names) or sorted(outputs), hint)


def distribution(inputs, outputs, params, weights="weights", axes=None, row="sample", rows=None,
                 what="attention weight", tol=1e-9, hint="take the softmax over all attended positions of one "
                                                        "sample, and mask before the softmax, not after it",
                 finite_hint=SOFTMAX_FINITE):
    """Output `weights` holds distributions: finite, never negative, each summing to 1 within `tol`.

    One distribution spans the last `axes` axes (default None: every axis but the first, so a
    sample's (P, P) grid of weights is one distribution); `row` names what one distribution
    belongs to in the message ('sample', 'query'; plural `rows`, default row + 's'), `what` what an
    entry is."""
    bad = _nonfinite_text(outputs, [weights], finite_hint)
    if bad:
        return bad
    w = np.asarray(outputs[weights], dtype=np.float64)
    lead = w.shape[:1] if axes is None else w.shape[:w.ndim - int(axes)]
    w = w.reshape(lead + (-1,))
    if (w < 0).any():
        i = np.unravel_index(int(np.argmin(w)), w.shape)
        return f"{what} {w[i]:.6g} at {index_text(i)} is negative; weights come from a softmax and are >= 0"
    sums = w.sum(axis=-1)
    off = np.abs(sums - 1.0) > tol
    if off.any():
        n = np.unravel_index(int(np.argmax(off)), off.shape)
        label = str(int(n[0])) if len(n) == 1 else index_text(n)
        return (f"the {what}s of {row} {label} sum to {sums[n]:.9g}, expected 1 ({int(off.sum())} of "
                f"{off.size} {rows or row + 's'} are off); {hint}")
    return None


LEAK = ("position {index} is masked out (mask False) but weighs {weight:.6g}, expected exactly 0 ({count} masked "
        "positions have weight); True means 'may attend': set the scores of the False positions to -inf before "
        "the softmax")


def masked_zero(inputs, outputs, params, weights="weights", mask="mask", tol=0.0, open_positive=True,
                leak_message=LEAK, finite_hint=SOFTMAX_FINITE):
    """Positions the input `mask` blocks (False or 0) weigh 0 (within `tol`; default exactly), and
    with open_positive every open position weighs more than 0. The mask broadcasts against the
    weights (an (N, L) mask for (N, L) weights, a (T, T) mask for (N, H, T, T)); no `mask` input
    means every position is open. `leak_message` is a str.format template: fields index, weight,
    count (of leaking positions), key (the last index) and query (the index without it)."""
    bad = _nonfinite_text(outputs, [weights], finite_hint)
    if bad:
        return bad
    w = np.asarray(outputs[weights], dtype=np.float64)
    m = np.asarray(inputs[mask]).astype(bool) if mask in inputs else np.ones(w.shape, dtype=bool)
    try:
        m = np.broadcast_to(m, w.shape)
    except ValueError:
        return f"'{weights}' has shape {w.shape}, expected {m.shape} like the mask"
    leak = ~m & (np.abs(w) > tol)
    if leak.any():
        i = np.unravel_index(int(np.argmax(leak)), leak.shape)
        return leak_message.format(index=index_text(i), weight=w[i], count=int(leak.sum()), key=int(i[-1]),
                                   query=index_text(i[:-1]))
    starved = m & ~(w > 0.0)
    if open_positive and starved.any():
        i = np.unravel_index(int(np.argmax(starved)), starved.shape)
        return (f"position {index_text(i)} may be attended to (mask True) but weighs {w[i]:.6g}; only masked "
                "positions get weight 0. Check the polarity of the mask: True means 'may attend'")
    return None


PERMUTED = ("after permuting the attended positions (and the mask) by the case's permutation, the weights are not "
            "permuted the same way: at {index} expected {expected:.9g} (original weight of position {source}), "
            "got {got:.9g}; a position's weight must depend only on its own key (and mask), not on where it stands")
INVARIANT = ("permuting the attended positions changed '{name}' at {index}: {expected:.9g} before, {got:.9g} "
             "after; attention treats its keys as a set, so the weighted sum must not change")


def permutation(inputs, outputs, params, perm="perm", permuted=("weights",), invariant=("context",),
                suffix="_perm", flatten=True, finite=None, tol=1e-9, atol=None, permuted_message=PERMUTED,
                invariant_message=INVARIANT, finite_hint=SOFTMAX_FINITE):
    """Permuting the positions (axis 1) of the inputs by the input `perm` permutes the outputs
    `permuted` the same way and leaves the outputs `invariant` unchanged: each output X is
    compared with X<suffix>, the output for the permuted inputs, within rtol `tol` and `atol`
    (default tol / 1000). With `flatten`, a permuted output with more than two axes is flattened
    from axis 1 (a (P, P) grid of weights is P*P positions); without it, axis 1 holds the positions
    and the other axes stay (a (N, S, E) sequence of features). `finite` lists the outputs checked for
    NaN and inf first (default: all of those, the originals first). The messages are str.format
    templates with the fields index, expected, got, name, batch (index 0), position (index 1),
    perm (the permutation as a list) and, for permuted outputs, source (the original position)."""
    order = [*permuted, *invariant] + [n + suffix for n in (*permuted, *invariant)]
    bad = _nonfinite_text(outputs, order if finite is None else finite, finite_hint)
    if bad:
        return bad
    p = np.asarray(inputs[perm], dtype=np.int64)
    atol = tol / 1000 if atol is None else atol

    def flat(x):
        x = np.asarray(x)
        return x.reshape(x.shape[0], -1) if flatten and x.ndim > 2 else x

    def fields(i, got, exp, name):
        return dict(index=index_text(i), expected=exp, got=got, name=name, batch=int(i[0]),
                    position=int(i[1]) if len(i) > 1 else 0, perm=p.tolist())

    for name in list(permuted) + list(invariant):
        if np.shape(outputs[name + suffix]) != np.shape(outputs[name]):
            return f"'{name}{suffix}' has shape {np.shape(outputs[name + suffix])}, expected {np.shape(outputs[name])}"
    for name in permuted:
        bad = first_mismatch(flat(outputs[name + suffix]), flat(outputs[name])[:, p], rtol=tol, atol=atol)
        if bad:
            i, got, exp = bad
            return permuted_message.format(**fields(i, got, exp, name), source=int(p[i[1]]))
    for name in invariant:
        bad = first_mismatch(outputs[name + suffix], outputs[name], rtol=tol, atol=atol)
        if bad:
            i, got, exp = bad
            return invariant_message.format(**fields(i, got, exp, name))
    return None


CAUSAL = ("changing only the inputs after position {t} changed '{name}' at position {position} ({index}: "
          "{before:.6g} became {after:.6g}); position i may depend only on positions j <= i (a causal mask)")
UNUSED = ("changing the inputs after position {t} did not change any of '{name}' after it: the later positions "
          "do not use their inputs")


def causal(inputs, outputs, params, output="logits", changed="logits_changed", t="t", tol=1e-9,
           message=CAUSAL, unused_message=UNUSED):
    """Outputs `output` and `changed` come from inputs that agree up to position t (the input `t`)
    along axis 1: they must agree up to t (within `tol`, relative to 1 + |value|) and, when
    `unused_message` is not empty, differ somewhere after t. Templates: fields t, name, position,
    index, before, after."""
    bad = _nonfinite_text(outputs, [output, changed], "check the mask's polarity: a row whose every key "
                                                      "is blocked gives NaN")
    if bad:
        return bad
    a, b = np.asarray(outputs[output], dtype=np.float64), np.asarray(outputs[changed], dtype=np.float64)
    k = int(np.asarray(inputs[t]))
    err = np.abs(a[:, :k + 1] - b[:, :k + 1])
    if (err > tol * (1 + np.abs(a[:, :k + 1]))).any():
        i = np.unravel_index(int(np.argmax(err)), err.shape)
        return message.format(t=k, name=output, position=int(i[1]), index=index_text(i), before=a[i], after=b[i])
    if unused_message and k + 1 < a.shape[1] and np.abs(a[:, k + 1:] - b[:, k + 1:]).max() == 0:
        return unused_message.format(t=k, name=output)
    return None


def loss_below(inputs, outputs, params, loss="losses", bound=None, param=None, step=-1, hint=""):
    """The output `loss` (one value per step) is finite and at `step` (default: the last) below
    `bound`, or below the case parameter `param` when it names one."""
    limit = params[param] if param is not None else bound
    if limit is None:
        raise ValueError("loss_below needs bound: a number, or param: the case parameter holding it")
    x = np.asarray(outputs[loss], dtype=np.float64).reshape(-1)
    if x.size == 0:
        return f"'{loss}' is empty: expected one loss per step"
    if not np.isfinite(x).all():
        i = int(np.argmax(~np.isfinite(x)))
        return f"the loss became {x[i]} at step {i + 1}; a diverging loss means a wrong gradient or sign"
    got = x[step]
    if not got < limit:
        where = "the last step" if step == -1 else f"step {step + 1 if step >= 0 else x.size + step + 1}"
        return (f"the loss at {where} is {got:.6g} (it started at {x[0]:.6g}), expected below {limit:.6g}"
                + (f"; {hint}" if hint else ""))
    return None


def _upper_tail_chi2(x: float, dof: int) -> float:
    """P(X >= x) for a chi-square variable with `dof` degrees of freedom (Wilson-Hilferty)."""
    if dof <= 0:
        return 1.0
    z = ((x / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))
    return 0.5 * math.erfc(z / math.sqrt(2))


def frequencies(inputs, outputs, params, samples="samples", probs="probs", alpha=1e-6, min_expected=5.0):
    """The integer draws `samples` follow the probabilities `probs` (an output, else an input).

    probs (..., V) gives one distribution per row and samples (..., n) that row's n draws (or
    probs (V,) and samples (n,)). Each row is a chi-square test, categories expected fewer than
    `min_expected` times pooled into one; the case fails when a row's p-value is below
    alpha / rows, so a correct sampler fails a case with probability about `alpha`. A draw
    outside [0, V) fails at once."""
    p = np.asarray(outputs[probs] if probs in outputs else inputs[probs], dtype=np.float64)
    s = np.asarray(outputs[samples])
    if s.dtype.kind not in "iu":
        return f"'{samples}' must hold integer token ids, got {s.dtype}"
    V = p.shape[-1]
    p = p.reshape(-1, V)
    if s.ndim == 0 or s.size % len(p):
        return f"'{samples}' has shape {s.shape}, expected one row of draws per distribution of '{probs}'"
    s = s.reshape(len(p), -1)
    if ((s < 0) | (s >= V)).any():
        i = np.unravel_index(int(np.argmax((s < 0) | (s >= V))), s.shape)
        return f"draw {index_text(i)} of '{samples}' is {int(s[i])}, outside [0, {V})"
    for r in range(len(p)):
        n = s.shape[1]
        counts = np.bincount(s[r], minlength=V).astype(np.float64)
        expected = n * p[r] / p[r].sum()
        if (counts[expected == 0] > 0).any():
            k = int(np.flatnonzero((expected == 0) & (counts > 0))[0])
            return f"row {r} drew token {k} {int(counts[k])} times, but its probability is 0"
        big = expected >= min_expected
        obs, exp = list(counts[big]), list(expected[big])
        if (~big).any() and expected[~big].sum() > 0:
            obs.append(counts[~big].sum())
            exp.append(expected[~big].sum())
        obs, exp = np.array(obs), np.array(exp)
        stat = float(((obs - exp) ** 2 / exp).sum())
        pvalue = _upper_tail_chi2(stat, len(obs) - 1)
        if pvalue < alpha / len(p):
            worst = int(np.argmax(np.abs(counts - expected)))
            return (f"the draws of row {r} do not follow the given probabilities: token {worst} came "
                    f"{int(counts[worst])} times in {n} draws, expected about {expected[worst]:.1f} (chi-square "
                    f"{stat:.1f} on {len(obs) - 1} degrees of freedom, p = {pvalue:.2g}); sample from the "
                    "softmax of the logits (torch.multinomial), not the argmax or the logits themselves")
    return None


# The standard judges by name, as `verify: {kit: NAME}` names them.
JUDGES = {f.__name__: f for f in (finite, distribution, masked_zero, permutation, causal, loss_below, frequencies)}


def resolve(name: str):
    """The standard judge called `name`; a LookupError listing the judges when there is none."""
    if name not in JUDGES:
        raise LookupError(f"no kit judge named '{name}' (the kit has: {', '.join(sorted(JUDGES))})")
    return JUDGES[name]


def check_args(name: str, args: dict) -> str | None:
    """Why the settings `args` do not fit the judge `name` (unknown judge or setting), or None."""
    if name not in JUDGES:
        return f"no kit judge named '{name}' (the kit has: {', '.join(sorted(JUDGES))})"
    accepted = list(inspect.signature(JUDGES[name]).parameters)[3:]
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        return f"kit judge '{name}' takes no setting {', '.join(unknown)} (it takes: {', '.join(accepted)})"
    return None
