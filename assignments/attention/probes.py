"""Probes for `attention`: call the student's code on one case and return plain arrays.

Runs only inside the sandboxed child, next to the student's module. `probe(m, c, p)` gets the
student's module `m`, the case's arrays `c` (numpy, writeable) and the case's parameters `p`.
Arrays become tensors that share memory with them (kit.torch.tensor(share=True)), so a write
into an input is visible to the `unchanged` check. Gradient probes backpropagate
sum(output * d<output>) and return the gradient of every float input (or parameter), keyed by
its name. Probes compute nothing the grader judges: every output is compared with the
reference's, and what property tests derive from them (sums, permutations, searches) is done in
the grader (kit judges, verify.py).
"""

import numpy as np
import torch

from autograder.kit import ContractError
from autograder.kit.torch import grads_of, leaf, scalar_backward, tensor

SEQ2SEQ_PARAMS = ("src_embed", "tgt_embed", "enc_Wx", "enc_Wh", "enc_b", "dec_Wx", "dec_Wh",
                  "dec_Wattn", "dec_b", "attn_Wq", "attn_Wk", "attn_v", "out_W", "out_b")


def _t(a):
    return tensor(a, share=True)


def _leaves(c, names):
    return {n: leaf(c[n], share=True) for n in names}


def _backward(pairs, leaves):
    """Backward of sum(out * dout) over (out, dout) pairs; the gradient of every leaf."""
    scalar_backward(pairs)
    return grads_of(leaves)


def _opt(c, name):
    return _t(c[name]) if name in c else None


# --- dot_product_attention -------------------------------------------------------------------

def dot_attention(m, c, p):
    attn, weights = m.dot_product_attention(_t(c["prev_h"]), _t(c["A"]))
    return {"attn": attn, "attn_weights": weights}


def dot_attention_grads(m, c, p):
    x = _leaves(c, ("prev_h", "A"))
    attn, weights = m.dot_product_attention(x["prev_h"], x["A"])
    return _backward([(attn, c["dattn"]), (weights, c["dattn_weights"])], x)


def dot_attention_permuted(m, c, p):
    attn, weights = m.dot_product_attention(_t(c["prev_h"]), _t(c["A"]))
    attn_p, weights_p = m.dot_product_attention(_t(c["prev_h"]), _t(c["A_perm"]))
    return {"attn": attn, "attn_weights": weights, "attn_perm": attn_p, "attn_weights_perm": weights_p}


# --- additive_attention and masked_dot_attention ------------------------------------------------

def additive(m, c, p):
    context, weights = m.additive_attention(_t(c["query"]), _t(c["keys"]), _t(c["Wq"]), _t(c["Wk"]),
                                            _t(c["v"]), _opt(c, "mask"))
    return {"context": context, "weights": weights}


def additive_grads(m, c, p):
    x = _leaves(c, ("query", "keys", "Wq", "Wk", "v"))
    context, weights = m.additive_attention(x["query"], x["keys"], x["Wq"], x["Wk"], x["v"], _opt(c, "mask"))
    return _backward([(context, c["dcontext"]), (weights, c["dweights"])], x)


def additive_permuted(m, c, p):
    args = (_t(c["Wq"]), _t(c["Wk"]), _t(c["v"]))
    context, weights = m.additive_attention(_t(c["query"]), _t(c["keys"]), *args, _opt(c, "mask"))
    context_p, weights_p = m.additive_attention(_t(c["query"]), _t(c["keys_perm"]), *args,
                                                _opt(c, "mask_perm"))
    return {"context": context, "weights": weights, "context_perm": context_p, "weights_perm": weights_p}


def masked_dot(m, c, p):
    context, weights = m.masked_dot_attention(_t(c["query"]), _t(c["keys"]), _opt(c, "mask"))
    return {"context": context, "weights": weights}


