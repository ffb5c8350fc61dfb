"""Case builders for `rnn`: each makes the inputs of one case from a private generator.

`builder(rng, **params) -> {name: array}`; params come from assignment.yaml. Inputs are float64
so that gradient checks are exact enough; upstream gradients are named d<output>.
"""

import numpy as np

SPECIALS = 3  # <NULL>=0, <START>=1, <END>=2


def _w(rng, *shape, scale=0.5):
    return scale * rng.standard_normal(shape)


def rnn_step(rng, N, D, H):
    return {"x": _w(rng, N, D, scale=1.0), "prev_h": _w(rng, N, H, scale=1.0), "Wx": _w(rng, D, H),
            "Wh": _w(rng, H, H), "b": _w(rng, H, scale=0.2), "dnext_h": _w(rng, N, H, scale=1.0)}


def rnn_seq(rng, N, T, D, H):
    return {"x": _w(rng, N, T, D, scale=1.0), "h0": _w(rng, N, H, scale=1.0), "Wx": _w(rng, D, H),
            "Wh": _w(rng, H, H), "b": _w(rng, H, scale=0.2), "dh": _w(rng, N, T, H, scale=1.0)}


def lstm_step(rng, N, D, H):
    return {"x": _w(rng, N, D, scale=1.0), "prev_h": _w(rng, N, H, scale=1.0), "prev_c": _w(rng, N, H, scale=1.0),
            "Wx": _w(rng, D, 4 * H), "Wh": _w(rng, H, 4 * H), "b": _w(rng, 4 * H, scale=0.3),
            "dnext_h": _w(rng, N, H, scale=1.0), "dnext_c": _w(rng, N, H, scale=1.0)}


def lstm_seq(rng, N, T, D, H):
    return {"x": _w(rng, N, T, D, scale=1.0), "h0": _w(rng, N, H, scale=1.0), "Wx": _w(rng, D, 4 * H),
            "Wh": _w(rng, H, 4 * H), "b": _w(rng, 4 * H, scale=0.3), "dh": _w(rng, N, T, H, scale=1.0)}


def gru_step(rng, N, D, H):
    return {"x": _w(rng, N, D, scale=1.0), "prev_h": _w(rng, N, H, scale=1.0), "Wx": _w(rng, D, 3 * H),
            "Wh": _w(rng, H, 3 * H), "b": _w(rng, 3 * H, scale=0.3), "dnext_h": _w(rng, N, H, scale=1.0)}


def gru_seq(rng, N, T, D, H):
    return {"x": _w(rng, N, T, D, scale=1.0), "h0": _w(rng, N, H, scale=1.0), "Wx": _w(rng, D, 3 * H),
            "Wh": _w(rng, H, 3 * H), "b": _w(rng, 3 * H, scale=0.3), "dh": _w(rng, N, T, H, scale=1.0)}


def embedding(rng, N, T, V, D):
    """With V small next to N*T, indices repeat: the bug `dW[x] += dout` loses those."""
    x = rng.integers(0, V, size=(N, T))
    x.flat[0] = x.flat[-1]  # at least one repeat, even for tiny cases
    return {"x": x.astype(np.int64), "W": _w(rng, V, D, scale=1.0), "dout": _w(rng, N, T, D, scale=1.0)}


def sigmoid(rng, N, M, scale):
    x = scale * rng.standard_normal((N, M))
    x.flat[0], x.flat[-1] = scale * 20, -scale * 20  # the extremes overflow a naive exp
    return {"x": x}


def affine(rng, N, T, D, M):
    return {"x": _w(rng, N, T, D, scale=1.0), "w": _w(rng, D, M), "b": _w(rng, M, scale=0.2),
            "dout": _w(rng, N, T, M, scale=1.0)}


def softmax_loss(rng, N, T, V, masked_rows=0, p_mask=0.3):
    """Scores, targets and a mask; `masked_rows` rows are masked at every step."""
    mask = rng.random((N, T)) > p_mask
    mask[:, 0] = True
    mask[:masked_rows] = False
    return {"x": _w(rng, N, T, V, scale=2.0), "y": rng.integers(0, V, size=(N, T)).astype(np.int64), "mask": mask}


def clip(rng, shapes, max_norm, scale=1.0):
    """Three gradient arrays (shapes as a flat list of three lengths) and a max_norm."""
    out = {f"g_{name}": _w(rng, n, 2, scale=scale) for name, n in zip("abc", shapes)}
    out["max_norm"] = np.asarray(float(max_norm))
    return out


def caption(rng, cell, N, T, V, D, W, H, pad=1, max_length=None):
    """A CaptioningRNN's parameters, features and captions (the last `pad` steps of row 0 padded).

    `max_length` is for the sampling probe only.
    """
    k = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    words = rng.integers(SPECIALS, V, size=(N, T + 1))
    words[:, 0] = 1  # <START>
    words[:, -1] = 2  # <END>
    if pad:
        words[0, T + 1 - pad:] = 0  # <NULL> padding: those targets are masked
    return {"features": _w(rng, N, D, scale=1.0), "captions": words.astype(np.int64),
            "W_embed": _w(rng, V, W, scale=1.0), "W_proj": _w(rng, D, H, scale=0.4), "b_proj": _w(rng, H, scale=0.1),
            "Wx": _w(rng, W, k * H, scale=0.4), "Wh": _w(rng, H, k * H, scale=0.4), "b": _w(rng, k * H, scale=0.1),
            "W_vocab": _w(rng, H, V, scale=0.8), "b_vocab": _w(rng, V, scale=0.1)}


def overfit(rng, cell, N, T, V, D, W, H, steps, lr):
    """A tiny captioning set and small initial weights, memorised in `steps` Adam steps (learning
    rate `lr`; both are arguments of the probe's training loop)."""
    case = caption(rng, cell, N, T, V, D, W, H, pad=1)
    for name in ("W_embed", "W_proj", "Wx", "Wh", "W_vocab"):
        case[name] *= 0.5
    return case
