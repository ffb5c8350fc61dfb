"""Property judges for `attention`, run in the grader on plain arrays the child returned.

`judge(inputs, outputs, params) -> None | str`: None passes; a string tells the student why not.
A judge runs only once the outputs the test names have matched the reference's, and can only fail
a case. Every sum, permutation and search is done here, on what the child returned raw; nothing
the child computed about itself is trusted.
"""

import itertools

import numpy as np

PAD_ID, SOS_ID, EOS_ID = 0, 1, 2
RTOL, ATOL = 1e-6, 1e-8


def _idx(i):
    return "[" + ", ".join(str(int(k)) for k in i) + "]"


def _first_mismatch(got, exp, rtol=RTOL, atol=ATOL):
    """None when close everywhere, else (index, got value, expected value)."""
    got, exp = np.asarray(got, dtype=np.float64), np.asarray(exp, dtype=np.float64)
    if got.shape != exp.shape:
        return ("shape", got.shape, exp.shape)
    bad = ~(np.abs(got - exp) <= atol + rtol * np.abs(exp))
    if not bad.any():
        return None
    i = np.unravel_index(int(np.argmax(bad)), bad.shape)
    return (i, float(got[i]), float(exp[i]))


def _rows_of(weights):
    """Weights as (N, positions): a (N, P, P) grid is flattened."""
    w = np.asarray(weights, dtype=np.float64)
    return w.reshape(w.shape[0], -1)


def _not_finite(outputs, names):
    """A message naming the first output among `names` with NaN or inf, or None."""
    for name in names:
        x = np.asarray(outputs[name], dtype=np.float64)
        if not np.isfinite(x).all():
            i = np.unravel_index(int(np.argmax(~np.isfinite(x))), x.shape)
            return (f"'{name}' contains {x[i]} at {_idx(i)}; with every mask row holding a True, a softmax of "
                    "finite scores is finite (mask with -inf only where the mask is False, and take the softmax "
                    "over the attended positions)")
    return None


# --- attention weights -------------------------------------------------------------------------

def _weights(outputs):
    return outputs["attn_weights"] if "attn_weights" in outputs else outputs["weights"]


def weights_sum_to_one(inputs, outputs, params):
    w = _rows_of(_weights(outputs))
    bad = _not_finite(outputs, ["attn_weights" if "attn_weights" in outputs else "weights"])
    if bad:
        return bad
    if (w < 0).any():
        i = np.unravel_index(int(np.argmin(w)), w.shape)
        return f"attention weight {w[i]:.6g} at {_idx(i)} is negative; weights come from a softmax and are >= 0"
    sums = w.sum(axis=1)
    bad = np.abs(sums - 1.0) > 1e-9
    if bad.any():
        n = int(np.argmax(bad))
        return (f"the attention weights of sample {n} sum to {sums[n]:.9g}, expected 1 "
                f"({int(bad.sum())} of {len(sums)} samples are off); take the softmax over all attended "
                "positions of one sample, and mask before the softmax, not after it")
    return None


def masked_weigh_zero(inputs, outputs, params):
    bad = _not_finite(outputs, ["weights"])
    if bad:
        return bad
    w = _rows_of(outputs["weights"])
    mask = np.asarray(inputs["mask"], dtype=bool) if "mask" in inputs else np.ones(w.shape, dtype=bool)
    if w.shape != mask.shape:
        return f"'weights' has shape {w.shape}, expected {mask.shape} like the mask"
    leak = ~mask & (w != 0.0)
    if leak.any():
        i = np.unravel_index(int(np.argmax(leak)), leak.shape)
        return (f"position {_idx(i)} is masked out (mask False) but weighs {w[i]:.6g}, expected exactly 0 "
                f"({int(leak.sum())} masked positions have weight); True means 'may attend': set the "
                "scores of the False positions to -inf before the softmax")
    starved = mask & ~(w > 0.0)
    if starved.any():
        i = np.unravel_index(int(np.argmax(starved)), starved.shape)
        return (f"position {_idx(i)} may be attended to (mask True) but weighs {w[i]:.6g}; only masked positions "
                "get weight 0. Check the polarity of the mask: True means 'may attend'")
    return None


