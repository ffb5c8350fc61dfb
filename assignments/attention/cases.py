"""Case builders for `attention`: each makes the inputs of one case from a private generator.

`builder(rng, **params) -> {name: array}`; params come from assignment.yaml. Everything the
student's code computes with is float64, so tolerances can be tight. Naming:
    d<output>        the upstream gradient of that output
    perm             a permutation of the attended positions; X_perm is X permuted by it
    <state_dict key> a Seq2Seq parameter, by its contract name (loaded by name, strictly)
    grid             every decoder input of one tiny exhaustive search (SOS + prefixes)
Masks use the contract's polarity: True = may be attended to; every row has a True.
"""

import importlib.util
import itertools
from pathlib import Path

import numpy as np

from autograder.kit import mask as _mask
from autograder.kit import normal as _w
from autograder.kit import permutation

HERE = Path(__file__).resolve().parent
PAD_ID, SOS_ID, EOS_ID = 0, 1, 2


def _permuted(rng, L, **arrays):
    """A permutation of L positions (kit.permutation: not the identity when L >= 2) and the arrays
    permuted by it along axis 1: X -> X_perm with X_perm[:, j] = X[:, perm[j]]."""
    perm = permutation(rng, L)
    return {"perm": perm, **{f"{name}_perm": np.ascontiguousarray(x[:, perm]) for name, x in arrays.items()}}


def _with_mask_and_permutation(out, rng, N, L, mask):
    """`out` plus a mask of kind `mask` ('none': no mask) and a permutation of the keys (and mask)."""
    if mask != "none":
        out["mask"] = _mask(rng, N, L, mask)
    out.update(_permuted(rng, L, keys=out["keys"], **({"mask": out["mask"]} if mask != "none" else {})))
    return out


# --- the five fixed functions and masked_dot_attention -----------------------------------------

def dot_attention(rng, N, H, P, P2=None, scale=1.0):
    """Scaled dot-product attention over a P x P2 grid (P2 defaults to P)."""
    P2 = P if P2 is None else P2
    prev_h, A = _w(rng, N, H, scale=scale), _w(rng, N, H, P, P2, scale=scale)
    flat = A.reshape(N, H, P * P2)
    perm = _permuted(rng, P * P2, A=flat.transpose(0, 2, 1))     # permute positions, (N, P*P2, H)
    A_perm = perm.pop("A_perm").transpose(0, 2, 1).reshape(N, H, P, P2)
    return {"prev_h": prev_h, "A": A, "dattn": _w(rng, N, H), "dattn_weights": _w(rng, N, P, P2),
            "A_perm": np.ascontiguousarray(A_perm), **perm}


def additive(rng, N, L, Hq, Hk, A, mask="random", scale=1.0):
    """Additive attention; mask 'none' leaves the mask out (the probe passes None)."""
    keys = _w(rng, N, L, Hk)
    out = {"query": _w(rng, N, Hq), "keys": keys, "Wq": _w(rng, Hq, A, scale=scale / np.sqrt(Hq)),
           "Wk": _w(rng, Hk, A, scale=scale / np.sqrt(Hk)), "v": _w(rng, A, scale=2.0 * scale / np.sqrt(A)),
           "dcontext": _w(rng, N, Hk), "dweights": _w(rng, N, L)}
    return _with_mask_and_permutation(out, rng, N, L, mask)


def masked_dot(rng, N, L, H, mask="random", scale=1.5):
    keys = _w(rng, N, L, H, scale=scale)
    out = {"query": _w(rng, N, H, scale=scale), "keys": keys, "dcontext": _w(rng, N, H),
           "dweights": _w(rng, N, L)}
    return _with_mask_and_permutation(out, rng, N, L, mask)


def lstm_step(rng, N, D, H, attn=False):
    out = {"x": _w(rng, N, D), "prev_h": _w(rng, N, H), "prev_c": _w(rng, N, H),
           "Wx": _w(rng, D, 4 * H, scale=0.5), "Wh": _w(rng, H, 4 * H, scale=0.5),
           "b": _w(rng, 4 * H, scale=0.3), "dnext_h": _w(rng, N, H), "dnext_c": _w(rng, N, H)}
    if attn:
        out["attn"] = _w(rng, N, H)
        out["Wattn"] = _w(rng, H, 4 * H, scale=0.5)
    return out


