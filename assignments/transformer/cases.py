"""Case builders for `transformer`: each makes the inputs of one case from a private generator.

`builder(rng, **params) -> {name: array}`; params come from assignment.yaml. Everything is
float64 so that tolerances can be tight. Naming:
    param.<name>   a parameter of the module under test, by its state_dict name (loaded by name)
    table          the exact sinusoid table (1, max_len, E), for tests that fix `pe` on purpose
    dout           the upstream gradient of the module's output
    drop_seed      seeds the fixed dropout masks of the dropout-placement tests
Masks use the contract's polarity: 0/False blocks.
"""

import importlib.util
from pathlib import Path

import numpy as np

from autograder.kit import normal as _w

HERE = Path(__file__).resolve().parent


def sinusoid_table(max_len, E):
    """(1, max_len, E): sin in even columns, cos in odd ones, computed in float64."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]
    angle = pos / 10000.0 ** (np.arange(0, E, 2, dtype=np.float64) / E)  # (P, ceil(E/2))
    table = np.zeros((max_len, E))
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, : E // 2])
    return table[None]


def _mask(rng, S, T, kind="bool"):
    """(S, T) 0/1 mask as bool, int64 or float64 with, when T >= 2, at least one open and one
    blocked key in every row; kind 'causal' is the lower triangle, 'none' no mask at all."""
    if kind in ("none", "causal"):
        return {} if kind == "none" else np.tril(np.ones((S, T), dtype=bool))
    mask = rng.random((S, T)) < 0.5
    mask[np.arange(S), rng.integers(0, T, size=S)] = True
    for i in range(S if T >= 2 else 0):
        open_ = np.flatnonzero(mask[i])
        if len(open_) == T:
            mask[i, rng.choice(open_)] = False
    return mask.astype({"bool": bool, "int": np.int64, "float": np.float64}[kind])


def _masked(name, mask):
    return {} if isinstance(mask, dict) else {name: mask}


# --- parameters, by the contract's state_dict names ------------------------------------------
# A layout lists (prefix, fan_in, fan_out) for a Linear and (prefix, dim) for a LayerNorm, in the
# order their values are drawn; `_random` fills it for the module tests, `lm_train` with lm_task's
# initialisation.

QKVP = ("key", "query", "value", "proj")


def _mha_layout(prefix, E):
    return [(f"{prefix}{name}.", E, E) for name in QKVP]


def _ffn_layout(prefix, E, F):
    return [(f"{prefix}linear1.", E, F), (f"{prefix}linear2.", F, E)]


def _layer_layout(prefix, E, F, attns=("self_attn",)):
    """An encoder layer (self_attn) or, with ("self_attn", "cross_attn"), a decoder layer."""
    out = [part for a in attns for part in _mha_layout(f"{prefix}{a}.", E)] + _ffn_layout(f"{prefix}ffn.", E, F)
    return out + [(f"{prefix}norm{i}.", E) for i in range(1, len(attns) + 2)]


def _random(rng, layout, init=False):
    """Random: Linear weights N(0, gain^2/fan_in) (gain 1.5 for key and query, so that the attention
    is far from uniform), biases N(0, 0.01), LayerNorm weights 1 + N(0, 0.04), biases N(0, 0.04).
    init: lm_task's initialisation, weights N(0, 1/fan_in), biases 0, LayerNorms 1 and 0."""
    out = {}
    for prefix, *dims in layout:
        if init:
            w, b = (np.ones(dims), np.zeros(dims)) if len(dims) == 1 else \
                (rng.standard_normal(dims[::-1]) / np.sqrt(dims[0]), np.zeros(dims[1]))
        elif len(dims) == 1:
            w, b = 1.0 + _w(rng, dims[0], scale=0.2), _w(rng, dims[0], scale=0.2)
        else:
            (fan_in, fan_out), gain = dims, 1.5 if prefix.endswith(("key.", "query.")) else 1.0
            w, b = _w(rng, fan_out, fan_in, scale=gain / np.sqrt(fan_in)), _w(rng, fan_out, scale=0.1)
        out.update({f"param.{prefix}weight": w, f"param.{prefix}bias": b})
    return out


def _drop_seed(rng, *dout):
    """`dout` of that shape (if given), then the seed of the fixed dropout masks."""
    out = {"dout": _w(rng, *dout)} if dout else {}
    return {**out, "drop_seed": np.asarray(int(rng.integers(0, 2**31 - 1)), dtype=np.int64)}


# --- builders --------------------------------------------------------------------------------

def pe_table(rng, E, max_len):
    """Nothing random: the probe builds PositionalEncoding(E, max_len=max_len) and returns pe."""
    return {"max_len": np.asarray(max_len, dtype=np.int64)}


def pe_forward(rng, N, S, E, max_len, dropout=0.3):
    return {"x": _w(rng, N, S, E), "table": sinusoid_table(max_len, E), **_drop_seed(rng)}


def sdpa(rng, lead, S, T, d, dv, mask="none", mask_shape="st"):
    """q, k, v with leading dims `lead`; a mask none/bool/int/float, (S, T) or, with mask_shape
    'full', with the leading dims too (1 for the last one, broadcast): each batch entry its own."""
    lead = tuple(lead)
    out = {"q": _w(rng, *lead, S, d, scale=1.5), "k": _w(rng, *lead, T, d, scale=1.5),
           "v": _w(rng, *lead, T, dv), "dout": _w(rng, *lead, S, dv), "dweights": _w(rng, *lead, S, T)}
    if mask != "none" and mask_shape == "full" and lead:
        shape = lead[:-1] + (1,)
        return {**out, "mask": np.stack([_mask(rng, S, T, mask) for _ in range(int(np.prod(shape)))])
                .reshape(shape + (S, T))}
    return {**out, **_masked("mask", _mask(rng, S, T, mask))}


