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

HERE = Path(__file__).resolve().parent


def _w(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def sinusoid_table(max_len, E):
    """(1, max_len, E): sin in even columns, cos in odd ones, computed in float64."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]
    angle = pos / 10000.0 ** (np.arange(0, E, 2, dtype=np.float64) / E)  # (P, ceil(E/2))
    table = np.zeros((max_len, E))
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, : E // 2])
    return table[None]


def _mask(rng, S, T):
    """(S, T) bool with, when T >= 2, at least one open and one blocked key in every row."""
    mask = rng.random((S, T)) < 0.5
    rows = np.arange(S)
    mask[rows, rng.integers(0, T, size=S)] = True
    if T >= 2:
        for i in range(S):
            open_ = np.flatnonzero(mask[i])
            if len(open_) == T:
                mask[i, rng.choice(open_)] = False
    return mask


def _as_mask(mask, kind):
    """The same mask as bool, int64 or float64 0/1: all block where the value is 0."""
    return {"bool": mask, "int": mask.astype(np.int64), "float": mask.astype(np.float64)}[kind]


# --- parameters, by the contract's state_dict names -----------------------------------------

def _linear(rng, prefix, fan_in, fan_out, gain=1.0):
    return {f"param.{prefix}weight": _w(rng, fan_out, fan_in, scale=gain / np.sqrt(fan_in)),
            f"param.{prefix}bias": _w(rng, fan_out, scale=0.1)}


def _mha(rng, prefix, E):
    """Projections with unit-variance outputs, so that the attention is far from uniform."""
    out = {}
    for name in ("key", "query", "value", "proj"):
        out.update(_linear(rng, f"{prefix}{name}.", E, E, gain=1.5 if name in ("key", "query") else 1.0))
    return out


def _ln(rng, prefix, E):
    return {f"param.{prefix}weight": 1.0 + _w(rng, E, scale=0.2), f"param.{prefix}bias": _w(rng, E, scale=0.2)}


def _ffn(rng, prefix, E, F):
    return {**_linear(rng, f"{prefix}linear1.", E, F), **_linear(rng, f"{prefix}linear2.", F, E)}


def _encoder(rng, prefix, E, F):
    return {**_mha(rng, f"{prefix}self_attn.", E), **_ffn(rng, f"{prefix}ffn.", E, F),
            **_ln(rng, f"{prefix}norm1.", E), **_ln(rng, f"{prefix}norm2.", E)}


def _decoder(rng, E, F):
    return {**_mha(rng, "self_attn.", E), **_mha(rng, "cross_attn.", E), **_ffn(rng, "ffn.", E, F),
            **_ln(rng, "norm1.", E), **_ln(rng, "norm2.", E), **_ln(rng, "norm3.", E)}


def _drop_seed(rng):
    return np.asarray(int(rng.integers(0, 2**31 - 1)), dtype=np.int64)


# --- builders --------------------------------------------------------------------------------

def pe_table(rng, E, max_len):
    """Nothing random: the probe builds PositionalEncoding(E, max_len=max_len) and returns pe."""
    return {"max_len": np.asarray(max_len, dtype=np.int64)}


def pe_forward(rng, N, S, E, max_len, dropout=0.3):
    return {"x": _w(rng, N, S, E), "table": sinusoid_table(max_len, E), "drop_seed": _drop_seed(rng)}


def sdpa(rng, lead, S, T, d, dv, mask="none", mask_shape="st"):
    """q, k, v with leading dims `lead`; mask kinds none/bool/int/float, shaped (S, T) or full.

    With mask_shape 'full' the mask has the leading dims too, with a 1 for the last leading one
    (broadcast over it), so that every batch entry has its own blocked keys.
    """
    lead = tuple(lead)
    out = {"q": _w(rng, *lead, S, d, scale=1.5), "k": _w(rng, *lead, T, d, scale=1.5),
           "v": _w(rng, *lead, T, dv), "dout": _w(rng, *lead, S, dv), "dweights": _w(rng, *lead, S, T)}
    if mask != "none":
        if mask_shape == "full" and lead:
            shape = lead[:-1] + (1,)
            m = np.stack([_mask(rng, S, T) for _ in range(int(np.prod(shape)))]).reshape(shape + (S, T))
        else:
            m = _mask(rng, S, T)
        out["mask"] = _as_mask(m, mask)
    return out


def causal(rng, T, device=""):
    return {"T": np.asarray(T, dtype=np.int64)}


def mha_self(rng, N, S, E, H, dropout=0.3):
    """Self-attention input x, a permutation of its positions, and the upstream gradient."""
    return {"x": _w(rng, N, S, E), **_mha(rng, "", E), "perm": rng.permutation(S).astype(np.int64),
            "dout": _w(rng, N, S, E), "drop_seed": _drop_seed(rng)}


def mha_cross(rng, N, S, T, E, H, mask="bool", dropout=0.3):
    """Separate query, key and value (S may differ from T) and an (S, T) attn_mask."""
    out = {"query": _w(rng, N, S, E), "key": _w(rng, N, T, E), "value": _w(rng, N, T, E), **_mha(rng, "", E),
           "dout": _w(rng, N, S, E), "drop_seed": _drop_seed(rng)}
    if mask != "none":
        out["attn_mask"] = _as_mask(_mask(rng, S, T), mask)
    return out


def layernorm(rng, shape, eps=1e-5, scale=1.0, shift=0.0):
    """x of the given shape (last entry = dim); `scale` small makes eps matter."""
    dim = shape[-1]
    return {"x": shift + _w(rng, *shape, scale=scale), **_ln(rng, "", dim), "dout": _w(rng, *shape)}


def ffn(rng, N, S, E, F, dropout=0.3):
    return {"x": _w(rng, N, S, E), **_ffn(rng, "", E, F), "dout": _w(rng, N, S, E), "drop_seed": _drop_seed(rng)}


def encoder(rng, N, S, E, H, F, mask="none", dropout=0.3):
    """src and, for mask 'causal' or 'random', an (S, S) bool src_mask."""
    out = {"src": _w(rng, N, S, E), **_encoder(rng, "", E, F), "dout": _w(rng, N, S, E),
           "drop_seed": _drop_seed(rng)}
    if mask == "causal":
        out["src_mask"] = np.tril(np.ones((S, S), dtype=bool))
    elif mask != "none":
        out["src_mask"] = _as_mask(_mask(rng, S, S), mask)
    return out


def decoder(rng, N, S, T, E, H, F, mask="none", dropout=0.3):
    """tgt (N, S, E), memory (N, T, E) and, unless mask is 'none', an (S, S) tgt_mask."""
    out = {"tgt": _w(rng, N, S, E), "memory": _w(rng, N, T, E), **_decoder(rng, E, F),
           "dout": _w(rng, N, S, E), "drop_seed": _drop_seed(rng)}
    if mask == "causal":
        out["tgt_mask"] = np.tril(np.ones((S, S), dtype=bool))
    elif mask != "none":
        out["tgt_mask"] = _as_mask(_mask(rng, S, S), mask)
    return out


def lm(rng, N, T, V, E, H, L, max_len, F=0, t=None):
    """A TransformerLM's parameters (F = 0: the default width 4E), tokens, and for the causality
    check a second batch `tokens_changed` equal to `tokens` up to position t, different after."""
    F = F or 4 * E
    out = {"tokens": rng.integers(0, V, size=(N, T)).astype(np.int64),
           "param.embedding.weight": _w(rng, V, E), **_linear(rng, "output.", E, V),
           "table": sinusoid_table(max_len, E), "dout": _w(rng, N, T, V)}
    for i in range(L):
        out.update(_encoder(rng, f"layers.{i}.", E, F))
    t = (T - 1) // 2 if t is None else t
    changed = out["tokens"].copy()
    if t + 1 < T:
        changed[:, t + 1:] = (changed[:, t + 1:] + rng.integers(1, V, size=(N, T - t - 1))) % V
    out["tokens_changed"] = changed
    out["t"] = np.asarray(t, dtype=np.int64)
    return out


def lm_length(rng, N, V, E, H, L, max_len, too_long):
    """A TransformerLM's parameters (width 4E), tokens of exactly max_len (must work, and give the
    reference's logits) and of `too_long` > max_len (must be a ValueError)."""
    out = {"param.embedding.weight": _w(rng, V, E), **_linear(rng, "output.", E, V),
           "table": sinusoid_table(max_len, E)}
    for i in range(L):
        out.update(_encoder(rng, f"layers.{i}.", E, 4 * E))
    out["tokens_ok"] = rng.integers(0, V, size=(N, max_len)).astype(np.int64)
    out["tokens_long"] = rng.integers(0, V, size=(N, too_long)).astype(np.int64)
    return out


def _lm_task():
    spec = importlib.util.spec_from_file_location("_transformer_lm_task", HERE / "lm_task.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lm_train(rng, seed, steps, batch_size):
    """Initial weights of lm_task's model (float64, by state_dict name): embeddings N(0, 1),
    weights N(0, 1/fan_in), biases 0, LayerNorms 1 and 0; and the exact sinusoid table. `seed`,
    `steps` and `batch_size` are arguments of lm_task.train (its batches and schedule)."""
    task = _lm_task()
    cfg = task.CONFIG
    V, E, F = len(task.load_data(str(HERE / "sonnets.txt"))[0]), cfg.embed_dim, 4 * cfg.embed_dim
    shapes = {"embedding.weight": (V, E), "output.weight": (V, E), "output.bias": (V,)}
    for i in range(cfg.num_layers):
        for name in ("key", "query", "value", "proj"):
            shapes.update({f"layers.{i}.self_attn.{name}.weight": (E, E), f"layers.{i}.self_attn.{name}.bias": (E,)})
        shapes.update({f"layers.{i}.ffn.linear1.weight": (F, E), f"layers.{i}.ffn.linear1.bias": (F,),
                       f"layers.{i}.ffn.linear2.weight": (E, F), f"layers.{i}.ffn.linear2.bias": (E,)})
        for norm in ("norm1", "norm2"):
            shapes.update({f"layers.{i}.{norm}.weight": (E,), f"layers.{i}.{norm}.bias": (E,)})
    out = {}
    for name, shape in shapes.items():
        if name == "embedding.weight":
            value = rng.standard_normal(shape)
        elif name.endswith("bias"):
            value = np.zeros(shape)
        elif ".norm" in name:
            value = np.ones(shape)
        else:
            value = rng.standard_normal(shape) / np.sqrt(shape[1])
        out[f"param.{name}"] = value
    out["table"] = sinusoid_table(cfg.block_size, E)
    return out