def lstm_seq(rng, N, T, D, H):
    return {"x": _w(rng, N, T, D), "h0": _w(rng, N, H), "Wx": _w(rng, D, 4 * H, scale=0.5),
            "Wh": _w(rng, H, 4 * H, scale=0.5), "b": _w(rng, 4 * H, scale=0.3), "dh": _w(rng, N, T, H)}


def attention_seq(rng, N, T, D, H, P):
    return {"x": _w(rng, N, T, D), "A": _w(rng, N, H, P, P), "Wx": _w(rng, D, 4 * H, scale=0.5),
            "Wh": _w(rng, H, 4 * H, scale=0.5), "Wattn": _w(rng, H, 4 * H, scale=0.5),
            "b": _w(rng, 4 * H, scale=0.3), "dh": _w(rng, N, T, H)}


# --- Seq2Seq ---------------------------------------------------------------------------------

def seq2seq_params(rng, kind, Vs, Vt, D, H, A, scale=1.0, fan=None, bias=None, v_factor=2.0):
    """Every parameter by its state_dict name, drawn like the contract's initialisation: weights
    N(0, fan(fan_in)^2) (default scale / sqrt(fan_in): `scale` widens them so that attention and
    softmax are far from uniform), biases bias(n) (default N(0, (0.1 scale)^2)), forget gates + 1."""
    fan = fan or (lambda n: scale / np.sqrt(n))
    bias = bias or (lambda n: _w(rng, n, scale=0.1 * scale))

    def lstm_b():
        b = bias(4 * H)
        b[H:2 * H] += 1.0
        return b
    p = {"src_embed": _w(rng, Vs, D), "tgt_embed": _w(rng, Vt, D),
         "enc_Wx": _w(rng, D, 4 * H, scale=fan(D)), "enc_Wh": _w(rng, H, 4 * H, scale=fan(H)), "enc_b": lstm_b(),
         "dec_Wx": _w(rng, D, 4 * H, scale=fan(D)), "dec_Wh": _w(rng, H, 4 * H, scale=fan(H)),
         "dec_Wattn": _w(rng, H, 4 * H, scale=fan(H)), "dec_b": lstm_b()}
    if kind == "additive":
        p["attn_Wq"], p["attn_Wk"] = _w(rng, H, A, scale=fan(H)), _w(rng, H, A, scale=fan(H))
        p["attn_v"] = _w(rng, A, scale=v_factor * fan(A))
    elif kind != "dot":
        raise ValueError(f"unknown attention kind {kind!r}")
    p["out_W"] = _w(rng, 2 * H, Vt, scale=fan(2 * H))
    p["out_b"] = bias(Vt)
    return p


def _sources(rng, N, S, Vs, lengths="random"):
    """(N, S) right-padded token ids (no PAD, SOS or EOS inside); row 0 has the full length S.
    lengths: random (1..S) or one (a single real token per row)."""
    if lengths == "random":
        n = rng.integers(1, S + 1, size=N)
        n[0] = S
    elif lengths == "one":
        n = np.ones(N, dtype=np.int64)
    else:
        raise ValueError(f"unknown lengths {lengths!r}")
    src = rng.integers(3, Vs, size=(N, S))
    src[np.arange(S)[None, :] >= n[:, None]] = PAD_ID
    return src.astype(np.int64)


def seq2seq(rng, kind, N, S, T, Vs, Vt, D, H, A=4, lengths="random", mask="random", scale=1.5):
    """A model's weights, a padded batch for encode/forward, and one decoder step's inputs
    (random states, encoder states and mask) with a permutation of the S positions."""
    out = seq2seq_params(rng, kind, Vs, Vt, D, H, A, scale=scale)
    out["src"] = _sources(rng, N, S, Vs, lengths)
    tgt_in = rng.integers(2, Vt, size=(N, T))
    tgt_in[:, 0] = SOS_ID
    out["tgt_in"] = tgt_in.astype(np.int64)
    out["dlogits"] = _w(rng, N, T, Vt)
    out["y_prev"] = rng.integers(0, Vt, size=N).astype(np.int64)
    out["prev_h"], out["prev_c"] = _w(rng, N, H, scale=0.5), _w(rng, N, H)
    enc_h = np.tanh(_w(rng, N, S, H, scale=1.5))
    src_mask = _mask(rng, N, S, mask)
    out.update({"enc_h": enc_h, "src_mask": src_mask})
    out.update(_permuted(rng, S, enc_h=enc_h, src_mask=src_mask))
    return out