def masked_dot_grads(m, c, p):
    x = _leaves(c, ("query", "keys"))
    context, weights = m.masked_dot_attention(x["query"], x["keys"], _opt(c, "mask"))
    return _backward([(context, c["dcontext"]), (weights, c["dweights"])], x)


def masked_dot_permuted(m, c, p):
    context, weights = m.masked_dot_attention(_t(c["query"]), _t(c["keys"]), _opt(c, "mask"))
    context_p, weights_p = m.masked_dot_attention(_t(c["query"]), _t(c["keys_perm"]), _opt(c, "mask_perm"))
    return {"context": context, "weights": weights, "context_perm": context_p, "weights_perm": weights_p}


# --- LSTM --------------------------------------------------------------------------------------

_STEP = ("x", "prev_h", "prev_c", "Wx", "Wh", "b")


def _step_names(c):
    return _STEP + (("attn", "Wattn") if "attn" in c else ())


def lstm_step(m, c, p):
    next_h, next_c = m.lstm_step_forward(*(_t(c[n]) for n in _step_names(c)))
    return {"next_h": next_h, "next_c": next_c}


def lstm_step_grads(m, c, p):
    x = _leaves(c, _step_names(c))
    next_h, next_c = m.lstm_step_forward(*(x[n] for n in _step_names(c)))
    return _backward([(next_h, c["dnext_h"]), (next_c, c["dnext_c"])], x)


_SEQ = ("x", "h0", "Wx", "Wh", "b")


def lstm_seq(m, c, p):
    return {"h": m.lstm_forward(*(_t(c[n]) for n in _SEQ))}


def lstm_seq_grads(m, c, p):
    x = _leaves(c, _SEQ)
    return _backward([(m.lstm_forward(*(x[n] for n in _SEQ)), c["dh"])], x)


_ATT = ("x", "A", "Wx", "Wh", "Wattn", "b")


def attention_seq(m, c, p):
    return {"h": m.attention_forward(*(_t(c[n]) for n in _ATT))}


def attention_seq_grads(m, c, p):
    x = _leaves(c, _ATT)
    return _backward([(m.attention_forward(*(x[n] for n in _ATT)), c["dh"])], x)


# --- Seq2Seq -----------------------------------------------------------------------------------

def _model(m, c, p):
    """The student's Seq2Seq with the contract's arguments and the case's weights, in float64."""
    model = m.Seq2Seq(p["Vs"], p["Vt"], embed_dim=p["D"], hidden_dim=p["H"], attn_dim=p.get("A", 4),
                      attention=p["kind"]).double()
    state = {n: _t(c[n]) for n in SEQ2SEQ_PARAMS if n in c}
    model.load_state_dict(state, strict=True)
    return model


def encode(m, c, p):
    enc_h, h0, c0 = _model(m, c, p).encode(_t(c["src"]))
    return {"enc_h": enc_h, "h0": h0, "c0": c0}


def decode_step(m, c, p):
    logits, h, cc, w = _model(m, c, p).decode_step(_t(c["y_prev"]), _t(c["prev_h"]), _t(c["prev_c"]),
                                                   _t(c["enc_h"]), _t(c["src_mask"]))
    return {"logits": logits, "next_h": h, "next_c": cc, "weights": w}


def decode_step_permuted(m, c, p):
    model = _model(m, c, p)
    state = (_t(c["y_prev"]), _t(c["prev_h"]), _t(c["prev_c"]))
    a = model.decode_step(*state, _t(c["enc_h"]), _t(c["src_mask"]))
    b = model.decode_step(*state, _t(c["enc_h_perm"]), _t(c["src_mask_perm"]))
    names = ("logits", "next_h", "next_c", "weights")
    return {**dict(zip(names, a)), **{f"{n}_perm": v for n, v in zip(names, b)}}


def forward(m, c, p):
    """Teacher forcing with the default mask (src != PAD_ID)."""
    logits, weights = _model(m, c, p)(_t(c["src"]), _t(c["tgt_in"]), return_weights=True)
    return {"logits": logits, "weights": weights}


