"""Case builders for `rnn`: each makes the inputs of one case from a private generator.

`builder(rng, **params) -> {name: array}`; params come from assignment.yaml. Inputs are float64
so that gradient checks are exact enough; upstream gradients are named d<output>.
"""

import numpy as np

from autograder.kit import ints, mask, normal

SPECIALS = 3  # <NULL>=0, <START>=1, <END>=2
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks of Wx, Wh and b per cell


def _cell(rng, N, D, H, k, *state, seq=None, b_scale=0.3):
    """x, the initial state(s), Wx, Wh, b (k blocks of H) of one cell; `seq`: T, for a sequence."""
    x = normal(rng, N, D) if seq is None else normal(rng, N, seq, D)
    out = {"x": x, **{name: normal(rng, N, H) for name in state}}
    out.update(Wx=normal(rng, D, k * H, scale=0.5), Wh=normal(rng, H, k * H, scale=0.5),
               b=normal(rng, k * H, scale=b_scale))
    return out


def rnn_step(rng, N, D, H):
    return {**_cell(rng, N, D, H, 1, "prev_h", b_scale=0.2), "dnext_h": normal(rng, N, H)}


def rnn_seq(rng, N, T, D, H):
    return {**_cell(rng, N, D, H, 1, "h0", seq=T, b_scale=0.2), "dh": normal(rng, N, T, H)}


def lstm_step(rng, N, D, H):
    case = _cell(rng, N, D, H, 4, "prev_h", "prev_c")
    return {**case, "dnext_h": normal(rng, N, H), "dnext_c": normal(rng, N, H)}


def lstm_seq(rng, N, T, D, H):
    return {**_cell(rng, N, D, H, 4, "h0", seq=T), "dh": normal(rng, N, T, H)}


def gru_step(rng, N, D, H):
    return {**_cell(rng, N, D, H, 3, "prev_h"), "dnext_h": normal(rng, N, H)}


def gru_seq(rng, N, T, D, H):
    return {**_cell(rng, N, D, H, 3, "h0", seq=T), "dh": normal(rng, N, T, H)}


def embedding(rng, N, T, V, D):
    """With V small next to N*T, indices repeat (and one repeat always): `dW[x] += dout` loses those."""
    return {"x": ints(rng, V, N, T), "W": normal(rng, V, D), "dout": normal(rng, N, T, D)}


def sigmoid(rng, N, M, scale):
    x = normal(rng, N, M, scale=scale)
    x.flat[0], x.flat[-1] = scale * 20, -scale * 20  # the extremes overflow a naive exp
    return {"x": x}


def affine(rng, N, T, D, M):
    return {"x": normal(rng, N, T, D), "w": normal(rng, D, M, scale=0.5), "b": normal(rng, M, scale=0.2),
            "dout": normal(rng, N, T, M)}


def softmax_loss(rng, N, T, V, masked_rows=0, p_mask=0.3):
    """Scores, targets and a mask; `masked_rows` rows are masked at every step."""
    m = mask(rng, N, T, "leading", p=p_mask)
    m[:masked_rows] = False
    return {"x": normal(rng, N, T, V, scale=2.0), "y": ints(rng, V, N, T, repeat=False), "mask": m}


def clip(rng, shapes, max_norm, scale=1.0):
    """Three gradient arrays (shapes as a flat list of three lengths) and a max_norm."""
    out = {f"g_{name}": normal(rng, n, 2, scale=scale) for name, n in zip("abc", shapes)}
    out["max_norm"] = np.asarray(float(max_norm))
    return out


def caption(rng, cell, N, T, V, D, W, H, pad=1, max_length=None):
    """A CaptioningRNN's parameters, features and captions (the last `pad` steps of row 0 padded).

    `max_length` is for the sampling probe only.
    """
    k = GATES[cell]
    words = ints(rng, V, N, T + 1, low=SPECIALS, repeat=False)
    words[:, 0] = 1  # <START>
    words[:, -1] = 2  # <END>
    if pad:
        words[0, T + 1 - pad:] = 0  # <NULL> padding: those targets are masked
    return {"features": normal(rng, N, D), "captions": words,
            "W_embed": normal(rng, V, W), "W_proj": normal(rng, D, H, scale=0.4), "b_proj": normal(rng, H, scale=0.1),
            "Wx": normal(rng, W, k * H, scale=0.4), "Wh": normal(rng, H, k * H, scale=0.4),
            "b": normal(rng, k * H, scale=0.1), "W_vocab": normal(rng, H, V, scale=0.8), "b_vocab": normal(rng, V, scale=0.1)}


def overfit(rng, cell, N, T, V, D, W, H, steps, lr):
    """A tiny captioning set and small initial weights, memorised in `steps` Adam steps (learning
    rate `lr`; both are arguments of the probe's training loop)."""
    case = caption(rng, cell, N, T, V, D, W, H, pad=1)
    for name in ("W_embed", "W_proj", "Wx", "Wh", "W_vocab"):
        case[name] *= 0.5
    return case
