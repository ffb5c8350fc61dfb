"""Python probes for `attention` (the one-call probes are declared in assignment.yaml).

Run in the sandboxed child: `probe(m, c, p)` gets the student's module, the case's arrays (numpy,
writeable; the tensors made from them share their memory) and the case's parameters. Probes
compute nothing the grader judges: sums, permutations and searches are done in the grader.
"""

import numpy as np
import torch

from autograder.kit import ContractError
from autograder.kit.torch import grads_of, scalar_backward, tensor

SEQ2SEQ_PARAMS = ("src_embed", "tgt_embed", "enc_Wx", "enc_Wh", "enc_b", "dec_Wx", "dec_Wh",
                  "dec_Wattn", "dec_b", "attn_Wq", "attn_Wk", "attn_v", "out_W", "out_b")


def _t(a):
    return tensor(a, share=True)


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
    scalar_backward(model(_t(c["src"]), _t(c["tgt_in"])), c["dlogits"])
    return grads_of(module=model)


def forward_default_meta(m, c, p):
    """encode and forward on CPU inputs while torch's default device is 'meta': a tensor made
    without a device lands there and cannot be combined with the inputs, as a CPU tensor cannot
    with a GPU's. What comes back must be on the inputs' device and match the reference (nothing
    is computed on meta: its Python kernels import torch._dynamo, seconds of every grade)."""
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
    """toy_task.fit (Adam, clipping, TRAIN_CONFIG's lr) from the case's weights (loaded strictly) on
    the case's batches, in float64 (in float32 Adam turns rounding noise in near-zero gradients
    into whole steps of size lr): one loss per step, compared step by step with the reference's."""
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
    model, src = _model(m, c, p), _t(c["src"])
    b_tokens, b_scores = m.beam_search(model, src, beam_width=1, max_len=p["max_len"])
    g_tokens, g_scores = m.greedy_decode(model, src[None], max_len=p["max_len"])
    return {"beam_tokens": b_tokens, "beam_scores": b_scores, "greedy_tokens": g_tokens,
            "greedy_scores": g_scores}


def beam_exhaustive(m, c, p):
    """beam_search wide enough to keep every hypothesis, and the student's own teacher-forced
    logits on every prefix of the grid (the grader scores every possible result from them)."""
    model, src = _model(m, c, p), _t(c["src"])
    tokens, scores = m.beam_search(model, src, beam_width=p["beam_width"], max_len=p["max_len"])
    grid = _t(c["grid"])
    with torch.no_grad():
        grid_logits = model(src[None].expand(grid.shape[0], -1), grid)
    return {"tokens": tokens, "scores": scores, "grid_logits": grid_logits}
