"""Python probes for `transformer`: those a declaration in assignment.yaml (`probes:`) cannot say.

Run in the sandboxed child; `probe(m, c, p)` gets the student's module, the case's arrays and its
parameters. Modules are built with the contract's arguments, loaded by name (kit.torch.load_strict:
float64, eval mode, so dropout is off). `pe` keeps the student's own table unless a test sets it to
the exact `table` on purpose, so that each test checks one thing. Dropout placement is checked with
kit FixedDrops in place of the module's own nn.Dropout submodules: masks fixed by the case, the
submodule's name and the trailing shape, scaled with the student's p (the reference gets the same).
"""

import re

import numpy as np
import torch

from autograder.kit import ContractError
from autograder.kit import torch as kt

_t = kt.tensor  # a copy of a case array as a tensor


def _backward(out, dout):
    if tuple(out.shape) != dout.shape:
        raise ContractError(f"the output has shape {tuple(out.shape)}, expected {dout.shape}")
    kt.scalar_backward(out, _t(dout))


def _drop(module, c, *names):
    return kt.fix_dropout(module, int(c["drop_seed"]), names, dims={"attn_drop": 2})


def _mask(c, key):
    return _t(c[key]) if key in c else None


# --- PositionalEncoding ----------------------------------------------------------------------

def pe_table(m, c, p):
    pe = m.PositionalEncoding(p["E"], dropout=0.0, max_len=p["max_len"]).pe
    if isinstance(pe, torch.Tensor) and pe.numel() > 1 and not pe.detach().any():
        raise NotImplementedError("the table pe is all zeros")  # the stub's table: say so plainly
    return {"pe": pe}


def _set_pe(module, c, path="pe"):
    """Replace the buffer `pe` (at `path`) by the case's exact table, on purpose."""
    try:
        pe = module.get_buffer(path)
    except AttributeError:
        raise ContractError(f"PositionalEncoding has no buffer 'pe' (looked for {path}); "
                            "register the table with self.register_buffer('pe', ...)") from None
    if tuple(pe.shape) != c["table"].shape:
        raise ContractError(f"the buffer pe has shape {tuple(pe.shape)}, the contract's is {c['table'].shape} "
                            "(1, max_len, E)")
    with torch.no_grad():
        pe.copy_(torch.from_numpy(c["table"]))
    return module


def _pe(m, c, p):
    return _set_pe(kt.load_strict(m.PositionalEncoding(p["E"], dropout=p["dropout"], max_len=p["max_len"]), c), c)


def pe_forward(m, c, p):
    return {"out": _pe(m, c, p)(_t(c["x"]))}


def pe_dropout(m, c, p):
    return {"out": _drop(_pe(m, c, p), c, "dropout")(_t(c["x"]))}


# --- attention -------------------------------------------------------------------------------

def sdpa(m, c, p):
    out, weights = m.scaled_dot_product_attention(_t(c["q"]), _t(c["k"]), _t(c["v"]), _mask(c, "mask"))
    return {"out": out, "weights": weights}


def causal_mask(m, c, p):
    T = int(c["T"])
    return {"mask": m.causal_mask(T, device=p["device"]) if p.get("device") else m.causal_mask(T)}


def mha_dropout(m, c, p):
    module = _drop(kt.load_strict(m.MultiHeadAttention(p["E"], p["H"], dropout=p["dropout"]), c), c, "attn_drop")
    return {"out": module(_t(c["query"]), _t(c["key"]), _t(c["value"]), attn_mask=_mask(c, "attn_mask"))}


def mha_permuted(m, c, p):
    """Outputs for x and for x with permuted positions (verify.py: one is the other permuted)."""
    module = kt.load_strict(m.MultiHeadAttention(p["E"], p["H"], dropout=0.3), c)
    x = _t(c["x"])
    xp = x[:, _t(c["perm"])]
    return {"out": module(x, x, x), "out_permuted": module(xp, xp, xp)}


# --- LayerNorm and the dropouts of FeedForward and the layers --------------------------------

