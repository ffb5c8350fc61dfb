"""Property judges for `transformer`, run in the grader on plain arrays the child returned.

`judge(inputs, outputs, params) -> None | str`: None passes; a string tells the student why not.
A judge runs only once the outputs the test names have matched the reference's, and can only fail
a case. All arithmetic happens here, on the raw outputs, never in the probe.
"""

import numpy as np

from autograder.kit.judges import first_nonfinite, index_text as _index

TOL = 1e-9  # float64 throughout


def _finite(outputs, *names):
    found = first_nonfinite(outputs, names)
    if found:
        name, idx, value = found
        return (f"'{name}' contains {'NaN' if np.isnan(value) else 'inf'} at {_index(idx)}; "
                "a row whose every key is blocked gives NaN, so check the mask's polarity (0/False blocks)")
    return None


def weights_normalised(inputs, outputs, params):
    """Every row of the attention weights is a distribution over the open keys."""
    if problem := _finite(outputs, "weights"):
        return problem
    w = outputs["weights"].astype(np.float64)
    if (w < 0).any():
        idx = np.unravel_index(int(np.argmin(w)), w.shape)
        return f"attention weight {_index(idx)} is {w[idx]:.6g}, but weights are probabilities (never negative)"
    sums = w.sum(axis=-1)
    worst = np.unravel_index(int(np.argmax(np.abs(sums - 1))), sums.shape)
    if abs(sums[worst] - 1) > TOL:
        return (f"the weights of query {_index(worst)} sum to {sums[worst]:.6g} over the keys, expected 1; "
                "take the softmax over the last axis (the keys) and block keys before it, not after")
    if "mask" in inputs:
        blocked = np.broadcast_to(inputs["mask"] == 0, w.shape)
        leak = np.where(blocked, np.abs(w), 0.0)
        if (leak > TOL).any():
            idx = np.unravel_index(int(np.argmax(leak)), w.shape)
            return (f"key {int(idx[-1])} is blocked for query {_index(idx[:-1])} (mask entry 0), "
                    f"yet its weight is {w[idx]:.6g}; fill blocked scores with -inf before the softmax")
    return None


def permutation_equivariant(inputs, outputs, params):
    """f(x[:, perm]) == f(x)[:, perm] for self-attention without mask or positions."""
    if problem := _finite(outputs, "out", "out_permuted"):
        return problem
    outp, perm = outputs["out_permuted"].astype(np.float64), inputs["perm"]
    want = outputs["out"].astype(np.float64)[:, perm]
    err = np.abs(outp - want)
    if (err > TOL * (1 + np.abs(want))).any():
        n, s, e = np.unravel_index(int(np.argmax(err)), err.shape)
        return (f"self-attention is not permutation equivariant: with the positions of x permuted by "
                f"{perm.tolist()}, output position {s} (batch {n}, feature {e}) is {outp[n, s, e]:.6g}, "
                f"but the unpermuted output at position {perm[s]} is {want[n, s, e]:.6g}. Without a mask, "
                "attention must treat its inputs as a set: do not mix positions except through the "
                "attention weights (split heads with view(N, S, H, D).transpose(1, 2))")
    return None


def causal(inputs, outputs, params):
    """Logits up to position t ignore the tokens after t, and the later logits do not."""
    if problem := _finite(outputs, "logits", "logits_changed"):
        return problem
    a, b = outputs["logits"].astype(np.float64), outputs["logits_changed"].astype(np.float64)
    t, T = int(inputs["t"]), a.shape[1]
    err = np.abs(a[:, : t + 1] - b[:, : t + 1])
    if (err > TOL * (1 + np.abs(a[:, : t + 1]))).any():
        n, s, v = np.unravel_index(int(np.argmax(err)), err.shape)
        return (f"TransformerLM sees the future: changing only the tokens after position {t} changed the "
                f"logits at position {s} (batch {n}, class {v}: {a[n, s, v]:.6g} became {b[n, s, v]:.6g}). "
                "Pass causal_mask(T) to every layer, so that position i attends only to j <= i")
    if t + 1 < T and np.abs(a[:, t + 1:] - b[:, t + 1:]).max() == 0:
        return (f"changing the tokens after position {t} did not change any logit after it: the model "
                "does not use its input tokens")
    return None


def length_error(inputs, outputs, params):
    """A sequence longer than max_len is a ValueError whose message names both lengths."""
    long_len, max_len = inputs["tokens_long"].shape[1], params["max_len"]
    seq, raised = f"a sequence of length {long_len} with max_len {max_len}", int(outputs["raised"])
    if raised == 0:
        return f"{seq} raised no error; raise ValueError when T > max_len, at the start of forward"
    if raised == 2:
        return (f"{seq} raised an exception other than ValueError (probably from slicing pe); check the length "
                "yourself first and raise ValueError")
    if not (int(outputs["mentions_length"]) and int(outputs["mentions_max_len"])):
        return (f"the ValueError for a sequence of length {long_len} with max_len {max_len} must name both "
                f"numbers, e.g. 'sequence of length {long_len} is longer than max_len {max_len}'")
    return None