def forward_grads(m, c, p):
    model = _model(m, c, p)
    logits = model(_t(c["src"]), _t(c["tgt_in"]))
    params = dict(model.named_parameters())
    return _backward([(logits, c["dlogits"])], params)


def forward_default_meta(m, c, p):
    """encode and forward on CPU inputs while torch's default device is 'meta': a tensor made
    without a device (torch.zeros(N, H), torch.arange(T)) lands on the meta device and cannot
    be combined with the inputs, just as a CPU tensor cannot with a GPU's. What comes back must
    be on the inputs' device, and match the reference (no meta tensor is ever computed with:
    the meta device's Python kernels import torch._dynamo, seconds of every grade)."""
    model = _model(m, c, p)
    src, tgt_in = _t(c["src"]), _t(c["tgt_in"])
    with torch.device("meta"):
        enc_h, h0, c0 = model.encode(src)
        logits, weights = model(src, tgt_in, return_weights=True)
    outs = {"enc_h": enc_h, "h0": h0, "c0": c0, "logits": logits, "weights": weights}
    for name, t in outs.items():
        if torch.is_tensor(t) and t.device != src.device:
            raise ContractError(f"'{name}' came back on the {t.device.type} device, not on the inputs' device "
                                f"({src.device.type}); make new tensors with new_zeros, zeros_like or device=x.device")
    return outs


def train_toy(m, c, p):
    """toy_task.fit, the loop of toy_task.train (Adam, clipping, TRAIN_CONFIG's learning rate),
    from the case's initial weights (loaded by name, strictly) on the case's batches (drawn by
    toy_task.batches), in float64 like every other probe: one loss per step, compared step by step
    with the reference's. (In float32, Adam turns rounding noise in near-zero gradients into whole
    steps of size lr.)"""
    import toy_task

    model = toy_task.make_model(m, p["kind"], seed=0).double()
    model.load_state_dict({n: _t(c[n]) for n in SEQ2SEQ_PARAMS if n in c}, strict=True)
    size = p["batch_size"]
    batches = zip(_t(c["batch_src"]).split(size), _t(c["batch_tgt"]).split(size))
    return {"losses": np.asarray(toy_task.fit(model, batches), dtype=np.float64)}


# --- decoding ----------------------------------------------------------------------------------

def greedy(m, c, p):
    tokens, scores = m.greedy_decode(_model(m, c, p), _t(c["src"]), max_len=p["max_len"])
    return {"tokens": tokens, "scores": scores}


def beam(m, c, p):
    tokens, scores = m.beam_search(_model(m, c, p), _t(c["src"]), beam_width=p["beam_width"],
                                   max_len=p["max_len"])
    return {"tokens": tokens, "scores": scores}


def beam_vs_greedy(m, c, p):
    """beam_search with width 1 and greedy_decode of the same source, both as returned."""
    model = _model(m, c, p)
    src = _t(c["src"])
    b_tokens, b_scores = m.beam_search(model, src, beam_width=1, max_len=p["max_len"])
    g_tokens, g_scores = m.greedy_decode(model, src[None], max_len=p["max_len"])
    return {"beam_tokens": b_tokens, "beam_scores": b_scores, "greedy_tokens": g_tokens,
            "greedy_scores": g_scores}


def beam_exhaustive(m, c, p):
    """beam_search wide enough to keep every hypothesis, and the student's own teacher-forced
    logits on every prefix of the grid (the grader scores every possible result from them)."""
    model = _model(m, c, p)
    src = _t(c["src"])
    tokens, scores = m.beam_search(model, src, beam_width=p["beam_width"], max_len=p["max_len"])
    grid = _t(c["grid"])
    with torch.no_grad():
        grid_logits = model(src[None].expand(grid.shape[0], -1), grid)
    return {"tokens": tokens, "scores": scores, "grid_logits": grid_logits}