def _ln(m, c, p):
    eps = p.get("eps")
    return kt.load_strict(m.LayerNorm(p["shape"][-1]) if eps is None else m.LayerNorm(p["shape"][-1], eps=eps), c)


def layernorm(m, c, p):
    return {"out": _ln(m, c, p)(_t(c["x"]))}


def layernorm_grads(m, c, p):
    module, x = _ln(m, c, p), kt.leaf(c["x"])
    _backward(module(x), c["dout"])
    return kt.grads_of({"x": x}, module)


def ffn_dropout(m, c, p):
    return {"out": _drop(kt.load_strict(m.FeedForward(p["E"], p["F"], dropout=0.3), c), c, "dropout")(_t(c["x"]))}


def encoder_dropout(m, c, p):
    """Only dropout1 and dropout2: the sublayers' dropouts have their own tests."""
    module = m.TransformerEncoderLayer(p["E"], p["H"], dim_feedforward=p["F"], dropout=p["dropout"])
    module = _drop(kt.load_strict(module, c), c, "dropout1", "dropout2")
    return {"out": module(_t(c["src"]), src_mask=_mask(c, "src_mask"))}


def decoder_dropout(m, c, p):
    """Only dropout1 to dropout3: the sublayers' dropouts have their own tests."""
    module = m.TransformerDecoderLayer(p["E"], p["H"], dim_feedforward=p["F"], dropout=p["dropout"])
    module = _drop(kt.load_strict(module, c), c, "dropout1", "dropout2", "dropout3")
    return {"out": module(_t(c["tgt"]), _t(c["memory"]))}


# --- TransformerLM ---------------------------------------------------------------------------

def _lm(m, c, p):
    module = m.TransformerLM(p["V"], p["E"], p["H"], p["L"], p["max_len"], dim_feedforward=p.get("F") or None,
                             dropout=0.3)
    return _set_pe(kt.load_strict(module, c), c, "positional_encoding.pe")


def lm(m, c, p):
    return {"logits": _lm(m, c, p)(_t(c["tokens"]))}


def lm_grads(m, c, p):
    module = _lm(m, c, p)
    _backward(module(_t(c["tokens"])), c["dout"])
    return kt.grads_of({}, module)


def lm_causal(m, c, p):
    """Logits for two batches that agree up to position t (verify.py: so do the logits)."""
    module = _lm(m, c, p)
    return {"logits": module(_t(c["tokens"])), "logits_changed": module(_t(c["tokens_changed"]))}


def lm_length(m, c, p):
    """max_len tokens must work (logits compared with the reference's); more must raise a ValueError
    naming both lengths. `raised`: 0 nothing, 1 ValueError, 2 another exception; whether the message
    names each number comes back as a 0/1 flag (strings cannot be returned)."""
    module = _lm(m, c, p)  # the case's weights: what it returns for max_len tokens must match the reference
    ok = module(_t(c["tokens_ok"]))
    raised, text = 0, ""
    try:
        module(_t(c["tokens_long"]))
    except NotImplementedError:
        raise
    except ValueError as exc:
        raised, text = 1, str(exc)
    except Exception:
        raised = 2
    has = [int(re.search(rf"(?<!\d){n}(?!\d)", text) is not None) for n in (c["tokens_long"].shape[1], p["max_len"])]
    return {"logits_ok": ok, "raised": raised, "mentions_length": has[0], "mentions_max_len": has[1]}


def lm_train(m, c, p):
    """`steps` steps of lm_task.train (its windows, Adam and schedule, seeded by the case) from the
    case's weights and exact table, in float64 (in float32, Adam turns rounding noise in near-zero
    gradients into whole steps of size lr); dropout is off. One loss per step."""
    import dataclasses

    import lm_task

    model = _set_pe(kt.load_strict(lm_task.build_model(m, seed=p["seed"]), c), c, "positional_encoding.pe")
    config = dataclasses.replace(lm_task.CONFIG, batch_size=p["batch_size"])
    losses = lm_task.train(model, steps=p["steps"], config=config, seed=p["seed"])
    return {"losses": np.asarray(losses, dtype=np.float64)}