def causal(rng, T, device=""):
    return {"T": np.asarray(T, dtype=np.int64)}


def mha_self(rng, N, S, E, H, dropout=0.3):
    """Self-attention input x, a permutation of its positions, and the upstream gradient."""
    return {"x": _w(rng, N, S, E), **_random(rng, _mha_layout("", E)), "perm": rng.permutation(S).astype(np.int64),
            **_drop_seed(rng, N, S, E)}


def mha_cross(rng, N, S, T, E, H, mask="bool", dropout=0.3):
    """Separate query, key and value (S may differ from T) and an (S, T) attn_mask."""
    out = {"query": _w(rng, N, S, E), "key": _w(rng, N, T, E), "value": _w(rng, N, T, E),
           **_random(rng, _mha_layout("", E)), **_drop_seed(rng, N, S, E)}
    return {**out, **_masked("attn_mask", _mask(rng, S, T, mask))}


def layernorm(rng, shape, eps=1e-5, scale=1.0, shift=0.0):
    """x of the given shape (last entry = dim); `scale` small makes eps matter."""
    return {"x": shift + _w(rng, *shape, scale=scale), **_random(rng, [("", shape[-1])]), "dout": _w(rng, *shape)}


def ffn(rng, N, S, E, F, dropout=0.3):
    return {"x": _w(rng, N, S, E), **_random(rng, _ffn_layout("", E, F)), **_drop_seed(rng, N, S, E)}


def encoder(rng, N, S, E, H, F, mask="none", dropout=0.3):
    """src and, for mask 'causal' or 'random', an (S, S) bool src_mask."""
    out = {"src": _w(rng, N, S, E), **_random(rng, _layer_layout("", E, F)), **_drop_seed(rng, N, S, E)}
    return {**out, **_masked("src_mask", _mask(rng, S, S, mask))}


def decoder(rng, N, S, T, E, H, F, mask="none", dropout=0.3):
    """tgt (N, S, E), memory (N, T, E) and, unless mask is 'none', an (S, S) tgt_mask."""
    out = {"tgt": _w(rng, N, S, E), "memory": _w(rng, N, T, E),
           **_random(rng, _layer_layout("", E, F, ("self_attn", "cross_attn"))),
           **_drop_seed(rng, N, S, E)}
    return {**out, **_masked("tgt_mask", _mask(rng, S, S, mask))}


def _lm_layers(L, E, F):
    return [part for i in range(L) for part in _layer_layout(f"layers.{i}.", E, F)]


def _lm_head(rng, V, E):
    return {"param.embedding.weight": _w(rng, V, E), **_random(rng, [("output.", E, V)])}


def lm(rng, N, T, V, E, H, L, max_len, F=0, t=None):
    """A TransformerLM's parameters (F = 0: the default width 4E), tokens, and for the causality
    check a second batch `tokens_changed` equal to `tokens` up to position t, different after."""
    tokens = rng.integers(0, V, size=(N, T)).astype(np.int64)
    out = {"tokens": tokens, **_lm_head(rng, V, E), "table": sinusoid_table(max_len, E), "dout": _w(rng, N, T, V),
           **_random(rng, _lm_layers(L, E, F or 4 * E))}
    t = (T - 1) // 2 if t is None else t
    changed = tokens.copy()
    if t + 1 < T:
        changed[:, t + 1:] = (changed[:, t + 1:] + rng.integers(1, V, size=(N, T - t - 1))) % V
    return {**out, "tokens_changed": changed, "t": np.asarray(t, dtype=np.int64)}


def lm_length(rng, N, V, E, H, L, max_len, too_long):
    """A TransformerLM's parameters (width 4E), tokens of exactly max_len (must work, and give the
    reference's logits) and of `too_long` > max_len (must be a ValueError)."""
    out = {**_lm_head(rng, V, E), "table": sinusoid_table(max_len, E), **_random(rng, _lm_layers(L, E, 4 * E))}
    return {**out, "tokens_ok": rng.integers(0, V, size=(N, max_len)).astype(np.int64),
            "tokens_long": rng.integers(0, V, size=(N, too_long)).astype(np.int64)}


def lm_train(rng, seed, steps, batch_size):
    """Initial weights of lm_task's model (embeddings N(0, 1), the rest as `_random(init=True)`) and
    the exact table; `seed`, `steps` and `batch_size` are arguments of lm_task.train."""
    spec = importlib.util.spec_from_file_location("_transformer_lm_task", HERE / "lm_task.py")
    task = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(task)
    E, L = task.CONFIG.embed_dim, task.CONFIG.num_layers
    V = len(task.load_data(str(HERE / "sonnets.txt"))[0])
    out = {"param.embedding.weight": rng.standard_normal((V, E)),
           **_random(rng, [("output.", E, V)] + _lm_layers(L, E, 4 * E), init=True)}
    return {**out, "table": sinusoid_table(task.CONFIG.block_size, E)}