def _eos_clock(p, H, eos_step, rate=0.3, weight=6.0):
    """Make the end token likelier as decoding goes on, so that hypotheses finish at different
    steps: hidden unit 0 of the decoder becomes a clock (input, forget and output gates held
    open, a constant candidate, no incoming weights), its cell state grows by about `rate` a
    step from the encoder's mean, and only the EOS logit reads it, crossing 0 near step
    `eos_step` (a random model otherwise emits EOS at once or never). Returns p, changed in place."""
    for W in (p["dec_Wx"], p["dec_Wh"], p["dec_Wattn"]):
        W[:, [0, H, 2 * H, 3 * H]] = 0.0
    p["dec_b"][[0, H, 2 * H, 3 * H]] = [3.0, 6.0, 3.0, np.arctanh(rate / 0.95)]
    p["out_W"][0, :] = 0.0
    p["out_W"][0, EOS_ID] = weight
    p["out_b"][EOS_ID] = -weight * 0.95 * np.tanh(rate * eos_step)
    return p


def decode(rng, kind, N, S, Vs, Vt, D, H, max_len, A=4, lengths="random", eos_step=3.0, scale=1.5):
    """Weights and a padded source batch (N, S) for greedy decoding, with an EOS clock (rows
    finish at different steps, some not within max_len, a probe argument)."""
    out = _eos_clock(seq2seq_params(rng, kind, Vs, Vt, D, H, A, scale=scale), H, eos_step)
    out["src"] = _sources(rng, N, S, Vs, lengths)
    return out


def beam(rng, kind, S, Vs, Vt, D, H, max_len, beam_width=1, A=4, length=None, eos_step=3.0, scale=1.5):
    """Weights (with an EOS clock) and one source sequence (S,) for beam search; `length` real
    tokens, then PAD. max_len and beam_width are probe arguments."""
    out = _eos_clock(seq2seq_params(rng, kind, Vs, Vt, D, H, A, scale=scale), H, eos_step)
    src = rng.integers(3, Vs, size=S)
    src[(S if length is None else length):] = PAD_ID
    out["src"] = src.astype(np.int64)
    return out


def exhaustive(rng, kind, S, Vs, Vt, D, H, max_len, beam_width, A=4, length=None, eos_step=2.0, scale=1.5):
    """A tiny vocabulary's beam case, plus `grid`: SOS followed by every prefix of max_len - 1
    tokens, in lexicographic order (row r holds the base-Vt digits of r). Teacher-forced
    logits on the grid give the log-probability of every possible result."""
    out = beam(rng, kind, S, Vs, Vt, D, H, max_len, beam_width, A, length, eos_step, scale)
    prefixes = np.array(list(itertools.product(range(Vt), repeat=max_len - 1)), dtype=np.int64)
    prefixes = prefixes.reshape(Vt ** (max_len - 1), max_len - 1)
    out["grid"] = np.concatenate([np.full((len(prefixes), 1), SOS_ID, dtype=np.int64), prefixes], axis=1)
    return out


# --- training on the toy task ------------------------------------------------------------------

def _toy_task():
    spec = importlib.util.spec_from_file_location("_attention_toy_task", HERE / "toy_task.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train(rng, kind, steps, seed, batch_size):
    """Initial weights (the contract's initialisation drawn with numpy, float64) and `steps`
    batches of `batch_size` training dates as toy_task.batches(..., seed) draws them, stacked:
    batch_src (steps * batch_size, SRC_LEN), batch_tgt (steps * batch_size, TGT_LEN)."""
    toy = _toy_task()
    cfg = toy.MODEL_CONFIG
    D, H, A = cfg["embed_dim"], cfg["hidden_dim"], cfg["attn_dim"]
    Vs, Vt = cfg["src_vocab_size"], cfg["tgt_vocab_size"]

    out = seq2seq_params(rng, kind, Vs, Vt, D, H, A, fan=lambda n: n ** -0.5, bias=np.zeros, v_factor=1.0)
    train_src, train_tgt, _, _ = toy.make_splits()
    drawn = list(toy.batches(train_src, train_tgt, batch_size, steps, seed))
    out["batch_src"] = np.concatenate([b[0].numpy() for b in drawn]).astype(np.int64)
    out["batch_tgt"] = np.concatenate([b[1].numpy() for b in drawn]).astype(np.int64)
    return out
