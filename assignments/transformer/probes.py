"""Probes for `transformer`: build the student's modules, load weights, call them, return arrays.

Runs only inside the sandboxed child, next to the student's module. `probe(m, c, p)` gets the
student's module `m`, the case's arrays `c` (numpy) and the case's parameters `p`.

Every module is built with the contract's arguments, converted with `.double()`, given the
case's parameters by name (strict: the parameter names must be exactly the contract's), and put
in eval mode, so dropout is off. The `pe` buffer keeps the student's own table unless a test
replaces it on purpose (the `table` input), to check one thing at a time. Gradient probes
return the gradients of the inputs and of every parameter, keyed by name.

Dropout placement is checked without torch's random stream: the module's own nn.Dropout
submodules are replaced by `FixedDrop`, which multiplies by a mask drawn from a private
generator seeded by the case, the submodule's name and the tensor's trailing shape, and scaled
by 1/(1-p) with the student's own p. The reference gets the same replacement.
"""

import zlib

import numpy as np
import torch
import torch.nn as nn

from autograder.sandbox.child import ContractError

PARAM = "param."


# --- building and loading --------------------------------------------------------------------

def _t(a):
    """A case array as a tensor (float64, int64 or bool), not sharing memory with the case."""
    return torch.from_numpy(np.array(a, copy=True))


def _params(c):
    return {k[len(PARAM):]: v for k, v in c.items() if k.startswith(PARAM)}


def _prepare(module, c, what, dtype=torch.float64):
    """In `dtype` (float64 unless training), load the case's parameters by name (strict), eval mode."""
    module = module.to(dtype)
    want = _params(c)
    have = dict(module.named_parameters())
    missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    if missing or extra:
        text = f"{what} lacks the contract's parameters {', '.join(missing[:4]) or '(none)'}"
        if extra:
            text += f" and has {', '.join(extra[:4])} instead"
        raise ContractError(text + "; the grader loads weights by the contract's submodule names")
    with torch.no_grad():
        for name, value in want.items():
            if tuple(have[name].shape) != value.shape:
                raise ContractError(f"{what}: parameter {name} has shape {tuple(have[name].shape)}, "
                                 f"the contract's is {value.shape}")
            have[name].copy_(torch.from_numpy(value))
    return module.eval()


def _set_pe(module, c, path="pe"):
    """Replace the buffer `pe` (at `path`) by the case's exact table, on purpose."""
    try:
        pe = module.get_buffer(path)
    except AttributeError:
        raise ContractError(f"PositionalEncoding has no buffer 'pe' (looked for {path}); "
                             "register the table with self.register_buffer('pe', ...)") from None
    table = c["table"]
    if tuple(pe.shape) != table.shape:
        raise ContractError(f"the buffer pe has shape {tuple(pe.shape)}, the contract's is {table.shape} (1, max_len, E)")
    with torch.no_grad():
        pe.copy_(torch.from_numpy(table))


def _grads(out, dout, inputs, module):
    """Backward with the upstream gradient; gradients of the inputs and of every parameter.

    The upstream gradient enters as the scalar sum(out * dout): `out.backward(dout)` would make
    torch import sympy lazily, which a child running as the sandbox user may be unable to read.
    """
    if tuple(out.shape) != dout.shape:
        raise ContractError(f"the output has shape {tuple(out.shape)}, expected {dout.shape}")
    module.zero_grad(set_to_none=True)
    (out * _t(dout)).sum().backward()
    result = {}
    for name, x in inputs.items():
        result[name] = x.grad if x.grad is not None else torch.zeros_like(x)
    for name, w in module.named_parameters():
        result[name] = w.grad if w.grad is not None else torch.zeros_like(w)
    return result


def _leaf(a):
    return _t(a).requires_grad_(True)


# --- deterministic dropout -------------------------------------------------------------------

class FixedDrop(nn.Module):
    """Multiplies by a fixed 0 or 1/(1-p) mask: the same for the student and the reference.

    The mask depends on the last `dims` sizes of its input only (2 for attention weights, whose
    layout may be (N, H, S, T) or (N*H, S, T); 1 for features), and is shared across the
    leading dimensions.
    """

    def __init__(self, p, seed, dims):
        super().__init__()
        self.p, self.seed, self.dims = float(p), seed, dims

    def forward(self, x):
        shape = tuple(x.shape[-self.dims:])
        gen = torch.Generator().manual_seed((self.seed + zlib.crc32(repr(shape).encode())) % 2**63)
        keep = torch.rand(shape, generator=gen, dtype=torch.float64, device="cpu") >= self.p  # same on any device
        return x * (keep.to(device=x.device, dtype=x.dtype) / (1.0 - self.p))


def _fix_dropout(module, c, names):
    """Replace the module's own dropout submodules `names` by FixedDrops with the same p.

    Dropouts inside submodules stay nn.Dropout, off in eval mode: each test checks the
    placement of one module's dropouts only, so one misplaced dropout fails one test.
    """
    base = int(c["drop_seed"])
    for name in names:
        sub = getattr(module, name, None)
        if not isinstance(sub, nn.Dropout):
            raise ContractError(f"{type(module).__name__} has no nn.Dropout submodule named '{name}'; "
                                 "the contract names it, and the grader replaces it to check where dropout goes")
        dims = 2 if name == "attn_drop" else 1
        setattr(module, name, FixedDrop(sub.p, base + zlib.crc32(name.encode()), dims))
    return module


