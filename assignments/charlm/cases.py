"""Case builders for `charlm`: each makes the inputs of one case from a private generator.

`builder(rng, **params) -> {name: array}`, `rng` seeded from the case's name. Parameters of the
model are stored under their contract keys (W_embed, Wx0, Wh0, b0, ..., W_out, b_out), so a
gradient named after its key is checked by perturbing that very array.
"""

import numpy as np

from autograder.kit import ints, normal


def _params(rng, V, E, H, L, scale=0.5):
    out = {"W_embed": normal(rng, V, E)}
    for l in range(L):
        out.update({f"Wx{l}": normal(rng, E if l == 0 else H, H, scale=scale),
                    f"Wh{l}": normal(rng, H, H, scale=scale), f"b{l}": normal(rng, H, scale=0.1)})
    return {**out, "W_out": normal(rng, H, V), "b_out": normal(rng, V, scale=0.1)}


def text(rng, length, V, N=1):
    """A sequence of `length` character indices; the repeated first/last entry is kept."""
    return {"data": ints(rng, V, length)}


def streams(rng, N, M, V, k=0, T=1):
    return {"streams": ints(rng, V, N, M)}


def rnn(rng, N, T, E, H, L):
    """Inputs, states and upstream gradients of the stacked RNN (dhT nonzero)."""
    out = _params(rng, 2, E, H, L)
    del out["W_embed"], out["W_out"], out["b_out"]
    return {"x": normal(rng, N, T, E), "h0": normal(rng, L, N, H, scale=0.5), **out,
            "dh": normal(rng, N, T, H), "dhT": normal(rng, L, N, H)}


def xent(rng, N, T, V, scale=1.0, repeat=True):
    return {"logits": normal(rng, N, T, V, scale=scale), "targets": ints(rng, V, N, T, repeat=repeat)}


def model(rng, N, T, V, E, H, L):
    """A model, one chunk of inputs and targets (a repeated character), and a carried-in state."""
    return {**_params(rng, V, E, H, L), "inputs": ints(rng, V, N, T), "targets": ints(rng, V, N, T),
            "h0": normal(rng, L, N, H, scale=0.5)}


def clip(rng, shapes, max_norm, scale=1.0):
    return {"max_norm": np.float64(max_norm),
            **{f"g_{name}": normal(rng, shape, 2, scale=scale) for name, shape in zip("abc", shapes)}}


def epoch(rng, N, M, V, E, H, L, T, lr=0.5, max_norm=1.0):
    """A small model and streams for one epoch of train_epoch (a short last chunk when T does not
    divide M - 1)."""
    return {**_params(rng, V, E, H, L, scale=0.3), "streams": ints(rng, V, N, M)}


def logits(rng, N, V, scale=1.0, temperature=1.0, k=1):
    """Scores without ties (distinct values per row), so that top-k and argmax are unambiguous."""
    base = np.stack([rng.permutation(V) for _ in range(N)]).astype(np.float64)
    return {"logits": (base + rng.uniform(0.1, 0.9, (N, V))) * scale / V}


def draw(rng, N, V, S=4000):
    """Dyadic probabilities (multiples of 1/16, exact cumulative sums) with zeros, u on every
    cumulative boundary and between them, and S uniform u per row for the frequency test."""
    probs = np.zeros((N, V))
    for row in probs:
        cuts = np.sort(rng.choice(np.arange(1, 16), size=min(V - 1, 15), replace=True))
        row[:len(cuts) + 1] = np.diff(np.concatenate([[0], cuts, [16]])) / 16.0
        rng.shuffle(row)
    cdf = np.cumsum(probs, axis=1)
    u_edge = np.concatenate([[0.0], cdf[0, :-1], [0.03, 0.5, 0.97, 1.0 - 1e-12]])
    short = np.zeros(V)  # a row whose sum rounds below the last u: the fallback, not index 0
    short[:3] = [1 / 3, 1 / 3, 1 / 3 - 1e-9]
    probs_edge = np.concatenate([np.repeat(probs[:1], len(u_edge) - 1, axis=0), short[None]])
    return {"probs": probs, "u": rng.uniform(0, 1, N), "u_edge": u_edge, "probs_edge": probs_edge,
            "u_many": rng.uniform(0, 1, (N, S))}


def sampling(rng, N, V, E, H, L, n, seed=0, strategy="greedy", temperature=1.0, k=None):
    return {**_params(rng, V, E, H, L, scale=1.0), "h0": normal(rng, L, N, H, scale=0.5),
            "first": ints(rng, V, N, repeat=False)}


def sonnets(rng, epochs, N, T, E, H, L, lr, max_norm, seed):
    """Nothing random: the training script reads sonnets.txt and initialises from `seed`."""
    return {"seed": np.int64(seed)}


def invalid(rng, fn, V=5):
    """Valid arrays for the invalid-argument calls of probes.invalid (the bad values are there)."""
    return {"data": ints(rng, 5, 9), "streams": ints(rng, 5, 2, 7), "logits": normal(rng, 2, V),
            **_params(rng, V, 2, 3, 1), "h0": np.zeros((1, 2, 3)), "first": ints(rng, V, 2)}