def permutation(inputs, outputs, params):
    """Permuting the attended positions permutes the weights and leaves the result unchanged."""
    perm = np.asarray(inputs["perm"], dtype=np.int64)
    if "attn" in outputs:
        result, w, result_p, w_p = (outputs["attn"], outputs["attn_weights"], outputs["attn_perm"],
                                    outputs["attn_weights_perm"])
        what = "attn"
        bad = _not_finite(outputs, ["attn_weights", "attn", "attn_weights_perm", "attn_perm"])
    else:
        result, w, result_p, w_p = (outputs["context"], outputs["weights"], outputs["context_perm"],
                                    outputs["weights_perm"])
        what = "context"
        bad = _not_finite(outputs, ["weights", "context", "weights_perm", "context_perm"])
    if bad:
        return bad
    w, w_p = _rows_of(w), _rows_of(w_p)
    bad = _first_mismatch(w_p, w[:, perm], rtol=1e-9, atol=1e-12)
    if bad:
        i, got, exp = bad
        return (f"after permuting the attended positions (and the mask) by the case's permutation, the weights "
                f"are not permuted the same way: at {_idx(i)} expected {exp:.9g} (original weight of position "
                f"{int(perm[i[1]])}), got {got:.9g}; a position's weight must depend only on its own key "
                "(and mask), not on where it stands")
    bad = _first_mismatch(result_p, result, rtol=1e-9, atol=1e-12)
    if bad:
        i, got, exp = bad
        return (f"permuting the attended positions changed '{what}' at {_idx(i)}: {exp:.9g} before, {got:.9g} "
                "after; attention treats its keys as a set, so the weighted sum must not change")
    return None


def decoder_permutation(inputs, outputs, params):
    """decode_step with enc_h and src_mask permuted along S: weights permuted, the rest unchanged."""
    perm = np.asarray(inputs["perm"], dtype=np.int64)
    bad = _not_finite(outputs, ["weights", "weights_perm", "logits", "logits_perm"])
    if bad:
        return bad
    bad = _first_mismatch(outputs["weights_perm"], np.asarray(outputs["weights"])[:, perm], rtol=1e-9, atol=1e-12)
    if bad:
        i, got, exp = bad
        return (f"after permuting enc_h and src_mask along the source positions, the attention weights are "
                f"not permuted the same way: at {_idx(i)} expected {exp:.9g}, got {got:.9g}; the decoder "
                "must treat the encoder states as a set (attend with self.attend over all positions)")
    for name in ("logits", "next_h", "next_c"):
        bad = _first_mismatch(outputs[f"{name}_perm"], outputs[name], rtol=1e-9, atol=1e-12)
        if bad:
            i, got, exp = bad
            return (f"permuting enc_h and src_mask along the source positions changed '{name}' at {_idx(i)}: "
                    f"{exp:.9g} before, {got:.9g} after; the decoder step may depend on the encoder states "
                    "only through the attention context")
    return None


# --- decoding ----------------------------------------------------------------------------------

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
    bad = _first_mismatch(bs, gs)
    if bad:
        return (f"beam_search with beam_width=1 scored {float(bs[0]):.9g}, greedy_decode {float(gs[0]):.9g} for the "
                "same tokens; both sum the log-probabilities (log_softmax) of the emitted tokens, EOS_ID included")
    return None


def _possible_results(V, L):
    """Every possible result as a tuple of L ids: ends in its first EOS_ID (then PAD_ID), or has
    no EOS_ID at all; with the tokens that are scored (up to and including the EOS)."""
    out = []
    for seq in itertools.product(range(V), repeat=L):
        if EOS_ID in seq:
            k = seq.index(EOS_ID) + 1
            if any(t != PAD_ID for t in seq[k:]):
                continue
            out.append((seq, k))
        else:
            out.append((seq, L))
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