# --- PositionalEncoding ----------------------------------------------------------------------

def pe_table(m, c, p):
    pe = m.PositionalEncoding(p["E"], dropout=0.0, max_len=p["max_len"]).pe
    if isinstance(pe, torch.Tensor) and pe.numel() > 1 and not pe.detach().any():
        raise NotImplementedError("the table pe is all zeros")  # the stub's table: say so plainly
    return {"pe": pe}


def _pe(m, c, p):
    module = m.PositionalEncoding(p["E"], dropout=p["dropout"], max_len=p["max_len"])
    module = _prepare(module, c, "PositionalEncoding")
    _set_pe(module, c)
    return module


def pe_forward(m, c, p):
    return {"out": _pe(m, c, p)(_t(c["x"]))}


def pe_dropout(m, c, p):
    return {"out": _fix_dropout(_pe(m, c, p), c, ["dropout"])(_t(c["x"]))}


# --- scaled_dot_product_attention and causal_mask --------------------------------------------

def _mask_arg(c, key):
    return _t(c[key]) if key in c else None


def sdpa(m, c, p):
    out, weights = m.scaled_dot_product_attention(_t(c["q"]), _t(c["k"]), _t(c["v"]), _mask_arg(c, "mask"))
    return {"out": out, "weights": weights}


def sdpa_grads(m, c, p):
    q, k, v = _leaf(c["q"]), _leaf(c["k"]), _leaf(c["v"])
    out, weights = m.scaled_dot_product_attention(q, k, v, _mask_arg(c, "mask"))
    loss = (out * _t(c["dout"])).sum() + (weights * _t(c["dweights"])).sum()
    loss.backward()
    return {name: (x.grad if x.grad is not None else torch.zeros_like(x)) for name, x in (("q", q), ("k", k), ("v", v))}


def causal_mask(m, c, p):
    T = int(c["T"])
    mask = m.causal_mask(T, device=p["device"]) if p.get("device") else m.causal_mask(T)
    return {"mask": mask}


# --- MultiHeadAttention ----------------------------------------------------------------------

def _mha(m, c, p):
    return _prepare(m.MultiHeadAttention(p["E"], p["H"], dropout=p.get("dropout", 0.3)), c, "MultiHeadAttention")


def mha_self(m, c, p):
    x = _t(c["x"])
    return {"out": _mha(m, c, p)(x, x, x)}


def mha_cross(m, c, p):
    module = _mha(m, c, p)
    return {"out": module(_t(c["query"]), _t(c["key"]), _t(c["value"]), attn_mask=_mask_arg(c, "attn_mask"))}


def mha_grads(m, c, p):
    module = _mha(m, c, p)
    inputs = {"query": _leaf(c["query"]), "key": _leaf(c["key"]), "value": _leaf(c["value"])}
    out = module(inputs["query"], inputs["key"], inputs["value"], attn_mask=_mask_arg(c, "attn_mask"))
    return _grads(out, c["dout"], inputs, module)


def mha_dropout(m, c, p):
    module = _fix_dropout(_mha(m, c, p), c, ["attn_drop"])
    return {"out": module(_t(c["query"]), _t(c["key"]), _t(c["value"]), attn_mask=_mask_arg(c, "attn_mask"))}


def mha_permuted(m, c, p):
    """The outputs for x and for x with its positions permuted: both compared with the reference's,
    then verify.py checks that one is the other permuted."""
    module = _mha(m, c, p)
    x = _t(c["x"])
    xp = x[:, _t(c["perm"])]
    return {"out": module(x, x, x), "out_permuted": module(xp, xp, xp)}


# --- LayerNorm and FeedForward ---------------------------------------------------------------

def _ln(m, c, p):
    eps = p.get("eps")
    module = m.LayerNorm(p["shape"][-1]) if eps is None else m.LayerNorm(p["shape"][-1], eps=eps)
    return _prepare(module, c, "LayerNorm")


def layernorm(m, c, p):
    return {"out": _ln(m, c, p)(_t(c["x"]))}


def layernorm_grads(m, c, p):
    module = _ln(m, c, p)
    x = _leaf(c["x"])
    return _grads(module(x), c["dout"], {"x": x}, module)


def _ffn(m, c, p):
    return _prepare(m.FeedForward(p["E"], p["F"], dropout=p.get("dropout", 0.3)), c, "FeedForward")


def ffn(m, c, p):
    return {"out": _ffn(m, c, p)(_t(c["x"]))}


def ffn_dropout(m, c, p):
    return {"out": _fix_dropout(_ffn(m, c, p), c, ["dropout"])(_t(c["x"]))}


def ffn_grads(m, c, p):
    module = _ffn(m, c, p)
    x = _leaf(c["x"])
    return _grads(module(x), c["dout"], {"x": x}, module)


# --- encoder and decoder layers --------------------------------------------------------------

