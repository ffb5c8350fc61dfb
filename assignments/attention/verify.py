"""Property judges for `attention` that the kit does not have: the beam-search properties.

`judge(inputs, outputs, params) -> None | str`, run in the grader on the plain arrays the child
returned, once the outputs the test names have matched the reference's; it can only fail a case.
The attention properties (weights sum to 1, masked positions weigh 0, permuting the positions
permutes the weights) are standard judges of autograder.kit.judges, named in assignment.yaml.
Every search here is done on what the child returned raw; nothing it computed about itself is
trusted.
"""

import itertools

import numpy as np

from autograder.kit.judges import first_mismatch

PAD_ID, SOS_ID, EOS_ID = 0, 1, 2
RTOL, ATOL = 1e-6, 1e-8

def _row(tokens):
    return "[" + " ".join(str(int(t)) for t in tokens) + "]"


def beam_width_one_is_greedy(inputs, outputs, params):
    bt, gt = np.asarray(outputs["beam_tokens"]), np.asarray(outputs["greedy_tokens"])
    bs, gs = np.asarray(outputs["beam_scores"]), np.asarray(outputs["greedy_scores"])
    if bt.dtype.kind not in "iu" or gt.dtype.kind not in "iu":
        return f"tokens must be integer (long) tensors; beam_search gave {bt.dtype}, greedy_decode {gt.dtype}"
    if not np.array_equal(bt, gt):
        t = int(np.argmax((bt != gt).reshape(-1)))
        return (f"beam_search with beam_width=1 returned {_row(bt[0])}, greedy_decode returned {_row(gt[0])} "
                f"(first difference at position {t}); with one hypothesis the beam must keep the single best "
                "token at every step, stop at EOS_ID and fill the rest with PAD_ID, exactly like greedy")
    bad = first_mismatch(bs, gs)
    if bad:
        return (f"beam_search with beam_width=1 scored {float(bs[0]):.9g}, greedy_decode {float(gs[0]):.9g} for the "
                "same tokens; both sum the log-probabilities (log_softmax) of the emitted tokens, EOS_ID included")
    return None


def _possible_results(V, L):
    """Every possible result as a tuple of L ids: ends in its first EOS_ID (then PAD_ID), or has
    no EOS_ID at all; with the tokens that are scored (up to and including the EOS)."""
    out = []
    for seq in itertools.product(range(V), repeat=L):
        k = seq.index(EOS_ID) + 1 if EOS_ID in seq else L
        if all(t == PAD_ID for t in seq[k:]):
            out.append((seq, k))
    return out


def _log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def beam_is_exhaustive(inputs, outputs, params):
    """With a beam that holds every possible result, beam_search returns them all, each with the
    score the model gives it, best first; so row 0 is the exhaustive-search optimum."""
    V, L = params["Vt"], params["max_len"]
    grid = np.asarray(inputs["grid"])
    logp = _log_softmax(outputs["grid_logits"])                  # (V^(L-1), L, V)
    if logp.shape != (len(grid), L, V) or not np.isfinite(logp).all():
        return "Seq2Seq.forward gave non-finite logits on the grid of all prefixes; see the Seq2Seq tests"
    row_of = {tuple(int(t) for t in g[1:]): r for r, g in enumerate(grid)}
    exact = {}
    for seq, k in _possible_results(V, L):
        r = row_of[seq[:L - 1]]
        exact[seq] = float(sum(logp[r, t, seq[t]] for t in range(k)))
    tokens = np.asarray(outputs["tokens"])
    scores = np.asarray(outputs["scores"], dtype=np.float64)
    if tokens.dtype.kind not in "iu":
        return f"'tokens' must be an integer (long) tensor, got {tokens.dtype}"
    if tokens.shape != (len(exact), L) or scores.shape != (len(exact),):
        return (f"with beam_width={params['beam_width']} (at least the {len(exact)} possible results) beam_search "
                f"must return all {len(exact)} of them: got tokens of shape {tokens.shape}, scores {scores.shape}")
    seen = set()
    for i, row in enumerate(tokens):
        seq = tuple(int(t) for t in row)
        if seq not in exact:
            return (f"row {i} of the tokens, {_row(seq)}, is not a possible result: a result ends at its first "
                    "EOS_ID (PAD_ID after it) or runs max_len tokens without EOS_ID; SOS_ID is not included")
        if seq in seen:
            return f"row {i} of the tokens, {_row(seq)}, is returned twice"
        seen.add(seq)
        want = exact[seq]
        if not abs(scores[i] - want) <= ATOL + RTOL * abs(want):
            return (f"row {i}, {_row(seq)}, has score {scores[i]:.9g}, but the model's log-probabilities "
                    f"(teacher-forced, summed up to and including EOS_ID) give {want:.9g}")
    if (np.diff(scores) > 1e-12).any():
        i = int(np.argmax(np.diff(scores) > 1e-12))
        return f"the scores are not sorted best first: row {i} has {scores[i]:.9g}, row {i + 1} {scores[i + 1]:.9g}"
    best = max(exact, key=exact.get)
    if exact[tuple(int(t) for t in tokens[0])] < exact[best] - 1e-9:
        return f"row 0 is not the best sequence: {_row(best)} scores {exact[best]:.9g}"
    return None