def _enc(m, c, p):
    module = m.TransformerEncoderLayer(p["E"], p["H"], dim_feedforward=p["F"], dropout=p.get("dropout", 0.3))
    return _prepare(module, c, "TransformerEncoderLayer")


def encoder(m, c, p):
    return {"out": _enc(m, c, p)(_t(c["src"]), src_mask=_mask_arg(c, "src_mask"))}


def encoder_grads(m, c, p):
    module = _enc(m, c, p)
    src = _leaf(c["src"])
    return _grads(module(src, src_mask=_mask_arg(c, "src_mask")), c["dout"], {"src": src}, module)


def encoder_dropout(m, c, p):
    """Only dropout1 and dropout2: the sublayers' dropouts have their own tests."""
    module = _fix_dropout(_enc(m, c, p), c, ["dropout1", "dropout2"])
    return {"out": module(_t(c["src"]), src_mask=_mask_arg(c, "src_mask"))}


def _dec(m, c, p):
    module = m.TransformerDecoderLayer(p["E"], p["H"], dim_feedforward=p["F"], dropout=p.get("dropout", 0.3))
    return _prepare(module, c, "TransformerDecoderLayer")


def _dec_call(module, tgt, memory, c):
    mask = _mask_arg(c, "tgt_mask")
    return module(tgt, memory) if mask is None else module(tgt, memory, tgt_mask=mask)


def decoder(m, c, p):
    return {"out": _dec_call(_dec(m, c, p), _t(c["tgt"]), _t(c["memory"]), c)}


def decoder_grads(m, c, p):
    module = _dec(m, c, p)
    tgt, memory = _leaf(c["tgt"]), _leaf(c["memory"])
    return _grads(_dec_call(module, tgt, memory, c), c["dout"], {"tgt": tgt, "memory": memory}, module)


def decoder_dropout(m, c, p):
    """Only dropout1 to dropout3: the sublayers' dropouts have their own tests."""
    module = _fix_dropout(_dec(m, c, p), c, ["dropout1", "dropout2", "dropout3"])
    return {"out": _dec_call(module, _t(c["tgt"]), _t(c["memory"]), c)}


# --- TransformerLM ---------------------------------------------------------------------------

def _lm(m, c, p):
    module = m.TransformerLM(p["V"], p["E"], p["H"], p["L"], p["max_len"], dim_feedforward=p.get("F") or None,
                             dropout=0.3)
    module = _prepare(module, c, "TransformerLM")
    _set_pe(module, c, "positional_encoding.pe")
    return module


def lm(m, c, p):
    return {"logits": _lm(m, c, p)(_t(c["tokens"]))}


def lm_grads(m, c, p):
    module = _lm(m, c, p)
    return _grads(module(_t(c["tokens"])), c["dout"], {}, module)


def lm_causal(m, c, p):
    """Logits for two batches that agree up to position t: both compared with the reference's, then
    verify.py checks that the logits up to t agree."""
    module = _lm(m, c, p)
    return {"logits": module(_t(c["tokens"])), "logits_changed": module(_t(c["tokens_changed"]))}


def lm_length(m, c, p):
    """A sequence of max_len must work (its logits are compared with the reference's, and only
    then does the rest count); a longer one must raise ValueError naming the lengths.

    `raised`: 0 nothing, 1 ValueError, 2 another exception. The message is checked for the two
    numbers here (strings cannot be returned) as 0/1 flags.
    """
    import re

    module = _lm(m, c, p)  # the case's weights: what it returns for max_len tokens must match the reference
    ok = module(_t(c["tokens_ok"]))
    raised, has_len, has_max = 0, 0, 0
    long_len = c["tokens_long"].shape[1]
    try:
        module(_t(c["tokens_long"]))
    except NotImplementedError:
        raise
    except ValueError as exc:
        raised = 1
        text = str(exc)
        has_len = int(re.search(rf"(?<!\d){long_len}(?!\d)", text) is not None)
        has_max = int(re.search(rf"(?<!\d){p['max_len']}(?!\d)", text) is not None)
    except Exception:
        raised = 2
    return {"logits_ok": ok, "raised": raised, "mentions_length": has_len, "mentions_max_len": has_max}


def lm_train(m, c, p):
    """`steps` steps of lm_task.train (its random windows, Adam and learning-rate schedule, seeded
    by the case; `batch_size` windows a step) from the case's initial weights, loaded by name
    (strict), with the exact sinusoid table, in float64 like every other probe; dropout is off
    (lm_task.CONFIG.dropout = 0). One loss per step, compared step by step with the reference's.
    (In float32, Adam turns rounding noise in near-zero gradients into whole steps of size lr, and
    two correct runs part after a few steps.)"""
    import dataclasses

    import lm_task

    model = _prepare(lm_task.build_model(m, seed=p["seed"]), c, "TransformerLM")
    _set_pe(model, c, "positional_encoding.pe")
    config = dataclasses.replace(lm_task.CONFIG, batch_size=p["batch_size"])
    losses = lm_task.train(model, steps=p["steps"], config=config, seed=p["seed"])
    return {"losses": np.asarray(losses, dtype=np.float64)}
